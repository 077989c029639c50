"""A high-frequency market: one limit order book per resource, cleared in batches, inside each step.

With an ``order_book:`` section every agent holds ``initial_holdings`` units of
each resource in ``resources`` and trades them for money. A step runs
``ticks_per_step`` ticks after the step's actions are applied. In every tick the
algorithmic traders (``strategies``) place and cancel orders; every
``batch_interval_ticks``-th tick each book is cleared by price-time priority:
the best bid meets the best ask while they cross, at the price of the order
that arrived first (the resting one). An order's arrival
time is its tick plus a seeded latency draw ``U(0, latency_noise_ticks)``, so
latency decides priority between orders at one price. Orders expire after their
time to live; an agent never trades with itself (the later of its two crossing
orders is cancelled); a buyer pays only with the money it has and a seller sells
only what it holds (an order is cut down to that, or cancelled). Money moves
through the ledger as transfers from buyer to seller (netted per pair and step),
so money and holdings are conserved.

A flash-crash detector watches each resource's price over the last
``crash_window_ticks`` ticks: a price ``crash_threshold`` or more below the
window's maximum starts a crash (``flash_crash_detected``), which ends when the
price is back to 95 % of the pre-crash maximum. With ``halt_on_crash`` the
crashing market halts for ``halt_duration_ticks`` ticks (``market_halted``, then
``market_resumed``): orders may still be placed and cancelled, but nothing
clears while halted. With the governance lever ``market_halt_enabled`` a market
also halts (``governance_market_halt``, then ``market_halted`` naming the lever)
for ``market_halt_ticks`` ticks as soon as its price is ``market_halt_drop`` or
more below the window's maximum, whether or not the detector calls it a crash.
With ``holdings_from_auction`` the holdings of every resource the Dworkin
auction (``auction:``) allocates come from its latest clearing: they start at 0
and, at the first step after each ``auction_cleared``, every agent's holding of
such a resource is set to its allocation (0 when it got none); other resources
keep ``initial_holdings``. Holdings are goods, not money: the reset moves no money.
With the governance lever ``economy_tax_rate`` above 0
(:mod:`swarm.governance.economy_tax`) sellers bear the tax: each trade's
proceeds reach the seller's buying power net of the tax, and after each step
every seller pays the rate times its gross proceeds of the step (one levy per
seller, booked after the trades' transfers); buyers pay the full price.
Agents (LLM ones included) trade with ``place_order`` and
``cancel_orders`` (logged as ``order_placed`` and ``orders_cancelled``); an order
placed in a step rests over the step's ticks until it fills, is cancelled or
expires. LLM agents are shown the market's rules and each book's recent prices.
"""

from __future__ import annotations

import math
import random
from bisect import insort
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import msgspec
from pydantic import BaseModel, ConfigDict, Field, model_validator

from swarm.actions import Action
from swarm.errors import ConfigProblem
from swarm.events import ActionRejected, Event
from swarm.governance.economy_tax import economy_tax_rule
from swarm.kernel.component import Applied, At, Setup, Turn, WorldComponent, component
from swarm.metrics.registry import latest, mean_of, run_figure, sum_of
from swarm.money import Transfer
from swarm.views import AgentPublic

if TYPE_CHECKING:
    from swarm.scenario import Scenario

Side = Literal["buy", "sell"]
Strategy = Literal["market_maker", "momentum", "value", "manipulator"]
STRATEGIES: tuple[str, ...] = ("market_maker", "momentum", "value", "manipulator")
_EPS = 1e-9
HALT_LEVER = "market_halt"
"""The governance lever that can halt a market (``swarm/governance/market_halt.py``)."""
RECOVERY = 0.95
"""A crash ends when the price is back to this share of its pre-crash maximum..."""
CRASH_SPAN = 50
"""... or this many ticks after it was detected (then a new fall is a new crash)."""
_RECENT = 5
"""Tick prices shown per book (:attr:`BookTop.recent`)."""

# ----------------------------------------------------------------------- actions


class PlaceOrder(Action, tag="place_order", frozen=True):
    """Place a limit order on a resource's book: buy or sell ``quantity`` units at ``price`` or better."""

    resource: str
    side: Side
    price: float
    quantity: float
    ttl_ticks: int | None = None
    """Ticks the order rests before it expires (the market's ``order_ttl_ticks`` when absent)."""


class CancelOrders(Action, tag="cancel_orders", frozen=True):
    """Cancel this agent's resting orders on one resource's book (every book when absent)."""

    resource: str | None = None


# ------------------------------------------------------------------------ events


class FlashCrashDetected(Event, tag="flash_crash_detected", frozen=True):
    resource: str
    tick: int
    pre_crash_price: float
    price: float
    drop: float
    """(pre-crash maximum − price) / pre-crash maximum."""
    trigger_agents: tuple[str, ...] = ()
    """The agents whose orders traded in the crashing tick."""


