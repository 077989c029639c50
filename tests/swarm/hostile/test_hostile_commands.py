"""Hostile command lines, logs and output paths: every command answers bad input with exit 2.

One table per class (arguments and output paths, event logs). Each case runs the
command in-process against a workspace holding an earlier run, and asserts the exit
code, that the message names the file, line, option or key path, that there is no
traceback, and that nothing already written changed. Scenario and sweep files have
their own tables in tests/swarm/test_hostile_inputs.py; signals in
test_hostile_signals.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from swarm.cli import EXIT_CRITERIA, EXIT_INPUT, EXIT_INTERRUPTED, EXIT_OK, EXIT_RUN, app
from swarm.runtime.replay import compare_logs
from tests.conftest import SCENARIOS

BASELINE = str(SCENARIOS / "baseline.yaml")
SWEEP = str(SCENARIOS / "sweeps" / "mvp12.yaml")
SHORT = ["--epochs", "1", "--steps", "2"]


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def earlier_log(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The lines of a real event log, to corrupt."""
    out = tmp_path_factory.mktemp("earlier") / "run"
    res = CliRunner().invoke(app, ["run", BASELINE, *SHORT, "--out", str(out)])
    assert res.exit_code in (EXIT_OK, EXIT_CRITERIA), res.output
    return (out / "events.jsonl").read_text().splitlines()


