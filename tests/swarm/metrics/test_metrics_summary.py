from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm.core import PayoffConfig, SoftInteraction, SoftPayoffEngine
from swarm.events import Metrics
from swarm.metrics import soft, summarize
from swarm.metrics.registry import COUNTERS, EPOCH_METRICS
from tests.strategies import payoff_configs

FAST = settings(max_examples=50, deadline=None)

interaction = st.builds(
    SoftInteraction,
    interaction_id=st.just("i"),
    initiator=st.sampled_from(["a", "b", "c"]),
    counterparty=st.just("d"),
    accepted=st.booleans(),
    p=st.floats(0.0, 1.0),
    ground_truth=st.sampled_from([None, -1, 1]),
    tau=st.floats(-5.0, 5.0),
    c_a=st.floats(0.0, 5.0),
    c_b=st.floats(0.0, 5.0),
)
batches = st.lists(interaction, max_size=25)
engines = payoff_configs().map(SoftPayoffEngine)

Batch = list[SoftInteraction]


def make(p: float, accepted: bool = True, initiator: str = "a") -> SoftInteraction:
    return SoftInteraction(interaction_id="i", initiator=initiator, counterparty="z", p=p, accepted=accepted)


def _accepted(b: Batch) -> bool:
    return any(i.accepted for i in b)


def _truth(b: Batch) -> bool:
    return any(i.ground_truth is not None for i in b)


# When each metric has something to measure; it is None exactly when it has not.
DEFINED_WHEN: dict[str, Callable[[Batch], bool]] = {
    "toxicity_rate": _accepted,
    "toxicity_hard": _accepted,
    "quality_gap": lambda b: _accepted(b) and any(not i.accepted for i in b),
    "conditional_loss_initiator": _accepted,
    "conditional_loss_counterparty": _accepted,
    "spread": _accepted,
    "avg_payoff": _accepted,
    "average_quality": bool,
    "acceptance_rate": bool,
    "uncertain_fraction": bool,
    "quality_variance": bool,
    "high_quality_acceptance": lambda b: any(i.p >= 0.5 for i in b),
    "low_quality_acceptance": lambda b: any(i.p < 0.5 for i in b),
    "brier_score": _truth,
    "expected_calibration_error": _truth,
    "log_loss": _truth,
    "discrimination_auc": lambda b: {i.ground_truth for i in b} >= {-1, 1},
}

UNIT_INTERVAL = [
    "toxicity_rate",
    "toxicity_hard",
    "average_quality",
    "acceptance_rate",
    "high_quality_acceptance",
    "low_quality_acceptance",
    "uncertain_fraction",
    "brier_score",
    "expected_calibration_error",
    "discrimination_auc",
]


def soft_values(batch: Batch, engine: SoftPayoffEngine) -> dict[str, object]:
    participation = soft.participation_by_quality(batch)
    welfare = soft.welfare_metrics(batch, engine)
    return {
        "interactions": len(batch),
        "accepted": sum(i.accepted for i in batch),
        "rejected": sum(not i.accepted for i in batch),
        "toxicity_rate": soft.toxicity_rate(batch),
        "toxicity_hard": soft.hard_toxicity(batch),
        "quality_gap": soft.quality_gap(batch),
        "conditional_loss_initiator": soft.conditional_loss_initiator(batch, engine),
        "conditional_loss_counterparty": soft.conditional_loss_counterparty(batch, engine),
        "spread": soft.spread(batch, engine),
        "average_quality": soft.average_quality(batch),
        "high_quality_acceptance": participation["high_quality_acceptance"],
        "low_quality_acceptance": participation["low_quality_acceptance"],
        "uncertain_fraction": soft.uncertain_fraction(batch),
        "quality_variance": soft.quality_variance(batch),
        "avg_payoff": welfare["avg_initiator_payoff"],
        "total_welfare": welfare["total_welfare"],
        "social_surplus": welfare["total_social_surplus"],
        "brier_score": soft.brier_score(batch),
        "expected_calibration_error": soft.expected_calibration_error(batch),
        "log_loss": soft.log_loss(batch),
        "discrimination_auc": soft.discrimination_auc(batch),
    }


def test_summary_has_one_entry_per_registered_epoch_metric_in_order() -> None:
    s = summarize([make(0.7)])
    assert isinstance(s, Metrics)
    assert list(s) == [name for name in EPOCH_METRICS if name not in COUNTERS]  # event counters left out
    assert s.toxicity_rate == s["toxicity_rate"]
    with pytest.raises(AttributeError, match=r"no value named .no_such_metric"):
        _ = s.no_such_metric


