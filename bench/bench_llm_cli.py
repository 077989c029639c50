"""The command line as a user runs it: whole-process wall times against their targets.

* ``swarm run`` of a scenario with N LLM agents (default 100) and 20 steps, with
  default flags, against ``swarm mock-llm --latency-ms 200`` running as its own
  process: the whole command, start-up and wind-down included, against the
  latency bound of 20 steps x (act, then accept) = 20 x 0.4 s; target 1.5x.
* ``swarm --help`` and ``swarm list`` (target 0.3 s each) and ``swarm run baseline``
  (target 0.8 s), as whole processes.

Each command is run ``--repeat`` times; the table shows the fastest, the median
and the slowest run (this machine's speed swings from run to run).
Run: ``python bench/bench_llm_cli.py`` (``--skip-llm`` for the start-up figures only).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from bench_llm import mock_server

ROOT = Path(__file__).resolve().parent.parent
SWARM = [sys.executable, "-m", "swarm.cli"]


def _console_script() -> list[str]:
    """The ``swarm`` console script beside this interpreter (what a user types), else ``-m swarm.cli``."""
    script = Path(sys.executable).parent / "swarm"
    return [str(script)] if script.exists() else SWARM


LLM_SCENARIO = """\
scenario_id: bench-llm-cli
description: {agents} LLM agents against the mock provider (bench/bench_llm_cli.py).
agents:
  - type: llm
    count: {agents}
    llm:
      provider: {provider}
      model: gpt-4o-mini
      persona: open
      timeout: 30
simulation:
  n_epochs: 1
  steps_per_epoch: {steps}
  seed: 1
rate_limits:
  interactions_per_step: 1
"""


def timed(cmd: list[str], *, env: dict[str, str] | None = None, cwd: Path = ROOT) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}:\n{done.stderr[-2000:]}")
    return elapsed


def row(label: str, times: list[float], target: float, unit_bound: float | None = None) -> str:
    best, med, worst = min(times), statistics.median(times), max(times)
    if unit_bound is None:
        verdict = "meets" if med <= target else "MISSES"
        return f"{label:<44} {best:6.2f} {med:6.2f} {worst:6.2f} s   target {target:.2f} s: {verdict}"
    ratios = [t / unit_bound for t in (best, med, worst)]
    verdict = "meets" if ratios[1] <= target else "MISSES"
    return (
        f"{label:<44} {best:6.2f} {med:6.2f} {worst:6.2f} s   ratio {ratios[0]:.2f} {ratios[1]:.2f} "
        f"{ratios[2]:.2f} (target {target:.2f}x of {unit_bound:.1f} s): {verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--provider", choices=["openai", "anthropic"], default="openai")
    parser.add_argument("--repeat", type=int, default=3, help="Runs of each command.")
    parser.add_argument("--skip-llm", action="store_true", help="Only the start-up figures.")
    parser.add_argument(
        "--run-args", default="", help="Extra flags for the LLM `swarm run` (e.g. '--llm-workers 1')."
    )
    args = parser.parse_args()
    swarm = _console_script()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, command: {' '.join(swarm)}")
    print(f"{'':<44} {'min':>6} {'median':>6} {'max':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        results = [
            row("swarm --help", [timed([*swarm, "--help"]) for _ in range(args.repeat)], 0.3),
            row("swarm list", [timed([*swarm, "list"]) for _ in range(args.repeat)], 0.3),
            row(
                "swarm run baseline",
                [
                    timed([*swarm, "run", "baseline", "--out", str(work / f"baseline-{i}")])
                    for i in range(args.repeat)
                ],
                0.8,
            ),
        ]
        for line in results:
            print(line, flush=True)
        if args.skip_llm:
            return
        scenario = work / "llm.yaml"
        scenario.write_text(LLM_SCENARIO.format(agents=args.agents, steps=args.steps, provider=args.provider))
        bound = args.steps * 2 * args.latency_ms / 1000
        extra = args.run_args.split()
        with mock_server(args.latency_ms):
            env = dict(os.environ)
            times = [
                timed([*swarm, "run", str(scenario), "--out", str(work / f"llm-{i}"), *extra], env=env)
                for i in range(args.repeat)
            ]
        label = f"swarm run: {args.agents} LLM agents, {args.steps} steps"
        print(row(label + (f" {args.run_args}" if extra else ""), times, 1.5, unit_bound=bound))


if __name__ == "__main__":
    main()
