"""Every registered epoch metric of one set of interactions, at once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from swarm.core.interaction import SoftInteraction
from swarm.core.payoff import SoftPayoffEngine
from swarm.events import Metrics
from swarm.metrics.registry import COUNTERS, EPOCH_METRICS, EpochData
from swarm.registry import load_builtins


def summarize(
    interactions: Sequence[SoftInteraction],
    engine: SoftPayoffEngine | None = None,
    *,
    types: Mapping[str, str] | None = None,
) -> Metrics:
    """The registered epoch metrics of ``interactions`` as if they were one epoch.

    Event counters (posts, votes, ...) are left out: a set of interactions has no
    such events. Metrics of agents' balances see none (their Gini is 0);
    ``types`` maps agent ids to types for the per-type means.
    """
    load_builtins()
    data = EpochData(
        epoch=0,
        engine=engine or SoftPayoffEngine(),
        interactions=list(interactions),
        types=types or {},
        resources={},
        reputation={},
        frozen=frozenset(),
    )
    return Metrics({name: m.compute(data) for name, m in EPOCH_METRICS.items() if name not in COUNTERS})
