from __future__ import annotations

import math
from collections.abc import Iterator
from itertools import count as counter
from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm.core import SoftInteraction, SoftPayoffEngine
from swarm.env.feed import PostCreated, VoteCast
from swarm.events import (
    ActionRejected,
    AgentCreated,
    AgentFrozen,
    AgentUnfrozen,
    Event,
    InteractionCompleted,
    KillSwitchTriggered,
    LedgerUpdated,
    Metrics,
    PolicyFailed,
)
from swarm.governance.effects import Cost
from swarm.metrics import summarize
from swarm.metrics.collector import AGENT_COLUMNS, MetricsCollector
from swarm.metrics.inequality import gini
from swarm.metrics.registry import (
    COUNTERS,
    EPOCH_METRICS,
    RUN_FIGURES,
    EpochData,
    RunData,
    count,
    criterion_target,
    epoch_columns,
    epoch_metric,
    figures,
    last_of,
    latest,
    mean_of,
    pooled,
    sum_of,
)

FAST = settings(max_examples=40, deadline=None)

_ids = counter()


def created(
    agent_id: str, agent_type: str = "honest", resources: float = 100.0, reputation: float = 0.0
) -> AgentCreated:
    return AgentCreated(
        agent_id=agent_id,
        agent_type=agent_type,
        policy=agent_type.title(),
        role="worker",
        reputation=reputation,
        resources=resources,
    )


def completed(
    initiator: str,
    counterparty: str,
    p: float,
    accepted: bool = True,
    truth: Literal[-1, 1] | None = None,
    payoffs: tuple[float, float] = (1.0, 0.5),
) -> InteractionCompleted:
    interaction = SoftInteraction(
        interaction_id=f"i{next(_ids)}",
        initiator=initiator,
        counterparty=counterparty,
        p=p,
        accepted=accepted,
        ground_truth=truth,
    )
    return InteractionCompleted(
        interaction=interaction,
        payoff_initiator=payoffs[0],
        payoff_counterparty=payoffs[1],
        initiator_type="honest",
        counterparty_type="honest",
    )


def post(author: str = "a", parent: str | None = None) -> PostCreated:
    return PostCreated(post_id=f"p{next(_ids)}", author=author, content="hi", parent_id=parent)


def ledger(agent_id: str, resources: float, reputation: float = 0.0) -> LedgerUpdated:
    return LedgerUpdated(
        agent_id=agent_id, entry="mint", reason="test", reputation=reputation, resources=resources
    )


def collector(*events: Event) -> MetricsCollector:
    c = MetricsCollector(SoftPayoffEngine())
    c.feed(events)
    return c


def rows(c: MetricsCollector) -> dict[str, dict[str, object]]:
    return {r["agent_id"]: r for r in c.agent_rows()}


# ------------------------------------------------------------------ per-epoch metrics


def test_an_epoch_without_events_reports_every_metric_and_measures_nothing() -> None:
    m = collector().close_epoch(0)
    assert isinstance(m, Metrics)
    assert m.epoch == 0
    assert list(m) == ["epoch", *(k for k, metric in EPOCH_METRICS.items() if not metric.optional)]
    assert (m.interactions, m.accepted, m.rejected) == (0, 0, 0)
    assert m.toxicity_rate is None
    assert m.quality_gap is None
    assert m.brier_score is None
    kept = [(name, c) for name, c in COUNTERS.items() if not EPOCH_METRICS[name].optional]
    assert {name: m[name] for name, _ in kept} == {name: None if c.latest else 0 for name, c in kept}


def test_interactions_are_counted_and_measured_within_their_epoch() -> None:
    c = collector(
        completed("a", "b", 0.9),
        completed("a", "b", 0.3, truth=-1),
        completed("b", "a", 0.6, accepted=False, truth=1),
    )
    m = c.close_epoch(1)
    assert m.epoch == 1
    assert (m.interactions, m.accepted, m.rejected) == (3, 2, 1)
    assert m.toxicity_rate == pytest.approx((0.1 + 0.7) / 2)
    assert m.quality_gap == pytest.approx(0.6 - 0.6)
    assert m.acceptance_rate == pytest.approx(2 / 3)
    assert m.harmful_accepted == 1
    assert m.brier_score == pytest.approx((0.3**2 + 0.4**2) / 2)


