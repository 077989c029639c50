"""Levers: one actor per governance lever behind one interface, and the engine that runs them.

A lever class declares its scenario keys (``Config``, flat keys under
``governance:`` as in the reference), the key that switches it on, and what it
tells agents (:meth:`Lever.notice`); it overrides the hooks it needs. The
engine asks every lever at each hook and combines the answers in registration
order (the fixed engine order), never in arrival order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

from actors import Actor, ActorRef, ActorSystem, handler
from swarm.core.interaction import SoftInteraction
from swarm.governance.effects import Effect
from swarm.kernel.component import At, Setup
from swarm.registry import Registry
from swarm.views import AgentPublic

if TYPE_CHECKING:
    from swarm.scenario import Scenario

V = TypeVar("V")


class LeverConfig(BaseModel):
    """Base of a lever's settings: flat keys of the ``governance`` section."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, strict=True)


class Lever(Actor):
    """Base of every lever: hooks that do nothing; subclasses override what they need."""

    key: ClassVar[str]
    order: ClassVar[int]
    """Where the lever acts in the engine's fixed order (lower first)."""
    title: ClassVar[str]
    """How errors and docs name it ("random audits")."""
    Config: ClassVar[type[LeverConfig]]
    switch: ClassVar[str]
    """The key that turns the lever on, as a user would set it (``audit_enabled: true``)."""
    Notice: ClassVar[type | None] = None
    """The class of what :meth:`notice` publishes (None: the lever publishes nothing)."""
    _public: Mapping[type, Any] = MappingProxyType({})

    def __init__(self, config: Any, setup: Setup) -> None:
        self.config = config
        self.setup = setup

    def published(self, kind: type[V]) -> V | None:
        """The view of this class published in the step's snapshot, or None.

        Readable in :meth:`blocked` (the views of the step being admitted) and in
        :meth:`epoch_end` (the views of the epoch's last step); elsewhere, and when
        no component of the run publishes ``kind``, it is None. The sybil lever
        reads :class:`~swarm.env.identity_view.IdentityView` this way.
        """
        found: V | None = self._public.get(kind)
        return found

    @classmethod
    def check(cls, scenario: Scenario) -> None:
        """Cross-section checks of the lever's settings against the scenario (a section it needs, say).

        Raise :class:`~swarm.errors.ConfigProblem` naming the key; called for every
        registered lever while the scenario is validated (a lever that is off should
        return at once).
        """

    @classmethod
    def active(cls, config: Any) -> bool:
        """Whether these settings switch the lever on."""
        raise NotImplementedError

    @classmethod
    def notice(cls, config: Any) -> Any:
        """What every agent may read about this lever while it is on (a struct), or None."""
        return None

    @classmethod
    def deterrence(cls, config: Any) -> float:
        """How much this lever deters low-quality conduct, roughly in [0, 1]."""
        return 0.0

    def live_notice(self, at: At) -> Any:
        """A notice that changes during the run (the transparency ledger's track records), or None."""
        return None

    def epoch_start(self, at: At, agents: Sequence[AgentPublic]) -> list[Effect]:
        return []

    def blocked(self, at: At, agents: Sequence[AgentPublic]) -> dict[str, str]:
        """Agents not admitted to act (or answer) this step, with the reason."""
        return {}

    def on_interactions(self, at: At, interactions: Sequence[SoftInteraction]) -> list[Effect]:
        """Effects of this step's labelled interactions (costs are :class:`Cost` effects)."""
        return []

    def epoch_end(self, at: At, agents: Sequence[AgentPublic]) -> list[Effect]:
        return []

    @classmethod
    def overrides(cls, hook: str) -> bool:
        return getattr(cls, hook) is not getattr(Lever, hook)

    @handler
    def on_hook(self, msg: Hook) -> Any:
        if msg.public is None:
            return self._on_hook(msg)
        self._public = msg.public
        try:
            return self._on_hook(msg)
        finally:
            del self._public  # back to the class's empty mapping: nothing of the step is kept

    def _on_hook(self, msg: Hook) -> Any:
        if msg.name == "epoch_start":
            return self.epoch_start(msg.at, msg.agents)
        if msg.name == "blocked":
            return self.blocked(msg.at, msg.agents)
        if msg.name == "interactions":
            return self.on_interactions(msg.at, msg.interactions)
        if msg.name == "epoch_end":
            return self.epoch_end(msg.at, msg.agents)
        return self.live_notice(msg.at)


