"""Plots of a sweep: metrics per configuration with 95% CI error bars, and per-epoch time series."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path
from typing import Any


def panels() -> list[tuple[str, str]]:
    """The headline run figures, each a panel of the sweep plot."""
    from swarm.metrics.registry import RUN_FIGURES
    from swarm.registry import load_builtins

    load_builtins()
    return [(name, fig.description) for name, fig in RUN_FIGURES.items() if fig.headline]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def plot_sweep(out: Path) -> list[Path]:
    """Write ``metrics.png`` and ``toxicity_over_time.png`` into ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    agg = read_csv(out / "aggregate.csv")
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
        means = [float(rows[c]["mean"]) for c in xs]
        errs = [
            [m - float(rows[c]["ci_low"]) for c, m in zip(xs, means, strict=True)],
            [float(rows[c]["ci_high"]) - m for c, m in zip(xs, means, strict=True)],
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
        for row in read_csv(path):
            if row.get("toxicity_rate"):
                series[config][int(row["epoch"])].append(float(row["toxicity_rate"]))
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
    return [dict(r) for r in read_csv(out / "aggregate.csv")]
