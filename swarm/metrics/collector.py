"""Turn an event stream into per-epoch metrics and per-agent books.

The live run and replay use this same code on the same events, so a log can be
checked against itself: recomputing from the logged events must give the
metrics the run reported. The metrics actor wraps a collector and subscribes to
the event bus.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import IO, Any

from actors import Actor, handler
from swarm.core.interaction import SoftInteraction
from swarm.core.payoff import SoftPayoffEngine
from swarm.events import (
    AgentCreated,
    AgentFrozen,
    AgentUnfrozen,
    Event,
    InteractionCompleted,
    LedgerUpdated,
    Metrics,
    Record,
)
from swarm.governance import detection
from swarm.kernel.bus import EventBatch
from swarm.metrics import soft
from swarm.metrics._columns import counts_column, packed
from swarm.metrics.registry import COUNTERS, EPOCH_METRICS, Counter, EpochData, needs_interactions
from swarm.registry import load_builtins


class AgentRow:
    """One agent's figures as the events tell them."""

    __slots__ = (
        "accepted_initiated",
        "agent_id",
        "agent_type",
        "frozen",
        "interactions_initiated",
        "interactions_received",
        "policy",
        "reputation",
        "resources",
        "total_payoff",
    )

    def __init__(self, ev: AgentCreated) -> None:
        self.agent_id = ev.agent_id
        self.agent_type = ev.agent_type
        self.policy = ev.policy
        self.reputation = ev.reputation
        self.resources = ev.resources
        self.frozen = False
        self.interactions_initiated = 0
        self.interactions_received = 0
        self.accepted_initiated = 0
        self.total_payoff = 0.0

    def as_dict(self) -> dict[str, Any]:
        """The row by :data:`AGENT_COLUMNS`, in their order (each attribute read by name: no ``getattr``)."""
        return {
            "agent_id": self.agent_id,
            "agent_type": self.agent_type,
            "policy": self.policy,
            "reputation": self.reputation,
            "resources": self.resources,
            "total_payoff": self.total_payoff,
            "interactions_initiated": self.interactions_initiated,
            "interactions_received": self.interactions_received,
            "accepted_initiated": self.accepted_initiated,
            "frozen": self.frozen,
        }


AGENT_COLUMNS = (
    "agent_id",
    "agent_type",
    "policy",
    "reputation",
    "resources",
    "total_payoff",
    "interactions_initiated",
    "interactions_received",
    "accepted_initiated",
    "frozen",
)

HISTORY_COLUMNS = ("epoch", *AGENT_COLUMNS)
"""The columns of the per-epoch agent snapshots (``agent_epochs.csv``): the epoch, then the agent columns."""

_QUOTE = re.compile('[,"\r\n]')
"""Characters that make ``csv.writer`` (default dialect) quote a field."""

_SNAPSHOT_FLOATS = ("reputation", "resources", "total_payoff")
_SNAPSHOT_COUNTS = ("interactions_initiated", "interactions_received", "accepted_initiated")


class _Snapshot:
    """Every agent's changing figures when an epoch closed, in flat arrays (~28 bytes per agent: the
    counts one byte each while they are below 256, see :func:`counts_column`)."""

    __slots__ = ("counts", "epoch", "floats", "frozen", "n")

    def __init__(self, epoch: int, rows: list[AgentRow]) -> None:
        self.epoch = epoch
        self.n = len(rows)
        # _SNAPSHOT_FLOATS and _SNAPSHOT_COUNTS, each attribute read by name (no getattr call per agent)
        self.floats = (
            packed("d", [r.reputation for r in rows]),
            packed("d", [r.resources for r in rows]),
            packed("d", [r.total_payoff for r in rows]),
        )
        self.counts = (
            counts_column([r.interactions_initiated for r in rows]),
            counts_column([r.interactions_received for r in rows]),
            counts_column([r.accepted_initiated for r in rows]),
        )
        self.frozen = bytes([r.frozen for r in rows])


