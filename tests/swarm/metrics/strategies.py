"""Hypothesis strategies shared by the metrics tests."""

from __future__ import annotations

from hypothesis import strategies as st

from swarm.core import PayoffConfig, SoftPayoffEngine

engines = st.builds(
    PayoffConfig,
    s_plus=st.floats(0.0, 5.0),
    s_minus=st.floats(0.0, 5.0),
    h=st.floats(0.0, 5.0),
    theta=st.floats(0.0, 1.0),
    rho_a=st.floats(0.0, 2.0),
    rho_b=st.floats(0.0, 2.0),
    w_rep=st.floats(0.0, 2.0),
).map(SoftPayoffEngine)
"""Payoff engines over the whole range of every parameter the payoffs use."""
