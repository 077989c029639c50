"""Composite tasks and the planner, worker and verifier roles: settings, laws, formulas, effects."""

from __future__ import annotations

import copy
import random
import statistics
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm import load_scenario, run
from swarm.agents.roles import ROLES, with_role
from swarm.agents.types import AGENT_TYPES, BuildContext
from swarm.core.proxy import ProxyComputer
from swarm.env.composite import (
    TEMPLATES,
    AssignSubtask,
    ClaimSubtask,
    CompositeState,
    CompositeTaskClosed,
    CompositeTasksConfig,
    JoinRequest,
    JoinTeam,
    SubmitSubtask,
    SubtaskAssigned,
    SubtaskVerified,
)
from swarm.errors import ScenarioError
from swarm.events import ActionRejected, Event, InteractionCompleted
from swarm.kernel.component import At, Turn
from swarm.money import Mint
from swarm.runtime.eventlog import read_log
from swarm.views import AgentPublic
from tests.conftest import ROOT, make_scenario

SHIPPED = yaml.safe_load((ROOT / "scenarios" / "emergent_capabilities.yaml").read_text())
CAPS = {
    "a": ("research", "analysis"),
    "b": ("communication", "creativity", "verification"),
    "c": ("planning", "coordination", "execution"),
}


def _scenario(data: dict[str, Any], seed: int, epochs: int = 10, steps: int = 10) -> Any:
    data = copy.deepcopy(data)
    data["simulation"].update(seed=seed, n_epochs=epochs, steps_per_epoch=steps)
    return load_scenario(data)


def _events(data: dict[str, Any], seed: int, tmp: Path, **kw: Any) -> list[Event]:
    out = tmp / f"run-{seed}-{len(list(tmp.iterdir()))}"
    run(_scenario(data, seed, **kw), out_dir=out)
    return read_log(out / "events.jsonl")[1]


def _with_roles(data: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    data = copy.deepcopy(data)
    for item in data["agents"]:
        if item.get("role", "worker") == old:
            item["role"] = new
    return data


def _state(config: CompositeTasksConfig | None = None, verifiers: tuple[str, ...] = ()) -> CompositeState:
    return CompositeState(
        config or CompositeTasksConfig(templates=["research_synthesis"]),
        random.Random(1),
        ProxyComputer(),
        CAPS,
        verifiers,
    )


def _at(clock: int) -> At:
    return At(0, clock, clock)


AGENTS = {a: AgentPublic(a, 0.0, 100.0) for a in CAPS}


# ------------------------------------------------------------------ settings


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"composite_tasks": {"templates": ["research_synthesis", "cooking"]}}, "unknown template 'cooking'"),
        ({"composite_tasks": {"tasks_per_epoch": -1}}, "tasks_per_epoch"),
        ({"composite_tasks": {"capability_weight": 1.5}}, "capability_weight"),
        ({"composite_tasks": {"team_formation": "cliques"}}, "team_formation"),
        ({"composite_tasks": {"teams": 3}}, "teams"),
        (
            {"composite_tasks": {"enabled": False}, "governance": {"composite_tasks_enabled": True}},
            "the two switches to agree",
        ),
    ],
)
def test_bad_composite_task_keys_are_refused_naming_key_and_expectation(
    change: dict[str, Any], words: str
) -> None:
    with pytest.raises(ScenarioError, match=words):
        make_scenario(**change)


def test_bad_capabilities_are_refused_naming_the_known_ones() -> None:
    for caps, words in (
        (["research", "juggling"], "unknown capability 'juggling'"),
        (["research"] * 2, "twice"),
    ):
        with pytest.raises(ScenarioError, match=words) as info:
            load_scenario({"agents": [{"type": "honest", "capabilities": caps}]})
        assert "agents.0.capabilities" in str(info.value)
    with pytest.raises(ScenarioError, match="communication"):
        load_scenario({"agents": [{"type": "honest", "capabilities": ["x"]}]})


