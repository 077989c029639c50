"""Collect a sweep's runs into one row each, and aggregate them: mean and 95% CI per configuration."""

from __future__ import annotations

import csv
import json
import math
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from swarm.analysis.sweep import RunSpec
from swarm.metrics.registry import RUN_FIGURES
from swarm.registry import load_builtins


def metric_names() -> list[str]:
    """The figures a sweep aggregates: every registered run figure."""
    load_builtins()
    return list(RUN_FIGURES)


# Two-sided 95% quantiles of Student's t by degrees of freedom (1-30), then the normal.
_T95 = [
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
]


def t95(df: int) -> float:
    """The 97.5% quantile of Student's t with ``df`` degrees of freedom."""
    if df < 1:
        raise ValueError("degrees of freedom must be at least 1")
    if df <= len(_T95):
        return _T95[df - 1]
    return 1.96 + 2.4 / df


def mean_ci(xs: Sequence[float]) -> tuple[float, float, float, float]:
    """(mean, sample std, CI low, CI high) with a t interval; a single value has a zero-width interval."""
    mean = statistics.fmean(xs)
    if len(xs) < 2:
        return mean, 0.0, mean, mean
    std = statistics.stdev(xs)
    half = t95(len(xs) - 1) * std / math.sqrt(len(xs))
    return mean, std, mean - half, mean + half


def collect(runs: Sequence[RunSpec], out: Path) -> list[dict[str, Any]]:
    """One row per run (finished or failed), in plan order."""
    rows = []
    for r in runs:
        d = r.directory(out)
        row: dict[str, Any] = {
            "configuration": r.configuration,
            "seed": r.seed,
            "overrides": " ".join(r.overrides),
        }
        if (d / "summary.json").exists():
            summary = _summary(d / "summary.json")
            row.update(summary["summary"])
            row["passed"] = summary["passed"]
            row["error"] = ""
        elif (d / "error.txt").exists():
            row["error"] = (d / "error.txt").read_text(encoding="utf-8")
        else:
            continue
        rows.append(row)
    return rows


def _summary(path: Path) -> dict[str, Any]:
    """A finished run's ``summary.json``, checked enough to aggregate (else a ReportError naming it)."""
    from swarm.analysis.report import ReportError

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        data = exc
    if not (isinstance(data, dict) and isinstance(data.get("summary"), dict) and "passed" in data):
        why = f" ({data})" if isinstance(data, Exception) else ""
        raise ReportError(
            f"{path}: not a run summary{why}\n  expected the summary.json a run writes: "
            f"delete the folder {path.parent} and run the sweep again to redo that run"
        )
    return data


def aggregate(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per configuration (first-seen order) and metric: n, mean, std, ci_low, ci_high."""
    configs: list[str] = []
    for row in rows:
        if row["configuration"] not in configs:
            configs.append(row["configuration"])
    out = []
    for config in configs:
        for metric in metric_names():
            xs = [
                float(r[metric]) for r in rows if r["configuration"] == config and r.get(metric) is not None
            ]
            if not xs:
                continue
            mean, std, low, high = mean_ci(xs)
            out.append(
                {
                    "configuration": config,
                    "metric": metric,
                    "n": len(xs),
                    "mean": mean,
                    "std": std,
                    "ci_low": low,
                    "ci_high": high,
                }
            )
    return out


def write_tables(out: Path, rows: Sequence[dict[str, Any]], agg: Sequence[dict[str, Any]]) -> list[Path]:
    """runs.csv and aggregate.csv, plus Parquet copies when pandas and pyarrow are installed."""
    written = []
    for name, table in (("runs", rows), ("aggregate", agg)):
        path = out / f"{name}.csv"
        fields: list[str] = []
        for row in table:
            fields.extend(k for k in row if k not in fields)
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields)
            writer.writeheader()
            writer.writerows(table)
        written.append(path)
        try:
            import pandas as pd

            pq = out / f"{name}.parquet"
            pd.DataFrame(list(table)).to_parquet(pq, index=False)
            written.append(pq)
        except ImportError:
            pass
    return written
