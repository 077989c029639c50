"""The collector handles a batch's runs of one event type in one go: what it ends up with is what
feeding the same events one at a time gives (as a replay does), whatever the batches and the mix."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from swarm.core import SoftInteraction, SoftPayoffEngine
from swarm.env.feed import PostCreated, VoteCast
from swarm.env.tasks import ClaimConflict, WorkVerified
from swarm.events import AgentCreated, AgentFrozen, AgentUnfrozen, Event, InteractionCompleted, LedgerUpdated
from swarm.governance.effects import Cost
from swarm.metrics.collector import MetricsCollector

AGENTS = ("a", "b", "c")
agent = st.sampled_from(AGENTS)
amount = st.floats(-5.0, 5.0, allow_nan=False).map(lambda x: round(x, 3))

events: st.SearchStrategy[Event] = st.one_of(
    st.builds(
        PostCreated,
        post_id=st.just("p"),
        author=agent,
        content=st.just("x"),
        parent_id=st.one_of(st.none(), st.just("q")),
    ),
    st.builds(
        VoteCast, voter=agent, post_id=st.just("p"), direction=st.sampled_from((-1, 1)), changed=st.booleans()
    ),
    st.builds(ClaimConflict, task_id=st.just("t"), agent_id=agent, winner=st.one_of(st.none(), agent)),
    st.builds(WorkVerified, task_id=st.just("t"), agent_id=agent, quality=amount, approved=st.booleans()),
    st.builds(
        LedgerUpdated,
        agent_id=agent,
        entry=st.just("transfer"),
        reason=st.just("r"),
        reputation=amount,
        resources=amount,
    ),
    st.builds(
        InteractionCompleted,
        interaction=st.builds(
            SoftInteraction,
            interaction_id=st.just("i"),
            initiator=agent,
            counterparty=agent,
            accepted=st.booleans(),
            p=st.floats(0.0, 1.0),
        ),
        payoff_initiator=amount,
        payoff_counterparty=amount,
        initiator_type=st.just("honest"),
        counterparty_type=st.just("honest"),
    ),
    st.builds(AgentFrozen, agent_id=agent, until_epoch=st.none(), reason=st.just("f")),
    st.builds(AgentUnfrozen, agent_id=agent, reason=st.just("u")),
    st.builds(Cost, lever=st.just("tax"), agent_id=agent, amount=amount),
)


def state(c: MetricsCollector) -> tuple[Any, ...]:
    rows = {a: r.as_dict() for a, r in c.agents.items()}
    metrics = repr(c.close_epoch(0))  # as text: a NaN equals itself
    return dict(c.counts), rows, set(c.frozen), set(c.detected), len(c._table), metrics


def fresh() -> MetricsCollector:
    c = MetricsCollector(SoftPayoffEngine())
    c.feed(
        [
            AgentCreated(agent_id=a, agent_type="honest", policy="P", role="", reputation=0.0, resources=1.0)
            for a in AGENTS
        ]
    )
    return c


@settings(max_examples=150, deadline=None)
@given(
    st.lists(events, max_size=60),
    st.lists(st.integers(1, 12), min_size=1, max_size=20),
    st.lists(events, max_size=8),
)
def test_feeding_runs_at_once_gives_what_feeding_event_by_event_gives(
    stream: list[Event], cuts: list[int], first: list[Event]
) -> None:
    whole, single = fresh(), fresh()
    for ev in first:  # some counts there already, others not
        whole.feed([ev])
        single.feed([ev])
    start = 0
    while start < len(stream):
        size = cuts[start % len(cuts)]
        whole.feed(stream[start : start + size])
        start += size
    for ev in stream:
        single.feed([ev])
    assert state(whole) == state(single)
