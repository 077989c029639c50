"""Checkpoints, resume and forks: a killed run resumed ends with the log of a run never killed."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swarm.analysis import forks
from swarm.runtime import checkpoint as ck
from swarm.runtime.simulation import Simulation, SimulationError
from swarm.scenario import Scenario, load_scenario
from tests.conftest import ROOT

SCENARIOS = ROOT / "scenarios"
PLAIN = sorted(p.stem for p in SCENARIOS.glob("*.yaml") if p.stem not in ("llm_agents", "llm_economies"))
CASSETTE = SCENARIOS / "cassettes" / "llm_agents.jsonl"


def short(name: str, epochs: int = 6) -> Scenario:
    return load_scenario(SCENARIOS / f"{name}.yaml").with_overrides([f"simulation.n_epochs={epochs}"])


def run(scenario: Scenario, out: Path, **kwargs: object) -> None:
    async def main() -> None:
        async with Simulation(scenario, out_dir=out, **kwargs) as sim:  # type: ignore[arg-type]
            await sim.wait()

    anyio.run(main)


def resume(run_dir: Path, **kwargs: object) -> None:
    async def main() -> None:
        async with Simulation.resume(run_dir, **kwargs) as sim:
            await sim.wait()

    anyio.run(main)


def events(log: Path, *, header: bool = True) -> list[bytes]:
    """The log's lines, the run_ended line's wall-clock field aside."""
    lines = log.read_bytes().splitlines()
    if not header:
        lines = lines[1:]
    return [line.split(b',"wall_clock"', 1)[0] if b'"run_ended"' in line else line for line in lines]


def kill_at(run_dir: Path, cut: int) -> None:
    """What kill -9 leaves when the log had ``cut`` bytes: a cut log, the checkpoints written by then."""
    log = run_dir / "events.jsonl"
    with log.open("r+b") as fh:
        fh.truncate(cut)
    for path in ck.list_checkpoints(run_dir):
        if ck.read_info(path).log_bytes > cut:
            path.unlink()
    for name in ("summary.json", "metrics.csv", "agent_epochs.csv"):
        (run_dir / name).unlink(missing_ok=True)


@pytest.fixture(scope="module")
def baseline_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every plain shipped scenario run once with checkpoints and once without."""
    base = tmp_path_factory.mktemp("checkpointed")
    out = {}
    for name in PLAIN:
        run(short(name), base / name / "plain")
        run(short(name), base / name / "with", checkpoint_every=1)
        out[name] = base / name
    return out


@pytest.mark.parametrize("name", PLAIN)
def test_checkpoints_change_nothing_in_the_log(baseline_runs: dict[str, Path], name: str) -> None:
    d = baseline_runs[name]
    assert events(d / "with" / "events.jsonl") == events(d / "plain" / "events.jsonl")
    epochs = [ck.read_epoch(p) for p in ck.list_checkpoints(d / "with")]
    assert epochs == [0, 1, 2, 3, 4, 5]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.sampled_from(PLAIN), where=st.floats(min_value=0.0, max_value=1.0))
def test_a_run_killed_anywhere_resumes_to_the_same_log(
    baseline_runs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory, name: str, where: float
) -> None:
    src = baseline_runs[name] / "with"
    first = ck.read_info(ck.path_for(src, 0)).log_bytes
    ended = (src / "events.jsonl").read_bytes().rstrip(b"\n").rfind(b"\n") + 1  # where run_ended starts
    cut = first + int(where * (ended - first))  # anywhere from the first checkpoint to the end of the run
    d = tmp_path_factory.mktemp("killed") / name
    shutil.copytree(src, d)
    kill_at(d, cut)
    resume(d)
    assert events(d / "events.jsonl") == events(baseline_runs[name] / "plain" / "events.jsonl")
    assert (d / "summary.json").read_text() == (src / "summary.json").read_text()
    assert (d / "metrics.csv").read_text() == (src / "metrics.csv").read_text()
    assert (d / "agent_epochs.csv").read_text() == (src / "agent_epochs.csv").read_text()


