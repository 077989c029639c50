"""Soft payoffs: expected surplus and harm at quality p, split between the two parties."""

from __future__ import annotations

import msgspec
from pydantic import BaseModel, ConfigDict, Field

from swarm.core.interaction import SoftInteraction


class PayoffConfig(BaseModel):
    """The payoff parameters, validated field by field.

    s⁺ / s⁻: surplus / loss of a beneficial / harmful interaction; h: harm to third
    parties; θ: initiator's share; ρ_a, ρ_b: weights of the harm in each payoff;
    w_rep: weight of the reputation terms; ``sigmoid_k``: steepness of the sigmoid.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, strict=True)

    s_plus: float = Field(2.0, ge=0.0, description="surplus of a beneficial interaction")
    s_minus: float = Field(1.0, ge=0.0, description="loss of a harmful interaction")
    h: float = Field(2.0, ge=0.0, description="harm a harmful interaction does to third parties")
    theta: float = Field(0.5, ge=0.0, le=1.0, description="initiator's share of the surplus")
    rho_a: float = Field(0.0, ge=0.0, description="weight of the harm in the initiator's payoff")
    rho_b: float = Field(0.0, ge=0.0, description="weight of the harm in the counterparty's payoff")
    w_rep: float = Field(1.0, description="weight of the reputation terms r_a, r_b")
    sigmoid_k: float = Field(2.0, ge=0.0, description="steepness of the calibrated sigmoid")


class PayoffBreakdown(BaseModel):
    """One party's payoff term by term.

    total = surplus_share + transfer − governance_cost − externality_cost + reputation_bonus.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    expected_surplus: float
    expected_harm: float
    surplus_share: float
    transfer: float
    governance_cost: float
    externality_cost: float
    reputation_bonus: float
    total: float


class PayoffTerms(msgspec.Struct, frozen=True, gc=False):
    """A :class:`PayoffConfig`'s values as plain attributes (read on every interaction, where a
    pydantic model answers each read through a hook, several times slower)."""

    s_plus: float
    s_minus: float
    h: float
    theta: float
    rho_a: float
    rho_b: float
    w_rep: float
    sigmoid_k: float


class SoftPayoffEngine:
    """Computes payoffs from an interaction's p and its transfer, cost and reputation terms.

    ``terms`` holds ``config``'s values (kept in step with it), which is what the engine reads.
    """

    def __init__(self, config: PayoffConfig | None = None) -> None:
        self.config = config or PayoffConfig()

    @property
    def config(self) -> PayoffConfig:
        return self._config

    @config.setter
    def config(self, config: PayoffConfig) -> None:
        self._config = config
        self.terms = PayoffTerms(**{name: getattr(config, name) for name in PayoffTerms.__struct_fields__})

    def expected_surplus(self, p: float) -> float:
        """S = p·s⁺ − (1 − p)·s⁻."""
        c = self.terms
        return p * c.s_plus - (1.0 - p) * c.s_minus

    def expected_harm(self, p: float) -> float:
        """E = (1 − p)·h, the expected harm to third parties."""
        return (1.0 - p) * self.terms.h

    def payoff_initiator(self, i: SoftInteraction) -> float:
        """π_a = θ·S − τ − c_a − ρ_a·E + w_rep·r_a."""
        return self.payoffs(i)[0]

    def payoff_counterparty(self, i: SoftInteraction) -> float:
        """π_b = (1 − θ)·S + τ − c_b − ρ_b·E + w_rep·r_b."""
        return self.payoffs(i)[1]

    def payoffs(self, i: SoftInteraction) -> tuple[float, float]:
        """(π_a, π_b), computing S and E once."""
        c = self.terms
        p = i.p
        s = p * c.s_plus - (1.0 - p) * c.s_minus
        e = (1.0 - p) * c.h
        pi_a = c.theta * s - i.tau - i.c_a - c.rho_a * e + c.w_rep * i.r_a
        pi_b = (1.0 - c.theta) * s + i.tau - i.c_b - c.rho_b * e + c.w_rep * i.r_b
        return pi_a, pi_b

    def total_welfare(self, i: SoftInteraction) -> float:
        """π_a + π_b = S − c_a − c_b − (ρ_a + ρ_b)·E + w_rep·(r_a + r_b); τ cancels."""
        pi_a, pi_b = self.payoffs(i)
        return pi_a + pi_b

    def social_surplus(self, i: SoftInteraction) -> float:
        """S − E = p·s⁺ − (1 − p)·(s⁻ + h): surplus net of the harm to everyone else."""
        return self.expected_surplus(i.p) - self.expected_harm(i.p)

    def break_even_p(self) -> float:
        """p* = s⁻ / (s⁺ + s⁻), where S = 0."""
        c = self.config
        if c.s_plus + c.s_minus == 0:
            raise ValueError("break-even p is undefined when s_plus + s_minus == 0 (S is always 0)")
        return c.s_minus / (c.s_plus + c.s_minus)

    def social_break_even_p(self) -> float:
        """p** = (s⁻ + h) / (s⁺ + s⁻ + h), where S − E = 0."""
        c = self.config
        total = c.s_plus + c.s_minus + c.h
        if total == 0:
            raise ValueError("social break-even p is undefined when s_plus + s_minus + h == 0 (S − E is 0)")
        return (c.s_minus + c.h) / total

    def breakdown_initiator(self, i: SoftInteraction) -> PayoffBreakdown:
        """π_a term by term: θ·S, transfer −τ, cost c_a, externality ρ_a·E, bonus w_rep·r_a."""
        c = self.config
        return _breakdown(
            self.expected_surplus(i.p),
            self.expected_harm(i.p),
            share=c.theta,
            transfer=-i.tau,
            cost=i.c_a,
            rho=c.rho_a,
            reputation=c.w_rep * i.r_a,
        )

    def breakdown_counterparty(self, i: SoftInteraction) -> PayoffBreakdown:
        """π_b term by term: (1 − θ)·S, transfer τ, cost c_b, externality ρ_b·E, bonus w_rep·r_b."""
        c = self.config
        return _breakdown(
            self.expected_surplus(i.p),
            self.expected_harm(i.p),
            share=1.0 - c.theta,
            transfer=i.tau,
            cost=i.c_b,
            rho=c.rho_b,
            reputation=c.w_rep * i.r_b,
        )


def _breakdown(
    s: float, e: float, *, share: float, transfer: float, cost: float, rho: float, reputation: float
) -> PayoffBreakdown:
    surplus_share = share * s
    externality = rho * e
    return PayoffBreakdown(
        expected_surplus=s,
        expected_harm=e,
        surplus_share=surplus_share,
        transfer=transfer,
        governance_cost=cost,
        externality_cost=externality,
        reputation_bonus=reputation,
        total=surplus_share + transfer - cost - externality + reputation,
    )
