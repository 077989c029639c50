"""Moderator: reviews every accepted interaction and sanctions clearly poor ones.

An interaction with p below ``moderator_threshold_p`` is a finding with
confidence (t − p)/t; the initiator loses ``moderator_penalty``·confidence
reputation. Moderation moves reputation only — never money, never a freeze —
so a mistaken finding is cheap and fades with reputation decay.
"""

from __future__ import annotations

from collections.abc import Sequence

from swarm.core.interaction import SoftInteraction
from swarm.governance.base import Effect
from swarm.governance.lever import Costs, Lever


class Moderator(Lever):
    key = "moderator"

    def __init__(self, threshold: float, penalty: float) -> None:
        self.threshold = threshold
        self.penalty = penalty

    def on_interactions(
        self, epoch: int, step: int, interactions: Sequence[SoftInteraction]
    ) -> tuple[Costs, list[Effect]]:
        effects: list[Effect] = []
        for i in interactions:
            if not i.accepted or i.p >= self.threshold or self.threshold <= 0:
                continue
            confidence = (self.threshold - i.p) / self.threshold
            effects.append(
                Effect(
                    lever=self.key,
                    agent_id=i.initiator,
                    kind="reputation",
                    amount=-self.penalty * confidence,
                    reason=f"moderated: p = {i.p:.3f} below {self.threshold:g}",
                    interaction_id=i.interaction_id,
                    confidence=confidence,
                )
            )
        return {}, effects
