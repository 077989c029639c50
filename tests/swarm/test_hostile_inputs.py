"""Hostile inputs: every bad scenario or sweep file is refused as bad input (exit 2).

One table per class of input. Each case asserts what the exit-code contract
promises: a ``ScenarioError`` (the CLI's exit 2, never a traceback) naming the
file, the key path and/or the line, answered within a couple of seconds of CPU
whatever the input's size, and nothing already written lost or changed (bad
input writes nothing at all). A representative subset goes through the
``swarm`` command as a subprocess; the rest through the library, which the
command calls.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from swarm.analysis.aggregate import collect
from swarm.analysis.report import ReportError
from swarm.analysis.sweep import RunSpec, load_sweep, plan
from swarm.cli import app
from swarm.errors import ScenarioError
from swarm.limits import ENV, Limits, budget_overrun
from swarm.runtime.rundir import prepare_run_dir
from swarm.scenario import load_scenario
from swarm.scenario._yaml import parse
from tests.conftest import ROOT, SCENARIOS

CPU_SECONDS = 30.0
"""A hang guard, not a speed target: bad input is refused without expanding it.

An expanded alias bomb (9**9 values) or an unbounded walk would run for many minutes
or exhaust memory; a refusal runs in well under a second on a quiet machine. The bound
is wide so that a slow or loaded CI machine never fails a correct refusal; how fast
the loader is belongs to ``bench/``, not here."""

BASE = """\
scenario_id: hostile
agents:
  - type: honest
    count: 2
simulation:
  n_epochs: 2
  steps_per_epoch: 2
  seed: 1
payoff:
  s_plus: 2.0
"""
# line numbers in BASE: agents 2, count 4, simulation 5, n_epochs 6, seed 8, payoff 9, s_plus 10


def _bomb(key: str, levels: int = 9) -> str:
    """A billion laughs under ``key``: level i is nine aliases of level i-1 (9**levels values)."""
    names = [chr(ord("a") + i) for i in range(levels)]
    lines = [f"{key}:", f"  {names[0]}: &{names[0]} [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for prev, name in itertools.pairwise(names):
        lines.append(f"  {name}: &{name} [{', '.join([f'*{prev}'] * 9)}]")
    return "\n".join(lines) + "\n"


def _nested(depth: int) -> str:
    return "".join("  " * i + f"k{i}:\n" for i in range(depth)) + "  " * depth + "leaf\n"


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if line.startswith(needle))


@dataclass(frozen=True)
class Case:
    id: str
    text: str | bytes
    key: str | None
    """The key path the message names (None: the problem is the file as a whole)."""
    line: int | None
    """The line the message names (None: none, e.g. for an override)."""
    problem: str
    """A part of the problem's description."""
    overrides: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    source: str | None = None
    """The source the message names, when it is not the file (``--set``, an environment variable)."""


BOMB = BASE + _bomb("colour")
DEEP = BASE + _nested(80)
FLOW_DEEP = BASE + "colour: " + "[" * 5000 + "]" * 5000 + "\n"
WIDE = BASE + "colour: [" + ", ".join(["1"] * 150_000) + "]\n"
HUGE = BASE + "description: >\n" + ("  " + "x" * 100 + "\n") * 11_000