def test_the_reference_switch_alone_turns_composite_tasks_on(tmp_path: Path) -> None:
    # a section that is on wins over the switch's default (a run's header writes both)
    sc = make_scenario(composite_tasks={}, governance={"composite_tasks_enabled": False})
    assert sc.section("composite_tasks") is not None
    sc = make_scenario(governance={"composite_tasks_enabled": True}, epochs=1, steps=2)
    run(sc, out_dir=tmp_path)
    kinds = {e.type for e in read_log(tmp_path / "events.jsonl")[1]}
    assert "composite_task_created" in kinds and "capabilities_measured" in kinds


def test_without_the_section_nothing_changes_and_the_metrics_are_none(tmp_path: Path) -> None:
    sc = make_scenario(honest=2, opportunistic=1, epochs=2, steps=3)
    ctx = BuildContext(sc, 7, {"honest_1": "honest"})
    policy = AGENT_TYPES["honest"].build("honest_1", sc.agents[0], ctx)
    for role in ("worker", "planner", "verifier"):
        assert with_role(policy, role, "honest_1", ctx.stream("honest_1"), sc) is policy
    result = run(sc, out_dir=tmp_path)
    summary = dict(result.summary)
    assert summary["composite_tasks_completed"] is None and summary["avg_synergy_score"] is None
    assert not any("capability_synergy" in e or "composite_tasks_completed" in e for e in result.epochs)
    kinds = {e.type for e in read_log(tmp_path / "events.jsonl")[1]}
    assert not kinds & {"composite_task_created", "capabilities_measured", "team_joined"}


# ------------------------------------------------------------------ formulas


def _team(state: CompositeState, task_id: str, members: tuple[str, ...]) -> None:
    for k, m in enumerate(members):
        state.apply(_at(k), [Turn(0, m, JoinTeam(task_id=task_id))], AGENTS)
        state.resolve(_at(k), [(members[0], q, True) for qs in state.questions().values() for q in qs])


def test_a_completed_task_scores_and_pays_as_the_reference_example() -> None:
    state = _state()
    state.open_epoch(At(0, 0, 0))
    _team(state, "ct-1", ("a", "b"))
    task = state.tasks["ct-1"]
    assert task.status == "in_progress"
    for s, who, q in zip(task.subtasks, "aaabb", (0.8, 0.8, 0.8, 0.9, 0.9), strict=True):
        s.assignee, s.status, s.quality = who, "completed", q
    from swarm.kernel.component import Applied

    out = Applied()
    closed = state._complete(_at(0), task, out)
    # economies.md §1.3: final 0.835, coordination 0.667, synergy 0.634, information flow 0.525
    assert closed.final_quality == pytest.approx(0.835)
    assert closed.coordination == pytest.approx(2 / 3, abs=1e-6)
    assert closed.synergy == pytest.approx(0.634)
    assert closed.information_flow == pytest.approx(0.525)
    paid = {e.account: e.amount for e in out.entries if isinstance(e, Mint)}
    assert paid == pytest.approx({"a": 18.069, "b": 11.931}, abs=1e-3)


def test_the_bonus_goes_to_contributors_only_and_the_budget_caps_the_payout() -> None:
    state = _state(CompositeTasksConfig(templates=["problem_solving"]))
    state.open_epoch(At(0, 0, 0))
    _team(state, "ct-1", ("a", "b", "c"))
    task = state.tasks["ct-1"]
    for s in task.subtasks:
        s.assignee, s.status, s.quality = "a", "completed", 1.0
    from swarm.kernel.component import Applied

    out = Applied()
    state._complete(_at(0), task, out)
    mints = [e for e in out.entries if isinstance(e, Mint)]
    assert {e.account for e in mints} == {"a"}  # b and c did nothing
    assert sum(e.amount for e in mints) == pytest.approx(task.bounty + task.bonus)
    state = _state(CompositeTasksConfig(templates=["problem_solving"]))
    state.open_epoch(At(0, 0, 0))
    _team(state, "ct-1", ("a", "b", "c"))
    task = state.tasks["ct-1"]
    for s in task.subtasks:
        s.assignee, s.status, s.quality = "a", "completed", 1.0
    out = Applied()
    state._complete(_at(task.started + 80), task, out)  # type: ignore[operator]
    assert sum(e.amount for e in out.entries if isinstance(e, Mint)) == pytest.approx(task.budget * 0.2)


