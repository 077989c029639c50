"""The marketplace: bounties, bids, escrow, delivery, release, refunds and disputes.

Money never appears or vanishes here. Posting a bounty moves its reward from the
poster into the bounty; accepting a bid moves the bid into an escrow and refunds
the rest of the reward; an escrow ends exactly once — released to the worker
(less the escrow fee), refunded to the poster, or disputed and then split by
``dispute_default_split`` (less the fee). Fees go to the marketplace's fee
account. So, at every moment::

    Σ balances + Σ open-bounty rewards + Σ held escrows + fees collected = constant
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal

from actors import Actor, Message, handler
from swarm.env.tasks import verified_quality
from swarm.events import ActionRejected, Event, MarketEvent
from swarm.messages import (
    AcceptBid,
    BountyView,
    DeliverWork,
    EscrowView,
    FileDispute,
    MarketView,
    PlaceBid,
    PostBounty,
    RejectBid,
    WithdrawBid,
)
from swarm.scenario import MarketplaceSpec

MarketAction = PostBounty | PlaceBid | AcceptBid | RejectBid | WithdrawBid | DeliverWork | FileDispute
Transfer = tuple[str, float, str]
"""(agent, resources delta, reason)."""

APPROVAL_BAR = 0.5


@dataclass(slots=True)
class _Bounty:
    bounty_id: str
    poster: str
    reward: float
    deadline_epoch: int
    description: str
    status: Literal["open", "awarded", "expired"] = "open"
    bids: dict[str, tuple[str, float]] = field(default_factory=dict)


@dataclass(slots=True)
class _Escrow:
    escrow_id: str
    bounty_id: str
    poster: str
    worker: str
    amount: float
    due_epoch: int
    status: Literal["held", "disputed", "released", "refunded", "resolved"] = "held"
    dispute_epoch: int | None = None


class MarketplaceState:
    """Pure, synchronous marketplace book-keeping."""

    def __init__(self, spec: MarketplaceSpec, rng: random.Random) -> None:
        self.spec = spec
        self.rng = rng
        self.bounties: dict[str, _Bounty] = {}
        self.escrows: dict[str, _Escrow] = {}
        self.fees = 0.0
        self._n = {"bounty": 0, "bid": 0, "escrow": 0}

    def _id(self, kind: str) -> str:
        self._n[kind] += 1
        return f"{kind}-{self._n[kind]}"

    def held(self) -> float:
        """Money inside the marketplace: open rewards, held escrows and fees."""
        open_rewards = sum(b.reward for b in self.bounties.values() if b.status == "open")
        escrowed = sum(e.amount for e in self.escrows.values() if e.status in ("held", "disputed"))
        return open_rewards + escrowed + self.fees

    def view(self) -> MarketView:
        bounties = tuple(
            BountyView(
                bounty_id=b.bounty_id,
                poster=b.poster,
                reward=b.reward,
                deadline_epoch=b.deadline_epoch,
                bids=tuple((bid_id, bidder, amount) for bid_id, (bidder, amount) in b.bids.items()),
            )
            for b in self.bounties.values()
            if b.status == "open"
        )
        escrows = tuple(
            EscrowView(
                escrow_id=e.escrow_id,
                bounty_id=e.bounty_id,
                poster=e.poster,
                worker=e.worker,
                amount=e.amount,
                status=e.status,
            )
            for e in self.escrows.values()
            if e.status in ("held", "disputed")
        )
        return MarketView(bounties=bounties, escrows=escrows)

    def apply(self, epoch: int, agent: str, action: MarketAction) -> tuple[list[Event], list[Transfer]]:
        at = {"epoch": epoch, "step": 0}
        s = self.spec

        def reject(reason: str) -> tuple[list[Event], list[Transfer]]:
            return [ActionRejected(**at, agent_id=agent, action=action.type, reason=reason)], []

        def event(kind: str, **kw: object) -> MarketEvent:
            return MarketEvent(**at, kind=kind, agent_id=agent, **kw)

        if isinstance(action, PostBounty):
            if action.reward < s.min_bounty_amount:
                return reject(f"reward {action.reward:g} below the minimum {s.min_bounty_amount:g}")
            b = _Bounty(
                self._id("bounty"), agent, action.reward, epoch + action.deadline_epochs, action.description
            )
            self.bounties[b.bounty_id] = b
            return [event("bounty_posted", bounty_id=b.bounty_id, amount=b.reward)], [
                (agent, -b.reward, f"reward of {b.bounty_id} held")
            ]
        if isinstance(action, PlaceBid):
            target = self.bounties.get(action.bounty_id)
            if target is None or target.status != "open":
                return reject(f"bounty {action.bounty_id} is not open")
            if agent == target.poster:
                return reject("cannot bid on one's own bounty")
            if not 0 < action.amount <= target.reward:
                return reject(f"bid {action.amount:g} must be in (0, {target.reward:g}]")
            if any(bidder == agent for bidder, _ in target.bids.values()):
                return reject("already bidding on this bounty")
            if len(target.bids) >= s.max_bids_per_bounty:
                return reject(f"bounty {target.bounty_id} has {s.max_bids_per_bounty} bids already")
            bid_id = self._id("bid")
            target.bids[bid_id] = (agent, action.amount)
            return [event("bid_placed", bounty_id=target.bounty_id, bid_id=bid_id, amount=action.amount)], []
        if isinstance(action, AcceptBid):
            awarded = self.bounties.get(action.bounty_id)
            if awarded is None or awarded.status != "open" or awarded.poster != agent:
                return reject(f"{agent} has no open bounty {action.bounty_id}")
            if action.bid_id not in awarded.bids:
                return reject(f"no bid {action.bid_id} on {awarded.bounty_id}")
            worker, amount = awarded.bids[action.bid_id]
            awarded.status = "awarded"
            e = _Escrow(
                self._id("escrow"),
                awarded.bounty_id,
                agent,
                worker,
                amount,
                epoch + s.delivery_deadline_epochs,
            )
            self.escrows[e.escrow_id] = e
            events: list[Event] = [
                event("bid_accepted", bounty_id=awarded.bounty_id, bid_id=action.bid_id, amount=amount),
                event(
                    "escrow_created",
                    bounty_id=awarded.bounty_id,
                    escrow_id=e.escrow_id,
                    counterparty=worker,
                    amount=amount,
                ),
            ]
            transfers: list[Transfer] = []
            if awarded.reward - amount > 0:
                transfers.append(
                    (agent, awarded.reward - amount, f"unused reward of {awarded.bounty_id} refunded")
                )
            return events, transfers
        if isinstance(action, RejectBid | WithdrawBid):
            holder = next(
                (b for b in self.bounties.values() if b.status == "open" and action.bid_id in b.bids), None
            )
            if holder is None:
                return reject(f"no pending bid {action.bid_id}")
            bidder, amount = holder.bids[action.bid_id]
            if isinstance(action, RejectBid):
                if agent != holder.poster:
                    return reject(f"only {holder.poster} can reject bids on {holder.bounty_id}")
                del holder.bids[action.bid_id]
                rejected = event(
                    "bid_rejected",
                    bounty_id=holder.bounty_id,
                    bid_id=action.bid_id,
                    counterparty=bidder,
                    amount=amount,
                )
                return [rejected], []
            if agent != bidder:
                return reject(f"only {bidder} can withdraw {action.bid_id}")
            del holder.bids[action.bid_id]
            return [
                event("bid_withdrawn", bounty_id=holder.bounty_id, bid_id=action.bid_id, amount=amount)
            ], []
        held = self.escrows.get(action.escrow_id)
        if held is None or held.status != "held":
            return reject(f"escrow {action.escrow_id} is not held")
        if isinstance(action, DeliverWork):
            if agent != held.worker:
                return reject(f"only {held.worker} can deliver on {held.escrow_id}")
            quality = round(verified_quality(self.rng, action.conduct), 6)
            if quality >= APPROVAL_BAR:
                return self._release(held, epoch, quality)
            return self._refund(held, epoch, f"delivery failed verification (quality {quality:.3f})")
        if agent not in (held.poster, held.worker):
            return reject(f"{agent} is not party to {held.escrow_id}")
        held.status, held.dispute_epoch = "disputed", epoch
        return [
            event(
                "dispute_filed",
                escrow_id=held.escrow_id,
                counterparty=held.worker if agent == held.poster else held.poster,
                amount=held.amount,
                reason=action.reason,
            )
        ], []

    def _release(self, e: _Escrow, epoch: int, quality: float) -> tuple[list[Event], list[Transfer]]:
        fee = e.amount * self.spec.escrow_fee_rate
        self.fees += fee
        e.status = "released"
        ev = MarketEvent(
            epoch=epoch,
            step=0,
            kind="escrow_released",
            agent_id=e.worker,
            escrow_id=e.escrow_id,
            counterparty=e.poster,
            amount=e.amount - fee,
            fee=fee,
            quality=quality,
        )
        return [ev], [(e.worker, e.amount - fee, f"{e.escrow_id} released")]

    def _refund(self, e: _Escrow, epoch: int, reason: str) -> tuple[list[Event], list[Transfer]]:
        e.status = "refunded"
        ev = MarketEvent(
            epoch=epoch,
            step=0,
            kind="escrow_refunded",
            agent_id=e.poster,
            escrow_id=e.escrow_id,
            counterparty=e.worker,
            amount=e.amount,
            reason=reason,
        )
        return [ev], [(e.poster, e.amount, f"{e.escrow_id} refunded")]

    def end_epoch(self, epoch: int) -> tuple[list[Event], list[Transfer]]:
        """Expire overdue bounties, refund undelivered escrows, resolve ripe disputes."""
        events: list[Event] = []
        transfers: list[Transfer] = []
        for b in self.bounties.values():
            if b.status == "open" and self.spec.auto_expire_bounties and epoch >= b.deadline_epoch:
                b.status = "expired"
                events.append(
                    MarketEvent(
                        epoch=epoch,
                        step=0,
                        kind="bounty_expired",
                        agent_id=b.poster,
                        bounty_id=b.bounty_id,
                        amount=b.reward,
                    )
                )
                transfers.append((b.poster, b.reward, f"reward of {b.bounty_id} refunded on expiry"))
        for e in self.escrows.values():
            if e.status == "held" and epoch >= e.due_epoch:
                ev, tr = self._refund(e, epoch, "no delivery before the deadline")
                events += ev
                transfers += tr
            elif (
                e.status == "disputed"
                and e.dispute_epoch is not None
                and (epoch - e.dispute_epoch >= self.spec.dispute_resolution_epochs)
            ):
                fee = e.amount * self.spec.escrow_fee_rate
                self.fees += fee
                to_worker = (e.amount - fee) * self.spec.dispute_default_split
                to_poster = e.amount - fee - to_worker
                e.status = "resolved"
                events.append(
                    MarketEvent(
                        epoch=epoch,
                        step=0,
                        kind="dispute_resolved",
                        agent_id=e.poster,
                        escrow_id=e.escrow_id,
                        counterparty=e.worker,
                        amount=to_worker,
                        fee=fee,
                    )
                )
                transfers += [
                    (e.worker, to_worker, f"{e.escrow_id} dispute share"),
                    (e.poster, to_poster, f"{e.escrow_id} dispute share"),
                ]
        return events, transfers


class MarketBatch(Message):
    epoch: int
    step: int
    items: tuple[tuple[int, str, MarketAction], ...]


class MarketResult(Message):
    events: tuple[tuple[int, Event], ...]
    transfers: tuple[tuple[int, str, float, str], ...]


class MarketEpochEnd(Message):
    epoch: int


class MarketSettled(Message):
    events: tuple[Event, ...]
    transfers: tuple[tuple[str, float, str], ...]


class MarketViewQuery(Message):
    pass


class Marketplace(Actor):
    """Owns bounties, bids and escrows."""

    def __init__(self, state: MarketplaceState) -> None:
        self._state = state

    @handler
    async def on_batch(self, msg: MarketBatch) -> MarketResult:
        events: list[tuple[int, Event]] = []
        transfers: list[tuple[int, str, float, str]] = []
        for index, agent, action in msg.items:
            evs, trs = self._state.apply(msg.epoch, agent, action)
            events += [(index, ev.model_copy(update={"step": msg.step})) for ev in evs]
            transfers += [(index, who, amount, why) for who, amount, why in trs]
        return MarketResult.model_construct(events=tuple(events), transfers=tuple(transfers))

    @handler
    async def on_epoch_end(self, msg: MarketEpochEnd) -> MarketSettled:
        evs, trs = self._state.end_epoch(msg.epoch)
        return MarketSettled.model_construct(events=tuple(evs), transfers=tuple(trs))

    @handler
    async def on_view(self, msg: MarketViewQuery) -> MarketView:
        return self._state.view()