class MarketHalted(Event, tag="market_halted", frozen=True):
    resource: str
    tick: int
    until_tick: int
    """The last tick of the halt: nothing clears up to and including it."""
    reason: str


class GovernanceMarketHalt(Event, tag="governance_market_halt", frozen=True):
    """The ``market_halt`` lever halted a market: its price fell ``drop`` below the window's maximum."""

    lever: str
    resource: str
    tick: int
    drop: float
    threshold: float
    halt_ticks: int


class OrderPlaced(Event, tag="order_placed", frozen=True):
    """An agent's ``place_order`` action rests on a book (the algorithmic traders' orders are not logged)."""

    agent_id: str
    order_id: str
    resource: str
    side: Side
    price: float
    quantity: float
    expires_tick: int


class OrdersCancelled(Event, tag="orders_cancelled", frozen=True):
    """An agent's ``cancel_orders`` action: its resting orders withdrawn (on one book, or all when None)."""

    agent_id: str
    resource: str | None
    cancelled: int


class MarketResumed(Event, tag="market_resumed", frozen=True):
    resource: str
    tick: int
    halted_ticks: int


class OrderBookMeasured(Event, tag="order_book_measured", frozen=True):
    """An epoch of the market (means over the resources' books)."""

    trades: int
    volume: float
    spread: float | None
    """Mean relative bid-ask spread over the ticks with both sides quoted."""
    volatility: float | None
    """Standard deviation of the tick-to-tick price returns."""
    crashes: int
    crash_depth: float | None
    """Deepest fall below a pre-crash maximum in the epoch's crashes (None without one)."""
    halted_ticks: int
    trade_quality: float | None
    """1 − mean |trade price − reference price| / reference price over the epoch's trades."""
    manipulator_impact: float | None
    """Mean signed price move, in the manipulator's direction, of the clearings it traded in."""
    prices: dict[str, float] = msgspec.field(default_factory=dict)


# -------------------------------------------------------------------------- view


class BookTop(msgspec.Struct, frozen=True, gc=False):
    """One resource's market: last price, best quotes, depth, whether it is halted."""

    price: float
    best_bid: float | None
    best_ask: float | None
    bid_volume: float
    ask_volume: float
    halted: bool
    recent: tuple[float, ...] = ()
    """The prices of the last ticks (up to 5), oldest first."""


class MarketRules(msgspec.Struct, frozen=True, gc=False):
    """The market's timing and starting price, as agents are told them."""

    reference_price: float
    ticks_per_step: int
    batch_interval_ticks: int
    order_ttl_ticks: int


class RestingOrder(msgspec.Struct, frozen=True, gc=False):
    order_id: str
    resource: str
    side: Side
    price: float
    quantity: float
    expires_tick: int


class OrderBookView(msgspec.Struct, frozen=True, dict=True):
    """Every book's top, each agent's holdings, and each agent's resting orders."""

    tick: int
    books: dict[str, BookTop]
    holdings: dict[str, dict[str, float]]
    orders: dict[str, tuple[RestingOrder, ...]] = msgspec.field(default_factory=dict)
    rules: MarketRules | None = None


class OrderBookPrompt(msgspec.Struct, frozen=True):
    """What an LLM agent is shown: the market's rules, every book's top, its holdings and resting orders."""

    tick: int
    books: dict[str, BookTop]
    your_holdings: dict[str, float]
    your_orders: tuple[RestingOrder, ...] = ()
    rules: MarketRules | None = None


# ------------------------------------------------------------------------ config


