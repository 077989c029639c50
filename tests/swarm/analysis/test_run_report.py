"""`swarm report RUN_DIR`: plots and one self-contained HTML page for a single run."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import swarm
from swarm import load_scenario, run
from swarm.analysis.run_report import PLOTS, governance_events
from swarm.cli import app
from swarm.events import AgentFrozen, AgentUnfrozen, EpochCompleted, KillSwitchTriggered, RunEnded
from swarm.governance.effects import Effect
from swarm.runtime.eventlog import encode_event, read_log
from tests.conftest import SCENARIOS

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def governed_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("governed")
    run(load_scenario(SCENARIOS / "strict_governance.yaml", ["simulation.n_epochs=3"]), out_dir=out)
    return out


def _report(folder: Path) -> str:
    res = CliRunner().invoke(app, ["report", str(folder)])
    assert res.exit_code == 0, res.output
    return res.output


def _check_page(folder: Path) -> str:
    page = (folder / "report" / "report.html").read_text(encoding="utf-8")
    for name in PLOTS:
        png = (folder / "report" / f"{name}.png").read_bytes()
        assert png.startswith(PNG) and len(png) > 2_000, name
        assert f"data:image/png;base64,{base64.b64encode(png).decode()}" in page, name
    assert page.count("<img ") == len(PLOTS)
    lowered = page.lower()
    for outside in ("http://", "https://", 'src="//', "<script", "<link", "url("):
        assert outside not in lowered, outside
    return page


def test_report_writes_every_plot_and_one_self_contained_page(governed_run: Path) -> None:
    output = _report(governed_run)
    page = _check_page(governed_run)
    assert "ended: completed" in output
    assert "<b>completed</b>" in page and "strict_governance" in page


def test_governance_timeline_holds_every_lever_action_of_the_log(governed_run: Path) -> None:
    _, events = read_log(governed_run / "events.jsonl")
    kinds = (Effect, AgentFrozen, AgentUnfrozen, KillSwitchTriggered)
    logged = [ev for ev in events if isinstance(ev, kinds)]
    assert logged, "the scenario's levers should act in three epochs"
    actions = governance_events(swarm.load_run(governed_run))
    assert list(actions["seq"]) == [ev.seq for ev in logged]
    levers = {ev.seq: ev.lever for ev in logged if isinstance(ev, Effect)}
    assert all(
        levers.get(r.seq, "ledger") == r.lever or r.type == "kill_switch_triggered"
        for r in actions.itertuples()
    )


def _cut(source: Path, target: Path, epochs: int, ending: str | None) -> Path:
    """A copy of ``source``'s log holding its first ``epochs`` closed epochs, ended by ``ending`` (or not)."""
    target.mkdir()
    lines = (source / "events.jsonl").read_bytes().splitlines(keepends=True)
    _, events = read_log(source / "events.jsonl")
    closes = [k for k, ev in enumerate(events) if isinstance(ev, EpochCompleted)]
    keep = closes[epochs - 1] + 1 if epochs else 3  # header aside; with no epoch: a few opening events
    kept = lines[: 1 + keep]
    if ending is not None:
        last = events[keep - 1]
        end = RunEnded(
            epoch=last.epoch, step=last.step, seq=last.seq + 1, epochs_completed=epochs, reason=ending
        )
        kept.append(encode_event(end) + b"\n")
    (target / "events.jsonl").write_bytes(b"".join(kept))
    return target


def test_an_interrupted_run_is_reported_from_its_log_alone(governed_run: Path, tmp_path: Path) -> None:
    folder = _cut(governed_run, tmp_path / "interrupted", 2, "interrupted")
    output = _report(folder)
    page = _check_page(folder)
    assert "ended: interrupted" in output and "<b>interrupted</b>" in page
    assert "2 of 3 epochs closed" in page
    assert "No readable summary.json" in page
    assert len(swarm.load_run(folder).epochs) == 2


def test_a_run_cut_before_its_first_epoch_closed_still_gets_a_report(
    governed_run: Path, tmp_path: Path
) -> None:
    folder = _cut(governed_run, tmp_path / "cut", 0, None)
    output = _report(folder)
    page = _check_page(folder)
    assert "did not finish" in output and "0 of 3 epochs closed" in page


def test_a_folder_that_is_neither_a_sweep_nor_a_run_exits_2(tmp_path: Path) -> None:
    runner = CliRunner()
    (tmp_path / "notes.txt").write_text("hello")
    for target in (tmp_path, tmp_path / "notes.txt", tmp_path / "missing"):
        res = runner.invoke(app, ["report", str(target)])
        assert res.exit_code == 2, res.output
        assert str(target) in res.output
        assert "aggregate.csv" in res.output and "events.jsonl" in res.output
    assert not (tmp_path / "report").exists()


def test_a_run_folder_with_a_broken_log_exits_2_naming_the_line(governed_run: Path, tmp_path: Path) -> None:
    shutil.copy(governed_run / "summary.json", tmp_path / "summary.json")
    res = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert res.exit_code == 2 and "events.jsonl" in res.output, res.output
    (tmp_path / "events.jsonl").write_text('{"type": "header"}\n')
    res = CliRunner().invoke(app, ["report", str(tmp_path)])
    assert res.exit_code == 2 and "events.jsonl:1" in res.output, res.output
