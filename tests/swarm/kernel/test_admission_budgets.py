"""Admission against rate-limit budgets, checked against a plain model of what the budgets say.

The ledger keeps the spent budgets' action types up to date as it admits
actions, and works them out again at a period's end only when a budget being
reset had been used up. The model here counts every agent's spending per budget from scratch, so
both the admissions and ``exhausted()`` must agree with it whatever the order
of actions and period ends.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from swarm.actions import Action
from swarm.env.broker import InteractionBroker, Propose
from swarm.env.feed import CastVote, CreatePost, Reply
from swarm.kernel.component import At, RateLimit, Turn
from swarm.kernel.ledger import LedgerBooks

POSTS = RateLimit("posts_per_epoch", (CreatePost, Reply), "epoch", None, "posts per epoch")
VOTES = RateLimit("votes_per_epoch", (CastVote,), "epoch", None, "votes per epoch")
PROPOSALS = RateLimit("interactions_per_step", (Propose,), "step", None, "proposals per step")
TRANSFERS = InteractionBroker.rate_limits[1]  # charged by the amount offered, never "used up" by count
AGENTS = ("a", "b", "c")


def _action(kind: int, offered: float) -> Action:
    if kind == 0:
        return CreatePost(content="hello")
    if kind == 1:
        return Reply(parent_id="post-1", content="hi")
    if kind == 2:
        return CastVote(post_id="post-1", direction=1)
    return Propose(counterparty="a", offered_transfer=offered)


class _Model:
    """What the budgets say, counted from scratch: spent per (budget, agent) since its last reset."""

    def __init__(self, limits: list[tuple[RateLimit, float]]) -> None:
        self.limits = limits
        self.spent: list[dict[str, float]] = [{} for _ in limits]

    def admit(self, agent: str, action: Action) -> bool:
        costs = []
        for k, (spec, value) in enumerate(self.limits):
            if type(action) not in spec.actions:
                continue
            cost = 1.0 if spec.cost is None else spec.cost(action)
            if cost > 0 and self.spent[k].get(agent, 0.0) + cost > value:
                return False
            costs.append((k, cost))
        for k, cost in costs:
            if cost > 0:
                self.spent[k][agent] = self.spent[k].get(agent, 0.0) + cost
        return True

    def end(self, per: str) -> None:
        for k, (spec, _) in enumerate(self.limits):
            if spec.per == per or per == "epoch":
                self.spent[k].clear()

    def exhausted(self) -> dict[str, set[type[Action]]]:
        out: dict[str, set[type[Action]]] = {}
        for k, (spec, value) in enumerate(self.limits):
            if spec.cost is None:
                for agent, spent in self.spent[k].items():
                    if spent >= value:
                        out.setdefault(agent, set()).update(spec.actions)
        return out


steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("act"),
            st.lists(
                st.tuples(st.sampled_from(AGENTS), st.integers(0, 3), st.sampled_from([-2.0, 0.0, 1.5, 4.0])),
                max_size=6,
            ),
        ),
        st.tuples(st.sampled_from(["step", "epoch"]), st.just([])),
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(
    steps,
    st.integers(1, 3),
    st.integers(1, 4),
    st.integers(1, 2),
    st.sampled_from([3.0, 5.0]),
    st.booleans(),
)
def test_admissions_and_spent_budgets_follow_the_budgets_whatever_the_order(
    ops: list[tuple[str, list[tuple[str, int, float]]]],
    posts: int,
    votes: int,
    proposals: int,
    transfers: float,
    railed: bool,
) -> None:
    limits = [
        (POSTS, float(posts)),
        (VOTES, float(votes)),
        (PROPOSALS, float(proposals)),
        (TRANSFERS, transfers),
    ]
    # railed: a bandwidth cap and a content limit that never bite (checked, then passed)
    rails = {"bandwidth_cap": 10_000, "max_content_length": 10_000} if railed else {}
    books = LedgerBooks(limits, **rails)  # type: ignore[arg-type]
    for agent in AGENTS:
        books.add(agent, 1.0, 100.0)
    model = _Model(limits)
    clock = 0
    for op, acts in ops:
        if op != "act":
            books.end_period(op)
            model.end(op)
        else:
            batch = [Turn(k, agent, _action(kind, offered)) for k, (agent, kind, offered) in enumerate(acts)]
            admitted, rejected = books.admit(At(0, clock, clock), batch)
            expected = [t for t in batch if model.admit(t.agent, t.action)]
            assert admitted == expected
            assert len(rejected) == len(batch) - len(expected)
            clock += 1
        never, spent = books.exhausted()
        assert never == frozenset()
        assert {a: set(kinds) for a, kinds in spent.items()} == model.exhausted()


def test_a_snapshot_of_the_spent_budgets_does_not_change_as_the_step_goes_on() -> None:
    books = LedgerBooks([(POSTS, 1.0)])
    books.add("a", 1.0, 100.0)
    books.add("b", 1.0, 100.0)
    books.admit(At(0, 0, 0), [Turn(0, "a", CreatePost(content="x"))])
    _, before = books.exhausted()
    books.admit(At(0, 0, 0), [Turn(0, "b", CreatePost(content="y"))])
    assert before == {"a": {CreatePost, Reply}}
    assert books.exhausted()[1] == {"a": {CreatePost, Reply}, "b": {CreatePost, Reply}}
