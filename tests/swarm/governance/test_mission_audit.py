"""Mission audits: audited free riders are paid less, money stays conserved, probability 0 audits
nothing, the audit draws from its own stream, and bad settings name their key."""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm import load_scenario, run
from swarm.env.missions import JoinMission, MissionClosed, MissionProposed, MissionsConfig, MissionState
from swarm.errors import ScenarioError
from swarm.governance.effects import ReputationChange
from swarm.governance.mission_audit import (
    MissionAudit,
    MissionAudited,
    MissionAuditNotice,
    MissionAuditRule,
    withhold,
)
from swarm.governance.tax import TREASURY
from swarm.kernel.component import At, Turn
from swarm.kernel.ledger import LedgerBooks
from swarm.money import Entry
from swarm.runtime.eventlog import read_log
from tests.conftest import ROOT, make_scenario
from tests.swarm.governance.test_economy_tax import MEMBERS, WORK, done

AT = At(0, 1, 1)
# h1, h2 and c do the work; f initiates one poor interaction: it is the free rider
RIDDEN = [("h1", "h2", 0.8)] * 5 + [("h2", "c", 0.7)] * 4 + [("c", "h1", 0.9)] * 3 + [("f", "h1", 0.1)]


def settle(
    config: MissionsConfig, work: list[tuple[str, str, float]], audit: MissionAuditRule | None, seed: int = 0
) -> tuple[MissionClosed, list[Entry], list[Any]]:
    state = MissionState(config, random.Random(0), audit=audit, audit_rng=random.Random(seed))
    entries: list[Entry] = []
    events: list[Any] = []
    joins = [Turn(k, a, JoinMission(mission_id="m1")) for k, a in enumerate(("h1", "h2", "f"))]
    for out in (
        state.open_epoch(At(0, 0, 0), [MEMBERS["c"]]),
        state.apply(AT, joins, MEMBERS),
        state.observe(AT, [done(a, b, p, k) for k, (a, b, p) in enumerate(work)]),
        state.close_epoch(At(config.duration_epochs - 1, 10, 99)),
    ):
        entries += out.entries
        events += out.events
    [closed] = [e for e in events if isinstance(e, MissionClosed)]
    return closed, entries, events


def paid(closed: MissionClosed) -> dict[str, float]:
    return {a: x for a, _, x in closed.payouts}


# ------------------------------------------------------------------ the rule


