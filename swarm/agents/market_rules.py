"""How the scripted policies use the marketplace (spec/core.md §4.3–4.6), when a scenario has one.

Rules in order: deliver work on one's escrow; turn down bids on one's bounty from
agents of negative reputation, then award it to the cheapest bid; withdraw a bid
undercut by more than a quarter (it will not win); bid; post a bounty (adversaries post bait and
dispute their escrows).
Without a marketplace these rules never fire, so no turn is wasted on them.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from swarm.messages import (
    AcceptBid,
    Action,
    DeliverWork,
    FileDispute,
    Observation,
    PlaceBid,
    PostBounty,
    RejectBid,
    WithdrawBid,
)

if TYPE_CHECKING:
    from swarm.agents.scripted import ScriptedPolicy

# kind: (accept probability, bid probability, bid share low, bid share high, post probability)
_RULES = {
    "honest": (1.0, 0.3, 0.8, 0.95, 0.15),
    "opportunistic": (1.0, 0.5, 0.5, 0.7, 0.0),
    "deceptive": (0.7, 0.4, 0.7, 0.9, 0.0),
    "adversarial": (0.0, 0.0, 0.0, 0.0, 0.2),
}


def market_action(policy: ScriptedPolicy, observation: Observation) -> Action | None:
    """The marketplace action this policy takes now, if any."""
    market = observation.snapshot.market
    if market is None:
        return None
    me, rng = policy.agent_id, policy.rng
    accept_p, bid_p, low, high, post_p = _RULES[policy.kind]
    mine = [e for e in market.escrows if e.status == "held" and me in (e.poster, e.worker)]
    for escrow in mine:
        if escrow.worker == me and policy.kind != "adversarial":
            return DeliverWork(escrow_id=escrow.escrow_id, conduct=policy.work_conduct(observation))
    if policy.kind == "adversarial" and mine and rng.random() < 0.4:
        return FileDispute(escrow_id=rng.choice(mine).escrow_id, reason="Quality of work is unsatisfactory.")
    reputation = observation.snapshot.agent_index
    for bounty in market.bounties:
        if bounty.poster != me or not bounty.bids or policy.kind == "adversarial":
            continue
        for bid_id, bidder, _ in bounty.bids:
            record = reputation.get(bidder)
            if record is not None and record.reputation < 0:
                return RejectBid(bid_id=bid_id, reason="bidder's reputation is negative")
        if rng.random() < accept_p:
            bid_id, _, _ = min(bounty.bids, key=lambda b: b[2])
            return AcceptBid(bounty_id=bounty.bounty_id, bid_id=bid_id)
    if policy.kind != "adversarial":
        for bounty in market.bounties:
            mine_bids = [b for b in bounty.bids if b[1] == me]
            rivals = [b[2] for b in bounty.bids if b[1] != me]
            if mine_bids and rivals and mine_bids[0][2] > 1.25 * min(rivals):
                return WithdrawBid(bid_id=mine_bids[0][0])
    others = [b for b in market.bounties if b.poster != me and all(bidder != me for _, bidder, _ in b.bids)]
    if others and bid_p and rng.random() < bid_p:
        target = max(others, key=lambda b: b.reward) if policy.kind == "opportunistic" else rng.choice(others)
        amount = max(1.0, round(target.reward * rng.uniform(low, high), 2))
        return PlaceBid(bounty_id=target.bounty_id, amount=min(amount, target.reward))
    return _post(policy.kind, rng, observation, post_p)


def _post(kind: str, rng: random.Random, observation: Observation, post_p: float) -> Action | None:
    market = observation.snapshot.market
    if market is None or not post_p:
        return None
    if kind == "adversarial":
        if observation.me.resources > 10 and rng.random() < post_p:
            return PostBounty(reward=round(rng.uniform(1, 5), 2), description="bait", deadline_epochs=1)
        return None
    if observation.me.resources > 20 and not market.bounties and rng.random() < post_p:
        return PostBounty(
            reward=round(rng.uniform(5, 15), 2),
            description="Looking for quality collaboration on a research task.",
        )
    return None
