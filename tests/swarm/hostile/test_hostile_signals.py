"""Signals and faults on real processes: Ctrl-C, SIGTERM and kill -9 on ``swarm`` commands.

Each case starts the command as a subprocess, waits on what it writes (a log line,
a finished run, a listening port) rather than on fixed sleeps, sends the signal and
asserts the exit-code contract (130, no traceback), what the log and summary say,
and that no worker process outlives its parent. Linux only (worker processes are
found through /proc).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from random import Random

import anyio
import pytest

from adapters.mock_server import FAULTS
from swarm import Action, Observation, Simulation
from swarm.agents.scripted import HonestPolicy
from swarm.runtime.replay import recompute
from swarm.runtime.result import SimulationResult
from tests.conftest import ROOT, SCENARIOS, make_scenario

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and signals")

SCRIPT = Path(sys.executable).parent / "swarm"
SWARM = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "swarm.cli"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
DEADLINE = 60.0
"""Seconds a condition may take to come true (each takes well under a few alone)."""


def wait_for(condition: Callable[[], object], what: str, timeout: float = DEADLINE) -> object:
    """Poll ``condition`` until it returns something true; fail naming ``what`` after ``timeout``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def children(pid: int) -> set[int]:
    """Every live process whose parent is ``pid``, and theirs (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z":  # a zombie is dead, only not yet reaped
                parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    out = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            out.add(pid)
    return out


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes a test starts; any still running at the end are killed (never left behind)."""
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def start(procs: list[subprocess.Popen[str]], args: list[str], cwd: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [*SWARM, *args], cwd=cwd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    procs.append(proc)
    return proc


# ------------------------------------------------------------------------------------ swarm run


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signalled_run_ends_interrupted_with_its_log_and_summary_saying_so(
    sig: signal.Signals, tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    out = tmp_path / "run"
    proc = start(started, ["run", "baseline", "--epochs", "100000", "--out", str(out)], tmp_path)
    log = out / "events.jsonl"
    wait_for(lambda: '"epoch_completed"' in text(log), "the first epoch in the log")
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=DEADLINE)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    last = json.loads(log.read_text().splitlines()[-1])
    assert last["type"] == "run_ended" and last["reason"] == "interrupted"
    assert 1 <= last["epochs_completed"] < 100_000
    summary = json.loads((out / "summary.json").read_text())
    assert summary["reason"] == "interrupted" and summary["passed"] is False
    _epochs, n, mismatch = recompute(log)  # the log is complete and readable up to the signal
    assert mismatch is None and n == last["epochs_completed"]
    assert len((out / "metrics.csv").read_text().splitlines()) == n + 1


def test_shard_workers_die_with_a_run_killed_by_kill_9(
    tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    out = tmp_path / "run"
    proc = start(
        started, ["run", "baseline", "--epochs", "100000", "--shards", "2", "--out", str(out)], tmp_path
    )
    wait_for(lambda: '"epoch_completed"' in text(out / "events.jsonl"), "the first epoch in the log")
    workers = children(proc.pid)
    assert workers, "a sharded run has a worker process"
    proc.kill()
    proc.wait(timeout=DEADLINE)
    wait_for(lambda: not alive(workers), "the shard workers to die with their parent")


# ---------------------------------------------------------------------------------- swarm sweep

SWEEP = """\
name: signals
base: {base}
seeds: 8
epochs: {epochs}
steps: 5
configurations:
  - name: baseline
"""


def _sweep(tmp_path: Path, epochs: int) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(SWEEP.format(base=SCENARIOS / "baseline.yaml", epochs=epochs))
    return path


def _finished(out: Path) -> list[Path]:
    return sorted((out / "runs").glob("*/seed-*/summary.json"))


def test_sigterm_on_a_sweep_keeps_finished_runs_and_leaves_no_worker(
    tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    out = tmp_path / "sweep"
    proc = start(
        started, ["sweep", str(_sweep(tmp_path, 150)), "--workers", "2", "--out", str(out)], tmp_path
    )
    wait_for(lambda: _finished(out), "a finished run")
    workers = wait_for(lambda: children(proc.pid), "the pool's workers")
    assert isinstance(workers, set)
    kept = {p: p.read_bytes() for p in _finished(out)}
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=DEADLINE)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "finished runs are kept" in err
    wait_for(lambda: not alive(workers), "the pool's workers to end")
    assert all(path.read_bytes() == data for path, data in kept.items())
    assert len(_finished(out)) < 8  # stopped, not run to the end
    partial = list((out / "runs").glob("*/.seed-*"))  # abandoned runs never look finished
    assert all(not (p / "summary.json").exists() for p in partial)


def test_the_pool_workers_die_with_a_sweep_killed_by_kill_9(
    tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    out = tmp_path / "sweep"
    proc = start(
        started, ["sweep", str(_sweep(tmp_path, 100000)), "--workers", "2", "--out", str(out)], tmp_path
    )
    # Both workers are inside a run (each has written its partial folder's log).
    wait_for(lambda: len(list((out / "runs").glob("*/.seed-*.partial-*/events.jsonl"))) >= 2, "two runs")
    workers = children(proc.pid)
    assert len(workers) >= 2
    proc.kill()
    proc.wait(timeout=DEADLINE)
    wait_for(lambda: not alive(workers), "the orphaned pool workers to die")
    assert not _finished(out)  # nothing half-done looks finished


# ------------------------------------------------------------------------------- swarm mock-llm


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _first_fault(seed: int) -> str:
    """The mock server's first fault with ``error_rate=1`` and ``seed`` (its draws: a share, then a kind)."""
    rng = random.Random(seed)
    rng.random()
    return FAULTS[rng.randrange(len(FAULTS))]


def test_mock_llm_exits_promptly_on_sigterm_with_a_hang_in_flight(
    tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    seed = next(s for s in range(1000) if _first_fault(s) == "hang")
    port = _free_port()
    proc = start(
        started, ["mock-llm", "--port", str(port), "--error-rate", "1", "--seed", str(seed)], tmp_path
    )
    base = f"http://127.0.0.1:{port}"

    def health() -> dict[str, int] | None:
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=5) as reply:
                data: dict[str, int] = json.loads(reply.read())
                return data
        except OSError:
            return None

    wait_for(health, "the mock server to listen")

    def hanging_request() -> None:
        body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]}).encode()
        request = urllib.request.Request(
            f"{base}/v1/chat/completions", data=body, headers={"content-type": "application/json"}
        )
        with contextlib.suppress(OSError):  # the server goes away: that is the point
            urllib.request.urlopen(request, timeout=DEADLINE).read()

    threading.Thread(target=hanging_request, daemon=True).start()
    wait_for(lambda: (health() or {}).get("faults", 0) >= 1, "the injected hang to be in flight")
    signalled = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=DEADLINE)
    assert time.monotonic() - signalled < 10  # not the hang's 120 s
    assert proc.returncode == 130


