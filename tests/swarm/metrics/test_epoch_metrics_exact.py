"""The epoch's metrics are computed from columns and arrays; each must equal its definition, bit for bit.

The references below compute every metric the plain way, interaction by
interaction, with the same arithmetic per term. Sums are ``math.fsum`` (exact),
so the order terms are added in cannot change a result and ``==`` is the law.
Large batches go through numpy arrays, small ones through lists: every law is
checked both ways (``ways``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from swarm.core import SoftInteraction, SoftPayoffEngine
from swarm.metrics import soft
from swarm.metrics.inequality import gini
from swarm.metrics.registry import EPOCH_METRICS, EpochData
from tests.strategies import epoch_interactions, payoff_configs

FAST = settings(max_examples=60, deadline=None)


@contextmanager
def arrays_from(size: int) -> Iterator[None]:
    """Compute over numpy arrays from batches of ``size`` on (0: always; a huge size: never)."""
    saved = soft.ARRAYS
    soft.ARRAYS = size
    try:
        yield
    finally:
        soft.ARRAYS = saved


def ways() -> Iterator[str]:
    """Run the loop body once over arrays and once over lists."""
    for size, name in ((0, "arrays"), (10**9, "lists")):
        with arrays_from(size):
            yield name


# few distinct p values as well as arbitrary ones, so that ties (AUC, bins) happen often
interaction = epoch_interactions(ties=(0.0, 0.1, 0.3, 0.5, 0.7, 1.0))
batches = st.lists(interaction, max_size=40)
engines = payoff_configs().map(SoftPayoffEngine)


def mean(xs: list[float]) -> float:
    return math.fsum(xs) / len(xs)


def reference(interactions: list[SoftInteraction], engine: SoftPayoffEngine) -> dict[str, Any]:
    """Each built-in soft metric by its definition, one interaction at a time."""
    accepted = [i for i in interactions if i.accepted]
    rejected = [i for i in interactions if not i.accepted]
    truth = [(i.p, (i.ground_truth + 1) // 2) for i in interactions if i.ground_truth is not None]
    pay = [engine.payoffs(i) for i in interactions]
    out: dict[str, Any] = {}
    if accepted:
        out["toxicity_rate"] = mean([1.0 - i.p for i in accepted])
        out["toxicity_hard"] = mean([1.0 if i.p < 0.5 else 0.0 for i in accepted])
        c = engine.config
        out["spread"] = (c.s_plus + c.s_minus) * (
            mean([i.p for i in interactions]) - mean([i.p for i in accepted])
        )
        for k, name in ((0, "initiator"), (1, "counterparty")):
            on_accepted = [x[k] for i, x in zip(interactions, pay, strict=True) if i.accepted]
            out[f"conditional_loss_{name}"] = mean(on_accepted) - mean([x[k] for x in pay])
        out["avg_payoff"] = mean([engine.payoffs(i)[0] for i in accepted])
    if accepted and rejected:
        out["quality_gap"] = mean([i.p for i in accepted]) - mean([i.p for i in rejected])
    if interactions:
        ps = [i.p for i in interactions]
        out["average_quality"] = mean(ps)
        out["uncertain_fraction"] = sum(1 for i in interactions if i.is_uncertain(0.2)) / len(ps)
        out["quality_variance"] = math.fsum((x - mean(ps)) ** 2 for x in ps) / len(ps) if len(ps) > 1 else 0.0
        high = [i.accepted for i in interactions if i.p >= 0.5]
        low = [i.accepted for i in interactions if i.p < 0.5]
        if high:
            out["high_quality_acceptance"] = sum(high) / len(high)
        if low:
            out["low_quality_acceptance"] = sum(low) / len(low)
    out["total_welfare"] = math.fsum(a + b for i, (a, b) in zip(interactions, pay, strict=True) if i.accepted)
    out["social_surplus"] = math.fsum(engine.social_surplus(i) for i in accepted)
    if truth:
        out["brier_score"] = mean([(p - v) ** 2 for p, v in truth])
        losses = []
        for p, v in truth:
            q = min(max(p, 1e-15), 1.0 - 1e-15)
            losses.append(-math.log(q) if v else -math.log(1.0 - q))
        out["log_loss"] = mean(losses)
        bins: list[list[tuple[float, int]]] = [[] for _ in range(10)]
        for p, v in truth:
            bins[soft._bin_of(p, 10)].append((p, v))
        n = len(truth)
        out["expected_calibration_error"] = math.fsum(
            len(b) / n * abs(mean([p for p, _ in b]) - mean([float(v) for _, v in b])) for b in bins if b
        )
    positives = [p for p, v in truth if v]
    negatives = [p for p, v in truth if not v]
    if positives and negatives:
        twice = sum(2 * (q < p) + (q == p) for p in positives for q in negatives)  # every pair
        out["discrimination_auc"] = twice / (2 * len(positives) * len(negatives))
    return out


@FAST
@given(batches, engines)
def test_every_epoch_metric_equals_its_definition(
    interactions: list[SoftInteraction], engine: SoftPayoffEngine
) -> None:
    expected = reference(interactions, engine)
    optional = {"toxicity_rate", "quality_gap", "brier_score", "discrimination_auc", "log_loss"}
    for way in ways():
        data = EpochData(
            epoch=0,
            engine=engine,
            interactions=interactions,
            types={},
            resources={},
            reputation={},
            frozen=frozenset(),
        )
        computed = {name: m.compute(data) for name, m in EPOCH_METRICS.items() if not m.optional}
        for name, value in expected.items():
            assert computed[name] == value, (way, name)
        for name in optional - set(expected):
            assert computed[name] is None, (way, name)


@FAST
@given(batches, engines)
def test_payoffs_over_arrays_are_the_engines_own(
    interactions: list[SoftInteraction], engine: SoftPayoffEngine
) -> None:
    for way in ways():
        pi_a, pi_b = soft.payoffs(interactions, engine)
        assert list(zip(pi_a, pi_b, strict=True)) == [engine.payoffs(i) for i in interactions], way


class _Halved(SoftPayoffEngine):
    def payoffs(self, i: SoftInteraction) -> tuple[float, float]:
        a, b = super().payoffs(i)
        return a / 2, b / 2


@FAST
@given(batches)
def test_a_subclass_keeps_its_own_payoffs(interactions: list[SoftInteraction]) -> None:
    engine = _Halved()
    for way in ways():
        pi_a, _ = soft.payoffs(interactions, engine)
        assert pi_a == [SoftPayoffEngine().payoffs(i)[0] / 2 for i in interactions], way


@FAST
@given(st.lists(st.floats(-100.0, 100.0), max_size=60))
def test_gini_equals_its_formula(values: list[float]) -> None:
    n = len(values)
    xs = sorted(values)
    if n >= 2 and xs[0] < 0:
        xs = [x - xs[0] for x in xs]
    total = math.fsum(xs)
    if n < 2 or total == 0:
        expected = 0.0
    else:
        weighted = math.fsum((2 * rank - n - 1) * x for rank, x in enumerate(xs, start=1))
        expected = min(max(weighted / (n * total), 0.0), 1.0)
    assert gini(values) == expected


@FAST
@given(
    st.lists(
        st.one_of(st.floats(0.0, 1.0), st.integers(0, 20).map(lambda k: k / 20)), min_size=1, max_size=50
    ),
    st.integers(1, 20),
)
def test_bins_over_an_array_are_the_scalar_bins(values: list[float], bins: int) -> None:
    import numpy as np

    assert soft._bins_of(np.array(values), bins).tolist() == [soft._bin_of(p, bins) for p in values]
