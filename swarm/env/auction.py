"""The Dworkin auction: equal endowments, valuations, tatonnement prices, an envy check.

With an ``auction:`` section, every ``every_epochs`` epochs (and at the epochs
listed in ``at_epochs``) the auction runs at the epoch's end. Every agent not
frozen takes part with the same budget of ``endowment`` tokens and reports a
value per unit for each resource:

* scripted agents report by a rule: each agent's true values are drawn once,
  uniformly in [``value_low``, ``value_high``], from its own seeded stream;
  types listed in ``strategic_types`` shade every value but their highest by
  ``shading`` (they understate what they care less about), the others report
  the truth;
* any agent (an LLM agent, say) may send an ``auction_bid`` action with its own
  values; its latest bid replaces the rule at the next auction. An LLM agent is
  shown its true values, its latest bid and when the next auction runs.

Prices start at max(1, ``reserve_price``) and move by tatonnement,
p ← max(reserve, p·(1 + rate·excess/supply)), for at most ``max_rounds``
rounds. A resource clears when |excess| ≤ ``convergence_tolerance`` × supply,
or when its price sits at the reserve and demand is below that (the unsold
part stays unallocated). The check runs before the price update, so the
reported prices are the ones the allocation was made at. Demand is each
agent's optimum under the budget: with ``utility: linear`` (Σ v·q) the greedy
fill by value per token, with ``utility: cobb_douglas`` (Π q^(v/Σv)) the budget
split in proportion to the values. After the last round, any resource still
over-demanded is rationed pro rata, so the allocation never exceeds supply.

Each agent pays Σ price × quantity tokens; tokens are ledger resources
(1 token = 1 unit): the payments go to the ``auction:proceeds`` account and,
with ``payment: rebate`` (the default), are handed back in equal shares to the
participants, so the auction only moves money from big buyers to small ones.
With the governance lever ``economy_tax_rate`` above 0
(:mod:`swarm.governance.economy_tax`) the tax is taken from the proceeds before
the rebate, which then shares what is left.
The allocation replaces every agent's holdings, published in the
:class:`AuctionView` of the snapshot for other components to read.

The envy check compares, for every ordered pair, agent i's utility (by its
reported values) of j's bundle with its own; a gap above ``envy_tolerance`` ×
its own utility is a violation. At a converged allocation every gap is at most
``convergence_tolerance`` × its own utility (rationing the residual excess is
all that can take from an optimal bundle), so a converged auction with
envy_tolerance ≥ convergence_tolerance is envy-free; the tests check both.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec
from pydantic import BaseModel, ConfigDict, Field, model_validator

from swarm.actions import Action
from swarm.errors import ConfigProblem
from swarm.events import ActionRejected, Event
from swarm.governance.economy_tax import economy_tax_rule
from swarm.kernel.component import Applied, At, Setup, Turn, WorldComponent, component
from swarm.metrics.inequality import gini
from swarm.metrics.registry import latest
from swarm.money import Burn, Entry, Transfer
from swarm.views import AgentPublic

if TYPE_CHECKING:
    from swarm.scenario import Scenario

Utility = Literal["linear", "cobb_douglas"]

PROCEEDS = "auction:proceeds"
"""The system account the auction's payments go to."""

# ------------------------------------------------------------------------ settings


