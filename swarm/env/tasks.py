"""The task board: tasks appear each epoch, agents claim them, submit work, a verifier checks it.

Work quality as the verifier sees it is drawn from the submitter's conduct:
``q = clamp(0.5 + 0.5·(effort + facade) − 0.2·sloppiness − 0.3·defects + U(−0.1, 0.1), 0, 1)``.
Work at or above the task's bar (by difficulty) completes the task and pays its
bounty into the worker's resources; below it the task goes back for rework, and
after ``max_rework`` rejections it fails. Two claims on one task in the same step
are a *claim conflict*: the first in schedule order wins, the rest are recorded.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from actors import Actor, Message, handler
from swarm.events import (
    ActionRejected,
    ClaimConflict,
    Event,
    TaskClaimed,
    TaskClosed,
    TaskCreated,
    WorkVerified,
)
from swarm.messages import ClaimTask, Conduct, Difficulty, SubmitWork, TaskStatus, TaskView

DIFFICULTIES: tuple[Difficulty, ...] = ("trivial", "easy", "medium", "hard", "expert")
_BAR = {"trivial": 0.3, "easy": 0.4, "medium": 0.5, "hard": 0.6, "expert": 0.7}
_BOUNTY_SCALE = {"trivial": 0.5, "easy": 0.75, "medium": 1.0, "hard": 1.5, "expert": 2.0}
_TITLES = (
    "Summarise findings",
    "Review a proposal",
    "Plan a release",
    "Optimise a pipeline",
    "Audit a ledger",
)
MAX_REWORK = 2


@dataclass(slots=True)
class _Task:
    task_id: str
    title: str
    difficulty: Difficulty
    bounty: float
    deadline_epoch: int
    status: TaskStatus = "open"
    claimed_by: str | None = None
    rework_requests: int = 0

    def view(self) -> TaskView:
        return TaskView.model_construct(
            task_id=self.task_id,
            title=self.title,
            difficulty=self.difficulty,
            bounty=self.bounty,
            min_reputation=0.0,
            status=self.status,
            claimed_by=self.claimed_by,
            deadline_epoch=self.deadline_epoch,
            rework_requests=self.rework_requests,
        )


def verified_quality(rng: random.Random, conduct: Conduct) -> float:
    """The verifier's quality score for work done with ``conduct`` (see module docstring)."""
    q = 0.5 + 0.5 * (conduct.effort + conduct.facade) - 0.2 * conduct.sloppiness - 0.3 * conduct.defects
    q += rng.uniform(-0.1, 0.1)
    return min(1.0, max(0.0, q))


class TaskBoardState:
    """Tasks and their lifecycle; pure and synchronous (the TaskBoard actor wraps it)."""

    def __init__(self, rng: random.Random, *, per_epoch: int, deadline_epochs: int, bounty: float) -> None:
        self.rng = rng
        self.per_epoch = per_epoch
        self.deadline_epochs = deadline_epochs
        self.bounty = bounty
        self.tasks: dict[str, _Task] = {}
        self._counter = 0

    def open_epoch(self, epoch: int) -> list[Event]:
        """Expire overdue tasks, then post this epoch's new ones."""
        events: list[Event] = []
        for task in self.tasks.values():
            if task.status in ("open", "claimed") and epoch >= task.deadline_epoch:
                task.status = "expired"
                events.append(
                    TaskClosed(
                        epoch=epoch, step=0, task_id=task.task_id, status="expired", agent_id=task.claimed_by
                    )
                )
        self.tasks = {k: t for k, t in self.tasks.items() if t.status in ("open", "claimed")}
        for _ in range(self.per_epoch):
            self._counter += 1
            difficulty = self.rng.choice(DIFFICULTIES)
            bounty = round(self.bounty * _BOUNTY_SCALE[difficulty], 2)
            task = _Task(
                f"task-{self._counter}",
                self.rng.choice(_TITLES),
                difficulty,
                bounty,
                epoch + self.deadline_epochs,
            )
            self.tasks[task.task_id] = task
            events.append(
                TaskCreated(
                    epoch=epoch,
                    step=0,
                    task_id=task.task_id,
                    title=task.title,
                    difficulty=difficulty,
                    bounty=bounty,
                    deadline_epoch=task.deadline_epoch,
                )
            )
        return events

    def views(self) -> tuple[tuple[TaskView, ...], tuple[TaskView, ...]]:
        open_ = tuple(t.view() for t in self.tasks.values() if t.status == "open")
        claimed = tuple(t.view() for t in self.tasks.values() if t.status == "claimed")
        return open_, claimed


