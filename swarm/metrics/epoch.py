"""The per-epoch metrics record and how it is computed from one epoch's interactions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field

from swarm.core.interaction import SoftInteraction
from swarm.core.payoff import SoftPayoffEngine
from swarm.metrics import soft
from swarm.metrics.inequality import gini


class ActivityCounts(BaseModel):
    """What happened on the feed and the task board during one epoch."""

    model_config = ConfigDict(extra="forbid")

    posts: int = 0
    replies: int = 0
    upvotes: int = 0
    downvotes: int = 0
    total_posts: int = 0
    proposals: int = 0
    expired_proposals: int = 0
    tasks_claimed: int = 0
    tasks_completed: int = 0
    work_rejected: int = 0
    claim_conflicts: int = 0
    rejected_actions: int = 0
    policy_failures: int = 0
    governance_costs: float = 0.0
    bounties_posted: int = 0
    bids_placed: int = 0
    escrows_released: int = 0
    escrows_refunded: int = 0
    disputes_filed: int = 0
    disputes_resolved: int = 0


class EpochMetrics(BaseModel):
    """Everything measured about one epoch.

    Interaction metrics cover exactly the interactions completed in the epoch;
    feed and task counts are this epoch's, except ``total_posts`` (cumulative).
    ``mean_p_by_type`` maps each initiator type to the mean p of its accepted
    interactions (types without accepted interactions are absent).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    epoch: int
    interactions: int = 0
    accepted: int = 0
    rejected: int = 0
    toxicity_rate: float = 0.0
    toxicity_hard: float = 0.0
    quality_gap: float = 0.0
    conditional_loss_initiator: float = 0.0
    conditional_loss_counterparty: float = 0.0
    spread: float = 0.0
    average_quality: float = 0.0
    uncertain_fraction: float = 0.0
    avg_payoff: float = 0.0
    total_welfare: float = 0.0
    social_surplus: float = 0.0
    brier_score: float | None = None
    expected_calibration_error: float | None = None
    log_loss: float | None = None
    discrimination_auc: float | None = None
    resource_gini: float = 0.0
    reputation_gini: float = 0.0
    frozen_agents: int = 0
    activity: ActivityCounts = Field(default_factory=ActivityCounts)
    mean_p_by_type: dict[str, float] = Field(default_factory=dict)

    @property
    def has_interactions(self) -> bool:
        return self.interactions > 0


def compute_epoch_metrics(
    epoch: int,
    interactions: Sequence[SoftInteraction],
    engine: SoftPayoffEngine,
    *,
    initiator_types: Mapping[str, str],
    resources: Sequence[float] = (),
    reputations: Sequence[float] = (),
    frozen_agents: int = 0,
    activity: ActivityCounts | None = None,
) -> EpochMetrics:
    """Compute the epoch record; pure, so replay can recompute it from the log alone."""
    accepted = [i for i in interactions if i.accepted]
    welfare = soft.welfare_metrics(interactions, engine)
    by_type: dict[str, list[float]] = {}
    for i in accepted:
        by_type.setdefault(initiator_types.get(i.initiator, "unknown"), []).append(i.p)
    return EpochMetrics(
        epoch=epoch,
        interactions=len(interactions),
        accepted=len(accepted),
        rejected=len(interactions) - len(accepted),
        toxicity_rate=soft.toxicity_rate(interactions),
        toxicity_hard=soft.hard_toxicity(interactions),
        quality_gap=soft.quality_gap(interactions),
        conditional_loss_initiator=soft.conditional_loss_initiator(interactions, engine),
        conditional_loss_counterparty=soft.conditional_loss_counterparty(interactions, engine),
        spread=soft.spread(interactions, engine),
        average_quality=soft.average_quality(interactions),
        uncertain_fraction=soft.uncertain_fraction(interactions),
        avg_payoff=welfare["avg_initiator_payoff"],
        total_welfare=welfare["total_welfare"],
        social_surplus=welfare["total_social_surplus"],
        brier_score=soft.brier_score(interactions),
        expected_calibration_error=soft.expected_calibration_error(interactions),
        log_loss=soft.log_loss(interactions),
        discrimination_auc=soft.discrimination_auc(interactions),
        resource_gini=gini(list(resources)),
        reputation_gini=gini(list(reputations)),
        frozen_agents=frozen_agents,
        activity=activity or ActivityCounts(),
        mean_p_by_type={t: sum(ps) / len(ps) for t, ps in sorted(by_type.items())},
    )
