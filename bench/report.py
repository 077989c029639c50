"""The speed issue's targets in one command: every measure, its target, met or not, and the pure-Python floor.

``python bench/report.py [--quick] [--json out.json]`` (or ``make bench``) runs each
measure in a fresh subprocess of its own (so memory peaks are clean and one measure
cannot disturb another) and prints one table:

* agent-turns/s at 1,000 agents (baseline mix of ``bench_simulation.population``,
  10 epochs x 10 steps), without and with the event log written, and the log's
  overhead; CPU time of the run (``time.process_time`` inside the subprocess, from
  the ``Simulation`` block's start to its end, world building included, after a
  200-agent warm-up run that does the one-off lazy imports), best of N, since this
  machine's wall-clock speed swings with other load;
* per-turn cost at 1,000, 10,000 and 100,000 agents (10 x 10; ``--quick``: 100,000
  agents for 1 epoch x 5 steps); the target's comparison is of the steps' own CPU per
  turn (world building and epoch closing left out) against 1,000 agents on the same
  schedule, since the mix of actions in a step depends on it; and 100,000 x 10 x 10
  finishing;
* 1,000,000 agents x 1 epoch x 2 steps finishing within 24 GiB (peak RSS; a guard
  stops the subprocess before it can exhaust the machine's memory);
* peak memory per agent at 10,000 agents, two ways: the tracemalloc peak of a
  1 x 10 run over the traced memory before it, and the peak-RSS growth
  (``ru_maxrss``) of the 10 x 10 timing run over the process before the run;
* bytes per idle agent: tracemalloc growth from building the world (actors,
  policies, random streams, ledger records) for N agents without stepping, / N;
* ``--shards 2`` against ``--shards 1`` at 10,000 agents (wall time: shards are
  processes), once ``swarm.Simulation(..., shards=)`` or ``swarm run --shards``
  exists; "not available" until then;
* the LLM step ratio and the command-line start-up times, from
  ``bench/bench_llm_cli.py`` when it is there (its text output, parsed).

Rows with a floor compare the simulation with ``bench/floor.py``: the same
logical work per agent-turn in a bare Python loop, at the same population size.
``--quick`` skips 100,000 x 10 x 10 and 1,000,000 agents and repeats less.
Each script it calls stays runnable on its own.
"""

from __future__ import annotations

import argparse
import datetime
import inspect
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
GIB = 1024**3
MARK = "@@report-result "

# --------------------------------------------------------------------------------------- targets

TURNS_TARGET = 120_000
TURNS_LOG_TARGET = 80_000
FLAT_TARGET = 1.25
MILLION_GIB = 24
PEAK_BYTES_TARGET = 5_000
IDLE_BYTES_TARGET = 2_000
LLM_RATIO_TARGET = 1.5
STARTUP_TARGETS = {"swarm --help": 0.3, "swarm list": 0.3, "swarm run baseline": 0.8}


# ============================================================================ child side (measures)


def _sim_modules() -> tuple[Any, Any]:
    sys.path.insert(0, str(BENCH))
    from bench_simulation import population

    import swarm

    return swarm, population


def _warm_up(swarm: Any, population: Any, log: bool = False) -> None:
    """A 200-agent, 2-step run first, so that what a run imports lazily (numpy for the agents' random
    streams, the log writer) is imported before anything is measured: one-off start-up is not a
    per-turn cost (the command-line rows time whole processes)."""
    import anyio

    async def main(out: str | None) -> None:
        async with swarm.Simulation(swarm.load_scenario(population(200, 1, 2)), out_dir=out) as sim:
            await sim.wait()

    with tempfile.TemporaryDirectory(prefix="swarm-bench-") as tmp:
        anyio.run(main, tmp if log else None)


def _rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux


