"""Export a run's event log as tables: epochs, interactions, agents (JSON, CSV or Parquet).

Columns are documented in docs/export.md.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Literal

from swarm.events import AgentCreated, EpochCompleted, InteractionCompleted, LedgerUpdated
from swarm.runtime.eventlog import read_log
from swarm.runtime.result import flatten_metrics

Format = Literal["json", "csv", "parquet"]


def tables(log: str | Path) -> dict[str, list[dict[str, Any]]]:
    """The three tables of a run, rebuilt from its event log alone."""
    _, events = read_log(log)
    epochs: list[dict[str, Any]] = []
    interactions: list[dict[str, Any]] = []
    agents: dict[str, dict[str, Any]] = {}
    for ev in events:
        if isinstance(ev, EpochCompleted):
            epochs.append(flatten_metrics(ev.metrics))
        elif isinstance(ev, InteractionCompleted):
            i = ev.interaction
            row = i.model_dump(exclude={"observables"})
            row.update(i.observables.model_dump())
            row.update(
                payoff_initiator=ev.payoff_initiator,
                payoff_counterparty=ev.payoff_counterparty,
                initiator_type=ev.initiator_type,
                counterparty_type=ev.counterparty_type,
            )
            interactions.append(row)
            for who in (i.initiator, i.counterparty):
                key = "initiated" if who == i.initiator else "received"
                agents[who][f"interactions_{key}"] += 1
        elif isinstance(ev, AgentCreated):
            agents[ev.agent_id] = {
                "agent_id": ev.agent_id,
                "agent_type": ev.agent_type,
                "policy": ev.policy,
                "reputation": ev.reputation,
                "resources": ev.resources,
                "interactions_initiated": 0,
                "interactions_received": 0,
            }
        elif isinstance(ev, LedgerUpdated):
            agents[ev.agent_id].update(reputation=ev.reputation, resources=ev.resources)
    return {"epochs": epochs, "interactions": interactions, "agents": list(agents.values())}


def export_run(run_dir: str | Path, fmt: Format = "csv", out: str | Path | None = None) -> list[Path]:
    """Write ``epochs``, ``interactions`` and ``agents`` in ``fmt`` into ``out`` (default: the run dir)."""
    run = Path(run_dir)
    log = run / "events.jsonl" if run.is_dir() else run
    target = Path(out) if out is not None else log.parent / "export"
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, rows in tables(log).items():
        path = target / f"{name}.{fmt}"
        if fmt == "json":
            path.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
        elif fmt == "csv":
            fields: list[str] = []
            for row in rows:
                fields.extend(k for k in row if k not in fields)
            with path.open("w", newline="", encoding="utf-8") as fh:
                writer = csv.DictWriter(fh, fieldnames=fields)
                writer.writeheader()
                writer.writerows(rows)
        else:
            import pandas as pd

            pd.DataFrame(rows).to_parquet(path, index=False)
        written.append(path)
    return written
