"""Collusion detection: who gets flagged, that evidence is paid for once, realtime costs, end to end."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm import run
from swarm.actions import Action, Conduct
from swarm.core.interaction import SoftInteraction
from swarm.core.payoff import SoftPayoffEngine
from swarm.env.broker import Propose
from swarm.events import Event, InteractionCompleted, LedgerUpdated
from swarm.governance.collusion import (
    CollusionConfig,
    CollusionDetection,
    CollusionReport,
    Exchange,
    agent_risks,
    pair_scores,
)
from swarm.governance.effects import Cost, Effect, Evidence, ReputationChange, ResourceChange
from swarm.kernel.component import At, Setup
from swarm.runtime.eventlog import read_log
from swarm.views import AgentPublic, Observation
from tests.conftest import make_scenario


def ix(n: int, a: str, b: str, p: float, *, accepted: bool = True, tau: float = 0.0) -> SoftInteraction:
    return SoftInteraction(
        interaction_id=f"ix-{n}", initiator=a, counterparty=b, accepted=accepted, p=p, tau=tau
    )


def at(epoch: int, step: int = 0) -> At:
    return At(epoch, step, epoch * 10 + step)


def pub(agent: str) -> AgentPublic:
    return AgentPublic(agent_id=agent, reputation=0.0, resources=100.0)


def lever(**kw: Any) -> CollusionDetection:
    settings_: dict[str, Any] = {
        "collusion_detection_enabled": True,
        "collusion_frequency_threshold": 2.0,
        "collusion_min_interactions": 3,
        "collusion_score_threshold": 0.3,
        "collusion_penalty_multiplier": 1.0,
        "collusion_realtime_penalty": False,
        "collusion_realtime_rate": 0.1,
        "collusion_clear_history_on_epoch": False,
    }
    settings_.update({f"collusion_{k}": v for k, v in kw.items()})
    sc = make_scenario()
    return CollusionDetection(CollusionConfig(**settings_), Setup(sc, None, SoftPayoffEngine(sc.payoff), {}))


def population(rng: random.Random, *, start: int = 0, colluding: int = 30) -> list[SoftInteraction]:
    """Honest agents h0..h3 trade often and well; c0 and c1 keep accepting each other's bad work."""
    out: list[SoftInteraction] = []
    for n in range(start, start + 120):
        a, b = rng.sample(["h0", "h1", "h2", "h3"], 2)
        out.append(ix(n, a, b, rng.uniform(0.7, 0.9), tau=rng.uniform(-0.5, 0.5)))
    for n in range(start + 120, start + 120 + colluding):
        a, b = ("c0", "c1") if n % 2 else ("c1", "c0")
        out.append(ix(n, a, b, rng.uniform(0.1, 0.3), tau=rng.uniform(-0.2, 0.2)))
    return out


def findings(effects: list[Effect]) -> list[tuple[str, str]]:
    """(agent, finding) of the per-agent evidence, without the epoch's population-wide report."""
    return [(e.agent_id, e.finding) for e in effects if type(e) is Evidence]


def charged(effects: list[Effect]) -> dict[tuple[str, type], float]:
    return {(e.agent_id, type(e)): e.amount for e in effects if type(e) in (ReputationChange, ResourceChange)}


# ----------------------------------------------------------------------- scoring


def test_colluders_are_flagged_and_frequent_good_traders_are_not() -> None:
    history = [Exchange.of(i) for i in population(random.Random(1))]
    risks = agent_risks(history, min_interactions=3, frequency_threshold=2.0, score_threshold=0.3)
    assert set(risks) == {"c0", "c1"}
    assert all(0.3 <= r <= 1.0 for r in risks.values())


def test_what_each_side_of_an_exchange_gets_is_its_transfer_less_its_cost() -> None:
    i = ix(1, "a", "b", 0.4, tau=0.3).with_costs(0.1, 0.2)
    e = Exchange.of(i)
    assert (e.initiator, e.counterparty, e.accepted, e.p) == ("a", "b", True, 0.4)
    assert e.benefit_initiator == pytest.approx(-0.4) and e.benefit_counterparty == pytest.approx(0.1)


rows = st.lists(
    st.tuples(st.sampled_from("abcd"), st.sampled_from("abcd"), st.floats(0, 1), st.booleans()),
    max_size=80,
)