@dataclass(frozen=True, slots=True)
class Hook:
    """One of the engine's hook calls."""

    name: str
    at: At
    agents: tuple[AgentPublic, ...] = ()
    interactions: tuple[SoftInteraction, ...] = ()
    public: Mapping[type, Any] | None = None
    """The step's snapshot views, keyed by class (what :meth:`Lever.published` reads), or None."""


LEVERS: Registry[type[Lever]] = Registry("governance lever")


def lever(cls: type[Lever]) -> type[Lever]:
    """Register a lever class under its ``key``; it acts in the engine by its ``order``."""
    LEVERS.add(cls.key, cls)
    return cls


def levers_in_order() -> list[type[Lever]]:
    """Every registered lever class, in engine order."""
    return sorted(LEVERS.values(), key=lambda cls: (cls.order, cls.key))


_HOOK_METHODS = {
    "epoch_start": "epoch_start",
    "blocked": "blocked",
    "interactions": "on_interactions",
    "epoch_end": "epoch_end",
    "notice": "live_notice",
}


class Governance:
    """The levers in force: spawns them as actors and calls them at the four hook points."""

    def __init__(self, levers: Sequence[Lever] = ()) -> None:
        self.levers = list(levers)
        self._refs: list[ActorRef] = []
        self._system: ActorSystem | None = None
        self.notices: dict[type, Any] = {}
        self.deterrence = 0.0

    def attach(self, system: ActorSystem) -> None:
        self._system = system
        self._refs = [system.spawn(lv, name=f"lever:{lv.key}") for lv in self.levers]
        for lv in self.levers:
            notice = type(lv).notice(lv.config)
            if notice is not None:
                self.notices[type(notice)] = notice
            self.deterrence += type(lv).deterrence(lv.config)
        self.deterrence = min(1.0, self.deterrence)

    async def _ask(self, name: str, at: At, **kw: Any) -> list[Any]:
        method = _HOOK_METHODS[name]
        pairs = [
            (ref, Hook(name, at, **kw))
            for lv, ref in zip(self.levers, self._refs, strict=True)
            if type(lv).overrides(method)
        ]
        if not pairs or self._system is None:
            return []
        return await self._system.gather_ask(pairs)

    async def epoch_start(self, at: At, agents: tuple[AgentPublic, ...]) -> list[Effect]:
        return [e for reply in await self._ask("epoch_start", at, agents=agents) for e in reply]

    async def blocked(
        self, at: At, agents: tuple[AgentPublic, ...], public: Mapping[type, Any] | None = None
    ) -> dict[str, str]:
        """Agents no lever admits this step; ``public`` is the step's views (for :meth:`Lever.published`)."""
        out: dict[str, str] = {}
        for reply in await self._ask("blocked", at, agents=agents, public=public):
            for agent, reason in reply.items():
                out.setdefault(agent, reason)
        return out

    async def on_interactions(self, at: At, interactions: tuple[SoftInteraction, ...]) -> list[Effect]:
        return [e for reply in await self._ask("interactions", at, interactions=interactions) for e in reply]

    async def epoch_end(
        self, at: At, agents: tuple[AgentPublic, ...], public: Mapping[type, Any] | None = None
    ) -> list[Effect]:
        """The levers' epoch-end effects; ``public`` is the views of the epoch's last step."""
        return [e for reply in await self._ask("epoch_end", at, agents=agents, public=public) for e in reply]

    async def live_notices(self, at: At) -> dict[type, Any]:
        """The notices for this step: the static ones plus any that changed."""
        replies = await self._ask("notice", at)
        if not replies:
            return self.notices
        out = dict(self.notices)
        for notice in replies:
            if notice is not None:
                out[type(notice)] = notice
        return out


def build_governance(scenario: Scenario, setup: Setup) -> Governance:
    """The levers ``scenario.governance`` switches on, in engine order."""
    g = scenario.governance
    levers = []
    for cls in levers_in_order():
        config = cls.Config.model_validate({k: getattr(g, k) for k in cls.Config.model_fields})
        if cls.active(config):
            levers.append(cls(config, setup))
    return Governance(levers)
