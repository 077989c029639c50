"""The order in which a step's actions are applied, and the kill switch's judgement of an epoch."""

from __future__ import annotations

import random
from collections.abc import Sequence

from swarm.events import Metrics
from swarm.scenario import Scenario
from swarm.views import AgentPublic


def schedule(
    mode: str, active: list[int], clock: int, agents: Sequence[AgentPublic], rng: random.Random
) -> list[int]:
    """Round robin (rotating its start every step), a seeded shuffle, or reputation priority."""
    if mode == "random":
        order = list(active)
        rng.shuffle(order)
        return order
    if mode == "priority":
        return sorted(active, key=lambda k: -agents[k].reputation)
    if not active:
        return active
    k = clock % len(active)
    return active[k:] + active[:k]


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
