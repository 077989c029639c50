"""The built-in metrics: the soft-label metrics of each epoch's interactions, inequality,
the kernel's own event counts, and the run figures (with their success criteria).

Component and lever metrics (posts, tasks, bounties, ...) are registered next to
the component or lever they measure.
"""

from __future__ import annotations

import math
import statistics
from itertools import compress, repeat

from swarm.events import ActionRejected, LLMCall, PolicyFailed
from swarm.governance.effects import Cost
from swarm.metrics import soft
from swarm.metrics.inequality import gini
from swarm.metrics.registry import (
    EpochData,
    RunData,
    count,
    defined,
    epoch_metric,
    last_of,
    mean_of,
    pooled,
    run_figure,
    sum_of,
)


@epoch_metric("interactions", "interactions resolved (accepted or declined)", columns_only=True)
def _interactions(d: EpochData) -> int:
    return len(d.table)


@epoch_metric("accepted", "interactions accepted", columns_only=True)
def _accepted(d: EpochData) -> int:
    return len(d.columns.p_accepted)


@epoch_metric("rejected", "interactions declined", columns_only=True)
def _rejected(d: EpochData) -> int:
    return len(d.columns.p_rejected)


@epoch_metric(
    "toxicity_rate", "E[1 − p | accepted] (undefined when nothing was accepted)", plot=True, columns_only=True
)
def _toxicity(d: EpochData) -> float | None:
    return soft._toxicity(d.columns.p_accepted) if d.columns.p_accepted else None


@epoch_metric("toxicity_hard", "share of accepted interactions with p < 0.5", columns_only=True)
def _toxicity_hard(d: EpochData) -> float | None:
    return soft._hard_toxicity(d.columns.p_accepted, 0.5) if d.columns.p_accepted else None


@epoch_metric(
    "quality_gap",
    "E[p | accepted] − E[p | declined]; negative = adverse selection",
    plot=True,
    columns_only=True,
)
def _quality_gap(d: EpochData) -> float | None:
    c = d.columns
    return soft._quality_gap(c) if c.p_accepted and c.p_rejected else None


@epoch_metric(
    "conditional_loss_initiator",
    "E[π_a | accepted] − E[π_a]: what initiators lose to selection",
    plot=True,
    columns_only=True,
)
def _closs_a(d: EpochData) -> float | None:
    # soft._conditional_loss(d.columns.accepted, d.payoffs[0]): its mean over the accepted is the welfare's
    return d.welfare["avg_initiator_payoff"] - soft._mean(d.payoffs[0]) if d.columns.p_accepted else None


@epoch_metric("conditional_loss_counterparty", "E[π_b | accepted] − E[π_b]", columns_only=True)
def _closs_b(d: EpochData) -> float | None:
    # soft._conditional_loss(d.columns.accepted, d.payoffs[1]), as for the initiator
    return d.welfare["avg_counterparty_payoff"] - soft._mean(d.payoffs[1]) if d.columns.p_accepted else None


@epoch_metric("spread", "(s⁺ + s⁻)·(E[p] − E[p | accepted])", columns_only=True)
def _spread(d: EpochData) -> float | None:
    return soft._spread(d.columns, d.engine) if d.columns.p_accepted else None


@epoch_metric("average_quality", "E[p] over all interactions", columns_only=True)
def _average_quality(d: EpochData) -> float | None:
    return d.columns._mean_of("p") if d.columns.p else None


@epoch_metric("acceptance_rate", "share of interactions accepted", plot=True, columns_only=True)
def _acceptance(d: EpochData) -> float | None:
    c = d.columns
    return len(c.p_accepted) / len(c.p) if c.p else None


@epoch_metric(
    "high_quality_acceptance",
    "acceptance rate of interactions with p ≥ 0.5 (participation)",
    columns_only=True,
)
def _hq(d: EpochData) -> float | None:
    rates = soft._participation(d.columns, 0.5)
    return rates["high_quality_acceptance"] if rates["high_quality_count"] else None


@epoch_metric(
    "low_quality_acceptance",
    "acceptance rate of interactions with p < 0.5 (participation)",
    columns_only=True,
)
def _lq(d: EpochData) -> float | None:
    rates = soft._participation(d.columns, 0.5)
    return rates["low_quality_acceptance"] if rates["low_quality_count"] else None


@epoch_metric("uncertain_fraction", "share of interactions with p within 0.2 of 0.5", columns_only=True)
def _uncertain(d: EpochData) -> float | None:
    return soft._uncertain_fraction(d.columns.p, 0.2) if d.columns.p else None


@epoch_metric("quality_variance", "population variance of p", columns_only=True)
def _qvar(d: EpochData) -> float | None:
    return soft._pvariance(d.columns.p, d.columns._mean_of("p")) if d.columns.p else None


@epoch_metric("avg_payoff", "mean initiator payoff of accepted interactions", columns_only=True)
def _avg_payoff(d: EpochData) -> float | None:
    return d.welfare["avg_initiator_payoff"] if d.columns.p_accepted else None


@epoch_metric("total_welfare", "Σ (π_a + π_b) over accepted interactions", plot=True, columns_only=True)
def _welfare(d: EpochData) -> float:
    return d.welfare["total_welfare"]


