"""LLM agents in the economies: they see them, bid, join and trade; bad replies fail only the agent."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import anyio
import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters import ScriptedAdapter
from swarm import Simulation, load_scenario
from swarm.actions import Action
from swarm.agents.llm import LLMPolicy, scenario_components
from swarm.agents.llm_backend import LLMBackend
from swarm.agents.llm_economies import book_strategy, without_full_missions
from swarm.agents.llm_responder import scripted_answer
from swarm.agents.llm_schema import action_choice, to_action
from swarm.env.auction import AuctionBid, AuctionView
from swarm.env.orderbook import BookTop, MarketRules, OrderBookView, PlaceOrder
from swarm.views import AgentPublic, Observation, Snapshot
from tests.conftest import ROOT

SCENARIO = ROOT / "scenarios" / "llm_economies.yaml"
CASSETTE = ROOT / "scenarios" / "cassettes" / "llm_economies.jsonl"
KEYS = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL")


def _events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()[1:]]


def _llm_agents(events: list[dict[str, Any]]) -> set[str]:
    return {e["agent_id"] for e in events if e["type"] == "agent_created" and e["agent_type"] == "llm"}


async def _run(scenario: Any, out: Path, factory: Any) -> Any:
    async with Simulation(scenario, out_dir=out, llm_factory=factory) as sim:
        return await sim.wait()


# ------------------------------------------------------------------ whole runs


def test_llm_agents_see_the_economies_and_bid_join_and_trade(tmp_path: Path) -> None:
    prompts: list[str] = []
    backend = LLMBackend(scripted=True)

    def spying(agent_id: str, spec: Any, scenario: Any) -> Any:
        policy: Any = backend(agent_id, spec, scenario)
        inner = policy.adapter

        class Spy:
            async def complete(self, request: Any) -> Any:
                prompts.append(request.system + request.user)
                return await inner.complete(request)

        policy.adapter = Spy()
        return policy

    anyio.run(_run, load_scenario(SCENARIO), tmp_path, spying)
    assert all("auction_bid" in p and "place_order" in p and "join_mission" in p for p in prompts)
    act = [p for p in prompts if "Choose your action" in p]
    assert act and all('"your_values":{"compute"' in p and '"rules":{"reference_price"' in p for p in act)
    events = _events(tmp_path / "events.jsonl")
    llm = _llm_agents(events)
    assert len(llm) == 3
    by_type: dict[str, set[str]] = {}
    for e in events:
        if e.get("agent_id") in llm:
            by_type.setdefault(e["type"], set()).add(e["agent_id"])
    assert by_type["auction_bid_received"] == llm  # every LLM agent bid before the first auction
    assert by_type["order_placed"] and by_type["mission_joined"]
    cleared = [e for e in events if e["type"] == "auction_cleared"]
    assert cleared and all(llm <= set(e["allocations"]) for e in cleared)
    bids = {e["agent_id"]: e["valuations"] for e in events if e["type"] == "auction_bid_received"}
    orders = [e for e in events if e["type"] == "order_placed"]
    assert all(e["agent_id"] in llm for e in orders)  # the algorithmic traders' orders are not logged
    assert all(set(v) == {"compute", "storage"} for v in bids.values())


def test_malformed_economy_replies_fail_the_agent_and_the_run_goes_on(tmp_path: Path) -> None:
    def order(**fields: Any) -> str:
        return json.dumps({"action": {"type": "place_order", "resource": "compute", "quantity": 1} | fields})

    bad = {
        0: '{"action": {"type": "auction_bid", "valuations": {"compute": -1.0, "storage": 1.0}}}',
        1: order(side="hold", price=9),
        2: order(side="buy", price="NaN"),
        3: '{"action": {"type": "join_mission"}}',
        4: order(side="buy", price=9, resource="gold"),
        5: '{"action": {"type": "auction_bid", "valuations": {"gold": 1.0}}}',
        6: "I would like to buy some compute.",
    }
    expected_failures = {
        0: "action.auction_bid.valuations.compute: Input should be greater than or equal to 0",
        1: "action.place_order.side: Input should be 'buy' or 'sell'",
        2: "action.place_order.price: Input should be a finite number",
        3: "action.join_mission.mission_id: Field required",
        6: "Invalid JSON",
    }
    expected_rejections = {4: "no book for resource 'gold'", 5: "unknown resource gold"}

    def reply(request: Any) -> Any:
        meta = request.metadata
        if meta["agent_id"] != "raider_1" or meta["phase"] != "act":
            return scripted_answer(request.system, request.user, request.schema.__name__)
        return bad[(int(meta["epoch"]) * 3 + int(meta["step"])) % len(bad)]

    def factory(agent_id: str, spec: Any, scenario: Any) -> LLMPolicy:
        return LLMPolicy(
            agent_id,
            ScriptedAdapter(reply),
            model="m",
            persona=spec.llm.persona,
            components=scenario_components(scenario),
        )

    result = anyio.run(_run, load_scenario(SCENARIO), tmp_path, factory)
    assert result.reason == "completed"
    events = _events(tmp_path / "events.jsonl")
    failed = [e for e in events if e["type"] == "policy_failed"]
    rejected = [e for e in events if e["type"] == "action_rejected" and e["agent_id"] == "raider_1"]
    assert {e["agent_id"] for e in failed} == {"raider_1"}
    for slot, text in expected_failures.items():
        at = [e for e in failed if e["epoch"] * 3 + e["step"] == slot]
        assert len(at) == 1 and text in at[0]["cause"] and "InvalidOutput" in at[0]["cause"], (slot, at)
    for slot, text in expected_rejections.items():
        at = [e for e in rejected if e["epoch"] * 3 + e["step"] == slot]
        assert len(at) == 1 and text in at[0]["reason"], (slot, at)
    others = _llm_agents(events) - {"raider_1"}
    assert {e["agent_id"] for e in events if e["type"] == "auction_bid_received"} == others


def test_the_shipped_cassette_replays_the_scenario_as_the_double_plays_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in KEYS:
        monkeypatch.delenv(var, raising=False)
    assert CASSETTE.stat().st_size < 300_000
    scenario = load_scenario(SCENARIO)
    anyio.run(_run, scenario, tmp_path / "replay", LLMBackend(replay=str(CASSETTE)))
    anyio.run(_run, scenario, tmp_path / "double", LLMBackend(scripted=True))
    replayed = _events(tmp_path / "replay" / "events.jsonl")
    assert replayed[-1]["reason"] == "completed"
    assert not [e for e in replayed if e["type"] == "policy_failed"]
    assert {e["agent_id"] for e in replayed if e["type"] == "auction_bid_received"} == _llm_agents(replayed)

    def acts(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Everything but the calls' tokens and costs (the mock provider and the double count them apart)."""
        out = []
        for e in events:
            if e["type"] == "llm_call":
                continue
            e = {k: v for k, v in e.items() if k not in ("seq", "wall_clock")}
            if e["type"] == "epoch_completed":
                e["metrics"] = {k: v for k, v in e["metrics"].items() if not k.startswith("llm_")}
            out.append(e)
        return out

    # the cassette was recorded from the double through the mock provider: it still plays the same run
    assert acts(replayed) == acts(_events(tmp_path / "double" / "events.jsonl"))