@settings(max_examples=60, deadline=None)
@given(rows)
def test_pair_scores_lie_in_the_unit_interval_and_need_low_quality(
    rows: list[tuple[str, str, float, bool]],
) -> None:
    history = [Exchange(a, b, acc, p, -0.1, 0.1) for a, b, p, acc in rows if a != b]
    scores = pair_scores(history, min_interactions=2, frequency_threshold=2.0)
    for (x, y), score in scores.items():
        assert x < y
        assert 0.0 <= score <= 1.0
        pair = [e for e in history if {e.initiator, e.counterparty} == {x, y}]
        assert len(pair) >= 2
        assert sum(e.p for e in pair) / len(pair) < 0.5


grid_rows = st.lists(
    st.tuples(st.sampled_from("abcd"), st.sampled_from("abcd"), st.integers(0, 100), st.booleans()),
    max_size=80,
)


@settings(max_examples=40, deadline=None)
@given(grid_rows, st.randoms(use_true_random=False), st.floats(0.0, 1.0))
def test_risks_do_not_depend_on_the_order_of_the_history(
    rows: list[tuple[str, str, int, bool]], rng: random.Random, threshold: float
) -> None:
    history = [Exchange(a, b, acc, k / 100, -k / 100, k / 100) for a, b, k, acc in rows if a != b]
    shuffled = list(history)
    rng.shuffle(shuffled)
    kw = {"min_interactions": 2, "frequency_threshold": 2.0, "score_threshold": threshold}
    one, two = agent_risks(history, **kw), agent_risks(shuffled, **kw)
    assert set(one) == set(two)
    for agent, risk in one.items():
        assert risk == pytest.approx(two[agent])
        assert threshold - 1e-9 <= risk <= 1.0


def test_a_pair_whose_benefits_barely_differ_is_scored_like_a_constant_one() -> None:
    """Distinct benefits whose spread underflows have no correlation to speak of; scoring must not fail."""
    tiny = [Exchange("a", "b", True, 0.1, 0.0, 0.0), Exchange("a", "b", True, 0.1, -5e-324, 5e-324)]
    constant = [Exchange("a", "b", True, 0.1, 0.0, 0.0), Exchange("a", "b", True, 0.1, 0.0, 0.0)]
    assert pair_scores(tiny, min_interactions=2, frequency_threshold=2.0) == pytest.approx(
        pair_scores(constant, min_interactions=2, frequency_threshold=2.0)
    )


# ------------------------------------------------------------ paying for evidence


def test_evidence_is_paid_for_once_not_every_epoch() -> None:
    detector = lever()
    assert detector.on_interactions(at(0), population(random.Random(2))) == []
    first = detector.epoch_end(at(0, 5), [])
    second = detector.epoch_end(at(1, 5), [])
    paid = charged(first)
    assert set(paid) == {(a, k) for a in ("c0", "c1") for k in (ReputationChange, ResourceChange)}
    assert all(amount < 0 for amount in paid.values())
    assert paid[("c0", ResourceChange)] == pytest.approx(10 * paid[("c0", ReputationChange)])
    assert all(e.account is None for e in first if type(e) is ResourceChange)  # destroyed, not moved
    assert findings(second) == [("c0", "flagged"), ("c1", "flagged")]
    assert [type(e) for e in second] == [CollusionReport, Evidence, Evidence]  # nothing charged again


def test_a_rising_risk_costs_only_the_increase() -> None:
    detector = lever(score_threshold=0.2)
    rng = random.Random(4)
    detector.on_interactions(at(0), population(rng, colluding=6))
    first = detector.epoch_end(at(0, 5), [])
    risk_then = dict(detector.risk)
    detector.on_interactions(at(1), population(rng, start=1000, colluding=40))
    second = detector.epoch_end(at(1, 5), [])
    risk_now = detector.risk
    assert {"c0", "c1"} <= set(risk_then) and all(risk_now[a] > risk_then[a] for a in ("c0", "c1"))
    for agent in ("c0", "c1"):
        assert charged(first)[(agent, ReputationChange)] == pytest.approx(-risk_then[agent])
        assert charged(second)[(agent, ReputationChange)] == pytest.approx(
            -(risk_now[agent] - risk_then[agent])
        )


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), batches=st.lists(st.integers(0, 40), min_size=1, max_size=4))
def test_in_total_an_agent_pays_for_its_highest_risk_exactly_once(seed: int, batches: list[int]) -> None:
    detector = lever(penalty_multiplier=2.0, score_threshold=0.2)
    rng = random.Random(seed)
    paid: dict[str, float] = {}
    highest: dict[str, float] = {}
    for epoch, colluding in enumerate(batches):
        detector.on_interactions(at(epoch), population(rng, start=1000 * epoch, colluding=colluding))
        for e in detector.epoch_end(at(epoch, 5), []):
            if type(e) is ReputationChange:
                paid[e.agent_id] = paid.get(e.agent_id, 0.0) - e.amount
        for agent, risk in detector.risk.items():
            highest[agent] = max(highest.get(agent, 0.0), risk)
    assert set(paid) == set(highest)
    for agent, total in paid.items():
        assert total == pytest.approx(2.0 * highest[agent])


