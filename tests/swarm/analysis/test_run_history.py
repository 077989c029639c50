"""Per-agent, per-epoch snapshots (agent_epochs.csv), the export table and load_run."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import swarm
from swarm import load_scenario, run
from swarm.analysis.export import export_run, tables
from swarm.core.payoff import SoftPayoffEngine
from swarm.errors import LogError
from swarm.events import AgentCreated, AgentFrozen, EpochCompleted, LedgerUpdated
from swarm.metrics.collector import HISTORY_COLUMNS, MetricsCollector
from swarm.runtime.eventlog import read_log
from tests.conftest import SCENARIOS


def _run(out: Path, *overrides: str) -> Path:
    sc = load_scenario(SCENARIOS / "baseline.yaml", ["simulation.n_epochs=4", *overrides])
    run(sc, out_dir=out)
    return out


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def baseline_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _run(tmp_path_factory.mktemp("baseline"))


def test_snapshots_agree_with_the_ledger_events_of_the_log(baseline_run: Path) -> None:
    rows = _csv(baseline_run / "agent_epochs.csv")
    assert tuple(rows[0]) == HISTORY_COLUMNS
    # What the log says each agent held when each epoch closed, read straight from the events.
    _, events = read_log(baseline_run / "events.jsonl")
    held: dict[str, tuple[float, float]] = {}
    expected: list[tuple[int, str, float, float]] = []
    for ev in events:
        if isinstance(ev, AgentCreated | LedgerUpdated):
            held[ev.agent_id] = (ev.resources, ev.reputation)
        elif isinstance(ev, EpochCompleted):
            expected += [(ev.epoch, a, res, rep) for a, (res, rep) in held.items()]
    got = [(int(r["epoch"]), r["agent_id"], float(r["resources"]), float(r["reputation"])) for r in rows]
    assert got == expected
    assert len({r["epoch"] for r in rows}) == 4


def test_last_snapshot_equals_the_summary_agents(baseline_run: Path) -> None:
    rows = _csv(baseline_run / "agent_epochs.csv")
    last = [r for r in rows if int(r["epoch"]) == 3]
    summary = json.loads((baseline_run / "summary.json").read_text())
    assert [r["agent_id"] for r in last] == [a["agent_id"] for a in summary["agents"]]
    for row, agent in zip(last, summary["agents"], strict=True):
        for column in ("resources", "reputation", "total_payoff"):
            assert float(row[column]) == agent[column], column
        for column in ("interactions_initiated", "interactions_received", "accepted_initiated"):
            assert int(row[column]) == agent[column], column
        assert row["frozen"] == str(agent["frozen"])


def test_the_run_file_the_export_and_load_run_hold_the_same_table(baseline_run: Path) -> None:
    rebuilt = tables(baseline_run / "events.jsonl")["agent_epochs"]
    assert [list(r) for r in rebuilt[:1]] == [list(HISTORY_COLUMNS)]
    written = _csv(baseline_run / "agent_epochs.csv")
    assert [{k: str(v) for k, v in r.items()} for r in rebuilt] == written
    history = swarm.load_run(baseline_run)
    assert history.agents.to_dict("records") == rebuilt
    assert history.reason == "completed"
    metrics = pd.read_csv(baseline_run / "metrics.csv")
    pd.testing.assert_frame_equal(history.epochs, metrics, check_dtype=False)
    assert list(history.events.columns[:4]) == ["seq", "type", "epoch", "step"]
    assert history.events["seq"].is_monotonic_increasing
    assert history.events["type"].iloc[-1] == "run_ended"


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_an_export_folder_loads_back_as_the_same_frames(baseline_run: Path, tmp_path: Path, fmt: str) -> None:
    export_run(baseline_run, fmt, tmp_path)  # type: ignore[arg-type]
    assert (tmp_path / f"agent_epochs.{fmt}").is_file()
    exported, original = swarm.load_run(tmp_path), swarm.load_run(baseline_run)
    for name in ("epochs", "agents", "interactions"):
        pd.testing.assert_frame_equal(getattr(exported, name), getattr(original, name), check_dtype=False)
    assert exported.events is None and exported.scenario is None


def test_same_seed_gives_identical_snapshot_files(tmp_path: Path) -> None:
    a = _run(tmp_path / "a", "simulation.n_epochs=3")
    b = _run(tmp_path / "b", "simulation.n_epochs=3")
    assert (a / "agent_epochs.csv").read_bytes() == (b / "agent_epochs.csv").read_bytes()
    c = _run(tmp_path / "c", "simulation.n_epochs=3", "simulation.seed=43")
    assert (a / "agent_epochs.csv").read_bytes() != (c / "agent_epochs.csv").read_bytes()


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_money_is_conserved_across_agents_every_epoch(
    tmp_path_factory: pytest.TempPathFactory, seed: int
) -> None:
    # Without governance nothing is held in system accounts, so the ledger's identity is about agents
    # alone: Σ resources = endowments + Σ payoffs of accepted interactions (the welfare metric,
    # computed from the interactions by the payoff engine) + bounties minted − burned.
    out = _run(tmp_path_factory.mktemp("money"), "simulation.n_epochs=3", f"simulation.seed={seed}")
    _, events = read_log(out / "events.jsonl")
    endowed = sum(ev.resources for ev in events if isinstance(ev, AgentCreated))
    outside: dict[int, float] = {}
    for ev in events:
        if isinstance(ev, LedgerUpdated) and ev.entry in ("mint", "burn"):
            outside[ev.epoch] = outside.get(ev.epoch, 0.0) + ev.resources_delta
    welfare = {int(r["epoch"]): float(r["total_welfare"]) for r in _csv(out / "metrics.csv")}
    totals: dict[int, float] = {}
    for r in _csv(out / "agent_epochs.csv"):
        totals[int(r["epoch"])] = totals.get(int(r["epoch"]), 0.0) + float(r["resources"])
    assert sorted(totals) == sorted(welfare) == [0, 1, 2]
    expected = endowed
    for epoch in sorted(totals):
        expected += welfare[epoch] + outside.get(epoch, 0.0)
        assert math.isclose(totals[epoch], expected, rel_tol=1e-9, abs_tol=1e-9), epoch


def test_history_keeps_each_epochs_figures_when_later_ones_change() -> None:
    c = MetricsCollector(SoftPayoffEngine())
    c.feed(
        [
            AgentCreated(
                agent_id=a, agent_type="honest", policy="P", role="worker", reputation=0.0, resources=r
            )
            for a, r in (("a", 10.0), ("b", 20.0))
        ]
    )
    c.close_epoch(0)
    c.feed(
        [
            LedgerUpdated(agent_id="a", entry="mint", reason="bounty", reputation=1.0, resources=15.0),
            AgentFrozen(agent_id="b", until_epoch=None, reason="audit"),
        ]
    )
    c.close_epoch(1)
    history = c.history()
    rows = list(history)
    assert len(history) == len(rows) == 4
    assert [(r.epoch, r.agent_id, r.resources, r.reputation, r.frozen) for r in rows] == [
        (0, "a", 10.0, 0.0, False),
        (0, "b", 20.0, 0.0, False),
        (1, "a", 15.0, 1.0, False),
        (1, "b", 20.0, 0.0, True),
    ]
    assert [{k: v for k, v in r.items() if k != "epoch"} for r in rows[2:]] == c.agent_rows()
    assert [tuple(r.values()) for r in rows] == list(history.tuples())


def test_load_run_names_what_it_expected(tmp_path: Path) -> None:
    with pytest.raises(LogError, match=r"events\.jsonl"):
        swarm.load_run(tmp_path)
    (tmp_path / "events.jsonl").write_text("not a log\n")
    with pytest.raises(LogError, match=r"events\.jsonl:1"):
        swarm.load_run(tmp_path)
