"""A run holds full collections back and collects the young generation less often while it is built and
run, and gives the settings back."""

from __future__ import annotations

import gc

import anyio

from swarm.runtime.simulation import Simulation
from swarm.scenario import load_scenario
from tests.conftest import ROOT


def test_overlapping_runs_give_the_collector_its_thresholds_back() -> None:
    sc = load_scenario(ROOT / "scenarios" / "baseline.yaml").with_overrides(["simulation.n_epochs=2"])
    before = gc.get_threshold()
    seen: list[tuple[int, int, int]] = []

    async def one(delay: float) -> None:
        await anyio.sleep(delay)
        async with Simulation(sc) as sim:
            async for _ in sim.events():
                seen.append(gc.get_threshold())

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(one, 0.0)
            tg.start_soon(one, 0.001)

    anyio.run(main)
    assert seen and all(t[0] >= 10_000 and t[1] == before[1] and t[2] >= 1_000_000 for t in seen)
    assert gc.get_threshold() == before


def test_without_freeze_heap_the_collector_is_left_alone() -> None:
    sc = load_scenario(ROOT / "scenarios" / "baseline.yaml").with_overrides(["simulation.n_epochs=1"])
    before = gc.get_threshold()
    seen: list[tuple[int, int, int]] = []

    async def main() -> None:
        async with Simulation(sc, freeze_heap=False) as sim:
            async for _ in sim.events():
                seen.append(gc.get_threshold())

    anyio.run(main)
    assert seen and set(seen) == {before}
