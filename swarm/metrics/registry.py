"""Metrics as named reducers over a run's events, registered once.

Three kinds of entries, all in registration order:

* an **epoch metric** computes one value per epoch from the epoch's
  :class:`EpochData` (its interactions, the agents' balances, event counts);
* a **counter** counts (or sums) one event type per epoch, and is itself an
  epoch metric;
* a **run figure** reduces the epochs' metrics (and the agents' final books) to
  one number per run.

The per-epoch record in the log, ``metrics.csv``, ``summary.json``, sweep
aggregates and reports are generated from these lists, and every run figure
``x`` can be a success criterion as ``min_x`` or ``max_x``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import compress
from typing import Any, Literal, cast

from swarm.core.interaction import SoftInteraction
from swarm.core.payoff import SoftPayoffEngine
from swarm.events import Event
from swarm.metrics import soft
from swarm.registry import Registry

Value = float | int | None | dict[str, float]


@dataclass
class EpochData:
    """What the collector knows when it closes an epoch."""

    epoch: int
    engine: SoftPayoffEngine
    interactions: Sequence[SoftInteraction]
    types: Mapping[str, str]
    """Every agent's type (custom policies under their own name)."""
    resources: Mapping[str, float]
    reputation: Mapping[str, float]
    frozen: frozenset[str]
    counts: dict[str, float] = field(default_factory=dict)
    kept: soft.Table | None = None
    """The interactions as columns when the caller kept them so (the collector does): then
    ``interactions`` is read only by metrics registered without ``columns_only``, and the
    collector keeps no interaction objects at all while every registered metric has it."""

    @cached_property
    def table(self) -> soft.Table:
        """The interactions as columns (``kept``, or made from ``interactions`` once)."""
        return self.kept if self.kept is not None else soft.Table(self.interactions)

    @cached_property
    def accepted(self) -> list[SoftInteraction]:
        """The epoch's accepted interactions (computed once)."""
        return list(compress(self.interactions, self.columns.accepted))

    @cached_property
    def columns(self) -> soft.Columns:
        """The interactions' p, acceptance and ground truth as lists (computed once)."""
        return soft.Columns(self.table)

    @cached_property
    def payoffs(self) -> soft.Payoffs:
        """(π_a, π_b) of every interaction, in order (computed once)."""
        if type(self.engine) is SoftPayoffEngine:
            return soft.table_payoffs(self.table, self.engine)
        return soft.payoffs(self.interactions, self.engine)  # a subclass's own payoffs

    @cached_property
    def welfare(self) -> soft.WelfareMetrics:
        """Welfare of the accepted interactions (computed once)."""
        pi_a, pi_b = self.payoffs
        c = self.columns
        # the accepted p as an array when the surplus is worked out over one (the same values)
        p_accepted = c._array("p_accepted") if len(c.p_accepted) >= soft.ARRAYS else c.p_accepted
        surplus = soft._social_surplus(self.engine, p_accepted, lambda: self.accepted)
        return soft._welfare(c.accepted, pi_a, pi_b, surplus)


@dataclass(frozen=True)
class EpochMetric:
    name: str
    description: str
    compute: Callable[[EpochData], Value]
    plot: bool = False
    """Shown as a time series in reports and the dashboard."""
    optional: bool = False
    """Left out of an epoch's record when the epoch had none of its events (an opt-in feature's
    metric: runs without the feature log exactly what they logged before)."""
    columns_only: bool = False
    """Reads no interaction objects (``interactions``, ``accepted``), only ``table``, ``columns``,
    ``payoffs``, ``welfare`` and the other fields: while every registered metric is so, a run keeps
    its epoch's interactions as columns only (a few dozen bytes each instead of a few hundred)."""


@dataclass(frozen=True)
class Counter:
    """Counts (or with ``amount``, sums) the events of one type per epoch, optionally filtered."""

    name: str
    description: str
    event: type[Event]
    where: Callable[[Any], bool] | None = None
    amount: Callable[[Any], float] | None = None
    cumulative: bool = False
    """Counts since the start of the run rather than per epoch."""
    latest: bool = False
    """Keeps the last event's ``amount`` instead of summing (None in an epoch without such events)."""


@dataclass(frozen=True)
class RunData:
    """What a run figure is computed from."""

    epochs: Sequence[Mapping[str, Value]]
    agents: Sequence[Mapping[str, Any]]
    detected: frozenset[str] = frozenset()
    """Agents governance detected at least once (:mod:`swarm.governance.detection`)."""


@dataclass(frozen=True)
class RunFigure:
    name: str
    description: str
    reduce: Callable[[RunData], float | int | None]
    headline: bool = False
    """Shown in the terminal summary, sweep plots and reports."""


EPOCH_METRICS: Registry[EpochMetric] = Registry("epoch metric")
COUNTERS: Registry[Counter] = Registry("counter")
RUN_FIGURES: Registry[RunFigure] = Registry("run figure")


