"""Mission audits: governance audits succeeded missions and withholds part of free riders' payouts.

With ``mission_audit_enabled`` the mission economy (``missions:``) audits each
succeeded mission with probability ``mission_audit_probability`` (one draw per
succeeded mission from the run's seeded ``mission_audit`` stream). In an audited
mission every member the mission's detector flags as a free rider (contribution
share below ``missions.free_rider_threshold`` × the equal share) loses
``mission_audit_penalty`` of its payout (what it is paid after the mission's own
``free_rider_penalty`` term). The withheld money goes, by
``mission_audit_destination``, to the mission's other members in proportion to
their payouts (``members``; when every member is a free rider it goes to the
treasury instead) or to ``governance:treasury`` (``treasury``): a ledger transfer
either way, so money is conserved. With ``mission_audit_reputation_penalty``
above 0 each free rider found also loses that much reputation
(a ``governance_reputation`` effect of this lever).

The mission logs ``mission_audited`` (mission, free riders found, money withheld
and where it went) for every audit, also one that finds nobody. The lever has no
hooks: the missions component applies it when it settles a mission. Agents read
the rule as a :class:`MissionAuditNotice`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import msgspec
from pydantic import Field

from swarm.errors import ConfigProblem
from swarm.events import Event
from swarm.governance.lever import Lever, LeverConfig, lever
from swarm.metrics.registry import count, run_figure, sum_of

if TYPE_CHECKING:
    from swarm.scenario import Scenario

MISSION_AUDIT = "mission_audit"
"""The lever's key, as events name it."""
Destination = Literal["members", "treasury"]


class MissionAuditNotice(msgspec.Struct, frozen=True, gc=False):
    """The audit rule: chance a succeeded mission is audited, and what a free rider found loses."""

    probability: float
    penalty: float
    reputation_penalty: float


class MissionAudited(Event, tag="mission_audited", frozen=True):
    """A succeeded mission was audited: ``riders`` lost ``withheld`` in total, sent to ``destination``."""

    lever: str
    mission_id: str
    riders: tuple[str, ...]
    withheld: float
    destination: str
    """``members`` (the other members, pro rata), ``treasury``, or ``none`` (nothing withheld)."""


class MissionAuditConfig(LeverConfig):
    mission_audit_enabled: bool = Field(default=False, description="governance audits succeeded missions")
    mission_audit_probability: float = Field(
        default=0.5, ge=0.0, le=1.0, description="chance each succeeded mission is audited"
    )
    mission_audit_penalty: float = Field(
        default=0.5, ge=0.0, le=1.0, description="share of an audited free rider's payout withheld"
    )
    mission_audit_reputation_penalty: float = Field(
        default=0.0, ge=0.0, description="reputation an audited free rider loses"
    )
    mission_audit_destination: Destination = Field(
        default="members", description="members: to the other members pro rata; treasury: to governance"
    )


@dataclass(frozen=True, slots=True)
class MissionAuditRule:
    """The audit as the missions component applies it."""

    probability: float
    penalty: float
    reputation_penalty: float = 0.0
    destination: Destination = "members"


def mission_audit_rule(scenario: Scenario) -> MissionAuditRule | None:
    """The audit the scenario's governance puts on missions, or None when it is off."""
    gov = scenario.governance
    if not getattr(gov, "mission_audit_enabled", False):
        return None
    return MissionAuditRule(
        float(gov.mission_audit_probability),
        float(gov.mission_audit_penalty),
        float(gov.mission_audit_reputation_penalty),
        gov.mission_audit_destination,
    )


def withhold(
    amounts: Sequence[float], riders: Sequence[bool], penalty: float, destination: Destination
) -> tuple[list[float], float, float]:
    """Withhold ``penalty`` of each rider's amount: (new amounts, withheld, the part to the treasury).

    To ``members`` the withheld money is shared among the non-riders in proportion
    to their amounts (to the treasury when they hold nothing); Σ new amounts +
    the treasury's part = Σ amounts.
    """
    out = list(amounts)
    withheld = 0.0
    for i, r in enumerate(riders):
        if r and out[i] > 0.0:
            cut = out[i] * penalty
            out[i] -= cut
            withheld += cut
    if withheld <= 0.0:
        return out, 0.0, 0.0
    kept = math.fsum(a for a, r in zip(amounts, riders, strict=True) if not r)
    if destination == "treasury" or kept <= 0.0:
        return out, withheld, withheld
    members = [i for i, r in enumerate(riders) if not r]
    given = 0.0
    for i in members[:-1]:
        share = withheld * (amounts[i] / kept)
        out[i] += share
        given += share
    out[members[-1]] += withheld - given  # the last member takes the rest: nothing lost to rounding
    return out, withheld, 0.0


@lever
class MissionAudit(Lever):
    key = MISSION_AUDIT
    order = 67
    title = "mission audits"
    Config = MissionAuditConfig
    switch = "mission_audit_enabled: true"
    Notice = MissionAuditNotice
    config: MissionAuditConfig

    @classmethod
    def active(cls, config: MissionAuditConfig) -> bool:
        return config.mission_audit_enabled

    @classmethod
    def notice(cls, config: MissionAuditConfig) -> MissionAuditNotice:
        return MissionAuditNotice(
            config.mission_audit_probability,
            config.mission_audit_penalty,
            config.mission_audit_reputation_penalty,
        )

    @classmethod
    def check(cls, scenario: Scenario) -> None:
        if not scenario.governance.mission_audit_enabled:
            return
        missions = scenario.section("missions")
        if missions is None or not missions.enabled:
            raise ConfigProblem(
                "governance.mission_audit_enabled",
                "true without a missions: section",
                "an enabled missions: section (or false)",
            )


count("mission_audits", MissionAudited, "succeeded missions audited in the epoch", optional=True)
count(
    "mission_audit_withheld",
    MissionAudited,
    "money mission audits withheld from free riders in the epoch",
    amount=lambda e: e.withheld,
    optional=True,
)
run_figure(
    "mission_audit_withheld_total",
    "money mission audits withheld from free riders over the run",
    sum_of("mission_audit_withheld"),
)
