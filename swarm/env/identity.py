"""Identity and trust: verifiable credentials, proof of personhood as a price, trust scores.

The ``identity:`` section switches this component on. Every agent of the run is
an *identity*; the ones listed under ``controllers`` start *dormant* (declared,
frozen, holding nothing) until their controller pays to create them with a
:class:`CreateIdentity` action. The kernel cannot add agents to a running
world, so a sybil attack is planted this way: the identities exist in the
books from the start, but they neither act nor answer, nobody can propose to
them and they hold no credential until someone pays for them.

**Credentials** ``{id, issuer, subject, claim, issued_epoch, expires_epoch, revoked}`` are
valid at epoch ``e`` exactly when ``issued_epoch ≤ e < expires_epoch`` (no
expiry: for good) and they were not revoked; a revoked credential stays revoked.
Claims:

* ``personhood`` — issued by the authority (``identity:authority``) when an identity
  is created (founders get it at the start); it never expires.
* ``track_record`` — issued by the authority at an epoch's start to every identity
  that has existed for ``issue_min_age_epochs`` epochs, has reputation at least
  ``issue_min_reputation``, is not frozen and holds no valid one; it expires after
  ``credential_expiry_epochs``. Founders get one at the start when
  ``founders_credentialed``.
* ``vouch`` — issued by an agent (:class:`IssueCredential`) that is credentialed
  and has reputation at least ``vouch_min_reputation``; same expiry.

An agent is *credentialed* while it holds a valid ``track_record`` or ``vouch``.
At an epoch's end, and again at the next one's start (after the levers' epoch-end
penalties), the authority revokes every credential of an agent frozen by
governance (``revoke_on_freeze``) and of one whose reputation fell below
``revoke_below_reputation``, and the vouches such an agent issued; an issuer can
revoke its own (:class:`RevokeCredential`). After a revocation the authority
waits ``issue_min_age_epochs`` epochs before issuing it a track record again.

**Trust** of an identity at an epoch: ``clamp(0.3 + 0.2·[personhood] + min(0.4,
0.1·valid credentials) + min(0.1, 0.02·age in epochs) − 0.15·revocations, 0, 1)``
(the reference's weights for personhood and credentials, counting only the
subject's own credentials, plus age and revocations). It is published in the
snapshot (:class:`~swarm.env.identity_view.IdentityView`) with who is
credentialed; with ``require_credentials_to_propose`` / ``..._to_vote`` the
broker and the feed refuse uncredentialed agents' proposals and votes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

from swarm.actions import Action
from swarm.env.feed import VoteCast
from swarm.env.identity_view import IdentityView
from swarm.errors import ConfigProblem
from swarm.events import ActionRejected, Event, InteractionCompleted
from swarm.kernel.component import Applied, At, RateLimit, Setup, Turn, WorldComponent, component
from swarm.metrics.registry import last_of, latest, mean_of, run_figure, sum_of
from swarm.money import Freeze, Transfer, Unfreeze
from swarm.views import AgentPublic

if TYPE_CHECKING:
    from swarm.scenario import Scenario

AUTHORITY = "identity:authority"
"""The issuer of personhood and track-record credentials."""
PERSONHOOD_ACCOUNT = "identity:personhood"
"""The system account that receives what agents pay to create identities."""
DORMANT_ACCOUNT = "identity:dormant"
"""Where dormant identities' endowments are set aside at the start (for good)."""
ACTING_CLAIMS = frozenset({"track_record", "vouch"})
"""Claims that make an agent credentialed."""

# ------------------------------------------------------------------------ settings

_ELSEWHERE = {
    "sybil_detection_enabled": "governance.sybil_detection_enabled (the sybil detection lever)",
    "behavioral_similarity_threshold": "governance.sybil_similarity_threshold (the sybil detection lever)",
    "proof_of_personhood_required": "personhood_cost (every identity created in a run pays it)",
}


