"""Sybil detection: a behavioural similarity, clusters, per-epoch penalties, the cluster cap, end to end."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm import load_scenario, run
from swarm.core.interaction import SoftInteraction
from swarm.core.payoff import SoftPayoffEngine
from swarm.errors import ScenarioError
from swarm.events import Event, InteractionCompleted
from swarm.governance.effects import Cost, Effect, Evidence, ReputationChange, ResourceChange
from swarm.governance.sybil import (
    Profiles,
    SybilDetection,
    SybilDetectionConfig,
    SybilReport,
    agent_risks,
    clusters,
    similarities,
)
from swarm.kernel.component import At, Setup
from swarm.runtime.eventlog import read_log
from swarm.views import AgentPublic
from tests.conftest import make_scenario

HONEST = [f"h{k}" for k in range(10)]


def ix(n: int, epoch: int, step: int, a: str, b: str, *, accepted: bool = True) -> SoftInteraction:
    return SoftInteraction(
        interaction_id=f"ix-{n}",
        initiator=a,
        counterparty=b,
        accepted=accepted,
        p=0.6,
        epoch=epoch,
        step=step,
    )


def world(
    rng: random.Random, *, sybils: tuple[str, ...] = ("s0", "s1", "s2"), epochs: int = 6
) -> list[SoftInteraction]:
    """Ten independent agents choosing partners and moments at random; the sybils follow one plan."""
    out: list[SoftInteraction] = []
    everyone = HONEST + list(sybils)
    for epoch in range(epochs):
        targets = rng.sample(HONEST, 2)
        for step in range(10):
            for a in HONEST:
                if rng.random() < 0.4:
                    out.append(ix(len(out), epoch, step, a, rng.choice([b for b in everyone if b != a])))
            if sybils and rng.random() < 0.7:
                target = rng.choice(targets)
                for s in sybils:
                    out.append(ix(len(out), epoch, step, s, target))
    return out


def profiles_of(interactions: list[SoftInteraction]) -> Profiles:
    p = Profiles()
    p.record(interactions)
    return p


def at(epoch: int, step: int = 9) -> At:
    return At(epoch, step, epoch * 10 + step)


def pub(agent: str) -> AgentPublic:
    return AgentPublic(agent_id=agent, reputation=0.0, resources=100.0)


def lever(**kw: Any) -> SybilDetection:
    settings_: dict[str, Any] = {"sybil_detection_enabled": True}
    settings_.update({f"sybil_{k}": v for k, v in kw.items()})
    sc = make_scenario()
    return SybilDetection(SybilDetectionConfig(**settings_), Setup(sc, None, SoftPayoffEngine(sc.payoff), {}))


# ------------------------------------------------------------------ similarity


def test_identities_of_one_controller_are_alike_and_independent_agents_are_not() -> None:
    for seed in range(5):
        pairs = similarities(profiles_of(world(random.Random(seed))))
        risk = agent_risks(pairs)
        assert min(risk[s] for s in ("s0", "s1", "s2")) > 0.9
        assert max(risk.get(h, 0.0) for h in HONEST) < 0.5
        assert clusters(pairs, 0.8) == [frozenset({"s0", "s1", "s2"})]


def test_a_partner_everyone_favours_is_no_likeness() -> None:
    """Ten agents who all deal mostly with one popular agent, each at its own moments."""
    rng = random.Random(1)
    done = []
    for epoch in range(6):
        for step in range(10):
            for a in HONEST:
                if rng.random() < 0.4:
                    b = "star" if rng.random() < 0.7 else rng.choice([h for h in HONEST if h != a])
                    done.append(ix(len(done), epoch, step, a, b))
    pairs = similarities(profiles_of(done))
    assert max(pairs.values(), default=0.0) < 0.5


def test_a_few_proposals_are_not_evidence() -> None:
    """Two agents proposing once each, to the same agent in the same step, are alike by a tenth."""
    pairs = similarities(profiles_of([ix(0, 0, 0, "a", "c"), ix(1, 0, 0, "b", "c"), ix(2, 0, 1, "d", "e")]))
    assert pairs[("a", "b")] <= 0.1


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.randoms(use_true_random=False))
def test_similarity_is_symmetric_bounded_and_ignores_the_order_of_the_history(
    seed: int, rng: random.Random
) -> None:
    history = world(random.Random(seed), epochs=2)
    shuffled = list(history)
    rng.shuffle(shuffled)
    one, two = similarities(profiles_of(history)), similarities(profiles_of(shuffled))
    assert set(one) == set(two)
    for (a, b), s in one.items():
        assert a < b and 0.0 < s <= 1.0
        assert s == pytest.approx(two[(a, b)])


@settings(max_examples=40, deadline=None)
@given(
    st.dictionaries(st.tuples(st.sampled_from("abcdef"), st.sampled_from("abcdef")), st.floats(0, 1)),
    st.floats(0, 1),
)
def test_clusters_are_the_connected_components_above_the_threshold(
    pairs: dict[tuple[str, str], float], threshold: float
) -> None:
    pairs = {tuple(sorted(k)): v for k, v in pairs.items() if k[0] != k[1]}  # type: ignore[misc]
    found = clusters(pairs, threshold)
    members = [a for g in found for a in g]
    assert len(members) == len(set(members))  # disjoint
    for (a, b), s in pairs.items():
        if s >= threshold:
            assert any({a, b} <= g for g in found)
    for g in found:
        assert len(g) >= 2
        assert all(any(s >= threshold and x in pair for pair, s in pairs.items()) for x in g)


# ------------------------------------------------------------------------ lever


def test_each_epoch_in_a_cluster_costs_reputation_and_resources_per_the_multiplier() -> None:
    detector = lever(penalty_multiplier=2.0)
    detector.on_interactions(at(0), world(random.Random(2)))
    agents = [pub(a) for a in [*HONEST, "s0", "s1", "s2"]]
    for epoch in (0, 1):
        effects = detector.epoch_end(at(epoch), agents)
        report = effects[0]
        assert type(report) is SybilReport and report.agent_id == "*"
        assert (report.clusters_found, report.agents_flagged, report.agents_blocked) == (1, 3, 0)
        assert report.penalty == pytest.approx(6.0)
        charged = {
            (e.agent_id, type(e)): e.amount for e in effects if type(e) in (ReputationChange, ResourceChange)
        }
        assert charged == {
            **{(s, ReputationChange): pytest.approx(-0.2) for s in ("s0", "s1", "s2")},
            **{(s, ResourceChange): pytest.approx(-2.0) for s in ("s0", "s1", "s2")},
        }
        assert all(e.account is None for e in effects if type(e) is ResourceChange)  # destroyed
        flagged = [e for e in effects if type(e) is Evidence and e.finding == "flagged"]
        assert [e.agent_id for e in flagged] == ["s0", "s1", "s2"]
        assert all(e.confidence == detector.risk[e.agent_id] for e in flagged)
    assert detector.blocked(at(2), agents) == {}


def test_a_cluster_larger_than_the_cap_may_not_act_and_one_at_the_cap_may() -> None:
    four = ("s0", "s1", "s2", "s3")
    agents = [pub(a) for a in [*HONEST, *four]]
    at_cap = lever(max_cluster_size=4)
    at_cap.on_interactions(at(0), world(random.Random(3), sybils=four))
    at_cap.epoch_end(at(0), agents)
    assert at_cap.blocked(at(1, 0), agents) == {}
    over = lever(max_cluster_size=3)
    over.on_interactions(at(0), world(random.Random(3), sybils=four))
    effects = over.epoch_end(at(0), agents)
    assert set(over.blocked(at(1, 0), agents)) == set(four)
    assert sorted(e.agent_id for e in effects if type(e) is Evidence and e.finding == "blocked") == list(four)
    assert effects[0].agents_blocked == 4  # type: ignore[attr-defined]


def test_without_a_multiplier_findings_are_only_evidence() -> None:
    detector = lever(penalty_multiplier=0.0)
    detector.on_interactions(at(0), world(random.Random(2)))
    effects = detector.epoch_end(at(0), [pub(a) for a in HONEST])
    assert all(isinstance(e, Evidence) and e.entries() == [] for e in effects)
    assert effects[0].penalty == 0.0  # type: ignore[attr-defined]


def test_realtime_costs_only_between_flagged_agents_and_only_accepted() -> None:
    detector = lever(realtime_penalty=True, realtime_rate=0.3)
    detector.on_interactions(at(0), world(random.Random(4)))
    detector.epoch_end(at(0), [pub(a) for a in HONEST])
    effects = detector.on_interactions(
        at(1, 0),
        [
            ix(900, 1, 0, "s0", "s1"),
            ix(901, 1, 0, "s0", "h1"),
            ix(902, 1, 0, "s1", "s2", accepted=False),
        ],
    )
    assert all(type(e) is Cost and e.interaction_id == "ix-900" for e in effects)
    assert {e.agent_id: e.amount for e in effects} == {"s0": pytest.approx(0.3), "s1": pytest.approx(0.3)}


def test_honest_agents_alone_are_never_flagged() -> None:
    detector = lever()
    detector.on_interactions(at(0), world(random.Random(5), sybils=()))
    effects = detector.epoch_end(at(0), [pub(a) for a in HONEST])
    assert [type(e) for e in effects] == [SybilReport]
    assert effects[0].agents_flagged == 0  # type: ignore[attr-defined]


# ------------------------------------------------------------------- end to end


def sybil_run(tmp_path: Path, **governance: Any) -> tuple[list[Event], dict[str, Any]]:
    sc = load_scenario(
        {
            "scenario_id": "sybils",
            "agents": [
                {"type": "honest", "count": 8},
                {"type": "opportunistic", "count": 2},
                {"type": "sybil", "count": 4, "config": {"controller": "x"}},
            ],
            "simulation": {"n_epochs": 5, "steps_per_epoch": 8, "seed": 11},
            "governance": {"sybil_detection_enabled": True, **governance},
        }
    )
    result = run(sc, out_dir=tmp_path)
    return read_log(tmp_path / "events.jsonl")[1], result.summary


def test_a_run_flags_the_sybils_blocks_a_ring_over_the_cap_and_is_reproducible(tmp_path: Path) -> None:
    events, summary = sybil_run(tmp_path / "one")
    effects = [e for e in events if isinstance(e, Effect) and e.lever == "sybil"]
    flagged = {e.agent_id for e in effects if type(e) is Evidence and e.finding == "flagged"}
    assert flagged == {"sybil_1", "sybil_2", "sybil_3", "sybil_4"}
    first = min(e.epoch for e in effects if type(e) is Evidence and e.finding == "blocked")
    acted_after = [
        e
        for e in events
        if isinstance(e, InteractionCompleted)
        and e.interaction.initiator.startswith("sybil")
        and e.interaction.epoch > first
    ]
    assert not acted_after  # a ring of four over a cap of three may not act
    reports = [e for e in effects if type(e) is SybilReport]
    assert [r.epoch for r in reports] == list(range(5))
    assert summary["sybil_agents_flagged"] == reports[-1].agents_flagged == 4
    burned = sum(-e.amount for e in effects if type(e) is ResourceChange)
    assert summary["sybil_penalty_total"] == pytest.approx(burned) and burned > 0
    again, _ = sybil_run(tmp_path / "again")
    assert [e for e in again if isinstance(e, Effect) and e.lever == "sybil"] == effects


def test_a_larger_cap_lets_the_ring_act_while_it_pays(tmp_path: Path) -> None:
    events, _ = sybil_run(tmp_path, sybil_max_cluster_size=4)
    assert not [e for e in events if type(e) is Evidence and e.finding == "blocked"]
    last = max(
        e.interaction.epoch
        for e in events
        if isinstance(e, InteractionCompleted) and e.interaction.initiator.startswith("sybil")
    )
    assert last == 4


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("sybil_similarity_threshold", 1.5, "<= 1"),
        ("sybil_similarity_threshold", -0.1, ">= 0"),
        ("sybil_penalty_multiplier", -1, ">= 0"),
        ("sybil_realtime_rate", 2.0, "<= 1"),
        ("sybil_max_cluster_size", 0, ">= 1"),
        ("sybil_max_cluster_size", 2.5, "integer"),
    ],
)
def test_bad_sybil_keys_are_refused_with_their_range(key: str, value: Any, expected: str) -> None:
    with pytest.raises(ScenarioError) as info:
        make_scenario(governance={"sybil_detection_enabled": True, key: value})
    assert f"governance.{key}" in str(info.value) and expected in str(info.value)


def test_a_sybil_key_without_the_switch_names_the_switch() -> None:
    with pytest.raises(ScenarioError, match="sybil_detection_enabled: true"):
        make_scenario(governance={"sybil_similarity_threshold": 0.5})


def test_a_run_with_sybils_and_both_detectors_resumes_from_a_checkpoint_to_the_same_log(
    tmp_path: Path,
) -> None:
    import shutil

    from tests.swarm.test_checkpoints import events, kill_at, resume
    from tests.swarm.test_checkpoints import run as run_checkpointed

    sc = load_scenario(
        {
            "scenario_id": "sybils",
            "agents": [
                {"type": "honest", "count": 5},
                {"type": "colluder", "count": 3},
                {"type": "sybil", "count": 3, "config": {"jitter": 0.2}},
            ],
            "simulation": {"n_epochs": 5, "steps_per_epoch": 6, "seed": 4},
            "governance": {
                "sybil_detection_enabled": True,
                "sybil_realtime_penalty": True,
                "collusion_detection_enabled": True,
            },
        }
    )
    run_checkpointed(sc, tmp_path / "plain")
    run_checkpointed(sc, tmp_path / "with", checkpoint_every=1)
    size = (tmp_path / "with" / "events.jsonl").stat().st_size
    killed = tmp_path / "killed"
    shutil.copytree(tmp_path / "with", killed)
    kill_at(killed, int(size * 0.6))
    resume(killed)
    assert events(killed / "events.jsonl") == events(tmp_path / "plain" / "events.jsonl")
