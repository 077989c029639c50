"""Do the levers beat agents that learn? Two studies over many seeds, with 95 % intervals.

1. **The adaptive adversary.** Population: 4 honest, 2 opportunistic, 2 adaptive
   adversaries, 10 steps per epoch. For each seed the adversaries first learn for
   30 epochs in a world without governance (seed 1000 + s); then, in a fresh world
   (seed s, 20 epochs), each lever configuration is run twice: with adversaries
   that go on learning, and with the same adversaries with learning stopped (they
   keep drawing strategies from the mix they had learnt). Reported: their harm
   (truly harmful interactions they initiated, per adversary per epoch), its ratio
   to the no-governance run of the same seed, how often they were frozen, and the
   strategies they played most.

2. **Coded or learned deterrence.** Population: 4 honest, 2 opportunistic, 2
   deceptive, 2 adversarial agents, 20 epochs x 10 steps. The opportunists and
   deceptive agents either carry the coded deterrence response (the default) or
   learn (``learning: true``): then nothing reads the levers' deterrence and only
   what the levers actually do to their payoffs counts. Reported: pooled toxicity
   per lever configuration and its paired change against no governance.

    python examples/learning_study.py [--seeds 10] [--part 1|2]
"""

from __future__ import annotations

import argparse
import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

import anyio

import swarm
from swarm.agents.adaptive import AdaptiveAdversaryPolicy
from swarm.events import InteractionCompleted
from swarm.runtime.rng import Stream
from swarm.runtime.simulation import Simulation

# Student's t quantiles (two-sided 95 %) by degrees of freedom.
_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}
_T95.update({10: 2.228, 12: 2.179, 15: 2.131, 20: 2.086, 25: 2.060, 30: 2.042, 60: 2.000})


def ci(xs: Sequence[float]) -> tuple[float, float, float]:
    """Mean and its 95 % t interval."""
    mean = statistics.fmean(xs)
    if len(xs) < 2:
        return mean, mean, mean
    df = len(xs) - 1
    t = _T95[max(k for k in _T95 if k <= df)]
    half = t * statistics.stdev(xs) / math.sqrt(len(xs))
    return mean, mean - half, mean + half


def fmt(xs: Sequence[float], digits: int = 3) -> str:
    m, lo, hi = ci(xs)
    return f"{m:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


# ------------------------------------------------------------ 1: the adversary

LEVERS_1: dict[str, dict[str, Any]] = {
    "no governance": {},
    "random audits": {
        "audit_enabled": True,
        "audit_probability": 0.3,
        "audit_penalty_multiplier": 3.0,
        "audit_threshold_p": 0.6,
    },
    "circuit breaker": {"circuit_breaker_enabled": True},
    "strict breaker": {
        "circuit_breaker_enabled": True,
        "freeze_threshold_toxicity": 0.5,
        "freeze_threshold_violations": 2,
        "freeze_duration_epochs": 3,
    },
}


def red_world(governance: Mapping[str, Any], seed: int, epochs: int) -> swarm.Scenario:
    return swarm.load_scenario(
        {
            "scenario_id": "learning_study",
            "agents": [
                {"type": "honest", "count": 4},
                {"type": "opportunistic", "count": 2},
                {"type": "adaptive_adversary", "count": 2},
            ],
            "governance": dict(governance),
            "simulation": {"n_epochs": epochs, "steps_per_epoch": 10, "seed": seed},
        }
    )


def fresh_adversaries(scenario: swarm.Scenario) -> dict[str, AdaptiveAdversaryPolicy]:
    ids = [a for a, spec in scenario.agent_ids() if spec.type == "adaptive_adversary"]
    seed = scenario.simulation.seed
    return {
        a: AdaptiveAdversaryPolicy(a, Stream.of(seed, "agent", a), {}, allies=frozenset(ids)) for a in ids
    }


def play(scenario: swarm.Scenario, policies: dict[str, AdaptiveAdversaryPolicy]) -> dict[str, Any]:
    harmful = 0

    async def main() -> None:
        nonlocal harmful
        async with Simulation(scenario, policies=policies) as sim:
            async for e in sim.events():
                if isinstance(e, InteractionCompleted):
                    i = e.interaction
                    harmful += i.accepted and i.initiator in policies and i.ground_truth == -1

    anyio.run(main)
    mix: dict[str, float] = {}
    for p in policies.values():
        for name, share in p.strategy_mix().items():
            mix[name] = mix.get(name, 0.0) + share / len(policies)
    return {
        "harm": harmful / (scenario.simulation.n_epochs * len(policies)),
        "frozen": sum(p.report()["freezes"] for p in policies.values()) / len(policies),
        "mix": mix,
    }


