"""Sweeps: planning, paired seeds, resumability, aggregation; export and report."""

from __future__ import annotations

import csv
import itertools
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from swarm import load_scenario, run
from swarm.analysis.aggregate import aggregate, collect, mean_ci, t95, write_tables
from swarm.analysis.export import tables
from swarm.analysis.sweep import load_sweep, plan, run_sweep
from swarm.cli import app
from swarm.errors import ScenarioError
from swarm.events import EpochCompleted, InteractionCompleted
from swarm.runtime.eventlog import read_log
from tests.conftest import SCENARIOS

SWEEP = """\
name: tiny
base: {base}
seeds: 2
epochs: 2
steps: 3
configurations:
  - name: baseline
  - name: audits
    set: {{governance.audit_enabled: true, governance.audit_probability: 0.5}}
vary:
  governance.transaction_tax_rate: [0.0, 0.1]
"""


def sweep_file(tmp_path: Path) -> Path:
    p = tmp_path / "tiny.yaml"
    p.write_text(SWEEP.format(base=SCENARIOS / "baseline.yaml"))
    return p


def test_plan_pairs_the_same_seeds_across_configurations(tmp_path: Path) -> None:
    spec, base = load_sweep(sweep_file(tmp_path))
    runs = plan(spec, base)
    configs = [c.name for c in spec.expanded()]
    assert configs == ["baseline", "audits", "transaction_tax_rate-0.0", "transaction_tax_rate-0.1"]
    assert len(runs) == 8
    seeds = {c: sorted(r.seed for r in runs if r.configuration == c) for c in configs}
    assert seeds == {c: [0, 1] for c in configs}


@pytest.mark.parametrize(
    ("patch", "key"),
    [("seeds: 2", "seeds"), ("name: tiny", "colour")],
)
def test_bad_sweep_files_name_the_key(tmp_path: Path, patch: str, key: str) -> None:
    p = sweep_file(tmp_path)
    text = p.read_text()
    text = text.replace("seeds: 2", "seeds: 0") if key == "seeds" else text + "colour: red\n"
    p.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_sweep(p)
    assert info.value.key == key


def test_bad_override_in_a_configuration_is_caught_before_running(tmp_path: Path) -> None:
    p = sweep_file(tmp_path)
    p.write_text(p.read_text().replace("audit_probability: 0.5", "audit_probability: 5"))
    spec, base = load_sweep(p)
    with pytest.raises(ScenarioError, match="audit_probability"):
        plan(spec, base)


def test_interrupted_then_resumed_sweep_equals_an_uninterrupted_one(tmp_path: Path) -> None:
    spec, base = load_sweep(sweep_file(tmp_path))
    runs = plan(spec, base)
    assert run_sweep(runs, tmp_path / "a", workers=2, max_runs=3) == 3
    assert run_sweep(runs, tmp_path / "a", workers=2) == 5
    assert run_sweep(runs, tmp_path / "a", workers=2) == 0
    run_sweep(runs, tmp_path / "b", workers=2)
    for out in (tmp_path / "a", tmp_path / "b"):
        rows = collect(runs, out)
        write_tables(out, rows, aggregate(rows))
    assert (tmp_path / "a" / "aggregate.csv").read_text() == (tmp_path / "b" / "aggregate.csv").read_text()
    assert not list((tmp_path / "a" / "runs").glob("*/.seed-*"))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(min_value=-100, max_value=100, allow_nan=False), min_size=2, max_size=40))
def test_confidence_interval_contains_the_mean_and_is_symmetric(xs: list[float]) -> None:
    mean, std, low, high = mean_ci(xs)
    assert low <= mean <= high
    assert math.isclose(mean - low, high - mean, rel_tol=1e-9, abs_tol=1e-9)
    assert math.isclose(
        high - low, 2 * t95(len(xs) - 1) * std / math.sqrt(len(xs)), rel_tol=1e-9, abs_tol=1e-9
    )


def test_t_quantiles_shrink_toward_the_normal() -> None:
    qs = [t95(df) for df in range(1, 60)]
    assert all(a >= b for a, b in itertools.pairwise(qs))
    assert qs[0] == pytest.approx(12.706) and qs[-1] == pytest.approx(1.96, abs=0.05)


def test_export_tables_match_the_log(tmp_path: Path) -> None:
    sc = load_scenario(SCENARIOS / "baseline.yaml", ["simulation.n_epochs=3"])
    run(sc, out_dir=tmp_path)
    t = tables(tmp_path / "events.jsonl")
    _, events = read_log(tmp_path / "events.jsonl")
    assert len(t["epochs"]) == sum(isinstance(e, EpochCompleted) for e in events)
    assert len(t["interactions"]) == sum(isinstance(e, InteractionCompleted) for e in events)
    assert len(t["agents"]) == 5
    res = CliRunner().invoke(app, ["export", str(tmp_path), "--format", "csv"])
    assert res.exit_code == 0
    with (tmp_path / "export" / "interactions.csv").open() as fh:
        assert len(list(csv.DictReader(fh))) == len(t["interactions"])


def test_sweep_command_and_report_write_tables_and_plots(tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(
        app,
        [
            "sweep",
            "baseline",
            "--vary",
            "governance.audit_probability=0.1,0.4",
            "--vary",
            "governance.audit_enabled=true",
            "--seeds",
            "2",
            "--workers",
            "2",
            "--out",
            str(tmp_path),
        ],
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "aggregate.csv").exists() and (tmp_path / "runs.parquet").exists()
    res = runner.invoke(app, ["report", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "metrics.png").stat().st_size > 10_000
    assert (tmp_path / "toxicity_over_time.png").exists()


def test_ctrl_c_then_restart_finishes_with_the_same_aggregate(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    p = sweep_file(tmp_path)
    p.write_text(p.read_text().replace("seeds: 2", "seeds: 4").replace("epochs: 2", "epochs: 6"))
    cmd = [sys.executable, "-m", "swarm", "sweep", str(p), "--workers", "2"]
    proc = subprocess.Popen(
        [*cmd, "--out", str(tmp_path / "a")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list((tmp_path / "a" / "runs").glob("*/seed-*/summary.json")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    finished = list((tmp_path / "a" / "runs").glob("*/seed-*/summary.json"))
    assert len(finished) > 0
    for out in ("a", "b"):
        done = subprocess.run([*cmd, "--out", str(tmp_path / out)], capture_output=True, timeout=120)
        assert done.returncode == 0
    assert (tmp_path / "a" / "aggregate.csv").read_text() == (tmp_path / "b" / "aggregate.csv").read_text()