def _swarm(*args: str, cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "swarm", *args],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def swarm_cli(*args: str, cwd: Path | None = None, columns: int = 80) -> subprocess.CompletedProcess[bytes]:
    """Run a ``swarm`` command to its end in a subprocess."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": str(columns)}
    return subprocess.run(
        [sys.executable, "-m", "swarm", *args], cwd=cwd, capture_output=True, env=env, timeout=120
    )


def _wait_for_epochs(log: Path, proc: subprocess.Popen[bytes], epochs: int) -> None:
    """Poll the log until ``epochs`` epochs are complete (the run must still be going)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if log.is_file() and log.read_bytes().count(b'"type":"epoch_completed"') >= epochs:
            return
        assert proc.poll() is None, "the run ended before it could be killed"
        time.sleep(0.002)
    raise AssertionError(f"{log}: {epochs} epochs not reached")


KILLS = [3, 12, 24]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("uninterrupted")
    proc = _swarm("run", "baseline", "--epochs", "30", "--steps", "20", "--out", str(d / "run"), cwd=d)
    assert proc.wait(timeout=120) in (0, 1), proc.stderr.read() if proc.stderr else ""
    return d / "run"


@pytest.mark.parametrize("epochs", KILLS)
def test_kill_9_then_swarm_resume_gives_the_uninterrupted_log(
    uninterrupted: Path, tmp_path: Path, epochs: int
) -> None:
    run_dir = tmp_path / "run"
    proc = _swarm("run", "baseline", "--epochs", "30", "--steps", "20", "--out", str(run_dir), cwd=tmp_path)
    _wait_for_epochs(run_dir / "events.jsonl", proc, epochs)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert b'"run_ended"' not in (run_dir / "events.jsonl").read_bytes()
    done = swarm_cli("resume", str(run_dir), cwd=tmp_path)
    assert done.returncode in (0, 1), done.stderr.decode()
    assert events(run_dir / "events.jsonl") == events(uninterrupted / "events.jsonl")
    assert (run_dir / "metrics.csv").read_text() == (uninterrupted / "metrics.csv").read_text()


def test_an_llm_run_replayed_from_a_cassette_resumes_to_the_same_log(tmp_path: Path) -> None:
    from swarm.agents.llm_backend import LLMBackend

    sc = load_scenario(SCENARIOS / "llm_agents.yaml")

    def backend() -> LLMBackend:
        return LLMBackend(replay=str(CASSETTE), workers=1)

    run(sc, tmp_path / "plain", llm_factory=backend())
    run(sc, tmp_path / "with", llm_factory=backend(), checkpoint_every=1)
    assert events(tmp_path / "with" / "events.jsonl") == events(tmp_path / "plain" / "events.jsonl")
    size = (tmp_path / "with" / "events.jsonl").stat().st_size
    for k, share in enumerate((0.15, 0.5, 0.85)):
        d = tmp_path / f"killed-{k}"
        shutil.copytree(tmp_path / "with", d)
        kill_at(d, int(size * share))
        resume(d, llm_factory=backend())
        assert events(d / "events.jsonl") == events(tmp_path / "plain" / "events.jsonl")


def test_a_fork_with_no_change_reproduces_the_original(
    baseline_runs: dict[str, Path], tmp_path: Path
) -> None:
    src = baseline_runs["mixed_population"] / "with"
    sc = short("mixed_population")

    async def main() -> None:
        async with Simulation.fork(src, at_epoch=3, scenario=sc, out_dir=tmp_path / "same") as sim:
            await sim.wait()

    anyio.run(main)
    assert events(tmp_path / "same" / "events.jsonl", header=False) == events(
        src / "events.jsonl", header=False
    )
    assert (tmp_path / "same" / "metrics.csv").read_text() == (src / "metrics.csv").read_text()


