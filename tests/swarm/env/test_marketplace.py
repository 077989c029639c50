"""The marketplace: lifecycles, rules, money conserved through the ledger, and the scripted traders."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm import load_scenario, run
from swarm.actions import NOOP, Action, Conduct
from swarm.agents.scripted import (
    AdversarialPolicy,
    DeceptivePolicy,
    HonestPolicy,
    MarketHabits,
    OpportunisticPolicy,
    ScriptedPolicy,
)
from swarm.agents.scripted.market import market_action
from swarm.core.payoff import SoftPayoffEngine
from swarm.env.marketplace import (
    ESCROW,
    FEES,
    MAX_BOUNTIES_SHOWN,
    AcceptBid,
    BidAccepted,
    BidPlaced,
    BidRejected,
    BidWithdrawn,
    BountyExpired,
    BountyPosted,
    BountyView,
    DeliverWork,
    DisputeFiled,
    DisputeResolved,
    EscrowCreated,
    EscrowRefunded,
    EscrowReleased,
    EscrowView,
    FileDispute,
    Marketplace,
    MarketplaceConfig,
    MarketplaceState,
    MarketView,
    PlaceBid,
    PostBounty,
    RejectBid,
    WithdrawBid,
)
from swarm.events import ActionRejected, Event
from swarm.kernel.component import At, Setup, Turn
from swarm.kernel.ledger import LedgerBooks
from swarm.runtime.eventlog import read_log
from swarm.views import AgentPublic, Observation, Snapshot
from tests.conftest import SCENARIOS, make_scenario

GOOD = Conduct(effort=0.8, sloppiness=0.0)
"""Always passes verification."""
BAD = Conduct(effort=-0.8, sloppiness=1.0, defects=1.0)
"""Never does."""
MARKET_ACTIONS = (PostBounty, PlaceBid, AcceptBid, RejectBid, WithdrawBid, DeliverWork, FileDispute)


class Market:
    """A marketplace wired to a ledger: every action's entries are posted, and the books checked."""

    def __init__(self, *agents: str, resources: float = 100.0, **config: Any) -> None:
        self.state = MarketplaceState(MarketplaceConfig(**config), random.Random(0))
        self.books = LedgerBooks()
        for agent in agents:
            self.books.add(agent, 0.0, resources)
        self.epoch = 0

    def do(self, agent: str, action: Action) -> list[Event]:
        at = At(self.epoch, 0, self.epoch)
        applied = self.state.apply(at, agent, action, self.books.agents[agent].resources)  # type: ignore[arg-type]
        self.books.post(at, applied.entries)
        self.check()
        return applied.events

    def end(self, epoch: int | None = None) -> list[Event]:
        self.epoch = self.epoch if epoch is None else epoch
        at = At(self.epoch, 9, self.epoch)
        applied = self.state.end_epoch(at)
        self.books.post(at, applied.entries)
        self.check()
        self.epoch += 1
        return applied.events

    def check(self) -> None:
        assert self.books.imbalance() == pytest.approx(0.0, abs=1e-9)
        assert self.escrow == pytest.approx(self.state.held(), abs=1e-9)
        assert self.books.accounts.get(FEES, 0.0) == pytest.approx(self.state.fees, abs=1e-9)

    @property
    def escrow(self) -> float:
        return self.books.accounts.get(ESCROW, 0.0)

    def balance(self, agent: str) -> float:
        return self.books.agents[agent].resources

    def awarded(self, reward: float = 10.0, bid: float = 10.0, poster: str = "p", worker: str = "w") -> None:
        """A bounty posted, bid on and awarded: its escrow is held."""
        self.do(poster, PostBounty(reward=reward))
        bounty = f"bounty-{self.state._n['bounty']}"
        self.do(worker, PlaceBid(bounty_id=bounty, amount=bid))
        self.do(poster, AcceptBid(bounty_id=bounty, bid_id=f"bid-{self.state._n['bid']}"))


def kinds(events: list[Event]) -> list[type[Event]]:
    return [type(e) for e in events]


