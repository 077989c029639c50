"""Staking: a real deposit that admits an agent and is slashed for harmful interactions.

At the first epoch every agent moves ``min_stake_to_participate`` from its
resources into its stake (the ``governance:stakes`` account); at each later
epoch an agent below the minimum tops up from resources if it can. Agents whose
stake is below the minimum are not admitted to act. An accepted interaction
whose p is below ``slash_threshold_p`` slashes ``stake_slash_rate`` of the
initiator's stake, paid to the counterparty as restitution (money moves, it is
not destroyed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field

from swarm.core.interaction import SoftInteraction
from swarm.governance.effects import Effect, Evidence, ResourceChange
from swarm.governance.lever import Lever, LeverConfig, lever
from swarm.governance.notices import StakingNotice
from swarm.kernel.component import At
from swarm.views import AgentPublic

STAKES = "governance:stakes"


class StakingConfig(LeverConfig):
    staking_enabled: bool = False
    min_stake_to_participate: float = Field(
        default=0.0, ge=0.0, description="stake an agent must hold to act"
    )
    stake_slash_rate: float = Field(default=0.1, ge=0.0, le=1.0, description="share of the stake slashed")
    slash_threshold_p: float = Field(
        default=0.35, ge=0.0, le=1.0, description="p below which a stake is slashed"
    )


@lever
class Staking(Lever):
    key = "staking"
    order = 20
    title = "staking"
    Config = StakingConfig
    switch = "staking_enabled: true"
    Notice = StakingNotice
    config: StakingConfig

    def __init__(self, config: StakingConfig, setup: object) -> None:
        super().__init__(config, setup)  # type: ignore[arg-type]
        self.stakes: dict[str, float] = {}

    @classmethod
    def active(cls, config: StakingConfig) -> bool:
        return config.staking_enabled and config.min_stake_to_participate > 0

    @classmethod
    def notice(cls, config: StakingConfig) -> StakingNotice:
        return StakingNotice(
            config.min_stake_to_participate, config.stake_slash_rate, config.slash_threshold_p
        )

    @classmethod
    def deterrence(cls, config: StakingConfig) -> float:
        return config.stake_slash_rate

    def epoch_start(self, at: At, agents: Sequence[AgentPublic]) -> list[Effect]:
        effects: list[Effect] = []
        minimum = self.config.min_stake_to_participate
        for a in agents:
            held = self.stakes.get(a.agent_id, 0.0)
            need = minimum - held
            if need <= 1e-12 or a.resources < need:
                continue
            self.stakes[a.agent_id] = held + need
            effects.append(
                ResourceChange(
                    epoch=at.epoch,
                    step=at.step,
                    lever=self.key,
                    agent_id=a.agent_id,
                    amount=-need,
                    account=STAKES,
                    reason=f"stake deposit (now {held + need:.2f})",
                )
            )
        return effects

    def blocked(self, at: At, agents: Sequence[AgentPublic]) -> dict[str, str]:
        minimum = self.config.min_stake_to_participate
        stakes = self.stakes
        return {
            a.agent_id: f"stake {stakes.get(a.agent_id, 0.0):.2f} below {minimum:g}"
            for a in agents
            if stakes.get(a.agent_id, 0.0) < minimum - 1e-9
        }

    def on_interactions(self, at: At, interactions: Sequence[SoftInteraction]) -> list[Effect]:
        effects: list[Effect] = []
        c = self.config
        for i in interactions:
            held = self.stakes.get(i.initiator, 0.0)
            if not i.accepted or i.p >= c.slash_threshold_p or held <= 0:
                continue
            slash = held * c.stake_slash_rate
            self.stakes[i.initiator] = held - slash
            reason = f"p = {i.p:.3f} below {c.slash_threshold_p:g}"
            at_: dict[str, Any] = {
                "epoch": at.epoch,
                "step": at.step,
                "lever": self.key,
                "interaction_id": i.interaction_id,
            }
            effects.append(
                Evidence(
                    **at_,
                    agent_id=i.initiator,
                    finding="stake_slashed",
                    amount=slash,
                    reason=f"stake slashed: {reason}",
                    confidence=1 - i.p,
                )
            )
            effects.append(
                ResourceChange(
                    **at_,
                    agent_id=i.counterparty,
                    amount=slash,
                    account=STAKES,
                    reason=f"restitution from {i.initiator}'s slashed stake",
                )
            )
        return effects
