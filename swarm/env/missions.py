"""Mission economy (``missions:``): teams pool stakes towards a measured objective and share the pool.

Each epoch ``missions_per_epoch`` missions are proposed, each by a coordinator who
pays ``coordinator_stake`` into the mission's account (``mission:<id>``, a system
account of the ledger). Agents join with :class:`JoinMission`, paying
``join_stake``; with its first participant a mission is *active*. While it is
active, every accepted interaction that a member initiates with another member of
the same mission counts towards its objective, and credits the initiator with
``p`` (the interaction's probability of being beneficial): an agent's
*contribution* is the sum of the ``p`` of the mission interactions it initiated.
An agent is in at most one open mission, so nothing is counted twice.

Objective: at least ``objective_count`` accepted mission interactions with mean
``p`` ≥ ``objective_p``. At each epoch's end an active mission that meets it
*succeeds*; one that reaches its deadline without meeting it *fails* (every
stake is refunded); a proposed mission nobody joined by its deadline *expires*
(the coordinator's stake is refunded). On success the pool (the stakes plus a
``success_bonus`` minted from outside) is paid out by ``payout``:

* ``equal`` — the same share to every member;
* ``proportional`` — shares proportional to contributions;
* ``shapley`` — the Shapley value of the game
  ``v(S) = min(1, Σ_{i∈S} cᵢ / objective_count)`` (the share of the objective
  the coalition's contributions achieve), exact by enumeration for teams of at
  most ``shapley_exact_max`` members, otherwise estimated from
  ``shapley_samples`` seeded random permutations, with the estimate's largest
  standard error logged.

A member whose contribution share is below ``free_rider_threshold`` times the
equal share is a *free rider*; ``free_rider_penalty`` withholds that fraction of
its payout and gives it to the other members in proportion to their payouts.
Money only moves through ledger entries, so it is conserved.

Two governance levers act here when they are on: the economy tax
(``economy_tax_rate``, :mod:`swarm.governance.economy_tax`) takes its share of a
succeeded mission's pool before the payout, and mission audits
(``mission_audit_enabled``, :mod:`swarm.governance.mission_audit`) withhold part
of an audited mission's free riders' payouts.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import msgspec
from pydantic import BaseModel, ConfigDict, Field

from swarm.actions import Action
from swarm.events import ActionRejected, Event, InteractionCompleted
from swarm.governance.economy_tax import EconomyTaxed, EconomyTaxRule, economy_tax_rule
from swarm.governance.effects import ReputationChange
from swarm.governance.mission_audit import (
    MISSION_AUDIT,
    MissionAudited,
    MissionAuditRule,
    mission_audit_rule,
    withhold,
)
from swarm.governance.tax import TREASURY
from swarm.kernel.component import Applied, At, Setup, Turn, WorldComponent, component
from swarm.metrics.registry import latest
from swarm.money import Entry, Mint, Transfer
from swarm.views import AgentPublic

PayoutRule = Literal["equal", "proportional", "shapley"]
MissionStatus = Literal["proposed", "active", "succeeded", "failed", "expired"]
MAX_MISSIONS_SHOWN = 8

# ----------------------------------------------------------------------- actions


class JoinMission(Action, tag="join_mission", frozen=True):
    """Join a proposed or active mission, paying its join stake into the reward pool."""

    mission_id: str


# ------------------------------------------------------------------------ events


class MissionProposed(Event, tag="mission_proposed", frozen=True):
    mission_id: str
    coordinator: str
    deadline_epoch: int
    objective_count: int
    objective_p: float
    stake: float


class MissionJoined(Event, tag="mission_joined", frozen=True):
    mission_id: str
    agent_id: str
    stake: float
    activated: bool
    """Whether this join made the mission active (its first participant)."""


class MissionContribution(Event, tag="mission_contribution", frozen=True):
    """A member's accepted interaction with a teammate counted towards the mission."""

    mission_id: str
    agent_id: str
    counterparty: str
    interaction_id: str
    p: float


