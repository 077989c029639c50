"""Random audits: inspect a random share of interactions and penalise low quality, once per finding.

Each accepted interaction is audited with probability q (the lever's own random
stream). An audit finding p below ``audit_threshold_p`` is evidence with
confidence (t − p)/t; its penalty (t − p)·multiplier is charged to the initiator
as a governance cost and a reputation loss — once per interaction, never twice.
Audits never freeze or block: a false positive costs a bounded amount and the
reputation part decays with everyone else's.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Sequence

from swarm.core.interaction import SoftInteraction
from swarm.governance.base import Effect
from swarm.governance.lever import Costs, Lever

MEMORY = 10_000


class RandomAudit(Lever):
    key = "random_audit"

    def __init__(self, probability: float, threshold: float, multiplier: float, rng: random.Random) -> None:
        self.probability = probability
        self.threshold = threshold
        self.multiplier = multiplier
        self.rng = rng
        self._seen: set[str] = set()
        self._order: deque[str] = deque()

    def _first_time(self, interaction_id: str) -> bool:
        if interaction_id in self._seen:
            return False
        self._seen.add(interaction_id)
        self._order.append(interaction_id)
        if len(self._order) > MEMORY:
            self._seen.discard(self._order.popleft())
        return True

    def on_interactions(
        self, epoch: int, step: int, interactions: Sequence[SoftInteraction]
    ) -> tuple[Costs, list[Effect]]:
        costs: Costs = {}
        effects: list[Effect] = []
        for i in interactions:
            if not i.accepted or self.rng.random() >= self.probability:
                continue
            if i.p >= self.threshold:
                effects.append(
                    Effect(
                        lever=self.key,
                        agent_id=i.initiator,
                        kind="audit",
                        reason="audit passed",
                        interaction_id=i.interaction_id,
                        confidence=0.0,
                    )
                )
                continue
            if not self._first_time(i.interaction_id):
                continue
            penalty = (self.threshold - i.p) * self.multiplier
            confidence = (self.threshold - i.p) / self.threshold if self.threshold > 0 else 1.0
            costs[i.interaction_id] = (penalty, 0.0)
            reason = f"audit: p = {i.p:.3f} below {self.threshold:g}"
            effects.append(
                Effect(
                    lever=self.key,
                    agent_id=i.initiator,
                    kind="cost",
                    amount=penalty,
                    reason=reason,
                    interaction_id=i.interaction_id,
                    confidence=confidence,
                )
            )
            effects.append(
                Effect(
                    lever=self.key,
                    agent_id=i.initiator,
                    kind="reputation",
                    amount=-penalty,
                    reason=reason,
                    interaction_id=i.interaction_id,
                    confidence=confidence,
                )
            )
        return costs, effects
