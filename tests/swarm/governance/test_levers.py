"""Each lever's rule, checked on its pure methods, plus money conservation and end-to-end logging."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm import run
from swarm.core.interaction import SoftInteraction
from swarm.core.payoff import PayoffConfig, SoftPayoffEngine
from swarm.errors import ScenarioError
from swarm.events import AgentFrozen, GovernanceApplied
from swarm.governance.audit import RandomAudit
from swarm.governance.circuit_breaker import CircuitBreaker
from swarm.governance.reputation import ReputationDecay
from swarm.governance.staking import Staking
from swarm.governance.tax import TransactionTax
from swarm.messages import AgentPublic
from swarm.metrics.epoch import EpochMetrics
from swarm.runtime.eventlog import read_log
from swarm.scenario import load_scenario
from tests.conftest import make_scenario


def ix(
    n: int, p: float, *, a: str = "a", b: str = "b", accepted: bool = True, tau: float = 0.0
) -> SoftInteraction:
    return SoftInteraction(
        interaction_id=f"ix-{n}", initiator=a, counterparty=b, accepted=accepted, p=p, tau=tau
    )


def pub(agent: str, rep: float = 0.0, res: float = 100.0, frozen: bool = False) -> AgentPublic:
    return AgentPublic(agent_id=agent, reputation=rep, resources=res, frozen=frozen)


def test_tax_uses_the_scenarios_surplus_and_splits_it() -> None:
    tax = TransactionTax(0.1, 0.6, "redistribute", PayoffConfig(s_plus=3.0, s_minus=1.5))
    costs, effects = tax.on_interactions(0, 0, [ix(1, 0.8, tau=1.0), ix(2, 0.2, accepted=False)])
    surplus = 0.8 * 3.0 - 0.2 * 1.5
    expected = 0.1 * (surplus + 1.0)
    assert costs["ix-1"] == pytest.approx((expected * 0.6, expected * 0.4))
    assert "ix-2" not in costs
    assert sum(e.amount for e in effects) == pytest.approx(expected)


@settings(max_examples=60, deadline=None)
@given(
    ps=st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=30),
    rate=st.floats(min_value=0.0, max_value=1.0),
    split=st.floats(min_value=0.0, max_value=1.0),
)
def test_tax_revenue_is_redistributed_not_destroyed(ps: list[float], rate: float, split: float) -> None:
    tax = TransactionTax(rate, split, "redistribute", PayoffConfig())
    agents = [pub(f"ag{k}") for k in range(4)]
    collected = 0.0
    for n, p in enumerate(ps):
        costs, _ = tax.on_interactions(0, n, [ix(n, p, a=f"ag{n % 4}", b=f"ag{(n + 1) % 4}")])
        collected += sum(a + b for a, b in costs.values())
    rebates = tax.epoch_end(0, EpochMetrics(epoch=0), agents)
    assert sum(e.amount for e in rebates) == pytest.approx(collected, abs=1e-9)
    assert tax.collected == 0.0


def test_reputation_decays_toward_zero_from_the_second_epoch() -> None:
    decay = ReputationDecay(0.9)
    assert decay.epoch_start(0, [pub("a", 5.0)]) == []
    (effect,) = decay.epoch_start(1, [pub("a", 5.0), pub("b", 0.0)])
    assert effect.agent_id == "a" and effect.amount == pytest.approx(-0.5)


def test_staking_takes_a_real_deposit_and_blocks_agents_below_the_minimum() -> None:
    stake = Staking(10.0, 0.5, 0.35)
    deposits = stake.epoch_start(0, [pub("a"), pub("poor", res=5.0)])
    assert [(e.agent_id, e.amount) for e in deposits] == [("a", -10.0)]
    blocked = stake.blocked(0, 0, [pub("a"), pub("poor", res=5.0)])
    assert list(blocked) == ["poor"] and "below 10" in blocked["poor"]
    _, effects = stake.on_interactions(0, 1, [ix(1, 0.2, a="a", b="victim")])
    slash = next(e for e in effects if e.kind == "flag")
    restitution = next(e for e in effects if e.kind == "resources")
    assert (
        slash.amount == pytest.approx(5.0)
        and restitution.agent_id == "victim"
        and restitution.amount == pytest.approx(5.0)
    )
    assert "a" in stake.blocked(0, 2, [pub("a")])
    top_up = stake.epoch_start(1, [pub("a", res=90.0)])
    assert top_up[0].amount == pytest.approx(-5.0) and "a" not in stake.blocked(1, 0, [pub("a")])


def test_circuit_breaker_freezes_agent_over_toxicity_threshold() -> None:
    breaker = CircuitBreaker(threshold=0.55, violations=2, duration=2, window=5)
    effects = []
    for n in range(5):
        _, e = breaker.on_interactions(3, n, [ix(n, 0.3, a="bad", b="victim")])
        effects.extend(e)
    freezes = [e for e in effects if e.kind == "freeze"]
    assert freezes and all(e.agent_id == "bad" for e in effects)
    assert freezes[0].until_epoch == 3 + 2 + 1


def test_circuit_breaker_ignores_good_and_rejected_interactions() -> None:
    breaker = CircuitBreaker(threshold=0.55, violations=1, duration=1, window=5)
    for n in range(10):
        _, good = breaker.on_interactions(0, n, [ix(n, 0.8), ix(100 + n, 0.1, accepted=False)])
        assert good == []


def test_audit_penalty_applied_once_per_evidence() -> None:
    audit = RandomAudit(1.0, 0.5, 2.0, random.Random(0))
    bad = ix(1, 0.3)
    costs1, e1 = audit.on_interactions(0, 0, [bad])
    costs2, e2 = audit.on_interactions(0, 1, [bad])
    assert costs1 == {"ix-1": (pytest.approx(0.4), 0.0)}
    assert costs2 == {} and e2 == []
    assert {e.kind for e in e1} == {"cost", "reputation"}
    assert all(e.confidence == pytest.approx(0.4) for e in e1)


def test_audits_never_freeze_or_block() -> None:
    audit = RandomAudit(1.0, 0.9, 5.0, random.Random(0))
    _, effects = audit.on_interactions(0, 0, [ix(n, 0.6) for n in range(50)])
    assert {e.kind for e in effects} <= {"cost", "reputation", "audit"}
    assert audit.blocked(0, 0, [pub("a")]) == {}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("transaction_tax_rate", -0.1),
        ("audit_probability", 1.5),
        ("freeze_threshold_violations", 0),
        ("stake_slash_rate", 2),
        ("tax_destination", "void"),
        ("no_such_lever", True),
    ],
)
def test_invalid_lever_values_are_rejected_at_load(key: str, value: object) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario({"agents": [{"type": "honest"}], "governance": {key: value}})
    assert info.value.key == f"governance.{key}"


def test_every_lever_effect_is_logged_with_amount_and_reason(tmp_path: Path) -> None:
    sc = make_scenario(
        honest=3,
        opportunistic=2,
        adversarial=2,
        epochs=4,
        steps=6,
        seed=5,
        governance={
            "transaction_tax_rate": 0.1,
            "reputation_decay_rate": 0.9,
            "audit_enabled": True,
            "audit_probability": 0.5,
            "staking_enabled": True,
            "min_stake_to_participate": 5.0,
            "circuit_breaker_enabled": True,
        },
    )
    run(sc, out_dir=tmp_path)
    _, events = read_log(tmp_path / "events.jsonl")
    applied = [e for e in events if isinstance(e, GovernanceApplied)]
    assert {e.lever for e in applied} >= {"transaction_tax", "reputation_decay", "random_audit", "staking"}
    assert all(e.reason for e in applied)
    assert not any(isinstance(e, AgentFrozen) and e.agent_id.startswith("honest") for e in events)


def test_tax_only_run_conserves_money(tmp_path: Path) -> None:
    """With a tax redistributed at epoch end, all resources stay where payoffs and rebates put them."""
    sc = make_scenario(honest=3, opportunistic=1, epochs=3, steps=5, governance={"transaction_tax_rate": 0.2})
    result = run(sc, out_dir=tmp_path)
    _, events = read_log(tmp_path / "events.jsonl")
    engine = SoftPayoffEngine(sc.payoff)
    paid = sum(
        sum(engine.payoffs(e.interaction))
        for e in events
        if e.type == "interaction_completed" and e.interaction.accepted
    )
    costs = sum(e.interaction.c_a + e.interaction.c_b for e in events if e.type == "interaction_completed")
    rebates = sum(e.amount for e in events if isinstance(e, GovernanceApplied) and e.effect == "resources")
    bounties = sum(e.bounty_paid for e in events if e.type == "task_closed")
    total = sum(a.resources for a in result.agents)
    assert total == pytest.approx(100.0 * 4 + paid + rebates + bounties)
    assert rebates == pytest.approx(costs)
