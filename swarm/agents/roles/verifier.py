"""The verifier role: checks submitted subtasks of composite tasks; its verdict is evidence.

A verifier applies only when the scenario has composite tasks. While any verifier is in the
scenario, a submitted subtask waits (``verify_wait_steps``) for one to check it. Each step a
verifier checks the first submitted subtask it did not do itself, with its policy's conduct:
its effort is how closely it looks (a diligent verifier sees through a facade, one that puts
in no effort sees only what the work shows). A rejection sends the work back for rework and
counts as a verifier rejection in the interaction's observables, so it lowers p and with it
the worker's reputation. When nothing waits, the agent's policy decides.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from swarm.actions import Action, Conduct
from swarm.agents.roles import RoleBehaviour, register_role
from swarm.env.composite import CompositeBoardView, VerifySubtask, composite_config
from swarm.views import Observation

if TYPE_CHECKING:
    from swarm.scenario import Scenario

__all__ = ["VerifierRole"]


@register_role
class VerifierRole(RoleBehaviour):
    """Checks submitted subtasks (see the module docstring)."""

    name: ClassVar[str] = "verifier"
    description: ClassVar[str] = "checks submitted composite subtasks; a rejection is evidence"
    prompt: ClassVar[str] = (
        "verifier: check the submitted subtasks of composite tasks (verify_subtask) and "
        "reject work whose quality is below the bar; your rejections count as evidence against the worker."
    )

    @classmethod
    def applies(cls, scenario: Scenario | None) -> bool:
        return composite_config(scenario) is not None

    def act(self, observation: Observation, conduct: Conduct) -> Action | None:
        board = observation.view(CompositeBoardView)
        if board is None:
            return None
        me = self.agent_id
        for task in board.tasks:
            for s in task.subtasks:
                if s.status == "submitted" and s.assignee != me:
                    return VerifySubtask(task_id=task.task_id, subtask=s.index, conduct=conduct)
        return None
