"""What does the sandbox boundary stop? Sealed, open, half-open and adaptive boundaries over many seeds.

Population and governance of ``scenarios/boundary_test.yaml`` (3 honest, 2
opportunistic, 1 adversarial; tax, decay, audits, circuit breaker), 20 epochs
x 10 steps, the same seeds for every configuration (paired). Prints, per
configuration, the mean and 95% confidence interval (Student's t) of: secrets
that crossed the boundary, the leakage detector's recall and false-alarm rate
(against the planted ground truth), harm spilled over to the outside, mean
permeability and threat level, and the share of honest agents' requests that
got through (what closing the boundary costs them).

    python examples/boundary_study.py [--seeds 10] [--population adversarial]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
from pathlib import Path
from typing import Any

import swarm
from swarm.analysis.aggregate import t95

POPULATIONS = {
    "reference": [
        {"type": "honest", "count": 3},
        {"type": "opportunistic", "count": 2},
        {"type": "adversarial", "count": 1},
    ],
    "adversarial": [
        {"type": "honest", "count": 3},
        {"type": "opportunistic", "count": 1},
        {"type": "deceptive", "count": 1},
        {"type": "adversarial", "count": 3},
    ],
}
GOVERNANCE = {
    "transaction_tax_rate": 0.02,
    "reputation_decay_rate": 0.98,
    "audit_enabled": True,
    "audit_probability": 0.1,
    "audit_penalty_multiplier": 2.0,
    "circuit_breaker_enabled": True,
    "freeze_threshold_toxicity": 0.6,
}
CONFIGURATIONS: dict[str, dict[str, Any]] = {
    "sealed (0)": {"permeability": 0.0, "adaptive": False},
    "half-open (0.5)": {"permeability": 0.5, "adaptive": False},
    "open (1)": {"permeability": 1.0, "adaptive": False},
    "adaptive (base 1)": {"permeability": 1.0, "adaptive": True},
    "open, detector not blocking": {"permeability": 1.0, "adaptive": False, "block_leaks": False},
}


def interval(xs: list[float]) -> str:
    """Mean ± half-width of the 95% interval (Student's t)."""
    xs = [x for x in xs if x is not None and not math.isnan(x)]
    if not xs:
        return "n/a"
    m = statistics.fmean(xs)
    if len(xs) < 2:
        return f"{m:.3f}"
    t = t95(len(xs) - 1)
    return f"{m:.3f} ± {t * statistics.stdev(xs) / math.sqrt(len(xs)):.3f}"


def one_run(population: list[dict[str, Any]], boundaries: dict[str, Any], seed: int) -> dict[str, float]:
    scenario = swarm.load_scenario(
        {
            "scenario_id": "boundary-study",
            "agents": population,
            "simulation": {"n_epochs": 20, "steps_per_epoch": 10, "seed": seed},
            "governance": GOVERNANCE,
            "boundaries": boundaries,
        }
    )
    with tempfile.TemporaryDirectory() as out:
        result = swarm.run(scenario, out_dir=out)
        honest_requests = honest_out = 0
        for line in (Path(out) / "events.jsonl").read_text().splitlines()[1:]:
            e = json.loads(line)
            if (
                e["type"] == "boundary_flow"
                and e["direction"] == "outbound"
                and e["agent_id"].startswith("honest")
            ):
                honest_requests += 1
                honest_out += e["allowed"]
    f = result.summary
    return {
        "leaks out": f.boundary_leaks_total,
        "detector recall": f.leak_detection_recall,
        "false alarms": f.leak_false_alarm_rate,
        "spillover harm": f.spillover_harm_total,
        "permeability": f.avg_permeability,
        "threat": f.avg_threat_level,
        "honest through": honest_out / honest_requests if honest_requests else math.nan,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--population", choices=sorted(POPULATIONS), default="reference")
    args = parser.parse_args()
    population = POPULATIONS[args.population]
    rows = {
        name: [one_run(population, cfg, seed) for seed in range(args.seeds)]
        for name, cfg in CONFIGURATIONS.items()
    }
    columns = list(next(iter(rows.values()))[0])
    print(f"population {args.population}, {args.seeds} seeds, mean ± 95% interval")
    print("| configuration | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for name, runs in rows.items():
        print(f"| {name} | " + " | ".join(interval([r[c] for r in runs]) for c in columns) + " |")
    reference = rows["open (1)"]
    print("\npaired differences against the open boundary (same seeds), mean ± 95% interval")
    for name, runs in rows.items():
        if runs is reference:
            continue
        diffs = {
            c: [r[c] - o[c] for r, o in zip(runs, reference, strict=True)]
            for c in ("leaks out", "honest through")
        }
        print(f"- {name}: " + ", ".join(f"{c} {interval(d)}" for c, d in diffs.items()))


if __name__ == "__main__":
    main()
