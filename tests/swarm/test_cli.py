"""The command line: the names later checks rely on, exit codes, and errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from swarm.cli import app
from tests.conftest import ROOT

runner = CliRunner()


def swarm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "swarm.cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def test_run_prints_epoch_table_and_writes_the_three_files(tmp_path: Path) -> None:
    res = runner.invoke(
        app,
        [
            "run",
            "baseline",
            "--epochs",
            "3",
            "--steps",
            "4",
            "--out",
            str(tmp_path),
            "--set",
            "success_criteria.min_epochs=3",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "toxicity" in res.output and "quality_gap" in res.output and "welfare" in res.output
    assert {"events.jsonl", "metrics.csv", "summary.json"} <= {p.name for p in tmp_path.iterdir()}
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["summary"]["epochs"] == 3


def test_failing_success_criteria_exit_non_zero(tmp_path: Path) -> None:
    res = runner.invoke(
        app,
        [
            "run",
            "baseline",
            "--epochs",
            "2",
            "--steps",
            "3",
            "--out",
            str(tmp_path),
            "--set",
            "success_criteria.toxicity_threshold=0.0",
        ],
    )
    assert res.exit_code == 1
    assert "FAIL toxicity_threshold" in res.output


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (
            "agents:\n  - type: honest\ngovernance:\n  audit_probability: 1.5\n",
            "governance.audit_probability",
        ),
        ("agents:\n  - type: wizard\n", "agents.0.type"),
        ("agents:\n  - type: honest\npayoff:\n  theta: -1\n", "payoff.theta"),
        ("agents: [\n", "malformed YAML"),
        ("agents:\n  - type: honest\n    count: -2\n", "agents.0.count"),
        ("agents:\n  - type: honest\nunknown_section: 1\n", "unknown_section"),
    ],
)
def test_bad_scenarios_exit_2_with_one_paragraph_and_no_traceback(
    tmp_path: Path, text: str, needle: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    res = swarm("run", str(path), "--out", str(tmp_path / "out"))
    assert res.returncode == 2
    assert needle in res.stderr and str(path) in res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    assert len(res.stderr.strip().splitlines()) <= 3


def test_missing_scenario_file_exits_2(tmp_path: Path) -> None:
    res = swarm("run", str(tmp_path / "missing.yaml"))
    assert res.returncode == 2 and "file not found" in res.stderr and "Traceback" not in res.stderr


def test_bad_override_exits_2(tmp_path: Path) -> None:
    res = swarm("run", "baseline", "--set", "governance.transaction_tax_rate=-1", "--out", str(tmp_path))
    assert res.returncode == 2 and "governance.transaction_tax_rate" in res.stderr


def test_replay_verify_confirms_a_faithful_log(tmp_path: Path) -> None:
    runner.invoke(app, ["run", "baseline", "--epochs", "3", "--steps", "4", "--out", str(tmp_path)])
    res = runner.invoke(app, ["replay", str(tmp_path / "events.jsonl"), "--verify"])
    assert res.exit_code == 0, res.output
    assert "match" in res.output


def test_replay_verify_reports_the_first_difference(tmp_path: Path) -> None:
    runner.invoke(app, ["run", "baseline", "--epochs", "2", "--steps", "3", "--out", str(tmp_path)])
    log = tmp_path / "events.jsonl"
    lines = log.read_text().splitlines()
    idx = next(i for i, line in enumerate(lines) if '"post_created"' in line)
    lines[idx] = lines[idx].replace('"content":"', '"content":"X')
    log.write_text("\n".join(lines) + "\n")
    res = runner.invoke(app, ["replay", str(log), "--verify"])
    assert res.exit_code == 1
    assert f"line {idx + 1}" in res.output


def test_replay_of_a_non_log_exits_2(tmp_path: Path) -> None:
    bogus = tmp_path / "x.jsonl"
    bogus.write_text('{"hello": 1}\n')
    res = swarm("replay", str(bogus))
    assert res.returncode == 2 and "not an event log" in res.stderr


def test_list_shows_shipped_scenarios_with_descriptions() -> None:
    res = runner.invoke(app, ["list"])
    assert res.exit_code == 0
    assert "baseline" in res.output and "status_game" in res.output


def test_stream_prints_events_as_json_lines(tmp_path: Path) -> None:
    res = runner.invoke(
        app,
        [
            "run",
            "baseline",
            "--epochs",
            "1",
            "--steps",
            "2",
            "--out",
            str(tmp_path),
            "--stream",
            "--log-json",
        ],
    )
    assert res.exit_code == 1  # the baseline's min_epochs criterion fails on a 1-epoch run
    types = [json.loads(line)["type"] for line in res.stdout.splitlines() if line.startswith("{")]
    assert types[0] == "run_started" and "epoch_completed" in types and types[-1] == "run_ended"
