"""The mission economy: true Shapley payouts, conserved money, the lifecycle, free riders paid less."""

from __future__ import annotations

import itertools
import math
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm import run
from swarm.core.interaction import SoftInteraction
from swarm.env.missions import (
    JoinMission,
    MissionClosed,
    MissionContribution,
    MissionJoined,
    MissionsConfig,
    MissionsMeasured,
    MissionState,
    free_riders,
    payout_weights,
    shapley_values,
)
from swarm.errors import ScenarioError
from swarm.events import InteractionCompleted
from swarm.kernel.component import At, Turn
from swarm.money import Mint, Transfer
from swarm.runtime.eventlog import read_log
from swarm.views import AgentPublic
from tests.conftest import make_scenario

# ------------------------------------------------------------------ Shapley laws

_VALUES = st.floats(min_value=-10.0, max_value=10.0, allow_nan=False, allow_infinity=False)


def _game(table: list[float]) -> Any:
    return lambda mask: 0.0 if mask == 0 else table[mask]


def _brute(n: int, v: Any) -> list[float]:
    """Shapley values as the mean marginal contribution over all n! orders (the definition)."""
    phi = [0.0] * n
    orders = list(itertools.permutations(range(n)))
    for order in orders:
        mask = 0
        for i in order:
            phi[i] += v(mask | 1 << i) - v(mask)
            mask |= 1 << i
    return [x / len(orders) for x in phi]


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 5).flatmap(
        lambda n: st.tuples(st.just(n), st.lists(_VALUES, min_size=1 << n, max_size=1 << n))
    )
)
def test_exact_shapley_is_the_definition_and_efficient(game: tuple[int, list[float]]) -> None:
    n, table = game
    v = _game(table)
    phi, stderr = shapley_values(n, v, rng=random.Random(0))
    assert stderr == 0.0
    assert math.isclose(math.fsum(phi), v((1 << n) - 1), abs_tol=1e-9)  # efficiency (v(∅) = 0)
    assert all(math.isclose(a, b, abs_tol=1e-9) for a, b in zip(phi, _brute(n, v), strict=True))


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 5).flatmap(
        lambda n: st.tuples(st.just(n), st.lists(_VALUES, min_size=1 << n, max_size=1 << n))
    )
)
def test_symmetric_players_get_the_same_and_a_null_player_gets_nothing(game: tuple[int, list[float]]) -> None:
    n, table = game

    def swap01(mask: int) -> int:
        a, b = mask & 1, mask >> 1 & 1
        return (mask & ~3) | (a << 1) | b

    def symmetric(mask: int) -> float:  # players 0 and 1 are interchangeable
        return 0.0 if mask == 0 else table[mask] + table[swap01(mask)]

    phi, _ = shapley_values(n, symmetric, rng=random.Random(0))
    assert math.isclose(phi[0], phi[1], abs_tol=1e-9)

    null = n - 1  # the last player adds nothing to any coalition

    def with_null(mask: int) -> float:
        rest = mask & ~(1 << null)
        return 0.0 if rest == 0 else table[rest]

    for exact_max in (10, 0):  # exact, and sampled
        phi, _ = shapley_values(n, with_null, exact_max=exact_max, samples=50, rng=random.Random(1))
        assert abs(phi[null]) < 1e-9
        assert math.isclose(math.fsum(phi), with_null((1 << n) - 1), abs_tol=1e-9)


def test_sampled_shapley_is_close_to_exact_within_its_declared_error() -> None:
    rng = random.Random(3)
    n = 7
    table = [rng.uniform(0, 10) for _ in range(1 << n)]
    v = _game(table)
    exact, _ = shapley_values(n, v, rng=rng)
    sampled, stderr = shapley_values(n, v, exact_max=0, samples=4000, rng=random.Random(4))
    assert 0 < stderr < 1
    assert all(abs(a - b) < 5 * stderr for a, b in zip(exact, sampled, strict=True))
    again, _ = shapley_values(n, v, exact_max=0, samples=4000, rng=random.Random(4))
    assert again == sampled  # seeded


@given(
    st.lists(st.floats(0.0, 20.0), min_size=1, max_size=8),
    st.sampled_from(["equal", "proportional", "shapley"]),
)
def test_payout_shares_sum_to_one_and_a_zero_contribution_gets_nothing_unless_equal(
    contributions: list[float], rule: Any
) -> None:
    weights, _ = payout_weights(rule, contributions, 6.0, rng=random.Random(0))
    assert math.isclose(math.fsum(weights), 1.0, abs_tol=1e-9)
    assert all(w >= -1e-12 for w in weights)
    if rule != "equal" and math.fsum(contributions) > 0:
        assert all(w < 1e-12 for w, c in zip(weights, contributions, strict=True) if c == 0)