class AuctionConfig(BaseModel):
    """The ``auction:`` section."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    enabled: bool = Field(default=True, description="false: the scenario has no auction")
    resources: dict[str, float] = Field(
        default_factory=lambda: {"compute": 100.0},
        description="each resource auctioned and its supply per auction (> 0)",
    )
    endowment: float = Field(default=100.0, gt=0.0, le=1e9, description="every participant's token budget")
    reserve_price: float = Field(default=0.1, gt=0.0, le=1e9, description="no price falls below this")
    price_adjustment_rate: float = Field(default=0.1, gt=0.0, le=1.0, description="tatonnement step size")
    convergence_tolerance: float = Field(
        default=0.01,
        gt=0.0,
        le=1.0,
        description="a resource clears when |excess demand| ≤ this share of supply",
    )
    envy_tolerance: float = Field(
        default=0.05, ge=0.0, description="envy counts when the gap exceeds this share of one's own utility"
    )
    utility: Utility = Field(
        default="linear", description="linear: Σ v·q; cobb_douglas: Π q^(v/Σv) (the budget split by value)"
    )
    max_rounds: int = Field(default=50, ge=1, le=10_000, description="tatonnement rounds at most")
    every_epochs: int | None = Field(
        default=1, ge=1, description="run at the end of every this many epochs (null: only at_epochs)"
    )
    at_epochs: list[int] = Field(
        default_factory=list, description="also run at the end of these epochs (0-based)"
    )
    value_low: float = Field(default=0.5, gt=0.0, description="scripted agents' true values: lowest")
    value_high: float = Field(default=2.0, gt=0.0, description="scripted agents' true values: highest")
    strategic_types: list[str] = Field(
        default_factory=lambda: ["opportunistic", "deceptive", "adversarial"],
        description="agent types that shade their reported values",
    )
    shading: float = Field(
        default=0.5, ge=0.0, lt=1.0, description="share by which strategic agents understate non-top values"
    )
    payment: Literal["rebate", "keep"] = Field(
        default="rebate", description="rebate: proceeds go back to participants in equal shares"
    )

    @model_validator(mode="after")
    def _consistent(self) -> AuctionConfig:
        if not self.resources:
            raise ConfigProblem("auction.resources", "empty", "at least one resource with its supply")
        for name, supply in self.resources.items():
            if not (supply > 0 and math.isfinite(supply)):
                raise ConfigProblem(
                    f"auction.resources.{name}", f"supply {supply!r}", "a finite number above 0"
                )
        if self.value_low > self.value_high:
            raise ConfigProblem(
                "auction.value_low", f"above value_high ({self.value_high:g})", "value_low ≤ value_high"
            )
        for index, epoch in enumerate(self.at_epochs):
            if epoch < 0:
                raise ConfigProblem(f"auction.at_epochs.{index}", f"{epoch}", "an epoch number ≥ 0")
        return self


# ------------------------------------------------------------------------ actions


class AuctionBid(Action, tag="auction_bid", frozen=True):
    """Report your value per unit of each auctioned resource for the next auction (≥ 0)."""

    valuations: dict[str, Annotated[float, msgspec.Meta(ge=0.0, le=1e6)]]


# ------------------------------------------------------------------------ events


class AuctionBidReceived(Event, tag="auction_bid_received", frozen=True):
    agent_id: str
    valuations: dict[str, float]


class AuctionRound(Event, tag="auction_round", frozen=True):
    """One tatonnement round: the prices demand was computed at, and the excess demand."""

    auction_id: str
    round: int
    prices: dict[str, float]
    excess: dict[str, float]


class AuctionCleared(Event, tag="auction_cleared", frozen=True):
    """The final allocation, its prices and payments, and the envy check."""

    auction_id: str
    participants: int
    rounds: int
    converged: bool
    prices: dict[str, float]
    allocations: dict[str, dict[str, float]]
    payments: dict[str, float]
    envy_violations: list[tuple[str, str, float]]
    allocation_gini: float
    total_utility: float


# ------------------------------------------------------------------------ engine


@dataclass(frozen=True, slots=True)
class AuctionOutcome:
    """What :func:`run_auction` found."""

    prices: dict[str, float]
    allocations: dict[str, dict[str, float]]
    payments: dict[str, float]
    utilities: dict[str, float]
    rounds: list[tuple[dict[str, float], dict[str, float]]]
    """Each round's (prices, excess demand)."""
    converged: bool
    envy_violations: list[tuple[str, str, float]]
    """(envious, envied, utility gap), in agent order."""

    @property
    def gini(self) -> float:
        return gini([self.utilities[a] for a in self.utilities])


