from __future__ import annotations

import asyncio
import contextlib
import enum
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ClassVar, Generic, Protocol, TypeVar, get_type_hints

import anyio
from anyio.abc import TaskGroup
from pydantic import BaseModel, ConfigDict

T = TypeVar("T")


class Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class ActorError(Exception):
    pass


class AskTimeout(ActorError, TimeoutError):
    pass


class ActorFailed(ActorError):
    pass


class ActorStopped(ActorError):
    pass


class NoHandler(ActorError):
    pass


class MailboxFull(ActorError):
    pass


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


class Tracer(Protocol):
    def on_send(self, sender: str | None, receiver: str, message: Message) -> None: ...
    def on_handled(self, actor: str, message: Message, seconds: float) -> None: ...
    def on_failure(self, actor: str, message: Message, exc: BaseException) -> None: ...


def _describe(msg: Message, limit: int = 200) -> str:
    text = repr(msg)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def handler(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    fn.__actor_handler__ = True  # type: ignore[attr-defined]
    return fn


class _Reply:
    __slots__ = ("fut",)

    def __init__(self) -> None:
        self.fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()


class _Gather:
    __slots__ = ("done", "error", "remaining", "results")

    def __init__(self, n: int) -> None:
        self.results: list[Any] = [None] * n
        self.remaining = n
        self.done = asyncio.get_running_loop().create_future()
        self.error: BaseException | None = None


class Actor:
    _handlers_cache: ClassVar[dict[type, dict[type, str]]] = {}

    name: str
    ref: ActorRef
    system: ActorSystem

    async def on_start(self) -> None:
        pass

    async def on_stop(self) -> None:
        pass

    @classmethod
    def _handler_table(cls) -> dict[type, str]:
        table = Actor._handlers_cache.get(cls)
        if table is None:
            table = {}
            for klass in reversed(cls.__mro__):
                for attr, fn in vars(klass).items():
                    if getattr(fn, "__actor_handler__", False):
                        hints = get_type_hints(fn)
                        params = [k for k in hints if k != "return"]
                        table[hints[params[0]]] = attr
            Actor._handlers_cache[cls] = table
        return table


class ActorRef:
    __slots__ = ("_cell", "name")

    def __init__(self, name: str, cell: _Cell) -> None:
        self.name = name
        self._cell = cell

    async def tell(self, msg: Message) -> None:
        cell = self._cell
        if cell.stopped:
            raise ActorStopped(f"actor {self.name} is stopped")
        while len(cell.mailbox) >= cell.capacity:
            await cell.wait_space()
            if cell.stopped:
                raise ActorStopped(f"actor {self.name} is stopped")
        cell.put((msg, None))

    def tell_nowait(self, msg: Message) -> None:
        cell = self._cell
        if cell.stopped:
            raise ActorStopped(f"actor {self.name} is stopped")
        if len(cell.mailbox) >= cell.capacity:
            raise MailboxFull(f"mailbox of {self.name} is full")
        cell.put((msg, None))

    async def ask(self, msg: Message, timeout: float | None = None) -> Any:
        cell = self._cell
        if cell.stopped:
            raise ActorStopped(f"actor {self.name} is stopped")
        reply = _Reply()
        while len(cell.mailbox) >= cell.capacity:
            await cell.wait_space()
        cell.put((msg, reply))
        try:
            if timeout is None:
                return await reply.fut
            with anyio.fail_after(timeout):
                return await reply.fut
        except TimeoutError:
            raise AskTimeout(f"{self.name} did not answer {type(msg).__name__} within {timeout} s") from None


class _Cell:
    __slots__ = (
        "actor",
        "capacity",
        "mailbox",
        "max_restarts",
        "name",
        "restart",
        "restart_window",
        "restarts",
        "space_waiters",
        "stopped",
        "supervision",
        "system",
        "table",
        "waiter",
    )

    def __init__(
        self,
        actor: Actor,
        name: str,
        capacity: int,
        system: ActorSystem,
        supervision: Supervision,
        restart: Callable[[], Actor] | None = None,
        max_restarts: int = 3,
        restart_window: float = 60.0,
    ) -> None:
        self.supervision = supervision
        self.restart = restart
        self.max_restarts = max_restarts
        self.restart_window = restart_window
        self.restarts: deque[float] = deque()
        self.actor = actor
        self.name = name
        self.capacity = capacity
        self.mailbox: deque[tuple[Message, Any]] = deque()
        self.waiter: asyncio.Future[None] | None = None
        self.space_waiters: deque[asyncio.Future[None]] = deque()
        self.stopped = False
        self.system = system
        self.table = type(actor)._handler_table()

    def put(self, item: tuple[Message, Any]) -> None:
        tracer = self.system._tracer
        if tracer is not None:
            tracer.on_send(None, self.name, item[0])
        self.mailbox.append(item)
        w = self.waiter
        if w is not None and not w.done():
            w.set_result(None)

    async def wait_space(self) -> None:
        fut = asyncio.get_running_loop().create_future()
        self.space_waiters.append(fut)
        await fut

    def _release_space(self) -> None:
        while self.space_waiters and len(self.mailbox) < self.capacity:
            fut = self.space_waiters.popleft()
            if not fut.done():
                fut.set_result(None)

    async def run(self) -> None:
        actor = self.actor
        await actor.on_start()
        loop = asyncio.get_running_loop()
        try:
            while True:
                if not self.mailbox:
                    if self.stopped:
                        return
                    self.waiter = loop.create_future()
                    await self.waiter
                    self.waiter = None
                    continue
                msg, reply = self.mailbox.popleft()
                if self.space_waiters:
                    self._release_space()
                name = self.table.get(type(msg))
                if name is None:
                    for klass in type(msg).__mro__:
                        if klass in self.table:
                            name = self.table[klass]
                            self.table[type(msg)] = name
                            break
                tracer = self.system._tracer
                started = time.perf_counter() if tracer is not None else 0.0
                try:
                    if name is None:
                        raise NoHandler(f"{self.name} has no handler for {type(msg).__name__}")
                    result = await getattr(actor, name)(msg)
                except Exception as exc:
                    failure = ActorFailed(
                        f"actor {self.name!r} failed handling {_describe(msg)}: {type(exc).__name__}: {exc}"
                    )
                    failure.__cause__ = exc
                    if tracer is not None:
                        tracer.on_failure(self.name, msg, exc)
                    self._deliver_error(reply, failure)
                    if self.supervision is Supervision.RESUME:
                        continue
                    if self.supervision is Supervision.RESTART:
                        replaced = await self._restarted(actor, failure)
                        if replaced is not None:
                            actor = replaced
                            continue
                    self.system._fail(failure)
                    return
                if tracer is not None:
                    tracer.on_handled(self.name, msg, time.perf_counter() - started)
                self._deliver(reply, result)
        finally:
            self.stopped = True
            for item in self.mailbox:
                self._deliver_error(item[1], ActorStopped(f"actor {self.name} stopped"))
            self.mailbox.clear()
            for fut in self.space_waiters:
                if not fut.done():
                    fut.set_result(None)
            with anyio.CancelScope(shield=True):
                await actor.on_stop()

    async def _restarted(self, old: Actor, failure: ActorFailed) -> Actor | None:
        """A fresh actor in ``old``'s place, or None (with ``failure`` explained) when the budget is spent."""
        now = time.monotonic()
        while self.restarts and now - self.restarts[0] > self.restart_window:
            self.restarts.popleft()
        if len(self.restarts) >= self.max_restarts:
            failure.args = (
                f"{failure.args[0]} (restarted {len(self.restarts)} times within "
                f"{self.restart_window:g} s already; giving up)",
            )
            return None
        self.restarts.append(now)
        assert self.restart is not None
        with anyio.CancelScope(shield=True):
            await old.on_stop()
        fresh = self.restart()
        fresh.name, fresh.ref, fresh.system = old.name, old.ref, old.system
        self.actor = fresh
        self.table = type(fresh)._handler_table()
        try:
            await fresh.on_start()
        except Exception as exc:
            failure.args = (f"{failure.args[0]}; the restarted actor failed to start: {exc}",)
            return None
        return fresh

    @staticmethod
    def _deliver(reply: Any, result: Any) -> None:
        if reply is None:
            return
        if isinstance(reply, _Reply):
            if not reply.fut.done():
                reply.fut.set_result(result)
            return
        gather, index = reply
        gather.results[index] = result
        gather.remaining -= 1
        if gather.remaining == 0 and not gather.done.done():
            gather.done.set_result(None)

    @staticmethod
    def _deliver_error(reply: Any, exc: BaseException) -> None:
        if reply is None:
            return
        if isinstance(reply, _Reply):
            if not reply.fut.done():
                reply.fut.set_exception(exc)
            return
        gather, _ = reply
        if not gather.done.done():
            gather.done.set_exception(exc)

    def stop(self) -> None:
        self.stopped = True
        w = self.waiter
        if w is not None and not w.done():
            w.set_result(None)


class Subscription(Generic[T]):
    def __init__(self, topic: Topic[T], maxsize: int) -> None:
        self._topic = topic
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize)
        self._closed = False

    def close(self) -> None:
        self._closed = True
        self._topic._subs.discard(self)
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(_CLOSED)

    def __aiter__(self) -> Subscription[T]:
        return self

    async def __anext__(self) -> T:
        if self._closed and self._queue.empty():
            raise StopAsyncIteration
        item = await self._queue.get()
        if item is _CLOSED:
            raise StopAsyncIteration
        return item  # type: ignore[no-any-return]


