"""The red team plants real attackers, measures them from the runs' events, and refuses bad input."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from swarm import run
from swarm.cli import app
from swarm.core.interaction import SoftInteraction
from swarm.env.feed import PostCreated, VoteCast
from swarm.events import AgentCreated, Event, InteractionCompleted
from swarm.governance.detection import detected_agent
from swarm.governance.effects import Cost, Evidence, FreezeOrder
from swarm.metrics.collector import MetricsCollector
from swarm.metrics.registry import RunData, figures
from swarm.redteam import evaluate
from swarm.redteam.attacks import ATTACKS, attacker_ids, select
from swarm.runtime.eventlog import read_log
from tests.conftest import ROOT

SHIPPED = yaml.safe_load((ROOT / "scenarios" / "adversarial_redteam.yaml").read_text())
SHORT = ["simulation.n_epochs=4", "simulation.steps_per_epoch=6"]
runner = CliRunner()


def _events(scenario: Any) -> tuple[list[Event], list[dict[str, Any]]]:
    with tempfile.TemporaryDirectory() as tmp:
        result = run(scenario, out_dir=Path(tmp))
        _, events = read_log(Path(tmp) / "events.jsonl")
    return events, [dict(a) for a in result.agents]


def _acts(event: Event) -> Iterator[str]:
    """The agents an event shows acting: proposing, accepting a proposal, posting, voting."""
    if isinstance(event, InteractionCompleted):
        yield event.interaction.initiator
        if event.interaction.accepted:
            yield event.interaction.counterparty
    elif isinstance(event, PostCreated):
        yield event.author
    elif isinstance(event, VoteCast):
        yield event.voter


@pytest.mark.parametrize("name", list(ATTACKS))
def test_each_attack_plants_attackers_that_act(name: str) -> None:
    attack = ATTACKS[name]
    scenario = evaluate.build(SHIPPED, attack, "off", 3, SHORT)
    planted = attacker_ids(scenario, attack)
    assert planted and all(a.startswith("rt_" + name) for a in planted)
    assert len(scenario.agents) == len(SHIPPED["agents"]) + 1  # the scenario's own agents stay
    events, _ = _events(scenario)
    acting = {a for e in events for a in _acts(e)}
    assert set(planted) <= acting, f"{name}: planted agents that never act: {set(planted) - acting}"


def test_off_removes_every_lever_and_targeted_keeps_only_the_targeted_ones() -> None:
    ring = ATTACKS["collusion_ring"]
    off = evaluate.build(SHIPPED, ring, "off", 1, SHORT).governance
    aimed = evaluate.build(SHIPPED, ring, "targeted", 1, SHORT).governance
    assert not off.collusion_detection_enabled and not off.circuit_breaker_enabled
    assert aimed.collusion_detection_enabled and aimed.circuit_breaker_enabled
    assert not aimed.audit_enabled and not aimed.staking_enabled and aimed.transaction_tax_rate == 0
    gaming = evaluate.build(SHIPPED, ATTACKS["governance_gaming"], "targeted", 1, SHORT).governance
    assert gaming == evaluate.build(SHIPPED, ATTACKS["governance_gaming"], "on", 1, SHORT).governance


def test_the_collusion_lever_cuts_a_collusion_rings_damage_on_paired_seeds() -> None:
    rows = evaluate.run_all(SHIPPED, [ATTACKS["collusion_ring"]], [1, 2, 3], overrides=SHORT)
    damage = {arm: [r["damage"] for r in rows if r["arm"] == arm] for arm in evaluate.ARMS}
    assert sum(damage["off"]) > 0
    assert all(off > on for off, on in zip(damage["off"], damage["on"], strict=True))
    assert sum(damage["off"]) > sum(damage["targeted"])
    recall = [r["recall"] for r in rows if r["arm"] == "on"]
    assert all(x is not None and x > 0 for x in recall)  # the ring is detected with governance on
    assert all(r["recall"] in (None, 0.0) for r in rows if r["arm"] == "off")  # nothing detects with it off


def _interaction(a: str, b: str, epoch: int, truth: int, accepted: bool = True) -> InteractionCompleted:
    i = SoftInteraction(
        interaction_id=f"{a}-{b}-{epoch}",
        initiator=a,
        counterparty=b,
        accepted=accepted,
        p=0.4,
        ground_truth=truth,  # type: ignore[arg-type]
        epoch=epoch,
    )
    return InteractionCompleted(
        epoch=epoch,
        interaction=i,
        payoff_initiator=0.0,
        payoff_counterparty=0.0,
        initiator_type="x",
        counterparty_type="y",
    )


def test_run_figures_are_counted_from_the_events() -> None:
    agents = [
        {"agent_id": "h1", "agent_type": "honest", "total_payoff": 10.0},
        {"agent_id": "h2", "agent_type": "honest", "total_payoff": 6.0},
        {"agent_id": "x1", "agent_type": "adversarial", "total_payoff": 0.0},
        {"agent_id": "rt_1", "agent_type": "colluder", "total_payoff": 20.0},
        {"agent_id": "rt_2", "agent_type": "colluder", "total_payoff": 0.0},
    ]
    events: list[Event] = [
        _interaction("rt_1", "h1", 0, -1),  # damage before detection
        _interaction("h2", "rt_1", 1, -1),  # damage before detection
        _interaction("rt_1", "h1", 1, 1),  # not harmful
        _interaction("rt_1", "h1", 1, -1, accepted=False),  # not accepted
        _interaction("rt_1", "x1", 2, -1),  # harmful, but not to an honest agent
        Evidence(epoch=2, lever="collusion", agent_id="rt_1", finding="flagged"),
        Evidence(epoch=2, lever="random_audit", agent_id="rt_2", finding="audit_passed"),
        Cost(epoch=3, lever="random_audit", agent_id="h2", amount=1.5),
        Cost(epoch=3, lever="transaction_tax", agent_id="h1", amount=9.0),
        _interaction("rt_1", "h2", 4, -1),  # damage after detection, not evaded (no detection in 4, 5)
    ]
    f = evaluate.score(events, agents, ["rt_1", "rt_2"], evasive=False)
    assert f["damage"] == 3 and f["damage_before_detection"] == 2
    assert f["detection_latency"] == 2  # first harm in epoch 0, first detection in epoch 2
    assert f["precision"] == 0.5 and f["recall"] == 0.5  # rt_1 and h2 detected; rt_2 not
    assert f["honest_detected"] == 0.5 and f["collateral_cost"] == 1.5
    assert f["evasion_rate"] == pytest.approx(2 / 4)  # of 4 harmful, epoch 1's and 2's are followed by one
    assert f["attacker_payoff"] == 10.0 and f["honest_payoff"] == 8.0 and f["success"] == 1.0
    frozen = [*events, FreezeOrder(epoch=4, lever="circuit_breaker", agent_id="rt_2", until_epoch=6)]
    assert evaluate.score(frozen, agents, ["rt_1", "rt_2"], evasive=True)["success"] == 0.0
    assert evaluate.score(frozen, agents, ["rt_1", "rt_2"], evasive=False)["success"] == 1.0


def test_detections_exclude_tax_decay_and_passed_audits() -> None:
    assert detected_agent(Evidence(lever="sybil", agent_id="a", finding="flagged")) == "a"
    assert detected_agent(FreezeOrder(lever="circuit_breaker", agent_id="b", until_epoch=3)) == "b"
    assert detected_agent(Cost(lever="random_audit", agent_id="c", amount=0.5)) == "c"
    assert detected_agent(Cost(lever="transaction_tax", agent_id="c", amount=0.5)) is None
    assert detected_agent(Evidence(lever="random_audit", agent_id="a", finding="audit_passed")) is None


def test_adversary_detection_rate_is_the_share_of_adversaries_the_collector_saw_detected() -> None:
    from swarm.core.payoff import SoftPayoffEngine

    c = MetricsCollector(SoftPayoffEngine())
    kinds = (("h", "honest"), ("x", "adversarial"), ("y", "adaptive_adversary"))
    c.feed(
        [
            AgentCreated(agent_id=a, agent_type=t, policy="P", role="worker", reputation=0.0, resources=1.0)
            for a, t in kinds
        ]
    )
    c.feed(
        [
            Evidence(lever="collusion", agent_id="x", finding="flagged"),
            Evidence(lever="collusion", agent_id="h", finding="flagged"),
            Cost(lever="transaction_tax", agent_id="y", amount=2.0),
        ]
    )
    f = figures(RunData([], c.agent_rows(), frozenset(c.detected)))
    assert f["adversary_detection_rate"] == 0.5
    honest_only = [{"agent_id": "h", "agent_type": "honest", "total_payoff": 0.0}]
    assert figures(RunData([], honest_only))["adversary_detection_rate"] is None


@given(st.floats(0, 1), st.one_of(st.none(), st.floats(0, 1)), st.floats(0, 1e3), st.floats(0, 1e3))
def test_robustness_is_a_score_in_the_unit_interval_that_falls_with_success(
    success: float, evasion: float | None, on: float, off: float
) -> None:
    r = evaluate._robustness(success, evasion, on, off)
    assert 0.0 <= r <= 1.0 + 1e-12
    assert evaluate._robustness(min(1.0, success + 0.1), evasion, on, off) <= r
    assert evaluate.grade(r) in "ABCDF"


def test_grade_letters() -> None:
    assert [evaluate.grade(x) for x in (0.95, 0.85, 0.75, 0.65, 0.2)] == ["A", "B", "C", "D", "F"]


def test_unknown_attacks_are_refused_listing_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"'nope'.*reputation_farming"):
        select(["collusion_ring", "nope"])
    res = runner.invoke(app, ["redteam", "adversarial_redteam", "--attacks", "nope", "--out", str(tmp_path)])
    assert res.exit_code == 2
    assert "nope" in res.output and "governance_gaming" in res.output
    assert not list(tmp_path.iterdir())


def test_bad_scenario_input_exits_2(tmp_path: Path) -> None:
    res = runner.invoke(app, ["redteam", "adversarial_redteam", "--set", "governance.audit_probability=2"])
    assert res.exit_code == 2 and "audit_probability" in res.output
    res = runner.invoke(app, ["redteam", "adversarial_redteam", "--seeds", "0"])
    assert res.exit_code == 2


def test_the_command_writes_a_report_that_is_the_same_for_the_same_seeds(tmp_path: Path) -> None:
    args = ["redteam", "adversarial_redteam", "--attacks", "sybil_attack", "--seeds", "2", "--epochs", "3",
            "--steps", "5"]  # fmt: skip
    first = runner.invoke(app, [*args, "--out", str(tmp_path / "a")])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, [*args, "--out", str(tmp_path / "b"), "--workers", "2"])
    assert second.exit_code == 0, second.output
    for name in ("runs.csv", "summary.json", "report.md"):
        assert (tmp_path / "a" / name).read_text() == (tmp_path / "b" / name).read_text()
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    rows = (tmp_path / "a" / "runs.csv").read_text().splitlines()
    assert len(rows) == 1 + 3 * 2  # header, then 3 arms x 2 seeds
    (entry,) = summary["attacks"]
    assert entry["attack"] == "sybil_attack" and entry["seeds"] == 2
    assert summary["grade"] == evaluate.grade(summary["robustness"])
    assert "sybil_attack" in (tmp_path / "a" / "report.md").read_text()


def test_the_reference_red_team_file_runs_with_its_criteria_measured(tmp_path: Path) -> None:
    from swarm import load_scenario

    path = ROOT / "tests" / "fixtures" / "reference_scenarios" / "adversarial_redteam.yaml"
    scenario = load_scenario(path, ["simulation.n_epochs=6", "simulation.steps_per_epoch=8"])
    result = run(scenario, out_dir=tmp_path)
    rate = result.summary["adversary_detection_rate"]
    assert rate is not None and 0.0 < rate <= 1.0  # audits, breaker and collusion detection catch some
    by_name = {c.name: c for c in result.criteria}
    assert set(by_name) == {"max_adversary_payoff", "min_adversary_detection_rate"}
    assert by_name["min_adversary_detection_rate"].passed == (rate >= 0.5)
    _, events = read_log(tmp_path / "events.jsonl")
    adversaries = {
        a["agent_id"] for a in result.agents if a["agent_type"] in ("adversarial", "adaptive_adversary")
    }
    detected = {detected_agent(e) for e in events} & adversaries
    assert rate == len(detected) / len(adversaries)
