"""Simulation benchmark: scripted populations of 10 to 10,000 agents.

Reports agent-turns/s (one turn = one agent's act phase in one step),
interactions/s, and memory per agent. Run: ``python bench/bench_simulation.py``
(``--sizes 10,100`` for a quick look; ``--log`` to write the event log; ``--network small_world``
to put the agents on an agent network of that topology, with its default settings). Not part of the
test suite; ``bench/report.py`` puts these figures against the speed issue's targets.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
import tracemalloc
from typing import Any

import anyio

from swarm.runtime.simulation import Simulation
from swarm.scenario import load_scenario


def time_steps() -> list[float]:
    """From now on, each simulation step's CPU time in the calling thread (seconds) is appended to
    the list returned: the steps alone, without world building or epoch closing. For benchmark
    processes: it replaces the clock's step method for the rest of the process."""
    from swarm.kernel.clock import SimulationClock

    cpu: list[float] = []
    step = SimulationClock._step

    async def timed_step(self: SimulationClock, at: Any) -> None:
        started = time.thread_time()
        try:
            await step(self, at)
        finally:
            cpu.append(time.thread_time() - started)

    SimulationClock._step = timed_step  # type: ignore[method-assign]
    return cpu


def population(
    n: int, epochs: int, steps: int, seed: int = 1, network: str | None = None
) -> dict[str, object]:
    honest = max(1, n * 6 // 10)
    opp = n * 2 // 10
    dec = n // 10
    adv = n - honest - opp - dec
    agents = [
        {"type": t, "count": c}
        for t, c in (("honest", honest), ("opportunistic", opp), ("deceptive", dec), ("adversarial", adv))
        if c
    ]
    scenario: dict[str, object] = {
        "scenario_id": f"bench-{n}",
        "agents": agents,
        "simulation": {"n_epochs": epochs, "steps_per_epoch": steps, "seed": seed},
        "environment": {"tasks_per_epoch": max(2, n // 5)},
    }
    if network is not None:
        scenario["network"] = {"topology": network}
    return scenario


async def _run(
    n: int, epochs: int, steps: int, out_dir: str | None = None, network: str | None = None
) -> tuple[float, int]:
    sc = load_scenario(population(n, epochs, steps, network=network))
    t0 = time.perf_counter()
    async with Simulation(sc, out_dir=out_dir) as sim:
        result = await sim.wait()
    return time.perf_counter() - t0, result.summary["total_interactions"]


async def _memory(n: int) -> float:
    """Bytes per agent held by a world of ``n`` agents after one step (events not retained)."""
    sc = load_scenario(population(n, 1, 1))
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    async with Simulation(sc) as sim:
        await sim.wait()
        gc.collect()
        held = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()
    return held / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10,100,1000,10000")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--memory", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--log", action="store_true", help="write the event log (to a temporary directory)")
    parser.add_argument("--network", default=None, help="an agent network topology (small_world, ...)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(
        f"{'agents':>7} {'epochs x steps':>15} {'seconds':>9} {'agent-turns/s':>14} "
        f"{'interactions/s':>15} {'peak B/agent':>13}"
    )
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            seconds, interactions = anyio.run(
                _run, n, args.epochs, args.steps, tmp if args.log else None, args.network
            )
        turns = n * args.epochs * args.steps
        mem = anyio.run(_memory, n) if args.memory else float("nan")
        print(
            f"{n:>7} {f'{args.epochs} x {args.steps}':>15} {seconds:>9.2f} {turns / seconds:>14,.0f} "
            f"{interactions / seconds:>15,.0f} {mem:>13,.0f}"
        )


if __name__ == "__main__":
    main()