def _demand(
    values: Mapping[str, float], prices: Mapping[str, float], supply: Mapping[str, float], budget: float
) -> dict[str, float]:
    """The greedy optimum of a linear utility under the budget (best value per token first)."""
    order = sorted(
        (r for r in supply if values.get(r, 0.0) > 0.0),
        key=lambda r: (-values[r] / prices[r], r),
    )
    out: dict[str, float] = {}
    left = budget
    for r in order:
        if left <= 0.0:
            break
        qty = min(left / prices[r], supply[r])
        if qty > 0.0:
            out[r] = qty
            left -= qty * prices[r]
    return out


def _weights(values: Mapping[str, float]) -> dict[str, float]:
    """Cobb-Douglas exponents: the positive values as shares of their sum (shares under 1e-9 dropped)."""
    total = sum(v for v in values.values() if v > 0.0)
    if total <= 0.0:
        return {}
    shares = {r: v / total for r, v in values.items() if v > 0.0 and v / total >= 1e-9}
    kept = sum(shares.values())
    return {r: w / kept for r, w in shares.items()}


def _demand_cd(
    values: Mapping[str, float], prices: Mapping[str, float], supply: Mapping[str, float], budget: float
) -> dict[str, float]:
    """The optimum of a Cobb-Douglas utility: the budget split in proportion to the values."""
    return {r: budget * w / prices[r] for r, w in _weights({r: values[r] for r in supply}).items()}


def bundle_utility(values: Mapping[str, float], bundle: Mapping[str, float], utility: Utility) -> float:
    """An agent's utility of a bundle: Σ v·q (linear) or Π q^(v/Σv) (Cobb-Douglas, degree 1)."""
    if utility == "linear":
        return sum(max(0.0, values.get(r, 0.0)) * q for r, q in bundle.items())
    weights = _weights(values)
    if not weights:
        return 0.0
    out = 1.0
    for r, w in weights.items():
        q = bundle.get(r, 0.0)
        if q <= 0.0:
            return 0.0
        out *= q**w
    return out


def run_auction(
    valuations: Mapping[str, Mapping[str, float]],
    supply: Mapping[str, float],
    *,
    endowment: float,
    reserve_price: float = 0.1,
    rate: float = 0.1,
    tolerance: float = 0.01,
    envy_tolerance: float = 0.05,
    max_rounds: int = 50,
    utility: Utility = "linear",
) -> AuctionOutcome:
    """Run one Dworkin auction (pure, deterministic; agents in ``valuations`` order).

    Negative values count as 0; ``tolerance`` and ``envy_tolerance`` are relative
    (to supply, and to the envious agent's own utility). See the module docstring.
    """
    agents = list(valuations)
    values = {a: {r: max(0.0, float(valuations[a].get(r, 0.0))) for r in supply} for a in agents}
    demand_of = _demand if utility == "linear" else _demand_cd
    prices = {r: max(1.0, reserve_price) for r in supply}
    rounds: list[tuple[dict[str, float], dict[str, float]]] = []
    converged = False
    demand: dict[str, dict[str, float]] = {}
    for _ in range(max_rounds):
        demand = {a: demand_of(values[a], prices, supply, endowment) for a in agents}
        excess = {r: sum(d.get(r, 0.0) for d in demand.values()) - supply[r] for r in supply}
        rounds.append((dict(prices), excess))
        if all(
            abs(excess[r]) <= tolerance * supply[r]
            or (prices[r] <= reserve_price and excess[r] <= tolerance * supply[r])
            for r in supply
        ):
            converged = True
            break
        for r in supply:
            prices[r] = max(reserve_price, prices[r] * (1.0 + rate * excess[r] / supply[r]))
    if not converged:
        demand = {a: demand_of(values[a], prices, supply, endowment) for a in agents}
    total = {r: sum(d.get(r, 0.0) for d in demand.values()) for r in supply}
    scale = {r: (supply[r] / total[r] if total[r] > supply[r] else 1.0) for r in supply}
    allocations = {a: {r: q * scale[r] for r, q in sorted(demand[a].items())} for a in agents}
    payments = {a: sum(prices[r] * q for r, q in allocations[a].items()) for a in agents}
    utilities = {a: bundle_utility(values[a], allocations[a], utility) for a in agents}
    violations: list[tuple[str, str, float]] = []
    for i in agents:
        for j in agents:
            if i == j or payments[j] > endowment * (1.0 + envy_tolerance):
                continue
            gap = bundle_utility(values[i], allocations[j], utility) - utilities[i]
            if gap > envy_tolerance * utilities[i] and gap > _EPS:
                violations.append((i, j, gap))
    return AuctionOutcome(dict(prices), allocations, payments, utilities, rounds, converged, violations)


