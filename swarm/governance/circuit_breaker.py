"""Circuit breaker: freeze an agent whose recent interactions are persistently toxic.

For each initiator, a rolling window of the toxicity (1 − p) of its last
``window`` accepted interactions. Once the window holds at least three and its
mean reaches ``freeze_threshold_toxicity``, each further offending interaction
counts one violation; at ``freeze_threshold_violations`` the agent is frozen for
``freeze_duration_epochs`` and its count restarts. Counterparties are never
penalised for what was done to them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from swarm.core.interaction import SoftInteraction
from swarm.governance.base import Effect
from swarm.governance.lever import Costs, Lever

MIN_WINDOW = 3


class CircuitBreaker(Lever):
    key = "circuit_breaker"

    def __init__(self, threshold: float, violations: int, duration: int, window: int) -> None:
        self.threshold = threshold
        self.max_violations = violations
        self.duration = duration
        self.window = window
        self._tox: dict[str, deque[float]] = {}
        self._violations: dict[str, int] = {}

    def on_interactions(
        self, epoch: int, step: int, interactions: Sequence[SoftInteraction]
    ) -> tuple[Costs, list[Effect]]:
        effects: list[Effect] = []
        for i in interactions:
            if not i.accepted:
                continue
            tox = self._tox.setdefault(i.initiator, deque(maxlen=self.window))
            tox.append(1 - i.p)
            mean = sum(tox) / len(tox)
            if len(tox) < MIN_WINDOW or mean < self.threshold:
                continue
            count = self._violations.get(i.initiator, 0) + 1
            self._violations[i.initiator] = count
            effects.append(
                Effect(
                    lever=self.key,
                    agent_id=i.initiator,
                    kind="flag",
                    amount=mean,
                    reason=f"violation {count}/{self.max_violations}: rolling toxicity {mean:.3f}",
                    interaction_id=i.interaction_id,
                    confidence=mean,
                )
            )
            if count >= self.max_violations:
                self._violations[i.initiator] = 0
                tox.clear()
                effects.append(
                    Effect(
                        lever=self.key,
                        agent_id=i.initiator,
                        kind="freeze",
                        reason=f"rolling toxicity {mean:.3f} >= {self.threshold:g}",
                        interaction_id=i.interaction_id,
                        until_epoch=epoch + self.duration + 1,
                        confidence=mean,
                    )
                )
        return {}, effects
