"""The task board: tasks appear each epoch, agents claim them, submit work, a verifier checks it.

Work quality as the verifier sees it is drawn from the submitter's conduct:
``q = clamp(0.5 + 0.5·(effort + facade) − 0.2·sloppiness − 0.3·defects + U(−0.1, 0.1), 0, 1)``.
Work at or above the task's bar (by difficulty) completes the task and pays its
bounty (money from outside the economy: a :class:`~swarm.money.Mint`); below it
the task goes back for rework, and after ``MAX_REWORK`` rejections it fails. Two
claims on one task in the same step are a *claim conflict*: the first in
schedule order wins, the rest are recorded.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, ClassVar, Literal

import msgspec
from msgspec import UNSET, UnsetType
from pydantic import BaseModel, ConfigDict, Field

from swarm.actions import DEFAULT_CONDUCT, Action, Conduct
from swarm.events import ActionRejected, Event
from swarm.kernel.component import Applied, At, RateLimit, Setup, Turn, WorldComponent, component
from swarm.metrics.registry import count
from swarm.money import Mint
from swarm.views import AgentPublic

Difficulty = Literal["trivial", "easy", "medium", "hard", "expert"]
TaskStatus = Literal["open", "claimed", "completed", "failed", "expired"]

DIFFICULTIES: tuple[Difficulty, ...] = ("trivial", "easy", "medium", "hard", "expert")
BAR = {"trivial": 0.3, "easy": 0.4, "medium": 0.5, "hard": 0.6, "expert": 0.7}
_BOUNTY_SCALE = {"trivial": 0.5, "easy": 0.75, "medium": 1.0, "hard": 1.5, "expert": 2.0}
_TITLES = (
    "Summarise findings",
    "Review a proposal",
    "Plan a release",
    "Optimise a pipeline",
    "Audit a ledger",
)
MAX_REWORK = 2
MAX_TASKS_SHOWN = 8

# ----------------------------------------------------------------------- actions


class ClaimTask(Action, tag="claim_task", frozen=True):
    """Claim an open task from the board."""

    task_id: str


class SubmitWork(Action, tag="submit_work", frozen=True):
    """Submit work on a task this agent has claimed; the board's verifier checks it."""

    task_id: str
    content: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    conduct: Conduct = DEFAULT_CONDUCT
    text_fields: ClassVar[tuple[str, ...]] = ("content",)


# ------------------------------------------------------------------------ events


class TaskCreated(Event, tag="task_created", frozen=True):
    task_id: str
    title: str
    difficulty: str
    bounty: float
    deadline_epoch: int | None = None


class TaskClaimed(Event, tag="task_claimed", frozen=True):
    task_id: str
    agent_id: str


class ClaimConflict(Event, tag="claim_conflict", frozen=True):
    """Two or more agents went for the same task in one step: miscoordination."""

    task_id: str
    agent_id: str
    winner: str | None


class WorkVerified(Event, tag="work_verified", frozen=True):
    task_id: str
    agent_id: str
    quality: float
    approved: bool


class TaskOutputShown(Event, tag="task_output_shown", frozen=True):
    """Submitted work whose text the next prompts of ``readers`` show (only with outputs shown)."""

    task_id: str
    agent_id: str
    """Who submitted it."""
    content: str
    readers: tuple[str, ...]
    subtask: int | None = None
    """For a composite task's subtask, its index."""


class TaskClosed(Event, tag="task_closed", frozen=True):
    task_id: str
    status: Literal["completed", "failed", "expired"]
    agent_id: str | None = None
    bounty_paid: float = 0.0


# -------------------------------------------------------------------------- view


class TaskView(msgspec.Struct, frozen=True, gc=False):
    """A task on the board."""

    task_id: str
    title: str
    difficulty: Difficulty
    bounty: float
    min_reputation: float = 0.0
    status: TaskStatus = "open"
    claimed_by: str | None = None
    deadline_epoch: int | None = None
    rework_requests: int = 0


class TaskOutput(msgspec.Struct, frozen=True, gc=False):
    """Work another agent submitted, as a prompt shows it."""

    task_id: str
    author: str
    content: str


