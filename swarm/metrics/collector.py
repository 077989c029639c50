"""Turn an event stream into per-epoch metrics.

The live run and replay use this same code on the same events, so a log can be
checked against itself: recomputing from the logged events must give the
metrics the run reported.
"""

from __future__ import annotations

from collections.abc import Iterable

from swarm.core.interaction import SoftInteraction
from swarm.core.payoff import SoftPayoffEngine
from swarm.events import (
    ActionRejected,
    AgentCreated,
    AgentFrozen,
    AgentUnfrozen,
    ClaimConflict,
    Event,
    GovernanceApplied,
    InteractionCompleted,
    InteractionProposed,
    LedgerUpdated,
    MarketEvent,
    PolicyFailed,
    PostCreated,
    ProposalExpired,
    TaskClaimed,
    TaskClosed,
    VoteCast,
    WorkVerified,
)
from swarm.metrics.epoch import ActivityCounts, EpochMetrics, compute_epoch_metrics

_MARKET_COUNTERS = {
    "bounty_posted": "bounties_posted",
    "bid_placed": "bids_placed",
    "escrow_released": "escrows_released",
    "escrow_refunded": "escrows_refunded",
    "dispute_filed": "disputes_filed",
    "dispute_resolved": "disputes_resolved",
}


class MetricsCollector:
    """Accumulates one epoch's events; :meth:`close_epoch` yields its :class:`EpochMetrics`."""

    def __init__(self, engine: SoftPayoffEngine) -> None:
        self.engine = engine
        self.types: dict[str, str] = {}
        self.resources: dict[str, float] = {}
        self.reputation: dict[str, float] = {}
        self.frozen: set[str] = set()
        self.total_posts = 0
        self._reset()

    def _reset(self) -> None:
        self.interactions: list[SoftInteraction] = []
        self.activity = ActivityCounts()

    def feed(self, events: Iterable[Event]) -> None:
        """Account for events, in log order."""
        a = self.activity
        for ev in events:
            if isinstance(ev, InteractionCompleted):
                self.interactions.append(ev.interaction)
            elif isinstance(ev, LedgerUpdated):
                self.resources[ev.agent_id] = ev.resources
                self.reputation[ev.agent_id] = ev.reputation
            elif isinstance(ev, PostCreated):
                self.total_posts += 1
                if ev.parent_id is None:
                    a.posts += 1
                else:
                    a.replies += 1
            elif isinstance(ev, VoteCast):
                if ev.changed and ev.direction > 0:
                    a.upvotes += 1
                elif ev.changed:
                    a.downvotes += 1
            elif isinstance(ev, InteractionProposed):
                a.proposals += 1
            elif isinstance(ev, ProposalExpired):
                a.expired_proposals += 1
            elif isinstance(ev, TaskClaimed):
                a.tasks_claimed += 1
            elif isinstance(ev, TaskClosed):
                if ev.status == "completed":
                    a.tasks_completed += 1
            elif isinstance(ev, WorkVerified):
                if not ev.approved:
                    a.work_rejected += 1
            elif isinstance(ev, ClaimConflict):
                a.claim_conflicts += 1
            elif isinstance(ev, ActionRejected):
                a.rejected_actions += 1
            elif isinstance(ev, PolicyFailed):
                a.policy_failures += 1
            elif isinstance(ev, GovernanceApplied):
                if ev.effect == "cost":
                    a.governance_costs += ev.amount
            elif isinstance(ev, MarketEvent):
                counter = _MARKET_COUNTERS.get(ev.kind)
                if counter is not None:
                    setattr(a, counter, getattr(a, counter) + 1)
            elif isinstance(ev, AgentCreated):
                self.types[ev.agent_id] = ev.agent_type
                self.resources[ev.agent_id] = ev.resources
                self.reputation[ev.agent_id] = ev.reputation
            elif isinstance(ev, AgentFrozen):
                self.frozen.add(ev.agent_id)
            elif isinstance(ev, AgentUnfrozen):
                self.frozen.discard(ev.agent_id)

    def close_epoch(self, epoch: int) -> EpochMetrics:
        """The epoch's metrics; the collector then starts the next epoch empty."""
        self.activity.total_posts = self.total_posts
        metrics = compute_epoch_metrics(
            epoch,
            self.interactions,
            self.engine,
            initiator_types=self.types,
            resources=list(self.resources.values()),
            reputations=list(self.reputation.values()),
            frozen_agents=len(self.frozen),
            activity=self.activity,
        )
        self._reset()
        return metrics
