"""The eight attacks of the red team, as populations planted into a scenario.

Each attack is a scenario fragment: agent items added to the scenario's
``agents`` list. The planted agents are named ``rt_<attack>`` (ids
``rt_<attack>_1``, ...); that name is the ground truth the evaluator uses to tell
the attackers apart, and no lever reads it — levers see only what agents do.
The scenario's own agents (its background adversaries included) stay as they are.

What each attack plants (the reference's catalogue, ``governance.md`` §9.2):

* ``reputation_farming`` — one adaptive adversary restricted to reputation
  farming: careful work until its reputation passes 5, then harmful trades
  against the most reputable agents.
* ``collusion_ring`` — three ``colluder`` agents of one ring: they accept and pay
  each other whatever the quality, up-vote each other and exploit outsiders.
* ``threshold_dancing`` — one adaptive adversary restricted to threshold
  dancing: harm pushed up while its p stays above the published audit and
  breaker thresholds.
* ``sybil_attack`` — five ``sybil`` identities of one controller: one plan, one
  budget, the same votes and targets.
* ``timing_attack`` — one adaptive adversary restricted to the timing attack:
  cover until three epochs pass undetected, then a strike.
* ``information_laundering`` — *approximated*: two adaptive adversaries
  restricted to laundering amplify each other's disruptive posts and send masked
  (honest-looking, low-quality) replies to agents who trust them. There are no
  recruited honest proxies; the pair are each other's proxies.
* ``resource_drain`` — *approximated*: two adaptive adversaries restricted to
  griefing that ask a payment of 3 with every harmful trade (extraction with
  little contribution). Nothing measures an ecosystem's depletion other than the
  honest agents' payoffs.
* ``governance_gaming`` — one adaptive adversary that budgets its harm against
  the published circuit-breaker rule, and dances around the audit threshold.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

PREFIX = "rt_"
"""The name prefix of every planted attacker."""


def _adaptive(strategies: list[str], count: int = 1, **extra: Any) -> Callable[[str], list[dict[str, Any]]]:
    def items(name: str) -> list[dict[str, Any]]:
        config: dict[str, Any] = {"strategies": strategies, "exploration_rate": 0.0, **extra}
        return [{"type": "adaptive_adversary", "name": name, "count": count, "config": config}]

    return items


def _colluders(name: str) -> list[dict[str, Any]]:
    return [{"type": "colluder", "name": name, "count": 3, "config": {"ring": "rt"}}]


def _sybils(name: str) -> list[dict[str, Any]]:
    return [{"type": "sybil", "name": name, "count": 5, "config": {"controller": "rt"}}]


@dataclass(frozen=True)
class Attack:
    """One attack of the library."""

    name: str
    description: str
    targets: tuple[str, ...]
    """The levers it is aimed at (lever keys; ``all`` for every lever)."""
    faithful: bool
    """False: the population approximates the reference's attack (its docstring says how)."""
    evasive: bool
    """An evasion attack: it only succeeds if no attacker was ever frozen."""
    _items: Callable[[str], list[dict[str, Any]]]

    def planted(self) -> str:
        """The ``name`` of the planted agent item (agent ids ``<name>_1``, ...)."""
        return PREFIX + self.name

    def plant(self, scenario: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of the scenario mapping with the attackers added to its ``agents``."""
        out = copy.deepcopy(dict(scenario))
        out["agents"] = [*out.get("agents", []), *self._items(self.planted())]
        return out


ATTACKS: dict[str, Attack] = {
    a.name: a
    for a in (
        Attack(
            "reputation_farming",
            "builds reputation with careful work, then harvests it with harmful trades",
            ("reputation_decay", "circuit_breaker"),
            True,
            False,
            _adaptive(["reputation_farming"], reputation_threshold=5.0),
        ),
        Attack(
            "collusion_ring",
            "three colluders boost each other and exploit outsiders",
            ("collusion", "circuit_breaker"),
            True,
            False,
            _colluders,
        ),
        Attack(
            "threshold_dancing",
            "keeps its interactions just above the published audit and breaker thresholds",
            ("circuit_breaker", "random_audit"),
            True,
            True,
            _adaptive(["threshold_dancing"]),
        ),
        Attack(
            "sybil_attack",
            "five identities of one controller share a plan, a budget and their votes",
            ("vote_normalization", "bandwidth_cap", "collusion", "sybil"),
            True,
            False,
            _sybils,
        ),
        Attack(
            "timing_attack",
            "stays clean until it has gone undetected for three epochs, then strikes",
            ("random_audit", "circuit_breaker"),
            True,
            True,
            _adaptive(["timing_attack"]),
        ),
        Attack(
            "information_laundering",
            "two allies amplify each other's disruptive posts and send masked replies (approximated)",
            ("circuit_breaker", "collusion"),
            False,
            False,
            _adaptive(["information_laundering"], count=2),
        ),
        Attack(
            "resource_drain",
            "two extractors ask a high payment for harmful work (approximated)",
            ("transaction_tax", "staking"),
            False,
            False,
            _adaptive(["griefing"], count=2, attack_transfer=3.0),
        ),
        Attack(
            "governance_gaming",
            "budgets its harm against the published breaker rule and dances around the audit threshold",
            ("all",),
            True,
            False,
            _adaptive(["governance_gaming", "threshold_dancing"]),
        ),
    )
}


def select(names: Sequence[str] | None) -> list[Attack]:
    """The attacks named (all eight for None), in the library's order.

    Raises ``ValueError`` naming an unknown attack and listing the known ones.
    """
    if not names:
        return list(ATTACKS.values())
    unknown = [n for n in names if n not in ATTACKS]
    if unknown:
        raise ValueError(f"--attacks: unknown attack {unknown[0]!r}; expected some of: {', '.join(ATTACKS)}")
    wanted = set(names)
    return [a for a in ATTACKS.values() if a.name in wanted]


def attacker_ids(scenario: Any, attack: Attack) -> list[str]:
    """The planted attackers' ids in a loaded scenario (the evaluator's ground truth)."""
    return [agent_id for agent_id, spec in scenario.agent_ids() if spec.name == attack.planted()]


__all__ = ["ATTACKS", "PREFIX", "Attack", "attacker_ids", "select"]
