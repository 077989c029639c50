"""Composite tasks: work made of subtasks with dependencies and required capabilities, done by teams.

With a ``composite_tasks:`` section (or the reference's ``governance.composite_tasks_enabled:
true``) the world posts ``tasks_per_epoch`` tasks at each epoch's start, drawn in turn from
``templates``. A task's life:

1. **Team formation.** An agent asks to join (:class:`JoinTeam`). The first to join a task
   leads its team; every later request is a question put to the lead, who accepts or
   declines (a planner lead takes only agents who bring a capability the team lacks). A
   task needs ``min_reputation`` to join and takes at most ``max_agents``; once it has
   ``min_agents`` it starts and its step limit (``max_steps``) runs.
2. **Assignment.** A member assigns an *available* subtask (every dependency completed) to a
   member (:class:`AssignSubtask`, what planners do) or claims one itself
   (:class:`ClaimSubtask`). A subtask whose dependencies are not done cannot be assigned,
   claimed or submitted (the reference let it be claimed).
3. **Work.** The assignee submits (:class:`SubmitSubtask`) with a conduct. Its quality is
   ``q = clamp((1 − w)·q_c + w·m, 0, 1)`` where ``q_c = 0.5 + 0.5·(effort + facade) −
   0.2·sloppiness − 0.3·defects + U(−0.1, 0.1)`` (clamped; as the task board), ``m`` is the
   share of the subtask's required capabilities the doer has and ``w`` is
   ``capability_weight``. The work's real quality is the same with the facade taken out.
4. **Verification.** When the scenario has agents with ``role: verifier``, the submission waits
   up to ``verify_wait_steps`` for one of them (not the doer) to check it
   (:class:`VerifySubtask`): the verifier sees ``d·q_real + (1 − d)·q`` with ``d`` its effort
   (clamped to [0, 1]), so a diligent verifier sees through a facade; it approves at or above
   ``quality_bar``. Otherwise, or when no verifier comes, the board checks the visible ``q``
   against the bar. A rejected subtask goes back to its assignee for rework; after
   ``max_rework`` rejections it fails, and so does its task.
5. **Soft labels.** Every checked submission is an interaction from the doer to the checker
   (the verifier, or else another member of the team): observables are drawn from the doer's
   conduct as for any interaction, the subtask's earlier reworks are added to its rework count
   and a rejection adds one verifier rejection, so a verifier's verdict is evidence in p.
6. **Completion.** When every subtask is completed the task completes: final quality,
   coordination, synergy and information flow are computed as in the reference (without its
   truthiness bug), and the bounty is paid through the ledger (a :class:`~swarm.money.Mint`):
   each contributor gets the bounty in proportion to Σ share·q of its subtasks, and the
   completion bonus is split among contributors only (the reference paid idle members too).
   What is paid is capped by the remaining budget, ``budget·(1 − 0.01·steps used)``. A task
   that runs past its step limit fails; one not completed by its deadline expires.

At each epoch's end a ``capabilities_measured`` event records the capability metrics of the
tasks completed so far (coordination, synergy, information flow, specialisation,
complementarity, knowledge transfer, the emergent capability score).
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

import msgspec
from msgspec import UNSET, UnsetType
from pydantic import BaseModel, ConfigDict, Field, field_validator

from swarm.actions import DEFAULT_CONDUCT, Action, Conduct
from swarm.agents.types import CAPABILITIES
from swarm.core.interaction import InteractionType, SoftInteraction
from swarm.core.observables import draw_ground_truth, generate_observables
from swarm.core.proxy import ProxyComputer
from swarm.env.tasks import TaskOutputShown
from swarm.errors import ConfigProblem
from swarm.events import ActionRejected, Event
from swarm.kernel.component import Applied, At, Setup, Turn, WorldComponent, component
from swarm.metrics.registry import RunData, defined, last_of, latest, run_figure
from swarm.money import Mint
from swarm.views import AgentPublic, Observation

if TYPE_CHECKING:
    from swarm.scenario import Scenario

TemplateName = Literal[
    "research_synthesis", "planning_coordination", "problem_solving", "research", "planning", "optimisation"
]
TEMPLATE_NAMES: tuple[str, ...] = (
    "research_synthesis",
    "planning_coordination",
    "problem_solving",
    "research",
    "planning",
    "optimisation",
)
SubtaskStatus = Literal["pending", "assigned", "submitted", "completed", "failed"]
TaskStatus = Literal["open", "in_progress", "completed", "failed", "expired"]
MAX_TASKS_SHOWN = 6
MAX_OUTPUTS_SHOWN = 4
"""Subtask outputs one prompt shows at most (with ``show_outputs``)."""

# --------------------------------------------------------------------- templates


@dataclass(frozen=True, slots=True)
class SubtaskTemplate:
    name: str
    capabilities: tuple[str, ...]
    share: float
    estimated_steps: int
    after: tuple[int, ...] = ()
    """Indices of the subtasks it depends on."""


@dataclass(frozen=True, slots=True)
class Template:
    """A kind of task: its team size, money, limits and decomposition."""

    name: str
    title: str
    min_agents: int
    max_agents: int
    bounty: float
    bonus_share: float
    budget_factor: float
    max_steps: int
    min_reputation: float
    subtasks: tuple[SubtaskTemplate, ...]

    @property
    def capabilities(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for s in self.subtasks:
            seen.update(dict.fromkeys(s.capabilities))
        return tuple(seen)


def _s(name: str, caps: str, share: float, steps: int, *after: int) -> SubtaskTemplate:
    return SubtaskTemplate(name, tuple(caps.split()), share, steps, after)


TEMPLATES: dict[str, Template] = {
    # the reference's composite templates (economies.md §1.3); budget and step limit are ours
    "research_synthesis": Template(
        "research_synthesis",
        "Research Synthesis",
        2,
        4,
        25.0,
        0.2,
        2.0,
        50,
        0.0,
        (
            _s("Literature Review", "research", 0.20, 8),
            _s("Data Collection", "research analysis", 0.20, 6, 0),
            _s("Analysis", "analysis", 0.25, 10, 1),
            _s("Synthesis Writing", "communication creativity", 0.25, 8, 2),
            _s("Quality Review", "verification", 0.10, 4, 3),
        ),
    ),
    "planning_coordination": Template(
        "planning_coordination",
        "Strategic Planning",
        3,
        5,
        30.0,
        0.25,
        2.0,
        50,
        0.0,
        (
            _s("Requirements Gathering", "research communication", 0.15, 6),
            _s("Strategy Development", "planning creativity", 0.25, 10, 0),
            _s("Resource Allocation", "planning analysis", 0.20, 6, 0),
            _s("Task Breakdown", "planning execution", 0.25, 8, 1, 2),
            _s("Plan Review", "verification coordination", 0.15, 4, 3),
        ),
    ),
    "problem_solving": Template(
        "problem_solving",
        "Problem Solving",
        3,
        6,
        35.0,
        0.3,
        2.0,
        50,
        0.0,
        (
            _s("Problem Analysis", "analysis", 0.15, 8),
            _s("Solution Brainstorming", "creativity", 0.15, 6),
            _s("Solution Design", "planning creativity", 0.25, 10, 0, 1),
            _s("Implementation Planning", "execution planning", 0.25, 8, 2),
            _s("Solution Validation", "verification analysis", 0.20, 6, 3),
        ),
    ),
    # the reference's simple task templates (core.md §5.4) as small composite tasks
    "research": Template(
        "research",
        "Research",
        1,
        2,
        10.0,
        0.0,
        2.0,
        20,
        0.0,
        (
            _s("Research Notes", "research", 0.5, 8),
            _s("Synthesis Report", "analysis communication", 0.5, 8, 0),
        ),
    ),
    "planning": Template(
        "planning",
        "Planning",
        3,
        4,
        15.0,
        0.0,
        2.0,
        30,
        0.0,
        (_s("Goal Analysis", "planning analysis", 0.5, 10), _s("Plan", "planning coordination", 0.5, 10, 0)),
    ),
    "optimisation": Template(
        "optimisation",
        "Optimisation",
        1,
        2,
        8.0,
        0.0,
        1.5,
        15,
        0.0,
        (_s("Measurement", "analysis", 0.4, 5), _s("Optimisation", "execution", 0.6, 6, 0)),
    ),
}


# ------------------------------------------------------------------------ settings


def _default_templates() -> list[TemplateName]:
    return ["research_synthesis", "planning_coordination", "problem_solving"]


class CompositeTasksConfig(BaseModel):
    """The ``composite_tasks:`` section."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    enabled: bool = Field(default=True, description="false: the scenario has no composite tasks")
    templates: list[TemplateName] = Field(
        default_factory=_default_templates,
        min_length=1,
        description="the kinds of task posted, in turn",
    )
    tasks_per_epoch: int = Field(default=1, ge=0, le=50, description="tasks posted at each epoch's start")
    task_deadline_epochs: int = Field(default=3, ge=1, description="epochs a task stays before it expires")
    bounty_multiplier: float = Field(
        default=1.0, ge=0.0, le=100.0, description="scales every template's bounty"
    )
    min_reputation: float | None = Field(
        default=None, description="reputation needed to join a task (None: the template's own, 0)"
    )
    capability_weight: float = Field(
        default=0.4, ge=0.0, le=1.0, description="w: weight of the capability match in a subtask's quality"
    )
    quality_bar: float = Field(
        default=0.5, ge=0.0, le=1.0, description="quality a subtask needs to be approved"
    )
    max_rework: int = Field(
        default=2, ge=0, le=10, description="rejections a subtask survives before it fails"
    )
    verify_wait_steps: int = Field(
        default=1,
        ge=0,
        le=10,
        description="steps a submission waits for a verifier before the board checks it",
    )
    team_formation: Literal["capability", "random"] = Field(
        default="capability",
        description="capability: join and accept where a capability is needed; random: anywhere",
    )
    show_outputs: bool = Field(
        default=False,
        description=(
            "prompts show submitted work's text: to verifiers the work waiting for a check, to a "
            "worker the work its subtask depends on"
        ),
    )

    @field_validator("templates", mode="before")
    @classmethod
    def _known_templates(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        out = []
        for index, name in enumerate(value):
            name = "optimisation" if name == "optimization" else name
            if name not in TEMPLATES:
                raise ConfigProblem(
                    f"composite_tasks.templates.{index}",
                    f"unknown template {name!r}",
                    f"one of {', '.join(TEMPLATES)}",
                )
            out.append(name)
        return out


# ------------------------------------------------------------------------ actions


class JoinTeam(Action, tag="join_team", frozen=True):
    """Ask to join a composite task's team (the first to join leads it; later ones ask the lead)."""

    task_id: str


class AssignSubtask(Action, tag="assign_subtask", frozen=True):
    """Assign an available subtask of one's team's task to a member (what planners do)."""

    task_id: str
    subtask: Annotated[int, msgspec.Meta(ge=0)]
    agent_id: str


class ClaimSubtask(Action, tag="claim_subtask", frozen=True):
    """Take an available, unassigned subtask of one's team's task."""

    task_id: str
    subtask: Annotated[int, msgspec.Meta(ge=0)]


class SubmitSubtask(Action, tag="submit_subtask", frozen=True):
    """Submit the work on a subtask assigned to oneself."""

    task_id: str
    subtask: Annotated[int, msgspec.Meta(ge=0)]
    content: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    conduct: Conduct = DEFAULT_CONDUCT
    text_fields: ClassVar[tuple[str, ...]] = ("content",)


class VerifySubtask(Action, tag="verify_subtask", frozen=True):
    """Check a submitted subtask (verifiers only). ``approve`` None: judge it by inspection with
    ``conduct`` (its effort is the diligence); true/false: the verdict as given."""

    task_id: str
    subtask: Annotated[int, msgspec.Meta(ge=0)]
    approve: bool | None = None
    conduct: Conduct = DEFAULT_CONDUCT


# ------------------------------------------------------------------------- events


class CompositeTaskCreated(Event, tag="composite_task_created", frozen=True):
    task_id: str
    template: str
    title: str
    bounty: float
    bonus: float
    budget: float
    max_steps: int
    min_agents: int
    max_agents: int
    min_reputation: float
    deadline_epoch: int
    subtasks: tuple[str, ...]


class TeamJoined(Event, tag="team_joined", frozen=True):
    task_id: str
    agent_id: str
    lead: str
    """The team's lead (the agent itself when it is the first to join)."""


class TeamJoinDeclined(Event, tag="team_join_declined", frozen=True):
    task_id: str
    agent_id: str
    lead: str
    reason: str


class CompositeTaskStarted(Event, tag="composite_task_started", frozen=True):
    task_id: str
    team: tuple[str, ...]


class SubtaskAssigned(Event, tag="subtask_assigned", frozen=True):
    task_id: str
    subtask: int
    agent_id: str
    by: str
    """Who assigned it (the agent itself when it claimed the subtask)."""


class SubtaskSubmitted(Event, tag="subtask_submitted", frozen=True):
    task_id: str
    subtask: int
    agent_id: str
    quality: float
    """The quality the work shows (what the board checks)."""


class SubtaskVerified(Event, tag="subtask_verified", frozen=True):
    task_id: str
    subtask: int
    agent_id: str
    verifier: str | None
    """The verifier who checked it; None: the board's own check."""
    quality: float
    """The quality the checker saw."""
    approved: bool


class CompositeTaskClosed(Event, tag="composite_task_closed", frozen=True):
    task_id: str
    template: str
    status: Literal["completed", "failed", "expired"]
    team: tuple[str, ...] = ()
    reason: str = ""
    final_quality: float | None = None
    coordination: float | None = None
    synergy: float | None = None
    information_flow: float | None = None
    steps_used: int = 0
    paid: float = 0.0


class CapabilitiesMeasured(Event, tag="capabilities_measured", frozen=True):
    """The capability metrics over the composite tasks completed so far (None before the first)."""

    completed: int
    """Composite tasks completed since the start."""
    completed_in_epoch: int
    failed_in_epoch: int
    """Failed or expired in the epoch."""
    rejected_in_epoch: int
    """Subtask submissions rejected in the epoch."""
    avg_quality: float | None
    coordination: float | None
    synergy: float | None
    information_flow: float | None
    specialisation: float | None
    complementarity: float | None
    knowledge_transfer: float | None
    efficiency: float | None
    emergent_capability_score: float | None


# --------------------------------------------------------------------------- view


class SubtaskView(msgspec.Struct, frozen=True, gc=False):
    index: int
    name: str
    capabilities: tuple[str, ...]
    after: tuple[int, ...]
    status: SubtaskStatus
    assignee: str | None = None
    reworks: int = 0
    available: bool = False
    """Every dependency completed (it can be assigned, claimed or submitted)."""
    shown_quality: float | None = None
    """For a submitted subtask, the quality its work shows."""


class CompositeTaskView(msgspec.Struct, frozen=True, gc=False):
    task_id: str
    template: str
    title: str
    status: TaskStatus
    bounty: float
    min_agents: int
    max_agents: int
    min_reputation: float
    deadline_epoch: int
    team: tuple[str, ...]
    subtasks: tuple[SubtaskView, ...]

    @property
    def lead(self) -> str | None:
        return self.team[0] if self.team else None

    def missing(self, capabilities: Mapping[str, tuple[str, ...]]) -> set[str]:
        """The required capabilities of the unfinished subtasks that no member has."""
        have: set[str] = set()
        for m in self.team:
            have.update(capabilities.get(m, ()))
        need = {c for s in self.subtasks if s.status != "completed" for c in s.capabilities}
        return need - have


class SubtaskOutput(msgspec.Struct, frozen=True, gc=False):
    """Submitted work on a subtask, as a prompt shows it (with ``show_outputs``)."""

    task_id: str
    subtask: int
    author: str
    content: str


class CompositeBoardView(msgspec.Struct, frozen=True, dict=True):
    """The open and running composite tasks, every agent's capabilities and who verifies."""

    tasks: tuple[CompositeTaskView, ...] = ()
    capabilities: dict[str, tuple[str, ...]] = {}
    verifiers: tuple[str, ...] = ()
    planners: tuple[str, ...] = ()
    team_formation: str = "capability"
    work: dict[str, tuple[SubtaskOutput, ...]] | UnsetType = UNSET
    """With ``show_outputs``: by reader, the submitted work its prompt shows (see
    :meth:`CompositeState.outputs`); unset, and absent from prompts, otherwise."""

    def task(self, task_id: str) -> CompositeTaskView | None:
        for t in self.tasks:
            if t.task_id == task_id:
                return t
        return None

    def teams_of(self, agent_id: str) -> tuple[CompositeTaskView, ...]:
        return tuple(t for t in self.tasks if agent_id in t.team)


# -------------------------------------------------------------------------- state


def match(have: Sequence[str] | frozenset[str], need: Sequence[str]) -> float:
    """The share of ``need`` in ``have`` (1 when nothing is needed)."""
    return sum(1 for c in need if c in have) / len(need) if need else 1.0


def _clamp(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


def work_quality(
    rng: random.Random, conduct: Conduct, capability_match: float, w: float
) -> tuple[float, float]:
    """(shown, real) quality of work done with ``conduct`` (see the module docstring); one noise draw."""
    u = rng.uniform(-0.1, 0.1)
    base = 0.5 - 0.2 * conduct.sloppiness - 0.3 * conduct.defects + u
    shown = _clamp(base + 0.5 * (conduct.effort + conduct.facade))
    real = _clamp(base + 0.5 * conduct.effort)
    return _clamp((1 - w) * shown + w * capability_match), _clamp((1 - w) * real + w * capability_match)


@dataclass(slots=True)
class _Subtask:
    index: int
    spec: SubtaskTemplate
    status: SubtaskStatus = "pending"
    assignee: str | None = None
    assigned_at: int = 0
    reworks: int = 0
    quality: float | None = None
    steps: int = 0
    # a submission waiting for a check
    shown: float = 0.0
    real: float = 0.0
    conduct: Conduct = DEFAULT_CONDUCT
    due: int = 0
    output: str = ""
    """The text of the latest submission."""
    submissions: int = 0


@dataclass(slots=True)
class _Task:
    task_id: str
    template: Template
    bounty: float
    bonus: float
    budget: float
    min_reputation: float
    deadline_epoch: int
    subtasks: list[_Subtask]
    status: TaskStatus = "open"
    team: list[str] = field(default_factory=list)
    started: int | None = None
    requests: list[str] = field(default_factory=list)
    read: set[tuple[str, int, int]] = field(default_factory=set)
    """(reader, subtask, submission) of the outputs shown so far (with ``show_outputs``)."""

    def done(self, index: int) -> bool:
        return self.subtasks[index].status == "completed"

    def available(self, s: _Subtask) -> bool:
        return all(self.subtasks[d].status == "completed" for d in s.spec.after)

    def steps_used(self, clock: int) -> int:
        return 0 if self.started is None else clock - self.started

    def view(self) -> CompositeTaskView:
        t = self.template
        subs = tuple(
            SubtaskView(
                s.index,
                s.spec.name,
                s.spec.capabilities,
                s.spec.after,
                s.status,
                s.assignee,
                s.reworks,
                s.status in ("pending", "assigned") and self.available(s),
                round(s.shown, 6) if s.status == "submitted" else None,
            )
            for s in self.subtasks
        )
        return CompositeTaskView(
            self.task_id,
            t.name,
            t.title,
            self.status,
            self.bounty,
            t.min_agents,
            t.max_agents,
            self.min_reputation,
            self.deadline_epoch,
            tuple(self.team),
            subs,
        )


@dataclass(slots=True)
class _Profile:
    scores: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class JoinRequest:
    """A question to a team's lead: take ``applicant`` onto the team of ``task_id``?"""

    task_id: str
    applicant: str
    capabilities: tuple[str, ...]
    missing: tuple[str, ...]
    """What the team lacks now (required capabilities of unfinished subtasks no member has)."""


class CompositeState:
    """The composite tasks and their lifecycle; pure and synchronous."""

    def __init__(
        self,
        config: CompositeTasksConfig,
        rng: random.Random,
        proxy: ProxyComputer,
        capabilities: Mapping[str, tuple[str, ...]],
        verifiers: Sequence[str],
        planners: Sequence[str] = (),
    ) -> None:
        self.config = config
        self.rng = rng
        self.proxy = proxy
        self.capabilities = dict(capabilities)
        self.verifiers = tuple(verifiers)
        self.planners = tuple(planners)
        self.tasks: dict[str, _Task] = {}
        self._counter = 0
        self._posted = 0
        self._view: CompositeBoardView | None = None
        # what the capability metrics are computed from
        self.completed: list[CompositeTaskClosed] = []
        self._teams: list[tuple[str, ...]] = []
        self._transfer: list[float] = []
        self._steps: list[int] = []
        self.profiles: dict[str, _Profile] = {}
        self.epoch_counts = [0, 0, 0]
        """Completed, failed or expired, rejected submissions in this epoch."""

    # ----------------------------------------------------------------- posting

    def open_epoch(self, at: At) -> list[Event]:
        events: list[Event] = []
        for task in list(self.tasks.values()):
            if at.epoch >= task.deadline_epoch:
                events.append(self._close(at, task, "expired", "deadline passed"))
        c = self.config
        for _ in range(c.tasks_per_epoch):
            template = TEMPLATES[c.templates[self._posted % len(c.templates)]]
            self._posted += 1
            self._counter += 1
            bounty = round(template.bounty * c.bounty_multiplier, 6)
            task = _Task(
                f"ct-{self._counter}",
                template,
                bounty,
                round(bounty * template.bonus_share, 6),
                round(bounty * template.budget_factor, 6),
                template.min_reputation if c.min_reputation is None else c.min_reputation,
                at.epoch + c.task_deadline_epochs,
                [_Subtask(k, s) for k, s in enumerate(template.subtasks)],
            )
            self.tasks[task.task_id] = task
            events.append(
                CompositeTaskCreated(
                    epoch=at.epoch,
                    step=at.step,
                    task_id=task.task_id,
                    template=template.name,
                    title=template.title,
                    bounty=task.bounty,
                    bonus=task.bonus,
                    budget=task.budget,
                    max_steps=template.max_steps,
                    min_agents=template.min_agents,
                    max_agents=template.max_agents,
                    min_reputation=task.min_reputation,
                    deadline_epoch=task.deadline_epoch,
                    subtasks=tuple(s.name for s in template.subtasks),
                )
            )
        self._view = None
        return events

    def view(self) -> CompositeBoardView:
        if self._view is None:
            work: dict[str, tuple[SubtaskOutput, ...]] | UnsetType = UNSET
            if self.config.show_outputs:
                work = {r: tuple(o for _, _, o in shown) for r, shown in self.outputs().items()}
            self._view = CompositeBoardView(
                tuple(t.view() for t in self.tasks.values()),
                self.capabilities,
                self.verifiers,
                self.planners,
                self.config.team_formation,
                work,
            )
        return self._view

    def outputs(self) -> dict[str, list[tuple[_Task, _Subtask, SubtaskOutput]]]:
        """By reader, the submitted work its prompt shows (at most ``MAX_OUTPUTS_SHOWN``, in board
        order): to each verifier the work with text waiting for a check (not its own), then to the
        worker of an assigned subtask the work with text of the subtasks it depends on."""
        out: dict[str, list[tuple[_Task, _Subtask, SubtaskOutput]]] = {}

        def show(reader: str, task: _Task, s: _Subtask) -> None:
            shown = out.setdefault(reader, [])
            if len(shown) < MAX_OUTPUTS_SHOWN:
                assert s.assignee is not None
                shown.append((task, s, SubtaskOutput(task.task_id, s.index, s.assignee, s.output)))

        for task in self.tasks.values():
            for s in task.subtasks:
                if s.status == "submitted" and s.output:
                    for v in self.verifiers:
                        if v != s.assignee:
                            show(v, task, s)
        for task in self.tasks.values():
            for s in task.subtasks:
                if s.status == "assigned" and s.assignee is not None:
                    for d in s.spec.after:
                        dep = task.subtasks[d]
                        if dep.status == "completed" and dep.output and dep.assignee != s.assignee:
                            show(s.assignee, task, dep)
        return out

    def newly_shown(self, at: At) -> list[Event]:
        """A ``task_output_shown`` event per output the next prompts show to readers that have not
        seen it (this submission of it) before."""
        readers: dict[tuple[str, int], tuple[_Task, _Subtask, list[str]]] = {}
        for reader, shown in self.outputs().items():
            for task, s, _ in shown:
                key = (reader, s.index, s.submissions)
                if key not in task.read:
                    task.read.add(key)
                    readers.setdefault((task.task_id, s.index), (task, s, []))[2].append(reader)
        return [
            TaskOutputShown(
                epoch=at.epoch,
                step=at.step,
                task_id=task.task_id,
                agent_id=s.assignee or "",
                content=s.output,
                readers=tuple(names),
                subtask=s.index,
            )
            for task, s, names in readers.values()
        ]

    # ----------------------------------------------------------------- actions

    def apply(self, at: At, turns: Sequence[Turn], agents: Mapping[str, AgentPublic]) -> Applied:
        out = Applied()
        self._view = None
        for _, agent, action in turns:
            reason = self._act(at, agent, action, agents, out)
            if reason is not None:
                out.events.append(
                    ActionRejected(
                        epoch=at.epoch, step=at.step, agent_id=agent, action=action.type, reason=reason
                    )
                )
        return out

    def _act(
        self, at: At, agent: str, action: Any, agents: Mapping[str, AgentPublic], out: Applied
    ) -> str | None:
        task = self.tasks.get(action.task_id)
        if task is None:
            return f"no open composite task {action.task_id}"
        kind = type(action)
        if kind is JoinTeam:
            return self._join(at, agent, task, agents, out)
        if kind is VerifySubtask:
            return self._verify(at, agent, task, action, out)
        if agent not in task.team:
            return f"not on the team of {task.task_id}"
        if task.status != "in_progress":
            return f"{task.task_id} has not started (it needs {task.template.min_agents} members)"
        if action.subtask >= len(task.subtasks):
            return f"{task.task_id} has no subtask {action.subtask}"
        s = task.subtasks[action.subtask]
        if kind is SubmitSubtask:
            if s.assignee != agent or s.status != "assigned":
                return f"subtask {action.subtask} of {task.task_id} is not assigned to {agent} for work"
            if not task.available(s):
                return f"subtask {action.subtask} of {task.task_id} waits for its dependencies"
            s.output, s.submissions = action.content, s.submissions + 1
            self._submit(at, agent, task, s, action.conduct, out)
            return None
        # assign or claim
        doer = action.agent_id if kind is AssignSubtask else agent
        if doer not in task.team:
            return f"{doer} is not on the team of {task.task_id}"
        if s.status != "pending" and not (kind is AssignSubtask and s.status == "assigned"):
            return f"subtask {action.subtask} of {task.task_id} is {s.status}"
        if not task.available(s):
            return f"subtask {action.subtask} of {task.task_id} waits for its dependencies"
        s.status, s.assignee, s.assigned_at = "assigned", doer, at.clock
        out.events.append(
            SubtaskAssigned(
                epoch=at.epoch, step=at.step, task_id=task.task_id, subtask=s.index, agent_id=doer, by=agent
            )
        )
        return None

    def _join(
        self, at: At, agent: str, task: _Task, agents: Mapping[str, AgentPublic], out: Applied
    ) -> str | None:
        if agent in task.team or agent in task.requests:
            return f"already on (or asking to join) the team of {task.task_id}"
        if len(task.team) + len(task.requests) >= task.template.max_agents:
            return f"the team of {task.task_id} is full"
        me = agents.get(agent)
        if me is not None and me.reputation < task.min_reputation:
            return f"reputation {me.reputation:.2f} below the task's minimum {task.min_reputation:g}"
        if not task.team:
            task.team.append(agent)
            out.events.append(
                TeamJoined(epoch=at.epoch, step=at.step, task_id=task.task_id, agent_id=agent, lead=agent)
            )
            self._maybe_start(at, task, out)
            return None
        task.requests.append(agent)
        return None

    def questions(self) -> dict[str, list[JoinRequest]]:
        out: dict[str, list[JoinRequest]] = {}
        view = None
        for task in self.tasks.values():
            if not task.requests:
                continue
            view = task.view()
            missing = tuple(sorted(view.missing(self.capabilities)))
            for applicant in task.requests:
                out.setdefault(task.team[0], []).append(
                    JoinRequest(task.task_id, applicant, self.capabilities.get(applicant, ()), missing)
                )
        return out

    def resolve(self, at: At, answers: Sequence[tuple[str, Any, Any]]) -> Applied:
        out = Applied()
        said = {(q.task_id, q.applicant): bool(a) for _, q, a in answers if isinstance(q, JoinRequest)}
        for task in list(self.tasks.values()):
            if task.requests:
                lead = task.team[0]
                for applicant in task.requests:
                    verdict = said.get((task.task_id, applicant))
                    if verdict and len(task.team) < task.template.max_agents:
                        task.team.append(applicant)
                        out.events.append(
                            TeamJoined(
                                epoch=at.epoch,
                                step=at.step,
                                task_id=task.task_id,
                                agent_id=applicant,
                                lead=lead,
                            )
                        )
                    else:
                        why = "no answer from the lead" if verdict is None else "the lead declined"
                        out.events.append(
                            TeamJoinDeclined(
                                epoch=at.epoch,
                                step=at.step,
                                task_id=task.task_id,
                                agent_id=applicant,
                                lead=lead,
                                reason=why,
                            )
                        )
                task.requests.clear()
                self._maybe_start(at, task, out)
            if task.status != "in_progress":
                continue
            for s in task.subtasks:  # submissions no verifier came for: the board checks them
                if s.status == "submitted" and at.clock >= s.due:
                    self._check(at, task, s, None, s.shown, out)
                    if task.status != "in_progress":
                        break
            if task.status == "in_progress" and task.steps_used(at.clock) > task.template.max_steps:
                out.events.append(self._close(at, task, "failed", "step limit"))
        self._view = None
        if self.config.show_outputs:
            out.events += self.newly_shown(at)
        return out

    def _maybe_start(self, at: At, task: _Task, out: Applied) -> None:
        if task.status == "open" and len(task.team) >= task.template.min_agents:
            task.status, task.started = "in_progress", at.clock
            out.events.append(
                CompositeTaskStarted(
                    epoch=at.epoch, step=at.step, task_id=task.task_id, team=tuple(task.team)
                )
            )

    def _submit(self, at: At, agent: str, task: _Task, s: _Subtask, conduct: Conduct, out: Applied) -> None:
        m = match(self.capabilities.get(agent, ()), s.spec.capabilities)
        shown, real = work_quality(self.rng, conduct, m, self.config.capability_weight)
        s.shown, s.real, s.conduct = round(shown, 6), round(real, 6), conduct
        s.steps = at.clock - s.assigned_at + 1
        out.events.append(
            SubtaskSubmitted(
                epoch=at.epoch,
                step=at.step,
                task_id=task.task_id,
                subtask=s.index,
                agent_id=agent,
                quality=s.shown,
            )
        )
        if any(v != agent for v in self.verifiers) and self.config.verify_wait_steps > 0:
            s.status, s.due = "submitted", at.clock + self.config.verify_wait_steps
        else:
            s.status = "submitted"
            self._check(at, task, s, None, s.shown, out)

    def _verify(self, at: At, agent: str, task: _Task, action: VerifySubtask, out: Applied) -> str | None:
        if agent not in self.verifiers:
            return "only agents with role verifier check subtasks"
        if action.subtask >= len(task.subtasks):
            return f"{task.task_id} has no subtask {action.subtask}"
        s = task.subtasks[action.subtask]
        if s.status != "submitted":
            return f"subtask {action.subtask} of {task.task_id} is not waiting for a check"
        if s.assignee == agent:
            return "cannot verify one's own work"
        d = _clamp(action.conduct.effort)
        seen = round(d * s.real + (1 - d) * s.shown, 6)
        self._check(at, task, s, agent, seen, out, action.approve)
        return None

    def _check(
        self,
        at: At,
        task: _Task,
        s: _Subtask,
        verifier: str | None,
        seen: float,
        out: Applied,
        verdict: bool | None = None,
    ) -> None:
        bar = self.config.quality_bar
        approved = seen >= bar if verdict is None else verdict
        doer = s.assignee
        assert doer is not None
        out.events.append(
            SubtaskVerified(
                epoch=at.epoch,
                step=at.step,
                task_id=task.task_id,
                subtask=s.index,
                agent_id=doer,
                verifier=verifier,
                quality=seen,
                approved=approved,
            )
        )
        checker = verifier or next((m for m in task.team if m != doer), None)
        if checker is not None:
            out.interactions.append(self._interaction(at, task, s, doer, checker, approved))
        if approved:
            s.status, s.quality = "completed", s.real
            if all(x.status == "completed" for x in task.subtasks):
                out.events.append(self._complete(at, task, out))
            return
        s.reworks += 1
        self.epoch_counts[2] += 1
        if s.reworks > self.config.max_rework:
            s.status = "failed"
            out.events.append(self._close(at, task, "failed", f"subtask {s.index} failed"))
        else:
            s.status, s.assigned_at = "assigned", at.clock

    def _interaction(
        self, at: At, task: _Task, s: _Subtask, doer: str, checker: str, approved: bool
    ) -> SoftInteraction:
        obs = generate_observables(self.rng, s.conduct, None, True)
        obs = msgspec.structs.replace(
            obs,
            rework_count=obs.rework_count + s.reworks,
            verifier_rejections=obs.verifier_rejections + (0 if approved else 1),
        )
        v_hat, p = self.proxy.compute_labels(obs)
        return SoftInteraction(
            interaction_id=f"{task.task_id}.{s.index}.{s.reworks + 1}",
            initiator=doer,
            counterparty=checker,
            interaction_type=InteractionType.COLLABORATION,
            accepted=True,
            observables=obs,
            v_hat=v_hat,
            p=p,
            ground_truth=draw_ground_truth(self.rng, s.conduct),
            epoch=at.epoch,
            step=at.step,
        )

    # ---------------------------------------------------------------- closing

    def _close(
        self, at: At, task: _Task, status: Literal["failed", "expired"], reason: str
    ) -> CompositeTaskClosed:
        task.status = status
        self.epoch_counts[1] += 1
        for s in task.subtasks:
            if s.status != "completed":
                s.status = "failed"
        del self.tasks[task.task_id]
        self._view = None
        return CompositeTaskClosed(
            epoch=at.epoch,
            step=at.step,
            task_id=task.task_id,
            template=task.template.name,
            status=status,
            team=tuple(task.team),
            reason=reason,
            steps_used=task.steps_used(at.clock),
        )

    def _complete(self, at: At, task: _Task, out: Applied) -> CompositeTaskClosed:
        subs = task.subtasks
        qs = [s.quality or 0.0 for s in subs]
        shares = [s.spec.share for s in subs]
        total_share = math.fsum(shares)
        final = (
            math.fsum(q * w for q, w in zip(qs, shares, strict=True)) / total_share
            if total_share > 0
            else math.fsum(qs) / len(qs)
        )
        load: dict[str, int] = {}
        contribution: dict[str, float] = {}
        for s in subs:
            assert s.assignee is not None
            load[s.assignee] = load.get(s.assignee, 0) + 1
            contribution[s.assignee] = contribution.get(s.assignee, 0.0) + s.spec.share * (s.quality or 0.0)
        coordination = min(load.values()) / max(load.values())
        synergy = _clamp((final - 0.5) * len(task.team) / max(1, len(subs)) + 0.5)
        gains = [
            (s.quality or 0.0) - math.fsum(qs[d] for d in s.spec.after) / len(s.spec.after)
            for s in subs
            if s.spec.after
        ]
        flow = _clamp(math.fsum(gains) / len(gains) + 0.5) if gains else None
        used = task.steps_used(at.clock)
        remaining = max(0.0, task.budget * (1 - 0.01 * used))
        bounty = min(task.bounty, remaining)
        bonus = min(task.bonus, remaining - bounty)
        total = math.fsum(contribution.values())
        paid = 0.0
        for agent in task.team:
            if agent not in contribution:
                continue
            share = contribution[agent] / total if total > 0 else 1 / len(contribution)
            amount = round(bounty * share + bonus / len(contribution), 6)
            if amount > 0:
                out.entries.append(
                    Mint(account=agent, amount=amount, reason=f"bounty for {task.task_id}", ref=task.task_id)
                )
                paid += amount
        # what the capability metrics learn
        for s in subs:
            profile = self.profiles.setdefault(s.assignee or "", _Profile())
            for cap in s.spec.capabilities:
                if cap in self.capabilities.get(s.assignee or "", ()):
                    profile.scores[cap] = 0.7 * profile.scores.get(cap, 0.5) + 0.3 * (s.quality or 0.0)
        self._teams.append(tuple(task.team))
        self._transfer.extend(max(-1.0, min(1.0, g)) for g in gains)
        self._steps.append(sum(s.steps for s in subs))
        task.status = "completed"
        del self.tasks[task.task_id]
        self._view = None
        closed = CompositeTaskClosed(
            epoch=at.epoch,
            step=at.step,
            task_id=task.task_id,
            template=task.template.name,
            status="completed",
            team=tuple(task.team),
            final_quality=round(final, 6),
            coordination=round(coordination, 6),
            synergy=round(synergy, 6),
            information_flow=None if flow is None else round(flow, 6),
            steps_used=used,
            paid=round(paid, 6),
        )
        self.completed.append(closed)
        self.epoch_counts[0] += 1
        return closed

    # ---------------------------------------------------------------- metrics

    def measure(self, at: At) -> CapabilitiesMeasured:
        """The capability metrics now (and the epoch's counts, which start again)."""
        try:
            return self._measure(at)
        finally:
            self.epoch_counts = [0, 0, 0]

    def _measure(self, at: At) -> CapabilitiesMeasured:
        done = self.completed
        n = len(done)

        def avg(xs: Sequence[float | None]) -> float | None:
            ys = [x for x in xs if x is not None]
            return round(math.fsum(ys) / len(ys), 6) if ys else None

        quality = avg([c.final_quality for c in done])
        coordination = avg([c.coordination for c in done])
        synergy = avg([c.synergy for c in done])
        flow = avg([c.information_flow for c in done])
        special = []
        for profile in self.profiles.values():
            scores = list(profile.scores.values())
            if len(scores) >= 2 and math.fsum(scores) > 0:
                total = math.fsum(scores)
                h = -math.fsum(x / total * math.log2(x / total) for x in scores if x > 0)
                special.append(1 - h / math.log2(len(scores)))
        comp = []
        for team in self._teams:
            caps = [set(self.capabilities.get(a, ())) for a in team]
            pairs = [
                1 - (len(a & b) / len(a | b) if a | b else 1.0)
                for i, a in enumerate(caps)
                for b in caps[i + 1 :]
            ]
            if pairs:
                comp.append(math.fsum(pairs) / len(pairs))
        transfer = 0.5 + 0.5 * math.fsum(self._transfer) / len(self._transfer) if self._transfer else None
        efficiency = avg(
            [
                c.final_quality / s
                for c, s in zip(done, self._steps, strict=True)
                if s > 0 and c.final_quality is not None
            ]
        )
        specialisation, complementarity = avg(special), avg(comp)
        score = None
        if n:
            score = round(
                0.2 * (quality or 0.0)
                + 0.15 * (coordination or 0.0)
                + 0.2 * (synergy or 0.0)
                + 0.15 * (flow if flow is not None else 0.5)
                + 0.1 * min(1.0, 10 * (efficiency or 0.0))
                + 0.1 * (complementarity or 0.0)
                + 0.1 * (transfer if transfer is not None else 0.5),
                6,
            )
        return CapabilitiesMeasured(
            epoch=at.epoch,
            step=at.step,
            completed=n,
            completed_in_epoch=self.epoch_counts[0],
            failed_in_epoch=self.epoch_counts[1],
            rejected_in_epoch=self.epoch_counts[2],
            avg_quality=quality,
            coordination=coordination,
            synergy=synergy,
            information_flow=flow,
            specialisation=specialisation,
            complementarity=complementarity,
            knowledge_transfer=None if transfer is None else round(transfer, 6),
            efficiency=efficiency,
            emergent_capability_score=score,
        )


# ---------------------------------------------------------------------- component


def capabilities_of(scenario: Scenario) -> dict[str, tuple[str, ...]]:
    """Every agent's capabilities (in the scenario's order)."""
    return {a: tuple(spec.capabilities) for a, spec in scenario.agent_ids()}


def composite_config(scenario: Scenario | None) -> CompositeTasksConfig | None:
    """The scenario's composite task settings, or None when it has no composite tasks."""
    if scenario is None:
        return None
    config: CompositeTasksConfig | None = getattr(scenario, "composite_tasks", None)
    if config is not None:
        return config if config.enabled else None
    if getattr(scenario.governance, "composite_tasks_enabled", False):
        return CompositeTasksConfig()
    return None


async def _answering(pending: Any) -> bool:
    return bool(await pending)


@component
class CompositeTasks(WorldComponent):
    """Owns composite tasks: posts them, forms teams, assigns, verifies and pays subtasks."""

    key = "composite_tasks"
    order = 22
    Config = CompositeTasksConfig
    actions = (JoinTeam, AssignSubtask, ClaimSubtask, SubmitSubtask, VerifySubtask)
    view_type = CompositeBoardView
    prompt_rules = (
        "Composite tasks: a task is made of subtasks, each needing some capabilities and done only after "
        "the subtasks it depends on. Join a task's team (the first member leads and accepts later ones), "
        "claim or assign available subtasks, submit work on your subtask with your conduct; the work's "
        "quality rises with your conduct and with how many of the subtask's capabilities you have. A "
        "verifier or the board checks it: rejected work comes back for rework. The bounty is shared by "
        "contribution when every subtask is done."
    )
    config: CompositeTasksConfig

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        scenario = setup.scenario
        config = composite_config(scenario) or CompositeTasksConfig()
        self.config = config
        verifiers = [a for a, spec in scenario.agent_ids() if spec.role == "verifier"]
        planners = [a for a, spec in scenario.agent_ids() if spec.role == "planner"]
        proxy = ProxyComputer(sigmoid_k=scenario.payoff.sigmoid_k)
        self.state = CompositeState(
            config, setup.rng("composite_tasks"), proxy, capabilities_of(scenario), verifiers, planners
        )

    @classmethod
    def enabled(cls, scenario: Scenario) -> bool:
        flag = bool(getattr(scenario.governance, "composite_tasks_enabled", False))
        return flag or composite_config(scenario) is not None

    @classmethod
    def check(cls, scenario: Scenario) -> None:
        explicit = getattr(scenario, "composite_tasks", None)
        if explicit is not None and not explicit.enabled and scenario.governance.composite_tasks_enabled:
            raise ConfigProblem(
                "governance.composite_tasks_enabled",
                "true but composite_tasks.enabled is false",
                "the two switches to agree (or only one of them)",
            )

    def view(self, at: At) -> CompositeBoardView:
        return self.state.view()

    def apply(self, at: At, turns: Sequence[Turn], agents: Mapping[str, AgentPublic]) -> Applied:
        return self.state.apply(at, turns, agents)

    def questions(self, at: At) -> Mapping[str, Sequence[JoinRequest]]:
        return self.state.questions()

    @classmethod
    def ask(cls, policy: Any, observation: Observation, question: JoinRequest) -> Any:
        """The lead's answer: its role decides (a planner screens by capability), else it accepts."""
        role = getattr(policy, "role", None)
        consider = getattr(role, "consider_join", None)
        if consider is None:
            return True
        return bool(consider(observation, question))

    def resolve(self, at: At, answers: Sequence[tuple[str, Any, Any]]) -> Applied:
        return self.state.resolve(at, answers)

    def epoch_start(self, at: At, agents: Sequence[AgentPublic]) -> Applied:
        return Applied(events=self.state.open_epoch(at))

    def epoch_end(self, at: At, agents: Sequence[AgentPublic]) -> Applied:
        return Applied(events=[self.state.measure(at)])

    @classmethod
    def prompt_view(cls, view: CompositeBoardView, agent_id: str) -> CompositeBoardView:
        mine = view.teams_of(agent_id)
        others = [t for t in view.tasks if agent_id not in t.team][: max(0, MAX_TASKS_SHOWN - len(mine))]
        shown = (*mine, *others)
        people = {agent_id, *(m for t in shown for m in t.team)}
        work = view.work if isinstance(view.work, UnsetType) else {agent_id: view.work.get(agent_id, ())}
        return CompositeBoardView(
            shown,
            {a: c for a, c in view.capabilities.items() if a in people},
            view.verifiers,
            view.planners,
            view.team_formation,
            work,
        )


latest(
    "composite_tasks_completed",
    CapabilitiesMeasured,
    "composite tasks completed in the epoch",
    lambda e: e.completed_in_epoch,
    optional=True,
)
latest(
    "composite_tasks_failed",
    CapabilitiesMeasured,
    "composite tasks failed or expired in the epoch",
    lambda e: e.failed_in_epoch,
    optional=True,
)
latest(
    "subtasks_rejected",
    CapabilitiesMeasured,
    "subtask submissions sent back for rework in the epoch",
    lambda e: e.rejected_in_epoch,
    optional=True,
)
latest(
    "capability_quality",
    CapabilitiesMeasured,
    "mean final quality of the composite tasks completed so far",
    lambda e: e.avg_quality,
    optional=True,
)
latest(
    "capability_coordination",
    CapabilitiesMeasured,
    "mean coordination score of the composite tasks completed so far",
    lambda e: e.coordination,
    optional=True,
)
latest(
    "capability_synergy",
    CapabilitiesMeasured,
    "mean synergy score of the composite tasks completed so far",
    lambda e: e.synergy,
    optional=True,
)
latest(
    "capability_information_flow",
    CapabilitiesMeasured,
    "mean information flow of the composite tasks completed so far",
    lambda e: e.information_flow,
    optional=True,
)
latest(
    "capability_specialisation",
    CapabilitiesMeasured,
    "mean specialisation of the agents' capability scores",
    lambda e: e.specialisation,
    optional=True,
)
latest(
    "capability_complementarity",
    CapabilitiesMeasured,
    "mean pairwise capability difference (1 - Jaccard) within the teams of completed tasks",
    lambda e: e.complementarity,
    optional=True,
)
latest(
    "emergent_capability_score",
    CapabilitiesMeasured,
    "the reference's collective intelligence score of the composite tasks completed so far",
    lambda e: e.emergent_capability_score,
    optional=True,
)


def _total(name: str) -> Any:
    def reduce(run: RunData) -> int | None:
        xs = defined(run.epochs, name)
        return int(sum(xs)) if xs else None

    return reduce


run_figure(
    "composite_tasks_completed", "composite tasks completed in the run", _total("composite_tasks_completed")
)
run_figure(
    "avg_synergy_score",
    "mean synergy score of the composite tasks completed in the run",
    last_of("capability_synergy"),
)
run_figure(
    "emergent_capability_score",
    "the emergent capability score of the composite tasks completed in the run",
    last_of("emergent_capability_score"),
)

__all__ = [
    "CAPABILITIES",
    "TEMPLATES",
    "AssignSubtask",
    "CapabilitiesMeasured",
    "ClaimSubtask",
    "CompositeBoardView",
    "CompositeTaskClosed",
    "CompositeTaskCreated",
    "CompositeTaskStarted",
    "CompositeTaskView",
    "CompositeTasks",
    "CompositeTasksConfig",
    "JoinRequest",
    "JoinTeam",
    "SubmitSubtask",
    "SubtaskAssigned",
    "SubtaskOutput",
    "SubtaskSubmitted",
    "SubtaskVerified",
    "SubtaskView",
    "TeamJoinDeclined",
    "TeamJoined",
    "VerifySubtask",
]
