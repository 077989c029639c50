"""How the scripted double of an LLM agent acts in the economies (auction, missions, order book).

The double (:mod:`swarm.agents.llm_responder`) answers a request from the prompt
alone. In a world with economies it first considers them, with the economies'
own scripted rules; these are coded behaviour (assumptions), not findings:

* **Auction.** While the auction holds no bid of the agent (``your_bid`` is
  null) and one is still to run, the double sends ``auction_bid``: an honest or
  open persona reports ``your_values`` as they are; a persona whose scripted
  type shades in the auction (the default ``auction.strategic_types``:
  opportunistic, deceptive, adversarial; the strategic persona maps to
  opportunistic) understates every value but its highest by the default
  ``auction.shading``, like a scripted agent of that type.
* **Order book.** With chance :data:`TRADE` a step, the double places or
  cancels an order by the step-level form of the market's strategy for its
  persona (:data:`BOOK_STRATEGY`): honest and open personas are market makers
  or value traders (half of the agents each, by a hash of the agent id),
  strategic and opportunistic ones momentum traders, deceptive ones value
  traders, adversarial ones manipulators. The algorithmic traders act every
  tick; the double acts once a step, so each form places one order (or cancels)
  that rests over the step's ticks; sizes and spreads are the market's defaults
  (:class:`~swarm.env.orderbook.OrderBookConfig`).
* **Missions.** The persona's scripted policy decides (honest ones join and
  contribute, opportunistic ones join and free-ride: see
  :mod:`swarm.agents.scripted.missions`); the double is not shown missions that
  are full, which it could not join.

Otherwise the persona's scripted policy acts, as in a world without economies.
Every draw comes from ``rng``, seeded from the request text by the responder.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

import msgspec

from swarm.actions import Action
from swarm.env.auction import AuctionBid, AuctionConfig, AuctionPrompt, shade
from swarm.env.orderbook import (
    CancelOrders,
    OrderBookConfig,
    OrderBookPrompt,
    PlaceOrder,
    Side,
    maker_mid,
    momentum_order,
    value_order,
)

TRADE = 0.4
"""The chance that the double acts on the order book in a step (when its strategy has an order)."""

BOOK_STRATEGY: dict[str, tuple[str, ...]] = {
    "honest": ("market_maker", "value"),
    "open": ("market_maker", "value"),
    "strategic": ("momentum",),
    "opportunistic": ("momentum",),
    "deceptive": ("value",),
    "adversarial": ("manipulator",),
}
"""The order-book strategies of each persona (one of several is chosen by a hash of the agent id)."""

_BOOK = OrderBookConfig()
_AUCTION = AuctionConfig()


def book_strategy(persona: str, agent_id: str) -> str:
    """The order-book strategy the double plays for ``agent_id`` with ``persona`` (stable per agent)."""
    options = BOOK_STRATEGY.get(persona, BOOK_STRATEGY["honest"])
    digest = hashlib.sha256(agent_id.encode()).digest()
    return options[digest[0] % len(options)]


def economy_action(persona: str, kind: str, doc: Any, rng: random.Random) -> Action | None:
    """The double's economy action for an ``act`` request (None: its scripted policy decides).

    ``kind`` is the scripted agent type the persona maps to; ``doc`` the observation
    the prompt carries (:class:`swarm.agents.llm.ObservationDoc`).
    """
    world = doc.world
    cannot = set(doc.cannot)
    if "auction" in world and "auction_bid" not in cannot:
        bid = _auction_bid(msgspec.convert(world["auction"], AuctionPrompt), kind)
        if bid is not None:
            return bid
    if "order_book" in world and rng.random() < TRADE:
        book = msgspec.convert(world["order_book"], OrderBookPrompt)
        return _trade(book_strategy(persona, doc.agent_id), book, doc, cannot, rng)
    return None


def without_full_missions(doc: Any) -> Any:
    """``doc`` without the missions that are full (except the agent's own): the double cannot join them."""
    shown = doc.world.get("missions")
    if not isinstance(shown, dict) or not shown.get("missions"):
        return doc
    me = doc.agent_id
    kept = [
        m
        for m in shown["missions"]
        if me in m.get("members", ()) or m.get("max_team") is None or len(m["members"]) < m["max_team"]
    ]
    if len(kept) == len(shown["missions"]):
        return doc
    return msgspec.structs.replace(doc, world={**doc.world, "missions": {**shown, "missions": kept}})


def _auction_bid(shown: AuctionPrompt, kind: str) -> AuctionBid | None:
    if shown.your_bid is not None or shown.next_auction_epoch is None or not shown.your_values:
        return None
    values = {r: float(shown.your_values.get(r, 0.0)) for r in shown.resources}
    if not values:
        return None
    if kind in _AUCTION.strategic_types:
        values = shade(values, _AUCTION.shading)
    return AuctionBid(valuations=values)


def _trade(
    strategy: str, book: OrderBookPrompt, doc: Any, cannot: set[str], rng: random.Random
) -> Action | None:
    names = sorted(book.books)
    if not names or book.rules is None:
        return None
    r = names[int(rng.random() * len(names))]
    top = book.books[r]
    if top.halted and strategy != "manipulator":
        return None
    cash = max(0.0, float(doc.me.resources))
    held = float(book.your_holdings.get(r, 0.0))
    mine = [o for o in book.your_orders if o.resource == r]
    if strategy == "market_maker":
        action = _maker(book, r, cash, held, mine)
    elif strategy == "momentum":
        action = _momentum(book, r, cash, held)
    elif strategy == "value":
        action = _value(book, r, cash, held, rng)
    else:
        action = _manipulator(book, r, cash, held, doc.step)
    if action is None or action.type in cannot:
        return None
    return action


_DUST = 0.01
"""Holdings below this are not offered."""


def _order(resource: str, side: Side, price: float, quantity: float, ttl: int | None = None) -> PlaceOrder:
    return PlaceOrder(resource=resource, side=side, price=round(price, 4), quantity=quantity, ttl_ticks=ttl)


def _maker(book: OrderBookPrompt, r: str, cash: float, held: float, mine: list[Any]) -> Action | None:
    """Quote both sides around the last price, leaning away from the book's imbalance; requote when stale."""
    assert book.rules is not None
    top, h, size = book.books[r], _BOOK.maker_half_spread, _BOOK.maker_size
    mid = maker_mid(top.price, top.bid_volume, top.ask_volume)
    ttl = 2 * book.rules.ticks_per_step
    bids = [o for o in mine if o.side == "buy"]
    asks = [o for o in mine if o.side == "sell"]
    if not bids and cash >= mid * (1 - h) * size:
        return _order(r, "buy", mid * (1 - h), size, ttl)
    if not asks and held >= _DUST:
        return _order(r, "sell", mid * (1 + h), min(size, held), ttl)
    if bids and asks:
        centre = (bids[0].price + asks[0].price) / 2
        if abs(centre - mid) > h * mid:
            return CancelOrders(resource=r)
    return None


def _momentum(book: OrderBookPrompt, r: str, cash: float, held: float) -> Action | None:
    """Follow the move over the recent ticks with an aggressive order that lives one batch."""
    assert book.rules is not None
    top, size, ttl = book.books[r], _BOOK.momentum_size, book.rules.batch_interval_ticks
    if len(top.recent) < 5:
        return None
    order = momentum_order(top.recent[-1] / top.recent[0] - 1.0, top.price)
    if order is None:
        return None
    side, price = order
    if side == "sell":
        return _order(r, "sell", price, min(size, held), ttl) if held >= _DUST else None
    return _order(r, "buy", price, size, ttl) if cash >= price * size else None


def _value(book: OrderBookPrompt, r: str, cash: float, held: float, rng: random.Random) -> Action | None:
    """Buy below and sell above the reference price; near it, trade a unit either way."""
    assert book.rules is not None
    top, ref = book.books[r], book.rules.reference_price
    price = top.price
    order = value_order(price, ref, top.best_ask, top.best_bid)
    if order is not None:
        side, target = order
        if side == "buy":
            return _order(r, "buy", target, 1.0) if cash >= target else None
        return _order(r, "sell", target, 1.0) if held >= 1.0 else None
    side = "buy" if rng.random() < 0.5 else "sell"
    target = price * (1.0 + rng.uniform(-0.01, 0.01))
    if (side == "buy" and cash < target) or (side == "sell" and held < 1.0):
        return None
    return _order(r, side, target, 1.0)


def _manipulator(book: OrderBookPrompt, r: str, cash: float, held: float, step: int) -> Action | None:
    """By the step: dump its holdings below the price, spoof a large ask that expires unfilled, buy back."""
    assert book.rules is not None
    top, rules, size = book.books[r], book.rules, _BOOK.manipulator_size
    phase = step % 3
    if phase == 0 and held >= _DUST:
        return _order(r, "sell", top.price * 0.85, min(size, held), rules.batch_interval_ticks)
    if phase in (0, 1):
        b = rules.batch_interval_ticks
        ttl = (book.tick // b + 1) * b - book.tick - 1  # gone before the next clearing
        return _order(r, "sell", top.price * 1.02, 3 * size, ttl) if ttl >= 1 else None
    if top.price < rules.reference_price and cash >= top.price:
        return _order(r, "buy", top.price, min(5.0, cash / top.price))
    return None
