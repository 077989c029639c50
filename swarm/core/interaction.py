"""One interaction between two agents, labelled softly with p = P(v = +1)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class InteractionType(StrEnum):
    """What kind of exchange the initiator proposed."""

    REPLY = "reply"
    VOTE = "vote"
    TRADE = "trade"
    COLLABORATION = "collaboration"


class Observables(BaseModel):
    """The five signals the proxy sees of an interaction; counts cannot be negative."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task_progress_delta: float = 0.0
    rework_count: int = Field(0, ge=0)
    verifier_rejections: int = Field(0, ge=0)
    tool_misuse_flags: int = Field(0, ge=0)
    counterparty_engagement_delta: float = 0.0


class SoftInteraction(BaseModel):
    """An interaction from initiator (A) to counterparty (B) with its soft label and payoff terms.

    ``v_hat`` ∈ [−1, 1] is the raw proxy score and ``p`` ∈ [0, 1] the probability that
    the interaction is beneficial; ``tau`` is the transfer from A to B, ``c_a``/``c_b``
    the governance costs and ``r_a``/``r_b`` the reputation terms of the payoffs.
    ``ground_truth`` is the latent outcome v ∈ {−1, +1} when known. Time is logical
    (``epoch``, ``step``), never wall-clock.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    interaction_id: str
    initiator: str
    counterparty: str
    interaction_type: InteractionType = InteractionType.REPLY
    accepted: bool = False
    observables: Observables = Observables()
    v_hat: float = Field(0.0, ge=-1.0, le=1.0)
    p: float = Field(0.5, ge=0.0, le=1.0)
    tau: float = 0.0
    c_a: float = 0.0
    c_b: float = 0.0
    r_a: float = 0.0
    r_b: float = 0.0
    ground_truth: Literal[-1, 1] | None = None
    epoch: int = 0
    step: int = 0

    def is_high_quality(self, threshold: float = 0.5) -> bool:
        """Whether p ≥ threshold."""
        return self.p >= threshold

    def is_uncertain(self, band: float = 0.2) -> bool:
        """Whether p lies strictly inside (0.5 − band, 0.5 + band)."""
        return 0.5 - band < self.p < 0.5 + band
