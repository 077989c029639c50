"""Transparency ledger: publish each agent's track record and let reputation follow it.

With the lever on, every agent may read every other agent's track record: the
mean p of its last ``window`` (20) accepted proposals. Policies use it as their
prior about strangers. At epoch end each published record also moves
reputation: Δr = w·(track_record − 0.5).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from pydantic import Field

from swarm.core.interaction import SoftInteraction
from swarm.governance.effects import Effect, ReputationChange
from swarm.governance.lever import Lever, LeverConfig, lever
from swarm.governance.notices import TransparencyNotice
from swarm.kernel.component import At, Setup
from swarm.views import AgentPublic

WINDOW = 20


class TransparencyConfig(LeverConfig):
    transparency_enabled: bool = False
    transparency_reputation_weight: float = Field(
        default=0.5, ge=0.0, description="reputation moved per unit of track record above 0.5"
    )


@lever
class TransparencyLedger(Lever):
    key = "transparency"
    order = 70
    title = "transparency ledger"
    Config = TransparencyConfig
    switch = "transparency_enabled: true"
    Notice = TransparencyNotice
    config: TransparencyConfig

    def __init__(self, config: TransparencyConfig, setup: Setup) -> None:
        super().__init__(config, setup)
        self._tracks: dict[str, deque[float]] = {}
        self._notice = TransparencyNotice()
        self._changed = False

    @classmethod
    def active(cls, config: TransparencyConfig) -> bool:
        return config.transparency_enabled

    @classmethod
    def notice(cls, config: TransparencyConfig) -> TransparencyNotice:
        return TransparencyNotice()

    def records(self) -> dict[str, float]:
        return {a: sum(t) / len(t) for a, t in self._tracks.items() if t}

    def live_notice(self, at: At) -> TransparencyNotice:
        if self._changed:
            self._notice = TransparencyNotice(self.records())
            self._changed = False
        return self._notice

    def on_interactions(self, at: At, interactions: Sequence[SoftInteraction]) -> list[Effect]:
        for i in interactions:
            if i.accepted:
                self._tracks.setdefault(i.initiator, deque(maxlen=WINDOW)).append(i.p)
                self._changed = True
        return []

    def epoch_end(self, at: At, agents: Sequence[AgentPublic]) -> list[Effect]:
        w = self.config.transparency_reputation_weight
        if w <= 0:
            return []
        records = self.records()
        return [
            ReputationChange(
                epoch=at.epoch,
                step=at.step,
                lever=self.key,
                agent_id=a.agent_id,
                amount=w * (records[a.agent_id] - 0.5),
                reason=f"published track record {records[a.agent_id]:.3f}",
                confidence=abs(records[a.agent_id] - 0.5) * 2,
            )
            for a in agents
            if a.agent_id in records
        ]