_EPS = 1e-9


def agent_valuations(
    rng: random.Random, resources: Sequence[str], low: float, high: float, *, strategic: bool, shading: float
) -> tuple[dict[str, float], dict[str, float]]:
    """(true values, reported values) of one scripted agent, drawn from its own stream."""
    true = {r: rng.uniform(low, high) for r in resources}
    if not strategic:
        return true, dict(true)
    return true, shade(true, shading)


def shade(values: Mapping[str, float], shading: float) -> dict[str, float]:
    """``values`` with every value but the highest (ties: the last name) understated by ``shading``."""
    top = max(values, key=lambda r: (values[r], r))
    return {r: (v if r == top else v * (1.0 - shading)) for r, v in values.items()}


# ------------------------------------------------------------------------ view


class AuctionView(msgspec.Struct, frozen=True, gc=False):
    """The last clearing: every agent's holdings (resource → quantity) and the prices.

    Also what the next auction is made of: the resources with their supply, the
    endowment, the epoch at whose end it runs (None: none before the run ends),
    every agent's own value per unit of each resource and the latest bid it sent.
    """

    holdings: dict[str, dict[str, float]]
    prices: dict[str, float]
    auctions: int
    resources: dict[str, float] = msgspec.field(default_factory=dict)
    endowment: float = 0.0
    next_auction_epoch: int | None = None
    values: dict[str, dict[str, float]] = msgspec.field(default_factory=dict)
    bids: dict[str, dict[str, float]] = msgspec.field(default_factory=dict)

    def holding(self, agent: str, resource: str) -> float:
        return self.holdings.get(agent, {}).get(resource, 0.0)


class AuctionPrompt(msgspec.Struct, frozen=True, gc=False):
    """What an LLM agent is shown: the next auction (resources and supply, its budget, when),
    what a unit of each resource is worth to it, its latest bid (None: none sent), its
    holdings and the last clearing prices."""

    resources: dict[str, float]
    endowment: float
    next_auction_epoch: int | None
    your_values: dict[str, float]
    your_bid: dict[str, float] | None
    holdings: dict[str, float]
    prices: dict[str, float]
    auctions: int


# --------------------------------------------------------------------- component


