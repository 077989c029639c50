"""What happens when a handler raises, and the tracing hooks that watch every message."""

from __future__ import annotations

import enum
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from actors._actor import Actor


class Supervision(enum.Enum):
    """What happens when a handler raises (the message's asker gets :class:`ActorFailed` in every case).

    ``STOP``: the whole system stops with the failure. ``RESUME``: the actor keeps
    its state and goes on with the next message. ``RESTART``: the actor is replaced
    by a fresh one from the ``restart`` factory given to :meth:`ActorSystem.spawn`
    (``on_stop`` of the old one, ``on_start`` of the new), keeps its name, ref and
    mailbox, and goes on; more than ``max_restarts`` restarts within
    ``restart_window`` seconds stop the system as ``STOP`` would.
    """

    STOP = "stop"
    RESUME = "resume"
    RESTART = "restart"


class RestartBudget:
    """A restart factory and how many restarts it may make within a time window."""

    __slots__ = ("factory", "max_restarts", "times", "window")

    def __init__(self, factory: Callable[[], Actor], max_restarts: int, window: float) -> None:
        if max_restarts < 0 or window <= 0:
            raise ValueError("max_restarts must be >= 0 and restart_window > 0")
        self.factory = factory
        self.max_restarts = max_restarts
        self.window = window
        self.times: deque[float] = deque()

    def spend(self) -> str | None:
        """Take one restart; None when allowed, else why not."""
        now = time.monotonic()
        while self.times and now - self.times[0] > self.window:
            self.times.popleft()
        if len(self.times) >= self.max_restarts:
            return f"restarted {len(self.times)} times within {self.window:g} s already; giving up"
        self.times.append(now)
        return None


class Tracer(Protocol):
    """Sees every message sent, handled and failed (for structured logs or live views)."""

    def on_send(self, sender: str | None, receiver: str, message: object) -> None: ...
    def on_handled(self, actor: str, message: object, seconds: float) -> None: ...
    def on_failure(self, actor: str, message: object, exc: BaseException) -> None: ...
