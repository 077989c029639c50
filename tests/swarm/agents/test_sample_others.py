"""A scripted agent's sample of others is :func:`spread`'s agents that are active, itself left out."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from swarm.agents.scripted.base import ScriptedPolicy, spread
from swarm.views import AgentPublic, Observation, Snapshot


def by_spread(agents: tuple[AgentPublic, ...], me: str, rng: random.Random) -> list[AgentPublic]:
    """The sample as spread() defines it: its active agents, then the first one that is ``me`` dropped."""
    out = [agents[i] for i in spread(len(agents), ScriptedPolicy.SAMPLE + 1, rng) if not agents[i].frozen]
    for k, a in enumerate(out):
        if a.agent_id == me:
            del out[k]
            break
    return out[: ScriptedPolicy.SAMPLE]


@settings(max_examples=200, deadline=None)
@given(
    frozen=st.lists(st.booleans(), min_size=10, max_size=60),
    me=st.integers(min_value=0, max_value=59),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_the_sample_is_spreads_active_agents_but_itself(frozen: list[bool], me: int, seed: int) -> None:
    agents = tuple(AgentPublic(f"a{k}", 0.0, 100.0, f) for k, f in enumerate(frozen))
    me_id = agents[me % len(agents)].agent_id
    policy = ScriptedPolicy(me_id, random.Random(seed))
    seen = policy._sample_others(Observation(me_id, agents[me % len(agents)], Snapshot(0, 0, agents, {})))
    assert seen == by_spread(agents, me_id, random.Random(seed))
    assert len({a.agent_id for a in seen}) == len(seen) and me_id not in {a.agent_id for a in seen}