# ---------------------------------------------------------------- lifecycle


def test_posting_a_bounty_moves_its_reward_into_escrow() -> None:
    m = Market("p")
    (event,) = m.do("p", PostBounty(reward=12.5, description="write docs", deadline_epochs=3))
    assert event == BountyPosted(agent_id="p", bounty_id="bounty-1", amount=12.5)
    assert (m.balance("p"), m.escrow) == (87.5, 12.5)
    (bounty,) = m.state.view().bounties
    assert (bounty.bounty_id, bounty.poster, bounty.reward, bounty.deadline_epoch, bounty.bids) == (
        "bounty-1",
        "p",
        12.5,
        3,
        (),
    )


def test_accepting_a_bid_holds_it_in_escrow_and_refunds_the_rest() -> None:
    m = Market("p", "w", "v")
    m.do("p", PostBounty(reward=10))
    assert m.do("w", PlaceBid(bounty_id="bounty-1", amount=8)) == [
        BidPlaced(agent_id="w", bounty_id="bounty-1", bid_id="bid-1", amount=8)
    ]
    m.do("v", PlaceBid(bounty_id="bounty-1", amount=9))
    assert m.state.view().bounties[0].bids == (("bid-1", "w", 8.0), ("bid-2", "v", 9.0))
    events = m.do("p", AcceptBid(bounty_id="bounty-1", bid_id="bid-1"))
    assert events == [
        BidAccepted(agent_id="p", bounty_id="bounty-1", bid_id="bid-1", amount=8),
        EscrowCreated(agent_id="p", bounty_id="bounty-1", escrow_id="escrow-1", worker="w", amount=8),
    ]
    assert (m.balance("p"), m.escrow) == (92.0, 8.0)
    view = m.state.view()
    assert view.bounties == ()  # awarded: no longer open, no more bids
    assert view.escrows == (EscrowView("escrow-1", "bounty-1", "p", "w", 8.0, "held"),)
    (refused,) = m.do("v", WithdrawBid(bid_id="bid-2"))
    assert isinstance(refused, ActionRejected) and "no pending bid" in refused.reason


def test_good_delivery_releases_the_escrow_less_the_fee() -> None:
    m = Market("p", "w", escrow_fee_rate=0.1)
    m.awarded(reward=10, bid=8)
    (event,) = m.do("w", DeliverWork(escrow_id="escrow-1", conduct=GOOD))
    assert isinstance(event, EscrowReleased)
    assert (event.worker, event.poster, event.amount, event.fee) == (
        "w",
        "p",
        pytest.approx(7.2),
        pytest.approx(0.8),
    )
    assert event.quality >= 0.5
    assert (m.balance("p"), m.balance("w")) == (pytest.approx(92.0), pytest.approx(107.2))
    assert m.books.accounts[FEES] == pytest.approx(0.8) and m.escrow == pytest.approx(0.0)
    assert m.state.view().escrows == ()


def test_failed_delivery_refunds_the_poster() -> None:
    m = Market("p", "w")
    m.awarded(reward=10, bid=10)
    (event,) = m.do("w", DeliverWork(escrow_id="escrow-1", conduct=BAD))
    assert isinstance(event, EscrowRefunded) and event.poster == "p" and event.amount == 10.0
    assert "failed verification" in event.reason
    assert (m.balance("p"), m.balance("w"), m.escrow) == (100.0, 100.0, 0.0)
    (again,) = m.do("w", DeliverWork(escrow_id="escrow-1", conduct=GOOD))
    assert isinstance(again, ActionRejected) and again.reason == "escrow escrow-1 is not held"


def test_an_undelivered_escrow_is_refunded_at_its_deadline() -> None:
    m = Market("p", "w", delivery_deadline_epochs=2)
    m.awarded(reward=5, bid=5)  # in epoch 0: due in epoch 2
    assert m.end(0) == [] and m.end(1) == []
    (event,) = m.end(2)
    assert isinstance(event, EscrowRefunded) and event.reason == "no delivery before the deadline"
    assert m.balance("p") == 100.0 and m.escrow == 0.0
    assert m.end(3) == []  # refunded once


