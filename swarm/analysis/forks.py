"""Counterfactual forks: branches of a run from one of its checkpoints, and their comparison.

A **fork set** is a folder (``RUN_DIR/forks/NAME`` unless told otherwise)
holding ``fork.json`` and one run folder per branch:

* with no seeds: ``branch`` — the run from epoch N on with the changed
  parameters, compared with the original run itself (its epochs N and later);
* with seeds: ``branch-seed-S`` and ``continuation-seed-S`` for each seed S —
  both start from the same checkpoint with every random stream started afresh
  from S, one with the change and one without, so each seed gives one paired
  difference and the set gives a mean difference with a 95 % t interval.

Each branch is compared on the per-epoch metrics (``metrics.csv``) averaged
over epochs N and later.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from swarm.analysis.aggregate import mean_ci
from swarm.errors import SwarmError

MANIFEST = "fork.json"


class ForkSetError(SwarmError):
    """A fork set that cannot be read or compared (the message names the file)."""


COMPARED = (
    "toxicity_rate",
    "quality_gap",
    "conditional_loss_initiator",
    "avg_payoff",
    "total_welfare",
    "acceptance_rate",
    "resource_gini",
    "reputation_gini",
    "frozen_agents",
    "governance_costs",
)
"""The metrics a fork report compares (when the runs have them)."""


@dataclass(frozen=True)
class ForkSet:
    """What ``fork.json`` records: where the branches come from and what they change."""

    run: str
    at_epoch: int
    changes: list[str]
    seeds: list[int] | None
    branches: list[str]
    continuations: list[str]

    def save(self, folder: Path) -> None:
        (folder / MANIFEST).write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> ForkSet:
        path = folder / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**data)
        except (OSError, ValueError, TypeError) as exc:
            raise ForkSetError(f"{path}: not a fork set ({exc})") from None


def is_fork_set(folder: Path) -> bool:
    return (folder / MANIFEST).is_file()


def default_name(at_epoch: int, changes: Sequence[str]) -> str:
    """A folder name saying where the fork starts and what it changes (only safe characters)."""
    words = "_".join(c.replace("governance.", "").replace("simulation.", "") for c in changes) or "same"
    slug = re.sub(r"[^A-Za-z0-9_.=-]+", "-", words).strip("-.")[:80] or "same"
    return f"epoch-{at_epoch}-{slug}"


def fork_seeds(original_seed: int, count: int) -> list[int]:
    """``count`` seeds for paired branches, none equal to the original's."""
    return [original_seed + 1 + k for k in range(count)]


@dataclass(frozen=True)
class Difference:
    """One metric's branch-minus-continuation difference over epochs N and later."""

    metric: str
    n: int
    continuation: float
    branch: float
    mean: float
    ci_low: float
    ci_high: float


def epoch_means(metrics_csv: Path, from_epoch: int) -> dict[str, float]:
    """Each metric's mean over the epochs ``from_epoch`` and later (empty cells left out)."""
    if not metrics_csv.is_file():
        raise ForkSetError(f"{metrics_csv}: missing (the branch did not finish)")
    sums: dict[str, list[float]] = {}
    with metrics_csv.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            try:
                epoch = int(row["epoch"])
            except (KeyError, ValueError):
                raise ForkSetError(f"{metrics_csv}: a row without an epoch number") from None
            if epoch < from_epoch:
                continue
            for key, cell in row.items():
                if key == "epoch" or cell in (None, ""):
                    continue
                try:
                    value = float(cell)
                except ValueError:
                    continue
                if math.isfinite(value):
                    sums.setdefault(key, []).append(value)
    return {k: sum(v) / len(v) for k, v in sums.items()}


def compare(folder: Path) -> tuple[ForkSet, list[Difference]]:
    """The fork set's differences, metric by metric (paired by seed when it has seeds)."""
    fs = ForkSet.load(folder)
    if fs.seeds:
        pairs = [(folder / c, folder / b) for c, b in zip(fs.continuations, fs.branches, strict=True)]
    else:
        pairs = [(Path(fs.run), folder / fs.branches[0])]
    means = [
        (epoch_means(c / "metrics.csv", fs.at_epoch), epoch_means(b / "metrics.csv", fs.at_epoch))
        for c, b in pairs
    ]
    out = []
    for metric in COMPARED:
        rows = [(c[metric], b[metric]) for c, b in means if metric in c and metric in b]
        if not rows:
            continue
        diffs = [b - c for c, b in rows]
        mean, _, low, high = mean_ci(diffs)
        out.append(
            Difference(
                metric=metric,
                n=len(rows),
                continuation=sum(c for c, _ in rows) / len(rows),
                branch=sum(b for _, b in rows) / len(rows),
                mean=mean,
                ci_low=low,
                ci_high=high,
            )
        )
    return fs, out


def write_comparison(folder: Path) -> Path:
    """``comparison.csv`` in the fork set: one row per metric."""
    _, diffs = compare(folder)
    path = folder / "comparison.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(Difference.__dataclass_fields__))
        writer.writeheader()
        for d in diffs:
            writer.writerow(asdict(d))
    return path


def describe(fs: ForkSet) -> str:
    changes = ", ".join(fs.changes) or "no change"
    if fs.seeds:
        return (
            f"fork of {fs.run} at epoch {fs.at_epoch} ({changes}); {len(fs.seeds)} seeds, "
            "branch minus continuation, paired by seed, 95% t interval"
        )
    return (
        f"fork of {fs.run} at epoch {fs.at_epoch} ({changes}); one branch against the original run "
        "(no interval from a single pair: fork with --seeds N for one)"
    )
