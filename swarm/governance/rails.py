"""Levers whose effect lives where the state they limit lives: vote normalisation (in the feed,
which owns votes) and the bandwidth cap (in the ledger, at admission). They register
here so their keys, switches and documentation come from the same registry as every
other lever's; the owners read their settings from ``scenario.governance``.
"""

from __future__ import annotations

from pydantic import Field

from swarm.governance.lever import Lever, LeverConfig, lever


class VoteNormalizationConfig(LeverConfig):
    vote_normalization_enabled: bool = False
    max_vote_weight_per_agent: float = Field(
        default=10.0, gt=0.0, description="votes per epoch at which a voter's weight has halved"
    )


@lever
class VoteNormalization(Lever):
    """A voter's k-th vote of an epoch weighs 1/(1 + (k−1)/max_weight) (applied by the feed)."""

    key = "vote_normalization"
    order = 90
    title = "vote normalisation"
    Config = VoteNormalizationConfig
    switch = "vote_normalization_enabled: true"

    @classmethod
    def active(cls, config: VoteNormalizationConfig) -> bool:
        return config.vote_normalization_enabled


class BandwidthConfig(LeverConfig):
    bandwidth_cap: int | None = Field(default=None, ge=0, description="actions per agent per epoch")


@lever
class BandwidthCap(Lever):
    """At most ``bandwidth_cap`` admitted actions per agent per epoch (applied by the ledger)."""

    key = "bandwidth_cap"
    order = 91
    title = "bandwidth cap"
    Config = BandwidthConfig
    switch = "bandwidth_cap set"

    @classmethod
    def active(cls, config: BandwidthConfig) -> bool:
        return config.bandwidth_cap is not None
