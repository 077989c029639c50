"""World components: everything that owns a part of the world, behind one interface.

A component (the feed, the task board, the interaction broker, the marketplace,
and any later one) is an actor that declares, on its class:

* ``actions`` — the action types it owns (the kernel routes admitted actions of
  these types to it, and offers them to LLM agents);
* ``rate_limits`` — the per-agent limits on those actions, with their scenario keys
  (the ledger enforces them at admission);
* ``Config`` and ``section`` — its scenario settings and where they live;
* ``view_type`` — the part of the step's snapshot it contributes;
* ``prompt_rules`` and :meth:`prompt_view` — what LLM agents are told about it.

and overrides the hooks it needs: :meth:`view`, :meth:`apply` (a step's batch
of admitted actions → events, ledger entries, interactions), :meth:`questions`
/ :meth:`resolve` (things its agents must answer, such as proposals),
:meth:`epoch_start`, :meth:`epoch_end`, :meth:`observe_settled` and
:meth:`observe_events`. Hooks are
plain methods: the clock calls them through the component's mailbox, and since
they never wait, each call runs at once in the clock's task.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NamedTuple, TypeVar

from pydantic import BaseModel

from actors import Actor, handler
from swarm.actions import Action
from swarm.core.interaction import SoftInteraction
from swarm.core.payoff import SoftPayoffEngine
from swarm.events import Event, InteractionCompleted
from swarm.governance.effects import Effect
from swarm.money import Entry
from swarm.registry import Registry
from swarm.views import AgentPublic, Observation

if TYPE_CHECKING:
    from swarm.scenario import Scenario

V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class At:
    """The logical time of a hook call: epoch, step within the epoch, and steps since the start."""

    epoch: int
    step: int
    clock: int


class Turn(NamedTuple):
    """One admitted action: its place in the step's schedule, its agent, the action."""

    position: int
    agent: str
    action: Action


@dataclass(slots=True)
class Applied:
    """What a hook did: events (in order), ledger entries, and labelled interactions to settle."""

    events: list[Event] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    interactions: list[SoftInteraction] = field(default_factory=list)

    def add(self, other: Applied) -> None:
        """Append what ``other`` did (the kernel gathers a phase's results this way)."""
        self.events += other.events
        self.entries += other.entries
        self.interactions += other.interactions

    def add_effects(self, effects: Sequence[Effect]) -> None:
        """Append governance effects: each is logged, and its ledger entries are booked."""
        for effect in effects:
            self.events.append(effect)
            self.entries += effect.entries()


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A per-agent budget on some action types, reset every step or epoch.

    ``key`` is the scenario key (in ``section``) that sets the limit; ``default``
    None means unlimited. Each admitted action spends ``cost(action)`` of it (1
    unless given); an action whose cost would exceed what is left is refused.
    """

    key: str
    actions: tuple[type[Action], ...]
    per: Literal["step", "epoch"]
    default: float | None
    description: str
    section: str = "rate_limits"
    cost: Callable[[Any], float] | None = None
    unit: str = "actions"


@dataclass(frozen=True)
class Setup:
    """What a component (or lever) is built from."""

    scenario: Scenario
    config: Any
    """The component's settings (its ``Config``), or None when it has none."""
    engine: SoftPayoffEngine
    agents: Mapping[str, str]
    """Every agent id and its type, in registration order."""
    built: Mapping[str, WorldComponent] = field(default_factory=dict)
    """The components of the run built so far (those acting earlier), by key."""

    def component(self, key: str) -> WorldComponent | None:
        """The run's component ``key`` when it was built before this one (lower ``order``), else None.

        For a component that extends another's state (moderation hides the feed's posts);
        prefer :meth:`WorldComponent.published` views when a snapshot is enough.
        """
        return self.built.get(key)

    def rng(self, *names: str) -> random.Random:
        """A random stream of this run for ``names`` (independent of every other stream)."""
        from swarm.runtime.rng import derive_rng

        return derive_rng(self.scenario.simulation.seed, *names)