class IdentityConfig(BaseModel):
    """The ``identity:`` section."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, populate_by_name=True, allow_inf_nan=False
    )

    enabled: bool = Field(default=True, description="false: the scenario has no identity layer")
    personhood_cost: float = Field(
        default=10.0,
        ge=0.0,
        le=1_000_000.0,
        validation_alias=AliasChoices("personhood_cost", "identity_creation_cost"),
        description="resources paid (to identity:personhood) to create an identity",
    )
    created_endowment: float = Field(
        default=0.0,
        ge=0.0,
        le=1_000_000.0,
        description="resources the controller gives an identity it creates (a dormant one's own endowment "
        "is set aside in identity:dormant at the start)",
    )
    credential_expiry_epochs: int = Field(
        default=50, ge=1, le=100_000, description="epochs a track record or vouch stays valid"
    )
    founders_credentialed: bool = Field(
        default=True, description="agents present at the start get a track record at epoch 0"
    )
    issue_min_reputation: float = Field(
        default=0.0,
        ge=-1_000_000.0,
        le=1_000_000.0,
        description="reputation the authority asks for a track record",
    )
    issue_min_age_epochs: int = Field(
        default=2,
        ge=0,
        le=100_000,
        description="epochs an identity must exist (and wait after a revocation) before a track record",
    )
    vouch_min_reputation: float | None = Field(
        default=None,
        ge=-1_000_000.0,
        le=1_000_000.0,
        description="reputation a credentialed agent needs to vouch for another (None: nobody vouches)",
    )
    revoke_on_freeze: bool = Field(
        default=True, description="an agent frozen by governance loses its credentials at the epoch's end"
    )
    revoke_below_reputation: float | None = Field(
        default=None,
        ge=-1_000_000.0,
        le=1_000_000.0,
        description="an agent whose reputation is below this at an epoch's end loses its credentials",
    )
    require_credentials_to_propose: bool = Field(
        default=False, description="only credentialed agents may propose interactions"
    )
    require_credentials_to_vote: bool = Field(default=False, description="only credentialed agents may vote")
    max_identities_per_entity: int | None = Field(
        default=None, ge=1, le=100_000, description="identities a controller may hold, its own included"
    )
    controllers: dict[str, list[str]] = Field(
        default_factory=dict,
        description="controller agent id → the dormant identities it may create, in order",
    )

    @model_validator(mode="before")
    @classmethod
    def _reference_keys(cls, data: Any) -> Any:
        """The reference's identity keys that mean something else here are named, not just unknown."""
        if isinstance(data, Mapping):
            for key, instead in _ELSEWHERE.items():
                if key in data:
                    raise ConfigProblem(f"identity.{key}", "a reference key set elsewhere here", instead)
        return data

    @model_validator(mode="after")
    def _distinct(self) -> IdentityConfig:
        seen: dict[str, str] = {}
        for controller, identities in self.controllers.items():
            for index, identity in enumerate(identities):
                where = f"identity.controllers.{controller}.{index}"
                if identity == controller:
                    raise ConfigProblem(where, f"{identity!r} is its own controller", "another agent's id")
                if identity in seen:
                    raise ConfigProblem(
                        where,
                        f"{identity!r} is already listed under {seen[identity]!r}",
                        "each identity once",
                    )
                seen[identity] = controller
        for controller in self.controllers:
            if controller in seen:
                raise ConfigProblem(
                    f"identity.controllers.{controller}",
                    f"{controller!r} is itself a dormant identity of {seen[controller]!r}",
                    "a controller that exists from the start",
                )
        return self


# ------------------------------------------------------------------------ actions


class CreateIdentity(Action, tag="create_identity", frozen=True):
    """Pay the proof-of-personhood cost to bring your next dormant identity into the run."""


class IssueCredential(Action, tag="issue_credential", frozen=True):
    """Vouch for another agent: issue it a credential (needs a credential and enough reputation)."""

    subject: str


class RevokeCredential(Action, tag="revoke_credential", frozen=True):
    """Revoke a credential you issued."""

    credential_id: str


# ------------------------------------------------------------------------- events


class IdentityCreated(Event, tag="identity_created", frozen=True):
    """A controller paid ``cost`` (proof of personhood) and gave ``endowment`` to bring ``identity`` in."""

    identity: str
    controller: str
    cost: float
    endowment: float = 0.0


