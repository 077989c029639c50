"""One interaction between two agents, labelled softly with p = P(v = +1).

Interactions are made on the hot path (thousands per second), so they are
msgspec structs: cheap to build, encoded straight into the event log, and
validated when a log is read back.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

import msgspec
from msgspec import Meta


class InteractionType(StrEnum):
    """What kind of exchange the initiator proposed."""

    REPLY = "reply"
    VOTE = "vote"
    TRADE = "trade"
    COLLABORATION = "collaboration"


NonNegative = Annotated[int, Meta(ge=0)]
UnitInterval = Annotated[float, Meta(ge=0.0, le=1.0)]
Signed = Annotated[float, Meta(ge=-1.0, le=1.0)]


class Observables(msgspec.Struct, frozen=True, gc=False, forbid_unknown_fields=True):
    """The five signals the proxy sees of an interaction; counts cannot be negative."""

    task_progress_delta: float = 0.0
    rework_count: NonNegative = 0
    verifier_rejections: NonNegative = 0
    tool_misuse_flags: NonNegative = 0
    counterparty_engagement_delta: float = 0.0


_NO_SIGNALS = Observables()


class SoftInteraction(msgspec.Struct, frozen=True, gc=False, kw_only=True, forbid_unknown_fields=True):
    """An interaction from initiator (A) to counterparty (B) with its soft label and payoff terms.

    ``v_hat`` ∈ [−1, 1] is the raw proxy score and ``p`` ∈ [0, 1] the probability that
    the interaction is beneficial; ``tau`` is the transfer from A to B, ``c_a``/``c_b``
    the governance costs and ``r_a``/``r_b`` the reputation terms of the payoffs.
    ``ground_truth`` is the latent outcome v ∈ {−1, +1} when known. Time is logical
    (``epoch``, ``step``), never wall-clock. Ranges are checked when a log is read.
    """

    interaction_id: str
    initiator: str
    counterparty: str
    interaction_type: InteractionType = InteractionType.REPLY
    accepted: bool = False
    observables: Observables = _NO_SIGNALS
    v_hat: Signed = 0.0
    p: UnitInterval = 0.5
    tau: float = 0.0
    c_a: float = 0.0
    c_b: float = 0.0
    r_a: float = 0.0
    r_b: float = 0.0
    ground_truth: Literal[-1, 1] | None = None
    epoch: NonNegative = 0
    step: NonNegative = 0

    def is_high_quality(self, threshold: float = 0.5) -> bool:
        """Whether p ≥ threshold."""
        return self.p >= threshold

    def is_uncertain(self, band: float = 0.2) -> bool:
        """Whether p lies strictly inside (0.5 − band, 0.5 + band)."""
        return 0.5 - band < self.p < 0.5 + band

    def with_costs(self, c_a: float, c_b: float) -> SoftInteraction:
        """A copy with governance costs added to c_a and c_b."""
        return msgspec.structs.replace(self, c_a=self.c_a + c_a, c_b=self.c_b + c_b)

    def with_reputation_terms(self) -> SoftInteraction:
        """A copy whose ``r_a``/``r_b`` are the reputation changes the interaction brings.

        An accepted interaction moves its initiator's reputation by ``(p − 0.5) − c_a``
        and leaves the counterparty's alone, so ``r_a`` is that change and ``r_b`` is 0;
        a rejected one changes nothing (both 0). Call it after the governance costs are in.
        """
        r_a = (self.p - 0.5) - self.c_a if self.accepted else 0.0
        return msgspec.structs.replace(self, r_a=r_a, r_b=0.0)
