"""Sybil detection: clusters of identities that behave as one (spec/governance.md §5.10).

What the lever sees of each agent is what it *initiates*: to whom it proposes in
each epoch (its partner profile, keys ``(epoch, counterparty)``) and in which
steps (its timing profile, keys ``(epoch, step)``), counted over every labelled
interaction, accepted or not, since the run began. Identities driven by one
controller propose to the same outsiders in the same steps; independent agents,
however alike their type, choose partners and moments on their own.

Similarity of agents a and b: the mean of the cosine similarities of their two
profiles, each with the population's profile taken out, scaled to the agent's own
activity (``v − (Σv / ΣM)·M``, M the sum of everyone's profiles: what everyone
does — a popular partner, a busy step — is not a likeness, however active the
agent), floored at 0, and discounted by ``min(1, n/10)`` with n the fewer
initiations of the two (a likeness of two proposals is no evidence; the
collusion score discounts the same way). Pairs that share no key of either
profile score 0.

Departures from the reference, which scores (Jaccard + dot product of partner
frequencies normalised over the shared partners)/2 — not a cosine, and near ½
for any two agents who each deal with everyone once — and clusters greedily
in insertion order: clusters here are the connected components of the pairs at
or above ``sybil_similarity_threshold``, so they do not depend on the order in
which agents appeared.

Effects (each a governance event): at each epoch's end a population-wide
:class:`SybilReport`; per member of a cluster an :class:`Evidence` ``flagged``
with its risk (its largest similarity), reputation ``−0.1·sybil_penalty_multiplier``
and resources ``−1.0·sybil_penalty_multiplier`` (destroyed), every epoch it stays
in a cluster, as in the reference. A member of a cluster larger than
``sybil_max_cluster_size`` gets an :class:`Evidence` ``blocked`` and may not act
(:meth:`SybilDetection.blocked`) while its cluster stays that large. With
``sybil_realtime_penalty``, an accepted interaction between two flagged agents
costs each ``sybil_realtime_rate`` inside its payoff.

With an ``identity:`` section the lever can weigh credentials and trust (it reads
the step's :class:`~swarm.env.identity_view.IdentityView`):

* ``sybil_require_credentials`` — an agent flagged at any epoch's end so far
  that holds no valid credential (``track_record`` or ``vouch``) may not act in
  a step, whatever its cluster's size, until it holds one (a stopped identity
  soon stops looking like its ring, so the flag alone would lift the block); a
  credentialed one is blocked only by the cap, as without the key (the rule only
  adds blocks). An agent never flagged is never blocked. Credentials are read
  from the step's view when admitting and from the epoch's last step at the
  epoch's end (the ``blocked`` evidence).
* ``sybil_trust_discount`` — a cluster's reputation and resource penalties are
  scaled by ``1 − mean trust`` of its members (an identity with no trust score
  counts 0): a cluster of long-standing, credentialed identities pays less than
  one of fresh ones.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import Field

from swarm.core.interaction import SoftInteraction
from swarm.env.identity_view import IdentityView
from swarm.errors import ConfigProblem
from swarm.governance.effects import Cost, Effect, Evidence, ReputationChange, ResourceChange
from swarm.governance.lever import Lever, LeverConfig, lever
from swarm.kernel.component import At, Setup
from swarm.metrics.registry import last_of, latest, run_figure, sum_of
from swarm.views import AgentPublic

if TYPE_CHECKING:
    from swarm.scenario import Scenario

EVIDENCE = 10
"""Initiations at which a likeness counts in full."""

Key = tuple[int, Any]


@dataclass
class Profiles:
    """What each agent initiated: per agent, counts by ``(epoch, counterparty)`` and by ``(epoch, step)``."""

    partners: dict[str, dict[Key, int]] = field(default_factory=dict)
    timing: dict[str, dict[Key, int]] = field(default_factory=dict)
    initiated: dict[str, int] = field(default_factory=dict)

    def add(self, epoch: int, step: int, initiator: str, counterparty: str) -> None:
        partners = self.partners.setdefault(initiator, {})
        partners[(epoch, counterparty)] = partners.get((epoch, counterparty), 0) + 1
        timing = self.timing.setdefault(initiator, {})
        timing[(epoch, step)] = timing.get((epoch, step), 0) + 1
        self.initiated[initiator] = self.initiated.get(initiator, 0) + 1

    def record(self, interactions: Iterable[SoftInteraction]) -> None:
        for i in interactions:
            self.add(i.epoch, i.step, i.initiator, i.counterparty)


def _residual_cosines(vectors: Mapping[str, Mapping[Key, int]]) -> dict[tuple[str, str], float]:
    """Cosine similarity of every pair of vectors sharing a key, after taking out of each vector the
    population's profile scaled to the vector's own total (``v − (Σv / ΣM)·M``, M the sum of all
    vectors): what is left is how an agent's choices differ from everyone's at its own level of activity.
    """
    total: dict[Key, int] = {}
    for v in vectors.values():
        for k, x in v.items():
            total[k] = total.get(k, 0) + x
    grand = sum(total.values())
    if grand == 0:
        return {}
    mm = math.fsum(x * x for x in total.values())
    share = {a: sum(v.values()) / grand for a, v in vectors.items()}
    own = {a: math.fsum(x * x for x in v.values()) for a, v in vectors.items()}
    with_all = {a: math.fsum(x * total[k] for k, x in v.items()) for a, v in vectors.items()}
    holders: dict[Key, list[tuple[str, int]]] = {}
    for a in sorted(vectors):
        for k, x in vectors[a].items():
            holders.setdefault(k, []).append((a, x))
    dots: dict[tuple[str, str], int] = {}
    for held in holders.values():
        for i, (a, x) in enumerate(held):
            for b, y in held[i + 1 :]:
                dots[(a, b)] = dots.get((a, b), 0) + x * y
    out: dict[tuple[str, str], float] = {}
    for (a, b), dot in sorted(dots.items()):
        sa, sb = share[a], share[b]
        residual = dot - sb * with_all[a] - sa * with_all[b] + sa * sb * mm
        norm_a = own[a] - 2 * sa * with_all[a] + sa * sa * mm
        norm_b = own[b] - 2 * sb * with_all[b] + sb * sb * mm
        if norm_a <= 1e-9 or norm_b <= 1e-9:
            continue
        out[(a, b)] = max(-1.0, min(1.0, residual / math.sqrt(norm_a * norm_b)))
    return out


def similarities(profiles: Profiles) -> dict[tuple[str, str], float]:
    """Every pair's similarity in [0, 1] (pairs sorted ``a < b``; pairs scoring 0 are left out)."""
    partner = _residual_cosines(profiles.partners)
    timing = _residual_cosines(profiles.timing)
    out: dict[tuple[str, str], float] = {}
    for pair in sorted(set(partner) | set(timing)):
        s = max(0.0, (partner.get(pair, 0.0) + timing.get(pair, 0.0)) / 2)
        evidence = min(profiles.initiated.get(pair[0], 0), profiles.initiated.get(pair[1], 0))
        s *= min(1.0, evidence / EVIDENCE)
        if s > 0:
            out[pair] = s
    return out


