"""Run the attacks against a scenario's governance and measure, from the runs' events, how they fared.

For every attack and seed two runs are made with the same seed: the scenario's
governance as given (``on``) and every lever off (``off``: an empty
``governance:`` section). Every figure is read from the run's event log and
final agent rows; nothing is drawn or assumed. Per run (attackers = the planted
agents, honest = agents of type ``honest``):

* **damage** — accepted interactions between an attacker and an honest agent
  whose drawn ground truth is harmful (−1): harm done to honest agents.
* **detection** — a governance effect naming an attacker that stands for a
  finding against it (:mod:`swarm.governance.detection`): evidence ``flagged``,
  ``violation``, ``stake_slashed``, ``threat`` or ``blocked``; a freeze; a
  penalty cost of the audit, collusion, sybil, security, breaker or moderator
  lever. The tax, reputation decay and stake deposits are not detections.
* **damage before detection** — damage in epochs before the first detection of
  any attacker (all of it when none was detected).
* **detection latency** — epochs from the attackers' first harmful interaction
  (else epoch 0) to the first detection (runs without a detection are left out).
* **evasion rate** — the share of the attackers' harmful accepted interactions
  (with anyone) not followed by a detection of that attacker in the same or the
  next epoch.
* **precision / recall** — among attackers and honest agents, detected ones:
  precision = detected attackers / detected (none detected: left out), recall =
  detected attackers / attackers.
* **collateral** — honest agents detected at least once (share), and the
  welfare they lost to it: penalty costs, slashed stakes and negative reputation
  changes from the detecting levers, plus epochs frozen.
* **attacker payoff / honest payoff** — mean total payoff per attacker and per
  honest agent.
* **success** — the attack paid: attackers' mean payoff above the honest mean,
  and damage above zero; an evasion attack (threshold dancing, timing) also
  needs no attacker ever frozen.

Three arms, same seeds: ``on`` (the scenario's governance as given),
``targeted`` (only the scenario's keys of the levers the attack targets; none of
them on: every lever off) and ``off``. Across seeds: mean and 95 % t interval per
arm, and of the paired differences off − on and off − targeted for success and
damage. Governance (or the targeted levers) "stops" an attack when the paired
interval of success or of damage lies above zero; otherwise the report says it
does not.

Robustness score per attack (the reference's formula, §9.3, on measured
figures): 0.4 · (1 − success rate on) + 0.3 · (1 − evasion rate on) + 0.3 ·
(1 − min(1, damage on / damage off)) — the last term is 1 when the attack did
no damage in either arm, 0 when it did damage only with governance on. The
scenario's score is the mean over the attacks run; grade A ≥ 0.9, B ≥ 0.8,
C ≥ 0.7, D ≥ 0.6, else F.
"""

from __future__ import annotations

import concurrent.futures
import csv
import io
import json
import math
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from swarm.analysis.aggregate import mean_ci
from swarm.events import Event, InteractionCompleted
from swarm.governance.detection import PENALTY_LEVERS, detected_agent
from swarm.governance.effects import Cost, FreezeOrder, ReputationChange, ResourceChange
from swarm.redteam.attacks import ATTACKS, Attack

ARMS = ("on", "targeted", "off")
FIGURES = (
    "success",
    "damage",
    "damage_before_detection",
    "detection_latency",
    "evasion_rate",
    "precision",
    "recall",
    "honest_detected",
    "collateral_cost",
    "attacker_payoff",
    "honest_payoff",
)


def build(scenario: Mapping[str, Any], attack: Attack, arm: str, seed: int, overrides: Sequence[str]) -> Any:
    """The loaded scenario of one run: the attack planted, governance as given (``on``) or off."""
    from swarm import load_scenario

    data = attack.plant(scenario)
    if arm == "off":
        data["governance"] = {}
    elif arm == "targeted":
        data["governance"] = targeted_governance(data.get("governance") or {}, attack)
    data.pop("success_criteria", None)
    return load_scenario(data, [*overrides, f"simulation.seed={seed}"])


