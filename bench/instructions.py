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

Run: ``python bench/instructions.py before=/tmp/wt-before after=. [--log]``
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

SCRIPT = """\
import sys, tempfile, anyio
sys.path.insert(0, {root!r}); sys.path.insert(0, {bench!r})
from bench_simulation import population
from swarm.scenario import load_scenario
from swarm.runtime.simulation import Simulation
scenario = load_scenario(population(1000, {epochs}, {steps}))
out = tempfile.mkdtemp() if {log} else None
async def main():
    async with Simulation(scenario, out_dir=out) as sim:
        await sim.wait()
anyio.run(main)
"""


def count(root: Path, epochs: int, steps: int, log: bool, work: Path) -> int:
    """The instructions of one run of the population under callgrind."""
    script = work / f"run_{epochs}x{steps}.py"
    script.write_text(
        SCRIPT.format(root=str(root), bench=str(root / "bench"), epochs=epochs, steps=steps, log=log)
    )
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={work / 'callgrind.out'}",
            sys.executable,
            script,
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"the run of {root} failed under valgrind:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", nargs="*", default=["this=."], help="LABEL=PATH of each source tree")
    parser.add_argument("--log", action="store_true", help="write the event log and run outputs")
    args = parser.parse_args()
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
