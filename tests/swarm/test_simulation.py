"""End-to-end runs: determinism, the MVP v0 criteria, failures that tell the truth, streaming."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swarm import Action, Noop, Observation, PolicyFailure, Simulation, run
from swarm.agents.scripted import HonestPolicy
from swarm.env.broker import ProposalView
from swarm.errors import PolicyError
from swarm.events import AgentCreated, EpochCompleted, Event, InteractionCompleted, PolicyFailed, RunEnded
from swarm.runtime.eventlog import read_log
from swarm.runtime.replay import compare_logs, recompute
from swarm.runtime.result import SimulationResult
from swarm.runtime.simulation import SimulationError
from swarm.scenario import Scenario
from tests.conftest import make_scenario


def comparable_lines(path: Path) -> list[str]:
    out = []
    for line in path.read_text().splitlines():
        data = json.loads(line)
        data.pop("wall_clock", None)
        out.append(json.dumps(data))
    return out


def test_same_seed_gives_identical_log_apart_from_wall_clock(tmp_path: Path) -> None:
    sc = make_scenario(honest=3, opportunistic=1, deceptive=1, adversarial=1, epochs=3, steps=6, seed=11)
    run(sc, out_dir=tmp_path / "a")
    run(sc, out_dir=tmp_path / "b")
    a, b = (tmp_path / "a" / "events.jsonl").read_text(), (tmp_path / "b" / "events.jsonl").read_text()
    assert a.splitlines()[:-1] == b.splitlines()[:-1]
    assert comparable_lines(tmp_path / "a" / "events.jsonl") == comparable_lines(
        tmp_path / "b" / "events.jsonl"
    )
    assert json.loads(a.splitlines()[-1])["type"] == "run_ended"


def test_different_seeds_give_different_logs(tmp_path: Path) -> None:
    run(make_scenario(honest=3, opportunistic=1, seed=1), out_dir=tmp_path / "a")
    run(make_scenario(honest=3, opportunistic=1, seed=2), out_dir=tmp_path / "b")
    _, diff = compare_logs(tmp_path / "a" / "events.jsonl", tmp_path / "b" / "events.jsonl")
    assert diff is not None


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(min_value=0, max_value=2**31),
    schedule=st.sampled_from(["round_robin", "random", "priority"]),
)
def test_any_seed_and_schedule_replays_identically(tmp_path: Path, seed: int, schedule: str) -> None:
    sc = make_scenario(
        honest=2,
        opportunistic=1,
        deceptive=1,
        adversarial=1,
        simulation={"n_epochs": 2, "steps_per_epoch": 4, "seed": seed, "schedule": schedule},
    )
    a, b = tmp_path / f"{seed}-{schedule}-a", tmp_path / f"{seed}-{schedule}-b"
    run(sc, out_dir=a)
    run(sc, out_dir=b)
    lines, diff = compare_logs(a / "events.jsonl", b / "events.jsonl")
    assert diff is None and lines > 10


def test_every_log_line_has_non_decreasing_epoch_and_step(tmp_path: Path) -> None:
    sc = make_scenario(
        honest=3, opportunistic=1, adversarial=1, epochs=3, steps=4, marketplace={"enabled": True}
    )
    run(sc, out_dir=tmp_path)
    _, events = read_log(tmp_path / "events.jsonl")
    times = [(ev.epoch, ev.step) for ev in events]
    assert times == sorted(times)
    assert [ev.seq for ev in events] == list(range(1, len(events) + 1))
    end = events[-1]
    assert isinstance(end, RunEnded) and (end.epoch, end.step) == (2, 4)


def test_mvp_v0_five_agents_ten_epochs_metrics_every_epoch(baseline, tmp_path: Path) -> None:
    result = run(baseline, out_dir=tmp_path)
    assert len(result.agents) == 5 and len(result.epochs) == 10
    for m in result.epochs:
        assert m.toxicity_rate is None or 0.0 <= m.toxicity_rate <= 1.0
        assert m.conditional_loss_initiator is None or isinstance(m.conditional_loss_initiator, float)
    assert result.summary["total_interactions"] > 0
    assert (tmp_path / "metrics.csv").read_text().count("\n") == 11
    assert json.loads((tmp_path / "summary.json").read_text())["passed"] is True


def test_failure_modes_are_observable(tmp_path: Path) -> None:
    """Deceptive and adversarial initiators' accepted interactions have lower mean p than honest
    ones; miscoordination (claim conflicts) and conflict (downvotes) show up in the metrics."""
    sc = make_scenario(
        honest=4, deceptive=2, adversarial=2, epochs=6, steps=8, seed=3, environment={"tasks_per_epoch": 4}
    )
    result = run(sc, out_dir=tmp_path)
    _, events = read_log(tmp_path / "events.jsonl")
    by_type: dict[str, list[float]] = {}
    for ev in events:
        if isinstance(ev, InteractionCompleted) and ev.interaction.accepted:
            by_type.setdefault(ev.initiator_type, []).append(ev.interaction.p)
    mean = {k: sum(v) / len(v) for k, v in by_type.items()}
    assert mean["adversarial"] < mean["honest"]
    assert mean["deceptive"] < mean["honest"]
    assert sum(m.claim_conflicts for m in result.epochs) > 0
    assert sum(m.downvotes for m in result.epochs) > 0


def test_replay_recomputes_every_epoch_from_the_log(baseline, tmp_path: Path) -> None:
    result = run(baseline, out_dir=tmp_path)
    epochs, n, mismatch = recompute(tmp_path / "events.jsonl")
    assert mismatch is None and n == 10
    assert epochs == result.epochs


def test_tampered_log_fails_recomputation(baseline, tmp_path: Path) -> None:
    run(baseline, out_dir=tmp_path)
    path = tmp_path / "events.jsonl"
    lines = path.read_text().splitlines()
    for k, line in enumerate(lines):
        data = json.loads(line)
        if data["type"] == "interaction_completed":
            data["interaction"]["p"] = 0.01
            lines[k] = json.dumps(data)
            break
    path.write_text("\n".join(lines) + "\n")
    _, _, mismatch = recompute(path)
    assert mismatch is not None and mismatch.where.startswith("epoch 0")


class GivesUpSometimes(HonestPolicy):
    """Gives up on purpose on even steps (an expected failure)."""

    def decide(self, observation: Observation) -> Action:
        if observation.step % 2 == 0:
            raise PolicyFailure("garbled reply")
        return super().decide(observation)


class Buggy(HonestPolicy):
    def decide(self, observation: Observation) -> Action:
        if observation.epoch == 1:
            return {"type": "post"}[1]  # type: ignore[index, no-any-return]  # a plain bug: KeyError
        return super().decide(observation)


class DeadProvider(HonestPolicy):
    def decide(self, observation: Observation) -> Action:
        if observation.epoch == 1:
            raise PolicyError(self.agent_id, "provider rejected the API key (401)")
        return super().decide(observation)

    def accept(self, observation: Observation, proposal: ProposalView) -> bool:
        return True


def _policies(cls: type[HonestPolicy], n: int) -> dict[str, HonestPolicy]:
    import random

    return {f"honest_{k}": cls(f"honest_{k}", random.Random(k)) for k in range(1, n + 1)}


def test_a_policy_giving_up_is_a_noop_plus_an_event_and_the_run_completes(tmp_path: Path) -> None:
    sc = make_scenario(honest=2, opportunistic=1, epochs=2, steps=4)
    result = run(sc, out_dir=tmp_path, policies=_policies(GivesUpSometimes, 2))
    assert result.reason == "completed"
    _, events = read_log(tmp_path / "events.jsonl")
    failures = [ev for ev in events if isinstance(ev, PolicyFailed)]
    assert failures and all("garbled reply" in ev.cause for ev in failures)
    assert {ev.step % 2 for ev in failures} == {0}


def test_a_bug_in_a_policy_stops_the_run_naming_the_agent_and_keeps_the_log(tmp_path: Path) -> None:
    sc = make_scenario(honest=2, epochs=3, steps=3)
    with pytest.raises(SimulationError) as info:
        run(sc, out_dir=tmp_path, policies=_policies(Buggy, 1))
    text = str(info.value)
    assert "agent:honest_1" in text and "KeyError" in text and "Act(epoch=1" in text
    _, events = read_log(tmp_path / "events.jsonl")
    assert any(isinstance(ev, EpochCompleted) and ev.epoch == 0 for ev in events)
    end = events[-1]
    assert isinstance(end, RunEnded) and end.reason == "failed" and "KeyError" in end.wall_clock["error"]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["reason"] == "failed" and summary["passed"] is False


def test_dead_provider_stops_the_run_with_an_intact_log(tmp_path: Path) -> None:
    with pytest.raises(SimulationError, match="401"):
        run(make_scenario(honest=2, epochs=3, steps=3), out_dir=tmp_path, policies=_policies(DeadProvider, 2))
    _header, events = read_log(tmp_path / "events.jsonl")
    assert any(isinstance(ev, EpochCompleted) and ev.epoch == 0 for ev in events)
    assert isinstance(events[-1], RunEnded) and events[-1].reason == "failed"
    assert [ev.seq for ev in events] == list(range(1, len(events) + 1))


class Cautious:
    """A custom policy of one's own: never does anything."""

    conduct = HonestPolicy.default_conduct

    def decide(self, observation: Observation) -> Action:
        return Noop()

    def accept(self, observation: Observation, proposal: ProposalView) -> bool:
        return False

    def observe(self, outcome: object) -> None:
        pass