def test_interactions_and_per_epoch_counters_start_empty_in_the_next_epoch() -> None:
    c = collector(completed("a", "b", 0.9), post(), ActionRejected(agent_id="a", action="x", reason="rate"))
    first = c.close_epoch(0)
    assert (first.interactions, first.posts, first.rejected_actions) == (1, 1, 1)
    second = c.close_epoch(1)
    assert (second.interactions, second.posts, second.rejected_actions) == (0, 0, 0)
    assert second.toxicity_rate is None


def test_feed_counters_split_posts_from_replies_and_count_only_votes_that_changed() -> None:
    c = collector(
        post(),
        post(),
        post(parent="p0"),
        VoteCast(voter="a", post_id="p1", direction=1),
        VoteCast(voter="b", post_id="p1", direction=1, changed=False),
        VoteCast(voter="c", post_id="p1", direction=-1),
        VoteCast(voter="d", post_id="p1", direction=-1),
    )
    m = c.close_epoch(0)
    assert (m.posts, m.replies, m.total_posts) == (2, 1, 3)
    assert (m.upvotes, m.downvotes) == (1, 2)


def test_kernel_counters_count_rejections_failures_and_sum_governance_costs() -> None:
    c = collector(
        ActionRejected(agent_id="a", action="post", reason="rate limit"),
        ActionRejected(agent_id="b", action="vote", reason="frozen"),
        PolicyFailed(agent_id="a", phase="act", cause="timeout"),
        Cost(lever="tax", agent_id="a", amount=0.25, account="governance:tax"),
        Cost(lever="audit", agent_id="b", amount=1.5),
    )
    m = c.close_epoch(0)
    assert (m.rejected_actions, m.policy_failures) == (2, 1)
    assert m.governance_costs == pytest.approx(1.75)


@FAST
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=6))
def test_total_posts_is_cumulative_while_posts_and_replies_are_per_epoch(
    epochs: list[tuple[int, int]],
) -> None:
    c = collector()
    so_far = 0
    for epoch, (posts, replies) in enumerate(epochs):
        c.feed([post() for _ in range(posts)] + [post(parent="p0") for _ in range(replies)])
        so_far += posts + replies
        m = c.close_epoch(epoch)
        assert (m.posts, m.replies, m.total_posts) == (posts, replies, so_far)


probabilities = st.floats(0.0, 1.0)
events = st.lists(
    st.builds(
        completed,
        initiator=st.sampled_from(["a", "b", "c"]),
        counterparty=st.sampled_from(["a", "b", "c"]),
        p=probabilities,
        accepted=st.booleans(),
        truth=st.sampled_from([None, -1, 1]),
    ),
    max_size=20,
)


@FAST
@given(events)
def test_the_collector_measures_an_epoch_as_summarize_measures_its_interactions(
    evs: list[InteractionCompleted],
) -> None:
    m = collector(*evs).close_epoch(4)
    expected = summarize([e.interaction for e in evs])
    assert {k: m[k] for k in expected if k not in COUNTERS} == {
        k: v for k, v in expected.items() if k not in COUNTERS
    }


@FAST
@given(events, st.integers(0, 20))
def test_feeding_in_one_batch_or_several_gives_the_same_metrics_and_rows(
    evs: list[InteractionCompleted], cut: int
) -> None:
    setup = [created("a"), created("b", "deceptive")]
    whole = collector(*setup, *evs)
    pieces = collector(*setup)
    pieces.feed(evs[:cut])
    pieces.feed(evs[cut:])
    assert whole.close_epoch(0) == pieces.close_epoch(0)
    assert whole.agent_rows() == pieces.agent_rows()


# ------------------------------------------------------------------ agent books


