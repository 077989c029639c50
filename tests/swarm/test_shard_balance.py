"""Balanced shards: agents moved between shards between steps never change the log.

The moves here are forced (a seeded random pattern every step, both ways, a worker
emptied and filled again), so the tests do not depend on the machine's timings.
"""

from __future__ import annotations

import importlib.util
import pickle
import random
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from swarm import Observation, load_scenario
from swarm.actions import Action
from swarm.agents.scripted import HonestPolicy
from swarm.agents.scripted.honest import HonestConfig
from swarm.agents.types import AGENT_TYPES
from swarm.cli import app
from swarm.runtime import checkpoint as ck
from swarm.runtime.shard_balance import Balancer, Load, choose, finishing, split
from swarm.runtime.shard_worker import ACT, ShardRunner, ShardSetup, encode_snapshot
from swarm.runtime.shards import _Route
from swarm.runtime.simulation import Simulation, SimulationError
from swarm.views import AgentPublic, Snapshot
from tests.swarm.test_shard_transport import positions
from tests.swarm.test_shards import comparable, shard_workers, short

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="uses /proc (Linux)")


@pytest.fixture(autouse=True)
def no_orphans() -> Iterator[None]:
    yield
    assert shard_workers() == []


class Shuffle:
    """Moves agents every step: a seeded random share of them anywhere; every fourth step
    one worker's agents all come to the main process, and the next step go back out."""

    def __init__(self, seed: int, share: float = 0.4) -> None:
        self.rng = random.Random(seed)
        self.share = share
        self.asked = 0
        self.emptied = 0
        self.sizes: list[list[int]] = []

    def moves(self, load: Load) -> list[tuple[int, int]]:
        shards = len(load.seconds)
        sizes = [0] * shards
        for s in load.owner:
            sizes[s] += 1
        self.sizes.append(sizes)
        self.emptied += any(n == 0 for n in sizes[1:])
        movable = [k for k, ok in enumerate(load.movable) if ok]
        rng = self.rng
        if load.step % 4 == 1:
            worker = rng.randrange(1, shards)
            out = [(k, 0) for k in movable if load.owner[k] == worker]
        elif load.step % 4 == 2:
            out = [(k, rng.randrange(1, shards)) for k in movable if load.owner[k] == 0]
        else:
            out = [(k, rng.randrange(shards)) for k in movable if rng.random() < self.share]
        self.asked += len(out)
        return out


class Only:
    """Moves one agent, by id, to the shard given for each step (by steps measured)."""

    def __init__(self, agent_index: int, plan: dict[int, int]) -> None:
        self.k, self.plan = agent_index, plan
        self.seen = 0

    def moves(self, load: Load) -> list[tuple[int, int]]:
        self.seen = load.step
        dest = self.plan.get(load.step)
        return [] if dest is None else [(self.k, dest)]


def play(sc: Any, out: Path, **kwargs: Any) -> int:
    """Run ``sc``; the agents it moved between shards."""

    async def main() -> int:
        async with Simulation(sc, out_dir=out, **kwargs) as sim:
            await sim.wait()
            return sim.agents_moved

    return anyio.run(main)


@pytest.mark.parametrize(
    ("name", "shards", "seed"),
    [("adversarial_redteam", 2, 1), ("adversarial_redteam", 3, 2), ("marketplace_economy", 2, 3)],
)
def test_agents_moved_every_step_leave_the_log_unchanged(
    tmp_path: Path, name: str, shards: int, seed: int
) -> None:
    sc = short(name, epochs=4)
    play(sc, tmp_path / "one")
    shuffle = Shuffle(seed)
    moved = play(sc, tmp_path / "many", shards=shards, shard_balance=shuffle)
    assert moved > len(sc.agent_ids()), "the pattern moved too few agents to test anything"
    assert shuffle.emptied, "no worker was ever emptied"
    assert comparable(tmp_path / "one" / "events.jsonl") == comparable(tmp_path / "many" / "events.jsonl")


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="the ray extra is not installed")
def test_agents_moved_between_ray_shards_leave_the_log_unchanged(tmp_path: Path) -> None:
    import ray

    sc = short("adversarial_redteam", epochs=3)
    play(sc, tmp_path / "one")
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False)
    try:
        shuffle = Shuffle(8)
        moved = play(sc, tmp_path / "many", shards=3, shard_backend="ray", shard_balance=shuffle)
    finally:
        if started:
            ray.shutdown()
    assert moved > len(sc.agent_ids()) and shuffle.emptied
    assert comparable(tmp_path / "one" / "events.jsonl") == comparable(tmp_path / "many" / "events.jsonl")