class OrderBookConfig(BaseModel):
    """The ``order_book:`` section (present means on)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    enabled: bool = Field(default=True, description="false: no market")
    resources: list[str] = Field(
        default_factory=lambda: ["compute"], min_length=1, max_length=10, description="one book per resource"
    )
    reference_price: float = Field(default=10.0, gt=0.0, description="starting price of every resource")
    initial_holdings: float = Field(default=30.0, ge=0.0, description="units of each resource per agent")
    ticks_per_step: int = Field(default=20, ge=1, le=1000, description="ticks run in every step")
    batch_interval_ticks: int = Field(default=5, ge=1, description="books are cleared every this many ticks")
    latency_noise_ticks: float = Field(
        default=1.0, ge=0.0, description="orders arrive U(0, this) ticks late (time priority)"
    )
    order_ttl_ticks: int = Field(default=20, ge=1, description="ticks an order rests before it expires")
    crash_threshold: float = Field(
        default=0.1, gt=0.0, lt=1.0, description="drop below the window's maximum that is a crash"
    )
    crash_window_ticks: int = Field(default=10, ge=2, description="ticks of prices the detector watches")
    halt_on_crash: bool = Field(default=False, description="halt a market when it crashes")
    halt_duration_ticks: int = Field(default=20, ge=1, description="ticks a halt lasts")
    holdings_from_auction: bool = Field(
        default=False, description="holdings of auctioned resources come from the auction's latest clearing"
    )
    strategies: dict[str, Strategy] = Field(
        default_factory=dict, description="algorithmic trader of agents, by agent id, name or type"
    )
    maker_half_spread: float = Field(
        default=0.01, gt=0.0, lt=0.5, description="market makers quote this share either side"
    )
    maker_size: float = Field(default=2.0, gt=0.0, description="units a market maker quotes on each side")
    momentum_size: float = Field(default=2.0, gt=0.0, description="units a momentum trader trades")
    manipulator_period_ticks: int = Field(
        default=100, ge=20, description="ticks between a manipulator's spoof-and-dump attacks"
    )
    manipulator_size: float = Field(
        default=30.0, gt=0.0, description="units a manipulator dumps (and spoofs 3 times over)"
    )

    @model_validator(mode="after")
    def _distinct(self) -> OrderBookConfig:
        if len(set(self.resources)) != len(self.resources) or any(not r for r in self.resources):
            raise ValueError("order_book.resources: names must be distinct and non-empty")
        return self


# ------------------------------------------------------------------------ engine


@dataclass(slots=True)
class Order:
    order_id: int
    agent: str
    resource: str
    side: Side
    price: float
    quantity: float
    arrival: float
    expires: int

    def resting(self) -> RestingOrder:
        return RestingOrder(
            f"o{self.order_id}", self.resource, self.side, self.price, self.quantity, self.expires
        )


def _bid_key(o: Order) -> tuple[float, float, int]:
    return (-o.price, o.arrival, o.order_id)


def _ask_key(o: Order) -> tuple[float, float, int]:
    return (o.price, o.arrival, o.order_id)


@dataclass(frozen=True, slots=True)
class Trade:
    tick: int
    resource: str
    buyer: str
    seller: str
    price: float
    quantity: float


@dataclass(slots=True)
class _Book:
    resource: str
    price: float
    bids: list[Order] = field(default_factory=list)
    asks: list[Order] = field(default_factory=list)
    prices: deque[float] = field(default_factory=deque)
    history: list[float] = field(default_factory=list)
    halted_until: int = -1
    halted_from: int = -1
    crash_peak: float | None = None
    crash_low: float = 0.0
    crash_start: int = 0

    def add(self, order: Order) -> None:
        if order.side == "buy":
            insort(self.bids, order, key=_bid_key)
        else:
            insort(self.asks, order, key=_ask_key)

    def drop(self, keep: Callable[[Order], bool]) -> int:
        before = len(self.bids) + len(self.asks)
        self.bids = [o for o in self.bids if keep(o)]
        self.asks = [o for o in self.asks if keep(o)]
        return before - len(self.bids) - len(self.asks)

    def halted(self, tick: int) -> bool:
        return tick <= self.halted_until


@dataclass(slots=True)
class _Stats:
    trades: int = 0
    volume: float = 0.0
    spreads: list[float] = field(default_factory=list)
    returns: list[float] = field(default_factory=list)
    crashes: int = 0
    depths: list[float] = field(default_factory=list)
    halted_ticks: int = 0
    mispricing: list[float] = field(default_factory=list)
    impact: list[float] = field(default_factory=list)


class Market:
    """The books, the holdings and the money of the market; pure and synchronous.

    ``cash`` is what each agent may spend (refreshed from the ledger by the component);
    ``flows`` collects the money owed between agents until :meth:`drain_flows`.
    """

    def __init__(
        self,
        config: OrderBookConfig,
        agents: Sequence[str],
        strategies: Mapping[str, str],
        cash: Mapping[str, float],
        rng: random.Random,
        governance_halt: tuple[float, int] | None = None,
        tax_rate: float = 0.0,
    ) -> None:
        """``governance_halt``: the ``market_halt`` lever's (drop, ticks) when it is on;
        ``tax_rate``: the share of each sale's proceeds the economy tax takes from the seller."""
        self.config = config
        self.governance_halt = governance_halt
        self.tax_rate = tax_rate
        self.taxed: dict[str, float] = {}
        """Each seller's gross proceeds since the last :meth:`drain_taxed` (with a tax only)."""
        self.agents = list(agents)
        self.strategies = dict(strategies)
        self.rng = rng
        self.cash = {a: float(cash.get(a, 0.0)) for a in self.agents}
        self.holdings = {r: dict.fromkeys(self.agents, config.initial_holdings) for r in config.resources}
        self.books = {r: _Book(r, config.reference_price) for r in config.resources}
        self.tick = 0
        self.trades: list[Trade] = []
        """Every trade of the current step (the component empties it)."""
        self.flows: dict[tuple[str, str], float] = {}
        self.stats = _Stats()
        self._ids = 0
        self._history: dict[str, deque[float]] = {
            r: deque(maxlen=config.crash_window_ticks) for r in config.resources
        }

    # ----------------------------------------------------------------- orders

    def submit(
        self, agent: str, resource: str, side: Side, price: float, quantity: float, ttl: int | None = None
    ) -> str | None:
        """Place an order; the reason it is refused, or None."""
        book = self.books.get(resource)
        if book is None:
            return f"no book for resource {resource!r} (books: {', '.join(self.books)})"
        if agent not in self.cash:
            return f"{agent} does not trade on this market"
        if not (math.isfinite(price) and price > 0 and math.isfinite(quantity) and quantity > 0):
            return "price and quantity must be positive numbers"
        if ttl is not None and ttl < 1:
            return "ttl_ticks must be at least 1"
        self._ids += 1
        arrival = self.tick + 1 + self.rng.uniform(0.0, self.config.latency_noise_ticks)
        expires = self.tick + (ttl if ttl is not None else self.config.order_ttl_ticks)
        book.add(Order(self._ids, agent, resource, side, price, quantity, arrival, expires))
        return None

    def cancel(self, agent: str, resource: str | None = None) -> int:
        """Cancel ``agent``'s resting orders (on one book or all); how many."""
        books = self.books.values() if resource is None else [self.books[resource]]
        return sum(b.drop(lambda o: o.agent != agent) for b in books)

    def halt(self, resource: str, ticks: int, reason: str, at: At) -> list[Event]:
        """Stop clearing ``resource`` for the next ``ticks`` ticks (extends a running halt)."""
        book = self.books[resource]
        until = self.tick + ticks
        if until <= book.halted_until:
            return []
        if book.halted_until < self.tick:
            book.halted_from = self.tick
        book.halted_until = until
        return [
            MarketHalted(
                epoch=at.epoch,
                step=at.step,
                resource=resource,
                tick=self.tick,
                until_tick=until,
                reason=reason,
            )
        ]

    # ------------------------------------------------------------------ ticks

    def run_tick(self, at: At) -> list[Event]:
        """One tick: resumptions, expiry, the traders' orders, clearing, crash detection."""
        self.tick += 1
        tick = self.tick
        events: list[Event] = []
        c = self.config
        for r, book in self.books.items():
            if book.halted_until == tick - 1 and book.halted_from >= 0:
                events.append(
                    MarketResumed(
                        epoch=at.epoch,
                        step=at.step,
                        resource=r,
                        tick=tick,
                        halted_ticks=tick - 1 - book.halted_from,
                    )
                )
                book.halted_from = -1
            book.drop(lambda o: o.expires >= tick)
        for agent in self.agents:
            strategy = self.strategies.get(agent)
            if strategy is not None:
                for r in self.books:
                    _STRATEGY[strategy](self, agent, r)
        for r, book in self.books.items():
            before = book.price
            if book.bids and book.asks:
                bb, ba = book.bids[0].price, book.asks[0].price
                self.stats.spreads.append(max(0.0, ba - bb) / ((ba + bb) / 2))
            if book.halted(tick):
                self.stats.halted_ticks += 1
            elif tick % c.batch_interval_ticks == 0:
                traded = self._clear(book)
                if traded and any(
                    self.strategies.get(a) == "manipulator" for t in traded for a in (t.buyer, t.seller)
                ):
                    move = (book.price - before) / before
                    for t in traded:
                        if self.strategies.get(t.seller) == "manipulator":
                            self.stats.impact.append(-move)
                            break
                        if self.strategies.get(t.buyer) == "manipulator":
                            self.stats.impact.append(move)
                            break
            hist = self._history[r]
            if hist:
                self.stats.returns.append((book.price - hist[-1]) / hist[-1])
            hist.append(book.price)
            events += self._detect(book, hist, at)
            if self.governance_halt is not None and not book.halted(tick + 1):
                events += self._governance_halt(book, hist, at)
        return events

    def _governance_halt(self, book: _Book, hist: deque[float], at: At) -> list[Event]:
        assert self.governance_halt is not None
        threshold, ticks = self.governance_halt
        peak = max(hist)
        drop = (peak - book.price) / peak
        if len(hist) < 2 or drop < threshold:
            return []
        ordered = GovernanceMarketHalt(
            epoch=at.epoch,
            step=at.step,
            lever=HALT_LEVER,
            resource=book.resource,
            tick=self.tick,
            drop=drop,
            threshold=threshold,
            halt_ticks=ticks,
        )
        return [ordered, *self.halt(book.resource, ticks, f"governance lever {HALT_LEVER}", at)]

    def _clear(self, book: _Book) -> list[Trade]:
        """Match the book while it crosses; the trades."""
        out: list[Trade] = []
        bids, asks = book.bids, book.asks
        while bids and asks and bids[0].price >= asks[0].price:
            bid, ask = bids[0], asks[0]
            if bid.agent == ask.agent:  # no self-trades: the later order goes
                (
                    bids
                    if bid.arrival > ask.arrival
                    or (bid.arrival == ask.arrival and bid.order_id > ask.order_id)
                    else asks
                ).pop(0)
                continue
            price = bid.price if (bid.arrival, bid.order_id) < (ask.arrival, ask.order_id) else ask.price
            held = self.holdings[book.resource]
            qty = min(bid.quantity, ask.quantity, held[ask.agent], self.cash[bid.agent] / price)
            if qty <= _EPS:
                if held[ask.agent] <= _EPS:
                    asks.pop(0)
                if self.cash[bid.agent] / price <= _EPS:
                    bids.pop(0)
                continue
            amount = price * qty
            self.cash[bid.agent] -= amount
            if self.tax_rate > 0.0:
                self.cash[ask.agent] += amount - amount * self.tax_rate
                self.taxed[ask.agent] = self.taxed.get(ask.agent, 0.0) + amount
            else:
                self.cash[ask.agent] += amount
            held[bid.agent] += qty
            held[ask.agent] -= qty
            key = (bid.agent, ask.agent)
            self.flows[key] = self.flows.get(key, 0.0) + amount
            trade = Trade(self.tick, book.resource, bid.agent, ask.agent, price, qty)
            out.append(trade)
            book.price = price
            self.stats.trades += 1
            self.stats.volume += qty
            self.stats.mispricing.append(
                abs(price - self.config.reference_price) / self.config.reference_price
            )
            for side, order in ((bids, bid), (asks, ask)):
                order.quantity -= qty
                if order.quantity <= _EPS:
                    side.pop(0)
            if held[ask.agent] <= _EPS and asks and asks[0] is ask:
                asks.pop(0)
            if self.cash[bid.agent] <= _EPS and bids and bids[0] is bid:
                bids.pop(0)
        self.trades += out
        return out

    def _detect(self, book: _Book, hist: deque[float], at: At) -> list[Event]:
        price = book.price
        if book.crash_peak is not None:
            book.crash_low = min(book.crash_low, price)
            if price >= RECOVERY * book.crash_peak or self.tick - book.crash_start >= CRASH_SPAN:
                self.stats.depths.append((book.crash_peak - book.crash_low) / book.crash_peak)
                book.crash_peak = None
            return []
        peak = max(hist)
        drop = (peak - price) / peak
        if len(hist) < 2 or drop < self.config.crash_threshold:
            return []
        book.crash_peak, book.crash_low, book.crash_start = peak, price, self.tick
        self.stats.crashes += 1
        who = sorted(
            {
                a
                for t in self.trades
                if t.tick == self.tick and t.resource == book.resource
                for a in (t.buyer, t.seller)
            }
        )
        events: list[Event] = [
            FlashCrashDetected(
                epoch=at.epoch,
                step=at.step,
                resource=book.resource,
                tick=self.tick,
                pre_crash_price=peak,
                price=price,
                drop=drop,
                trigger_agents=tuple(who),
            )
        ]
        if self.config.halt_on_crash:
            events += self.halt(book.resource, self.config.halt_duration_ticks, "flash crash", at)
        return events

    # ---------------------------------------------------------------- reading

    def drain_flows(self) -> list[Transfer]:
        """The money owed since the last call, as one transfer per pair of agents (net)."""
        net: dict[tuple[str, str], float] = {}
        for (buyer, seller), amount in self.flows.items():
            if (seller, buyer) in net:
                net[(seller, buyer)] -= amount
            else:
                net[(buyer, seller)] = amount
        self.flows = {}
        out = []
        for (payer, payee), amount in net.items():
            if amount < 0:
                payer, payee, amount = payee, payer, -amount
            if amount > 0:
                out.append(Transfer(reason="order book trades", payer=payer, payee=payee, amount=amount))
        return out

    def drain_taxed(self) -> list[tuple[str, float]]:
        """Each seller's gross proceeds since the last call, in the order they first sold."""
        out, self.taxed = list(self.taxed.items()), {}
        return out

    def measure(self, at: At) -> OrderBookMeasured:
        """The epoch's figures (ongoing crashes count with their depth so far); resets them."""
        s = self.stats
        depths = list(s.depths)
        for book in self.books.values():
            if book.crash_peak is not None:
                depths.append((book.crash_peak - book.crash_low) / book.crash_peak)
        self.stats = _Stats()
        return OrderBookMeasured(
            epoch=at.epoch,
            step=at.step,
            trades=s.trades,
            volume=s.volume,
            spread=_mean(s.spreads),
            volatility=_std(s.returns),
            crashes=s.crashes,
            crash_depth=max(depths) if depths else None,
            halted_ticks=s.halted_ticks,
            trade_quality=None if not s.mispricing else 1.0 - math.fsum(s.mispricing) / len(s.mispricing),
            manipulator_impact=_mean(s.impact),
            prices={r: b.price for r, b in self.books.items()},
        )

    def view(self) -> OrderBookView:
        tick = self.tick
        books = {
            r: BookTop(
                b.price,
                b.bids[0].price if b.bids else None,
                b.asks[0].price if b.asks else None,
                math.fsum(o.quantity for o in b.bids),
                math.fsum(o.quantity for o in b.asks),
                b.halted(tick + 1),
                tuple(self._history[r])[-_RECENT:],
            )
            for r, b in self.books.items()
        }
        holdings = {a: {r: self.holdings[r][a] for r in self.books} for a in self.agents}
        orders: dict[str, list[RestingOrder]] = {}
        for b in self.books.values():
            for o in b.bids + b.asks:
                orders.setdefault(o.agent, []).append(o.resting())
        c = self.config
        rules = MarketRules(c.reference_price, c.ticks_per_step, c.batch_interval_ticks, c.order_ttl_ticks)
        return OrderBookView(tick, books, holdings, {a: tuple(v) for a, v in orders.items()}, rules)


