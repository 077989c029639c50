"""The policy protocol: how any agent, scripted or LLM-backed, decides."""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from swarm.core.interaction import SoftInteraction
from swarm.messages import Action, Conduct, Observation, ProposalView


class Outcome(BaseModel):
    """What an agent learns after an interaction it took part in was resolved."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    interaction: SoftInteraction
    role: Literal["initiator", "counterparty"]
    payoff: float


@runtime_checkable
class Policy(Protocol):
    """An agent's mind: awaited once per step to act and once per proposal addressed to it.

    ``conduct`` is how the agent carries out interactions it accepts as a
    counterparty (its own proposals carry their conduct in the action).
    """

    @property
    def conduct(self) -> Conduct: ...

    async def decide(self, observation: Observation) -> Action:
        """Choose this step's action."""
        ...

    async def accept(self, observation: Observation, proposal: ProposalView) -> bool:
        """Answer a proposal addressed to this agent."""
        ...

    def observe(self, outcome: Outcome) -> None:
        """Learn from a resolved interaction (called before the next step)."""
        ...