Answer = Any
Ask = Callable[[Any, Observation, Any], Answer | Awaitable[Answer]]
"""How a component puts one question to a policy: ``ask(policy, observation, question)``."""


# ------------------------------------------------------------------ the hook messages


@dataclass(frozen=True, slots=True)
class Describe:
    at: At


@dataclass(frozen=True, slots=True)
class ApplyTurns:
    at: At
    turns: tuple[Turn, ...]
    agents: Mapping[str, AgentPublic]
    public: Mapping[type, Any] = field(default_factory=dict)
    """The step's snapshot views and notices, keyed by class (what :meth:`WorldComponent.published` reads)."""


@dataclass(frozen=True, slots=True)
class PoseQuestions:
    at: At


@dataclass(frozen=True, slots=True)
class TakeAnswers:
    at: At
    answers: tuple[tuple[str, Any, Answer], ...]


@dataclass(frozen=True, slots=True)
class OpenEpoch:
    at: At
    agents: tuple[AgentPublic, ...]


@dataclass(frozen=True, slots=True)
class CloseEpoch:
    at: At
    agents: tuple[AgentPublic, ...]


@dataclass(frozen=True, slots=True)
class Settled:
    at: At
    completed: tuple[InteractionCompleted, ...]


@dataclass(frozen=True, slots=True)
class StepEvents:
    at: At
    events: tuple[Event, ...]


HOOKS = (
    "view",
    "apply",
    "questions",
    "resolve",
    "epoch_start",
    "epoch_end",
    "observe_settled",
    "observe_events",
)


