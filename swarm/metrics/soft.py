"""Soft metrics: toxicity, selection, welfare, calibration and dispersion computed from p.

Notation: I = all interactions given, A = the accepted ones, R = the rejected ones,
T = those with a known ``ground_truth`` v, and v₀₁ = (v + 1) / 2 ∈ {0, 1}. Payoffs
π_a, π_b come from a :class:`SoftPayoffEngine` (the default one when none is given)
and include each interaction's own τ, c and r. Every function is pure.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from typing import TypedDict

from swarm.core.interaction import SoftInteraction
from swarm.core.payoff import SoftPayoffEngine

Interactions = Sequence[SoftInteraction]


class QualityParticipation(TypedDict):
    """Acceptance rates of high-quality (p ≥ t) and low-quality (p < t) interactions."""

    high_quality_acceptance: float
    low_quality_acceptance: float
    high_quality_count: int
    low_quality_count: int


class WelfareMetrics(TypedDict):
    """Welfare of the accepted interactions."""

    total_welfare: float
    total_social_surplus: float
    avg_initiator_payoff: float
    avg_counterparty_payoff: float


class CoefficientsOfVariation(TypedDict):
    """σ/μ of p and |σ/μ| of each party's payoff; 0.0 where μ = 0."""

    cv_p: float
    cv_payoff_initiator: float
    cv_payoff_counterparty: float


def _mean(xs: Sequence[float]) -> float:
    return math.fsum(xs) / len(xs) if xs else 0.0


def _pvariance(xs: Sequence[float]) -> float:
    if len(xs) < 2:
        return 0.0
    m = _mean(xs)
    return math.fsum((x - m) ** 2 for x in xs) / len(xs)


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


Payoffs = tuple[list[float], list[float]]
"""π_a and π_b of each interaction, in order."""


def payoffs(interactions: Interactions, engine: SoftPayoffEngine | None = None) -> Payoffs:
    """(π_a, π_b) of every interaction, in order: compute once and pass to the functions that take them."""
    engine = engine or SoftPayoffEngine()
    pairs = [engine.payoffs(i) for i in interactions]
    return [a for a, _ in pairs], [b for _, b in pairs]


_payoffs = payoffs


def _conditional_loss(interactions: Interactions, payoffs: Sequence[float]) -> float:
    on_accepted = [x for i, x in zip(interactions, payoffs, strict=True) if i.accepted]
    return _mean(on_accepted) - _mean(payoffs) if on_accepted else 0.0


def _welfare(
    interactions: Interactions,
    pi_a: Sequence[float],
    pi_b: Sequence[float],
    engine: SoftPayoffEngine | None,
) -> WelfareMetrics:
    engine = engine or SoftPayoffEngine()
    rows = [(i, a, b) for i, a, b in zip(interactions, pi_a, pi_b, strict=True) if i.accepted]
    return WelfareMetrics(
        total_welfare=math.fsum(a + b for _, a, b in rows),
        total_social_surplus=math.fsum(engine.social_surplus(i) for i, _, _ in rows),
        avg_initiator_payoff=_mean([a for _, a, _ in rows]),
        avg_counterparty_payoff=_mean([b for _, _, b in rows]),
    )