class MissionClosed(Event, tag="mission_closed", frozen=True):
    """A mission ended; ``payouts`` is (agent, contribution, paid) per member, in joining order."""

    mission_id: str
    status: Literal["succeeded", "failed", "expired"]
    interactions: int
    mean_p: float | None
    pool: float
    rule: str
    payouts: tuple[tuple[str, float, float], ...] = ()
    free_riders: tuple[str, ...] = ()
    shapley_stderr: float | None = None
    """The largest standard error of the Monte Carlo Shapley estimate (0 when exact; None otherwise)."""


class MissionsMeasured(Event, tag="missions_measured", frozen=True):
    """The epoch's mission figures (None where no mission closed in the epoch)."""

    closed: int
    succeeded: int
    success_rate: float | None
    free_rider_share: float | None
    payout_gap: float | None


# -------------------------------------------------------------------------- view


class MissionView(msgspec.Struct, frozen=True, gc=False):
    """A mission open to join or under way."""

    mission_id: str
    coordinator: str
    status: MissionStatus
    members: tuple[str, ...]
    deadline_epoch: int
    objective_count: int
    objective_p: float
    interactions: int
    join_stake: float
    pool: float
    max_team: int | None = None
    """Members at most, coordinator included (a full mission refuses joins)."""


class MissionsView(msgspec.Struct, frozen=True):
    """The open missions (proposed or active), oldest first."""

    missions: tuple[MissionView, ...] = ()

    def mission_of(self, agent_id: str) -> MissionView | None:
        """The open mission ``agent_id`` is a member of, if any."""
        for m in self.missions:
            if agent_id in m.members:
                return m
        return None


class MissionsConfig(BaseModel):
    """The ``missions:`` section (present means on)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    enabled: bool = Field(default=True, description="false: the scenario has no missions")
    missions_per_epoch: int = Field(default=1, ge=0, le=100, description="missions proposed each epoch")
    duration_epochs: int = Field(default=3, ge=1, description="epochs from proposal to the deadline")
    objective_count: int = Field(default=6, ge=1, description="accepted mission interactions needed")
    objective_p: float = Field(default=0.5, ge=0.0, le=1.0, description="mean p those interactions need")
    coordinator_stake: float = Field(default=2.0, ge=0.0, description="paid into the pool by the coordinator")
    join_stake: float = Field(default=1.0, ge=0.0, description="paid into the pool by each participant")
    success_bonus: float = Field(default=5.0, ge=0.0, description="minted into the pool on success")
    max_team: int = Field(default=6, ge=2, le=1000, description="members at most, coordinator included")
    payout: PayoutRule = Field(default="shapley", description="how a succeeded mission's pool is shared")
    shapley_exact_max: int = Field(
        default=10, ge=1, le=16, description="largest team whose Shapley value is computed exactly"
    )
    shapley_samples: int = Field(
        default=500, ge=1, le=100_000, description="permutations sampled for larger teams"
    )
    free_rider_threshold: float = Field(
        default=0.25, ge=0.0, le=1.0, description="contribution share, as a fraction of the equal share"
    )
    free_rider_penalty: float = Field(
        default=0.0, ge=0.0, le=1.0, description="fraction of a free rider's payout given to the others"
    )


# ------------------------------------------------------------------- payout maths


def shapley_values(
    n: int, value: Callable[[int], float], *, exact_max: int = 10, samples: int = 500, rng: random.Random
) -> tuple[list[float], float]:
    """The Shapley values of an ``n``-player game and the largest standard error of the estimate.

    ``value(mask)`` is v of the coalition whose members are the set bits of
    ``mask``. For ``n ≤ exact_max`` the values are exact (every coalition is
    enumerated; the error is 0); otherwise they are the mean marginal
    contributions over ``samples`` permutations drawn from ``rng``, which still
    sum to v(N) exactly.
    """
    if n == 0:
        return [], 0.0
    if n <= exact_max:
        v = [value(mask) for mask in range(1 << n)]
        weight = [math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) for s in range(n)]
        phi = [0.0] * n
        for mask in range(1 << n):
            size = mask.bit_count()
            for i in range(n):
                if not mask >> i & 1:
                    phi[i] += weight[size] * (v[mask | 1 << i] - v[mask])
        return phi, 0.0
    total = [0.0] * n
    square = [0.0] * n
    order = list(range(n))
    for _ in range(samples):
        rng.shuffle(order)
        mask, before = 0, value(0)
        for i in order:
            mask |= 1 << i
            after = value(mask)
            d = after - before
            total[i] += d
            square[i] += d * d
            before = after
    phi = [t / samples for t in total]
    if samples < 2:
        return phi, math.inf
    stderr = max(
        math.sqrt(max(0.0, (sq / samples - m * m) * samples / (samples - 1)) / samples)
        for sq, m in zip(square, phi, strict=True)
    )
    return phi, stderr


def payout_weights(
    rule: PayoutRule,
    contributions: Sequence[float],
    target: float,
    *,
    exact_max: int = 10,
    samples: int = 500,
    rng: random.Random,
) -> tuple[list[float], float | None]:
    """Each member's share of the pool (summing to 1) under ``rule``, and the Shapley standard error.

    ``target`` is what a full objective is worth in contribution (the mission's
    ``objective_count``). Without any contribution every rule shares equally.
    """
    n = len(contributions)
    equal = [1.0 / n] * n
    total = math.fsum(contributions)
    if rule == "equal" or total <= 0.0:
        return equal, (0.0 if rule == "shapley" else None)
    if rule == "proportional":
        return [c / total for c in contributions], None

    def v(mask: int) -> float:
        return min(1.0, math.fsum(c for i, c in enumerate(contributions) if mask >> i & 1) / target)

    phi, stderr = shapley_values(n, v, exact_max=exact_max, samples=samples, rng=rng)
    s = math.fsum(phi)
    return ([x / s for x in phi] if s > 0 else equal), stderr


def free_riders(contributions: Sequence[float], threshold: float) -> list[bool]:
    """Whether each member's contribution share is below ``threshold`` × the equal share."""
    n, total = len(contributions), math.fsum(contributions)
    if total <= 0.0:
        return [True] * n if threshold > 0 else [False] * n
    return [c / total * n < threshold for c in contributions]