_CLOSED = object()


class Topic(Generic[T]):
    def __init__(self, name: str) -> None:
        self.name = name
        self._subs: set[Subscription[T]] = set()

    def subscribe(self, maxsize: int = 1000) -> Subscription[T]:
        sub: Subscription[T] = Subscription(self, maxsize)
        self._subs.add(sub)
        return sub

    @property
    def has_subscribers(self) -> bool:
        return bool(self._subs)

    async def publish(self, msg: T) -> None:
        for sub in list(self._subs):
            if not sub._closed:
                await sub._queue.put(msg)


class ActorSystem:
    def __init__(self, name: str = "system", tracer: Tracer | None = None) -> None:
        self.name = name
        self._tracer = tracer
        self._cells: dict[str, _Cell] = {}
        self._tg: TaskGroup | None = None
        self._failure: ActorFailed | None = None
        self._topics: dict[str, Topic[Any]] = {}

    async def __aenter__(self) -> ActorSystem:
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> bool | None:
        assert self._tg is not None
        if exc is None and self._failure is None:
            self._stop_all()
        else:
            self._tg.cancel_scope.cancel()
        try:
            await self._tg.__aexit__(exc_type, exc, tb)
        except BaseException:
            if self._failure is not None:
                raise self._failure from self._failure.__cause__
            raise
        if self._failure is not None:
            raise self._failure from self._failure.__cause__
        return None

    def _fail(self, failure: ActorFailed) -> None:
        if self._failure is None:
            self._failure = failure
            assert self._tg is not None
            self._tg.cancel_scope.cancel()

    def _stop_all(self) -> None:
        for cell in self._cells.values():
            cell.stop()

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
        """Start ``actor`` under ``name``; see :class:`Supervision` for ``restart`` and its limits."""
        if name in self._cells:
            raise ValueError(f"an actor named {name!r} already exists")
        assert self._tg is not None
        if mailbox_size < 1:
            raise ValueError(f"mailbox_size must be at least 1, got {mailbox_size}")
        if supervision is Supervision.RESTART and restart is None:
            raise ValueError(f"{name}: RESTART supervision needs a restart factory (restart=...)")
        if max_restarts < 0 or restart_window <= 0:
            raise ValueError("max_restarts must be >= 0 and restart_window > 0")
        cell = _Cell(actor, name, mailbox_size, self, supervision, restart, max_restarts, restart_window)
        ref = ActorRef(name, cell)
        actor.name, actor.ref, actor.system = name, ref, self
        self._cells[name] = cell
        self._tg.start_soon(cell.run, name=name)
        return ref

    async def stop(self) -> None:
        self._stop_all()

    def topic(self, name: str) -> Topic[Any]:
        if name not in self._topics:
            self._topics[name] = Topic(name)
        return self._topics[name]

    async def gather_ask(
        self, pairs: Sequence[tuple[ActorRef, Message]], timeout: float | None = None
    ) -> list[Any]:
        gather = _Gather(len(pairs))
        if not pairs:
            return []
        for i, (ref, msg) in enumerate(pairs):
            cell = ref._cell
            if cell.stopped:
                raise ActorStopped(f"actor {ref.name} is stopped")
            while len(cell.mailbox) >= cell.capacity:
                await cell.wait_space()
            cell.put((msg, (gather, i)))
        if timeout is None:
            await gather.done
        else:
            try:
                with anyio.fail_after(timeout):
                    await gather.done
            except TimeoutError:
                raise AskTimeout(f"not every actor answered within {timeout} s") from None
        return gather.results


class Clock:
    def __init__(self, system: ActorSystem) -> None:
        self.system = system
        self.tick = 0

    async def phase(self, participants: Sequence[ActorRef], msg: Message) -> list[Any]:
        results = await self.system.gather_ask([(p, msg) for p in participants])
        self.tick += 1
        return results
