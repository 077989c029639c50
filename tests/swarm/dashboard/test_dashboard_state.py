"""The dashboard's state: folded from a run's events, sent to browsers as deltas that add up."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm import run
from swarm.dashboard import DashboardState
from swarm.dashboard._state import RECENT, Cursor
from swarm.events import Event, InteractionCompleted
from swarm.runtime.eventlog import read_log
from tests.conftest import make_scenario


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Event]]:
    out = tmp_path_factory.mktemp("run")
    sc = make_scenario(honest=3, opportunistic=1, deceptive=1, adversarial=1, epochs=4, steps=6, seed=5)
    run(sc, out_dir=out)
    return out, read_log(out / "events.jsonl")[1]


def test_the_fold_shows_what_the_run_wrote(finished: tuple[Path, list[Event]]) -> None:
    out, events = finished
    state = DashboardState.from_events(events)
    with (out / "metrics.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [e["epoch"] for e in state.epochs] == [int(r["epoch"]) for r in rows]
    for shown, row in zip(state.epochs, rows, strict=True):
        for name in ("toxicity_rate", "quality_gap", "total_welfare", "resource_gini", "acceptance_rate"):
            assert (shown[name] if shown[name] is not None else "") == (float(row[name]) if row[name] else "")
    summary = json.loads((out / "summary.json").read_text())
    table = {a["id"]: a for a in state.agents()}
    for agent in summary["agents"]:
        shown = table[agent["agent_id"]]
        assert shown["type"] == agent["agent_type"]
        assert shown["reputation"] == agent["reputation"]
        assert shown["resources"] == agent["resources"]
        assert shown["frozen"] == agent["frozen"]
        assert shown["interactions"] == agent["interactions_initiated"] + agent["interactions_received"]
    interactions = [e for e in events if isinstance(e, InteractionCompleted)]
    assert sum(edge["count"] for edge in state.edges()) == len(interactions)
    assert state.ended == {"reason": "completed", "epochs_completed": 4}


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_deltas_add_up_to_the_state_whatever_the_browser_missed(
    finished: tuple[Path, list[Event]], data: st.DataObject
) -> None:
    """A browser polling at any moments gets every epoch once, the latest table, and feed events in order."""
    _, events = finished
    cuts = sorted(data.draw(st.lists(st.integers(0, len(events)), max_size=12)))
    state, cursor = DashboardState(), Cursor()
    epochs: list[dict[str, object]] = []
    seqs: list[int] = []
    agents: list[dict[str, object]] = []
    at = 0
    for cut in [*cuts, len(events)]:
        for event in events[at:cut]:
            state.observe(event)
        at = cut
        delta = state.delta(cursor)
        epochs += delta.get("epochs", [])
        seqs += [e["seq"] for e in delta.get("recent", [])]
        agents = delta.get("agents", agents)
        assert len(delta.get("recent", [])) <= RECENT  # a lagging browser skips, never piles up
    assert epochs == state.epochs
    assert agents == state.agents()
    assert seqs == sorted(set(seqs)) and seqs[-1] == events[-1].seq
    assert state.delta(cursor).keys() == {"version", "epoch", "step", "paused", "live", "ended"}


def test_the_llm_panel_adds_up_to_the_runs_llm_summary(tmp_path: Path) -> None:
    from swarm.agents.llm_backend import LLMBackend
    from swarm.scenario import load_scenario
    from tests.conftest import ROOT

    sc = load_scenario(ROOT / "scenarios" / "llm_agents.yaml")
    cassette = ROOT / "scenarios" / "cassettes" / "llm_agents.jsonl"
    result = run(sc, out_dir=tmp_path, llm_factory=LLMBackend(replay=str(cassette), workers=1))
    state = DashboardState.from_events(read_log(tmp_path / "events.jsonl")[1])
    panel = state.snapshot()["llm"]
    summary = json.loads((tmp_path / "summary.json").read_text())["llm"]
    assert result.llm is not None and panel["calls"] == summary["calls"] > 0
    assert panel["failed"] == summary["failed"]
    assert panel["cost_usd"] == pytest.approx(summary["cost_usd"])
    assert sum(r["calls"] for r in panel["models"]) == panel["calls"]
    assert sum(panel["causes"].values()) == panel["failed"]


def test_a_run_without_llm_agents_sends_no_llm_panel(finished: tuple[Path, list[Event]]) -> None:
    assert "llm" not in DashboardState.from_events(finished[1]).snapshot()
