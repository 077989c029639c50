"""What a finished run hands back: per-epoch metrics, agents' final books, run figures, criteria.

Everything here is generated from the metric registry: the columns of
``metrics.csv``, the figures of ``summary.json`` and the success criteria.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
from pydantic import BaseModel, ConfigDict

from swarm.events import Metrics, Record
from swarm.metrics.collector import AgentHistory
from swarm.metrics.registry import RUN_FIGURES, RunData, criterion_target, epoch_columns, figures
from swarm.scenario import CRITERIA_ALIASES, Scenario

AGENT_EPOCHS_CSV = "agent_epochs.csv"
"""The run's per-agent, per-epoch snapshots (columns: ``swarm.metrics.collector.HISTORY_COLUMNS``)."""


class CriterionResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    passed: bool
    detail: str


@dataclass(frozen=True, repr=False)
class SimulationResult:
    """Everything a run produced besides its event log."""

    scenario_id: str
    seed: int
    reason: str
    """completed, kill_switch, failed, cancelled, ..."""
    epochs: list[Metrics]
    """Each epoch's metrics (``result.epochs[0].toxicity_rate``)."""
    agents: list[Record]
    """Each agent's final figures (``agent.agent_id``, ``agent.resources``, ``agent.total_payoff``, ...)."""
    summary: Record
    """Every registered run figure (``result.summary.avg_toxicity``)."""
    criteria: list[CriterionResult]
    log_path: str | None = None
    agent_history: AgentHistory = field(default_factory=lambda: AgentHistory([], []))
    """Every agent's figures at the close of every epoch (``for row in result.agent_history``), as in
    ``agent_epochs.csv``."""
    llm: dict[str, Any] | None = None
    """The LLM calls' figures (calls, failures by cause, tokens, cost; per agent, model and epoch),
    for a run with LLM agents (``summary.json``'s ``llm``)."""

    @property
    def passed(self) -> bool:
        """No criterion failed and the run finished (completed, or stopped by its kill switch)."""
        return all(c.passed for c in self.criteria) and self.reason in ("completed", "kill_switch")

    def __repr__(self) -> str:
        """What the run was and how it ended, with the sizes of its tables rather than their rows.

        A result holds every agent's figures for every epoch: the full field-by-field form runs
        to megabytes for a large population, and Python builds it unasked at times (asyncio's
        runner, for one, formats the main task, result included, as it restores its SIGINT
        handler when ``asyncio.run``/``anyio.run`` returns), which made the end of a run the
        peak of its memory. Read the fields for the contents.
        """
        return (
            f"{type(self).__name__}(scenario_id={self.scenario_id!r}, seed={self.seed}, "
            f"reason={self.reason!r}, passed={self.passed}, epochs=<{len(self.epochs)}>, "
            f"agents=<{len(self.agents)}>, agent_history=<{len(self.agent_history)} rows>, "
            f"criteria=<{len(self.criteria)}>, log_path={self.log_path!r})"
        )


def summarize(
    epochs: Sequence[Mapping[str, Any]],
    agents: Sequence[Mapping[str, Any]],
    detected: frozenset[str] = frozenset(),
) -> Record:
    """The run figures of a run (``detected``: the agents governance detected at least once)."""
    return Record(figures(RunData(epochs, agents, detected)))


def _fmt(x: float | int | None) -> str:
    return "undefined" if x is None else f"{x:.4g}"


def evaluate_criteria(scenario: Scenario, summary: Mapping[str, Any]) -> list[CriterionResult]:
    """Every success criterion the scenario sets, in the order the schema lists them."""
    out: list[CriterionResult] = []
    criteria = scenario.success_criteria
    for name in type(criteria).model_fields:
        limit = getattr(criteria, name)
        if limit is None:
            continue
        target = criterion_target(CRITERIA_ALIASES.get(name, name))
        if target is None:
            continue
        bound, figure = target
        value = summary.get(figure)
        word = ">=" if bound == "min" else "<="
        passed = value is not None and (value >= limit if bound == "min" else value <= limit)
        out.append(
            CriterionResult(
                name=name,
                passed=passed,
                detail=f"{figure} {_fmt(value)} {word} {limit:g} ({RUN_FIGURES[figure].description})",
            )
        )
    return out


def write_outputs(out_dir: Path, scenario: Scenario, result: SimulationResult) -> None:
    """Write ``metrics.csv``, ``agent_epochs.csv`` and ``summary.json`` next to the event log (and the
    scenario's extra copies)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = [epoch_columns(m) for m in result.epochs]
    metrics_csv = out_dir / "metrics.csv"
    with metrics_csv.open("w", newline="", encoding="utf-8") as fh:
        fields: list[str] = []
        for row in rows:
            fields.extend(k for k in row if k not in fields)
        if fields:
            writer = csv.DictWriter(fh, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
    with (out_dir / AGENT_EPOCHS_CSV).open("w", newline="", encoding="utf-8") as fh:
        result.agent_history.write_csv(fh)
    summary = {
        "scenario_id": result.scenario_id,
        "seed": result.seed,
        "reason": result.reason,
        "summary": result.summary,
        "criteria": [c.model_dump() for c in result.criteria],
        "passed": result.passed,
        "agents": result.agents,
        "scenario": scenario.model_dump(mode="json"),
    }
    if result.llm is not None:
        summary["llm"] = result.llm
    # msgspec writes the indented JSON ~8x faster than ``json.dumps(indent=2)`` (pure Python once
    # indented): the same document, with UTF-8 text unescaped and an undefined float as null
    text = msgspec.json.format(msgspec.json.encode(summary), indent=2)
    (out_dir / "summary.json").write_bytes(text + b"\n")
    outputs = scenario.outputs
    if outputs.metrics_csv:
        target = Path(outputs.metrics_csv)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(metrics_csv.read_bytes())
    if outputs.event_log and result.log_path:
        target = Path(outputs.event_log)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(Path(result.log_path).read_bytes())
