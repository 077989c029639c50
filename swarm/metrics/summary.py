"""One flat record of every soft and hard metric of a set of interactions."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from swarm.core.payoff import SoftPayoffEngine
from swarm.metrics import soft
from swarm.metrics.soft import Interactions, _conditional_loss, _payoffs, _pvariance, _welfare


class MetricsSummary(BaseModel):
    """Soft, hard, count, welfare, calibration and variance metrics of one set of interactions.

    Calibration fields are None when no interaction has a known ground truth.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    toxicity_soft: float
    toxicity_hard: float
    conditional_loss_initiator: float
    conditional_loss_counterparty: float
    spread: float
    quality_gap: float
    average_quality: float
    uncertain_fraction: float
    acceptance_rate: float
    high_quality_acceptance: float
    low_quality_acceptance: float
    total_interactions: int
    accepted_count: int
    rejected_count: int
    high_quality_count: int
    low_quality_count: int
    total_welfare: float
    total_social_surplus: float
    avg_initiator_payoff: float
    avg_counterparty_payoff: float
    brier_score: float | None
    log_loss: float | None
    calibration_error: float | None
    expected_calibration_error: float | None
    discrimination_auc: float | None
    quality_variance: float
    payoff_variance_initiator: float
    payoff_variance_counterparty: float


def summarize(
    interactions: Interactions,
    engine: SoftPayoffEngine | None = None,
    quality_threshold: float = 0.5,
    uncertainty_band: float = 0.2,
) -> MetricsSummary:
    """Every metric of ``interactions`` at once, computing each payoff a single time.

    Hard metrics split at p = ``quality_threshold``; uncertainty is 0.5 ± ``uncertainty_band``.
    """
    engine = engine or SoftPayoffEngine()
    pi_a, pi_b = _payoffs(interactions, engine)
    welfare = _welfare(interactions, pi_a, pi_b, engine)
    participation = soft.participation_by_quality(interactions, quality_threshold)
    total = len(interactions)
    accepted = sum(1 for i in interactions if i.accepted)
    return MetricsSummary(
        toxicity_soft=soft.toxicity_rate(interactions),
        toxicity_hard=soft.hard_toxicity(interactions, quality_threshold),
        conditional_loss_initiator=_conditional_loss(interactions, pi_a),
        conditional_loss_counterparty=_conditional_loss(interactions, pi_b),
        spread=soft.spread(interactions, engine),
        quality_gap=soft.quality_gap(interactions),
        average_quality=soft.average_quality(interactions),
        uncertain_fraction=soft.uncertain_fraction(interactions, uncertainty_band),
        acceptance_rate=accepted / total if total else 0.0,
        high_quality_acceptance=participation["high_quality_acceptance"],
        low_quality_acceptance=participation["low_quality_acceptance"],
        total_interactions=total,
        accepted_count=accepted,
        rejected_count=total - accepted,
        high_quality_count=participation["high_quality_count"],
        low_quality_count=participation["low_quality_count"],
        total_welfare=welfare["total_welfare"],
        total_social_surplus=welfare["total_social_surplus"],
        avg_initiator_payoff=welfare["avg_initiator_payoff"],
        avg_counterparty_payoff=welfare["avg_counterparty_payoff"],
        brier_score=soft.brier_score(interactions),
        log_loss=soft.log_loss(interactions),
        calibration_error=soft.calibration_error(interactions),
        expected_calibration_error=soft.expected_calibration_error(interactions),
        discrimination_auc=soft.discrimination_auc(interactions),
        quality_variance=soft.quality_variance(interactions),
        payoff_variance_initiator=_pvariance(pi_a),
        payoff_variance_counterparty=_pvariance(pi_b),
    )
