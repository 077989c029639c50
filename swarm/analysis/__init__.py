"""Sweeps, aggregation, export and plots."""

from swarm.analysis.aggregate import aggregate, collect, mean_ci
from swarm.analysis.export import export_run, tables
from swarm.analysis.sweep import SweepSpec, load_sweep, plan, run_sweep

__all__ = [
    "SweepSpec",
    "aggregate",
    "collect",
    "export_run",
    "load_sweep",
    "mean_ci",
    "plan",
    "run_sweep",
    "tables",
]
