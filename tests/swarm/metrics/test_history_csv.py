"""``AgentHistory.write_csv`` writes what ``csv.writer`` writes of the same rows, byte for byte."""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from swarm.events import AgentCreated
from swarm.metrics.collector import HISTORY_COLUMNS, AgentHistory, AgentRow, _Snapshot

NAMES = st.text(alphabet=st.sampled_from(list('ab_1 ,"\r\né')), min_size=1, max_size=6)
FLOATS = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([0.0, -0.0, 1e-7, 1e16, 0.1 + 0.2])
COUNTS = st.integers(min_value=0, max_value=2**40)


@st.composite
def histories(draw: st.DrawFn, names: st.SearchStrategy[str]) -> AgentHistory:
    n = draw(st.integers(min_value=0, max_value=5))
    rows = [
        AgentRow(
            AgentCreated(
                agent_id=draw(names),
                agent_type=draw(names),
                policy=draw(names),
                role="none",
                reputation=0.0,
                resources=0.0,
            )
        )
        for _ in range(n)
    ]
    snapshots = []
    for epoch in range(draw(st.integers(min_value=0, max_value=3))):
        for row in rows:
            row.reputation, row.resources, row.total_payoff = draw(st.tuples(FLOATS, FLOATS, FLOATS))
            row.interactions_initiated, row.interactions_received, row.accepted_initiated = draw(
                st.tuples(COUNTS, COUNTS, COUNTS)
            )
            row.frozen = draw(st.booleans())
        snapshots.append(_Snapshot(epoch, rows))
    return AgentHistory(snapshots, rows)


def by_the_csv_writer(history: AgentHistory) -> str:
    fh = io.StringIO(newline="")
    writer = csv.writer(fh)
    writer.writerow(HISTORY_COLUMNS)
    writer.writerows(history.tuples())
    return fh.getvalue()


@settings(max_examples=150, deadline=None)
@given(history=histories(NAMES) | histories(st.sampled_from(["honest_1", "honest", "HonestPolicy"])))
def test_write_csv_writes_what_the_csv_writer_writes(history: AgentHistory) -> None:
    fh = io.StringIO(newline="")
    history.write_csv(fh)
    assert fh.getvalue() == by_the_csv_writer(history)
