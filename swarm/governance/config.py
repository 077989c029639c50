"""Governance configuration: one flat record of every lever's keys, all levers off by default.

Key names and defaults are those of the reference, so its scenarios read the same;
the ranges are checked at load time with the key path in the error.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

Probability = float


class GovernanceConfig(BaseModel):
    """Every governance lever's settings (see docs/governance.md for what each does)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    # transaction tax
    transaction_tax_rate: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        validation_alias=AliasChoices("transaction_tax_rate", "transaction_tax"),
    )
    transaction_tax_split: float = Field(default=0.5, ge=0.0, le=1.0)
    tax_destination: Literal["redistribute", "treasury", "burn"] = "redistribute"

    # reputation
    reputation_decay_rate: float = Field(
        default=1.0,
        ge=0.0,
        le=1.0,
        validation_alias=AliasChoices("reputation_decay_rate", "reputation_decay"),
    )
    vote_normalization_enabled: bool = False
    max_vote_weight_per_agent: float = Field(default=10.0, gt=0.0)

    # bandwidth
    bandwidth_cap: int | None = Field(default=None, ge=0)

    # staking
    staking_enabled: bool = False
    min_stake_to_participate: float = Field(default=0.0, ge=0.0)
    stake_slash_rate: float = Field(default=0.1, ge=0.0, le=1.0)
    slash_threshold_p: float = Field(default=0.35, ge=0.0, le=1.0)

    # circuit breaker
    circuit_breaker_enabled: bool = False
    freeze_threshold_toxicity: float = Field(default=0.55, ge=0.0, le=1.0)
    freeze_threshold_violations: int = Field(default=3, ge=1)
    freeze_duration_epochs: int = Field(default=2, ge=1)
    breaker_window: int = Field(default=10, ge=1)

    # random audits
    audit_enabled: bool = False
    audit_probability: float = Field(default=0.1, ge=0.0, le=1.0)
    audit_penalty_multiplier: float = Field(default=2.0, ge=0.0)
    audit_threshold_p: float = Field(default=0.5, ge=0.0, le=1.0)

    # transparency ledger
    transparency_enabled: bool = False
    transparency_reputation_weight: float = Field(default=0.5, ge=0.0)

    # moderator
    moderator_enabled: bool = False
    moderator_threshold_p: float = Field(default=0.4, ge=0.0, le=1.0)
    moderator_penalty: float = Field(default=0.5, ge=0.0)

    # collusion detection
    collusion_detection_enabled: bool = False
    collusion_frequency_threshold: float = Field(default=2.0, gt=0.0)
    collusion_correlation_threshold: float = Field(default=0.7, ge=0.0, le=1.0)
    """Accepted for reference scenarios; as in the reference, the score does not use it."""
    collusion_min_interactions: int = Field(default=3, ge=1)
    collusion_score_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    collusion_penalty_multiplier: float = Field(default=1.0, ge=0.0)
    collusion_realtime_penalty: bool = False
    collusion_realtime_rate: float = Field(default=0.1, ge=0.0)
    collusion_clear_history_on_epoch: bool = False

    def enabled_levers(self) -> list[str]:
        """Names of the levers this configuration switches on, in engine order."""
        flags = {
            "transaction_tax": self.transaction_tax_rate > 0,
            "reputation_decay": self.reputation_decay_rate < 1.0,
            "vote_normalization": self.vote_normalization_enabled,
            "bandwidth_cap": self.bandwidth_cap is not None,
            "staking": self.staking_enabled,
            "circuit_breaker": self.circuit_breaker_enabled,
            "random_audit": self.audit_enabled,
            "transparency": self.transparency_enabled,
            "moderator": self.moderator_enabled,
            "collusion": self.collusion_detection_enabled,
        }
        return [name for name, on in flags.items() if on]
