"""Governance of the economies: mission audits and the economy tax (docs/economies.md).

Three studies over the same seeds, each printing the mean and 95 % t-interval of each measure:

* missions: the shipped ``mission_economy`` scenario with an equal split and the
  mission's own free-rider penalty off, without audits and with the
  ``mission_audit`` lever at probability 0.5 and 1 (penalty 0.5, to the members);
* order book: the shipped ``order_book`` scenario with ``economy_tax_rate`` 0, 0.02, 0.1;
* combined: the shipped ``economies`` scenario with ``economy_tax_rate`` 0.05, the
  revenue by economy.

::

    python examples/economy_governance_study.py --seeds 20
"""

from __future__ import annotations

import argparse
import copy
import math
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from swarm import load_scenario, run
from swarm.analysis.aggregate import mean_ci
from swarm.env.missions import MissionClosed
from swarm.env.orderbook import OrderBookMeasured
from swarm.events import Event
from swarm.governance.economy_tax import EconomyTaxed
from swarm.governance.mission_audit import MissionAudited
from swarm.runtime.eventlog import read_log

ROOT = Path(__file__).resolve().parents[1]


def interval(xs: list[float]) -> str:
    m, _, lo, hi = mean_ci(xs)
    return f"{m:.4g}" if len(xs) < 2 else f"{m:.4g} [{lo:.4g}, {hi:.4g}]"


def events(name: str, seed: int, **sections: dict[str, Any]) -> list[Event]:
    data = yaml.safe_load((ROOT / "scenarios" / f"{name}.yaml").read_text())
    data["simulation"]["seed"] = seed
    for key, values in sections.items():
        data.setdefault(key, {}).update(copy.deepcopy(values))
    with tempfile.TemporaryDirectory() as d:
        run(load_scenario(data), out_dir=d)
        return read_log(Path(d) / "events.jsonl")[1]


def missions(evs: list[Event]) -> dict[str, float]:
    won = [e for e in evs if isinstance(e, MissionClosed) and e.status == "succeeded"]
    closed = [e for e in evs if isinstance(e, MissionClosed) and e.status != "expired"]
    members = [(a, x, e) for e in won for a, _, x in e.payouts]
    riders = [m for m in members if m[0] in m[2].free_riders]
    honest = [m for m in members if m[0].startswith("honest") and m[0] not in m[2].free_riders]
    audits = [e for e in evs if isinstance(e, MissionAudited)]

    def share(ms: list[Any]) -> float:  # payout as a multiple of the equal share of the pool
        return statistics.mean(x / e.pool * len(e.payouts) for _, x, e in ms) if ms else math.nan

    return {
        "success rate": len(won) / len(closed) if closed else math.nan,
        "free riders per succeeded mission": len(riders) / len(won) if won else math.nan,
        "free-rider payout / equal share": share(riders),
        "unflagged honest payout / equal share": share(honest),
        "free riders' share of all payouts": math.fsum(x for _, x, _ in riders)
        / math.fsum(x for _, x, _ in members)
        if members
        else math.nan,
        "audits per run": float(len(audits)),
        "withheld per run": math.fsum(e.withheld for e in audits),
    }


def market(evs: list[Event]) -> dict[str, float]:
    measured = [e for e in evs if isinstance(e, OrderBookMeasured)]
    revenue = math.fsum(e.amount for e in evs if isinstance(e, EconomyTaxed))
    volume = math.fsum(e.volume for e in measured)
    vols = [e.volatility for e in measured if e.volatility is not None]
    return {
        "tax revenue": revenue,
        "volume (units)": volume,
        "trades": float(sum(e.trades for e in measured)),
        "revenue / volume": revenue / volume if volume else math.nan,
        "volatility": statistics.mean(vols) if vols else math.nan,
        "crashes": float(sum(e.crashes for e in measured)),
    }


def combined(evs: list[Event]) -> dict[str, float]:
    taxed = [e for e in evs if isinstance(e, EconomyTaxed)]
    total = math.fsum(e.amount for e in taxed)
    out = {"tax revenue": total}
    for economy in ("auction", "missions", "order_book"):
        out[f"share from {economy}"] = (
            math.fsum(e.amount for e in taxed if e.economy == economy) / total if total else math.nan
        )
    return out


def report(title: str, rows: list[dict[str, float]]) -> None:
    print(title)
    for name in rows[0]:
        xs = [r[name] for r in rows if not math.isnan(r[name])]
        print(f"  {name:40} {interval(xs) if xs else '-'}  (n={len(xs)})")


def paired(title: str, a: list[dict[str, float]], b: list[dict[str, float]], name: str) -> None:
    diffs = [y[name] - x[name] for x, y in zip(a, b, strict=True) if not math.isnan(x[name] + y[name])]
    print(f"  paired {title}, {name}: {interval(diffs)}  (n={len(diffs)})")


def study(
    label: str, seeds: range, measure: Callable[[list[Event]], dict[str, float]], runs: dict[str, Any]
) -> dict[str, list[dict[str, float]]]:
    out = {}
    for condition, (name, sections) in runs.items():
        out[condition] = [measure(events(name, s, **sections)) for s in seeds]
        report(f"{label}: {condition}", out[condition])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=20)
    seeds = range(1, parser.parse_args().seeds + 1)
    split = {"payout": "equal", "free_rider_penalty": 0.0}
    audit = {"mission_audit_enabled": True, "mission_audit_penalty": 0.5}
    m = study(
        "missions",
        seeds,
        missions,
        {
            "no audit": ("mission_economy", {"missions": split}),
            "audit p=0.5": (
                "mission_economy",
                {"missions": split, "governance": {**audit, "mission_audit_probability": 0.5}},
            ),
            "audit p=1": (
                "mission_economy",
                {"missions": split, "governance": {**audit, "mission_audit_probability": 1.0}},
            ),
        },
    )
    for cond in ("audit p=0.5", "audit p=1"):
        paired(f"{cond} − no audit", m["no audit"], m[cond], "free riders' share of all payouts")
    b = study(
        "order book",
        seeds,
        market,
        {
            f"tax {rate:g}": ("order_book", {"governance": {"economy_tax_rate": rate}} if rate else {})
            for rate in (0.0, 0.02, 0.1)
        },
    )
    for cond in ("tax 0.02", "tax 0.1"):
        paired(f"{cond} − tax 0", b["tax 0"], b[cond], "volume (units)")
    taxed = {"governance": {"economy_tax_rate": 0.05}}
    study("combined", seeds, combined, {"tax 0.05": ("economies", taxed)})


if __name__ == "__main__":
    main()
