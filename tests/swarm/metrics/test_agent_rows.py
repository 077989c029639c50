"""An agent row's dict and an epoch's snapshot read the row's attributes by name: they must give
every column of :data:`AGENT_COLUMNS`, in order, as reading each by its name from the list does."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from swarm.events import AgentCreated
from swarm.metrics.collector import _SNAPSHOT_COUNTS, _SNAPSHOT_FLOATS, AGENT_COLUMNS, AgentRow, _Snapshot

figures = st.tuples(
    st.floats(-1e6, 1e6),
    st.floats(-1e6, 1e6),
    st.floats(-1e6, 1e6),
    st.integers(0, 70_000),
    st.integers(0, 300),
    st.integers(0, 300),
    st.booleans(),
)


def row(k: int, values: tuple[float, float, float, int, int, int, bool]) -> AgentRow:
    made = AgentRow(
        AgentCreated(
            agent_id=f"a{k}",
            agent_type="honest",
            policy="HonestPolicy",
            role="worker",
            reputation=0.0,
            resources=0.0,
        )
    )
    (
        made.reputation,
        made.resources,
        made.total_payoff,
        made.interactions_initiated,
        made.interactions_received,
        made.accepted_initiated,
        made.frozen,
    ) = values
    return made


@settings(max_examples=40, deadline=None)
@given(st.lists(figures, min_size=1, max_size=20))
def test_rows_and_snapshots_read_every_column_by_its_name(values: list[tuple]) -> None:  # type: ignore[type-arg]
    rows = [row(k, v) for k, v in enumerate(values)]
    for r in rows:
        as_dict = r.as_dict()
        assert list(as_dict) == list(AGENT_COLUMNS)
        assert as_dict == {name: getattr(r, name) for name in AGENT_COLUMNS}
    snap = _Snapshot(3, rows)
    floats = [[getattr(r, name) for r in rows] for name in _SNAPSHOT_FLOATS]
    counts = [[getattr(r, name) for r in rows] for name in _SNAPSHOT_COUNTS]
    assert [list(c) for c in snap.floats] == floats
    assert [list(c) for c in snap.counts] == counts
    assert list(snap.frozen) == [int(r.frozen) for r in rows]
