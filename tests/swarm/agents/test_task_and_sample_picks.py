"""The scripted policies' task pick and counterparty sample give what the plain loops give, with the
same draws.

``_best_task`` reads each task tuple's values, computed once per weighting, and finds the best-paid
of its window in C when every task is open to it; ``_sample_others`` walks the population in a loop
of its own. Whatever the tasks (bounties, difficulties, the reputation they ask for, the same tuple
read again or a new one) and the population (frozen agents, itself among those walked), the pick and
the sample must be the ones the plain loops below give, after the same draws.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from math import gcd

from hypothesis import given, settings
from hypothesis import strategies as st

from swarm.agents.scripted import AdversarialPolicy, HonestPolicy, OpportunisticPolicy
from swarm.agents.scripted.adversarial import _NO_WEIGHTS
from swarm.agents.scripted.base import ScriptedPolicy
from swarm.agents.scripted.honest import DIFFICULTY_WEIGHT
from swarm.agents.scripted.opportunistic import DIFFICULTY_WEIGHT as GREEDY_WEIGHT
from swarm.env.tasks import TaskView
from swarm.views import AgentPublic, Observation, Snapshot

ME = "me"
DIFFICULTIES = ["trivial", "easy", "medium", "hard", "expert"]


def plain_best_task(
    tasks: tuple[TaskView, ...], rep: float, weights: Mapping[str, float], rng: random.Random, k: int
) -> TaskView | None:
    """The pick as a plain loop over the window's tasks."""
    n = len(tasks)
    if n > k:
        start = int(rng.random() * n)
        tasks = tasks[start : start + k] if start + k <= n else tasks[start:] + tasks[: start + k - n]
    best, score = None, 0.0
    for t in tasks:
        if t.min_reputation <= rep:
            value = t.bounty / weights.get(t.difficulty, 3.0)
            if best is None or value > score:
                best, score = t, value
    return best


task_lists = st.lists(
    st.tuples(
        st.sampled_from([*DIFFICULTIES, "unknown"]),
        st.sampled_from([1.0, 2.0, 5.0, 6.0, 10.0]),  # few bounties: ties are common
        st.sampled_from([0.0, 0.0, 0.0, 0.5, -1.0]),
    ),
    max_size=20,
)


@settings(max_examples=300, deadline=None)
@given(
    boards=st.lists(task_lists, min_size=1, max_size=3),
    reps=st.lists(st.sampled_from([-2.0, -1.0, 0.0, 0.25, 0.5, 1.0]), min_size=1, max_size=3),
    kind=st.sampled_from([HonestPolicy, OpportunisticPolicy, AdversarialPolicy]),
    seed=st.integers(0, 2**32),
)
def test_the_task_picked_is_the_one_a_plain_loop_picks(
    boards: list[list[tuple[str, float, float]]],
    reps: list[float],
    kind: type[ScriptedPolicy],
    seed: int,
) -> None:
    weights = {HonestPolicy: DIFFICULTY_WEIGHT, OpportunisticPolicy: GREEDY_WEIGHT}.get(kind, _NO_WEIGHTS)
    policy = kind(ME, random.Random(seed))
    rng = random.Random(seed)
    for board in boards:
        tasks = tuple(
            TaskView(f"task-{k}", "t", d, bounty, min_rep)  # type: ignore[arg-type]
            for k, (d, bounty, min_rep) in enumerate(board)
        )
        for rep in reps:  # the same tuple again: the values kept are read
            got = policy._best_task(tasks, rep, weights)
            assert got is plain_best_task(tasks, rep, weights, rng, policy.SAMPLE)
    assert rng.random() == policy.rng.random()  # the same draws, no more


def plain_sample(
    agents: tuple[AgentPublic, ...], me: str, rng: random.Random, sample: int
) -> list[AgentPublic]:
    """The sample as spread() over the population, then a filter, then a cut."""
    n, k = len(agents), sample + 1
    if n <= k:
        return [a for a in agents if a.agent_id != me and not a.frozen]
    start = int(rng.random() * n)
    stride = 1 + int(rng.random() * (n - 1))
    cycle = n // gcd(n, stride)
    indices = [(start + i * stride) % n for i in range(min(k, cycle))]
    return [a for i in indices if not (a := agents[i]).frozen and a.agent_id != me][:sample]


@settings(max_examples=300, deadline=None)
@given(
    size=st.integers(1, 40),
    frozen=st.sets(st.integers(0, 39)),
    mine=st.integers(0, 39),
    rounds=st.integers(1, 3),
    seed=st.integers(0, 2**32),
)
def test_the_sample_is_the_one_a_plain_filter_of_spread_gives(
    size: int, frozen: set[int], mine: int, rounds: int, seed: int
) -> None:
    ids = [f"a{k:02d}" for k in range(size)]
    if mine < size:
        ids[mine] = ME
    agents = tuple(AgentPublic(a, 0.5, 100.0, k in frozen and a != ME) for k, a in enumerate(ids))
    me = next((a for a in agents if a.agent_id == ME), AgentPublic(ME, 0.5, 100.0))
    observation = Observation(ME, me, Snapshot(0, 0, agents, {}))
    policy = HonestPolicy(ME, random.Random(seed))
    rng = random.Random(seed)
    for _ in range(rounds):
        got = policy._sample_others(observation)
        assert got == plain_sample(agents, ME, rng, policy.SAMPLE)
        assert all(a.agent_id != ME and not a.frozen for a in got)
    assert rng.random() == policy.rng.random()