def _mean(xs: Sequence[float]) -> float | None:
    return math.fsum(xs) / len(xs) if xs else None


def _std(xs: Sequence[float]) -> float | None:
    if len(xs) < 2:
        return None
    m = math.fsum(xs) / len(xs)
    return math.sqrt(math.fsum((x - m) ** 2 for x in xs) / len(xs))


# -------------------------------------------------------------------- strategies
#
# The trading rules below are shared with the LLM agents' scripted double
# (swarm/agents/llm_economies.py), which plays them once a step from its prompt.


def maker_mid(price: float, bid_volume: float, ask_volume: float) -> float:
    """The market maker's quote centre: the last price, leaning away from the book's imbalance."""
    depth = ask_volume + bid_volume
    imbalance = (ask_volume - bid_volume) / depth if depth > 0 else 0.0
    return price * (1.0 - 0.05 * imbalance)


def momentum_order(move: float, price: float) -> tuple[Side, float] | None:
    """The momentum trader's aggressive order after a relative ``move``: (side, price), or None."""
    if move < -0.01:
        return "sell", price * 0.97
    if move > 0.01:
        return "buy", price * 1.03
    return None


def value_order(
    price: float, reference: float, best_ask: float | None, best_bid: float | None
) -> tuple[Side, float] | None:
    """The value trader's order 2 % or more off the reference price: (side, price).

    None near the reference price, where it trades a unit either way at random.
    """
    if price < reference * 0.98:  # lift the best offer while it is cheap
        best = best_ask if best_ask is not None else price
        return "buy", min(reference * 0.98, max(best, price * 1.02))
    if price > reference * 1.02:  # hit the best bid while it is dear
        best = best_bid if best_bid is not None else price
        return "sell", max(reference * 1.02, min(best, price * 0.98))
    return None


