"""Do the levers work? Each lever alone and all combined, against no governance, over many seeds.

Population: 4 honest, 2 opportunistic, 2 deceptive, 2 adversarial agents,
10 epochs x 10 steps. The same seeds for every configuration (paired). Prints
the mean and 95% confidence interval of pooled toxicity, honest agents' mean
total payoff and its paired change against the baseline, and Brier score per
configuration.

    python examples/governance_study.py [--seeds 20]
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence
from typing import Any

import swarm

POPULATION = [
    {"type": "honest", "count": 4},
    {"type": "opportunistic", "count": 2},
    {"type": "deceptive", "count": 2},
    {"type": "adversarial", "count": 2},
]

CONFIGURATIONS: dict[str, dict[str, Any]] = {
    "baseline": {},
    "reputation decay": {"reputation_decay_rate": 0.9},
    "vote normalisation": {"vote_normalization_enabled": True, "max_vote_weight_per_agent": 5.0},
    "bandwidth cap": {"bandwidth_cap": 8},
    "transparency": {"transparency_enabled": True},
    "random audits": {"audit_enabled": True, "audit_probability": 0.3},
    "circuit breaker": {"circuit_breaker_enabled": True},
    "transaction tax": {"transaction_tax_rate": 0.1},
    "staking": {"staking_enabled": True, "min_stake_to_participate": 10.0},
    "moderator": {"moderator_enabled": True},
}
CONFIGURATIONS["combined"] = {k: v for cfg in CONFIGURATIONS.values() for k, v in cfg.items()}

# Student's t quantiles (two-sided 95%) by degrees of freedom.
_T95 = {
    1: 12.706,
    2: 4.303,
    3: 3.182,
    4: 2.776,
    5: 2.571,
    6: 2.447,
    7: 2.365,
    8: 2.306,
    9: 2.262,
    10: 2.228,
    12: 2.179,
    15: 2.131,
    20: 2.086,
    25: 2.060,
    30: 2.042,
}


def t95(df: int) -> float:
    keys = sorted(k for k in _T95 if k <= df)
    return _T95[keys[-1]] if keys else _T95[1]


def ci(xs: Sequence[float]) -> tuple[float, float, float]:
    mean = statistics.fmean(xs)
    if len(xs) < 2:
        return mean, mean, mean
    half = t95(len(xs) - 1) * statistics.stdev(xs) / len(xs) ** 0.5
    return mean, mean - half, mean + half


def measure(governance: dict[str, Any], seed: int) -> dict[str, float]:
    scenario = swarm.load_scenario(
        {
            "scenario_id": "study",
            "agents": POPULATION,
            "governance": governance,
            "simulation": {"n_epochs": 10, "steps_per_epoch": 10, "seed": seed},
        }
    )
    result = swarm.run(scenario)
    honest = [a.total_payoff for a in result.agents if a.agent_type == "honest"]
    briers = [e.brier_score for e in result.epochs if e.brier_score is not None]
    return {
        "toxicity": result.summary.pooled_toxicity or 0.0,
        "honest_payoff": statistics.fmean(honest),
        "brier": statistics.fmean(briers) if briers else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    print(
        f"{'configuration':<20} {'toxicity (95% CI)':<26} {'honest payoff (95% CI)':<28} "
        f"{'change, paired (95% CI)':<28} {'Brier':>6}"
    )
    base: list[float] = []
    for name, governance in CONFIGURATIONS.items():
        runs = [measure(governance, seed) for seed in range(args.seeds)]
        honest = [r["honest_payoff"] for r in runs]
        base = base or honest
        tox = ci([r["toxicity"] for r in runs])
        pay = ci(honest)
        change = ci([x - b for x, b in zip(honest, base, strict=True)])
        brier = statistics.fmean(r["brier"] for r in runs)
        print(
            f"{name:<20} {tox[0]:.4f} [{tox[1]:.4f}, {tox[2]:.4f}]   "
            f"{pay[0]:7.2f} [{pay[1]:7.2f}, {pay[2]:7.2f}]   "
            f"{change[0]:7.2f} [{change[1]:7.2f}, {change[2]:7.2f}]   {brier:6.3f}"
        )


if __name__ == "__main__":
    main()