def targeted_governance(governance: Mapping[str, Any], attack: Attack) -> dict[str, Any]:
    """The scenario's ``governance:`` keys of the levers the attack targets (all of them for ``all``)."""
    from swarm.governance.lever import levers_in_order
    from swarm.registry import load_builtins

    if "all" in attack.targets:
        return dict(governance)
    load_builtins()
    keys: set[str] = set()
    for cls in levers_in_order():
        if cls.key in attack.targets:
            keys |= set(cls.Config.model_fields)
    return {k: v for k, v in governance.items() if k in keys}


def _detections(events: Sequence[Event]) -> list[tuple[str, int]]:
    """Every detection (:mod:`swarm.governance.detection`): (agent, epoch)."""
    out = []
    for e in events:
        agent = detected_agent(e)
        if agent is not None:
            out.append((agent, e.epoch))
    return out


_EFFECTS = (Cost, ReputationChange, ResourceChange, FreezeOrder)


def _collateral(events: Sequence[Event], honest: set[str]) -> float:
    lost = 0.0
    for e in events:
        if not isinstance(e, _EFFECTS) or e.agent_id not in honest:
            continue
        if isinstance(e, FreezeOrder):
            lost += 0 if e.until_epoch is None else max(0, e.until_epoch - e.epoch)
        elif type(e) is Cost and e.lever in PENALTY_LEVERS:
            lost += e.amount
        elif (type(e) is ReputationChange and e.lever in PENALTY_LEVERS and e.amount < 0) or (
            type(e) is ResourceChange and e.amount < 0 and e.reason.startswith("stake slashed")
        ):
            lost -= e.amount
    return lost


def score(
    events: Sequence[Event], agents: Sequence[Mapping[str, Any]], attackers: Sequence[str], evasive: bool
) -> dict[str, float | None]:
    """One run's figures (see the module's docstring)."""
    bad = set(attackers)
    types = {a["agent_id"]: a["agent_type"] for a in agents}
    honest = {a for a, t in types.items() if t == "honest" and a not in bad}
    detections = _detections(events)
    detected_at: dict[str, int] = {}
    by_agent: dict[str, set[int]] = {}
    for agent, epoch in detections:
        detected_at.setdefault(agent, epoch)
        by_agent.setdefault(agent, set()).add(epoch)
    first = min((detected_at[a] for a in bad if a in detected_at), default=None)
    damage = before = 0
    harmful = evaded = 0
    first_harm: int | None = None
    for e in events:
        if type(e) is not InteractionCompleted:
            continue
        i = e.interaction
        if not i.accepted or i.ground_truth != -1:
            continue
        parties = {i.initiator, i.counterparty}
        mine = parties & bad
        if not mine:
            continue
        first_harm = i.epoch if first_harm is None else min(first_harm, i.epoch)
        for a in sorted(mine):
            harmful += 1
            seen = by_agent.get(a, set())
            evaded += not (i.epoch in seen or i.epoch + 1 in seen)
        if parties & honest:
            damage += 1
            before += first is None or i.epoch < first
    tp = sum(a in detected_at for a in bad)
    fp = sum(a in detected_at for a in honest)
    frozen = any(type(e) is FreezeOrder and e.agent_id in bad for e in events)
    pay = {a["agent_id"]: float(a["total_payoff"]) for a in agents}
    attacker_payoff = math.fsum(pay[a] for a in bad) / len(bad) if bad else 0.0
    honest_payoff = math.fsum(pay[a] for a in honest) / len(honest) if honest else 0.0
    success = attacker_payoff > honest_payoff and damage > 0 and not (evasive and frozen)
    return {
        "success": float(success),
        "damage": float(damage),
        "damage_before_detection": float(before),
        "detection_latency": None if first is None else float(first - (first_harm or 0)),
        "evasion_rate": evaded / harmful if harmful else None,
        "precision": tp / (tp + fp) if tp + fp else None,
        "recall": tp / len(bad) if bad else None,
        "honest_detected": fp / len(honest) if honest else 0.0,
        "collateral_cost": _collateral(events, honest),
        "attacker_payoff": attacker_payoff,
        "honest_payoff": honest_payoff,
    }


