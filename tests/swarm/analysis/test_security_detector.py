"""The detector harness's injection chains: the security analyzer scored against ground truth."""

from __future__ import annotations

from swarm.analysis.detectors import summarise
from swarm.analysis.security_detector import run_chains


def test_planted_worm_chains_are_scored_and_the_attacker_is_found() -> None:
    scores = run_chains([1, 2], scale=1, readers=6, epochs=3, attack_probability=0.5)
    for s in scores:
        assert s.detector == "security" and s.auroc is not None and s.auroc > 0.5
        assert s.detected_epoch is not None and s.recall > 0
        assert s.lowest_planted_risk <= 1.0 and s.highest_other_risk < 0.7  # no innocent quarantined
    rows = summarise(scores)
    assert [r["detector"] for r in rows] == ["security"] and rows[0]["runs"] == 2
    assert rows[0]["detected_runs"] == 2
