"""The injector type: plants injection payloads in messages, posts or task outputs (the security
threat model's attacker)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from swarm.actions import NOOP, Action
from swarm.agents.scripted.base import ScriptedPolicy
from swarm.agents.types import PolicyConfig, chance
from swarm.env.broker import ProposalView
from swarm.env.composite import ClaimSubtask, CompositeBoardView, JoinTeam, SubmitSubtask
from swarm.env.feed import CreatePost
from swarm.env.security import SendMessage, payload_text
from swarm.env.tasks import ClaimTask, SubmitWork
from swarm.views import Observation


class InjectorConfig(PolicyConfig):
    payload: Literal["worm", "leak"] = Field(
        default="worm", description="worm: a self-relaying message; leak: asks for the reader's secret key"
    )
    attack_probability: float = chance(0.3, "chance to send a payload in a step")
    evasion: float = chance(0.0, "chance a payload is phrased to avoid the analyzer's phrase list")
    channel: Literal["message", "post", "task_output"] = Field(
        default="message",
        description=(
            "message: sent to everyone within reach; post: on the feed; task_output: in the work it "
            "submits (on a composite task's subtask when the world has them, else on the task board)"
        ),
    )
    max_attacks: int | None = Field(default=None, ge=0, description="payloads sent at most (None: no limit)")


class InjectorPolicy(ScriptedPolicy):
    """Sends payload-carrying messages to every agent within reach (or posts them); never works or trades."""

    kind = "injector"
    Config = InjectorConfig
    config: InjectorConfig

    __slots__ = ("_sent",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sent = 0

    @property
    def declines_roles(self) -> bool:
        """Planting in task outputs, it does its own work (a worker role would submit clean work)."""
        return self.config.channel == "task_output"

    def decide(self, observation: Observation) -> Action:
        c = self.config
        if c.channel == "task_output":
            return self._work(observation)
        kind = CreatePost if c.channel == "post" else SendMessage
        if not observation.can(kind) or (c.max_attacks is not None and self._sent >= c.max_attacks):
            return NOOP
        if self.rng.random() >= c.attack_probability:
            return NOOP
        evasive = self.rng.random() < c.evasion
        self._sent += 1
        text = payload_text(c.payload, self.agent_id, self.agent_id, evasive)
        if c.channel == "post":
            return CreatePost(content=text)
        return SendMessage(recipient="*", content=text)

    def _work(self, observation: Observation) -> Action:
        """Get work, then submit work whose text is the payload (when the attack draw says so).

        It submits on a board task it holds, else on a composite subtask assigned to it; it gets
        work by joining a composite task's team and claiming a subtask (in a world with composite
        tasks), else by claiming an open board task.
        """
        c = self.config
        if c.max_attacks is not None and self._sent >= c.max_attacks:
            return NOOP
        mine = self.my_tasks(observation)
        composite = observation.view(CompositeBoardView)
        due = _due_subtask(composite, self.agent_id) if composite is not None else None
        if mine or due is not None:
            if self.rng.random() >= c.attack_probability:
                return NOOP
            evasive = self.rng.random() < c.evasion
            self._sent += 1
            text = payload_text(c.payload, self.agent_id, self.agent_id, evasive)
            if mine:
                return SubmitWork(task_id=mine[0].task_id, content=text, conduct=self.conduct)
            assert due is not None
            return SubmitSubtask(task_id=due[0], subtask=due[1], content=text, conduct=self.conduct)
        if composite is not None:
            return _get_subtask(composite, self.agent_id, observation.me.reputation)
        open_ = self.open_tasks(observation)
        return ClaimTask(task_id=open_[0].task_id) if open_ and observation.can(ClaimTask) else NOOP

    def accept(self, observation: Observation, proposal: ProposalView) -> bool:
        return False


InjectorPolicy.register(
    "Plants injection payloads (a worm, or a request for secrets) in messages, posts or task outputs."
)


def _due_subtask(board: CompositeBoardView, me: str) -> tuple[str, int] | None:
    """A subtask assigned to ``me`` whose work can be submitted now: (task, index)."""
    for task in board.teams_of(me):
        for sub in task.subtasks:
            if (
                task.status == "in_progress"
                and sub.assignee == me
                and sub.status == "assigned"
                and sub.available
            ):
                return task.task_id, sub.index
    return None


def _get_subtask(board: CompositeBoardView, me: str, reputation: float) -> Action:
    """Claim an available subtask on one's team, else ask to join the first team with room."""
    mine = board.teams_of(me)
    for task in mine:
        if task.status != "in_progress" or any(
            s.assignee == me for s in task.subtasks if s.status != "completed"
        ):
            continue
        for sub in task.subtasks:
            if sub.status == "pending" and sub.available:
                return ClaimSubtask(task_id=task.task_id, subtask=sub.index)
    if mine:
        return NOOP
    for task in board.tasks:
        if len(task.team) < task.max_agents and reputation >= task.min_reputation:
            return JoinTeam(task_id=task.task_id)
    return NOOP
