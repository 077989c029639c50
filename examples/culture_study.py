"""Do shared stories and camps emerge from cultural transmission? The two culture motifs over many seeds.

Runs the shipped ``myth_making`` and ``meta_discourse`` scenarios as shipped except for
the seed and one switch of their ``culture.content`` (the coded model of transmission,
``swarm.env.culture_view.tell``), and reports per configuration the first and the last
epoch of the culture metrics (mean and 95 % t interval over seeds), and the paired
change from the first epoch to the last. The same seeds for every configuration.

myth_making (20 agents on a small-world network, origin-story vocabulary):

* **shipped**: transmission 0.5, conformity 0.5;
* **no conformity**: copying from one read post only (conformity 0);
* **no network**: the same agents reading the shared feed (``network.enabled=false``);
* **control**: no transmission (agents keep the random story they started with).

meta_discourse (20 agents, no network, "what agents are" scale of five positions):

* **shipped**: transmission 0.5, repulsion at distance 2 (Jager-Amblard style);
* **no repulsion**: nearer and farther posts both pull (repulsion distance 4, never reached);
* **control**: no transmission.

    python examples/culture_study.py [--seeds 20]
"""

from __future__ import annotations

import argparse
import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import swarm

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
STUDIES: dict[str, tuple[str, dict[str, list[str]], tuple[str, ...]]] = {
    "myth_making": (
        "myth_making.yaml",
        {
            "shipped": [],
            "no conformity": ["culture.content.conformity=0.0"],
            "no network": ["network.enabled=false"],
            "control": ["culture.content.transmission=0.0"],
        },
        (
            "culture_story_agreement",
            "culture_narrative_top_share",
            "culture_narrative_concentration",
            "culture_narratives",
            "culture_r0",
            "culture_cascade_max",
        ),
    ),
    "meta_discourse": (
        "meta_discourse.yaml",
        {
            "shipped": [],
            "no repulsion": ["culture.content.repulsion_distance=4"],
            "control": ["culture.content.transmission=0.0"],
        },
        (
            "culture_polarisation",
            "culture_cross_camp_replies",
            "culture_narratives",
            "culture_story_agreement",
        ),
    ),
}

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


def fmt(xs: Sequence[float]) -> str:
    xs = [x for x in xs if not math.isnan(x)]
    if not xs:
        return "-"
    m, lo, hi = ci(xs)
    return f"{m:.2f} [{lo:.2f}, {hi:.2f}]"


def measure(path: str, overrides: list[str], seed: int) -> list[dict[str, Any]]:
    scenario = swarm.load_scenario(SCENARIOS / path, [f"simulation.seed={seed}", *overrides])
    result = swarm.run(scenario)
    return [dict(m) for m in result.epochs]


def value(epoch: dict[str, Any], name: str) -> float:
    v = epoch.get(name)
    return float(v) if isinstance(v, int | float) else math.nan


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    for study, (path, configs, names) in STUDIES.items():
        print(f"\n{study}, {args.seeds} seeds: mean [95% CI]")
        for config, overrides in configs.items():
            runs = [measure(path, overrides, seed) for seed in range(args.seeds)]
            print(f"  {config}")
            for name in names:
                first = [value(r[0], name) for r in runs]
                last = [value(r[-1], name) for r in runs]
                every = [
                    statistics.fmean(xs)
                    if (xs := [x for e in r if not math.isnan(x := value(e, name))])
                    else math.nan
                    for r in runs
                ]
                change = [b - a for a, b in zip(first, last, strict=True)]
                print(
                    f"    {name:<34} first {fmt(first):<20} last {fmt(last):<20} "
                    f"change {fmt(change):<22} all epochs {fmt(every)}"
                )


if __name__ == "__main__":
    main()
