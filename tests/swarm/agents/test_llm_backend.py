"""LLMBackend's defaults: worker processes and the concurrency cap follow the number of LLM agents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters import RecordingAdapter, ReplayAdapter, ScriptedAdapter, ShardedAdapter
from swarm import Simulation, SimulationError, load_scenario
from swarm.agents.llm_backend import LLMBackend, auto_concurrency, auto_workers, llm_groups
from tests.conftest import swarm_run_against_mock


def llm_scenario(*counts: int, provider: str = "openai", steps: int = 2) -> Any:
    return load_scenario(
        {
            "scenario_id": "llm-backend",
            "agents": [
                {"type": "llm", "count": n, "llm": {"provider": provider, "model": "gpt-4o-mini"}}
                for n in counts
            ]
            + [{"type": "honest", "count": 1}],
            "simulation": {"n_epochs": 1, "steps_per_epoch": steps, "seed": 3},
        }
    )


@pytest.mark.parametrize(
    ("agents", "cores", "workers"),
    [(1, 2, 1), (50, 2, 1), (51, 2, 2), (100, 2, 2), (500, 2, 2), (100, 1, 1), (120, 8, 3), (1000, 8, 8)],
)
def test_one_worker_per_50_llm_agents_at_most_one_per_core(agents: int, cores: int, workers: int) -> None:
    assert auto_workers(agents, cores) == workers


def test_the_concurrency_cap_allows_two_requests_per_agent_and_at_least_64() -> None:
    assert (auto_concurrency(3), auto_concurrency(32), auto_concurrency(100)) == (64, 64, 200)


def test_groups_count_the_agents_sharing_an_adapter_stack() -> None:
    sc = llm_scenario(30, 40)
    [(spec, count)] = llm_groups(sc).values()
    assert (spec.provider, count) == ("openai", 70)


def adapter_of(backend: LLMBackend, scenario: Any) -> Any:
    spec = next(a for a in scenario.agents if a.type == "llm")
    return backend("llm_1", spec, scenario).adapter  # type: ignore[attr-defined]


async def test_the_default_spreads_many_agents_over_workers_and_an_explicit_count_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    monkeypatch.setattr("swarm.agents.llm_backend.available_cores", lambda: 2)
    many = llm_scenario(60, 40)
    auto = LLMBackend()
    sharded = adapter_of(auto, many)
    assert isinstance(sharded, ShardedAdapter) and sharded.size == 2
    assert sharded._recipe_frame  # picklable recipe; nothing started yet
    assert not sharded._workers
    await auto.aclose()
    one = LLMBackend(workers=1)
    assert not isinstance(adapter_of(one, many), ShardedAdapter)
    await one.aclose()
    few = LLMBackend()
    assert not isinstance(adapter_of(few, llm_scenario(3)), ShardedAdapter)
    await few.aclose()


def test_offline_backends_never_start_workers(tmp_path: Path) -> None:
    many = llm_scenario(120)
    assert isinstance(adapter_of(LLMBackend(scripted=True), many), ScriptedAdapter)
    cassette = tmp_path / "c.jsonl"
    header = {"format": "swarm-llm-cassette", "version": 3, "scenario": "llm-backend", "seed": 3}
    cassette.write_text(json.dumps(header) + "\n")
    assert isinstance(adapter_of(LLMBackend(replay=str(cassette)), many), ReplayAdapter)
    recorder = LLMBackend(record=str(tmp_path / "r.jsonl"), workers=1)
    assert isinstance(adapter_of(recorder, llm_scenario(3, provider="scripted")), RecordingAdapter)
    recorder.close()


async def test_prepare_leaves_a_missing_key_for_the_run_to_report(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    sc = llm_scenario(60)
    backend = LLMBackend(workers=2)
    await backend.prepare(sc)  # best effort: does not raise
    with pytest.raises(SimulationError, match=r"the LLM agents cannot start: .*OPENAI_API_KEY"):
        async with Simulation(sc, llm_factory=backend) as sim:
            await sim.wait()


def test_the_command_runs_many_llm_agents_with_default_flags(tmp_path: Path) -> None:
    """End to end through ``swarm run``: workers chosen from the agents, started early, connections warmed."""
    from swarm.agents.mock_llm import mock_app

    app = mock_app()
    scenario = tmp_path / "many.yaml"
    agents = {"type": "llm", "count": 51, "llm": {"provider": "openai", "model": "gpt-4o-mini"}}
    simulation = {"n_epochs": 1, "steps_per_epoch": 1, "seed": 5}
    scenario.write_text(json.dumps({"scenario_id": "many-llm", "agents": [agents], "simulation": simulation}))
    swarm_run_against_mock(scenario, tmp_path / "out", app)
    log = (tmp_path / "out" / "events.jsonl").read_text()
    assert app.state.stats["requests"] >= 51 and '"policy_failed"' not in log
