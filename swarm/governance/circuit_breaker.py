"""Circuit breaker: freeze an agent whose recent interactions are persistently toxic.

For each initiator, a rolling window of the toxicity (1 − p) of its last
``breaker_window`` accepted interactions. Once the window holds at least three
and its mean reaches ``freeze_threshold_toxicity``, each further offending
interaction counts one violation; at ``freeze_threshold_violations`` the agent is
frozen for ``freeze_duration_epochs`` and its count restarts. Counterparties are
never penalised for what was done to them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

from pydantic import AliasChoices, Field

from swarm.core.interaction import SoftInteraction
from swarm.governance.effects import Effect, Evidence, FreezeOrder
from swarm.governance.lever import Lever, LeverConfig, lever
from swarm.governance.notices import BreakerNotice
from swarm.kernel.component import At, Setup

MIN_WINDOW = 3


class BreakerConfig(LeverConfig):
    circuit_breaker_enabled: bool = Field(
        default=False, validation_alias=AliasChoices("circuit_breaker_enabled", "enable_circuit_breaker")
    )
    freeze_threshold_toxicity: float = Field(
        default=0.55,
        ge=0.0,
        le=1.0,
        validation_alias=AliasChoices("freeze_threshold_toxicity", "toxicity_threshold"),
        description="rolling toxicity at which interactions count as violations",
    )
    freeze_threshold_violations: int = Field(default=3, ge=1, description="violations that freeze an agent")
    freeze_duration_epochs: int = Field(default=2, ge=1, description="how long a freeze lasts")
    breaker_window: int = Field(default=10, ge=1, description="interactions in the rolling window")


@lever
class CircuitBreaker(Lever):
    key = "circuit_breaker"
    order = 60
    title = "circuit breaker"
    Config = BreakerConfig
    switch = "circuit_breaker_enabled: true"
    Notice = BreakerNotice
    config: BreakerConfig

    def __init__(self, config: BreakerConfig, setup: Setup) -> None:
        super().__init__(config, setup)
        self._tox: dict[str, deque[float]] = {}
        self._violations: dict[str, int] = {}

    @classmethod
    def active(cls, config: BreakerConfig) -> bool:
        return config.circuit_breaker_enabled

    @classmethod
    def notice(cls, config: BreakerConfig) -> BreakerNotice:
        return BreakerNotice(
            config.freeze_threshold_toxicity,
            config.freeze_threshold_violations,
            config.freeze_duration_epochs,
        )

    @classmethod
    def deterrence(cls, config: BreakerConfig) -> float:
        return 0.2

    def on_interactions(self, at: At, interactions: Sequence[SoftInteraction]) -> list[Effect]:
        c = self.config
        effects: list[Effect] = []
        for i in interactions:
            if not i.accepted:
                continue
            tox = self._tox.setdefault(i.initiator, deque(maxlen=c.breaker_window))
            tox.append(1 - i.p)
            mean = sum(tox) / len(tox)
            if len(tox) < MIN_WINDOW or mean < c.freeze_threshold_toxicity:
                continue
            count = self._violations.get(i.initiator, 0) + 1
            self._violations[i.initiator] = count
            common: dict[str, Any] = {
                "epoch": at.epoch,
                "step": at.step,
                "lever": self.key,
                "agent_id": i.initiator,
                "interaction_id": i.interaction_id,
                "confidence": mean,
            }
            effects.append(
                Evidence(
                    **common,
                    finding="violation",
                    amount=mean,
                    reason=f"violation {count}/{c.freeze_threshold_violations}: rolling toxicity {mean:.3f}",
                )
            )
            if count >= c.freeze_threshold_violations:
                self._violations[i.initiator] = 0
                tox.clear()
                effects.append(
                    FreezeOrder(
                        **common,
                        until_epoch=at.epoch + c.freeze_duration_epochs + 1,
                        reason=f"rolling toxicity {mean:.3f} >= {c.freeze_threshold_toxicity:g}",
                    )
                )
        return effects