SCENARIO_CASES = [
    # --- resource exhaustion
    Case(
        "alias bomb in a rejected value", BOMB, "colour.f", _line(BOMB, "  f:"), "once aliases are expanded"
    ),
    Case("deep nesting (block)", DEEP, "k0", _line(DEEP, "  " * 64 + "k64"), "nested more than 64 levels"),
    Case("deep nesting (flow)", FLOW_DEEP, None, _line(FLOW_DEEP, "colour"), "nested too deeply"),
    Case("100,000 values", WIDE, "colour", _line(WIDE, "colour"), "more than 100,000 values"),
    Case("file over the size limit", HUGE, None, None, "larger than the limit of 1,048,576 bytes"),
    Case(
        "a billion agents",
        BASE.replace("count: 2", "count: 1000000000"),
        "agents.0.count",
        4,
        "SWARM_MAX_AGENTS",
    ),
    Case(
        "ten million epochs",
        BASE.replace("n_epochs: 2", "n_epochs: 10000000"),
        "simulation.n_epochs",
        6,
        "over the limit of 1,000,000",
    ),
    Case(
        "agent-turns",
        BASE.replace("count: 2", "count: 200000").replace("n_epochs: 2", "n_epochs: 500"),
        "agents.0.count",
        4,
        "SWARM_MAX_AGENT_TURNS",
    ),
    Case(
        "a trillion tasks an epoch",
        BASE + "environment:\n  tasks_per_epoch: 1000000000000\n",
        "environment.tasks_per_epoch",
        12,
        "agent-turns",
    ),
    Case(
        "estimated memory",
        BASE.replace("count: 2", "count: 100000"),
        "agents.0.count",
        4,
        "SWARM_MAX_MEMORY",
        env={ENV["memory"]: "300M"},
    ),
    Case(
        "a limit that is not a number",
        BASE,
        None,
        None,
        "is not a limit",
        env={ENV["agents"]: "lots"},
        source=ENV["agents"],
    ),
    # --- numbers
    Case("NaN", BASE.replace("s_plus: 2.0", "s_plus: .nan"), "payoff.s_plus", 10, "not a finite number"),
    Case(
        "infinity",
        BASE + "environment:\n  initial_resources: .inf\n",
        "environment.initial_resources",
        12,
        "not a finite number",
    ),
    Case(
        "-infinity in a criterion",
        BASE + "success_criteria:\n  max_avg_toxicity: -.inf\n",
        "success_criteria.max_avg_toxicity",
        12,
        "not a finite number",
    ),
    Case("1e308", BASE.replace("s_plus: 2.0", "s_plus: 1.0e+308"), "payoff.s_plus", 10, "out of range"),
    Case(
        "1e308 without a dot (text to YAML)",
        BASE.replace("s_plus: 2.0", "s_plus: 1e308"),
        "payoff.s_plus",
        10,
        "wrong type",
    ),
    Case(
        "a 5,000-digit integer",
        BASE.replace("seed: 1", "seed: " + "9" * 5000),
        "simulation.seed",
        8,
        "cannot read",
    ),
    # --- lenient parsing
    Case(
        "duplicate key",
        BASE.replace("  seed: 1\n", "  seed: 1\n  seed: 2\n"),
        "simulation.seed",
        9,
        "first on line 8, again on line 9",
    ),
    Case(
        "duplicate section",
        BASE + "simulation:\n  seed: 3\n",
        "simulation",
        11,
        "first on line 5, again on line 11",
    ),
    Case(
        "duplicate key in a flow mapping",
        BASE + "governance: {audit_enabled: true, audit_enabled: false}\n",
        "governance.audit_enabled",
        11,
        "duplicate key",
    ),
    Case("count as a string", BASE.replace("count: 2", 'count: "2"'), "agents.0.count", 4, "wrong type"),
    Case("count as a boolean", BASE.replace("count: 2", "count: true"), "agents.0.count", 4, "wrong type"),
    Case(
        "epochs as a float",
        BASE.replace("n_epochs: 2", "n_epochs: 2.0"),
        "simulation.n_epochs",
        6,
        "wrong type",
    ),
    Case(
        "missing agent type",
        BASE.replace("  - type: honest\n    count: 2", "  - count: 2"),
        "agents.0.type",
        3,
        "missing key 'type'",
    ),
    Case(
        "alias and canonical key both given",
        BASE.replace("  n_epochs: 2\n", "  n_epochs: 2\n  epochs: 3\n"),
        "simulation.epochs",
        7,
        "keep 'n_epochs'",
    ),
    Case(
        "governance alias and key both given",
        BASE + "governance:\n  transaction_tax_rate: 0.1\n  transaction_tax: 0.2\n",
        "governance.transaction_tax",
        13,
        "both given",
    ),
    Case("not UTF-8", BASE.encode() + b"description: caf\xe9\n", None, 11, "not UTF-8"),
    Case("a control character", BASE + "description: a\x07b\n", None, 11, "malformed YAML"),
    Case("an alias inside its own anchor", BASE + "colour: &a [1, *a]\n", "colour.1", 11, "inside the node"),
    Case("an undefined alias", BASE + "colour: *nowhere\n", "colour", 11, "undefined alias"),
    Case("a second document", BASE + "---\nagents: []\n", None, 11, "second YAML document"),
    Case(
        "a Python tag", BASE + "colour: !!python/object/apply:os.system [echo]\n", None, 11, "malformed YAML"
    ),
    Case(
        "a date of month 13",
        BASE.replace("seed: 1", "seed: 2001-13-01"),
        "simulation.seed",
        8,
        "month must be in 1..12",
    ),
    Case("a list at the top", "- agents\n- simulation\n", None, None, "the top level is not a mapping"),
    Case("an empty file", "", None, None, "the top level is not a mapping"),
    # --- paths
    Case(
        "scenario_id with ..",
        BASE.replace("scenario_id: hostile", "scenario_id: ../../etc"),
        "scenario_id",
        1,
        "pattern",
    ),
    Case(
        "absolute scenario_id",
        BASE.replace("scenario_id: hostile", "scenario_id: /tmp/x"),
        "scenario_id",
        1,
        "pattern",
    ),
    Case(
        "scenario_id with a NUL",
        BASE.replace("scenario_id: hostile", 'scenario_id: "a\\0b"'),
        "scenario_id",
        1,
        "pattern",
    ),
    Case(
        "scenario_id with a slash",
        BASE.replace("scenario_id: hostile", "scenario_id: a/b"),
        "scenario_id",
        1,
        "pattern",
    ),
    Case(
        "outputs.event_log outside",
        BASE + "outputs:\n  event_log: ../../elsewhere.jsonl\n",
        "outputs.event_log",
        12,
        "inside the working directory",
    ),
    Case(
        "absolute outputs.metrics_csv",
        BASE + "outputs:\n  metrics_csv: /tmp/m.csv\n",
        "outputs.metrics_csv",
        12,
        "inside the working directory",
    ),
    # --- overrides (--set): the same checks, reported as the override's
    Case(
        "--set NaN",
        BASE,
        "payoff.s_plus",
        None,
        "not a finite number",
        overrides=("payoff.s_plus=.nan",),
        source="--set",
    ),
    Case(
        "--set 1e400",
        BASE,
        "payoff.s_plus",
        None,
        "not a finite number",
        overrides=("payoff.s_plus=1.0e+400",),
        source="--set",
    ),
    Case(
        "--set a billion agents",
        BASE,
        "agents.0.count",
        None,
        "SWARM_MAX_AGENTS",
        overrides=("agents.0.count=1000000000",),
        source="--set",
    ),
    Case(
        "--set a duplicate key",
        BASE,
        "governance",
        None,
        "duplicate key",
        overrides=("governance={audit_enabled: true, audit_enabled: false}",),
        source="--set",
    ),
    Case(
        "--set a deep value",
        BASE,
        "colour",
        None,
        "nested more than 64 levels",
        overrides=("colour=" + "[" * 70 + "]" * 70,),
        source="--set",
    ),
    Case(
        "--set a huge index",
        BASE,
        "agents.99999999999999999999999.count",
        None,
        "no list item",
        overrides=("agents.99999999999999999999999.count=1",),
        source="--set",
    ),
    Case(
        "--set a string count",
        BASE,
        "agents.0.count",
        None,
        "wrong type",
        overrides=("agents.0.count='3'",),
        source="--set",
    ),
]


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Path]:
    """A folder holding an earlier run and an earlier sweep; the test asserts neither changes."""
    run = tmp_path / "runs" / "hostile-1"
    run.mkdir(parents=True)
    for name in ("events.jsonl", "metrics.csv", "summary.json"):
        (run / name).write_text(f"earlier {name}\n")
    finished = tmp_path / "runs" / "sweep-old" / "runs" / "baseline" / "seed-0"
    finished.mkdir(parents=True)
    (finished / "summary.json").write_text('{"summary": {}, "passed": true}\n')
    yield tmp_path


