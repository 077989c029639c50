"""The broker labels an answered proposal in one call: what the public labelling functions give.

``generate_observables`` → ``ProxyComputer.compute_labels`` → ``draw_ground_truth`` is the
labelling pipeline; the broker computes it inline for a plain proxy. Whatever the conduct,
the answer, the proxy's weights, decays and steepness, the inline labels must be the
pipeline's, with the same draws from the same stream (the stream is left where the pipeline
leaves it).
"""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from swarm.actions import Conduct
from swarm.core.interaction import Observables
from swarm.core.observables import draw_ground_truth, generate_observables
from swarm.core.proxy import ProxyComputer, ProxyWeights
from swarm.env.broker import _labeller

signed = st.floats(-1.0, 1.0)
unit = st.floats(0.0, 1.0)
conducts = st.builds(
    Conduct, effort=signed, facade=unit, sloppiness=unit, defects=unit, misuse=unit, engagement=signed
)
weights = st.builds(
    ProxyWeights,
    task_progress=st.floats(-2.0, 2.0),
    rework_penalty=st.floats(-2.0, 2.0),
    verifier_penalty=st.floats(-2.0, 2.0),
    engagement_signal=st.floats(-2.0, 2.0),
)
proxies = st.builds(
    ProxyComputer,
    weights=weights,
    sigmoid_k=st.one_of(st.floats(0.0, 20.0), st.sampled_from([0.0, 800.0, -800.0])),
    rework_decay=unit,
    rejection_decay=unit,
    misuse_decay=unit,
)
proposals = st.lists(
    st.tuples(conducts, st.one_of(st.none(), conducts), st.booleans()), min_size=1, max_size=6
)


@settings(max_examples=200, deadline=None)
@given(proxies, proposals, st.integers(0, 2**32))
def test_the_inline_labels_are_the_pipelines(
    proxy: ProxyComputer, batch: list[tuple[Conduct, Conduct | None, bool]], seed: int
) -> None:
    mine, theirs = random.Random(seed), random.Random(seed)
    label = _labeller(mine, proxy)
    for conduct, answer, accepted in batch:
        obs, v_hat, p, truth = label(conduct, answer, accepted)
        expected_obs = generate_observables(theirs, conduct, answer, accepted)
        expected_v_hat, expected_p = proxy.compute_labels(expected_obs)
        expected_truth = draw_ground_truth(theirs, conduct)
        assert obs == expected_obs
        assert [type(getattr(obs, f)) for f in obs.__struct_fields__] == [
            type(getattr(expected_obs, f)) for f in obs.__struct_fields__
        ]  # counts stay ints (as the log encodes them), not bools
        assert (v_hat, p, truth) == (expected_v_hat, expected_p, expected_truth)
    assert mine.random() == theirs.random()


class _Pessimist(ProxyComputer):
    def compute_labels(self, obs: Observables) -> tuple[float, float]:
        return -1.0, 0.0


@given(proposals, st.integers(0, 2**32))
def test_a_proxy_subclass_labels_with_its_own_scoring(
    batch: list[tuple[Conduct, Conduct | None, bool]], seed: int
) -> None:
    label = _labeller(random.Random(seed), _Pessimist())
    for conduct, answer, accepted in batch:
        _, v_hat, p, _ = label(conduct, answer, accepted)
        assert (v_hat, p) == (-1.0, 0.0)