def _with_truth(interactions: Interactions) -> list[tuple[float, int]]:
    return [(i.p, (i.ground_truth + 1) // 2) for i in interactions if i.ground_truth is not None]


def _bin_of(p: float, bins: int) -> int:
    b = min(int(p * bins), bins - 1)
    if b > 0 and p < b / bins:
        return b - 1
    if b < bins - 1 and p >= (b + 1) / bins:
        return b + 1
    return b


def _check_bins(bins: int) -> None:
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")


def toxicity_rate(interactions: Interactions) -> float:
    """E[1 − p | accepted]: the expected share of harmful interactions in A (0.0 if A is empty)."""
    return _mean([1.0 - i.p for i in interactions if i.accepted])


def toxicity_rate_all(interactions: Interactions) -> float:
    """E[1 − p] over all of I (0.0 if empty)."""
    return _mean([1.0 - i.p for i in interactions])


def hard_toxicity(interactions: Interactions, threshold: float = 0.5) -> float:
    """Fraction of A with p < threshold: toxicity with hard labels (0.0 if A is empty)."""
    return _mean([1.0 if i.p < threshold else 0.0 for i in interactions if i.accepted])


def conditional_loss_initiator(
    interactions: Interactions, engine: SoftPayoffEngine | None = None, computed: Payoffs | None = None
) -> float:
    """mean_A π_a − mean_I π_a; negative means adverse selection against initiators."""
    pi_a, _ = computed or _payoffs(interactions, engine)
    return _conditional_loss(interactions, pi_a)


def conditional_loss_counterparty(
    interactions: Interactions, engine: SoftPayoffEngine | None = None, computed: Payoffs | None = None
) -> float:
    """mean_A π_b − mean_I π_b; negative means adverse selection against counterparties."""
    _, pi_b = computed or _payoffs(interactions, engine)
    return _conditional_loss(interactions, pi_b)


def spread(interactions: Interactions, engine: SoftPayoffEngine | None = None) -> float:
    """(s⁺ + s⁻)·(mean_I p − mean_A p): surplus lost to the selection (0.0 if A is empty)."""
    accepted = [i.p for i in interactions if i.accepted]
    if not accepted:
        return 0.0
    config = (engine or SoftPayoffEngine()).config
    return (config.s_plus + config.s_minus) * (_mean([i.p for i in interactions]) - _mean(accepted))


def quality_gap(interactions: Interactions) -> float:
    """mean_A p − mean_R p; negative means adverse selection (0.0 if A or R is empty)."""
    accepted = [i.p for i in interactions if i.accepted]
    rejected = [i.p for i in interactions if not i.accepted]
    if not accepted or not rejected:
        return 0.0
    return _mean(accepted) - _mean(rejected)


def participation_by_quality(interactions: Interactions, threshold: float = 0.5) -> QualityParticipation:
    """P(accepted | p ≥ t) and P(accepted | p < t) with the class sizes (a rate is 0.0 if no one).

    Reported as ``high_quality_acceptance``, ``low_quality_acceptance`` and the two counts.
    """
    high = [i.accepted for i in interactions if i.p >= threshold]
    low = [i.accepted for i in interactions if i.p < threshold]
    return QualityParticipation(
        high_quality_acceptance=_ratio(sum(high), len(high)),
        low_quality_acceptance=_ratio(sum(low), len(low)),
        high_quality_count=len(high),
        low_quality_count=len(low),
    )


def flag_uncertain(interactions: Interactions, band: float = 0.2) -> list[SoftInteraction]:
    """The interactions with 0.5 − band < p < 0.5 + band."""
    return [i for i in interactions if i.is_uncertain(band)]


def uncertain_fraction(interactions: Interactions, band: float = 0.2) -> float:
    """|flag_uncertain(I, band)| / |I| (0.0 if empty)."""
    return _ratio(len(flag_uncertain(interactions, band)), len(interactions))


def average_quality(interactions: Interactions, accepted_only: bool = False) -> float:
    """Mean p over I, or over A if ``accepted_only`` (0.0 if empty, not 0.5)."""
    return _mean([i.p for i in interactions if i.accepted or not accepted_only])


def quality_distribution(interactions: Interactions, bins: int = 10) -> list[tuple[float, float, int]]:
    """Histogram of p as (b/bins, (b+1)/bins, count) rows.

    Bin b holds b/bins ≤ p < (b+1)/bins; p = 1 falls in the last bin. [] if I is empty.
    """
    _check_bins(bins)
    if not interactions:
        return []
    counts = [0] * bins
    for i in interactions:
        counts[_bin_of(i.p, bins)] += 1
    return [(b / bins, (b + 1) / bins, n) for b, n in enumerate(counts)]


def welfare_metrics(
    interactions: Interactions, engine: SoftPayoffEngine | None = None, computed: Payoffs | None = None
) -> WelfareMetrics:
    """Σ_A (π_a + π_b), Σ_A (S − E), mean_A π_a and mean_A π_b (all 0.0 if A is empty)."""
    pi_a, pi_b = computed or _payoffs(interactions, engine)
    return _welfare(interactions, pi_a, pi_b, engine)


def calibration_error(interactions: Interactions) -> float | None:
    """mean_T p − mean_T v₀₁: positive when p is over-confident (None if T is empty)."""
    truth = _with_truth(interactions)
    if not truth:
        return None
    return _mean([p for p, _ in truth]) - _mean([v for _, v in truth])


def brier_score(interactions: Interactions) -> float | None:
    """mean_T (p − v₀₁)² (None if T is empty)."""
    truth = _with_truth(interactions)
    if not truth:
        return None
    return _mean([(p - v) ** 2 for p, v in truth])


def calibration_curve(interactions: Interactions, bins: int = 10) -> list[tuple[float, float, int]]:
    """Per p-bin of T: (mean p, fraction with v = +1, count); an empty bin is (midpoint, 0.0, 0)."""
    _check_bins(bins)
    truth = _with_truth(interactions)
    if not truth:
        return []
    ps: list[list[float]] = [[] for _ in range(bins)]
    vs: list[list[int]] = [[] for _ in range(bins)]
    for p, v in truth:
        b = _bin_of(p, bins)
        ps[b].append(p)
        vs[b].append(v)
    return [
        (_mean(ps[b]), _mean(vs[b]), len(ps[b])) if ps[b] else ((b + 0.5) / bins, 0.0, 0) for b in range(bins)
    ]


def expected_calibration_error(interactions: Interactions, bins: int = 10) -> float | None:
    """ECE = Σ_b (n_b / N)·|mean p_b − positive fraction_b| over the curve (None if T is empty)."""
    curve = calibration_curve(interactions, bins)
    n = sum(count for _, _, count in curve)
    if n == 0:
        return None
    return math.fsum(count / n * abs(mean_p - frac) for mean_p, frac, count in curve)


def log_loss(interactions: Interactions, eps: float = 1e-15) -> float | None:
    """−mean_T [v₀₁·ln p + (1 − v₀₁)·ln(1 − p)], p clamped to [eps, 1 − eps]; None if T is empty."""
    truth = _with_truth(interactions)
    if not truth:
        return None
    losses = []
    for p, v in truth:
        q = min(max(p, eps), 1.0 - eps)
        losses.append(-math.log(q) if v else -math.log(1.0 - q))
    return _mean(losses)


def discrimination_auc(interactions: Interactions) -> float | None:
    """P(p₊ > p₋) + ½·P(p₊ = p₋) over all (v = +1, v = −1) pairs of T (None if a class is empty).

    Computed by binary search over the sorted negatives: O(n log n).
    """
    positives = [i.p for i in interactions if i.ground_truth == 1]
    negatives = sorted(i.p for i in interactions if i.ground_truth == -1)
    if not positives or not negatives:
        return None
    twice_wins = sum(bisect_left(negatives, p) + bisect_right(negatives, p) for p in positives)
    return twice_wins / (2 * len(positives) * len(negatives))


def quality_variance(interactions: Interactions, accepted_only: bool = False) -> float:
    """Population variance of p over I, or over A if ``accepted_only`` (0.0 below two values)."""
    return _pvariance([i.p for i in interactions if i.accepted or not accepted_only])


def quality_std(interactions: Interactions, accepted_only: bool = False) -> float:
    """√quality_variance."""
    return math.sqrt(quality_variance(interactions, accepted_only))


def payoff_variance_initiator(interactions: Interactions, engine: SoftPayoffEngine | None = None) -> float:
    """Population variance of π_a over all of I (0.0 below two values)."""
    pi_a, _ = _payoffs(interactions, engine)
    return _pvariance(pi_a)


def payoff_variance_counterparty(interactions: Interactions, engine: SoftPayoffEngine | None = None) -> float:
    """Population variance of π_b over all of I (0.0 below two values)."""
    _, pi_b = _payoffs(interactions, engine)
    return _pvariance(pi_b)


def coefficient_of_variation(
    interactions: Interactions, engine: SoftPayoffEngine | None = None
) -> CoefficientsOfVariation:
    """σ_p/μ_p, |σ_a/μ_a| and |σ_b/μ_b| over I, population σ; each 0.0 when its mean is 0."""
    ps = [i.p for i in interactions]
    pi_a, pi_b = _payoffs(interactions, engine)
    return CoefficientsOfVariation(
        cv_p=_ratio(math.sqrt(_pvariance(ps)), _mean(ps)),
        cv_payoff_initiator=abs(_ratio(math.sqrt(_pvariance(pi_a)), _mean(pi_a))),
        cv_payoff_counterparty=abs(_ratio(math.sqrt(_pvariance(pi_b)), _mean(pi_b))),
    )
