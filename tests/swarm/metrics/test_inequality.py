from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm.metrics import gini

FAST = settings(max_examples=60, deadline=None)

samples = st.lists(st.floats(-1e6, 1e6).map(lambda x: round(x, 6)), max_size=30)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], 0.0),
        ([5.0], 0.0),
        ([0.0, 0.0, 0.0], 0.0),
        ([3.0, 3.0, 3.0, 3.0], 0.0),
        ([0.0, 1.0], 0.5),
        ([0.0, 0.0, 0.0, 1.0], 0.75),
        ([1.0, 2.0, 3.0, 4.0], 0.25),
        ([-1.0, 1.0], 0.5),
        ([-5.0, -5.0], 0.0),
        ([-3.0, -2.0, -1.0, 0.0], 5 / 12),
    ],
)
def test_gini_reference_values(values: list[float], expected: float) -> None:
    assert gini(values) == pytest.approx(expected)


def test_negative_values_are_measured_after_shifting_by_the_minimum() -> None:
    assert gini([-10.0, 0.0, 10.0]) == pytest.approx(gini([0.0, 10.0, 20.0]))


@FAST
@given(samples)
def test_gini_stays_in_the_unit_interval(values: list[float]) -> None:
    assert 0.0 <= gini(values) <= 1.0


@FAST
@given(st.floats(-1e6, 1e6), st.integers(0, 30))
def test_gini_of_equal_values_is_zero(value: float, n: int) -> None:
    assert gini([value] * n) == 0.0


@FAST
@given(samples, st.floats(1e-3, 1e3))
def test_gini_is_invariant_under_scaling(values: list[float], factor: float) -> None:
    assert gini([factor * x for x in values]) == pytest.approx(gini(values), abs=1e-9)


@FAST
@given(samples.flatmap(lambda v: st.tuples(st.just(v), st.permutations(v))))
def test_gini_is_invariant_under_permutation(pair: tuple[list[float], list[float]]) -> None:
    values, shuffled = pair
    assert gini(shuffled) == gini(values)
