"""Sharded runs: wall time of 1 against N shards, and the barrier's cost per step.

Every measurement is a fresh process, the shard counts interleaved, so the runs
share the machine's state fairly. Reported per shard count: the whole run's wall
time (worker start-up included), the steps' wall time, the median step, the
main process's CPU time in a step (its thread's: what a loaded machine does not inflate),
and how long per step the main process waited for the workers' replies once its own
agents had answered (median over the runs).

``--policies scripted`` (default) is the simulation bench's population (60 %
honest, 20 % opportunistic, 10 % deceptive, 10 % adversarial); ``--policies
trivial`` has every agent do nothing at once, so a step is the kernel's own work
plus, when sharded, the barrier: the snapshot encoded and sent, the replies sent
back and merged. The difference of the median steps is the barrier's cost.

An arm is a shard count, balanced (agents move between shards between steps so
that the shards finish together; the default of ``--shards``), or with ``f`` after
it the first split kept (``--no-balance``): ``--shards 1,2,2f`` compares both.
``moved`` is how many agents the balance moved in the run and ``move ms`` what
the moves took in all (medians; the moves happen inside the steps timed).

Run: ``python bench/bench_shards.py`` (10,000 agents, 10 steps, 1 shard against 2
balanced and 2 fixed, 3 runs each); ``--agents 2000 --repeat 1`` for a quick look.
Not part of the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


class IdlePolicy:
    """Does nothing, at once (for the barrier's cost)."""

    kind = "idle"

    def __init__(self, agent_id: str) -> None:
        self.agent_id = agent_id

    @property
    def conduct(self) -> Any:
        from swarm.actions import Conduct

        return Conduct()

    def decide(self, observation: Any) -> Any:
        from swarm.actions import NOOP

        return NOOP

    def accept(self, observation: Any, proposal: Any) -> bool:
        return False

    def observe(self, outcome: Any) -> None:
        return None


def _register_idle() -> None:
    from swarm.agents.types import AGENT_TYPES, PolicyConfig, register_agent_type

    if "idle" not in AGENT_TYPES:
        register_agent_type(
            "idle",
            PolicyConfig,
            lambda agent_id, spec, ctx: IdlePolicy(agent_id),
            description="Does nothing.",
        )


def scenario(agents: int, steps: int, policies: str) -> Any:
    from swarm.scenario import load_scenario

    if policies == "trivial":
        _register_idle()
        return load_scenario(
            {
                "scenario_id": f"bench-idle-{agents}",
                "agents": [{"type": "idle", "count": agents}],
                "simulation": {"n_epochs": 1, "steps_per_epoch": steps, "seed": 1},
                "environment": {"tasks_per_epoch": 0},
            }
        )
    sys.path.insert(0, str(HERE))
    from bench_simulation import population

    return load_scenario(population(agents, 1, steps))


def child(agents: int, steps: int, shards: int, policies: str, balance: bool = True) -> None:
    """One measured run, printed as a JSON line."""
    import anyio
    from bench_simulation import time_steps

    from swarm.runtime.simulation import Simulation

    sc = scenario(agents, steps, policies)
    cpu = time_steps()
    waited = [0.0]
    moving = [0.0]
    if shards > 1:
        from swarm.runtime.shards import ShardedPopulation

        gather = ShardedPopulation._gather

        async def timed_gather(self: ShardedPopulation, *args: Any, **kwargs: Any) -> list[bytes]:
            started = time.perf_counter()
            try:
                return await gather(self, *args, **kwargs)
            finally:
                waited[0] += time.perf_counter() - started

        ShardedPopulation._gather = timed_gather  # type: ignore[method-assign]
        move = ShardedPopulation.move

        async def timed_move(self: ShardedPopulation, moves: Any, t: int) -> int:
            started = time.perf_counter()
            try:
                return await move(self, moves, t)
            finally:
                moving[0] += time.perf_counter() - started

        ShardedPopulation.move = timed_move  # type: ignore[method-assign]

    async def main() -> dict[str, Any]:
        started = time.perf_counter()
        async with Simulation(sc, shards=shards, shard_balance=balance) as sim:
            result = await sim.wait()
        wall = time.perf_counter() - started
        st = sim.step_seconds
        return {
            "shards": shards,
            "wall": wall,
            "steps": sum(st),
            "median_step": statistics.median(st),
            "median_cpu": statistics.median(cpu),
            "waited": waited[0] / len(st),
            "moved": sim.agents_moved,
            "moving": moving[0],
            "interactions": result.summary["total_interactions"],
        }

    print(json.dumps(anyio.run(main)))


def measure(agents: int, steps: int, arm: str, policies: str) -> dict[str, Any]:
    shards, balance = int(arm.rstrip("f")), not arm.endswith("f")
    code = f"import bench_shards; bench_shards.child({agents}, {steps}, {shards}, {policies!r}, {balance})"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parent)])}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=HERE.parent
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument(
        "--shards",
        default="1,2,2f",
        help="arms to compare (the first is the yardstick): shard counts, 'f' after one for a fixed split",
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--policies", choices=("scripted", "trivial"), default="scripted")
    args = parser.parse_args()
    counts = [s.strip() for s in args.shards.split(",")]
    runs: dict[str, list[dict[str, Any]]] = {n: [] for n in counts}
    for _ in range(args.repeat):
        for n in counts:
            runs[n].append(measure(args.agents, args.steps, n, args.policies))
    interactions = {r["interactions"] for rs in runs.values() for r in rs}
    assert len(interactions) == 1, f"the shard counts disagree on the run: {interactions}"
    print(
        f"{args.agents:,} {args.policies} agents, {args.steps} steps, {os.cpu_count()} cores; "
        f"best and median of {args.repeat}"
    )
    print(
        f"{'shards':>6} {'run wall s':>16} {'steps wall s':>16} {'median step ms':>18} "
        f"{'speed-up':>9} {'main CPU/step ms':>17} {'wait/step ms':>13} {'moved':>6} {'move ms':>8}"
    )
    base = statistics.median(r["steps"] for r in runs[counts[0]])
    for n in counts:
        rs = runs[n]
        wall = [r["wall"] for r in rs]
        steps = [r["steps"] for r in rs]
        step = [r["median_step"] * 1e3 for r in rs]
        cpu = [r["median_cpu"] * 1e3 for r in rs]
        wait = statistics.median(r["waited"] * 1e3 for r in rs)
        moved = statistics.median(r["moved"] for r in rs)
        moving = statistics.median(r["moving"] * 1e3 for r in rs)
        print(
            f"{n:>6} {min(wall):>7.2f} / {statistics.median(wall):>6.2f} "
            f"{min(steps):>7.2f} / {statistics.median(steps):>6.2f} "
            f"{min(step):>8.1f} / {statistics.median(step):>7.1f} "
            f"{base / statistics.median(steps):>8.2f}x "
            f"{min(cpu):>8.1f} / {statistics.median(cpu):>6.1f} {wait:>13.1f} {moved:>6.0f} {moving:>8.1f}"
        )


if __name__ == "__main__":
    main()