def test_a_fork_changes_only_what_follows_the_fork(baseline_runs: dict[str, Path], tmp_path: Path) -> None:
    src = baseline_runs["baseline"] / "with"
    sc = short("baseline").with_overrides(["governance.transaction_tax_rate=0.3"])

    async def main() -> None:
        async with Simulation.fork(src, at_epoch=3, scenario=sc, out_dir=tmp_path / "tax") as sim:
            await sim.wait()

    anyio.run(main)
    original = events(src / "events.jsonl", header=False)
    branch = events(tmp_path / "tax" / "events.jsonl", header=False)
    boundary = ck.read_info(ck.path_for(src, 3)).seq
    assert branch[:boundary] == original[:boundary]
    assert branch[boundary:] != original[boundary:]
    header = (tmp_path / "tax" / "events.jsonl").read_text().splitlines()[0]
    assert '"forked_from"' in header and '"epoch":3' in header
    rows = (tmp_path / "tax" / "metrics.csv").read_text().splitlines()
    col = rows[0].split(",").index("governance_costs")
    costs = [float(r.split(",")[col]) for r in rows[1:]]
    assert costs[:3] == [0.0, 0.0, 0.0] and all(c > 0 for c in costs[3:])
    log = str(tmp_path / "tax" / "events.jsonl")
    recomputed = swarm_cli("replay", log)
    assert recomputed.returncode == 0, recomputed.stdout.decode() + recomputed.stderr.decode()
    verify = swarm_cli("replay", log, "--verify")
    assert verify.returncode == 2 and "a fork of run" in verify.stderr.decode()


def test_a_fork_with_another_seed_starts_fresh_streams_but_keeps_counters(
    baseline_runs: dict[str, Path], tmp_path: Path
) -> None:
    src = baseline_runs["baseline"] / "with"
    sc = short("baseline").with_overrides(["simulation.seed=7"])

    async def main() -> None:
        async with Simulation.fork(src, at_epoch=3, scenario=sc, out_dir=tmp_path / "seed") as sim:
            await sim.wait()

    anyio.run(main)
    original = (src / "events.jsonl").read_text()
    branch = (tmp_path / "seed" / "events.jsonl").read_text()
    assert branch != original
    ids = [
        line.split('"task_id":"', 1)[1].split('"', 1)[0]
        for line in branch.splitlines()
        if "task_created" in line
    ]
    assert len(ids) == len(set(ids)), "task ids restart after the fork"


def test_a_fork_cannot_change_the_agents(baseline_runs: dict[str, Path], tmp_path: Path) -> None:
    src = baseline_runs["baseline"] / "with"
    sc = short("baseline").with_overrides(["agents.0.count=9"])
    with pytest.raises(ck.CheckpointError, match="keeps the original run's agents; it would add"):
        Simulation.fork(src, at_epoch=3, scenario=sc, out_dir=tmp_path / "x")