# ------------------------------------------------------------------ the state machine

AGENTS = {a: AgentPublic(a, 0.0, 100.0) for a in ("c", "h1", "h2", "f")}


def _at(epoch: int, step: int = 1) -> At:
    return At(epoch, step, epoch * 10 + step)


def _done(initiator: str, counterparty: str, p: float, k: int, accepted: bool = True) -> InteractionCompleted:
    i = SoftInteraction(
        interaction_id=f"i{k}", initiator=initiator, counterparty=counterparty, p=p, accepted=accepted
    )
    return InteractionCompleted(
        epoch=0,
        step=1,
        interaction=i,
        payoff_initiator=0.0,
        payoff_counterparty=0.0,
        initiator_type="x",
        counterparty_type="x",
    )


def _mission(config: MissionsConfig, work: list[tuple[str, str, float]]) -> tuple[MissionClosed, list[Any]]:
    """One mission coordinated by c, joined by h1, h2 and f, with ``work`` done in epoch 0."""
    state = MissionState(config, random.Random(0))
    entries: list[Any] = []
    out = state.open_epoch(_at(0, 0), [AGENTS["c"]])
    entries += out.entries
    joins = state.apply(
        _at(0), [Turn(k, a, JoinMission(mission_id="m1")) for k, a in enumerate(("h1", "h2", "f"))], AGENTS
    )
    assert [type(e) for e in joins.events] == [MissionJoined] * 3
    entries += joins.entries
    entries += state.observe(_at(0), [_done(a, b, p, k) for k, (a, b, p) in enumerate(work)]).entries
    close = state.close_epoch(_at(config.duration_epochs - 1, 10))
    entries += close.entries
    closed = [e for e in close.events if isinstance(e, MissionClosed)]
    assert len(closed) == 1 and not state.missions and not state.member_of
    return closed[0], entries


