"""The agent ledger: reputation, resources, counters, rate limits and safety rails.

The ledger is the only owner of agent state. Every change goes through it and is
reported as a :class:`~swarm.events.LedgerUpdated` event carrying the new
absolute values, so the log alone can rebuild every balance.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from actors import Actor, Message, handler
from swarm.core.interaction import SoftInteraction
from swarm.events import ActionRejected, AgentFrozen, AgentUnfrozen, Event, LedgerUpdated
from swarm.messages import (
    MARKET_ACTIONS,
    Action,
    AgentPublic,
    CastVote,
    ClaimTask,
    CreatePost,
    Limits,
    Noop,
    PlaceBid,
    PostBounty,
    Propose,
    Reply,
)
from swarm.scenario import RateLimitsSpec, SafetySpec


@dataclass(slots=True)
class AgentRecord:
    """One agent's books."""

    agent_id: str
    agent_type: str
    reputation: float
    resources: float
    frozen_until: int | None = None
    frozen: bool = False
    interactions_initiated: int = 0
    interactions_received: int = 0
    accepted_initiated: int = 0
    rejected_initiated: int = 0
    total_payoff: float = 0.0
    posts_used: int = 0
    votes_used: int = 0
    tasks_used: int = 0
    interactions_used: int = 0
    transfers_used: float = 0.0
    actions_used: int = 0
    bounties_used: int = 0
    bids_used: int = 0
    track: deque[float] | None = None
    _public: AgentPublic | None = None

    @property
    def track_record(self) -> float | None:
        return sum(self.track) / len(self.track) if self.track else None

    def public(self) -> AgentPublic:
        """The public record, rebuilt only after a change."""
        pub = self._public
        track = self.track_record
        if (
            pub is None
            or pub.reputation != self.reputation
            or pub.resources != self.resources
            or pub.frozen != self.frozen
            or pub.track_record != track
        ):
            pub = self._public = AgentPublic.model_construct(
                agent_id=self.agent_id,
                reputation=self.reputation,
                resources=self.resources,
                frozen=self.frozen,
                track_record=track,
            )
        return pub


