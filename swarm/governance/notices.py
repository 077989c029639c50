"""What agents may read about the levers in force: one small public notice per lever.

A policy asks for a notice by its class (``observation.view(TaxNotice)``); a
lever that is off publishes nothing, so the lookup returns None.
"""

from __future__ import annotations

import msgspec


class TaxNotice(msgspec.Struct, frozen=True, gc=False):
    rate: float
    split: float


class AuditNotice(msgspec.Struct, frozen=True, gc=False):
    probability: float
    threshold_p: float
    penalty_multiplier: float


class StakingNotice(msgspec.Struct, frozen=True, gc=False):
    min_stake: float
    slash_rate: float
    slash_threshold_p: float


class BreakerNotice(msgspec.Struct, frozen=True, gc=False):
    threshold: float
    violations: int
    duration_epochs: int


class ModeratorNotice(msgspec.Struct, frozen=True, gc=False):
    threshold_p: float


class TransparencyNotice(msgspec.Struct, frozen=True, gc=False):
    """Every agent's published track record: mean p of its last accepted proposals."""

    track_records: dict[str, float] = msgspec.field(default_factory=dict)
