"""The marketplace: bounties, bids, escrow, delivery, release, refunds and disputes.

Money never appears or vanishes here: every movement is a ledger
:class:`~swarm.money.Transfer` between agents and the marketplace's two system
accounts, ``market:escrow`` (open rewards and held escrows) and ``market:fees``.
Posting a bounty moves its reward into escrow; accepting a bid keeps the bid
there and refunds the rest of the reward; an escrow ends exactly once — released
to the worker (less the escrow fee), refunded to the poster, or disputed and then
split by ``dispute_default_split`` (less the fee). So, at every moment::

    balance of market:escrow = Σ open-bounty rewards + Σ held or disputed escrows
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, ClassVar, Literal

import msgspec
from pydantic import BaseModel, ConfigDict, Field

from swarm.actions import DEFAULT_CONDUCT, Action, Conduct
from swarm.env.tasks import verified_quality
from swarm.events import ActionRejected, Event
from swarm.kernel.component import Applied, At, RateLimit, Setup, Turn, WorldComponent, component
from swarm.metrics.registry import count
from swarm.money import Transfer
from swarm.views import AgentPublic

ESCROW = "market:escrow"
FEES = "market:fees"
APPROVAL_BAR = 0.5
MAX_BOUNTIES_SHOWN = 8

# ----------------------------------------------------------------------- actions


class PostBounty(Action, tag="post_bounty", frozen=True):
    """Offer a reward for work; the reward is held by the marketplace from now on."""

    reward: Annotated[float, msgspec.Meta(gt=0.0, le=1000.0)]
    description: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    deadline_epochs: Annotated[int, msgspec.Meta(ge=1, le=20)] = 2
    text_fields: ClassVar[tuple[str, ...]] = ("description",)


class PlaceBid(Action, tag="place_bid", frozen=True):
    """Offer to do a bounty's work for ``amount``."""

    bounty_id: str
    amount: Annotated[float, msgspec.Meta(gt=0.0)]


class AcceptBid(Action, tag="accept_bid", frozen=True):
    """Award one's bounty to a bid: its amount goes into escrow."""

    bounty_id: str
    bid_id: str


class RejectBid(Action, tag="reject_bid", frozen=True):
    """Turn down a pending bid on one's own open bounty."""

    bid_id: str
    reason: Annotated[str, msgspec.Meta(max_length=1000)] = ""


class WithdrawBid(Action, tag="withdraw_bid", frozen=True):
    """Take back one's own pending bid."""

    bid_id: str


class DeliverWork(Action, tag="deliver_work", frozen=True):
    """Deliver the work of an escrow one is the worker of; verified, then released or refunded."""

    escrow_id: str
    conduct: Conduct = DEFAULT_CONDUCT


class FileDispute(Action, tag="file_dispute", frozen=True):
    """Dispute a held escrow one is party to; it is split after the resolution period."""

    escrow_id: str
    reason: Annotated[str, msgspec.Meta(max_length=1000)] = ""


MarketAction = PostBounty | PlaceBid | AcceptBid | RejectBid | WithdrawBid | DeliverWork | FileDispute

# ------------------------------------------------------------------------ events


class BountyPosted(Event, tag="bounty_posted", frozen=True):
    agent_id: str
    bounty_id: str
    amount: float


class BidPlaced(Event, tag="bid_placed", frozen=True):
    agent_id: str
    bounty_id: str
    bid_id: str
    amount: float


class BidAccepted(Event, tag="bid_accepted", frozen=True):
    agent_id: str
    bounty_id: str
    bid_id: str
    amount: float


class BidRejected(Event, tag="bid_rejected", frozen=True):
    agent_id: str
    bounty_id: str
    bid_id: str
    bidder: str
    amount: float


class BidWithdrawn(Event, tag="bid_withdrawn", frozen=True):
    agent_id: str
    bounty_id: str
    bid_id: str
    amount: float


class EscrowCreated(Event, tag="escrow_created", frozen=True):
    agent_id: str
    bounty_id: str
    escrow_id: str
    worker: str
    amount: float


class EscrowReleased(Event, tag="escrow_released", frozen=True):
    escrow_id: str
    worker: str
    poster: str
    amount: float
    fee: float
    quality: float


class EscrowRefunded(Event, tag="escrow_refunded", frozen=True):
    escrow_id: str
    poster: str
    worker: str
    amount: float
    reason: str


class DisputeFiled(Event, tag="dispute_filed", frozen=True):
    agent_id: str
    escrow_id: str
    against: str
    amount: float
    reason: str = ""


class DisputeResolved(Event, tag="dispute_resolved", frozen=True):
    escrow_id: str
    poster: str
    worker: str
    to_worker: float
    to_poster: float
    fee: float


