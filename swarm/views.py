"""What agents see: one immutable snapshot per step, and each agent's observation of it.

The snapshot is built once per step and shared by every agent. Besides every
agent's public record it holds one *view* per world component and one public
*notice* per governance lever, each keyed by its class, so a policy asks for
what it needs by type (``observation.view(FeedView)``) and the kernel never
names a component.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any, TypeVar

import msgspec

from swarm.actions import Action

AgentId = str
V = TypeVar("V")


class AgentPublic(msgspec.Struct, frozen=True, gc=False, forbid_unknown_fields=True):
    """What is public about an agent: no declared or true type is ever shown."""

    agent_id: AgentId
    reputation: float
    resources: float
    frozen: bool = False


class Snapshot:
    """The shared, immutable picture of the world at the start of a step (built once)."""

    __slots__ = ("__dict__", "agents", "deterrence", "epoch", "exhausted", "never", "public", "step")

    def __init__(
        self,
        epoch: int,
        step: int,
        agents: tuple[AgentPublic, ...],
        public: Mapping[type, Any],
        exhausted: Mapping[AgentId, frozenset[type[Action]]] | None = None,
        never: frozenset[type[Action]] = frozenset(),
        deterrence: float = 0.0,
        index: dict[AgentId, AgentPublic] | None = None,
    ) -> None:
        if index is not None:  # ``agents`` by id, kept up to date by the caller: not built again
            self.__dict__["agent_index"] = index
        self.epoch = epoch
        self.step = step
        self.agents = agents
        self.public = public
        """Component views and lever notices, keyed by their class."""
        self.exhausted = exhausted if exhausted is not None else {}
        """Per agent, the action types its rate limits forbid for the rest of the period."""
        self.never = never
        """Action types whose rate limit is zero: nobody may take them."""
        self.deterrence = deterrence
        """How strongly low-quality conduct is punished by the levers in force, in [0, 1]."""

    def view(self, kind: type[V]) -> V | None:
        """The component view or lever notice of this class, if the scenario has it."""
        found: V | None = self.public.get(kind)
        return found

    @cached_property
    def agent_index(self) -> dict[AgentId, AgentPublic]:
        """Public records by agent id (built once per snapshot, on first use)."""
        return {a.agent_id: a for a in self.agents}

    @cached_property
    def _forbidden_by_agent(self) -> Mapping[AgentId, frozenset[type[Action]]]:
        """Per agent with spent budgets, every action type it may not take now (``never`` included);
        any other agent may take all but ``never``. Worked out once per snapshot: every agent asked
        at it reads it (``exhausted`` itself when nothing is forbidden to all)."""
        never, exhausted = self.never, self.exhausted
        return exhausted if not never else {a: never | spent for a, spent in exhausted.items()}

    @cached_property
    def by_reputation(self) -> tuple[AgentPublic, ...]:
        """Active (unfrozen) agents, highest reputation first, then by id."""
        return tuple(
            sorted((a for a in self.agents if not a.frozen), key=lambda a: (-a.reputation, a.agent_id))
        )


def _forbidden(snapshot: Snapshot, agent_id: AgentId) -> frozenset[type[Action]]:
    """The action types ``agent_id``'s rate limits forbid at ``snapshot``."""
    return snapshot._forbidden_by_agent.get(agent_id, snapshot.never)


_WORK_OUT: frozenset[type[Action]] = frozenset({Action})
"""The default of :attr:`Observation.forbidden`: "work it out from the snapshot" (compared by identity)."""


class Observation(msgspec.Struct, gc=False, eq=False):
    """One agent's view of a snapshot: the shared picture plus its own public record.

    ``Observation(agent_id, me, snapshot)`` works out what the agent's rate limits
    forbid; a caller that knows it already (the kernel's act loop) passes it as
    ``forbidden``. (A struct rather than a plain class: one is built per agent-turn,
    and a struct is built in C.)
    """

    agent_id: AgentId
    me: AgentPublic
    snapshot: Snapshot
    forbidden: frozenset[type[Action]] = _WORK_OUT
    """The action types this agent may not take now (``can`` asks the same; policies read it
    directly where a decision checks several types)."""

    def __post_init__(self) -> None:
        if self.forbidden is _WORK_OUT:
            self.forbidden = _forbidden(self.snapshot, self.agent_id)

    def __repr__(self) -> str:
        return f"Observation({self.agent_id!r}, epoch={self.snapshot.epoch}, step={self.snapshot.step})"

    @property
    def epoch(self) -> int:
        return self.snapshot.epoch

    @property
    def step(self) -> int:
        return self.snapshot.step

    def view(self, kind: type[V]) -> V | None:
        """The component view or lever notice of this class, if the scenario has it."""
        found: V | None = self.snapshot.public.get(kind)
        return found

    def can(self, action: type[Action]) -> bool:
        """Whether this agent's rate limits still allow an action of this type now."""
        return action not in self.forbidden

    @property
    def others(self) -> tuple[AgentPublic, ...]:
        """Every other non-frozen agent, in registration order (O(n): prefer ``agent``/sampling)."""
        return tuple(a for a in self.snapshot.agents if a.agent_id != self.agent_id and not a.frozen)

    def agent(self, agent_id: AgentId) -> AgentPublic | None:
        """Another agent's public record, if it exists and is not frozen."""
        a = self.snapshot.agent_index.get(agent_id)
        return a if a is not None and not a.frozen and agent_id != self.agent_id else None


class _Told(Observation, gc=False, eq=False):
    """An :class:`Observation` built with what the agent's rate limits forbid (the kernel's, every
    agent-turn): nothing to work out, so no Python ``__post_init__`` to run after the C constructor."""

    __post_init__ = callable  # type: ignore[assignment,misc]  # a C builtin taking the struct: no effect
