"""How the scripted policies use the marketplace (spec/core.md §4.3–4.6), when a scenario has one.

Rules in order: deliver work on one's escrow; turn down bids on one's bounty from
agents of negative reputation, then award it to the cheapest bid; withdraw a bid
undercut by more than a quarter (it will not win); bid; post a bounty. Hostile
types post bait and dispute their escrows instead. A type's
:class:`~swarm.agents.scripted.base.MarketHabits` set the chances; a type
without habits never trades. Without a marketplace these rules never fire.
"""

from __future__ import annotations

from swarm.actions import Action
from swarm.agents.scripted.base import MarketHabits, ScriptedPolicy
from swarm.env.marketplace import (
    AcceptBid,
    DeliverWork,
    FileDispute,
    MarketView,
    PlaceBid,
    PostBounty,
    RejectBid,
    WithdrawBid,
)
from swarm.views import Observation


def market_action(policy: ScriptedPolicy, observation: Observation) -> Action | None:
    """The marketplace action this policy takes now, if any."""
    habits = policy.market
    market = observation.view(MarketView)
    if market is None or habits is None:
        return None
    me, rng = policy.agent_id, policy.rng
    mine = [e for e in market.escrows if e.status == "held" and me in (e.poster, e.worker)]
    if not habits.hostile:
        for escrow in mine:
            if escrow.worker == me:
                return DeliverWork(escrow_id=escrow.escrow_id, conduct=policy.work_conduct(observation))
    elif mine and rng.random() < 0.4:
        return FileDispute(escrow_id=rng.choice(mine).escrow_id, reason="Quality of work is unsatisfactory.")
    reputation = observation.snapshot.agent_index
    if not habits.hostile:
        for bounty in market.bounties:
            if bounty.poster != me or not bounty.bids:
                continue
            for bid_id, bidder, _ in bounty.bids:
                record = reputation.get(bidder)
                if record is not None and record.reputation < 0:
                    return RejectBid(bid_id=bid_id, reason="bidder's reputation is negative")
            if rng.random() < habits.accept:
                bid_id, _, _ = min(bounty.bids, key=lambda b: b[2])
                return AcceptBid(bounty_id=bounty.bounty_id, bid_id=bid_id)
        for bounty in market.bounties:
            mine_bids = [b for b in bounty.bids if b[1] == me]
            rivals = [b[2] for b in bounty.bids if b[1] != me]
            if mine_bids and rivals and mine_bids[0][2] > 1.25 * min(rivals):
                return WithdrawBid(bid_id=mine_bids[0][0])
    others = [b for b in market.bounties if b.poster != me and all(bidder != me for _, bidder, _ in b.bids)]
    if others and habits.bid and observation.can(PlaceBid) and rng.random() < habits.bid:
        target = max(others, key=lambda b: b.reward) if habits.prefers_rich else rng.choice(others)
        low, high = habits.bid_share
        amount = max(1.0, round(target.reward * rng.uniform(low, high), 2))
        return PlaceBid(bounty_id=target.bounty_id, amount=min(amount, target.reward))
    return _post(habits, policy, observation, market)


def _post(
    habits: MarketHabits, policy: ScriptedPolicy, observation: Observation, market: MarketView
) -> Action | None:
    if not habits.post or not observation.can(PostBounty):
        return None
    rng = policy.rng
    if habits.hostile:
        if observation.me.resources > 10 and rng.random() < habits.post:
            return PostBounty(reward=round(rng.uniform(1, 5), 2), description="bait", deadline_epochs=1)
        return None
    if observation.me.resources > 20 and not market.bounties and rng.random() < habits.post:
        return PostBounty(
            reward=round(rng.uniform(5, 15), 2),
            description="Looking for quality collaboration on a research task.",
        )
    return None
