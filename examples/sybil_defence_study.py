"""How much of a run does a sybil ring take under each layer of defence?

Population and settings: ``scenarios/sybil_attack.yaml`` (10 honest, 2
opportunistic, 1 sybil controller and the five dormant identities of its sybil
ring; 12 epochs x 10 steps). Conditions, over the same seeds (paired):

* ``none``: personhood_cost 0, no sybil lever;
* ``price`` / ``price 40``: personhood_cost 10 (the scenario's) / 40, no sybil lever;
* ``detection``: cost 0, the sybil lever (threshold 0.6, cap 3), no credential weighting;
* ``detection + credentials``: the same with ``sybil_require_credentials``;
* ``all``: the scenario as shipped (cost 10, detection, credentials required, trust discount);
* ``all + identity rule``: and only credentialed agents may propose and vote at all.

Measures (from each run's event log), all about the created identities (``sybil_1`` …):
**interaction share** (of the run's answered interactions, those they proposed);
**vote share**; **harm**: Σ (1 - p)·h over accepted interactions they proposed
to honest agents; **first blocked**: the first epoch whose evidence blocks a
planted identity (12 when never); **honest blocked**: honest agents the lever
blocked (over the run).

Prints the mean and 95% t-interval over seeds of each.

    python examples/sybil_defence_study.py [--seeds 10]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import swarm
from swarm.analysis.aggregate import mean_ci
from swarm.env.feed import VoteCast
from swarm.events import InteractionCompleted
from swarm.governance.effects import Evidence
from swarm.runtime.eventlog import read_log

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "sybil_attack.yaml"
SYBILS = frozenset(f"sybil_{k}" for k in range(1, 6))
OFF = ["governance.sybil_detection_enabled=false"]
LEVER_OFF = [
    "governance.sybil_require_credentials=false",
    "governance.sybil_trust_discount=false",
    "governance.sybil_similarity_threshold=0.8",
    "governance.sybil_penalty_multiplier=1.0",
    "governance.sybil_max_cluster_size=3",
]
CONDITIONS: dict[str, list[str]] = {
    "none": ["identity.personhood_cost=0.0", *LEVER_OFF, *OFF],
    "price": [*LEVER_OFF, *OFF],
    "price 40": ["identity.personhood_cost=40.0", *LEVER_OFF, *OFF],
    "detection": [
        "identity.personhood_cost=0.0",
        "governance.sybil_require_credentials=false",
        "governance.sybil_trust_discount=false",
    ],
    "detection + credentials": ["identity.personhood_cost=0.0", "governance.sybil_trust_discount=false"],
    "all": [],
    "all + identity rule": [
        "identity.require_credentials_to_propose=true",
        "identity.require_credentials_to_vote=true",
    ],
}


def scenario(condition: list[str], seed: int) -> Any:
    return swarm.load_scenario(SCENARIO, [*condition, f"simulation.seed={seed}"])


def measure(condition: list[str], seed: int) -> dict[str, float]:
    sc = scenario(condition, seed)
    with tempfile.TemporaryDirectory() as tmp:
        swarm.run(sc, out_dir=Path(tmp))
        _, events = read_log(Path(tmp) / "events.jsonl")
    types = {a: spec.type for a, spec in sc.agent_ids()}
    honest = {a for a, t in types.items() if t == "honest"}
    h = sc.payoff.h
    answered = answered_sybil = votes = votes_sybil = 0
    harm = 0.0
    first_blocked = float(sc.simulation.n_epochs)
    honest_blocked: set[str] = set()
    for ev in events:
        if isinstance(ev, InteractionCompleted):
            i = ev.interaction
            answered += 1
            answered_sybil += i.initiator in SYBILS
            if i.accepted and i.initiator in SYBILS and i.counterparty in honest:
                harm += (1.0 - i.p) * h
        elif isinstance(ev, VoteCast):
            votes += 1
            votes_sybil += ev.voter in SYBILS
        elif type(ev) is Evidence and ev.lever == "sybil" and ev.finding == "blocked":
            if ev.agent_id in SYBILS:
                first_blocked = min(first_blocked, float(ev.epoch))
            if ev.agent_id in honest:
                honest_blocked.add(ev.agent_id)
    return {
        "sybil interaction share": answered_sybil / answered if answered else 0.0,
        "sybil vote share": votes_sybil / votes if votes else 0.0,
        "harm from sybils": harm,
        "first epoch a sybil is blocked": first_blocked,
        "honest agents blocked": float(len(honest_blocked)),
    }


def _cell(xs: list[float]) -> str:
    m, _, lo, hi = mean_ci(xs)
    return f"{m:.3f} [{lo:.3f}, {hi:.3f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()
    runs = {name: [measure(c, seed) for seed in range(args.seeds)] for name, c in CONDITIONS.items()}
    keys = list(next(iter(runs.values()))[0])
    print(f"{args.seeds} seeds; mean [95% CI]")
    print("| condition | " + " | ".join(keys) + " |")
    print("|---" * (len(keys) + 1) + "|")
    for name, rows in runs.items():
        print(f"| {name} | " + " | ".join(_cell([r[k] for r in rows]) for k in keys) + " |")


if __name__ == "__main__":
    main()
