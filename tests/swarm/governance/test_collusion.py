"""Collusion detection: who gets flagged, that evidence is paid for once, realtime costs, end to end."""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from swarm import run
from swarm.core.interaction import SoftInteraction
from swarm.events import GovernanceApplied
from swarm.governance.collusion import CollusionDetection, Exchange, agent_risks, pair_scores
from swarm.metrics.epoch import EpochMetrics
from swarm.runtime.eventlog import read_log
from tests.conftest import make_scenario


def ix(n: int, a: str, b: str, p: float, *, accepted: bool = True, tau: float = 0.0) -> SoftInteraction:
    return SoftInteraction(
        interaction_id=f"ix-{n}", initiator=a, counterparty=b, accepted=accepted, p=p, tau=tau
    )


def lever(**kw: object) -> CollusionDetection:
    settings_: dict[str, object] = {
        "frequency_threshold": 2.0,
        "min_interactions": 3,
        "score_threshold": 0.3,
        "penalty_multiplier": 1.0,
        "realtime_penalty": False,
        "realtime_rate": 0.1,
        "clear_history_on_epoch": False,
    }
    settings_.update(kw)
    return CollusionDetection(**settings_)  # type: ignore[arg-type]


def population(rng: random.Random) -> list[SoftInteraction]:
    """Honest agents h0..h3 trade often and well; c0 and c1 keep accepting each other's bad work."""
    out: list[SoftInteraction] = []
    for n in range(120):
        a, b = rng.sample(["h0", "h1", "h2", "h3"], 2)
        out.append(ix(n, a, b, rng.uniform(0.7, 0.9), tau=rng.uniform(-0.5, 0.5)))
    for n in range(120, 150):
        a, b = ("c0", "c1") if n % 2 else ("c1", "c0")
        out.append(ix(n, a, b, rng.uniform(0.1, 0.3), tau=rng.uniform(-0.2, 0.2)))
    return out


def test_colluders_are_flagged_and_frequent_good_traders_are_not() -> None:
    history = [Exchange.of(i) for i in population(random.Random(1))]
    risks = agent_risks(history, min_interactions=3, frequency_threshold=2.0, score_threshold=0.3)
    assert set(risks) == {"c0", "c1"}
    assert all(0.3 <= r <= 1.0 for r in risks.values())


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("abcd"), st.sampled_from("abcd"), st.floats(0, 1), st.booleans()),
        max_size=80,
    )
)
def test_pair_scores_lie_in_the_unit_interval_and_need_low_quality(
    rows: list[tuple[str, str, float, bool]],
) -> None:
    history = [Exchange(a, b, acc, p, -0.1, 0.1) for a, b, p, acc in rows if a != b]
    scores = pair_scores(history, min_interactions=2, frequency_threshold=2.0)
    for (x, y), score in scores.items():
        assert 0.0 <= score <= 1.0
        pair = [e for e in history if {e.initiator, e.counterparty} == {x, y}]
        assert sum(e.p for e in pair) / len(pair) < 0.5


def test_evidence_is_paid_for_once_not_every_epoch() -> None:
    detector = lever()
    detector.on_interactions(0, 0, population(random.Random(2)))
    first = detector.epoch_end(0, EpochMetrics(epoch=0), [])
    second = detector.epoch_end(1, EpochMetrics(epoch=1), [])
    paid = {(e.agent_id, e.kind): e.amount for e in first if e.kind in ("reputation", "resources")}
    assert set(paid) == {(a, k) for a in ("c0", "c1") for k in ("reputation", "resources")}
    assert all(amount < 0 for amount in paid.values())
    assert paid[("c0", "resources")] == 10 * paid[("c0", "reputation")]
    assert [e.kind for e in second] == ["flag", "flag"]  # still flagged, nothing charged again


def test_realtime_cost_between_flagged_agents_only() -> None:
    detector = lever(realtime_penalty=True, realtime_rate=0.2)
    detector.on_interactions(0, 0, population(random.Random(3)))
    detector.epoch_end(0, EpochMetrics(epoch=0), [])
    costs, effects = detector.on_interactions(1, 0, [ix(900, "c0", "c1", 0.2), ix(901, "h0", "c1", 0.8)])
    expected = 0.2 * (detector.risk["c0"] + detector.risk["c1"]) / 2
    assert costs == {"ix-900": (expected, expected)}
    assert {e.agent_id for e in effects} == {"c0", "c1"}


def test_a_run_with_collusion_detection_flags_the_bad_traders_reproducibly(tmp_path: Path) -> None:
    scenario = make_scenario(
        honest=3,
        deceptive=2,
        adversarial=3,
        epochs=6,
        governance={"collusion_detection_enabled": True, "collusion_score_threshold": 0.2},
    )
    run(scenario, out_dir=tmp_path)
    _, events = read_log(tmp_path / "events.jsonl")
    collusion = [e for e in events if isinstance(e, GovernanceApplied) and e.lever == "collusion"]
    assert {e.effect for e in collusion} == {"flag", "reputation", "resources"}
    assert not [e for e in collusion if e.agent_id.startswith("honest")]
    run(scenario, out_dir=tmp_path / "again")
    _, again = read_log(tmp_path / "again" / "events.jsonl")
    assert [e for e in again if isinstance(e, GovernanceApplied) and e.lever == "collusion"] == collusion
