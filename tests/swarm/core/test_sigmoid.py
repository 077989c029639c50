from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from swarm.core import (
    calibrated_sigmoid,
    effective_uncertainty_band,
    inverse_sigmoid,
    sigmoid_bounds,
    sigmoid_derivative,
)

FAST = settings(max_examples=60, deadline=None)
unit = st.floats(-1.0, 1.0)
steepness = st.floats(0.0, 20.0)


def test_bounds_for_default_k_match_the_reference() -> None:
    assert sigmoid_bounds(2.0) == (0.11920292202211755, 0.8807970779778823)
    assert sigmoid_bounds() == sigmoid_bounds(2.0)


@pytest.mark.parametrize("k", [0.0, 0.5, 2.0, 50.0, 1e300])
def test_zero_score_maps_to_one_half(k: float) -> None:
    assert calibrated_sigmoid(0.0, k) == 0.5


@pytest.mark.parametrize("v_hat", [-10.0, -1.0, 0.3, 7.0])
def test_zero_steepness_maps_every_score_to_one_half(v_hat: float) -> None:
    assert calibrated_sigmoid(v_hat, 0.0) == 0.5


def test_scores_beyond_ten_are_clamped() -> None:
    assert calibrated_sigmoid(50.0, 0.1) == calibrated_sigmoid(10.0, 0.1)
    assert calibrated_sigmoid(-50.0, 0.1) == calibrated_sigmoid(-10.0, 0.1)


@pytest.mark.parametrize(
    ("v_hat", "k", "expected"),
    [
        (1.0, 1e6, 1.0),
        (-1.0, 1e6, 0.0),
        (-10.0, 1e308, 0.0),
        (10.0, 1e308, 1.0),
        (1.0, -1e6, 0.0),
        (-1.0, math.inf, 0.0),
        (1.0, math.inf, 1.0),
    ],
)
def test_huge_steepness_saturates_without_overflow(v_hat: float, k: float, expected: float) -> None:
    assert calibrated_sigmoid(v_hat, k) == expected


@FAST
@given(unit, steepness)
def test_p_is_strictly_inside_zero_one_for_proxy_scores(v_hat: float, k: float) -> None:
    assert 0.0 < calibrated_sigmoid(v_hat, k) < 1.0


@FAST
@given(st.floats(-20.0, 20.0), st.floats(-20.0, 20.0), st.floats(0.0, 1e6))
def test_p_is_monotone_in_the_score(a: float, b: float, k: float) -> None:
    lo, hi = sorted((a, b))
    assert calibrated_sigmoid(lo, k) <= calibrated_sigmoid(hi, k)


@FAST
@given(st.floats(-10.0, 10.0), st.floats(0.05, 5.0))
def test_inverse_sigmoid_undoes_the_sigmoid_on_the_unclamped_range(v: float, k: float) -> None:
    assume(abs(k * v) <= 15.0)
    assert inverse_sigmoid(calibrated_sigmoid(v, k), k) == pytest.approx(v, abs=1e-7)


@FAST
@given(st.floats(1e-6, 1.0 - 1e-6), st.floats(0.05, 5.0))
def test_sigmoid_undoes_the_inverse_inside_the_clamp(p: float, k: float) -> None:
    v = inverse_sigmoid(p, k)
    assume(abs(v) <= 10.0)
    assert calibrated_sigmoid(v, k) == pytest.approx(p, rel=1e-9)


@pytest.mark.parametrize("p", [0.0, 1.0, -0.2, 1.5])
def test_inverse_sigmoid_rejects_p_outside_the_open_unit_interval(p: float) -> None:
    with pytest.raises(ValueError, match=r"p must be in \(0, 1\), got"):
        inverse_sigmoid(p)


def test_inverse_sigmoid_rejects_zero_steepness() -> None:
    with pytest.raises(ValueError, match="k must be non-zero"):
        inverse_sigmoid(0.7, 0.0)


@FAST
@given(unit, st.floats(0.1, 10.0))
def test_derivative_matches_a_central_difference(v: float, k: float) -> None:
    h = 1e-6
    numeric = (calibrated_sigmoid(v + h, k) - calibrated_sigmoid(v - h, k)) / (2 * h)
    assert sigmoid_derivative(v, k) == pytest.approx(numeric, rel=1e-4, abs=1e-9)


@pytest.mark.parametrize("k", [0.5, 2.0, 8.0])
def test_derivative_peaks_at_k_over_four_at_zero(k: float) -> None:
    assert sigmoid_derivative(0.0, k) == k / 4


@pytest.mark.parametrize(("k", "threshold"), [(2.0, 0.1), (1.0, 0.25), (4.0, 0.0)])
def test_uncertainty_band_maps_back_to_half_plus_minus_threshold(k: float, threshold: float) -> None:
    lo, hi = effective_uncertainty_band(k, threshold)
    assert lo == pytest.approx(-hi)
    assert calibrated_sigmoid(lo, k) == pytest.approx(0.5 - threshold)
    assert calibrated_sigmoid(hi, k) == pytest.approx(0.5 + threshold)


@pytest.mark.parametrize("threshold", [-0.1, 0.5, 0.7])
def test_uncertainty_band_rejects_thresholds_that_leave_the_unit_interval(threshold: float) -> None:
    with pytest.raises(ValueError, match="threshold must be in"):
        effective_uncertainty_band(2.0, threshold)
