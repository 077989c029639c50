"""Checkpoints of sharded runs: the workers' agents are saved, resumed and forked like local ones."""

from __future__ import annotations

import importlib.util
import shutil
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from swarm import Observation
from swarm.actions import Action
from swarm.agents.scripted import HonestPolicy
from swarm.agents.types import AGENT_TYPES
from swarm.runtime import checkpoint as ck
from swarm.runtime.simulation import Simulation, SimulationError
from swarm.scenario import load_scenario
from tests.swarm.test_checkpoints import _swarm, _wait_for_epochs, events, kill_at, short, swarm_cli
from tests.swarm.test_shards import shard_workers

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="uses /proc (Linux)")

NAME = "adversarial_redteam"
"""Eight agents, two of them adaptive adversaries learning a bandit: adaptive_adversary_2 runs in shard 1."""
EPOCHS = 5


@pytest.fixture(autouse=True)
def no_orphans() -> Iterator[None]:
    yield
    assert shard_workers() == []


def run(out: Path, **kwargs: Any) -> None:
    async def main() -> None:
        async with Simulation(short(NAME, EPOCHS), out_dir=out, **kwargs) as sim:
            await sim.wait()

    anyio.run(main)


def resume(run_dir: Path, **kwargs: Any) -> int:
    """Resume ``run_dir``; the shards the resumed run used."""

    async def main() -> int:
        async with Simulation.resume(run_dir, **kwargs) as sim:
            await sim.wait()
            return sim.shards

    return anyio.run(main)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scenario run in one process without checkpoints, and over two shards and in one process with."""
    base = tmp_path_factory.mktemp("sharded")
    run(base / "plain")
    run(base / "sharded", shards=2, checkpoint_every=1)
    run(base / "one", checkpoint_every=1)
    return base


class _Named:
    """Stands for an object of the run a checkpoint names (read outside a run): only its name."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __getattr__(self, attr: str) -> _Named:  # a saved bound method names its object's attribute
        return _Named(f"{self.name}.{attr}")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Named) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)


class _Names(dict[str, object]):
    """Resolves every name a checkpoint holds to a :class:`_Named`."""

    def __missing__(self, name: str) -> object:
        return _Named(name)


def saved_policies(path: Path) -> dict[str, dict[str, Any]]:
    state = ck.read_state(path, _Names())["state"]
    return {key: attrs for key, attrs in state.items() if key.startswith("policy:")}


def test_a_sharded_run_writes_checkpoints_and_its_log_is_unchanged(runs: Path) -> None:
    assert events(runs / "sharded" / "events.jsonl") == events(runs / "plain" / "events.jsonl")
    found = ck.list_checkpoints(runs / "sharded")
    assert [ck.read_epoch(p) for p in found] == list(range(EPOCHS))
    info = ck.read_info(found[-1])
    assert (info.shards, info.shard_backend) == (2, "processes")
    assert ck.read_info(ck.list_checkpoints(runs / "one")[-1]).shards == 1


def test_the_checkpoint_holds_what_the_workers_agents_learnt(runs: Path) -> None:
    sharded = saved_policies(ck.path_for(runs / "sharded", 3))
    one = saved_policies(ck.path_for(runs / "one", 3))
    fresh = saved_policies(ck.path_for(runs / "sharded", 0))
    assert sharded.keys() == one.keys()  # every agent, in registration order, as in one process
    assert list(sharded) == list(one)
    for attrs in sharded.values():  # a worker's agents' streams are saved by name, as in one process
        assert isinstance(attrs["rng"], _Named) and attrs["rng"].name.startswith("stream:")
    learner = sharded["policy:adaptive_adversary_2"]  # dealt to shard 1
    assert learner["usage"] != fresh["policy:adaptive_adversary_2"]["usage"], "nothing learnt by epoch 3"
    for name in ("usage", "heat", "detections", "epochs_since_detection", "rng"):
        assert learner[name] == one["policy:adaptive_adversary_2"][name], name
    assert sharded["policy:honest_2"]["_tally"] == one["policy:honest_2"]["_tally"]


@pytest.mark.parametrize(
    ("source", "where", "shards", "expected"),
    [
        ("sharded", 0.3, None, 2),  # the shards the checkpoint records
        ("sharded", 0.6, 1, 1),  # a sharded run's checkpoint, resumed in one process
        ("sharded", 0.9, 3, 3),
        ("one", 0.5, 2, 2),  # one process's checkpoint, resumed over shards
    ],
)
def test_a_killed_run_resumes_to_the_uninterrupted_log_over_any_shards(
    runs: Path, tmp_path: Path, source: str, where: float, shards: int | None, expected: int
) -> None:
    src = runs / source
    first = ck.read_info(ck.path_for(src, 1)).log_bytes
    end = (src / "events.jsonl").read_bytes().rstrip(b"\n").rfind(b"\n") + 1
    d = tmp_path / "run"
    shutil.copytree(src, d)
    kill_at(d, first + int(where * (end - first)))
    assert resume(d, **({} if shards is None else {"shards": shards})) == expected
    assert events(d / "events.jsonl") == events(runs / "plain" / "events.jsonl")
    for name in ("summary.json", "metrics.csv", "agent_epochs.csv"):
        assert (d / name).read_text() == (runs / "plain" / name).read_text(), name


