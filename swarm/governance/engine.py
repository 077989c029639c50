"""The lever engine: builds the enabled levers, spawns them as actors, combines their effects.

Fixed lever order (it decides how effects are listed and applied):
reputation decay → staking → transaction tax → random audit → moderator →
circuit breaker → transparency ledger → collusion detection. (Vote-weight normalisation is applied by
the Feed, which owns votes; the bandwidth cap by the Ledger at admission.)
At each hook every lever is asked (one scatter-gather); answers are combined in
that order, never in arrival order. Costs for one interaction are summed into
its ``c_a`` and ``c_b`` before payoffs are computed.
"""

from __future__ import annotations

from collections.abc import Sequence

from actors import ActorRef, ActorSystem, Message
from swarm.core.interaction import SoftInteraction
from swarm.governance.audit import RandomAudit
from swarm.governance.base import Effect, Governance
from swarm.governance.circuit_breaker import CircuitBreaker
from swarm.governance.collusion import CollusionDetection
from swarm.governance.lever import (
    AdmissionHook,
    Blocked,
    EpochEndHook,
    EpochStartHook,
    InteractionHook,
    Lever,
    LeverEffects,
)
from swarm.governance.moderator import Moderator
from swarm.governance.reputation import ReputationDecay
from swarm.governance.staking import Staking
from swarm.governance.tax import TransactionTax
from swarm.governance.transparency import TransparencyLedger
from swarm.messages import AgentPublic
from swarm.metrics.epoch import EpochMetrics
from swarm.runtime.rng import derive_rng
from swarm.scenario import Scenario


class LeverEngine(Governance):
    """Runs a fixed, ordered list of levers at the four hook points."""

    def __init__(self, levers: Sequence[Lever]) -> None:
        self.levers = list(levers)
        self._refs: list[ActorRef] = []
        self._system: ActorSystem | None = None

    def attach(self, system: ActorSystem) -> None:
        self._system = system
        self._refs = [system.spawn(lever, name=f"lever:{lever.key}") for lever in self.levers]

    async def _gather(self, msg: Message) -> list[object]:
        if self._system is None or not self._refs:
            return []
        return await self._system.gather_ask([(r, msg) for r in self._refs])

    async def epoch_start(self, epoch: int, agents: Sequence[AgentPublic]) -> list[Effect]:
        replies = await self._gather(EpochStartHook(epoch=epoch, agents=tuple(agents)))
        return [e for r in replies if isinstance(r, LeverEffects) for e in r.effects]

    async def blocked(self, epoch: int, step: int, agents: Sequence[AgentPublic]) -> dict[str, str]:
        replies = await self._gather(
            AdmissionHook.model_construct(epoch=epoch, step=step, agents=tuple(agents))
        )
        out: dict[str, str] = {}
        for r in replies:
            if isinstance(r, Blocked):
                for agent, reason in r.reasons.items():
                    out.setdefault(agent, reason)
        return out

    async def on_interactions(
        self, epoch: int, step: int, interactions: Sequence[SoftInteraction]
    ) -> tuple[list[SoftInteraction], list[Effect]]:
        replies = await self._gather(
            InteractionHook(epoch=epoch, step=step, interactions=tuple(interactions))
        )
        totals: dict[str, tuple[float, float]] = {}
        effects: list[Effect] = []
        for r in replies:
            if not isinstance(r, LeverEffects):
                continue
            for iid, (ca, cb) in r.costs.items():
                a, b = totals.get(iid, (0.0, 0.0))
                totals[iid] = (a + ca, b + cb)
            effects.extend(r.effects)
        out = [
            i.model_copy(
                update={
                    "c_a": i.c_a + totals[i.interaction_id][0],
                    "c_b": i.c_b + totals[i.interaction_id][1],
                }
            )
            if i.interaction_id in totals
            else i
            for i in interactions
        ]
        return out, effects

    async def epoch_end(
        self, epoch: int, metrics: EpochMetrics, agents: Sequence[AgentPublic]
    ) -> list[Effect]:
        replies = await self._gather(EpochEndHook(epoch=epoch, metrics=metrics, agents=tuple(agents)))
        return [e for r in replies if isinstance(r, LeverEffects) for e in r.effects]


def build_levers(scenario: Scenario) -> list[Lever]:
    """The enabled levers of ``scenario.governance``, in engine order."""
    g = scenario.governance
    seed = scenario.simulation.seed
    levers: list[Lever] = []
    if g.reputation_decay_rate < 1.0:
        levers.append(ReputationDecay(g.reputation_decay_rate))
    if g.staking_enabled and g.min_stake_to_participate > 0:
        levers.append(Staking(g.min_stake_to_participate, g.stake_slash_rate, g.slash_threshold_p))
    if g.transaction_tax_rate > 0:
        levers.append(
            TransactionTax(
                g.transaction_tax_rate, g.transaction_tax_split, g.tax_destination, scenario.payoff
            )
        )
    if g.audit_enabled and g.audit_probability > 0:
        levers.append(
            RandomAudit(
                g.audit_probability,
                g.audit_threshold_p,
                g.audit_penalty_multiplier,
                derive_rng(seed, "lever", "random_audit"),
            )
        )
    if g.moderator_enabled:
        levers.append(Moderator(g.moderator_threshold_p, g.moderator_penalty))
    if g.circuit_breaker_enabled:
        levers.append(
            CircuitBreaker(
                g.freeze_threshold_toxicity,
                g.freeze_threshold_violations,
                g.freeze_duration_epochs,
                g.breaker_window,
            )
        )
    if g.transparency_enabled:
        levers.append(TransparencyLedger(g.transparency_reputation_weight))
    if g.collusion_detection_enabled:
        levers.append(
            CollusionDetection(
                frequency_threshold=g.collusion_frequency_threshold,
                min_interactions=g.collusion_min_interactions,
                score_threshold=g.collusion_score_threshold,
                penalty_multiplier=g.collusion_penalty_multiplier,
                realtime_penalty=g.collusion_realtime_penalty,
                realtime_rate=g.collusion_realtime_rate,
                clear_history_on_epoch=g.collusion_clear_history_on_epoch,
            )
        )
    return levers


def build_governance(scenario: Scenario) -> Governance:
    """The lever engine for ``scenario.governance`` (a no-op engine when every lever is off)."""
    levers = build_levers(scenario)
    return LeverEngine(levers) if levers else Governance()