def epoch_metric(
    name: str, description: str, *, plot: bool = False, columns_only: bool = False
) -> Callable[[Callable[[EpochData], Value]], Callable[[EpochData], Value]]:
    """Register ``fn(data) -> value`` as the epoch metric ``name``.

    ``columns_only``: ``fn`` reads no interaction objects (see :attr:`EpochMetric.columns_only`).
    """

    def register(fn: Callable[[EpochData], Value]) -> Callable[[EpochData], Value]:
        EPOCH_METRICS.add(name, EpochMetric(name, description, fn, plot, columns_only=columns_only))
        return fn

    return register


def count(
    name: str,
    event: type[Event],
    description: str,
    *,
    where: Callable[[Any], bool] | None = None,
    amount: Callable[[Any], float] | None = None,
    cumulative: bool = False,
    optional: bool = False,
) -> Counter:
    """Register a counter of ``event`` (an epoch metric called ``name``).

    ``optional``: an epoch without the event leaves the metric out of its record
    (for an opt-in feature, so runs without it log what they logged before).
    """
    counter = Counter(name, description, event, where, amount, cumulative)
    COUNTERS.add(name, counter)
    EPOCH_METRICS.add(
        name,
        EpochMetric(
            name, description, lambda data: data.counts.get(name, 0), optional=optional, columns_only=True
        ),
    )
    return counter


def latest(
    name: str,
    event: type[Event],
    description: str,
    value: Callable[[Any], float | None],
    *,
    optional: bool = False,
) -> Counter:
    """Register an epoch metric holding ``value`` of the epoch's last ``event`` (None without one).

    ``optional``: an epoch without the event leaves the metric out of its record altogether.
    """
    counter = Counter(name, description, event, None, cast("Callable[[Any], float]", value), latest=True)
    COUNTERS.add(name, counter)
    EPOCH_METRICS.add(
        name,
        EpochMetric(
            name, description, lambda data: data.counts.get(name), optional=optional, columns_only=True
        ),
    )
    return counter


_needs: list[int | bool] = [-1, False]
"""The registry version :func:`needs_interactions` last answered for, and its answer."""


def needs_interactions() -> bool:
    """Whether some registered epoch metric reads interaction objects (is not ``columns_only``)."""
    if _needs[0] != EPOCH_METRICS.version:  # worked out again only when the metrics changed
        _needs[:] = [EPOCH_METRICS.version, not all(m.columns_only for m in EPOCH_METRICS.values())]
    return bool(_needs[1])


def run_figure(
    name: str, description: str, reduce: Callable[[RunData], float | int | None], *, headline: bool = False
) -> RunFigure:
    """Register a run figure (and with it the success criteria ``min_<name>`` and ``max_<name>``)."""
    return RUN_FIGURES.add(name, RunFigure(name, description, reduce, headline))


# ------------------------------------------------------------------ reducers


def defined(epochs: Sequence[Mapping[str, Value]], name: str) -> list[float]:
    """The epochs' values of ``name`` where it is defined (not None)."""
    return [float(v) for e in epochs if isinstance(v := e.get(name), int | float) and not isinstance(v, bool)]


def mean_of(name: str) -> Callable[[RunData], float | None]:
    """The mean over the epochs where ``name`` is defined (None when it never is)."""

    def reduce(run: RunData) -> float | None:
        xs = defined(run.epochs, name)
        return math.fsum(xs) / len(xs) if xs else None

    return reduce


def sum_of(name: str) -> Callable[[RunData], float | int]:
    """The sum over the epochs (an integer when every value is one)."""

    def reduce(run: RunData) -> float | int:
        values = [
            v for e in run.epochs if isinstance(v := e.get(name), int | float) and not isinstance(v, bool)
        ]
        if all(isinstance(v, int) for v in values):
            return sum(values)
        return math.fsum(values)

    return reduce


def last_of(name: str) -> Callable[[RunData], float | None]:
    def reduce(run: RunData) -> float | None:
        xs = defined(run.epochs, name)
        return xs[-1] if xs else None

    return reduce


def pooled(name: str, weight: str) -> Callable[[RunData], float | None]:
    """The mean of ``name`` over epochs weighted by ``weight`` (None when the weights sum to 0)."""

    def reduce(run: RunData) -> float | None:
        num = den = 0.0
        for e in run.epochs:
            v, w = e.get(name), e.get(weight)
            if isinstance(v, int | float) and isinstance(w, int | float) and w:
                num += v * w
                den += w
        return num / den if den else None

    return reduce


# ------------------------------------------------------------------ generated views


def epoch_columns(values: Mapping[str, Value]) -> dict[str, Any]:
    """One flat row of an epoch's metrics: map-valued metrics become ``name_key`` columns."""
    row: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, dict):
            for key, v in sorted(value.items()):
                row[f"{name}_{key}"] = v
        else:
            row[name] = value
    return row


def figures(run: RunData) -> dict[str, float | int | None]:
    """Every registered run figure of a run."""
    return {name: fig.reduce(run) for name, fig in RUN_FIGURES.items()}


Bound = Literal["min", "max"]


def criterion_target(name: str) -> tuple[Bound, str] | None:
    """(bound, figure) for a criterion called ``min_<figure>`` or ``max_<figure>``; None otherwise."""
    for bound in ("min", "max"):
        prefix = f"{bound}_"
        if name.startswith(prefix) and name[len(prefix) :] in RUN_FIGURES:
            return bound, name[len(prefix) :]
    return None