def test_an_open_bounty_expires_after_its_deadline_and_its_reward_returns() -> None:
    m = Market("p", "w")
    m.do("p", PostBounty(reward=10, deadline_epochs=1))
    m.do("w", PlaceBid(bounty_id="bounty-1", amount=5))
    assert m.end(0) == []
    assert m.end(1) == [BountyExpired(epoch=1, step=9, agent_id="p", bounty_id="bounty-1", amount=10)]
    assert m.balance("p") == 100.0 and m.escrow == 0.0
    (late,) = m.do("p", AcceptBid(bounty_id="bounty-1", bid_id="bid-1"))
    assert isinstance(late, ActionRejected)


def test_bounties_stay_open_when_auto_expiry_is_off() -> None:
    m = Market("p", auto_expire_bounties=False)
    m.do("p", PostBounty(reward=10, deadline_epochs=1))
    for epoch in range(5):
        assert m.end(epoch) == []
    assert m.escrow == 10.0 and len(m.state.view().bounties) == 1


def test_a_disputed_escrow_is_paid_exactly_once() -> None:
    m = Market("p", "w", dispute_resolution_epochs=2, escrow_fee_rate=0.0, resources=50.0)
    m.awarded(reward=10, bid=10)
    (filed,) = m.do("w", FileDispute(escrow_id="escrow-1", reason="scope changed"))
    assert filed == DisputeFiled(
        agent_id="w", escrow_id="escrow-1", against="p", amount=10.0, reason="scope changed"
    )
    assert m.state.view().escrows[0].status == "disputed"
    again = m.do("p", FileDispute(escrow_id="escrow-1"))
    delivered = m.do("w", DeliverWork(escrow_id="escrow-1", conduct=GOOD))
    assert kinds(again) == kinds(delivered) == [ActionRejected]
    resolved = [e for epoch in range(6) for e in m.end(epoch)]
    assert resolved == [
        DisputeResolved(
            epoch=2, step=9, escrow_id="escrow-1", poster="p", worker="w", to_worker=5, to_poster=5, fee=0
        )
    ]
    assert (m.balance("p"), m.balance("w"), m.escrow) == (pytest.approx(45.0), pytest.approx(55.0), 0.0)


def test_a_dispute_split_keeps_the_fee_and_follows_the_default_split() -> None:
    m = Market("p", "w", dispute_resolution_epochs=0, escrow_fee_rate=0.1, dispute_default_split=0.75)
    m.awarded(reward=20, bid=20)
    m.do("p", FileDispute(escrow_id="escrow-1"))
    (event,) = m.end(0)
    assert isinstance(event, DisputeResolved)
    assert (event.fee, event.to_worker, event.to_poster) == (
        pytest.approx(2.0),
        pytest.approx(13.5),
        pytest.approx(4.5),
    )
    assert (m.balance("w"), m.balance("p")) == (pytest.approx(113.5), pytest.approx(84.5))
    assert m.books.accounts[FEES] == pytest.approx(2.0)


def test_a_rejected_or_withdrawn_bid_can_no_longer_be_accepted() -> None:
    m = Market("p", "w", "v")
    m.do("p", PostBounty(reward=10))
    m.do("w", PlaceBid(bounty_id="bounty-1", amount=5))
    m.do("v", PlaceBid(bounty_id="bounty-1", amount=6))
    (rejected,) = m.do("p", RejectBid(bid_id="bid-1", reason="no"))
    (withdrawn,) = m.do("v", WithdrawBid(bid_id="bid-2"))
    assert rejected == BidRejected(agent_id="p", bounty_id="bounty-1", bid_id="bid-1", bidder="w", amount=5)
    assert withdrawn == BidWithdrawn(agent_id="v", bounty_id="bounty-1", bid_id="bid-2", amount=6)
    assert m.state.view().bounties[0].bids == ()
    for bid in ("bid-1", "bid-2"):
        (refused,) = m.do("p", AcceptBid(bounty_id="bounty-1", bid_id=bid))
        assert isinstance(refused, ActionRejected) and refused.reason == f"no bid {bid} on bounty-1"
    m.do("w", PlaceBid(bounty_id="bounty-1", amount=4))  # may bid again
    assert [b[1] for b in m.state.view().bounties[0].bids] == ["w"]
    assert m.escrow == 10.0


