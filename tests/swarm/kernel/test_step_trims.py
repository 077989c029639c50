"""The step's bookkeeping shortcuts give what the plain ways give: the public records' index kept up
to date between steps, outcomes made by registration index at settlement, the step's dispatch that
stops at the first reply no component takes, the ledger's admission of the usual action in short,
and the ledger's count of frozen agents."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from swarm.actions import NOOP
from swarm.core.interaction import SoftInteraction
from swarm.core.payoff import SoftPayoffEngine
from swarm.env.broker import Propose
from swarm.env.feed import CastVote, CreatePost, Reply
from swarm.kernel.clock import _dispatch
from swarm.kernel.component import At, RateLimit
from swarm.kernel.ledger import LedgerBooks
from swarm.kernel.settlement import settle
from swarm.money import Freeze, Reputation, Settlement, Transfer, Unfreeze

AGENTS = ("a", "b", "c")
LIMITS = [
    (RateLimit("posts_per_epoch", (CreatePost, Reply), "epoch", None, "posts per epoch"), 2.0),
    (RateLimit("interactions_per_step", (Propose,), "step", None, "proposals per step"), 1.0),
]


def fresh_books() -> LedgerBooks:
    b = LedgerBooks(LIMITS, max_content_length=10, max_actions_per_step=6)
    for agent in AGENTS:
        b.add(agent, 1.0, 100.0)
    return b


def test_the_index_of_public_records_follows_every_change_and_is_a_copy() -> None:
    b = fresh_books()
    first = b.index()
    assert first == {p.agent_id: p for p in b.publics()}
    b.post(
        At(0, 0, 0),
        [
            Transfer(payer="a", payee="b", amount=5.0, reason="t"),
            Reputation(agent="c", amount=0.25, reason="r"),
        ],
    )
    second = b.index()
    assert second == {p.agent_id: p for p in b.publics()}
    assert list(second) == list(AGENTS)  # registration order, as the snapshot's own index would have it
    assert second["b"].resources == 105.0 and second["c"].reputation == 1.25
    assert first["b"].resources == 100.0  # an earlier step's index is left as it was
    b.add("d", 0.0, 1.0)
    assert list(b.index()) == [*AGENTS, "d"]


def test_settlement_makes_outcomes_by_registration_index() -> None:
    index = {"a": 0, "b": 1}
    done = [
        SoftInteraction(interaction_id="ix-1", initiator="a", counterparty="b", accepted=True, p=0.8),
        SoftInteraction(interaction_id="ix-2", initiator="b", counterparty="gone", accepted=False, p=0.3),
    ]
    out = settle(At(0, 0, 0), done, [], SoftPayoffEngine(), {"a": "x", "b": "y", "gone": "z"}, index.get)
    assert [(k, o.role, o.interaction.interaction_id) for k, o in out.outcomes] == [
        (0, "initiator", "ix-1"),
        (1, "counterparty", "ix-1"),
        (1, "initiator", "ix-2"),  # the departed counterparty is told nothing
    ]
    assert [o.payoff for _, o in out.outcomes[:2]] == [
        (c := out.completed[0]).payoff_initiator,
        c.payoff_counterparty,
    ]
    assert isinstance(out.entries[0], Settlement)
    assert settle(At(0, 0, 0), done, [], SoftPayoffEngine(), {"a": "x", "b": "y", "gone": "z"}).outcomes == []


def test_the_ledger_counts_its_frozen_agents_through_freezes_unfreezes_and_a_pickle() -> None:
    import pickle

    b = fresh_books()
    at = At(0, 0, 0)

    def counted() -> int:
        assert b._frozen == sum(books.frozen for books in b.agents.values())
        return b._frozen

    b.post(at, [Freeze(agent="a", until_epoch=2, reason="x"), Freeze(agent="a", until_epoch=3, reason="y")])
    assert counted() == 1
    b.post(at, [Freeze(agent="b", until_epoch=1, reason="x"), Unfreeze(agent="c", reason="not frozen")])
    assert counted() == 2
    b.unfreeze_due(at, 1)  # b's freeze ends
    assert counted() == 1
    b.post(at, [Unfreeze(agent="a", reason="pardon")])
    assert counted() == 0
    b.post(at, [Freeze(agent="c", until_epoch=None, reason="x")])
    state = dict(pickle.loads(pickle.dumps(b)).__dict__)
    del state["_frozen"]  # books pickled before the count was kept
    old = LedgerBooks.__new__(LedgerBooks)
    old.__setstate__(state)
    assert old._frozen == 1


REPLIES = [
    NOOP,
    CreatePost(content="hello"),
    CastVote(post_id="post-1", direction=1),
    Propose(counterparty="a1"),
    Reply(parent_id="post-1", content="re"),  # no component takes it in ROUTER
]
ROUTER = {CreatePost: 0, CastVote: 0, Propose: 2}


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, len(REPLIES) - 1), max_size=40).flatmap(
        lambda picks: st.tuples(st.just(picks), st.permutations(range(len(picks))))
    )
)
def test_the_dispatch_that_stops_at_a_stray_reply_gives_what_the_refusing_one_gives(
    drawn: tuple[list[int], list[int]],
) -> None:
    picks, order = drawn
    replies = [REPLIES[k] for k in picks]
    ids = [f"a{k}" for k in range(len(replies))]
    at = At(1, 2, 7)
    refused: list = []
    full = _dispatch(at, order, replies, ids, ROUTER, 3, refused)
    quick = _dispatch(at, order, replies, ids, ROUTER, 3, None)
    assert full is not None
    turns, batches = full
    strays = [ids[p] for p in order if type(replies[p]) is Reply]
    assert [e.agent_id for e in refused] == strays  # refused in schedule order
    assert quick is None if strays else quick == full
    # every action but the no-ops and the strays, in schedule order, each in its component's batch
    assert [(t.position, t.agent) for t in turns] == [
        (i, ids[p]) for i, p in enumerate(order) if type(replies[p]) in ROUTER
    ]
    assert batches == [[t for t in turns if ROUTER[type(t.action)] == c] for c in range(3)]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(AGENTS),
            st.sampled_from(
                [
                    CreatePost(content="short"),
                    CreatePost(content="far too long"),
                    Reply(parent_id="post-1", content="re"),
                    Propose(counterparty="a"),
                    NOOP,
                ]
            ),
        ),
        max_size=30,
    ),
    st.sampled_from([None, 10]),
    st.sampled_from([None, 2]),
    st.sampled_from([None, 5]),
    st.sets(st.sampled_from(AGENTS)),
)
def test_admission_in_short_gives_what_the_full_checks_give(
    acts: list[tuple[str, object]], longest: int | None, cap: int | None, budget: int | None, frozen: set[str]
) -> None:
    from swarm.kernel.component import Turn

    def books() -> LedgerBooks:
        b = LedgerBooks(LIMITS, max_content_length=longest, max_actions_per_step=budget, bandwidth_cap=cap)
        for agent in AGENTS:
            b.add(agent, 1.0, 100.0)
        b.post(At(0, 0, 0), [Freeze(agent=a, until_epoch=None, reason="x") for a in sorted(frozen)])
        return b

    turns = [Turn(i, agent, action) for i, (agent, action) in enumerate(acts)]
    short, full = books(), books()
    full._quick = lambda *_: {}  # type: ignore[method-assign]  # every action through the full checks
    for step in range(2):  # the second step meets the budgets the first one spent
        at = At(0, step, step)
        assert short.admit(at, turns) == full.admit(at, turns)
        assert short._used == full._used and short._exhausted == full._exhausted
        assert [b.actions_used for b in short.agents.values()] == [
            b.actions_used for b in full.agents.values()
        ]