def child_sim(
    agents: int, epochs: int, steps: int, log: bool = False, shards: int | None = None, again: int = 0
) -> dict[str, Any]:
    """One run of the baseline mix: CPU and wall seconds of the ``Simulation`` block, peak RSS growth.

    ``again``: run it that many more times in this process and report the least CPU its steps
    took (a short run's steps take a few hundredths of a second, which a busy machine swings).
    """
    import anyio

    swarm, population = _sim_modules()
    _warm_up(swarm, population, log)
    scenario = swarm.load_scenario(population(agents, epochs, steps))
    kwargs: dict[str, Any] = {} if shards is None else {"shards": shards}
    out = tempfile.mkdtemp(prefix="swarm-bench-") if log else None
    rss_before = _rss_kib()
    from bench_simulation import time_steps

    step_cpu = time_steps()  # this thread's CPU in each step: no world building, no epoch closing

    async def main() -> tuple[Any, list[float]]:
        async with swarm.Simulation(scenario, out_dir=out, **kwargs) as sim:
            result = await sim.wait()
        return result, sim.step_seconds

    try:
        cpu0, wall0 = time.process_time(), time.perf_counter()
        result, step_seconds = anyio.run(main)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        least = sum(step_cpu)
        for _ in range(again):
            step_cpu.clear()
            anyio.run(main)
            least = min(least, sum(step_cpu))
        log_bytes = sum(f.stat().st_size for f in Path(out).iterdir()) if out else 0
    finally:
        if out:
            shutil.rmtree(out, ignore_errors=True)
    return {
        "agents": agents,
        "epochs": epochs,
        "steps": steps,
        "turns": agents * epochs * steps,
        "cpu_s": cpu,
        "wall_s": wall,
        "step_wall_s": sum(step_seconds),
        "step_cpu_s": least,
        "interactions": result.summary["total_interactions"],
        "rss_before_kib": rss_before,
        "rss_peak_kib": _rss_kib(),
        "log_bytes": log_bytes,
    }


def child_traced(agents: int, epochs: int, steps: int) -> dict[str, Any]:
    """tracemalloc peak of a run over the traced memory when it starts (the scenario already loaded)."""
    import gc
    import tracemalloc

    import anyio

    swarm, population = _sim_modules()
    _warm_up(swarm, population)
    scenario = swarm.load_scenario(population(agents, epochs, steps))

    async def main() -> None:
        async with swarm.Simulation(scenario) as sim:
            await sim.wait()

    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    anyio.run(main)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"agents": agents, "epochs": epochs, "steps": steps, "peak_bytes": peak - before}


def child_idle(agents: int) -> dict[str, Any]:
    """Traced bytes held by the world of ``agents`` agents, built as ``Simulation`` builds it, never stepped.

    Mirrors ``Simulation._execute`` up to the first step (internal API: if it has
    changed, the error is reported in the table rather than guessed around).
    """
    import gc
    import tracemalloc

    import anyio

    swarm, population = _sim_modules()
    from actors import ActorSystem
    from swarm.core.payoff import SoftPayoffEngine
    from swarm.governance.lever import build_governance
    from swarm.kernel.component import Setup
    from swarm.kernel.world import World

    _warm_up(swarm, population)
    scenario = swarm.load_scenario(population(agents, 1, 1))
    held: dict[str, int] = {}

    async def main() -> None:
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        sim = swarm.Simulation(scenario)
        seats, streams = sim._seats(None, scenario)
        async with ActorSystem(name="idle") as system:
            types = {s.agent_id: s.agent_type for s in seats}
            governance = build_governance(
                scenario, Setup(scenario, None, SoftPayoffEngine(scenario.payoff), types)
            )
            world = World(system, scenario, seats, governance, sim._bus, streams)
            gc.collect()
            held["bytes"] = tracemalloc.get_traced_memory()[0] - before
            held["agents"] = len(world.seats)
        tracemalloc.stop()

    anyio.run(main)
    return {"agents": agents, "held_bytes": held["bytes"], "seated": held["agents"]}


def child_floor(agents: int, epochs: int, steps: int, repeat: int) -> dict[str, Any]:
    sys.path.insert(0, str(BENCH))
    import floor

    runs = [floor.run(agents, epochs, steps) for _ in range(repeat)]
    best = min(runs, key=lambda r: r["cpu_s"])
    return {**best, "runs_cpu_s": [r["cpu_s"] for r in runs]}


