"""The event bus: numbers each batch of events and publishes it to every subscriber.

The recorder (the event log), the metrics actor and any live stream subscribe
to the bus topic; the clock is the only publisher, so sequence numbers follow
publication order and every subscriber sees the same order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Literal

from msgspec.structs import force_setattr

from actors import Topic
from swarm.events import Event

Durability = Literal["step", "epoch", "none"]
"""How durable a batch must be on disk: flushed ("step"), fsynced ("epoch"), or either later ("none")."""


@dataclass(frozen=True, slots=True)
class EventBatch:
    """Numbered events, in log order, and how durable they must be once written."""

    events: tuple[Event, ...]
    sync: Durability = "step"


class EventBus:
    """A topic of :class:`EventBatch` messages plus the run's sequence counter."""

    def __init__(self, topic: Topic[EventBatch] | None = None) -> None:
        self.topic: Topic[EventBatch] = topic if topic is not None else Topic("events")
        self.seq = 0

    async def publish(self, events: Sequence[Event], sync: Durability = "step") -> None:
        seq = self.seq
        n = len(events)
        # each event numbered in turn (numbered(ev, seq + 1), ...) in one pass in C
        deque(map(force_setattr, events, repeat("seq", n), range(seq + 1, seq + n + 1)), maxlen=0)
        self.seq = seq + n
        await self.topic.publish(EventBatch(tuple(events), sync))
