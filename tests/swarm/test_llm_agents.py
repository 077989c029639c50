"""LLM agents: cassettes replay exactly, faults never stall or corrupt a run, dead providers stop it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters import LLMAuthError, ProviderError, ScriptedAdapter
from adapters._types import CompletionRequest
from swarm import Simulation, load_scenario
from swarm.agents.llm import LLMPolicy, scenario_components
from swarm.agents.llm_backend import LLMBackend
from swarm.agents.llm_responder import scripted_answer
from swarm.env.broker import InteractionProposed, ProposalExpired
from swarm.events import InteractionCompleted, PolicyFailed
from swarm.runtime.eventlog import read_log
from swarm.runtime.replay import compare_logs
from swarm.runtime.simulation import SimulationError

pytest_plugins = ["swarm.testing"]


def llm_scenario(provider: str = "openai", epochs: int = 3) -> Any:
    return load_scenario(
        {
            "scenario_id": "llm-test",
            "agents": [
                {
                    "type": "llm",
                    "count": 2,
                    "llm": {"provider": provider, "model": "gpt-4o-mini", "persona": "open"},
                },
                {
                    "type": "llm",
                    "count": 1,
                    "llm": {"provider": provider, "model": "gpt-4o-mini", "persona": "strategic"},
                },
                {"type": "honest", "count": 2},
                {"type": "opportunistic", "count": 1},
            ],
            "simulation": {"n_epochs": epochs, "steps_per_epoch": 4, "seed": 9, "policy_timeout": 5},
        }
    )


async def run_with(scenario: Any, out: Path, backend: Any) -> None:
    async with Simulation(scenario, out_dir=out, llm_factory=backend) as sim:
        await sim.wait()


async def test_recorded_run_replays_byte_identical_offline(
    tmp_path: Path, mock_llm: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sc = llm_scenario()
    recorder = LLMBackend(record=str(tmp_path / "cassette.jsonl"))
    await run_with(sc, tmp_path / "live", recorder)
    recorder.close()
    assert mock_llm.stats["requests"] > 0
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    await run_with(sc, tmp_path / "replay", LLMBackend(replay=str(tmp_path / "cassette.jsonl")))
    lines, diff = compare_logs(tmp_path / "live" / "events.jsonl", tmp_path / "replay" / "events.jsonl")
    assert diff is None and lines > 50
    live = (tmp_path / "live" / "events.jsonl").read_text().splitlines()
    again = (tmp_path / "replay" / "events.jsonl").read_text().splitlines()
    assert live[:-1] == again[:-1]


async def test_llm_agents_act_through_the_provider_api(tmp_path: Path, mock_llm: Any) -> None:
    await run_with(llm_scenario(), tmp_path, LLMBackend())
    _, events = read_log(tmp_path / "events.jsonl")
    proposed_by_llm = [
        e for e in events if isinstance(e, InteractionProposed) and e.initiator.startswith("llm_")
    ]
    assert proposed_by_llm
    assert not [e for e in events if isinstance(e, PolicyFailed)]


class Flaky:
    """Fails every fifth call with a rotating fault; otherwise answers like a scripted policy."""

    def __init__(self) -> None:
        self.calls = 0
        self.inner = ScriptedAdapter(lambda r: scripted_answer(r.system, r.user, r.schema.__name__))

    async def complete(self, request: CompletionRequest[Any]) -> Any:
        self.calls += 1
        if self.calls % 5 == 0:
            raise ProviderError(
                "injected 500s until retries ran out", status=500, attempts=4, provider="mock"
            )
        if self.calls % 7 == 0:
            raise TimeoutError("injected timeout")
        return await self.inner.complete(request)


async def test_faults_become_events_and_no_interaction_is_lost_or_doubled(tmp_path: Path) -> None:
    flaky = Flaky()

    def factory(agent_id: str, spec: Any, scenario: Any) -> LLMPolicy:
        return LLMPolicy(
            agent_id, flaky, model="m", persona=spec.llm.persona, components=scenario_components(scenario)
        )

    async with Simulation(llm_scenario(epochs=4), out_dir=tmp_path, llm_factory=factory) as sim:
        result = await sim.wait()
    assert result.reason == "completed"
    _, events = read_log(tmp_path / "events.jsonl")
    failures = [e for e in events if isinstance(e, PolicyFailed)]
    assert failures and all(e.agent_id.startswith("llm_") for e in failures)
    assert {e.phase for e in failures} <= {"act", "respond"}
    proposed = [e.interaction_id for e in events if isinstance(e, InteractionProposed)]
    resolved = [e.interaction.interaction_id for e in events if isinstance(e, InteractionCompleted)]
    expired = [e.interaction_id for e in events if isinstance(e, ProposalExpired)]
    assert len(resolved) == len(set(resolved)) and not set(resolved) & set(expired)
    assert set(resolved) | set(expired) <= set(proposed)
    last = max((e.epoch, e.step) for e in events if isinstance(e, InteractionProposed))
    early = {
        e.interaction_id for e in events if isinstance(e, InteractionProposed) and (e.epoch, e.step) < last
    }
    assert early <= set(resolved) | set(expired), (
        "every proposal older than the last step ends resolved or expired"
    )


async def test_dead_provider_stops_the_run_with_a_clear_message_and_intact_log(tmp_path: Path) -> None:
    class Dead:
        async def complete(self, request: CompletionRequest[Any]) -> Any:
            raise LLMAuthError("credentials refused (401)", provider="openai", model=request.model)

    def factory(agent_id: str, spec: Any, scenario: Any) -> LLMPolicy:
        return LLMPolicy(agent_id, Dead(), model="m", components=scenario_components(scenario))

    with pytest.raises(SimulationError, match="401"):
        async with Simulation(llm_scenario(), out_dir=tmp_path, llm_factory=factory) as sim:
            await sim.wait()
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["type"] == "header"
    assert json.loads(lines[-1])["reason"] == "failed"


async def test_model_answer_false_is_read_as_decline() -> None:
    adapter = ScriptedAdapter(lambda r: '{"accept": "false", "reasoning": "no"}')
    policy = LLMPolicy("llm_1", adapter, model="m", components=("feed", "broker"))
    from swarm.core.interaction import InteractionType
    from swarm.env.broker import ProposalView
    from swarm.views import AgentPublic, Observation, Snapshot

    me = AgentPublic(agent_id="llm_1", reputation=0.0, resources=100.0)
    obs = Observation("llm_1", me, Snapshot(0, 0, (me,), {}))
    proposal = ProposalView(
        proposal_id="ix-1", initiator="x", counterparty="llm_1", interaction_type=InteractionType.TRADE
    )
    assert await policy.accept(obs, proposal) is False


def test_scripted_backend_runs_the_shipped_llm_scenario_offline(
    tmp_path: Path, scripted_llm: LLMBackend
) -> None:
    import anyio

    sc = load_scenario(
        Path(__file__).resolve().parents[2] / "scenarios" / "llm_agents.yaml", ["simulation.n_epochs=2"]
    )
    anyio.run(run_with, sc, tmp_path, scripted_llm)
    assert (tmp_path / "summary.json").exists()


async def test_worker_processes_change_nothing_in_the_event_log(
    tmp_path: Path, mock_llm: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sc = llm_scenario(epochs=2)
    await run_with(sc, tmp_path / "one", LLMBackend())
    sharded = LLMBackend(workers=2, record=str(tmp_path / "cassette.jsonl"))
    await run_with(sc, tmp_path / "two", sharded)
    sharded.close()
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    await run_with(sc, tmp_path / "replay", LLMBackend(replay=str(tmp_path / "cassette.jsonl")))
    one, two, replay = (
        (tmp_path / name / "events.jsonl").read_text().splitlines() for name in ("one", "two", "replay")
    )
    assert one[:-1] == two[:-1] == replay[:-1] and len(one) > 50
    assert sharded.meter.snapshot().models["gpt-4o-mini"].calls > 0


def test_llm_agents_see_the_marketplace_and_the_levers_and_trade_on_it(tmp_path: Path) -> None:
    import anyio

    root = Path(__file__).resolve().parents[2] / "scenarios"
    sc = load_scenario(
        root / "marketplace_economy.yaml",
        [
            "agents.0.type=llm",
            "agents.0.llm.provider=scripted",
            "agents.0.llm.persona=honest",
            "agents.1.type=llm",
            "agents.1.llm.provider=scripted",
            "agents.1.llm.persona=opportunistic",
            "simulation.n_epochs=4",
        ],
    )
    prompts: list[str] = []
    backend = LLMBackend(scripted=True)
    inner_call = backend.__call__

    def spying(agent_id: str, spec: Any, scenario: Any) -> Any:
        policy = inner_call(agent_id, spec, scenario)
        adapter = policy.adapter

        class Spy:
            async def complete(self, request: Any) -> Any:
                prompts.append(request.user)
                return await adapter.complete(request)

        policy.adapter = Spy()
        return policy

    anyio.run(run_with, sc, tmp_path, spying)
    assert any('"bounties":[{' in p for p in prompts)
    assert all('"random_audit":{"probability":0.1' in p for p in prompts)
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()[1:]]
    llm_agents = {e["agent_id"] for e in events if e["type"] == "agent_created" and e["agent_type"] == "llm"}
    market_moves = [e for e in events if e["type"] in {"bid_placed", "bounty_posted", "bid_accepted"}]
    assert {e["agent_id"] for e in market_moves} & llm_agents


def test_the_shipped_cassette_replays_the_shipped_llm_scenario_without_a_miss(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import anyio

    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(var, raising=False)
    root = Path(__file__).resolve().parents[2] / "scenarios"
    sc = load_scenario(root / "llm_agents.yaml")
    anyio.run(run_with, sc, tmp_path, LLMBackend(replay=str(root / "cassettes" / "llm_agents.jsonl")))
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()[1:]]
    assert events[-1]["reason"] == "completed"
    assert not [e for e in events if e["type"] == "policy_failed"]
    assert sum(e["type"] == "interaction_completed" for e in events) > 0


def test_mock_server_faults_at_20_percent_never_lose_or_double_an_interaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import anyio

    from adapters.mock_server import ThreadedServer
    from swarm.agents.mock_llm import environment, mock_app

    server = ThreadedServer(mock_app(error_rate=0.2, seed=5, hang_s=3.0))
    try:
        for key, value in environment("127.0.0.1", server.port).items():
            monkeypatch.setenv(key, value)
        sc = load_scenario(
            {
                "scenario_id": "faults",
                "agents": [
                    {
                        "type": "llm",
                        "count": 4,
                        "llm": {
                            "provider": "openai",
                            "model": "gpt-4o-mini",
                            "timeout": 1.0,
                            "max_retries": 1,
                        },
                    },
                    {"type": "honest", "count": 2},
                ],
                "simulation": {"n_epochs": 2, "steps_per_epoch": 3, "seed": 2, "policy_timeout": 5},
            }
        )
        anyio.run(run_with, sc, tmp_path, LLMBackend())
    finally:
        server.close()
    _, events = read_log(tmp_path / "events.jsonl")
    assert events[-1].reason == "completed"  # type: ignore[union-attr]
    failures = [e for e in events if isinstance(e, PolicyFailed)]
    assert failures
    resolved = [e.interaction.interaction_id for e in events if isinstance(e, InteractionCompleted)]
    expired = [e.interaction_id for e in events if isinstance(e, ProposalExpired)]
    assert len(resolved) == len(set(resolved)) and not set(resolved) & set(expired)
