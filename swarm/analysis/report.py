"""Plots of a sweep: metrics per configuration with 95% CI error bars, and per-epoch time series."""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

from swarm.errors import SwarmError


class ReportError(SwarmError):
    """A sweep output file that cannot be read (missing column, a value that is not a number): exit 2."""


AGGREGATE_COLUMNS = ("configuration", "metric", "n", "mean", "std", "ci_low", "ci_high")


def panels() -> list[tuple[str, str]]:
    """The headline run figures, each a panel of the sweep plot."""
    from swarm.metrics.registry import RUN_FIGURES
    from swarm.registry import load_builtins

    load_builtins()
    return [(name, fig.description) for name, fig in RUN_FIGURES.items() if fig.headline]


def read_csv(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ReportError(f"{path}: cannot be read as CSV ({exc})") from None


def _number(path: Path, line: int, row: dict[str, Any], column: str, kind: type) -> Any:
    raw = row.get(column)
    try:
        value = kind(raw)
    except (TypeError, ValueError):
        value = None
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        shown = raw if raw is None or len(raw) <= 40 else raw[:37] + "..."
        raise ReportError(
            f"{path}:{line}: {column} = {shown!r}\n  not a {'whole ' if kind is int else ''}number: "
            f"expected the file `swarm sweep` writes (run it again to rewrite it)"
        )
    return value


def plot_sweep(out: Path) -> list[Path]:
    """Write ``metrics.png`` and ``toxicity_over_time.png`` into ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    agg = table_rows(out)
    configs: list[str] = []
    for row in agg:
        if row["configuration"] not in configs:
            configs.append(row["configuration"])
    shown = panels()
    cols = 2
    rows_n = -(-len(shown) // cols)
    fig, axes = plt.subplots(rows_n, cols, figsize=(12, 4 * rows_n), constrained_layout=True, squeeze=False)
    for ax in list(axes.flat)[len(shown) :]:
        ax.set_visible(False)
    for ax, (metric, title) in zip(axes.flat, shown, strict=False):
        rows = {r["configuration"]: r for r in agg if r["metric"] == metric}
        xs = [c for c in configs if c in rows]
        means = [rows[c]["mean"] for c in xs]
        errs = [
            [m - rows[c]["ci_low"] for c, m in zip(xs, means, strict=True)],
            [rows[c]["ci_high"] - m for c, m in zip(xs, means, strict=True)],
        ]
        ax.bar(range(len(xs)), means, yerr=errs, capsize=3, color="#4c72b0")
        ax.set_xticks(range(len(xs)), xs, rotation=45, ha="right", fontsize=8)
        ax.set_title(f"{title}\n(mean, 95% CI)", fontsize=9)
    metrics_png = out / "metrics.png"
    fig.savefig(metrics_png, dpi=110)
    plt.close(fig)

    series: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted((out / "runs").glob("*/seed-*/metrics.csv")):
        config = path.parent.parent.name
        for line, row in enumerate(read_csv(path), start=2):
            if row.get("toxicity_rate"):
                epoch = _number(path, line, row, "epoch", int)
                series[config][epoch].append(_number(path, line, row, "toxicity_rate", float))
    fig, ax = plt.subplots(figsize=(10, 5), constrained_layout=True)
    for config in configs:
        points: dict[int, list[float]] = series.get(config, {})
        epochs = sorted(points)
        ax.plot(epochs, [sum(points[e]) / len(points[e]) for e in epochs], label=config)
    ax.set_xlabel("epoch")
    ax.set_ylabel("toxicity (mean over seeds)")
    ax.legend(fontsize=7, ncol=2)
    time_png = out / "toxicity_over_time.png"
    fig.savefig(time_png, dpi=110)
    plt.close(fig)
    return [metrics_png, time_png]


def table_rows(out: Path) -> list[dict[str, Any]]:
    """The rows of ``aggregate.csv``, checked: every column present, ``n`` whole, the rest finite numbers."""
    path = out / "aggregate.csv"
    rows = read_csv(path)
    if rows:
        missing = [c for c in AGGREGATE_COLUMNS if c not in rows[0]]
        if missing:
            raise ReportError(
                f"{path}: no column {missing[0]!r}\n  expected the columns {', '.join(AGGREGATE_COLUMNS)}"
            )
    checked: list[dict[str, Any]] = []
    for line, row in enumerate(rows, start=2):
        item: dict[str, Any] = dict(row)
        item["n"] = _number(path, line, row, "n", int)
        for column in ("mean", "std", "ci_low", "ci_high"):
            item[column] = _number(path, line, row, column, float)
        checked.append(item)
    return checked