def _maker(m: Market, agent: str, r: str) -> None:
    """Requote both sides around the last price, leaning away from the book's imbalance."""
    book = m.books[r]
    m.cancel(agent, r)
    bid_vol = math.fsum(o.quantity for o in book.bids)
    ask_vol = math.fsum(o.quantity for o in book.asks)
    mid = maker_mid(book.price, bid_vol, ask_vol)
    h = m.config.maker_half_spread
    ttl = m.config.batch_interval_ticks
    m.submit(agent, r, "buy", mid * (1 - h), m.config.maker_size, ttl)
    m.submit(agent, r, "sell", mid * (1 + h), m.config.maker_size, ttl)


def _momentum(m: Market, agent: str, r: str) -> None:
    """Follow the last five ticks' move with an aggressive order."""
    hist = m._history[r]
    if len(hist) < 5 or m.rng.random() > 0.5:
        return
    order = momentum_order(hist[-1] / hist[-5] - 1.0, m.books[r].price)
    if order is not None:
        m.submit(agent, r, order[0], order[1], m.config.momentum_size, m.config.batch_interval_ticks)


def _value(m: Market, agent: str, r: str) -> None:
    """Buy below and sell above the reference price; near it, trade a unit at random."""
    if m.rng.random() > 0.5:
        return
    ref = m.config.reference_price
    price = m.books[r].price
    ttl = m.config.order_ttl_ticks
    book = m.books[r]
    order = value_order(
        price, ref, book.asks[0].price if book.asks else None, book.bids[0].price if book.bids else None
    )
    if order is not None:
        m.submit(agent, r, order[0], order[1], 1.0, ttl)
    else:
        side: Side = "buy" if m.rng.random() < 0.5 else "sell"
        m.submit(agent, r, side, price * (1.0 + m.rng.uniform(-0.01, 0.01)), 1.0, ttl)