def test_forks_of_a_sharded_run(runs: Path, tmp_path: Path) -> None:
    src = runs / "sharded"
    sc = short(NAME, EPOCHS)

    async def fork(out: Path, scenario: Any) -> None:
        async with Simulation.fork(src, at_epoch=3, scenario=scenario, out_dir=out) as sim:
            assert sim.shards == 2
            await sim.wait()

    anyio.run(fork, tmp_path / "same", sc)
    original = events(src / "events.jsonl", header=False)
    assert events(tmp_path / "same" / "events.jsonl", header=False) == original
    anyio.run(fork, tmp_path / "tax", sc.with_overrides(["governance.transaction_tax_rate=0.3"]))
    branch = events(tmp_path / "tax" / "events.jsonl", header=False)
    boundary = ck.read_info(ck.path_for(src, 3)).seq
    assert branch[:boundary] == original[:boundary]
    assert branch[boundary:] != original[boundary:]


def test_a_fork_changing_a_components_frozen_settings_takes_effect(tmp_path: Path) -> None:
    sc = short("network_effects", EPOCHS)  # the network component keeps its settings in a frozen Setup

    async def main() -> None:
        async with Simulation(sc, out_dir=tmp_path / "src", checkpoint_every=1) as sim:
            await sim.wait()
        changed = sc.with_overrides(["network.edge_decay_rate=0.9"])
        branch = Simulation.fork(tmp_path / "src", at_epoch=3, scenario=changed, out_dir=tmp_path / "b")
        async with branch:
            await branch.wait()

    anyio.run(main)
    original = events(tmp_path / "src" / "events.jsonl", header=False)
    branch = events(tmp_path / "b" / "events.jsonl", header=False)
    boundary = ck.read_info(ck.path_for(tmp_path / "src", 3)).seq
    assert branch[:boundary] == original[:boundary]
    assert branch[boundary:] != original[boundary:]


# ------------------------------------------------------------------ a policy that cannot be saved


class LockingPolicy(HonestPolicy):
    """Honest, but from epoch 1 it holds a lock (which cannot be pickled)."""

    kind = "locking"

    def decide(self, observation: Observation) -> Action:
        if observation.epoch >= 1 and not hasattr(self, "lock"):
            self.lock = threading.Lock()
        return super().decide(observation)


@pytest.fixture
def locking() -> Iterator[None]:
    LockingPolicy.register("Honest, holding a lock from epoch 1.")
    try:
        yield
    finally:
        AGENT_TYPES.remove("locking")


def test_a_worker_policy_that_cannot_be_saved_stops_the_run_naming_it(locking: None, tmp_path: Path) -> None:
    sc = load_scenario(
        {
            "scenario_id": "locking",
            "agents": [{"type": "honest", "count": 1}, {"type": "locking", "count": 1}],  # locking_1: shard 1
            "simulation": {"n_epochs": 3, "steps_per_epoch": 4, "seed": 3},
        }
    )

    def once(out: Path, shards: int) -> str:
        async def main() -> None:
            async with Simulation(sc, out_dir=out, shards=shards, checkpoint_every=1) as sim:
                await sim.wait()

        with pytest.raises(SimulationError) as stopped:
            anyio.run(main)
        return str(stopped.value)

    here, there = once(tmp_path / "one", 1), once(tmp_path / "many", 2)
    assert "cannot save policy:locking_1 (LockingPolicy).lock: TypeError" in there
    assert "in shard 1 (process" in there
    assert there.startswith(here.rstrip())  # the message of one process, and where
    assert events(tmp_path / "many" / "events.jsonl") == events(tmp_path / "one" / "events.jsonl")
    assert ck.ended(tmp_path / "many" / "events.jsonl") == "failed"
    assert [ck.read_epoch(p) for p in ck.list_checkpoints(tmp_path / "many")] == [0, 1]


# ------------------------------------------------------------------ the command line


def test_kill_9_of_a_sharded_run_then_swarm_resume_uses_its_shards(tmp_path: Path) -> None:
    args = ["run", "mixed_population", "--epochs", "20", "--steps", "10"]
    plain = swarm_cli(*args, "--out", str(tmp_path / "plain"), cwd=tmp_path)
    assert plain.returncode in (0, 1), plain.stderr.decode()
    run_dir = tmp_path / "run"
    proc = _swarm(*args, "--shards", "2", "--out", str(run_dir), cwd=tmp_path)
    _wait_for_epochs(run_dir / "events.jsonl", proc, 8)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert b'"run_ended"' not in (run_dir / "events.jsonl").read_bytes()
    assert ck.read_info(ck.list_checkpoints(run_dir)[-1]).shards == 2
    bad = swarm_cli("resume", str(run_dir), "--backend", "threads", cwd=tmp_path)
    assert bad.returncode == 2 and "processes, ray" in bad.stderr.decode()
    done = swarm_cli("resume", str(run_dir), cwd=tmp_path)
    assert done.returncode in (0, 1), done.stderr.decode()
    assert "over 2 shards" in done.stderr.decode()
    assert events(run_dir / "events.jsonl") == events(tmp_path / "plain" / "events.jsonl")
    assert (run_dir / "metrics.csv").read_text() == (tmp_path / "plain" / "metrics.csv").read_text()


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="the ray extra is not installed")
def test_ray_shards_write_checkpoints_and_resume(runs: Path, tmp_path: Path) -> None:
    import ray

    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False)
    try:
        d = tmp_path / "ray"
        run(d, shards=2, shard_backend="ray", checkpoint_every=1)
        assert events(d / "events.jsonl") == events(runs / "plain" / "events.jsonl")
        assert ck.read_info(ck.path_for(d, 3)).shard_backend == "ray"
        kill_at(d, ck.read_info(ck.path_for(d, 3)).log_bytes + 1000)
        assert resume(d) == 2
        assert events(d / "events.jsonl") == events(runs / "plain" / "events.jsonl")
    finally:
        if started:
            ray.shutdown()