def test_with_no_penalty_multiplier_findings_are_only_evidence() -> None:
    detector = lever(penalty_multiplier=0.0)
    detector.on_interactions(at(0), population(random.Random(2)))
    effects = detector.epoch_end(at(0, 5), [])
    assert findings(effects) == [("c0", "flagged"), ("c1", "flagged")]
    assert all(isinstance(e, Evidence) and e.entries() == [] for e in effects)


def test_clearing_history_each_epoch_forgets_old_exchanges() -> None:
    detector = lever(clear_history_on_epoch=True)
    detector.on_interactions(at(0), population(random.Random(2)))
    assert findings(detector.epoch_end(at(0, 5), [])) == [("c0", "flagged"), ("c1", "flagged")]
    assert len(detector.history) == 0
    assert detector.epoch_end(at(1, 5), []) == []


def test_each_pass_reports_the_flagged_pairs_and_the_ecosystem_risk_moving_nothing() -> None:
    detector = lever()
    assert detector.epoch_end(at(0, 5), [pub(a) for a in ("h0", "c0")]) == []  # nothing seen yet
    detector.on_interactions(at(0), population(random.Random(2)))
    agents = [pub(a) for a in ("h0", "h1", "h2", "h3", "c0", "c1")]
    report = detector.epoch_end(at(1, 5), agents)[0]
    assert type(report) is CollusionReport and report.agent_id == "*" and report.entries() == []
    # the pair c0–c1 is flagged; as a group of two trading only inside it scores 0.4·0.7 < 0.3
    assert (report.flagged_pairs, report.flagged_groups) == (1, 0)
    assert 0.0 < report.ecosystem_risk <= 1.0
    quiet = lever()
    quiet.on_interactions(at(0), population(random.Random(2), colluding=0))
    (calm,) = quiet.epoch_end(at(1, 5), agents)
    assert (calm.flagged_pairs, calm.flagged_groups, calm.ecosystem_risk) == (0, 0, 0.0)


def test_realtime_cost_between_flagged_agents_only() -> None:
    detector = lever(realtime_penalty=True, realtime_rate=0.2)
    detector.on_interactions(at(0), population(random.Random(3)))
    detector.epoch_end(at(0, 5), [])
    effects = detector.on_interactions(
        at(1), [ix(900, "c0", "c1", 0.2), ix(901, "h0", "c1", 0.8), ix(902, "c1", "c0", 0.2, accepted=False)]
    )
    expected = 0.2 * (detector.risk["c0"] + detector.risk["c1"]) / 2
    assert all(type(e) is Cost and e.interaction_id == "ix-900" and e.account is None for e in effects)
    assert {e.agent_id: e.amount for e in effects} == {
        "c0": pytest.approx(expected),
        "c1": pytest.approx(expected),
    }


# ------------------------------------------------------------------- end to end


def collusion_events(tmp_path: Path, **governance: Any) -> tuple[list[Event], dict[str, Any]]:
    """Honest, deceptive and adversarial agents, two of the adversaries a planted colluding pair."""
    scenario = make_scenario(
        honest=3,
        deceptive=2,
        adversarial=3,
        epochs=6,
        governance={"collusion_detection_enabled": True, "collusion_score_threshold": 0.2, **governance},
    )
    pair = {"adversarial_1": Colluder("adversarial_2"), "adversarial_2": Colluder("adversarial_1")}
    result = run(scenario, out_dir=tmp_path, policies=pair)
    _, events = read_log(tmp_path / "events.jsonl")
    return events, result.summary


