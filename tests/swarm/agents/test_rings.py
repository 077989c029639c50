"""Planted rings: colluders boost each other and exploit outsiders; sybils act as one controller."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from swarm import load_scenario, run
from swarm.agents.scripted.rings import planted_groups
from swarm.core.interaction import SoftInteraction
from swarm.env.broker import InteractionProposed
from swarm.env.feed import PostCreated, VoteCast
from swarm.errors import ScenarioError
from swarm.events import Event, InteractionCompleted
from swarm.runtime.eventlog import read_log


def scenario(*planted: dict[str, Any], seed: int = 3, epochs: int = 4, **sections: Any) -> Any:
    return load_scenario(
        {
            "scenario_id": "rings",
            "agents": [{"type": "honest", "count": 6}, {"type": "opportunistic", "count": 2}, *planted],
            "simulation": {"n_epochs": epochs, "steps_per_epoch": 8, "seed": seed},
            **sections,
        }
    )


def events_of(sc: Any, tmp_path: Path) -> list[Event]:
    run(sc, out_dir=tmp_path)
    return read_log(tmp_path / "events.jsonl")[1]


def interactions(events: list[Event]) -> list[SoftInteraction]:
    return [e.interaction for e in events if isinstance(e, InteractionCompleted)]


def test_ground_truth_names_each_planted_agent_and_its_ring() -> None:
    sc = scenario(
        {"type": "colluder", "count": 2, "config": {"ring": "a"}},
        {"type": "colluder", "name": "other", "count": 2, "config": {"ring": "b"}},
        {"type": "sybil", "count": 3, "config": {"controller": "x"}},
    )
    assert planted_groups(sc) == {
        "colluder_1": "ring:a",
        "colluder_2": "ring:a",
        "other_1": "ring:b",
        "other_2": "ring:b",
        "sybil_1": "sybil:x",
        "sybil_2": "sybil:x",
        "sybil_3": "sybil:x",
    }


def test_colluders_trade_inside_their_ring_accept_everything_there_and_do_poor_work(tmp_path: Path) -> None:
    sc = scenario(
        {"type": "colluder", "count": 3, "config": {"ring": "a"}},
        {"type": "colluder", "name": "lone", "count": 2, "config": {"ring": "b"}},
    )
    done = interactions(events_of(sc, tmp_path))
    ring_a = {"colluder_1", "colluder_2", "colluder_3"}
    inside = [i for i in done if {i.initiator, i.counterparty} <= ring_a]
    across = [i for i in done if i.initiator in ring_a and i.counterparty.startswith("lone")]
    from_ring = [i for i in done if i.initiator in ring_a]
    assert len(inside) > len(from_ring) / 3  # 3 ring members among 12 others: preference, not chance
    assert all(i.accepted for i in inside)
    assert sum(i.p for i in inside) / len(inside) < 0.45
    assert len(across) < len(inside) / 4  # another ring is just outsiders to it
    honest_work = [i.p for i in done if i.initiator.startswith("honest")]
    assert sum(honest_work) / len(honest_work) > 0.6


def test_colluders_vote_up_each_other_and_down_outsiders(tmp_path: Path) -> None:
    sc = scenario({"type": "colluder", "count": 3, "config": {"ring": "a", "interact_probability": 0.3}})
    events = events_of(sc, tmp_path)
    authors = {e.post_id: e.author for e in events if isinstance(e, PostCreated)}
    votes = [e for e in events if isinstance(e, VoteCast) and e.voter.startswith("colluder")]
    assert votes
    for v in votes:
        inside = authors.get(v.post_id, "").startswith("colluder")
        assert v.direction == (1 if inside else -1)


def test_sybil_identities_act_in_the_same_steps_on_the_same_targets(tmp_path: Path) -> None:
    sc = scenario({"type": "sybil", "count": 3, "config": {"controller": "x", "share_probability": 0.0}})
    events = events_of(sc, tmp_path)
    sybils = {"sybil_1", "sybil_2", "sybil_3"}
    by_moment: dict[tuple[int, int], dict[str, str]] = defaultdict(dict)
    for e in events:
        if isinstance(e, InteractionProposed) and e.initiator in sybils:
            by_moment[(e.epoch, e.step)][e.initiator] = e.counterparty
    assert len(by_moment) >= 8
    together = [m for m in by_moment.values() if len(m) == 3]
    assert len(together) >= 0.8 * len(by_moment)
    assert all(len(set(m.values())) == 1 for m in together)  # one target per step for all of them
    per_epoch = Counter(epoch for epoch, _ in by_moment)
    targets = {(epoch, t) for (epoch, _), m in by_moment.items() for t in m.values()}
    assert all(sum(1 for e, _ in targets if e == epoch) <= 2 for epoch in per_epoch)  # targets_per_epoch


def test_sybils_share_their_budget_with_the_poorest_identity(tmp_path: Path) -> None:
    sc = scenario(
        {"type": "sybil", "count": 3, "config": {"controller": "x", "share_probability": 0.5}},
        environment={"initial_resources": 100.0},
    )
    done = interactions(events_of(sc, tmp_path))
    sybils = {"sybil_1", "sybil_2", "sybil_3"}
    shared = [i for i in done if i.initiator in sybils and i.counterparty in sybils]
    assert shared and all(i.accepted and i.tau > 0 for i in shared)


def test_two_controllers_are_two_actors(tmp_path: Path) -> None:
    sc = scenario(
        {"type": "sybil", "count": 2, "config": {"controller": "x", "share_probability": 0.0}},
        {
            "type": "sybil",
            "name": "other",
            "count": 2,
            "config": {"controller": "y", "share_probability": 0.0},
        },
    )
    events = events_of(sc, tmp_path)
    steps: dict[str, set[tuple[int, int]]] = defaultdict(set)
    for e in events:
        if isinstance(e, InteractionProposed) and e.initiator.startswith(("sybil", "other")):
            steps[e.initiator].add((e.epoch, e.step))
    assert steps["sybil_1"] == steps["sybil_2"] != steps["other_1"] == steps["other_2"]


def test_rings_are_deterministic(tmp_path: Path) -> None:
    sc = scenario({"type": "colluder", "count": 3}, {"type": "sybil", "count": 3}, epochs=2)
    assert interactions(events_of(sc, tmp_path / "a")) == interactions(events_of(sc, tmp_path / "b"))


@pytest.mark.parametrize(
    ("item", "where", "expected"),
    [
        ({"type": "colluder", "config": {"ring": "no spaces"}}, "agents.0.config.ring", "match pattern"),
        ({"type": "colluder", "config": {"inside_probability": 1.5}}, "inside_probability", "<= 1"),
        ({"type": "sybil", "config": {"targets_per_epoch": 0}}, "targets_per_epoch", ">= 1"),
        ({"type": "sybil", "config": {"exploit_transfer": -1}}, "exploit_transfer", ">= 0"),
        ({"type": "sybil", "config": {"jitter": 2}}, "jitter", "<= 1"),
        ({"type": "sybil", "config": {"controllers": "x"}}, "controllers", "unknown key"),
    ],
)
def test_bad_ring_settings_are_refused_naming_the_key(
    item: dict[str, Any], where: str, expected: str
) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario({"agents": [item]})
    assert where in str(info.value) and expected in str(info.value)