@epoch_metric(
    "social_surplus", "Σ (S − E) over accepted interactions: surplus net of harm to others", columns_only=True
)
def _surplus(d: EpochData) -> float:
    return d.welfare["total_social_surplus"]


@epoch_metric("brier_score", "mean (p − v)² where the ground truth v is known", columns_only=True)
def _brier(d: EpochData) -> float | None:
    return soft._brier(d.columns)


@epoch_metric("expected_calibration_error", "ECE of p against the ground truth (10 bins)", columns_only=True)
def _ece(d: EpochData) -> float | None:
    return soft._ece(d.columns, 10)


@epoch_metric("log_loss", "cross-entropy of p against the ground truth", columns_only=True)
def _log_loss(d: EpochData) -> float | None:
    return soft._log_loss(d.columns, 1e-15)


@epoch_metric(
    "discrimination_auc", "AUC of p for telling beneficial from harmful interactions", columns_only=True
)
def _auc(d: EpochData) -> float | None:
    return soft._auc(d.columns)


@epoch_metric("resource_gini", "Gini coefficient of agents' resources", plot=True, columns_only=True)
def _resource_gini(d: EpochData) -> float:
    return gini(list(d.resources.values()))


@epoch_metric("reputation_gini", "Gini coefficient of agents' reputations", columns_only=True)
def _reputation_gini(d: EpochData) -> float:
    return gini(list(d.reputation.values()))


@epoch_metric("frozen_agents", "agents frozen at the end of the epoch", columns_only=True)
def _frozen(d: EpochData) -> int:
    return len(d.frozen)


@epoch_metric("mean_p_by_type", "mean p of accepted interactions, by initiator type", columns_only=True)
def _mean_p_by_type(d: EpochData) -> dict[str, float]:
    # each accepted interaction's initiator type (in C), then its p appended to that type's list
    of = list(map(d.types.get, compress(d.table.initiator, d.table.accepted), repeat("unknown")))
    by_type: dict[str, list[float]] = {t: [] for t in sorted(set(of))}
    add = {t: ps.append for t, ps in by_type.items()}
    for t, p in zip(of, d.columns.p_accepted, strict=True):
        add[t](p)
    return {t: math.fsum(ps) / len(ps) for t, ps in by_type.items()}


count("rejected_actions", ActionRejected, "actions the world refused")
count("policy_failures", PolicyFailed, "policy calls that timed out or gave up")
count("governance_costs", Cost, "Σ governance costs charged inside payoffs", amount=lambda e: e.amount)
count("llm_calls", LLMCall, "LLM requests made")
count("llm_failed_calls", LLMCall, "LLM requests that failed", where=lambda e: e.error is not None)
count("llm_cost", LLMCall, "Σ USD the epoch's LLM requests cost", amount=lambda e: e.cost_usd)


@epoch_metric(
    "harmful_accepted", "accepted interactions whose latent outcome was harmful (v = −1)", columns_only=True
)
def _harmful(d: EpochData) -> int:
    return list(compress(d.table.truth, d.table.accepted)).count(-1)


# ------------------------------------------------------------------ run figures


def _honest_payoff(run: RunData) -> float | None:
    payoffs = [a["total_payoff"] for a in run.agents if a.get("agent_type") == "honest"]
    return statistics.fmean(payoffs) if payoffs else None


def _negative_gap_epochs(run: RunData) -> int:
    return sum(1 for x in defined(run.epochs, "quality_gap") if x < 0)


run_figure("epochs", "epochs completed", lambda run: len(run.epochs))
run_figure("agents", "agents in the run", lambda run: len(run.agents))
run_figure("total_interactions", "interactions resolved over the run", sum_of("interactions"))
run_figure("accepted", "interactions accepted over the run", sum_of("accepted"))
run_figure(
    "avg_toxicity",
    "mean epoch toxicity over epochs with accepted interactions",
    mean_of("toxicity_rate"),
    headline=True,
)
run_figure(
    "pooled_toxicity",
    "toxicity of all accepted interactions pooled",
    pooled("toxicity_rate", "accepted"),
    headline=True,
)
run_figure(
    "avg_quality_gap",
    "mean quality gap over epochs where it is defined",
    mean_of("quality_gap"),
    headline=True,
)
run_figure(
    "quality_gap_negative_epochs", "epochs with adverse selection (quality gap < 0)", _negative_gap_epochs
)
run_figure("total_welfare", "Σ welfare over the run", sum_of("total_welfare"), headline=True)
run_figure("final_welfare", "welfare of the last epoch", last_of("total_welfare"))
run_figure(
    "avg_conditional_loss_initiator",
    "mean initiator conditional loss over epochs with accepted interactions",
    mean_of("conditional_loss_initiator"),
    headline=True,
)
run_figure(
    "avg_acceptance_rate", "mean acceptance rate over epochs with interactions", mean_of("acceptance_rate")
)
run_figure("final_resource_gini", "Gini of resources at the end", last_of("resource_gini"))
run_figure("honest_payoff", "mean total payoff of the honest agents", _honest_payoff)
run_figure("llm_calls", "LLM requests over the run", sum_of("llm_calls"))
run_figure("llm_cost_usd", "Σ USD the run's LLM requests cost", sum_of("llm_cost"))
run_figure("total_governance_costs", "Σ governance costs over the run", sum_of("governance_costs"))
