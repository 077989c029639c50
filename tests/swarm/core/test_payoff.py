from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from swarm.core import PayoffConfig, SoftInteraction, SoftPayoffEngine
from tests.strategies import payoff_configs

FAST = settings(max_examples=60, deadline=None)

amount = st.floats(-10.0, 10.0)
configs = payoff_configs(10.0, 5.0, (-5.0, 5.0))
interactions = st.builds(
    SoftInteraction,
    interaction_id=st.just("i1"),
    initiator=st.just("a"),
    counterparty=st.just("b"),
    accepted=st.booleans(),
    p=st.floats(0.0, 1.0),
    tau=amount,
    c_a=amount,
    c_b=amount,
    r_a=amount,
    r_b=amount,
)


def make(p: float, **fields: Any) -> SoftInteraction:
    return SoftInteraction(interaction_id="i1", initiator="a", counterparty="b", p=p, **fields)


def test_default_config_matches_the_reference() -> None:
    assert PayoffConfig().model_dump() == {
        "s_plus": 2.0,
        "s_minus": 1.0,
        "h": 2.0,
        "theta": 0.5,
        "rho_a": 0.0,
        "rho_b": 0.0,
        "w_rep": 1.0,
        "sigmoid_k": 2.0,
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("s_plus", -0.1),
        ("s_minus", -1.0),
        ("h", -2.0),
        ("theta", -0.01),
        ("theta", 1.01),
        ("rho_a", -0.5),
        ("rho_b", -0.5),
        ("sigmoid_k", -1.0),
        ("w_rep", float("nan")),
        ("s_plus", float("inf")),
    ],
)
def test_invalid_config_fails_with_the_field_path(field: str, value: float) -> None:
    with pytest.raises(ValidationError) as info:
        PayoffConfig(**{field: value})
    assert [e["loc"] for e in info.value.errors()] == [(field,)]


def test_unknown_config_keys_are_rejected() -> None:
    with pytest.raises(ValidationError):
        PayoffConfig.model_validate({"s_plus": 2.0, "surplus": 3.0})


@pytest.mark.parametrize(
    ("config", "break_even", "social_break_even"),
    [
        (PayoffConfig(), 1 / 3, 0.6),
        (PayoffConfig(s_plus=1.0, s_minus=1.0, h=0.0), 0.5, 0.5),
        (PayoffConfig(s_plus=3.0, s_minus=1.0, h=4.0), 0.25, 0.625),
    ],
)
def test_break_even_probabilities(config: PayoffConfig, break_even: float, social_break_even: float) -> None:
    engine = SoftPayoffEngine(config)
    assert engine.break_even_p() == pytest.approx(break_even)
    assert engine.social_break_even_p() == pytest.approx(social_break_even)


def test_break_even_is_undefined_without_any_stakes() -> None:
    engine = SoftPayoffEngine(PayoffConfig(s_plus=0.0, s_minus=0.0, h=0.0))
    with pytest.raises(ValueError, match="undefined"):
        engine.break_even_p()
    with pytest.raises(ValueError, match="undefined"):
        engine.social_break_even_p()


@pytest.mark.parametrize(
    ("p", "surplus", "harm", "pi_a", "pi_b", "social"),
    [
        (1.0, 2.0, 0.0, 1.0, 1.0, 2.0),
        (0.0, -1.0, 2.0, -0.5, -0.5, -3.0),
        (0.5, 0.5, 1.0, 0.25, 0.25, -0.5),
    ],
)
def test_default_payoffs_at_reference_points(
    p: float, surplus: float, harm: float, pi_a: float, pi_b: float, social: float
) -> None:
    engine = SoftPayoffEngine()
    i = make(p)
    assert engine.expected_surplus(p) == pytest.approx(surplus)
    assert engine.expected_harm(p) == pytest.approx(harm)
    assert engine.payoffs(i) == pytest.approx((pi_a, pi_b))
    assert engine.social_surplus(i) == pytest.approx(social)


