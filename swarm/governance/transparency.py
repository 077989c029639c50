"""Transparency ledger: publish each agent's track record and let reputation follow it.

With the lever on, every agent's public record carries ``track_record``: the
mean p of its last 20 accepted proposals (kept by the ledger). Policies use it
as their prior about strangers. At epoch end each published record also moves
reputation: Δr = w·(track_record − 0.5).
"""

from __future__ import annotations

from collections.abc import Sequence

from swarm.governance.base import Effect
from swarm.governance.lever import Lever
from swarm.messages import AgentPublic
from swarm.metrics.epoch import EpochMetrics


class TransparencyLedger(Lever):
    key = "transparency"

    def __init__(self, weight: float) -> None:
        self.weight = weight

    def epoch_end(self, epoch: int, metrics: EpochMetrics, agents: Sequence[AgentPublic]) -> list[Effect]:
        return [
            Effect(
                lever=self.key,
                agent_id=a.agent_id,
                kind="reputation",
                amount=self.weight * (a.track_record - 0.5),
                reason=f"published track record {a.track_record:.3f}",
                confidence=abs(a.track_record - 0.5) * 2,
            )
            for a in agents
            if a.track_record is not None and self.weight > 0
        ]
