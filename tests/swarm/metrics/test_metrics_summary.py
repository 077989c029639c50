from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm.core import PayoffConfig, SoftInteraction, SoftPayoffEngine
from swarm.metrics import MetricsSummary, soft, summarize

FAST = settings(max_examples=50, deadline=None)

interaction = st.builds(
    SoftInteraction,
    interaction_id=st.just("i"),
    initiator=st.just("a"),
    counterparty=st.just("b"),
    accepted=st.booleans(),
    p=st.floats(0.0, 1.0),
    ground_truth=st.sampled_from([None, -1, 1]),
    tau=st.floats(-5.0, 5.0),
    c_a=st.floats(0.0, 5.0),
    c_b=st.floats(0.0, 5.0),
)
batches = st.lists(interaction, max_size=25)
engines = st.builds(
    PayoffConfig,
    s_plus=st.floats(0.0, 5.0),
    s_minus=st.floats(0.0, 5.0),
    h=st.floats(0.0, 5.0),
    theta=st.floats(0.0, 1.0),
    rho_a=st.floats(0.0, 2.0),
    rho_b=st.floats(0.0, 2.0),
).map(SoftPayoffEngine)


class CountingEngine(SoftPayoffEngine):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def payoffs(self, i: SoftInteraction) -> tuple[float, float]:
        self.calls += 1
        return super().payoffs(i)


def test_summary_of_no_interactions_is_zero_with_no_calibration() -> None:
    s = summarize([])
    calibration = {
        "brier_score",
        "log_loss",
        "calibration_error",
        "expected_calibration_error",
        "discrimination_auc",
    }
    for name, value in s.model_dump().items():
        assert value is None if name in calibration else value == 0, name


@FAST
@given(batches, engines, st.floats(0.0, 1.0), st.floats(0.0, 0.5))
def test_summary_agrees_with_each_soft_metric(
    batch: list[SoftInteraction], engine: SoftPayoffEngine, threshold: float, band: float
) -> None:
    s = summarize(batch, engine, quality_threshold=threshold, uncertainty_band=band)
    participation = soft.participation_by_quality(batch, threshold)
    expected = {
        "toxicity_soft": soft.toxicity_rate(batch),
        "toxicity_hard": soft.hard_toxicity(batch, threshold),
        "conditional_loss_initiator": soft.conditional_loss_initiator(batch, engine),
        "conditional_loss_counterparty": soft.conditional_loss_counterparty(batch, engine),
        "spread": soft.spread(batch, engine),
        "quality_gap": soft.quality_gap(batch),
        "average_quality": soft.average_quality(batch),
        "uncertain_fraction": soft.uncertain_fraction(batch, band),
        **participation,
        **soft.welfare_metrics(batch, engine),
        "brier_score": soft.brier_score(batch),
        "log_loss": soft.log_loss(batch),
        "calibration_error": soft.calibration_error(batch),
        "expected_calibration_error": soft.expected_calibration_error(batch),
        "discrimination_auc": soft.discrimination_auc(batch),
        "quality_variance": soft.quality_variance(batch),
        "payoff_variance_initiator": soft.payoff_variance_initiator(batch, engine),
        "payoff_variance_counterparty": soft.payoff_variance_counterparty(batch, engine),
    }
    assert {k: getattr(s, k) for k in expected} == expected


@FAST
@given(batches, st.floats(0.0, 1.0))
def test_summary_counts_partition_the_interactions(batch: list[SoftInteraction], threshold: float) -> None:
    s = summarize(batch, quality_threshold=threshold)
    assert s.total_interactions == len(batch)
    assert s.accepted_count + s.rejected_count == s.total_interactions
    assert s.high_quality_count + s.low_quality_count == s.total_interactions
    assert s.acceptance_rate == (s.accepted_count / len(batch) if batch else 0.0)


def test_summary_computes_each_payoff_once() -> None:
    engine = CountingEngine()
    batch = [
        SoftInteraction(interaction_id=str(n), initiator="a", counterparty="b", p=n / 10, accepted=n % 2 == 0)
        for n in range(10)
    ]
    summarize(batch, engine)
    assert engine.calls == len(batch)


def test_summary_is_a_frozen_flat_record() -> None:
    s = summarize([])
    assert all(not isinstance(v, dict) for v in s.model_dump().values())
    with pytest.raises(ValueError):
        s.spread = 1.0  # type: ignore[misc]
    assert MetricsSummary.model_validate(s.model_dump()) == s
