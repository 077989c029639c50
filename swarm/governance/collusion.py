"""Collusion detection: pairs and groups that keep accepting each other's low-quality work.

Scoring follows the reference detector (spec/core.md, governance levers). For each
unordered pair with at least ``min_interactions`` interactions in the history:

- frequency: ``clamp(z / frequency_threshold, 0, 1)``, z the pair's interaction
  count standardised over the pairs its two members take part in (0 with fewer
  than two such pairs or no spread);
- reciprocity: ``1 − |a_xy − a_yx| / (a_xy + a_yx)``, a_xy the accepted
  interactions x initiated with y (the reference's benefit correlation instead: see
  below);
- acceptance: ``max(0, 2·(acceptance rate − 0.5))``;
- quality: ``max(0, 2·(0.5 − mean p))`` when the acceptance rate is above one half;

``score = (0.25·frequency + 0.30·reciprocity + 0.20·acceptance + 0.25·quality)·min(1, n/10)``.
Flagged pairs (score ≥ threshold) are joined into groups (connected components);
a group scores ``(0.4·max(0, 2·(internal share − 0.5)) + 0.6·max(0, p inside − p
outside))·(0.5 + 0.5·min(1, size/5))``. An agent's risk is the largest score of
its pairs and groups.

Departures, each fixing what the reference gets wrong:

- The reference standardises a pair's count over *all* pairs, so a ring can only
  score on frequency by out-trading the busiest pairs of the population — in a
  small world, the honest neighbours. Here the yardstick is the other pairs its
  own members are in: a pair scores on frequency when its members prefer each
  other to whoever else they deal with.
- The reference's third term is ``max(0, Pearson(benefit_x, benefit_y))`` of what
  each side got per interaction (``−τ − c_a`` and ``τ − c_b``). It measures the
  cost model, not the pair: any cost proportional to a shared base makes it 1 for
  everyone, transfers between the two make it −1, and without either it is 0
  (spec/governance.md §6.1). Reciprocity — both sides getting their work
  accepted by the other — is what it stands for, and what a ring does.
- Only pairs with quality evidence (mean p below one half while accepting) can be
  flagged. Without it the frequent, mutually accepting exchanges of honest agents
  are what the reference flags in practice.
- The evidence must be mutual: each side accepted, on average, low-quality work
  (mean p below one half) that the other initiated. An agent that keeps exploiting
  one victim makes a frequent, accepted, low-quality pair too; the victim is not
  its accomplice.
- Evidence is penalised once: at each epoch end an agent pays for the *increase*
  of its risk over what it has already paid for (the reference re-penalises the
  whole history every epoch).

Penalty for a risk increase Δ: reputation −Δ·multiplier and resources
−10·Δ·multiplier (destroyed). With ``realtime_penalty``, an accepted interaction between two
agents both at or above the threshold costs each ``realtime_rate·(risk_x + risk_y)/2``.
"""

from __future__ import annotations

import statistics
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from swarm.core.interaction import SoftInteraction
from swarm.governance.effects import Cost, Effect, Evidence, ReputationChange, ResourceChange
from swarm.governance.lever import Lever, LeverConfig, lever
from swarm.kernel.component import At, Setup
from swarm.metrics.registry import count, last_of, latest, run_figure, sum_of
from swarm.views import AgentPublic

MEMORY = 20_000


@dataclass(frozen=True, slots=True)
class Exchange:
    """What the detector keeps of one interaction."""

    initiator: str
    counterparty: str
    accepted: bool
    p: float
    benefit_initiator: float
    benefit_counterparty: float

    @classmethod
    def of(cls, i: SoftInteraction) -> Exchange:
        return cls(i.initiator, i.counterparty, i.accepted, i.p, -i.tau - i.c_a, i.tau - i.c_b)


