"""Each lever's rule on its hooks, what its effects move in the ledger, the scenario rules for its
keys, the engine that runs the levers, and every lever end to end through a logged run."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actors import ActorSystem
from swarm import Simulation, run
from swarm.actions import NOOP, Action, Conduct
from swarm.core.interaction import SoftInteraction
from swarm.core.payoff import SoftPayoffEngine
from swarm.env.broker import Propose
from swarm.env.feed import CreatePost, PostCreated
from swarm.errors import ScenarioError
from swarm.events import (
    ActionRejected,
    AgentFrozen,
    AgentUnfrozen,
    Event,
    InteractionCompleted,
    LedgerUpdated,
)
from swarm.governance.audit import AuditConfig, RandomAudit
from swarm.governance.circuit_breaker import BreakerConfig, CircuitBreaker
from swarm.governance.effects import Cost, Effect, Evidence, FreezeOrder, ReputationChange, ResourceChange
from swarm.governance.lever import LEVERS, build_governance, levers_in_order
from swarm.governance.moderator import Moderator, ModeratorConfig
from swarm.governance.notices import (
    AuditNotice,
    BreakerNotice,
    ModeratorNotice,
    StakingNotice,
    TaxNotice,
    TransparencyNotice,
)
from swarm.governance.reputation import DecayConfig, ReputationDecay
from swarm.governance.staking import STAKES, Staking, StakingConfig
from swarm.governance.tax import REVENUE, TREASURY, TaxConfig, TransactionTax
from swarm.governance.transparency import WINDOW, TransparencyConfig, TransparencyLedger
from swarm.kernel.component import At, Setup, Turn
from swarm.kernel.ledger import LedgerBooks
from swarm.money import Burn, Freeze, Mint, Reputation, Transfer
from swarm.runtime.eventlog import decode_event, encode_event, read_log
from swarm.scenario import Scenario, load_scenario
from swarm.views import AgentPublic, Observation
from tests.conftest import make_scenario

# ----------------------------------------------------------------------------- helpers


def setup_of(scenario: Scenario | None = None) -> Setup:
    sc = scenario or make_scenario()
    return Setup(sc, None, SoftPayoffEngine(sc.payoff), {a: spec.type for a, spec in sc.agent_ids()})


def at(epoch: int, step: int = 0) -> At:
    return At(epoch, step, epoch * 10 + step)


def ix(
    n: int, p: float, *, a: str = "a", b: str = "b", accepted: bool = True, tau: float = 0.0
) -> SoftInteraction:
    return SoftInteraction(
        interaction_id=f"ix-{n}", initiator=a, counterparty=b, accepted=accepted, p=p, tau=tau
    )


def pub(agent: str, rep: float = 0.0, res: float = 100.0, frozen: bool = False) -> AgentPublic:
    return AgentPublic(agent_id=agent, reputation=rep, resources=res, frozen=frozen)


def audit(
    probability: float = 1.0, threshold: float = 0.5, multiplier: float = 2.0, seed: int = 7
) -> RandomAudit:
    config = AuditConfig(
        audit_enabled=True,
        audit_probability=probability,
        audit_threshold_p=threshold,
        audit_penalty_multiplier=multiplier,
    )
    return RandomAudit(config, setup_of(make_scenario(seed=seed)))


def breaker(
    threshold: float = 0.55, violations: int = 2, duration: int = 2, window: int = 5
) -> CircuitBreaker:
    config = BreakerConfig(
        circuit_breaker_enabled=True,
        freeze_threshold_toxicity=threshold,
        freeze_threshold_violations=violations,
        freeze_duration_epochs=duration,
        breaker_window=window,
    )
    return CircuitBreaker(config, setup_of())


def tax(
    rate: float, split: float = 0.5, destination: str = "redistribute", **payoff: float
) -> TransactionTax:
    config = TaxConfig(transaction_tax_rate=rate, transaction_tax_split=split, tax_destination=destination)
    scenario = make_scenario(payoff=payoff) if payoff else make_scenario()
    return TransactionTax(config, setup_of(scenario))


def logged_run(tmp_path: Path, scenario: Scenario, **kwargs: Any) -> list[Event]:
    run(scenario, out_dir=tmp_path, **kwargs)
    _, events = read_log(tmp_path / "events.jsonl")
    return events


def effects_of(events: Sequence[Event], lever: str, kind: type[Effect] = Effect) -> list[Any]:
    return [e for e in events if isinstance(e, kind) and e.lever == lever]


BAD = Conduct(effort=-1.0, facade=0.0, sloppiness=1.0, defects=1.0, misuse=1.0, engagement=-1.0)
GOOD = Conduct(effort=1.0, sloppiness=0.0, engagement=1.0)


class Probe:
    """A custom policy that records every step it is asked to act at, accepts every proposal, and
    each step proposes to ``target`` with ``conduct``, or posts (``post``), or does nothing."""

    kind = "probe"

    def __init__(self, *, target: str | None = None, conduct: Conduct = GOOD, post: bool = False) -> None:
        self.target = target
        self._conduct = conduct
        self.post = post
        self.acted: list[tuple[int, int]] = []
        self.seen: list[tuple[int, int, dict[str, float] | None]] = []

    @property
    def conduct(self) -> Conduct:
        return self._conduct

    def decide(self, observation: Observation) -> Action:
        self.acted.append((observation.epoch, observation.step))
        notice = observation.view(TransparencyNotice)
        self.seen.append(
            (observation.epoch, observation.step, dict(notice.track_records) if notice is not None else None)
        )
        if self.post:
            return CreatePost(content="hello")
        if self.target is None:
            return NOOP
        return Propose(counterparty=self.target, conduct=self._conduct)

    def accept(self, observation: Observation, proposal: object) -> bool:
        return True

    def observe(self, outcome: object) -> None:
        pass


def all_steps(scenario: Scenario) -> list[tuple[int, int]]:
    sim = scenario.simulation
    return [(e, s) for e in range(sim.n_epochs) for s in range(sim.steps_per_epoch)]


# ------------------------------------------------------------------ transaction tax


def test_tax_uses_the_scenarios_surplus_and_splits_it() -> None:
    lever = tax(0.1, 0.6, s_plus=3.0, s_minus=1.5)
    effects = lever.on_interactions(at(0), [ix(1, 0.8, tau=1.0), ix(2, 0.2, accepted=False)])
    surplus = 0.8 * 3.0 - 0.2 * 1.5
    expected = 0.1 * (surplus + 1.0)
    assert all(type(e) is Cost and e.interaction_id == "ix-1" and e.account == REVENUE for e in effects)
    assert {e.agent_id: e.amount for e in effects} == {
        "a": pytest.approx(expected * 0.6),
        "b": pytest.approx(expected * 0.4),
    }
    rebates = lever.epoch_end(at(0, 5), [pub("a"), pub("b"), pub("c")])
    assert all(type(e) is ResourceChange and e.account == REVENUE for e in rebates)
    assert sum(e.amount for e in rebates) == pytest.approx(expected)


def test_tax_on_a_harmful_interaction_counts_only_the_transfer() -> None:
    lever = tax(0.5)
    (cost_a, cost_b) = lever.on_interactions(at(0), [ix(1, 0.0, tau=2.0)])
    assert cost_a.amount + cost_b.amount == pytest.approx(0.5 * 2.0)
    assert lever.on_interactions(at(0), [ix(2, 0.0)]) == []


@settings(max_examples=60, deadline=None)
@given(
    ps=st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=30),
    rate=st.floats(min_value=0.0, max_value=1.0),
    split=st.floats(min_value=0.0, max_value=1.0),
)
def test_tax_revenue_is_redistributed_not_destroyed(ps: list[float], rate: float, split: float) -> None:
    lever = tax(rate, split)
    agents = [pub(f"ag{k}") for k in range(4)]
    collected = 0.0
    for n, p in enumerate(ps):
        costs = lever.on_interactions(at(0, n), [ix(n, p, a=f"ag{n % 4}", b=f"ag{(n + 1) % 4}")])
        assert all(e.amount > 0 for e in costs)
        collected += sum(e.amount for e in costs)
    rebates = lever.epoch_end(at(0, 30), agents)
    assert sum(e.amount for e in rebates) == pytest.approx(collected, abs=1e-9)
    assert len({round(e.amount, 12) for e in rebates}) <= 1
    assert lever.epoch_end(at(1, 30), agents) == []


def test_tax_revenue_is_shared_only_among_unfrozen_agents() -> None:
    lever = tax(0.2)
    lever.on_interactions(at(0), [ix(1, 0.9)])
    rebates = lever.epoch_end(at(0, 5), [pub("a"), pub("b", frozen=True), pub("c")])
    assert [e.agent_id for e in rebates] == ["a", "c"]
    assert rebates[0].amount == pytest.approx(rebates[1].amount)


@pytest.mark.parametrize(("destination", "account"), [("treasury", TREASURY), ("burn", None)])
def test_tax_kept_in_the_treasury_or_burned_is_never_shared_out(
    destination: str, account: str | None
) -> None:
    lever = tax(0.2, destination=destination)
    costs = lever.on_interactions(at(0), [ix(1, 0.9)])
    assert costs and all(e.account == account for e in costs)
    assert lever.epoch_end(at(0, 5), [pub("a"), pub("b")]) == []


# --------------------------------------------------------------- reputation decay


def test_reputation_decays_toward_zero_from_the_second_epoch() -> None:
    decay = ReputationDecay(DecayConfig(reputation_decay_rate=0.9), setup_of())
    assert decay.epoch_start(at(0), [pub("a", 5.0)]) == []
    (effect,) = decay.epoch_start(at(1), [pub("a", 5.0), pub("b", 0.0)])
    assert type(effect) is ReputationChange
    assert effect.agent_id == "a" and effect.amount == pytest.approx(-0.5)


@settings(max_examples=60, deadline=None)
@given(
    rate=st.floats(min_value=0.0, max_value=1.0),
    reputation=st.floats(min_value=-50.0, max_value=50.0),
    epochs=st.integers(min_value=1, max_value=6),
)
def test_decay_scales_every_reputation_by_the_rate_each_epoch(
    rate: float, reputation: float, epochs: int
) -> None:
    decay = ReputationDecay(DecayConfig(reputation_decay_rate=rate), setup_of())
    r = reputation
    for epoch in range(1, epochs + 1):
        for effect in decay.epoch_start(at(epoch), [pub("a", r)]):
            r += effect.amount
    assert r == pytest.approx(reputation * rate**epochs, abs=1e-9)
    assert abs(r) <= abs(reputation) + 1e-9


# ----------------------------------------------------------------------- staking


def test_staking_takes_a_real_deposit_and_blocks_agents_below_the_minimum() -> None:
    config = StakingConfig(staking_enabled=True, min_stake_to_participate=10.0, stake_slash_rate=0.5)
    stake = Staking(config, setup_of())
    deposits = stake.epoch_start(at(0), [pub("a"), pub("poor", res=5.0)])
    assert [(e.agent_id, e.amount, e.account) for e in deposits] == [("a", -10.0, STAKES)]
    blocked = stake.blocked(at(0), [pub("a"), pub("poor", res=5.0)])
    assert list(blocked) == ["poor"] and "below 10" in blocked["poor"]
    effects = stake.on_interactions(at(0, 1), [ix(1, 0.2, a="a", b="victim")])
    (slash,) = [e for e in effects if type(e) is Evidence]
    (restitution,) = [e for e in effects if type(e) is ResourceChange]
    assert slash.finding == "stake_slashed" and slash.agent_id == "a" and slash.amount == pytest.approx(5.0)
    assert restitution.agent_id == "victim" and restitution.account == STAKES
    assert restitution.amount == pytest.approx(5.0)
    assert "a" in stake.blocked(at(0, 2), [pub("a")])
    top_up = stake.epoch_start(at(1), [pub("a", res=90.0)])
    assert top_up[0].amount == pytest.approx(-5.0) and "a" not in stake.blocked(at(1), [pub("a")])


def test_staking_slashes_nothing_for_good_or_rejected_work() -> None:
    stake = Staking(StakingConfig(staking_enabled=True, min_stake_to_participate=10.0), setup_of())
    stake.epoch_start(at(0), [pub("a")])
    assert stake.on_interactions(at(0), [ix(1, 0.9), ix(2, 0.1, accepted=False)]) == []
    assert stake.blocked(at(0, 1), [pub("a")]) == {}


# --------------------------------------------------------------- circuit breaker


def test_circuit_breaker_freezes_agent_over_toxicity_threshold() -> None:
    lever = breaker(threshold=0.55, violations=2, duration=2, window=5)
    effects = []
    for n in range(5):
        effects.extend(lever.on_interactions(at(3, n), [ix(n, 0.3, a="bad", b="victim")]))
    freezes = [e for e in effects if type(e) is FreezeOrder]
    assert freezes and all(e.agent_id == "bad" for e in effects)
    assert freezes[0].until_epoch == 3 + 2 + 1
    assert [e.finding for e in effects if type(e) is Evidence] == ["violation", "violation"]


def test_a_freeze_restarts_the_circuit_breakers_count() -> None:
    lever = breaker(violations=2, window=5)
    frozen_at = []
    for n in range(8):
        if any(type(e) is FreezeOrder for e in lever.on_interactions(at(0, n), [ix(n, 0.1, a="bad")])):
            frozen_at.append(n)
    # three interactions fill the window, two violations freeze, and the window starts over
    assert frozen_at == [3, 7]


def test_circuit_breaker_ignores_good_and_rejected_interactions() -> None:
    lever = breaker(threshold=0.55, violations=1, duration=1, window=5)
    for n in range(10):
        assert lever.on_interactions(at(0, n), [ix(n, 0.8), ix(100 + n, 0.1, accepted=False)]) == []


# ---------------------------------------------------------------------- audits


def test_audit_penalty_applied_once_per_evidence() -> None:
    lever = audit(1.0, 0.5, 2.0)
    bad = ix(1, 0.3)
    first = lever.on_interactions(at(0), [bad])
    assert lever.on_interactions(at(0, 1), [bad]) == []
    assert {type(e) for e in first} == {Cost, ReputationChange}
    (cost,) = [e for e in first if type(e) is Cost]
    (rep,) = [e for e in first if type(e) is ReputationChange]
    assert cost.amount == pytest.approx(0.4) and cost.account is None and cost.interaction_id == "ix-1"
    assert rep.amount == pytest.approx(-0.4) and rep.agent_id == "a"
    assert all(e.confidence == pytest.approx(0.4) for e in first)


def test_audits_never_freeze_or_block() -> None:
    lever = audit(1.0, 0.9, 5.0)
    effects = lever.on_interactions(at(0), [ix(n, 0.6) for n in range(50)])
    assert effects and {type(e) for e in effects} <= {Cost, ReputationChange, Evidence}
    assert lever.blocked(at(0), [pub("a")]) == {}


def test_a_passed_audit_is_evidence_that_costs_nothing() -> None:
    (effect,) = audit().on_interactions(at(0), [ix(1, 0.7), ix(2, 0.1, accepted=False)])
    assert type(effect) is Evidence and effect.finding == "audit_passed" and effect.interaction_id == "ix-1"
    assert effect.entries() == []


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(min_value=0, max_value=10_000), probability=st.floats(min_value=0.05, max_value=0.95))
def test_which_interactions_are_audited_depends_only_on_the_seed(seed: int, probability: float) -> None:
    batch = [ix(n, 0.2) for n in range(40)]
    one = audit(probability, seed=seed).on_interactions(at(0), batch)
    two = audit(probability, seed=seed).on_interactions(at(0), batch)
    assert one == two


def test_runs_with_other_seeds_audit_other_interactions() -> None:
    batch = [ix(n, 0.2) for n in range(40)]
    chosen = [
        {e.interaction_id for e in audit(0.5, seed=seed).on_interactions(at(0), batch)} for seed in (1, 2)
    ]
    assert chosen[0] != chosen[1]
    assert all(0 < len(c) < 40 for c in chosen)


# -------------------------------------------------------------------- moderator


def test_moderator_sanctions_reputation_in_proportion_to_how_poor_the_work_is() -> None:
    config = ModeratorConfig(moderator_enabled=True, moderator_threshold_p=0.4, moderator_penalty=0.5)
    lever = Moderator(config, setup_of())
    effects = lever.on_interactions(at(0), [ix(1, 0.1), ix(2, 0.3), ix(3, 0.4), ix(4, 0.0, accepted=False)])
    assert all(type(e) is ReputationChange and e.agent_id == "a" for e in effects)
    assert {e.interaction_id: e.amount for e in effects} == {
        "ix-1": pytest.approx(-0.5 * 0.75),
        "ix-2": pytest.approx(-0.5 * 0.25),
    }
    assert lever.blocked(at(0), [pub("a")]) == {}


# ------------------------------------------------------------ transparency ledger


def test_transparency_publishes_recent_track_records_and_moves_reputation_with_them() -> None:
    config = TransparencyConfig(transparency_enabled=True, transparency_reputation_weight=0.5)
    lever = TransparencyLedger(config, setup_of())
    early = [ix(n, 0.0, a="x") for n in range(5)]
    recent = [ix(100 + n, 0.9, a="x") for n in range(WINDOW)] + [
        ix(200, 0.2, a="y"),
        ix(201, 0.0, a="z", accepted=False),
    ]
    assert lever.on_interactions(at(0), early + recent) == []
    notice = lever.live_notice(at(0, 1))
    assert notice.track_records == {"x": pytest.approx(0.9), "y": pytest.approx(0.2)}
    assert lever.live_notice(at(0, 2)) is notice  # nothing new, nothing rebuilt
    effects = lever.epoch_end(at(0, 5), [pub("x"), pub("y"), pub("z")])
    assert {e.agent_id: e.amount for e in effects} == {"x": pytest.approx(0.2), "y": pytest.approx(-0.15)}


# --------------------------------------------------------- what effects move


def books_with(*agents: str) -> LedgerBooks:
    books = LedgerBooks()
    for a in agents:
        books.add(a, 0.0, 100.0)
    return books


@pytest.mark.parametrize(
    ("amount", "account", "entry"),
    [
        (3.0, "governance:x", Transfer(payer="governance:x", payee="a", amount=3.0, reason="t: r")),
        (-3.0, "governance:x", Transfer(payer="a", payee="governance:x", amount=3.0, reason="t: r")),
        (3.0, None, Mint(account="a", amount=3.0, reason="t: r")),
        (-3.0, None, Burn(account="a", amount=3.0, reason="t: r")),
    ],
)
def test_a_resource_change_is_one_transfer_with_an_account_else_a_mint_or_burn(
    amount: float, account: str | None, entry: object
) -> None:
    effect = ResourceChange(lever="t", agent_id="a", amount=amount, account=account, reason="r")
    assert effect.entries() == [entry]


@settings(max_examples=80, deadline=None)
@given(
    amount=st.floats(min_value=-1e4, max_value=1e4, allow_nan=False),
    account=st.sampled_from([None, STAKES, REVENUE]),
)
def test_a_resource_change_moves_exactly_its_amount_and_keeps_the_books_balanced(
    amount: float, account: str | None
) -> None:
    books = books_with("a", "b")
    books.accounts[STAKES] = books.accounts[REVENUE] = 0.0
    effect = ResourceChange(lever="staking", agent_id="a", amount=amount, account=account, reason="why")
    events = books.post(at(0), effect.entries())
    assert books.agents["a"].resources == pytest.approx(100.0 + amount)
    assert books.agents["b"].resources == 100.0
    if account is not None:
        assert books.accounts[account] == pytest.approx(-amount)
        assert books.total() == pytest.approx(200.0)
    assert books.imbalance() == pytest.approx(0.0, abs=1e-6)
    (updated,) = events
    assert type(updated) is LedgerUpdated and updated.agent_id == "a" and updated.reason == "staking: why"
    assert updated.resources_delta == pytest.approx(amount) and updated.reputation_delta == 0.0


def test_a_cost_has_no_entries_of_its_own_it_is_charged_inside_the_payoff() -> None:
    cost = Cost(lever="transaction_tax", agent_id="a", amount=2.0, account=REVENUE, interaction_id="ix-1")
    assert cost.entries() == []
    books = books_with("a")
    assert books.post(at(0), cost.entries()) == []
    assert books.agents["a"].resources == 100.0


@settings(max_examples=40, deadline=None)
@given(amount=st.floats(min_value=-100.0, max_value=100.0))
def test_a_reputation_change_moves_reputation_only(amount: float) -> None:
    effect = ReputationChange(lever="moderator", agent_id="a", amount=amount, reason="poor")
    assert effect.entries() == [Reputation(agent="a", amount=amount, reason="moderator: poor")]
    books = books_with("a")
    books.post(at(0), effect.entries())
    assert books.agents["a"].reputation == pytest.approx(amount)
    assert books.agents["a"].resources == 100.0 and books.imbalance() == 0.0


def test_a_freeze_order_is_a_freeze_entry_that_stops_the_agent_until_its_epoch() -> None:
    order = FreezeOrder(lever="circuit_breaker", agent_id="a", until_epoch=3, reason="toxic")
    assert order.entries() == [Freeze(agent="a", until_epoch=3, reason="circuit_breaker: toxic")]
    books = books_with("a", "b")
    (frozen,) = books.post(at(1, 2), order.entries())
    assert type(frozen) is AgentFrozen and frozen.agent_id == "a" and frozen.until_epoch == 3
    admitted, rejected = books.admit(
        at(1, 3), [Turn(0, "a", CreatePost(content="x")), Turn(1, "b", CreatePost(content="y"))]
    )
    assert [t.agent for t in admitted] == ["b"]
    assert [(e.agent_id, e.reason) for e in rejected] == [("a", "agent is frozen")]
    assert books.unfreeze_due(at(1, 5), 2) == []
    (thawed,) = books.unfreeze_due(at(2, 5), 3)
    assert type(thawed) is AgentUnfrozen and not books.agents["a"].frozen


def test_evidence_moves_nothing() -> None:
    found = Evidence(lever="collusion", agent_id="a", finding="flagged", amount=0.8)
    assert found.entries() == []


@pytest.mark.parametrize(
    "effect",
    [
        Cost(lever="random_audit", agent_id="a", amount=0.4, interaction_id="ix-1", confidence=0.4),
        ReputationChange(lever="moderator", agent_id="a", amount=-0.2, reason="poor"),
        ResourceChange(lever="staking", agent_id="a", amount=-5.0, account=STAKES),
        FreezeOrder(lever="circuit_breaker", agent_id="a", until_epoch=None, reason="for good"),
        Evidence(lever="collusion", agent_id="a", finding="flagged", amount=0.7),
    ],
)
def test_every_effect_is_an_event_that_survives_the_log(effect: Effect) -> None:
    assert decode_event(encode_event(effect)) == effect


# ------------------------------------------------- scenario keys: ranges and the no-lie rule


def governance(**keys: object) -> Scenario:
    return load_scenario({"agents": [{"type": "honest"}], "governance": keys})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("transaction_tax_rate", -0.1),
        ("audit_probability", 1.5),
        ("freeze_threshold_violations", 0),
        ("stake_slash_rate", 2),
        ("tax_destination", "void"),
        ("audit_enabled", "yes"),
        ("no_such_lever", True),
    ],
)
def test_invalid_lever_values_are_rejected_at_load(key: str, value: object) -> None:
    with pytest.raises(ScenarioError) as info:
        governance(**{key: value})
    assert info.value.key == f"governance.{key}"


@pytest.mark.parametrize(
    ("keys", "named", "switch"),
    [
        ({"audit_probability": 0.9}, "audit_probability", "audit_enabled"),
        ({"transaction_tax_split": 0.7}, "transaction_tax_split", "transaction_tax_rate"),
        ({"tax_destination": "burn"}, "tax_destination", "transaction_tax_rate"),
        ({"min_stake_to_participate": 5.0}, "min_stake_to_participate", "staking_enabled"),
        ({"freeze_duration_epochs": 4}, "freeze_duration_epochs", "circuit_breaker_enabled"),
        ({"toxicity_threshold": 0.4}, "freeze_threshold_toxicity", "circuit_breaker_enabled"),
        ({"moderator_penalty": 1.0}, "moderator_penalty", "moderator_enabled"),
        ({"transparency_reputation_weight": 1.0}, "transparency_reputation_weight", "transparency_enabled"),
        ({"collusion_min_interactions": 5}, "collusion_min_interactions", "collusion_detection_enabled"),
        ({"max_vote_weight_per_agent": 3.0}, "max_vote_weight_per_agent", "vote_normalization_enabled"),
    ],
)
def test_a_lever_setting_while_the_lever_is_off_is_refused_naming_the_switch(
    keys: dict[str, object], named: str, switch: str
) -> None:
    with pytest.raises(ScenarioError) as info:
        governance(**keys)
    message = str(info.value)
    assert named in message and switch in message


def test_the_refusal_of_an_idle_lever_setting_points_at_that_key(tmp_path: Path) -> None:
    path = tmp_path / "idle.yaml"
    path.write_text(
        "agents:\n  - type: honest\ngovernance:\n  moderator_enabled: false\n  audit_probability: 0.9\n"
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.key == "governance.audit_probability"
    assert info.value.line == 5


@pytest.mark.parametrize(
    ("keys", "needed"),
    [
        ({"staking_enabled": True, "stake_slash_rate": 0.5}, "min_stake_to_participate"),
        ({"audit_enabled": True, "audit_probability": 0.0, "audit_threshold_p": 0.7}, "audit_probability"),
    ],
)
def test_the_refusal_never_advises_a_switch_that_is_already_on(keys: dict[str, object], needed: str) -> None:
    """The lever is off although its switch is on (a second key is needed): the advice must name that key."""
    with pytest.raises(ScenarioError) as info:
        governance(**keys)
    message = str(info.value)
    switch = next(k for k, v in keys.items() if v is True)
    assert f"turn it on with {switch}: true" not in message
    assert needed in message


def test_a_lever_setting_equal_to_its_default_is_accepted_while_the_lever_is_off() -> None:
    """The reference baseline sets transaction_tax_split: 0.5 with the tax off."""
    sc = governance(transaction_tax_split=0.5, audit_enabled=False, collusion_correlation_threshold=0.7)
    assert sc.governance.transaction_tax_split == 0.5
    assert build_governance(sc, setup_of(sc)).levers == []


def test_a_lever_setting_is_accepted_once_the_lever_is_on() -> None:
    sc = governance(
        audit_enabled=True, audit_probability=0.9, transaction_tax_rate=0.1, transaction_tax_split=0.7
    )
    levers = {lv.key: lv for lv in build_governance(sc, setup_of(sc)).levers}
    assert set(levers) == {"random_audit", "transaction_tax"}
    assert levers["random_audit"].config.audit_probability == 0.9
    assert levers["transaction_tax"].config.transaction_tax_split == 0.7


def test_the_reference_aliases_mean_what_they_meant_there() -> None:
    sc = governance(
        enable_audits=True,
        audit_probability=0.3,
        enable_circuit_breaker=True,
        toxicity_threshold=0.4,
        reputation_decay=0.9,
        transaction_tax=0.1,
    )
    g = sc.governance
    assert g.audit_enabled is True and g.circuit_breaker_enabled is True
    assert g.freeze_threshold_toxicity == 0.4
    assert g.reputation_decay_rate == 0.9 and g.transaction_tax_rate == 0.1
    gov = build_governance(sc, setup_of(sc))
    assert [lv.key for lv in gov.levers] == [
        "reputation_decay",
        "transaction_tax",
        "random_audit",
        "circuit_breaker",
    ]
    assert CircuitBreaker.notice(gov.levers[3].config) == BreakerNotice(0.4, 3, 2)
    assert TransactionTax.notice(gov.levers[1].config).rate == 0.1


def test_the_reference_aliases_are_refused_when_they_leave_the_lever_off() -> None:
    with pytest.raises(ScenarioError, match="circuit_breaker_enabled"):
        governance(enable_circuit_breaker=False, toxicity_threshold=0.4)


# ------------------------------------------------------------------------ the engine


def test_the_engine_order_is_the_documented_one() -> None:
    keys = [cls.key for cls in levers_in_order()]
    documented = [
        "reputation_decay",
        "staking",
        "transaction_tax",
        "random_audit",
        "moderator",
        "circuit_breaker",
        "transparency",
        "collusion",
    ]
    assert [k for k in keys if k in documented] == documented
    assert set(keys) == set(LEVERS)


async def test_the_engine_combines_lever_answers_in_engine_order_and_publishes_their_notices() -> None:
    sc = make_scenario(
        governance={
            "circuit_breaker_enabled": True,
            "freeze_threshold_violations": 1,
            "moderator_enabled": True,
            "audit_enabled": True,
            "audit_probability": 1.0,
            "transaction_tax_rate": 0.1,
            "staking_enabled": True,
            "min_stake_to_participate": 5.0,
        }
    )
    gov = build_governance(sc, setup_of(sc))
    order = {cls.key: k for k, cls in enumerate(levers_in_order())}
    async with ActorSystem(name="test") as system:
        gov.attach(system)
        assert set(gov.notices) == {TaxNotice, AuditNotice, StakingNotice, BreakerNotice, ModeratorNotice}
        assert gov.deterrence == 1.0  # audits alone deter 1·2; the sum is capped at 1
        starts = await gov.epoch_start(at(0), (pub("honest_1"), pub("honest_2", res=1.0)))
        assert [(e.lever, e.agent_id) for e in starts] == [("staking", "honest_1")]
        assert await gov.blocked(at(0), (pub("honest_1"), pub("honest_2", res=1.0))) == {
            "honest_2": "stake 0.00 below 5"
        }
        batch = tuple(ix(n, 0.05, a="honest_1", b="honest_3", tau=1.0) for n in range(4))
        effects = await gov.on_interactions(at(0, 1), batch)
    ranks = [order[e.lever] for e in effects]
    assert ranks == sorted(ranks)
    assert {e.lever for e in effects} == {
        "staking",
        "transaction_tax",
        "random_audit",
        "moderator",
        "circuit_breaker",
    }


# ------------------------------------------------------------------- end to end


def test_every_lever_effect_is_logged_with_a_reason_and_reaches_the_ledger(tmp_path: Path) -> None:
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
    events = logged_run(tmp_path, sc)
    effects = [e for e in events if isinstance(e, Effect)]
    assert {e.lever for e in effects} >= {"transaction_tax", "reputation_decay", "random_audit", "staking"}
    assert all(e.reason for e in effects)
    updates = {(e.agent_id, e.reason, e.seq) for e in events if isinstance(e, LedgerUpdated)}
    for effect in effects:
        if type(effect) in (ReputationChange, ResourceChange):
            why = f"{effect.lever}: {effect.reason}"
            assert any(a == effect.agent_id and r == why and s > effect.seq for a, r, s in updates), effect
    assert not any(isinstance(e, AgentFrozen) and e.agent_id.startswith("honest") for e in events)


def test_audits_in_a_run_charge_costs_inside_payoffs_and_cut_reputation(tmp_path: Path) -> None:
    sc = make_scenario(
        honest=3,
        adversarial=2,
        epochs=3,
        steps=5,
        governance={"audit_enabled": True, "audit_probability": 1.0},
    )
    events = logged_run(tmp_path, sc)
    completed = {
        e.interaction.interaction_id: e.interaction for e in events if isinstance(e, InteractionCompleted)
    }
    costs = effects_of(events, "random_audit", Cost)
    cuts = {e.interaction_id: e for e in effects_of(events, "random_audit", ReputationChange)}
    passed = {e.interaction_id for e in effects_of(events, "random_audit", Evidence)}
    assert costs, "the adversaries' work should fail some audits"
    for cost in costs:
        i = completed[cost.interaction_id]
        assert i.accepted and i.p < 0.5 and cost.agent_id == i.initiator
        assert cost.amount == pytest.approx((0.5 - i.p) * 2.0)
        assert i.c_a == pytest.approx(cost.amount)
        assert cuts[cost.interaction_id].amount == pytest.approx(-cost.amount)
        assert any(
            isinstance(e, LedgerUpdated)
            and e.agent_id == i.initiator
            and e.entry == "reputation"
            and e.reputation_delta == pytest.approx(-cost.amount)
            and e.reason.startswith("random_audit:")
            for e in events
        )
    accepted = {k for k, i in completed.items() if i.accepted}
    assert accepted == passed | {c.interaction_id for c in costs}  # probability 1: every one audited
    assert not [e for e in events if isinstance(e, AgentFrozen | FreezeOrder)]


async def test_the_circuit_breaker_freezes_a_persistent_offender_who_then_stops_acting(
    tmp_path: Path,
) -> None:
    sc = make_scenario(honest=2, epochs=5, steps=5, governance={"circuit_breaker_enabled": True})
    offender, victim = Probe(target="honest_2", conduct=BAD), Probe()
    async with Simulation(sc, out_dir=tmp_path, policies={"honest_1": offender, "honest_2": victim}) as sim:
        live = [e async for e in sim.events()]
    _, events = read_log(tmp_path / "events.jsonl")
    assert [e for e in live if isinstance(e, Effect)] == [e for e in events if isinstance(e, Effect)]
    orders = effects_of(events, "circuit_breaker", FreezeOrder)
    frozen = [e for e in events if isinstance(e, AgentFrozen)]
    thawed = [e for e in events if isinstance(e, AgentUnfrozen)]
    assert orders and len(frozen) == len(orders)
    for order, fz in zip(orders, frozen, strict=True):
        assert order.agent_id == fz.agent_id == "honest_1"
        assert order.seq < fz.seq and fz.until_epoch == order.until_epoch == order.epoch + 3
    frozen_steps = set()
    for fz in frozen:
        end = next(((u.epoch, u.step) for u in thawed if u.seq > fz.seq), (sc.simulation.n_epochs, 0))
        assert end[0] in (fz.until_epoch - 1, sc.simulation.n_epochs)
        frozen_steps |= {s for s in all_steps(sc) if (fz.epoch, fz.step) < s <= end}
    assert frozen_steps
    assert offender.acted == [s for s in all_steps(sc) if s not in frozen_steps]
    assert victim.acted == all_steps(sc)
    violations = effects_of(events, "circuit_breaker", Evidence)
    assert violations and {e.agent_id for e in violations} == {"honest_1"}


def test_staked_agents_below_the_minimum_do_not_act(tmp_path: Path) -> None:
    minimum = 50.0
    sc = make_scenario(
        honest=2,
        epochs=4,
        steps=5,
        governance={"staking_enabled": True, "min_stake_to_participate": minimum},
    )
    offender, victim = Probe(target="honest_2", conduct=BAD), Probe()
    events = logged_run(tmp_path, sc, policies={"honest_1": offender, "honest_2": victim})
    deposits = [e for e in effects_of(events, "staking", ResourceChange) if e.amount < 0]
    slashes = [e for e in effects_of(events, "staking", Evidence) if e.finding == "stake_slashed"]
    restitutions = [e for e in effects_of(events, "staking", ResourceChange) if e.amount > 0]
    assert {(e.agent_id, e.amount) for e in deposits if e.epoch == 0} == {
        ("honest_1", -50.0),
        ("honest_2", -50.0),
    }
    assert all(e.account == STAKES for e in deposits + restitutions)
    assert slashes and {e.agent_id for e in slashes} == {"honest_1"}
    assert [(e.interaction_id, e.agent_id, e.amount) for e in restitutions] == [
        (e.interaction_id, "honest_2", pytest.approx(e.amount)) for e in slashes
    ]
    assert any(e.epoch > 0 for e in deposits), "a slashed agent tops its stake up at the next epoch"

    def stake_before_acting(epoch: int, step: int) -> float:
        put = sum(-e.amount for e in deposits if e.agent_id == "honest_1" and e.epoch <= epoch)
        lost = sum(e.amount for e in slashes if (e.epoch, e.step) < (epoch, step))
        return put - lost

    allowed = [s for s in all_steps(sc) if stake_before_acting(*s) >= minimum - 1e-9]
    assert len(allowed) < len(all_steps(sc))
    assert offender.acted == allowed
    assert victim.acted == all_steps(sc)


def test_agents_that_cannot_afford_the_stake_never_act(tmp_path: Path) -> None:
    sc = make_scenario(
        honest=2,
        epochs=2,
        steps=3,
        governance={"staking_enabled": True, "min_stake_to_participate": 150.0},
    )
    probes = {"honest_1": Probe(target="honest_2"), "honest_2": Probe(post=True)}
    events = logged_run(tmp_path, sc, policies=probes)
    assert all(p.acted == [] for p in probes.values())
    assert not [e for e in events if isinstance(e, Effect | InteractionCompleted | PostCreated)]


def test_tax_revenue_of_each_epoch_is_shared_out_equally_at_its_end(tmp_path: Path) -> None:
    sc = make_scenario(honest=3, opportunistic=1, epochs=3, steps=5, governance={"transaction_tax_rate": 0.2})
    events = logged_run(tmp_path, sc)
    completed = {
        e.interaction.interaction_id: e.interaction for e in events if isinstance(e, InteractionCompleted)
    }
    costs = effects_of(events, "transaction_tax", Cost)
    shares = effects_of(events, "transaction_tax", ResourceChange)
    assert costs and shares
    charged: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for c in costs:
        i = completed[c.interaction_id]
        assert i.accepted and c.account == REVENUE
        charged[c.interaction_id][0 if c.agent_id == i.initiator else 1] += c.amount
    for iid, (ca, cb) in charged.items():
        assert (completed[iid].c_a, completed[iid].c_b) == (pytest.approx(ca), pytest.approx(cb))
    for epoch in range(sc.simulation.n_epochs):
        collected = sum(c.amount for c in costs if c.epoch == epoch)
        shared = [s for s in shares if s.epoch == epoch]
        assert sum(s.amount for s in shared) == pytest.approx(collected)
        if collected:
            assert sorted(s.agent_id for s in shared) == sorted(a for a, _ in sc.agent_ids())
            assert max(s.amount for s in shared) == pytest.approx(min(s.amount for s in shared))
            assert all(s.account == REVENUE and s.step == sc.simulation.steps_per_epoch for s in shared)


def test_tax_only_run_conserves_money(tmp_path: Path) -> None:
    """With the tax redistributed, all money is where payoffs, bounties and rebates put it."""
    sc = make_scenario(honest=3, opportunistic=1, epochs=3, steps=5, governance={"transaction_tax_rate": 0.2})
    result = run(sc, out_dir=tmp_path)
    _, events = read_log(tmp_path / "events.jsonl")
    paid = sum(
        e.payoff_initiator + e.payoff_counterparty
        for e in events
        if isinstance(e, InteractionCompleted) and e.interaction.accepted
    )
    rebates = sum(e.amount for e in effects_of(events, "transaction_tax", ResourceChange))
    bounties = sum(e.bounty_paid for e in events if e.type == "task_closed")
    total = sum(a["resources"] for a in result.agents)
    assert total == pytest.approx(100.0 * 4 + paid + rebates + bounties)
    assert total == pytest.approx(
        100.0 * 4 + sum(e.resources_delta for e in events if isinstance(e, LedgerUpdated))
    )
    costs = sum(e.interaction.c_a + e.interaction.c_b for e in events if isinstance(e, InteractionCompleted))
    assert costs > 0 and rebates == pytest.approx(costs)


def test_reputation_decay_in_a_run_scales_each_standing_reputation(tmp_path: Path) -> None:
    rate = 0.8
    sc = make_scenario(honest=3, adversarial=2, epochs=4, steps=5, governance={"reputation_decay_rate": rate})
    events = logged_run(tmp_path, sc)
    decays = effects_of(events, "reputation_decay", ReputationChange)
    assert decays and all(e.epoch > 0 and e.step == 0 for e in decays)
    reputation = {a: 0.0 for a, _ in sc.agent_ids()}
    pending: dict[str, float] = {}
    for e in events:
        if isinstance(e, ReputationChange) and e.lever == "reputation_decay":
            assert e.amount == pytest.approx(reputation[e.agent_id] * (rate - 1))
            pending[e.agent_id] = reputation[e.agent_id] * rate
        elif isinstance(e, LedgerUpdated):
            if e.agent_id in pending and e.reason.startswith("reputation_decay:"):
                assert e.reputation == pytest.approx(pending.pop(e.agent_id))
            reputation[e.agent_id] = e.reputation
    assert not pending
    standing = {e.agent_id for e in decays}
    assert standing, "someone had a reputation to decay"


def test_the_moderator_in_a_run_sanctions_exactly_the_poor_accepted_work(tmp_path: Path) -> None:
    sc = make_scenario(honest=3, adversarial=2, epochs=4, steps=5, governance={"moderator_enabled": True})
    events = logged_run(tmp_path, sc)
    completed = [e.interaction for e in events if isinstance(e, InteractionCompleted)]
    sanctions = {e.interaction_id: e for e in effects_of(events, "moderator")}
    poor = {i.interaction_id: i for i in completed if i.accepted and i.p < 0.4}
    assert poor and set(sanctions) == set(poor)
    for iid, e in sanctions.items():
        assert type(e) is ReputationChange and e.agent_id == poor[iid].initiator
        assert e.amount == pytest.approx(-0.5 * (0.4 - poor[iid].p) / 0.4)
    assert not [e for e in events if isinstance(e, AgentFrozen)]


def test_the_transparency_ledger_in_a_run_publishes_records_and_rewards_them(tmp_path: Path) -> None:
    sc = make_scenario(honest=3, adversarial=2, epochs=3, steps=5, governance={"transparency_enabled": True})
    reader = Probe()
    events = logged_run(tmp_path, sc, policies={"honest_3": reader})
    completed = [
        e.interaction for e in events if isinstance(e, InteractionCompleted) and e.interaction.accepted
    ]

    def records(before: tuple[int, int]) -> dict[str, float]:
        tracks: dict[str, list[float]] = defaultdict(list)
        for i in completed:
            if (i.epoch, i.step) < before:
                tracks[i.initiator].append(i.p)
        return {a: sum(ps[-WINDOW:]) / len(ps[-WINDOW:]) for a, ps in tracks.items()}

    assert any(seen for _, _, seen in reader.seen)
    for epoch, step, seen in reader.seen:
        assert seen is not None and seen == pytest.approx(records((epoch, step)))
    moves = effects_of(events, "transparency", ReputationChange)
    assert moves
    for e in moves:
        assert e.amount == pytest.approx(0.5 * (records((e.epoch, e.step))[e.agent_id] - 0.5))


def test_the_bandwidth_cap_refuses_actions_beyond_it_each_epoch(tmp_path: Path) -> None:
    sc = make_scenario(honest=2, epochs=3, steps=5, governance={"bandwidth_cap": 2})
    poster = Probe(post=True)
    events = logged_run(tmp_path, sc, policies={"honest_1": poster, "honest_2": Probe()})
    assert len(poster.acted) == 15  # asked every step: the cap refuses, it does not silence
    for epoch in range(3):
        posts = [e for e in events if isinstance(e, PostCreated) and e.epoch == epoch]
        refused = [e for e in events if isinstance(e, ActionRejected) and e.epoch == epoch]
        assert [(e.author, e.step) for e in posts] == [("honest_1", 0), ("honest_1", 1)]
        assert [e.step for e in refused] == [2, 3, 4]
        assert all(e.agent_id == "honest_1" and "bandwidth cap of 2" in e.reason for e in refused)