def test_a_run_with_collusion_detection_flags_the_bad_traders_reproducibly(tmp_path: Path) -> None:
    events, summary = collusion_events(tmp_path / "one")
    collusion = [e for e in events if isinstance(e, Effect) and e.lever == "collusion"]
    assert {type(e) for e in collusion} == {CollusionReport, Evidence, ReputationChange, ResourceChange}
    assert all(e.step == 5 for e in collusion)  # at epoch end
    assert not [e for e in collusion if e.agent_id.startswith("honest")]
    reports = [e for e in collusion if type(e) is CollusionReport]
    assert [e.epoch for e in reports] == list(range(6))
    burned = [e for e in collusion if type(e) is ResourceChange]
    for e in burned:
        assert e.amount < 0 and any(
            isinstance(u, LedgerUpdated)
            and u.agent_id == e.agent_id
            and u.entry == "burn"
            and u.resources_delta == pytest.approx(e.amount)
            and u.seq > e.seq
            for u in events
        )
    assert summary["flagged_pairs"] == reports[-1].flagged_pairs
    assert summary["ecosystem_collusion_risk"] == pytest.approx(reports[-1].ecosystem_risk)
    assert summary["penalty_total"] == pytest.approx(-sum(e.amount for e in burned))
    again, _ = collusion_events(tmp_path / "again")
    assert [e for e in again if isinstance(e, Effect) and e.lever == "collusion"] == collusion


class Colluder:
    """A custom policy: proposes sloppy, harmful work to its partner every step and accepts everything."""

    kind = "colluder"
    conduct = Conduct(effort=-1.0, sloppiness=1.0, defects=1.0, misuse=1.0, engagement=-1.0)

    def __init__(self, partner: str) -> None:
        self.partner = partner

    def decide(self, observation: Observation) -> Action:
        return Propose(counterparty=self.partner, conduct=self.conduct)

    def accept(self, observation: Observation, proposal: object) -> bool:
        return True

    def observe(self, outcome: object) -> None:
        pass


def test_realtime_costs_in_a_run_are_charged_inside_the_payoffs_of_flagged_pairs(tmp_path: Path) -> None:
    scenario = make_scenario(
        honest=4,
        epochs=3,
        steps=5,
        governance={
            "collusion_detection_enabled": True,
            "collusion_score_threshold": 0.2,
            "collusion_realtime_penalty": True,
            "collusion_realtime_rate": 0.5,
        },
    )
    colluders = {"honest_1": Colluder("honest_2"), "honest_2": Colluder("honest_1")}
    run(scenario, out_dir=tmp_path, policies=colluders)
    _, events = read_log(tmp_path / "events.jsonl")
    completed = {
        e.interaction.interaction_id: e.interaction for e in events if isinstance(e, InteractionCompleted)
    }
    costs = [e for e in events if isinstance(e, Cost) and e.lever == "collusion"]
    flagged_at: dict[str, int] = {}
    for e in events:
        if type(e) is Evidence and e.lever == "collusion":
            flagged_at.setdefault(e.agent_id, e.epoch)
    assert set(flagged_at) == {"honest_1", "honest_2"} and flagged_at["honest_1"] == 0
    pair = {"honest_1", "honest_2"}
    after = [
        i for i in completed.values() if i.epoch > 0 and i.accepted and {i.initiator, i.counterparty} == pair
    ]
    assert after and {c.interaction_id for c in costs} == {i.interaction_id for i in after}
    for cost in costs:
        i = completed[cost.interaction_id]
        assert cost.agent_id in pair and cost.epoch > flagged_at[cost.agent_id]
        assert (i.c_a if cost.agent_id == i.initiator else i.c_b) == pytest.approx(cost.amount)


# ------------------------------------------- the reference's failure: honest clusters


def reference_pair_score(exchanges: list[Exchange], counts: list[int]) -> float:
    """The reference's pair score (spec/governance.md §6.1): frequency over all pairs, benefit correlation,
    no quality gate."""
    import statistics

    n = len(exchanges)
    spread = statistics.pstdev(counts)
    z = (n - statistics.fmean(counts)) / spread if spread > 0 else 0.0
    x = exchanges[0].initiator
    gets_x = [e.benefit_initiator if e.initiator == x else e.benefit_counterparty for e in exchanges]
    gets_y = [e.benefit_counterparty if e.initiator == x else e.benefit_initiator for e in exchanges]
    corr = max(0.0, statistics.correlation(gets_x, gets_y))
    rate = sum(e.accepted for e in exchanges) / n
    mean_p = statistics.fmean(e.p for e in exchanges)
    quality = max(0.0, 2 * (0.5 - mean_p)) if rate > 0.5 else 0.0
    freq = min(1.0, max(0.0, z / 2.0))
    return (0.25 * freq + 0.30 * corr + 0.20 * max(0.0, 2 * (rate - 0.5)) + 0.25 * quality) * min(1.0, n / 10)


