"""Hypothesis strategies shared by test modules."""

from __future__ import annotations

from hypothesis import strategies as st

from swarm.core import PayoffConfig


def payoff_configs(
    size: float = 5.0, rho: float = 2.0, w_rep: tuple[float, float] = (0.0, 2.0)
) -> st.SearchStrategy[PayoffConfig]:
    """Payoff parameters: s⁺, s⁻ and h in [0, size], θ in [0, 1], ρ_a and ρ_b in [0, rho], w_rep in
    ``w_rep``."""
    return st.builds(
        PayoffConfig,
        s_plus=st.floats(0.0, size),
        s_minus=st.floats(0.0, size),
        h=st.floats(0.0, size),
        theta=st.floats(0.0, 1.0),
        rho_a=st.floats(0.0, rho),
        rho_b=st.floats(0.0, rho),
        w_rep=st.floats(*w_rep),
    )