def _manipulator(m: Market, agent: str, r: str) -> None:
    """Spoof large asks (cancelled before each clearing), dump its holdings, buy back cheap."""
    c = m.config
    period = c.manipulator_period_ticks
    phase = m.tick % period
    book = m.books[r]
    if phase == 0:
        m.cancel(agent, r)
        size = min(c.manipulator_size, m.holdings[r][agent])
        if size > _EPS:
            m.submit(agent, r, "sell", book.price * 0.85, size, c.batch_interval_ticks)
    elif phase >= period - 4 * c.batch_interval_ticks:
        if (m.tick + 1) % c.batch_interval_ticks == 0:
            m.cancel(agent, r)  # spoofs never meet a clearing
        elif not any(o.agent == agent for o in book.asks):
            m.submit(agent, r, "sell", book.price * 1.02, 3 * c.manipulator_size, c.batch_interval_ticks)
    elif phase > period // 4 and m.holdings[r][agent] < c.initial_holdings and m.rng.random() < 0.2:
        m.submit(agent, r, "buy", book.price, 1.0, c.batch_interval_ticks)


_STRATEGY: dict[str, Callable[[Market, str, str], None]] = {
    "market_maker": _maker,
    "momentum": _momentum,
    "value": _value,
    "manipulator": _manipulator,
}


