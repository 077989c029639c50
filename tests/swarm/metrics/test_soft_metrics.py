from __future__ import annotations

import math
from collections.abc import Callable
from itertools import product
from typing import Any, Literal

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm.core import PayoffConfig, SoftInteraction, SoftPayoffEngine
from swarm.metrics import soft

FAST = settings(max_examples=50, deadline=None)

Truth = Literal[-1, 1] | None


def make(p: float, accepted: bool = True, truth: Truth = None, **fields: Any) -> SoftInteraction:
    return SoftInteraction(
        interaction_id="i",
        initiator="a",
        counterparty="b",
        p=p,
        accepted=accepted,
        ground_truth=truth,
        **fields,
    )


amount = st.floats(-5.0, 5.0)
interaction = st.builds(
    SoftInteraction,
    interaction_id=st.just("i"),
    initiator=st.just("a"),
    counterparty=st.just("b"),
    accepted=st.booleans(),
    p=st.floats(0.0, 1.0),
    ground_truth=st.sampled_from([None, -1, 1]),
    tau=amount,
    c_a=amount,
    c_b=amount,
)
batches = st.lists(interaction, max_size=25)


def flipped(interactions: list[SoftInteraction]) -> list[SoftInteraction]:
    return [msgspec.structs.replace(i, accepted=not i.accepted) for i in interactions]


EMPTY_CASES: list[tuple[str, Callable[[list[SoftInteraction]], object], object]] = [
    ("toxicity_rate", soft.toxicity_rate, 0.0),
    ("toxicity_rate_all", soft.toxicity_rate_all, 0.0),
    ("hard_toxicity", soft.hard_toxicity, 0.0),
    ("conditional_loss_initiator", soft.conditional_loss_initiator, 0.0),
    ("conditional_loss_counterparty", soft.conditional_loss_counterparty, 0.0),
    ("spread", soft.spread, 0.0),
    ("quality_gap", soft.quality_gap, 0.0),
    (
        "participation_by_quality",
        soft.participation_by_quality,
        {
            "high_quality_acceptance": 0.0,
            "low_quality_acceptance": 0.0,
            "high_quality_count": 0,
            "low_quality_count": 0,
        },
    ),
    ("flag_uncertain", soft.flag_uncertain, []),
    ("uncertain_fraction", soft.uncertain_fraction, 0.0),
    ("average_quality", soft.average_quality, 0.0),
    ("quality_distribution", soft.quality_distribution, []),
    (
        "welfare_metrics",
        soft.welfare_metrics,
        {
            "total_welfare": 0.0,
            "total_social_surplus": 0.0,
            "avg_initiator_payoff": 0.0,
            "avg_counterparty_payoff": 0.0,
        },
    ),
    ("calibration_error", soft.calibration_error, None),
    ("brier_score", soft.brier_score, None),
    ("calibration_curve", soft.calibration_curve, []),
    ("expected_calibration_error", soft.expected_calibration_error, None),
    ("log_loss", soft.log_loss, None),
    ("discrimination_auc", soft.discrimination_auc, None),
    ("quality_variance", soft.quality_variance, 0.0),
    ("quality_std", soft.quality_std, 0.0),
    ("payoff_variance_initiator", soft.payoff_variance_initiator, 0.0),
    ("payoff_variance_counterparty", soft.payoff_variance_counterparty, 0.0),
    (
        "coefficient_of_variation",
        soft.coefficient_of_variation,
        {"cv_p": 0.0, "cv_payoff_initiator": 0.0, "cv_payoff_counterparty": 0.0},
    ),
]


@pytest.mark.parametrize(
    ("metric", "expected"), [(f, e) for _, f, e in EMPTY_CASES], ids=[n for n, _, _ in EMPTY_CASES]
)
def test_metrics_of_no_interactions(
    metric: Callable[[list[SoftInteraction]], object], expected: object
) -> None:
    assert metric([]) == expected


