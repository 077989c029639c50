"""Economy tax: governance takes a share of the money that flows through the economies.

With ``economy_tax_rate`` above 0 the economies levy, each on its own flow:

* the Dworkin auction (``auction:``): its proceeds, after the participants'
  payments reach ``auction:proceeds`` and before any rebate (the rebate shares
  what is left);
* the mission economy (``missions:``): a succeeded mission's pool (stakes plus
  success bonus) before it is paid out to the members (refunds of failed or
  expired missions are not taxed);
* the order book (``order_book:``): each seller's proceeds, summed per seller
  and step; the seller's buying power in the market counts its proceeds net of
  the tax, so it never spends money the tax takes.

Each levy is one ledger entry, a :class:`~swarm.money.Transfer` from the account
that bears it to ``governance:treasury`` (``economy_tax_destination: treasury``)
or a :class:`~swarm.money.Burn` (``burn``), and one :class:`EconomyTaxed` event
naming the lever. The lever has no hooks: the economies apply it inside their
own settlement, where the money moves. Agents read the rule as an
:class:`EconomyTaxNotice`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import msgspec
from pydantic import Field

from swarm.errors import ConfigProblem
from swarm.events import Event
from swarm.governance.lever import Lever, LeverConfig, lever
from swarm.governance.tax import TREASURY
from swarm.kernel.component import Applied, At
from swarm.metrics.registry import count, run_figure, sum_of
from swarm.money import Burn, Entry, Transfer

if TYPE_CHECKING:
    from swarm.scenario import Scenario

ECONOMY_TAX = "economy_tax"
"""The lever's key, as events name it."""
ECONOMIES: tuple[str, ...] = ("auction", "missions", "order_book")
"""The sections whose flows the tax reaches."""
Economy = Literal["auction", "missions", "order_book"]
Destination = Literal["treasury", "burn"]


class EconomyTaxNotice(msgspec.Struct, frozen=True, gc=False):
    """The economy tax in force: ``rate`` of auction proceeds, mission pools and sellers' proceeds."""

    rate: float
    destination: str


class EconomyTaxed(Event, tag="economy_taxed", frozen=True):
    """One levy: ``amount`` = ``rate`` × ``base``, taken from ``account`` in ``economy``."""

    lever: str
    economy: str
    account: str
    """Who bore it: ``auction:proceeds``, a ``mission:<id>`` pool, or a selling agent."""
    base: float
    rate: float
    amount: float
    destination: str
    ref: str | None = None
    """The auction or mission id (None for the order book's per-step levies)."""


class EconomyTaxConfig(LeverConfig):
    economy_tax_rate: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="share of auction proceeds, mission pools and sellers' proceeds taken as tax",
    )
    economy_tax_destination: Destination = Field(
        default="treasury", description="treasury: to governance:treasury; burn: destroyed"
    )


@dataclass(frozen=True, slots=True)
class EconomyTaxRule:
    """The tax as the economies apply it."""

    rate: float
    destination: Destination = "treasury"

    def levy(self, at: At, economy: Economy, account: str, base: float, ref: str | None = None) -> Applied:
        """The entry and event of taxing ``base`` held by ``account`` (nothing when the tax is 0)."""
        amount = self.rate * base
        if not amount > 0.0:
            return Applied()
        reason = f"{ECONOMY_TAX}: {economy} tax at rate {self.rate:g}"
        entry: Entry = (
            Transfer(payer=account, payee=TREASURY, amount=amount, reason=reason, ref=ref)
            if self.destination == "treasury"
            else Burn(account=account, amount=amount, reason=reason, ref=ref)
        )
        event = EconomyTaxed(
            epoch=at.epoch,
            step=at.step,
            lever=ECONOMY_TAX,
            economy=economy,
            account=account,
            base=base,
            rate=self.rate,
            amount=amount,
            destination=self.destination,
            ref=ref,
        )
        return Applied(events=[event], entries=[entry])


def economy_tax_rule(scenario: Scenario) -> EconomyTaxRule | None:
    """The tax the scenario's governance puts on the economies, or None when it is off."""
    gov = scenario.governance
    rate = float(getattr(gov, "economy_tax_rate", 0.0))
    if rate <= 0.0:
        return None
    return EconomyTaxRule(rate, gov.economy_tax_destination)


@lever
class EconomyTax(Lever):
    key = ECONOMY_TAX
    order = 66
    title = "economy tax"
    Config = EconomyTaxConfig
    switch = "economy_tax_rate above 0"
    Notice = EconomyTaxNotice
    config: EconomyTaxConfig

    @classmethod
    def active(cls, config: EconomyTaxConfig) -> bool:
        return config.economy_tax_rate > 0

    @classmethod
    def notice(cls, config: EconomyTaxConfig) -> EconomyTaxNotice:
        return EconomyTaxNotice(config.economy_tax_rate, config.economy_tax_destination)

    @classmethod
    def check(cls, scenario: Scenario) -> None:
        rate = scenario.governance.economy_tax_rate
        if rate <= 0:
            return
        if not any(_enabled(scenario, key) for key in ECONOMIES):
            raise ConfigProblem(
                "governance.economy_tax_rate",
                f"{rate:g} without an economy to tax",
                "an enabled auction:, missions: or order_book: section (or a rate of 0)",
            )


def _enabled(scenario: Scenario, key: str) -> bool:
    section = scenario.section(key)
    return section is not None and bool(getattr(section, "enabled", True))


count(
    "economy_tax_revenue",
    EconomyTaxed,
    "money the economy tax took in the epoch (all economies)",
    amount=lambda e: e.amount,
    optional=True,
)
run_figure("economy_tax_total", "money the economy tax took over the run", sum_of("economy_tax_revenue"))