def test_agent_rows_tally_interactions_and_payoffs_of_accepted_ones() -> None:
    c = collector(
        created("a"),
        created("b", "opportunistic"),
        created("c", "deceptive"),
        completed("a", "b", 0.9, payoffs=(1.0, 0.5)),
        completed("a", "c", 0.2, accepted=False, payoffs=(-3.0, -3.0)),
        completed("b", "a", 0.7, payoffs=(0.25, 2.0)),
    )
    r = rows(c)
    assert [row["agent_id"] for row in c.agent_rows()] == ["a", "b", "c"]
    assert all(tuple(row) == AGENT_COLUMNS for row in c.agent_rows())
    a, b, cc = r["a"], r["b"], r["c"]
    assert (a["interactions_initiated"], a["interactions_received"], a["accepted_initiated"]) == (2, 1, 1)
    assert (b["interactions_initiated"], b["interactions_received"], b["accepted_initiated"]) == (1, 1, 1)
    assert (cc["interactions_initiated"], cc["interactions_received"], cc["accepted_initiated"]) == (0, 1, 0)
    assert a["total_payoff"] == pytest.approx(1.0 + 2.0)
    assert b["total_payoff"] == pytest.approx(0.5 + 0.25)
    assert cc["total_payoff"] == 0.0
    assert (b["agent_type"], b["policy"]) == ("opportunistic", "Opportunistic")


def test_agent_rows_accumulate_across_epochs() -> None:
    c = collector(created("a"), created("b"), completed("a", "b", 0.9, payoffs=(1.0, 1.0)))
    c.close_epoch(0)
    c.feed([completed("a", "b", 0.8, payoffs=(2.0, 1.0))])
    c.close_epoch(1)
    a = rows(c)["a"]
    assert (a["interactions_initiated"], a["accepted_initiated"], a["total_payoff"]) == (2, 2, 3.0)


def test_interactions_with_unregistered_agents_are_measured_but_get_no_row() -> None:
    c = collector(created("a"), completed("a", "ghost", 0.9), completed("ghost", "a", 0.4))
    assert list(rows(c)) == ["a"]
    assert rows(c)["a"]["interactions_received"] == 1
    assert c.close_epoch(0).interactions == 2


def test_ledger_updates_set_balances_and_the_ginis_follow() -> None:
    c = collector(
        created("a", resources=10.0),
        created("b", resources=10.0),
        ledger("a", 30.0, reputation=2.0),
        ledger("market:escrow", 500.0),
    )
    assert list(rows(c)) == ["a", "b"]
    assert (rows(c)["a"]["resources"], rows(c)["a"]["reputation"]) == (30.0, 2.0)
    m = c.close_epoch(0)
    assert m.resource_gini == pytest.approx(gini([30.0, 10.0]))
    assert m.reputation_gini == pytest.approx(gini([2.0, 0.0]))
    assert m.resource_gini > 0


def test_equal_balances_have_zero_resource_gini() -> None:
    assert collector(created("a"), created("b"), created("c")).close_epoch(0).resource_gini == 0.0


def test_frozen_agents_stay_frozen_across_epochs_until_unfrozen() -> None:
    c = collector(
        created("a"),
        created("b"),
        AgentFrozen(agent_id="a", until_epoch=3, reason="circuit breaker"),
        AgentFrozen(agent_id="b", until_epoch=None, reason="audit"),
    )
    assert c.close_epoch(0).frozen_agents == 2
    assert (rows(c)["a"]["frozen"], rows(c)["b"]["frozen"]) == (True, True)
    assert c.close_epoch(1).frozen_agents == 2
    c.feed([AgentUnfrozen(agent_id="a", reason="served")])
    assert c.close_epoch(2).frozen_agents == 1
    assert (rows(c)["a"]["frozen"], rows(c)["b"]["frozen"]) == (False, True)


def test_mean_p_by_type_uses_the_types_agents_were_created_with() -> None:
    c = collector(
        created("a", "honest"),
        created("d", "deceptive"),
        completed("a", "d", 0.9),
        completed("a", "d", 0.7),
        completed("d", "a", 0.4),
        completed("d", "a", 0.1, accepted=False),
        completed("x", "a", 0.5),
    )
    assert c.close_epoch(0).mean_p_by_type == {
        "deceptive": pytest.approx(0.4),
        "honest": pytest.approx(0.8),
        "unknown": pytest.approx(0.5),
    }


# ------------------------------------------------------------------ metrics registered by others


@pytest.fixture
def initiated_by_a() -> Iterator[str]:
    name = "test_initiated_by_a"

    @epoch_metric(name, "interactions agent a initiated (test only)")
    def _compute(d: EpochData) -> int:
        return sum(1 for i in d.interactions if i.initiator == "a") + 1000 * d.epoch

    yield name
    EPOCH_METRICS.remove(name)


