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
from swarm.actions import NOOP
from swarm.agents.policy import Outcome
from swarm.kernel.agent import (
    EXPECTED_FAILURES,
    Act,
    Acted,
    InlineAgent,
    Learn,
    Respond,
    Responded,
    agent_actor,
    describe_failure,
)
from swarm.kernel.component import Ask
from swarm.views import Snapshot, _Told


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
    """Every agent an actor in this process's actor system.

    Agents whose policy never awaits are run in one loop per phase, in this task,
    whenever their actor is idle (nothing queued or in hand): the same handlers'
    work without a dispatch per agent. Busy ones, and every awaiting agent, get the
    phase's message in their mailbox and answer through it.
    """

    def __init__(self, system: ActorSystem, agents: Sequence[tuple[str, Any]], timeout: float) -> None:
        self.system = system
        self.timeout = timeout
        known: dict[type, bool | None] = {}  # whether a policy class is inline, worked out once
        self.reseat([self.spawn(agent_id, policy, known) for agent_id, policy in agents])

    def spawn(
        self, agent_id: str, policy: Any, _known: dict[type, bool | None] | None = None
    ) -> tuple[ActorRef, InlineAgent | None]:
        """A new actor for an agent in this process's system, and its inline handler (None for a
        policy that awaits): a member, as :meth:`members` gives them."""
        actor = agent_actor(agent_id, policy, self.timeout, _known)
        ref = self.system.spawn(actor, name=f"agent:{agent_id}", mailbox_size=64)
        return ref, actor if isinstance(actor, InlineAgent) else None

    def members(self) -> list[tuple[ActorRef, InlineAgent | None]]:
        """Each agent's actor (and its inline handler, for a policy that never awaits), in order."""
        return list(zip(self.refs, self._inline, strict=True))

    def reseat(self, members: Sequence[tuple[ActorRef, InlineAgent | None]]) -> None:
        """Answer from now on for ``members`` (what :meth:`members` gives), in that order.

        A sharded run calls it between steps when agents move to or from this process.
        """
        self.refs: list[ActorRef] = [ref for ref, _ in members]
        self._inline: list[InlineAgent | None] = [agent for _, agent in members]
        self._deciders: list[tuple[Any, str, ActorRef]] = [
            (None, ref.name, ref) if agent is None else (agent.policy, agent.agent_id, ref)
            for ref, agent in members
        ]
        """Per agent: its policy (None for a policy that awaits), its id and its actor, what the act
        phase reads of each agent (in one unpacking rather than three lookups; the policy rather
        than its bound ``decide``, which would hold 64 bytes more per agent)."""

    async def act(self, snapshot: Snapshot, active: Sequence[int]) -> list[Any]:
        refs, deciders = self.refs, self._deciders
        index, never = snapshot.agent_index, snapshot.never
        forbid = snapshot._forbidden_by_agent.get  # what Observation works out when not told
        everyone = len(active) == len(deciders)  # active is then every index, in order
        out: list[Any] = []
        queued: list[int] = []
        for policy, me, ref in deciders if everyone else [deciders[k] for k in active]:
            if policy is None or not ref.idle:
                queued.append(len(out))
                out.append(None)
                continue
            try:
                out.append(policy.decide(_Told(me, index[me], snapshot, forbid(me, never))))
            except EXPECTED_FAILURES as exc:
                out.append(Acted(NOOP, describe_failure(exc)))
            except Exception as exc:
                raise ref.failed(Act(snapshot), exc) from exc
        if queued:
            act = Act(snapshot)
            replies = await self.system.gather_ask([(refs[active[i]], act) for i in queued])
            for i, reply in zip(queued, replies, strict=True):
                out[i] = reply
        return out

    async def respond(
        self, snapshot: Snapshot, ask: Ask, asked: Sequence[tuple[int, tuple[Any, ...]]]
    ) -> list[Responded]:
        refs, inline = self.refs, self._inline
        out: list[Any] = [None] * len(asked)
        queued: list[int] = []
        for i, (k, questions) in enumerate(asked):
            agent, ref = inline[k], refs[k]
            if agent is None or not ref.idle:
                queued.append(i)
                continue
            try:
                out[i] = agent.answer(snapshot, ask, questions)
            except Exception as exc:
                raise ref.failed(Respond(snapshot, ask, questions), exc) from exc
        if queued:
            replies = await self.system.gather_ask(
                [(refs[asked[i][0]], Respond(snapshot, ask, asked[i][1])) for i in queued]
            )
            for i, reply in zip(queued, replies, strict=True):
                out[i] = reply
        return out

    async def learn(self, outcomes: Sequence[tuple[int, Outcome]]) -> None:
        refs, inline = self.refs, self._inline
        for k, outcome in outcomes:
            agent, ref = inline[k], refs[k]
            if agent is not None and ref.idle:
                try:
                    agent.policy.observe(outcome)
                except Exception as exc:
                    ref.failed(Learn(outcome), exc)  # told, not asked: supervision decides what follows
            else:
                await ref.tell(Learn(outcome))
