"""The economies act on each other: auction allocations are what agents can sell on the order
book, and the governance lever ``market_halt`` halts a market the crash rule alone would not."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from swarm import load_scenario, run
from swarm.core.payoff import SoftPayoffEngine
from swarm.env.auction import DworkinAuction
from swarm.env.orderbook import (
    GovernanceMarketHalt,
    Market,
    MarketHalted,
    OrderBook,
    OrderBookConfig,
    PlaceOrder,
)
from swarm.errors import ScenarioError
from swarm.kernel.component import At, Setup, Turn
from swarm.money import Transfer
from swarm.runtime.eventlog import read_log
from swarm.views import AgentPublic
from tests.conftest import ROOT, make_scenario

AT = At(0, 0, 0)


def _linked() -> tuple[DworkinAuction, OrderBook]:
    scenario = make_scenario(
        honest=3,
        auction={"resources": {"compute": 10.0, "storage": 10.0}, "reserve_price": 0.1},
        order_book={"holdings_from_auction": True, "latency_noise_ticks": 0.0, "batch_interval_ticks": 1},
    )
    agents = {agent: spec.type for agent, spec in scenario.agent_ids()}
    engine = SoftPayoffEngine()
    auction = DworkinAuction(Setup(scenario, scenario.section("auction"), engine, agents))
    book = OrderBook(Setup(scenario, scenario.section("order_book"), engine, agents, {"auction": auction}))
    return auction, book


def test_holdings_of_auctioned_resources_come_from_the_latest_clearing() -> None:
    auction, book = _linked()
    a, b, c = book.market.agents
    assert all(book.market.holdings["compute"][x] == 0.0 for x in (a, b, c))  # nothing before a clearing
    auction.bids = {a: {"compute": 0.0, "storage": 1.0}, b: {"compute": 1.0, "storage": 0.0}}
    auction.bids[c] = {"compute": 0.0, "storage": 1.0}
    auction.clear(AT, [a, b, c])
    book.epoch_start(AT, [])
    held = book.market.holdings["compute"]
    assert held[a] == 0.0 and held[b] == pytest.approx(auction.holdings[b]["compute"]) and held[b] > 1.0
    rich = {x: AgentPublic(x, 0.0, 1e6) for x in (a, b, c)}
    book.apply(
        AT,
        [
            Turn(0, a, PlaceOrder(resource="compute", side="sell", price=5.0, quantity=5.0)),
            Turn(1, b, PlaceOrder(resource="compute", side="sell", price=5.0, quantity=1000.0)),
            Turn(2, c, PlaceOrder(resource="compute", side="buy", price=6.0, quantity=1000.0)),
        ],
        rich,
    )
    entries = book.resolve(AT, ()).entries
    paid = {(t.payer, t.payee): t.amount for t in entries if isinstance(t, Transfer)}
    assert (c, a) not in paid  # allocated nothing: sold nothing
    assert paid[(c, b)] == pytest.approx(5.0 * auction.holdings[b]["compute"])  # sold all it was allocated
    assert book.market.holdings["compute"][b] == pytest.approx(0.0, abs=1e-9)
    assert book.market.holdings["compute"][c] == pytest.approx(auction.holdings[b]["compute"])


def test_holdings_from_auction_needs_an_auction() -> None:
    with pytest.raises(ScenarioError, match=r"order_book\.holdings_from_auction"):
        make_scenario(order_book={"holdings_from_auction": True})


def test_the_halt_lever_needs_an_order_book() -> None:
    with pytest.raises(ScenarioError, match=r"governance\.market_halt_enabled"):
        make_scenario(governance={"market_halt_enabled": True})


def _simulate(seed: int, lever: bool, ticks: int = 600) -> tuple[list[Any], list[Any]]:
    strategies = {"mm1": "market_maker", "mm2": "market_maker", "mo1": "momentum", "mo2": "momentum"}
    strategies |= {"v1": "value", "v2": "value", "v3": "value", "x1": "manipulator"}
    config = OrderBookConfig(halt_on_crash=not lever)  # the lever alone, against the crash rule alone
    m = Market(
        config,
        list(strategies),
        strategies,
        dict.fromkeys(strategies, 1000.0),
        random.Random(seed),
        (0.05, 20) if lever else None,
    )
    events: list[Any] = []
    trades: list[Any] = []
    for _ in range(ticks):
        events += m.run_tick(AT)
        trades += m.trades
        m.trades = []
    return events, trades


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_lever_halts_sooner_than_the_crash_rule_and_nothing_clears_while_halted(seed: int) -> None:
    plain, _ = _simulate(seed, lever=False)
    governed, trades = _simulate(seed, lever=True)
    first = min((e.tick for e in plain if isinstance(e, MarketHalted)), default=10**9)
    ordered = [e for e in governed if isinstance(e, GovernanceMarketHalt)]
    halts = [e for e in governed if isinstance(e, MarketHalted)]
    assert ordered and all(e.lever == "market_halt" for e in ordered)
    assert halts and all("market_halt" in e.reason for e in halts)
    assert halts[0].tick <= first  # never later than the crash rule
    assert any(e.drop < OrderBookConfig().crash_threshold for e in ordered)  # a fall it would not halt
    for h in halts:
        assert not [t for t in trades if h.tick < t.tick <= h.until_tick]


def test_the_shipped_order_book_halts_with_the_lever_and_not_without(tmp_path: Path) -> None:
    keys = ["simulation.n_epochs=1", "order_book.halt_on_crash=false"]
    counts = []
    for extra in ([], ["governance.market_halt_enabled=true"]):
        out = tmp_path / str(len(extra))
        run(load_scenario(ROOT / "scenarios" / "order_book.yaml", [*keys, *extra]), out_dir=out)
        events = read_log(out / "events.jsonl")[1]
        counts.append(sum(isinstance(e, MarketHalted) for e in events))
    assert counts[0] == 0 and counts[1] > 0


def test_the_combined_scenario_trades_only_what_the_auction_allocated(tmp_path: Path) -> None:
    from swarm.env.orderbook import OrderBookMeasured

    result = run(
        load_scenario(ROOT / "scenarios" / "economies.yaml", ["simulation.n_epochs=2"]), out_dir=tmp_path
    )
    events = read_log(tmp_path / "events.jsonl")[1]
    measured = [e for e in events if isinstance(e, OrderBookMeasured)]
    assert result.reason == "completed"
    assert measured[0].trades == 0 < measured[1].trades  # nothing to sell before the first clearing
