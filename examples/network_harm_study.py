"""Does harm stay closer to its source on a small-world network than on a complete graph?

Population: 20 agents (12 honest, 4 opportunistic, 2 deceptive, 2 adversarial)
placed around a ring in registration order, types interleaved; 20 epochs x 10
steps; the reference's network_effects settings otherwise (dynamic edges,
strengthen 0.1, decay 0.05, minimum weight 0.2; tax, decay, breaker, audits).
Three networks over the same seeds (paired): a complete graph, a small world
(Watts-Strogatz, k = 4, p = 0.1) with reach 1, and the same small world with
reach 2.

Definitions (computed from each run's event log):

* the **harm** of an accepted interaction is its expected harm (1 - p)·h; its
  **source** is the initiator and the agent who bears it is the counterparty
  (who takes the low-quality interaction);
* **ring distance** between two agents is their distance on the ring lattice
  under the small world, d(i, j) = min(|i - j|, n - |i - j|) over positions in
  registration order — the same yardstick for every network;
* **harm distance**: the harm-weighted mean ring distance from source to bearer;
  **local share**: the share of harm borne within 2 ring hops (the lattice
  neighbourhood of k = 4);
* **harm from bad actors**: total harm of interactions initiated by deceptive
  and adversarial agents; **victims per bad actor**: distinct agents each of
  them harmed (accepted interactions with p < 0.5); **bad actors accepted**:
  the share of their proposals that were accepted (answered ones).

Prints the mean and 95% confidence interval over seeds of each.

    python examples/network_harm_study.py [--seeds 12]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import swarm
from swarm.analysis.aggregate import mean_ci
from swarm.events import InteractionCompleted
from swarm.runtime.eventlog import read_log

PATTERN = ["honest", "honest", "opportunistic", "honest", "deceptive",
           "honest", "honest", "opportunistic", "honest", "adversarial"]  # fmt: skip
"""One half of the ring; the population is this pattern twice (20 agents)."""

BAD = {"deceptive", "adversarial"}

NETWORKS: dict[str, dict[str, Any]] = {
    "complete": {"topology": "complete"},
    "small world": {"topology": "small_world", "params": {"k": 4, "p": 0.1}},
    "small world, reach 2": {"topology": "small_world", "params": {"k": 4, "p": 0.1}, "reach_hops": 2},
}
DYNAMICS = {
    "dynamic": True,
    "edge_strengthen_rate": 0.1,
    "edge_decay_rate": 0.05,
    "min_edge_weight": 0.2,
    "max_edge_weight": 1.0,
}


def scenario(network: dict[str, Any], seed: int, epochs: int = 20, steps: int = 10) -> Any:
    return swarm.load_scenario(
        {
            "scenario_id": "network-harm",
            "agents": [{"type": t, "count": 1} for t in PATTERN * 2],
            "simulation": {"n_epochs": epochs, "steps_per_epoch": steps, "seed": seed},
            "network": {**network, **DYNAMICS},
            "rate_limits": {
                "posts_per_epoch": 5,
                "interactions_per_step": 3,
                "votes_per_epoch": 20,
                "tasks_per_epoch": 2,
            },
            "payoff": {"rho_a": 0.1, "rho_b": 0.1},
            "governance": {
                "transaction_tax_rate": 0.05,
                "reputation_decay_rate": 0.95,
                "circuit_breaker_enabled": True,
                "freeze_threshold_toxicity": 0.7,
                "freeze_duration_epochs": 3,
                "audit_enabled": True,
                "audit_probability": 0.1,
            },
        }
    )


def harm_measures(
    events: Sequence[Any], agents: Sequence[str], types: dict[str, str], h: float
) -> dict[str, float]:
    """The study's measures from one run's events (see the module docstring)."""
    n = len(agents)
    where = {a: k for k, a in enumerate(agents)}
    total = weighted = local = bad_harm = 0.0
    bad_answered = bad_accepted = 0
    victims: dict[str, set[str]] = {a: set() for a in agents if types[a] in BAD}
    for ev in events:
        if not isinstance(ev, InteractionCompleted):
            continue
        i = ev.interaction
        if types[i.initiator] in BAD:
            bad_answered += 1
            bad_accepted += i.accepted
        if not i.accepted:
            continue
        harm = (1.0 - i.p) * h
        gap = abs(where[i.initiator] - where[i.counterparty])
        d = min(gap, n - gap)
        total += harm
        weighted += harm * d
        local += harm if d <= 2 else 0.0
        if types[i.initiator] in BAD:
            bad_harm += harm
            if i.p < 0.5:
                victims[i.initiator].add(i.counterparty)
    return {
        "harm distance": weighted / total if total else 0.0,
        "local share": local / total if total else 0.0,
        "harm from bad actors": bad_harm,
        "victims per bad actor": statistics.fmean(len(v) for v in victims.values()) if victims else 0.0,
        "bad actors accepted": bad_accepted / bad_answered if bad_answered else 0.0,
    }


def measure(network: dict[str, Any], seed: int, epochs: int = 20, steps: int = 10) -> dict[str, float]:
    sc = scenario(network, seed, epochs, steps)
    with tempfile.TemporaryDirectory() as tmp:
        swarm.run(sc, out_dir=Path(tmp))
        _, events = read_log(Path(tmp) / "events.jsonl")
    ids = sc.agent_ids()
    return harm_measures(events, [a for a, _ in ids], {a: spec.type for a, spec in ids}, sc.payoff.h)


def ci(xs: Sequence[float]) -> tuple[float, float, float]:
    """Mean and 95% t-interval."""
    mean, _, low, high = mean_ci(xs)
    return mean, low, high


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=12)
    args = parser.parse_args()
    runs = {name: [measure(net, seed) for seed in range(args.seeds)] for name, net in NETWORKS.items()}
    keys = list(next(iter(runs.values()))[0])
    print(f"{args.seeds} seeds; mean [95% CI]")
    print(f"{'network':<22}" + "".join(f"{k:>26}" for k in keys))
    for name, rows in runs.items():
        cells = []
        for k in keys:
            m, lo, hi = ci([r[k] for r in rows])
            cells.append(f"{m:.3f} [{lo:.3f}, {hi:.3f}]".rjust(26))
        print(f"{name:<22}" + "".join(cells))
    base = runs["complete"]
    for name in list(NETWORKS)[1:]:
        diffs = [r["harm distance"] - b["harm distance"] for r, b in zip(runs[name], base, strict=True)]
        m, lo, hi = ci(diffs)
        print(f"paired difference in harm distance, {name} - complete: {m:.3f} [{lo:.3f}, {hi:.3f}]")


if __name__ == "__main__":
    main()