class CredentialIssued(Event, tag="credential_issued", frozen=True):
    credential_id: str
    issuer: str
    subject: str
    claim: str
    expires_epoch: int | None


class CredentialRevoked(Event, tag="credential_revoked", frozen=True):
    credential_id: str
    issuer: str
    subject: str
    reason: str


class CredentialExpired(Event, tag="credential_expired", frozen=True):
    credential_id: str
    subject: str


class IdentityMeasured(Event, tag="identity_measured", frozen=True):
    """The identity layer at an epoch's end; counts are the epoch's."""

    identities: int
    created: int
    created_active: int
    """Identities created during the run (sybils) that are active (neither dormant nor frozen)."""
    credentialed: int
    issued: int
    revoked: int
    expired: int
    cost_paid: float
    interactions: int
    credentialed_interactions: int
    created_interactions: int
    votes: int
    created_votes: int
    mean_trust: float | None


# ----------------------------------------------------------------------- the book


@dataclass(slots=True)
class Credential:
    credential_id: str
    issuer: str
    subject: str
    claim: str
    issued_epoch: int
    expires_epoch: int | None
    revoked: bool = False
    expired_logged: bool = False

    def valid_at(self, epoch: int) -> bool:
        """Valid exactly when issued_epoch ≤ epoch < expires_epoch (no expiry: for good) and not revoked."""
        if self.revoked or epoch < self.issued_epoch:
            return False
        return self.expires_epoch is None or epoch < self.expires_epoch


class CredentialBook:
    """Every credential of a run, by id in issue order; pure and synchronous."""

    def __init__(self) -> None:
        self.credentials: dict[str, Credential] = {}
        self.by_subject: dict[str, list[Credential]] = {}
        self.revocations: dict[str, int] = {}
        """Per subject, credentials of it revoked so far."""
        self._counter = 0

    def issue(self, issuer: str, subject: str, claim: str, epoch: int, expires: int | None) -> Credential:
        self._counter += 1
        cred = Credential(f"cred-{self._counter}", issuer, subject, claim, epoch, expires)
        self.credentials[cred.credential_id] = cred
        self.by_subject.setdefault(subject, []).append(cred)
        return cred

    def verify(self, credential_id: str, epoch: int) -> bool:
        """Whether the credential exists and is valid at ``epoch``."""
        cred = self.credentials.get(credential_id)
        return cred is not None and cred.valid_at(epoch)

    def revoke(self, credential_id: str) -> Credential | None:
        """Revoke a credential; None when unknown or already revoked (a revocation is never undone)."""
        cred = self.credentials.get(credential_id)
        if cred is None or cred.revoked:
            return None
        cred.revoked = True
        self.revocations[cred.subject] = self.revocations.get(cred.subject, 0) + 1
        return cred

    def valid(self, subject: str, epoch: int, claims: frozenset[str] | None = None) -> list[Credential]:
        return [
            c
            for c in self.by_subject.get(subject, ())
            if c.valid_at(epoch) and (claims is None or c.claim in claims)
        ]

    def newly_expired(self, epoch: int) -> list[Credential]:
        """Unrevoked credentials that have run out by ``epoch`` and were not reported yet (marks them)."""
        out = []
        for c in self.credentials.values():
            if (
                not c.revoked
                and not c.expired_logged
                and c.expires_epoch is not None
                and epoch >= c.expires_epoch
            ):
                c.expired_logged = True
                out.append(c)
        return out


def trust_score(personhood: bool, valid: int, age: int, revocations: int) -> float:
    """clamp(0.3 + 0.2·[personhood] + min(0.4, 0.1·valid) + min(0.1, 0.02·age) − 0.15·revocations, 0, 1)."""
    score = 0.3 + (0.2 if personhood else 0.0) + min(0.4, 0.1 * valid) + min(0.1, 0.02 * age)
    return min(1.0, max(0.0, score - 0.15 * revocations))


@dataclass(slots=True)
class _Identity:
    created_epoch: int
    controller: str
    personhood: bool = True
    last_revoked_epoch: int | None = None


