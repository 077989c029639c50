"""Replay: check a log against itself, and against a fresh re-execution of its scenario.

Two strengths of verification:

* :func:`recompute` — rebuild every epoch's metrics from the logged events alone
  and compare them with the ``epoch_completed`` records;
* :func:`reexecute` — run the scenario stored in the header again, with the same
  seed, and compare the two logs line by line (the ``wall_clock`` field aside).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from swarm.core.payoff import SoftPayoffEngine
from swarm.errors import LogError
from swarm.events import WALL_CLOCK_FIELD, EpochCompleted, Metrics
from swarm.metrics.collector import MetricsCollector
from swarm.runtime.eventlog import read_log
from swarm.scenario import Scenario, validate_scenario


class Mismatch(BaseModel):
    """The first place where two things that should agree do not."""

    model_config = ConfigDict(frozen=True)

    where: str
    expected: str
    found: str


def scenario_of(path: str | Path) -> Scenario:
    header, _ = read_log(path)
    return validate_scenario(header.scenario, source=f"{path} (header)")


def recompute(path: str | Path) -> tuple[list[Metrics], int, Mismatch | None]:
    """Recompute each epoch's metrics from the logged events; the first disagreement, if any."""
    header, events = read_log(path)
    # Nothing is built to recompute: a run made with raised limits replays without them.
    scenario = validate_scenario(header.scenario, source=f"{path} (header)", budget=False)
    collector = MetricsCollector(SoftPayoffEngine(scenario.payoff))
    out: list[Metrics] = []
    for ev in events:
        if isinstance(ev, EpochCompleted):
            mine = collector.close_epoch(ev.epoch)
            out.append(mine)
            diff = _first_difference(dict(ev.metrics), dict(mine), f"epoch {ev.epoch}")
            if diff is not None:
                return out, len(out), diff
        collector.feed([ev])
    return out, len(out), None


def _first_difference(logged: Any, mine: Any, where: str) -> Mismatch | None:
    if isinstance(logged, dict) and isinstance(mine, dict):
        for key in sorted(set(logged) | set(mine)):
            diff = _first_difference(logged.get(key), mine.get(key), f"{where}.{key}")
            if diff is not None:
                return diff
        return None
    if logged != mine:
        return Mismatch(where=where, expected=repr(logged), found=repr(mine))
    return None


def _comparable(line: str) -> str:
    data = json.loads(line)
    data.pop(WALL_CLOCK_FIELD, None)
    return json.dumps(data, sort_keys=True)


def _lines(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield _comparable(line)


def compare_logs(a: str | Path, b: str | Path) -> tuple[int, Mismatch | None]:
    """Compare two event logs line by line, ignoring wall-clock fields."""
    n = 0
    left, right = _lines(Path(a)), _lines(Path(b))
    while True:
        x, y = next(left, None), next(right, None)
        if x is None and y is None:
            return n, None
        n += 1
        if x != y:
            if x is None or y is None:
                return n, Mismatch(
                    where=f"line {n}",
                    expected=_window(x or "<end of log>", 0),
                    found=_window(y or "<end of log>", 0),
                )
            at = next((i for i, (p, q) in enumerate(zip(x, y, strict=False)) if p != q), min(len(x), len(y)))
            return n, Mismatch(
                where=f"line {n}, character {at + 1}", expected=_window(x, at), found=_window(y, at)
            )


WINDOW = 400
"""How much of a differing line is shown: the part around its first difference."""


def _window(line: str, at: int) -> str:
    """``line`` cut to :data:`WINDOW` characters around index ``at`` (its first difference)."""
    if len(line) <= WINDOW:
        return line
    start = max(0, min(at - WINDOW // 4, len(line) - WINDOW))
    head = "..." if start > 0 else ""
    tail = "..." if start + WINDOW < len(line) else ""
    return head + line[start : start + WINDOW] + tail


def reexecute(path: str | Path, run: Callable[[Scenario, Path], None]) -> tuple[int, Mismatch | None]:
    """Re-run the logged scenario with ``run(scenario, out_dir)`` and compare the two logs.

    A fork's log is not re-run from its header alone (its first epochs are the
    original's): LogError, naming the original run and how to check the fork.
    """
    header, _ = read_log(path)
    if header.forked_from is not None:
        origin = header.forked_from
        raise LogError(
            f"{path}: a fork of run {origin.get('run_id')} at epoch {origin.get('epoch')} "
            f"({origin.get('log')}); re-run it with `swarm fork` from that run and compare the logs"
        )
    scenario = scenario_of(path)
    with tempfile.TemporaryDirectory(prefix="swarm-replay-") as tmp:
        out = Path(tmp)
        run(scenario, out)
        return compare_logs(path, out / "events.jsonl")
