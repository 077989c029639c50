"""The ledger's books: admission (freezes, rate limits, safety rails), entries, and the money identity."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm.actions import NOOP, Action
from swarm.env.broker import InteractionBroker, Propose
from swarm.env.feed import CastVote, CreatePost, Feed, Reply
from swarm.events import ActionRejected, AgentFrozen, AgentUnfrozen, LedgerUpdated
from swarm.kernel.component import At, RateLimit, Turn
from swarm.kernel.ledger import LedgerBooks
from swarm.money import Burn, Entry, Freeze, Mint, Reputation, Settlement, Transfer, Unfreeze

AT = At(0, 0, 0)
POSTS_PER_EPOCH = RateLimit("posts_per_epoch", (CreatePost, Reply), "epoch", None, "posts per epoch")
PROPOSALS_PER_STEP = RateLimit("interactions_per_step", (Propose,), "step", None, "proposals per step")
TRANSFER_BUDGET = InteractionBroker.rate_limits[1]


def books(
    *agents: str, limits: list[tuple[RateLimit, float | None]] | None = None, **rails: int
) -> LedgerBooks:
    b = LedgerBooks(limits or [], **rails)
    for agent in agents or ("a", "b"):
        b.add(agent, 1.0, 100.0)
    return b


def turns(*pairs: tuple[str, Action]) -> list[Turn]:
    return [Turn(k, agent, action) for k, (agent, action) in enumerate(pairs)]


def post(content: str = "hello") -> CreatePost:
    return CreatePost(content=content)


def propose(to: str = "b", offered: float = 0.0) -> Propose:
    return Propose(counterparty=to, offered_transfer=offered)


def admitted_actions(admitted: list[Turn]) -> list[tuple[str, Action]]:
    return [(t.agent, t.action) for t in admitted]


def reasons(rejected: list[object]) -> list[tuple[str, str]]:
    assert all(isinstance(e, ActionRejected) for e in rejected)
    return [(e.agent_id, e.reason) for e in rejected]  # type: ignore[attr-defined]


# ------------------------------------------------------------------ agents


def test_registering_an_agent_endows_it_and_refuses_taken_or_system_names() -> None:
    b = LedgerBooks()
    b.add("a", 0.5, 40.0)
    b.add("b", 1.0, 60.0)
    assert b.endowed == 100.0 and b.total() == 100.0 and b.imbalance() == 0.0
    assert [(p.agent_id, p.reputation, p.resources, p.frozen) for p in b.publics()] == [
        ("a", 0.5, 40.0, False),
        ("b", 1.0, 60.0, False),
    ]
    with pytest.raises(ValueError, match="'a'"):
        b.add("a", 0.0, 1.0)
    with pytest.raises(ValueError, match="market:escrow"):
        b.add("market:escrow", 0.0, 1.0)
    assert b.endowed == 100.0


def test_public_records_follow_the_books_after_every_change() -> None:
    b = books("a", "b")
    before = b.publics()
    assert b.publics() is before  # unchanged books: the same records
    b.post(AT, [Transfer(payer="a", payee="b", amount=10.0, reason="gift")])
    b.post(
        AT, [Reputation(agent="b", amount=0.5, reason="kudos"), Freeze(agent="a", until_epoch=2, reason="x")]
    )
    after = {p.agent_id: p for p in b.publics()}
    assert (after["a"].resources, after["a"].frozen) == (90.0, True)
    assert (after["b"].resources, after["b"].reputation, after["b"].frozen) == (110.0, 1.5, False)


# --------------------------------------------------------------- admission


def test_frozen_agents_are_refused_and_others_still_act() -> None:
    b = books("a", "b")
    b.post(AT, [Freeze(agent="a", until_epoch=3, reason="audit")])
    admitted, rejected = b.admit(AT, turns(("a", post()), ("b", post())))
    assert admitted_actions(admitted) == [("b", post())]
    assert reasons(rejected) == [("a", "agent is frozen")]
    (event,) = rejected
    assert isinstance(event, ActionRejected) and event.action == "post"


def test_noops_are_neither_admitted_nor_refused() -> None:
    b = books("a", max_actions_per_step=1)
    admitted, rejected = b.admit(AT, turns(("a", NOOP), ("a", NOOP), ("a", post())))
    assert admitted_actions(admitted) == [("a", post())]
    assert rejected == []


def test_a_per_epoch_limit_is_shared_by_its_action_types_and_kept_per_agent() -> None:
    b = books("a", "b", limits=[(POSTS_PER_EPOCH, 2)])
    reply = Reply(parent_id="post-1", content="yes")
    admitted, rejected = b.admit(AT, turns(("a", post()), ("a", reply), ("a", post()), ("b", post())))
    assert admitted_actions(admitted) == [("a", post()), ("a", reply), ("b", post())]
    assert reasons(rejected) == [("a", "rate limit: 2 posts per epoch")]
    # spent budgets carry across steps of the epoch, and across admission calls
    b.end_period("step")
    admitted, rejected = b.admit(At(0, 1, 1), turns(("a", reply), ("b", post())))
    assert admitted_actions(admitted) == [("b", post())]
    assert reasons(rejected) == [("a", "rate limit: 2 posts per epoch")]
    b.end_period("epoch")
    admitted, rejected = b.admit(At(1, 0, 2), turns(("a", post()), ("a", reply), ("b", post())))
    assert len(admitted) == 3 and rejected == []


def test_a_per_step_limit_is_restored_every_step() -> None:
    b = books("a", "b", "c", limits=[(PROPOSALS_PER_STEP, 1)])
    admitted, rejected = b.admit(AT, turns(("a", propose("b")), ("a", propose("c")), ("b", propose("a"))))
    assert admitted_actions(admitted) == [("a", propose("b")), ("b", propose("a"))]
    assert reasons(rejected) == [("a", "rate limit: 1 proposals per step")]
    admitted, rejected = b.admit(AT, turns(("a", propose("c"))))  # same step, later call: still spent
    assert admitted == [] and len(rejected) == 1
    b.end_period("step")
    admitted, rejected = b.admit(At(0, 1, 1), turns(("a", propose("c"))))
    assert admitted_actions(admitted) == [("a", propose("c"))] and rejected == []


def test_the_limits_a_component_declares_apply_with_their_scenario_values() -> None:
    limits = [(spec, {"posts_per_epoch": 1, "votes_per_epoch": 2}[spec.key]) for spec in Feed.rate_limits]
    b = books("a", limits=limits)
    vote = CastVote(post_id="post-1", direction=1)
    admitted, rejected = b.admit(
        AT, turns(("a", post()), ("a", post()), ("a", vote), ("a", vote), ("a", vote))
    )
    assert [type(t.action) for t in admitted] == [CreatePost, CastVote, CastVote]
    assert reasons(rejected) == [
        ("a", "rate limit: 1 posts per epoch"),
        ("a", "rate limit: 2 votes per epoch"),
    ]


def test_an_unset_limit_is_no_limit() -> None:
    b = books("a", limits=[(POSTS_PER_EPOCH, None)])
    admitted, rejected = b.admit(AT, turns(*[("a", post())] * 30))
    assert len(admitted) == 30 and rejected == []
    assert b.exhausted() == (frozenset(), {})


def test_a_zero_limit_forbids_its_action_types_for_everyone() -> None:
    b = books("a", "b", limits=[(POSTS_PER_EPOCH, 0)])
    never, _ = b.exhausted()
    assert never == {CreatePost, Reply}
    admitted, rejected = b.admit(AT, turns(("a", post()), ("b", propose("a"))))
    assert admitted_actions(admitted) == [("b", propose("a"))]
    assert reasons(rejected) == [("a", "rate limit: 0 posts per epoch")]


def test_an_amount_limit_spends_what_each_action_costs() -> None:
    assert TRANSFER_BUDGET.cost is not None and TRANSFER_BUDGET.per == "epoch"
    b = books("a", "b", limits=[(TRANSFER_BUDGET, 10.0)])
    admitted, rejected = b.admit(
        AT,
        turns(
            ("a", propose(offered=6.0)),
            ("a", propose(offered=6.0)),  # 12 > 10: refused
            ("a", propose(offered=4.0)),  # exactly the rest: admitted
            ("a", propose(offered=0.5)),  # nothing left
            ("a", propose(offered=-5.0)),  # asking to be paid costs nothing
            ("a", propose(offered=0.0)),
            ("b", propose("a", offered=10.0)),
        ),
    )
    assert [(t.agent, t.action.offered_transfer) for t in admitted] == [  # type: ignore[attr-defined]
        ("a", 6.0),
        ("a", 4.0),
        ("a", -5.0),
        ("a", 0.0),
        ("b", 10.0),
    ]
    assert reasons(rejected) == [("a", "rate limit: 10 of transfers offered per epoch")] * 2
    # an amount budget never forbids the action type outright: a free proposal is still possible
    assert b.exhausted() == (frozenset(), {})
    b.end_period("epoch")
    admitted, _ = b.admit(At(1, 0, 1), turns(("a", propose(offered=10.0))))
    assert len(admitted) == 1


def test_a_zero_amount_limit_still_allows_actions_that_cost_nothing() -> None:
    b = books("a", "b", limits=[(TRANSFER_BUDGET, 0.0)])
    assert b.exhausted()[0] == frozenset()
    admitted, rejected = b.admit(AT, turns(("a", propose(offered=0.0)), ("a", propose(offered=1.0))))
    assert [t.action.offered_transfer for t in admitted] == [0.0]  # type: ignore[attr-defined]
    assert reasons(rejected) == [("a", "rate limit: 0 of transfers offered per epoch")]


def test_content_longer_than_the_safety_limit_is_refused() -> None:
    b = books("a", max_content_length=10)
    vote = CastVote(post_id="p" * 50, direction=1)  # not a text field: never measured
    admitted, rejected = b.admit(
        AT,
        turns(
            ("a", post("x" * 10)),
            ("a", post("x" * 11)),
            ("a", Reply(parent_id="post-1", content="y" * 25)),
            ("a", propose(offered=0.0)),
            ("a", vote),
        ),
    )
    assert admitted_actions(admitted) == [("a", post("x" * 10)), ("a", propose(offered=0.0)), ("a", vote)]
    assert reasons(rejected) == [
        ("a", "content of 11 characters exceeds 10"),
        ("a", "content of 25 characters exceeds 10"),
    ]


def test_the_bandwidth_cap_counts_admitted_actions_per_epoch() -> None:
    b = books("a", "b", bandwidth_cap=2)
    b.post(AT, [Freeze(agent="b", until_epoch=1, reason="x")])
    for step in range(2):
        admitted, rejected = b.admit(At(0, step, step), turns(("a", post()), ("b", post())))
        assert admitted_actions(admitted) == [("a", post())]
        assert reasons(rejected) == [("b", "agent is frozen")]  # refused actions use no bandwidth
        b.end_period("step")
    admitted, rejected = b.admit(At(0, 2, 2), turns(("a", post())))
    assert admitted == []
    assert reasons(rejected) == [("a", "bandwidth cap of 2 actions per epoch reached")]
    b.end_period("epoch")
    b.post(At(1, 0, 3), [Unfreeze(agent="b", reason="x")])
    admitted, rejected = b.admit(
        At(1, 0, 3), turns(("a", post()), ("b", post()), ("b", post()), ("b", post()))
    )
    assert admitted_actions(admitted) == [("a", post()), ("b", post()), ("b", post())]
    assert reasons(rejected) == [("b", "bandwidth cap of 2 actions per epoch reached")]


def test_the_step_action_budget_admits_the_first_actions_in_schedule_order() -> None:
    b = books("a", "b", "c", max_actions_per_step=2)
    b.post(AT, [Freeze(agent="a", until_epoch=None, reason="x")])
    admitted, rejected = b.admit(AT, turns(("a", post()), ("b", post()), ("c", post()), ("b", post())))
    assert admitted_actions(admitted) == [("b", post()), ("c", post())]
    assert reasons(rejected) == [("a", "agent is frozen"), ("b", "step action budget exhausted")]
    admitted, rejected = b.admit(At(0, 1, 1), turns(("c", post()), ("b", post())))
    assert len(admitted) == 2 and rejected == []


def test_exhausted_reports_the_types_each_agent_has_spent() -> None:
    b = books("a", "b", limits=[(POSTS_PER_EPOCH, 1), (PROPOSALS_PER_STEP, 1)])
    assert b.exhausted() == (frozenset(), {})
    b.admit(AT, turns(("a", post()), ("b", propose("a"))))
    never, spent = b.exhausted()
    assert never == frozenset()
    assert spent == {"a": {CreatePost, Reply}, "b": {Propose}}
    b.end_period("step")
    assert b.exhausted()[1] == {"a": {CreatePost, Reply}}
    b.end_period("epoch")
    assert b.exhausted() == (frozenset(), {})


def test_exhausted_lists_a_type_once_its_budget_is_spent_not_before() -> None:
    b = books("a", limits=[(POSTS_PER_EPOCH, 2)])
    b.admit(AT, turns(("a", post())))
    assert b.exhausted()[1] == {}
    b.admit(AT, turns(("a", post())))
    assert b.exhausted()[1] == {"a": {CreatePost, Reply}}


# ----------------------------------------------------------------- entries


def test_a_transfer_between_agents_logs_both_absolute_balances() -> None:
    b = books("a", "b")
    events = b.post(At(2, 3, 13), [Transfer(payer="a", payee="b", amount=7.5, reason="payment", ref="x-1")])
    assert events == [
        LedgerUpdated(
            epoch=2,
            step=3,
            agent_id="a",
            entry="transfer",
            reason="payment",
            reputation=1.0,
            resources=92.5,
            resources_delta=-7.5,
            ref="x-1",
        ),
        LedgerUpdated(
            epoch=2,
            step=3,
            agent_id="b",
            entry="transfer",
            reason="payment",
            reputation=1.0,
            resources=107.5,
            resources_delta=7.5,
            ref="x-1",
        ),
    ]
    assert b.imbalance() == 0.0


def test_system_accounts_move_money_without_agent_events() -> None:
    b = books("a")
    events = b.post(AT, [Transfer(payer="a", payee="market:escrow", amount=10.0, reason="held")])
    assert [(e.agent_id, e.resources, e.resources_delta) for e in events] == [("a", 90.0, -10.0)]  # type: ignore[attr-defined]
    assert b.accounts == {"market:escrow": 10.0}
    events = b.post(AT, [Transfer(payer="market:escrow", payee="governance:tax", amount=4.0, reason="move")])
    assert events == []
    assert b.accounts == {"market:escrow": 6.0, "governance:tax": 4.0}
    assert b.imbalance() == 0.0


def test_mint_and_burn_change_the_total_and_are_counted() -> None:
    b = books("a")
    (minted,) = b.post(AT, [Mint(account="a", amount=5.0, reason="bounty", ref="task-1")])
    assert isinstance(minted, LedgerUpdated)
    assert (minted.entry, minted.resources, minted.resources_delta, minted.ref) == (
        "mint",
        105.0,
        5.0,
        "task-1",
    )
    (burned,) = b.post(AT, [Burn(account="a", amount=2.0, reason="fine")])
    assert isinstance(burned, LedgerUpdated)
    assert (burned.entry, burned.resources, burned.resources_delta) == ("burn", 103.0, -2.0)
    assert b.post(AT, [Mint(account="governance:pool", amount=1.0, reason="seed")]) == []
    assert (b.minted, b.burned, b.total()) == (6.0, 2.0, 104.0)
    assert b.imbalance() == 0.0


def test_a_reputation_entry_moves_reputation_only() -> None:
    b = books("a")
    (event,) = b.post(AT, [Reputation(agent="a", amount=-0.25, reason="decay")])
    assert isinstance(event, LedgerUpdated)
    assert (
        event.entry,
        event.reputation,
        event.reputation_delta,
        event.resources,
        event.resources_delta,
    ) == (
        "reputation",
        0.75,
        -0.25,
        100.0,
        0.0,
    )
    assert b.total() == 100.0


def test_a_settlement_books_both_payoffs_and_its_costs() -> None:
    b = books("a", "b")
    # created 3, destroyed 0.5, costs 0.4 (0.3 to an account, 0.1 burned): payoffs share the rest, 2.1
    settlement = Settlement(
        initiator="a",
        counterparty="b",
        payoff_initiator=1.5,
        payoff_counterparty=0.6,
        reputation=0.2,
        created=3.0,
        destroyed=0.5,
        costs=(("governance:tax", 0.3), (None, 0.1)),
        reason="interaction ix-1",
        ref="ix-1",
    )
    events = b.post(AT, [settlement])
    assert [
        (e.agent_id, e.entry, e.resources, e.resources_delta, e.reputation, e.reputation_delta, e.ref)  # type: ignore[attr-defined]
        for e in events
    ] == [
        ("a", "settlement", 101.5, 1.5, 1.2, 0.2, "ix-1"),
        ("b", "settlement", 100.6, 0.6, 1.0, 0.0, "ix-1"),
    ]
    assert b.accounts == {"governance:tax": 0.3}
    assert b.minted == 3.0 and b.burned == pytest.approx(0.6)
    assert b.imbalance() == pytest.approx(0.0, abs=1e-12)


def test_freeze_and_unfreeze_log_their_events_once() -> None:
    b = books("a", "b")
    (frozen,) = b.post(At(1, 2, 7), [Freeze(agent="a", until_epoch=4, reason="circuit breaker")])
    assert frozen == AgentFrozen(epoch=1, step=2, agent_id="a", until_epoch=4, reason="circuit breaker")
    assert b.agents["a"].frozen
    (lifted,) = b.post(At(1, 3, 8), [Unfreeze(agent="a", reason="appeal")])
    assert lifted == AgentUnfrozen(epoch=1, step=3, agent_id="a", reason="appeal")
    assert not b.agents["a"].frozen
    assert b.post(AT, [Unfreeze(agent="b", reason="nothing to lift")]) == []


def test_a_longer_freeze_extends_a_shorter_one_and_says_so_a_shorter_one_changes_nothing() -> None:
    b = books("a")
    b.post(AT, [Freeze(agent="a", until_epoch=5, reason="first")])
    assert b.post(AT, [Freeze(agent="a", until_epoch=3, reason="shorter")]) == []
    assert b.unfreeze_due(AT, 4) == []
    assert b.agents["a"].frozen
    (longer,) = b.post(AT, [Freeze(agent="a", until_epoch=7, reason="longer")])
    assert isinstance(longer, AgentFrozen) and longer.until_epoch == 7
    assert b.unfreeze_due(AT, 5) == [] and b.agents["a"].frozen
    (lifted,) = b.unfreeze_due(At(6, 9, 69), 7)
    assert lifted == AgentUnfrozen(epoch=6, step=9, agent_id="a", reason="freeze expired")
    assert not b.agents["a"].frozen


def test_a_freeze_for_good_outlasts_any_timed_freeze() -> None:
    b = books("a", "b")
    b.post(AT, [Freeze(agent="a", until_epoch=2, reason="timed")])
    (event,) = b.post(AT, [Freeze(agent="a", until_epoch=None, reason="ban")])
    assert isinstance(event, AgentFrozen) and event.until_epoch is None
    b.post(AT, [Freeze(agent="b", until_epoch=None, reason="ban")])
    b.post(AT, [Freeze(agent="b", until_epoch=2, reason="timed, later")])
    assert b.unfreeze_due(AT, 100) == []
    assert b.agents["a"].frozen and b.agents["b"].frozen


def test_unfreeze_due_lifts_only_the_freezes_that_have_ended() -> None:
    b = books("a", "b", "c")
    b.post(AT, [Freeze(agent="a", until_epoch=2, reason="x"), Freeze(agent="b", until_epoch=3, reason="x")])
    b.post(AT, [Freeze(agent="c", until_epoch=None, reason="x")])
    assert b.unfreeze_due(AT, 1) == []
    assert [e.agent_id for e in b.unfreeze_due(AT, 2)] == ["a"]  # type: ignore[attr-defined]
    assert [e.agent_id for e in b.unfreeze_due(AT, 3)] == ["b"]  # type: ignore[attr-defined]
    assert b.unfreeze_due(AT, 50) == []
    assert [p.frozen for p in b.publics()] == [False, False, True]


@pytest.mark.parametrize(
    "entry",
    [
        Transfer(payer="a", payee="ghost", amount=1.0, reason="r"),
        Transfer(payer="ghost", payee="market:escrow", amount=1.0, reason="r"),
        Mint(account="ghost", amount=1.0, reason="r"),
        Burn(account="ghost", amount=1.0, reason="r"),
        Reputation(agent="ghost", amount=1.0, reason="r"),
        Settlement(
            initiator="a",
            counterparty="ghost",
            payoff_initiator=0.0,
            payoff_counterparty=0.0,
            reputation=0.0,
            created=0.0,
            destroyed=0.0,
            reason="r",
        ),
        Freeze(agent="ghost", until_epoch=None, reason="r"),
        Unfreeze(agent="ghost", reason="r"),
    ],
    ids=lambda e: e.kind,
)
def test_an_entry_naming_an_unknown_agent_is_an_error_that_names_it(entry: Entry) -> None:
    b = books("a")
    with pytest.raises(ValueError, match="'ghost'"):
        b.post(AT, [entry])


# --------------------------------------------------------------- properties

AGENTS = ("a", "b", "c")
ACCOUNTS = (*AGENTS, "market:escrow", "governance:tax")
amounts = st.floats(-50.0, 50.0, allow_nan=False)
positive = st.floats(0.0, 50.0, allow_nan=False)


@st.composite
def settlements(draw: st.DrawFn) -> Settlement:
    """Settlements whose payoffs are what they create, less what they destroy and what they cost."""
    a, b = draw(st.permutations(AGENTS))[:2]
    created, destroyed, pa = draw(amounts), draw(positive), draw(amounts)
    costs = tuple(draw(st.lists(st.tuples(st.sampled_from([None, "governance:tax"]), positive), max_size=3)))
    pb = created - destroyed - sum(c for _, c in costs) - pa
    return Settlement(
        initiator=a,
        counterparty=b,
        payoff_initiator=pa,
        payoff_counterparty=pb,
        reputation=draw(amounts),
        created=created,
        destroyed=destroyed,
        costs=costs,
        reason="interaction",
    )


entries = st.one_of(
    st.builds(
        lambda p, q, x: Transfer(payer=p, payee=q, amount=x, reason="t"),
        st.sampled_from(ACCOUNTS),
        st.sampled_from(ACCOUNTS),
        amounts,
    ),
    st.builds(lambda p, x: Mint(account=p, amount=x, reason="m"), st.sampled_from(ACCOUNTS), amounts),
    st.builds(lambda p, x: Burn(account=p, amount=x, reason="b"), st.sampled_from(ACCOUNTS), amounts),
    st.builds(lambda p, x: Reputation(agent=p, amount=x, reason="r"), st.sampled_from(AGENTS), amounts),
    st.builds(
        lambda p, u: Freeze(agent=p, until_epoch=u, reason="f"),
        st.sampled_from(AGENTS),
        st.none() | st.integers(0, 5),
    ),
    st.builds(lambda p: Unfreeze(agent=p, reason="u"), st.sampled_from(AGENTS)),
    settlements(),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(entries, max_size=8), max_size=12))
def test_any_sequence_of_entries_keeps_the_money_identity(batches: list[list[Entry]]) -> None:
    b = books(*AGENTS)
    for k, batch in enumerate(batches):
        events = b.post(At(k, 0, k), batch)
        assert b.imbalance() == pytest.approx(0.0, abs=1e-6)
        # the last LedgerUpdated of each agent carries its balance now
        last = {e.agent_id: e for e in events if isinstance(e, LedgerUpdated)}
        for agent, event in last.items():
            assert (event.resources, event.reputation) == (
                b.agents[agent].resources,
                b.agents[agent].reputation,
            )


actions = st.sampled_from(
    [
        post(),
        Reply(parent_id="post-1", content="r"),
        propose("b"),
        propose("a"),
        CastVote(post_id="p", direction=1),
    ]
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.lists(st.tuples(st.sampled_from(AGENTS), actions), max_size=8),
            st.sampled_from(["step", "epoch"]),
        )
    )
)
def test_admission_never_lets_an_agent_exceed_a_budget(plan: list[list[tuple[str, Action]] | str]) -> None:
    b = books(*AGENTS, limits=[(POSTS_PER_EPOCH, 3), (PROPOSALS_PER_STEP, 1)], bandwidth_cap=5)
    posts: Counter[str] = Counter()
    proposals: Counter[str] = Counter()
    actions_: Counter[str] = Counter()
    for item in plan:
        if isinstance(item, str):
            b.end_period(item)
            proposals.clear()
            if item == "epoch":
                posts.clear()
                actions_.clear()
            continue
        admitted, rejected = b.admit(AT, turns(*item))
        assert len(admitted) + len(rejected) == len(item)
        for t in admitted:
            actions_[t.agent] += 1
            if isinstance(t.action, CreatePost | Reply):
                posts[t.agent] += 1
            if isinstance(t.action, Propose):
                proposals[t.agent] += 1
        assert max(posts.values(), default=0) <= 3
        assert max(proposals.values(), default=0) <= 1
        assert max(actions_.values(), default=0) <= 5
        _, spent = b.exhausted()
        for agent in AGENTS:
            assert (CreatePost in spent.get(agent, ())) == (posts[agent] >= 3)
            assert (Propose in spent.get(agent, ())) == (proposals[agent] >= 1)