@pytest.mark.parametrize(
    ("agent", "action", "reason"),
    [
        ("p", PlaceBid(bounty_id="bounty-1", amount=5), "cannot bid on one's own bounty"),
        ("v", PlaceBid(bounty_id="bounty-1", amount=50), "bid 50 must be in (0, 10]"),
        ("v", PlaceBid(bounty_id="bounty-9", amount=5), "bounty bounty-9 is not open"),
        ("w", PlaceBid(bounty_id="bounty-1", amount=3), "already bidding on this bounty"),
        ("w", AcceptBid(bounty_id="bounty-1", bid_id="bid-1"), "w has no open bounty bounty-1"),
        ("p", AcceptBid(bounty_id="bounty-1", bid_id="bid-5"), "no bid bid-5 on bounty-1"),
        ("p", PostBounty(reward=0.5), "reward 0.5 below the minimum 1"),
        ("p", PostBounty(reward=95), "reward 95 exceeds resources 90.00"),
        ("w", RejectBid(bid_id="bid-1"), "only p can reject bids on bounty-1"),
        ("p", WithdrawBid(bid_id="bid-1"), "only w can withdraw bid-1"),
        ("p", RejectBid(bid_id="bid-7"), "no pending bid bid-7"),
        ("w", DeliverWork(escrow_id="escrow-3"), "escrow escrow-3 is not held"),
        ("v", FileDispute(escrow_id="escrow-3"), "escrow escrow-3 is not held"),
    ],
)
def test_rules_refuse_with_a_reason(agent: str, action: Action, reason: str) -> None:
    m = Market("p", "w", "v")
    m.do("p", PostBounty(reward=10))
    m.do("w", PlaceBid(bounty_id="bounty-1", amount=5))
    before = (m.balance("p"), m.balance("w"), m.escrow)
    (event,) = m.do(agent, action)
    assert isinstance(event, ActionRejected)
    assert (event.agent_id, event.action, event.reason) == (agent, action.type, reason)
    assert (m.balance("p"), m.balance("w"), m.escrow) == before


def test_only_the_worker_delivers_and_only_the_parties_dispute() -> None:
    m = Market("p", "w", "v")
    m.awarded()
    (delivered,) = m.do("p", DeliverWork(escrow_id="escrow-1", conduct=GOOD))
    (disputed,) = m.do("v", FileDispute(escrow_id="escrow-1"))
    assert isinstance(delivered, ActionRejected) and delivered.reason == "only w can deliver on escrow-1"
    assert isinstance(disputed, ActionRejected) and disputed.reason == "v is not party to escrow-1"
    (filed,) = m.do("p", FileDispute(escrow_id="escrow-1"))
    assert isinstance(filed, DisputeFiled) and filed.against == "w"


def test_a_bounty_takes_a_limited_number_of_bids() -> None:
    m = Market("p", "a", "b", "c", max_bids_per_bounty=2)
    m.do("p", PostBounty(reward=10))
    m.do("a", PlaceBid(bounty_id="bounty-1", amount=5))
    m.do("b", PlaceBid(bounty_id="bounty-1", amount=5))
    (refused,) = m.do("c", PlaceBid(bounty_id="bounty-1", amount=5))
    assert isinstance(refused, ActionRejected) and refused.reason == "bounty bounty-1 has 2 bids already"
    m.do("a", WithdrawBid(bid_id="bid-1"))
    assert kinds(m.do("c", PlaceBid(bounty_id="bounty-1", amount=5))) == [BidPlaced]


# ------------------------------------------------------ money, any sequence

