"""Hypothesis strategies shared by test modules."""

from __future__ import annotations

from hypothesis import strategies as st

from swarm.core import PayoffConfig, SoftInteraction


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


def epoch_interactions(ties: tuple[float, ...] = (0.0, 0.5, 1.0)) -> st.SearchStrategy[SoftInteraction]:
    """Interactions as an epoch's metrics read them: initiators a, b or c, any acceptance, p arbitrary
    or one of ``ties`` (so that equal p values happen often), ground truth unknown, −1 or 1, and
    transfers, costs and reputation changes in [−5, 5]."""
    amount = st.floats(-5.0, 5.0)
    return st.builds(
        SoftInteraction,
        interaction_id=st.just("i"),
        initiator=st.sampled_from(["a", "b", "c"]),
        counterparty=st.just("z"),
        accepted=st.booleans(),
        p=st.one_of(st.floats(0.0, 1.0), st.sampled_from(ties)),
        ground_truth=st.sampled_from([None, -1, 1]),
        tau=amount,
        c_a=amount,
        c_b=amount,
        r_a=amount,
        r_b=amount,
    )