class _NotKept(Sequence[SoftInteraction]):
    """An epoch's interactions that were kept as columns only: reading them is an error that says why."""

    def _refuse(self) -> Exception:
        return RuntimeError(
            "this epoch's interactions were kept as columns only (EpochData.table), as every epoch "
            "metric registered when it began was columns_only; register metrics that read "
            "EpochData.interactions before the run starts"
        )

    def __len__(self) -> int:
        raise self._refuse()

    def __getitem__(self, index: Any) -> Any:
        raise self._refuse()

    def __iter__(self) -> Iterator[SoftInteraction]:
        raise self._refuse()


_NOT_KEPT = _NotKept()


_Count = tuple[str, Callable[[Any], bool] | None, Callable[[Any], float] | None, bool]
"""A counter's update: its name, ``where``, ``amount``, and whether it keeps the latest value."""

_Handler = tuple[Callable[[list[Any]], None] | None, tuple[_Count, ...], bool]


def _each(update: Callable[[Any], None]) -> Callable[[list[Any]], None]:
    """An update of one event as an update of a run of them, event by event."""

    def run(events: list[Any]) -> None:
        for ev in events:
            update(ev)

    return run


class MetricsCollector:
    """Accumulates one epoch's events; :meth:`close_epoch` yields its metrics."""

    def __init__(self, engine: SoftPayoffEngine) -> None:
        load_builtins()
        self.engine = engine
        self.agents: dict[str, AgentRow] = {}
        self.types: dict[str, str] = {}
        self.frozen: set[str] = set()
        self.detected: set[str] = set()
        """Agents governance detected at least once (:mod:`swarm.governance.detection`)."""
        self.interactions: list[SoftInteraction] = []
        """The epoch's interactions as objects: kept only while some registered epoch metric reads
        them (:func:`~swarm.metrics.registry.needs_interactions`) or the engine is a subclass's."""
        self._table = soft.Table()
        """The epoch's interactions as columns: what the built-in metrics read."""
        self._settled: list[SoftInteraction] = []
        """The interactions of the events being fed, put in the table when they have been."""
        self._counters: dict[type, list[Counter]] = {}
        for c in COUNTERS.values():
            self._counters.setdefault(c.event, []).append(c)
        self._cumulative = {c.name for c in COUNTERS.values() if c.cumulative}
        self.counts: dict[str, float] = {}
        self._snapshots: list[_Snapshot] = []
        one: dict[type, Callable[[Any], None]] = {
            AgentCreated: self._created,
            AgentFrozen: self._frozen,
            AgentUnfrozen: self._unfrozen,
            **dict.fromkeys(detection.EVENTS, self._detection),
        }
        runs: dict[type, Callable[[list[Any]], None]] = {
            InteractionCompleted: self._interactions,  # the step's many: a run in one call
            LedgerUpdated: self._ledgers,
            **{kind: _each(update) for kind, update in one.items()},  # the rare ones: event by event
        }
        self._handlers: dict[type, _Handler] = {}
        """Per event type: the collector's own update of a run of its events (or None), each
        counter's update, and whether every one of them only counts (no ``amount``: a run of
        events adds an integer to each)."""
        for kind in {*runs, *self._counters}:
            counters = self._counters.get(kind, [])
            counts = tuple((c.name, c.where, c.amount, c.latest) for c in counters)
            self._handlers[kind] = (runs.get(kind), counts, all(c.amount is None for c in counters))

    def feed(self, events: Iterable[Event]) -> None:
        """Account for events, in log order.

        A step's events come in runs of one type (a component's claims or posts, the
        settlement's interactions and ledger updates), and each run is handled in one go:
        the collector's own update of its events, in order, then each counter's. That is
        what handling the events one by one does, as a type's own update and counters
        touch nothing another type's do (nor each other's): a counter that only counts
        adds the number of the run's events (its ``where`` passes) at once, an integer
        as the additions of one would give (a name that counted nothing is still left
        out); one with an ``amount`` adds them one by one, in order.
        """
        handlers, counts = self._handlers, self.counts
        for kind, grouped in groupby(events, type):
            found = handlers.get(kind)
            if found is None:
                continue
            run = list(grouped)
            core, counters, plain = found
            if core is not None:
                core(run)
            if not counters:
                continue
            if plain:  # counters that only count: each adds the number of events it counts
                for name, where, _, _ in counters:
                    n = len(run) if where is None else len(list(filter(where, run)))
                    if n:
                        counts[name] = counts.get(name, 0) + n
                continue
            for ev in run:  # event by event, each counter in turn (see above)
                for name, where, amount, last in counters:
                    if last:
                        counts[name] = amount(ev)  # type: ignore[misc]
                    elif where is None or where(ev):
                        counts[name] = counts.get(name, 0) + (1 if amount is None else amount(ev))
        if self._settled:
            self._keep(self._settled)
            self._settled = []

    def _keep(self, interactions: list[SoftInteraction]) -> None:
        """Put a batch of the epoch's interactions in its table (a column at a time), and keep the
        objects too when a metric or the engine needs them."""
        self._table.extend(interactions)
        if needs_interactions() or type(self.engine) is not SoftPayoffEngine:
            self.interactions += interactions

    def _interactions(self, run: list[InteractionCompleted]) -> None:
        settled, rows = self._settled, self.agents
        for ev in run:
            i = ev.interaction
            settled.append(i)
            a, b = rows.get(i.initiator), rows.get(i.counterparty)
            if a is not None:
                a.interactions_initiated += 1
                if i.accepted:
                    a.accepted_initiated += 1
                    a.total_payoff += ev.payoff_initiator
            if b is not None:
                b.interactions_received += 1
                if i.accepted:
                    b.total_payoff += ev.payoff_counterparty

    def _ledgers(self, run: list[LedgerUpdated]) -> None:
        rows = self.agents
        for ev in run:
            row = rows.get(ev.agent_id)
            if row is not None:
                row.resources = ev.resources
                row.reputation = ev.reputation

    def _created(self, ev: AgentCreated) -> None:
        self.agents[ev.agent_id] = AgentRow(ev)
        self.types[ev.agent_id] = ev.agent_type

    def _frozen(self, ev: AgentFrozen) -> None:
        self.frozen.add(ev.agent_id)
        if (row := self.agents.get(ev.agent_id)) is not None:
            row.frozen = True

    def _detection(self, ev: Event) -> None:
        agent = detection.detected_agent(ev)
        if agent is not None:
            self.detected.add(agent)

    def _unfrozen(self, ev: AgentUnfrozen) -> None:
        self.frozen.discard(ev.agent_id)
        if (row := self.agents.get(ev.agent_id)) is not None:
            row.frozen = False

    def close_epoch(self, epoch: int) -> Metrics:
        """The epoch's metrics, one per registered epoch metric; the next epoch then starts empty."""
        table = self._table
        data = EpochData(
            epoch=epoch,
            engine=self.engine,
            interactions=self.interactions if len(self.interactions) == len(table) else _NOT_KEPT,
            types=self.types,
            resources={a: r.resources for a, r in self.agents.items()},
            reputation={a: r.reputation for a, r in self.agents.items()},
            frozen=frozenset(self.frozen),
            counts=self.counts,
            kept=table,
        )
        values = Metrics(epoch=epoch)
        for name, metric in EPOCH_METRICS.items():
            if metric.optional and name not in data.counts:
                continue  # an opt-in feature this run does not have (or that measured nothing)
            values[name] = metric.compute(data)
        self.snapshot(epoch)
        self.interactions = []
        self._table = soft.Table()
        self.counts = {k: v for k, v in self.counts.items() if k in self._cumulative}
        return values

    def agent_rows(self) -> list[Record]:
        """Every agent's figures, in registration order."""
        return [Record(row.as_dict()) for row in self.agents.values()]

    def snapshot(self, epoch: int) -> None:
        """Keep every agent's figures as they stand when ``epoch`` closes (:meth:`close_epoch` does it)."""
        self._snapshots.append(_Snapshot(epoch, list(self.agents.values())))

    def history(self) -> AgentHistory:
        """Every agent's figures at the close of every epoch so far (see :class:`AgentHistory`)."""
        return AgentHistory(list(self._snapshots), list(self.agents.values()))