@component
class DworkinAuction(WorldComponent):
    """Runs the Dworkin auction at epoch ends; keeps and publishes the agents' holdings."""

    key = "auction"
    order = 60
    Config = AuctionConfig
    actions = (AuctionBid,)
    view_type = AuctionView
    prompt_rules = (
        "Auction: at some epoch ends every agent gets the same token budget and the auctioned resources "
        "are sold at prices that adjust until demand meets supply; you spend your budget on what you value "
        "most per token. your_values says what a unit of each resource is worth to you. Send auction_bid "
        "with the value per unit you report for each resource (0 or more; what you report is what the "
        "auction and its envy check use); your latest bid (your_bid) counts, and without one a rule reports "
        "for you. The auction runs at the end of next_auction_epoch; your allocation becomes your holdings. "
        "Payments come from your resources and are rebated in equal shares."
    )
    config: AuctionConfig

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        cfg = self.config
        names = list(cfg.resources)
        strategic = set(cfg.strategic_types)
        self.true_values: dict[str, dict[str, float]] = {}
        self.rule_values: dict[str, dict[str, float]] = {}
        for agent, kind in setup.agents.items():
            true, told = agent_valuations(
                setup.rng("auction", agent),
                names,
                cfg.value_low,
                cfg.value_high,
                strategic=kind in strategic,
                shading=cfg.shading,
            )
            self.true_values[agent], self.rule_values[agent] = true, told
        self.bids: dict[str, dict[str, float]] = {}
        self.holdings: dict[str, dict[str, float]] = {}
        self.prices: dict[str, float] = {}
        self.count = 0
        self._view: AuctionView | None = None
        self._view_epoch = -1
        self.tax = economy_tax_rule(setup.scenario)

    @classmethod
    def check(cls, scenario: Scenario) -> None:
        config: AuctionConfig = scenario.section(cls.key)
        if config.every_epochs is None and not config.at_epochs:
            raise ConfigProblem(
                "auction.every_epochs", "null with no at_epochs", "an interval or a list of epochs"
            )

    def view(self, at: At) -> AuctionView:
        if self._view is None or self._view_epoch != at.epoch:
            cfg = self.config
            self._view_epoch = at.epoch
            self._view = AuctionView(
                self.holdings,
                self.prices,
                self.count,
                cfg.resources,
                cfg.endowment,
                self._next_auction(at.epoch),
                self.true_values,
                dict(self.bids),
            )
        return self._view

    def _next_auction(self, epoch: int) -> int | None:
        """The first epoch from ``epoch`` on at whose end the auction runs (None: none in the run)."""
        last = self.setup.scenario.simulation.n_epochs
        return next((e for e in range(epoch, last) if self.due(e)), None)

    @classmethod
    def prompt_view(cls, view: AuctionView, agent_id: str) -> AuctionPrompt:
        bid = view.bids.get(agent_id)
        return AuctionPrompt(
            dict(view.resources),
            view.endowment,
            view.next_auction_epoch,
            dict(view.values.get(agent_id, {})),
            dict(bid) if bid is not None else None,
            dict(view.holdings.get(agent_id, {})),
            dict(view.prices),
            view.auctions,
        )

    @classmethod
    def view_from_prompt(cls, value: Any, agent_id: str) -> AuctionView:
        s = msgspec.convert(value, AuctionPrompt)
        bids = {agent_id: s.your_bid} if s.your_bid is not None else {}
        return AuctionView(
            {agent_id: s.holdings},
            s.prices,
            s.auctions,
            s.resources,
            s.endowment,
            s.next_auction_epoch,
            {agent_id: s.your_values},
            bids,
        )

    def apply(self, at: At, turns: Sequence[Turn], agents: Mapping[str, AgentPublic]) -> Applied:
        out = Applied()
        names = list(self.config.resources)
        for _, agent, action in turns:
            assert isinstance(action, AuctionBid)
            unknown = sorted(set(action.valuations) - set(self.config.resources))
            if unknown:
                out.events.append(
                    ActionRejected(
                        epoch=at.epoch,
                        step=at.step,
                        agent_id=agent,
                        action="auction_bid",
                        reason=f"unknown resource {unknown[0]} (auctioned: {', '.join(names)})",
                    )
                )
                continue
            values = {r: float(action.valuations.get(r, 0.0)) for r in self.config.resources}
            self.bids[agent] = values
            self._view = None
            out.events.append(
                AuctionBidReceived(epoch=at.epoch, step=at.step, agent_id=agent, valuations=values)
            )
        return out

    def due(self, epoch: int) -> bool:
        every = self.config.every_epochs
        return (every is not None and (epoch + 1) % every == 0) or epoch in self.config.at_epochs

    def epoch_end(self, at: At, agents: Sequence[AgentPublic]) -> Applied:
        if not self.due(at.epoch):
            return Applied()
        return self.clear(at, [a.agent_id for a in agents if not a.frozen])

    def clear(self, at: At, participants: Sequence[str]) -> Applied:
        """Run one auction now among ``participants`` (on demand): events and ledger entries."""
        cfg = self.config
        self.count += 1
        auction_id = f"auction-{self.count}"
        valuations = {a: self.bids.get(a, self.rule_values.get(a, {})) for a in participants}
        outcome = run_auction(
            valuations,
            cfg.resources,
            endowment=cfg.endowment,
            reserve_price=cfg.reserve_price,
            rate=cfg.price_adjustment_rate,
            tolerance=cfg.convergence_tolerance,
            envy_tolerance=cfg.envy_tolerance,
            max_rounds=cfg.max_rounds,
            utility=cfg.utility,
        )
        out = Applied()
        for n, (prices, excess) in enumerate(outcome.rounds, start=1):
            out.events.append(
                AuctionRound(
                    epoch=at.epoch, step=at.step, auction_id=auction_id, round=n, prices=prices, excess=excess
                )
            )
        out.events.append(
            AuctionCleared(
                epoch=at.epoch,
                step=at.step,
                auction_id=auction_id,
                participants=len(participants),
                rounds=len(outcome.rounds),
                converged=outcome.converged,
                prices=outcome.prices,
                allocations=outcome.allocations,
                payments=outcome.payments,
                envy_violations=outcome.envy_violations,
                allocation_gini=outcome.gini,
                total_utility=sum(outcome.utilities.values()),
            )
        )
        taxed: list[Entry] = []
        if self.tax is not None:
            base = sum(paid for paid in outcome.payments.values() if paid > 0.0)
            levied = self.tax.levy(at, "auction", PROCEEDS, base, auction_id)
            out.events += levied.events
            taxed = levied.entries
        out.entries += _payments(auction_id, outcome.payments, rebate=cfg.payment == "rebate", taxed=taxed)
        self.holdings = outcome.allocations
        self.prices = outcome.prices
        self._view = None
        return out