def _net(entries: list[Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for e in entries:
        if isinstance(e, Transfer):
            out[e.payer] = out.get(e.payer, 0.0) - e.amount
            out[e.payee] = out.get(e.payee, 0.0) + e.amount
        elif isinstance(e, Mint):
            out[e.account] = out.get(e.account, 0.0) + e.amount
    return out


_WORK = st.lists(
    st.tuples(
        st.sampled_from(["c", "h1", "h2", "f"]), st.sampled_from(["c", "h1", "h2", "f"]), st.floats(0.0, 1.0)
    ),
    max_size=30,
).map(lambda xs: [(a, b, p) for a, b, p in xs if a != b])


@settings(max_examples=60, deadline=None)
@given(_WORK, st.sampled_from(["equal", "proportional", "shapley"]), st.floats(0.0, 1.0), st.integers(1, 10))
def test_money_is_conserved_and_the_pool_is_emptied(
    work: Any, rule: Any, penalty: float, target: int
) -> None:
    config = MissionsConfig(
        payout=rule, free_rider_penalty=penalty, objective_count=target, success_bonus=5.0
    )
    closed, entries = _mission(config, work)
    net = _net(entries)
    assert abs(net.get("mission:m1", 0.0)) < 1e-9  # every stake and bonus left the pool
    minted = math.fsum(e.amount for e in entries if isinstance(e, Mint))
    assert minted == (5.0 if closed.status == "succeeded" else 0.0)
    assert math.isclose(math.fsum(net.values()), minted, abs_tol=1e-9)
    assert all(paid >= -1e-9 for _, _, paid in closed.payouts)
    if closed.status == "failed":  # stakes refunded: nobody gains or loses
        assert all(abs(v) < 1e-9 for v in net.values())


def test_lifecycle_success_failure_and_expiry() -> None:
    config = MissionsConfig(objective_count=3, objective_p=0.6, duration_epochs=2)
    good = [("h1", "h2", 0.9), ("h2", "h1", 0.8), ("c", "h1", 0.7)]
    assert _mission(config, good)[0].status == "succeeded"
    assert _mission(config, [("h1", "h2", 0.9), ("h2", "h1", 0.8)])[0].status == "failed"  # too few
    assert _mission(config, [(a, b, 0.3) for a, b, _ in good])[0].status == "failed"  # mean p too low
    # interactions with outsiders, or not accepted, do not count
    state = MissionState(config, random.Random(0))
    state.open_epoch(_at(0, 0), [AGENTS["c"]])
    state.apply(_at(0), [Turn(0, "h1", JoinMission(mission_id="m1"))], AGENTS)
    out = state.observe(
        _at(0), [_done("h1", "z", 0.9, 1), _done("h1", "c", 0.9, 2, accepted=False), _done("h1", "c", 0.9, 3)]
    )
    assert [e.interaction_id for e in out.events if isinstance(e, MissionContribution)] == ["i3"]
    # joining twice, or a closed mission, is refused
    again = state.apply(
        _at(0),
        [Turn(0, "h1", JoinMission(mission_id="m1")), Turn(1, "h2", JoinMission(mission_id="m9"))],
        AGENTS,
    )
    assert [type(e).__name__ for e in again.events] == ["ActionRejected", "ActionRejected"]
    # a mission nobody joins expires at its deadline and refunds its coordinator
    lonely = MissionState(config, random.Random(0))
    opened = lonely.open_epoch(_at(0, 0), [AGENTS["c"]])
    assert not lonely.close_epoch(_at(0, 10)).entries  # not yet due
    out = lonely.close_epoch(_at(1, 10))
    assert [e.status for e in out.events if isinstance(e, MissionClosed)] == ["expired"]
    assert _net(opened.entries + out.entries) == {"c": 0.0, "mission:m1": 0.0}


def test_free_riders_are_flagged_and_paid_less_than_under_an_equal_split() -> None:
    work = [("h1", "h2", 0.8)] * 5 + [("h2", "c", 0.7)] * 4 + [("c", "h1", 0.9)] * 3 + [("f", "h1", 0.1)]
    paid = {}
    for rule in ("equal", "proportional", "shapley"):
        closed, _ = _mission(MissionsConfig(payout=rule, objective_count=10, objective_p=0.5), work)
        assert closed.status == "succeeded" and closed.free_riders == ("f",)
        paid[rule] = {a: x for a, _, x in closed.payouts}
    assert paid["proportional"]["f"] < paid["equal"]["f"] and paid["shapley"]["f"] < paid["equal"]["f"]
    # the penalty lever withholds part of a free rider's payout and gives it to the others
    closed, _ = _mission(MissionsConfig(payout="equal", objective_count=10, free_rider_penalty=0.5), work)
    assert math.isclose(dict((a, x) for a, _, x in closed.payouts)["f"], paid["equal"]["f"] / 2)


def test_free_rider_threshold_is_a_share_of_the_equal_share() -> None:
    assert free_riders([1.0, 1.0, 0.1, 0.0], 0.25) == [False, False, True, True]
    assert free_riders([1.0, 1.0, 0.1, 0.0], 0.0) == [False] * 4


# ------------------------------------------------------------------ in a run


def _events(tmp: Path, **missions: Any) -> list[Any]:
    scenario = make_scenario(
        honest=4, opportunistic=2, epochs=4, steps=6, seed=5, missions={"max_team": 4, **missions}
    )
    run(scenario, out_dir=tmp)
    return read_log(tmp / "events.jsonl")[1]


def test_in_a_run_agents_join_contribute_and_free_riders_are_paid_less(tmp_path: Path) -> None:
    rider_share: dict[str, list[float]] = {}
    for rule in ("equal", "shapley"):
        events = _events(tmp_path / rule, payout=rule)
        closed = [e for e in events if isinstance(e, MissionClosed)]
        assert any(e.status == "succeeded" for e in closed)
        assert sum(isinstance(e, MissionsMeasured) for e in events) == 4
        contributors = {e.agent_id for e in events if isinstance(e, MissionContribution)}
        assert any(a.startswith("honest") for a in contributors)
        rider_share[rule] = [
            x / e.pool
            for e in closed
            if e.status == "succeeded"
            for a, _, x in e.payouts
            if a in e.free_riders
        ]
        assert rider_share[rule]  # opportunistic members free-ride and are flagged
    mean = {r: math.fsum(xs) / len(xs) for r, xs in rider_share.items()}
    assert mean["shapley"] < mean["equal"]


def test_same_seed_same_log_and_no_section_no_missions(tmp_path: Path) -> None:
    a = [e for e in _events(tmp_path / "a") if isinstance(e, MissionClosed)]
    b = [e for e in _events(tmp_path / "b") if isinstance(e, MissionClosed)]
    assert a == b and a
    scenario = make_scenario(honest=3, epochs=1, steps=3)
    run(scenario, out_dir=tmp_path / "c")
    assert not any(
        "mission" in type(e).__name__.lower() for e in read_log(tmp_path / "c" / "events.jsonl")[1]
    )


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [("payout", "median", "shapley"), ("max_team", 1, ">= 2"), ("free_rider_penalty", 2.0, "<= 1")],
)
def test_bad_settings_name_the_key_and_the_range(key: str, value: Any, expected: str) -> None:
    with pytest.raises(ScenarioError) as info:
        make_scenario(missions={key: value})
    text = str(info.value)
    assert f"missions.{key}" in text and expected in text