def test_a_checkpoint_taken_after_moves_forks_and_resumes_to_the_same_log(tmp_path: Path) -> None:
    sc = short("adversarial_redteam", epochs=4)
    play(sc, tmp_path / "one")
    assert play(sc, tmp_path / "moved", shards=2, shard_balance=Shuffle(4), checkpoint_every=1) > 0
    reference = comparable(tmp_path / "one" / "events.jsonl")
    assert comparable(tmp_path / "moved" / "events.jsonl") == reference

    async def fork(out: Path, **kwargs: Any) -> None:
        async with Simulation.fork(tmp_path / "moved", at_epoch=2, scenario=sc, out_dir=out, **kwargs) as sim:
            await sim.wait()

    anyio.run(lambda: fork(tmp_path / "fork-one", shards=1))
    anyio.run(lambda: fork(tmp_path / "fork-moved", shards=2, shard_balance=Shuffle(5)))
    assert (
        comparable(tmp_path / "fork-one" / "events.jsonl")[1:] == reference[1:]
    )  # (its header names the fork)
    assert comparable(tmp_path / "fork-moved" / "events.jsonl")[1:] == reference[1:]

    # A run killed after epoch 2's checkpoint, resumed (moving agents again), ends with the same log.
    cut = tmp_path / "cut"
    shutil.copytree(tmp_path / "moved", cut)
    info = ck.read_info(ck.path_for(cut, 2))
    with (cut / "events.jsonl").open("r+b") as f:
        f.truncate(info.log_bytes + 200)  # half a line past the checkpoint, as a kill leaves it
    for later in ck.list_checkpoints(cut):
        if ck.read_epoch(later) > 2:
            later.unlink()

    async def resume() -> None:
        async with Simulation.resume_run(cut, shard_balance=Shuffle(6)) as sim:
            await sim.wait()

    anyio.run(resume)
    assert comparable(cut / "events.jsonl") == reference


class FlakyConfig(HonestConfig):
    fail_in: Literal["decide", "accept", "observe"] = "decide"
    after: int = 6


