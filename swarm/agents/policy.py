"""The policy protocol: how any agent, scripted or LLM-backed, decides.

``decide`` and ``accept`` may be plain methods or coroutines. A policy whose
methods are plain (every scripted policy) is run inline, in the clock's task,
in the order agents act — no task switch per agent. A policy with coroutines
(an LLM policy, or your own that awaits something) gets its own task each time
it is asked, so its awaits overlap with everyone else's, bounded by the
scenario's ``simulation.policy_timeout``.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, Literal, Protocol, runtime_checkable

import msgspec

from swarm.actions import Action, Conduct
from swarm.core.interaction import SoftInteraction
from swarm.views import Observation


class Outcome(msgspec.Struct, frozen=True, gc=False):
    """What an agent learns after an interaction it took part in was settled."""

    interaction: SoftInteraction
    role: Literal["initiator", "counterparty"]
    payoff: float


@runtime_checkable
class Policy(Protocol):
    """An agent's mind: asked once per step to act, and once per question addressed to it.

    ``conduct`` is how the agent carries out interactions it accepts as a
    counterparty (its own proposals carry their conduct in the action).
    """

    @property
    def conduct(self) -> Conduct: ...

    def decide(self, observation: Observation) -> Action | Awaitable[Action]:
        """Choose this step's action."""
        ...

    def accept(self, observation: Observation, proposal: Any) -> bool | Awaitable[bool]:
        """Answer a proposal addressed to this agent."""
        ...

    def observe(self, outcome: Outcome) -> None:
        """Learn from a settled interaction (called before the next step)."""
        ...
