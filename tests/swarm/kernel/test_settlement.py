"""Settlement books the payoff's reputation term: r_a is the initiator's reputation change.

The payoff π_a carries w_rep·r_a, the ledger mints it (it is part of ``created``) and
moves the initiator's reputation by exactly r_a; r_b is 0 and the counterparty's
reputation does not move. Money stays conserved, and w_rep changes what agents earn.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm import load_scenario, run
from swarm.core import PayoffConfig, SoftInteraction, SoftPayoffEngine
from swarm.events import AgentCreated, InteractionCompleted, LedgerUpdated
from swarm.governance.effects import Cost
from swarm.kernel.component import At
from swarm.kernel.ledger import LedgerBooks
from swarm.kernel.settlement import settle
from swarm.runtime.eventlog import read_log
from tests.conftest import SCENARIOS, make_scenario
from tests.strategies import payoff_configs

AGENTS = ("a", "b", "c")
TYPES = dict.fromkeys(AGENTS, "honest")
AT = At(1, 2, 12)

configs = payoff_configs(5.0, 2.0, (-3.0, 3.0))


@st.composite
def batches(draw: st.DrawFn) -> tuple[list[SoftInteraction], list[Cost]]:
    """Interactions between distinct agents, some with governance costs charged to either party."""
    interactions, costs = [], []
    for k in range(draw(st.integers(1, 6))):
        a, b = draw(st.permutations(AGENTS))[:2]
        iid = f"ix-{k}"
        interactions.append(
            SoftInteraction(
                interaction_id=iid,
                initiator=a,
                counterparty=b,
                accepted=draw(st.booleans()),
                p=draw(st.floats(0.0, 1.0)),
                tau=draw(st.floats(-2.0, 2.0)),
            )
        )
        for _ in range(draw(st.integers(0, 3))):
            costs.append(
                Cost(
                    lever="test",
                    agent_id=draw(st.sampled_from((a, b))),
                    interaction_id=iid,
                    amount=draw(st.floats(0.0, 2.0)),
                    account=draw(st.sampled_from((None, "governance:tax"))),
                )
            )
    return interactions, costs


@settings(max_examples=150, deadline=None)
@given(configs, batches())
def test_settlement_payoffs_and_ledger_agree_on_the_reputation_term(
    config: PayoffConfig, batch: tuple[list[SoftInteraction], list[Cost]]
) -> None:
    interactions, costs = batch
    engine = SoftPayoffEngine(config)
    out = settle(AT, interactions, costs, engine, TYPES)
    books = LedgerBooks()
    for agent in AGENTS:
        books.add(agent, 0.0, 100.0)
    entries = iter(out.entries)
    for raw, done in zip(interactions, out.completed, strict=True):
        i = done.interaction
        charged_a = sum(
            c.amount for c in costs if c.interaction_id == raw.interaction_id and c.agent_id == i.initiator
        )
        assert i.c_a == pytest.approx(charged_a)
        expected_r_a = (i.p - 0.5) - i.c_a if i.accepted else 0.0
        assert i.r_a == pytest.approx(expected_r_a, abs=1e-12)
        assert i.r_b == 0.0
        pa, pb = engine.payoffs(i)
        assert (done.payoff_initiator, done.payoff_counterparty) == (pa, pb)
        bare, _ = engine.payoffs(msgspec.structs.replace(i, r_a=0.0))
        assert pa - bare == pytest.approx(config.w_rep * i.r_a, abs=1e-9)
        if not i.accepted:
            continue
        entry = next(entries)
        assert entry.ref == i.interaction_id and entry.reputation == i.r_a
        # the entry's own money identity: what the payoffs share is what is created, less destroyed and costs
        spent = sum(amount for _, amount in entry.costs)
        assert pa + pb == pytest.approx(entry.created - entry.destroyed - spent, abs=1e-9)
        rep_before = {x: books.agents[x].reputation for x in AGENTS}
        events = books.post(AT, [entry])
        moved = {e.agent_id: e.reputation_delta for e in events if isinstance(e, LedgerUpdated)}
        assert moved == {i.initiator: i.r_a, i.counterparty: 0.0}
        assert books.agents[i.initiator].reputation == pytest.approx(rep_before[i.initiator] + i.r_a)
        assert books.agents[i.counterparty].reputation == rep_before[i.counterparty]
        assert books.imbalance() == pytest.approx(0.0, abs=1e-9)
    assert next(entries, None) is None


class _SameFormula(SoftPayoffEngine):
    """The engine's formula unchanged, but a subclass: settlement then calls its methods."""


