"""Transaction tax: a share of each accepted interaction's expected surplus, collected and redistributed.

tax = rate · (max(S(p), 0) + |τ|), with S(p) = p·s⁺ − (1−p)·s⁻ from the scenario's
payoff settings (the reference hard-coded s⁺ = 2, s⁻ = 1). The initiator pays
``split`` of it, the counterparty the rest, as governance costs inside their
payoffs. Revenue is not destroyed: at epoch end it is shared equally among
active agents (``redistribute``), kept in the treasury, or burned, as configured.
"""

from __future__ import annotations

from collections.abc import Sequence

from swarm.core.interaction import SoftInteraction
from swarm.core.payoff import PayoffConfig
from swarm.governance.base import Effect
from swarm.governance.lever import Costs, Lever
from swarm.messages import AgentPublic
from swarm.metrics.epoch import EpochMetrics


class TransactionTax(Lever):
    key = "transaction_tax"

    def __init__(self, rate: float, split: float, destination: str, payoff: PayoffConfig) -> None:
        self.rate = rate
        self.split = split
        self.destination = destination
        self.payoff = payoff
        self.collected = 0.0
        self.treasury = 0.0

    def tax_of(self, i: SoftInteraction) -> float:
        surplus = i.p * self.payoff.s_plus - (1 - i.p) * self.payoff.s_minus
        return self.rate * (max(surplus, 0.0) + abs(i.tau))

    def on_interactions(
        self, epoch: int, step: int, interactions: Sequence[SoftInteraction]
    ) -> tuple[Costs, list[Effect]]:
        costs: Costs = {}
        effects: list[Effect] = []
        for i in interactions:
            if not i.accepted:
                continue
            tax = self.tax_of(i)
            if tax <= 0:
                continue
            a, b = tax * self.split, tax * (1 - self.split)
            costs[i.interaction_id] = (a, b)
            self.collected += tax
            for who, amount in ((i.initiator, a), (i.counterparty, b)):
                if amount > 0:
                    effects.append(
                        Effect(
                            lever=self.key,
                            agent_id=who,
                            kind="cost",
                            amount=amount,
                            reason=f"tax at rate {self.rate:g}",
                            interaction_id=i.interaction_id,
                        )
                    )
        return costs, effects

    def epoch_end(self, epoch: int, metrics: EpochMetrics, agents: Sequence[AgentPublic]) -> list[Effect]:
        revenue, self.collected = self.collected, 0.0
        if revenue <= 0 or self.destination == "burn":
            return []
        active = [a for a in agents if not a.frozen]
        if self.destination == "treasury" or not active:
            self.treasury += revenue
            return []
        share = revenue / len(active)
        return [
            Effect(
                lever=self.key,
                agent_id=a.agent_id,
                kind="resources",
                amount=share,
                reason=f"equal share of {revenue:.4f} tax revenue",
            )
            for a in active
        ]
