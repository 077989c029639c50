"""The worker role: joins composite task teams, takes subtasks, does them and reworks rejected ones.

Every agent's role is ``worker`` unless the scenario says otherwise, so the behaviour applies
only when the scenario has composite tasks (a scenario without them runs exactly as before).
Each step a worker, in this order:

1. submits the work on a subtask assigned to it whose dependencies are done (with the conduct
   of its policy: an honest worker works, a deceptive one puts up a facade), which is also how
   it reworks a subtask the check sent back;
2. on a team without a planner, claims the available subtask that fits its capabilities best
   (with ``team_formation: capability`` only one where it has a required capability, or that
   nobody on the team can do; with ``random`` any of them);
3. when it is on no unfinished team, asks to join one: with ``capability`` one that needs a
   capability it has and the team lacks (the smallest such team first), with ``random`` any
   task with room; a lead that declined it is not asked again.

Otherwise its policy decides. As a lead it takes an applicant who has a capability the team
lacked when the step began (anyone with ``random``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from swarm.actions import Action, Conduct
from swarm.agents.roles import RoleBehaviour, register_role
from swarm.env.composite import (
    ClaimSubtask,
    CompositeBoardView,
    CompositeTaskView,
    JoinRequest,
    JoinTeam,
    SubmitSubtask,
    SubtaskView,
    composite_config,
    match,
)
from swarm.views import Observation

if TYPE_CHECKING:
    from swarm.runtime.rng import Rng
    from swarm.scenario import Scenario

__all__ = ["WorkerRole"]


@register_role
class WorkerRole(RoleBehaviour):
    """Does composite task work (see the module docstring)."""

    name: ClassVar[str] = "worker"
    description: ClassVar[str] = "joins composite task teams, does subtasks and reworks rejected ones"
    prompt: ClassVar[str] = (
        "worker: join the team of a composite task that needs your capabilities, take the "
        "available subtasks you are able to do, submit your work on them and redo work that is sent back."
    )
    joins: ClassVar[bool] = True
    """Whether the role asks to join teams."""

    def __init__(
        self, agent_id: str, rng: Rng, scenario: Scenario | None, config: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(agent_id, rng, scenario, config)
        tasks = composite_config(scenario)
        self.random_teams = tasks is not None and tasks.team_formation == "random"
        self._asked: dict[str, None] = {}
        self._declined: dict[str, None] = {}

    @classmethod
    def applies(cls, scenario: Scenario | None) -> bool:
        return composite_config(scenario) is not None

    # ----------------------------------------------------------------- acting

    def act(self, observation: Observation, conduct: Conduct) -> Action | None:
        board = observation.view(CompositeBoardView)
        if board is None:
            return None
        return self.work(observation, board, conduct)

    def work(self, observation: Observation, board: CompositeBoardView, conduct: Conduct) -> Action | None:
        """Submit, claim or join (in that order); None when there is nothing to do."""
        me = self.agent_id
        self._note_declines(board)
        mine = board.teams_of(me)
        for task in mine:
            if task.status != "in_progress":
                continue
            for s in task.subtasks:
                if s.assignee == me and s.status == "assigned" and s.available:
                    return SubmitSubtask(task_id=task.task_id, subtask=s.index, conduct=conduct)
        for task in mine:
            if task.status != "in_progress" or any(p in task.team for p in board.planners):
                continue
            if any(s.assignee == me and s.status in ("assigned", "submitted") for s in task.subtasks):
                continue
            pick = self._claimable(board, task)
            if pick is not None:
                return ClaimSubtask(task_id=task.task_id, subtask=pick.index)
        if self.joins and not mine:
            wanted = self._joinable(observation, board)
            if wanted is not None:
                self._asked[wanted.task_id] = None
                return JoinTeam(task_id=wanted.task_id)
        return None

    def _note_declines(self, board: CompositeBoardView) -> None:
        for task_id in list(self._asked):
            task = board.task(task_id)
            if task is None or self.agent_id not in task.team:
                self._declined[task_id] = None
            del self._asked[task_id]
        if len(self._declined) > 64:
            del self._declined[next(iter(self._declined))]

    def _claimable(self, board: CompositeBoardView, task: CompositeTaskView) -> SubtaskView | None:
        free = [s for s in task.subtasks if s.status == "pending" and s.available]
        if not free:
            return None
        if self.random_teams:
            return self.rng.choice(free)
        mine = board.capabilities.get(self.agent_id, ())
        best: SubtaskView | None = None
        best_fit = 0.0
        for s in free:
            fit = match(mine, s.capabilities)
            if fit == 0.0:
                able = any(match(board.capabilities.get(m, ()), s.capabilities) > 0 for m in task.team)
                if able:
                    continue  # leave it to a member who can do it
            if best is None or fit > best_fit:
                best, best_fit = s, fit
        return best

    def _joinable(self, observation: Observation, board: CompositeBoardView) -> CompositeTaskView | None:
        me = observation.me
        room = [
            t
            for t in board.tasks
            if t.task_id not in self._declined
            and len(t.team) < t.max_agents
            and me.reputation >= t.min_reputation
            and t.status in ("open", "in_progress")
        ]
        if not room:
            return None
        if self.random_teams:
            return self.rng.choice(room)
        mine = set(board.capabilities.get(self.agent_id, ()))
        useful = [t for t in room if mine & t.missing(board.capabilities)]
        if not useful:
            return None
        return min(useful, key=lambda t: len(t.team))

    # --------------------------------------------------------------- leading

    def consider_join(self, observation: Observation, request: JoinRequest) -> bool:
        """Whether this agent, as a team's lead, takes ``request``'s applicant: one with a capability
        the team lacks (anyone with random teams)."""
        return self.random_teams or bool(set(request.capabilities) & set(request.missing))
