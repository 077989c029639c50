"""The labelling pipeline's arithmetic, checked against its formulas written out term by term.

``ProxyComputer.compute_v_hat`` and the observables' binomial draws are written
for speed (once per interaction); these laws pin them to the documented
formulas bit for bit, and the binomial draws to the same random numbers in the
same order.
"""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from swarm.core.interaction import Observables
from swarm.core.observables import _binomial
from swarm.core.proxy import ProxyComputer, ProxyWeights, decay_signal


def _clamp(x: float) -> float:
    return min(max(x, -1.0), 1.0)


def _v_hat(proxy: ProxyComputer, obs: Observables) -> float:
    """v̂ = w_tp·progress + w_rw·rework + w_vp·(rejection + misuse)/2 + w_eng·engagement, clamped."""
    w = proxy.weights
    verifier = (
        decay_signal(obs.verifier_rejections, proxy.rejection_decay)
        + decay_signal(obs.tool_misuse_flags, proxy.misuse_decay)
    ) / 2.0
    return _clamp(
        w.task_progress * _clamp(obs.task_progress_delta)
        + w.rework_penalty * decay_signal(obs.rework_count, proxy.rework_decay)
        + w.verifier_penalty * verifier
        + w.engagement_signal * _clamp(obs.counterparty_engagement_delta)
    )


deltas = st.floats(min_value=-3.0, max_value=3.0) | st.sampled_from([-1.0, 1.0, -0.0, 0.0])
counts = st.integers(0, 6)
decays = st.floats(min_value=0.0, max_value=1.0)
weights = st.floats(min_value=0.0, max_value=2.0)


@settings(max_examples=300, deadline=None)
@given(deltas, counts, counts, counts, deltas, decays, decays, decays, weights, weights, weights, weights)
def test_v_hat_is_the_weighted_clamped_sum_of_the_signals_bit_for_bit(
    progress: float,
    rework: int,
    rejections: int,
    misuse: int,
    engagement: float,
    rework_decay: float,
    rejection_decay: float,
    misuse_decay: float,
    w_tp: float,
    w_rw: float,
    w_vp: float,
    w_eng: float,
) -> None:
    proxy = ProxyComputer(
        ProxyWeights(task_progress=w_tp, rework_penalty=w_rw, verifier_penalty=w_vp, engagement_signal=w_eng),
        rework_decay=rework_decay,
        rejection_decay=rejection_decay,
        misuse_decay=misuse_decay,
    )
    obs = Observables(progress, rework, rejections, misuse, engagement)
    got = proxy.compute_v_hat(obs)
    assert got == _v_hat(proxy, obs)
    assert str(got) == str(_v_hat(proxy, obs))  # the same sign of zero, too
    assert -1.0 <= got <= 1.0


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32), st.integers(0, 5), st.floats(min_value=0.0, max_value=1.0))
def test_a_binomial_draw_counts_successes_of_n_draws_in_order(seed: int, n: int, q: float) -> None:
    mine, reference = random.Random(seed), random.Random(seed)
    k = _binomial(mine, n, q)
    assert k == sum(1 for _ in range(n) if reference.random() < q)
    assert 0 <= k <= n
    assert mine.getstate() == reference.getstate()  # exactly n numbers drawn
