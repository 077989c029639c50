"""An epoch's interactions kept as columns give every built-in metric the value the interactions
themselves give; the collector keeps the objects only while a registered metric reads them."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import count

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm.core import SoftInteraction, SoftPayoffEngine
from swarm.events import InteractionCompleted
from swarm.metrics import soft
from swarm.metrics.collector import MetricsCollector
from swarm.metrics.registry import EPOCH_METRICS, EpochData, epoch_metric, needs_interactions
from tests.strategies import epoch_interactions, payoff_configs

interaction = epoch_interactions()


def data(interactions: list[SoftInteraction], engine: SoftPayoffEngine, kept: soft.Table | None) -> EpochData:
    return EpochData(
        epoch=0,
        engine=engine,
        interactions=interactions,
        types={"a": "honest", "b": "deceptive"},
        resources={},
        reputation={},
        frozen=frozenset(),
        kept=kept,
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(interaction, max_size=40), payoff_configs().map(SoftPayoffEngine), st.booleans())
def test_every_metric_from_columns_equals_the_one_from_objects(
    interactions: list[SoftInteraction], engine: SoftPayoffEngine, arrays: bool
) -> None:
    saved = soft.ARRAYS
    soft.ARRAYS = 0 if arrays else 10**9
    try:
        table = soft.Table()
        table.extend(interactions[:5])
        table.extend(interactions[5:])
        plain = data(interactions, engine, None)
        columnar = data([], engine, table)
        for name, metric in EPOCH_METRICS.items():
            if metric.columns_only:
                assert metric.compute(columnar) == metric.compute(plain), name
        assert columnar.payoffs == soft.payoffs(interactions, engine)
    finally:
        soft.ARRAYS = saved


def completed(ids: Iterator[int], p: float) -> InteractionCompleted:
    i = SoftInteraction(interaction_id=f"i{next(ids)}", initiator="a", counterparty="b", accepted=True, p=p)
    return InteractionCompleted(
        interaction=i,
        payoff_initiator=0.0,
        payoff_counterparty=0.0,
        initiator_type="x",
        counterparty_type="y",
    )


def test_the_collector_keeps_columns_only_while_every_metric_reads_no_objects() -> None:
    assert not needs_interactions()
    c = MetricsCollector(SoftPayoffEngine())
    ids = count()
    c.feed([completed(ids, 0.25), completed(ids, 0.75)])
    assert c.interactions == [] and len(c._table) == 2
    assert c.close_epoch(0)["average_quality"] == 0.5


@pytest.fixture
def reads_objects() -> Iterator[str]:
    name = "test_interaction_ids"

    @epoch_metric(name, "interaction ids seen (test only)")
    def _ids(d: EpochData) -> int:
        return len({i.interaction_id for i in d.interactions})

    yield name
    EPOCH_METRICS.remove(name)


def test_a_metric_that_reads_interactions_makes_the_collector_keep_them(reads_objects: str) -> None:
    assert needs_interactions()
    c = MetricsCollector(SoftPayoffEngine())
    ids = count()
    c.feed([completed(ids, 0.25)])
    c.feed([completed(ids, 0.75)])
    assert len(c.interactions) == 2
    assert c.close_epoch(0)[reads_objects] == 2


def test_a_metric_registered_mid_epoch_is_told_why_it_has_no_interactions() -> None:
    c = MetricsCollector(SoftPayoffEngine())
    c.feed([completed(count(), 0.25)])
    name = "test_late_metric"
    epoch_metric(name, "registered after the epoch began (test only)")(lambda d: len(d.interactions))
    try:
        with pytest.raises(RuntimeError, match="columns only"):
            c.close_epoch(0)
    finally:
        EPOCH_METRICS.remove(name)


@settings(max_examples=60, deadline=None)
@given(st.lists(interaction, max_size=40))
def test_columns_picked_out_by_arrays_are_the_lists_made_one_by_one(
    interactions: list[SoftInteraction],
) -> None:
    """A large table's columns come from numpy masks: the same values, of the same Python types, in
    the same order as the lists made interaction by interaction."""
    saved = soft.ARRAYS
    try:
        soft.ARRAYS = 10**9
        plain = soft.Columns(interactions)
        soft.ARRAYS = 0
        masked = soft.Columns(soft.Table(interactions))
    finally:
        soft.ARRAYS = saved
    for name in ("p", "accepted", "p_accepted", "p_rejected", "truth_p", "truth_v"):
        mine, theirs = getattr(masked, name), getattr(plain, name)
        assert mine == theirs, name
        assert [type(x) for x in mine] == [type(x) for x in theirs], name
