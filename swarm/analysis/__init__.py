"""Sweeps, aggregation, export and plots.

The names load their modules on first use, so registering the ``swarm sweep``,
``report`` and ``export`` commands (:mod:`swarm.analysis.commands`) costs the
other commands nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from swarm.analysis.aggregate import aggregate, collect, mean_ci
    from swarm.analysis.export import export_run, tables
    from swarm.analysis.history import RunHistory, load_run
    from swarm.analysis.sweep import SweepSpec, load_sweep, plan, run_sweep

_WHERE = {
    "aggregate": "swarm.analysis.aggregate",
    "collect": "swarm.analysis.aggregate",
    "mean_ci": "swarm.analysis.aggregate",
    "export_run": "swarm.analysis.export",
    "tables": "swarm.analysis.export",
    "RunHistory": "swarm.analysis.history",
    "load_run": "swarm.analysis.history",
    "SweepSpec": "swarm.analysis.sweep",
    "load_sweep": "swarm.analysis.sweep",
    "plan": "swarm.analysis.sweep",
    "run_sweep": "swarm.analysis.sweep",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'swarm.analysis' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_WHERE])


__all__ = [
    "RunHistory",
    "SweepSpec",
    "aggregate",
    "collect",
    "export_run",
    "load_run",
    "load_sweep",
    "mean_ci",
    "plan",
    "run_sweep",
    "tables",
]