def test_summary_of_no_interactions_measures_nothing() -> None:
    s = summarize([])
    for name in DEFINED_WHEN:
        assert s[name] is None, name
    assert (s.interactions, s.accepted, s.rejected) == (0, 0, 0)
    assert (s.total_welfare, s.social_surplus) == (0.0, 0.0)
    assert s.mean_p_by_type == {}
    assert (s.resource_gini, s.reputation_gini, s.frozen_agents) == (0.0, 0.0, 0)
    assert not set(s) & set(COUNTERS)  # a set of interactions has no events to count
    assert s.harmful_accepted == 0


@FAST
@given(batches, engines)
def test_summary_agrees_with_the_soft_metrics_wherever_defined(
    batch: Batch, engine: SoftPayoffEngine
) -> None:
    s = summarize(batch, engine)
    for name, expected in soft_values(batch, engine).items():
        if s[name] is not None:
            assert s[name] == expected, name


@FAST
@given(batches)
def test_a_metric_is_undefined_exactly_when_it_has_nothing_to_measure(batch: Batch) -> None:
    s = summarize(batch)
    wrong = {
        name: s[name] for name, defined in DEFINED_WHEN.items() if (s[name] is not None) is not defined(batch)
    }
    assert wrong == {}


@pytest.mark.parametrize(
    "name",
    ["toxicity_rate", "toxicity_hard", "quality_gap", "avg_payoff", "conditional_loss_initiator", "spread"],
)
def test_selection_metrics_are_undefined_when_nothing_was_accepted(name: str) -> None:
    assert summarize([make(0.2, accepted=False), make(0.9, accepted=False)])[name] is None


def test_quality_gap_needs_a_declined_interaction_too() -> None:
    assert summarize([make(0.2), make(0.9)]).quality_gap is None
    assert summarize([make(0.2), make(0.9, accepted=False)]).quality_gap == pytest.approx(-0.7)


@FAST
@given(batches)
def test_summary_counts_partition_the_interactions(batch: Batch) -> None:
    s = summarize(batch)
    assert s.interactions == len(batch)
    assert s.accepted + s.rejected == s.interactions
    assert s.acceptance_rate == (s.accepted / len(batch) if batch else None)


@FAST
@given(batches, engines)
def test_summary_rates_stay_in_range(batch: Batch, engine: SoftPayoffEngine) -> None:
    s = summarize(batch, engine)
    for name in UNIT_INTERVAL:
        assert s[name] is None or 0.0 <= s[name] <= 1.0, name
    assert s.quality_variance is None or 0.0 <= s.quality_variance <= 0.25
    assert s.log_loss is None or s.log_loss >= 0.0
    if s.toxicity_rate is not None:
        assert s.toxicity_rate == pytest.approx(1.0 - soft.average_quality(batch, accepted_only=True))


@FAST
@given(batches)
def test_mean_p_by_type_averages_accepted_interactions_by_initiator_type(batch: Batch) -> None:
    types = {"a": "honest", "b": "deceptive"}
    means = summarize(batch, types=types).mean_p_by_type
    expected: dict[str, list[float]] = {}
    for i in batch:
        if i.accepted:
            expected.setdefault(types.get(i.initiator, "unknown"), []).append(i.p)
    assert means.keys() == expected.keys()
    for kind, ps in expected.items():
        assert means[kind] == pytest.approx(math.fsum(ps) / len(ps))


def test_mean_p_by_type_on_a_known_sample() -> None:
    batch = [
        make(0.8, initiator="a"),
        make(0.6, initiator="a"),
        make(0.1, accepted=False),
        make(0.3, initiator="x"),
    ]
    assert summarize(batch, types={"a": "honest"}).mean_p_by_type == {
        "honest": pytest.approx(0.7),
        "unknown": pytest.approx(0.3),
    }


def test_welfare_follows_the_engine() -> None:
    batch = [make(0.9), make(0.4), make(0.7, accepted=False)]
    cheap, dear = SoftPayoffEngine(), SoftPayoffEngine(PayoffConfig(s_plus=4.0))
    assert summarize(batch, dear).total_welfare > summarize(batch, cheap).total_welfare
    assert summarize(batch).total_welfare == pytest.approx(sum(cheap.total_welfare(i) for i in batch[:2]))


def test_summary_of_the_same_interactions_is_deterministic() -> None:
    batch = [make(n / 10, accepted=n % 3 != 0) for n in range(11)]
    assert summarize(batch) == summarize(list(batch))