# ------------------------------------------------------------------ the double, request by request

_COMPONENTS = scenario_components(load_scenario(SCENARIO))
_RULES = MarketRules(reference_price=10.0, ticks_per_step=20, batch_interval_ticks=5, order_ttl_ticks=20)


def _double(persona: str, views: dict[Any, Any], *, cash: float = 100.0, step: int = 0) -> Action:
    """What the scripted double answers an LLM agent asked to act, through the real prompt and schema."""
    adapter = ScriptedAdapter(lambda r: scripted_answer(r.system, r.user, r.schema.__name__))
    policy = LLMPolicy("llm_1", adapter, model="m", persona=persona, components=_COMPONENTS)  # type: ignore[arg-type]
    me = AgentPublic("llm_1", 0.0, cash)
    action: Action = anyio.run(policy.decide, Observation("llm_1", me, Snapshot(0, step, (me,), views)))
    return action


def _auction(bid: dict[str, float] | None = None, next_epoch: int | None = 0) -> AuctionView:
    values = {"compute": 1.5, "storage": 0.8}
    return AuctionView(
        {},
        {},
        0,
        {"compute": 60.0, "storage": 30.0},
        100.0,
        next_epoch,
        {"llm_1": values},
        {"llm_1": bid} if bid else {},
    )


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("honest", {"compute": 1.5, "storage": 0.8}),
        ("open", {"compute": 1.5, "storage": 0.8}),
        ("strategic", {"compute": 1.5, "storage": 0.4}),
        ("adversarial", {"compute": 1.5, "storage": 0.4}),
    ],
)
def test_the_double_bids_its_values_once_shading_them_as_its_scripted_type_does(
    persona: str, expected: dict[str, float]
) -> None:
    assert _double(persona, {AuctionView: _auction()}) == AuctionBid(expected)
    for step in range(6):  # it has bid, or no auction is left: it does something else
        assert not isinstance(_double(persona, {AuctionView: _auction(bid=expected)}, step=step), AuctionBid)
        assert not isinstance(
            _double(persona, {AuctionView: _auction(next_epoch=None)}, step=step), AuctionBid
        )


