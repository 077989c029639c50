"""The economy tax: revenue is rate × base in every economy, money stays conserved with the tax,
a zero rate changes nothing, and bad settings name their key."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm import load_scenario, run
from swarm.core.interaction import SoftInteraction
from swarm.core.payoff import SoftPayoffEngine
from swarm.env.auction import PROCEEDS, DworkinAuction, _payments
from swarm.env.missions import JoinMission, MissionClosed, MissionsConfig, MissionState
from swarm.env.orderbook import Market, OrderBookConfig
from swarm.errors import ScenarioError
from swarm.events import InteractionCompleted
from swarm.governance.economy_tax import EconomyTax, EconomyTaxed, EconomyTaxNotice, EconomyTaxRule
from swarm.governance.lever import build_governance
from swarm.governance.tax import TREASURY
from swarm.kernel.component import Applied, At, Setup, Turn
from swarm.kernel.ledger import LedgerBooks
from swarm.money import Burn, Entry, Transfer
from swarm.runtime.eventlog import read_log
from swarm.views import AgentPublic
from tests.conftest import ROOT, make_scenario

AT = At(0, 1, 1)
RATES = st.floats(min_value=1e-6, max_value=1.0, allow_nan=False)
DESTINATIONS = st.sampled_from(["treasury", "burn"])


def _books(agents: list[str], money: float = 100.0) -> LedgerBooks:
    books = LedgerBooks()
    for a in agents:
        books.add(a, 0.0, money)
    return books


def _taxed(events: list[Any]) -> list[EconomyTaxed]:
    return [e for e in events if isinstance(e, EconomyTaxed)]


# ------------------------------------------------------------------ the levy


@settings(max_examples=100, deadline=None)
@given(RATES, st.floats(0.0, 1e6), DESTINATIONS)
def test_a_levy_takes_rate_times_base_from_the_account_to_its_destination(
    rate: float, base: float, destination: Any
) -> None:
    levied = EconomyTaxRule(rate, destination).levy(AT, "auction", PROCEEDS, base, "auction-1")
    if rate * base == 0.0:  # nothing to take (a base of 0, or an amount below the smallest float)
        assert levied == Applied()
        return
    [event], [entry] = levied.events, levied.entries
    assert isinstance(event, EconomyTaxed) and event.lever == "economy_tax"
    assert event.amount == rate * base and event.base == base and event.account == PROCEEDS
    if destination == "treasury":
        assert isinstance(entry, Transfer) and (entry.payer, entry.payee) == (PROCEEDS, TREASURY)
    else:
        assert isinstance(entry, Burn) and entry.account == PROCEEDS
    assert entry.amount == event.amount


# ------------------------------------------------------------------ auction


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(st.sampled_from("abcdef"), st.floats(0.0, 1e4), min_size=1, max_size=6),
    st.booleans(),
    RATES,
    DESTINATIONS,
)
def test_auction_tax_is_rate_times_proceeds_and_money_is_conserved(
    payments: dict[str, float], rebate: bool, rate: float, destination: Any
) -> None:
    base = sum(p for p in payments.values() if p > 0.0)
    levied = EconomyTaxRule(rate, destination).levy(AT, "auction", PROCEEDS, base, "auction-1")
    entries = _payments("auction-1", payments, rebate=rebate, taxed=levied.entries)
    books = _books(sorted(payments), money=1e4)
    books.post(AT, entries)
    tax = rate * base
    assert books.imbalance() == pytest.approx(0.0, abs=1e-6)
    if destination == "treasury":
        assert books.accounts.get(TREASURY, 0.0) == pytest.approx(tax, rel=1e-9, abs=1e-9)
    else:
        assert books.burned == pytest.approx(tax, rel=1e-9, abs=1e-9)
    left = books.accounts.get(PROCEEDS, 0.0)
    assert left == pytest.approx(0.0 if rebate else base - tax, rel=1e-9, abs=1e-6)
    if rebate and base > 0:  # the rebate shares what the tax left, equally
        rebates = [e.amount for e in entries if isinstance(e, Transfer) and e.reason == "auction_rebate"]
        assert math.fsum(rebates) == pytest.approx(base - tax, rel=1e-9, abs=1e-6)


def test_the_auction_taxes_its_proceeds_before_the_rebate() -> None:
    scenario = make_scenario(honest=4, auction={}, governance={"economy_tax_rate": 0.2})
    agents = {a: spec.type for a, spec in scenario.agent_ids()}
    auction = DworkinAuction(Setup(scenario, scenario.section("auction"), SoftPayoffEngine(), agents))
    out = auction.clear(AT, list(agents))
    [levy] = _taxed(out.events)
    paid = [e.amount for e in out.entries if isinstance(e, Transfer) and e.reason == "auction_payment"]
    rebates = [e.amount for e in out.entries if isinstance(e, Transfer) and e.reason == "auction_rebate"]
    assert levy.economy == "auction" and levy.ref == "auction-1"
    assert levy.base == pytest.approx(math.fsum(paid)) and levy.amount == pytest.approx(0.2 * levy.base)
    assert math.fsum(rebates) == pytest.approx(0.8 * levy.base)


# ------------------------------------------------------------------ missions

MEMBERS = {a: AgentPublic(a, 0.0, 100.0) for a in ("c", "h1", "h2", "f")}
WORK = st.lists(
    st.tuples(st.sampled_from(list(MEMBERS)), st.sampled_from(list(MEMBERS)), st.floats(0.0, 1.0)),
    max_size=30,
).map(lambda xs: [(a, b, p) for a, b, p in xs if a != b])


def done(initiator: str, counterparty: str, p: float, k: int) -> InteractionCompleted:
    """An accepted interaction ``i<k>`` of quality ``p``."""
    i = SoftInteraction(
        interaction_id=f"i{k}", initiator=initiator, counterparty=counterparty, p=p, accepted=True
    )
    return InteractionCompleted(
        epoch=0,
        step=1,
        interaction=i,
        payoff_initiator=0.0,
        payoff_counterparty=0.0,
        initiator_type="x",
        counterparty_type="x",
    )


def settle_mission(
    config: MissionsConfig, work: list[tuple[str, str, float]], tax: EconomyTaxRule | None
) -> tuple[MissionClosed, list[Entry], list[Any]]:
    """One mission of c, h1, h2 and f with ``work`` done, settled at its deadline."""
    state = MissionState(config, random.Random(0), tax=tax)
    entries: list[Entry] = []
    events: list[Any] = []
    for out in (
        state.open_epoch(At(0, 0, 0), [MEMBERS["c"]]),
        state.apply(
            AT, [Turn(k, a, JoinMission(mission_id="m1")) for k, a in enumerate(("h1", "h2", "f"))], MEMBERS
        ),
        state.observe(AT, [done(a, b, p, k) for k, (a, b, p) in enumerate(work)]),
        state.close_epoch(At(config.duration_epochs - 1, 10, 99)),
    ):
        entries += out.entries
        events += out.events
    [closed] = [e for e in events if isinstance(e, MissionClosed)]
    return closed, entries, events


@settings(max_examples=60, deadline=None)
@given(WORK, st.sampled_from(["equal", "proportional", "shapley"]), st.floats(0.0, 1.0), RATES, DESTINATIONS)
def test_mission_tax_is_rate_times_the_pool_and_money_is_conserved(
    work: Any, rule: Any, penalty: float, rate: float, destination: Any
) -> None:
    config = MissionsConfig(payout=rule, free_rider_penalty=penalty, objective_count=4, success_bonus=5.0)
    closed, entries, events = settle_mission(config, work, EconomyTaxRule(rate, destination))
    books = _books(list(MEMBERS))
    books.post(AT, entries)
    assert books.imbalance() == pytest.approx(0.0, abs=1e-9)
    assert books.accounts.get("mission:m1", 0.0) == pytest.approx(0.0, abs=1e-9)  # the pool is emptied
    levies = _taxed(events)
    if closed.status != "succeeded":  # refunds are not taxed
        assert not levies
        return
    [levy] = levies
    assert levy.base == closed.pool and levy.amount == rate * closed.pool
    # the event shows each payout rounded to 9 decimals: off by up to 0.5e-9 each (the ledger's are exact)
    rounding = 0.5e-9 * len(closed.payouts)
    assert math.fsum(paid for _, _, paid in closed.payouts) == pytest.approx(
        closed.pool - levy.amount, abs=rounding
    )
    taken = books.accounts.get(TREASURY, 0.0) if destination == "treasury" else books.burned
    assert taken == pytest.approx(levy.amount)


# ------------------------------------------------------------------ order book

SELLERS = ["a", "b", "c"]
ORDER = st.tuples(
    st.sampled_from(SELLERS), st.sampled_from(["buy", "sell"]), st.floats(1.0, 20.0), st.floats(0.1, 10.0)
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(ORDER, max_size=6), min_size=1, max_size=10), RATES, DESTINATIONS)
def test_sellers_pay_rate_times_their_proceeds_and_money_is_conserved(
    ticks: list[list[tuple[str, str, float, float]]], rate: float, destination: Any
) -> None:
    config = OrderBookConfig(batch_interval_ticks=1)
    m = Market(config, SELLERS, {}, dict.fromkeys(SELLERS, 100.0), random.Random(1), None, rate)
    sold: dict[str, float] = {}
    for orders in ticks:
        for agent, side, price, qty in orders:
            assert m.submit(agent, "compute", side, price, qty) is None  # type: ignore[arg-type]
        m.run_tick(AT)
    for t in m.trades:
        sold[t.seller] = sold.get(t.seller, 0.0) + t.price * t.quantity
    tax = EconomyTaxRule(rate, destination)
    entries: list[Entry] = list(m.drain_flows())
    levies: list[Any] = []
    for seller, proceeds in m.drain_taxed():
        assert proceeds == pytest.approx(sold[seller])
        levied = tax.levy(AT, "order_book", seller, proceeds)
        entries += levied.entries
        levies += levied.events
    assert {e.account for e in levies} == {s for s, x in sold.items() if x > 0}
    books = _books(SELLERS)
    books.post(AT, entries)
    revenue = rate * math.fsum(sold.values())
    assert books.imbalance() == pytest.approx(0.0, abs=1e-9)
    assert math.fsum(e.amount for e in levies) == pytest.approx(revenue)
    assert math.fsum(m.cash.values()) == pytest.approx(300.0 - revenue)  # buying power net of the tax
    for a in SELLERS:  # the ledger ends where the market's cash says
        assert books.agents[a].resources == pytest.approx(m.cash[a], abs=1e-6)
        assert books.agents[a].resources >= -1e-9


# ------------------------------------------------------------------ in a run


def _events(tmp: Path, name: str, keys: list[str]) -> list[Any]:
    run(load_scenario(ROOT / "scenarios" / f"{name}.yaml", ["simulation.n_epochs=2", *keys]), out_dir=tmp)
    return read_log(tmp / "events.jsonl")[1]


def _comparable(events: list[Any]) -> list[Any]:
    return [e for e in events if e.type != "run_ended"]


def test_a_zero_rate_changes_nothing_and_a_positive_one_taxes_every_economy(tmp_path: Path) -> None:
    plain = _events(tmp_path / "plain", "economies", [])
    zero = _events(tmp_path / "zero", "economies", ["governance.economy_tax_rate=0"])
    assert _comparable(zero) == _comparable(plain) and not _taxed(plain)
    taxed = _events(tmp_path / "taxed", "economies", ["governance.economy_tax_rate=0.1"])
    levies = _taxed(taxed)
    assert {e.economy for e in levies} >= {"auction", "order_book"}
    assert all(e.amount == pytest.approx(0.1 * e.base) and e.account != TREASURY for e in levies)


def test_the_lever_is_in_force_with_a_notice_only_when_the_rate_is_above_zero() -> None:
    def levers(rate: float) -> list[type]:
        scenario = make_scenario(order_book={}, governance={"economy_tax_rate": rate})
        setup = Setup(scenario, None, SoftPayoffEngine(), {})
        return [type(lv) for lv in build_governance(scenario, setup).levers]

    assert EconomyTax in levers(0.05) and EconomyTax not in levers(0.0)
    config = EconomyTax.Config.model_validate({"economy_tax_rate": 0.05, "economy_tax_destination": "burn"})
    assert EconomyTax.notice(config) == EconomyTaxNotice(0.05, "burn")


@pytest.mark.parametrize(
    ("governance", "sections", "key", "expected"),
    [
        ({"economy_tax_rate": 0.1}, {}, "governance.economy_tax_rate", "missions"),
        ({"economy_tax_rate": 1.5}, {"order_book": {}}, "governance.economy_tax_rate", "1"),
        (
            {"economy_tax_rate": 0.1, "economy_tax_destination": "moon"},
            {"order_book": {}},
            "governance.economy_tax_destination",
            "treasury",
        ),
        (
            {"economy_tax_destination": "burn"},
            {"order_book": {}},
            "governance.economy_tax_destination",
            "rate",
        ),
        (
            {"economy_tax_rate": 0.1},
            {"missions": {"enabled": False}},
            "governance.economy_tax_rate",
            "enabled",
        ),
    ],
)
def test_bad_settings_name_the_key(
    governance: dict[str, Any], sections: dict[str, Any], key: str, expected: str
) -> None:
    with pytest.raises(ScenarioError) as info:
        make_scenario(governance=governance, **sections)
    text = str(info.value)
    assert key in text and expected in text


def test_the_governed_scenario_taxes_all_three_economies_and_keeps_the_books(tmp_path: Path) -> None:
    scenario = load_scenario(ROOT / "scenarios" / "economies_governed.yaml", ["simulation.n_epochs=3"])
    result = run(scenario, out_dir=tmp_path)  # the ledger checks its money identity at every epoch's end
    levies = _taxed(read_log(tmp_path / "events.jsonl")[1])
    assert result.reason == "completed"
    assert {e.economy for e in levies} == {"auction", "missions", "order_book"}
    assert all(e.destination == "treasury" and e.amount == 0.05 * e.base for e in levies)
    revenue = [m.get("economy_tax_revenue") for m in result.epochs]
    assert all(r is not None and r > 0 for r in revenue)
