"""What do the price of an identity and the credential rule do to a sybil attack?

Population: 12 honest, 2 opportunistic, 1 sybil controller and 6 dormant
identities it may create (adversarial agents named ``sybil``); 10 epochs x 10
steps. The controller creates one identity per epoch while it can pay the
proof-of-personhood cost (``identities_per_epoch`` 1); created identities hold
personhood but earn a track record only after ``issue_min_age_epochs`` (3)
epochs. Conditions, over the same seeds (paired):

* ``free``: personhood_cost 0, no credential rule;
* ``price 10`` / ``price 40``: the cost paid per identity, no credential rule;
* ``price 10 + rule``: cost 10, and only credentialed agents may propose and vote;
* ``price 10 + rule, rep 1``: the same, and the authority issues a track record
  (a new one, or a renewal once the founders' run out at epoch 5) only to agents
  with reputation at least 1;
* ``rule + breaker``: cost 10 and the rule, with the circuit breaker on (freeze for
  2 epochs above toxicity 0.6), whose freezes revoke credentials; and the same
  with ``revoke_on_freeze: false``.

Measures (from each run's event log): identities created; resources paid for
them; **sybil share** of the run's answered interactions and of its votes (those
initiated or cast by created identities); **harm from sybils** to honest agents:
Σ (1 - p)·h over accepted interactions a created identity proposed to an honest
agent; **honest welfare**: Σ of honest agents' payoffs; **honest refused**:
honest agents' proposals and votes refused for want of a credential.

Prints the mean and 95% t-interval over seeds of each, and paired differences.

    python examples/identity_study.py [--seeds 10]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import swarm
from swarm.analysis.aggregate import mean_ci
from swarm.env.feed import VoteCast
from swarm.env.identity import CredentialRevoked, IdentityCreated
from swarm.events import ActionRejected, InteractionCompleted
from swarm.runtime.eventlog import read_log

SYBILS = [f"sybil_{k}" for k in range(1, 7)]
RULE = {"personhood_cost": 10.0, "require_credentials_to_propose": True, "require_credentials_to_vote": True}
BREAKER = {"circuit_breaker_enabled": True, "freeze_threshold_toxicity": 0.6, "freeze_duration_epochs": 2}
CONDITIONS: dict[str, dict[str, Any]] = {
    "free": {"personhood_cost": 0.0},
    "price 10": {"personhood_cost": 10.0},
    "price 40": {"personhood_cost": 40.0},
    "price 10 + rule": {
        "personhood_cost": 10.0,
        "require_credentials_to_propose": True,
        "require_credentials_to_vote": True,
    },
    "price 10 + rule, rep 1": {
        "personhood_cost": 10.0,
        "require_credentials_to_propose": True,
        "require_credentials_to_vote": True,
        "issue_min_reputation": 1.0,
    },
    "rule + breaker": {**RULE, "governance": BREAKER},
    "rule + breaker, no revocation": {**RULE, "revoke_on_freeze": False, "governance": BREAKER},
}


def scenario(condition: dict[str, Any], seed: int, epochs: int = 10, steps: int = 10) -> Any:
    identity = {k: v for k, v in condition.items() if k != "governance"}
    return swarm.load_scenario(
        {
            "scenario_id": "identity-study",
            "agents": [
                {"type": "honest", "count": 12},
                {"type": "opportunistic", "count": 2},
                {"type": "sybil_controller", "count": 1},
                {"type": "adversarial", "name": "sybil", "count": len(SYBILS)},
            ],
            "simulation": {"n_epochs": epochs, "steps_per_epoch": steps, "seed": seed},
            "governance": condition.get("governance", {}),
            "identity": {
                "issue_min_age_epochs": 3,
                "credential_expiry_epochs": 5,
                "controllers": {"sybil_controller_1": SYBILS},
                **identity,
            },
        }
    )


def measure(identity: dict[str, Any], seed: int) -> dict[str, float]:
    sc = scenario(identity, seed)
    with tempfile.TemporaryDirectory() as tmp:
        swarm.run(sc, out_dir=Path(tmp))
        _, events = read_log(Path(tmp) / "events.jsonl")
    types = {a: spec.type for a, spec in sc.agent_ids()}
    honest = {a for a, t in types.items() if t == "honest"}
    sybils = set(SYBILS)
    h = sc.payoff.h
    created = cost = revoked = 0.0
    answered = answered_sybil = votes = votes_sybil = refused = 0
    harm = welfare = 0.0
    for ev in events:
        if isinstance(ev, IdentityCreated):
            created += 1
            cost += ev.cost
        elif isinstance(ev, InteractionCompleted):
            i = ev.interaction
            answered += 1
            answered_sybil += i.initiator in sybils
            if i.accepted:
                if i.initiator in sybils and i.counterparty in honest:
                    harm += (1.0 - i.p) * h
                welfare += ev.payoff_initiator * (i.initiator in honest)
                welfare += ev.payoff_counterparty * (i.counterparty in honest)
        elif isinstance(ev, CredentialRevoked):
            revoked += 1
        elif isinstance(ev, VoteCast):
            votes += 1
            votes_sybil += ev.voter in sybils
        elif isinstance(ev, ActionRejected) and ev.agent_id in honest and "no valid credential" in ev.reason:
            refused += 1
    return {
        "identities created": created,
        "paid for identities": cost,
        "sybil share, interactions": answered_sybil / answered if answered else 0.0,
        "sybil share, votes": votes_sybil / votes if votes else 0.0,
        "harm from sybils": harm,
        "honest welfare": welfare,
        "honest refused": float(refused),
        "credentials revoked": revoked,
    }


def _cell(xs: list[float]) -> str:
    m, _, lo, hi = mean_ci(xs)
    return f"{m:.3f} [{lo:.3f}, {hi:.3f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()
    runs = {name: [measure(c, seed) for seed in range(args.seeds)] for name, c in CONDITIONS.items()}
    keys = list(next(iter(runs.values()))[0])
    print(f"{args.seeds} seeds; mean [95% CI]")
    width = max(map(len, CONDITIONS)) + 2
    for k in keys:
        print(f"\n{k}")
        for name, rows in runs.items():
            print(f"  {name:<{width}}{_cell([r[k] for r in rows])}")
    print("\npaired differences")
    pairs = (
        ("price 10", "free"),
        ("price 40", "price 10"),
        ("price 10 + rule", "price 10"),
        ("price 10 + rule, rep 1", "price 10"),
        ("rule + breaker", "rule + breaker, no revocation"),
    )
    for a, b in pairs:
        for k in keys:
            d = [x[k] - y[k] for x, y in zip(runs[a], runs[b], strict=True)]
            print(f"  {a} - {b}: {k:<28}{_cell(d)}")


if __name__ == "__main__":
    main()