def _payments(
    auction_id: str, payments: Mapping[str, float], *, rebate: bool, taxed: Sequence[Entry] = ()
) -> list[Entry]:
    """The payments into the proceeds, then ``taxed`` (the economy tax's entries), then the rebates."""
    entries: list[Entry] = [
        Transfer(reason="auction_payment", ref=auction_id, payer=a, payee=PROCEEDS, amount=paid)
        for a, paid in payments.items()
        if paid > 0.0
    ]
    total = sum(e.amount for e in entries if isinstance(e, Transfer))
    if taxed:
        entries += taxed
        total -= sum(e.amount for e in taxed if isinstance(e, Transfer | Burn))
    if rebate and payments and total > 0.0:
        share = total / len(payments)
        entries += [
            Transfer(reason="auction_rebate", ref=auction_id, payer=PROCEEDS, payee=a, amount=share)
            for a in payments
        ]
    return entries


latest(
    "auction_rounds",
    AuctionCleared,
    "tatonnement rounds of the epoch's last auction",
    lambda e: e.rounds,
    optional=True,
)
latest(
    "auction_converged",
    AuctionCleared,
    "1 when the epoch's last auction converged, else 0",
    lambda e: 1.0 if e.converged else 0.0,
    optional=True,
)
latest(
    "auction_envy_violations",
    AuctionCleared,
    "envy violations at the epoch's last auction's allocation",
    lambda e: len(e.envy_violations),
    optional=True,
)
latest(
    "auction_allocation_gini",
    AuctionCleared,
    "Gini of the participants' utilities at the epoch's last auction",
    lambda e: e.allocation_gini,
    optional=True,
)
latest(
    "auction_mean_price",
    AuctionCleared,
    "mean clearing price over the resources at the epoch's last auction",
    lambda e: sum(e.prices.values()) / len(e.prices) if e.prices else None,
    optional=True,
)