@pytest.fixture
def kill_switches() -> Iterator[str]:
    name = "test_kill_switches"
    count(
        name, KillSwitchTriggered, "kill switches for a reason (test only)", where=lambda e: e.reason == "x"
    )
    yield name
    COUNTERS.remove(name)
    EPOCH_METRICS.remove(name)


def test_a_registered_epoch_metric_appears_in_every_closed_epoch(initiated_by_a: str) -> None:
    c = collector(
        completed("a", "b", 0.9), completed("a", "b", 0.2, accepted=False), completed("b", "a", 0.5)
    )
    first = c.close_epoch(0)
    assert list(first)[-1] == initiated_by_a
    assert first[initiated_by_a] == 2
    assert c.close_epoch(1)[initiated_by_a] == 1000
    assert summarize([completed("a", "b", 0.5).interaction])[initiated_by_a] == 1


def test_a_registered_epoch_metric_is_gone_once_removed() -> None:
    assert "test_initiated_by_a" not in EPOCH_METRICS
    assert "test_initiated_by_a" not in collector().close_epoch(0)


def test_a_registered_counter_counts_matching_events_per_epoch(kill_switches: str) -> None:
    c = collector(
        KillSwitchTriggered(reason="x"), KillSwitchTriggered(reason="y"), KillSwitchTriggered(reason="x")
    )
    assert c.close_epoch(0)[kill_switches] == 2
    assert c.close_epoch(1)[kill_switches] == 0


@pytest.fixture
def last_reason_length() -> Iterator[str]:
    name = "test_last_reason_length"
    latest(
        name,
        KillSwitchTriggered,
        "length of the last kill switch reason (test only)",
        lambda e: len(e.reason),
    )
    yield name
    COUNTERS.remove(name)
    EPOCH_METRICS.remove(name)


def test_a_latest_metric_keeps_the_last_value_of_its_epoch_and_is_undefined_without_one(
    last_reason_length: str,
) -> None:
    c = collector(KillSwitchTriggered(reason="abc"), KillSwitchTriggered(reason="abcdefg"))
    assert c.close_epoch(0)[last_reason_length] == 7
    assert c.close_epoch(1)[last_reason_length] is None
    c.feed([KillSwitchTriggered(reason="ab")])
    assert c.close_epoch(2)[last_reason_length] == 2


def test_a_name_can_be_registered_only_once(initiated_by_a: str) -> None:
    with pytest.raises(ValueError, match="already registered"):
        epoch_metric(initiated_by_a, "again")(lambda d: 0)
    with pytest.raises(ValueError, match="already registered"):
        epoch_metric("toxicity_rate", "again")(lambda d: 0)


def test_epoch_columns_flattens_map_valued_metrics() -> None:
    row = epoch_columns(
        {"epoch": 2, "toxicity_rate": None, "mean_p_by_type": {"honest": 0.8, "deceptive": 0.3}}
    )
    assert row == {
        "epoch": 2,
        "toxicity_rate": None,
        "mean_p_by_type_deceptive": 0.3,
        "mean_p_by_type_honest": 0.8,
    }


# ------------------------------------------------------------------ run figures


def run(*epochs: dict[str, object], agents: list[dict[str, object]] | None = None) -> RunData:
    return RunData(epochs=[Metrics(e) for e in epochs], agents=agents or [])


def test_run_figures_skip_undefined_epochs() -> None:
    r = run(
        {"interactions": 4, "accepted": 3, "toxicity_rate": 0.2, "quality_gap": -0.1, "total_welfare": 5.0},
        {"interactions": 0, "accepted": 0, "toxicity_rate": None, "quality_gap": None, "total_welfare": 0.0},
        {"interactions": 2, "accepted": 1, "toxicity_rate": 0.6, "quality_gap": None, "total_welfare": 1.5},
        agents=[
            {"agent_type": "honest", "total_payoff": 4.0},
            {"agent_type": "honest", "total_payoff": 2.0},
            {"agent_type": "deceptive", "total_payoff": 100.0},
        ],
    )
    f = figures(r)
    assert list(f) == list(RUN_FIGURES)
    assert (f["epochs"], f["agents"], f["total_interactions"], f["accepted"]) == (3, 3, 6, 4)
    assert f["avg_toxicity"] == pytest.approx(0.4)
    assert f["pooled_toxicity"] == pytest.approx((0.2 * 3 + 0.6 * 1) / 4)
    assert f["avg_quality_gap"] == pytest.approx(-0.1)
    assert f["quality_gap_negative_epochs"] == 1
    assert f["total_welfare"] == pytest.approx(6.5)
    assert f["final_welfare"] == pytest.approx(1.5)
    assert f["honest_payoff"] == pytest.approx(3.0)