def child_probe() -> dict[str, Any]:
    """Whether sharding exists: a ``shards`` parameter of ``Simulation`` or ``swarm.run``."""
    import swarm

    params = set(inspect.signature(swarm.Simulation.__init__).parameters)
    return {"api_shards": "shards" in params, "swarm_version": getattr(swarm, "__version__", "?")}


CHILDREN: dict[str, Callable[..., dict[str, Any]]] = {
    "sim": child_sim,
    "traced": child_traced,
    "idle": child_idle,
    "floor": child_floor,
    "probe": child_probe,
}


def child_main(name: str, params: str) -> None:
    result = CHILDREN[name](**json.loads(params))
    result["child_rss_peak_kib"] = _rss_kib()
    print(MARK + json.dumps(result), flush=True)


# =========================================================================== parent side (driving)


@dataclass
class Outcome:
    ok: bool
    data: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    peak_rss_bytes: int = 0
    wall_s: float = 0.0


def _vm_rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _mem_available() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run_child(name: str, timeout: float = 3600, verbose: bool = True, **params: Any) -> Outcome:
    """Run one measure in a fresh interpreter, with a memory guard and a time limit."""
    available = _mem_available()
    guard = min(MILLION_GIB * GIB, available - GIB) if available else MILLION_GIB * GIB
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", name, "--params", json.dumps(params)]
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=err, text=True)
        peak, stopped = 0, ""
        while proc.poll() is None:
            rss = _vm_rss(proc.pid)
            peak = max(peak, rss)
            if rss > guard:
                stopped = (
                    f"stopped by the memory guard at {rss / GIB:.1f} GiB RSS "
                    f"(limit {guard / GIB:.1f} GiB: {available / GIB:.1f} GiB were available)"
                )
                proc.kill()
            elif time.perf_counter() - started > timeout:
                stopped = f"stopped after {timeout:.0f} s"
                proc.kill()
            time.sleep(0.2)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    lines = [ln for ln in stdout.splitlines() if ln.startswith(MARK)]
    if proc.returncode == 0 and lines:
        data = json.loads(lines[-1][len(MARK) :])
        peak = max(peak, data.get("child_rss_peak_kib", 0) * 1024)
        outcome = Outcome(True, data, peak_rss_bytes=peak, wall_s=wall)
    else:
        reason = stopped or f"exit code {proc.returncode}"
        outcome = Outcome(
            False, error=f"{reason}\n{stderr[-4000:]}".strip(), peak_rss_bytes=peak, wall_s=wall
        )
    if verbose:
        state = "ok" if outcome.ok else "FAILED: " + why(outcome.error)
        print(f"  [{name} {params}] {wall:.1f} s, peak RSS {peak / GIB:.2f} GiB: {state}", file=sys.stderr)
    return outcome


def interleaved(
    reps: int, variants: dict[str, tuple[str, dict[str, Any]]], timeout: float = 3600
) -> dict[str, tuple[Outcome, list[Outcome]]]:
    """Best (least CPU) of ``reps`` runs of each variant, each run a fresh process, run in turn
    (A, B, C, A, B, C, ...) so that the machine's load swings hit every variant alike."""
    runs: dict[str, list[Outcome]] = {k: [] for k in variants}
    for _ in range(reps):
        for key, (child, params) in variants.items():
            runs[key].append(run_child(child, timeout=timeout, **params))
    out = {}
    for key, outs in runs.items():
        good = [r for r in outs if r.ok]
        out[key] = (min(good, key=lambda r: r.data["cpu_s"]) if good else outs[-1], outs)
    return out


def swarm_command() -> list[str]:
    script = Path(sys.executable).parent / "swarm"
    return [str(script)] if script.exists() else [sys.executable, "-m", "swarm.cli"]


