"""Random audits: inspect a random share of interactions and penalise low quality, once per finding.

Each accepted interaction is audited with probability q (the lever's own random
stream). An audit finding p below ``audit_threshold_p`` is evidence with
confidence (t − p)/t; its penalty (t − p)·multiplier is charged to the initiator
as a governance cost (destroyed) and a reputation loss — once per interaction,
never twice. Audits never freeze or block: a false positive costs a bounded
amount and the reputation part decays with everyone else's.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

from pydantic import AliasChoices, Field

from swarm.core.interaction import SoftInteraction
from swarm.governance.effects import Cost, Effect, Evidence, ReputationChange
from swarm.governance.lever import Lever, LeverConfig, lever
from swarm.governance.notices import AuditNotice
from swarm.kernel.component import At, Setup

MEMORY = 10_000


class AuditConfig(LeverConfig):
    audit_enabled: bool = Field(
        default=False, validation_alias=AliasChoices("audit_enabled", "enable_audits")
    )
    audit_probability: float = Field(
        default=0.1, ge=0.0, le=1.0, description="chance an interaction is audited"
    )
    audit_penalty_multiplier: float = Field(default=2.0, ge=0.0, description="penalty per unit of shortfall")
    audit_threshold_p: float = Field(
        default=0.5, ge=0.0, le=1.0, description="p below which an audit finds fault"
    )


@lever
class RandomAudit(Lever):
    key = "random_audit"
    order = 40
    title = "random audits"
    Config = AuditConfig
    switch = "audit_enabled: true"
    Notice = AuditNotice
    config: AuditConfig

    def __init__(self, config: AuditConfig, setup: Setup) -> None:
        super().__init__(config, setup)
        self.rng = setup.rng("lever", "random_audit")
        self._seen: set[str] = set()
        self._order: deque[str] = deque()

    @classmethod
    def active(cls, config: AuditConfig) -> bool:
        return config.audit_enabled and config.audit_probability > 0

    @classmethod
    def notice(cls, config: AuditConfig) -> AuditNotice:
        return AuditNotice(
            config.audit_probability, config.audit_threshold_p, config.audit_penalty_multiplier
        )

    @classmethod
    def deterrence(cls, config: AuditConfig) -> float:
        return config.audit_probability * config.audit_penalty_multiplier

    def _first_time(self, interaction_id: str) -> bool:
        if interaction_id in self._seen:
            return False
        self._seen.add(interaction_id)
        self._order.append(interaction_id)
        if len(self._order) > MEMORY:
            self._seen.discard(self._order.popleft())
        return True

    def on_interactions(self, at: At, interactions: Sequence[SoftInteraction]) -> list[Effect]:
        effects: list[Effect] = []
        c = self.config
        t = c.audit_threshold_p
        for i in interactions:
            if not i.accepted or self.rng.random() >= c.audit_probability:
                continue
            common: dict[str, Any] = {
                "epoch": at.epoch,
                "step": at.step,
                "lever": self.key,
                "agent_id": i.initiator,
                "interaction_id": i.interaction_id,
            }
            if i.p >= t:
                effects.append(
                    Evidence(**common, finding="audit_passed", reason="audit passed", confidence=0.0)
                )
                continue
            if not self._first_time(i.interaction_id):
                continue
            penalty = (t - i.p) * c.audit_penalty_multiplier
            confidence = (t - i.p) / t if t > 0 else 1.0
            reason = f"audit: p = {i.p:.3f} below {t:g}"
            effects.append(Cost(**common, amount=penalty, reason=reason, confidence=confidence))
            effects.append(ReputationChange(**common, amount=-penalty, reason=reason, confidence=confidence))
        return effects
