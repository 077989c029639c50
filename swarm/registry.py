"""Registries: the one place where components, agent types, levers and metrics are listed.

Each capability registers once, with a decorator in its own module; the scenario
schema, the event decoder, the metrics table, sweep aggregates, reports and
success criteria are all generated from here. A registry keeps registration
order (which is also the order components and levers act in) and a version
number that schema caches watch.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Named entries in registration order; registering a taken name is an error."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._items: dict[str, T] = {}
        self.version = 0

    def add(self, name: str, item: T) -> T:
        known = self._items.get(name)
        if known is not None and known is not item:
            raise ValueError(f"a {self.what} named {name!r} is already registered ({known!r})")
        self._items[name] = item
        self.version += 1
        return item

    def remove(self, name: str) -> None:
        """Unregister ``name`` (for tests that register something temporarily)."""
        if self._items.pop(name, None) is not None:
            self.version += 1

    def get(self, name: str) -> T | None:
        return self._items.get(name)

    def __getitem__(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise KeyError(f"no {self.what} named {name!r} (known: {', '.join(self._items)})") from None

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def items(self) -> list[tuple[str, T]]:
        return list(self._items.items())

    def values(self) -> list[T]:
        return list(self._items.values())

    def decorator(self, name_of: Callable[[T], str]) -> Callable[[T], T]:
        """A decorator registering its target under ``name_of(target)``."""

        def register(item: T) -> T:
            return self.add(name_of(item), item)

        return register


BUILTIN_MODULES = (
    "swarm.metrics.builtin",
    "swarm.env.feed",
    "swarm.env.tasks",
    "swarm.env.broker",
    "swarm.env.marketplace",
    "swarm.env.network",
    "swarm.env.culture",
    "swarm.agents.scripted",
    "swarm.agents.adaptive",
    "swarm.agents.llm",
    "swarm.governance.levers",
    "swarm.env.composite",
    "swarm.agents.roles.planner",
    "swarm.agents.roles.worker",
    "swarm.agents.roles.verifier",
    "swarm.env.moderation",
    "swarm.agents.roles.moderator",
    "swarm.agents.roles.poster",
    "swarm.env.boundary",
    "swarm.env.identity",
    "swarm.agents.scripted.sybil_controller",
    "swarm.env.security",
    "swarm.agents.scripted.injector",
    "swarm.agents.scripted.launder",
    "swarm.env.auction",
    "swarm.env.missions",
    "swarm.env.orderbook",
)

_loaded = False


def load_builtins() -> None:
    """Import the modules that register the built-in components, agent types, levers and metrics."""
    global _loaded
    if not _loaded:
        _loaded = True
        for module in BUILTIN_MODULES:
            importlib.import_module(module)