class TaskBoardView(msgspec.Struct, frozen=True, dict=True):
    """The open tasks, the claimed ones with who holds them, and (opt-in) the latest submitted work."""

    open_tasks: tuple[TaskView, ...] = ()
    claimed_tasks: tuple[TaskView, ...] = ()
    recent_work: tuple[TaskOutput, ...] | UnsetType = UNSET
    """The latest submitted outputs with text (``task_outputs_shown`` of them; unset, and absent
    from prompts, when the board shows none)."""

    @cached_property
    def by_worker(self) -> dict[str, tuple[TaskView, ...]]:
        """The claimed tasks by the agent that holds them (made once per view; ``tasks_of`` reads it)."""
        out: dict[str, list[TaskView]] = {}
        for t in self.claimed_tasks:
            if t.claimed_by is not None:
                out.setdefault(t.claimed_by, []).append(t)
        return {k: tuple(v) for k, v in out.items()}

    def tasks_of(self, agent_id: str) -> tuple[TaskView, ...]:
        """The tasks ``agent_id`` has claimed and not finished."""
        return self.by_worker.get(agent_id, ())


class TaskBoardConfig(BaseModel):
    """The task board's keys in the ``environment`` section."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    tasks_per_epoch: int = Field(default=2, ge=0, description="new tasks posted each epoch")
    task_deadline_epochs: int = Field(default=2, ge=1, description="epochs a task stays on the board")
    task_bounty: float = Field(default=5.0, ge=0.0, description="bounty of a medium task")
    task_outputs_shown: int = Field(
        default=0,
        ge=0,
        le=20,
        description="latest submitted outputs (with text) every agent's prompt shows; 0: none",
    )


def verified_quality(rng: random.Random, conduct: Conduct) -> float:
    """The verifier's quality score for work done with ``conduct`` (see module docstring)."""
    q = 0.5 + 0.5 * (conduct.effort + conduct.facade) - 0.2 * conduct.sloppiness - 0.3 * conduct.defects
    q += rng.uniform(-0.1, 0.1)
    return min(1.0, max(0.0, q))


# ------------------------------------------------------------------------- state


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
        return TaskView(
            self.task_id,
            self.title,
            self.difficulty,
            self.bounty,
            0.0,
            self.status,
            self.claimed_by,
            self.deadline_epoch,
            self.rework_requests,
        )


class TaskBoardState:
    """Tasks and their lifecycle; pure and synchronous."""

    def __init__(
        self,
        rng: random.Random,
        *,
        per_epoch: int,
        deadline_epochs: int,
        bounty: float,
        outputs_shown: int = 0,
    ) -> None:
        self.rng = rng
        self.per_epoch = per_epoch
        self.deadline_epochs = deadline_epochs
        self.bounty = bounty
        self.outputs_shown = outputs_shown
        self.tasks: dict[str, _Task] = {}
        self._counter = 0
        self.recent: list[TaskOutput] = []
        """The latest submitted outputs with text (at most ``outputs_shown``, oldest first)."""

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

    def view(self) -> TaskBoardView:
        open_ = tuple(t.view() for t in self.tasks.values() if t.status == "open")
        claimed = tuple(t.view() for t in self.tasks.values() if t.status == "claimed")
        if self.outputs_shown:
            return TaskBoardView(open_, claimed, tuple(self.recent))
        return TaskBoardView(open_, claimed)

    def apply(self, at: At, turns: Sequence[Turn], agents: Sequence[str] = ()) -> Applied:
        """Claims and submissions in schedule order; ``agents`` (every agent id) are the readers of
        submitted outputs when the board shows them."""
        out = Applied()
        events = out.events
        shown: list[TaskOutputShown] = []
        claimed_now: dict[str, str] = {}
        epoch, step = at.epoch, at.step
        for _, agent, action in turns:
            task = self.tasks.get(action.task_id)  # type: ignore[attr-defined]
            if type(action) is ClaimTask:
                if task is None or task.status != "open":
                    winner = claimed_now.get(action.task_id)
                    if winner is not None:
                        events.append(
                            ClaimConflict(
                                epoch=epoch, step=step, task_id=action.task_id, agent_id=agent, winner=winner
                            )
                        )
                    else:
                        events.append(
                            ActionRejected(
                                epoch=epoch,
                                step=step,
                                agent_id=agent,
                                action="claim_task",
                                reason=f"task {action.task_id} is not open",
                            )
                        )
                    continue
                task.status, task.claimed_by = "claimed", agent
                claimed_now[task.task_id] = agent
                events.append(TaskClaimed(epoch=epoch, step=step, task_id=task.task_id, agent_id=agent))
                continue
            assert type(action) is SubmitWork  # routed by exact type; isinstance on a struct class costs more
            if task is None or task.claimed_by != agent or task.status != "claimed":
                events.append(
                    ActionRejected(
                        epoch=epoch,
                        step=step,
                        agent_id=agent,
                        action="submit_work",
                        reason=f"task {action.task_id} is not claimed by {agent}",
                    )
                )
                continue
            if self.outputs_shown and action.content:
                readers = tuple(a for a in agents if a != agent)
                shown.append(
                    TaskOutputShown(
                        epoch=epoch,
                        step=step,
                        task_id=task.task_id,
                        agent_id=agent,
                        content=action.content,
                        readers=readers,
                    )
                )
            quality = round(verified_quality(self.rng, action.conduct), 6)
            approved = quality >= BAR[task.difficulty]
            events.append(
                WorkVerified(
                    epoch=epoch,
                    step=step,
                    task_id=task.task_id,
                    agent_id=agent,
                    quality=quality,
                    approved=approved,
                )
            )
            if approved:
                task.status = "completed"
                out.entries.append(
                    Mint(
                        account=agent,
                        amount=task.bounty,
                        reason=f"bounty for {task.task_id}",
                        ref=task.task_id,
                    )
                )
                events.append(
                    TaskClosed(
                        epoch=epoch,
                        step=step,
                        task_id=task.task_id,
                        status="completed",
                        agent_id=agent,
                        bounty_paid=task.bounty,
                    )
                )
            else:
                task.rework_requests += 1
                if task.rework_requests > MAX_REWORK:
                    task.status = "failed"
                    events.append(
                        TaskClosed(
                            epoch=epoch, step=step, task_id=task.task_id, status="failed", agent_id=agent
                        )
                    )
        if shown:
            # the next prompts show the latest ``outputs_shown``: earlier ones of this step never appear
            shown = shown[-self.outputs_shown :]
            events += shown
            self.recent += [TaskOutput(e.task_id, e.agent_id, e.content) for e in shown]
            del self.recent[: -self.outputs_shown]
        return out