class LedgerState:
    """All agents' books, admission rules and settlement; pure and synchronous."""

    def __init__(
        self,
        rate_limits: RateLimitsSpec,
        safety: SafetySpec,
        *,
        max_actions_per_step: int | None = None,
        bandwidth_cap: int | None = None,
        track_window: int | None = None,
        market: bool = False,
    ) -> None:
        self.market = market
        self.track_window = track_window
        self.limits = rate_limits
        self.safety = safety
        self.max_actions_per_step = max_actions_per_step
        self.bandwidth_cap = bandwidth_cap
        self.agents: dict[str, AgentRecord] = {}

    def add(self, agent_id: str, agent_type: str, reputation: float, resources: float) -> AgentRecord:
        if agent_id in self.agents:
            raise ValueError(f"agent {agent_id} already registered")
        rec = AgentRecord(agent_id, agent_type, reputation, resources)
        if self.track_window is not None:
            rec.track = deque(maxlen=self.track_window)
        self.agents[agent_id] = rec
        return rec

    # ------------------------------------------------------------- limits

    def limits_of(self, rec: AgentRecord) -> Limits:
        lim = self.limits
        return Limits.of(
            rec.posts_used < lim.posts_per_epoch,
            rec.votes_used < lim.votes_per_epoch,
            rec.interactions_used < lim.interactions_per_step,
            rec.tasks_used < lim.tasks_per_epoch,
        )

    def admit(
        self, epoch: int, step: int, items: Iterable[tuple[int, str, Action]]
    ) -> tuple[list[tuple[int, str, Action]], list[tuple[int, Event]]]:
        """Admit actions in application order; the rest become ``ActionRejected`` events."""
        admitted: list[tuple[int, str, Action]] = []
        rejected: list[tuple[int, Event]] = []
        applied = 0
        for index, agent, action in items:
            if isinstance(action, Noop):
                continue
            rec = self.agents[agent]
            reason = self._refusal(rec, action)
            if (
                reason is None
                and self.max_actions_per_step is not None
                and applied >= self.max_actions_per_step
            ):
                reason = "step action budget exhausted"
            if reason is not None:
                rejected.append(
                    (
                        index,
                        ActionRejected(
                            epoch=epoch, step=step, agent_id=agent, action=action.type, reason=reason
                        ),
                    )
                )
                continue
            self._charge(rec, action)
            applied += 1
            admitted.append((index, agent, action))
        return admitted, rejected

    def _refusal(self, rec: AgentRecord, action: Action) -> str | None:
        lim, safety = self.limits, self.safety
        if rec.frozen:
            return "agent is frozen"
        if self.bandwidth_cap is not None and rec.actions_used >= self.bandwidth_cap:
            return f"bandwidth cap of {self.bandwidth_cap} actions per epoch reached"
        if isinstance(action, CreatePost | Reply):
            if rec.posts_used >= lim.posts_per_epoch:
                return f"rate limit: {lim.posts_per_epoch} posts per epoch"
            if len(action.content) > safety.max_content_length:
                return f"content of {len(action.content)} characters exceeds {safety.max_content_length}"
        elif isinstance(action, CastVote):
            if rec.votes_used >= lim.votes_per_epoch:
                return f"rate limit: {lim.votes_per_epoch} votes per epoch"
        elif isinstance(action, Propose):
            if rec.interactions_used >= lim.interactions_per_step:
                return f"rate limit: {lim.interactions_per_step} proposals per step"
            if action.counterparty == rec.agent_id:
                return "cannot propose an interaction to oneself"
            other = self.agents.get(action.counterparty)
            if other is None:
                return f"unknown counterparty {action.counterparty}"
            if other.frozen:
                return f"counterparty {action.counterparty} is frozen"
            budget = safety.transfer_budget_per_epoch
            if (
                budget is not None
                and action.offered_transfer > 0
                and rec.transfers_used + action.offered_transfer > budget
            ):
                return f"transfer budget of {budget} per epoch exceeded"
        elif isinstance(action, ClaimTask) and rec.tasks_used >= lim.tasks_per_epoch:
            return f"rate limit: {lim.tasks_per_epoch} task claims per epoch"
        elif isinstance(action, MARKET_ACTIONS):
            if not self.market:
                return "this scenario has no marketplace"
            if isinstance(action, PostBounty):
                if rec.bounties_used >= lim.bounties_per_epoch:
                    return f"rate limit: {lim.bounties_per_epoch} bounties per epoch"
                if rec.resources < action.reward:
                    return f"reward {action.reward:g} exceeds resources {rec.resources:.2f}"
            if isinstance(action, PlaceBid) and rec.bids_used >= lim.bids_per_epoch:
                return f"rate limit: {lim.bids_per_epoch} bids per epoch"
        return None

    @staticmethod
    def _charge(rec: AgentRecord, action: Action) -> None:
        rec.actions_used += 1
        if isinstance(action, CreatePost | Reply):
            rec.posts_used += 1
        elif isinstance(action, CastVote):
            rec.votes_used += 1
        elif isinstance(action, Propose):
            rec.interactions_used += 1
            if action.offered_transfer > 0:
                rec.transfers_used += action.offered_transfer
        elif isinstance(action, ClaimTask):
            rec.tasks_used += 1
        elif isinstance(action, PostBounty):
            rec.bounties_used += 1
        elif isinstance(action, PlaceBid):
            rec.bids_used += 1

    def end_step(self) -> None:
        for rec in self.agents.values():
            rec.interactions_used = 0

    def end_epoch(self) -> None:
        for rec in self.agents.values():
            rec.posts_used = rec.votes_used = rec.tasks_used = rec.actions_used = 0
            rec.bounties_used = rec.bids_used = 0
            rec.interactions_used = 0
            rec.transfers_used = 0.0

    # ------------------------------------------------------------- changes

    def adjust(
        self,
        epoch: int,
        step: int,
        agent: str,
        reason: str,
        *,
        reputation: float = 0.0,
        resources: float = 0.0,
    ) -> LedgerUpdated:
        rec = self.agents[agent]
        rec.reputation += reputation
        rec.resources += resources
        return LedgerUpdated(
            epoch=epoch,
            step=step,
            agent_id=agent,
            reason=reason,
            reputation_delta=reputation,
            resources_delta=resources,
            reputation=rec.reputation,
            resources=rec.resources,
        )

    def settle(self, interaction: SoftInteraction, payoff_a: float, payoff_b: float) -> list[Event]:
        """Book a resolved interaction: payoffs move resources, the initiator's reputation moves.

        Accepted: resources += π (τ is inside π, so transfers are paid); the
        initiator's reputation changes by ``(p − 0.5) − c_a`` (the reference rule).
        Rejected: only the counters move.
        """
        i = interaction
        a, b = self.agents[i.initiator], self.agents[i.counterparty]
        a.interactions_initiated += 1
        b.interactions_received += 1
        if not i.accepted:
            a.rejected_initiated += 1
            return []
        a.accepted_initiated += 1
        if a.track is not None:
            a.track.append(i.p)
        a.total_payoff += payoff_a
        b.total_payoff += payoff_b
        reason = f"interaction {i.interaction_id}"
        return [
            self.adjust(
                i.epoch, i.step, i.initiator, reason, reputation=(i.p - 0.5) - i.c_a, resources=payoff_a
            ),
            self.adjust(i.epoch, i.step, i.counterparty, reason, resources=payoff_b),
        ]

    def freeze(self, epoch: int, step: int, agent: str, until: int | None, reason: str) -> AgentFrozen | None:
        rec = self.agents.get(agent)
        if rec is None:
            return None
        already = rec.frozen
        rec.frozen = True
        rec.frozen_until = (
            until if until is None or rec.frozen_until is None else max(until, rec.frozen_until)
        )
        if already and until is not None:
            return None
        return AgentFrozen(
            epoch=epoch, step=step, agent_id=agent, until_epoch=rec.frozen_until, reason=reason
        )

    def unfreeze_due(self, epoch: int) -> list[AgentUnfrozen]:
        out = []
        for rec in self.agents.values():
            if rec.frozen and rec.frozen_until is not None and epoch >= rec.frozen_until:
                rec.frozen, rec.frozen_until = False, None
                out.append(AgentUnfrozen(epoch=epoch, step=0, agent_id=rec.agent_id, reason="freeze expired"))
        return out


