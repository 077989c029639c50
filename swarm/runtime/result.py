"""What a finished run hands back: per-epoch metrics, agents' final books, a summary, criteria."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from swarm.metrics.epoch import EpochMetrics
from swarm.scenario import Scenario, SuccessCriteria


class AgentSummary(BaseModel):
    """One agent's final state."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agent_id: str
    agent_type: str
    reputation: float
    resources: float
    total_payoff: float
    interactions_initiated: int
    interactions_received: int
    accepted_initiated: int
    frozen: bool


class CriterionResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    passed: bool
    detail: str


class RunSummary(BaseModel):
    """Run-level figures. Averages skip epochs where the metric is undefined (no empty-epoch zeros)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    epochs: int
    total_interactions: int
    accepted: int
    avg_toxicity: float | None
    pooled_toxicity: float | None
    avg_quality_gap: float | None
    total_welfare: float
    final_welfare: float
    avg_conditional_loss_initiator: float


class SimulationResult(BaseModel):
    """Everything a run produced besides its event log."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scenario_id: str
    seed: int
    reason: Literal["completed", "kill_switch", "failed", "cancelled"]
    epochs: list[EpochMetrics]
    agents: list[AgentSummary]
    summary: RunSummary
    criteria: list[CriterionResult]
    log_path: str | None = None

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.criteria)


def summarize_epochs(epochs: Sequence[EpochMetrics]) -> RunSummary:
    with_accepted = [e for e in epochs if e.accepted]
    with_gap = [e for e in epochs if e.accepted and e.rejected]
    with_any = [e for e in epochs if e.interactions]
    accepted = sum(e.accepted for e in epochs)
    return RunSummary(
        epochs=len(epochs),
        total_interactions=sum(e.interactions for e in epochs),
        accepted=accepted,
        avg_toxicity=_mean([e.toxicity_rate for e in with_accepted]) if with_accepted else None,
        pooled_toxicity=sum(e.toxicity_rate * e.accepted for e in with_accepted) / accepted
        if accepted
        else None,
        avg_quality_gap=_mean([e.quality_gap for e in with_gap]) if with_gap else None,
        total_welfare=sum(e.total_welfare for e in epochs),
        final_welfare=epochs[-1].total_welfare if epochs else 0.0,
        avg_conditional_loss_initiator=_mean([e.conditional_loss_initiator for e in with_any]),
    )


def _fmt4(x: float | None) -> str:
    return "undefined (nothing accepted)" if x is None else f"{x:.4f}"


def _mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def evaluate_criteria(
    criteria: SuccessCriteria, summary: RunSummary, epochs: Sequence[EpochMetrics], n_agents: int
) -> list[CriterionResult]:
    out: list[CriterionResult] = []
    c = criteria
    if c.min_epochs is not None:
        out.append(
            CriterionResult(
                name="min_epochs",
                passed=summary.epochs >= c.min_epochs,
                detail=f"{summary.epochs} epochs >= {c.min_epochs}",
            )
        )
    if c.min_agents is not None:
        out.append(
            CriterionResult(
                name="min_agents",
                passed=n_agents >= c.min_agents,
                detail=f"{n_agents} agents >= {c.min_agents}",
            )
        )
    if c.min_interactions is not None:
        out.append(
            CriterionResult(
                name="min_interactions",
                passed=summary.total_interactions >= c.min_interactions,
                detail=f"{summary.total_interactions} interactions >= {c.min_interactions}",
            )
        )
    if c.toxicity_threshold is not None:
        tox = summary.avg_toxicity
        out.append(
            CriterionResult(
                name="toxicity_threshold",
                passed=tox is not None and tox <= c.toxicity_threshold,
                detail=f"avg toxicity {_fmt4(tox)} <= {c.toxicity_threshold}",
            )
        )
    if c.min_total_welfare is not None:
        out.append(
            CriterionResult(
                name="min_total_welfare",
                passed=summary.total_welfare >= c.min_total_welfare,
                detail=f"total welfare {summary.total_welfare:.2f} >= {c.min_total_welfare}",
            )
        )
    if c.max_quality_gap_negative_epochs is not None:
        neg = sum(1 for e in epochs if e.accepted and e.rejected and e.quality_gap < 0)
        out.append(
            CriterionResult(
                name="max_quality_gap_negative_epochs",
                passed=neg <= c.max_quality_gap_negative_epochs,
                detail=f"{neg} epochs with adverse selection <= {c.max_quality_gap_negative_epochs}",
            )
        )
    return out


def flatten_metrics(m: EpochMetrics) -> dict[str, Any]:
    """One CSV row: nested activity counts and per-type means become prefixed columns."""
    row: dict[str, Any] = m.model_dump(exclude={"activity", "mean_p_by_type"})
    row.update({f"activity_{k}": v for k, v in m.activity.model_dump().items()})
    for kind in ("honest", "opportunistic", "deceptive", "adversarial", "llm"):
        row[f"mean_p_{kind}"] = m.mean_p_by_type.get(kind)
    return row


def write_outputs(out_dir: Path, scenario: Scenario, result: SimulationResult) -> None:
    """Write ``metrics.csv`` and ``summary.json`` next to the event log."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = [flatten_metrics(m) for m in result.epochs]
    with (out_dir / "metrics.csv").open("w", newline="", encoding="utf-8") as fh:
        if rows:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    summary = {
        "scenario_id": result.scenario_id,
        "seed": result.seed,
        "reason": result.reason,
        "summary": result.summary.model_dump(),
        "criteria": [c.model_dump() for c in result.criteria],
        "passed": result.passed,
        "agents": [a.model_dump() for a in result.agents],
        "scenario": scenario.model_dump(mode="json"),
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