def test_a_planner_lead_counts_the_capabilities_it_already_took_this_step() -> None:
    from swarm.agents.roles.planner import PlannerRole
    from swarm.runtime.rng import Stream

    role = PlannerRole("c", Stream(1), make_scenario(composite_tasks={}))

    class Obs:
        epoch, step = 0, 0

    missing = ("research", "verification")
    assert role.consider_join(Obs(), JoinRequest("ct-1", "a", ("research",), missing))  # type: ignore[arg-type]
    assert not role.consider_join(Obs(), JoinRequest("ct-1", "x", ("research",), missing))  # type: ignore[arg-type]
    assert role.consider_join(Obs(), JoinRequest("ct-1", "b", ("verification",), missing))  # type: ignore[arg-type]


# ------------------------------------------------------------------ laws

_ACTION = st.tuples(
    st.sampled_from(["join", "claim", "assign", "submit"]),
    st.sampled_from(sorted(CAPS)),
    st.integers(0, 4),
    st.sampled_from(sorted(CAPS)),
    st.floats(-1.0, 1.0),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_ACTION, max_size=80), st.sampled_from(sorted(TEMPLATES)))
def test_no_subtask_completes_before_its_prerequisites_and_no_money_appears_from_nowhere(
    script: list[tuple[str, str, int, str, float]], template: str
) -> None:
    state = _state(CompositeTasksConfig(templates=[template], max_rework=1))  # type: ignore[list-item]
    state.open_epoch(At(0, 0, 0))
    task = state.tasks["ct-1"]
    bounty, bonus = task.bounty, task.bonus
    minted = 0.0
    for clock, (kind, agent, index, other, effort) in enumerate(script, start=1):
        from swarm.actions import Conduct

        action: Any = {
            "join": JoinTeam(task_id="ct-1"),
            "claim": ClaimSubtask(task_id="ct-1", subtask=index),
            "assign": AssignSubtask(task_id="ct-1", subtask=index, agent_id=other),
            "submit": SubmitSubtask(task_id="ct-1", subtask=index, conduct=Conduct(effort=effort)),
        }[kind]
        out = state.apply(_at(clock), [Turn(0, agent, action)], AGENTS)
        answers = [(lead, q, True) for lead, qs in state.questions().items() for q in qs]
        out.add(state.resolve(_at(clock), answers))
        minted += sum(e.amount for e in out.entries if isinstance(e, Mint))
        done: set[int] = set()
        for e in out.events:
            if isinstance(e, SubtaskVerified) and e.approved:
                for dep in TEMPLATES[template].subtasks[e.subtask].after:
                    assert dep in done or task.subtasks[dep].status == "completed"
                done.add(e.subtask)
        for s in task.subtasks:
            if s.status == "completed":
                assert all(task.subtasks[d].status == "completed" for d in s.spec.after)
    assert minted <= bounty + bonus + 1e-6


# ------------------------------------------------------------------ effects


def _summary(events: list[Event]) -> tuple[int, float]:
    done = [e for e in events if isinstance(e, CompositeTaskClosed) and e.status == "completed"]
    seen = [e.quality for e in events if isinstance(e, SubtaskVerified)]
    return len(done), statistics.mean(seen)


def test_complementary_teams_complete_more_and_better_tasks_than_random_teams(tmp_path: Path) -> None:
    data = _with_roles(SHIPPED, "planner", "worker")
    rand = copy.deepcopy(data)
    rand["composite_tasks"]["team_formation"] = "random"
    good = [_summary(_events(data, s, tmp_path, epochs=8)) for s in range(6)]
    bad = [_summary(_events(rand, s, tmp_path, epochs=8)) for s in range(6)]
    assert statistics.mean(n for n, _ in good) > statistics.mean(n for n, _ in bad) + 2
    assert statistics.mean(q for _, q in good) > statistics.mean(q for _, q in bad) + 0.05
    assert sum(n > m for (n, _), (m, _) in zip(good, bad, strict=True)) >= 5


