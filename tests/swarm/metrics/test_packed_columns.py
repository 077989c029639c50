"""Columns are built by packing their values (``struct``) rather than by the array's constructor:
the same items, of the same type, in the same order."""

from __future__ import annotations

from array import array

from hypothesis import given, settings
from hypothesis import strategies as st

from swarm.core import SoftInteraction
from swarm.metrics import soft
from swarm.metrics._columns import counts_column, packed
from tests.strategies import epoch_interactions

RANGES = {"B": (0, 0xFF), "H": (0, 0xFFFF), "I": (0, 0xFFFF_FFFF), "q": (-(2**63), 2**63 - 1)}


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_packed_is_the_array_of_the_values(data: st.DataObject) -> None:
    code = data.draw(st.sampled_from(["d", *RANGES]))
    if code == "d":
        values: list[float] = data.draw(st.lists(st.floats(allow_nan=False) | st.integers(-(2**53), 2**53)))
    else:
        low, high = RANGES[code]
        values = data.draw(st.lists(st.integers(low, high) | st.booleans()))
    made = packed(code, values)
    assert made.typecode == code
    assert made == array(code, values)
    assert made.tobytes() == array(code, values).tobytes()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-(2**40), 2**40) | st.integers(0, 300)))
def test_counts_column_reads_back_the_counts(values: list[int]) -> None:
    assert counts_column(values).tolist() == values


@settings(max_examples=40, deadline=None)
@given(st.lists(epoch_interactions(), max_size=30), st.integers(0, 30))
def test_a_table_holds_each_interactions_values(interactions: list[SoftInteraction], cut: int) -> None:
    table = soft.Table(interactions[:cut])
    table.extend(interactions[cut:])
    for name in ("p", "tau", "c_a", "c_b", "r_a", "r_b"):
        column = getattr(table, name)
        assert column.tobytes() == array("d", [getattr(i, name) for i in interactions]).tobytes(), name
    assert list(table.accepted) == [int(i.accepted) for i in interactions]
    assert list(table.truth) == [i.ground_truth or 0 for i in interactions]
    assert table.initiator == [i.initiator for i in interactions]
