"""A run holds full collections back and collects the young generation less often while it is built and
run, and gives the settings back."""

from __future__ import annotations

import gc
from typing import Any

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


def test_a_large_run_collects_the_young_generation_after_more_allocations() -> None:
    """The young generation's threshold grows with the population (ten allocations per agent), so that a
    step of a large run ends before a collection walks its messages; a smaller run joining keeps it."""
    small = load_scenario(ROOT / "scenarios" / "baseline.yaml").with_overrides(["simulation.n_epochs=1"])
    n = sum(spec.count for spec in small.agents) * 300  # ten allocations per agent: more than 10,000
    rest = sum(s.count for s in small.agents[1:])
    large = small.with_overrides([f"agents.0.count={n - rest}", "simulation.steps_per_epoch=2"])
    assert sum(spec.count for spec in large.agents) == n
    before = gc.get_threshold()
    seen: dict[str, list[int]] = {"large": [], "small": []}

    async def one(sc: Any, name: str, delay: float) -> None:
        await anyio.sleep(delay)
        async with Simulation(sc) as sim:
            async for _ in sim.events():
                seen[name].append(gc.get_threshold()[0])

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(one, large, "large", 0.0)
            tg.start_soon(one, small, "small", 0.001)

    anyio.run(main)
    assert seen["large"] and min(seen["large"]) >= max(10 * n, before[0])
    assert seen["small"] and min(seen["small"]) >= 10_000
    assert gc.get_threshold() == before


def test_a_shard_worker_collects_as_rarely_as_a_run() -> None:
    from swarm.runtime.shard_worker import _collect_rarely

    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        _collect_rarely(0)
        assert gc.get_threshold() == (10_000, 10, 1_000_000)
        _collect_rarely(5_000)
        assert gc.get_threshold() == (50_000, 10, 1_000_000)
        _collect_rarely(10)  # never lowered again
        assert gc.get_threshold() == (50_000, 10, 1_000_000)
    finally:
        gc.set_threshold(*before)