def test_payoff_terms_enter_with_their_signs() -> None:
    config = PayoffConfig(theta=0.75, rho_a=0.5, rho_b=0.25, w_rep=2.0)
    i = make(0.5, tau=0.3, c_a=0.1, c_b=0.2, r_a=0.05, r_b=-0.1)
    s, e = 0.5, 1.0
    pi_a = 0.75 * s - 0.3 - 0.1 - 0.5 * e + 2.0 * 0.05
    pi_b = 0.25 * s + 0.3 - 0.2 - 0.25 * e + 2.0 * -0.1
    assert SoftPayoffEngine(config).payoffs(i) == pytest.approx((pi_a, pi_b))


@FAST
@given(configs, interactions)
def test_total_welfare_identity(config: PayoffConfig, i: SoftInteraction) -> None:
    engine = SoftPayoffEngine(config)
    s, e = engine.expected_surplus(i.p), engine.expected_harm(i.p)
    expected = s - i.c_a - i.c_b - (config.rho_a + config.rho_b) * e + config.w_rep * (i.r_a + i.r_b)
    pi_a, pi_b = engine.payoffs(i)
    assert pi_a + pi_b == pytest.approx(expected, abs=1e-9)
    assert engine.total_welfare(i) == pytest.approx(expected, abs=1e-9)


@FAST
@given(configs, interactions, amount)
def test_transfer_cancels_in_total_welfare(config: PayoffConfig, i: SoftInteraction, tau: float) -> None:
    engine = SoftPayoffEngine(config)
    moved = msgspec.structs.replace(i, tau=tau)
    assert engine.total_welfare(moved) == pytest.approx(engine.total_welfare(i), abs=1e-9)


@FAST
@given(configs)
def test_break_even_p_is_where_expected_surplus_vanishes(config: PayoffConfig) -> None:
    engine = SoftPayoffEngine(config)
    if config.s_plus + config.s_minus > 0:
        assert engine.expected_surplus(engine.break_even_p()) == pytest.approx(0.0, abs=1e-9)
    if config.s_plus + config.s_minus + config.h > 0:
        p = engine.social_break_even_p()
        social = engine.expected_surplus(p) - engine.expected_harm(p)
        assert social == pytest.approx(0.0, abs=1e-9)


@FAST
@given(configs, interactions)
def test_breakdowns_add_up_to_the_payoffs(config: PayoffConfig, i: SoftInteraction) -> None:
    engine = SoftPayoffEngine(config)
    a, b = engine.breakdown_initiator(i), engine.breakdown_counterparty(i)
    assert (a.total, b.total) == pytest.approx(engine.payoffs(i), abs=1e-9)
    assert (engine.payoff_initiator(i), engine.payoff_counterparty(i)) == engine.payoffs(i)
    assert (a.transfer, b.transfer) == (-i.tau, i.tau)
    assert (a.governance_cost, b.governance_cost) == (i.c_a, i.c_b)
    assert a.surplus_share + b.surplus_share == pytest.approx(a.expected_surplus, abs=1e-9)
    assert a.externality_cost == pytest.approx(config.rho_a * a.expected_harm)
    assert b.reputation_bonus == pytest.approx(config.w_rep * i.r_b)


@FAST
@given(configs, st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_surplus_rises_and_harm_falls_with_quality(config: PayoffConfig, p: float, q: float) -> None:
    engine = SoftPayoffEngine(config)
    lo, hi = sorted((p, q))
    assert engine.expected_surplus(lo) <= engine.expected_surplus(hi) + 1e-12
    assert engine.expected_harm(lo) >= engine.expected_harm(hi) - 1e-12


@FAST
@given(configs, interactions, amount, amount)
def test_added_costs_come_out_of_each_partys_payoff(
    config: PayoffConfig, i: SoftInteraction, c_a: float, c_b: float
) -> None:
    engine = SoftPayoffEngine(config)
    pi_a, pi_b = engine.payoffs(i)
    charged_a, charged_b = engine.payoffs(i.with_costs(c_a, c_b))
    assert charged_a == pytest.approx(pi_a - c_a, abs=1e-9)
    assert charged_b == pytest.approx(pi_b - c_b, abs=1e-9)
    assert engine.social_surplus(i.with_costs(c_a, c_b)) == engine.social_surplus(i)