def _write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _check(exc: ScenarioError, case: Case, path: Path) -> None:
    message = str(exc)
    assert "Traceback" not in message
    if case.source is not None:
        assert exc.source == case.source and message.startswith(case.source)
    else:
        assert exc.source == str(path) and message.startswith(str(path))
    if case.key is None:
        assert exc.key is None
    else:
        assert exc.key is not None and exc.key.startswith(case.key)
        assert case.key in message
    assert exc.line == case.line
    if case.line is not None:
        assert f"{path}:{case.line}" in message
    assert case.problem in message
    assert len(message) < 1000, message


def _timed(call: Callable[[], Any]) -> Any:
    start = time.process_time()
    try:
        return call()
    finally:
        assert time.process_time() - start < CPU_SECONDS


@pytest.mark.parametrize("case", SCENARIO_CASES, ids=lambda c: c.id)
def test_a_hostile_scenario_file_is_refused_with_its_key_path(
    case: Case, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    path = _write(workspace, "hostile.yaml", case.text)
    before = snapshot(workspace)
    with pytest.raises(ScenarioError) as info:
        _timed(lambda: load_scenario(path, list(case.overrides)))
    _check(info.value, case, path)
    assert snapshot(workspace) == before


def test_every_valid_case_base_loads() -> None:
    sc = load_scenario(yaml.safe_load(BASE))
    assert sc.scenario_id == "hostile" and budget_overrun(sc) is None


def test_an_alias_bomb_handed_over_as_python_data_is_refused_fast() -> None:
    level: Any = ["lol"] * 9
    for _ in range(9):
        level = [level] * 9  # 9**10 leaves, all shared
    data = {"agents": [{"type": "honest"}], "colour": level}
    with pytest.raises(ScenarioError) as info:
        _timed(lambda: load_scenario(data))
    assert info.value.key == "colour" and info.value.problem == "unknown key"
    assert len(str(info.value)) < 300


def test_a_directory_or_a_missing_file_is_named(tmp_path: Path) -> None:
    for path, problem in ((tmp_path, "a directory"), (tmp_path / "nope.yaml", "file not found")):
        with pytest.raises(ScenarioError) as info:
            load_scenario(path)
        assert info.value.source == str(path) and problem in info.value.problem


def test_limits_are_raised_by_their_environment_variables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = _write(tmp_path, "s.yaml", BASE.replace("count: 2", "count: 1000001"))
    with pytest.raises(ScenarioError, match="SWARM_MAX_AGENTS=1000001"):
        load_scenario(path)
    monkeypatch.setenv(ENV["agents"], "2_000_000")
    monkeypatch.setenv(ENV["memory"], "64G")
    assert load_scenario(path).agents[0].count == 1_000_001
    assert Limits.from_env().memory == 64 << 30


def test_strict_yaml_reads_every_shipped_file_as_safe_load_does() -> None:
    files = [*SCENARIOS.glob("*.yaml"), *SCENARIOS.glob("sweeps/*.yaml")]
    files += (ROOT / "tests" / "fixtures" / "reference_scenarios").glob("*.yaml")
    assert len(files) > 10
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert parse(text) == yaml.safe_load(text), path


# ---------------------------------------------------------------- sweep files

SWEEP = """\
name: hostile
base: {base}
seeds: 2
epochs: 2
steps: 2
configurations:
  - name: baseline
  - name: audits
    set: {{governance.audit_enabled: true, governance.audit_probability: 0.5}}
"""
# line numbers: name 1, base 2, seeds 3, epochs 4, configurations 6, first name 7, audits 8, set 9


def _sweep(old: str, new: str) -> str:
    text = SWEEP.format(base=SCENARIOS / "baseline.yaml")
    assert old in text
    return text.replace(old, new)


SWEEP_TEXT = SWEEP.format(base=SCENARIOS / "baseline.yaml")
SWEEP_BOMB = SWEEP_TEXT + _bomb("colour")

SWEEP_CASES = [
    Case("duplicate seeds", _sweep("seeds: 2", "seeds: [3, 1, 3]"), "seeds.2", 3, "seed 3 is listed twice"),
    Case("a name with ..", _sweep("name: hostile", "name: ../../etc"), "name", 1, "not a usable folder name"),
    Case(
        "an absolute name", _sweep("name: hostile", "name: /tmp/sweep"), "name", 1, "not a usable folder name"
    ),
    Case(
        "a configuration named ..",
        _sweep("- name: baseline", "- name: .."),
        "configurations.0.name",
        7,
        "not a usable folder name",
    ),
    Case(
        "a configuration name with a slash",
        _sweep("- name: baseline", "- name: a/b"),
        "configurations.0.name",
        7,
        "not a usable folder name",
    ),
    Case(
        "a configuration name with a NUL",
        _sweep("- name: baseline", '- name: "a\\0b"'),
        "configurations.0.name",
        7,
        "not a usable folder name",
    ),
    Case(
        "a hidden configuration",
        _sweep("- name: baseline", "- name: .seed-0.partial"),
        "configurations.0.name",
        7,
        "not a usable folder name",
    ),
    Case(
        "two configurations of one name",
        _sweep("- name: audits", "- name: baseline"),
        "configurations",
        6,
        "unique",
    ),
    Case("seeds as a string", _sweep("seeds: 2", 'seeds: "2"'), "seeds", 3, "wrong type"),
    Case("seeds as a boolean", _sweep("seeds: 2", "seeds: true"), "seeds", 3, "wrong type"),
    Case("epochs as a float", _sweep("epochs: 2", "epochs: 2.0"), "epochs", 4, "wrong type"),
    Case("a trillion seeds", _sweep("seeds: 2", "seeds: 1000000000000"), "seeds", 3, "SWARM_MAX_SWEEP_RUNS"),
    Case(
        "a grid of a million configurations",
        SWEEP_TEXT + "vary:\n" + "".join(f"  k{i}: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n" for i in range(6)),
        "vary",
        10,
        "SWARM_MAX_SWEEP_RUNS",
    ),
    Case(
        "an empty axis",
        SWEEP_TEXT + "vary:\n  governance.transaction_tax_rate: []\n",
        "vary.governance.transaction_tax_rate",
        11,
        "no values",
    ),
    Case(
        "NaN in a grid",
        SWEEP_TEXT + "vary:\n  governance.transaction_tax_rate: [0.1, .nan]\n",
        "vary.governance.transaction_tax_rate.1",
        11,
        "not a finite number",
    ),
    Case(
        "infinity in a configuration",
        _sweep("audit_probability: 0.5", "audit_probability: .inf"),
        "configurations.1.set.governance.audit_probability",
        9,
        "not a finite number",
    ),
    Case("duplicate key", SWEEP_TEXT + "seeds: 3\n", "seeds", 10, "first on line 3, again on line 10"),
    Case("alias bomb", SWEEP_BOMB, "colour.f", _line(SWEEP_BOMB, "  f:"), "once aliases are expanded"),
    Case("unknown key", SWEEP_TEXT + "colour: red\n", "colour", 10, "unknown key"),
    Case(
        "a base that does not exist",
        _sweep(str(SCENARIOS / "baseline.yaml"), "nowhere.yaml"),
        "base",
        2,
        "is not a file",
    ),
    Case("a list at the top", "- name\n- base\n", None, None, "the top level is not a mapping"),
    Case("not UTF-8", SWEEP_TEXT.encode() + b"# caf\xe9\n", None, 10, "not UTF-8"),
]


@pytest.mark.parametrize("case", SWEEP_CASES, ids=lambda c: c.id)
def test_a_hostile_sweep_file_is_refused_with_its_key_path(case: Case, workspace: Path) -> None:
    path = _write(workspace, "sweep.yaml", case.text)
    before = snapshot(workspace)
    with pytest.raises(ScenarioError) as info:
        _timed(lambda: load_sweep(path))
    _check(info.value, case, path)
    assert snapshot(workspace) == before


PLAN_CASES = [
    # Refused when the runs are planned, before any runs: a configuration's override, or the sweep's own keys.
    (
        "a bad override",
        _sweep("audit_probability: 0.5", "audit_probability: 5"),
        "(configuration audits)",
        "governance.audit_probability",
        "out of range",
    ),
    (
        "a bad key in an override",
        _sweep("governance.audit_probability", "governance.colour"),
        "(configuration audits)",
        "governance.colour",
        "unknown key",
    ),
    (
        "ten million epochs",
        _sweep("epochs: 2", "epochs: 10000000"),
        "sweep.yaml",
        "epochs",
        "over the limit of 1,000,000",
    ),
    (
        "a billion agents",
        _sweep("set: {", "set: {agents.0.count: 1000000000, "),
        "(configuration audits)",
        "agents.0.count",
        "SWARM_MAX_AGENTS",
    ),
]


@pytest.mark.parametrize(
    ("case", "text", "source", "key", "problem"), PLAN_CASES, ids=[c[0] for c in PLAN_CASES]
)
def test_a_configuration_is_refused_before_anything_runs(
    case: str, text: str, source: str, key: str, problem: str, workspace: Path
) -> None:
    path = _write(workspace, "sweep.yaml", text)
    spec, base = load_sweep(path)
    before = snapshot(workspace)
    with pytest.raises(ScenarioError) as info:
        _timed(lambda: plan(spec, base, source=str(path)))
    assert source in info.value.source and info.value.key == key
    assert problem in str(info.value) and key in str(info.value)
    assert snapshot(workspace) == before


def test_a_run_spec_cannot_name_a_folder_outside_the_sweep() -> None:
    for name in ("..", "../x", "/abs", ".hidden", "a/b"):
        with pytest.raises(ValueError, match="configuration"):
            RunSpec(configuration=name, seed=0, base="b.yaml", overrides=[])


# ---------------------------------------------------------- sweep output files


def test_a_corrupt_run_summary_is_named_not_a_traceback(tmp_path: Path) -> None:
    run = RunSpec(configuration="baseline", seed=0, base="b.yaml", overrides=[])
    folder = run.directory(tmp_path)
    folder.mkdir(parents=True)
    for corrupt in ("{not json", "[1, 2]", '{"summary": 3, "passed": true}'):
        (folder / "summary.json").write_text(corrupt)
        with pytest.raises(ReportError, match="not a run summary"):
            collect([run], tmp_path)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("configuration,metric,n,mean,std,ci_low,ci_high\nbase,avg_toxicity,3,x,0,0,0\n", ":2: mean = 'x'"),
        (
            "configuration,metric,n,mean,std,ci_low,ci_high\nbase,avg_toxicity,3,nan,0,0,0\n",
            ":2: mean = 'nan'",
        ),
        ("configuration,metric,n,mean\nbase,avg_toxicity,3,0.1\n", "no column 'std'"),
        ("configuration,metric,n,mean,std,ci_low,ci_high\nbase,avg_toxicity,2.5,0,0,0,0\n", ":2: n = '2.5'"),
    ],
    ids=["not a number", "nan", "a missing column", "a fractional count"],
)
def test_report_on_a_corrupt_aggregate_exits_2(tmp_path: Path, content: str, expected: str) -> None:
    (tmp_path / "aggregate.csv").write_text(content)
    before = snapshot(tmp_path)
    res = CliRunner().invoke(app, ["report", str(tmp_path), "--no-plots"])
    assert res.exit_code == 2, res.output
    assert expected in res.output and "aggregate.csv" in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    "args",
    [
        ["--workers", "-1"],
        ["--workers", "0"],
        ["--max-runs", "-1"],
        ["--backend", "threads"],
        ["--vary", "governance.audit_probability=0.1", "--seeds", "0"],
        ["--vary", "governance.audit_probability=0.1", "--vary", "governance.audit_probability=0.2"],
        ["--vary", "governance.audit_probability=" + "9" * 5000],
    ],
    ids=[
        "workers -1",
        "workers 0",
        "max-runs -1",
        "unknown backend",
        "seeds 0",
        "a key varied twice",
        "a 5,000-digit value",
    ],
)
def test_bad_sweep_options_exit_2(args: list[str], workspace: Path) -> None:
    before = snapshot(workspace)
    target = (
        str(SCENARIOS / "sweeps" / "mvp12.yaml") if "--vary" not in args else str(SCENARIOS / "baseline.yaml")
    )
    res = CliRunner().invoke(app, ["sweep", target, "--out", str(workspace / "runs" / "sweep-old"), *args])
    assert res.exit_code == 2, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    assert snapshot(workspace) == before


