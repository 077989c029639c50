"""Staking: a real deposit that admits an agent and is slashed for harmful interactions.

At the first epoch every agent moves ``min_stake`` from its resources into its
stake; at each later epoch an agent below the minimum tops up from resources if
it can. Agents whose stake is below the minimum are not admitted to act. An
accepted interaction whose p is below ``slash_threshold_p`` slashes
``slash_rate`` of the initiator's stake, paid to the counterparty as restitution
(money moves, it is not destroyed).
"""

from __future__ import annotations

from collections.abc import Sequence

from swarm.core.interaction import SoftInteraction
from swarm.governance.base import Effect
from swarm.governance.lever import Costs, Lever
from swarm.messages import AgentPublic


class Staking(Lever):
    key = "staking"

    def __init__(self, min_stake: float, slash_rate: float, slash_threshold_p: float) -> None:
        self.min_stake = min_stake
        self.slash_rate = slash_rate
        self.threshold = slash_threshold_p
        self.stakes: dict[str, float] = {}

    def epoch_start(self, epoch: int, agents: Sequence[AgentPublic]) -> list[Effect]:
        effects: list[Effect] = []
        for a in agents:
            held = self.stakes.get(a.agent_id, 0.0)
            need = self.min_stake - held
            if need <= 1e-12 or a.resources < need:
                continue
            self.stakes[a.agent_id] = held + need
            effects.append(
                Effect(
                    lever=self.key,
                    agent_id=a.agent_id,
                    kind="resources",
                    amount=-need,
                    reason=f"stake deposit (now {held + need:.2f})",
                )
            )
        return effects

    def blocked(self, epoch: int, step: int, agents: Sequence[AgentPublic]) -> dict[str, str]:
        return {
            a.agent_id: f"stake {self.stakes.get(a.agent_id, 0.0):.2f} below {self.min_stake:g}"
            for a in agents
            if self.stakes.get(a.agent_id, 0.0) < self.min_stake - 1e-9
        }

    def on_interactions(
        self, epoch: int, step: int, interactions: Sequence[SoftInteraction]
    ) -> tuple[Costs, list[Effect]]:
        effects: list[Effect] = []
        for i in interactions:
            held = self.stakes.get(i.initiator, 0.0)
            if not i.accepted or i.p >= self.threshold or held <= 0:
                continue
            slash = held * self.slash_rate
            self.stakes[i.initiator] = held - slash
            reason = f"p = {i.p:.3f} below {self.threshold:g}"
            effects.append(
                Effect(
                    lever=self.key,
                    agent_id=i.initiator,
                    kind="flag",
                    amount=slash,
                    reason=f"stake slashed: {reason}",
                    interaction_id=i.interaction_id,
                    confidence=1 - i.p,
                )
            )
            effects.append(
                Effect(
                    lever=self.key,
                    agent_id=i.counterparty,
                    kind="resources",
                    amount=slash,
                    reason=f"restitution from {i.initiator}'s slashed stake",
                    interaction_id=i.interaction_id,
                )
            )
        return {}, effects