ALL_REJECTED = [make(0.2, accepted=False), make(0.9, accepted=False)]


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        (soft.toxicity_rate, 0.0),
        (soft.hard_toxicity, 0.0),
        (soft.conditional_loss_initiator, 0.0),
        (soft.conditional_loss_counterparty, 0.0),
        (soft.spread, 0.0),
        (soft.quality_gap, 0.0),
        (lambda i: soft.average_quality(i, accepted_only=True), 0.0),
        (lambda i: soft.quality_variance(i, accepted_only=True), 0.0),
    ],
)
def test_metrics_over_accepted_interactions_are_zero_when_none_was_accepted(
    metric: Callable[[list[SoftInteraction]], object], expected: object
) -> None:
    assert metric(ALL_REJECTED) == expected


def test_welfare_of_rejected_only_interactions_is_zero() -> None:
    assert set(soft.welfare_metrics(ALL_REJECTED).values()) == {0.0}


@pytest.mark.parametrize(
    "metric",
    [soft.calibration_error, soft.brier_score, soft.expected_calibration_error, soft.log_loss],
)
def test_calibration_metrics_need_ground_truth(
    metric: Callable[[list[SoftInteraction]], float | None],
) -> None:
    assert metric([make(0.3), make(0.8, accepted=False)]) is None


@pytest.mark.parametrize("truth", [1, -1])
def test_auc_needs_both_classes(truth: Literal[-1, 1]) -> None:
    assert soft.discrimination_auc([make(0.3, truth=truth), make(0.8, truth=truth)]) is None


def test_selection_metrics_on_a_small_population() -> None:
    batch = [make(0.8), make(0.6), make(0.4, accepted=False), make(0.2, accepted=False)]
    assert soft.toxicity_rate(batch) == pytest.approx(0.3)
    assert soft.toxicity_rate_all(batch) == pytest.approx(0.5)
    assert soft.quality_gap(batch) == pytest.approx(0.4)
    assert soft.spread(batch) == pytest.approx(3 * (0.5 - 0.7))
    assert soft.spread(batch, SoftPayoffEngine(PayoffConfig(s_plus=1.0, s_minus=1.0))) == (
        pytest.approx(2 * (0.5 - 0.7))
    )
    assert soft.average_quality(batch) == pytest.approx(0.5)
    assert soft.average_quality(batch, accepted_only=True) == pytest.approx(0.7)
    assert soft.hard_toxicity(batch) == 0.0
    assert soft.hard_toxicity(batch, threshold=0.7) == 0.5
    assert soft.participation_by_quality(batch) == {
        "high_quality_acceptance": 1.0,
        "low_quality_acceptance": 0.0,
        "high_quality_count": 2,
        "low_quality_count": 2,
    }


def test_conditional_loss_compares_accepted_with_all_payoffs() -> None:
    batch = [make(1.0), make(0.0, accepted=False)]
    # π_a = π_b = S/2: 1.0 at p = 1, −0.5 at p = 0 (default config)
    assert soft.conditional_loss_initiator(batch) == pytest.approx(1.0 - 0.25)
    assert soft.conditional_loss_counterparty(batch) == pytest.approx(1.0 - 0.25)
    taxed = [make(1.0, c_a=0.5), make(0.0, accepted=False)]
    assert soft.conditional_loss_initiator(taxed) == pytest.approx(0.5 - 0.0)


def test_adverse_selection_shows_as_negative_gap_and_conditional_loss() -> None:
    batch = [make(0.2), make(0.3), make(0.8, accepted=False), make(0.9, accepted=False)]
    assert soft.quality_gap(batch) < 0
    assert soft.conditional_loss_initiator(batch) < 0
    assert soft.spread(batch) > 0


def test_welfare_sums_payoffs_of_accepted_interactions_only() -> None:
    engine = SoftPayoffEngine()
    batch = [make(0.9, c_a=0.1), make(0.4, tau=1.0), make(0.7, accepted=False)]
    accepted = batch[:2]
    w = soft.welfare_metrics(batch, engine)
    assert w["total_welfare"] == pytest.approx(sum(engine.total_welfare(i) for i in accepted))
    assert w["total_social_surplus"] == pytest.approx(sum(engine.social_surplus(i) for i in accepted))
    assert w["avg_initiator_payoff"] == pytest.approx(sum(engine.payoff_initiator(i) for i in accepted) / 2)
    assert w["avg_counterparty_payoff"] == pytest.approx(
        sum(engine.payoff_counterparty(i) for i in accepted) / 2
    )