def _preference(n: int, of_x: Sequence[int], of_y: Sequence[int]) -> float:
    """The pair's count ``n`` standardised over the counts of the pairs either member is in (it once)."""
    counts = [*of_x, *of_y]
    counts.remove(n)  # the pair itself is in both lists
    if len(counts) < 2:
        return 0.0
    spread = statistics.pstdev(counts)
    return (n - statistics.fmean(counts)) / spread if spread > 0 else 0.0


def _mutual(exchanges: Sequence[Exchange]) -> bool:
    """Whether each side accepted, on average, low-quality work (mean p below one half) from the other."""
    sums: dict[str, list[float]] = defaultdict(list)
    for e in exchanges:
        if e.accepted:
            sums[e.initiator].append(e.p)
    return len(sums) == 2 and all(statistics.fmean(ps) < 0.5 for ps in sums.values())


def pair_scores(
    history: Iterable[Exchange], *, min_interactions: int, frequency_threshold: float
) -> dict[tuple[str, str], float]:
    """Score of every pair with enough interactions (keys sorted: ``(x, y)`` with x < y)."""
    by_pair: dict[tuple[str, str], list[Exchange]] = defaultdict(list)
    for e in history:
        by_pair[tuple(sorted((e.initiator, e.counterparty)))].append(e)  # type: ignore[index]
    counts_of: dict[str, list[int]] = defaultdict(list)
    for (x, y), exchanges in sorted(by_pair.items()):
        counts_of[x].append(len(exchanges))
        counts_of[y].append(len(exchanges))
    scores: dict[tuple[str, str], float] = {}
    for (x, y), exchanges in sorted(by_pair.items()):
        n = len(exchanges)
        if n < min_interactions:
            continue
        z = _preference(n, counts_of[x], counts_of[y])
        frequency = min(1.0, max(0.0, z / frequency_threshold))
        from_x = sum(1 for e in exchanges if e.accepted and e.initiator == x)
        from_y = sum(1 for e in exchanges if e.accepted and e.initiator == y)
        reciprocity = 1 - abs(from_x - from_y) / (from_x + from_y) if from_x + from_y else 0.0
        rate = sum(e.accepted for e in exchanges) / n
        acceptance = max(0.0, 2 * (rate - 0.5))
        mean_p = statistics.fmean(e.p for e in exchanges)
        quality = max(0.0, 2 * (0.5 - mean_p)) if rate > 0.5 else 0.0
        if quality == 0.0:
            continue  # no quality evidence: frequent, friendly and good is not collusion
        if not _mutual(exchanges):
            continue  # one side exploiting the other is not the two colluding
        score = (0.25 * frequency + 0.30 * reciprocity + 0.20 * acceptance + 0.25 * quality) * min(
            1.0, n / 10
        )
        scores[(x, y)] = score
    return scores


@dataclass(frozen=True)
class Analysis:
    """What one pass of the detector found: flagged pairs and groups, and each flagged agent's risk."""

    pairs: dict[tuple[str, str], float]
    groups: dict[frozenset[str], float]
    risk: dict[str, float]

    def ecosystem_risk(self, n_agents: int) -> float:
        """min(1, 0.3·pair share + 0.3·group-member share + 0.4·max group score), as in the reference."""
        if n_agents < 2 or not (self.pairs or self.groups):
            return 0.0
        pair_fraction = len(self.pairs) / (n_agents * (n_agents - 1) / 2)
        members = set().union(*self.groups) if self.groups else set()
        group_fraction = len(members) / n_agents
        max_group = max(self.groups.values(), default=0.0)
        return min(1.0, 0.3 * pair_fraction + 0.3 * group_fraction + 0.4 * max_group)