def test_a_custom_policy_is_logged_and_measured_under_its_own_name(tmp_path: Path) -> None:
    sc = make_scenario(honest=3, epochs=4, steps=8)
    result = run(sc, out_dir=tmp_path, policies={"honest_2": Cautious()})
    _, events = read_log(tmp_path / "events.jsonl")
    created = {ev.agent_id: ev for ev in events if isinstance(ev, AgentCreated)}
    assert created["honest_2"].agent_type == "Cautious" and created["honest_1"].agent_type == "honest"
    assert {a["agent_id"]: a["agent_type"] for a in result.agents}["honest_2"] == "Cautious"
    completed = [ev for ev in events if isinstance(ev, InteractionCompleted)]
    assert completed and all(
        ev.counterparty_type == "Cautious" for ev in completed if ev.interaction.counterparty == "honest_2"
    )


class AsksForTheImpossible(HonestPolicy):
    """Tries a marketplace action in a scenario that has no marketplace."""

    def decide(self, observation: Observation) -> Action:
        from swarm.env.marketplace import PostBounty

        return PostBounty(reward=5.0)


def test_an_action_no_component_takes_is_rejected_with_a_reason(tmp_path: Path) -> None:
    sc = make_scenario(honest=2, epochs=1, steps=2)
    run(sc, out_dir=tmp_path, policies=_policies(AsksForTheImpossible, 1))
    lines = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()[1:]]
    rejected = [x for x in lines if x["type"] == "action_rejected" and x["agent_id"] == "honest_1"]
    assert len(rejected) == 2 and "post_bounty" in rejected[0]["reason"]


