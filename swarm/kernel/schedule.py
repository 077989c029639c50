"""The order in which a step's actions are applied, and the kill switch's judgement of an epoch."""

from __future__ import annotations

import random
from collections.abc import Sequence

from swarm.events import Metrics
from swarm.scenario import Scenario
from swarm.views import AgentPublic


def schedule(
    mode: str, active: Sequence[int], clock: int, agents: Sequence[AgentPublic], rng: random.Random
) -> list[int]:
    """The positions in ``active`` in the order their actions are applied.

    Round robin rotates its start every step, ``random`` is a seeded shuffle,
    ``priority`` goes by reputation, highest first (ties in registration order).
    """
    n = len(active)
    if mode == "random":
        order = list(range(n))
        rng.shuffle(order)
        return order
    if mode == "priority":
        return sorted(range(n), key=lambda p: -agents[active[p]].reputation)
    if not n:
        return []
    k = clock % n
    return [*range(k, n), *range(k)]


def kill_reason(scenario: Scenario, metrics: Metrics, n_agents: int) -> str | None:
    """Why the kill switch stops the run after this epoch, or None."""
    ks = scenario.safety.kill_switch
    if not ks.enabled:
        return None
    tox = metrics.get("toxicity_rate")
    if ks.max_epoch_toxicity is not None and tox is not None and tox > ks.max_epoch_toxicity:
        return f"epoch toxicity {tox:.3f} above {ks.max_epoch_toxicity}"
    frozen = metrics.get("frozen_agents") or 0
    if ks.max_frozen_fraction is not None and n_agents and frozen / n_agents > ks.max_frozen_fraction:
        return f"{frozen} of {n_agents} agents frozen (limit {ks.max_frozen_fraction:.0%})"
    return None