class FlakyPolicy(HonestPolicy):
    """Honest, until a bug at its ``after``-th call of one method (the count moves with the agent)."""

    kind = "flaky"
    Config = FlakyConfig
    config: FlakyConfig
    __slots__ = ("calls",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls = 0

    def _count(self, method: str) -> None:
        if self.config.fail_in == method:
            self.calls += 1
            if self.calls >= self.config.after:
                raise KeyError(f"boom at call {self.calls}")

    def decide(self, observation: Observation) -> Action:
        self._count("decide")
        return super().decide(observation)

    def accept(self, observation: Observation, proposal: Any) -> bool:
        self._count("accept")
        return True

    def observe(self, outcome: Any) -> None:
        self._count("observe")
        super().observe(outcome)


@pytest.fixture
def flaky() -> Iterator[None]:
    FlakyPolicy.register("Honest, then a bug.")
    try:
        yield
    finally:
        AGENT_TYPES.remove("flaky")


def flaky_scenario(fail_in: str, after: int) -> Any:
    # honest_1 starts here, flaky_1 in shard 1 (round robin), honest_2 here, honest_3 in shard 1, ...
    return load_scenario(
        {
            "scenario_id": "flaky",
            "agents": [
                {"type": "honest", "count": 1},
                {"type": "flaky", "count": 1, "config": {"fail_in": fail_in, "after": after}},
                {"type": "honest", "count": 6},
            ],
            "simulation": {"n_epochs": 4, "steps_per_epoch": 5, "seed": 2},
        }
    )


@pytest.mark.parametrize(
    ("fail_in", "after", "plan"),
    [
        ("decide", 6, {1: 0}),  # flaky_1 comes here from shard 1, fails here
        ("decide", 6, {1: 0, 3: 1}),  # here and back: fails in shard 1, having been here
        ("accept", 2, {1: 0}),
        ("observe", 4, {1: 0, 2: 1}),
    ],
)
def test_an_agent_failing_after_a_move_is_still_named(
    flaky: None, tmp_path: Path, fail_in: str, after: int, plan: dict[int, int]
) -> None:
    sc = flaky_scenario(fail_in, after)
    with pytest.raises(SimulationError) as here:
        play(sc, tmp_path / "one")
    moving = Only(1, plan)
    with pytest.raises(SimulationError) as there:
        play(sc, tmp_path / "many", shards=2, shard_balance=moving)
    assert moving.seen >= max(plan), "the run failed before the agent moved"
    text = str(there.value)
    assert "agent:flaky_1" in text and f"boom at call {after}" in text
    assert text == str(here.value)
    if fail_in != "observe":  # a failure to learn is told, not asked: when the stop lands depends on timing
        assert comparable(tmp_path / "one" / "events.jsonl") == comparable(tmp_path / "many" / "events.jsonl")


class HoldingPolicy(HonestPolicy):
    """Honest, but from epoch 1 it holds a lock (which can be neither pickled nor saved)."""

    kind = "holding"

    def decide(self, observation: Observation) -> Action:
        if observation.epoch >= 1 and not hasattr(self, "lock"):
            self.lock = threading.Lock()
        return super().decide(observation)


@pytest.mark.parametrize(
    ("first", "plan", "moves"),
    [
        (False, {2: 0}, 1),  # holding_1 (shard 1) comes here before it holds the lock
        (False, {6: 0, 7: 0}, 0),  # after: its state cannot be sent, it stays in shard 1
        (True, {6: 1, 7: 1}, 0),  # holding_1 here, after: its policy cannot be pickled, it stays here
    ],
)
def test_an_agent_that_cannot_be_sent_stays_where_it_is(
    tmp_path: Path, first: bool, plan: dict[int, int], moves: int
) -> None:
    HoldingPolicy.register("Honest, holding a lock from epoch 1.")
    try:
        holding, honest = {"type": "holding", "count": 1}, {"type": "honest", "count": 1}
        agents = [holding, {**honest, "count": 3}] if first else [honest, holding, {**honest, "count": 2}]
        sc = load_scenario(
            {
                "scenario_id": "holding",
                "agents": agents,
                "simulation": {"n_epochs": 3, "steps_per_epoch": 4, "seed": 3},
            }
        )
        play(sc, tmp_path / "one")
        k = 0 if first else 1
        assert play(sc, tmp_path / "many", shards=2, shard_balance=Only(k, plan)) == moves
    finally:
        AGENT_TYPES.remove("holding")
    assert comparable(tmp_path / "one" / "events.jsonl") == comparable(tmp_path / "many" / "events.jsonl")


def test_no_balance_keeps_the_first_split(tmp_path: Path) -> None:
    sc = short("adversarial_redteam", epochs=2)
    assert play(sc, tmp_path / "fixed", shards=2, shard_balance=False) == 0
    runner = CliRunner()
    args = ["run", "baseline", "--epochs", "2", "--steps", "3", "--set", "success_criteria.min_epochs=2"]
    fixed = runner.invoke(app, [*args, "--shards", "2", "--no-balance", "--out", str(tmp_path / "cli")])
    assert fixed.exit_code == 0, fixed.output
    assert "--no-balance" in runner.invoke(app, ["run", "--help"], terminal_width=200).output


# ------------------------------------------------------------------ the arithmetic


@st.composite
def loads(draw: st.DrawFn) -> tuple[list[int], list[int], list[float], int, list[float]]:
    shards = draw(st.integers(2, 5))
    counts = draw(st.lists(st.integers(0, 400), min_size=shards, max_size=shards))
    fixed = [draw(st.integers(0, c)) if s == 0 else 0 for s, c in enumerate(counts)]
    costs = draw(st.lists(st.floats(1e-6, 1e-3), min_size=shards, max_size=shards))
    cap = draw(st.integers(0, 500))
    overhead = draw(
        st.one_of(st.just([0.0] * shards), st.lists(st.floats(0, 0.05), min_size=shards, max_size=shards))
    )
    return counts, fixed, costs, cap, overhead


@settings(max_examples=300, deadline=None)
@given(loads())
def test_split_keeps_every_agent_respects_fixed_ones_and_the_cap(case: tuple[Any, ...]) -> None:
    counts, fixed, costs, cap, overhead = case
    target = split(counts, fixed, costs, cap, overhead=overhead)
    assert sum(target) == sum(counts)
    assert all(t >= f for t, f in zip(target, fixed, strict=True))
    assert sum(max(t - c, 0) for t, c in zip(target, counts, strict=True)) <= cap
    before, after = finishing(counts, costs, overhead), finishing(target, costs, overhead)
    assert after <= before * (1 + 1e-9) + max(costs)  # never slower, but for one agent's rounding


@settings(max_examples=300, deadline=None)
@given(loads())
def test_split_with_room_to_move_finishes_the_shards_as_early_as_whole_agents_allow(
    case: tuple[Any, ...],
) -> None:
    counts, fixed, costs, _, overhead = case
    target = split(counts, fixed, costs, cap=sum(counts), overhead=overhead)
    best = list(fixed)  # the slowest shard's earliest finish: each agent in turn where it ends soonest
    for _ in range(sum(counts) - sum(fixed)):
        s = min(range(len(best)), key=lambda s: overhead[s] + (best[s] + 1) * costs[s])
        best[s] += 1
    assert finishing(target, costs, overhead) <= finishing(best, costs, overhead) * (1 + 1e-9)


@settings(max_examples=200, deadline=None)
@given(loads(), st.floats(0.01, 0.5))
def test_split_moves_only_for_a_gain_worth_it(case: tuple[Any, ...], min_gain: float) -> None:
    counts, fixed, costs, cap, overhead = case
    target = split(counts, fixed, costs, cap, min_gain, overhead)
    if cap == 0 or sum(counts) == 0:
        assert target == counts
        return
    full = split(counts, fixed, costs, sum(counts), overhead=overhead)
    before = finishing(counts, costs, overhead)
    gain = before - finishing(full, costs, overhead)
    assert (target != counts) == (gain > min_gain * before)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_choose_moves_only_movable_agents_to_reach_the_target(data: st.DataObject) -> None:
    shards = data.draw(st.integers(2, 4))
    owner = data.draw(st.lists(st.integers(0, shards - 1), min_size=1, max_size=200))
    movable = data.draw(st.lists(st.booleans(), min_size=len(owner), max_size=len(owner)))
    counts = [owner.count(s) for s in range(shards)]
    fixed = [sum(1 for k, s2 in enumerate(owner) if s2 == s and not movable[k]) for s in range(shards)]
    costs = data.draw(st.lists(st.floats(1e-6, 1e-3), min_size=shards, max_size=shards))
    target = split(counts, fixed, costs, cap=data.draw(st.integers(0, len(owner))))
    moves = choose(owner, movable, target)
    assert len({k for k, _ in moves}) == len(moves)
    after = list(owner)
    for k, dest in moves:
        assert movable[k] and dest != owner[k]
        after[k] = dest
    assert [after.count(s) for s in range(shards)] == target


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0.5, 2.0), min_size=2, max_size=4),
    st.integers(200, 3000),
    st.integers(0, 40),
    st.floats(0, 200),
)
def test_the_balancer_converges_towards_equal_finish_times(
    speeds: list[float], agents: int, fixed: int, overhead: float
) -> None:
    """Shards with fixed per-agent costs (and an overhead in shard 0): stepping the balancer evens
    out their finish times, down to what the best whole-agent split allows."""
    shards = len(speeds)
    owner = [k % shards for k in range(agents)]
    movable = [not (owner[k] == 0 and k < fixed * shards) for k in range(agents)]
    balancer = Balancer(every=1, warmup=0, cap=0.1, min_gain=0.02, smoothing=1.0, move_guess=0.0)
    base = [overhead] + [0.0] * (shards - 1)

    def work() -> list[float]:
        return [speeds[s] * owner.count(s) for s in range(shards)]

    start = finishing([owner.count(s) for s in range(shards)], speeds, base)
    for step in range(1, 60):
        mine = work()
        seconds = [o + w for o, w in zip(base, mine, strict=True)]
        for k, dest in balancer.moves(Load(step, tuple(owner), tuple(movable), tuple(seconds), tuple(mine))):
            assert movable[k]
            owner[k] = dest
    end = finishing([owner.count(s) for s in range(shards)], speeds, base)
    assert end <= start * (1 + 1e-9)
    counts = [owner.count(s) for s in range(shards)]
    fixed_here = [sum(1 for k in range(agents) if owner[k] == s and not movable[k]) for s in range(shards)]
    best = split(counts, fixed_here, speeds, cap=agents, overhead=base)
    assert end <= finishing(best, speeds, base) * 1.05 + 1e-9