# ------------------------------------------------------------------ run folders


def test_an_existing_run_folder_is_refused_unless_overwrite_or_fresh(workspace: Path) -> None:
    earlier = workspace / "runs" / "hostile-1"
    before = snapshot(workspace)
    with pytest.raises(ScenarioError) as info:
        prepare_run_dir(earlier)
    assert (
        info.value.source == "--out"
        and "an earlier run" in str(info.value)
        and "--overwrite" in str(info.value)
    )
    assert prepare_run_dir(earlier, overwrite=True) == earlier
    assert prepare_run_dir(earlier, fresh=True) == earlier.with_name("hostile-1-2")
    (workspace / "runs" / "hostile-1-2").mkdir()
    (workspace / "runs" / "hostile-1-2" / "x").write_text("x")
    assert prepare_run_dir(earlier, fresh=True) == earlier.with_name("hostile-1-3")
    assert prepare_run_dir(workspace / "runs" / "new") == workspace / "runs" / "new"
    (workspace / "runs" / "empty").mkdir()
    assert prepare_run_dir(workspace / "runs" / "empty") == workspace / "runs" / "empty"
    with pytest.raises(ScenarioError, match="is a file"):
        prepare_run_dir(earlier / "summary.json", overwrite=True)
    before["runs/hostile-1-2/x"] = b"x"
    assert snapshot(workspace) == before


