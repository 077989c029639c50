"""The planner role: leads composite task teams, screens who joins and assigns the subtasks.

A planner applies only when the scenario has composite tasks. Each step it, in this order:

1. on a running team it belongs to, assigns one available, unassigned subtask to the member
   whose capabilities fit it best (ties: the member with the fewest subtasks so far, then team
   order; with ``team_formation: random``, to a member drawn at random): the plan is who does
   what, and it keeps the load even (the coordination score);
2. does its own assigned subtasks, as a worker does (members of a planner's team wait to be
   assigned instead of claiming);
3. when it is on no unfinished team, joins a task nobody has joined yet, which makes it the
   lead (else any task with room, as a worker would).

As a lead it takes an applicant only if the applicant has a capability the team still lacks,
counting the capabilities of the applicants it took earlier in the same step (a worker lead
judges each request against the team as it was when the step began); with ``team_formation:
random`` it takes everyone. The decomposition into subtasks is the
task's template; the planner decides the assignment.
"""

from __future__ import annotations

from typing import ClassVar

from swarm.actions import Action, Conduct
from swarm.agents.roles import register_role
from swarm.agents.roles.worker import WorkerRole
from swarm.env.composite import (
    AssignSubtask,
    CompositeBoardView,
    CompositeTaskView,
    JoinRequest,
    JoinTeam,
    match,
)
from swarm.views import Observation

__all__ = ["PlannerRole"]


@register_role
class PlannerRole(WorkerRole):
    """Leads teams and assigns subtasks (see the module docstring)."""

    name: ClassVar[str] = "planner"
    description: ClassVar[str] = "leads composite task teams, screens applicants and assigns subtasks"
    prompt: ClassVar[str] = (
        "planner: lead the team of a composite task, accept agents who bring capabilities "
        "the team lacks, and assign each available subtask to the member best able to do it, keeping "
        "the work evenly spread."
    )

    _batch: tuple[tuple[str, int, int], set[str]] = (("", -1, -1), set())

    def act(self, observation: Observation, conduct: Conduct) -> Action | None:
        board = observation.view(CompositeBoardView)
        if board is None:
            return None
        for task in board.teams_of(self.agent_id):
            if task.status == "in_progress":
                action = self._assign(board, task)
                if action is not None:
                    return action
        if not board.teams_of(self.agent_id):
            fresh = [
                t
                for t in board.tasks
                if not t.team
                and t.task_id not in self._declined
                and observation.me.reputation >= t.min_reputation
            ]
            if fresh:
                return JoinTeam(task_id=fresh[0].task_id)
        return self.work(observation, board, conduct)

    def _assign(self, board: CompositeBoardView, task: CompositeTaskView) -> AssignSubtask | None:
        free = [s for s in task.subtasks if s.status == "pending" and s.available]
        if not free:
            return None
        s = free[0]
        load = {m: 0 for m in task.team}
        for x in task.subtasks:
            if x.assignee in load:
                load[x.assignee] += 1
        if self.random_teams:
            who = self.rng.choice(task.team)
        else:
            order = {m: k for k, m in enumerate(task.team)}
            who = max(
                task.team,
                key=lambda m: (match(board.capabilities.get(m, ()), s.capabilities), -load[m], -order[m]),
            )
        return AssignSubtask(task_id=task.task_id, subtask=s.index, agent_id=who)

    def consider_join(self, observation: Observation, request: JoinRequest) -> bool:
        """Take the applicant only if it has a capability the team still lacks, counting those of the
        applicants already taken this step (anyone with random teams)."""
        if self.random_teams:
            return True
        key = (request.task_id, observation.epoch, observation.step)
        if self._batch[0] != key:
            self._batch = (key, set())
        taken = self._batch[1]
        if set(request.capabilities) & (set(request.missing) - taken):
            taken.update(request.capabilities)
            return True
        return False
