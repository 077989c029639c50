"""Export a run's event log as tables: epochs, interactions, agents, agent_epochs (JSON, CSV or Parquet).

Columns are documented in docs/export.md; the epoch columns are the registered
metrics, the agent columns those of the metrics collector, so the tables always
match what the run reported.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import msgspec

from swarm.core.payoff import SoftPayoffEngine
from swarm.events import EpochCompleted, Event, InteractionCompleted
from swarm.metrics.collector import MetricsCollector
from swarm.metrics.registry import epoch_columns
from swarm.runtime.eventlog import LogHeader, read_log
from swarm.scenario import validate_scenario

Format = Literal["json", "csv", "parquet"]


def tables(log: str | Path) -> dict[str, list[dict[str, Any]]]:
    """The four tables of a run, rebuilt from its event log alone (columns: docs/export.md)."""
    header, events = read_log(log)
    return tables_of(header, events, str(log))


def tables_of(header: LogHeader, events: Sequence[Event], source: str) -> dict[str, list[dict[str, Any]]]:
    """:func:`tables` of a log already read (``source`` names it in errors)."""
    scenario = validate_scenario(header.scenario, source=f"{source} (header)", budget=False)
    collector = MetricsCollector(SoftPayoffEngine(scenario.payoff))
    epochs: list[dict[str, Any]] = []
    interactions: list[dict[str, Any]] = []
    for ev in events:
        if isinstance(ev, EpochCompleted):
            epochs.append(epoch_columns(ev.metrics))
            collector.snapshot(ev.epoch)  # as the run's collector did when it closed the epoch
        elif isinstance(ev, InteractionCompleted):
            i = ev.interaction
            row = msgspec.to_builtins(i)
            row.update(row.pop("observables"))
            row.update(
                payoff_initiator=ev.payoff_initiator,
                payoff_counterparty=ev.payoff_counterparty,
                initiator_type=ev.initiator_type,
                counterparty_type=ev.counterparty_type,
            )
            interactions.append(row)
        collector.feed([ev])
    return {
        "epochs": epochs,
        "interactions": interactions,
        "agents": [dict(r) for r in collector.agent_rows()],
        "agent_epochs": [dict(r) for r in collector.history()],
    }


def export_run(run_dir: str | Path, fmt: Format = "csv", out: str | Path | None = None) -> list[Path]:
    """Write ``epochs``, ``interactions``, ``agents`` and ``agent_epochs`` in ``fmt`` into ``out``.

    ``out`` defaults to ``export/`` beside the log.
    """
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
