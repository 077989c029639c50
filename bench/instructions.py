"""Instructions per agent-turn of the simulation, counted with callgrind, compared between source trees.

For each tree (``LABEL=PATH``: a checkout of the sandbox, e.g. a ``git worktree`` of an
earlier commit) this runs the benchmark's 1,000-agent population
(``bench_simulation.population``) for 1 epoch × 1 step and for 2 epochs × 5 steps under
``valgrind --tool=callgrind`` and prints ``(I(2×5) − I(1×1)) / 9,000``: the instructions
of the 9,000 extra agent-turns, start-up and world building cancelled out. Instructions
do not swing with the machine's load as time does, but two things would make them swing
from run to run, and both are switched off here: numpy's OpenBLAS worker threads, which
spin while idle under valgrind (``OPENBLAS_NUM_THREADS=1``), and the import system's
listing of the run script's directory, which in a busy shared ``/tmp`` changes between
runs (the scripts are written to an empty directory of their own). With both off, a
tree's count repeats to within ~300 instructions per turn (0.3 %); with them on, it
swung by up to ~4,000.

Needs ``valgrind`` on the PATH; each tree takes a few minutes of CPU.

``--agents N --steps-only S`` counts the steps alone instead, for populations whose world
building would swamp the difference: one run of 1 epoch × S steps, with callgrind's
instrumentation switched on from Python (client requests from a small C helper compiled on
the spot: needs ``cc`` and valgrind's headers) when the first step starts, and its counts
taken over steps 2..S, so ``counts / (N·(S − 1))`` per turn. The first step only warms up;
each of the later ones runs the same epoch's schedule at any population size. ``--cache``
adds callgrind's cache simulation (D1 48 KiB 12-way, last level 4 MiB 16-way: this
machine's L1d and L2) and prints the data misses per turn in both: how much of a turn's
growth with the population is work and how much is memory. At 100,000 agents,
``--steps-only 3 --cache`` takes ~10 minutes of CPU per tree, most of it the two counted
steps (``--keep DIR`` keeps callgrind's output, for ``callgrind_annotate``).

Run: ``python bench/instructions.py before=/tmp/wt-before after=. [--log]``;
``python bench/instructions.py --agents 100000 --steps-only 3 --cache this=.``
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

_RUN = """\
out = tempfile.mkdtemp() if {log} else None
async def main():
    async with Simulation(scenario, out_dir=out) as sim:
        await sim.wait()
anyio.run(main)
"""
"""What both scripts end with: the scenario they built, run (with its log, when asked)."""

SCRIPT = (
    """\
import sys, tempfile, anyio
sys.path.insert(0, {root!r}); sys.path.insert(0, {bench!r})
from bench_simulation import population
from swarm.scenario import load_scenario
from swarm.runtime.simulation import Simulation
scenario = load_scenario(population(1000, {epochs}, {steps}))
"""
    + _RUN
)

STEPS_SCRIPT = (
    """\
import ctypes, sys, tempfile, anyio
sys.path.insert(0, {root!r}); sys.path.insert(0, {bench!r})
cg = ctypes.CDLL({helper!r})
from bench_simulation import population
from swarm.kernel.clock import SimulationClock
from swarm.scenario import load_scenario
from swarm.runtime.simulation import Simulation
step = SimulationClock._step
async def counted(self, at):
    if at.clock == 0:
        cg.cg_start()  # instrumented (the simulated caches warm up), not yet counted
        await step(self, at)
        cg.cg_zero()
        cg.cg_toggle()  # counted from the second step on
        return
    await step(self, at)
    if at.clock == {steps} - 1:
        cg.cg_toggle()
        cg.cg_dump()
        cg.cg_stop()
