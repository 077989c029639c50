"""The task board: posting, deadlines, claims and conflicts, verification, bounties, rework and failure."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from swarm.actions import Conduct
from swarm.core.payoff import SoftPayoffEngine
from swarm.env.tasks import (
    BAR,
    DIFFICULTIES,
    MAX_REWORK,
    ClaimConflict,
    ClaimTask,
    SubmitWork,
    TaskBoard,
    TaskBoardState,
    TaskBoardView,
    TaskClaimed,
    TaskClosed,
    TaskCreated,
    WorkVerified,
    verified_quality,
)
from swarm.events import ActionRejected
from swarm.kernel.component import Applied, At, Setup, Turn
from swarm.money import Mint
from tests.conftest import make_scenario

GOOD = Conduct(effort=1.0, sloppiness=0.0)
"""Clears every bar, whatever the verifier's noise."""
BAD = Conduct(effort=-1.0, sloppiness=1.0, defects=1.0)
"""Clears none."""


def board(per_epoch: int = 2, deadline: int = 2, bounty: float = 5.0, seed: int = 0) -> TaskBoardState:
    return TaskBoardState(random.Random(seed), per_epoch=per_epoch, deadline_epochs=deadline, bounty=bounty)


STEP = At(0, 1, 1)


def act(s: TaskBoardState, *pairs: tuple[str, object], at: At = STEP) -> Applied:
    return s.apply(at, [Turn(k, agent, action) for k, (agent, action) in enumerate(pairs)])  # type: ignore[arg-type]


def claim(task_id: str = "task-1") -> ClaimTask:
    return ClaimTask(task_id=task_id)


def submit(task_id: str = "task-1", conduct: Conduct = GOOD) -> SubmitWork:
    return SubmitWork(task_id=task_id, content="done", conduct=conduct)


# ------------------------------------------------------------ posting, expiry


def test_each_epoch_posts_its_tasks_with_a_deadline() -> None:
    s = board(per_epoch=3, deadline=2)
    events = s.open_epoch(4)
    assert [type(e) for e in events] == [TaskCreated] * 3
    created = [e for e in events if isinstance(e, TaskCreated)]
    assert [e.task_id for e in created] == ["task-1", "task-2", "task-3"]
    assert all(e.deadline_epoch == 6 and e.epoch == 4 and e.difficulty in DIFFICULTIES for e in created)
    assert all(e.bounty > 0 for e in created)
    assert [t.task_id for t in s.view().open_tasks] == ["task-1", "task-2", "task-3"]
    assert [e.task_id for e in s.open_epoch(5) if isinstance(e, TaskCreated)] == [
        "task-4",
        "task-5",
        "task-6",
    ]


def test_harder_tasks_pay_more() -> None:
    s = board(per_epoch=60, bounty=5.0)
    s.open_epoch(0)
    paid = {t.difficulty: t.bounty for t in s.view().open_tasks}
    assert set(paid) == set(DIFFICULTIES)
    assert [paid[d] for d in DIFFICULTIES] == sorted(paid[d] for d in DIFFICULTIES)
    assert len(set(paid.values())) == len(DIFFICULTIES)
    assert paid["medium"] == 5.0


def test_a_board_with_no_tasks_per_epoch_stays_empty() -> None:
    s = board(per_epoch=0)
    assert s.open_epoch(0) == [] and s.view() == TaskBoardView()


def test_open_and_claimed_tasks_expire_at_their_deadline() -> None:
    s = board(per_epoch=2, deadline=2)
    s.open_epoch(0)
    act(s, ("a", claim("task-1")))
    assert [e.task_id for e in s.open_epoch(1) if isinstance(e, TaskClosed)] == []  # type: ignore[attr-defined]
    events = s.open_epoch(2)
    closed = [e for e in events if isinstance(e, TaskClosed)]
    assert closed == [
        TaskClosed(epoch=2, task_id="task-1", status="expired", agent_id="a"),
        TaskClosed(epoch=2, task_id="task-2", status="expired", agent_id=None),
    ]
    assert events.index(closed[-1]) < min(events.index(e) for e in events if isinstance(e, TaskCreated))
    on_board = {t.task_id for t in (*s.view().open_tasks, *s.view().claimed_tasks)}
    assert on_board == {"task-3", "task-4", "task-5", "task-6"}
    # an expired task can neither be claimed nor worked on
    (rejected,) = act(s, ("a", submit("task-1")), at=At(2, 1, 1)).events
    assert isinstance(rejected, ActionRejected)


