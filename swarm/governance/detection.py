"""What counts as governance *detecting* an agent: a finding against it, a freeze, or a penalty.

A detection is a governance effect naming the agent that is one of: evidence
with the finding ``flagged`` (collusion, sybil), ``violation`` (circuit breaker),
``stake_slashed`` (staking), ``threat`` (security) or ``blocked`` (sybil); a
freeze order; a positive penalty cost of the random audit, collusion, sybil,
security, circuit-breaker or moderator lever. The transaction tax, reputation
decay, stake deposits and passed audits are not detections.

Used by the run figure ``adversary_detection_rate`` and by the red team
(:mod:`swarm.redteam.evaluate`).
"""

from __future__ import annotations

from swarm.events import Event
from swarm.governance.effects import Cost, Evidence, FreezeOrder

FINDINGS = frozenset({"flagged", "violation", "stake_slashed", "threat", "blocked"})
PENALTY_LEVERS = frozenset({"random_audit", "collusion", "sybil", "security", "circuit_breaker", "moderator"})
EVENTS = (Evidence, FreezeOrder, Cost)
"""The event types a detection can be."""


def detected_agent(event: Event) -> str | None:
    """The agent ``event`` detects, or None if it is not a detection."""
    kind = type(event)
    if kind is Evidence:
        assert isinstance(event, Evidence)
        return event.agent_id if event.finding in FINDINGS else None
    if kind is FreezeOrder:
        assert isinstance(event, FreezeOrder)
        return event.agent_id
    if kind is Cost:
        assert isinstance(event, Cost)
        return event.agent_id if event.lever in PENALTY_LEVERS and event.amount > 0 else None
    return None


__all__ = ["EVENTS", "FINDINGS", "PENALTY_LEVERS", "detected_agent"]
