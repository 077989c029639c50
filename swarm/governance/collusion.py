"""Collusion detection: pairs and groups that keep accepting each other's low-quality work.

Scoring follows the reference detector (spec/core.md, governance levers). For each
unordered pair with at least ``min_interactions`` interactions in the history:

- frequency: ``clamp(z / frequency_threshold, 0, 1)``, z the pair's interaction
  count standardised over all pairs (0 with fewer than two pairs or no spread);
- correlation: ``max(0, Pearson(benefit_x, benefit_y))`` of what each side got per
  interaction (``−τ − c_a`` for the initiator, ``τ − c_b`` for the counterparty);
- acceptance: ``max(0, 2·(acceptance rate − 0.5))``;
- quality: ``max(0, 2·(0.5 − mean p))`` when the acceptance rate is above one half;

``score = (0.25·frequency + 0.30·correlation + 0.20·acceptance + 0.25·quality)·min(1, n/10)``.
Flagged pairs (score ≥ threshold) are joined into groups (connected components);
a group scores ``(0.4·max(0, 2·(internal share − 0.5)) + 0.6·max(0, p inside − p
outside))·(0.5 + 0.5·min(1, size/5))``. An agent's risk is the largest score of
its pairs and groups.

Departures, both fixing what the reference gets wrong:

- Only pairs with quality evidence (mean p below one half while accepting) can be
  flagged. Without it the frequent, mutually accepting exchanges of honest agents
  are what the reference flags in practice.
- Evidence is penalised once: at each epoch end an agent pays for the *increase*
  of its risk over what it has already paid for (the reference re-penalises the
  whole history every epoch).

Penalty for a risk increase Δ: reputation −Δ·multiplier and resources
−10·Δ·multiplier. With ``realtime_penalty``, an accepted interaction between two
agents both at or above the threshold costs each ``realtime_rate·(risk_x + risk_y)/2``.
"""

from __future__ import annotations

import statistics
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from swarm.core.interaction import SoftInteraction
from swarm.governance.base import Effect
from swarm.governance.lever import Costs, Lever
from swarm.messages import AgentPublic
from swarm.metrics.epoch import EpochMetrics

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


def _pearson(xs: Sequence[float], ys: Sequence[float]) -> float:
    if len(xs) < 2 or len(set(xs)) < 2 or len(set(ys)) < 2:
        return 0.0
    return statistics.correlation(xs, ys)


def pair_scores(
    history: Iterable[Exchange], *, min_interactions: int, frequency_threshold: float
) -> dict[tuple[str, str], float]:
    """Score of every pair with enough interactions (keys sorted: ``(x, y)`` with x < y)."""
    by_pair: dict[tuple[str, str], list[Exchange]] = defaultdict(list)
    for e in history:
        by_pair[tuple(sorted((e.initiator, e.counterparty)))].append(e)  # type: ignore[index]
    counts = [len(v) for v in by_pair.values()]
    mean = statistics.fmean(counts) if counts else 0.0
    spread = statistics.pstdev(counts) if len(counts) >= 2 else 0.0
    scores: dict[tuple[str, str], float] = {}
    for (x, y), exchanges in sorted(by_pair.items()):
        n = len(exchanges)
        if n < min_interactions:
            continue
        z = (n - mean) / spread if spread > 0 else 0.0
        frequency = min(1.0, max(0.0, z / frequency_threshold))
        gets_x = [e.benefit_initiator if e.initiator == x else e.benefit_counterparty for e in exchanges]
        gets_y = [e.benefit_counterparty if e.initiator == x else e.benefit_initiator for e in exchanges]
        correlation = max(0.0, _pearson(gets_x, gets_y))
        rate = sum(e.accepted for e in exchanges) / n
        acceptance = max(0.0, 2 * (rate - 0.5))
        mean_p = statistics.fmean(e.p for e in exchanges)
        quality = max(0.0, 2 * (0.5 - mean_p)) if rate > 0.5 else 0.0
        if quality == 0.0:
            continue  # no quality evidence: frequent, friendly and good is not collusion
        score = (0.25 * frequency + 0.30 * correlation + 0.20 * acceptance + 0.25 * quality) * min(
            1.0, n / 10
        )
        scores[(x, y)] = score
    return scores