AGENTS = ["a", "b", "c"]
KINDS = ("post", "bid", "accept", "reject", "withdraw", "deliver", "dispute", "tick")
WEIGHTED_KINDS = (*KINDS, "post", "bid", "bid", "accept", "accept", "deliver", "deliver", "dispute")
moves = st.tuples(
    st.sampled_from(WEIGHTED_KINDS),
    st.sampled_from(AGENTS),
    st.integers(0, 9),  # which bounty, bid or escrow (among those that exist, or a made-up id)
    st.floats(0.05, 1.2),  # a reward's size, or a bid as a share of the reward
    st.sampled_from([True, True, True, False]),  # whether the right agent acts (else the drawn one)
)


def pick(items: list[Any], k: int) -> Any:
    return items[k % len(items)] if items and k < 8 else None


def move(m: Market, kind: str, agent: str, k: int, x: float, right: bool) -> tuple[str, Action] | None:
    """A marketplace action, aimed (mostly) at what exists now, so that whole lifecycles happen."""
    state = m.state
    open_ = [b for b in state.bounties.values() if b.status == "open"]
    bids = [(b, bid_id, bidder) for b in open_ for bid_id, (bidder, _) in b.bids.items()]
    held = [e for e in state.escrows.values() if e.status == "held"]
    if kind == "tick":
        return None
    if kind == "post":
        return agent, PostBounty(reward=round(60 * x, 2), deadline_epochs=1 + k % 3)
    if kind == "bid":
        b = pick(open_, k)
        bidder = next((a for a in AGENTS if a != b.poster), agent) if b is not None and right else agent
        return bidder, PlaceBid(
            bounty_id=b.bounty_id if b else "bounty-99", amount=(b.reward if b else 10) * x
        )
    if kind in ("accept", "reject", "withdraw"):
        chosen = pick(bids, k)
        if chosen is None:
            return agent, AcceptBid(bounty_id="bounty-99", bid_id=f"bid-{k}")
        b, bid_id, bidder = chosen
        if kind == "accept":
            return (b.poster if right else agent), AcceptBid(bounty_id=b.bounty_id, bid_id=bid_id)
        if kind == "reject":
            return (b.poster if right else agent), RejectBid(bid_id=bid_id)
        return (bidder if right else agent), WithdrawBid(bid_id=bid_id)
    e = pick(held, k)
    escrow_id = e.escrow_id if e else f"escrow-{k}"
    if kind == "deliver":
        return (e.worker if e and right else agent), DeliverWork(
            escrow_id=escrow_id, conduct=GOOD if k % 2 else BAD
        )
    return ((e.poster if k % 2 else e.worker) if e and right else agent), FileDispute(escrow_id=escrow_id)


@settings(max_examples=200, deadline=None)
@given(st.lists(moves, min_size=10, max_size=60), st.floats(0.0, 0.2), st.floats(0.0, 1.0), st.integers(0, 3))
def test_money_is_conserved_and_every_escrow_ends(
    plan: list[tuple[str, str, int, float, bool]], fee: float, split: float, patience: int
) -> None:
    m = Market(*AGENTS, escrow_fee_rate=fee, dispute_default_split=split, dispute_resolution_epochs=patience)
    for kind, agent, k, x, right in plan:
        chosen = move(m, kind, agent, k, x, right)
        if chosen is None:
            m.end()  # checks the books itself
        else:
            m.do(*chosen)  # checks the books itself
        assert all(m.balance(a) >= -1e-9 for a in AGENTS)  # nobody commits more than they hold
    for _ in range(25):
        m.end()
    assert all(e.status in ("released", "refunded", "resolved") for e in m.state.escrows.values())
    assert all(b.status != "open" for b in m.state.bounties.values())
    assert m.escrow == pytest.approx(0.0, abs=1e-9)
    assert sum(m.balance(a) for a in AGENTS) + m.books.accounts.get(FEES, 0.0) == pytest.approx(300.0)


# ---------------------------------------------------------------- component


def marketplace(**config: Any) -> Marketplace:
    scenario = make_scenario(marketplace={"enabled": True, **config})
    agents = {"p": "honest", "w": "honest"}
    return Marketplace(
        Setup(scenario, scenario.section("marketplace"), SoftPayoffEngine(scenario.payoff), agents)
    )