def test_each_persona_plays_its_order_book_strategy() -> None:
    assert book_strategy("adversarial", "x") == "manipulator"
    assert book_strategy("strategic", "x") == book_strategy("opportunistic", "y") == "momentum"
    assert book_strategy("deceptive", "x") == "value"
    honest = {book_strategy("honest", f"llm_{i}") for i in range(20)}
    assert honest == {"market_maker", "value"}
    assert all(book_strategy("honest", f"llm_{i}") == book_strategy("honest", f"llm_{i}") for i in range(5))


def test_the_double_answers_the_same_request_the_same_way() -> None:
    views = {AuctionView: _auction(bid={"compute": 1.5, "storage": 0.8}), OrderBookView: _book(10.0, 5.0)}
    for persona in ("honest", "adversarial"):
        answers = [_double(persona, views, step=s) for s in range(6)]
        assert answers == [_double(persona, views, step=s) for s in range(6)]
        assert any(isinstance(a, PlaceOrder) for a in answers)  # it trades in some steps...
        assert not all(isinstance(a, PlaceOrder) for a in answers)  # ...not in all


def test_the_double_is_not_shown_full_missions_but_its_own() -> None:
    from swarm.agents.llm import ObservationDoc

    def mission(mid: str, members: list[str]) -> dict[str, Any]:
        return {"mission_id": mid, "members": members, "max_team": 2}

    me = AgentPublic("a", 0.0, 10.0)
    world = {
        "missions": {"missions": [mission("m1", ["x", "y"]), mission("m2", ["a", "y"]), mission("m3", ["x"])]}
    }
    doc = ObservationDoc("a", 0, 0, me, [], [], world, {})
    shown = without_full_missions(doc).world["missions"]["missions"]
    assert [m["mission_id"] for m in shown] == ["m2", "m3"]


def _book(price: float, held: float, recent: tuple[float, ...] = (), tick: int = 40) -> OrderBookView:
    top = BookTop(price, price * 0.99, price * 1.01, 4.0, 4.0, False, recent)
    return OrderBookView(tick, {"compute": top}, {"llm_1": {"compute": held}}, {}, _RULES)


