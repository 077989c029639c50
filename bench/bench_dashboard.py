"""Dashboard overhead: a run's wall time with the live dashboard serving and nobody connected.

Each round runs the same scenario twice, the way ``swarm run`` does (reading
``sim.events()``, the event log written): once plain, once with
``live_dashboard`` serving on a free port and folding every event, nobody
connected. Rounds alternate the order; the report is the median of each and the
overhead of the second, which must stay under 5 %. Run:
``python bench/bench_dashboard.py`` (``--rounds 3 --epochs 50`` for a quick look).
Not part of the test suite.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_simulation import population

from swarm.dashboard import live_dashboard
from swarm.runtime.simulation import Simulation
from swarm.scenario import load_scenario

LIMIT = 0.05


async def _once(n: int, epochs: int, steps: int, dashboard: bool) -> float:
    sc = load_scenario(population(n, epochs, steps))
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        async with Simulation(sc, out_dir=tmp) as sim:
            if dashboard:
                async with live_dashboard(sim, port=0) as board:
                    async for event in sim.events():
                        board.observe(event)
            else:
                async for _event in sim.events():
                    pass
        return time.perf_counter() - t0


def measure(n: int, epochs: int, steps: int, rounds: int) -> tuple[float, float]:
    plain: list[float] = []
    watched: list[float] = []
    for r in range(rounds):
        order = (False, True) if r % 2 == 0 else (True, False)
        for dashboard in order:
            seconds = anyio.run(_once, n, epochs, steps, dashboard)
            (watched if dashboard else plain).append(seconds)
    return statistics.median(plain), statistics.median(watched)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="5,100")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print(f"{'agents':>7} {'epochs x steps':>15} {'plain s':>9} {'dashboard s':>12} {'overhead':>9}")
    worst = -1.0
    for n in (int(s) for s in args.sizes.split(",")):
        plain, watched = measure(n, args.epochs, args.steps, args.rounds)
        overhead = watched / plain - 1
        worst = max(worst, overhead)
        print(
            f"{n:>7} {f'{args.epochs} x {args.steps}':>15} {plain:>9.3f} {watched:>12.3f} {overhead:>+9.1%}"
        )
    verdict = "within" if worst <= LIMIT else "OVER"
    print(
        f"worst overhead {worst:+.1%}: {verdict} the {LIMIT:.0%} limit (dashboard serving, nobody connected)"
    )


if __name__ == "__main__":
    main()