def agent_risks(pairs: Mapping[tuple[str, str], float]) -> dict[str, float]:
    """Each agent's risk: its largest similarity to any other agent (agents without a likeness left out)."""
    risk: dict[str, float] = {}
    for (a, b), s in pairs.items():
        risk[a] = max(risk.get(a, 0.0), s)
        risk[b] = max(risk.get(b, 0.0), s)
    return dict(sorted(risk.items()))


def clusters(pairs: Mapping[tuple[str, str], float], threshold: float) -> list[frozenset[str]]:
    """Connected components of the pairs at or above ``threshold`` (each of two or more agents), sorted."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for (a, b), s in pairs.items():
        if s >= threshold:
            ra, rb = root(a), root(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, set[str]] = defaultdict(set)
    for x in parent:
        groups[root(x)].add(x)
    return sorted((frozenset(g) for g in groups.values() if len(g) > 1), key=sorted)


class SybilReport(Evidence, tag="sybil_report", kw_only=True, frozen=True):
    """The detector's findings at an epoch's end (about the whole population: ``agent_id`` is ``*``)."""

    finding: str = "report"
    clusters_found: int
    agents_flagged: int
    agents_blocked: int
    penalty: float
    """Resources taken at this pass."""


class SybilDetectionConfig(LeverConfig):
    sybil_detection_enabled: bool = False
    sybil_similarity_threshold: float = Field(
        default=0.8, ge=0.0, le=1.0, description="similarity at which two agents are one cluster"
    )
    sybil_penalty_multiplier: float = Field(
        default=1.0, ge=0.0, description="per epoch in a cluster: reputation −0.1·this, resources −1.0·this"
    )
    sybil_realtime_penalty: bool = False
    sybil_realtime_rate: float = Field(
        default=0.1, ge=0.0, le=1.0, description="cost to each side of an interaction between flagged agents"
    )
    sybil_max_cluster_size: int = Field(
        default=3, ge=1, description="members of a larger cluster may not act"
    )
    sybil_require_credentials: bool = Field(
        default=False,
        description="flagged agents without a valid credential may not act, whatever their cluster's size "
        "(needs an identity: section)",
    )
    sybil_trust_discount: bool = Field(
        default=False,
        description="a cluster's penalties are scaled by 1 - its members' mean trust "
        "(needs an identity: section)",
    )


@lever
class SybilDetection(Lever):
    key = "sybil"
    order = 85
    title = "sybil detection"
    Config = SybilDetectionConfig
    switch = "sybil_detection_enabled: true"
    config: SybilDetectionConfig

    def __init__(self, config: SybilDetectionConfig, setup: Setup) -> None:
        super().__init__(config, setup)
        self.profiles = Profiles()
        self.risk: dict[str, float] = {}
        self.flagged: frozenset[str] = frozenset()
        self.too_large: frozenset[str] = frozenset()
        self.suspected: frozenset[str] = frozenset()
        """Every agent flagged at some epoch's end so far."""

    @classmethod
    def active(cls, config: SybilDetectionConfig) -> bool:
        return config.sybil_detection_enabled

    @classmethod
    def check(cls, scenario: Scenario) -> None:
        g = scenario.governance
        if not g.sybil_detection_enabled:
            return
        section = scenario.section("identity")
        if section is not None and getattr(section, "enabled", True):
            return
        for key in ("sybil_require_credentials", "sybil_trust_discount"):
            if getattr(g, key):
                raise ConfigProblem(
                    f"governance.{key}",
                    "true, but the scenario has no identity: section, so no agent holds a credential "
                    "or a trust score",
                    f"an identity: section (docs/threats.md, Identity and trust), or no {key}",
                )

    def _stopped(self) -> dict[str, str]:
        """Who may not act, with the reason, under the views at hand (sorted by agent)."""
        c = self.config
        large = f"in a sybil cluster larger than {c.sybil_max_cluster_size}"
        view = self.published(IdentityView) if c.sybil_require_credentials else None
        if view is None:
            return {a: large for a in sorted(self.too_large)}
        return {
            a: large if a in self.too_large else "in a sybil cluster without a valid credential"
            for a in sorted(self.suspected)
            if a in self.too_large or not view.is_credentialed(a)
        }

    def blocked(self, at: At, agents: Sequence[AgentPublic]) -> dict[str, str]:
        return self._stopped()

    def on_interactions(self, at: At, interactions: Sequence[SoftInteraction]) -> list[Effect]:
        c = self.config
        self.profiles.record(interactions)
        if not (c.sybil_realtime_penalty and c.sybil_realtime_rate > 0 and self.flagged):
            return []
        effects: list[Effect] = []
        for i in interactions:
            if i.accepted and i.initiator in self.flagged and i.counterparty in self.flagged:
                for agent in (i.initiator, i.counterparty):
                    effects.append(
                        Cost(
                            epoch=at.epoch,
                            step=at.step,
                            lever=self.key,
                            agent_id=agent,
                            amount=c.sybil_realtime_rate,
                            reason="interaction between agents flagged as sybils",
                            interaction_id=i.interaction_id,
                            confidence=min(
                                self.risk.get(i.initiator, 0.0), self.risk.get(i.counterparty, 0.0)
                            ),
                        )
                    )
        return effects

    def epoch_end(self, at: At, agents: Sequence[AgentPublic]) -> list[Effect]:
        c = self.config
        pairs = similarities(self.profiles)
        self.risk = agent_risks(pairs)
        found = clusters(pairs, c.sybil_similarity_threshold)
        self.flagged = frozenset().union(*found) if found else frozenset()
        self.too_large = frozenset(a for g in found if len(g) > c.sybil_max_cluster_size for a in g)
        self.suspected |= self.flagged
        stopped = self._stopped()
        identity = self.published(IdentityView) if c.sybil_trust_discount else None
        effects: list[Effect] = []
        taken = 0.0
        for group in found:
            mult = c.sybil_penalty_multiplier
            if identity is not None:
                mult *= 1.0 - math.fsum(identity.trust_of(a) for a in group) / len(group)
            for agent in sorted(group):
                common: dict[str, Any] = {
                    "epoch": at.epoch,
                    "step": at.step,
                    "lever": self.key,
                    "agent_id": agent,
                    "confidence": self.risk[agent],
                }
                size = f"in a cluster of {len(group)} behaving alike"
                effects.append(Evidence(**common, finding="flagged", amount=self.risk[agent], reason=size))
                if agent in stopped:
                    why = (
                        f"{size}, more than {c.sybil_max_cluster_size}"
                        if agent in self.too_large
                        else f"{size}, without a valid credential"
                    )
                    effects.append(Evidence(**common, finding="blocked", reason=why))
                if mult > 0:
                    effects.append(ReputationChange(**common, amount=-0.1 * mult, reason=size))
                    effects.append(ResourceChange(**common, amount=-1.0 * mult, reason=size))
                    taken += mult
        report = SybilReport(
            epoch=at.epoch,
            step=at.step,
            lever=self.key,
            agent_id="*",
            clusters_found=len(found),
            agents_flagged=len(self.flagged),
            agents_blocked=len(stopped),
            penalty=taken if identity is not None else len(self.flagged) * c.sybil_penalty_multiplier,
        )
        return [report, *effects]


latest(
    "sybil_clusters",
    SybilReport,
    "clusters the sybil detector found",
    lambda e: e.clusters_found,
    optional=True,
)
latest(
    "sybil_flagged",
    SybilReport,
    "agents the sybil detector flagged",
    lambda e: e.agents_flagged,
    optional=True,
)
latest(
    "sybil_penalties",
    SybilReport,
    "resources the sybil lever took this epoch",
    lambda e: e.penalty,
    optional=True,
)
run_figure(
    "sybil_clusters_found", "clusters the sybil detector found at its last pass", last_of("sybil_clusters")
)
run_figure(
    "sybil_agents_flagged", "agents the sybil detector flagged at its last pass", last_of("sybil_flagged")
)
run_figure("sybil_penalty_total", "resources the sybil lever took over the run", sum_of("sybil_penalties"))
