"""The Dworkin auction: the engine's laws, the component in a run, and its settings."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm import load_scenario, run
from swarm.core.payoff import SoftPayoffEngine
from swarm.env.auction import (
    PROCEEDS,
    AuctionBid,
    AuctionBidReceived,
    AuctionCleared,
    AuctionRound,
    AuctionView,
    DworkinAuction,
    _payments,
    agent_valuations,
    bundle_utility,
    run_auction,
)
from swarm.errors import ScenarioError
from swarm.events import ActionRejected, LedgerUpdated
from swarm.kernel.component import At, Turn
from swarm.kernel.component import Setup as ComponentSetup
from swarm.money import Transfer
from swarm.runtime.eventlog import read_log
from tests.conftest import ROOT

AGENTS = [{"type": "honest", "count": 3}, {"type": "opportunistic", "count": 2}]


def scenario(auction: dict[str, Any], *, epochs: int = 1, steps: int = 1, seed: int = 3) -> Any:
    return load_scenario(
        {
            "scenario_id": "auction_test",
            "agents": AGENTS,
            "simulation": {"n_epochs": epochs, "steps_per_epoch": steps, "seed": seed},
            "auction": auction,
        }
    )


# ------------------------------------------------------------------ the engine


def test_two_identical_agents_split_the_supply_and_pay_their_budget() -> None:
    out = run_auction(
        {"a": {"c": 10}, "b": {"c": 10}}, {"c": 100}, endowment=100, tolerance=1e-4, max_rounds=200
    )
    assert out.converged
    assert out.allocations["a"]["c"] == pytest.approx(50, abs=0.01)
    assert out.allocations["b"]["c"] == pytest.approx(50, abs=0.01)
    assert out.payments["a"] <= 100 + 1e-9 and out.payments["a"] == pytest.approx(100, rel=1e-3)
    assert out.envy_violations == [] and out.gini == pytest.approx(0.0, abs=1e-9)


def test_the_reserve_price_stops_the_drift_to_the_floor() -> None:
    # demand capped by the budget never reaches supply: the price stops at the reserve and the auction clears
    out = run_auction({"a": {"c": 100}}, {"c": 1000}, endowment=10, reserve_price=0.5, max_rounds=500)
    assert out.converged
    assert out.prices["c"] == 0.5
    assert out.allocations["a"]["c"] == pytest.approx(10 / 0.5)
    assert all(p["c"] >= 0.5 for p, _ in out.rounds)


def test_agents_that_want_different_things_each_get_theirs() -> None:
    out = run_auction({"a": {"x": 10, "y": 1}, "b": {"x": 1, "y": 10}}, {"x": 100, "y": 100}, endowment=100)
    assert out.allocations["a"].get("x", 0) > out.allocations["b"].get("x", 0)
    assert out.allocations["b"].get("y", 0) > out.allocations["a"].get("y", 0)


def test_a_non_converged_auction_reports_max_rounds_and_still_rations_to_supply() -> None:
    out = run_auction(
        {f"a{i}": {"c": 10} for i in range(5)}, {"c": 50}, endowment=100, rate=0.01, max_rounds=5
    )
    assert not out.converged and len(out.rounds) == 5
    assert sum(a["c"] for a in out.allocations.values()) <= 50 * (1 + 1e-12)


def test_envy_is_found_when_the_auction_stops_early() -> None:
    # stopped after one round, b's tie goes to y while x is cheap; b would rather have a's bundle
    out = run_auction(
        {"a": {"x": 2, "y": 1}, "b": {"x": 2, "y": 2}}, {"x": 50, "y": 100}, endowment=100, max_rounds=1
    )
    assert not out.converged
    assert [(i, j) for i, j, _ in out.envy_violations] == [("b", "a")]
    gap = out.envy_violations[0][2]
    assert gap == pytest.approx(
        bundle_utility({"x": 2, "y": 2}, out.allocations["a"], "linear") - out.utilities["b"]
    )
    assert gap > 0.05 * out.utilities["b"]


def test_negative_values_count_as_zero() -> None:
    out = run_auction({"a": {"x": -5, "y": 1}}, {"x": 10, "y": 10}, endowment=5)
    assert "x" not in out.allocations["a"]


valuation = st.floats(min_value=0.0, max_value=10.0, allow_nan=False)


@st.composite
def auctions(draw: st.DrawFn) -> tuple[dict[str, dict[str, float]], dict[str, float], dict[str, Any]]:
    resources = [f"r{k}" for k in range(draw(st.integers(1, 3)))]
    agents = [f"a{k}" for k in range(draw(st.integers(1, 5)))]
    values = {a: {r: draw(valuation) for r in resources} for a in agents}
    supply = {r: draw(st.floats(min_value=1.0, max_value=500.0)) for r in resources}
    options = {
        "endowment": draw(st.floats(min_value=1.0, max_value=200.0)),
        "reserve_price": draw(st.floats(min_value=0.01, max_value=3.0)),
        "rate": draw(st.floats(min_value=0.05, max_value=1.0)),
        "tolerance": draw(st.sampled_from([0.001, 0.01, 0.05])),
        "max_rounds": draw(st.integers(1, 120)),
        "utility": draw(st.sampled_from(["linear", "cobb_douglas"])),
    }
    return values, supply, options


@settings(max_examples=150, deadline=None)
@given(auctions())
def test_allocation_is_feasible_and_affordable(case: Any) -> None:
    values, supply, options = case
    out = run_auction(values, supply, **options)
    for r, s in supply.items():
        assert sum(a.get(r, 0.0) for a in out.allocations.values()) <= s * (1 + 1e-9)
    for a, paid in out.payments.items():
        assert paid <= options["endowment"] * (1 + 1e-9)
        assert all(q >= 0 for q in out.allocations[a].values())
    assert all(p >= options["reserve_price"] for p in out.prices.values())
    assert len(out.rounds) == (len(out.rounds) if out.converged else options["max_rounds"])


@settings(max_examples=150, deadline=None)
@given(auctions())
def test_a_converged_auction_is_envy_free_within_its_tolerance(case: Any) -> None:
    values, supply, options = case
    tol = options["tolerance"]
    out = run_auction(values, supply, envy_tolerance=tol, **options)
    if out.converged:
        assert out.envy_violations == []
    # the law behind it: at convergence nobody's gap exceeds tolerance × its own utility
    strict = run_auction(values, supply, envy_tolerance=0.0, **options)
    if strict.converged:
        for i, j, gap in strict.envy_violations:
            assert gap <= tol * strict.utilities[i] * (1 + 1e-9) + 1e-9, (i, j, gap)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from("abcdef"), st.floats(0.0, 1e4), max_size=6), st.booleans())
def test_payments_move_money_without_creating_any(payments: dict[str, float], rebate: bool) -> None:
    entries = _payments("auction-1", payments, rebate=rebate)
    net: dict[str, float] = {}
    for e in entries:
        assert isinstance(e, Transfer) and e.amount > 0
        net[e.payer] = net.get(e.payer, 0.0) - e.amount
        net[e.payee] = net.get(e.payee, 0.0) + e.amount
    assert sum(net.values()) == pytest.approx(0.0, abs=1e-6)
    if rebate:
        assert net.get(PROCEEDS, 0.0) == pytest.approx(0.0, abs=1e-6)
    else:
        assert net.get(PROCEEDS, 0.0) == pytest.approx(sum(payments.values()), rel=1e-9)


def test_cobb_douglas_utility_is_zero_without_a_valued_resource() -> None:
    assert bundle_utility({"x": 1, "y": 1}, {"x": 5}, "cobb_douglas") == 0.0
    assert bundle_utility({"x": 1, "y": 1}, {"x": 4, "y": 4}, "cobb_douglas") == pytest.approx(4.0)


def test_strategic_agents_understate_all_but_their_top_value() -> None:
    true, told = agent_valuations(random.Random(1), ["x", "y", "z"], 0.5, 2.0, strategic=True, shading=0.5)
    top = max(true, key=lambda r: true[r])
    assert told[top] == true[top]
    assert all(told[r] == pytest.approx(true[r] * 0.5) for r in true if r != top)
    honest_true, honest_told = agent_valuations(
        random.Random(1), ["x", "y", "z"], 0.5, 2.0, strategic=False, shading=0.5
    )
    assert honest_told == honest_true == true


# ------------------------------------------------------------------ the component


def component(sc: Any, agents: dict[str, str]) -> DworkinAuction:
    return DworkinAuction(ComponentSetup(sc, sc.section("auction"), SoftPayoffEngine(sc.payoff), agents))


def test_a_bid_replaces_the_rule_and_unknown_resources_are_refused() -> None:
    sc = scenario({"resources": {"x": 10, "y": 10}, "utility": "cobb_douglas"})
    comp = component(sc, {"a": "honest", "b": "honest"})
    at = At(0, 0, 0)
    applied = comp.apply(
        at,
        [Turn(0, "a", AuctionBid({"x": 3.0})), Turn(1, "b", AuctionBid({"gold": 1.0}))],
        {},
    )
    assert isinstance(applied.events[0], AuctionBidReceived) and applied.events[0].valuations == {
        "x": 3.0,
        "y": 0.0,
    }
    assert isinstance(applied.events[1], ActionRejected) and "gold" in applied.events[1].reason
    cleared = comp.clear(at, ["a", "b"])
    final = [e for e in cleared.events if isinstance(e, AuctionCleared)]
    assert len(final) == 1 and "y" not in final[0].allocations["a"]  # a asked for x only
    view = comp.view(at)
    assert isinstance(view, AuctionView) and view.holding("a", "x") == final[0].allocations["a"]["x"]
    rounds = [e for e in cleared.events if isinstance(e, AuctionRound)]
    assert [e.round for e in rounds] == list(range(1, final[0].rounds + 1))
    shown = msgspec.to_builtins(DworkinAuction.prompt_view(view, "a"))
    assert shown["holdings"] == final[0].allocations["a"]  # an agent's prompt shows its own holdings only
    back = DworkinAuction.view_from_prompt(shown, "a")
    assert back.holding("a", "x") == view.holding("a", "x") and back.holding("b", "y") == 0.0


def test_a_run_logs_rounds_clearing_and_balanced_payments(tmp_path: Path) -> None:
    sc = scenario({"resources": {"x": 50, "y": 30}, "utility": "cobb_douglas", "max_rounds": 100}, epochs=2)
    result = run(sc, out_dir=tmp_path)
    _, events = read_log(tmp_path / "events.jsonl")
    cleared = [e for e in events if isinstance(e, AuctionCleared)]
    assert [e.epoch for e in cleared] == [0, 1]
    assert all(r["auction_rounds"] == c.rounds for r, c in zip(result.epochs, cleared, strict=True))
    for c in cleared:
        assert c.participants == 5 and c.converged and c.envy_violations == []
        rounds = [e for e in events if isinstance(e, AuctionRound) and e.auction_id == c.auction_id]
        assert len(rounds) == c.rounds
    moved = [
        e
        for e in events
        if isinstance(e, LedgerUpdated) and e.reason in ("auction_payment", "auction_rebate")
    ]
    assert moved and sum(e.resources_delta for e in moved) == pytest.approx(0.0, abs=1e-6)


def test_every_epochs_and_at_epochs_decide_when_it_runs(tmp_path: Path) -> None:
    sc = scenario({"every_epochs": None, "at_epochs": [1]}, epochs=3)
    run(sc, out_dir=tmp_path)
    _, events = read_log(tmp_path / "events.jsonl")
    assert [e.epoch for e in events if isinstance(e, AuctionCleared)] == [1]


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("resources", {}, "at least one resource"),
        ("resources", {"x": -1.0}, "above 0"),
        ("reserve_price", 0.0, "> 0"),
        ("price_adjustment_rate", 1.5, "<= 1"),
        ("max_rounds", 0, ">= 1"),
        ("value_low", 5.0, "value_high"),
        ("every_epochs", None, "interval or a list"),
        ("utility", "leontief", "linear"),
    ],
)
def test_bad_settings_name_the_key_and_what_is_expected(key: str, value: Any, expected: str) -> None:
    with pytest.raises(ScenarioError) as info:
        scenario({key: value})
    text = str(info.value)
    assert "auction." in text and expected in text


def test_the_shipped_scenario_loads_and_converges(tmp_path: Path) -> None:
    sc = load_scenario(ROOT / "scenarios" / "dworkin_auction.yaml", ["simulation.n_epochs=2"])
    result = run(sc, out_dir=tmp_path)
    assert "auction_converged" not in result.epochs[0]  # every other epoch: none at the first
    assert result.epochs[1]["auction_converged"] == 1.0
    assert result.epochs[1]["auction_envy_violations"] == 0


def test_llm_agents_can_bid_and_take_part(tmp_path: Path) -> None:
    import yaml

    from swarm.agents.llm_backend import LLMBackend
    from swarm.agents.llm_schema import action_choice, to_action

    choice = action_choice(("auction",)).model_validate(
        {"action": {"type": "auction_bid", "valuations": {"compute": 2.0}}, "reasoning": ""}
    )
    assert to_action(choice, ("auction",)) == AuctionBid({"compute": 2.0})
    data = yaml.safe_load((ROOT / "scenarios" / "llm_agents.yaml").read_text())
    data["auction"] = {"resources": {"compute": 20.0}}
    data["simulation"]["n_epochs"] = 1
    data["simulation"]["steps_per_epoch"] = 1
    sc = load_scenario(data)
    llm = [a for a, spec in sc.agent_ids() if spec.type == "llm"]
    run(sc, out_dir=tmp_path, llm_factory=LLMBackend(scripted=True))
    _, events = read_log(tmp_path / "events.jsonl")
    (cleared,) = [e for e in events if isinstance(e, AuctionCleared)]
    assert llm and all(a in cleared.allocations for a in llm)