def penalise(amounts: Sequence[float], riders: Sequence[bool], penalty: float) -> list[float]:
    """Withhold ``penalty`` of each free rider's amount and give it to the others pro rata (sum kept)."""
    out = list(amounts)
    kept = math.fsum(a for a, r in zip(amounts, riders, strict=True) if not r)
    if penalty <= 0.0 or kept <= 0.0:
        return out
    withheld = 0.0
    for i, r in enumerate(riders):
        if r:
            withheld += out[i] * penalty
            out[i] -= out[i] * penalty
    for i, r in enumerate(riders):
        if not r:
            out[i] += withheld * amounts[i] / kept
    return out


# ------------------------------------------------------------------------- state


@dataclass(slots=True)
class _Mission:
    mission_id: str
    coordinator: str
    deadline_epoch: int
    members: list[str]
    stakes: list[float]
    status: MissionStatus = "proposed"
    contribution: dict[str, float] = field(default_factory=dict)
    ps: list[float] = field(default_factory=list)

    @property
    def account(self) -> str:
        return f"mission:{self.mission_id}"

    @property
    def pool(self) -> float:
        return math.fsum(self.stakes)


@dataclass(slots=True)
class _Closed:
    status: str
    members: int
    riders: int
    gap: float | None


class MissionState:
    """Missions and their lifecycle; pure and synchronous (the component wraps it)."""

    def __init__(
        self,
        config: MissionsConfig,
        rng: random.Random,
        *,
        tax: EconomyTaxRule | None = None,
        audit: MissionAuditRule | None = None,
        audit_rng: random.Random | None = None,
    ) -> None:
        """``tax`` and ``audit``: the governance levers on missions, when on; ``audit_rng`` draws audits."""
        self.config = config
        self.rng = rng
        self.tax = tax
        self.audit = audit
        self.audit_rng = audit_rng if audit_rng is not None else random.Random(0)
        self.missions: dict[str, _Mission] = {}
        self.member_of: dict[str, str] = {}
        self._counter = 0
        self._closed: list[_Closed] = []

    # ------------------------------------------------------------ lifecycle

    def open_epoch(self, at: At, agents: Sequence[AgentPublic]) -> Applied:
        """Propose this epoch's missions, each by a coordinator able to pay the stake."""
        out, c = Applied(), self.config
        for _ in range(c.missions_per_epoch):
            able = [
                a.agent_id
                for a in agents
                if not a.frozen and a.agent_id not in self.member_of and a.resources >= c.coordinator_stake
            ]
            if not able:
                break
            coordinator = able[int(self.rng.random() * len(able))]
            self._counter += 1
            m = _Mission(f"m{self._counter}", coordinator, at.epoch + c.duration_epochs, [coordinator], [])
            self.missions[m.mission_id] = m
            self.member_of[coordinator] = m.mission_id
            self._stake(m, coordinator, c.coordinator_stake, out.entries)
            out.events.append(
                MissionProposed(
                    epoch=at.epoch,
                    step=0,
                    mission_id=m.mission_id,
                    coordinator=coordinator,
                    deadline_epoch=m.deadline_epoch,
                    objective_count=c.objective_count,
                    objective_p=c.objective_p,
                    stake=c.coordinator_stake,
                )
            )
        return out

    def _stake(self, m: _Mission, agent: str, amount: float, entries: list[Entry]) -> None:
        m.stakes.append(amount)
        if amount > 0:
            entries.append(
                Transfer(
                    payer=agent, payee=m.account, amount=amount, reason="mission stake", ref=m.mission_id
                )
            )

    def apply(self, at: At, turns: Sequence[Turn], agents: Mapping[str, AgentPublic]) -> Applied:
        out, c = Applied(), self.config
        for _, agent, action in turns:
            assert isinstance(action, JoinMission)
            m = self.missions.get(action.mission_id)
            reason = None
            if m is None or m.status not in ("proposed", "active"):
                reason = f"mission {action.mission_id} is not open"
            elif agent in self.member_of:
                reason = f"{agent} is already in mission {self.member_of[agent]}"
            elif len(m.members) >= c.max_team:
                reason = f"mission {m.mission_id} is full ({c.max_team} members)"
            elif (me := agents.get(agent)) is not None and me.resources < c.join_stake:
                reason = f"{agent} cannot pay the join stake {c.join_stake}"
            if reason is not None or m is None:
                out.events.append(
                    ActionRejected(
                        epoch=at.epoch,
                        step=at.step,
                        agent_id=agent,
                        action="join_mission",
                        reason=reason or "",
                    )
                )
                continue
            m.members.append(agent)
            self.member_of[agent] = m.mission_id
            self._stake(m, agent, c.join_stake, out.entries)
            activated = m.status == "proposed"
            m.status = "active"
            out.events.append(
                MissionJoined(
                    epoch=at.epoch,
                    step=at.step,
                    mission_id=m.mission_id,
                    agent_id=agent,
                    stake=c.join_stake,
                    activated=activated,
                )
            )
        return out

    def observe(self, at: At, completed: Sequence[InteractionCompleted]) -> Applied:
        """Credit accepted interactions between members of the same active mission."""
        out = Applied()
        for event in completed:
            i = event.interaction
            if not i.accepted:
                continue
            mid = self.member_of.get(i.initiator)
            if mid is None or self.member_of.get(i.counterparty) != mid:
                continue
            m = self.missions[mid]
            if m.status != "active":
                continue
            m.ps.append(i.p)
            m.contribution[i.initiator] = m.contribution.get(i.initiator, 0.0) + i.p
            out.events.append(
                MissionContribution(
                    epoch=at.epoch,
                    step=at.step,
                    mission_id=mid,
                    agent_id=i.initiator,
                    counterparty=i.counterparty,
                    interaction_id=i.interaction_id,
                    p=i.p,
                )
            )
        return out

    def close_epoch(self, at: At) -> Applied:
        """Settle every mission that succeeded, failed or expired in this epoch, then measure."""
        out, c = Applied(), self.config
        self._closed = []
        for m in list(self.missions.values()):
            n = len(m.ps)
            mean_p = math.fsum(m.ps) / n if n else None
            met = n >= c.objective_count and mean_p is not None and mean_p >= c.objective_p
            if m.status == "active" and met:
                self._succeed(at, m, mean_p, out)
            elif at.epoch + 1 >= m.deadline_epoch:
                self._refund(at, m, "failed" if m.status == "active" else "expired", mean_p, out)
            else:
                continue
            del self.missions[m.mission_id]
            for agent in m.members:
                self.member_of.pop(agent, None)
        closed = self._closed
        succeeded = [x for x in closed if x.status == "succeeded"]
        gaps = [x.gap for x in succeeded if x.gap is not None]
        members = sum(x.members for x in succeeded)
        out.events.append(
            MissionsMeasured(
                epoch=at.epoch,
                step=at.step,
                closed=len(closed),
                succeeded=len(succeeded),
                success_rate=len(succeeded) / len(closed) if closed else None,
                free_rider_share=sum(x.riders for x in succeeded) / members if members else None,
                payout_gap=math.fsum(gaps) / len(gaps) if gaps else None,
            )
        )
        return out

    def _succeed(self, at: At, m: _Mission, mean_p: float | None, out: Applied) -> None:
        c = self.config
        pool = m.pool + c.success_bonus
        if c.success_bonus > 0:
            out.entries.append(
                Mint(
                    account=m.account,
                    amount=c.success_bonus,
                    reason="mission success bonus",
                    ref=m.mission_id,
                )
            )
        contributions = [m.contribution.get(a, 0.0) for a in m.members]
        weights, stderr = payout_weights(
            c.payout,
            contributions,
            float(c.objective_count),
            exact_max=c.shapley_exact_max,
            samples=c.shapley_samples,
            rng=self.rng,
        )
        riders = free_riders(contributions, c.free_rider_threshold)
        paid = pool
        if self.tax is not None:
            levied = self.tax.levy(at, "missions", m.account, pool, m.mission_id)
            out.add(levied)
            paid -= sum(e.amount for e in levied.events if isinstance(e, EconomyTaxed))
        amounts = penalise([w * paid for w in weights], riders, c.free_rider_penalty)
        if self.audit is not None and self.audit_rng.random() < self.audit.probability:
            amounts, paid = self._audit(at, m, amounts, riders, paid, out)
        amounts[-1] = paid - math.fsum(amounts[:-1])  # the pool is paid out to the last cent
        for agent, amount in zip(m.members, amounts, strict=True):
            if amount > 0:
                out.entries.append(
                    Transfer(
                        payer=m.account, payee=agent, amount=amount, reason="mission payout", ref=m.mission_id
                    )
                )
        total = math.fsum(contributions)
        gap = (
            0.5 * math.fsum(abs(a / paid - x / total) for a, x in zip(amounts, contributions, strict=True))
            if total > 0 and paid > 0
            else None
        )
        self._closed.append(_Closed("succeeded", len(m.members), sum(riders), gap))
        out.events.append(
            MissionClosed(
                epoch=at.epoch,
                step=at.step,
                mission_id=m.mission_id,
                status="succeeded",
                interactions=len(m.ps),
                mean_p=mean_p,
                pool=pool,
                rule=c.payout,
                payouts=tuple(
                    (a, round(x, 9), round(p, 9))
                    for a, x, p in zip(m.members, contributions, amounts, strict=True)
                ),
                free_riders=tuple(a for a, r in zip(m.members, riders, strict=True) if r),
                shapley_stderr=stderr,
            )
        )

    def _audit(
        self, at: At, m: _Mission, amounts: list[float], riders: list[bool], paid: float, out: Applied
    ) -> tuple[list[float], float]:
        """Apply the audit lever to a succeeded mission's payouts: (new amounts, money left to pay)."""
        assert self.audit is not None
        rule = self.audit
        amounts, withheld, to_treasury = withhold(amounts, riders, rule.penalty, rule.destination)
        if to_treasury > 0.0:
            out.entries.append(
                Transfer(
                    payer=m.account,
                    payee=TREASURY,
                    amount=to_treasury,
                    reason=f"{MISSION_AUDIT}: withheld from free riders",
                    ref=m.mission_id,
                )
            )
        found = tuple(a for a, r in zip(m.members, riders, strict=True) if r)
        out.events.append(
            MissionAudited(
                epoch=at.epoch,
                step=at.step,
                lever=MISSION_AUDIT,
                mission_id=m.mission_id,
                riders=found,
                withheld=withheld,
                destination="none" if withheld <= 0.0 else "treasury" if to_treasury > 0.0 else "members",
            )
        )
        if rule.reputation_penalty > 0.0:
            out.add_effects(
                [
                    ReputationChange(
                        epoch=at.epoch,
                        step=at.step,
                        lever=MISSION_AUDIT,
                        agent_id=agent,
                        amount=-rule.reputation_penalty,
                        reason=f"free rider found by the audit of mission {m.mission_id}",
                    )
                    for agent in found
                ]
            )
        return amounts, paid - to_treasury

    def _refund(
        self, at: At, m: _Mission, status: Literal["failed", "expired"], mean_p: float | None, out: Applied
    ) -> None:
        for agent, stake in zip(m.members, m.stakes, strict=True):
            if stake > 0:
                out.entries.append(
                    Transfer(
                        payer=m.account,
                        payee=agent,
                        amount=stake,
                        reason="mission stake refunded",
                        ref=m.mission_id,
                    )
                )
        self._closed.append(_Closed(status, len(m.members), 0, None))
        out.events.append(
            MissionClosed(
                epoch=at.epoch,
                step=at.step,
                mission_id=m.mission_id,
                status=status,
                interactions=len(m.ps),
                mean_p=mean_p,
                pool=m.pool,
                rule=self.config.payout,
                payouts=tuple(
                    (a, round(m.contribution.get(a, 0.0), 9), s)
                    for a, s in zip(m.members, m.stakes, strict=True)
                ),
            )
        )

    def view(self) -> MissionsView:
        c = self.config
        return MissionsView(
            tuple(
                MissionView(
                    m.mission_id,
                    m.coordinator,
                    m.status,
                    tuple(m.members),
                    m.deadline_epoch,
                    c.objective_count,
                    c.objective_p,
                    len(m.ps),
                    c.join_stake,
                    m.pool,
                    c.max_team,
                )
                for m in self.missions.values()
            )
        )