class AgentHistory:
    """Per-agent, per-epoch snapshots: one row per agent per closed epoch.

    Rows come epoch by epoch, agents in registration order, with the columns
    :data:`HISTORY_COLUMNS`; balances and counters are those the agent had when
    the epoch's ``epoch_completed`` event was recorded. Iterating gives
    :class:`Record` rows; :meth:`tuples` gives plain tuples (for writing files).
    Rows are built on demand, so holding the history costs ~28 bytes per agent
    per epoch.
    """

    def __init__(self, snapshots: list[_Snapshot], agents: list[AgentRow]) -> None:
        self._snapshots = snapshots
        self._agents = agents

    def __len__(self) -> int:
        return sum(s.n for s in self._snapshots)

    def tuples(self) -> Iterator[tuple[Any, ...]]:
        """The rows as tuples in :data:`HISTORY_COLUMNS` order."""
        agents = self._agents
        for snap in self._snapshots:
            rep, res, pay = snap.floats
            ini, rec, acc = snap.counts
            frozen = snap.frozen
            epoch = snap.epoch
            for k in range(snap.n):
                a = agents[k]
                yield (
                    epoch,
                    a.agent_id,
                    a.agent_type,
                    a.policy,
                    rep[k],
                    res[k],
                    pay[k],
                    ini[k],
                    rec[k],
                    acc[k],
                    bool(frozen[k]),
                )

    def __iter__(self) -> Iterator[Record]:
        for values in self.tuples():
            yield Record(zip(HISTORY_COLUMNS, values, strict=True))

    def write_csv(self, fh: IO[str]) -> None:
        """The header and the rows as CSV, byte for byte what ``csv.writer(fh)`` writes of them.

        A run's largest output: unless a name needs quoting, each line is formatted
        here (floats as ``repr``, as the writer does) rather than by the writer, which
        scans every character of every field for ones to quote.
        """
        writer = csv.writer(fh)
        writer.writerow(HISTORY_COLUMNS)
        agents = self._agents
        if any(_QUOTE.search(f"{a.agent_id}{a.agent_type}{a.policy}") for a in agents):
            writer.writerows(self.tuples())
            return
        names = [f"{a.agent_id},{a.agent_type},{a.policy}," for a in agents]
        for snap in self._snapshots:
            rep, res, pay = snap.floats
            ini, rec, acc = snap.counts
            frozen = snap.frozen
            fh.write(
                "".join(
                    [
                        f"{snap.epoch},{names[k]}{rep[k]!r},{res[k]!r},{pay[k]!r},"
                        f"{ini[k]},{rec[k]},{acc[k]},{bool(frozen[k])}\r\n"
                        for k in range(snap.n)
                    ]
                )
            )


@dataclass(frozen=True, slots=True)
class CloseEpochMetrics:
    epoch: int


class MetricsActor(Actor):
    """Subscribes to the event bus; answers :class:`CloseEpochMetrics` with the epoch's metrics."""

    def __init__(self, collector: MetricsCollector) -> None:
        self.collector = collector

    @handler
    def on_events(self, msg: EventBatch) -> None:
        self.collector.feed(msg.events)

    @handler
    def on_close(self, msg: CloseEpochMetrics) -> Metrics:
        return self.collector.close_epoch(msg.epoch)
