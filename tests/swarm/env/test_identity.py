"""Identity and trust: the credential lifecycle, paid identities, trust scores, the credential rule."""

from __future__ import annotations

import hashlib
import json
import statistics
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm import load_scenario, run
from swarm.core.payoff import SoftPayoffEngine
from swarm.env.identity import (
    AUTHORITY,
    DORMANT_ACCOUNT,
    PERSONHOOD_ACCOUNT,
    CreateIdentity,
    CredentialBook,
    CredentialExpired,
    CredentialIssued,
    CredentialRevoked,
    Identity,
    IdentityCreated,
    IdentityMeasured,
    IssueCredential,
    RevokeCredential,
    trust_score,
)
from swarm.env.identity_view import IdentityView
from swarm.errors import ScenarioError
from swarm.events import ActionRejected, Event, InteractionCompleted
from swarm.kernel.component import Applied, At, Setup, Turn
from swarm.kernel.ledger import LedgerBooks
from swarm.runtime.eventlog import read_log
from swarm.views import AgentPublic

SYBILS = ["sybil_1", "sybil_2", "sybil_3"]


def scenario(seed: int = 3, epochs: int = 4, steps: int = 4, **identity: Any) -> Any:
    section = {"controllers": {"sybil_controller_1": SYBILS}, **identity}
    return load_scenario(
        {
            "scenario_id": "identity-test",
            "agents": [
                {"type": "honest", "count": 4},
                {"type": "sybil_controller", "count": 1},
                {"type": "adversarial", "name": "sybil", "count": len(SYBILS)},
            ],
            "simulation": {"n_epochs": epochs, "steps_per_epoch": steps, "seed": seed},
            "identity": section,
        }
    )


def events_of(sc: Any, tmp: Path) -> list[Any]:
    run(sc, out_dir=tmp)
    return read_log(tmp / "events.jsonl")[1]


# ------------------------------------------------------------ the credential book


@st.composite
def histories(draw: Any) -> list[tuple[str, int, int | None]]:
    """Operations: ("issue", epoch, expiry or None) and ("revoke", index, _)."""
    ops: list[tuple[str, int, int | None]] = []
    for _ in range(draw(st.integers(1, 12))):
        if ops and draw(st.booleans()):
            ops.append(("revoke", draw(st.integers(0, len(ops) - 1)), None))
        else:
            epoch = draw(st.integers(0, 20))
            ttl = draw(st.one_of(st.none(), st.integers(1, 10)))
            ops.append(("issue", epoch, None if ttl is None else epoch + ttl))
    return ops


@settings(max_examples=150, deadline=None)
@given(histories(), st.lists(st.integers(-2, 40), min_size=1, max_size=8))
def test_a_credential_is_valid_exactly_between_issue_and_expiry_unless_revoked(
    ops: list[tuple[str, int, int | None]], probes: list[int]
) -> None:
    book = CredentialBook()
    issued: list[Any] = []
    revoked: set[str] = set()
    for kind, a, b in ops:
        if kind == "issue":
            issued.append(book.issue(AUTHORITY, "x", "track_record", a, b))
        elif issued:
            cred = issued[a % len(issued)]
            first = cred.credential_id not in revoked
            assert (book.revoke(cred.credential_id) is not None) == first  # a second revocation is refused
            revoked.add(cred.credential_id)
        for cred in issued:  # revoked stays revoked, at every epoch, after every operation
            if cred.credential_id in revoked:
                assert not any(book.verify(cred.credential_id, e) for e in probes)
    for cred in issued:
        for e in probes:
            expected = (
                cred.credential_id not in revoked
                and cred.issued_epoch <= e
                and (cred.expires_epoch is None or e < cred.expires_epoch)
            )
            assert book.verify(cred.credential_id, e) == expected
    assert not book.verify("cred-unknown", 0)
    assert book.revocations.get("x", 0) == len(revoked)


