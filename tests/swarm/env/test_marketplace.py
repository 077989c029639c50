"""The marketplace: lifecycles, rules, and money conserved across any sequence of actions."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm import load_scenario, run
from swarm.agents.market_rules import market_action
from swarm.agents.scripted import SCRIPTED_POLICIES
from swarm.env.marketplace import MarketplaceState
from swarm.events import ActionRejected, MarketEvent
from swarm.messages import (
    AcceptBid,
    AgentPublic,
    BountyView,
    Conduct,
    DeliverWork,
    FileDispute,
    MarketView,
    Observation,
    PlaceBid,
    PostBounty,
    RejectBid,
    Snapshot,
    WithdrawBid,
)
from swarm.runtime.eventlog import read_log
from swarm.scenario import MarketplaceSpec
from tests.conftest import SCENARIOS

GOOD = Conduct(effort=0.8, sloppiness=0.0)
BAD = Conduct(effort=-0.8, sloppiness=1.0, defects=1.0)


def market(**kw: object) -> MarketplaceState:
    return MarketplaceState(MarketplaceSpec(**kw), random.Random(0))  # type: ignore[arg-type]


def apply(
    m: MarketplaceState, balances: dict[str, float], epoch: int, agent: str, action: object
) -> list[object]:
    events, transfers = m.apply(epoch, agent, action)  # type: ignore[arg-type]
    for who, amount, _ in transfers:
        balances[who] = balances.get(who, 0.0) + amount
    return events


def test_good_delivery_releases_the_escrow_less_the_fee() -> None:
    m, bal = market(escrow_fee_rate=0.1), {"p": 100.0, "w": 100.0}
    apply(m, bal, 0, "p", PostBounty(reward=10))
    apply(m, bal, 0, "w", PlaceBid(bounty_id="bounty-1", amount=8))
    apply(m, bal, 0, "p", AcceptBid(bounty_id="bounty-1", bid_id="bid-1"))
    events = apply(m, bal, 1, "w", DeliverWork(escrow_id="escrow-1", conduct=GOOD))
    assert [e.kind for e in events] == ["escrow_released"]  # type: ignore[attr-defined]
    assert bal == {"p": pytest.approx(92.0), "w": pytest.approx(107.2)}
    assert m.fees == pytest.approx(0.8)


def test_failed_delivery_and_missed_deadline_refund_the_poster() -> None:
    m, bal = market(), {"p": 100.0, "w": 100.0, "v": 100.0}
    apply(m, bal, 0, "p", PostBounty(reward=10))
    apply(m, bal, 0, "w", PlaceBid(bounty_id="bounty-1", amount=10))
    apply(m, bal, 0, "p", AcceptBid(bounty_id="bounty-1", bid_id="bid-1"))
    apply(m, bal, 0, "w", DeliverWork(escrow_id="escrow-1", conduct=BAD))
    assert bal["p"] == pytest.approx(100.0)
    apply(m, bal, 0, "p", PostBounty(reward=5))
    apply(m, bal, 0, "v", PlaceBid(bounty_id="bounty-2", amount=5))
    apply(m, bal, 0, "p", AcceptBid(bounty_id="bounty-2", bid_id="bid-2"))
    events, transfers = m.end_epoch(5)
    assert [e.kind for e in events] == ["escrow_refunded"]  # type: ignore[attr-defined]
    assert transfers == [("p", 5.0, "escrow-2 refunded")]


def test_a_disputed_escrow_is_paid_exactly_once() -> None:
    m, bal = market(dispute_resolution_epochs=2, escrow_fee_rate=0.0), {"p": 50.0, "w": 50.0}
    apply(m, bal, 0, "p", PostBounty(reward=10))
    apply(m, bal, 0, "w", PlaceBid(bounty_id="bounty-1", amount=10))
    apply(m, bal, 0, "p", AcceptBid(bounty_id="bounty-1", bid_id="bid-1"))
    apply(m, bal, 0, "w", FileDispute(escrow_id="escrow-1"))
    again = apply(m, bal, 0, "p", FileDispute(escrow_id="escrow-1"))
    assert isinstance(again[0], ActionRejected)
    rejected = apply(m, bal, 0, "w", DeliverWork(escrow_id="escrow-1", conduct=GOOD))
    assert isinstance(rejected[0], ActionRejected)
    for epoch in range(1, 6):
        _events, transfers = m.end_epoch(epoch)
        for who, amount, _ in transfers:
            bal[who] += amount
    assert bal == {"p": pytest.approx(45.0), "w": pytest.approx(55.0)}


@pytest.mark.parametrize(
    ("agent", "action", "reason"),
    [
        ("p", PlaceBid(bounty_id="bounty-1", amount=5), "own bounty"),
        ("w", PlaceBid(bounty_id="bounty-1", amount=50), "must be in"),
        ("w", PlaceBid(bounty_id="bounty-9", amount=5), "not open"),
        ("w", AcceptBid(bounty_id="bounty-1", bid_id="bid-1"), "no open bounty"),
        ("p", PostBounty(reward=0.5), "below the minimum"),
        ("w", RejectBid(bid_id="bid-1"), "only p can reject"),
        ("p", WithdrawBid(bid_id="bid-1"), "only w can withdraw"),
        ("p", RejectBid(bid_id="bid-7"), "no pending bid"),
    ],
)
def test_bid_rules(agent: str, action: object, reason: str) -> None:
    m, bal = market(), {"p": 100.0, "w": 100.0}
    apply(m, bal, 0, "p", PostBounty(reward=10))
    apply(m, bal, 0, "w", PlaceBid(bounty_id="bounty-1", amount=5))
    events = apply(m, bal, 0, agent, action)
    assert isinstance(events[0], ActionRejected) and reason in events[0].reason


def test_a_rejected_or_withdrawn_bid_can_no_longer_be_accepted() -> None:
    m, bal = market(), {"p": 100.0, "w": 100.0, "v": 100.0}
    apply(m, bal, 0, "p", PostBounty(reward=10))
    apply(m, bal, 0, "w", PlaceBid(bounty_id="bounty-1", amount=5))
    apply(m, bal, 0, "v", PlaceBid(bounty_id="bounty-1", amount=6))
    (rejected,) = apply(m, bal, 0, "p", RejectBid(bid_id="bid-1", reason="no"))
    (withdrawn,) = apply(m, bal, 0, "v", WithdrawBid(bid_id="bid-2"))
    assert (rejected.kind, rejected.counterparty, withdrawn.kind) == ("bid_rejected", "w", "bid_withdrawn")
    assert m.view().bounties[0].bids == ()
    for bid in ("bid-1", "bid-2"):
        (refused,) = apply(m, bal, 0, "p", AcceptBid(bounty_id="bounty-1", bid_id=bid))
        assert isinstance(refused, ActionRejected)
    apply(m, bal, 0, "w", PlaceBid(bounty_id="bounty-1", amount=4))  # may bid again
    assert [b[1] for b in m.view().bounties[0].bids] == ["w"]


AGENTS = ["a", "b", "c"]
actions = st.one_of(
    st.builds(lambda a, r: (a, PostBounty(reward=r)), st.sampled_from(AGENTS), st.floats(0.5, 30)),
    st.builds(
        lambda a, k, x: (a, PlaceBid(bounty_id=f"bounty-{k}", amount=x)),
        st.sampled_from(AGENTS),
        st.integers(1, 6),
        st.floats(0.1, 30),
    ),
    st.builds(
        lambda a, k, j: (a, AcceptBid(bounty_id=f"bounty-{k}", bid_id=f"bid-{j}")),
        st.sampled_from(AGENTS),
        st.integers(1, 6),
        st.integers(1, 10),
    ),
    st.builds(
        lambda a, k, good: (a, DeliverWork(escrow_id=f"escrow-{k}", conduct=GOOD if good else BAD)),
        st.sampled_from(AGENTS),
        st.integers(1, 4),
        st.booleans(),
    ),
    st.builds(
        lambda a, k: (a, FileDispute(escrow_id=f"escrow-{k}")), st.sampled_from(AGENTS), st.integers(1, 4)
    ),
    st.builds(lambda a, j: (a, RejectBid(bid_id=f"bid-{j}")), st.sampled_from(AGENTS), st.integers(1, 10)),
    st.builds(lambda a, j: (a, WithdrawBid(bid_id=f"bid-{j}")), st.sampled_from(AGENTS), st.integers(1, 10)),
    st.just(("tick", None)),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(actions, max_size=60), st.floats(0.0, 0.2))
def test_money_is_conserved_and_every_escrow_ends(seq: list[tuple[str, object]], fee: float) -> None:
    m, bal = market(escrow_fee_rate=fee), dict.fromkeys(AGENTS, 100.0)
    total = sum(bal.values())
    epoch = 0
    for agent, action in seq:
        if action is None:
            for who, amount, _ in m.end_epoch(epoch)[1]:
                bal[who] += amount
            epoch += 1
        else:
            apply(m, bal, epoch, agent, action)
        assert sum(bal.values()) + m.held() == pytest.approx(total)
    for later in range(epoch, epoch + 25):
        for who, amount, _ in m.end_epoch(later)[1]:
            bal[who] += amount
    assert all(e.status in ("released", "refunded", "resolved") for e in m.escrows.values())
    assert all(b.status != "open" for b in m.bounties.values())
    assert sum(bal.values()) + m.fees == pytest.approx(total)


def test_marketplace_economy_runs_deterministically_with_released_escrows(tmp_path: Path) -> None:
    sc = load_scenario(SCENARIOS / "marketplace_economy.yaml")
    run(sc, out_dir=tmp_path / "a")
    run(sc, out_dir=tmp_path / "b")
    a = (tmp_path / "a" / "events.jsonl").read_text().splitlines()[:-1]
    assert a == (tmp_path / "b" / "events.jsonl").read_text().splitlines()[:-1]
    _, events = read_log(tmp_path / "a" / "events.jsonl")
    kinds = [e.kind for e in events if isinstance(e, MarketEvent)]
    assert "escrow_released" in kinds and "bounty_posted" in kinds


def _seen_by(agent: str, bounties: tuple[BountyView, ...], reputations: dict[str, float]) -> Observation:
    agents = tuple(AgentPublic(agent_id=a, reputation=r, resources=50.0) for a, r in reputations.items())
    snapshot = Snapshot(epoch=0, step=0, agents=agents, market=MarketView(bounties=bounties))
    return Observation(agent, next(a for a in agents if a.agent_id == agent), snapshot)


async def test_scripted_posters_turn_down_bids_from_agents_of_negative_reputation() -> None:
    bounty = BountyView(
        bounty_id="bounty-1",
        poster="p",
        reward=10,
        deadline_epoch=3,
        bids=(("bid-1", "w", 5.0), ("bid-2", "x", 6.0)),
    )
    poster = SCRIPTED_POLICIES["honest"]("p", random.Random(0))
    action = market_action(poster, _seen_by("p", (bounty,), {"p": 1.0, "w": -0.5, "x": 0.3}))
    assert action == RejectBid(bid_id="bid-1", reason="bidder's reputation is negative")
    action = market_action(poster, _seen_by("p", (bounty,), {"p": 1.0, "w": 0.5, "x": 0.3}))
    assert action == AcceptBid(bounty_id="bounty-1", bid_id="bid-1")


async def test_scripted_bidders_withdraw_a_bid_undercut_by_more_than_a_quarter() -> None:
    bounty = BountyView(
        bounty_id="bounty-1",
        poster="p",
        reward=10,
        deadline_epoch=3,
        bids=(("bid-1", "w", 9.0), ("bid-2", "x", 5.0)),
    )
    bidder = SCRIPTED_POLICIES["honest"]("w", random.Random(0))
    assert market_action(bidder, _seen_by("w", (bounty,), {"p": 1.0, "w": 0.5, "x": 0.3})) == WithdrawBid(
        bid_id="bid-1"
    )
    close = bounty.model_copy(update={"bids": (("bid-1", "w", 6.0), ("bid-2", "x", 5.0))})
    assert not isinstance(
        market_action(bidder, _seen_by("w", (close,), {"p": 1.0, "w": 0.5, "x": 0.3})), WithdrawBid
    )
