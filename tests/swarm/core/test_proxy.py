from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm.core import Observables, ProxyComputer, ProxyWeights, sigmoid_bounds
from swarm.core.proxy import decay_signal

FAST = settings(max_examples=60, deadline=None)

DECAY_TABLE = [
    (0, 1.0, 1.0, 1.0),
    (1, -0.4, -0.2, 0.0),
    (2, -0.82, -0.68, -0.5),
    (3, -0.946, -0.872, -0.75),
]

only_rework = ProxyWeights(task_progress=0.0, rework_penalty=1.0, verifier_penalty=0.0, engagement_signal=0.0)
only_verifier = ProxyWeights(
    task_progress=0.0, rework_penalty=0.0, verifier_penalty=1.0, engagement_signal=0.0
)

weights = st.builds(
    ProxyWeights,
    task_progress=st.floats(-5, 5),
    rework_penalty=st.floats(-5, 5),
    verifier_penalty=st.floats(-5, 5),
    engagement_signal=st.floats(-5, 5),
)
observables = st.builds(
    Observables,
    task_progress_delta=st.floats(-1e6, 1e6),
    rework_count=st.integers(0, 50),
    verifier_rejections=st.integers(0, 50),
    tool_misuse_flags=st.integers(0, 50),
    counterparty_engagement_delta=st.floats(-1e6, 1e6),
)


@pytest.mark.parametrize(("count", "rework", "rejection", "misuse"), DECAY_TABLE)
def test_decay_signals_match_the_reference_table(
    count: int, rework: float, rejection: float, misuse: float
) -> None:
    assert decay_signal(count, 0.3) == pytest.approx(rework)
    assert decay_signal(count, 0.4) == pytest.approx(rejection)
    assert decay_signal(count, 0.5) == pytest.approx(misuse)


@pytest.mark.parametrize(("count", "rework", "rejection", "misuse"), DECAY_TABLE)
def test_proxy_scores_counts_with_the_reference_decay_signals(
    count: int, rework: float, rejection: float, misuse: float
) -> None:
    assert ProxyComputer(only_rework).compute_v_hat(Observables(rework_count=count)) == pytest.approx(rework)
    verifier = ProxyComputer(only_verifier)
    assert verifier.compute_v_hat(Observables(verifier_rejections=count)) == pytest.approx(
        (rejection + 1.0) / 2
    )
    assert verifier.compute_v_hat(Observables(tool_misuse_flags=count)) == pytest.approx((1.0 + misuse) / 2)


def test_default_weights_are_already_normalised() -> None:
    assert ProxyWeights().normalized() == ProxyWeights()


def test_all_zero_weights_normalise_to_equal_quarters() -> None:
    zero = ProxyWeights(task_progress=0, rework_penalty=0, verifier_penalty=0, engagement_signal=0)
    assert zero.normalized() == ProxyWeights(
        task_progress=0.25, rework_penalty=0.25, verifier_penalty=0.25, engagement_signal=0.25
    )


def test_normalisation_keeps_signs() -> None:
    w = ProxyWeights(task_progress=-3, rework_penalty=1, verifier_penalty=0, engagement_signal=0)
    assert w.normalized() == ProxyWeights(
        task_progress=-0.75, rework_penalty=0.25, verifier_penalty=0.0, engagement_signal=0.0
    )


@FAST
@given(weights)
def test_normalised_weights_have_unit_absolute_sum(w: ProxyWeights) -> None:
    n = w.normalized()
    total = abs(n.task_progress) + abs(n.rework_penalty) + abs(n.verifier_penalty) + abs(n.engagement_signal)
    assert total == pytest.approx(1.0)


@FAST
@given(observables, weights)
def test_v_hat_always_lies_in_minus_one_one(obs: Observables, w: ProxyWeights) -> None:
    v_hat, p = ProxyComputer(w).compute_labels(obs)
    assert -1.0 <= v_hat <= 1.0
    lo, hi = sigmoid_bounds(2.0)
    assert lo <= p <= hi


@FAST
@given(observables, st.integers(0, 10))
def test_more_rework_never_raises_the_score(obs: Observables, extra: int) -> None:
    proxy = ProxyComputer()
    worse = msgspec.structs.replace(obs, rework_count=obs.rework_count + extra)
    assert proxy.compute_v_hat(worse) <= proxy.compute_v_hat(obs)


def test_a_flawless_interaction_gets_the_top_score() -> None:
    v_hat, p = ProxyComputer().compute_labels(
        Observables(task_progress_delta=1.0, counterparty_engagement_delta=1.0)
    )
    assert v_hat == 1.0
    assert p == sigmoid_bounds(2.0)[1]


def test_a_default_interaction_scores_the_clean_record_terms_only() -> None:
    assert ProxyComputer().compute_v_hat(Observables()) == pytest.approx(0.4)


def test_out_of_range_deltas_are_clamped() -> None:
    proxy = ProxyComputer()
    assert proxy.compute_v_hat(Observables(task_progress_delta=7.0)) == proxy.compute_v_hat(
        Observables(task_progress_delta=1.0)
    )


@pytest.mark.parametrize(("k", "v_hat", "expected"), [(0.0, 1.0, 0.5), (2.0, 0.0, 0.5)])
def test_p_uses_the_configured_steepness(k: float, v_hat: float, expected: float) -> None:
    assert ProxyComputer(sigmoid_k=k).compute_p(v_hat) == expected


@pytest.mark.parametrize("field", ["rework_decay", "rejection_decay", "misuse_decay"])
@pytest.mark.parametrize("value", [-0.1, 1.5])
def test_decays_outside_unit_interval_are_rejected(field: str, value: float) -> None:
    options: dict[str, Any] = {field: value}
    with pytest.raises(ValueError, match=field):
        ProxyComputer(**options)


@FAST
@given(observables, weights)
def test_weights_set_after_construction_are_the_ones_scored(obs: Observables, w: ProxyWeights) -> None:
    later = ProxyComputer()
    later.weights = w.normalized()
    assert later.compute_v_hat(obs) == ProxyComputer(w).compute_v_hat(obs)