class BoardBatch(Message):
    epoch: int
    step: int
    items: tuple[tuple[int, str, ClaimTask | SubmitWork], ...]


class BoardResult(Message):
    events: tuple[tuple[int, Event], ...]
    payouts: tuple[tuple[int, str, float, str], ...]
    """(index, agent, amount, reason) credits for the ledger."""


class OpenEpoch(Message):
    epoch: int


class OpenedEpoch(Message):
    events: tuple[Event, ...]


class BoardView(Message):
    pass


class BoardSnapshot(Message):
    open_tasks: tuple[TaskView, ...]
    claimed_tasks: tuple[TaskView, ...]


class TaskBoard(Actor):
    """Owns the task board: posts tasks, arbitrates claims, verifies submitted work."""

    def __init__(self, state: TaskBoardState) -> None:
        self._state = state

    @handler
    async def on_open(self, msg: OpenEpoch) -> OpenedEpoch:
        return OpenedEpoch(events=tuple(self._state.open_epoch(msg.epoch)))

    @handler
    async def on_view(self, msg: BoardView) -> BoardSnapshot:
        open_, claimed = self._state.views()
        return BoardSnapshot(open_tasks=open_, claimed_tasks=claimed)

    @handler
    async def on_batch(self, msg: BoardBatch) -> BoardResult:
        s = self._state
        events: list[tuple[int, Event]] = []
        payouts: list[tuple[int, str, float, str]] = []
        claimed_now: dict[str, str] = {}
        for index, agent, action in msg.items:
            at = {"epoch": msg.epoch, "step": msg.step}
            task = s.tasks.get(action.task_id)
            if isinstance(action, ClaimTask):
                if task is None or task.status != "open":
                    winner = claimed_now.get(action.task_id)
                    if winner is not None:
                        events.append(
                            (
                                index,
                                ClaimConflict(**at, task_id=action.task_id, agent_id=agent, winner=winner),
                            )
                        )
                    else:
                        events.append(
                            (
                                index,
                                ActionRejected(
                                    **at,
                                    agent_id=agent,
                                    action="claim_task",
                                    reason=f"task {action.task_id} is not open",
                                ),
                            )
                        )
                    continue
                task.status, task.claimed_by = "claimed", agent
                claimed_now[task.task_id] = agent
                events.append((index, TaskClaimed(**at, task_id=task.task_id, agent_id=agent)))
                continue
            if task is None or task.claimed_by != agent or task.status != "claimed":
                events.append(
                    (
                        index,
                        ActionRejected(
                            **at,
                            agent_id=agent,
                            action="submit_work",
                            reason=f"task {action.task_id} is not claimed by {agent}",
                        ),
                    )
                )
                continue
            quality = round(verified_quality(s.rng, action.conduct), 6)
            approved = quality >= _BAR[task.difficulty]
            events.append(
                (
                    index,
                    WorkVerified(
                        **at, task_id=task.task_id, agent_id=agent, quality=quality, approved=approved
                    ),
                )
            )
            if approved:
                task.status = "completed"
                payouts.append((index, agent, task.bounty, f"bounty for {task.task_id}"))
                events.append(
                    (
                        index,
                        TaskClosed(
                            **at,
                            task_id=task.task_id,
                            status="completed",
                            agent_id=agent,
                            bounty_paid=task.bounty,
                        ),
                    )
                )
            else:
                task.rework_requests += 1
                if task.rework_requests > MAX_REWORK:
                    task.status = "failed"
                    events.append(
                        (index, TaskClosed(**at, task_id=task.task_id, status="failed", agent_id=agent))
                    )
        return BoardResult(events=tuple(events), payouts=tuple(payouts))
