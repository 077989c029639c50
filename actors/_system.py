"""ActorSystem: owns the actors of one run, their tasks and their failures."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import Any

import anyio
import sniffio
from anyio.abc import TaskGroup

from actors._actor import Actor
from actors._errors import ActorFailed, AskTimeout, BackendError
from actors._ref import ActorRef, _Gather
from actors._supervision import RestartBudget, Supervision, Tracer
from actors._topic import Topic


class ActorSystem:
    """An async context manager owning a task group, the actors spawned into it and their topics.

    A failing handler (under ``Supervision.STOP``) stops the whole system: every
    actor's pending askers hear :class:`ActorStopped`, ``on_stop`` runs for every
    actor that started, and leaving the block raises the :class:`ActorFailed`
    that names the actor and the message. The runtime is built on asyncio
    futures: it runs under anyio's asyncio backend (or plain asyncio), not trio.
    """

    def __init__(self, name: str = "system", tracer: Tracer | None = None) -> None:
        self.name = name
        self._tracer = tracer
        self._refs: dict[str, ActorRef] = {}
        self._tg: TaskGroup | None = None
        self._failure: ActorFailed | None = None
        self._cancelled = False
        self._topics: dict[str, Topic[Any]] = {}
        self._draining = 0
        self._idle: asyncio.Event | None = None

    async def __aenter__(self) -> ActorSystem:
        library = sniffio.current_async_library()
        if library != "asyncio":
            raise BackendError(f"the actor runtime needs asyncio (anyio's asyncio backend), not {library}")
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> bool | None:
        assert self._tg is not None
        clean = exc is None and self._failure is None
        if clean:
            for ref in self._refs.values():
                ref._close()
            try:
                await self._wait_drained()
            except BaseException as err:  # cancelled (or timed out) while the actors finish their mail
                self._cancelled = True
                self._tg.cancel_scope.cancel()
                try:
                    await self._stop_actors()
                finally:
                    suppressed = await self._tg.__aexit__(type(err), err, err.__traceback__)
                if not suppressed:
                    raise
                return None
            await self._stop_actors()
        else:
            self._cancelled = True
            self._tg.cancel_scope.cancel()
        try:
            await self._tg.__aexit__(exc_type, exc, tb)
        except BaseException:
            if not clean:
                await self._stop_actors()
            if self._failure is not None:
                raise self._failure from self._failure.__cause__
            raise
        if not clean:
            await self._stop_actors()
        if self._failure is not None:
            raise self._failure from self._failure.__cause__
        return None

    async def _wait_drained(self) -> None:
        while self._draining:
            self._idle = asyncio.Event()
            await self._idle.wait()

    async def _stop_actors(self) -> None:
        with anyio.CancelScope(shield=True):
            for ref in list(self._refs.values()):
                ref._close()
                if ref._started:
                    ref._started = False
                    ref.idle = False
                    await ref._actor.on_stop()

    def _start_drain(self, ref: ActorRef) -> None:
        assert self._tg is not None
        self._draining += 1
        self._tg.start_soon(ref._drain, name=ref.name)

    def _drained(self) -> None:
        self._draining -= 1
        if self._draining == 0 and self._idle is not None:
            self._idle.set()

    def _fail(self, failure: ActorFailed) -> None:
        if self._failure is None:
            self._failure = failure
            self._cancelled = True
            assert self._tg is not None
            self._tg.cancel_scope.cancel()

    @property
    def failure(self) -> ActorFailed | None:
        """The failure that stopped the system, if one did."""
        return self._failure

    def spawn(
        self,
        actor: Actor,
        *,
        name: str,
        mailbox_size: int = 1024,
        supervision: Supervision = Supervision.STOP,
        restart: Callable[[], Actor] | None = None,
        max_restarts: int = 3,
        restart_window: float = 60.0,
    ) -> ActorRef:
        """Register ``actor`` under ``name``; see :class:`Supervision` for ``restart`` and its limits.

        The actor gets a task only while it has mail; ``on_start`` runs before its first message.
        """
        if name in self._refs:
            raise ValueError(f"an actor named {name!r} already exists")
        if self._tg is None:
            raise RuntimeError("spawn actors inside 'async with ActorSystem()'")
        if mailbox_size < 1:
            raise ValueError(f"mailbox_size must be at least 1, got {mailbox_size}")
        budget = None
        if supervision is Supervision.RESTART:
            if restart is None:
                raise ValueError(f"{name}: RESTART supervision needs a restart factory (restart=...)")
            budget = RestartBudget(restart, max_restarts, restart_window)
        ref = ActorRef(name, actor, self, mailbox_size, supervision, budget)
        if type(actor).on_start is Actor.on_start:
            ref._started = True  # nothing to run first: the first message may be handled inline
            ref._update_idle()
        actor.name, actor.ref, actor.system = name, ref, self
        self._refs[name] = ref
        return ref

    async def settle(self, *, exclude: ActorRef | None = None) -> None:
        """Wait until no actor (but ``exclude``, say the caller's own) has a message queued or in hand.

        A barrier for a caller that is about to read every actor's state at once
        (a checkpoint); messages sent meanwhile are waited for too.
        """
        spins = 0
        while any(r is not exclude and (r._busy or r._mailbox) for r in self._refs.values()):
            spins += 1
            await asyncio.sleep(0 if spins < 100 else 0.001)

    async def start(self, ref: ActorRef) -> None:
        """Run ``ref``'s ``on_start`` now rather than at its first message."""
        await ref._ensure_ready()

    async def stop(self) -> None:
        """Refuse new messages to every actor (mail already queued is still handled)."""
        for ref in self._refs.values():
            ref._close()

    def topic(self, name: str) -> Topic[Any]:
        """The topic called ``name`` (made on first use)."""
        if name not in self._topics:
            self._topics[name] = Topic(name)
        return self._topics[name]

    async def tell_all(self, pairs: Sequence[tuple[ActorRef, object]]) -> None:
        """Tell every (actor, message) pair, in order (plain handlers of idle actors run at once)."""
        traced = self._tracer is not None
        for ref, msg in pairs:
            if not traced and ref._idle():
                entry = ref._table.get(type(msg))
                if entry is not None and not entry[1]:
                    # told, not asked: supervision has dealt with a failure
                    with contextlib.suppress(ActorFailed):
                        ref._handle_now(msg, entry[0])
                    continue
            await ref.tell(msg)

    async def gather_ask(
        self, pairs: Sequence[tuple[ActorRef, object]], timeout: float | None = None
    ) -> list[Any]:
        """Ask every (actor, message) pair at once; the replies in input order (a phase barrier).

        Plain handlers of idle actors answer at once in this task; the rest are
        queued and awaited together, so coroutine handlers (LLM calls, say) overlap.
        """
        if not pairs:
            return []
        results: list[Any] = [None] * len(pairs)
        gather: _Gather | None = None
        traced = self._tracer is not None
        try:
            for i, (ref, msg) in enumerate(pairs):
                if not traced and ref._idle():
                    entry = ref._table.get(type(msg))
                    if entry is not None and not entry[1]:
                        results[i] = ref._handle_now(msg, entry[0])
                        continue
                if ref._mailbox is not None and len(ref._mailbox) >= ref._capacity:
                    await ref._wait_space()
                if gather is None:
                    gather = _Gather(results)
                if not ref._offer(msg, gather, i):
                    gather.remaining += 1
        except BaseException:
            if gather is not None:
                gather.done.cancel()
            raise
        if gather is not None and gather.remaining:
            try:
                if timeout is None:
                    await gather.done
                else:
                    with anyio.fail_after(timeout):
                        await gather.done
            except TimeoutError:
                raise AskTimeout(f"not every actor answered within {timeout} s") from None
        return results