@settings(max_examples=150, deadline=None)
@given(configs, batches())
def test_settling_with_the_engines_own_formula_inline_gives_what_its_methods_give(
    config: PayoffConfig, batch: tuple[list[SoftInteraction], list[Cost]]
) -> None:
    interactions, costs = batch
    index = {a: k for k, a in enumerate(AGENTS)}.get
    inline = settle(AT, interactions, costs, SoftPayoffEngine(config), TYPES, index)
    called = settle(AT, interactions, costs, _SameFormula(config), TYPES, index)
    assert inline.completed == called.completed
    assert inline.entries == called.entries
    assert inline.outcomes == called.outcomes


STATUS_PAYOFF = {"s_plus": 3.0, "s_minus": 1.5, "h": 2.5, "rho_a": 0.1, "rho_b": 0.1}


@settings(max_examples=4, deadline=None)
@given(w_rep=st.floats(-3.0, 3.0).filter(lambda w: abs(w) > 0.1), seed=st.integers(0, 2**16))
def test_in_a_run_the_initiators_reputation_moves_by_r_a_and_money_is_conserved(
    tmp_path_factory: pytest.TempPathFactory, w_rep: float, seed: int
) -> None:
    out: Path = tmp_path_factory.mktemp("rep")
    sc = make_scenario(
        honest=2,
        opportunistic=2,
        adversarial=1,
        epochs=3,
        steps=6,
        seed=seed,
        payoff={**STATUS_PAYOFF, "w_rep": w_rep},
    )
    result = run(sc, out_dir=out)
    _, events = read_log(out / "events.jsonl")
    cfg = sc.payoff
    settled = {
        (e.agent_id, e.ref): e for e in events if isinstance(e, LedgerUpdated) and e.entry == "settlement"
    }
    created = destroyed = term = 0.0
    accepted = 0
    for e in events:
        if not (isinstance(e, InteractionCompleted) and e.interaction.accepted):
            continue
        i = e.interaction
        accepted += 1
        r_a = (i.p - 0.5) - i.c_a  # from the logged p and cost, not from the logged r_a
        assert i.r_a == pytest.approx(r_a) and i.r_b == 0.0
        mine, theirs = settled[(i.initiator, i.interaction_id)], settled[(i.counterparty, i.interaction_id)]
        assert mine.reputation_delta == pytest.approx(r_a)
        assert mine.resources_delta == e.payoff_initiator
        assert (theirs.reputation_delta, theirs.resources_delta) == (0.0, e.payoff_counterparty)
        s = i.p * cfg.s_plus - (1 - i.p) * cfg.s_minus
        created += s + cfg.w_rep * r_a
        term += cfg.w_rep * r_a
        destroyed += (cfg.rho_a + cfg.rho_b) * (1 - i.p) * cfg.h
    assert accepted > 0 and abs(term) > 1e-3, "the run must exercise the term"
    # no governance: no system accounts; all money is endowments, what interactions create less what
    # they destroy, and what other entries mint or burn (bounties)
    endowed = sum(e.resources for e in events if isinstance(e, AgentCreated))
    outside = sum(
        e.resources_delta
        for e in events
        if isinstance(e, LedgerUpdated) and e.entry in ("mint", "burn", "transfer")
    )
    total = sum(a["resources"] for a in result.agents)
    assert total == pytest.approx(endowed + created - destroyed + outside, abs=1e-6)


def _payoffs_by_type(w_rep: float, seed: int) -> dict[str, float]:
    sc = load_scenario(SCENARIOS / "status_game.yaml", [f"payoff.w_rep={w_rep}", f"simulation.seed={seed}"])
    by: dict[str, list[float]] = {}
    for a in run(sc).agents:
        by.setdefault(a["agent_type"], []).append(a["total_payoff"])
    return {k: statistics.fmean(v) for k, v in by.items()}


def test_w_rep_moves_payoffs_in_status_game_and_widens_the_gap_between_honest_and_bad_actors() -> None:
    """status_game as shipped (w_rep 2) against the same world with the term off, seed by seed.

    Honest agents' work is mostly above p 0.5 and earns them reputation, the adversary's mostly
    below it and costs it reputation, so the term pays the first and charges the second.
    """
    for seed in (0, 1, 2):
        on, off = _payoffs_by_type(2.0, seed), _payoffs_by_type(0.0, seed)
        assert on["honest"] > off["honest"]
        assert on["adversarial"] < off["adversarial"]
        for bad in ("opportunistic", "adversarial"):
            assert on["honest"] - on[bad] > off["honest"] - off[bad], (seed, bad)
