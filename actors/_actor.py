"""Actors: private state plus handlers chosen by the message's type.

A handler is a method marked with :func:`handler` whose first parameter is
annotated with the message type it takes (subclasses of that type match too).
Handlers may be plain functions or coroutines:

* a plain (synchronous) handler cannot wait for anything, so when its actor is
  idle the runtime runs it right away in the sender's task — no mailbox round
  trip and no task switch — which is how thousands of actors stay cheap;
* a coroutine handler always goes through the mailbox and runs in the actor's
  own task, so slow work (a network call) never blocks the sender.

Either way an actor handles one message at a time and its state needs no locks.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, get_type_hints

if TYPE_CHECKING:
    from actors._ref import ActorRef
    from actors._system import ActorSystem

F = TypeVar("F", bound=Callable[..., Any])

HandlerEntry = tuple[str, bool]
"""(method name, whether it is a coroutine function)."""


def handler(fn: F) -> F:
    """Mark a method as the handler of the message type its first parameter is annotated with."""
    fn.__actor_handler__ = True  # type: ignore[attr-defined]
    return fn


class Actor:
    """Base of every actor. ``name``, ``ref`` and ``system`` are set when it is spawned."""

    __slots__ = ("__weakref__", "name", "ref", "system")

    _handler_tables: ClassVar[dict[type, dict[type, HandlerEntry]]] = {}

    name: str
    ref: ActorRef
    system: ActorSystem

    async def on_start(self) -> None:
        """Called once, before the first message is handled."""

    async def on_stop(self) -> None:
        """Called once when the actor stops (after its last message), if it ever started."""

    @classmethod
    def handler_table(cls) -> dict[type, HandlerEntry]:
        """Message type → (handler name, is coroutine), built once per class."""
        table = Actor._handler_tables.get(cls)
        if table is None:
            table = {}
            for klass in reversed(cls.__mro__):
                for attr, fn in vars(klass).items():
                    if getattr(fn, "__actor_handler__", False):
                        hints = get_type_hints(fn)
                        params = [k for k in hints if k != "return"]
                        if not params:
                            raise TypeError(
                                f"{cls.__name__}.{attr}: a handler's message parameter needs a type"
                            )
                        table[hints[params[0]]] = (attr, inspect.iscoroutinefunction(fn))
            Actor._handler_tables[cls] = table
        return table


def lookup(table: dict[type, HandlerEntry], kind: type) -> HandlerEntry | None:
    """The handler for a message type, matching base classes too (and remembering the match)."""
    entry = table.get(kind)
    if entry is None:
        for klass in kind.__mro__[1:]:
            entry = table.get(klass)
            if entry is not None:
                table[kind] = entry
                break
    return entry