def test_finished_tasks_leave_the_board_and_do_not_expire() -> None:
    s = board(per_epoch=1, deadline=1)
    s.open_epoch(0)
    act(s, ("a", claim()))
    act(s, ("a", submit()))
    events = s.open_epoch(1)
    assert not any(isinstance(e, TaskClosed) for e in events)
    assert "task-1" not in s.tasks


# -------------------------------------------------------------------- claims


def test_a_claim_takes_an_open_task() -> None:
    s = board()
    s.open_epoch(0)
    (event,) = act(s, ("a", claim("task-2")), at=At(0, 3, 3)).events
    assert event == TaskClaimed(epoch=0, step=3, task_id="task-2", agent_id="a")
    view = s.view()
    assert [t.task_id for t in view.open_tasks] == ["task-1"]
    assert [(t.task_id, t.claimed_by, t.status) for t in view.claimed_tasks] == [("task-2", "a", "claimed")]
    assert [t.task_id for t in view.tasks_of("a")] == ["task-2"]
    assert view.tasks_of("b") == ()


def test_the_first_claim_in_schedule_order_wins_and_the_others_conflict() -> None:
    s = board()
    s.open_epoch(0)
    events = act(s, ("c", claim()), ("a", claim()), ("b", claim()), ("b", claim("task-2"))).events
    assert events == [
        TaskClaimed(step=1, task_id="task-1", agent_id="c"),
        ClaimConflict(step=1, task_id="task-1", agent_id="a", winner="c"),
        ClaimConflict(step=1, task_id="task-1", agent_id="b", winner="c"),
        TaskClaimed(step=1, task_id="task-2", agent_id="b"),
    ]
    assert s.tasks["task-1"].claimed_by == "c"


def test_claiming_a_task_taken_in_an_earlier_step_is_refused_not_a_conflict() -> None:
    s = board()
    s.open_epoch(0)
    act(s, ("a", claim()))
    events = act(s, ("b", claim()), ("b", claim("task-99")), at=At(0, 2, 2)).events
    assert [(type(e), e.reason) for e in events] == [  # type: ignore[attr-defined]
        (ActionRejected, "task task-1 is not open"),
        (ActionRejected, "task task-99 is not open"),
    ]
    assert s.tasks["task-1"].claimed_by == "a"


# -------------------------------------------------------------- submissions


def test_work_can_only_be_submitted_by_the_claimer() -> None:
    s = board()
    s.open_epoch(0)
    act(s, ("a", claim()))
    events = act(s, ("b", submit("task-1")), ("b", submit("task-2")), ("b", submit("task-9"))).events
    assert [(type(e), e.agent_id, e.action, e.reason) for e in events] == [  # type: ignore[attr-defined]
        (ActionRejected, "b", "submit_work", "task task-1 is not claimed by b"),
        (ActionRejected, "b", "submit_work", "task task-2 is not claimed by b"),
        (ActionRejected, "b", "submit_work", "task task-9 is not claimed by b"),
    ]
    assert s.tasks["task-1"].status == "claimed" and s.tasks["task-2"].status == "open"


def test_approved_work_completes_the_task_and_mints_its_bounty() -> None:
    s = board()
    s.open_epoch(0)
    bounty = s.tasks["task-1"].bounty
    act(s, ("a", claim()))
    out = act(s, ("a", submit()), at=At(0, 4, 4))
    verified, closed = out.events
    assert isinstance(verified, WorkVerified) and verified.approved and verified.agent_id == "a"
    assert verified.quality >= BAR[s.tasks["task-1"].difficulty]
    assert closed == TaskClosed(
        step=4, task_id="task-1", status="completed", agent_id="a", bounty_paid=bounty
    )
    assert out.entries == [Mint(account="a", amount=bounty, reason="bounty for task-1", ref="task-1")]
    assert s.view().tasks_of("a") == ()
    again = act(s, ("a", submit()), ("b", claim()))
    assert all(isinstance(e, ActionRejected) for e in again.events) and again.entries == []