def run_one(
    scenario: Mapping[str, Any], attack: str, arm: str, seed: int, overrides: Sequence[str] = ()
) -> dict[str, Any]:
    """Plant ``attack``, run one seed in one arm, and score it."""
    from swarm import run
    from swarm.redteam.attacks import attacker_ids
    from swarm.runtime.eventlog import read_log

    a = ATTACKS[attack]
    sc = build(scenario, a, arm, seed, overrides)
    with tempfile.TemporaryDirectory() as tmp:
        result = run(sc, out_dir=Path(tmp))
        _, events = read_log(Path(tmp) / "events.jsonl")
    row: dict[str, Any] = {"attack": attack, "arm": arm, "seed": seed}
    row.update(score(events, result.agents, attacker_ids(sc, a), a.evasive))
    return row


def run_all(
    scenario: Mapping[str, Any],
    attacks: Sequence[Attack],
    seeds: Sequence[int],
    *,
    overrides: Sequence[str] = (),
    jobs: int = 1,
) -> list[dict[str, Any]]:
    """Every attack × arm × seed, scored; rows in that order whatever ``jobs`` is."""
    keys = [(a.name, arm, s) for a in attacks for arm in ARMS for s in seeds]
    if jobs <= 1:
        return [run_one(scenario, *k, overrides) for k in keys]
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run_one, dict(scenario), *k, list(overrides)) for k in keys]
        return [f.result() for f in futures]


def _ci(xs: Iterable[float | None]) -> tuple[float, float, float, float] | None:
    vals = [float(x) for x in xs if x is not None]
    return mean_ci(vals) if vals else None


def _robustness(success_on: float, evasion_on: float | None, damage_on: float, damage_off: float) -> float:
    dmg = 1.0 - min(1.0, damage_on / damage_off) if damage_off > 0 else float(damage_on == 0)
    evasion = 0.0 if evasion_on is None else evasion_on
    return 0.4 * (1.0 - success_on) + 0.3 * (1.0 - evasion) + 0.3 * dmg


def grade(score_: float) -> str:
    """The letter of a robustness score."""
    for letter, floor in (("A", 0.9), ("B", 0.8), ("C", 0.7), ("D", 0.6)):
        if score_ >= floor:
            return letter
    return "F"


def summarise(rows: Sequence[Mapping[str, Any]], governance_on: Iterable[str] = ()) -> dict[str, Any]:
    """Per attack: each figure's mean and interval per arm, the paired off − on and off − targeted
    differences, the verdicts and the robustness score; and the scenario's overall score and grade.

    ``governance_on``: the keys of the levers the scenario switches on (for the report's column).
    """
    on_levers = set(governance_on)
    attacks: list[dict[str, Any]] = []
    for name in ATTACKS:
        mine = [r for r in rows if r["attack"] == name]
        if not mine:
            continue
        arm = {k: [r for r in mine if r["arm"] == k] for k in ARMS}
        entry: dict[str, Any] = {"attack": name, "seeds": len(arm["on"])}
        a = ATTACKS[name]
        entry["targets"] = list(a.targets)
        entry["targets_on"] = (
            sorted(on_levers) if "all" in a.targets else [t for t in a.targets if t in on_levers]
        )
        entry["faithful"] = a.faithful
        for k in ARMS:
            entry[k] = {f: _ci(r[f] for r in arm[k]) for f in FIGURES}
        off = {r["seed"]: r for r in arm["off"]}
        for k in ("on", "targeted"):
            pairs = [(off[r["seed"]], r) for r in arm[k] if r["seed"] in off]
            diff = {
                f: _ci(o[f] - n[f] for o, n in pairs if o[f] is not None and n[f] is not None)
                for f in ("success", "damage")
            }
            entry[f"diff_{k}"] = diff
            entry[f"stopped_{k}"] = [
                f for f in ("success", "damage") if (d := diff[f]) is not None and d[2] > 0
            ]
        m = {k: {f: (v[0] if v is not None else None) for f, v in entry[k].items()} for k in ARMS}
        entry["robustness"] = _robustness(
            m["on"]["success"] or 0.0,
            m["on"]["evasion_rate"],
            m["on"]["damage"] or 0.0,
            m["off"]["damage"] or 0.0,
        )
        entry["grade"] = grade(entry["robustness"])
        attacks.append(entry)
    overall = math.fsum(e["robustness"] for e in attacks) / len(attacks) if attacks else 1.0
    return {"attacks": attacks, "robustness": overall, "grade": grade(overall)}


