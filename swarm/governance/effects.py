"""What levers do, as typed effects: each is an event (it goes to the log as it is) and the
ledger applies it through the entries it stands for.

* :class:`Cost` — charged inside one interaction's payoff (c_a or c_b), paid to a
  system account (a tax) or destroyed (a penalty);
* :class:`ReputationChange` — a direct change of reputation;
* :class:`ResourceChange` — resources to or from an agent, from or to a system
  account (tax revenue shared out, a stake held) or created/destroyed;
* :class:`FreezeOrder` — the agent neither acts nor answers until an epoch;
* :class:`Evidence` — a finding that moves nothing (an audit passed, a violation
  counted, a pair flagged), kept so detectors can be scored against ground truth.
"""

from __future__ import annotations

from swarm.events import Event
from swarm.money import Burn, Entry, Freeze, Mint, Reputation, Transfer


class Effect(Event, kw_only=True, frozen=True):
    """Base of every governance effect: which lever, on whom, why, about which interaction."""

    lever: str
    agent_id: str
    reason: str = ""
    interaction_id: str | None = None
    confidence: float | None = None

    def entries(self) -> list[Entry]:
        """The ledger entries this effect stands for (none for evidence and costs)."""
        return []


class Cost(Effect, tag="governance_cost", kw_only=True, frozen=True):
    """A cost inside an interaction's payoff; ``account`` receives it (None: destroyed)."""

    amount: float
    account: str | None = None


class ReputationChange(Effect, tag="governance_reputation", kw_only=True, frozen=True):
    amount: float

    def entries(self) -> list[Entry]:
        why = f"{self.lever}: {self.reason}"
        return [Reputation(agent=self.agent_id, amount=self.amount, reason=why, ref=self.interaction_id)]


class ResourceChange(Effect, tag="governance_resources", kw_only=True, frozen=True):
    """``amount`` to the agent (negative: from it); the other side is ``account`` (None: minted or burned)."""

    amount: float
    account: str | None = None

    def entries(self) -> list[Entry]:
        why = f"{self.lever}: {self.reason}"
        ref = self.interaction_id
        if self.account is not None:
            if self.amount >= 0:
                return [
                    Transfer(payer=self.account, payee=self.agent_id, amount=self.amount, reason=why, ref=ref)
                ]
            return [
                Transfer(payer=self.agent_id, payee=self.account, amount=-self.amount, reason=why, ref=ref)
            ]
        if self.amount >= 0:
            return [Mint(account=self.agent_id, amount=self.amount, reason=why, ref=ref)]
        return [Burn(account=self.agent_id, amount=-self.amount, reason=why, ref=ref)]


class FreezeOrder(Effect, tag="governance_freeze", kw_only=True, frozen=True):
    """Freeze the agent until the start of ``until_epoch`` (None: indefinitely)."""

    until_epoch: int | None

    def entries(self) -> list[Entry]:
        return [
            Freeze(agent=self.agent_id, until_epoch=self.until_epoch, reason=f"{self.lever}: {self.reason}")
        ]


class Evidence(Effect, tag="governance_evidence", kw_only=True, frozen=True):
    """A finding that moves nothing by itself; ``finding`` names it (audit_passed, violation, ...)."""

    finding: str
    amount: float = 0.0