# ----------------------------------------------------------------- messages


class Admit(Message):
    epoch: int
    step: int
    items: tuple[tuple[int, str, Action], ...]


class Admission(Message):
    admitted: tuple[tuple[int, str, Action], ...]
    rejected: tuple[tuple[int, Event], ...]


class Adjust(Message):
    """Apply a batch of changes, in order: (agent, reason, reputation delta, resources delta)."""

    epoch: int
    step: int
    changes: tuple[tuple[str, str, float, float], ...]


class Adjusted(Message):
    events: tuple[Event, ...]


class Settle(Message):
    """Book resolved interactions in order: (interaction, π_a, π_b)."""

    items: tuple[tuple[SoftInteraction, float, float], ...]


class Freeze(Message):
    epoch: int
    step: int
    agent_id: str
    until_epoch: int | None
    reason: str


class LedgerView(Message):
    """Ask for every agent's public state and limits."""


class LedgerSnapshot(Message):
    agents: tuple[AgentPublic, ...]
    limits: dict[str, Limits]


class StepOver(Message):
    pass


class EpochOver(Message):
    epoch: int


class EpochOpened(Message):
    events: tuple[Event, ...]


class Ledger(Actor):
    """Owns agent books; admits actions, applies payoffs and governance effects."""

    def __init__(self, state: LedgerState) -> None:
        self._state = state

    @property
    def state(self) -> LedgerState:
        return self._state

    @handler
    async def on_view(self, msg: LedgerView) -> LedgerSnapshot:
        s = self._state
        agents = tuple(r.public() for r in s.agents.values())
        limits = {r.agent_id: s.limits_of(r) for r in s.agents.values()}
        return LedgerSnapshot.model_construct(agents=agents, limits=limits)

    @handler
    async def on_admit(self, msg: Admit) -> Admission:
        admitted, rejected = self._state.admit(msg.epoch, msg.step, msg.items)
        return Admission.model_construct(admitted=tuple(admitted), rejected=tuple(rejected))

    @handler
    async def on_adjust(self, msg: Adjust) -> Adjusted:
        s = self._state
        events = tuple(
            s.adjust(msg.epoch, msg.step, agent, reason, reputation=rep, resources=res)
            for agent, reason, rep, res in msg.changes
        )
        return Adjusted.model_construct(events=events)

    @handler
    async def on_settle(self, msg: Settle) -> Adjusted:
        events: list[Event] = []
        for interaction, pa, pb in msg.items:
            events.extend(self._state.settle(interaction, pa, pb))
        return Adjusted.model_construct(events=tuple(events))

    @handler
    async def on_freeze(self, msg: Freeze) -> Adjusted:
        ev = self._state.freeze(msg.epoch, msg.step, msg.agent_id, msg.until_epoch, msg.reason)
        return Adjusted.model_construct(events=() if ev is None else (ev,))

    @handler
    async def on_step_over(self, msg: StepOver) -> None:
        self._state.end_step()

    @handler
    async def on_epoch_over(self, msg: EpochOver) -> EpochOpened:
        self._state.end_epoch()
        return EpochOpened.model_construct(events=tuple(self._state.unfreeze_due(msg.epoch + 1)))