def test_resume_refuses_what_it_cannot_continue(baseline_runs: dict[str, Path], tmp_path: Path) -> None:
    src = baseline_runs["baseline"] / "with"
    with pytest.raises(ck.CheckpointError, match="the run is over"):
        Simulation.resume_run(src)
    plain = baseline_runs["baseline"] / "plain"
    d = tmp_path / "plain"
    shutil.copytree(plain, d)
    kill_at(d, (d / "events.jsonl").stat().st_size // 2)
    with pytest.raises(ck.CheckpointError, match="no checkpoints"):
        Simulation.resume_run(d)
    with pytest.raises(ck.CheckpointError, match="not a run folder"):
        Simulation.resume_run(tmp_path)


def test_a_damaged_or_foreign_checkpoint_is_passed_over_for_an_earlier_one(
    baseline_runs: dict[str, Path], tmp_path: Path
) -> None:
    d = tmp_path / "run"
    shutil.copytree(baseline_runs["baseline"] / "with", d)
    kill_at(d, ck.read_info(ck.path_for(d, 4)).log_bytes + 100)
    last = ck.path_for(d, 4)
    head, _, body = last.read_bytes().partition(b"\n")
    last.write_bytes(head + b"\n" + body[: len(body) // 2])
    log = d / "events.jsonl"
    path, info = ck.choose(d, log, ck.read_info(ck.path_for(d, 3)).run_id)
    assert info.epoch == 3 and path == ck.path_for(d, 3)
    resume(d)
    assert events(log) == events(baseline_runs["baseline"] / "plain" / "events.jsonl")


class _Locked:
    """A custom policy holding something that cannot be saved."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def decide(self, observation: object) -> object:
        from swarm.actions import NOOP

        return NOOP

    def accept(self, observation: object, proposal: object) -> bool:
        return False

    def observe(self, outcome: object) -> None:
        return None


def test_an_unsaveable_custom_policy_stops_the_run_naming_it(tmp_path: Path) -> None:
    sc = short("baseline", epochs=3)
    agent = sc.agent_ids()[0][0]
    with pytest.raises(SimulationError, match=f"cannot save policy:{agent}.*lock"):
        run(sc, tmp_path / "r", checkpoint_every=1, policies={agent: _Locked()})
    assert (tmp_path / "r" / "events.jsonl").read_bytes().count(b"run_ended") == 1


def test_the_fork_command_compares_paired_branches_with_an_interval(
    baseline_runs: dict[str, Path], tmp_path: Path
) -> None:
    d = tmp_path / "run"
    shutil.copytree(baseline_runs["baseline"] / "with", d)
    done = swarm_cli(
        "fork",
        str(d),
        "--at-epoch",
        "3",
        "--set",
        "governance.transaction_tax_rate=0.2",
        "--seeds",
        "3",
        "--name",
        "tax",
        columns=200,
    )
    assert done.returncode == 0, done.stderr.decode()
    fs, diffs = forks.compare(d / "forks" / "tax")
    assert fs.seeds is not None and len(fs.seeds) == 3 and fs.at_epoch == 3
    by = {x.metric: x for x in diffs}
    assert by["governance_costs"].n == 3 and by["governance_costs"].ci_low > 0
    assert "governance_costs" in done.stdout.decode()
    report = swarm_cli("report", str(d / "forks" / "tax"), columns=200)
    assert report.returncode == 0 and "paired by seed" in report.stdout.decode()
    again = swarm_cli("fork", str(d), "--at-epoch", "3", "--name", "tax")
    assert again.returncode == 2 and "--overwrite" in again.stderr.decode()
    missing = swarm_cli("fork", str(d), "--at-epoch", "99")
    assert missing.returncode == 2 and "no epoch left" in missing.stderr.decode()


def test_a_resumed_run_interrupted_by_ctrl_c_resumes_again(uninterrupted: Path, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    proc = _swarm("run", "baseline", "--epochs", "30", "--steps", "20", "--out", str(run_dir), cwd=tmp_path)
    _wait_for_epochs(run_dir / "events.jsonl", proc, 4)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    again = _swarm("resume", str(run_dir), cwd=tmp_path)
    _wait_for_epochs(run_dir / "events.jsonl", again, 15)
    again.send_signal(signal.SIGINT)
    assert again.wait(timeout=60) == 130
    last = (run_dir / "events.jsonl").read_bytes().rstrip().rsplit(b"\n", 1)[-1]
    assert b'"run_ended"' in last and b'"interrupted"' in last
    done = swarm_cli("resume", str(run_dir), cwd=tmp_path)
    assert done.returncode in (0, 1), done.stderr.decode()
    assert events(run_dir / "events.jsonl") == events(uninterrupted / "events.jsonl")


def test_a_stop_asked_for_while_a_checkpoint_is_written_does_not_stop_the_resumed_run(
    baseline_runs: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = ck.StateCodec.dumps

    def interrupted_meanwhile(self: ck.StateCodec, world: Any, clock: Any, llm: object = None) -> bytes:
        if len(clock.epochs) == 3:
            clock.stopped_by = "interrupted"  # as the Ctrl-C handler does, while the actors settle
        return original(self, world, clock, llm)

    monkeypatch.setattr(ck.StateCodec, "dumps", interrupted_meanwhile)
    run(short("baseline"), tmp_path / "r", checkpoint_every=1)
    assert ck.ended(tmp_path / "r" / "events.jsonl") == "interrupted"
    monkeypatch.setattr(ck.StateCodec, "dumps", original)
    resume(tmp_path / "r")
    assert events(tmp_path / "r" / "events.jsonl") == events(
        baseline_runs["baseline"] / "plain" / "events.jsonl"
    )