class WorldComponent(Actor):
    """Base of every world component; see the module docstring for what a subclass declares."""

    key: ClassVar[str]
    """Registry key; also the name of the scenario section when ``section`` is None."""
    order: ClassVar[int] = 100
    """Where the component acts in a step (lower first): its events come in this order in the log."""
    Config: ClassVar[type[BaseModel] | None] = None
    section: ClassVar[str | None] = None
    """Where ``Config``'s keys live: None for a section of its own (named ``key``, present
    means on), or a shared section (``"environment"``) whose keys it adds to."""
    actions: ClassVar[tuple[type[Action], ...]] = ()
    rate_limits: ClassVar[tuple[RateLimit, ...]] = ()
    view_type: ClassVar[type | None] = None
    prompt_rules: ClassVar[str] = ""
    """One paragraph for LLM agents: what this part of the world is and what they can do in it."""
    _public: Mapping[type, Any] = MappingProxyType({})

    def __init__(self, setup: Setup) -> None:
        self.setup = setup
        self.config = setup.config

    def published(self, kind: type[V]) -> V | None:
        """The view of this class another component (or a lever) published in this step's snapshot.

        Read it in :meth:`apply` to act on what every agent was shown: the broker and
        the feed refuse actions that reach outside the agent network's view, say.
        """
        found: V | None = self._public.get(kind)
        return found

    @classmethod
    def check(cls, scenario: Scenario) -> None:
        """Cross-section checks of this component's settings against the scenario (its agents, say).

        Raise :class:`~swarm.errors.ConfigProblem` naming the key; called while the
        scenario is validated, only when the component is enabled.
        """

    @classmethod
    def enabled(cls, scenario: Scenario) -> bool:
        """Whether ``scenario`` has this component: always, unless it has a section of its own."""
        if cls.Config is None or cls.section is not None:
            return True
        config = scenario.section(cls.key)
        return config is not None and bool(getattr(config, "enabled", True))

    @classmethod
    def overrides(cls, hook: str) -> bool:
        """Whether this class implements ``hook`` (the clock skips hooks nobody implements)."""
        return getattr(cls, hook) is not getattr(WorldComponent, hook)

    # ------------------------------------------------------------------ hooks

    def view(self, at: At) -> Any:
        """This component's part of the step's snapshot (an instance of ``view_type``)."""
        return None

    def apply(self, at: At, turns: Sequence[Turn], agents: Mapping[str, AgentPublic]) -> Applied:
        """Apply this step's admitted actions of this component's types, in schedule order."""
        return Applied()

    def questions(self, at: At) -> Mapping[str, Sequence[Any]]:
        """Questions agents must answer this step, by agent (answered through :meth:`ask`)."""
        return {}

    @classmethod
    def ask(cls, policy: Any, observation: Observation, question: Any) -> Answer | Awaitable[Answer]:
        """Put one question to a policy (runs in the agent's actor)."""
        raise NotImplementedError(f"{cls.__name__} poses questions but does not say how to ask them")

    def resolve(self, at: At, answers: Sequence[tuple[str, Any, Answer]]) -> Applied:
        """Take the answers, as (agent, question, answer) in question order.

        Called every step, after the actions are applied, for a component that implements it
        or :meth:`questions`: a component with no questions (``answers`` then empty) uses it for
        work of its own each step (the order book's ticks, say).
        """
        return Applied()

    def epoch_start(self, at: At, agents: Sequence[AgentPublic]) -> Applied:
        return Applied()

    def epoch_end(self, at: At, agents: Sequence[AgentPublic]) -> Applied:
        return Applied()

    def observe_settled(self, at: At, completed: Sequence[InteractionCompleted]) -> Applied:
        """React to this step's settled interactions (all of them, whichever component made them)."""
        return Applied()

    def observe_events(self, at: At, events: Sequence[Event]) -> None:
        """Watch every event of a step, whichever component made it (posts, votes, ...), once the
        step is settled and before it is logged; it can only observe (called only when overridden)."""

    @classmethod
    def prompt_view(cls, view: Any, agent_id: str) -> Any:
        """A bounded extract of ``view`` for one agent's prompt (the whole view by default)."""
        return view

    @classmethod
    def view_from_prompt(cls, value: Any, agent_id: str) -> Any:
        """The view back from what :meth:`prompt_view` showed ``agent_id`` (decoded JSON), as far
        as it shows it: mock providers answer from it with a scripted policy."""
        import msgspec

        return msgspec.convert(value, cls.view_type)

    # ---------------------------------------------------------------- handlers

    @handler
    def on_describe(self, msg: Describe) -> Any:
        return self.view(msg.at)

    @handler
    def on_apply(self, msg: ApplyTurns) -> Applied:
        self._public = msg.public
        try:
            return self.apply(msg.at, msg.turns, msg.agents)
        finally:
            del self._public  # back to the class's empty mapping: nothing of the step is kept

    @handler
    def on_pose(self, msg: PoseQuestions) -> Mapping[str, Sequence[Any]]:
        return self.questions(msg.at)

    @handler
    def on_answers(self, msg: TakeAnswers) -> Applied:
        return self.resolve(msg.at, msg.answers)

    @handler
    def on_open_epoch(self, msg: OpenEpoch) -> Applied:
        return self.epoch_start(msg.at, msg.agents)

    @handler
    def on_close_epoch(self, msg: CloseEpoch) -> Applied:
        return self.epoch_end(msg.at, msg.agents)

    @handler
    def on_settled(self, msg: Settled) -> Applied:
        return self.observe_settled(msg.at, msg.completed)

    @handler
    def on_step_events(self, msg: StepEvents) -> None:
        self.observe_events(msg.at, msg.events)


COMPONENTS: Registry[type[WorldComponent]] = Registry("world component")


def component(cls: type[WorldComponent]) -> type[WorldComponent]:
    """Register a world component class under its ``key``."""
    if not getattr(cls, "key", None):
        raise TypeError(f"{cls.__name__} needs a class attribute 'key'")
    owners = {a: c for c in COMPONENTS.values() for a in c.actions}
    for action in cls.actions:
        other = owners.get(action)
        if other is not None and other is not cls:
            raise ValueError(f"{action.__name__} is already owned by the component {other.key!r}")
    COMPONENTS.add(cls.key, cls)
    return cls


def components_in_order() -> list[type[WorldComponent]]:
    """Every registered component class, in the order they act (``order``, then key)."""
    return sorted(COMPONENTS.values(), key=lambda cls: (cls.order, cls.key))