class Awaiting(HonestPolicy):
    """The honest policy, as coroutines (so the agent gets its own task, like an LLM agent)."""

    async def decide(self, observation: Observation) -> Action:  # type: ignore[override]
        await anyio.sleep(0)
        return super().decide(observation)

    async def accept(self, observation: Observation, proposal: ProposalView) -> bool:  # type: ignore[override]
        await anyio.sleep(0)
        return super().accept(observation, proposal)


def test_awaiting_policies_give_the_same_log_as_plain_ones(tmp_path: Path) -> None:
    import random

    sc = make_scenario(honest=3, opportunistic=1, epochs=2, steps=5, seed=5)
    run(sc, out_dir=tmp_path / "plain")
    awaiting = {f"honest_{k}": Awaiting(f"honest_{k}", random.Random(0)) for k in (1, 2, 3)}
    plain = {f"honest_{k}": HonestPolicy(f"honest_{k}", random.Random(0)) for k in (1, 2, 3)}
    run(sc, out_dir=tmp_path / "a", policies=plain)
    run(sc, out_dir=tmp_path / "b", policies=awaiting)
    a, b = (
        comparable_lines(tmp_path / "a" / "events.jsonl"),
        comparable_lines(tmp_path / "b" / "events.jsonl"),
    )
    b = [x.replace('"Awaiting"', '"honest"') for x in b]  # the custom class is logged under its own name
    assert [x for x in a if "agent_created" not in x] == [x for x in b if "agent_created" not in x]