def test_expiries_are_reported_once_and_never_for_revoked_or_lasting_credentials() -> None:
    book = CredentialBook()
    a = book.issue(AUTHORITY, "x", "track_record", 0, 3)
    b = book.issue(AUTHORITY, "x", "track_record", 0, 3)
    book.issue(AUTHORITY, "x", "personhood", 0, None)
    book.revoke(b.credential_id)
    assert book.newly_expired(2) == []
    assert [c.credential_id for c in book.newly_expired(3)] == [a.credential_id]
    assert book.newly_expired(9) == []


@settings(max_examples=200, deadline=None)
@given(st.booleans(), st.integers(0, 20), st.integers(0, 200), st.integers(0, 10))
def test_trust_is_bounded_and_moves_the_right_way(pop: bool, valid: int, age: int, revoked: int) -> None:
    t = trust_score(pop, valid, age, revoked)
    assert 0.0 <= t <= 1.0
    assert trust_score(pop, valid + 1, age, revoked) >= t
    assert trust_score(pop, valid, age + 1, revoked) >= t
    assert trust_score(pop, valid, age, revoked + 1) <= t
    assert trust_score(True, valid, age, revoked) >= trust_score(False, valid, age, revoked)


def test_trust_keeps_the_references_weights() -> None:
    assert trust_score(False, 0, 0, 0) == pytest.approx(0.3)
    assert trust_score(True, 0, 0, 0) == pytest.approx(0.5)
    assert trust_score(False, 3, 0, 0) == pytest.approx(0.6)
    assert trust_score(True, 10, 100, 0) == pytest.approx(1.0)
    assert trust_score(True, 1, 0, 1) == pytest.approx(0.45)


# ------------------------------------------------------------ the component alone


class Driven:
    """The component with a ledger of its own: every hook's entries are posted as the kernel would."""

    def __init__(self, **identity: Any) -> None:
        self.sc = scenario(**identity)
        ids = self.sc.agent_ids()
        setup = Setup(
            self.sc,
            self.sc.section("identity"),
            SoftPayoffEngine(self.sc.payoff),
            {a: s.type for a, s in ids},
        )
        self.c = Identity(setup)
        self.books = LedgerBooks()
        for agent_id, _ in ids:
            self.books.add(agent_id, 0.0, 100.0)
        self.events: list[Event] = []

    def agents(self) -> tuple[AgentPublic, ...]:
        return self.books.publics()

    def post(self, at: At, done: Applied) -> Applied:
        self.events += done.events
        self.events += self.books.post(at, done.entries)
        return done

    def start(self, epoch: int) -> Applied:
        return self.post(At(epoch, 0, 0), self.c.epoch_start(At(epoch, 0, 0), self.agents()))

    def act(self, epoch: int, *turns: tuple[str, Any]) -> Applied:
        at = At(epoch, 1, 0)
        index = {a.agent_id: a for a in self.agents()}
        return self.post(at, self.c.apply(at, [Turn(k, a, x) for k, (a, x) in enumerate(turns)], index))

    def end(self, epoch: int) -> Applied:
        return self.post(At(epoch, 4, 0), self.c.epoch_end(At(epoch, 4, 0), self.agents()))

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]


def test_dormant_identities_are_frozen_hold_nothing_and_have_no_identity_until_created() -> None:
    d = Driven()
    d.start(0)
    frozen = {a.agent_id for a in d.agents() if a.frozen}
    assert frozen == set(SYBILS)
    assert all(a.resources == 0 for a in d.agents() if a.agent_id in SYBILS)
    assert d.books.accounts[DORMANT_ACCOUNT] == pytest.approx(100.0 * len(SYBILS))
    view = d.c.view(At(0, 0, 0))
    assert view.dormant == frozenset(SYBILS)
    assert set(view.trust) == {a.agent_id for a in d.agents()} - set(SYBILS)
    assert view.credentialed == frozenset(view.trust)  # founders get a track record
    issued = d.of(CredentialIssued)
    assert {(e.subject, e.claim) for e in issued} == {
        (a, claim) for a in view.trust for claim in ("personhood", "track_record")
    }


