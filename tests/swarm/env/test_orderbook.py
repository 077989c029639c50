"""The order book: price-time clearing that never crosses or self-trades, conservation, halts,
and a flash-crash detector that fires on a manipulated market and not on a calm one."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm import load_scenario, run
from swarm.env.orderbook import (
    CancelOrders,
    FlashCrashDetected,
    Market,
    MarketHalted,
    MarketResumed,
    OrderBook,
    OrderBookConfig,
    OrderBookMeasured,
    PlaceOrder,
)
from swarm.errors import ScenarioError
from swarm.events import ActionRejected
from swarm.kernel.component import At
from swarm.money import Transfer
from swarm.runtime.eventlog import read_log
from tests.conftest import ROOT, make_scenario

AT = At(0, 0, 0)
AGENTS = ["a", "b", "c"]
CALM = {
    "mm1": "market_maker",
    "mm2": "market_maker",
    "mo1": "momentum",
    "mo2": "momentum",
    "mo3": "momentum",
    "v1": "value",
    "v2": "value",
    "v3": "value",
    "v4": "value",
}


def market(agents: list[str] = AGENTS, strategies: dict[str, str] | None = None, **keys: Any) -> Market:
    config = OrderBookConfig.model_validate({"batch_interval_ticks": 1, **keys})
    return Market(config, agents, strategies or {}, dict.fromkeys(agents, 100.0), random.Random(1))


def simulate(seed: int, manipulated: bool, halt: bool, ticks: int = 1000) -> tuple[Market, list[Any], Any]:
    strategies = dict(CALM, x1="manipulator") if manipulated else dict(CALM)
    config = OrderBookConfig(halt_on_crash=halt)
    m = Market(config, list(strategies), strategies, dict.fromkeys(strategies, 1000.0), random.Random(seed))
    events: list[Any] = []
    for _ in range(ticks):
        events += m.run_tick(AT)
        m.trades = []
    return m, events, m.measure(AT)


def crossed(m: Market) -> bool:
    return any(b.bids and b.asks and b.bids[0].price >= b.asks[0].price for b in m.books.values())


# ------------------------------------------------------------------ the law of the book

order = st.tuples(
    st.sampled_from(AGENTS),
    st.sampled_from(["buy", "sell"]),
    st.floats(1.0, 20.0),
    st.floats(0.1, 10.0),
    st.integers(1, 6),
    st.booleans(),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(order, max_size=6), min_size=1, max_size=12), st.integers(1, 3), st.booleans())
def test_clearing_never_crosses_never_self_trades_and_conserves_money_and_holdings(
    ticks: list[list[tuple[str, str, float, float, int, bool]]], interval: int, halt: bool
) -> None:
    m = market(batch_interval_ticks=interval, halt_on_crash=halt, crash_threshold=0.05)
    money = math.fsum(m.cash.values())
    units = math.fsum(m.holdings["compute"].values())
    for orders in ticks:
        for agent, side, price, qty, ttl, cancel in orders:
            if cancel and side == "sell":
                m.cancel(agent, "compute")
            else:
                assert m.submit(agent, "compute", side, price, qty, ttl) is None  # type: ignore[arg-type]
        halted = m.books["compute"].halted(m.tick + 1)
        before = len(m.trades)
        m.run_tick(AT)
        new = m.trades[before:]
        if m.tick % interval == 0 and not halted:
            assert not crossed(m)
        if halted:
            assert not new
        assert all(t.buyer != t.seller for t in new)
        assert all(v >= -1e-9 for v in m.cash.values())
        assert all(v >= -1e-9 for v in m.holdings["compute"].values())
    assert math.isclose(math.fsum(m.cash.values()), money, rel_tol=1e-9)
    assert math.isclose(math.fsum(m.holdings["compute"].values()), units, rel_tol=1e-9)
    paid: dict[str, float] = dict.fromkeys(AGENTS, 0.0)
    for t in m.drain_flows():
        assert t.amount > 0 and t.payer != t.payee
        paid[t.payer] -= t.amount
        paid[t.payee] += t.amount
    for a in AGENTS:  # the ledger's transfers move exactly what the market moved
        assert math.isclose(100.0 + paid[a], m.cash[a], abs_tol=1e-6)


def test_price_then_arrival_priority_and_the_resting_price() -> None:
    m = market(latency_noise_ticks=0.0)
    m.submit("a", "compute", "sell", 10.0, 1.0)
    m.submit("b", "compute", "sell", 9.0, 1.0)
    m.tick += 1
    m.submit("c", "compute", "buy", 11.0, 1.5)
    m.run_tick(AT)
    assert [(t.seller, t.price, t.quantity) for t in m.trades] == [("b", 9.0, 1.0), ("a", 10.0, 0.5)]


def test_a_self_cross_cancels_the_later_order_and_books_are_per_resource() -> None:
    m = market(resources=["compute", "storage"])
    m.submit("a", "compute", "sell", 5.0, 1.0)
    m.submit("b", "storage", "sell", 5.0, 1.0)
    m.tick += 2
    m.submit("a", "compute", "buy", 6.0, 1.0)
    m.run_tick(AT)
    assert m.trades == []
    book = m.books["compute"]
    assert [o.side for o in book.asks] == ["sell"] and book.bids == []
    assert len(m.books["storage"].asks) == 1


def test_orders_expire_and_cancel() -> None:
    m = market(batch_interval_ticks=100)
    m.submit("a", "compute", "buy", 5.0, 1.0, ttl=2)
    m.submit("b", "compute", "sell", 50.0, 1.0)
    m.run_tick(AT)
    m.run_tick(AT)
    assert len(m.books["compute"].bids) == 1
    m.run_tick(AT)
    assert m.books["compute"].bids == []
    assert m.cancel("b") == 1 and m.books["compute"].asks == []


def test_a_buyer_pays_only_with_its_money_and_a_seller_sells_only_what_it_holds() -> None:
    m = market(initial_holdings=2.0)
    m.cash["a"] = 10.0
    m.submit("b", "compute", "sell", 5.0, 5.0)
    m.submit("a", "compute", "buy", 5.0, 5.0)
    m.run_tick(AT)
    assert sum(t.quantity for t in m.trades) == pytest.approx(2.0)  # the seller held 2 (and a could pay 2)
    assert m.cash["a"] == pytest.approx(0.0) and m.holdings["compute"]["b"] == pytest.approx(0.0)


def test_nothing_clears_while_halted_and_the_halt_ends_on_time() -> None:
    m = market()
    events = m.halt("compute", 3, "test", AT)
    assert isinstance(events[0], MarketHalted) and events[0].until_tick == 3
    m.submit("a", "compute", "sell", 10.0, 1.0)
    m.submit("b", "compute", "buy", 10.5, 1.0)
    for _ in range(3):
        assert m.run_tick(AT) == [] and m.trades == []
    resumed = m.run_tick(AT)
    assert [type(e) for e in resumed] == [MarketResumed] and resumed[0].halted_ticks == 3  # type: ignore[attr-defined]
    assert len(m.trades) == 1


# ------------------------------------------------------------ crashes arise, halts soften them

SEEDS = range(5)


def test_the_detector_is_quiet_on_a_calm_market_and_fires_on_a_manipulated_one() -> None:
    calm = [simulate(s, manipulated=False, halt=False)[2].crashes for s in SEEDS]
    attacked = [simulate(s, manipulated=True, halt=False) for s in SEEDS]
    assert calm == [0] * len(SEEDS)
    crashes = [[e for e in events if isinstance(e, FlashCrashDetected)] for _, events, _ in attacked]
    assert all(e.drop >= 0.1 for run in crashes for e in run)
    assert sum(any("x1" in e.trigger_agents for e in run) for run in crashes) >= 4  # the manipulator's doing


def test_a_halt_makes_crashes_shallower() -> None:
    free = [simulate(s, manipulated=True, halt=False)[2] for s in SEEDS]
    halted = [simulate(s, manipulated=True, halt=True)[2] for s in SEEDS]
    assert all(h.halted_ticks > 0 for h in halted if h.crashes)
    depth_free = [r.crash_depth for r in free if r.crash_depth is not None]
    depth_halted = [r.crash_depth for r in halted if r.crash_depth is not None]
    assert sum(depth_halted) / len(depth_halted) < sum(depth_free) / len(depth_free)


# ------------------------------------------------------------------ in a simulation


def test_settings_errors_name_the_key() -> None:
    with pytest.raises(ScenarioError) as info:
        make_scenario(order_book={"crash_threshold": 1.5})
    assert "order_book.crash_threshold" in str(info.value)
    with pytest.raises(ScenarioError) as info:
        make_scenario(order_book={"strategies": {"nobody": "momentum"}})
    assert "order_book.strategies.nobody" in str(info.value)
    with pytest.raises(ScenarioError):
        make_scenario(order_book={"strategies": {"honest": "hodl"}})


def test_the_shipped_scenario_trades_through_the_ledger_and_halts(tmp_path: Path) -> None:
    scenario = load_scenario(ROOT / "scenarios" / "order_book.yaml", ["simulation.n_epochs=2"])
    run(scenario, out_dir=tmp_path)
    events = read_log(tmp_path / "events.jsonl")[1]
    measured = [e for e in events if isinstance(e, OrderBookMeasured)]
    assert len(measured) == 2 and sum(e.trades for e in measured) > 0
    assert any(isinstance(e, FlashCrashDetected) for e in events)
    assert any(isinstance(e, MarketHalted) for e in events)
    assert any(type(e).__name__ == "LedgerUpdated" and "order book" in str(e) for e in events)


def test_agents_place_and_cancel_orders_and_bad_orders_are_refused() -> None:
    scenario = make_scenario(order_book={"latency_noise_ticks": 0.0})
    component = OrderBook(_setup(scenario))
    from swarm.kernel.component import Turn
    from swarm.views import AgentPublic

    agents = {a: AgentPublic(a, 0.0, 100.0) for a in component.market.agents}
    a, b = component.market.agents[:2]
    out = component.apply(
        AT,
        [
            Turn(0, a, PlaceOrder(resource="compute", side="sell", price=9.0, quantity=1.0)),
            Turn(1, b, PlaceOrder(resource="gold", side="buy", price=9.0, quantity=1.0)),
            Turn(2, b, PlaceOrder(resource="compute", side="buy", price=10.0, quantity=1.0)),
        ],
        agents,
    )
    placed = [e for e in out.events if type(e).__name__ == "OrderPlaced"]
    assert [type(e) for e in out.events if e not in placed] == [ActionRejected]
    assert [(e.agent_id, e.side, e.price) for e in placed] == [(a, "sell", 9.0), (b, "buy", 10.0)]
    done = component.resolve(AT, ())
    (transfer,) = done.entries
    assert isinstance(transfer, Transfer)
    assert (transfer.payer, transfer.payee) == (b, a) and transfer.amount == pytest.approx(9.0)
    component.apply(
        AT, [Turn(0, a, PlaceOrder(resource="compute", side="sell", price=50.0, quantity=1.0))], agents
    )
    (cancelled,) = component.apply(AT, [Turn(0, a, CancelOrders())], agents).events
    assert component.market.books["compute"].asks == [] and getattr(cancelled, "cancelled", None) == 1


def _setup(scenario: Any) -> Any:
    from swarm.core.payoff import SoftPayoffEngine
    from swarm.kernel.component import Setup

    agents = {agent: spec.type for agent, spec in scenario.agent_ids()}
    return Setup(scenario, scenario.section("order_book"), SoftPayoffEngine(), agents)