@pytest.mark.parametrize(
    ("p", "band", "flagged"),
    [
        (0.3, 0.2, False),
        (0.7, 0.2, False),
        (0.31, 0.2, True),
        (0.69, 0.2, True),
        (0.55, 0.05, False),
    ],
)
def test_uncertain_flags_use_a_strict_band(p: float, band: float, flagged: bool) -> None:
    i = make(p)
    assert (soft.flag_uncertain([i], band) == [i]) is flagged
    assert soft.uncertain_fraction([i, make(0.0)], band) == (0.5 if flagged else 0.0)


@pytest.mark.parametrize(
    ("p", "bins", "index"),
    [
        (0.0, 10, 0),
        (0.1, 10, 1),
        (0.3, 10, 3),
        (0.7, 10, 7),
        (0.0999, 10, 0),
        (0.95, 10, 9),
        (1.0, 10, 9),
        (1.0, 1, 0),
        (0.5, 4, 2),
        (1 / 3, 3, 1),
    ],
)
def test_quality_distribution_bins_are_closed_below_and_open_above(p: float, bins: int, index: int) -> None:
    histogram = soft.quality_distribution([make(p)], bins)
    assert [count for _, _, count in histogram] == [int(b == index) for b in range(bins)]
    assert histogram[index][:2] == (index / bins, (index + 1) / bins)


@FAST
@given(st.floats(0.0, 1.0), st.integers(1, 50))
def test_every_p_lands_in_the_bin_whose_bounds_contain_it(p: float, bins: int) -> None:
    ((lo, hi, _),) = [row for row in soft.quality_distribution([make(p)], bins) if row[2]]
    assert lo <= p < hi or (p == 1.0 and hi == 1.0)


@pytest.mark.parametrize(
    "metric", [soft.quality_distribution, soft.calibration_curve, soft.expected_calibration_error]
)
def test_binned_metrics_reject_fewer_than_one_bin(
    metric: Callable[[list[SoftInteraction], int], object],
) -> None:
    with pytest.raises(ValueError, match="bins must be at least 1"):
        metric([make(0.5, truth=1)], 0)


def test_calibration_metrics_on_a_known_sample() -> None:
    batch = [make(0.8, truth=1), make(0.6, truth=-1), make(0.2, truth=-1), make(0.9)]
    assert soft.calibration_error(batch) == pytest.approx(1.6 / 3 - 1 / 3)
    assert soft.brier_score(batch) == pytest.approx((0.04 + 0.36 + 0.04) / 3)
    assert soft.log_loss(batch) == pytest.approx(-(math.log(0.8) + math.log(0.4) + math.log(0.8)) / 3)
    curve = soft.calibration_curve(batch, bins=2)
    assert curve == [pytest.approx((0.2, 0.0, 1)), pytest.approx((0.7, 0.5, 2))]
    assert soft.expected_calibration_error(batch, bins=2) == pytest.approx(1 / 3 * 0.2 + 2 / 3 * 0.2)


def test_calibration_curve_marks_empty_bins_at_their_midpoint() -> None:
    curve = soft.calibration_curve([make(0.05, truth=-1)], bins=4)
    assert curve[1:] == [(0.375, 0.0, 0), (0.625, 0.0, 0), (0.875, 0.0, 0)]


def test_log_loss_stays_finite_for_confidently_wrong_labels() -> None:
    loss = soft.log_loss([make(1.0, truth=-1), make(0.0, truth=1)])
    assert loss is not None
    assert loss == pytest.approx(-math.log(1e-15), rel=1e-2)


@pytest.mark.parametrize(
    ("positives", "negatives", "auc"),
    [
        ([0.9, 0.8], [0.2, 0.1], 1.0),
        ([0.1, 0.2], [0.8, 0.9], 0.0),
        ([0.5, 0.5], [0.5], 0.5),
        ([0.9, 0.4], [0.5, 0.1], 0.75),
        ([0.6], [0.6, 0.2], 0.75),
    ],
)
def test_auc_counts_ordered_pairs_and_half_ties(
    positives: list[float], negatives: list[float], auc: float
) -> None:
    batch = [make(p, truth=1) for p in positives] + [make(p, truth=-1) for p in negatives]
    assert soft.discrimination_auc(batch) == auc


