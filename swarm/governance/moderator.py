"""Moderator: reviews every accepted interaction and sanctions clearly poor ones.

An interaction with p below ``moderator_threshold_p`` is a finding with
confidence (t − p)/t; the initiator loses ``moderator_penalty``·confidence
reputation. Moderation moves reputation only — never money, never a freeze —
so a mistaken finding is cheap and fades with reputation decay.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from swarm.core.interaction import SoftInteraction
from swarm.governance.effects import Effect, ReputationChange
from swarm.governance.lever import Lever, LeverConfig, lever
from swarm.governance.notices import ModeratorNotice
from swarm.kernel.component import At


class ModeratorConfig(LeverConfig):
    moderator_enabled: bool = False
    moderator_threshold_p: float = Field(
        default=0.4, ge=0.0, le=1.0, description="p below which work is sanctioned"
    )
    moderator_penalty: float = Field(default=0.5, ge=0.0, description="reputation lost at full confidence")


@lever
class Moderator(Lever):
    key = "moderator"
    order = 50
    title = "moderator"
    Config = ModeratorConfig
    switch = "moderator_enabled: true"
    Notice = ModeratorNotice
    config: ModeratorConfig

    @classmethod
    def active(cls, config: ModeratorConfig) -> bool:
        return config.moderator_enabled

    @classmethod
    def notice(cls, config: ModeratorConfig) -> ModeratorNotice:
        return ModeratorNotice(config.moderator_threshold_p)

    @classmethod
    def deterrence(cls, config: ModeratorConfig) -> float:
        return 0.3

    def on_interactions(self, at: At, interactions: Sequence[SoftInteraction]) -> list[Effect]:
        t, penalty = self.config.moderator_threshold_p, self.config.moderator_penalty
        effects: list[Effect] = []
        for i in interactions:
            if not i.accepted or i.p >= t or t <= 0:
                continue
            confidence = (t - i.p) / t
            effects.append(
                ReputationChange(
                    epoch=at.epoch,
                    step=at.step,
                    lever=self.key,
                    agent_id=i.initiator,
                    amount=-penalty * confidence,
                    reason=f"moderated: p = {i.p:.3f} below {t:g}",
                    interaction_id=i.interaction_id,
                    confidence=confidence,
                )
            )
        return effects
