"""ActorRef: the only way to reach an actor, and the owner of its mailbox.

A ref holds the actor's bounded mailbox and runs it: messages for coroutine
handlers (and any message that arrives while the actor is busy or has mail
waiting) are queued and drained by the actor's task, made at its first queued
message; a message for a plain handler that finds the actor idle is handled at
once in the sender's task. An actor whose mail is always handled inline costs a
few hundred bytes and never gets a task.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from typing import TYPE_CHECKING, Any

import anyio

from actors._actor import Actor, lookup
from actors._errors import ActorFailed, ActorStopped, AskTimeout, MailboxFull, NoHandler
from actors._message import describe
from actors._supervision import RestartBudget, Supervision

if TYPE_CHECKING:
    from actors._system import ActorSystem


class _Gather:
    """One completion slot shared by every reply of a scatter-gather."""

    __slots__ = ("done", "remaining", "results")

    def __init__(self, results: list[Any]) -> None:
        self.results = results
        self.remaining = 0
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def set(self, index: int, value: Any) -> None:
        self.results[index] = value
        self.remaining -= 1
        if self.remaining == 0 and not self.done.done():
            self.done.set_result(None)

    def fail(self, exc: BaseException) -> None:
        if not self.done.done():
            self.done.set_exception(exc)


Reply = asyncio.Future[Any] | tuple[_Gather, int] | None


def _deliver(reply: Reply, result: Any) -> None:
    if reply is None:
        return
    if isinstance(reply, tuple):
        reply[0].set(reply[1], result)
    elif not reply.done():
        reply.set_result(result)


def _deliver_error(reply: Reply, exc: BaseException) -> None:
    if reply is None:
        return
    if isinstance(reply, tuple):
        reply[0].fail(exc)
    elif not reply.done():
        reply.set_exception(exc)


class ActorRef:
    """A handle on one actor: ``tell`` (fire and forget), ``ask`` (reply or a typed error)."""

    __slots__ = (
        "_actor",
        "_budget",
        "_busy",
        "_capacity",
        "_mailbox",
        "_pending_restart",
        "_space",
        "_started",
        "_stopped",
        "_supervision",
        "_system",
        "_table",
        "_task",
        "_waiter",
        "idle",
        "name",
    )

    def __init__(
        self,
        name: str,
        actor: Actor,
        system: ActorSystem,
        capacity: int,
        supervision: Supervision,
        budget: RestartBudget | None,
    ) -> None:
        self.name = name
        self._actor = actor
        self._system = system
        self._capacity = capacity
        self._supervision = supervision
        self._budget = budget
        self._table = type(actor).handler_table()
        self._mailbox: deque[tuple[Any, Reply]] | None = None
        self._space: deque[asyncio.Future[None]] | None = None
        self._busy = False
        self._task = False
        self._waiter: asyncio.Future[None] | None = None
        self._started = False
        self._stopped = False
        self._pending_restart: ActorFailed | None = None
        self.idle = False
        """Whether the actor could take a message in the caller's task right now (see :meth:`is_idle`).

        Kept up to date by every change of what it depends on (:meth:`_update_idle`), so that a
        loop asking it of many actors reads an attribute."""

    def __repr__(self) -> str:
        return f"ActorRef({self.name!r})"

    # ------------------------------------------------------------------ sending

    def _idle(self) -> bool:
        """Whether a message could be handled right now in the sender's task."""
        return not (self._busy or self._mailbox or self._stopped or self._pending_restart) and self._started

    def _update_idle(self) -> None:
        """Work :attr:`idle` out again (after any change of the state it depends on)."""
        self.idle = (
            self._system._tracer is None
            and self._started
            and not (self._busy or self._mailbox or self._stopped or self._pending_restart)
        )

    def is_idle(self) -> bool:
        """Whether the actor could take a message in the caller's task right now.

        True when nothing is queued or in hand, the actor has started and is not
        stopped, and no tracer watches the system. A caller that then works on the
        actor's state directly (a phase running many plain agents in one loop) must
        report a failure with :meth:`failed`, so supervision applies as usual. (The
        same as :attr:`idle`, which a loop over many actors reads instead of calling this.)
        """
        return self.idle

    def failed(self, msg: object, exc: BaseException) -> ActorFailed:
        """Report that handling ``msg`` in the caller's task raised ``exc``; raise what this returns.

        Supervision applies exactly as for a failing handler.
        """
        failure = self._failure(msg, exc)
        self._supervise(failure)
        return failure

    def _inline(self, msg: object) -> str | None:
        """The plain handler to run ``msg`` with right now, or None when it must be queued."""
        if self._busy or self._mailbox or not self._started or self._pending_restart is not None:
            return None
        entry = lookup(self._table, type(msg))
        if entry is None or entry[1]:
            return None
        return entry[0]

    async def tell(self, msg: object) -> None:
        """Send without waiting for the answer; waits for mailbox space (backpressure)."""
        self._check_open()
        if not self._started:
            await self._ensure_ready()
        name = self._inline(msg)
        if name is not None:
            with contextlib.suppress(ActorFailed):
                self._handle_now(msg, name)
            return
        await self._wait_space()
        self._enqueue(msg, None)

    def tell_nowait(self, msg: object) -> None:
        """Send without waiting at all; :class:`MailboxFull` when there is no room."""
        self._check_open()
        name = self._inline(msg)
        if name is not None:
            with contextlib.suppress(ActorFailed):
                self._handle_now(msg, name)
            return
        if self._mailbox is not None and len(self._mailbox) >= self._capacity:
            raise MailboxFull(f"mailbox of {self.name} is full")
        self._enqueue(msg, None)

    async def ask(self, msg: object, timeout: float | None = None) -> Any:
        """Send and wait for the handler's return value (or its failure, or :class:`AskTimeout`)."""
        self._check_open()
        if not self._started:
            await self._ensure_ready()
        name = self._inline(msg)
        if name is not None:
            return self._handle_now(msg, name)
        reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await self._wait_space()
        self._enqueue(msg, reply)
        try:
            if timeout is None:
                return await reply
            with anyio.fail_after(timeout):
                return await reply
        except TimeoutError:
            raise AskTimeout(f"{self.name} did not answer {type(msg).__name__} within {timeout} s") from None

    def _offer(self, msg: object, gather: _Gather, index: int) -> bool:
        """Part of a scatter-gather: handle now (True) or queue with a reply slot (False).

        A plain handler's failure is raised at once (ActorFailed).
        """
        self._check_open()
        name = self._inline(msg)
        if name is not None:
            gather.results[index] = self._handle_now(msg, name)
            return True
        self._enqueue(msg, (gather, index))
        return False

    # --------------------------------------------------------------- internals

    def _check_open(self) -> None:
        if self._stopped:
            raise ActorStopped(f"actor {self.name} is stopped")

    async def _wait_space(self) -> None:
        while self._mailbox is not None and len(self._mailbox) >= self._capacity:
            if self._space is None:
                self._space = deque()
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._space.append(fut)
            await fut
            self._check_open()

    def _release_space(self) -> None:
        space = self._space
        while space and (self._stopped or self._mailbox is None or len(self._mailbox) < self._capacity):
            fut = space.popleft()
            if not fut.done():
                fut.set_result(None)

    def _enqueue(self, msg: object, reply: Reply) -> None:
        tracer = self._system._tracer
        if tracer is not None:
            tracer.on_send(None, self.name, msg)
        if self._mailbox is None:
            self._mailbox = deque()
        self._mailbox.append((msg, reply))
        self.idle = False
        self._kick()

    def _kick(self) -> None:
        """Make sure the mailbox is being drained: start the actor's task, or wake it."""
        if not self._task:
            self._task = True
            self._system._start_drain(self)
            return
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _handle_now(self, msg: object, name: str) -> Any:
        """Run a plain handler in the caller's task; its failure is raised after supervision."""
        tracer = self._system._tracer
        if tracer is not None:
            tracer.on_send(None, self.name, msg)
            started = time.perf_counter()
        self._busy = True
        self.idle = False
        try:
            result = getattr(self._actor, name)(msg)
        except Exception as exc:
            failure = self._failure(msg, exc)
            self._supervise(failure)
            raise failure from exc
        finally:
            self._busy = False
            self._update_idle()
            if self._mailbox:
                self._kick()
        if tracer is not None:
            tracer.on_handled(self.name, msg, time.perf_counter() - started)
        return result

    def _failure(self, msg: object, exc: BaseException) -> ActorFailed:
        tracer = self._system._tracer
        if tracer is not None:
            tracer.on_failure(self.name, msg, exc)
        failure = ActorFailed(
            f"actor {self.name!r} failed handling {describe(msg)}: {type(exc).__name__}: {exc}"
        )
        failure.__cause__ = exc
        return failure

    def _supervise(self, failure: ActorFailed) -> None:
        """Apply the supervision policy after a failure (a restart happens before the next message)."""
        if self._supervision is Supervision.RESUME:
            return
        if self._supervision is Supervision.RESTART:
            self._pending_restart = failure
            self.idle = False
            return
        self._system._fail(failure)

    async def _ensure_ready(self) -> None:
        """Run ``on_start`` before the first message, and a pending restart before the next one."""
        if not self._started:
            self._started = True
            self._update_idle()
            await self._actor.on_start()
        failure = self._pending_restart
        if failure is not None:
            self._pending_restart = None
            self._update_idle()
            await self._restart(failure)

    async def _restart(self, failure: ActorFailed) -> None:
        budget = self._budget
        assert budget is not None
        refusal = budget.spend()
        if refusal is not None:
            failure.args = (f"{failure.args[0]} ({refusal})",)
            self._system._fail(failure)
            return
        old = self._actor
        with anyio.CancelScope(shield=True):
            await old.on_stop()
        fresh = budget.factory()
        fresh.name, fresh.ref, fresh.system = old.name, self, old.system
        self._actor = fresh
        self._table = type(fresh).handler_table()
        try:
            await fresh.on_start()
        except Exception as exc:
            failure.args = (f"{failure.args[0]}; the restarted actor failed to start: {exc}",)
            self._system._fail(failure)

    async def _drain(self) -> None:
        """Handle queued mail as it comes, until the actor is closed and its mailbox empty.

        The task is made at the first queued message (an actor whose mail is always
        handled inline never gets one) and then waits for more.
        """
        mailbox = self._mailbox
        assert mailbox is not None
        loop = asyncio.get_running_loop()
        reply: Reply = None
        try:
            await self._ensure_ready()
            while True:
                if not mailbox:
                    if self._stopped:
                        return
                    self._waiter = loop.create_future()
                    await self._waiter
                    self._waiter = None
                    continue
                msg, reply = mailbox.popleft()
                if self._space:
                    self._release_space()
                tracer = self._system._tracer
                started = time.perf_counter() if tracer is not None else 0.0
                entry = lookup(self._table, type(msg))
                self._busy = True
                self.idle = False
                try:
                    if entry is None:
                        raise NoHandler(f"{self.name} has no handler for {type(msg).__name__}")
                    result = getattr(self._actor, entry[0])(msg)
                    if entry[1]:
                        result = await result
                except Exception as exc:
                    self._busy = False
                    self._update_idle()
                    failure = self._failure(msg, exc)
                    _deliver_error(reply, failure)
                    reply = None
                    self._supervise(failure)
                    if self._supervision is Supervision.STOP:
                        self._abandon(None)
                        return
                    await self._ensure_ready()
                    continue
                self._busy = False
                self._update_idle()
                if tracer is not None:
                    tracer.on_handled(self.name, msg, time.perf_counter() - started)
                _deliver(reply, result)
                reply = None
        except BaseException:
            self._abandon(reply)
            raise
        finally:
            self._busy = False
            self._task = False
            self._update_idle()
            self._system._drained()

    def _abandon(self, current: Reply) -> None:
        """The actor will handle nothing more: everyone waiting on it hears so."""
        self._stopped = True
        self.idle = False
        stopped = ActorStopped(f"actor {self.name} stopped")
        _deliver_error(current, stopped)
        if self._mailbox:
            for _, reply in self._mailbox:
                _deliver_error(reply, stopped)
            self._mailbox.clear()
        self._release_space()

    def _close(self) -> None:
        """Refuse new messages; mail already queued is still handled, then the task ends."""
        self._stopped = True
        self.idle = False
        self._release_space()
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
