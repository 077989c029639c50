"""A run's history as pandas DataFrames, in one call: :func:`load_run`.

Needs pandas (the ``analysis`` extra). The tables are those of ``swarm export``
(docs/export.md), rebuilt from the run's event log, so they equal the run's
``metrics.csv`` and ``agent_epochs.csv``; an export folder written by
``swarm export`` (any format) loads the same way.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from swarm.errors import LogError
from swarm.events import Event, RunEnded

if TYPE_CHECKING:
    import pandas as pd

_TABLES = ("epochs", "interactions", "agents", "agent_epochs")
_FORMATS = ("parquet", "csv", "json")
_EVENT_LEAD = ("seq", "type", "epoch", "step")


@dataclass(frozen=True)
class RunHistory:
    """One run's history (``h.agents.pivot(index="epoch", columns="agent_id", values="resources")``)."""

    epochs: pd.DataFrame
    """One row per closed epoch: ``epoch`` and every registered epoch metric (as ``metrics.csv``)."""
    agents: pd.DataFrame
    """One row per agent per closed epoch: its figures when the epoch closed (as ``agent_epochs.csv``)."""
    interactions: pd.DataFrame
    """One row per resolved interaction (accepted or declined): parties, ``p``, observables, payoffs."""
    events: pd.DataFrame | None
    """Every event of the log: ``seq``, ``type``, ``epoch``, ``step``, then the union of the event types'
    fields (missing where a type has no such field; nested values stay dicts). None for an export folder,
    which has no event table."""
    scenario: dict[str, Any] | None
    """The scenario the run was made from (from the log's header); None for an export folder."""
    reason: str | None
    """How the run ended (``run_ended``'s reason: completed, kill_switch, failed, ...); None when the log
    has no ``run_ended`` (a run still going, or a process that was killed) or for an export folder."""


def load_run(path: str | Path) -> RunHistory:
    """Load a run folder (or its ``events.jsonl``), or a folder ``swarm export`` wrote, into DataFrames.

    Raises :class:`~swarm.LogError` naming the path when it is neither, or when the log cannot be read.
    """

    p = Path(path)
    log = p / "events.jsonl" if p.is_dir() else p
    if log.is_file():
        from swarm.analysis.export import tables_of
        from swarm.runtime.eventlog import read_log

        header, events = read_log(log)
        found = tables_of(header, events, str(log))
        ended = next((ev for ev in reversed(events) if isinstance(ev, RunEnded)), None)
        return RunHistory(
            epochs=_frame(found["epochs"]),
            agents=_frame(found["agent_epochs"]),
            interactions=_frame(found["interactions"]),
            events=_events_frame(events),
            scenario=header.scenario,
            reason=ended.reason if ended is not None else None,
        )
    if p.is_dir():
        frames = {name: _read_export(p, name) for name in _TABLES}
        if all(f is not None for f in frames.values()):
            return RunHistory(
                epochs=frames["epochs"],
                agents=frames["agent_epochs"],
                interactions=frames["interactions"],
                events=None,
                scenario=None,
                reason=None,
            )
    raise LogError(
        f"{p}: not a run (expected a folder with events.jsonl, or the log itself) "
        f"nor a folder written by `swarm export` (expected {', '.join(_TABLES)} as csv, json or parquet)"
    )


def _frame(rows: list[dict[str, Any]] | pd.DataFrame) -> pd.DataFrame:
    """Rows as a frame; a column with no value at all (an undefined metric) is float NaN, not None."""
    import pandas as pd

    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
    empty = [c for c in frame.columns if frame[c].dtype == object and frame[c].isna().all()]
    return frame.astype(dict.fromkeys(empty, float)) if empty else frame


def _events_frame(events: Sequence[Event]) -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame([msgspec.to_builtins(ev) for ev in events])
    if frame.empty:
        return pd.DataFrame(columns=list(_EVENT_LEAD))
    rest = [c for c in frame.columns if c not in _EVENT_LEAD]
    return frame[[*_EVENT_LEAD, *rest]]


def _read_export(folder: Path, name: str) -> pd.DataFrame | None:
    import pandas as pd

    for fmt in _FORMATS:
        path = folder / f"{name}.{fmt}"
        if not path.is_file():
            continue
        try:
            if fmt == "parquet":
                return _frame(pd.read_parquet(path))
            if fmt == "json":
                return _frame(json.loads(path.read_text(encoding="utf-8")))
            if path.read_text(encoding="utf-8").strip() == "":
                return pd.DataFrame()
            return pd.read_csv(path)
        except (OSError, ValueError, UnicodeDecodeError) as exc:
            raise LogError(f"{path}: cannot be read as {fmt} ({exc})") from None
    return None
