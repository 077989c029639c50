"""Reputation decay: every epoch, reputations shrink toward zero by a fixed factor.

Δr = r·(rate − 1) at the start of each epoch (rate 1 = no decay), so old
standing fades and recent conduct dominates.
"""

from __future__ import annotations

from collections.abc import Sequence

from swarm.governance.base import Effect
from swarm.governance.lever import Lever
from swarm.messages import AgentPublic


class ReputationDecay(Lever):
    key = "reputation_decay"

    def __init__(self, rate: float) -> None:
        self.rate = rate

    def epoch_start(self, epoch: int, agents: Sequence[AgentPublic]) -> list[Effect]:
        if epoch == 0:
            return []
        return [
            Effect(
                lever=self.key,
                agent_id=a.agent_id,
                kind="reputation",
                amount=a.reputation * (self.rate - 1),
                reason=f"decay at rate {self.rate:g}",
            )
            for a in agents
            if a.reputation != 0
        ]
