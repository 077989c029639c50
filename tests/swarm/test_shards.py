"""Sharded runs: the same event log as one process, failures that name the agent, no orphan workers."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import anyio
import pytest
from typer.testing import CliRunner

from swarm import Action, Observation, Simulation, load_scenario, run
from swarm.agents.scripted import HonestPolicy
from swarm.agents.scripted.honest import HonestConfig
from swarm.agents.types import AGENT_TYPES
from swarm.cli import app
from swarm.events import EpochCompleted
from swarm.kernel.world import Seat
from swarm.runtime.rng import Stream
from swarm.runtime.shards import check_sharding, plan
from swarm.runtime.simulation import SimulationError
from tests.conftest import ROOT, SCENARIOS, make_scenario

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="uses /proc (Linux)")


def comparable(path: Path) -> list[str]:
    """The log's lines, the wall-clock field aside (as the determinism tests compare them)."""
    out = []
    for line in path.read_text().splitlines():
        data = json.loads(line)
        data.pop("wall_clock", None)
        out.append(json.dumps(data))
    return out


def shard_workers(parent: int | None = None) -> list[int]:
    """Process ids of the shard workers of ``parent`` (this process) that exist, zombies included."""
    me, found = parent or os.getpid(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == me and b"shard_worker" in cmdline:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` is a process that has not ended (a zombie has)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture(autouse=True)
def no_orphans() -> Iterator[None]:
    yield
    assert shard_workers() == []


def short(name: str, epochs: int = 3) -> Any:
    return load_scenario(SCENARIOS / f"{name}.yaml", [f"simulation.n_epochs={epochs}"])


@pytest.mark.parametrize(("name", "shards"), [("baseline", 2), ("baseline", 3), ("marketplace_economy", 2)])
def test_a_sharded_run_logs_exactly_what_one_process_logs(tmp_path: Path, name: str, shards: int) -> None:
    sc = short(name)
    run(sc, out_dir=tmp_path / "one")
    run(sc, out_dir=tmp_path / "many", shards=shards)
    one, many = comparable(tmp_path / "one" / "events.jsonl"), comparable(tmp_path / "many" / "events.jsonl")
    assert len(one) > 100
    assert one == many  # baseline has 5 agents: 3 shards get 2, 2 and 1


class Custom(HonestPolicy):
    """A custom policy object (stays in the main process)."""

    kind = "custom_honest"

    def decide(self, observation: Observation) -> Action:
        return super().decide(observation)


def test_custom_policies_stay_here_and_the_log_is_still_the_same(tmp_path: Path) -> None:
    sc = make_scenario(honest=4, opportunistic=2, deceptive=1, adversarial=1, epochs=3, steps=4, seed=5)

    def customs() -> dict[str, Any]:
        return {"honest_2": Custom("honest_2", Stream.of(5, "custom", "honest_2"))}

    run(sc, out_dir=tmp_path / "one", policies=customs())
    run(sc, out_dir=tmp_path / "many", policies=customs(), shards=3)
    assert comparable(tmp_path / "one" / "events.jsonl") == comparable(tmp_path / "many" / "events.jsonl")


def test_llm_agents_stay_here_beside_sharded_scripted_ones(tmp_path: Path) -> None:
    from swarm.agents.llm_backend import LLMBackend

    sc = short("llm_agents", epochs=2)

    def once(out: Path, shards: int) -> None:
        async def main() -> None:
            backend = LLMBackend(scripted=True)
            async with Simulation(sc, out_dir=out, llm_factory=backend, shards=shards) as sim:
                await sim.wait()

        anyio.run(main)

    once(tmp_path / "one", 1)
    once(tmp_path / "many", 2)
    assert comparable(tmp_path / "one" / "events.jsonl") == comparable(tmp_path / "many" / "events.jsonl")


def test_more_shards_than_agents_start_only_the_workers_needed(tmp_path: Path) -> None:
    sc = make_scenario(honest=2, epochs=2, steps=3)
    run(sc, out_dir=tmp_path / "one")
    run(sc, out_dir=tmp_path / "many", shards=4)  # honest_2 in a worker; the two other workers stopped
    assert comparable(tmp_path / "one" / "events.jsonl") == comparable(tmp_path / "many" / "events.jsonl")


def test_the_plan_deals_portable_agents_round_robin_and_keeps_the_rest_here() -> None:
    class Awaiting(HonestPolicy):
        async def decide(self, observation: Observation) -> Action:  # type: ignore[override]
            return super().decide(observation)

    def seat(agent_id: str, policy: Any) -> Seat:
        return Seat(agent_id, "honest", "worker", policy)

    rng = Stream.of(1, "x")
    seats = [seat(f"a{k}", HonestPolicy(f"a{k}", rng)) for k in range(5)]
    seats.insert(2, seat("llm", Awaiting("llm", rng)))
    seats.insert(4, seat("mine", HonestPolicy("mine", rng)))
    owner = plan(seats, 3, custom=frozenset({"mine"}))
    assert dict(zip((s.agent_id for s in seats), owner, strict=True)) == {
        "a0": 0,
        "a1": 1,
        "llm": 0,
        "a2": 2,
        "mine": 0,
        "a3": 0,
        "a4": 1,
    }


def test_shard_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="processes, ray"):
        check_sharding(2, "threads")
    with pytest.raises(ValueError, match="at least 1"):
        Simulation(make_scenario(), shards=0)
    if importlib.util.find_spec("ray") is None:
        with pytest.raises(ValueError, match=r"swarm-sandbox\[ray\]"):
            Simulation(make_scenario(), shards=2, shard_backend="ray")


def test_the_command_line_takes_shards_and_refuses_an_unknown_backend(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["run", "baseline", "--epochs", "2", "--steps", "3", "--set", "success_criteria.min_epochs=2"]
    ok = runner.invoke(app, [*args, "--shards", "2", "--out", str(tmp_path)])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(app, ["run", "baseline", "--shards", "2", "--backend", "threads"])
    assert bad.exit_code == 2 and "processes, ray" in bad.output


# ------------------------------------------------------------------ failures


class BuggyConfig(HonestConfig):
    fail_in: Literal["decide", "accept", "observe"] = "decide"


class BuggyPolicy(HonestPolicy):
    """Honest until epoch 1, then a bug in one of its methods."""

    kind = "buggy"
    Config = BuggyConfig
    config: BuggyConfig
    __slots__ = ()

    def decide(self, observation: Observation) -> Action:
        if self.config.fail_in == "decide" and observation.epoch >= 1:
            raise KeyError("boom")
        return super().decide(observation)

    def accept(self, observation: Observation, proposal: Any) -> bool:
        if self.config.fail_in == "accept":
            raise KeyError("boom")
        return True

    def observe(self, outcome: Any) -> None:
        if self.config.fail_in == "observe":
            raise KeyError("boom")
        super().observe(outcome)


@pytest.fixture
def buggy() -> Iterator[None]:
    BuggyPolicy.register("Honest, then a bug.")
    try:
        yield
    finally:
        AGENT_TYPES.remove("buggy")


def buggy_scenario(fail_in: str) -> Any:
    # honest_1 stays here, buggy_1 goes to shard 1 (round robin), honest_2 here, honest_3 to shard 1
    return load_scenario(
        {
            "scenario_id": "buggy",
            "agents": [
                {"type": "honest", "count": 1},
                {"type": "buggy", "count": 1, "config": {"fail_in": fail_in}},
                {"type": "honest", "count": 2},
            ],
            "simulation": {"n_epochs": 3, "steps_per_epoch": 4, "seed": 2},
        }
    )


def test_a_bug_in_a_worker_stops_the_run_as_it_does_in_one_process(buggy: None, tmp_path: Path) -> None:
    sc = buggy_scenario("decide")
    with pytest.raises(SimulationError) as here:
        run(sc, out_dir=tmp_path / "one")
    with pytest.raises(SimulationError) as there:
        run(sc, out_dir=tmp_path / "many", shards=2)
    assert "agent:buggy_1" in str(there.value) and "KeyError" in str(there.value)
    assert "Act(epoch=1, step=0)" in str(there.value)
    assert str(there.value) == str(here.value)
    assert comparable(tmp_path / "one" / "events.jsonl") == comparable(tmp_path / "many" / "events.jsonl")


@pytest.mark.parametrize("fail_in", ["accept", "observe"])
def test_a_bug_answering_or_learning_in_a_worker_names_the_agent(
    buggy: None, tmp_path: Path, fail_in: str
) -> None:
    sc = buggy_scenario(fail_in)
    with pytest.raises(SimulationError) as here:
        run(sc, out_dir=tmp_path / "one")
    with pytest.raises(SimulationError) as there:
        run(sc, out_dir=tmp_path / "many", shards=2)
    text = str(there.value)
    assert "agent:buggy_1" in text and "KeyError" in text
    assert ("Respond(" if fail_in == "accept" else "Learn(") in text
    assert text == str(here.value)
    if fail_in == "accept":  # a failure to learn is told, not asked: when the stop lands depends on timing
        assert comparable(tmp_path / "one" / "events.jsonl") == comparable(tmp_path / "many" / "events.jsonl")
    end = json.loads((tmp_path / "many" / "events.jsonl").read_text().splitlines()[-1])
    assert end["reason"] == "failed"


def test_a_killed_worker_stops_the_run_with_a_clear_error(tmp_path: Path) -> None:
    sc = make_scenario(honest=4, opportunistic=2, epochs=50, steps=5)

    async def main() -> None:
        async with Simulation(sc, out_dir=tmp_path, shards=2) as sim:
            async for event in sim.events():
                if isinstance(event, EpochCompleted) and event.epoch == 1:
                    (pid,) = shard_workers()
                    os.kill(pid, signal.SIGKILL)

    with pytest.raises(SimulationError, match=r"shard 1 \(process \d+\) was killed by SIGKILL"):
        anyio.run(main)
    end = json.loads((tmp_path / "events.jsonl").read_text().splitlines()[-1])
    assert end["type"] == "run_ended" and end["reason"] == "failed"


def test_a_cancelled_run_leaves_no_worker_behind(tmp_path: Path) -> None:
    sc = make_scenario(honest=4, opportunistic=2, epochs=500, steps=5)
    seen: list[int] = []

    async def main() -> None:
        with anyio.move_on_after(30):
            async with Simulation(sc, out_dir=tmp_path, shards=3) as sim:
                async for event in sim.events():
                    if isinstance(event, EpochCompleted):
                        seen.extend(shard_workers())
                        break
                raise KeyboardInterrupt  # leave the block with an error: the run is cancelled

    with pytest.raises(KeyboardInterrupt):
        anyio.run(main)
    assert len(seen) == 2
    end = json.loads((tmp_path / "events.jsonl").read_text().splitlines()[-1])
    assert end["reason"] == "cancelled"


def test_workers_die_with_their_parent() -> None:
    code = (
        "import anyio\n"
        "from swarm import Simulation\n"
        "from swarm.events import EpochCompleted\n"
        "from tests.conftest import make_scenario\n"
        "async def main():\n"
        "    async with Simulation(make_scenario(honest=4, epochs=100_000), shards=2) as sim:\n"
        "        async for event in sim.events():\n"
        "            if isinstance(event, EpochCompleted) and event.epoch == 0:\n"
        "                print('running', flush=True)\n"
        "anyio.run(main)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None and parent.stdout.readline().strip() == "running"
        (worker,) = shard_workers(parent.pid)
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 10
    while alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(worker)


# ------------------------------------------------------------------------ Ray


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="the ray extra is not installed")
def test_ray_shards_log_exactly_what_one_process_logs(tmp_path: Path) -> None:
    import ray

    sc = short("baseline", epochs=2)
    run(sc, out_dir=tmp_path / "one")
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False)
    try:
        run(sc, out_dir=tmp_path / "many", shards=3, shard_backend="ray")
    finally:
        if started:
            ray.shutdown()
    assert comparable(tmp_path / "one" / "events.jsonl") == comparable(tmp_path / "many" / "events.jsonl")