def test_a_paid_identity_moves_money_through_the_ledger_and_money_is_conserved() -> None:
    d = Driven(personhood_cost=12.5, created_endowment=5.0)
    d.start(0)
    d.act(0, ("sybil_controller_1", CreateIdentity()))
    d.start(1)
    d.act(1, ("sybil_controller_1", CreateIdentity()))
    created = d.of(IdentityCreated)
    assert [e.identity for e in created] == SYBILS[:2]
    assert all(e.controller == "sybil_controller_1" and e.cost == 12.5 for e in created)
    assert d.books.accounts[PERSONHOOD_ACCOUNT] == pytest.approx(25.0)
    me = {a.agent_id: a for a in d.agents()}
    assert me["sybil_controller_1"].resources == pytest.approx(100.0 - 2 * 17.5)
    assert me["sybil_1"].resources == pytest.approx(5.0) and not me["sybil_1"].frozen
    assert me["sybil_3"].frozen
    assert d.books.imbalance() == pytest.approx(0.0, abs=1e-9)
    d.books.check_identity()
    # created identities hold personhood, but no track record yet: not credentialed
    view = d.c.view(At(1, 1, 0))
    assert "sybil_1" in view.trust and "sybil_1" not in view.credentialed
    assert view.trust["sybil_1"] < view.trust["honest_1"]


def test_creation_is_refused_without_the_money_or_a_dormant_identity_left() -> None:
    d = Driven(personhood_cost=150.0)
    d.start(0)
    d.act(0, ("sybil_controller_1", CreateIdentity()), ("honest_1", CreateIdentity()))
    reasons = [(e.agent_id, e.reason) for e in d.of(ActionRejected)]
    assert reasons == [
        ("sybil_controller_1", "cannot pay 150 (has 100)"),
        ("honest_1", "no dormant identity left to create"),
    ]
    assert d.of(IdentityCreated) == [] and PERSONHOOD_ACCOUNT not in d.books.accounts


def test_track_records_come_with_age_expire_and_are_renewed() -> None:
    d = Driven(credential_expiry_epochs=2, issue_min_age_epochs=2)
    d.start(0)
    d.act(0, ("sybil_controller_1", CreateIdentity()))
    for epoch in (1, 2):
        d.end(epoch - 1)
        d.start(epoch)
    # founders' track records (epoch 0, expiry 2) ran out at epoch 2 and were renewed
    expired = {e.subject for e in d.of(CredentialExpired)}
    assert expired == {a.agent_id for a in d.agents()} - set(SYBILS)
    renewed = [e for e in d.of(CredentialIssued) if e.epoch == 2 and e.claim == "track_record"]
    assert {e.subject for e in renewed} == expired | {"sybil_1"}  # sybil_1 is two epochs old now
    assert all(e.expires_epoch == 4 for e in renewed)
    assert "sybil_1" in d.c.view(At(2, 0, 0)).credentialed