class BountyExpired(Event, tag="bounty_expired", frozen=True):
    agent_id: str
    bounty_id: str
    amount: float


# -------------------------------------------------------------------------- view


class BountyView(msgspec.Struct, frozen=True, gc=False):
    """An open bounty and its pending bids ``(bid_id, bidder, amount)``."""

    bounty_id: str
    poster: str
    reward: float
    deadline_epoch: int
    bids: tuple[tuple[str, str, float], ...] = ()


class EscrowView(msgspec.Struct, frozen=True, gc=False):
    """A held or disputed escrow."""

    escrow_id: str
    bounty_id: str
    poster: str
    worker: str
    amount: float
    status: Literal["held", "disputed"]


class MarketView(msgspec.Struct, frozen=True, gc=False):
    """The marketplace as everyone sees it."""

    bounties: tuple[BountyView, ...] = ()
    escrows: tuple[EscrowView, ...] = ()


class MarketplaceConfig(BaseModel):
    """The ``marketplace`` section (the marketplace exists when the section is present and enabled)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    enabled: bool = True
    escrow_fee_rate: float = Field(
        default=0.02, ge=0.0, le=1.0, description="share of a settled escrow kept as fee"
    )
    min_bounty_amount: float = Field(default=1.0, ge=0.0, description="smallest reward a bounty may offer")
    max_bids_per_bounty: int = Field(default=10, ge=1, description="pending bids a bounty accepts")
    bid_deadline_epochs: int = Field(
        default=3, ge=1, description="accepted for reference scenarios (unused there too)"
    )
    dispute_resolution_epochs: int = Field(default=2, ge=0, description="epochs before a dispute is split")
    auto_expire_bounties: bool = True
    dispute_default_split: float = Field(
        default=0.5, ge=0.0, le=1.0, description="worker's share of a disputed escrow"
    )
    delivery_deadline_epochs: int = Field(default=2, ge=1, description="epochs the worker has to deliver")


# ------------------------------------------------------------------------- state


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

    def __init__(self, config: MarketplaceConfig, rng: random.Random) -> None:
        self.config = config
        self.rng = rng
        self.bounties: dict[str, _Bounty] = {}
        self.escrows: dict[str, _Escrow] = {}
        self.fees = 0.0
        self._n = {"bounty": 0, "bid": 0, "escrow": 0}

    def _id(self, kind: str) -> str:
        self._n[kind] += 1
        return f"{kind}-{self._n[kind]}"

    def held(self) -> float:
        """Money inside the marketplace: open rewards and held or disputed escrows."""
        open_rewards = sum(b.reward for b in self.bounties.values() if b.status == "open")
        escrowed = sum(e.amount for e in self.escrows.values() if e.status in ("held", "disputed"))
        return open_rewards + escrowed

    def view(self) -> MarketView:
        bounties = tuple(
            BountyView(
                b.bounty_id,
                b.poster,
                b.reward,
                b.deadline_epoch,
                tuple((bid_id, bidder, amount) for bid_id, (bidder, amount) in b.bids.items()),
            )
            for b in self.bounties.values()
            if b.status == "open"
        )
        escrows = tuple(
            EscrowView(e.escrow_id, e.bounty_id, e.poster, e.worker, e.amount, e.status)
            for e in self.escrows.values()
            if e.status in ("held", "disputed")
        )
        return MarketView(bounties, escrows)

    def apply(self, at: At, agent: str, action: MarketAction, resources: float) -> Applied:
        """One action of ``agent`` (whose resources are ``resources``)."""
        epoch, step = at.epoch, at.step
        c = self.config

        def reject(reason: str) -> Applied:
            return Applied(
                events=[
                    ActionRejected(epoch=epoch, step=step, agent_id=agent, action=action.type, reason=reason)
                ]
            )

        if isinstance(action, PostBounty):
            if action.reward < c.min_bounty_amount:
                return reject(f"reward {action.reward:g} below the minimum {c.min_bounty_amount:g}")
            if action.reward > resources:
                return reject(f"reward {action.reward:g} exceeds resources {resources:.2f}")
            b = _Bounty(
                self._id("bounty"), agent, action.reward, epoch + action.deadline_epochs, action.description
            )
            self.bounties[b.bounty_id] = b
            return Applied(
                events=[
                    BountyPosted(
                        epoch=epoch, step=step, agent_id=agent, bounty_id=b.bounty_id, amount=b.reward
                    )
                ],
                entries=[
                    Transfer(
                        payer=agent,
                        payee=ESCROW,
                        amount=b.reward,
                        reason="bounty reward held",
                        ref=b.bounty_id,
                    )
                ],
            )
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
            if len(target.bids) >= c.max_bids_per_bounty:
                return reject(f"bounty {target.bounty_id} has {c.max_bids_per_bounty} bids already")
            bid_id = self._id("bid")
            target.bids[bid_id] = (agent, action.amount)
            return Applied(
                events=[
                    BidPlaced(
                        epoch=epoch,
                        step=step,
                        agent_id=agent,
                        bounty_id=target.bounty_id,
                        bid_id=bid_id,
                        amount=action.amount,
                    )
                ]
            )
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
                epoch + c.delivery_deadline_epochs,
            )
            self.escrows[e.escrow_id] = e
            out = Applied(
                events=[
                    BidAccepted(
                        epoch=epoch,
                        step=step,
                        agent_id=agent,
                        bounty_id=awarded.bounty_id,
                        bid_id=action.bid_id,
                        amount=amount,
                    ),
                    EscrowCreated(
                        epoch=epoch,
                        step=step,
                        agent_id=agent,
                        bounty_id=awarded.bounty_id,
                        escrow_id=e.escrow_id,
                        worker=worker,
                        amount=amount,
                    ),
                ]
            )
            rest = awarded.reward - amount
            if rest > 0:
                out.entries.append(
                    Transfer(
                        payer=ESCROW,
                        payee=agent,
                        amount=rest,
                        reason="unused reward refunded",
                        ref=awarded.bounty_id,
                    )
                )
            return out
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
                return Applied(
                    events=[
                        BidRejected(
                            epoch=epoch,
                            step=step,
                            agent_id=agent,
                            bounty_id=holder.bounty_id,
                            bid_id=action.bid_id,
                            bidder=bidder,
                            amount=amount,
                        )
                    ]
                )
            if agent != bidder:
                return reject(f"only {bidder} can withdraw {action.bid_id}")
            del holder.bids[action.bid_id]
            return Applied(
                events=[
                    BidWithdrawn(
                        epoch=epoch,
                        step=step,
                        agent_id=agent,
                        bounty_id=holder.bounty_id,
                        bid_id=action.bid_id,
                        amount=amount,
                    )
                ]
            )
        held = self.escrows.get(action.escrow_id)
        if held is None or held.status != "held":
            return reject(f"escrow {action.escrow_id} is not held")
        if isinstance(action, DeliverWork):
            if agent != held.worker:
                return reject(f"only {held.worker} can deliver on {held.escrow_id}")
            quality = round(verified_quality(self.rng, action.conduct), 6)
            if quality >= APPROVAL_BAR:
                return self._release(held, at, quality)
            return self._refund(held, at, f"delivery failed verification (quality {quality:.3f})")
        if agent not in (held.poster, held.worker):
            return reject(f"{agent} is not party to {held.escrow_id}")
        held.status, held.dispute_epoch = "disputed", epoch
        return Applied(
            events=[
                DisputeFiled(
                    epoch=epoch,
                    step=step,
                    agent_id=agent,
                    escrow_id=held.escrow_id,
                    against=held.worker if agent == held.poster else held.poster,
                    amount=held.amount,
                    reason=action.reason,
                )
            ]
        )

    def _release(self, e: _Escrow, at: At, quality: float) -> Applied:
        fee = e.amount * self.config.escrow_fee_rate
        self.fees += fee
        e.status = "released"
        entries = [
            Transfer(
                payer=ESCROW, payee=e.worker, amount=e.amount - fee, reason="escrow released", ref=e.escrow_id
            )
        ]
        if fee > 0:
            entries.append(
                Transfer(payer=ESCROW, payee=FEES, amount=fee, reason="escrow fee", ref=e.escrow_id)
            )
        return Applied(
            events=[
                EscrowReleased(
                    epoch=at.epoch,
                    step=at.step,
                    escrow_id=e.escrow_id,
                    worker=e.worker,
                    poster=e.poster,
                    amount=e.amount - fee,
                    fee=fee,
                    quality=quality,
                )
            ],
            entries=entries,  # type: ignore[arg-type]
        )

    def _refund(self, e: _Escrow, at: At, reason: str) -> Applied:
        e.status = "refunded"
        return Applied(
            events=[
                EscrowRefunded(
                    epoch=at.epoch,
                    step=at.step,
                    escrow_id=e.escrow_id,
                    poster=e.poster,
                    worker=e.worker,
                    amount=e.amount,
                    reason=reason,
                )
            ],
            entries=[
                Transfer(
                    payer=ESCROW, payee=e.poster, amount=e.amount, reason="escrow refunded", ref=e.escrow_id
                )
            ],
        )

    def end_epoch(self, at: At) -> Applied:
        """Expire overdue bounties, refund undelivered escrows, resolve ripe disputes."""
        out = Applied()
        epoch = at.epoch
        c = self.config
        for b in self.bounties.values():
            if b.status == "open" and c.auto_expire_bounties and epoch >= b.deadline_epoch:
                b.status = "expired"
                out.events.append(
                    BountyExpired(
                        epoch=epoch, step=at.step, agent_id=b.poster, bounty_id=b.bounty_id, amount=b.reward
                    )
                )
                out.entries.append(
                    Transfer(
                        payer=ESCROW,
                        payee=b.poster,
                        amount=b.reward,
                        reason="reward refunded on expiry",
                        ref=b.bounty_id,
                    )
                )
        for e in self.escrows.values():
            if e.status == "held" and epoch >= e.due_epoch:
                refund = self._refund(e, at, "no delivery before the deadline")
                out.events += refund.events
                out.entries += refund.entries
            elif (
                e.status == "disputed"
                and e.dispute_epoch is not None
                and (epoch - e.dispute_epoch >= c.dispute_resolution_epochs)
            ):
                fee = e.amount * c.escrow_fee_rate
                self.fees += fee
                to_worker = (e.amount - fee) * c.dispute_default_split
                to_poster = e.amount - fee - to_worker
                e.status = "resolved"
                out.events.append(
                    DisputeResolved(
                        epoch=epoch,
                        step=at.step,
                        escrow_id=e.escrow_id,
                        poster=e.poster,
                        worker=e.worker,
                        to_worker=to_worker,
                        to_poster=to_poster,
                        fee=fee,
                    )
                )
                why, ref = "dispute share", e.escrow_id
                out.entries += [
                    Transfer(payer=ESCROW, payee=e.worker, amount=to_worker, reason=why, ref=ref),
                    Transfer(payer=ESCROW, payee=e.poster, amount=to_poster, reason=why, ref=ref),
                ]
                if fee > 0:
                    out.entries.append(
                        Transfer(payer=ESCROW, payee=FEES, amount=fee, reason="escrow fee", ref=ref)
                    )
        return out


# --------------------------------------------------------------------- component


@component
class Marketplace(WorldComponent):
    """Owns bounties, bids and escrows."""

    key = "marketplace"
    order = 40
    Config = MarketplaceConfig
    actions = (PostBounty, PlaceBid, AcceptBid, RejectBid, WithdrawBid, DeliverWork, FileDispute)
    rate_limits = (
        RateLimit("bounties_per_epoch", (PostBounty,), "epoch", 3, "bounties per epoch"),
        RateLimit("bids_per_epoch", (PlaceBid,), "epoch", 5, "bids per epoch"),
    )
    view_type = MarketView
    prompt_rules = (
        "The marketplace: post a bounty (its reward is held in escrow), bid on others' bounties, "
        "accept or reject bids on yours, withdraw your bids, deliver the work of an escrow you hold "
        "(verified against your conduct; paid on success, refunded otherwise), or dispute an escrow."
    )
    config: MarketplaceConfig

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        self.state = MarketplaceState(self.config, setup.rng("marketplace"))

    def view(self, at: At) -> MarketView:
        return self.state.view()

    def apply(self, at: At, turns: Sequence[Turn], agents: Mapping[str, AgentPublic]) -> Applied:
        out = Applied()
        for _, agent, action in turns:
            done = self.state.apply(at, agent, action, agents[agent].resources)  # type: ignore[arg-type]
            out.events += done.events
            out.entries += done.entries
        return out

    def epoch_end(self, at: At, agents: Sequence[AgentPublic]) -> Applied:
        return self.state.end_epoch(at)

    @classmethod
    def prompt_view(cls, view: MarketView, agent_id: str) -> MarketView:
        """The richest open bounties, one's own bounties, and the escrows one is party to."""
        richest = sorted(view.bounties, key=lambda b: (-b.reward, b.bounty_id))[:MAX_BOUNTIES_SHOWN]
        mine = [b for b in view.bounties if b.poster == agent_id and b not in richest]
        escrows = tuple(e for e in view.escrows if agent_id in (e.poster, e.worker))
        return MarketView((*richest, *mine), escrows)


count("bounties_posted", BountyPosted, "bounties posted")
count("bids_placed", BidPlaced, "bids placed")
count("escrows_released", EscrowReleased, "escrows paid out to the worker")
count("escrows_refunded", EscrowRefunded, "escrows refunded to the poster")
count("disputes_filed", DisputeFiled, "disputes filed")
count("disputes_resolved", DisputeResolved, "disputes split after the resolution period")
