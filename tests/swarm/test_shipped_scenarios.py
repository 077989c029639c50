"""Every shipped scenario runs end to end (shortened), and the motif scenarios behave as described."""

from __future__ import annotations

from pathlib import Path

import pytest

from swarm import load_scenario, run
from swarm.agents.llm_backend import LLMBackend
from swarm.env.feed import VoteCast
from swarm.governance.effects import Effect
from swarm.runtime.eventlog import read_log
from tests.conftest import SCENARIOS

SHORT = ["simulation.n_epochs=2", "simulation.steps_per_epoch=3"]


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_scenario_runs(path: Path, tmp_path: Path) -> None:
    scenario = load_scenario(path, SHORT)
    backend = LLMBackend(scripted=True) if any(a.type == "llm" for a in scenario.agents) else None
    result = run(scenario, out_dir=tmp_path, llm_factory=backend)
    assert result.reason == "completed" and len(result.epochs) == 2


@pytest.mark.parametrize(
    ("name", "levers"),
    [
        ("status_game", {"transaction_tax", "reputation_decay", "staking"}),
        ("strict_governance", {"transaction_tax", "staking", "random_audit"}),
        ("meme_warfare", {"moderator"}),
        ("constitution_drafting", {"transparency"}),
    ],
)
def test_motif_scenarios_exercise_their_levers(name: str, levers: set[str], tmp_path: Path) -> None:
    run(load_scenario(SCENARIOS / f"{name}.yaml", ["simulation.n_epochs=4"]), out_dir=tmp_path)
    _, events = read_log(tmp_path / "events.jsonl")
    seen = {e.lever for e in events if isinstance(e, Effect)}
    assert levers and levers <= seen


def test_meme_warfare_is_a_vote_war_that_normalisation_weighs_down(tmp_path: Path) -> None:
    scenario = load_scenario(SCENARIOS / "meme_warfare.yaml", ["simulation.n_epochs=3"])
    assert scenario.governance.vote_normalization_enabled
    result = run(scenario, out_dir=tmp_path)
    _, events = read_log(tmp_path / "events.jsonl")
    votes = [e for e in events if isinstance(e, VoteCast) and e.changed]
    assert sum(1 for v in votes if v.direction < 0) > 0 and sum(1 for v in votes if v.direction > 0) > 0
    assert sum(m.posts for m in result.epochs) > 0


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_scenario_replays_and_reexecutes_to_the_same_log(path: Path, tmp_path: Path) -> None:
    from swarm.runtime.replay import recompute, reexecute

    scenario = load_scenario(path, SHORT)
    llm = any(a.type == "llm" for a in scenario.agents)
    run(scenario, out_dir=tmp_path / "run", llm_factory=LLMBackend(scripted=True) if llm else None)
    _, epochs, mismatch = recompute(tmp_path / "run" / "events.jsonl")
    assert mismatch is None and epochs == 2

    def again(sc: object, out: Path) -> None:
        run(sc, out_dir=out, llm_factory=LLMBackend(scripted=True) if llm else None)  # type: ignore[arg-type]

    lines, diff = reexecute(tmp_path / "run" / "events.jsonl", again)
    assert diff is None and lines > 10