# ----------------------------------------------------------------------- component


@component
class Identity(WorldComponent):
    """Credentials, proof-of-personhood identities and trust scores (the ``identity:`` section)."""

    key = "identity"
    order = 15
    Config = IdentityConfig
    actions = (CreateIdentity, IssueCredential, RevokeCredential)
    rate_limits = (
        RateLimit("identities_per_epoch", (CreateIdentity,), "epoch", 1, "identities created per epoch"),
        RateLimit(
            "credentials_per_epoch",
            (IssueCredential, RevokeCredential),
            "epoch",
            1,
            "credentials issued or revoked per epoch",
        ),
    )
    view_type = IdentityView
    prompt_rules = (
        "Identity: agents hold credentials (personhood, track record, vouches) that expire and can be "
        "revoked; a trust score summarises each agent's credential history. Creating a new identity "
        "costs resources; a credentialed agent with enough reputation may vouch for another."
    )
    config: IdentityConfig

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        c = self.config
        self.book = CredentialBook()
        self.dormant: dict[str, str] = {i: ctl for ctl, ids in c.controllers.items() for i in ids}
        """Dormant identity → its controller (until created)."""
        self.identities: dict[str, _Identity] = {}
        self.created: set[str] = set()
        self._epoch = 0
        self._view: IdentityView | None = None
        self._tally = dict.fromkeys(_TALLY, 0)
        self._cost_paid = 0.0

    @classmethod
    def check(cls, scenario: Scenario) -> None:
        config: IdentityConfig = scenario.section(cls.key)
        ids = {agent_id for agent_id, _ in scenario.agent_ids()}
        for controller, identities in config.controllers.items():
            if controller not in ids:
                raise ConfigProblem(
                    f"identity.controllers.{controller}",
                    f"no agent {controller!r}",
                    "an agent id of this scenario",
                )
            for index, identity in enumerate(identities):
                if identity not in ids:
                    raise ConfigProblem(
                        f"identity.controllers.{controller}.{index}",
                        f"no agent {identity!r}",
                        "an agent id of this scenario",
                    )
            cap = config.max_identities_per_entity
            if cap is not None and len(identities) + 1 > cap:
                raise ConfigProblem(
                    f"identity.controllers.{controller}",
                    f"{len(identities)} identities besides its own, above max_identities_per_entity ({cap})",
                    f"at most {cap - 1} dormant identities per controller",
                )

    # ------------------------------------------------------------------ helpers

    def _credentialed(self, agent: str) -> bool:
        return bool(self.book.valid(agent, self._epoch, ACTING_CLAIMS))

    def _changed(self) -> None:
        self._view = None

    def _issue(self, at: At, issuer: str, subject: str, claim: str, expires: bool, out: Applied) -> None:
        until = at.epoch + self.config.credential_expiry_epochs if expires else None
        cred = self.book.issue(issuer, subject, claim, at.epoch, until)
        self._tally["issued"] += 1
        self._changed()
        out.events.append(
            CredentialIssued(
                epoch=at.epoch,
                step=at.step,
                credential_id=cred.credential_id,
                issuer=issuer,
                subject=subject,
                claim=claim,
                expires_epoch=until,
            )
        )

    def _revoke(self, at: At, cred: Credential, reason: str, out: Applied) -> None:
        if self.book.revoke(cred.credential_id) is None:
            return
        self._tally["revoked"] += 1
        self._changed()
        if (who := self.identities.get(cred.subject)) is not None and cred.claim in ACTING_CLAIMS:
            who.last_revoked_epoch = at.epoch
        out.events.append(
            CredentialRevoked(
                epoch=at.epoch,
                step=at.step,
                credential_id=cred.credential_id,
                issuer=cred.issuer,
                subject=cred.subject,
                reason=reason,
            )
        )

    def _reject(self, at: At, agent: str, action: str, reason: str, out: Applied) -> None:
        out.events.append(
            ActionRejected(epoch=at.epoch, step=at.step, agent_id=agent, action=action, reason=reason)
        )

    def trust(self, agent: str, epoch: int) -> float | None:
        """The trust score of an existing identity at ``epoch`` (None for a dormant or unknown one)."""
        who = self.identities.get(agent)
        if who is None:
            return None
        valid = len(self.book.valid(agent, epoch))
        return trust_score(
            who.personhood, valid, max(0, epoch - who.created_epoch), self.book.revocations.get(agent, 0)
        )

    # -------------------------------------------------------------------- hooks

    def view(self, at: At) -> IdentityView:
        if self._view is None:
            c = self.config
            ids = self.identities
            self._view = IdentityView(
                personhood_cost=c.personhood_cost + c.created_endowment,
                require_to_propose=c.require_credentials_to_propose,
                require_to_vote=c.require_credentials_to_vote,
                credentialed=frozenset(a for a in ids if self._credentialed(a)),
                dormant=frozenset(self.dormant),
                trust={a: t for a in ids if (t := self.trust(a, self._epoch)) is not None},
            )
        return self._view

    @classmethod
    def prompt_view(cls, view: IdentityView, agent_id: str) -> IdentityPrompt:
        return IdentityPrompt(
            credentialed=view.is_credentialed(agent_id),
            trust=round(view.trust_of(agent_id), 3),
            personhood_cost=view.personhood_cost,
            required_to_propose=view.require_to_propose,
            required_to_vote=view.require_to_vote,
        )

    @classmethod
    def view_from_prompt(cls, value: Any, agent_id: str) -> IdentityView:
        p = msgspec.convert(value, IdentityPrompt)
        return IdentityView(
            personhood_cost=p.personhood_cost,
            require_to_propose=p.required_to_propose,
            require_to_vote=p.required_to_vote,
            credentialed=frozenset({agent_id}) if p.credentialed else frozenset(),
            trust={agent_id: p.trust},
        )

    def epoch_start(self, at: At, agents: Sequence[AgentPublic]) -> Applied:
        out = Applied()
        self._epoch = at.epoch
        self._changed()
        c = self.config
        self._revocations(at, agents, out)
        if at.epoch == 0 and not self.identities:
            for a in agents:
                if a.agent_id in self.dormant:
                    out.entries.append(
                        Freeze(agent=a.agent_id, until_epoch=None, reason="identity not created yet")
                    )
                    if a.resources > 0:
                        out.entries.append(
                            Transfer(
                                payer=a.agent_id,
                                payee=DORMANT_ACCOUNT,
                                amount=a.resources,
                                reason="endowment of an identity not created yet",
                            )
                        )
                    continue
                self.identities[a.agent_id] = _Identity(0, a.agent_id)
                self._issue(at, AUTHORITY, a.agent_id, "personhood", False, out)
                if c.founders_credentialed:
                    self._issue(at, AUTHORITY, a.agent_id, "track_record", True, out)
        for cred in self.book.newly_expired(at.epoch):
            self._tally["expired"] += 1
            out.events.append(
                CredentialExpired(
                    epoch=at.epoch, step=at.step, credential_id=cred.credential_id, subject=cred.subject
                )
            )
        track = frozenset({"track_record"})
        for a in agents:
            who = self.identities.get(a.agent_id)
            if (
                who is None
                or a.frozen
                or a.reputation < c.issue_min_reputation
                or at.epoch - who.created_epoch < c.issue_min_age_epochs
                or (
                    who.last_revoked_epoch is not None
                    and at.epoch - who.last_revoked_epoch < c.issue_min_age_epochs
                )
                or self.book.valid(a.agent_id, at.epoch, track)
            ):
                continue
            self._issue(at, AUTHORITY, a.agent_id, "track_record", True, out)
        return out

    def apply(self, at: At, turns: Sequence[Turn], agents: Mapping[str, AgentPublic]) -> Applied:
        out = Applied()
        for _, agent, action in turns:
            if isinstance(action, CreateIdentity):
                self._create(at, agent, agents, out)
            elif isinstance(action, IssueCredential):
                self._vouch(at, agent, action.subject, agents, out)
            elif isinstance(action, RevokeCredential):
                cred = self.book.credentials.get(action.credential_id)
                if cred is None or cred.issuer != agent:
                    self._reject(
                        at, agent, action.type, f"no credential {action.credential_id} issued by you", out
                    )
                elif cred.revoked:
                    self._reject(
                        at, agent, action.type, f"credential {action.credential_id} is already revoked", out
                    )
                else:
                    self._revoke(at, cred, "revoked by its issuer", out)
        return out

    def _create(self, at: At, agent: str, agents: Mapping[str, AgentPublic], out: Applied) -> None:
        c = self.config
        mine = [i for i in c.controllers.get(agent, ()) if i in self.dormant]
        me = agents.get(agent)
        if not mine:
            self._reject(at, agent, "create_identity", "no dormant identity left to create", out)
            return
        price = c.personhood_cost + c.created_endowment
        if me is None or me.resources < price:
            have = me.resources if me is not None else 0.0
            self._reject(at, agent, "create_identity", f"cannot pay {price:g} (has {have:g})", out)
            return
        identity = mine[0]
        del self.dormant[identity]
        self.created.add(identity)
        self.identities[identity] = _Identity(at.epoch, agent)
        self._cost_paid += c.personhood_cost
        self._tally["created"] += 1
        if c.personhood_cost > 0:
            out.entries.append(
                Transfer(
                    payer=agent,
                    payee=PERSONHOOD_ACCOUNT,
                    amount=c.personhood_cost,
                    reason="proof of personhood",
                    ref=identity,
                )
            )
        if c.created_endowment > 0:
            out.entries.append(
                Transfer(
                    payer=agent, payee=identity, amount=c.created_endowment, reason="endowment", ref=identity
                )
            )
        out.entries.append(Unfreeze(agent=identity, reason="identity created"))
        out.events.append(
            IdentityCreated(
                epoch=at.epoch,
                step=at.step,
                identity=identity,
                controller=agent,
                cost=c.personhood_cost,
                endowment=c.created_endowment,
            )
        )
        self._issue(at, AUTHORITY, identity, "personhood", False, out)

    def _vouch(
        self, at: At, agent: str, subject: str, agents: Mapping[str, AgentPublic], out: Applied
    ) -> None:
        bar = self.config.vouch_min_reputation
        me = agents.get(agent)
        reason = None
        if bar is None:
            reason = "agents cannot issue credentials in this scenario"
        elif subject == agent:
            reason = "cannot vouch for oneself"
        elif subject not in self.identities or subject not in agents:
            reason = f"no identity {subject}"
        elif me is None or me.reputation < bar:
            reason = f"reputation below {bar:g}"
        elif not self._credentialed(agent):
            reason = "only a credentialed agent may vouch"
        if reason is not None:
            self._reject(at, agent, "issue_credential", reason, out)
            return
        self._issue(at, agent, subject, "vouch", True, out)

    def observe_settled(self, at: At, completed: Sequence[InteractionCompleted]) -> Applied:
        t = self._tally
        for ev in completed:
            initiator = ev.interaction.initiator
            t["interactions"] += 1
            if initiator in self.created:
                t["created_interactions"] += 1
            if self._credentialed(initiator):
                t["credentialed_interactions"] += 1
        return Applied()

    def observe_events(self, at: At, events: Sequence[Event]) -> None:
        t = self._tally
        for ev in events:
            if type(ev) is VoteCast:
                t["votes"] += 1
                if ev.voter in self.created:
                    t["created_votes"] += 1

    def epoch_end(self, at: At, agents: Sequence[AgentPublic]) -> Applied:
        out = Applied()
        self._revocations(at, agents, out)
        out.events.append(self._measure(at, agents))
        return out

    def _revocations(self, at: At, agents: Sequence[AgentPublic], out: Applied) -> None:
        """Revoke the credentials of agents frozen by governance or below the reputation bar, and the
        vouches they issued (at an epoch's end, and at the next one's start for what levers did in
        between: their epoch-end penalties)."""
        c = self.config
        for a in agents:
            if a.agent_id not in self.identities:
                continue
            why = None
            if c.revoke_on_freeze and a.frozen:
                why = "frozen by governance"
            elif c.revoke_below_reputation is not None and a.reputation < c.revoke_below_reputation:
                why = f"reputation below {c.revoke_below_reputation:g}"
            if why is None:
                continue
            for cred in self.book.valid(a.agent_id, at.epoch, ACTING_CLAIMS):
                self._revoke(at, cred, why, out)
            for cred in list(self.book.credentials.values()):
                if cred.issuer == a.agent_id and cred.valid_at(at.epoch):
                    self._revoke(at, cred, f"issuer {why}", out)

    def _measure(self, at: At, agents: Sequence[AgentPublic]) -> IdentityMeasured:
        t = self._tally
        frozen = {a.agent_id for a in agents if a.frozen}
        trusts = [s for a in self.identities if (s := self.trust(a, at.epoch)) is not None]
        measured = IdentityMeasured(
            epoch=at.epoch,
            step=at.step,
            identities=len(self.identities),
            created=t["created"],
            created_active=sum(1 for a in self.created if a not in frozen),
            credentialed=sum(1 for a in self.identities if self._credentialed(a)),
            issued=t["issued"],
            revoked=t["revoked"],
            expired=t["expired"],
            cost_paid=self._cost_paid,
            interactions=t["interactions"],
            credentialed_interactions=t["credentialed_interactions"],
            created_interactions=t["created_interactions"],
            votes=t["votes"],
            created_votes=t["created_votes"],
            mean_trust=math.fsum(trusts) / len(trusts) if trusts else None,
        )
        self._tally = dict.fromkeys(_TALLY, 0)
        self._cost_paid = 0.0
        return measured