def test_workers_do_the_composite_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _with_roles(SHIPPED, "planner", "worker")
    with_workers = _events(data, 1, tmp_path, epochs=4)
    assert any(e.type == "subtask_submitted" for e in with_workers)
    monkeypatch.setattr(ROLES, "_items", {k: v for k, v in ROLES._items.items() if k != "worker"})
    without = _events(data, 1, tmp_path, epochs=4)
    kinds = {e.type for e in without}
    assert "composite_task_created" in kinds and not kinds & {"team_joined", "subtask_submitted"}


def test_planners_assign_subtasks_evenly_and_end_claim_conflicts(tmp_path: Path) -> None:
    def measure(data: dict[str, Any]) -> tuple[float, int, int]:
        coord, conflicts, assigned = [], 0, 0
        for seed in range(5):
            events = _events(data, seed, tmp_path)
            coord += [e.coordination for e in events if isinstance(e, CompositeTaskClosed) and e.coordination]
            conflicts += sum(isinstance(e, ActionRejected) and e.action == "claim_subtask" for e in events)
            assigned += sum(isinstance(e, SubtaskAssigned) and e.by != e.agent_id for e in events)
        return statistics.mean(coord), conflicts, assigned

    with_planners = measure(SHIPPED)
    without = measure(_with_roles(SHIPPED, "planner", "worker"))
    assert with_planners[2] > 0 and without[2] == 0  # only planners assign work to others
    assert with_planners[1] < without[1]
    assert with_planners[0] > without[0] + 0.05


def test_a_verifier_catches_facades_and_its_rejections_are_evidence(tmp_path: Path) -> None:
    data = copy.deepcopy(SHIPPED)
    data["agents"] = [
        {
            "type": "deceptive",
            "count": 3,
            "capabilities": ["research", "analysis", "planning", "coordination"],
        },
        {
            "type": "honest",
            "count": 3,
            "capabilities": ["execution", "verification", "creativity", "communication"],
        },
        {
            "type": "honest",
            "name": "verifier",
            "count": 1,
            "role": "verifier",
            "capabilities": ["verification"],
        },
    ]
    without = _with_roles(data, "verifier", "worker")

    def measure(d: dict[str, Any]) -> tuple[float, int]:
        approved, evidence = [], 0
        for seed in range(4):
            events = _events(d, seed, tmp_path)
            approved += [
                e.approved
                for e in events
                if isinstance(e, SubtaskVerified) and e.agent_id.startswith("deceptive")
            ]
            last: dict[str, SubtaskVerified] = {}
            for e in events:
                if isinstance(e, SubtaskVerified):
                    last[f"{e.task_id}.{e.subtask}"] = e
                elif isinstance(e, InteractionCompleted) and e.interaction.interaction_id.startswith("ct-"):
                    verdict = last[e.interaction.interaction_id.rsplit(".", 1)[0]]
                    if verdict.verifier is not None and not verdict.approved:
                        assert e.interaction.counterparty == verdict.verifier
                        assert e.interaction.observables.verifier_rejections > 0
                        evidence += 1
        return statistics.mean(approved), evidence

    checked, evidence = measure(data)
    unchecked, none = measure(without)
    assert checked < unchecked - 0.1
    assert evidence > 0 and none == 0


def test_same_seed_same_log(tmp_path: Path) -> None:
    a = _events(SHIPPED, 3, tmp_path, epochs=3)
    b = _events(SHIPPED, 3, tmp_path, epochs=3)
    strip = [e for e in a if e.type != "run_ended"]
    assert strip == [e for e in b if e.type != "run_ended"]
    assert any(e.type == "composite_task_closed" for e in a)
