"""The MVP v1 claims that hold with a wide margin, each shown over several seeds at a cheap size."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import pytest

from swarm import load_scenario, run
from swarm.events import InteractionCompleted, LedgerUpdated
from swarm.runtime.eventlog import read_log

POPULATION = [
    {"type": "honest", "count": 4},
    {"type": "opportunistic", "count": 2},
    {"type": "deceptive", "count": 2},
    {"type": "adversarial", "count": 2},
]
SEEDS = range(6)

COMBINED = {
    "audit_enabled": True,
    "audit_probability": 0.3,
    "circuit_breaker_enabled": True,
    "moderator_enabled": True,
    "transparency_enabled": True,
    "transaction_tax_rate": 0.1,
    "staking_enabled": True,
    "min_stake_to_participate": 10.0,
    "reputation_decay_rate": 0.9,
}


def scenario(seed: int, governance: dict[str, Any] | None = None, epochs: int = 6, steps: int = 8) -> Any:
    return load_scenario(
        {
            "agents": POPULATION,
            "governance": governance or {},
            "simulation": {"n_epochs": epochs, "steps_per_epoch": steps, "seed": seed},
        }
    )


def pooled_toxicity(seed: int, governance: dict[str, Any] | None = None) -> float:
    value = run(scenario(seed, governance)).summary["pooled_toxicity"]
    assert isinstance(value, float)
    return value


def test_combined_levers_reduce_toxicity_on_every_paired_seed() -> None:
    base = [pooled_toxicity(seed) for seed in SEEDS]
    governed = [pooled_toxicity(seed, COMBINED) for seed in SEEDS]
    assert all(g < b for g, b in zip(governed, base, strict=True)), (base, governed)
    assert statistics.fmean(governed) < statistics.fmean(base) - 0.01


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_toxic_interactions_gain_reputation_despite_negative_true_surplus(tmp_path: Path, seed: int) -> None:
    """Accepted interactions whose latent outcome is bad (v = −1) realise a negative surplus
    (−s⁻ − h each), yet their initiators gain reputation on average: the proxy rewards them."""
    sc = scenario(seed, epochs=8, steps=10)
    run(sc, out_dir=tmp_path)
    _, events = read_log(tmp_path / "events.jsonl")
    toxic = [
        e.interaction
        for e in events
        if isinstance(e, InteractionCompleted) and e.interaction.accepted and e.interaction.ground_truth == -1
    ]
    assert len(toxic) > 20
    assert -(sc.payoff.s_minus + sc.payoff.h) < 0
    # what the ledger actually credited the initiators for those interactions
    credited = {
        e.ref: e.reputation_delta
        for e in events
        if isinstance(e, LedgerUpdated) and e.entry == "settlement" and e.reputation_delta != 0.0
    }
    gains = [credited.get(i.interaction_id, 0.0) for i in toxic]
    assert gains == pytest.approx([(i.p - 0.5) - i.c_a for i in toxic])
    assert statistics.fmean(gains) > 0
