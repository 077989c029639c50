"""Reputation decay: every epoch, reputations shrink toward zero by a fixed factor.

Δr = r·(rate − 1) at the start of each epoch after the first (rate 1 = no decay),
so old standing fades and recent conduct dominates.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import AliasChoices, Field

from swarm.governance.effects import Effect, ReputationChange
from swarm.governance.lever import Lever, LeverConfig, lever
from swarm.kernel.component import At
from swarm.views import AgentPublic


class DecayConfig(LeverConfig):
    reputation_decay_rate: float = Field(
        default=1.0,
        ge=0.0,
        le=1.0,
        validation_alias=AliasChoices("reputation_decay_rate", "reputation_decay"),
        description="factor applied to every reputation each epoch (1 = no decay)",
    )


@lever
class ReputationDecay(Lever):
    key = "reputation_decay"
    order = 10
    title = "reputation decay"
    Config = DecayConfig
    switch = "reputation_decay_rate below 1"
    config: DecayConfig

    @classmethod
    def active(cls, config: DecayConfig) -> bool:
        return config.reputation_decay_rate < 1.0

    def epoch_start(self, at: At, agents: Sequence[AgentPublic]) -> list[Effect]:
        rate = self.config.reputation_decay_rate
        if at.epoch == 0:
            return []
        return [
            ReputationChange(
                epoch=at.epoch,
                step=at.step,
                lever=self.key,
                agent_id=a.agent_id,
                amount=a.reputation * (rate - 1),
                reason=f"decay at rate {rate:g}",
            )
            for a in agents
            if a.reputation != 0
        ]