SimulationClock._step = counted
scenario = load_scenario(population({agents}, 1, {steps}))
"""
    + _RUN
)

HELPER = """\
#include <valgrind/callgrind.h>
void cg_start(void) { CALLGRIND_START_INSTRUMENTATION; }
void cg_stop(void) { CALLGRIND_STOP_INSTRUMENTATION; }
void cg_zero(void) { CALLGRIND_ZERO_STATS; }
void cg_toggle(void) { CALLGRIND_TOGGLE_COLLECT; }
void cg_dump(void) { CALLGRIND_DUMP_STATS_AT("steps"); }
"""

CACHE = ("--cache-sim=yes", "--I1=32768,8,64", "--D1=49152,12,64", "--LL=4194304,16,64")
"""``--cache``: callgrind's cache simulation with this machine's L1i, L1d and L2 (it models two levels)."""


def count(root: Path, epochs: int, steps: int, log: bool, work: Path) -> int:
    """The instructions of one run of the population under callgrind."""
    script = work / f"run_{epochs}x{steps}.py"
    script.write_text(
        SCRIPT.format(root=str(root), bench=str(root / "bench"), epochs=epochs, steps=steps, log=log)
    )
    done = _callgrind(work, script, f"--callgrind-out-file={work / 'callgrind.out'}")
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"the run of {root} failed under valgrind:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def _callgrind(work: Path, script: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """``script`` run by this interpreter under callgrind with ``options``, in ``work``, with the
    settings that keep its count steady (see the module's docstring)."""
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    return subprocess.run(
        ["valgrind", "--tool=callgrind", *options, sys.executable, script],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def count_steps(
    root: Path, agents: int, steps: int, log: bool, cache: bool, work: Path, keep: Path | None, label: str
) -> dict[str, float]:
    """Callgrind's counts per agent-turn over steps 2..``steps`` of one run (see ``--steps-only``)."""
    helper = work / "libcgsteps.so"
    if not helper.exists():
        (work / "cgsteps.c").write_text(HELPER)
        subprocess.run(
            ["cc", "-O2", "-shared", "-fPIC", "-o", str(helper), str(work / "cgsteps.c")], check=True
        )
    script = work / f"steps_{agents}.py"
    script.write_text(
        STEPS_SCRIPT.format(
            root=str(root), bench=str(root / "bench"), helper=str(helper), agents=agents, steps=steps, log=log
        )
    )
    out = work / "callgrind.out"
    options = ("--instr-atstart=no", "--collect-atstart=no", *(CACHE if cache else ()))
    done = _callgrind(work, script, *options, f"--callgrind-out-file={out}")
    part = work / "callgrind.out.1"  # the dump at the last step's end
    if done.returncode != 0 or not part.exists():
        raise SystemExit(f"the run of {root} failed under valgrind:\n{done.stderr[-2000:]}")
    text = part.read_text()
    names = re.search(r"^events: (.+)$", text, re.M)
    totals = re.search(r"^summary: (.+)$", text, re.M)
    if names is None or totals is None:
        raise SystemExit(f"no counts in callgrind's output of the run of {root}")
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        shutil.copy(part, keep / f"callgrind.{label}.{agents}x{steps}")
    turns = agents * (steps - 1)
    return {k: int(v) / turns for k, v in zip(names.group(1).split(), totals.group(1).split(), strict=True)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", nargs="*", default=["this=."], help="LABEL=PATH of each source tree")
    parser.add_argument("--log", action="store_true", help="write the event log and run outputs")
    parser.add_argument("--agents", type=int, default=1000, help="population size (default 1000)")
    parser.add_argument(
        "--steps-only", type=int, default=None, metavar="S", help="count steps 2..S of a 1 x S run alone"
    )
    parser.add_argument("--cache", action="store_true", help="with --steps-only: data misses per turn too")
    parser.add_argument(
        "--keep", type=Path, default=None, help="with --steps-only: keep callgrind's output here"
    )
    args = parser.parse_args()
    if args.steps_only is not None:
        if args.steps_only < 2:
            raise SystemExit("--steps-only needs at least 2 steps (the first only warms up)")
        for spec in args.trees:
            label, _, path = spec.rpartition("=")
            with tempfile.TemporaryDirectory() as tmp:
                per = count_steps(
                    Path(path).resolve(),
                    args.agents,
                    args.steps_only,
                    args.log,
                    args.cache,
                    Path(tmp),
                    args.keep,
                    label or "tree",
                )
            line = (
                f"{label or path}: {per['Ir']:,.0f} instructions per agent-turn"
                f" ({args.agents:,} agents, steps 2..{args.steps_only})"
            )
            if args.cache:
                line += (
                    f"; per turn {per['Dr'] + per['Dw']:,.0f} data refs, {per['D1mr'] + per['D1mw']:,.1f} D1"
                    f" misses, {per['DLmr'] + per['DLmw']:,.1f} last-level data misses"
                    f" ({per['DLmr']:,.1f} reads), {per['I1mr']:,.1f} I1 misses"
                )
            print(line, flush=True)
        return
    if args.cache or args.agents != 1000:
        raise SystemExit("--agents and --cache go with --steps-only")
    for spec in args.trees:
        label, _, path = spec.rpartition("=")
        root = Path(path).resolve()
        with tempfile.TemporaryDirectory() as tmp:
            short = count(root, 1, 1, args.log, Path(tmp))
            long = count(root, 2, 5, args.log, Path(tmp))
        per_turn = (long - short) / 9000
        print(f"{label or root}: {per_turn:,.0f} instructions per agent-turn (1×1: {short:,}, 2×5: {long:,})")


if __name__ == "__main__":
    main()