def test_governance_freeze_revokes_credentials_and_the_vouches_issued() -> None:
    d = Driven(vouch_min_reputation=0.0, issue_min_age_epochs=3)
    d.start(0)
    d.act(0, ("sybil_controller_1", CreateIdentity()))
    d.start(1)
    d.act(1, ("sybil_controller_1", IssueCredential(subject="sybil_1")))
    vouch = [e for e in d.of(CredentialIssued) if e.claim == "vouch"]
    assert [(e.issuer, e.subject) for e in vouch] == [("sybil_controller_1", "sybil_1")]
    assert "sybil_1" in d.c.view(At(1, 2, 0)).credentialed
    from swarm.money import Freeze

    d.books.post(At(1, 3, 0), [Freeze(agent="sybil_controller_1", until_epoch=3, reason="breaker")])
    d.end(1)
    revoked = {(e.subject, e.reason) for e in d.of(CredentialRevoked)}
    assert ("sybil_controller_1", "frozen by governance") in revoked
    assert ("sybil_1", "issuer frozen by governance") in revoked
    view = d.c.view(At(2, 0, 0))
    assert "sybil_1" not in view.credentialed and "sybil_controller_1" not in view.credentialed
    before = d.c.trust("sybil_controller_1", 2)
    assert before is not None and before < d.c.trust("honest_1", 2)  # type: ignore[operator]
    # no new track record while the wait after a revocation lasts
    d.books.post(At(2, 0, 0), [])
    d.start(2)
    assert not [e for e in d.of(CredentialIssued) if e.subject == "sybil_controller_1" and e.epoch == 2]


def test_a_reputation_penalty_between_epochs_revokes_at_the_next_start() -> None:
    from swarm.money import Reputation

    d = Driven(revoke_below_reputation=-0.5)
    d.start(0)
    d.end(0)
    assert d.of(CredentialRevoked) == []
    d.books.post(At(0, 4, 0), [Reputation(agent="honest_2", amount=-1.0, reason="a lever's penalty")])
    d.start(1)
    assert [(e.subject, e.reason) for e in d.of(CredentialRevoked)] == [("honest_2", "reputation below -0.5")]
    assert "honest_2" not in d.c.view(At(1, 0, 0)).credentialed
    assert "honest_1" in d.c.view(At(1, 0, 0)).credentialed


def test_vouching_and_issuer_revocation_follow_the_rules() -> None:
    d = Driven()  # nobody vouches by default
    d.start(0)
    d.act(0, ("honest_1", IssueCredential(subject="honest_2")))
    assert d.of(ActionRejected)[-1].reason == "agents cannot issue credentials in this scenario"
    d = Driven(vouch_min_reputation=0.0)
    d.start(0)
    d.act(
        0,
        ("honest_1", IssueCredential(subject="honest_1")),
        ("honest_1", IssueCredential(subject="sybil_1")),
        ("honest_1", IssueCredential(subject="honest_2")),
    )
    assert [e.reason for e in d.of(ActionRejected)] == ["cannot vouch for oneself", "no identity sybil_1"]
    cred = d.of(CredentialIssued)[-1]
    d.act(0, ("honest_3", RevokeCredential(credential_id=cred.credential_id)))
    d.act(0, ("honest_1", RevokeCredential(credential_id=cred.credential_id)))
    d.act(0, ("honest_1", RevokeCredential(credential_id=cred.credential_id)))
    assert [e.reason for e in d.of(ActionRejected)][-2:] == [
        f"no credential {cred.credential_id} issued by you",
        f"credential {cred.credential_id} is already revoked",
    ]
    assert [(e.credential_id, e.reason) for e in d.of(CredentialRevoked)] == [
        (cred.credential_id, "revoked by its issuer")
    ]


# ------------------------------------------------------------------- whole runs


def test_in_a_run_dormant_identities_act_only_once_paid_for(tmp_path: Path) -> None:
    events = events_of(
        scenario(require_credentials_to_propose=True, require_credentials_to_vote=True), tmp_path
    )
    born = {e.identity: (e.epoch, e.step) for e in events if isinstance(e, IdentityCreated)}
    assert born, "the controller never created an identity"
    for e in events:
        who = getattr(e, "agent_id", None) or getattr(e, "voter", None) or getattr(e, "author", None)
        if who in SYBILS and type(e).__name__ not in (
            "AgentCreated",
            "AgentFrozen",
            "AgentUnfrozen",
            "LedgerUpdated",
        ):
            assert who in born and (e.epoch, e.step) > born[who], e
    measured = [e for e in events if isinstance(e, IdentityMeasured)]
    assert len(measured) == 4 and sum(m.created for m in measured) == len(born)
    assert sum(m.cost_paid for m in measured) == pytest.approx(10.0 * len(born))
    refused = {(e.action, e.reason) for e in events if isinstance(e, ActionRejected) and e.agent_id in SYBILS}
    assert ("propose", "no valid credential (this scenario requires one to propose)") in refused
    assert ("vote", "no valid credential (this scenario requires one to vote)") in refused
    founders = {a for a, _ in scenario().agent_ids()} - set(SYBILS)
    assert not any(
        isinstance(e, ActionRejected) and e.agent_id in founders and "credential" in e.reason for e in events
    )


