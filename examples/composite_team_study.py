"""Composite tasks: complementary against random teams, planners, verifiers (docs/social.md).

Runs the shipped ``emergent_capabilities`` scenario (15 epochs × 20 steps) under paired
conditions over the same seeds and prints the mean and 95 % t-interval of each measure::

    python examples/composite_team_study.py --seeds 10
"""

from __future__ import annotations

import argparse
import copy
import statistics
import tempfile
from pathlib import Path
from typing import Any

import yaml

from swarm import load_scenario, run
from swarm.analysis.aggregate import mean_ci
from swarm.env.composite import CompositeTaskClosed, SubtaskAssigned, SubtaskVerified
from swarm.events import ActionRejected, Event, InteractionCompleted
from swarm.runtime.eventlog import read_log

ROOT = Path(__file__).resolve().parents[1]


def interval(xs: list[float]) -> str:
    m, _, lo, hi = mean_ci(xs)
    return f"{m:.3f}" if len(xs) < 2 else f"{m:.3f} [{lo:.3f}, {hi:.3f}]"


def events(data: dict[str, Any], seed: int) -> list[Event]:
    data = copy.deepcopy(data)
    data["simulation"].update(seed=seed, n_epochs=15)
    with tempfile.TemporaryDirectory() as d:
        run(load_scenario(data), out_dir=d)
        return read_log(Path(d) / "events.jsonl")[1]


def roles(data: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    data = copy.deepcopy(data)
    for item in data["agents"]:
        if item.get("role", "worker") == old:
            item["role"] = new
    return data


def teams(evs: list[Event]) -> dict[str, float]:
    done = [e for e in evs if isinstance(e, CompositeTaskClosed) and e.status == "completed"]
    checked = [e.quality for e in evs if isinstance(e, SubtaskVerified)]
    return {
        "completed": len(done),
        "checked quality": statistics.mean(checked),
        "coordination": statistics.mean([e.coordination or 0.0 for e in done]) if done else 0.0,
        "claim conflicts": sum(isinstance(e, ActionRejected) and e.action == "claim_subtask" for e in evs),
        "assigned by others": sum(isinstance(e, SubtaskAssigned) and e.by != e.agent_id for e in evs),
    }


def verification(evs: list[Event]) -> dict[str, float]:
    mine = [e for e in evs if isinstance(e, SubtaskVerified) and e.agent_id.startswith("deceptive")]
    ps = [
        e.interaction.p
        for e in evs
        if isinstance(e, InteractionCompleted)
        and e.interaction.interaction_id.startswith("ct-")
        and e.interaction.initiator.startswith("deceptive")
    ]
    return {
        "deceptive work approved": statistics.mean(float(e.approved) for e in mine),
        "mean p of deceptive work": statistics.mean(ps),
    }


def table(title: str, conditions: dict[str, dict[str, Any]], measure: Any, seeds: int) -> None:
    print(f"\n{title}")
    for name, data in conditions.items():
        rows = [measure(events(data, s)) for s in range(seeds)]
        print(f"  {name}: " + "; ".join(f"{k} {interval([r[k] for r in rows])}" for k in rows[0]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=10)
    seeds = parser.parse_args().seeds
    shipped = yaml.safe_load((ROOT / "scenarios" / "emergent_capabilities.yaml").read_text())
    workers = roles(shipped, "planner", "worker")
    random_teams = copy.deepcopy(workers)
    random_teams["composite_tasks"]["team_formation"] = "random"
    table(
        "team formation (no planners)",
        {"capability": workers, "random": random_teams},
        teams,
        seeds,
    )
    table("planners", {"2 planners": shipped, "none": workers}, teams, seeds)
    deceptive = copy.deepcopy(shipped)
    deceptive["agents"] = [
        {
            "type": "deceptive",
            "count": 3,
            "capabilities": ["research", "analysis", "planning", "coordination"],
        },
        {
            "type": "honest",
            "count": 3,
            "capabilities": ["execution", "verification", "creativity", "communication"],
        },
        {
            "type": "honest",
            "name": "verifier",
            "count": 1,
            "role": "verifier",
            "capabilities": ["verification"],
        },
    ]
    table(
        "verifier (3 deceptive, 3 honest workers)",
        {"verifier": deceptive, "none": roles(deceptive, "verifier", "worker")},
        verification,
        seeds,
    )


if __name__ == "__main__":
    main()