# ------------------------------------------------- the command, as a subprocess


@dataclass(frozen=True)
class CommandCase:
    id: str
    args: tuple[str, ...]
    file: str
    text: str
    expected: tuple[str, ...]
    """Parts of stderr: the file and line, the key path, the problem."""


COMMAND_CASES = [
    CommandCase(
        "alias bomb",
        ("run", "hostile.yaml"),
        "hostile.yaml",
        BOMB,
        (f"hostile.yaml:{_line(BOMB, '  f:')}: colour.f", "once aliases are expanded"),
    ),
    CommandCase(
        "NaN",
        ("run", "hostile.yaml"),
        "hostile.yaml",
        BASE.replace("s_plus: 2.0", "s_plus: .nan"),
        ("hostile.yaml:10: payoff.s_plus = nan", "not a finite number"),
    ),
    CommandCase(
        "a billion agents",
        ("run", "hostile.yaml"),
        "hostile.yaml",
        BASE.replace("count: 2", "count: 1000000000"),
        ("hostile.yaml:4: agents.0.count = 1000000000", "SWARM_MAX_AGENTS"),
    ),
    CommandCase(
        "duplicate key",
        ("run", "hostile.yaml", "--set", "simulation.seed=3"),
        "hostile.yaml",
        BASE.replace("  seed: 1\n", "  seed: 1\n  seed: 2\n"),
        ("hostile.yaml:9: simulation.seed", "first on line 8, again on line 9"),
    ),
    CommandCase(
        "duplicate seeds",
        ("sweep", "sweep.yaml", "--out", "runs/sweep-old"),
        "sweep.yaml",
        _sweep("seeds: 2", "seeds: [0, 1, 0]"),
        ("sweep.yaml:3: seeds.2 = 0", "listed twice"),
    ),
    CommandCase(
        "a configuration named ..",
        ("sweep", "sweep.yaml", "--out", "runs/sweep-old"),
        "sweep.yaml",
        _sweep("- name: audits", "- name: .."),
        ("sweep.yaml:8: configurations.1.name", "folder name"),
    ),
]


