"""The Metrics actor: watches the run's events and produces each epoch's record on request."""

from __future__ import annotations

from actors import Actor, Message, handler
from swarm.events import Event
from swarm.metrics.collector import MetricsCollector
from swarm.metrics.epoch import EpochMetrics


class Observe(Message):
    """A step's numbered events, in log order."""

    events: tuple[Event, ...]


class CloseEpoch(Message):
    epoch: int


class MetricsActor(Actor):
    """Feeds every event to a :class:`MetricsCollector`; answers ``CloseEpoch`` with the epoch's metrics."""

    def __init__(self, collector: MetricsCollector) -> None:
        self._collector = collector

    @handler
    async def on_observe(self, msg: Observe) -> None:
        self._collector.feed(msg.events)

    @handler
    async def on_close(self, msg: CloseEpoch) -> EpochMetrics:
        return self._collector.close_epoch(msg.epoch)