def test_the_component_checks_rewards_against_each_agents_public_resources() -> None:
    mp = marketplace()
    agents = {"p": AgentPublic("p", 0.0, 30.0), "w": AgentPublic("w", 0.0, 5.0)}
    out = mp.apply(
        At(0, 0, 0),
        [
            Turn(0, "p", PostBounty(reward=20)),
            Turn(1, "w", PostBounty(reward=20)),
            Turn(2, "w", PlaceBid(bounty_id="bounty-1", amount=15)),
        ],
        agents,
    )
    assert kinds(out.events) == [BountyPosted, ActionRejected, BidPlaced]
    assert [(t.payer, t.payee, t.amount) for t in out.entries] == [("p", ESCROW, 20.0)]  # type: ignore[attr-defined]
    assert len(mp.view(At(0, 1, 1)).bounties) == 1


def test_the_component_settles_at_epoch_end() -> None:
    mp = marketplace(dispute_resolution_epochs=0)
    agents = {"p": AgentPublic("p", 0.0, 30.0), "w": AgentPublic("w", 0.0, 30.0)}
    at = At(0, 0, 0)
    mp.apply(
        at,
        [Turn(0, "p", PostBounty(reward=10)), Turn(1, "w", PlaceBid(bounty_id="bounty-1", amount=10))],
        agents,
    )
    mp.apply(at, [Turn(0, "p", AcceptBid(bounty_id="bounty-1", bid_id="bid-1"))], agents)
    mp.apply(at, [Turn(0, "w", FileDispute(escrow_id="escrow-1"))], agents)
    out = mp.epoch_end(At(0, 10, 9), ())
    assert kinds(out.events) == [DisputeResolved]
    assert sum(t.amount for t in out.entries) == pytest.approx(10.0)  # type: ignore[attr-defined]


def test_the_prompt_shows_the_richest_bounties_ones_own_and_ones_escrows() -> None:
    bounties = tuple(BountyView(f"bounty-{k}", "x", float(k), 3) for k in range(1, 13))
    own = BountyView("bounty-99", "me", 0.5, 3)
    escrows = (
        EscrowView("escrow-1", "b", "me", "x", 1.0, "held"),
        EscrowView("escrow-2", "b", "x", "y", 1.0, "held"),
    )
    shown = Marketplace.prompt_view(MarketView((*bounties, own), escrows), "me")
    assert [b.bounty_id for b in shown.bounties] == [
        *(f"bounty-{k}" for k in range(12, 12 - MAX_BOUNTIES_SHOWN, -1)),
        "bounty-99",
    ]
    assert [e.escrow_id for e in shown.escrows] == ["escrow-1"]


def test_marketplace_economy_runs_deterministically_with_released_escrows(tmp_path: Path) -> None:
    sc = load_scenario(SCENARIOS / "marketplace_economy.yaml")
    run(sc, out_dir=tmp_path / "a")
    run(sc, out_dir=tmp_path / "b")
    a = (tmp_path / "a" / "events.jsonl").read_text().splitlines()[:-1]
    assert a == (tmp_path / "b" / "events.jsonl").read_text().splitlines()[:-1]
    _, events = read_log(tmp_path / "a" / "events.jsonl")
    types = {e.type for e in events}
    assert {"bounty_posted", "bid_placed", "escrow_created", "escrow_released"} <= types


# ------------------------------------------------------- the scripted traders


def seen_by(
    agent: str,
    bounties: tuple[BountyView, ...] = (),
    escrows: tuple[EscrowView, ...] = (),
    reputations: dict[str, float] | None = None,
    resources: float = 50.0,
    exhausted: frozenset[type[Action]] = frozenset(),
    market: bool = True,
) -> Observation:
    reputations = reputations or {"p": 1.0, "w": 0.5, "x": 0.3}
    agents = tuple(AgentPublic(a, r, resources) for a, r in reputations.items())
    public: dict[type, Any] = {MarketView: MarketView(bounties, escrows)} if market else {}
    snapshot = Snapshot(0, 0, agents, public, exhausted={agent: exhausted} if exhausted else {})
    return Observation(agent, next(a for a in agents if a.agent_id == agent), snapshot)