def test_run_figures_of_a_run_that_measured_nothing_are_undefined_or_zero() -> None:
    f = figures(run({"interactions": 0, "accepted": 0, "toxicity_rate": None, "quality_gap": None}))
    assert f["avg_toxicity"] is None
    assert f["pooled_toxicity"] is None
    assert f["avg_quality_gap"] is None
    assert f["honest_payoff"] is None
    assert f["final_welfare"] is None
    assert (f["total_interactions"], f["quality_gap_negative_epochs"]) == (0, 0)


def test_figures_of_the_collectors_epochs_describe_the_run() -> None:
    c = collector(created("a"), created("b", "deceptive"), completed("a", "b", 0.9), completed("b", "a", 0.3))
    epochs = [c.close_epoch(0)]
    c.feed([completed("a", "b", 0.5, accepted=False)])
    epochs.append(c.close_epoch(1))
    epochs.append(c.close_epoch(2))
    f = figures(RunData(epochs, c.agent_rows()))
    assert (f["epochs"], f["agents"], f["total_interactions"], f["accepted"]) == (3, 2, 3, 2)
    assert f["avg_toxicity"] == pytest.approx((0.1 + 0.7) / 2)
    assert f["avg_acceptance_rate"] == pytest.approx((1.0 + 0.0) / 2)
    assert f["honest_payoff"] == pytest.approx(rows(c)["a"]["total_payoff"])


values = st.one_of(st.none(), st.floats(-100.0, 100.0), st.integers(-100, 100))
weights = st.one_of(st.none(), st.integers(0, 50))
epoch_rows = st.lists(st.fixed_dictionaries({"x": values, "w": weights}), max_size=12)


@FAST
@given(epoch_rows)
def test_mean_sum_and_last_of_use_only_the_defined_epochs(epochs: list[dict[str, object]]) -> None:
    r = run(*epochs)
    xs = [e["x"] for e in epochs if e["x"] is not None]
    mean, total, last = mean_of("x")(r), sum_of("x")(r), last_of("x")(r)
    if xs:
        assert mean == pytest.approx(math.fsum(xs) / len(xs))  # type: ignore[arg-type]
        assert last == xs[-1]
    else:
        assert mean is None
        assert last is None
    assert total == pytest.approx(math.fsum(xs))  # type: ignore[arg-type]
    assert isinstance(total, int) is all(isinstance(x, int) for x in xs)


@FAST
@given(epoch_rows)
def test_pooled_weights_each_defined_epoch_by_its_weight(epochs: list[dict[str, object]]) -> None:
    pairs = [(e["x"], e["w"]) for e in epochs if e["x"] is not None and e["w"]]
    weight = sum(w for _, w in pairs)  # type: ignore[misc]
    result = pooled("x", "w")(run(*epochs))
    if weight:
        assert result == pytest.approx(sum(x * w for x, w in pairs) / weight)  # type: ignore[operator]
    else:
        assert result is None


@pytest.mark.parametrize(
    ("name", "target"),
    [
        ("max_avg_toxicity", ("max", "avg_toxicity")),
        ("min_total_welfare", ("min", "total_welfare")),
        ("max_pooled_toxicity", ("max", "pooled_toxicity")),
        ("min_honest_payoff", ("min", "honest_payoff")),
        ("avg_toxicity", None),
        ("max_no_such_figure", None),
        ("max_", None),
        ("most_avg_toxicity", None),
    ],
)
def test_criterion_target_names_a_bound_and_a_registered_figure(
    name: str, target: tuple[str, str] | None
) -> None:
    assert criterion_target(name) == target


def test_every_run_figure_is_a_criterion_both_ways() -> None:
    for name in RUN_FIGURES:
        assert criterion_target(f"min_{name}") == ("min", name)
        assert criterion_target(f"max_{name}") == ("max", name)