@settings(max_examples=40, deadline=None)
@given(
    persona=st.sampled_from(["honest", "open", "strategic", "deceptive", "adversarial"]),
    price=st.floats(0.5, 50.0),
    held=st.floats(0.0, 40.0),
    cash=st.floats(0.0, 200.0),
    moves=st.lists(st.floats(-0.05, 0.05), min_size=0, max_size=5),
    tick=st.integers(0, 400),
    step=st.integers(0, 5),
)
def test_the_doubles_orders_are_valid_and_honest_traders_only_offer_what_they_have(
    persona: str, price: float, held: float, cash: float, moves: list[float], tick: int, step: int
) -> None:
    recent = tuple(price * (1 + m) for m in moves)
    bid = {"compute": 1.0, "storage": 1.0}
    action = _double(
        persona,
        {AuctionView: _auction(bid=bid), OrderBookView: _book(price, held, recent, tick)},
        cash=cash,
        step=step,
    )
    choice = action_choice(_COMPONENTS).model_validate({"action": msgspec.to_builtins(action)})
    assert to_action(choice, _COMPONENTS) == action
    if not isinstance(action, PlaceOrder):
        return
    assert math.isfinite(action.price) and action.price > 0 and action.quantity > 0
    spoof = (
        book_strategy(persona, "llm_1") == "manipulator" and action.side == "sell" and action.price > price
    )
    if spoof:  # the manipulator's spoof expires before the next clearing: it never trades
        assert action.ttl_ticks is not None and tick + action.ttl_ticks < (tick // 5 + 1) * 5
    elif action.side == "sell":
        assert action.quantity <= held
    else:
        assert action.price * action.quantity <= cash + 1e-3  # (prices are rounded to 4 decimals)


@settings(max_examples=60, deadline=None)
@given(
    values=st.dictionaries(
        st.sampled_from(["compute", "storage"]),
        st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 5)),
        max_size=2,
    ),
    price=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 3)),
)
def test_a_reply_the_schema_accepts_is_an_action_the_kernel_accepts(
    values: dict[str, float], price: float
) -> None:
    schema = action_choice(_COMPONENTS)
    for action in (
        {"type": "auction_bid", "valuations": values},
        {"type": "place_order", "resource": "compute", "side": "buy", "price": price, "quantity": 1.0},
    ):
        try:
            choice = schema.model_validate_json(json.dumps({"action": action}))
        except ValueError:
            continue
        converted = to_action(choice, _COMPONENTS)  # never raises for what the schema let through
        assert msgspec.to_builtins(converted)["type"] == action["type"]


def test_the_auction_tells_each_agent_its_values_its_bid_and_when_it_runs() -> None:
    from swarm.core.payoff import SoftPayoffEngine
    from swarm.env.auction import DworkinAuction
    from swarm.kernel.component import At, Setup, Turn

    scenario = load_scenario(SCENARIO, ["auction.every_epochs=2", "simulation.n_epochs=3"])
    agents = {agent: spec.type for agent, spec in scenario.agent_ids()}
    auction = DworkinAuction(Setup(scenario, scenario.section("auction"), SoftPayoffEngine(), agents))
    first, last = At(0, 0, 0), At(2, 0, 6)  # due at the end of epoch 1 only
    shown = DworkinAuction.prompt_view(auction.view(first), "trader_1")
    assert shown.next_auction_epoch == 1 and shown.your_bid is None and shown.endowment == 100.0
    assert shown.your_values == auction.true_values["trader_1"] and set(shown.resources) == {
        "compute",
        "storage",
    }
    assert DworkinAuction.prompt_view(auction.view(last), "trader_1").next_auction_epoch is None
    auction.apply(first, [Turn(0, "trader_1", AuctionBid({"compute": 2.0}))], {})
    mine = DworkinAuction.prompt_view(auction.view(first), "trader_1")
    assert mine.your_bid == {"compute": 2.0, "storage": 0.0}
    assert DworkinAuction.prompt_view(auction.view(first), "raider_1").your_bid is None
    rebuilt = DworkinAuction.view_from_prompt(msgspec.to_builtins(mine), "trader_1")
    assert DworkinAuction.prompt_view(rebuilt, "trader_1") == mine