# --------------------------------------------------------------------- component


@component
class TaskBoard(WorldComponent):
    """Owns the task board: posts tasks, arbitrates claims, verifies submitted work."""

    key = "tasks"
    order = 20
    Config = TaskBoardConfig
    section = "environment"
    actions = (ClaimTask, SubmitWork)
    rate_limits = (RateLimit("tasks_per_epoch", (ClaimTask,), "epoch", 3, "task claims per epoch"),)
    view_type = TaskBoardView
    prompt_rules = (
        "The task board: claim an open task, then submit work on it; a verifier scores the work "
        "from your conduct and pays the bounty if it clears the task's bar."
    )
    config: TaskBoardConfig

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        c = self.config
        self.state = TaskBoardState(
            setup.rng("tasks"),
            per_epoch=c.tasks_per_epoch,
            deadline_epochs=c.task_deadline_epochs,
            bounty=c.task_bounty,
            outputs_shown=c.task_outputs_shown,
        )
        self._agents = tuple(setup.agents)

    def view(self, at: At) -> TaskBoardView:
        return self.state.view()

    def apply(self, at: At, turns: Sequence[Turn], agents: Mapping[str, AgentPublic]) -> Applied:
        return self.state.apply(at, turns, self._agents)

    def epoch_start(self, at: At, agents: Sequence[AgentPublic]) -> Applied:
        return Applied(events=self.state.open_epoch(at.epoch))

    @classmethod
    def prompt_view(cls, view: TaskBoardView, agent_id: str) -> TaskBoardView:
        if isinstance(view.recent_work, UnsetType):
            return TaskBoardView(view.open_tasks[:MAX_TASKS_SHOWN], view.tasks_of(agent_id))
        others = tuple(o for o in view.recent_work if o.author != agent_id)
        return TaskBoardView(view.open_tasks[:MAX_TASKS_SHOWN], view.tasks_of(agent_id), others)


count("tasks_claimed", TaskClaimed, "tasks claimed")
count("tasks_completed", TaskClosed, "tasks completed", where=lambda e: e.status == "completed")
count("work_rejected", WorkVerified, "submissions the verifier sent back", where=lambda e: not e.approved)
count("claim_conflicts", ClaimConflict, "claims lost to another agent in the same step (miscoordination)")
