"""What crosses to a shard: snapshots sent as the records that changed, replies put back in order."""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm.actions import NOOP, Conduct, Noop
from swarm.core.interaction import InteractionType
from swarm.env.broker import Propose
from swarm.runtime.shard_worker import ACT, OK, PICKLE, ShardRunner, ShardSetup, dumps, encode_snapshot
from swarm.runtime.shards import _Route
from swarm.views import AgentPublic, Snapshot

changes = st.lists(  # each step: (agent position, new reputation, new resources, frozen), or a fresh start
    st.one_of(
        st.lists(
            st.tuples(st.integers(0, 11), st.floats(0, 10), st.floats(-5, 5), st.booleans()), max_size=8
        ),
        st.just("all"),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=60, deadline=None)
@given(changes)
def test_a_shard_rebuilds_every_snapshot_from_the_records_that_changed(steps: list[Any]) -> None:
    runner = ShardRunner(pickle.dumps(ShardSetup(1, 10, (), ())))
    agents = [AgentPublic(f"agent_{k}", 1.0, 0.0) for k in range(12)]
    held: tuple[AgentPublic, ...] | None = None  # what the main process believes the shard holds
    sizes = []
    for step, change in enumerate(steps):
        if change == "all":
            held = None
        else:
            for k, reputation, resources, frozen in change:
                agents[k] = AgentPublic(f"agent_{k}", reputation, resources, frozen)
        snapshot = Snapshot(0, step, tuple(agents), {})
        blob = encode_snapshot(snapshot, held)
        sizes.append((len(blob), held is None, {k for k, *_ in change} if change != "all" else None))
        assert runner.handle(ACT, blob, b"") == (OK, pickle.dumps([], pickle.HIGHEST_PROTOCOL))
        got = runner.snapshot
        assert got.agents == snapshot.agents and got.step == step
        assert got.agent_index == {a.agent_id: a for a in agents}
        held = snapshot.agents
    # an unchanged step sends fewer bytes than the first, full one
    full = sizes[0][0]
    assert all(size < full for size, was_full, changed in sizes[1:] if not was_full and not changed)


def test_an_earlier_snapshot_is_not_changed_by_a_later_one() -> None:
    runner = ShardRunner(pickle.dumps(ShardSetup(1, 10, (), ())))
    first = Snapshot(0, 0, (AgentPublic("a", 1.0, 0.0), AgentPublic("b", 1.0, 0.0)), {})
    runner.handle(ACT, encode_snapshot(first), b"")
    kept = runner.snapshot
    second = Snapshot(0, 1, (first.agents[0], AgentPublic("b", 2.0, 0.0)), {})
    runner.handle(ACT, encode_snapshot(second, first.agents), b"")
    assert kept.agents == first.agents and kept.agent_index["b"].reputation == 1.0
    assert runner.snapshot.agent_index["b"].reputation == 2.0


def positions(owner: list[int], shards: int) -> list[int]:
    """Each agent's position among its shard's agents (registration order), as the population numbers them."""
    pos, counts = [], [0] * shards
    for s in owner:
        pos.append(counts[s])
        counts[s] += 1
    return pos


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_replies_from_every_shard_come_back_in_the_order_asked(data: st.DataObject) -> None:
    shards = data.draw(st.integers(1, 4))
    owner = data.draw(st.lists(st.integers(0, shards - 1), min_size=0, max_size=40))
    pos = positions(owner, shards)
    keys = data.draw(st.permutations(range(len(owner)))) if owner else []
    keys = keys[: data.draw(st.integers(0, len(keys)))]
    route = _Route(list(keys), owner, pos, shards)
    members = [[k for k in range(len(owner)) if owner[k] == s] for s in range(shards)]
    # each shard answers for its agents at the positions it was given, in that order
    replies = [[("reply", members[s][p]) for p in route.per[s]] for s in range(shards)]
    assert route.merge(replies) == [("reply", k) for k in keys]
    values = [f"value {k}" for k in keys]
    for s in range(shards):
        assert [members[s][p] for p, _ in route.pairs(s, values)] == [k for k in keys if owner[k] == s]
        assert all(v == f"value {members[s][p]}" for p, v in route.pairs(s, values))


class _Reduced(msgspec.Struct, frozen=True):
    """A struct with its own reduction (the fast pickler must call it, not the structs' own)."""

    x: int

    def __reduce__(self) -> tuple[Any, ...]:
        return (_reduced, (self.x,))


def _reduced(x: int) -> _Reduced:
    return _Reduced(x)


@dataclass(frozen=True)
class _Plain:
    name: str
    kind: InteractionType


def _structs() -> st.SearchStrategy[Any]:
    names = st.text(max_size=6)
    unit = st.floats(0, 1)
    return st.one_of(
        st.builds(AgentPublic, names, st.floats(-5, 5), st.floats(-5, 5), st.booleans()),
        st.builds(Conduct, unit, unit, unit, unit, unit, unit),
        st.builds(Propose, names, st.sampled_from(InteractionType), names, st.floats(-100, 100)),
        st.builds(_Reduced, st.integers()),
        st.builds(_Plain, names, st.sampled_from(InteractionType)),
        st.sampled_from([NOOP, Noop, InteractionType, Fraction(1, 3), complex(1, 2), None]),
    )


@settings(max_examples=150, deadline=None)
@given(
    st.recursive(
        _structs(),
        lambda inner: st.one_of(
            st.lists(inner, max_size=5),
            st.tuples(st.integers(), inner),
            st.dictionaries(st.text(max_size=3), inner, max_size=3),
        ),
        max_leaves=20,
    )
)
def test_the_fast_pickler_writes_exactly_what_pickle_writes(value: Any) -> None:
    shared = [value, value]  # the same object twice: the memo refers back to it
    assert dumps(shared) == pickle.dumps(shared, PICKLE)
    assert pickle.loads(dumps(shared)) == shared