def analyse(
    history: Sequence[Exchange],
    *,
    min_interactions: int,
    frequency_threshold: float,
    score_threshold: float,
) -> Analysis:
    """Flag pairs and groups; an agent's risk is the largest score among its flagged pairs and groups."""
    pairs = pair_scores(history, min_interactions=min_interactions, frequency_threshold=frequency_threshold)
    flagged = {pair: s for pair, s in pairs.items() if s >= score_threshold}
    risk: dict[str, float] = {}
    for (x, y), s in flagged.items():
        risk[x] = max(risk.get(x, 0.0), s)
        risk[y] = max(risk.get(y, 0.0), s)
    groups: dict[frozenset[str], float] = {}
    for group in _components(flagged):
        s = _group_score(group, history)
        if s >= score_threshold:
            groups[group] = s
            for member in group:
                risk[member] = max(risk.get(member, 0.0), s)
    return Analysis(flagged, groups, dict(sorted(risk.items())))


def agent_risks(
    history: Sequence[Exchange],
    *,
    min_interactions: int,
    frequency_threshold: float,
    score_threshold: float,
) -> dict[str, float]:
    """Each flagged agent's risk: the largest score among its flagged pairs and groups."""
    return analyse(
        history,
        min_interactions=min_interactions,
        frequency_threshold=frequency_threshold,
        score_threshold=score_threshold,
    ).risk


def _components(pairs: Iterable[tuple[str, str]]) -> list[frozenset[str]]:
    neighbours: dict[str, set[str]] = defaultdict(set)
    for x, y in pairs:
        neighbours[x].add(y)
        neighbours[y].add(x)
    seen: set[str] = set()
    groups = []
    for start in sorted(neighbours):
        if start in seen:
            continue
        stack, group = [start], set()
        while stack:
            node = stack.pop()
            if node not in group:
                group.add(node)
                stack.extend(neighbours[node] - group)
        seen |= group
        groups.append(frozenset(group))
    return groups


def _group_score(group: frozenset[str], history: Sequence[Exchange]) -> float:
    involved = [e for e in history if e.initiator in group or e.counterparty in group]
    inside = [e for e in involved if e.initiator in group and e.counterparty in group]
    if not involved or not inside:
        return 0.0
    outside = [e for e in involved if not (e.initiator in group and e.counterparty in group)]
    share = len(inside) / len(involved)
    p_in = statistics.fmean(e.p for e in inside)
    p_out = statistics.fmean(e.p for e in outside) if outside else p_in
    return (0.4 * max(0.0, 2 * (share - 0.5)) + 0.6 * max(0.0, p_in - p_out)) * (
        0.5 + 0.5 * min(1.0, len(group) / 5)
    )


class CollusionReport(Evidence, tag="collusion_report", kw_only=True, frozen=True):
    """The detector's findings at an epoch's end (about the whole population: ``agent_id`` is ``*``)."""

    finding: str = "report"
    flagged_pairs: int
    flagged_groups: int
    ecosystem_risk: float


class CollusionConfig(LeverConfig):
    collusion_detection_enabled: bool = False
    collusion_frequency_threshold: float = Field(
        default=2.0, gt=0.0, description="z-score of a pair's count for full frequency"
    )
    collusion_correlation_threshold: float = Field(
        default=0.7,
        ge=0.0,
        le=1.0,
        description="accepted for reference scenarios; as there, the score does not use it",
    )
    collusion_min_interactions: int = Field(
        default=3, ge=1, description="interactions before a pair is scored"
    )
    collusion_score_threshold: float = Field(
        default=0.5, ge=0.0, le=1.0, description="score at which a pair is flagged"
    )
    collusion_penalty_multiplier: float = Field(
        default=1.0, ge=0.0, description="penalty per unit of risk increase"
    )
    collusion_realtime_penalty: bool = False
    collusion_realtime_rate: float = Field(
        default=0.1, ge=0.0, description="cost rate between flagged agents"
    )
    collusion_clear_history_on_epoch: bool = False