def _sybil_share(events: list[Any]) -> float:
    """Share of answered interactions and votes that came from paid-for identities."""
    mine = total = 0
    for e in events:
        who = None
        if isinstance(e, InteractionCompleted):
            who = e.interaction.initiator
        elif type(e).__name__ == "VoteCast":
            who = e.voter
        if who is not None:
            total += 1
            mine += who in SYBILS
    return mine / total if total else 0.0


def test_requiring_credentials_cuts_the_sybils_share(tmp_path: Path) -> None:
    free: list[float] = []
    required: list[float] = []
    for seed in range(4):
        for rule, out in ((False, free), (True, required)):
            sc = scenario(
                seed,
                epochs=5,
                steps=5,
                require_credentials_to_propose=rule,
                require_credentials_to_vote=rule,
                issue_min_age_epochs=3,
            )
            out.append(_sybil_share(events_of(sc, tmp_path / f"{seed}-{rule}")))
    assert statistics.fmean(free) > 0.05
    assert all(r < f for r, f in zip(required, free, strict=True))
    assert statistics.fmean(required) < 0.5 * statistics.fmean(free)


def test_a_higher_price_buys_fewer_identities(tmp_path: Path) -> None:
    created = {}
    for cost in (5.0, 60.0):
        events = events_of(scenario(epochs=4, personhood_cost=cost), tmp_path / str(cost))
        created[cost] = sum(isinstance(e, IdentityCreated) for e in events)
    assert created[60.0] < created[5.0]


def _digest(path: Path) -> str:
    lines = path.read_text().splitlines()[1:]
    return hashlib.sha256(
        "\n".join(
            json.dumps({k: v for k, v in json.loads(x).items() if k != "wall_clock"}, sort_keys=True)
            for x in lines
        ).encode()
    ).hexdigest()


def test_same_seed_same_log(tmp_path: Path) -> None:
    sc = scenario(seed=5, vouch_min_reputation=0.0, require_credentials_to_vote=True)
    run(sc, out_dir=tmp_path / "a")
    run(sc, out_dir=tmp_path / "b")
    assert _digest(tmp_path / "a" / "events.jsonl") == _digest(tmp_path / "b" / "events.jsonl")