def bounty(
    bids: tuple[tuple[str, str, float], ...] = (), poster: str = "p", reward: float = 10.0
) -> BountyView:
    return BountyView("bounty-1", poster, reward, 3, bids)


def test_scripted_posters_turn_down_bids_from_agents_of_negative_reputation() -> None:
    offer = bounty((("bid-1", "w", 5.0), ("bid-2", "x", 6.0)))
    poster = HonestPolicy("p", random.Random(0))
    action = market_action(poster, seen_by("p", (offer,), reputations={"p": 1.0, "w": -0.5, "x": 0.3}))
    assert action == RejectBid(bid_id="bid-1", reason="bidder's reputation is negative")
    action = market_action(poster, seen_by("p", (offer,), reputations={"p": 1.0, "w": 0.5, "x": 0.3}))
    assert action == AcceptBid(bounty_id="bounty-1", bid_id="bid-1")  # the cheapest


def test_scripted_bidders_withdraw_a_bid_undercut_by_more_than_a_quarter() -> None:
    bidder = HonestPolicy("w", random.Random(0))
    undercut = bounty((("bid-1", "w", 9.0), ("bid-2", "x", 5.0)))
    assert market_action(bidder, seen_by("w", (undercut,))) == WithdrawBid(bid_id="bid-1")
    close = bounty((("bid-1", "w", 6.0), ("bid-2", "x", 5.0)))
    for seed in range(20):
        assert not isinstance(
            market_action(HonestPolicy("w", random.Random(seed)), seen_by("w", (close,))), WithdrawBid
        )


@pytest.mark.parametrize("kind", [HonestPolicy, OpportunisticPolicy, DeceptivePolicy])
def test_scripted_workers_deliver_on_their_escrow_first(kind: type[ScriptedPolicy]) -> None:
    held = EscrowView("escrow-1", "bounty-1", "p", "w", 8.0, "held")
    offer = bounty((("bid-9", "x", 5.0),), poster="w")
    for seed in range(10):
        policy = kind("w", random.Random(seed))
        action = market_action(policy, seen_by("w", (offer,), (held,)))
        assert isinstance(action, DeliverWork) and action.escrow_id == "escrow-1"


def test_hostile_traders_dispute_or_post_bait_and_never_deliver_or_award() -> None:
    held = EscrowView("escrow-1", "bounty-1", "p", "adv", 8.0, "held")
    offer = bounty((("bid-1", "w", 5.0),), poster="adv")
    seen = seen_by("adv", (offer,), (held,), reputations={"adv": 0.0, "p": 1.0, "w": 0.5}, resources=50.0)
    chosen = [market_action(AdversarialPolicy("adv", random.Random(seed)), seen) for seed in range(60)]
    assert {type(a) for a in chosen} <= {FileDispute, PostBounty, type(None)}
    assert any(isinstance(a, FileDispute) for a in chosen)
    assert all(a.description == "bait" for a in chosen if isinstance(a, PostBounty))


def test_scripted_bids_stay_within_the_reward_and_opportunists_go_for_the_richest() -> None:
    rich, poor = BountyView("bounty-1", "p", 40.0, 3), BountyView("bounty-2", "p", 4.0, 3)
    bids = []
    for seed in range(60):
        action = market_action(OpportunisticPolicy("w", random.Random(seed)), seen_by("w", (poor, rich)))
        if isinstance(action, PlaceBid):
            bids.append(action)
    assert bids and all(b.bounty_id == "bounty-1" for b in bids)
    assert all(1.0 <= b.amount <= 40.0 for b in bids)
    assert all(0.5 * 40 - 0.01 <= b.amount <= 0.7 * 40 + 0.01 for b in bids)  # its bid share


