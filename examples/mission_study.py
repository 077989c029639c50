"""Mission economy: free riders under equal, proportional and Shapley payouts (docs/economies.md).

Runs the shipped ``mission_economy`` scenario with each payout rule (and the free-rider
penalty off) over the same seeds and prints the mean and 95 % t-interval of each measure::

    python examples/mission_study.py --seeds 10
"""

from __future__ import annotations

import argparse
import copy
import math
import statistics
import tempfile
from pathlib import Path
from typing import Any

import yaml

from swarm import load_scenario, run
from swarm.analysis.aggregate import mean_ci
from swarm.env.missions import MissionClosed
from swarm.events import Event
from swarm.runtime.eventlog import read_log

ROOT = Path(__file__).resolve().parents[1]


def interval(xs: list[float]) -> str:
    m, _, lo, hi = mean_ci(xs)
    return f"{m:.3f}" if len(xs) < 2 else f"{m:.3f} [{lo:.3f}, {hi:.3f}]"


def events(data: dict[str, Any], seed: int, **missions: Any) -> list[Event]:
    data = copy.deepcopy(data)
    data["simulation"]["seed"] = seed
    data["missions"].update(missions)
    with tempfile.TemporaryDirectory() as d:
        run(load_scenario(data), out_dir=d)
        return read_log(Path(d) / "events.jsonl")[1]


def measures(evs: list[Event]) -> dict[str, float]:
    closed = [e for e in evs if isinstance(e, MissionClosed) and e.status != "expired"]
    won = [e for e in closed if e.status == "succeeded"]
    members = [(a, c, x, e) for e in won for a, c, x in e.payouts]
    opportunists = [m for m in members if m[0].startswith("opportunistic")]
    honest = [m for m in members if m[0].startswith("honest")]
    riders = [m for m in members if m[0] in m[3].free_riders]

    def share(ms: list[Any]) -> float:  # payout as a multiple of the equal share
        return statistics.mean(m[2] / m[3].pool * len(m[3].payouts) for m in ms) if ms else math.nan

    return {
        "success rate": len(won) / len(closed) if closed else math.nan,
        "opportunistic flagged": statistics.mean(a in e.free_riders for a, _, _, e in opportunists)
        if opportunists
        else math.nan,
        "honest flagged": statistics.mean(a in e.free_riders for a, _, _, e in honest)
        if honest
        else math.nan,
        "free-rider payout / equal share": share(riders),
        "honest payout / equal share": share(honest),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=10)
    seeds = range(1, parser.parse_args().seeds + 1)
    data = yaml.safe_load((ROOT / "scenarios" / "mission_economy.yaml").read_text())
    for rule in ("equal", "proportional", "shapley"):
        rows = [measures(events(data, s, payout=rule, free_rider_penalty=0.0)) for s in seeds]
        print(f"payout: {rule}")
        for name in rows[0]:
            xs = [r[name] for r in rows if not math.isnan(r[name])]
            print(f"  {name:34} {interval(xs) if xs else '-'}  (n={len(xs)})")


if __name__ == "__main__":
    main()