def test_events_stream_matches_the_log(tmp_path: Path) -> None:
    sc = make_scenario(honest=2, deceptive=1, epochs=2, steps=3)

    def plain(ev: Event) -> dict[str, object]:
        data = msgspec.to_builtins(ev)
        data.pop("wall_clock", None)
        return data

    async def main() -> list[dict[str, object]]:
        seen = []
        async with Simulation(sc, out_dir=tmp_path) as sim:
            async for ev in sim.events():
                seen.append(plain(ev))
        return seen

    streamed = anyio.run(main)
    _, logged = read_log(tmp_path / "events.jsonl")
    assert streamed == [plain(ev) for ev in logged]


def test_leaving_the_event_stream_early_does_not_block_the_run(tmp_path: Path) -> None:
    sc = make_scenario(honest=3, opportunistic=1, epochs=20, steps=5)

    async def main() -> str:
        with anyio.fail_after(30):
            async with Simulation(sc, out_dir=tmp_path, stream_buffer=100) as sim:
                async for ev in sim.events():
                    if isinstance(ev, EpochCompleted):
                        break
        return sim.result.reason

    assert anyio.run(main) == "completed"


def test_kill_switch_stops_a_toxic_run(tmp_path: Path) -> None:
    sc = make_scenario(
        honest=1, adversarial=3, epochs=6, steps=6, safety={"kill_switch": {"max_epoch_toxicity": 0.3}}
    )
    result = run(sc, out_dir=tmp_path)
    assert result.reason == "kill_switch"
    assert len(result.epochs) < 6


def test_the_readme_embedding_block_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text()
    block = readme.split("## Embedding", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "baseline.yaml").write_text((root / "scenarios" / "baseline.yaml").read_text())
    exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
    assert (tmp_path / "runs" / "demo" / "events.jsonl").exists()
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("0 ") and len(printed) == 12


def test_summary_json_holds_the_result_and_the_scenario_whatever_their_text(tmp_path: Path) -> None:
    sc = make_scenario(honest=2, adversarial=1, epochs=2, steps=2, seed=5)
    sc = sc.model_copy(update={"scenario_id": 'étude "naïve" 測試 \\ tab\t'})
    result = run(sc, out_dir=tmp_path)
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert summary["scenario_id"] == sc.scenario_id == summary["scenario"]["scenario_id"]
    assert summary["summary"] == json.loads(json.dumps(dict(result.summary)))
    assert summary["agents"] == json.loads(json.dumps(list(result.agents)))
    assert summary["scenario"] == sc.model_dump(mode="json")
    assert (summary["seed"], summary["reason"], summary["passed"]) == (5, "completed", result.passed)


def test_a_result_reads_as_its_run_and_sizes_whatever_the_population() -> None:
    """A result's repr names the run and counts its rows: it does not grow with the population,
    so the asyncio runner formatting the main task (result included) on its way out costs nothing."""
    sizes: list[int] = []
    for honest in (2, 40):
        sc = make_scenario(honest=honest, adversarial=1, epochs=2, steps=2, seed=3)
        result = anyio.run(_returned_result, sc)  # returned from the runner's main task, as users do
        text = repr(result)
        assert text.startswith("SimulationResult(") and repr(sc.scenario_id) in text
        assert "seed=3" in text and "reason='completed'" in text and f"passed={result.passed}" in text
        assert f"agents=<{honest + 1}>" in text and "epochs=<2>" in text
        assert f"agent_history=<{len(result.agent_history)} rows>" in text
        assert "honest_1" not in text  # no agent's figures
        sizes.append(len(text))
    assert sizes[1] - sizes[0] <= 4  # the counts' extra digits, nothing per agent


async def _returned_result(sc: Scenario) -> SimulationResult:
    async with Simulation(sc) as sim:
        return await sim.wait()