def study_adversary(seeds: int) -> None:
    rows: dict[tuple[str, bool], list[dict[str, Any]]] = {}
    for seed in range(seeds):
        school = red_world({}, 1000 + seed, 30)
        trained = fresh_adversaries(school)
        play(school, trained)
        for name, governance in LEVERS_1.items():
            for learning in (True, False):
                scenario = red_world(governance, seed, 20)
                policies = {
                    a: p.carried_over(Stream.of(seed, "agent", a), learning=learning)
                    for a, p in trained.items()
                }
                rows.setdefault((name, learning), []).append(play(scenario, policies))
    print(f"Adaptive adversary, {seeds} seeds: harm = truly harmful interactions it initiated")
    print("per adversary per epoch; frozen = freezes per adversary")
    head = f"{'levers':<16} {'adversary':<14} {'harm (95% CI)':<24} {'ratio to none (95% CI)':<24}"
    print(f"{head} {'frozen':>6}  top strategies")
    for name in LEVERS_1:
        for learning in (True, False):
            runs, base = rows[(name, learning)], rows[("no governance", learning)]
            harm = [r["harm"] for r in runs]
            ratio = [r["harm"] / b["harm"] for r, b in zip(runs, base, strict=True) if b["harm"] > 0]
            mix: dict[str, float] = {}
            for r in runs:
                for k, v in r["mix"].items():
                    mix[k] = mix.get(k, 0.0) + v / len(runs)
            top = ", ".join(f"{k} {v:.2f}" for k, v in sorted(mix.items(), key=lambda kv: -kv[1])[:3])
            who = "learning" if learning else "stopped"
            frozen = statistics.fmean(r["frozen"] for r in runs)
            print(f"{name:<16} {who:<14} {fmt(harm, 2):<24} {fmt(ratio, 2):<24} {frozen:6.2f}  {top}")


# ------------------------------------------------------ 2: coded or learned

LEVERS_2: dict[str, dict[str, Any]] = {
    "no governance": {},
    "transaction tax": {"transaction_tax_rate": 0.1},
    "reputation decay": {"reputation_decay_rate": 0.9},
    "transparency": {"transparency_enabled": True},
    "random audits": {"audit_enabled": True, "audit_probability": 0.3},
    "strong audits": {
        "audit_enabled": True,
        "audit_probability": 0.3,
        "audit_penalty_multiplier": 3.0,
        "audit_threshold_p": 0.6,
    },
    "circuit breaker": {"circuit_breaker_enabled": True},
    "staking": {"staking_enabled": True, "min_stake_to_participate": 10.0},
    "moderator": {"moderator_enabled": True},
}


def pooled_toxicity(governance: Mapping[str, Any], seed: int, learning: bool) -> float:
    extra = {"learning": True} if learning else {}
    scenario = swarm.load_scenario(
        {
            "scenario_id": "learning_study",
            "agents": [
                {"type": "honest", "count": 4},
                {"type": "opportunistic", "count": 2, **extra},
                {"type": "deceptive", "count": 2, **extra},
                {"type": "adversarial", "count": 2},
            ],
            "governance": dict(governance),
            "simulation": {"n_epochs": 20, "steps_per_epoch": 10, "seed": seed},
        }
    )
    return swarm.run(scenario).summary.pooled_toxicity or 0.0


def study_deterrence(seeds: int) -> None:
    tox = {
        (name, learning): [pooled_toxicity(g, s, learning) for s in range(seeds)]
        for name, g in LEVERS_2.items()
        for learning in (False, True)
    }
    print(f"Opportunists and deceptive agents, coded or learned deterrence, {seeds} seeds: pooled toxicity")
    print(f"{'levers':<18} {'coded (95% CI)':<24} {'change':<26} {'learning (95% CI)':<24} {'change':<26}")
    for name in LEVERS_2:
        cells = []
        for learning in (False, True):
            xs, base = tox[(name, learning)], tox[("no governance", learning)]
            diff = [x - b for x, b in zip(xs, base, strict=True)]
            cells += [fmt(xs, 4), fmt(diff, 4) if name != "no governance" else "-"]
        print(f"{name:<18} {cells[0]:<24} {cells[1]:<26} {cells[2]:<24} {cells[3]:<26}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--part", type=int, choices=(1, 2), default=None, help="run only this study")
    args = parser.parse_args()
    if args.part in (None, 1):
        study_adversary(args.seeds)
    if args.part is None:
        print()
    if args.part in (None, 2):
        study_deterrence(args.seeds)


if __name__ == "__main__":
    main()