def cli_has_shards() -> bool:
    done = subprocess.run(
        [*swarm_command(), "run", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    return "--shards" in done.stdout + done.stderr


def shards_cli_run(scenario: Path, shards: int, out: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [*swarm_command(), "run", str(scenario), "--shards", str(shards), "--out", str(out), "--no-progress"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise RuntimeError(f"swarm run --shards {shards} exited {done.returncode}:\n{done.stderr[-2000:]}")
    return elapsed


LINE = re.compile(r"^(?P<label>\S.*?)\s+(?P<min>\d+\.\d+)\s+(?P<med>\d+\.\d+)\s+(?P<max>\d+\.\d+) s\b")
BOUND = re.compile(r"of (?P<bound>\d+(?:\.\d+)?) s")


def run_llm_cli(repeat: int, skip_llm: bool) -> dict[str, Any]:
    """``bench/bench_llm_cli.py``'s figures: label -> (min, median, max) seconds, and the LLM bound."""
    script = BENCH / "bench_llm_cli.py"
    if not script.exists():
        return {"available": False, "why": "bench/bench_llm_cli.py is not there"}
    cmd = [sys.executable, str(script), "--repeat", str(repeat)]
    if skip_llm:
        cmd.append("--skip-llm")
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1800)
    print(
        f"  [bench_llm_cli.py] {time.perf_counter() - started:.1f} s, exit {done.returncode}", file=sys.stderr
    )
    rows: dict[str, Any] = {}
    for line in done.stdout.splitlines():
        m = LINE.match(line)
        if m is None:
            continue
        entry: dict[str, Any] = {k: float(m[k]) for k in ("min", "med", "max")}
        b = BOUND.search(line)
        if b is not None:
            entry["bound"] = float(b["bound"])
        rows[m["label"].strip()] = entry
    return {
        "available": True,
        "returncode": done.returncode,
        "rows": rows,
        "stdout": done.stdout,
        "stderr": done.stderr[-3000:],
    }


# ============================================================================================ table


@dataclass
class Row:
    measure: str
    value: str
    target: str
    verdict: str
    floor: str = ""
    note: str = ""


EXCEPTION = re.compile(r"^[\s|]*(?P<line>[\w.]+(?:Error|Exception|Exit|Interrupt)\b.*)$")


def why(error: str) -> str:
    """A failure in one line: how the process ended, and the last exception its traceback names."""
    lines = error.strip().splitlines()
    if not lines:
        return "failed"
    raised = [m["line"] for ln in lines if (m := EXCEPTION.match(ln)) and "Traceback" not in ln]
    last = raised[-1].replace("|", "/") if raised else ""
    head = lines[0].replace("|", "/")
    return (f"{head}: {last}" if last and last != head else head)[:300]


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "**not met**")


def _fail(measure: str, target: str, outcome: Outcome) -> Row:
    first = why(outcome.error)
    return Row(measure, "failed", target, "**not met**", note=first)


def machine() -> dict[str, Any]:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = 0
    try:
        with open("/proc/meminfo") as f:
            mem = int(f.readline().split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True
        ).stdout
        commit += " + uncommitted changes" if dirty.strip() else ""
    except OSError:
        commit = "?"
    return {
        "date": datetime.date.today().isoformat(),
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(mem / GIB, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": commit,
        "load_before": os.getloadavg(),
    }


def fmt_int(x: float) -> str:
    return f"{x:,.0f}"


def build(args: argparse.Namespace) -> tuple[list[Row], dict[str, Any]]:
    quick = args.quick
    only = set(args.only.split(",")) if args.only else None

    def wanted(key: str) -> bool:
        return only is None or key in only

    reps_small = 3 if quick else 5
    reps_mid = 1 if quick else 3
    rows: list[Row] = []
    raw: dict[str, Any] = {"quick": quick}
    floors: dict[int, Outcome] = {}

    def timed(reps: int, n: int, epochs: int, steps: int, **extra: dict[str, Any]) -> dict[str, Outcome]:
        """The simulation (and ``extra`` variants) interleaved with the floor at the same size."""
        size = {"agents": n, "epochs": epochs, "steps": steps}
        variants = {"sim": ("sim", size), **{k: ("sim", size | v) for k, v in extra.items()}}
        if n not in floors:
            variants["floor"] = ("floor", size | {"repeat": 1})
        got = interleaved(reps, variants, timeout=7200)
        if "floor" in got:
            floors[n] = got["floor"][0]
        raw[f"runs_{n}_{epochs}x{steps}"] = {
            k: [o.data or o.error for o in outs] for k, (_, outs) in got.items()
        }
        return {k: best for k, (best, _) in got.items()}

    def floor_cols(n: int, sim_us: float) -> tuple[str, str]:
        f = floors.get(n)
        if f is None or not f.ok:
            return "", ""
        f_us = 1e6 / f.data["turns_per_s"]
        ref = floors.get(1000)
        own = ""
        if n != 1000 and ref is not None and ref.ok:
            own = f", {ref.data['turns_per_s'] / f.data['turns_per_s']:.2f}× its 1k"
        return (
            f"{fmt_int(f.data['turns_per_s'])} turns/s ({f_us:.2f} µs/turn{own})",
            f"{sim_us / f_us:.1f}× the floor's cost",
        )

    # ---------------------------------------------------------------- 1,000 agents, with and without log
    us: dict[int, float] = {}
    if wanted("turns"):
        pair = timed(reps_small, 1000, 10, 10, log={"log": True})
        nolog, log = pair["sim"], pair["log"]
        if nolog.ok:
            d = nolog.data
            tps = d["turns"] / d["cpu_s"]
            us[1000] = 1e6 / tps
            fl, ratio = floor_cols(1000, us[1000])
            rows.append(
                Row(
                    "agent-turns/s, 1,000 agents, 10×10, no log",
                    fmt_int(tps),
                    f"≥ {TURNS_TARGET:,}",
                    verdict(tps >= TURNS_TARGET),
                    fl,
                    f"{ratio}; {d['cpu_s']:.2f} s CPU, best of {reps_small}",
                )
            )
        else:
            rows.append(_fail("agent-turns/s, 1,000 agents, 10×10, no log", f"≥ {TURNS_TARGET:,}", nolog))
        if log.ok:
            d = log.data
            tps_log = d["turns"] / d["cpu_s"]
            fl, ratio = floor_cols(1000, 1e6 / tps_log)
            rows.append(
                Row(
                    "agent-turns/s, same, event log written",
                    fmt_int(tps_log),
                    f"≥ {TURNS_LOG_TARGET:,}",
                    verdict(tps_log >= TURNS_LOG_TARGET),
                    fl,
                    f"{ratio}; {d['log_bytes'] / 1e6:.0f} MB written, best of {reps_small}",
                )
            )
            if nolog.ok:
                overhead = log.data["cpu_s"] / nolog.data["cpu_s"] - 1
                allowed = TURNS_TARGET / TURNS_LOG_TARGET - 1
                rows.append(
                    Row(
                        "log overhead (CPU with log / without − 1)",
                        f"+{overhead:.0%}",
                        f"≤ +{allowed:.0%} (implied)",
                        verdict(overhead <= allowed),
                        note=f"{(d['cpu_s'] - nolog.data['cpu_s']) / d['turns'] * 1e6:.2f} µs per turn",
                    )
                )
        else:
            rows.append(_fail("agent-turns/s, same, event log written", f"≥ {TURNS_LOG_TARGET:,}", log))

    # ---------------------------------------------------------------- per-turn cost at 1k / 10k / 100k
    big: Outcome | None = None
    if wanted("scale"):
        if 1000 not in us:
            one = timed(reps_small, 1000, 10, 10)["sim"]
            if one.ok:
                us[1000] = one.data["cpu_s"] / one.data["turns"] * 1e6
        if 1000 in us:
            fl, ratio = floor_cols(1000, us[1000])
            rows.append(
                Row("per-turn cost, 1,000 agents (10×10)", f"{us[1000]:.2f} µs", "reference", "", fl, ratio)
            )
        ten = timed(reps_mid, 10_000, 10, 10)["sim"]
        if ten.ok:
            us[10_000] = ten.data["cpu_s"] / ten.data["turns"] * 1e6
            fl, ratio = floor_cols(10_000, us[10_000])
            rel = f" ({us[10_000] / us[1000]:.2f}× 1k)" if 1000 in us else ""
            rows.append(
                Row(
                    "per-turn cost, 10,000 agents (10×10)",
                    f"{us[10_000]:.2f} µs{rel}",
                    "—",
                    "",
                    fl,
                    f"{ratio}; best of {reps_mid}",
                )
            )
            rss = (ten.data["rss_peak_kib"] - ten.data["rss_before_kib"]) * 1024 / 10_000
            rows.append(
                Row(
                    "peak memory per agent, 10,000 agents (RSS, 10×10 run)",
                    f"{rss:,.0f} B",
                    f"< {PEAK_BYTES_TARGET:,} B",
                    verdict(rss < PEAK_BYTES_TARGET),
                    note="ru_maxrss after the run − before it, / agents",
                )
            )
        else:
            rows.append(_fail("per-turn cost, 10,000 agents (10×10)", "—", ten))
        e100, s100 = (1, 5) if quick else (10, 10)
        big = timed(1, 100_000, e100, s100)["sim"]
        label = f"per-turn cost, 100,000 agents ({e100}×{s100})"
        # Like for like: the steps' own CPU per turn (world building and epoch closing, which a
        # short run at 100,000 agents is mostly made of, left out) against 1,000 agents' on the same
        # schedule (the first steps of an epoch are claim-heavy, so the mix of actions depends on it).
        small = timed(reps_small, 1000, e100, s100, again={"again": 4})["again"]
        reference = small.data["step_cpu_s"] / small.data["turns"] * 1e6 if small.ok else None
        if big.ok:
            us[100_000] = big.data["cpu_s"] / big.data["turns"] * 1e6
            fl, ratio = floor_cols(100_000, us[100_000])
            stepped = big.data["step_cpu_s"] / big.data["turns"] * 1e6
            flat = stepped / reference if reference else None
            rows.append(
                Row(
                    label,
                    f"{us[100_000]:.2f} µs; steps {stepped:.2f} µs"
                    + (f" ({flat:.2f}× 1k's steps, {reference:.2f} µs)" if flat else ""),
                    f"≤ {FLAT_TARGET:.2f}× 1k",
                    verdict(flat <= FLAT_TARGET if flat else None),
                    fl,
                    f"{ratio}; one run, {big.data['cpu_s']:.0f} s CPU, {big.data['wall_s']:.0f} s wall",
                )
            )
        else:
            rows.append(_fail(label, f"≤ {FLAT_TARGET:.2f}× 1k", big))
        if not quick:
            if big.ok:
                value = (
                    f"finished: {big.data['wall_s']:.0f} s wall, peak RSS {big.peak_rss_bytes / GIB:.1f} GiB"
                )
            else:
                value = "did not finish"
            rows.append(
                Row(
                    "100,000 agents × 10 epochs × 10 steps",
                    value,
                    "finishes",
                    verdict(big.ok),
                    note="" if big.ok else why(big.error),
                )
            )

    # ---------------------------------------------------------------- 1,000,000 agents
    if wanted("million") and not quick:
        million = run_child("sim", timeout=7200, agents=1_000_000, epochs=1, steps=2)
        raw["sim_1m"] = million.data or million.error
        raw["sim_1m_peak_rss_bytes"] = million.peak_rss_bytes
        gib = million.peak_rss_bytes / GIB
        if million.ok:
            value = f"finished: {million.data['wall_s']:.0f} s wall, peak RSS {gib:.1f} GiB"
            d = million.data
            note = (
                f"{million.peak_rss_bytes / 1e6:,.0f} B per agent (peak RSS / agents); "
                f"{d['wall_s'] - d['step_wall_s']:.0f} s building the world and closing the epoch, "
                f"{d['step_wall_s'] / d['steps']:.0f} s per step"
            )
        else:
            value = f"did not finish (peak RSS {gib:.1f} GiB)"
            note = why(million.error)
        rows.append(
            Row(
                "1,000,000 agents × 1 epoch × 2 steps",
                value,
                f"finishes, ≤ {MILLION_GIB} GiB",
                verdict(million.ok and gib <= MILLION_GIB),
                note=note,
            )
        )

    # ---------------------------------------------------------------- memory per agent
    if wanted("memory"):
        traced = run_child("traced", agents=10_000, epochs=1, steps=10)
        raw["traced_10k"] = traced.data or traced.error
        if traced.ok:
            per = traced.data["peak_bytes"] / 10_000
            rows.append(
                Row(
                    "peak memory per agent, 10,000 agents (tracemalloc, 1×10 run)",
                    f"{per:,.0f} B",
                    f"< {PEAK_BYTES_TARGET:,} B",
                    verdict(per < PEAK_BYTES_TARGET),
                    note="tracemalloc peak − traced before the run, / agents",
                )
            )
        else:
            rows.append(_fail("peak memory per agent, 10,000 agents", f"< {PEAK_BYTES_TARGET:,} B", traced))
        n_idle = 10_000 if quick else 100_000
        idle = run_child("idle", agents=n_idle)
        raw["idle"] = idle.data or idle.error
        label = f"idle agent (world of {n_idle:,} built, not stepped)"
        if idle.ok:
            per = idle.data["held_bytes"] / idle.data["seated"]
            rows.append(
                Row(
                    label,
                    f"{per:,.0f} B",
                    f"< {IDLE_BYTES_TARGET:,} B",
                    verdict(per < IDLE_BYTES_TARGET),
                    note="tracemalloc: actor, policy, stream, ledger record, seat, indexes",
                )
            )
        else:
            rows.append(_fail(label, f"< {IDLE_BYTES_TARGET:,} B", idle))

    # ---------------------------------------------------------------- shards
    if wanted("shards"):
        rows.append(shard_row(quick, raw))

    # ---------------------------------------------------------------- LLM and start-up (bench_llm_cli.py)
    if wanted("cli"):
        rows.extend(cli_rows(1 if quick else 3, args.skip_llm, raw))
    return rows, raw


def shard_row(quick: bool, raw: dict[str, Any]) -> Row:
    label = "`--shards 2` vs `--shards 1`, 10,000 agents"
    target = "2 faster than 1"
    probe = run_child("probe")
    api = probe.ok and probe.data.get("api_shards", False)
    cli = False if api else cli_has_shards()
    raw["shards_probe"] = {"api": api, "cli": cli}
    if not (api or cli):
        return Row(
            label, "not available", target, "n/a", note="no `shards` option in Simulation nor `swarm run`"
        )
    epochs, reps = (2, 1) if quick else (10, 3)
    times: dict[int, list[float]] = {1: [], 2: []}
    try:
        if api:
            for _ in range(reps):
                for k in (1, 2):
                    got = run_child("sim", agents=10_000, epochs=epochs, steps=10, shards=k)
                    if not got.ok:
                        raise RuntimeError(got.error)
                    times[k].append(got.data["wall_s"])
            how = "`Simulation(shards=k)` (what `swarm run --shards k` runs), wall time of the run"
        else:
            sys.path.insert(0, str(BENCH))
            from bench_simulation import population

            with tempfile.TemporaryDirectory() as tmp:
                scenario = Path(tmp) / "bench-10k.yaml"
                scenario.write_text(json.dumps(population(10_000, epochs, 10)))  # JSON is YAML
                for i in range(reps):
                    for k in (1, 2):
                        times[k].append(shards_cli_run(scenario, k, Path(tmp) / f"out-{k}-{i}"))
            how = "`swarm run --shards k`, whole process, wall time"
    except Exception as exc:
        raw["shards"] = str(exc)
        return Row(label, "failed", target, "**not met**", note=why(str(exc)))
    raw["shards"] = times
    one, two = min(times[1]), min(times[2])
    return Row(
        label,
        f"{one / two:.2f}× ({two:.1f} s vs {one:.1f} s)",
        target,
        verdict(two < one),
        note=f"{how}; {epochs}×10; best of {reps}",
    )


def cli_rows(repeat: int, skip_llm: bool, raw: dict[str, Any]) -> list[Row]:
    got = run_llm_cli(repeat, skip_llm)
    raw["llm_cli"] = got
    labels = [*STARTUP_TARGETS, "swarm run: 100 LLM agents, 20 steps"]
    if not got["available"]:
        return [Row(label, "not available", "", "n/a", note=got["why"]) for label in labels]
    rows: list[Row] = []
    found = got["rows"]
    llm = next((v | {"label": k} for k, v in found.items() if "LLM agents" in k), None)
    if llm is not None:
        bound = llm.get("bound", 20 * 2 * 0.2)
        best, med = llm["min"] / bound, llm["med"] / bound
        rows.append(
            Row(
                f"{llm['label']} vs mock-llm 200 ms",
                f"{best:.2f}× of {bound:.1f} s (median {med:.2f}×)",
                f"≤ {LLM_RATIO_TARGET}×",
                verdict(best <= LLM_RATIO_TARGET),
                note=f"whole `swarm run`: {llm['min']:.1f}–{llm['max']:.1f} s over {repeat} runs",
            )
        )
    elif not skip_llm:
        rows.append(
            Row(
                "swarm run: 100 LLM agents, 20 steps",
                "failed",
                f"≤ {LLM_RATIO_TARGET}×",
                "**not met**",
                note=(got["stderr"].strip().splitlines() or ["no figure in bench_llm_cli.py's output"])[-1][
                    :200
                ],
            )
        )
    for label, target in STARTUP_TARGETS.items():
        entry = found.get(label)
        if entry is None:
            rows.append(Row(f"`{label}`, whole process", "failed", f"≤ {target} s", "**not met**"))
            continue
        rows.append(
            Row(
                f"`{label}`, whole process",
                f"{entry['min']:.2f} s (median {entry['med']:.2f} s)",
                f"≤ {target} s",
                verdict(entry["min"] <= target),
                note=f"wall, best of {repeat}",
            )
        )
    return rows


def render(rows: Sequence[Row]) -> str:
    head = ("measure", "value", "target", "verdict", "pure-Python floor", "note")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        lines.append(f"| {r.measure} | {r.value} | {r.target} | {r.verdict} | {r.floor} | {r.note} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="skip 100k x 10 x 10 and 1M agents; fewer runs")
    parser.add_argument("--json", metavar="PATH", help="also write every figure, raw, as JSON")
    parser.add_argument(
        "--only", help="comma-separated subset of: turns, scale, million, memory, shards, cli (default: all)"
    )
    parser.add_argument("--skip-llm", action="store_true", help="start-up times only from bench_llm_cli.py")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--params", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args.child, args.params)
        return
    info = machine()
    print(
        f"# {info['date']}: {info['cores']} cores, {info['cpu']}, {info['memory_gib']} GiB, "
        f"Python {info['python']}, commit {info['commit']}",
        file=sys.stderr,
    )
    started = time.perf_counter()
    rows, raw = build(args)
    info["load_after"] = os.getloadavg()
    info["elapsed_s"] = round(time.perf_counter() - started, 1)
    print()
    print(
        f"Machine: {info['cores']} cores, {info['cpu']}, {info['memory_gib']} GiB RAM, "
        f"Python {info['python']}, "
        f"{info['date']}, commit {info['commit']}; load average {info['load_before'][0]:.2f} before, "
        f"{info['load_after'][0]:.2f} after; report took {info['elapsed_s']:.0f} s"
        + (" (--quick)" if args.quick else "")
    )
    print()
    print(render(rows))
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {"machine": info, "rows": [r.__dict__ for r in rows], "raw": raw}, indent=2, default=str
            )
        )


if __name__ == "__main__":
    main()