def test_scripted_posters_post_only_when_rich_and_the_market_is_empty() -> None:
    def posts(resources: float, bounties: tuple[BountyView, ...] = ()) -> list[PostBounty]:
        out = []
        for seed in range(80):
            action = market_action(
                HonestPolicy("w", random.Random(seed)), seen_by("w", bounties, resources=resources)
            )
            if isinstance(action, PostBounty):
                out.append(action)
        return out

    made = posts(100.0)
    assert made and all(0 < b.reward <= 100.0 for b in made)
    assert posts(15.0) == []
    assert posts(100.0, (bounty(poster="w"),)) == []


def test_without_a_marketplace_the_scripted_traders_never_trade() -> None:
    for kind in (HonestPolicy, OpportunisticPolicy, DeceptivePolicy, AdversarialPolicy):
        for seed in range(10):
            assert (
                market_action(kind("w", random.Random(seed)), seen_by("w", market=False, resources=500.0))
                is None
            )


class Newcomer(ScriptedPolicy):
    """A new scripted kind that says nothing about marketplaces."""

    kind = "newcomer"

    def decide(self, observation: Observation) -> Action:
        return market_action(self, observation) or NOOP


class QuietHonest(HonestPolicy):
    """An honest agent that stays out of the market."""

    kind = "quiet_honest"
    market = None


def busy_market(agent: str) -> Observation:
    """Everything a trader could act on: its escrow to deliver, bids to award, bounties to bid on."""
    return seen_by(
        agent,
        (
            BountyView("bounty-1", agent, 10.0, 3, (("bid-1", "p", 5.0), ("bid-2", "x", 6.0))),
            BountyView("bounty-2", "p", 30.0, 3, (("bid-3", agent, 29.0), ("bid-4", "x", 10.0))),
            BountyView("bounty-3", "x", 20.0, 3),
        ),
        (
            EscrowView("escrow-1", "bounty-0", "p", agent, 8.0, "held"),
            EscrowView("escrow-2", "bounty-9", agent, "x", 8.0, "held"),
        ),
        reputations={agent: 1.0, "p": -1.0, "x": 0.3},
        resources=1000.0,
    )


@pytest.mark.parametrize("kind", [Newcomer, QuietHonest])
def test_a_scripted_kind_without_market_habits_never_trades(kind: type[ScriptedPolicy]) -> None:
    assert kind.market is None
    for seed in range(50):
        policy = kind("n", random.Random(seed))
        seen = busy_market("n")
        assert market_action(policy, seen) is None
        assert not isinstance(policy.decide(seen), MARKET_ACTIONS)


def test_market_habits_decide_whether_a_kind_trades() -> None:
    class Trader(Newcomer):
        market = MarketHabits(accept=1.0)

    assert market_action(Trader("n", random.Random(0)), busy_market("n")) == DeliverWork(
        escrow_id="escrow-1", conduct=Trader.default_conduct
    )


@pytest.mark.parametrize(
    ("kind", "spent", "observation"),
    [
        (OpportunisticPolicy, PlaceBid, lambda: seen_by("w", (BountyView("bounty-1", "p", 40.0, 3),))),
        (HonestPolicy, PostBounty, lambda: seen_by("w", resources=100.0)),
        (AdversarialPolicy, PostBounty, lambda: seen_by("w", resources=100.0)),
    ],
)
def test_scripted_traders_do_not_waste_a_turn_on_what_their_rate_limits_forbid(
    kind: type[ScriptedPolicy], spent: type[Action], observation: Any
) -> None:
    seen: Observation = observation()
    free = [market_action(kind("w", random.Random(seed)), seen) for seed in range(60)]
    assert any(isinstance(a, spent) for a in free)  # the rule does fire while the budget lasts
    limited = Observation(
        seen.agent_id,
        seen.me,
        Snapshot(0, 0, seen.snapshot.agents, seen.snapshot.public, exhausted={"w": frozenset({spent})}),
    )
    assert not limited.can(spent)
    for seed in range(60):
        assert not isinstance(market_action(kind("w", random.Random(seed)), limited), spent)
