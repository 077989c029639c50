"""A detector harness: plant known colluding rings and sybil rings, run, and score the detectors.

The population is the baseline's mix (honest 3 : opportunistic 1 : deceptive 1)
times ``scale``, plus planted ``colluder`` rings and ``sybil`` rings
(:mod:`swarm.agents.scripted.rings`). Ground truth — which agent belongs to which
ring — comes from the scenario; the levers never see it.

For each run and detector (``collusion``, ``sybil``), from the run's event log:

* **AUROC** of the detector's per-agent risk at the end of the run (recomputed
  from the logged interactions with the lever's own scoring), positives being
  that detector's planted agents and negatives every agent that was not planted
  (the other detector's planted agents are left out); ties count one half;
* **time to detection**: the first epoch in which the lever flagged a planted
  agent of its kind (None: never);
* **recall**: the share of its planted agents the lever flagged at some point;
* **false-positive rate** among honest agents, and among all agents not planted:
  the share flagged at some point of the run;
* **false-positive cost per epoch**: resources and reputation the lever took from
  agents not planted (penalties and interaction costs), per epoch.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from swarm.agents.scripted.rings import planted_groups
from swarm.analysis.aggregate import mean_ci
from swarm.events import Event, InteractionCompleted
from swarm.governance import collusion, sybil
from swarm.governance.effects import Cost, Evidence, ReputationChange, ResourceChange
from swarm.scenario import Scenario

DETECTORS = ("collusion", "sybil")
KIND = {"collusion": "ring:", "sybil": "sybil:"}


def planted_population(
    *,
    seed: int,
    scale: int = 4,
    rings: int = 1,
    ring_size: int = 3,
    sybil_rings: int = 1,
    sybil_size: int = 3,
    epochs: int = 10,
    steps: int = 10,
    governance: Mapping[str, Any] | None = None,
    ring_config: Mapping[str, Any] | None = None,
    sybil_config: Mapping[str, Any] | None = None,
) -> Scenario:
    """The baseline mix times ``scale`` plus planted rings; both detectors on (reference settings).

    ``ring_config`` and ``sybil_config`` are the planted agents' ``config:`` (their ring names are set here).
    """
    from swarm import load_scenario

    agents: list[dict[str, Any]] = [
        {"type": "honest", "count": 3 * scale},
        {"type": "opportunistic", "count": scale},
        {"type": "deceptive", "count": scale},
    ]
    for r in range(rings):
        agents.append(
            {
                "type": "colluder",
                "name": f"ring{r + 1}",
                "count": ring_size,
                "config": {**(ring_config or {}), "ring": f"r{r + 1}"},
            }
        )
    for r in range(sybil_rings):
        agents.append(
            {
                "type": "sybil",
                "name": f"sybil{r + 1}",
                "count": sybil_size,
                "config": {**(sybil_config or {}), "controller": f"s{r + 1}"},
            }
        )
    gov: dict[str, Any] = {
        "collusion_detection_enabled": True,
        "collusion_score_threshold": 0.5,
        "sybil_detection_enabled": True,
    }
    gov.update(governance or {})
    return load_scenario(
        {
            "scenario_id": "detector_harness",
            "agents": agents,
            "simulation": {"n_epochs": epochs, "steps_per_epoch": steps, "seed": seed},
            "rate_limits": {
                "posts_per_epoch": 10,
                "interactions_per_step": 5,
                "votes_per_epoch": 50,
                "tasks_per_epoch": 3,
            },
            "governance": gov,
        }
    )


@dataclass(frozen=True)
class DetectorScore:
    """One detector's figures in one run."""

    detector: str
    seed: int
    auroc: float | None
    detected_epoch: int | None
    recall: float
    fpr_honest: float
    fpr_not_planted: float
    fp_cost_per_epoch: float
    lowest_planted_risk: float
    highest_other_risk: float
    """The lowest end-of-run risk among its planted agents and the highest among agents not planted."""


def auroc(scores: Mapping[str, float], positives: Iterable[str], negatives: Iterable[str]) -> float | None:
    """P(score of a random positive > score of a random negative), ties counting one half (None if a side
    is empty)."""
    pos = [scores.get(a, 0.0) for a in positives]
    neg = [scores.get(a, 0.0) for a in negatives]
    if not pos or not neg:
        return None
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def risk_scores(scenario: Scenario, interactions: Sequence[Any]) -> dict[str, dict[str, float]]:
    """Each detector's per-agent risk after ``interactions`` (every agent scored, 0 for no evidence)."""
    g = scenario.governance
    history = [collusion.Exchange.of(i) for i in interactions]
    c_risk = collusion.agent_risks(
        history,
        min_interactions=g.collusion_min_interactions,
        frequency_threshold=g.collusion_frequency_threshold,
        score_threshold=0.0,
    )
    profiles = sybil.Profiles()
    profiles.record(interactions)
    ids = [a for a, _ in scenario.agent_ids()]
    s_risk = sybil.agent_risks(sybil.similarities(profiles))
    return {
        "collusion": {a: c_risk.get(a, 0.0) for a in ids},
        "sybil": {a: s_risk.get(a, 0.0) for a in ids},
    }