def assign_strategies(config: OrderBookConfig, scenario: Scenario) -> dict[str, str]:
    """Each agent's strategy: by its id, else its name, else its type."""
    out: dict[str, str] = {}
    for agent, spec in scenario.agent_ids():
        for key in (agent, spec.name, spec.type):
            if key is not None and key in config.strategies:
                out[agent] = config.strategies[key]
                break
    return out


# --------------------------------------------------------------------- component


@component
class OrderBook(WorldComponent):
    """Owns the market: agents' orders, the ticks of each step, crash detection and halts."""

    key = "order_book"
    order = 60
    Config = OrderBookConfig
    actions = (PlaceOrder, CancelOrders)
    view_type = OrderBookView
    prompt_rules = (
        "Order book: you hold units of the listed resources and money, and may trade them on a limit "
        "order book per resource. `place_order` (resource, side buy|sell, price, quantity, optional "
        "ttl_ticks) rests an order over the many ticks that follow your step until it fills, is "
        "cancelled or expires; `cancel_orders` (optional resource) withdraws yours. Books clear in "
        "batches by price then arrival time; you never trade with yourself, pay only with money you "
        "have and sell only what you hold. A market that crashes may be halted: nothing clears then. "
        "rules gives the reference (starting) price, the ticks in a step, how often books clear and how "
        "long an order rests by default; each book shows its last price, best quotes, depth and recent "
        "prices."
    )
    config: OrderBookConfig

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        cash = dict.fromkeys(setup.agents, setup.scenario.environment.initial_resources)
        gov = setup.scenario.governance
        halt = (
            (float(gov.market_halt_drop), int(gov.market_halt_ticks))
            if getattr(gov, "market_halt_enabled", False)
            else None
        )
        self.tax = economy_tax_rule(setup.scenario)
        self.market = Market(
            self.config,
            list(setup.agents),
            assign_strategies(self.config, setup.scenario),
            cash,
            setup.rng("order_book"),
            halt,
            self.tax.rate if self.tax is not None else 0.0,
        )
        self._auction: Any = setup.component("auction") if self.config.holdings_from_auction else None
        self._auctions_seen = 0
        if self._auction is not None:
            for r in self._auctioned():
                self.market.holdings[r] = dict.fromkeys(self.market.agents, 0.0)

    def _auctioned(self) -> list[str]:
        """The book's resources the auction allocates, in the book's order."""
        return [r for r in self.config.resources if r in self._auction.config.resources]

    def _sync_auction(self) -> None:
        """After a new clearing, set the holdings of the auctioned resources to its allocation."""
        if self._auction is None or self._auction.count == self._auctions_seen:
            return
        self._auctions_seen = self._auction.count
        allocation: Mapping[str, Mapping[str, float]] = self._auction.holdings
        for r in self._auctioned():
            self.market.holdings[r] = {
                a: float(allocation.get(a, {}).get(r, 0.0)) for a in self.market.agents
            }

    @classmethod
    def check(cls, scenario: Scenario) -> None:
        config: OrderBookConfig = scenario.section(cls.key)
        known = {k for agent, spec in scenario.agent_ids() for k in (agent, spec.name, spec.type) if k}
        for key in config.strategies:
            if key not in known:
                raise ConfigProblem(
                    f"order_book.strategies.{key}",
                    f"no agent, name or type {key!r}",
                    "an agent id, name or type",
                )
        if config.holdings_from_auction:
            auction = scenario.section("auction")
            if auction is None or not getattr(auction, "enabled", True):
                raise ConfigProblem(
                    "order_book.holdings_from_auction",
                    "true without an auction: section",
                    "an enabled auction: section (or false)",
                )

    def view(self, at: At) -> OrderBookView:
        return self.market.view()

    @classmethod
    def prompt_view(cls, view: OrderBookView, agent_id: str) -> OrderBookPrompt:
        return OrderBookPrompt(
            view.tick, view.books, view.holdings.get(agent_id, {}), view.orders.get(agent_id, ()), view.rules
        )

    @classmethod
    def view_from_prompt(cls, value: Any, agent_id: str) -> OrderBookView:
        shown = msgspec.convert(value, OrderBookPrompt)
        return OrderBookView(
            shown.tick,
            shown.books,
            {agent_id: shown.your_holdings},
            {agent_id: shown.your_orders},
            shown.rules,
        )

    def _refresh(self, agents: Mapping[str, AgentPublic] | Sequence[AgentPublic]) -> None:
        for a in agents.values() if isinstance(agents, Mapping) else agents:
            if a.agent_id in self.market.cash:
                self.market.cash[a.agent_id] = max(0.0, a.resources)

    def epoch_start(self, at: At, agents: Sequence[AgentPublic]) -> Applied:
        self._refresh(agents)
        self._sync_auction()
        return Applied()

    def apply(self, at: At, turns: Sequence[Turn], agents: Mapping[str, AgentPublic]) -> Applied:
        self._refresh(agents)
        out = Applied()
        for _, agent, action in turns:
            if isinstance(action, PlaceOrder):
                why = self.market.submit(
                    agent, action.resource, action.side, action.price, action.quantity, action.ttl_ticks
                )
                if why is not None:
                    out.events.append(
                        ActionRejected(
                            epoch=at.epoch, step=at.step, agent_id=agent, action=action.type, reason=why
                        )
                    )
                else:
                    out.events.append(self._placed(at, agent, action.resource))
            elif isinstance(action, CancelOrders):
                if action.resource is not None and action.resource not in self.market.books:
                    out.events.append(
                        ActionRejected(
                            epoch=at.epoch,
                            step=at.step,
                            agent_id=agent,
                            action=action.type,
                            reason=f"no book for resource {action.resource!r}",
                        )
                    )
                else:
                    n = self.market.cancel(agent, action.resource)
                    out.events.append(
                        OrdersCancelled(
                            epoch=at.epoch,
                            step=at.step,
                            agent_id=agent,
                            resource=action.resource,
                            cancelled=n,
                        )
                    )
        return out

    def _placed(self, at: At, agent: str, resource: str) -> OrderPlaced:
        """The event of the order ``agent`` just placed on ``resource``'s book (the market's newest)."""
        book, newest = self.market.books[resource], self.market._ids
        order = next(o for o in (*book.bids, *book.asks) if o.order_id == newest)
        return OrderPlaced(
            epoch=at.epoch,
            step=at.step,
            agent_id=agent,
            order_id=f"o{order.order_id}",
            resource=order.resource,
            side=order.side,
            price=order.price,
            quantity=order.quantity,
            expires_tick=order.expires,
        )

    def resolve(self, at: At, answers: Sequence[tuple[str, Any, Any]]) -> Applied:
        out = Applied()
        self._sync_auction()
        m = self.market
        for _ in range(self.config.ticks_per_step):
            out.events += m.run_tick(at)
        m.trades = []
        out.entries += m.drain_flows()
        if self.tax is not None:
            for seller, proceeds in m.drain_taxed():
                out.add(self.tax.levy(at, "order_book", seller, proceeds))
        return out

    def epoch_end(self, at: At, agents: Sequence[AgentPublic]) -> Applied:
        return Applied(events=[self.market.measure(at)])