# --------------------------------------------------------------------- component


@component
class Missions(WorldComponent):
    """Owns the missions: proposes them, admits members, credits contributions, pays out."""

    key = "missions"
    order = 60
    Config = MissionsConfig
    actions = (JoinMission,)
    view_type = MissionsView
    prompt_rules = (
        "Missions: a team pools stakes towards an objective (enough accepted interactions of good "
        "quality between its members before the deadline). Join an open mission with join_mission "
        "(you pay its join stake), then propose interactions to your teammates: only interactions you "
        "initiate with a teammate count as your contribution. On success the pool is shared by "
        "contribution; members who contribute little are flagged as free riders."
    )
    config: MissionsConfig

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        audit = mission_audit_rule(setup.scenario)
        self.state = MissionState(
            self.config,
            setup.rng("missions"),
            tax=economy_tax_rule(setup.scenario),
            audit=audit,
            audit_rng=setup.rng("mission_audit") if audit is not None else None,
        )

    def view(self, at: At) -> MissionsView:
        return self.state.view()

    def apply(self, at: At, turns: Sequence[Turn], agents: Mapping[str, AgentPublic]) -> Applied:
        return self.state.apply(at, turns, agents)

    def epoch_start(self, at: At, agents: Sequence[AgentPublic]) -> Applied:
        return self.state.open_epoch(at, agents)

    def observe_settled(self, at: At, completed: Sequence[InteractionCompleted]) -> Applied:
        return self.state.observe(at, completed)

    def epoch_end(self, at: At, agents: Sequence[AgentPublic]) -> Applied:
        return self.state.close_epoch(at)

    @classmethod
    def prompt_view(cls, view: MissionsView, agent_id: str) -> MissionsView:
        mine = view.mission_of(agent_id)
        shown = [m for m in view.missions if m is not mine][: MAX_MISSIONS_SHOWN - 1]
        return MissionsView((mine, *shown) if mine is not None else tuple(shown))


latest(
    "mission_success_rate",
    MissionsMeasured,
    "missions closed in the epoch that succeeded",
    lambda e: e.success_rate,
    optional=True,
)
latest(
    "mission_free_rider_share",
    MissionsMeasured,
    "members of the epoch's succeeded missions flagged as free riders",
    lambda e: e.free_rider_share,
    optional=True,
)
latest(
    "mission_payout_gap",
    MissionsMeasured,
    "total variation distance between payout and contribution shares (0: paid by contribution)",
    lambda e: e.payout_gap,
    optional=True,
)
latest(
    "missions_succeeded",
    MissionsMeasured,
    "missions that met their objective in the epoch",
    lambda e: e.succeeded,
    optional=True,
)
