"""What does the reputation term of the payoff do? w_rep 0, 1 and 2 over many seeds.

An accepted interaction moves its initiator's reputation by r_a = (p − 0.5) − c_a and
pays it w_rep·r_a on top of its share of the surplus (r_b = 0: the counterparty's
reputation does not move). Two shipped worlds, run as shipped except for w_rep and
the seed: ``baseline`` (3 honest, 1 opportunistic, 1 deceptive, no governance,
10 epochs x 10 steps) and ``status_game`` (2 honest, 2 opportunistic, 1
adversarial, tax, decay, staking, breaker, audits, 20 epochs x 15 steps). Each
with its agents as coded, and with its opportunistic and deceptive agents
learning (``learning: true``): they pick their conduct by the utility it brought,
which includes the term. The same seeds for every configuration (paired).

Reported per world, population and w_rep (mean and 95 % t interval over seeds):

* mean total payoff of each agent type;
* **gap**: honest agents' mean payoff minus bad actors' (deceptive and
  adversarial agents);
* **term**: Σ w_rep·r_a over the accepted interactions (what the term paid, in
  total; it is minted, so it is also inside welfare);
* **toxicity**: pooled toxicity of the run; **welfare**: Σ (π_a + π_b) over the
  accepted interactions; **welfare − term**: welfare without what the term paid;
* **their toxicity**: mean 1 − p of the accepted interactions the opportunistic
  and deceptive agents initiated (the conduct a learner chooses);
* paired changes against w_rep 0 of gap, toxicity and their toxicity.

    python examples/w_rep_study.py [--seeds 20]
"""

from __future__ import annotations

import argparse
import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio

import swarm
from swarm.events import InteractionCompleted
from swarm.runtime.simulation import Simulation

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
WORLDS = {
    # world: (file, overrides that make its opportunistic and deceptive agents learn)
    "baseline": ("baseline.yaml", ["agents.1.learning=true", "agents.2.learning=true"]),
    "status_game": ("status_game.yaml", ["agents.1.learning=true"]),
}
W_REPS = (0.0, 1.0, 2.0)
BAD = ("deceptive", "adversarial")
LEARNERS = ("opportunistic", "deceptive")

# Student's t quantiles (two-sided 95 %) by degrees of freedom.
_T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}
_T95.update({10: 2.228, 12: 2.179, 15: 2.131, 20: 2.086, 25: 2.060, 30: 2.042, 60: 2.000})


def ci(xs: Sequence[float]) -> tuple[float, float, float]:
    """Mean and its 95 % t interval."""
    mean = statistics.fmean(xs)
    if len(xs) < 2:
        return mean, mean, mean
    t = _T95[max(k for k in _T95 if k <= len(xs) - 1)]
    half = t * statistics.stdev(xs) / math.sqrt(len(xs))
    return mean, mean - half, mean + half


def fmt(xs: Sequence[float], digits: int = 2) -> str:
    m, lo, hi = ci(xs)
    return f"{m:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def measure(world: str, learning: bool, w_rep: float, seed: int) -> dict[str, Any]:
    path, learn = WORLDS[world]
    overrides = [f"payoff.w_rep={w_rep}", f"simulation.seed={seed}", *(learn if learning else [])]
    scenario = swarm.load_scenario(SCENARIOS / path, overrides)
    term = 0.0
    harm: list[float] = []

    async def main() -> swarm.SimulationResult:
        nonlocal term
        async with Simulation(scenario) as sim:
            async for e in sim.events():
                if isinstance(e, InteractionCompleted) and e.interaction.accepted:
                    term += w_rep * e.interaction.r_a
                    if e.initiator_type in LEARNERS:
                        harm.append(1.0 - e.interaction.p)
        return sim.result

    result = anyio.run(main)
    by: dict[str, list[float]] = {}
    for a in result.agents:
        by.setdefault(a["agent_type"], []).append(a["total_payoff"])
    payoff = {k: statistics.fmean(v) for k, v in by.items()}
    bad = [x for k in BAD for x in by.get(k, [])]
    welfare = result.summary["total_welfare"]
    return {
        "payoff": payoff,
        "gap": payoff["honest"] - statistics.fmean(bad),
        "term": term,
        "toxicity": result.summary["pooled_toxicity"] or 0.0,
        "welfare": welfare,
        "welfare_less_term": welfare - term,
        "their_toxicity": statistics.fmean(harm) if harm else math.nan,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    seeds = range(args.seeds)
    for world in WORLDS:
        for learning in (False, True):
            runs = {w: [measure(world, learning, w, s) for s in seeds] for w in W_REPS}
            who = "learning" if learning else "coded"
            types = list(runs[0.0][0]["payoff"])
            print(f"\n{world}, {who} agents, {args.seeds} seeds: mean [95% CI]")
            print(f"{'w_rep':<6}" + "".join(f"{t + ' payoff':<24}" for t in types))
            for w, rs in runs.items():
                print(f"{w:<6}" + "".join(f"{fmt([r['payoff'][t] for r in rs]):<24}" for t in types))
            cols = ("gap", "term", "toxicity", "welfare", "welfare_less_term", "their_toxicity")
            print(f"{'w_rep':<6}" + "".join(f"{c:<26}" for c in cols))
            for w, rs in runs.items():
                cells = [fmt([r[c] for r in rs], 4 if "toxicity" in c else 2) for c in cols]
                print(f"{w:<6}" + "".join(f"{c:<26}" for c in cells))
            print("paired change against w_rep 0:")
            for w in W_REPS[1:]:
                cells = []
                for c in ("gap", "toxicity", "their_toxicity", "welfare_less_term"):
                    diff = [r[c] - b[c] for r, b in zip(runs[w], runs[0.0], strict=True)]
                    cells.append(f"{c} {fmt(diff, 4 if 'toxicity' in c else 2)}")
                print(f"  w_rep {w}: " + "; ".join(cells))


if __name__ == "__main__":
    main()