@pytest.fixture(scope="module")
def command_results(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[Path, dict[str, bytes], Any]]:
    """Every command case run at once (two cores: the start-ups overlap), each in a workspace of its own."""
    script = Path(sys.executable).parent / "swarm"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "swarm.cli"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = {}
    for case in COMMAND_CASES:
        root = tmp_path_factory.mktemp("cmd")
        run = root / "runs" / "hostile-1"
        run.mkdir(parents=True)
        (run / "events.jsonl").write_text("earlier\n")
        finished = root / "runs" / "sweep-old" / "runs" / "baseline" / "seed-0"
        finished.mkdir(parents=True)
        (finished / "summary.json").write_text('{"summary": {}, "passed": true}\n')
        (root / case.file).write_text(case.text)
        before = snapshot(root)
        proc = subprocess.Popen(
            [*command, *case.args],
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started[case.id] = (root, before, proc, time.monotonic())
    results = {}
    for name, (root, before, proc, start) in started.items():
        out, err = proc.communicate(timeout=120)
        results[name] = (root, before, (proc.returncode, out, err, time.monotonic() - start))
    return results


@pytest.mark.parametrize("case", COMMAND_CASES, ids=lambda c: c.id)
def test_the_command_exits_2_without_a_traceback(
    case: CommandCase, command_results: dict[str, tuple[Path, dict[str, bytes], Any]]
) -> None:
    root, before, (code, _out, err, seconds) = command_results[case.id]
    assert code == 2, err
    assert "Traceback" not in err
    for part in case.expected:
        assert part in err, err
    assert snapshot(root) == before
    assert seconds < 60  # all cases share two cores; each alone answers in well under two seconds