def test_rejected_work_goes_back_for_rework_then_the_task_fails() -> None:
    s = board()
    s.open_epoch(0)
    act(s, ("a", claim()))
    for attempt in range(1, MAX_REWORK + 1):
        out = act(s, ("a", submit(conduct=BAD)))
        (verified,) = out.events
        assert isinstance(verified, WorkVerified) and not verified.approved
        assert out.entries == []
        (mine,) = s.view().tasks_of("a")
        assert (mine.status, mine.rework_requests) == ("claimed", attempt)
    out = act(s, ("a", submit(conduct=BAD)))
    verified, closed = out.events
    assert isinstance(verified, WorkVerified) and not verified.approved
    assert closed == TaskClosed(step=1, task_id="task-1", status="failed", agent_id="a")
    assert out.entries == [] and s.view().tasks_of("a") == ()
    (refused,) = act(s, ("a", submit())).events
    assert isinstance(refused, ActionRejected)


def test_reworked_work_can_still_be_approved() -> None:
    s = board()
    s.open_epoch(0)
    act(s, ("a", claim()))
    act(s, ("a", submit(conduct=BAD)))
    out = act(s, ("a", submit(conduct=GOOD)))
    assert [type(e) for e in out.events] == [WorkVerified, TaskClosed]
    assert [e.amount for e in out.entries] == [s.tasks["task-1"].bounty]  # type: ignore[attr-defined]


# ---------------------------------------------------------------- verifier

conducts = st.builds(
    Conduct,
    effort=st.floats(-1.0, 1.0),
    facade=st.floats(0.0, 1.0),
    sloppiness=st.floats(0.0, 1.0),
    defects=st.floats(0.0, 1.0),
)


@settings(max_examples=200, deadline=None)
@given(conducts, st.integers(0, 2**32 - 1))
def test_verified_quality_is_a_unit_score(conduct: Conduct, seed: int) -> None:
    assert 0.0 <= verified_quality(random.Random(seed), conduct) <= 1.0


@settings(max_examples=200, deadline=None)
@given(conducts, st.floats(0.0, 1.0), st.integers(0, 2**32 - 1))
def test_more_effort_never_lowers_the_verified_quality(conduct: Conduct, more: float, seed: int) -> None:
    better = conduct.but(effort=min(1.0, conduct.effort + more))
    sloppier = conduct.but(sloppiness=min(1.0, conduct.sloppiness + more))
    base = verified_quality(random.Random(seed), conduct)
    assert verified_quality(random.Random(seed), better) >= base
    assert verified_quality(random.Random(seed), sloppier) <= base


def test_the_verifier_is_deterministic_for_a_seed() -> None:
    draws = [verified_quality(random.Random(5), Conduct()) for _ in range(3)]
    assert len(set(draws)) == 1
    assert verified_quality(random.Random(6), Conduct()) != draws[0]


# --------------------------------------------------------------- component


def task_board(seed: int = 7) -> TaskBoard:
    scenario = make_scenario(seed=seed, environment={"tasks_per_epoch": 3, "task_deadline_epochs": 1})
    return TaskBoard(
        Setup(scenario, scenario.section("tasks"), SoftPayoffEngine(scenario.payoff), {"a": "honest"})
    )


def test_the_component_posts_at_epoch_start_and_applies_turns() -> None:
    tb = task_board()
    opened = tb.epoch_start(At(0, 0, 0), ())
    assert [type(e) for e in opened.events] == [TaskCreated] * 3 and opened.entries == []
    out = tb.apply(At(0, 0, 0), [Turn(0, "a", claim())], {})
    assert [type(e) for e in out.events] == [TaskClaimed]
    assert [t.task_id for t in tb.view(At(0, 1, 1)).tasks_of("a")] == ["task-1"]
    assert len(TaskBoard.prompt_view(tb.view(At(0, 1, 1)), "a").open_tasks) == 2
    closed = tb.epoch_start(At(1, 0, 5), ())
    assert [e.status for e in closed.events if isinstance(e, TaskClosed)] == ["expired"] * 3


def test_the_same_seed_posts_the_same_tasks() -> None:
    def posted(seed: int) -> list[tuple[str, str, float]]:
        tb = task_board(seed)
        return [
            (e.title, e.difficulty, e.bounty)
            for epoch in range(4)
            for e in tb.epoch_start(At(epoch, 0, epoch), ()).events
            if isinstance(e, TaskCreated)
        ]

    assert posted(3) == posted(3)
    assert posted(3) != posted(4)
