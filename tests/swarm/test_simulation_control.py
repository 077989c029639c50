"""The control plane: pause, resume, step one epoch and stop a run from embedding code."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import anyio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from actors import Status
from swarm import Simulation, run
from swarm.events import EpochCompleted, Event, RunEnded
from swarm.scenario import Scenario
from tests.conftest import make_scenario


def comparable(path: Path) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    for data in lines:
        data.pop("wall_clock", None)
    return lines


async def clock_position(sim: Simulation) -> tuple[int, bool]:
    """Ticks done and whether the clock is paused, once everything in the run waits."""
    await anyio.wait_all_tasks_blocked()
    assert sim._clock is not None
    status = await sim._clock.ref.ask(Status())
    return status.ticks, status.paused


def small(**kw: int) -> Scenario:
    return make_scenario(honest=3, opportunistic=1, deceptive=1, **{"epochs": 4, "steps": 3, **kw})


async def test_step_epoch_runs_to_the_end_of_the_epoch_then_stays_paused(tmp_path: Path) -> None:
    sc = small()
    closed: list[int] = []
    async with Simulation(sc, out_dir=tmp_path, stream_buffer=100) as sim:
        async for event in sim.events():
            if isinstance(event, EpochCompleted):
                closed.append(event.epoch)
                if event.epoch == 0:
                    await sim.pause()
                    await sim.step_epoch()
                elif event.epoch == 1:
                    assert sim.paused
                    ticks, paused = await clock_position(sim)
                    assert (ticks, paused) == (6, True)  # exactly the rest of epoch 1, nothing of epoch 2
                    await sim.resume()
                    assert not sim.paused
    assert closed == [0, 1, 2, 3]
    assert sim.result.reason == "completed"


async def test_step_epoch_before_the_start_runs_exactly_one_epoch(tmp_path: Path) -> None:
    sc = small()
    seen: list[Event] = []
    async with Simulation(sc, out_dir=tmp_path, stream_buffer=100) as sim:
        await sim.step_epoch()
        async for event in sim.events():
            seen.append(event)
            if isinstance(event, EpochCompleted):
                assert await clock_position(sim) == (3, True)
                await sim.stop()
    ended = seen[-1]
    assert isinstance(ended, RunEnded)
    assert (ended.reason, ended.epochs_completed) == ("stopped", 1)


async def test_stop_ends_the_run_cleanly_with_its_own_reason_and_writes_the_outputs(tmp_path: Path) -> None:
    sc = small(epochs=6)
    async with Simulation(sc, out_dir=tmp_path / "full") as full_run:
        await full_run.wait()
    async with Simulation(sc, out_dir=tmp_path / "stopped", stream_buffer=100) as sim:
        async for event in sim.events():
            if isinstance(event, EpochCompleted) and event.epoch == 1:
                await sim.stop()
    assert sim.result.reason == "stopped"
    stopped, full = (
        comparable(tmp_path / "stopped" / "events.jsonl"),
        comparable(tmp_path / "full" / "events.jsonl"),
    )
    assert stopped[-1]["type"] == "run_ended" and stopped[-1]["reason"] == "stopped"
    assert 2 <= stopped[-1]["epochs_completed"] < 6
    assert stopped[:-1] == full[: len(stopped) - 1]  # the same run, cut at a step boundary
    with (tmp_path / "stopped" / "metrics.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == stopped[-1]["epochs_completed"]
    assert json.loads((tmp_path / "stopped" / "summary.json").read_text())["reason"] == "stopped"


async def test_controls_after_the_run_ended_do_nothing(tmp_path: Path) -> None:
    async with Simulation(small(epochs=1), out_dir=tmp_path) as sim:
        await sim.wait()
        await sim.pause()
        await sim.step_epoch()
        await sim.resume()
        await sim.stop()
    assert sim.result.reason == "completed"


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(min_value=0, max_value=2**16),
    controls=st.lists(st.sampled_from(["pause", "step", "resume", "none"]), min_size=4, max_size=4),
)
def test_pausing_stepping_and_resuming_never_change_the_log(
    tmp_path_factory: object, seed: int, controls: list[str]
) -> None:
    """Same seed, same scenario → the same log, whatever controls arrived between which steps."""
    base = tmp_path_factory.mktemp("ctl")  # type: ignore[attr-defined]
    sc = small(seed=seed)
    run(sc, out_dir=base / "plain")

    async def controlled() -> None:
        async with Simulation(sc, out_dir=base / "controlled", stream_buffer=100) as sim:
            async for event in sim.events():
                if isinstance(event, EpochCompleted):
                    action = controls[event.epoch]
                    if action == "pause":
                        await sim.pause()
                        await anyio.wait_all_tasks_blocked()
                        await sim.resume()
                    elif action == "step":
                        await sim.step_epoch()
                    elif action == "resume":
                        await sim.resume()
                if isinstance(event, RunEnded):
                    break
                if sim.paused and isinstance(event, EpochCompleted):
                    await anyio.wait_all_tasks_blocked()
                    await sim.resume()

    anyio.run(controlled)
    assert comparable(base / "controlled" / "events.jsonl") == comparable(base / "plain" / "events.jsonl")
