"""One vocabulary for every movement of resources and reputation: typed ledger entries.

Components and levers never change balances themselves; they hand the ledger
entries, which it applies in one batch per step (and at epoch boundaries),
logging a ``LedgerUpdated`` event for every agent whose books move.

Accounts are agent ids or *system accounts*, whose names contain a colon
(``market:escrow``, ``governance:tax``) and so can never collide with an agent.
Money is conserved by construction: a :class:`Transfer` moves it, only
:class:`Mint` (value created: interaction surplus, bounties paid from outside)
and :class:`Burn` (value destroyed: penalties, internalised harm) change the
total, and :class:`Settlement` books an interaction's payoffs with the parts it
creates, destroys and moves. So at every moment::

    Σ agent resources + Σ system accounts = endowments + minted − burned
"""

from __future__ import annotations

import msgspec

SYSTEM_SEPARATOR = ":"


def is_system_account(account: str) -> bool:
    """Whether ``account`` names a system account rather than an agent."""
    return SYSTEM_SEPARATOR in account


class Entry(msgspec.Struct, frozen=True, gc=False, kw_only=True, tag_field="entry"):
    """Base of every ledger entry: why it happened and the object it concerns (a task, an escrow)."""

    reason: str
    ref: str | None = None

    @property
    def kind(self) -> str:
        tag = self.__struct_config__.tag
        assert isinstance(tag, str)
        return tag


class Transfer(Entry, tag="transfer", frozen=True):
    """Move ``amount`` of resources from ``payer`` to ``payee`` (either may be a system account)."""

    payer: str
    payee: str
    amount: float


class Mint(Entry, tag="mint", frozen=True):
    """Create ``amount`` of resources in ``account`` (negative amounts destroy)."""

    account: str
    amount: float


class Burn(Entry, tag="burn", frozen=True):
    """Destroy ``amount`` of resources held by ``account``."""

    account: str
    amount: float


class Reputation(Entry, tag="reputation", frozen=True):
    """Change an agent's reputation by ``amount``."""

    agent: str
    amount: float


class Settlement(Entry, tag="settlement", frozen=True):
    """An accepted interaction's payoffs, booked as one entry.

    The initiator's resources move by π_a and the counterparty's by π_b; the
    initiator's reputation by ``reputation``. Of the payoffs, ``created`` is new
    value (the expected surplus S plus the reputation terms w_rep·(r_a + r_b)),
    ``destroyed`` the harm the parties internalise ((ρ_a + ρ_b)·E), and the
    governance costs c_a + c_b go to ``costs`` — (account, amount) pairs, account
    None meaning the cost is burned. τ moves between the parties inside π.
    """

    initiator: str
    counterparty: str
    payoff_initiator: float
    payoff_counterparty: float
    reputation: float
    created: float
    destroyed: float
    costs: tuple[tuple[str | None, float], ...] = ()


class Freeze(Entry, tag="freeze", frozen=True):
    """Freeze an agent (it neither acts nor answers) until the start of ``until_epoch`` (None: for good)."""

    agent: str
    until_epoch: int | None


class Unfreeze(Entry, tag="unfreeze", frozen=True):
    """Lift an agent's freeze now."""

    agent: str