def dense_honest_cluster(rng: random.Random) -> list[SoftInteraction]:
    """Four agents trading often and well among themselves under a proportional tax; others rarely."""
    out = []
    for n in range(160):
        a, b = rng.sample(["h0", "h1", "h2", "h3"], 2)
        p = rng.uniform(0.6, 0.9)
        tax = 0.05 * max(3 * p - 1, 0.0)
        out.append(ix(n, a, b, p).with_costs(tax / 2, tax / 2))
    for n in range(160, 200):
        a, b = rng.sample(["h4", "h5", "h6", "h7", "h0"], 2)
        out.append(ix(n, a, b, rng.uniform(0.5, 0.9)))
    return out


def test_a_dense_honest_cluster_is_what_the_reference_flags_and_is_not_flagged_here() -> None:
    history = [Exchange.of(i) for i in dense_honest_cluster(random.Random(8))]
    by_pair: dict[frozenset[str], list[Exchange]] = {}
    for e in history:
        by_pair.setdefault(frozenset((e.initiator, e.counterparty)), []).append(e)
    counts = [len(v) for v in by_pair.values()]
    cluster = [v for k, v in by_pair.items() if k <= {"h0", "h1", "h2", "h3"}]
    assert all(reference_pair_score(v, counts) >= 0.5 for v in cluster)  # the reference's failure
    assert agent_risks(history, min_interactions=3, frequency_threshold=2.0, score_threshold=0.0) == {}


def test_an_exploiter_and_its_victim_are_not_a_colluding_pair() -> None:
    """x keeps selling y bad work y accepts; y's own work for x is good: no mutual low quality."""
    rng = random.Random(5)
    history = [Exchange.of(ix(n, "x", "y", rng.uniform(0.1, 0.3))) for n in range(30)]
    history += [Exchange.of(ix(n, "y", "x", rng.uniform(0.7, 0.9))) for n in range(30, 40)]
    assert pair_scores(history, min_interactions=3, frequency_threshold=2.0) == {}


def test_a_pair_that_prefers_each_other_scores_on_frequency_whoever_else_is_busier() -> None:
    """c0–c1 trade 20 times together and twice with each of four others; honest pairs trade 40 times."""
    rng = random.Random(6)
    history = [Exchange.of(ix(n, *rng.sample(["h0", "h1", "h2"], 2), 0.8)) for n in range(120)]
    for n in range(20):
        history.append(Exchange.of(ix(1000 + n, *(("c0", "c1") if n % 2 else ("c1", "c0")), 0.3)))
    for k, other in enumerate(["o0", "o1", "o2", "o3"]):
        for side in ("c0", "c1"):
            history += [Exchange.of(ix(2000 + 10 * k + j, side, other, 0.3)) for j in range(2)]
    scores = pair_scores(history, min_interactions=3, frequency_threshold=2.0)
    # frequency 1, reciprocity 1, acceptance 1, quality 0.4
    assert scores[("c0", "c1")] == pytest.approx(0.25 + 0.30 + 0.20 + 0.25 * 0.4)


def test_an_honest_population_under_collusion_detection_trades_exactly_as_without_it(tmp_path: Path) -> None:
    """The honest cluster is never starved: no flag, no penalty, no realtime cost, the same interactions."""
    base = {"transaction_tax_rate": 0.05}
    on = {
        **base,
        "collusion_detection_enabled": True,
        "collusion_score_threshold": 0.5,
        "collusion_realtime_penalty": True,
    }
    logs = []
    for name, governance in (("off", base), ("on", on)):
        sc = make_scenario(honest=6, epochs=10, steps=8, seed=5, governance=governance)
        run(sc, out_dir=tmp_path / name)
        logs.append(read_log(tmp_path / name / "events.jsonl")[1])
    lever_effects = [e for e in logs[1] if isinstance(e, Effect) and e.lever == "collusion"]
    assert lever_effects and all(type(e) is CollusionReport and e.flagged_pairs == 0 for e in lever_effects)
    done = [[e.interaction for e in log if isinstance(e, InteractionCompleted)] for log in logs]
    assert len(done[0]) > 30 and done[0] == done[1]
