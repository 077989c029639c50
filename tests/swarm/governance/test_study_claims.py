"""The MVP v1 claims that hold with a wide margin, checked at a cheap size."""

from __future__ import annotations

import statistics
from pathlib import Path

from swarm import load_scenario, run
from swarm.runtime.eventlog import read_log

POPULATION = [
    {"type": "honest", "count": 4},
    {"type": "opportunistic", "count": 2},
    {"type": "deceptive", "count": 2},
    {"type": "adversarial", "count": 2},
]


def _toxicity(governance: dict[str, object], seeds: range) -> list[float]:
    out = []
    for seed in seeds:
        sc = load_scenario(
            {
                "agents": POPULATION,
                "governance": governance,
                "simulation": {"n_epochs": 6, "steps_per_epoch": 8, "seed": seed},
            }
        )
        out.append(run(sc).summary.pooled_toxicity or 0.0)
    return out


def test_combined_levers_reduce_toxicity_on_every_paired_seed() -> None:
    combined = {
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
    base, governed = _toxicity({}, range(4)), _toxicity(combined, range(4))
    assert statistics.fmean(governed) < statistics.fmean(base) - 0.01


def test_toxic_interactions_gain_reputation_despite_negative_true_surplus(tmp_path: Path) -> None:
    """Accepted interactions whose latent outcome is bad (v = −1) realise a negative surplus
    (−s⁻ − h each), yet their initiators gain reputation on average: the proxy rewards them."""
    sc = load_scenario(
        {"agents": POPULATION, "simulation": {"n_epochs": 8, "steps_per_epoch": 10, "seed": 3}}
    )
    run(sc, out_dir=tmp_path)
    _, events = read_log(tmp_path / "events.jsonl")
    toxic = [
        e.interaction
        for e in events
        if e.type == "interaction_completed" and e.interaction.accepted and e.interaction.ground_truth == -1
    ]
    assert len(toxic) > 20
    realised = -(sc.payoff.s_minus + sc.payoff.h)
    assert realised < 0
    assert statistics.fmean((i.p - 0.5) - i.c_a for i in toxic) > 0
