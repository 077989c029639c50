"""Soft metrics: toxicity, selection, welfare, calibration and dispersion computed from p.

Notation: I = all interactions given, A = the accepted ones, R = the rejected ones,
T = those with a known ``ground_truth`` v, and v₀₁ = (v + 1) / 2 ∈ {0, 1}. Payoffs
π_a, π_b come from a :class:`SoftPayoffEngine` (the default one when none is given)
and include each interaction's own τ, c and r. Every function is pure.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from itertools import compress
from operator import add, not_
from typing import TYPE_CHECKING, TypedDict

from swarm.core.interaction import SoftInteraction
from swarm.core.payoff import SoftPayoffEngine

if TYPE_CHECKING:
    import numpy as np

Interactions = Sequence[SoftInteraction]

ARRAYS = 256
"""From this many values on, payoffs, S − E, calibration bins and log loss are computed over
numpy arrays (imported only then: a small run never loads numpy). Either way they are the same
floats: the array operations are the scalar ones, value by value, and sums are exact."""


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


def _pvariance(xs: Sequence[float], m: float | None = None) -> float:
    """The population variance of ``xs`` (``m``: their :func:`_mean`, when known)."""
    if len(xs) < 2:
        return 0.0
    m = _mean(xs) if m is None else m
    return math.fsum([(x - m) ** 2 for x in xs]) / len(xs)


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


class Table:
    """Interactions as columns: what the built-in epoch metrics read of each, ~58 bytes an
    interaction where the interaction itself holds ~380 (its id, signals and float objects).

    ``p``, ``tau``, ``c_a``, ``c_b``, ``r_a``, ``r_b`` are doubles, ``accepted`` one byte each
    (1 or 0), ``truth`` the ground truth v (−1, 1, or 0 where unknown) and ``initiator`` the
    initiators' ids, all in the interactions' order. The same values as the interactions' own:
    the metrics computed from a table are the ones computed from the interactions.
    """

    __slots__ = ("accepted", "c_a", "c_b", "initiator", "p", "r_a", "r_b", "tau", "truth")

    def __init__(self, interactions: Interactions = ()) -> None:
        self.p = array("d")
        self.accepted = bytearray()
        self.truth = array("b")
        self.tau = array("d")
        self.c_a = array("d")
        self.c_b = array("d")
        self.r_a = array("d")
        self.r_b = array("d")
        self.initiator: list[str] = []
        if interactions:
            self.extend(interactions)

    def __len__(self) -> int:
        return len(self.p)

    def extend(self, interactions: Interactions, initiators: Sequence[str] | None = None) -> None:
        """Append ``interactions`` (``initiators``: their initiators' ids, when the caller has them as
        strings it keeps anyway — a run's agents' ids — rather than each interaction's own copy)."""
        self.p.extend([i.p for i in interactions])
        self.accepted.extend([i.accepted for i in interactions])
        self.truth.extend([i.ground_truth or 0 for i in interactions])
        self.tau.extend([i.tau for i in interactions])
        self.c_a.extend([i.c_a for i in interactions])
        self.c_b.extend([i.c_b for i in interactions])
        self.r_a.extend([i.r_a for i in interactions])
        self.r_b.extend([i.r_b for i in interactions])
        self.initiator += [i.initiator for i in interactions] if initiators is None else initiators


class Columns:
    """The fields of a batch of interactions that the metrics read, as lists (one pass each).

    ``p`` and ``accepted`` are in the interactions' order; ``p_accepted`` and
    ``p_rejected`` split ``p`` by acceptance; ``truth_p`` and ``truth_v`` are p and
    v₀₁ of T. Each metric below is computed from these with the same arithmetic as
    over the interactions themselves (sums are ``math.fsum``: exact, so in any order).
    """

    __slots__ = ("_arrays", "_means", "accepted", "p", "p_accepted", "p_rejected", "truth_p", "truth_v")

    def __init__(self, interactions: Interactions | Table) -> None:
        self._arrays: dict[str, np.ndarray] = {}
        """Columns as numpy arrays, made once (see :meth:`_array`)."""
        self._means: dict[str, float] = {}
        """Columns' means, worked out once (see :meth:`_mean_of`)."""
        if isinstance(interactions, Table) and len(interactions) >= ARRAYS:
            self._from_arrays(interactions)
            return
        if isinstance(interactions, Table):
            p = self.p = interactions.p.tolist()
            accepted = self.accepted = [a == 1 for a in interactions.accepted]
            known = [v != 0 for v in interactions.truth]  # v = 0: the truth is unknown
            self.truth_v = [(v + 1) // 2 for v in compress(interactions.truth, known)]
        else:
            p = self.p = [i.p for i in interactions]
            accepted = self.accepted = [i.accepted for i in interactions]
            truth = [i.ground_truth for i in interactions]
            known = [v is not None for v in truth]
            self.truth_v = [(v + 1) // 2 for v in truth if v is not None]
        self.p_accepted = list(compress(p, accepted))
        self.p_rejected = list(compress(p, map(not_, accepted)))
        self.truth_p = list(compress(p, known))

    def _from_arrays(self, table: Table) -> None:
        """The same lists of the same values, picked out of the table's columns by numpy masks."""
        import numpy as np

        p = np.frombuffer(table.p)
        accepted = np.frombuffer(table.accepted, dtype=np.uint8) == 1
        truth = np.frombuffer(table.truth, dtype=np.int8)
        known = truth != 0
        arrays = self._arrays
        arrays["p"] = p.copy()  # (the table's own buffer is not held on to: it may grow again)
        arrays["accepted"] = accepted
        arrays["p_accepted"] = p[accepted]
        arrays["truth_p"] = p[known]
        arrays["truth_v"] = (truth[known].astype(np.int64) + 1) // 2
        # the lists picked from one list of p, so that they share its floats (a float per pick of each
        # array's own ``tolist`` would hold every p up to four times over at the epoch's close)
        ps = self.p = p.tolist()
        flags = self.accepted = accepted.tolist()
        self.p_accepted = list(compress(ps, flags))
        self.p_rejected = list(compress(ps, map(not_, flags)))
        self.truth_p = list(compress(ps, known.tolist()))
        self.truth_v = arrays["truth_v"].tolist()

    def _mean_of(self, name: str) -> float:
        """:func:`_mean` of the column ``name`` (worked out once: several metrics read it)."""
        found = self._means.get(name)
        if found is None:
            found = self._means[name] = _mean(getattr(self, name))
        return found

    def _array(self, name: str) -> np.ndarray:
        """The column ``name`` as a numpy array of the same values (``np.array`` of the list, made once;
        the lists are not changed once made)."""
        found = self._arrays.get(name)
        if found is None:
            import numpy as np

            found = self._arrays[name] = np.array(getattr(self, name))
        return found


Payoffs = tuple[list[float], list[float]]
"""π_a and π_b of each interaction, in order."""


def payoffs(interactions: Interactions, engine: SoftPayoffEngine | None = None) -> Payoffs:
    """(π_a, π_b) of every interaction, in order: compute once and pass to the functions that take them."""
    engine = engine or SoftPayoffEngine()
    if type(engine) is SoftPayoffEngine and len(interactions) >= ARRAYS:
        import numpy as np

        def column(name: str) -> np.ndarray:
            return np.array([getattr(i, name) for i in interactions])

        return _payoffs_at_once(column, engine)
    pairs = [engine.payoffs(i) for i in interactions]  # a subclass's own payoffs, one by one
    return [a for a, _ in pairs], [b for _, b in pairs]


def table_payoffs(table: Table, engine: SoftPayoffEngine) -> Payoffs:
    """:func:`payoffs` of a table's interactions, for the engine's own formula (not a subclass's):
    :meth:`SoftPayoffEngine.payoffs` term by term, so the same floats."""
    if type(engine) is not SoftPayoffEngine:
        raise TypeError(
            f"payoffs from columns follow SoftPayoffEngine's formula, not {type(engine).__name__}'s"
        )
    if len(table) >= ARRAYS:
        import numpy as np

        return _payoffs_at_once(lambda name: np.frombuffer(getattr(table, name)), engine)
    c = engine.terms
    s_plus, s_minus, h, theta, rho_a, rho_b, w_rep = (
        c.s_plus,
        c.s_minus,
        c.h,
        c.theta,
        c.rho_a,
        c.rho_b,
        c.w_rep,
    )
    pi_a: list[float] = []
    pi_b: list[float] = []
    for p, tau, c_a, c_b, r_a, r_b in zip(
        table.p, table.tau, table.c_a, table.c_b, table.r_a, table.r_b, strict=True
    ):
        s = p * s_plus - (1.0 - p) * s_minus
        e = (1.0 - p) * h
        pi_a.append(theta * s - tau - c_a - rho_a * e + w_rep * r_a)
        pi_b.append((1.0 - theta) * s + tau - c_b - rho_b * e + w_rep * r_b)
    return pi_a, pi_b


def _payoffs_at_once(column: Callable[[str], np.ndarray], engine: SoftPayoffEngine) -> Payoffs:
    """:meth:`SoftPayoffEngine.payoffs` over arrays (``column(name)``: the interactions' field as
    one): the same operations in the same order, so the same floats (each array operation rounds
    as the scalar one does)."""
    c = engine.terms
    p = column("p")
    q = 1.0 - p
    s = p * c.s_plus - q * c.s_minus
    e = q * c.h
    tau = column("tau")
    pi_a = c.theta * s - tau - column("c_a") - c.rho_a * e
    pi_a += c.w_rep * column("r_a")
    pi_b = (1.0 - c.theta) * s + tau - column("c_b") - c.rho_b * e
    pi_b += c.w_rep * column("r_b")
    out: Payoffs = (pi_a.tolist(), pi_b.tolist())
    return out


_payoffs = payoffs


def _conditional_loss(accepted: Sequence[bool], payoffs: Sequence[float]) -> float:
    on_accepted = list(compress(payoffs, accepted))
    return _mean(on_accepted) - _mean(payoffs) if on_accepted else 0.0


def _welfare(
    accepted: Sequence[bool], pi_a: Sequence[float], pi_b: Sequence[float], surplus: float
) -> WelfareMetrics:
    a = list(compress(pi_a, accepted))
    b = list(compress(pi_b, accepted))
    return WelfareMetrics(
        total_welfare=math.fsum(map(add, a, b)),
        total_social_surplus=surplus,
        avg_initiator_payoff=_mean(a),
        avg_counterparty_payoff=_mean(b),
    )


def _social_surplus(
    engine: SoftPayoffEngine, p_accepted: Sequence[float] | np.ndarray, accepted: Callable[[], Interactions]
) -> float:
    """Σ_A (S − E): from the accepted p for the engine's own formula (the same floats as its
    ``social_surplus``, term by term), from ``accepted()``'s interactions for a subclass's."""
    if type(engine) is not SoftPayoffEngine:
        return math.fsum(map(engine.social_surplus, accepted()))
    h = engine.terms
    if len(p_accepted) >= ARRAYS:  # S − E over an array, in the same order
        import numpy as np

        p = np.array(p_accepted)
        q = 1.0 - p
        return math.fsum(((p * h.s_plus - q * h.s_minus) - q * h.h).tolist())
    s_plus, s_minus, harm = h.s_plus, h.s_minus, h.h
    return math.fsum([(p * s_plus - (1.0 - p) * s_minus) - (1.0 - p) * harm for p in p_accepted])


def _bin_of(p: float, bins: int) -> int:
    b = min(int(p * bins), bins - 1)
    if b > 0 and p < b / bins:
        return b - 1
    if b < bins - 1 and p >= (b + 1) / bins:
        return b + 1
    return b


def _bins_of(p: np.ndarray, bins: int) -> np.ndarray:
    """:func:`_bin_of` of every value of ``p`` (the same floor, bounds and corrections, elementwise)."""
    import numpy as np

    b = np.minimum((p * bins).astype(np.int64), bins - 1)
    lower = b.astype(float) / bins  # b/bins: an exact integer over an exact integer, rounded once
    upper = (b + 1).astype(float) / bins
    return np.where((b > 0) & (p < lower), b - 1, np.where((b < bins - 1) & (p >= upper), b + 1, b))


def _check_bins(bins: int) -> None:
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")


def toxicity_rate(interactions: Interactions) -> float:
    """E[1 − p | accepted]: the expected share of harmful interactions in A (0.0 if A is empty)."""
    return _toxicity([i.p for i in interactions if i.accepted])


def _toxicity(ps: Sequence[float]) -> float:
    return _mean([1.0 - p for p in ps])


def toxicity_rate_all(interactions: Interactions) -> float:
    """E[1 − p] over all of I (0.0 if empty)."""
    return _mean([1.0 - i.p for i in interactions])


def hard_toxicity(interactions: Interactions, threshold: float = 0.5) -> float:
    """Fraction of A with p < threshold: toxicity with hard labels (0.0 if A is empty)."""
    return _hard_toxicity([i.p for i in interactions if i.accepted], threshold)


def _hard_toxicity(ps: Sequence[float], threshold: float) -> float:
    return _mean([1.0 if p < threshold else 0.0 for p in ps])


def conditional_loss_initiator(
    interactions: Interactions, engine: SoftPayoffEngine | None = None, computed: Payoffs | None = None
) -> float:
    """mean_A π_a − mean_I π_a; negative means adverse selection against initiators."""
    pi_a, _ = computed or _payoffs(interactions, engine)
    return _conditional_loss([i.accepted for i in interactions], pi_a)


def conditional_loss_counterparty(
    interactions: Interactions, engine: SoftPayoffEngine | None = None, computed: Payoffs | None = None
) -> float:
    """mean_A π_b − mean_I π_b; negative means adverse selection against counterparties."""
    _, pi_b = computed or _payoffs(interactions, engine)
    return _conditional_loss([i.accepted for i in interactions], pi_b)


def spread(interactions: Interactions, engine: SoftPayoffEngine | None = None) -> float:
    """(s⁺ + s⁻)·(mean_I p − mean_A p): surplus lost to the selection (0.0 if A is empty)."""
    return _spread(Columns(interactions), engine)


def _spread(c: Columns, engine: SoftPayoffEngine | None) -> float:
    if not c.p_accepted:
        return 0.0
    config = (engine or SoftPayoffEngine()).config
    return (config.s_plus + config.s_minus) * (c._mean_of("p") - c._mean_of("p_accepted"))


def quality_gap(interactions: Interactions) -> float:
    """mean_A p − mean_R p; negative means adverse selection (0.0 if A or R is empty)."""
    return _quality_gap(Columns(interactions))


def _quality_gap(c: Columns) -> float:
    if not c.p_accepted or not c.p_rejected:
        return 0.0
    return c._mean_of("p_accepted") - _mean(c.p_rejected)


def participation_by_quality(interactions: Interactions, threshold: float = 0.5) -> QualityParticipation:
    """P(accepted | p ≥ t) and P(accepted | p < t) with the class sizes (a rate is 0.0 if no one).

    Reported as ``high_quality_acceptance``, ``low_quality_acceptance`` and the two counts.
    """
    return _participation(Columns(interactions), threshold)


def _participation(c: Columns, threshold: float) -> QualityParticipation:
    if c.p and len(c.p) >= ARRAYS:  # the same counts, over arrays
        import numpy as np

        high_mask, accepted = c._array("p") >= threshold, c._array("accepted")
        n_high, high_accepted = int(np.count_nonzero(high_mask)), int(np.count_nonzero(high_mask & accepted))
        n_low, low_accepted = len(c.p) - n_high, int(np.count_nonzero(accepted)) - high_accepted
        return QualityParticipation(
            high_quality_acceptance=_ratio(high_accepted, n_high),
            low_quality_acceptance=_ratio(low_accepted, n_low),
            high_quality_count=n_high,
            low_quality_count=n_low,
        )
    is_high = [p >= threshold for p in c.p]
    high = list(compress(c.accepted, is_high))
    low = list(compress(c.accepted, map(not_, is_high)))
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
    return _uncertain_fraction(Columns(interactions).p, band)


def _uncertain_fraction(ps: Sequence[float], band: float) -> float:
    low, high = 0.5 - band, 0.5 + band  # SoftInteraction.is_uncertain, over the p column
    return _ratio(len([p for p in ps if low < p < high]), len(ps))


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
    accepted = [i.accepted for i in interactions]
    mine = list(compress(interactions, accepted))
    surplus = _social_surplus(engine or SoftPayoffEngine(), [i.p for i in mine], lambda: mine)
    return _welfare(accepted, pi_a, pi_b, surplus)


def calibration_error(interactions: Interactions) -> float | None:
    """mean_T p − mean_T v₀₁: positive when p is over-confident (None if T is empty)."""
    c = Columns(interactions)
    if not c.truth_p:
        return None
    return _mean(c.truth_p) - _mean(c.truth_v)


def brier_score(interactions: Interactions) -> float | None:
    """mean_T (p − v₀₁)² (None if T is empty)."""
    return _brier(Columns(interactions))


def _brier(c: Columns) -> float | None:
    if not c.truth_p:
        return None
    return _mean([(p - v) ** 2 for p, v in zip(c.truth_p, c.truth_v, strict=True)])


def calibration_curve(interactions: Interactions, bins: int = 10) -> list[tuple[float, float, int]]:
    """Per p-bin of T: (mean p, fraction with v = +1, count); an empty bin is (midpoint, 0.0, 0)."""
    _check_bins(bins)
    return _curve(Columns(interactions), bins)


def _curve(c: Columns, bins: int) -> list[tuple[float, float, int]]:
    if not c.truth_p:
        return []
    if len(c.truth_p) < ARRAYS:
        where = [_bin_of(p, bins) for p in c.truth_p]
    else:
        where = _bins_of(c._array("truth_p"), bins).tolist()
    ps: list[list[float]] = [[] for _ in range(bins)]
    vs: list[list[int]] = [[] for _ in range(bins)]
    for k, p, v in zip(where, c.truth_p, c.truth_v, strict=True):
        ps[k].append(p)
        vs[k].append(v)
    return [
        (_mean(ps[k]), _mean(vs[k]), len(ps[k])) if ps[k] else ((k + 0.5) / bins, 0.0, 0) for k in range(bins)
    ]


def expected_calibration_error(interactions: Interactions, bins: int = 10) -> float | None:
    """ECE = Σ_b (n_b / N)·|mean p_b − positive fraction_b| over the curve (None if T is empty)."""
    _check_bins(bins)
    return _ece(Columns(interactions), bins)


def _ece(c: Columns, bins: int) -> float | None:
    curve = _curve(c, bins)
    n = sum(count for _, _, count in curve)
    if n == 0:
        return None
    return math.fsum(count / n * abs(mean_p - frac) for mean_p, frac, count in curve)


def log_loss(interactions: Interactions, eps: float = 1e-15) -> float | None:
    """−mean_T [v₀₁·ln p + (1 − v₀₁)·ln(1 − p)], p clamped to [eps, 1 − eps]; None if T is empty."""
    return _log_loss(Columns(interactions), eps)


def _log_loss(c: Columns, eps: float) -> float | None:
    if not c.truth_p:
        return None
    top = 1.0 - eps
    # the clamped q where v = 1, 1 − q where v = 0; each log by math.log. The mean of the negated
    # logs is the negated mean of the logs (fsum is exact, and rounding is symmetric)
    if len(c.truth_p) < ARRAYS:
        clamped = [min(max(p, eps), top) for p in c.truth_p]
        of = [q if v else 1.0 - q for q, v in zip(clamped, c.truth_v, strict=True)]
    else:
        import numpy as np

        q = np.minimum(np.maximum(c._array("truth_p"), eps), top)
        of = np.where(c._array("truth_v").astype(bool), q, 1.0 - q).tolist()
    return -math.fsum(map(math.log, of)) / len(c.truth_p)


def discrimination_auc(interactions: Interactions) -> float | None:
    """P(p₊ > p₋) + ½·P(p₊ = p₋) over all (v = +1, v = −1) pairs of T (None if a class is empty).

    Computed by binary search over the sorted negatives: O(n log n).
    """
    return _auc(Columns(interactions))


def _auc(c: Columns) -> float | None:
    if len(c.truth_p) >= ARRAYS:
        return _auc_at_once(c)
    positives = list(compress(c.truth_p, c.truth_v))
    negatives = sorted(compress(c.truth_p, map(not_, c.truth_v)))
    if not positives or not negatives:
        return None
    # left + right insertion points of each positive among the negatives: 2·wins + ties
    twice_wins = sum(bisect_left(negatives, p) + bisect_right(negatives, p) for p in positives)
    return twice_wins / (2 * len(positives) * len(negatives))


def _auc_at_once(c: Columns) -> float | None:
    """:func:`_auc` over arrays: the same insertion points (p has no NaN: ties and order are the
    same in numpy's sort and search as in ``sorted`` and ``bisect``), the same integer counts."""
    import numpy as np

    p = c._array("truth_p")
    positive = c._array("truth_v").astype(bool)
    positives = p[positive]
    negatives = np.sort(p[~positive])
    if not len(positives) or not len(negatives):
        return None
    left = int(negatives.searchsorted(positives, "left").sum())
    twice_wins = left + int(negatives.searchsorted(positives, "right").sum())
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
