"""What the identity component publishes in every step's snapshot (see :mod:`swarm.env.identity`).

Kept apart from the component so that the broker and the feed can refuse an
uncredentialed agent's proposal or vote without importing the component.
"""

from __future__ import annotations

import msgspec


class IdentityView(msgspec.Struct, frozen=True, gc=False):
    """Who holds a valid credential, every identity's trust score, and the rules in force."""

    personhood_cost: float
    """Resources an agent pays to create a new identity (proof of personhood), endowment included."""
    require_to_propose: bool
    """Only credentialed agents may propose interactions."""
    require_to_vote: bool
    """Only credentialed agents may vote on posts."""
    credentialed: frozenset[str] = frozenset()
    """Agents holding a valid ``track_record`` or ``vouch`` credential now."""
    dormant: frozenset[str] = frozenset()
    """Declared identities nobody has created yet (they neither act nor answer)."""
    trust: dict[str, float] = msgspec.field(default_factory=dict)
    """Trust score in [0, 1] of every identity that exists, from its credential history."""

    def is_credentialed(self, agent_id: str) -> bool:
        return agent_id in self.credentialed

    def may_propose(self, agent_id: str) -> bool:
        """Whether the rules let ``agent_id`` propose an interaction now."""
        return not self.require_to_propose or agent_id in self.credentialed

    def may_vote(self, agent_id: str) -> bool:
        """Whether the rules let ``agent_id`` vote now."""
        return not self.require_to_vote or agent_id in self.credentialed

    def trust_of(self, agent_id: str, default: float = 0.0) -> float:
        return self.trust.get(agent_id, default)


UNCREDENTIALED = "no valid credential (this scenario requires one to {what})"
"""The reason an uncredentialed agent's proposal or vote is refused."""