@lever
class CollusionDetection(Lever):
    key = "collusion"
    order = 80
    title = "collusion detection"
    Config = CollusionConfig
    switch = "collusion_detection_enabled: true"
    config: CollusionConfig

    def __init__(self, config: CollusionConfig, setup: Setup) -> None:
        super().__init__(config, setup)
        self.history: deque[Exchange] = deque(maxlen=MEMORY)
        self.risk: dict[str, float] = {}
        self.paid_for: dict[str, float] = {}

    @classmethod
    def active(cls, config: CollusionConfig) -> bool:
        return config.collusion_detection_enabled

    def on_interactions(self, at: At, interactions: Sequence[SoftInteraction]) -> list[Effect]:
        c = self.config
        effects: list[Effect] = []
        for i in interactions:
            self.history.append(Exchange.of(i))
            if not (c.collusion_realtime_penalty and i.accepted):
                continue
            a, b = self.risk.get(i.initiator, 0.0), self.risk.get(i.counterparty, 0.0)
            if min(a, b) < c.collusion_score_threshold:
                continue
            cost = c.collusion_realtime_rate * (a + b) / 2
            for agent in (i.initiator, i.counterparty):
                effects.append(
                    Cost(
                        epoch=at.epoch,
                        step=at.step,
                        lever=self.key,
                        agent_id=agent,
                        amount=cost,
                        reason="interaction between agents flagged for collusion",
                        interaction_id=i.interaction_id,
                        confidence=min(a, b),
                    )
                )
        return effects

    def epoch_end(self, at: At, agents: Sequence[AgentPublic]) -> list[Effect]:
        c = self.config
        if len(self.history) < c.collusion_min_interactions:
            return []
        found = analyse(
            list(self.history),
            min_interactions=c.collusion_min_interactions,
            frequency_threshold=c.collusion_frequency_threshold,
            score_threshold=c.collusion_score_threshold,
        )
        self.risk = found.risk
        if c.collusion_clear_history_on_epoch:
            self.history.clear()
        effects: list[Effect] = [
            CollusionReport(
                epoch=at.epoch,
                step=at.step,
                lever=self.key,
                agent_id="*",
                flagged_pairs=len(found.pairs),
                flagged_groups=len(found.groups),
                ecosystem_risk=found.ecosystem_risk(len(agents)),
            )
        ]
        for agent, risk in self.risk.items():
            common: dict[str, Any] = {
                "epoch": at.epoch,
                "step": at.step,
                "lever": self.key,
                "agent_id": agent,
                "confidence": risk,
            }
            new = risk - self.paid_for.get(agent, 0.0)
            effects.append(
                Evidence(**common, finding="flagged", amount=risk, reason=f"collusion risk {risk:.3f}")
            )
            if new <= 1e-12 or not c.collusion_penalty_multiplier:
                continue
            self.paid_for[agent] = risk
            reason = f"collusion risk rose to {risk:.3f}"
            penalty = new * c.collusion_penalty_multiplier
            effects.append(ReputationChange(**common, amount=-penalty, reason=reason))
            effects.append(ResourceChange(**common, amount=-10 * penalty, reason=reason))
        return effects


def _penalty(e: ResourceChange) -> float:
    return -e.amount if e.lever == "collusion" and e.amount < 0 else 0.0


count("collusion_penalties", ResourceChange, "resources taken by the collusion lever", amount=_penalty)
latest(
    "collusion_flagged_pairs",
    CollusionReport,
    "pairs the collusion detector flags",
    lambda e: e.flagged_pairs,
)
latest(
    "collusion_ecosystem_risk",
    CollusionReport,
    "the detector's ecosystem collusion risk",
    lambda e: e.ecosystem_risk,
)
run_figure(
    "flagged_pairs",
    "pairs the collusion detector flagged at its last pass",
    last_of("collusion_flagged_pairs"),
)
run_figure(
    "ecosystem_collusion_risk",
    "the collusion detector's last ecosystem risk",
    last_of("collusion_ecosystem_risk"),
)
run_figure("penalty_total", "resources the collusion lever took over the run", sum_of("collusion_penalties"))