_TALLY = (
    "created",
    "issued",
    "revoked",
    "expired",
    "interactions",
    "credentialed_interactions",
    "created_interactions",
    "votes",
    "created_votes",
)


class IdentityPrompt(msgspec.Struct, frozen=True):
    """What an LLM agent is told about its own standing."""

    credentialed: bool
    trust: float
    personhood_cost: float
    required_to_propose: bool
    required_to_vote: bool


# ------------------------------------------------------------------------ metrics


def _share(part: int, whole: int) -> Any:  # None when there is nothing to share
    return part / whole if whole else None


_METRICS: tuple[tuple[str, str, Any], ...] = (
    ("identities_created", "identities created (paid for) in the epoch", lambda e: e.created),
    ("credentials_issued", "credentials issued in the epoch", lambda e: e.issued),
    ("credentials_revoked", "credentials revoked in the epoch", lambda e: e.revoked),
    ("credentials_expired", "credentials that ran out in the epoch", lambda e: e.expired),
    ("identity_cost_paid", "resources paid for new identities in the epoch", lambda e: e.cost_paid),
    (
        "sybil_identities_active",
        "identities created during the run that are active at the epoch's end",
        lambda e: e.created_active,
    ),
    (
        "credentialed_agents",
        "identities holding a valid credential at the epoch's end",
        lambda e: e.credentialed,
    ),
    (
        "credentialed_interaction_share",
        "share of the epoch's interactions proposed by credentialed agents",
        lambda e: _share(e.credentialed_interactions, e.interactions),
    ),
    (
        "sybil_interaction_share",
        "share of the epoch's interactions proposed by identities created during the run",
        lambda e: _share(e.created_interactions, e.interactions),
    ),
    (
        "sybil_vote_share",
        "share of the epoch's votes cast by identities created during the run",
        lambda e: _share(e.created_votes, e.votes),
    ),
    ("mean_trust_score", "mean trust score of the existing identities", lambda e: e.mean_trust),
)
for _name, _description, _value in _METRICS:
    latest(_name, IdentityMeasured, _description, _value, optional=True)
run_figure(
    "total_identities_created", "identities created (paid for) over the run", sum_of("identities_created")
)
run_figure(
    "total_identity_cost", "resources paid for new identities over the run", sum_of("identity_cost_paid")
)
run_figure(
    "avg_sybil_interaction_share",
    "mean over the epochs of the sybil interaction share",
    mean_of("sybil_interaction_share"),
)
run_figure("final_mean_trust_score", "mean trust score at the end", last_of("mean_trust_score"))
