"""The run's agents as the clock sees them: a population asked to act, respond and learn, phase by phase.

The clock never talks to one agent at a time; it hands a whole phase to the
population and gets the replies back in the order it asked. :class:`LocalPopulation`
keeps every agent as an actor in this process (plain policies answer inline, awaiting
ones overlap in their own tasks); a sharded population spreads the same agents over
worker processes under the same barrier. Either way the replies, and so the event
log, are the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from actors import ActorRef, ActorSystem
from swarm.agents.policy import Outcome
from swarm.kernel.agent import Act, Learn, Respond, Responded, agent_actor
from swarm.kernel.component import Ask
from swarm.views import Snapshot


class Population:
    """Where the agents live. Each method covers one phase for many agents, by registration index."""

    async def act(self, snapshot: Snapshot, active: Sequence[int]) -> list[Any]:
        """Each active agent's reply to the snapshot (an action, or ``Acted``), in the order of ``active``."""
        raise NotImplementedError

    async def respond(
        self, snapshot: Snapshot, ask: Ask, asked: Sequence[tuple[int, tuple[Any, ...]]]
    ) -> list[Responded]:
        """Each asked agent's answers to its questions, in the order of ``asked``."""
        raise NotImplementedError

    async def learn(self, outcomes: Sequence[tuple[int, Outcome]]) -> None:
        """Tell each agent an outcome of the step, in order."""
        raise NotImplementedError

    async def aclose(self) -> None:
        """Release what the population holds (worker processes, say)."""


class LocalPopulation(Population):
    """Every agent an actor in this process's actor system."""

    def __init__(self, system: ActorSystem, agents: Sequence[tuple[str, Any]], timeout: float) -> None:
        self.system = system
        self.refs: list[ActorRef] = [
            system.spawn(agent_actor(agent_id, policy, timeout), name=f"agent:{agent_id}", mailbox_size=64)
            for agent_id, policy in agents
        ]

    async def act(self, snapshot: Snapshot, active: Sequence[int]) -> list[Any]:
        refs, act = self.refs, Act(snapshot)
        return await self.system.gather_ask([(refs[k], act) for k in active])

    async def respond(
        self, snapshot: Snapshot, ask: Ask, asked: Sequence[tuple[int, tuple[Any, ...]]]
    ) -> list[Responded]:
        refs = self.refs
        return await self.system.gather_ask([(refs[k], Respond(snapshot, ask, qs)) for k, qs in asked])

    async def learn(self, outcomes: Sequence[tuple[int, Outcome]]) -> None:
        refs = self.refs
        await self.system.tell_all([(refs[k], Learn(o)) for k, o in outcomes])
