"""End-to-end runs: determinism, the MVP v0 criteria, failure handling, streaming."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swarm import Simulation, run
from swarm.agents.scripted import HonestPolicy
from swarm.errors import PolicyError
from swarm.events import EpochCompleted, InteractionCompleted, PolicyFailed, RunEnded
from swarm.messages import Action, Observation, ProposalView
from swarm.runtime.eventlog import read_log
from swarm.runtime.replay import compare_logs, recompute
from swarm.runtime.simulation import SimulationError
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
        epochs=2,
        steps=4,
        seed=seed,
        simulation={"n_epochs": 2, "steps_per_epoch": 4, "seed": seed, "schedule": schedule},
    )
    a, b = tmp_path / f"{seed}-{schedule}-a", tmp_path / f"{seed}-{schedule}-b"
    run(sc, out_dir=a)
    run(sc, out_dir=b)
    lines, diff = compare_logs(a / "events.jsonl", b / "events.jsonl")
    assert diff is None and lines > 10


def test_mvp_v0_five_agents_ten_epochs_metrics_every_epoch(baseline, tmp_path: Path) -> None:
    result = run(baseline, out_dir=tmp_path)
    assert len(result.agents) == 5 and len(result.epochs) == 10
    for m in result.epochs:
        assert 0.0 <= m.toxicity_rate <= 1.0
        assert isinstance(m.conditional_loss_initiator, float)
        assert isinstance(m.conditional_loss_counterparty, float)
    assert result.summary.total_interactions > 0
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
    assert sum(m.activity.claim_conflicts for m in result.epochs) > 0
    assert sum(m.activity.downvotes for m in result.epochs) > 0


def test_replay_recomputes_every_epoch_from_the_log(baseline, tmp_path: Path) -> None:
    result = run(baseline, out_dir=tmp_path)
    epochs, n, mismatch = recompute(tmp_path / "events.jsonl")
    assert mismatch is None and n == 10
    assert [e.model_dump() for e in epochs] == [e.model_dump() for e in result.epochs]


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


class _Flaky(HonestPolicy):
    async def decide(self, observation: Observation) -> Action:
        if observation.step % 2 == 0:
            raise ValueError("garbled reply")
        return await super().decide(observation)


class _Dead(HonestPolicy):
    async def decide(self, observation: Observation) -> Action:
        if observation.epoch == 1:
            raise PolicyError(self.agent_id, "provider rejected the API key (401)")
        return await super().decide(observation)

    async def accept(self, observation: Observation, proposal: ProposalView) -> bool:
        return True


def _with_policy(sc, cls):  # type: ignore[no-untyped-def]
    from swarm.agents import registry

    original = registry.SCRIPTED_POLICIES["honest"]
    registry.SCRIPTED_POLICIES["honest"] = cls
    return original


def test_failing_policy_becomes_noop_plus_event_and_run_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from swarm.agents import registry

    monkeypatch.setitem(registry.SCRIPTED_POLICIES, "honest", _Flaky)
    result = run(make_scenario(honest=2, opportunistic=1, epochs=2, steps=4), out_dir=tmp_path)
    assert result.reason == "completed"
    _, events = read_log(tmp_path / "events.jsonl")
    failures = [ev for ev in events if isinstance(ev, PolicyFailed)]
    assert failures and all("garbled reply" in ev.cause for ev in failures)
    assert {ev.step % 2 for ev in failures} == {0}


def test_dead_provider_stops_the_run_with_an_intact_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from swarm.agents import registry

    monkeypatch.setitem(registry.SCRIPTED_POLICIES, "honest", _Dead)
    with pytest.raises(SimulationError, match="401"):
        run(make_scenario(honest=2, epochs=3, steps=3), out_dir=tmp_path)
    _header, events = read_log(tmp_path / "events.jsonl")
    assert any(isinstance(ev, EpochCompleted) and ev.epoch == 0 for ev in events)
    assert isinstance(events[-1], RunEnded) and events[-1].reason == "failed"
    assert [ev.seq for ev in events] == list(range(1, len(events) + 1))


def test_events_stream_matches_the_log(tmp_path: Path) -> None:
    sc = make_scenario(honest=2, deceptive=1, epochs=2, steps=3)

    async def main() -> list[str]:
        seen = []
        async with Simulation(sc, out_dir=tmp_path) as sim:
            async for ev in sim.events():
                seen.append(ev.model_dump_json(exclude={"wall_clock"}))
        return seen

    streamed = anyio.run(main)
    _, logged = read_log(tmp_path / "events.jsonl")
    assert streamed == [ev.model_dump_json(exclude={"wall_clock"}) for ev in logged]


def test_kill_switch_stops_a_toxic_run(tmp_path: Path) -> None:
    sc = make_scenario(
        honest=1, adversarial=3, epochs=6, steps=6, safety={"kill_switch": {"max_epoch_toxicity": 0.3}}
    )
    result = run(sc, out_dir=tmp_path)
    assert result.reason == "kill_switch"
    assert len(result.epochs) < 6