def test_a_run_killed_mid_way_resumes_to_the_same_log(tmp_path: Path) -> None:
    """The component's state (credentials, dormant identities, the epoch's tally) survives a checkpoint."""
    from swarm.runtime import checkpoint as ck
    from tests.swarm.test_checkpoints import events, kill_at, resume
    from tests.swarm.test_checkpoints import run as run_async

    sc = scenario(seed=4, epochs=5, steps=3, vouch_min_reputation=0.0, require_credentials_to_propose=True)
    run_async(sc, tmp_path / "plain")
    run_async(sc, tmp_path / "cut", checkpoint_every=1)
    log = tmp_path / "cut" / "events.jsonl"
    at_2 = ck.read_info(ck.path_for(tmp_path / "cut", 2)).log_bytes
    kill_at(tmp_path / "cut", at_2 + (log.stat().st_size - at_2) // 3)  # inside epoch 2
    resume(tmp_path / "cut")
    assert events(log) == events(tmp_path / "plain" / "events.jsonl")


def test_runs_without_the_section_carry_none_of_its_metrics(tmp_path: Path) -> None:
    sc = load_scenario(
        {"agents": [{"type": "honest", "count": 3}], "simulation": {"n_epochs": 2, "steps_per_epoch": 2}}
    )
    result = run(sc, out_dir=tmp_path)
    assert all("identities_created" not in m and "mean_trust_score" not in m for m in result.epochs)
    with_it = run(scenario(epochs=2, steps=2), out_dir=tmp_path / "with")
    assert all("identities_created" in m and m["mean_trust_score"] is not None for m in with_it.epochs)


def test_the_documented_scenario_loads_and_runs(tmp_path: Path) -> None:
    import yaml

    text = (Path(__file__).resolve().parents[3] / "docs" / "threats.md").read_text()
    section = text[text.index("## Identity and trust") :]
    block = section[
        section.index("```yaml") + len("```yaml") : section.index("```", section.index("```yaml") + 7)
    ]
    data = yaml.safe_load(block)
    data["simulation"] = {"n_epochs": 2, "steps_per_epoch": 2}
    result = run(load_scenario(data), out_dir=tmp_path)
    assert result.epochs[-1]["sybil_identities_active"] == 2


def test_the_view_gates_the_broker_and_the_feed() -> None:
    view = IdentityView(10.0, True, False, credentialed=frozenset({"a"}))
    assert view.may_propose("a") and not view.may_propose("b")
    assert view.may_vote("b")


def test_an_llm_agent_is_shown_its_own_standing_and_a_mock_rebuilds_it() -> None:
    view = IdentityView(10.0, True, True, credentialed=frozenset({"a"}), trust={"a": 0.7123, "b": 0.6})
    shown = msgspec.json.decode(msgspec.json.encode(Identity.prompt_view(view, "a")))
    assert shown == {
        "credentialed": True,
        "trust": 0.712,
        "personhood_cost": 10.0,
        "required_to_propose": True,
        "required_to_vote": True,
    }
    back = Identity.view_from_prompt(shown, "a")
    assert back.may_propose("a") and back.may_vote("a") and back.trust_of("a") == 0.712
    assert not Identity.view_from_prompt({**shown, "credentialed": False}, "a").may_propose("a")


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        ({"personhood_cost": -1}, "identity.personhood_cost", ">= 0"),
        ({"credential_expiry_epochs": 0}, "identity.credential_expiry_epochs", ">= 1"),
        ({"issue_min_age_epochs": -1}, "identity.issue_min_age_epochs", ">= 0"),
        ({"controllers": {"nobody_1": ["sybil_1"]}}, "identity.controllers.nobody_1", "no agent 'nobody_1'"),
        (
            {"controllers": {"sybil_controller_1": ["sybil_9"]}},
            "identity.controllers.sybil_controller_1.0",
            "no agent 'sybil_9'",
        ),
        (
            {"controllers": {"sybil_controller_1": ["sybil_1", "sybil_1"]}},
            "identity.controllers.sybil_controller_1.1",
            "already listed",
        ),
        ({"controllers": {"sybil_1": ["sybil_1"]}}, "identity.controllers.sybil_1.0", "its own controller"),
        (
            {"max_identities_per_entity": 2},
            "identity.controllers.sybil_controller_1",
            "max_identities_per_entity (2)",
        ),
        (
            {"sybil_detection_enabled": True},
            "identity.sybil_detection_enabled",
            "governance.sybil_detection_enabled",
        ),
        ({"require_credentials_to_vote": "yes"}, "identity.require_credentials_to_vote", "bool"),
        ({"bogus": 1}, "identity.bogus", "unknown key"),
    ],
)
def test_bad_keys_are_refused_naming_key_value_and_expectation(
    change: dict[str, Any], key: str, words: str
) -> None:
    with pytest.raises(ScenarioError) as info:
        scenario(**change)
    text = str(info.value)
    assert key in text and words in text, text
