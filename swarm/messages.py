"""The typed protocol of a simulation: what agents see, what they do, and what happens.

Three families live here:

* observations — one immutable :class:`Snapshot` per step, and each agent's
  :class:`Observation` of it;
* actions — the :data:`Action` union an agent's policy returns, plus the
  :class:`Decision` on a proposal addressed to it;
* conduct — how an agent carries out an interaction it takes part in.

Events (what the log records) live in :mod:`swarm.events`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from swarm.core.interaction import InteractionType

AgentId = str


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Conduct(_Frozen):
    """How an agent carries out an interaction; observables are generated from it with noise.

    ``effort`` is the real work put in (it drives the true outcome); ``facade`` is
    how much the visible progress overstates that work (deception); ``sloppiness``
    drives rework, ``defects`` hidden faults a verifier may catch, ``misuse`` tool
    misuse, and ``engagement`` how the counterparty is treated.
    """

    effort: float = Field(default=0.42, ge=-1.0, le=1.0)
    facade: float = Field(default=0.0, ge=0.0, le=1.0)
    sloppiness: float = Field(default=0.17, ge=0.0, le=1.0)
    defects: float = Field(default=0.0, ge=0.0, le=1.0)
    misuse: float = Field(default=0.0, ge=0.0, le=1.0)
    engagement: float = Field(default=0.32, ge=-1.0, le=1.0)


# --------------------------------------------------------------------------- views


class PostView(_Frozen):
    """A post as every agent sees it (votes included, unlike the reference's post dicts)."""

    post_id: str
    author: AgentId
    content: str
    parent_id: str | None = None
    upvotes: int = 0
    downvotes: int = 0
    reply_count: int = 0
    created_at_step: int = 0

    @property
    def net_votes(self) -> int:
        return self.upvotes - self.downvotes


class AgentPublic(_Frozen):
    """What is public about an agent: no declared or true type is ever shown."""

    agent_id: AgentId
    reputation: float
    resources: float
    frozen: bool = False
    track_record: float | None = None
    """Mean p of the agent's recent accepted proposals, when a transparency ledger publishes it."""


Difficulty = Literal["trivial", "easy", "medium", "hard", "expert"]
TaskStatus = Literal["open", "claimed", "submitted", "completed", "failed", "expired"]


class TaskView(_Frozen):
    """A task on the board."""

    task_id: str
    title: str
    difficulty: Difficulty
    bounty: float
    min_reputation: float = 0.0
    status: TaskStatus = "open"
    claimed_by: AgentId | None = None
    deadline_epoch: int | None = None
    rework_requests: int = 0


class BountyView(_Frozen):
    """An open bounty and its pending bids ``(bid_id, bidder, amount)``."""

    bounty_id: str
    poster: AgentId
    reward: float
    deadline_epoch: int
    bids: tuple[tuple[str, AgentId, float], ...] = ()


class EscrowView(_Frozen):
    """A held or disputed escrow."""

    escrow_id: str
    bounty_id: str
    poster: AgentId
    worker: AgentId
    amount: float
    status: Literal["held", "disputed"]


class MarketView(_Frozen):
    """The marketplace as everyone sees it (absent when the scenario has no marketplace)."""

    bounties: tuple[BountyView, ...] = ()
    escrows: tuple[EscrowView, ...] = ()


class ProposalView(_Frozen):
    """A pending interaction proposal, as shown to its counterparty."""

    proposal_id: str
    initiator: AgentId
    counterparty: AgentId
    interaction_type: InteractionType
    content: str = ""
    offered_transfer: float = 0.0


class GovernanceView(_Frozen):
    """The levers in force, as every agent can read them (so policies can respond to costs)."""

    tax_rate: float = 0.0
    tax_split: float = 0.5
    audit_probability: float = 0.0
    audit_threshold_p: float = 0.5
    audit_penalty_multiplier: float = 0.0
    min_stake: float = 0.0
    slash_rate: float = 0.0
    slash_threshold_p: float = 0.0
    breaker_threshold: float | None = None
    moderator_threshold_p: float | None = None
    transparency: bool = False

    @property
    def deterrence(self) -> float:
        """How strongly low-quality conduct is punished, roughly in [0, 1]."""
        d = self.audit_probability * self.audit_penalty_multiplier
        d += self.slash_rate if self.min_stake > 0 else 0.0
        d += 0.2 if self.breaker_threshold is not None else 0.0
        d += 0.3 if self.moderator_threshold_p is not None else 0.0
        return min(1.0, d)


class Snapshot(_Frozen):
    """The shared, immutable picture of the world at the start of a step (built once)."""

    epoch: int
    step: int
    posts: tuple[PostView, ...] = ()
    agents: tuple[AgentPublic, ...] = ()
    open_tasks: tuple[TaskView, ...] = ()
    claimed_tasks: tuple[TaskView, ...] = ()
    governance: GovernanceView = GovernanceView()
    market: MarketView | None = None

    @cached_property
    def agent_index(self) -> dict[AgentId, AgentPublic]:
        """Public records by agent id (built once per snapshot, on first use)."""
        return {a.agent_id: a for a in self.agents}

    @cached_property
    def by_reputation(self) -> tuple[AgentPublic, ...]:
        """Active (unfrozen) agents, highest reputation first, then by id."""
        return tuple(
            sorted((a for a in self.agents if not a.frozen), key=lambda a: (-a.reputation, a.agent_id))
        )

    @cached_property
    def tasks_by_worker(self) -> dict[AgentId, tuple[TaskView, ...]]:
        """Claimed tasks grouped by the agent that claimed them."""
        out: dict[AgentId, list[TaskView]] = {}
        for t in self.claimed_tasks:
            if t.claimed_by is not None:
                out.setdefault(t.claimed_by, []).append(t)
        return {k: tuple(v) for k, v in out.items()}


class Limits(_Frozen):
    """What an agent may still do this step or epoch (rate limits and budget)."""

    can_post: bool = True
    can_vote: bool = True
    can_interact: bool = True
    can_claim_task: bool = True

    @staticmethod
    def of(can_post: bool, can_vote: bool, can_interact: bool, can_claim_task: bool) -> Limits:
        """The shared instance for this combination (there are only sixteen)."""
        return _LIMITS[(can_post, can_vote, can_interact, can_claim_task)]


_LIMITS = {
    (a, b, c, d): Limits(can_post=a, can_vote=b, can_interact=c, can_claim_task=d)
    for a in (True, False)
    for b in (True, False)
    for c in (True, False)
    for d in (True, False)
}


@dataclass(frozen=True, slots=True)
class Observation:
    """One agent's view of a snapshot: the shared picture plus its own state.

    A plain frozen dataclass rather than a model: one is made per agent per step,
    and everything in it is already validated.
    """

    agent_id: AgentId
    me: AgentPublic
    snapshot: Snapshot
    limits: Limits = _LIMITS[(True, True, True, True)]

    @property
    def epoch(self) -> int:
        return self.snapshot.epoch

    @property
    def step(self) -> int:
        return self.snapshot.step

    @property
    def others(self) -> tuple[AgentPublic, ...]:
        """Every other non-frozen agent, in registration order (O(n): prefer ``agent``/sampling)."""
        return tuple(a for a in self.snapshot.agents if a.agent_id != self.agent_id and not a.frozen)

    def agent(self, agent_id: AgentId) -> AgentPublic | None:
        """Another agent's public record, if it exists and is not frozen."""
        a = self.snapshot.agent_index.get(agent_id)
        return a if a is not None and not a.frozen and agent_id != self.agent_id else None

    @property
    def my_tasks(self) -> tuple[TaskView, ...]:
        return self.snapshot.tasks_by_worker.get(self.agent_id, ())


# ------------------------------------------------------------------------- actions


class Noop(_Frozen):
    """Do nothing this step."""

    type: Literal["noop"] = "noop"


class CreatePost(_Frozen):
    """Publish a top-level post."""

    type: Literal["post"] = "post"
    content: str


class Reply(_Frozen):
    """Reply to an existing post."""

    type: Literal["reply"] = "reply"
    parent_id: str
    content: str


class CastVote(_Frozen):
    """An up- or down-vote on a post."""

    type: Literal["vote"] = "vote"
    post_id: str
    direction: Literal[1, -1]


class Propose(_Frozen):
    """Propose an interaction; ``offered_transfer`` is τ, paid by the initiator if accepted."""

    type: Literal["propose"] = "propose"
    counterparty: AgentId
    interaction_type: InteractionType = InteractionType.COLLABORATION
    content: str = ""
    offered_transfer: float = Field(default=0.0, ge=-100.0, le=100.0)
    conduct: Conduct = Conduct()


class ClaimTask(_Frozen):
    """Claim an open task from the board."""

    type: Literal["claim_task"] = "claim_task"
    task_id: str


class SubmitWork(_Frozen):
    """Submit work on a task this agent has claimed; the board's verifier checks it."""

    type: Literal["submit_work"] = "submit_work"
    task_id: str
    content: str = ""
    conduct: Conduct = Conduct()


class PostBounty(_Frozen):
    """Offer a reward for work; the reward is held by the marketplace from now on."""

    type: Literal["post_bounty"] = "post_bounty"
    reward: float = Field(gt=0.0, le=1000.0)
    description: str = ""
    deadline_epochs: int = Field(default=2, ge=1, le=20)


class PlaceBid(_Frozen):
    """Offer to do a bounty's work for ``amount``."""

    type: Literal["place_bid"] = "place_bid"
    bounty_id: str
    amount: float = Field(gt=0.0)


class AcceptBid(_Frozen):
    """Award one's bounty to a bid: its amount goes into escrow."""

    type: Literal["accept_bid"] = "accept_bid"
    bounty_id: str
    bid_id: str


class RejectBid(_Frozen):
    """Turn down a pending bid on one's own open bounty."""

    type: Literal["reject_bid"] = "reject_bid"
    bid_id: str
    reason: str = ""


class WithdrawBid(_Frozen):
    """Take back one's own pending bid."""

    type: Literal["withdraw_bid"] = "withdraw_bid"
    bid_id: str


class DeliverWork(_Frozen):
    """Deliver the work of an escrow one is the worker of; verified, then released or refunded."""

    type: Literal["deliver_work"] = "deliver_work"
    escrow_id: str
    conduct: Conduct = Conduct()


class FileDispute(_Frozen):
    """Dispute a held escrow one is party to; it is split after the resolution period."""

    type: Literal["file_dispute"] = "file_dispute"
    escrow_id: str
    reason: str = ""


Action = Annotated[
    Noop
    | CreatePost
    | Reply
    | CastVote
    | Propose
    | ClaimTask
    | SubmitWork
    | PostBounty
    | PlaceBid
    | AcceptBid
    | RejectBid
    | WithdrawBid
    | DeliverWork
    | FileDispute,
    Field(discriminator="type"),
]
"""Everything an agent can do in a step."""

MARKET_ACTIONS = (PostBounty, PlaceBid, AcceptBid, RejectBid, WithdrawBid, DeliverWork, FileDispute)
"""The actions the marketplace handles."""

ACTION_TYPES: tuple[type[BaseModel], ...] = (
    Noop,
    CreatePost,
    Reply,
    CastVote,
    Propose,
    ClaimTask,
    SubmitWork,
    PostBounty,
    PlaceBid,
    AcceptBid,
    RejectBid,
    WithdrawBid,
    DeliverWork,
    FileDispute,
)


class Decision(_Frozen):
    """A counterparty's answer to a proposal, with the conduct it brings if it accepts."""

    proposal_id: str
    accept: bool
    conduct: Conduct | None = None
