"""Topics: publish once, deliver to every subscriber (the event bus of a run).

A subscriber is either an actor (each message is told to it, with the mailbox's
backpressure) or a :class:`Subscription` read with ``async for``. A subscription
is bounded; when it is full the publisher either waits (``Overflow.BLOCK``, for
consumers that must see everything) or the oldest message is dropped and counted
(``Overflow.DROP_OLDEST``, for live views that only need the latest state). A
closed subscription never blocks a publisher again.
"""

from __future__ import annotations

import asyncio
import enum
from collections import deque
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from actors._ref import ActorRef

T = TypeVar("T")


class Overflow(enum.Enum):
    """What a full subscription does with the next message."""

    BLOCK = "block"
    DROP_OLDEST = "drop_oldest"


class Subscription(Generic[T]):
    """A bounded queue of a topic's messages, read with ``async for``."""

    def __init__(self, topic: Topic[T], maxsize: int, overflow: Overflow) -> None:
        if maxsize < 1:
            raise ValueError(f"maxsize must be at least 1, got {maxsize}")
        self._topic = topic
        self._maxsize = maxsize
        self._overflow = overflow
        self._items: deque[T] = deque()
        self._closed = False
        self._reader: asyncio.Future[None] | None = None
        self._writers: deque[asyncio.Future[None]] = deque()
        self.dropped = 0
        """How many messages were dropped because the reader fell behind (``DROP_OLDEST``)."""

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Stop receiving: the reader sees the messages already queued, then the end."""
        self._closed = True
        self._topic._subs.discard(self)
        self._wake_reader()
        while self._writers:
            fut = self._writers.popleft()
            if not fut.done():
                fut.set_result(None)

    async def _put(self, item: T) -> None:
        while not self._closed and len(self._items) >= self._maxsize:
            if self._overflow is Overflow.DROP_OLDEST:
                self._items.popleft()
                self.dropped += 1
                break
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._writers.append(fut)
            await fut
        if self._closed:
            return
        self._items.append(item)
        self._wake_reader()

    def _wake_reader(self) -> None:
        r = self._reader
        if r is not None and not r.done():
            r.set_result(None)

    def __aiter__(self) -> Subscription[T]:
        return self

    async def __anext__(self) -> T:
        while not self._items:
            if self._closed:
                raise StopAsyncIteration
            self._reader = asyncio.get_running_loop().create_future()
            await self._reader
            self._reader = None
        item = self._items.popleft()
        if self._writers:
            fut = self._writers.popleft()
            if not fut.done():
                fut.set_result(None)
        return item


class Topic(Generic[T]):
    """A named stream of messages with any number of subscribers, delivered in publish order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._subs: set[Subscription[T]] = set()
        self._order: list[Subscription[T]] = []
        self._actors: list[ActorRef] = []

    def subscribe(self, maxsize: int = 1000, overflow: Overflow = Overflow.BLOCK) -> Subscription[T]:
        """A new subscription that sees every message published from now on."""
        sub: Subscription[T] = Subscription(self, maxsize, overflow)
        self._subs.add(sub)
        self._order.append(sub)
        return sub

    def attach(self, ref: ActorRef) -> None:
        """Deliver every message published from now on to an actor (``tell``)."""
        self._actors.append(ref)

    @property
    def has_subscribers(self) -> bool:
        return bool(self._subs) or bool(self._actors)

    async def publish(self, msg: T) -> None:
        """Deliver to the actors (in attach order), then to the open subscriptions."""
        for ref in self._actors:
            await ref.tell(msg)
        if self._subs:
            self._order = [s for s in self._order if not s._closed]
            for sub in self._order:
                await sub._put(msg)