def score_run(scenario: Scenario, events: Sequence[Event]) -> list[DetectorScore]:
    """Both detectors' figures for one run's events."""
    truth = planted_groups(scenario)
    types = {a: spec.type for a, spec in scenario.agent_ids()}
    not_planted = [a for a in types if a not in truth]
    honest = [a for a in not_planted if types[a] == "honest"]
    interactions = [e.interaction for e in events if isinstance(e, InteractionCompleted)]
    risks = risk_scores(scenario, interactions)
    epochs = max(1, scenario.simulation.n_epochs)
    out = []
    for detector in DETECTORS:
        planted = [a for a, g in truth.items() if g.startswith(KIND[detector])]
        flagged_at: dict[str, int] = {}
        cost = 0.0
        for e in events:
            if not (
                isinstance(e, Evidence | ReputationChange | ResourceChange | Cost) and e.lever == detector
            ):
                continue
            if type(e) is Evidence and e.finding == "flagged":
                flagged_at.setdefault(e.agent_id, e.epoch)
            if e.agent_id in truth or e.agent_id == "*":
                continue
            if type(e) is Cost:
                cost += e.amount
            elif type(e) in (ReputationChange, ResourceChange) and e.amount < 0:
                cost -= e.amount
        hits = [flagged_at[a] for a in planted if a in flagged_at]
        out.append(
            DetectorScore(
                detector=detector,
                seed=scenario.simulation.seed,
                auroc=auroc(risks[detector], planted, not_planted),
                detected_epoch=min(hits) if hits else None,
                recall=len(hits) / len(planted) if planted else 0.0,
                fpr_honest=_share(flagged_at, honest),
                fpr_not_planted=_share(flagged_at, not_planted),
                fp_cost_per_epoch=cost / epochs,
                lowest_planted_risk=min((risks[detector][a] for a in planted), default=0.0),
                highest_other_risk=max((risks[detector][a] for a in not_planted), default=0.0),
            )
        )
    return out


def _share(flagged: Mapping[str, int], agents: Sequence[str]) -> float:
    return sum(a in flagged for a in agents) / len(agents) if agents else 0.0


def logged_events(scenario: Scenario, llm_factory: Any = None) -> list[Event]:
    """Run ``scenario`` in a temporary folder and return the events of its log."""
    from swarm import run
    from swarm.runtime.eventlog import read_log

    with tempfile.TemporaryDirectory() as tmp:
        run(scenario, out_dir=Path(tmp), llm_factory=llm_factory)
        _, events = read_log(Path(tmp) / "events.jsonl")
    return list(events)


def logged_offline_events(scenario: Scenario) -> list[Event]:
    """:func:`logged_events` with every LLM agent answered in-process by its persona's scripted
    policy (no provider, no network)."""
    from swarm.agents.llm_backend import LLMBackend

    backend = LLMBackend(scripted=True)
    try:
        return logged_events(scenario, backend)
    finally:
        backend.close()


def run_harness(seeds: Iterable[int], **population: Any) -> list[DetectorScore]:
    """Run :func:`planted_population` for every seed and score both detectors."""
    out: list[DetectorScore] = []
    for seed in seeds:
        scenario = planted_population(seed=seed, **population)
        out.extend(score_run(scenario, logged_events(scenario)))
    return out


FIGURES = (
    "auroc",
    "detected_epoch",
    "recall",
    "fpr_honest",
    "fpr_not_planted",
    "fp_cost_per_epoch",
    "lowest_planted_risk",
    "highest_other_risk",
)


def summarise(scores: Sequence[DetectorScore]) -> list[dict[str, Any]]:
    """Per detector: mean and 95% interval over seeds of every figure (time to detection over the runs
    that detected), and in how many runs the detector found a planted agent. A detector with nothing of
    its kind planted in any run is left out."""
    rows = []
    extra = sorted({s.detector for s in scores} - set(DETECTORS))  # e.g. ``security`` (security_detector)
    for detector in (*DETECTORS, *extra):
        mine = [asdict(s) for s in scores if s.detector == detector]
        if all(s["auroc"] is None for s in mine):
            continue  # nothing of its kind was planted
        row: dict[str, Any] = {"detector": detector, "runs": len(mine)}
        row["detected_runs"] = sum(s["detected_epoch"] is not None for s in mine)
        for name in FIGURES:
            xs = [float(s[name]) for s in mine if s[name] is not None]
            row[name] = mean_ci(xs) if xs else None
        rows.append(row)
    return rows


def table(rows: Sequence[Mapping[str, Any]]) -> str:
    """A Markdown table of :func:`summarise`'s rows (mean [95% interval])."""
    head = ["detector", "runs", "AUROC", "detected in", "epochs to detection", "recall", "FPR honest",
            "FPR not planted", "FP cost / epoch", "lowest planted risk", "highest other risk"]  # fmt: skip
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["detector"], str(r["runs"])]
        cells.append(_ci(r["auroc"]))
        cells.append(f"{r['detected_runs']}/{r['runs']}")
        cells += [_ci(r[k]) for k in FIGURES[1:]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _ci(v: tuple[float, float, float, float] | None) -> str:
    if v is None:
        return "—"
    mean, _, lo, hi = v
    return f"{mean:.3f} [{lo:.3f}, {hi:.3f}]"


__all__ = [
    "DetectorScore",
    "auroc",
    "logged_events",
    "logged_offline_events",
    "planted_population",
    "risk_scores",
    "run_harness",
    "score_run",
    "summarise",
    "table",
]