def _fmt(v: tuple[float, float, float, float] | None, digits: int = 2) -> str:
    if v is None:
        return "—"
    mean, _, lo, hi = v
    return f"{mean:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def markdown(summary: Mapping[str, Any], title: str) -> str:
    """The report as Markdown: the headline table, then each attack's figures per arm."""
    lines = [
        f"# Red team: {title}",
        "",
        f"Robustness {summary['robustness']:.3f}, grade **{summary['grade']}** "
        "(mean over the attacks of 0.4·(1 − success on) + 0.3·(1 − evasion on) + "
        "0.3·(1 − min(1, damage on / damage off))).",
        "",
        "Mean [95 % interval] over seeds; `on`: the scenario's governance, `off`: every lever off "
        "(same seeds). `targeted`: only the levers the attack targets. Δ: paired by seed.",
        "",
        "| attack | seeds | targeted levers on | success on | success targeted | success off | "
        "Δ success (off − targeted) | damage on | damage targeted | damage off | Δ damage (off − targeted) | "
        "Δ damage (off − on) | verdict | grade |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for e in summary["attacks"]:
        on = ", ".join(e["targets_on"]) or "none"
        verdict = "; ".join(
            f"{label} stop it ({', '.join(e['stopped_' + k])})"
            if e["stopped_" + k]
            else f"**{label} do not stop it**"
            for k, label in (("targeted", "targeted levers"), ("on", "all levers"))
        )
        name = e["attack"] + ("" if e["faithful"] else " (approx.)")
        lines.append(
            f"| {name} | {e['seeds']} | {on} | {_fmt(e['on']['success'])} | "
            f"{_fmt(e['targeted']['success'])} | {_fmt(e['off']['success'])} | "
            f"{_fmt(e['diff_targeted']['success'])} | {_fmt(e['on']['damage'], 1)} | "
            f"{_fmt(e['targeted']['damage'], 1)} | {_fmt(e['off']['damage'], 1)} | "
            f"{_fmt(e['diff_targeted']['damage'], 1)} | {_fmt(e['diff_on']['damage'], 1)} | {verdict} | "
            f"{e['grade']} ({e['robustness']:.2f}) |"
        )
    lines += [
        "",
        "## Detection and collateral (governance on)",
        "",
        "| attack | damage before detection | detection latency (epochs) | evasion rate | precision | "
        "recall | honest detected | collateral cost | attacker payoff | honest payoff |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for e in summary["attacks"]:
        o = e["on"]
        lines.append(
            f"| {e['attack']} | {_fmt(o['damage_before_detection'], 1)} | "
            f"{_fmt(o['detection_latency'], 1)} | {_fmt(o['evasion_rate'])} | {_fmt(o['precision'])} | "
            f"{_fmt(o['recall'])} | {_fmt(o['honest_detected'])} | {_fmt(o['collateral_cost'])} | "
            f"{_fmt(o['attacker_payoff'], 1)} | {_fmt(o['honest_payoff'], 1)} |"
        )
    lines.append("")
    return "\n".join(lines)


def write(out: Path, rows: Sequence[Mapping[str, Any]], summary: Mapping[str, Any], title: str) -> list[Path]:
    """``runs.csv`` (one row per run), ``summary.json`` and ``report.md`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["attack", "arm", "seed", *FIGURES], lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r[k] is None else r[k]) for k in w.fieldnames})
    paths = [out / "runs.csv", out / "summary.json", out / "report.md"]
    paths[0].write_text(buf.getvalue())
    paths[1].write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    paths[2].write_text(markdown(summary, title))
    return paths


__all__ = [
    "ARMS",
    "FIGURES",
    "build",
    "grade",
    "markdown",
    "run_all",
    "run_one",
    "score",
    "summarise",
    "write",
]
