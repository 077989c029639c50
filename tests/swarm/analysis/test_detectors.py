"""The detector harness: AUROC, detection time and false positives against planted ground truth."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm import load_scenario, run
from swarm.agents.scripted.rings import planted_groups
from swarm.analysis.detectors import auroc, planted_population, run_harness, score_run, summarise, table
from swarm.governance.effects import Effect, Evidence
from swarm.runtime.eventlog import read_log
from tests.conftest import SCENARIOS


def test_auroc_counts_ranked_pairs_and_halves_ties() -> None:
    scores = {"p1": 0.9, "p2": 0.4, "n1": 0.4, "n2": 0.1}
    assert auroc(scores, ["p1", "p2"], ["n1", "n2"]) == pytest.approx((1 + 1 + 0.5 + 1) / 4)
    assert auroc(scores, ["n2"], ["p1"]) == 0.0
    assert auroc(scores, ["missing"], ["also_missing"]) == 0.5  # unscored agents count as 0
    assert auroc(scores, [], ["n1"]) is None


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=8), st.lists(st.floats(0, 1), min_size=1, max_size=8))
def test_auroc_of_swapped_classes_is_its_complement(pos: list[float], neg: list[float]) -> None:
    scores = {f"p{k}": v for k, v in enumerate(pos)} | {f"n{k}": v for k, v in enumerate(neg)}
    p, n = [f"p{k}" for k in range(len(pos))], [f"n{k}" for k in range(len(neg))]
    one, other = auroc(scores, p, n), auroc(scores, n, p)
    assert one is not None and other is not None
    assert 0.0 <= one <= 1.0 and one + other == pytest.approx(1.0)


def test_the_planted_population_is_the_baseline_mix_plus_rings_with_both_detectors_on() -> None:
    sc = planted_population(seed=1, scale=2, rings=2, ring_size=3, sybil_rings=1, sybil_size=4)
    kinds = [spec.type for _, spec in sc.agent_ids()]
    assert kinds.count("honest") == 6 and kinds.count("opportunistic") == 2 and kinds.count("deceptive") == 2
    groups = planted_groups(sc)
    assert sorted(set(groups.values())) == ["ring:r1", "ring:r2", "sybil:s1"]
    assert sum(g == "sybil:s1" for g in groups.values()) == 4
    g = sc.governance
    assert g.collusion_detection_enabled and g.sybil_detection_enabled and g.collusion_score_threshold == 0.5


def test_on_planted_rings_both_detectors_separate_and_spare_the_honest() -> None:
    """The issue's bar, over a few seeds: AUROC ≥ 0.9 and honest false-positive rate ≤ 5 %."""
    scores = run_harness(range(3), epochs=6)
    rows = {r["detector"]: r for r in summarise(scores)}
    for detector in ("collusion", "sybil"):
        mine = [s for s in scores if s.detector == detector]
        assert len(mine) == 3
        assert all(s.auroc is not None and s.auroc >= 0.9 for s in mine)
        assert sum(s.fpr_honest for s in mine) / 3 <= 0.05
        assert all(s.detected_epoch is not None and s.recall > 0 for s in mine)
        assert rows[detector]["auroc"][0] >= 0.9
    text = table(summarise(scores))
    assert text.count("\n") == 3 and "| collusion |" in text and "| sybil |" in text


def test_scores_follow_the_events_false_positives_count_and_cost(tmp_path: Path) -> None:
    """A detector that flags every agent: recall 1, false-positive rate 1, its penalties counted as cost."""
    sc = planted_population(
        seed=2,
        scale=1,
        epochs=3,
        governance={"collusion_score_threshold": 0.0, "sybil_similarity_threshold": 0.0},
    )
    run(sc, out_dir=tmp_path)
    events = read_log(tmp_path / "events.jsonl")[1]
    by = {s.detector: s for s in score_run(sc, events)}
    flagged = {
        e.agent_id for e in events if type(e) is Evidence and e.lever == "sybil" and e.finding == "flagged"
    }
    honest = [a for a, spec in sc.agent_ids() if spec.type == "honest"]
    assert by["sybil"].fpr_honest == pytest.approx(sum(a in flagged for a in honest) / len(honest))
    assert by["sybil"].fpr_honest > 0.5 and by["sybil"].fp_cost_per_epoch > 0
    penalties = [
        e
        for e in events
        if isinstance(e, Effect)
        and e.lever == "sybil"
        and e.agent_id not in planted_groups(sc)
        and e.agent_id != "*"
    ]
    assert penalties


def test_the_shipped_collusion_scenario_plants_a_ring_and_flags_only_its_members(tmp_path: Path) -> None:
    sc = load_scenario(SCENARIOS / "collusion_detection.yaml", ["simulation.n_epochs=8"])
    assert set(planted_groups(sc).values()) == {"ring:ring"}
    run(sc, out_dir=tmp_path)
    events = read_log(tmp_path / "events.jsonl")[1]
    flagged = {
        e.agent_id
        for e in events
        if type(e) is Evidence and e.lever == "collusion" and e.finding == "flagged"
    }
    assert flagged and flagged <= set(planted_groups(sc))


def test_the_harness_is_deterministic() -> None:
    seed = random.Random(0).randrange(100)
    assert run_harness([seed], epochs=3) == run_harness([seed], epochs=3)