SHARES = st.lists(st.tuples(st.floats(0.0, 100.0), st.booleans()), min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(SHARES, st.floats(0.0, 1.0), st.sampled_from(["members", "treasury"]))
def test_withholding_keeps_the_money_and_takes_exactly_the_penalty_from_riders(
    shares: list[tuple[float, bool]], penalty: float, destination: Any
) -> None:
    amounts = [a for a, _ in shares]
    riders = [r for _, r in shares]
    out, withheld, to_treasury = withhold(amounts, riders, penalty, destination)
    assert math.fsum(out) + to_treasury == pytest.approx(math.fsum(amounts), abs=1e-9)
    assert withheld == pytest.approx(penalty * math.fsum(a for a, r in shares if r), abs=1e-9)
    for before, after, r in zip(amounts, out, riders, strict=True):
        if r:
            assert after == pytest.approx(before * (1 - penalty))
        else:
            assert after >= before - 1e-12
    kept = math.fsum(a for a, r in shares if not r)
    if destination == "treasury" or kept <= 0:
        assert to_treasury == withheld
    else:
        assert to_treasury == 0.0


# ------------------------------------------------------------------ at settlement


@pytest.mark.parametrize("rule", ["equal", "proportional", "shapley"])
@pytest.mark.parametrize("destination", ["members", "treasury"])
def test_audited_free_riders_are_paid_less_than_unaudited_ones(rule: Any, destination: Any) -> None:
    config = MissionsConfig(payout=rule, objective_count=10, objective_p=0.5)
    plain, _, _ = settle(config, RIDDEN, None)
    audited, entries, events = settle(config, RIDDEN, MissionAuditRule(1.0, 0.5, destination=destination))
    assert plain.free_riders == audited.free_riders == ("f",)
    assert paid(audited)["f"] == pytest.approx(0.5 * paid(plain)["f"])
    [found] = [e for e in events if isinstance(e, MissionAudited)]
    assert found.lever == "mission_audit" and found.riders == ("f",) and found.destination == destination
    assert found.withheld == pytest.approx(0.5 * paid(plain)["f"])
    for a in ("c", "h1", "h2"):  # the others gain (members) or keep their payout (treasury)
        if destination == "members":
            assert paid(audited)[a] > paid(plain)[a]
        else:
            assert paid(audited)[a] == pytest.approx(paid(plain)[a])
    books = LedgerBooks()
    for a in MEMBERS:
        books.add(a, 0.0, 100.0)
    books.post(AT, entries)
    assert books.imbalance() == pytest.approx(0.0, abs=1e-9)
    assert books.accounts.get("mission:m1", 0.0) == pytest.approx(0.0, abs=1e-9)
    treasury = books.accounts.get(TREASURY, 0.0)
    assert treasury == pytest.approx(found.withheld if destination == "treasury" else 0.0)


def test_the_contract_term_still_works_and_the_audit_acts_on_top_of_it() -> None:
    config = MissionsConfig(payout="equal", objective_count=10, free_rider_penalty=0.5)
    contract, _, _ = settle(config, RIDDEN, None)
    both, _, _ = settle(config, RIDDEN, MissionAuditRule(1.0, 0.5))
    equal = contract.pool / 4
    assert paid(contract)["f"] == pytest.approx(0.5 * equal)  # the mission's own term
    assert paid(both)["f"] == pytest.approx(0.25 * equal)  # the audit takes half of what is left


@settings(max_examples=60, deadline=None)
@given(WORK, st.sampled_from(["equal", "proportional", "shapley"]), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_money_is_conserved_with_audits(work: Any, rule: Any, penalty: float, contract: float) -> None:
    config = MissionsConfig(payout=rule, objective_count=4, free_rider_penalty=contract)
    for destination in ("members", "treasury"):
        closed, entries, events = settle(
            config, work, MissionAuditRule(1.0, penalty, destination=destination)
        )
        books = LedgerBooks()
        for a in MEMBERS:
            books.add(a, 0.0, 100.0)
        books.post(AT, entries)
        assert books.imbalance() == pytest.approx(0.0, abs=1e-9)
        assert books.accounts.get("mission:m1", 0.0) == pytest.approx(0.0, abs=1e-9)
        assert all(x >= -1e-9 for _, _, x in closed.payouts)
        audits = [e for e in events if isinstance(e, MissionAudited)]
        assert len(audits) == (closed.status == "succeeded")


def test_probability_zero_audits_nothing_and_the_draw_is_seeded() -> None:
    config = MissionsConfig(payout="equal", objective_count=10)
    plain, plain_entries, _ = settle(config, RIDDEN, None)
    never, entries, events = settle(config, RIDDEN, MissionAuditRule(0.0, 1.0))
    assert never == plain and entries == plain_entries
    assert not [e for e in events if isinstance(e, MissionAudited)]

    def audited(seed: int) -> bool:
        events = settle(config, RIDDEN, MissionAuditRule(0.5, 1.0), seed)[2]
        return any(isinstance(e, MissionAudited) for e in events)

    draws = [audited(s) for s in range(20)]
    assert any(draws) and not all(draws)  # a coin per succeeded mission ...
    assert draws == [audited(s) for s in range(20)]  # ... drawn from the seeded stream


def test_a_reputation_penalty_is_an_effect_of_the_lever_on_each_rider_found() -> None:
    config = MissionsConfig(payout="equal", objective_count=10)
    _, _, events = settle(config, RIDDEN, MissionAuditRule(1.0, 0.5, reputation_penalty=0.3))
    changes = [e for e in events if isinstance(e, ReputationChange)]
    assert [(e.lever, e.agent_id, e.amount) for e in changes] == [("mission_audit", "f", -0.3)]


# ------------------------------------------------------------------ in a run


def _run(tmp: Path, keys: list[str]) -> list[Any]:
    scenario = load_scenario(ROOT / "scenarios" / "mission_economy.yaml", ["simulation.n_epochs=6", *keys])
    run(scenario, out_dir=tmp)
    return read_log(tmp / "events.jsonl")[1]


def test_in_a_run_audits_cut_free_riders_payouts_and_leave_the_missions_alone(tmp_path: Path) -> None:
    plain = _run(tmp_path / "plain", [])
    audited = _run(
        tmp_path / "audited",
        ["governance.mission_audit_enabled=true", "governance.mission_audit_probability=1.0"],
    )

    # the audit draws from its own stream: the same missions are proposed to the same coordinators
    def proposed(events: list[Any]) -> list[Any]:
        return [msgspec.structs.replace(e, seq=0) for e in events if isinstance(e, MissionProposed)]

    assert proposed(plain) == proposed(audited)
    before = {e.mission_id: e for e in plain if isinstance(e, MissionClosed) and e.status == "succeeded"}
    after = {e.mission_id: e for e in audited if isinstance(e, MissionClosed) and e.status == "succeeded"}
    ridden = [m for m, e in after.items() if e.free_riders]
    assert ridden, "the scenario's opportunistic members should be flagged"
    for m in ridden:
        for a in after[m].free_riders:
            assert paid(after[m])[a] < paid(before[m])[a] or paid(before[m])[a] == 0.0
    audits = [e for e in audited if isinstance(e, MissionAudited)]
    assert {e.mission_id for e in audits} == set(after)


@pytest.mark.parametrize(
    ("governance", "sections", "key", "expected"),
    [
        ({"mission_audit_enabled": True}, {}, "governance.mission_audit_enabled", "missions"),
        (
            {"mission_audit_enabled": True, "mission_audit_probability": 2.0},
            {"missions": {}},
            "governance.mission_audit_probability",
            "1",
        ),
        ({"mission_audit_penalty": 0.3}, {"missions": {}}, "governance.mission_audit_penalty", "enabled"),
        (
            {"mission_audit_enabled": True, "mission_audit_destination": "pocket"},
            {"missions": {}},
            "governance.mission_audit_destination",
            "members",
        ),
    ],
)
def test_bad_settings_name_the_key(
    governance: dict[str, Any], sections: dict[str, Any], key: str, expected: str
) -> None:
    with pytest.raises(ScenarioError) as info:
        make_scenario(governance=governance, **sections)
    text = str(info.value)
    assert key in text and expected in text


def test_the_notice_tells_agents_the_rule() -> None:
    config = MissionAudit.Config.model_validate(
        {"mission_audit_enabled": True, "mission_audit_probability": 0.3, "mission_audit_penalty": 0.4}
    )
    assert MissionAudit.notice(config) == MissionAuditNotice(0.3, 0.4, 0.0)
    assert MissionAudit.active(config) and not MissionAudit.active(MissionAudit.Config())