@settings(max_examples=50, deadline=None)
@given(st.integers(2, 4), st.floats(1.2, 3.0), st.integers(100, 2000))
def test_the_balancer_does_not_chase_an_imbalance_that_flips_every_step(
    shards: int, ratio: float, agents: int
) -> None:
    owner = tuple(k % shards for k in range(agents))
    movable = (True,) * agents
    balancer = Balancer(every=1, warmup=0, smoothing=1.0, move_guess=0.0)
    for step in range(1, 40):
        slow = step % 2  # shard 0 slow on odd steps, shard 1 on even ones
        seconds = tuple((ratio if s == slow else 1.0) * owner.count(s) * 1e-5 for s in range(shards))
        assert balancer.moves(Load(step, owner, movable, seconds, seconds)) == []


@settings(max_examples=50, deadline=None)
@given(st.floats(1.1, 3.0), st.integers(200, 2000))
def test_agents_come_to_the_main_process_only_if_their_learning_there_does_not_eat_the_gain(
    slower: float, agents: int
) -> None:
    """A worker slower per agent than shard 0: agents come to shard 0 while their learning there
    (on the step's critical path) costs less than the barrier gains, never when it costs more."""
    owner = tuple(k % 2 for k in range(agents))
    movable = (True,) * agents
    here, there = owner.count(0), owner.count(1)
    seconds = (here * 1e-5, there * slower * 1e-5)
    gain_per_agent = 1e-5 * slower  # what the slower shard saves per agent moved, up to the balance
    for serial, moves in ((0.0, True), (0.5 * gain_per_agent, True), (1.5 * gain_per_agent, False)):
        balancer = Balancer(every=1, warmup=0, smoothing=1.0, move_guess=0.0, min_gain=0.0)
        got = []
        for step in range(1, 4):
            load = Load(step, owner, movable, seconds, seconds, serial_seconds=serial * here)
            got += balancer.moves(load)
        assert bool(got) == moves
        assert all(dest == 0 for _, dest in got)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_a_phase_split_in_one_pass_matches_the_route_and_merges_back_in_order(data: st.DataObject) -> None:
    shards = data.draw(st.integers(1, 4))
    owner = data.draw(st.lists(st.integers(0, shards - 1), min_size=1, max_size=40))
    pos = positions(owner, shards)
    keys = data.draw(st.lists(st.integers(0, len(owner) - 1), max_size=60))  # an agent may come twice
    items = [(k, f"value {i}") for i, k in enumerate(keys)]
    route, split = _Route.split(items, owner, pos, shards)
    whole = _Route(list(keys), owner, pos, shards)
    values = [v for _, v in items]
    assert split == [whole.pairs(s, values) for s in range(shards)]
    assert _Route.split(items, owner, pos, shards, merged=False)[1] == split
    members = [[k for k in range(len(owner)) if owner[k] == s] for s in range(shards)]
    replies = [[(members[s][p], v) for p, v in split[s]] for s in range(shards)]
    assert route.merge(replies) == items


@settings(max_examples=60, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(["a", "b", "c"]), st.sampled_from([0, 1, 2])), max_size=6))
def test_exhausted_limits_cross_only_when_they_change_and_the_shard_keeps_them(
    steps: list[dict[str, int]],
) -> None:
    from swarm.actions import Noop

    kinds = [frozenset({Noop}), frozenset({int}), frozenset({int, Noop})]  # (any classes do here)
    runner = ShardRunner(pickle.dumps(ShardSetup(1, 10, (), ())))
    agents = tuple(AgentPublic(a, 1.0, 0.0) for a in "abc")
    held: dict[str, Any] | None = None  # what the main process believes the shard holds
    for step, spent in enumerate(steps):
        exhausted = {a: kinds[i] for a, i in spent.items()}
        snapshot = Snapshot(0, step, agents, {}, exhausted)
        blob = encode_snapshot(snapshot, agents if step else None, held)
        sent = pickle.loads(blob)[4]
        assert (sent is None) == (held is not None and held == exhausted)
        runner.handle(ACT, blob, b"")
        assert runner.snapshot.exhausted == exhausted
        held = exhausted