@pytest.fixture
def workspace(tmp_path: Path, earlier_log: list[str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An earlier run (runs/earlier), a plain file, and corrupt logs; the cwd for the command."""
    run = tmp_path / "runs" / "earlier"
    run.mkdir(parents=True)
    (run / "events.jsonl").write_text("\n".join(earlier_log) + "\n")
    (run / "summary.json").write_text('{"passed": true}\n')
    (tmp_path / "a-file").write_text("not a folder\n")
    header = json.loads(earlier_log[0])
    logs = {
        "list-header.jsonl": "[1, 2]\n" + "\n".join(earlier_log[1:]) + "\n",
        "not-utf8.jsonl": earlier_log[0] + "\n" + earlier_log[1][:20] + "\udcff\n",
        "truncated.jsonl": "\n".join(earlier_log)[:-30],
        "empty.jsonl": "",
        "bad-scenario.jsonl": json.dumps({**header, "scenario": {"agents": 3}}) + "\n",
        "scenario-list.jsonl": json.dumps({**header, "scenario": [1]}) + "\n",
        "old-schema.jsonl": json.dumps({**header, "schema_version": 1}) + "\n",
        "bad-event.jsonl": earlier_log[0] + "\n" + '{"type": "no_such_event", "seq": 1}\n',
    }
    for name, text in logs.items():
        (tmp_path / name).write_bytes(text.encode("utf-8", "surrogateescape"))
    monkeypatch.chdir(tmp_path)
    yield tmp_path


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    expected: tuple[str, ...]
    """Parts of the message: the option, file and line, or key path, and the problem."""
    code: int = EXIT_INPUT


ARGUMENT_CASES = [
    # --- output paths of `swarm run`
    Case(
        "run into an earlier run",
        ("run", BASELINE, *SHORT, "--out", "runs/earlier"),
        ("--out", "earlier run", "--overwrite", "--fresh"),
    ),
    Case("run --out a file", ("run", BASELINE, *SHORT, "--out", "a-file"), ("--out: a-file", "is a file")),
    Case(
        "run --out under a file",
        ("run", BASELINE, *SHORT, "--out", "a-file/run"),
        ("--out: a-file/run", "cannot be created"),
    ),
    Case(
        "run --out unwritable",
        ("run", BASELINE, *SHORT, "--out", "/proc/swarm-run"),
        ("--out: /proc/swarm-run", "cannot be created"),
    ),
    Case(
        "run --out 300 characters",
        ("run", BASELINE, *SHORT, "--out", "x" * 300),
        ("--out", "300 bytes", "at most 255"),
    ),
    Case("run --out with NUL", ("run", BASELINE, *SHORT, "--out", "a\x00b"), ("--out", "null")),
    Case(
        "run --record-llm a folder",
        ("run", BASELINE, *SHORT, "--out", "new", "--record-llm", "runs"),
        ("--record-llm: runs", "is a folder"),
    ),
    Case(
        "run --record-llm under a file",
        ("run", BASELINE, *SHORT, "--out", "new", "--record-llm", "a-file/c.jsonl"),
        ("--record-llm", "a-file is a file"),
    ),
    Case(
        "run --replay-llm missing",
        ("run", BASELINE, *SHORT, "--out", "new", "--replay-llm", "nope.jsonl"),
        ("nope.jsonl", "no such cassette"),
    ),
    Case(
        "run an unknown --backend",
        ("run", BASELINE, *SHORT, "--out", "new", "--backend", "threads"),
        ("threads", "processes, ray"),
    ),
    Case("run --shards 0", ("run", BASELINE, *SHORT, "--out", "new", "--shards", "0"), ("--shards",)),
    Case(
        "run --llm-workers 0",
        ("run", BASELINE, *SHORT, "--out", "new", "--llm-workers", "0"),
        ("--llm-workers",),
    ),
    Case(
        "run --seed -1",
        ("run", BASELINE, *SHORT, "--out", "new", "--seed", "-1"),
        ("simulation.seed", ">= 0"),
    ),
    Case(
        "run --epochs 0", ("run", BASELINE, "--epochs", "0", "--out", "new"), ("simulation.n_epochs", ">= 1")
    ),
    Case("run a missing scenario", ("run", "nope.yaml"), ("nope.yaml", "file not found")),
    # --- other commands' options and paths
    Case("sweep --out a file", ("sweep", SWEEP, "--out", "a-file"), ("--out", "a-file", "not a directory")),
    Case("sweep --out 300 characters", ("sweep", SWEEP, "--out", "y" * 300), ("--out", "300 bytes")),
    Case(
        "sweep --out unwritable",
        ("sweep", SWEEP, "--out", "/proc/swarm-sweep"),
        ("--out /proc/swarm-sweep", "cannot be created"),
    ),
    Case("sweep --workers -1", ("sweep", SWEEP, "--workers", "-1"), ("--workers",)),
    Case(
        "export --out a file", ("export", "runs/earlier", "--out", "a-file"), ("--out: a-file", "is a file")
    ),
    Case(
        "export --out 300 characters", ("export", "runs/earlier", "--out", "z" * 300), ("--out", "300 bytes")
    ),
    Case(
        "export --out unwritable",
        ("export", "runs/earlier", "--out", "/proc/swarm-export"),
        ("/proc/swarm-export", "cannot be written"),
    ),
    Case("export --format xml", ("export", "runs/earlier", "--format", "xml"), ("--format xml",)),
    Case(
        "tail --poll -1",
        ("tail", "runs/earlier/events.jsonl", "--poll", "-1"),
        ("--poll -1", "finite number > 0"),
    ),
    Case("tail --poll nan", ("tail", "runs/earlier/events.jsonl", "--poll", "nan"), ("--poll nan",)),
    Case("tail --timeout inf", ("tail", "runs/earlier/events.jsonl", "--timeout", "inf"), ("--timeout inf",)),
    Case("mock-llm --port 99999", ("mock-llm", "--port", "99999"), ("--port",)),
    Case("mock-llm --latency-ms -5", ("mock-llm", "--latency-ms", "-5"), ("--latency-ms -5",)),
    Case("mock-llm --error-rate 2", ("mock-llm", "--error-rate", "2"), ("--error-rate 2",)),
    Case("list --dir a file", ("list", "--dir", "a-file"), ("a-file", "no such directory")),
    Case("report on a file", ("report", "a-file"), ("a-file", "nothing to report on")),
]

LOG_CASES = [
    Case(f"{command} {name}", (command, *pre, name, *post), expected)
    for command, pre, post in (("replay", (), ()), ("tail", (), ("--no-follow",)), ("export", (), ()))
    for name, expected in (
        ("list-header.jsonl", ("list-header.jsonl:1", "not a header")),
        ("not-utf8.jsonl", ("not-utf8.jsonl:2",)),
        ("old-schema.jsonl", ("old-schema.jsonl:1", "schema version 1")),
        ("bad-event.jsonl", ("bad-event.jsonl:2", "unreadable line")),
        ("a-file", ("a-file:1", "not an event log")),
        ("runs", ("runs",)),
        ("missing.jsonl", ("missing.jsonl", "no such event log")),
    )
] + [
    Case("replay truncated", ("replay", "truncated.jsonl"), ("truncated.jsonl:", "unreadable line")),
    Case("replay empty", ("replay", "empty.jsonl"), ("empty.jsonl", "empty event log")),
    Case(
        "replay a header scenario that is a list",
        ("replay", "scenario-list.jsonl"),
        ("scenario-list.jsonl:1", "scenario"),
    ),
    Case(
        "replay an invalid header scenario",
        ("replay", "bad-scenario.jsonl"),
        ("bad-scenario.jsonl (header)", "agents"),
    ),
]


def _invoke(workspace: Path, case: Case) -> tuple[int, str]:
    before = snapshot(workspace)
    res = CliRunner().invoke(app, list(case.args))
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    assert "Traceback" not in res.output
    after = snapshot(workspace)
    assert {k: v for k, v in after.items() if k in before} == before  # nothing written was changed
    assert not set(after) - set(before)  # and nothing was written
    return res.exit_code, res.output


@pytest.mark.parametrize("case", ARGUMENT_CASES, ids=lambda c: c.id)
def test_a_hostile_argument_exits_2_naming_it(case: Case, workspace: Path) -> None:
    code, output = _invoke(workspace, case)
    assert code == case.code, output
    flat = " ".join(output.split())
    for part in case.expected:
        assert part in output or part in flat, output


@pytest.mark.parametrize("case", LOG_CASES, ids=lambda c: c.id)
def test_a_hostile_log_exits_2_naming_the_file_and_line(case: Case, workspace: Path) -> None:
    code, output = _invoke(workspace, case)
    assert code == case.code, output
    for part in case.expected:
        assert part in output, output


def test_the_exit_codes_are_the_documented_contract() -> None:
    from tests.conftest import ROOT

    assert (EXIT_OK, EXIT_CRITERIA, EXIT_INPUT, EXIT_RUN, EXIT_INTERRUPTED) == (0, 1, 2, 3, 130)
    doc = (ROOT / "docs" / "reliability.md").read_text()
    for code in (0, 1, 2, 3, 130):
        assert f"| {code} " in doc


# ------------------------------------------------------------------------------ run folders


def test_fresh_and_overwrite_choose_where_a_second_run_goes(workspace: Path) -> None:
    earlier = snapshot(workspace / "runs" / "earlier")
    res = CliRunner().invoke(app, ["run", BASELINE, *SHORT, "--out", "runs/earlier", "--fresh"])
    assert res.exit_code in (EXIT_OK, EXIT_CRITERIA), res.output
    assert (workspace / "runs" / "earlier-2" / "events.jsonl").exists()
    assert snapshot(workspace / "runs" / "earlier") == earlier
    (workspace / "runs" / "earlier" / "notes.txt").write_text("mine\n")
    res = CliRunner().invoke(app, ["run", BASELINE, *SHORT, "--out", "runs/earlier", "--overwrite"])
    assert res.exit_code in (EXIT_OK, EXIT_CRITERIA), res.output
    again = workspace / "runs" / "earlier"
    assert (again / "notes.txt").read_text() == "mine\n"  # not a run file: left alone
    assert json.loads((again / "summary.json").read_text())["scenario_id"] == "baseline"
    _, diff = compare_logs(again / "events.jsonl", workspace / "runs" / "earlier-2" / "events.jsonl")
    assert diff is None


def test_a_run_that_cannot_start_does_not_point_at_an_earlier_runs_log(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    scenario = str(SCENARIOS / "llm_agents.yaml")
    earlier = snapshot(workspace / "runs" / "earlier")
    res = CliRunner().invoke(app, ["run", scenario, *SHORT, "--out", "runs/earlier", "--overwrite"])
    assert res.exit_code == EXIT_RUN, res.output
    assert "cannot start" in res.output and "API_KEY" in res.output
    assert "events.jsonl" not in res.output  # the earlier run's log is not this run's
    assert snapshot(workspace / "runs" / "earlier") == earlier  # and it is still there, untouched


# ------------------------------------------------------------------------ replay --verify


def test_a_verification_difference_is_shown_where_it_is(tmp_path: Path) -> None:
    from swarm.runtime.replay import compare_logs as compare

    long_value = "x" * 1000
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text(json.dumps({"type": "t", "blob": long_value + "A" + long_value}) + "\n")
    b.write_text(json.dumps({"type": "t", "blob": long_value + "B" + long_value}) + "\n")
    _, diff = compare(a, b)
    assert diff is not None
    assert "A" in diff.expected and "B" in diff.found  # the differing part, not the line's start
    assert len(diff.expected) < 500 and diff.where.startswith("line 1, character")


# ------------------------------------------------------------------- the console script


@pytest.mark.parametrize(
    ("raised", "code"),
    [(ZeroDivisionError("a bug"), EXIT_RUN), (KeyboardInterrupt(), EXIT_INTERRUPTED)],
    ids=["a bug exits 3", "an interrupt exits 130"],
)
def test_the_console_script_maps_what_escapes_a_command(
    raised: BaseException,
    code: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import signal
    import sys

    import swarm.cli

    def broken(*args: object, **kwargs: object) -> None:
        raise raised

    monkeypatch.setattr(swarm.cli, "load_for_cli", broken)
    monkeypatch.setattr(sys, "argv", ["swarm", "run", "baseline"])
    previous = signal.getsignal(signal.SIGTERM)
    try:
        with pytest.raises(SystemExit) as info:
            swarm.cli.main()
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert info.value.code == code
    err = capsys.readouterr().err
    assert ("a bug" in err and "Traceback" in err) if code == EXIT_RUN else "Traceback" not in err
