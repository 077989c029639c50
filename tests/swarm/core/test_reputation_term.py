"""The reputation term of the payoff: r_a, r_b are the reputation changes an interaction brings."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm.core import PayoffConfig, SoftInteraction, SoftPayoffEngine

FAST = settings(max_examples=80, deadline=None)

cost = st.floats(-5.0, 5.0)
stale = st.floats(-5.0, 5.0)  # whatever r_a/r_b held before: the definition must not depend on it
interactions = st.builds(
    SoftInteraction,
    interaction_id=st.just("i1"),
    initiator=st.just("a"),
    counterparty=st.just("b"),
    accepted=st.booleans(),
    p=st.floats(0.0, 1.0),
    tau=st.floats(-5.0, 5.0),
    c_a=cost,
    c_b=cost,
    r_a=stale,
    r_b=stale,
)


@FAST
@given(interactions)
def test_r_a_is_the_initiators_reputation_change_and_r_b_is_zero(i: SoftInteraction) -> None:
    t = i.with_reputation_terms()
    if i.accepted:
        assert t.r_a == pytest.approx((i.p - 0.5) - i.c_a, abs=1e-12)
    else:
        assert t.r_a == 0.0
    assert t.r_b == 0.0
    # nothing else moves, and applying it twice changes nothing more
    assert msgspec.structs.replace(t, r_a=i.r_a, r_b=i.r_b) == i
    assert t.with_reputation_terms() == t


@FAST
@given(interactions, cost, cost)
def test_governance_costs_charged_before_lower_r_a_one_for_one(
    i: SoftInteraction, ca: float, cb: float
) -> None:
    before, after = i.with_reputation_terms(), i.with_costs(ca, cb).with_reputation_terms()
    assert after.r_a == pytest.approx(before.r_a - (ca if i.accepted else 0.0), abs=1e-9)
    assert after.r_b == 0.0  # the counterparty's cost never touches a reputation


@FAST
@given(interactions, st.floats(-5.0, 5.0))
def test_w_rep_adds_w_rep_times_r_a_to_the_initiators_payoff_only(i: SoftInteraction, w_rep: float) -> None:
    with_term = SoftPayoffEngine(PayoffConfig(w_rep=w_rep))
    without = SoftPayoffEngine(PayoffConfig(w_rep=0.0))
    t = i.with_reputation_terms()
    (pa, pb), (pa0, pb0) = with_term.payoffs(t), without.payoffs(t)
    assert pa - pa0 == pytest.approx(w_rep * t.r_a, abs=1e-9)
    assert pb == pytest.approx(pb0, abs=1e-12)
    assert with_term.breakdown_initiator(t).reputation_bonus == pytest.approx(w_rep * t.r_a)
    assert with_term.breakdown_counterparty(t).reputation_bonus == 0.0


@FAST
@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.floats(0.0, 3.0), st.floats(0.01, 5.0))
def test_a_better_interaction_earns_its_initiator_more_through_the_term(
    p: float, q: float, c_a: float, w_rep: float
) -> None:
    lo, hi = sorted((p, q))
    engine = SoftPayoffEngine(PayoffConfig(w_rep=w_rep))

    def bonus(x: float) -> float:
        i = SoftInteraction(interaction_id="i", initiator="a", counterparty="b", accepted=True, p=x, c_a=c_a)
        return engine.breakdown_initiator(i.with_reputation_terms()).reputation_bonus

    assert bonus(lo) <= bonus(hi) + 1e-12
    assert (bonus(hi) > 0) == (hi - 0.5 - c_a > 0)
