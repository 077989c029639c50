"""Start-up of the ``swarm`` command, compared between source trees, whole processes, interleaved.

For each tree (``LABEL=PATH``: a checkout of the sandbox, e.g. a ``git worktree`` of an
earlier commit) this times ``swarm --help``, ``swarm list`` with its answer remembered,
``swarm list`` on its first call (a fresh cache: it validates every shipped scenario) and
``swarm run baseline``, as a user runs them: the ``swarm`` console script beside this
interpreter, with ``PYTHONPATH`` pointing at the tree. Rounds interleave the trees
command by command, so that the machine's load swings hit them alike; the table gives
the best and the median wall time, and the CPU time of the same processes.

With ``--bytecode`` each tree is also measured from a copy whose modules were compiled
(``python -m compileall``), as an installed package has them; without it the trees run
as they are, which under ``PYTHONDONTWRITEBYTECODE=1`` means compiling the sandbox's
own modules at every start.

Run: ``python bench/bench_startup.py before=/tmp/wt-before after=. --rounds 10 --bytecode``
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SWARM = Path(sys.executable).parent / "swarm"
COMMANDS = {
    "help": ["--help"],
    "list": ["list"],
    "list, first call": ["list"],
    "run baseline": ["run", "baseline", "--out", "{out}", "--overwrite"],
}
PACKAGES = ("swarm", "actors", "adapters")


def compiled_copy(tree: Path, into: Path) -> Path:
    """A copy of the tree's packages and scenarios with every module compiled."""
    for name in (*PACKAGES, "scenarios"):
        shutil.copytree(tree / name, into / name, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", *PACKAGES], cwd=into, check=True, stdout=subprocess.DEVNULL
    )
    return into


def timed(args: list[str], tree: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one ``swarm`` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [str(SWARM), *args], cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise RuntimeError(
            f"swarm {' '.join(args)} in {tree} exited {done.returncode}:\n{done.stderr[-2000:]}"
        )
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("trees", nargs="+", metavar="LABEL=PATH")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--bytecode", action="store_true", help="Also measure compiled copies of the trees.")
    args = parser.parse_args()
    if not SWARM.exists():
        sys.exit(f"no console script at {SWARM}: install the sandbox into this interpreter's environment")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        variants: list[tuple[str, Path]] = []
        for item in args.trees:
            label, _, path = item.partition("=")
            tree = Path(path).resolve()
            variants.append((label, tree))
            if args.bytecode:
                variants.append((f"{label}, bytecode", compiled_copy(tree, work / f"pyc-{len(variants)}")))
        times: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for index, (_, tree) in enumerate(variants):
            env = {**os.environ, "PYTHONPATH": str(tree), "SWARM_CACHE_DIR": str(work / f"cache-{index}")}
            timed(["list"], tree, env)  # remember the listing
        for _ in range(args.rounds):
            for command, argv in COMMANDS.items():
                for index, (label, tree) in enumerate(variants):
                    cache = work / f"cache-{index}"
                    if command == "list, first call":
                        cache = work / f"cold-{index}"
                        shutil.rmtree(cache, ignore_errors=True)
                    env = {**os.environ, "PYTHONPATH": str(tree), "SWARM_CACHE_DIR": str(cache)}
                    argv_ = [a.format(out=work / f"run-{index}") for a in argv]
                    times.setdefault((command, label), []).append(timed(argv_, tree, env))
    print(
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, {args.rounds} rounds, "
        f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')}"
    )
    print(f"{'command':<18} {'tree':<24} {'best':>6} {'median':>7} {'worst':>6}   cpu best, median")
    for (command, label), runs in times.items():
        wall = [w for w, _ in runs]
        cpu = [c for _, c in runs]
        print(
            f"{command:<18} {label:<24} {min(wall):6.3f} {statistics.median(wall):7.3f} {max(wall):6.3f}"
            f"   {min(cpu):.3f}, {statistics.median(cpu):.3f}"
        )


if __name__ == "__main__":
    main()
