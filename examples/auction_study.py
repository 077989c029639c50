"""The Dworkin auction of ``scenarios/dworkin_auction.yaml`` over seeds, for each utility form.

For every seed it builds the scenario's auction (each agent's values come from the
seed), clears it once as the run does at its first auction (every agent takes part,
nobody bids by hand), and prints the mean and 95 % t-interval over the seeds of:
convergence, rounds, envy violations by reported values and by true values,
allocation Gini, and what shading does to a strategic agent (its true utility
when shading over its true utility had it reported the truth, minus 1, with
everyone else unchanged)::

    python examples/auction_study.py --seeds 20
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from swarm import load_scenario
from swarm.analysis.aggregate import mean_ci
from swarm.core.payoff import SoftPayoffEngine
from swarm.env.auction import AuctionCleared, DworkinAuction, bundle_utility, run_auction
from swarm.kernel.component import At, Setup

ROOT = Path(__file__).resolve().parents[1]


def interval(xs: list[float]) -> str:
    mean, _, lo, hi = mean_ci(xs)
    return f"{mean:.3f} [{lo:.3f}, {hi:.3f}]"


def study(seed: int, utility: str) -> dict[str, float]:
    sc = load_scenario(
        ROOT / "scenarios" / "dworkin_auction.yaml", [f"simulation.seed={seed}", f"auction.utility={utility}"]
    )
    agents = {a: spec.type for a, spec in sc.agent_ids()}
    cfg = sc.section("auction")
    comp = DworkinAuction(Setup(sc, cfg, SoftPayoffEngine(sc.payoff), agents))
    cleared = next(e for e in comp.clear(At(1, 0, 0), list(agents)).events if isinstance(e, AuctionCleared))
    true = comp.true_values
    true_envy = 0
    for i in agents:
        own = bundle_utility(true[i], cleared.allocations[i], cfg.utility)
        for j in agents:
            gap = bundle_utility(true[i], cleared.allocations[j], cfg.utility) - own
            true_envy += i != j and gap > cfg.envy_tolerance * own
    gains = []
    for a, kind in agents.items():
        if kind not in cfg.strategic_types:
            continue
        honest = run_auction(
            {**comp.rule_values, a: true[a]},
            cfg.resources,
            endowment=cfg.endowment,
            reserve_price=cfg.reserve_price,
            rate=cfg.price_adjustment_rate,
            tolerance=cfg.convergence_tolerance,
            envy_tolerance=cfg.envy_tolerance,
            max_rounds=cfg.max_rounds,
            utility=cfg.utility,
        )
        shaded = bundle_utility(true[a], cleared.allocations[a], cfg.utility)
        gains.append(shaded / bundle_utility(true[a], honest.allocations[a], cfg.utility) - 1.0)
    return {
        "converged": float(cleared.converged),
        "rounds": float(cleared.rounds),
        "envy violations (reported values)": float(len(cleared.envy_violations)),
        "envy violations (true values)": float(true_envy),
        "allocation Gini": cleared.allocation_gini,
        "shading gain of a strategic agent": statistics.fmean(gains),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    for utility in ("cobb_douglas", "linear"):
        rows = [study(seed, utility) for seed in range(args.seeds)]
        print(f"utility: {utility} (seeds 0-{args.seeds - 1})")
        for name in rows[0]:
            print(f"  {name:36} {interval([r[name] for r in rows])}")


if __name__ == "__main__":
    main()
