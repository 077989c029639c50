"""The clock: an actor that drives numbered ticks and answers to a control plane.

Each tick is a message the clock sends itself, so control messages (pause,
resume, advance, stop) sent by anyone are handled between two ticks, in the
order they arrive. A subclass says what a tick does (:meth:`Clock.tick`) — in a
bulk-synchronous model, a sequence of phases, each a barrier over its
participants (:meth:`Clock.phase`) — and what finishing means
(:meth:`Clock.finish`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from actors._actor import Actor, handler
from actors._errors import ActorStopped
from actors._message import Message
from actors._ref import ActorRef


class Start(Message):
    """Begin ticking (answered at once; await :attr:`Clock.finished` for the end)."""


class Pause(Message):
    """Stop after the tick under way; nothing more happens until Resume, Advance or Stop."""


class Resume(Message):
    """Go on ticking after a pause."""


class Advance(Message):
    """While paused, run this many more ticks, then stay paused."""

    ticks: int = 1


class AdvanceTo(Message):
    """While paused, run ticks until the count done is a multiple of ``multiple`` (at least one tick).

    With ``multiple`` the number of ticks in a period (steps in an epoch), this runs to the
    end of the period under way, counted when the clock handles it.
    """

    multiple: int


class Stop(Message):
    """Finish after the tick under way, with this reason."""

    reason: str = "stopped"


class ClockStatus(Message):
    """Where the clock is: ticks done, paused, finished (and why)."""

    ticks: int
    paused: bool
    finished: bool
    reason: str | None = None


class Status(Message):
    """Ask for the :class:`ClockStatus`."""


class _Tick(Message):
    pass


_TICK = _Tick()


class Clock(Actor):
    """Drives ticks 0, 1, 2, ... until :meth:`tick` returns False or a Stop arrives.

    ``finished`` resolves with the reason the clock stopped (``"completed"`` when
    :meth:`tick` said so), or with the failure that stopped it.
    """

    def __init__(self) -> None:
        self.ticks = 0
        self._paused = False
        self._waiting = False
        self._budget = 0
        self._stop: str | None = None
        self._running = False
        self._reason: str | None = None
        self._finished: asyncio.Future[str] | None = None

    @property
    def finished(self) -> asyncio.Future[str]:
        """Resolves with the reason the clock finished."""
        if self._finished is None:
            self._finished = asyncio.get_running_loop().create_future()
        return self._finished

    async def tick(self, n: int) -> bool:
        """Run tick ``n``; False when there is nothing more to do."""
        raise NotImplementedError

    async def finish(self, reason: str) -> None:
        """Called once when the clock stops ticking (not after a failure)."""

    async def phase(self, participants: Sequence[ActorRef], msg: object) -> list[Any]:
        """Send ``msg`` to every participant and wait for all replies, returned in participant order."""
        return await self.system.gather_ask([(p, msg) for p in participants])

    async def on_stop(self) -> None:
        fut = self.finished
        if not fut.done():
            fut.set_exception(ActorStopped(f"the clock {self.name} stopped before finishing"))
            fut.exception()  # retrieved here, so an unawaited clock logs no warning

    async def _conclude(self, reason: str) -> None:
        self._running = False
        self._reason = reason
        await self.finish(reason)
        fut = self.finished
        if not fut.done():
            fut.set_result(reason)

    def _next(self) -> None:
        try:
            self.ref.tell_nowait(_TICK)
        except ActorStopped:
            self._stop = self._stop or "stopped"

    @handler
    def on_start_request(self, msg: Start) -> None:
        if self._running or self._reason is not None:
            return
        self._running = True
        self.finished  # noqa: B018 - made now, on the running loop
        self._next()

    @handler
    async def on_tick(self, msg: _Tick) -> None:
        if not self._running:
            return
        if self._stop is not None:
            await self._conclude(self._stop)
            return
        if self._paused and self._budget == 0:
            self._waiting = True
            return
        if self._paused:
            self._budget -= 1
        more = await self.tick(self.ticks)
        self.ticks += 1
        if not more:
            await self._conclude("completed")
            return
        self._next()

    @handler
    def on_pause(self, msg: Pause) -> None:
        self._paused = True

    @handler
    def on_resume(self, msg: Resume) -> None:
        self._paused = False
        self._budget = 0
        self._wake()

    @handler
    def on_advance(self, msg: Advance) -> None:
        if msg.ticks < 1:
            raise ValueError(f"Advance needs at least 1 tick, got {msg.ticks}")
        self._paused = True
        self._budget += msg.ticks
        self._wake()

    @handler
    def on_advance_to(self, msg: AdvanceTo) -> None:
        if msg.multiple < 1:
            raise ValueError(f"AdvanceTo needs a multiple of at least 1, got {msg.multiple}")
        self._paused = True
        self._budget += msg.multiple - (self.ticks + self._budget) % msg.multiple
        self._wake()

    @handler
    def on_stop_request(self, msg: Stop) -> None:
        if self._stop is None:
            self._stop = msg.reason
        self._wake()

    @handler
    def on_status(self, msg: Status) -> ClockStatus:
        return ClockStatus(
            ticks=self.ticks,
            paused=self._paused,
            finished=self._reason is not None,
            reason=self._reason,
        )

    def _wake(self) -> None:
        if self._waiting:
            self._waiting = False
            self._next()
