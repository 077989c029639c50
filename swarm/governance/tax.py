"""Transaction tax: a share of each accepted interaction's expected surplus, collected and redistributed.

tax = rate · (max(S(p), 0) + |τ|), with S(p) = p·s⁺ − (1−p)·s⁻ from the scenario's
payoff settings (the reference hard-coded s⁺ = 2, s⁻ = 1). The initiator pays
``transaction_tax_split`` of it, the counterparty the rest, as governance costs
inside their payoffs. Revenue is not destroyed unless asked: it goes to the
``governance:tax`` account and at epoch end is shared equally among active
agents (``redistribute``), or stays in ``governance:treasury``, or is burned.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import AliasChoices, Field

from swarm.core.interaction import SoftInteraction
from swarm.governance.effects import Cost, Effect, ResourceChange
from swarm.governance.lever import Lever, LeverConfig, lever
from swarm.governance.notices import TaxNotice
from swarm.kernel.component import At, Setup
from swarm.views import AgentPublic

REVENUE = "governance:tax"
TREASURY = "governance:treasury"


class TaxConfig(LeverConfig):
    transaction_tax_rate: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        validation_alias=AliasChoices("transaction_tax_rate", "transaction_tax"),
        description="share of each accepted interaction's surplus (plus transfer) taken as tax",
    )
    transaction_tax_split: float = Field(
        default=0.5, ge=0.0, le=1.0, description="share paid by the initiator"
    )
    tax_destination: Literal["redistribute", "treasury", "burn"] = "redistribute"


@lever
class TransactionTax(Lever):
    key = "transaction_tax"
    order = 30
    title = "transaction tax"
    Config = TaxConfig
    switch = "transaction_tax_rate above 0"
    Notice = TaxNotice
    config: TaxConfig

    def __init__(self, config: TaxConfig, setup: Setup) -> None:
        super().__init__(config, setup)
        self.payoff = setup.scenario.payoff
        self.collected = 0.0
        self.account = {"redistribute": REVENUE, "treasury": TREASURY, "burn": None}[config.tax_destination]

    @classmethod
    def active(cls, config: TaxConfig) -> bool:
        return config.transaction_tax_rate > 0

    @classmethod
    def notice(cls, config: TaxConfig) -> TaxNotice:
        return TaxNotice(config.transaction_tax_rate, config.transaction_tax_split)

    def tax_of(self, i: SoftInteraction) -> float:
        surplus = i.p * self.payoff.s_plus - (1 - i.p) * self.payoff.s_minus
        return self.config.transaction_tax_rate * (max(surplus, 0.0) + abs(i.tau))

    def on_interactions(self, at: At, interactions: Sequence[SoftInteraction]) -> list[Effect]:
        effects: list[Effect] = []
        split = self.config.transaction_tax_split
        reason = f"tax at rate {self.config.transaction_tax_rate:g}"
        for i in interactions:
            if not i.accepted:
                continue
            tax = self.tax_of(i)
            if tax <= 0:
                continue
            self.collected += tax
            for who, amount in ((i.initiator, tax * split), (i.counterparty, tax * (1 - split))):
                if amount > 0:
                    effects.append(
                        Cost(
                            epoch=at.epoch,
                            step=at.step,
                            lever=self.key,
                            agent_id=who,
                            amount=amount,
                            account=self.account,
                            reason=reason,
                            interaction_id=i.interaction_id,
                        )
                    )
        return effects

    def epoch_end(self, at: At, agents: Sequence[AgentPublic]) -> list[Effect]:
        revenue, self.collected = self.collected, 0.0
        if revenue <= 0 or self.account != REVENUE:
            return []
        active = [a for a in agents if not a.frozen]
        if not active:
            return []
        share = revenue / len(active)
        return [
            ResourceChange(
                epoch=at.epoch,
                step=at.step,
                lever=self.key,
                agent_id=a.agent_id,
                amount=share,
                account=REVENUE,
                reason=f"equal share of {revenue:.4f} tax revenue",
            )
            for a in active
        ]
