"""Events: what happened in a run, in the order it happened.

Every event carries its logical time (``epoch``, ``step``) and a sequence number
assigned when it is recorded. The event log is one JSON object per line, in
sequence order; nothing here reads the wall clock except the ``wall_clock``
field of :class:`RunEnded`, the one place wall-clock data is kept.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from swarm.core.interaction import InteractionType, SoftInteraction
from swarm.messages import Conduct
from swarm.metrics.epoch import EpochMetrics


class Event(BaseModel):
    """Base of every event: logical time plus a sequence number."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seq: int = 0
    epoch: int = 0
    step: int = 0


class RunStarted(Event):
    type: Literal["run_started"] = "run_started"
    scenario_id: str
    seed: int
    n_agents: int
    n_epochs: int
    steps_per_epoch: int


class AgentCreated(Event):
    type: Literal["agent_created"] = "agent_created"
    agent_id: str
    agent_type: str
    policy: str
    reputation: float
    resources: float


class EpochStarted(Event):
    type: Literal["epoch_started"] = "epoch_started"


class PostCreated(Event):
    type: Literal["post_created"] = "post_created"
    post_id: str
    author: str
    parent_id: str | None = None
    content: str


class VoteCast(Event):
    type: Literal["vote_cast"] = "vote_cast"
    voter: str
    post_id: str
    direction: int
    changed: bool = True


class ActionRejected(Event):
    """An action the world refused, and why (rate limit, unknown target, frozen, ...)."""

    type: Literal["action_rejected"] = "action_rejected"
    agent_id: str
    action: str
    reason: str


class PolicyFailed(Event):
    """A policy that timed out or failed; the agent did nothing this phase."""

    type: Literal["policy_failed"] = "policy_failed"
    agent_id: str
    phase: Literal["act", "accept"]
    cause: str


class InteractionProposed(Event):
    type: Literal["interaction_proposed"] = "interaction_proposed"
    interaction_id: str
    initiator: str
    counterparty: str
    interaction_type: InteractionType
    offered_transfer: float = 0.0
    conduct: Conduct


class ProposalExpired(Event):
    type: Literal["proposal_expired"] = "proposal_expired"
    interaction_id: str
    initiator: str
    counterparty: str
    reason: str


class InteractionCompleted(Event):
    """A resolved interaction: everything needed to recompute every metric."""

    type: Literal["interaction_completed"] = "interaction_completed"
    interaction: SoftInteraction
    payoff_initiator: float
    payoff_counterparty: float
    initiator_type: str
    counterparty_type: str


class LedgerUpdated(Event):
    """An agent's reputation and/or resources changed, and why."""

    type: Literal["ledger_updated"] = "ledger_updated"
    agent_id: str
    reason: str
    reputation_delta: float = 0.0
    resources_delta: float = 0.0
    reputation: float
    resources: float


class TaskCreated(Event):
    type: Literal["task_created"] = "task_created"
    task_id: str
    title: str
    difficulty: str
    bounty: float
    deadline_epoch: int | None = None


class TaskClaimed(Event):
    type: Literal["task_claimed"] = "task_claimed"
    task_id: str
    agent_id: str


class ClaimConflict(Event):
    """Two or more agents went for the same task in one step: miscoordination."""

    type: Literal["claim_conflict"] = "claim_conflict"
    task_id: str
    agent_id: str
    winner: str | None


class WorkVerified(Event):
    type: Literal["work_verified"] = "work_verified"
    task_id: str
    agent_id: str
    quality: float
    approved: bool


class TaskClosed(Event):
    type: Literal["task_closed"] = "task_closed"
    task_id: str
    status: Literal["completed", "failed", "expired"]
    agent_id: str | None = None
    bounty_paid: float = 0.0


class AgentFrozen(Event):
    type: Literal["agent_frozen"] = "agent_frozen"
    agent_id: str
    until_epoch: int | None
    reason: str


class AgentUnfrozen(Event):
    type: Literal["agent_unfrozen"] = "agent_unfrozen"
    agent_id: str
    reason: str


class GovernanceApplied(Event):
    """One lever's effect on one agent: who was taxed, audited, slashed, by how much, why."""

    type: Literal["governance_applied"] = "governance_applied"
    lever: str
    agent_id: str
    effect: str
    amount: float = 0.0
    reason: str = ""
    interaction_id: str | None = None
    details: dict[str, float | str | bool | None] = Field(default_factory=dict)


class MarketEvent(Event):
    """One marketplace step: a bounty posted or expired, a bid, an escrow created, settled or disputed."""

    type: Literal["market"] = "market"
    kind: Literal[
        "bounty_posted",
        "bid_placed",
        "bid_accepted",
        "bid_rejected",
        "bid_withdrawn",
        "escrow_created",
        "escrow_released",
        "escrow_refunded",
        "dispute_filed",
        "dispute_resolved",
        "bounty_expired",
    ]
    agent_id: str
    bounty_id: str | None = None
    bid_id: str | None = None
    escrow_id: str | None = None
    counterparty: str | None = None
    amount: float = 0.0
    fee: float = 0.0
    quality: float | None = None
    reason: str = ""


class KillSwitchTriggered(Event):
    type: Literal["kill_switch_triggered"] = "kill_switch_triggered"
    reason: str


class EpochCompleted(Event):
    type: Literal["epoch_completed"] = "epoch_completed"
    metrics: EpochMetrics


class RunEnded(Event):
    type: Literal["run_ended"] = "run_ended"
    epochs_completed: int
    reason: Literal["completed", "kill_switch", "failed", "cancelled"]
    wall_clock: dict[str, Any] = Field(default_factory=dict)


AnyEvent = Annotated[
    RunStarted
    | AgentCreated
    | EpochStarted
    | PostCreated
    | VoteCast
    | ActionRejected
    | PolicyFailed
    | InteractionProposed
    | ProposalExpired
    | InteractionCompleted
    | LedgerUpdated
    | TaskCreated
    | TaskClaimed
    | ClaimConflict
    | WorkVerified
    | TaskClosed
    | AgentFrozen
    | AgentUnfrozen
    | GovernanceApplied
    | MarketEvent
    | KillSwitchTriggered
    | EpochCompleted
    | RunEnded,
    Field(discriminator="type"),
]
"""Every event type the log can hold."""

EVENT_ADAPTER: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)

WALL_CLOCK_FIELD = "wall_clock"
"""The one field that holds wall-clock data; replay comparisons ignore it."""