@FAST
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=10), st.floats(0.0, 1.0))
def test_auc_of_a_perfectly_separating_p_is_one(scores: list[float], cut: float) -> None:
    batch = [make(p, truth=1 if p > cut else -1) for p in scores]
    if soft.discrimination_auc(batch) is not None:
        assert soft.discrimination_auc(batch) == 1.0


@FAST
@given(batches)
def test_auc_equals_the_pairwise_definition(batch: list[SoftInteraction]) -> None:
    pos = [i.p for i in batch if i.ground_truth == 1]
    neg = [i.p for i in batch if i.ground_truth == -1]
    auc = soft.discrimination_auc(batch)
    if not pos or not neg:
        assert auc is None
        return
    wins = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a, b in product(pos, neg))
    assert auc == pytest.approx(wins / (len(pos) * len(neg)))


@FAST
@given(batches)
def test_rates_and_calibration_scores_stay_in_the_unit_interval(
    batch: list[SoftInteraction],
) -> None:
    participation = soft.participation_by_quality(batch)
    rates = [
        soft.toxicity_rate(batch),
        soft.toxicity_rate_all(batch),
        soft.hard_toxicity(batch),
        soft.uncertain_fraction(batch),
        soft.average_quality(batch),
        soft.average_quality(batch, accepted_only=True),
        participation["high_quality_acceptance"],
        participation["low_quality_acceptance"],
    ]
    for score in (
        soft.brier_score(batch),
        soft.expected_calibration_error(batch),
        soft.discrimination_auc(batch),
    ):
        if score is not None:
            rates.append(score)
    assert all(0.0 <= r <= 1.0 for r in rates)
    assert soft.quality_variance(batch) <= 0.25
    assert participation["high_quality_count"] + participation["low_quality_count"] == len(batch)


@FAST
@given(batches)
def test_toxicity_is_one_minus_accepted_quality(batch: list[SoftInteraction]) -> None:
    if any(i.accepted for i in batch):
        assert soft.toxicity_rate(batch) == pytest.approx(
            1.0 - soft.average_quality(batch, accepted_only=True)
        )


@FAST
@given(batches)
def test_quality_gap_flips_sign_when_accept_and_reject_swap(batch: list[SoftInteraction]) -> None:
    assert soft.quality_gap(flipped(batch)) == pytest.approx(-soft.quality_gap(batch))


@FAST
@given(batches)
def test_histograms_count_every_interaction(batch: list[SoftInteraction]) -> None:
    assert sum(n for _, _, n in soft.quality_distribution(batch)) == len(batch)
    with_truth = sum(1 for i in batch if i.ground_truth is not None)
    assert sum(n for _, _, n in soft.calibration_curve(batch)) == with_truth


@FAST
@given(batches)
def test_payoff_variances_match_their_definition(batch: list[SoftInteraction]) -> None:
    engine = SoftPayoffEngine()
    pi_a = [engine.payoff_initiator(i) for i in batch]
    expected = 0.0
    if len(pi_a) >= 2:
        mean = sum(pi_a) / len(pi_a)
        expected = sum((x - mean) ** 2 for x in pi_a) / len(pi_a)
    assert soft.payoff_variance_initiator(batch, engine) == pytest.approx(expected, abs=1e-9)
    assert soft.payoff_variance_initiator(batch) >= 0.0
    assert soft.payoff_variance_counterparty(batch) >= 0.0


def test_dispersion_of_p_on_a_known_sample() -> None:
    batch = [make(0.2), make(0.4, accepted=False), make(0.6)]
    assert soft.quality_variance(batch) == pytest.approx(0.08 / 3)
    assert soft.quality_std(batch) == pytest.approx(math.sqrt(0.08 / 3))
    assert soft.quality_variance(batch, accepted_only=True) == pytest.approx(0.04)
    assert soft.quality_variance([make(0.9)]) == 0.0


def test_coefficient_of_variation_on_a_known_sample() -> None:
    batch = [make(1.0), make(0.0)]
    cv = soft.coefficient_of_variation(batch)
    assert cv["cv_p"] == pytest.approx(1.0)
    assert cv["cv_payoff_initiator"] == pytest.approx(abs(0.75 / 0.25))
    assert cv["cv_payoff_counterparty"] == pytest.approx(3.0)
    assert soft.coefficient_of_variation([make(0.0), make(0.0)])["cv_p"] == 0.0