def agent_risks(
    history: Sequence[Exchange],
    *,
    min_interactions: int,
    frequency_threshold: float,
    score_threshold: float,
) -> dict[str, float]:
    """Each flagged agent's risk: the largest score among its flagged pairs and groups."""
    pairs = pair_scores(history, min_interactions=min_interactions, frequency_threshold=frequency_threshold)
    flagged = {pair: s for pair, s in pairs.items() if s >= score_threshold}
    risk: dict[str, float] = {}
    for (x, y), s in flagged.items():
        risk[x] = max(risk.get(x, 0.0), s)
        risk[y] = max(risk.get(y, 0.0), s)
    for group in _components(flagged):
        s = _group_score(group, history)
        if s >= score_threshold:
            for member in group:
                risk[member] = max(risk.get(member, 0.0), s)
    return dict(sorted(risk.items()))


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


class CollusionDetection(Lever):
    key = "collusion"

    def __init__(
        self,
        *,
        frequency_threshold: float,
        min_interactions: int,
        score_threshold: float,
        penalty_multiplier: float,
        realtime_penalty: bool,
        realtime_rate: float,
        clear_history_on_epoch: bool,
    ) -> None:
        self.frequency_threshold = frequency_threshold
        self.min_interactions = min_interactions
        self.score_threshold = score_threshold
        self.penalty_multiplier = penalty_multiplier
        self.realtime_penalty = realtime_penalty
        self.realtime_rate = realtime_rate
        self.clear_history_on_epoch = clear_history_on_epoch
        self.history: deque[Exchange] = deque(maxlen=MEMORY)
        self.risk: dict[str, float] = {}
        self.paid_for: dict[str, float] = {}

    def on_interactions(
        self, epoch: int, step: int, interactions: Sequence[SoftInteraction]
    ) -> tuple[Costs, list[Effect]]:
        costs: Costs = {}
        effects: list[Effect] = []
        for i in interactions:
            self.history.append(Exchange.of(i))
            if not (self.realtime_penalty and i.accepted):
                continue
            a, b = self.risk.get(i.initiator, 0.0), self.risk.get(i.counterparty, 0.0)
            if min(a, b) < self.score_threshold:
                continue
            cost = self.realtime_rate * (a + b) / 2
            costs[i.interaction_id] = (cost, cost)
            for agent in (i.initiator, i.counterparty):
                effects.append(
                    Effect(
                        lever=self.key,
                        agent_id=agent,
                        kind="cost",
                        amount=cost,
                        reason="interaction between agents flagged for collusion",
                        interaction_id=i.interaction_id,
                        confidence=min(a, b),
                    )
                )
        return costs, effects

    def epoch_end(self, epoch: int, metrics: EpochMetrics, agents: Sequence[AgentPublic]) -> list[Effect]:
        if len(self.history) < self.min_interactions:
            return []
        self.risk = agent_risks(
            list(self.history),
            min_interactions=self.min_interactions,
            frequency_threshold=self.frequency_threshold,
            score_threshold=self.score_threshold,
        )
        if self.clear_history_on_epoch:
            self.history.clear()
        effects: list[Effect] = []
        for agent, risk in self.risk.items():
            new = risk - self.paid_for.get(agent, 0.0)
            effects.append(
                Effect(
                    lever=self.key,
                    agent_id=agent,
                    kind="flag",
                    reason=f"collusion risk {risk:.3f}",
                    confidence=risk,
                )
            )
            if new <= 1e-12 or not self.penalty_multiplier:
                continue
            self.paid_for[agent] = risk
            reason = f"collusion risk rose to {risk:.3f}"
            effects.append(
                Effect(
                    lever=self.key,
                    agent_id=agent,
                    kind="reputation",
                    amount=-new * self.penalty_multiplier,
                    reason=reason,
                    confidence=risk,
                )
            )
            effects.append(
                Effect(
                    lever=self.key,
                    agent_id=agent,
                    kind="resources",
                    amount=-10 * new * self.penalty_multiplier,
                    reason=reason,
                    confidence=risk,
                )
            )
        return effects