@pytest.mark.parametrize("port", ["99999", "0", "-1"])
def test_mock_llm_refuses_a_port_out_of_range(port: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [*SWARM, "mock-llm", "--port", port],
        cwd=tmp_path,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "--port" in done.stderr and "Traceback" not in done.stderr


def test_llm_worker_processes_die_with_a_run_killed_by_kill_9(
    tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    port = _free_port()
    start(started, ["mock-llm", "--port", str(port)], tmp_path)
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: _answers(f"{base}/health"), "the mock server to listen")
    env = {
        **ENV,
        "OPENAI_BASE_URL": f"{base}/v1",
        "ANTHROPIC_BASE_URL": base,
        "OPENAI_API_KEY": "mock-key",
        "ANTHROPIC_API_KEY": "mock-key",
    }
    out = tmp_path / "run"
    args = [
        "run",
        str(SCENARIOS / "llm_agents.yaml"),
        "--epochs",
        "100000",
        "--steps",
        "1",
        "--llm-workers",
        "2",
    ]
    proc = subprocess.Popen(
        [*SWARM, *args, "--out", str(out)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    started.append(proc)
    wait_for(lambda: '"epoch_completed"' in text(out / "events.jsonl"), "the first epoch in the log")
    workers = children(proc.pid)
    assert len(workers) >= 2  # the LLM requests go through worker processes
    proc.kill()
    proc.wait(timeout=DEADLINE)
    wait_for(lambda: not alive(workers), "the LLM workers to die with their parent")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5):
            return True
    except OSError:
        return False


class _HangsFromEpoch2(HonestPolicy):
    """The honest policy, until epoch 2: then its decision never comes (a hung LLM call, say)."""

    async def decide(self, observation: Observation) -> Action:  # type: ignore[override]
        if observation.epoch >= 2:
            await anyio.sleep_forever()
        return super().decide(observation)


def test_a_signal_during_a_hung_step_still_ends_the_run_as_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In-process, through the command's own handling: the signal is raised in this process
    # while the run waits on a step that never ends; after the grace period the run is cancelled.
    import swarm.cli

    monkeypatch.setattr(swarm.cli, "INTERRUPT_GRACE", 0.2)
    sc = make_scenario(honest=3, epochs=1000, steps=3, simulation={"policy_timeout": 600})
    log = tmp_path / "events.jsonl"

    async def main() -> SimulationResult:
        sim = Simulation(sc, out_dir=tmp_path, policies={"honest_1": _HangsFromEpoch2("honest_1", Random(0))})

        async def run_to_end() -> SimulationResult:
            async with sim:
                return await sim.wait()

        async def signal_at_epoch_2() -> None:
            while text(log).count('"epoch_completed"') < 2:
                await anyio.sleep(0.02)
            signal.raise_signal(signal.SIGTERM)

        with anyio.fail_after(DEADLINE):
            async with anyio.create_task_group() as tg:
                tg.start_soon(signal_at_epoch_2)
                result = await swarm.cli._interruptible(sim, run_to_end())
                tg.cancel_scope.cancel()
        return result

    result = anyio.run(main)
    assert result.reason == "interrupted" and not result.passed and len(result.epochs) == 2
    last = json.loads(log.read_text().splitlines()[-1])
    assert last["type"] == "run_ended" and last["reason"] == "interrupted"
    assert json.loads((tmp_path / "summary.json").read_text())["reason"] == "interrupted"


def test_sigterm_on_tail_follow_exits_130_without_a_traceback(
    tmp_path: Path, started: list[subprocess.Popen[str]]
) -> None:
    # Any command, not only run and sweep: SIGTERM is Ctrl-C (here a tail waiting for a run
    # that will never end).
    out = tmp_path / "run"
    done = subprocess.run(
        [*SWARM, "run", "baseline", "--epochs", "1", "--steps", "2", "--out", str(out)],
        cwd=tmp_path,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
    )
    assert done.returncode in (0, 1), done.stderr
    unfinished = tmp_path / "unfinished.jsonl"
    unfinished.write_text("".join((out / "events.jsonl").read_text().splitlines(keepends=True)[:-1]))
    proc = start(started, ["tail", str(unfinished), "--follow"], tmp_path)
    assert proc.stdout is not None
    first: list[str] = []
    reader = threading.Thread(target=lambda: first.append(proc.stdout.readline() if proc.stdout else ""))
    reader.start()
    reader.join(DEADLINE)
    assert first and "run_started" in first[0]  # the command is running and following the log
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=DEADLINE)
    assert proc.returncode == 130 and "Traceback" not in err
