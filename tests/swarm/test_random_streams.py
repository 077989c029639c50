"""Agents' random streams: draw ``j`` of step ``t`` is SplitMix64 of (key, t, j), however it is computed.

A large pool computes every stream's first draws of a step at once (numpy, into
one flat array each stream reads a stretch of); later draws and small pools use
the formula one draw at a time. Whichever way, and in whatever order streams
draw, each stream must give exactly the formula's numbers.
"""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from swarm.runtime.rng import BLOCK, VECTOR_FROM, AgentStreams, Stream, splitmix

AGENTS = [f"agent_{k}" for k in range(VECTOR_FROM + 5)]  # large enough for the computed-ahead path


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    t=st.integers(1, 10_000),
    large=st.booleans(),
    draws=st.lists(st.tuples(st.integers(0, len(AGENTS) - 1), st.integers(1, BLOCK + 4)), max_size=40),
    ahead=st.booleans(),
)
def test_every_draw_is_the_formulas_whatever_the_pool_and_the_order(
    seed: int, t: int, large: bool, draws: list[tuple[int, int]], ahead: bool
) -> None:
    ids = AGENTS if large else AGENTS[:7]
    pool = AgentStreams(seed, ids)
    pool.begin_step(t - 1)
    pool.streams[0].random()  # a draw of the step before: nothing of it carries over
    pool.begin_step(t, pool.ahead(t) if ahead else None)
    taken = [0] * len(ids)
    for k, n in draws:
        k %= len(ids)
        stream = pool.streams[k]
        for _ in range(n):
            assert stream.random() == splitmix(stream.key, t, taken[k])
            taken[k] += 1
    for k in (0, len(ids) - 1):  # the first and last streams' stretches, past the block too
        stream = pool.streams[k]
        for j in range(taken[k], BLOCK + 2):
            assert stream.random() == splitmix(stream.key, t, j)


def test_a_subset_pool_draws_what_the_whole_pool_draws() -> None:
    whole = AgentStreams(3, AGENTS)
    part = whole.subset(range(1, len(AGENTS), 2))
    keys = [s.key for s in part.streams]
    part.begin_step(9)
    got = [[s.random() for _ in range(BLOCK + 1)] for s in part.streams]
    assert got == [[splitmix(key, 9, j) for j in range(BLOCK + 1)] for key in keys]


def test_a_lone_stream_draws_the_formula_in_order() -> None:
    stream = Stream.of(11, "agent", "x")
    stream.begin(4)
    assert [stream.random() for _ in range(3)] == [splitmix(stream.key, 4, j) for j in range(3)]
    stream.begin(5, [0.25, 0.5])
    assert [stream.random() for _ in range(3)] == [0.25, 0.5, splitmix(stream.key, 5, 2)]


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31), steps=st.lists(st.integers(0, 3), min_size=1, max_size=6))
@example(seed=1, steps=[0, 1, 0, 2, 0, 3, 0])
def test_streams_keep_their_place_from_step_to_step_unless_something_else_seats_them(
    seed: int, steps: list[int]
) -> None:
    """A pool's streams keep their stretch of its array between steps (it takes the new draws in
    place); a stream given another row since (another pool's step, or ``Stream.begin``) is seated
    again. Whichever happened, every draw is the formula's."""
    whole = AgentStreams(seed, AGENTS)
    part = whole.subset(range(1, len(AGENTS)))  # shares its streams (at other places) with the whole pool
    lone = whole.streams[3]
    for t, who in enumerate(steps, start=1):
        if who == 0:
            whole.begin_step(t)
            pools = [whole]
        elif who == 1:
            part.begin_step(t, part.ahead(t))
            pools = [part]
        elif who == 2:
            whole.begin_step(t)
            lone.begin(t)  # seated on its own: its draws are computed one by one
            pools = [whole]
        else:
            part.begin_step(t)
            whole.begin_step(t)  # the whole pool seats the part's streams again
            pools = [whole]
        for stream in pools[0].streams:
            assert [stream.random() for _ in range(BLOCK + 1)] == [
                splitmix(stream.key, t, j) for j in range(BLOCK + 1)
            ]


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    calls=st.lists(
        st.tuples(st.sampled_from(("choice", "uniform", "sample", "random")), st.integers(1, 40)), max_size=12
    ),
    large=st.booleans(),
)
def test_choice_uniform_and_sample_take_the_draws_random_would_give(
    seed: int, calls: list[tuple[str, int]], large: bool
) -> None:
    """Whatever mix of them a policy calls, a stream's numbers are those of the formula, in order."""
    ids = AGENTS if large else AGENTS[:3]
    pool = AgentStreams(seed, ids)
    pool.begin_step(7)
    stream = pool.streams[-1]
    j = 0

    def draw() -> float:
        nonlocal j
        j += 1
        return splitmix(stream.key, 7, j - 1)

    for how, n in calls:
        seq = list(range(n))
        if how == "choice":
            assert stream.choice(seq) == seq[int(draw() * n)]
        elif how == "uniform":
            assert stream.uniform(-1.0, float(n)) == -1.0 + (n + 1.0) * draw()
        elif how == "random":
            assert stream.random() == draw()
        else:
            k = n // 4
            chosen: list[int] = []
            while len(chosen) < k:  # the rejection sampler of a small k, draw by draw
                i = int(draw() * n)
                if i not in chosen:
                    chosen.append(i)
            if k:
                assert stream.sample(seq, k) == [seq[i] for i in chosen]


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(-(2**70), 2**70), ids=st.lists(st.text(max_size=12), max_size=8))
def test_a_runs_agent_streams_are_the_streams_named_after_each_agent(seed: int, ids: list[str]) -> None:
    """The run's streams are keyed ``derive_seed(seed, "agent", id)``, however the keys are worked out."""
    streams = AgentStreams(seed, ids).streams
    assert [s.key for s in streams] == [Stream.of(seed, "agent", a).key for a in ids]