# ---------------------------------------------------------------------- metrics

latest("book_trades", OrderBookMeasured, "trades on the order books", lambda e: e.trades, optional=True)
latest("book_spread", OrderBookMeasured, "mean relative bid-ask spread", lambda e: e.spread, optional=True)
latest(
    "book_volatility", OrderBookMeasured, "std of tick price returns", lambda e: e.volatility, optional=True
)
latest("book_crashes", OrderBookMeasured, "flash crashes detected", lambda e: e.crashes, optional=True)
latest(
    "book_crash_depth",
    OrderBookMeasured,
    "deepest fall of a crash below its peak",
    lambda e: e.crash_depth,
    optional=True,
)
latest(
    "book_halted_ticks",
    OrderBookMeasured,
    "ticks a market was halted",
    lambda e: e.halted_ticks,
    optional=True,
)
latest(
    "book_trade_quality",
    OrderBookMeasured,
    "1 − mean mispricing of trades",
    lambda e: e.trade_quality,
    optional=True,
)
latest(
    "book_manipulator_impact",
    OrderBookMeasured,
    "mean price move in the manipulator's direction when it trades",
    lambda e: e.manipulator_impact,
    optional=True,
)
run_figure("flash_crashes", "flash crashes detected over the run", sum_of("book_crashes"))
run_figure("market_halted_ticks", "ticks the markets were halted over the run", sum_of("book_halted_ticks"))
run_figure("book_mean_spread", "mean over the epochs of the relative bid-ask spread", mean_of("book_spread"))
run_figure(
    "book_price_volatility", "mean over the epochs of the tick-return volatility", mean_of("book_volatility")
)
