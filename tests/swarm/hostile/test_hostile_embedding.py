"""Embedding misuse: a Simulation used in ways that must neither hang nor lose the end of the log.

Every case is bounded by ``anyio.fail_after``: a deadlock fails the test instead of hanging it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from swarm import Simulation
from swarm.events import EpochCompleted, Event
from swarm.runtime.replay import recompute
from tests.conftest import make_scenario

BOUND = 60
"""Seconds any case may take before it counts as a deadlock (each takes well under a few)."""


def _last(path: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(path.read_text().splitlines()[-1])
    return data


async def _break_at_first_epoch(stream: AsyncIterator[Event]) -> None:
    async for ev in stream:
        if isinstance(ev, EpochCompleted):
            break


@pytest.mark.parametrize("buffer", [1, 100], ids=["buffer 1", "buffer 100"])
def test_leaving_the_stream_early_with_its_generator_alive_does_not_deadlock(
    tmp_path: Path, buffer: int
) -> None:
    # The generator stays referenced, so it is not closed when the loop is left: the run must
    # still get past a full stream (a few batches) to its end once the block exits.
    sc = make_scenario(honest=3, opportunistic=1, epochs=60, steps=5)

    async def main() -> tuple[str, int]:
        with anyio.fail_after(BOUND):
            async with Simulation(sc, out_dir=tmp_path, stream_buffer=buffer) as sim:
                stream = sim.events()
                await _break_at_first_epoch(stream)
            return sim.result.reason, len(sim.result.epochs)

    reason, epochs = anyio.run(main)
    assert (reason, epochs) == ("completed", 60)
    end = _last(tmp_path / "events.jsonl")
    assert end["type"] == "run_ended" and end["reason"] == "completed"
    assert recompute(tmp_path / "events.jsonl")[2] is None


def test_cancelling_the_enclosing_scope_ends_the_log_with_reason_cancelled(tmp_path: Path) -> None:
    sc = make_scenario(honest=3, opportunistic=1, epochs=100_000, steps=5)

    async def main() -> Simulation:
        with anyio.fail_after(BOUND):
            with anyio.CancelScope() as scope:
                async with Simulation(sc, out_dir=tmp_path, stream_buffer=100) as sim:
                    async for ev in sim.events():
                        if isinstance(ev, EpochCompleted) and ev.epoch == 1:
                            scope.cancel()
            assert scope.cancelled_caught
            return sim

    sim = anyio.run(main)
    end = _last(tmp_path / "events.jsonl")
    assert end["type"] == "run_ended" and end["reason"] == "cancelled"
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["reason"] == "cancelled" and summary["passed"] is False
    assert sim.result.reason == "cancelled" and not sim.result.passed
    assert 2 <= len(sim.result.epochs) < 100_000
    assert recompute(tmp_path / "events.jsonl")[2] is None  # what was logged still replays


def test_an_error_in_the_consuming_loop_cancels_the_run_and_says_so(tmp_path: Path) -> None:
    sc = make_scenario(honest=3, opportunistic=1, epochs=100_000, steps=5)

    async def main() -> None:
        with anyio.fail_after(BOUND):
            async with Simulation(sc, out_dir=tmp_path, stream_buffer=100) as sim:
                async for ev in sim.events():
                    if isinstance(ev, EpochCompleted):
                        raise LookupError("the embedding code's own bug")

    with pytest.raises(LookupError, match="own bug"):
        anyio.run(main)
    end = _last(tmp_path / "events.jsonl")
    assert end["type"] == "run_ended" and end["reason"] == "cancelled"
    assert json.loads((tmp_path / "summary.json").read_text())["passed"] is False


def test_iterating_events_after_the_run_started_is_refused(tmp_path: Path) -> None:
    sc = make_scenario(honest=2, epochs=2, steps=2)

    async def main() -> None:
        with anyio.fail_after(BOUND):
            async with Simulation(sc, out_dir=tmp_path) as sim:
                await sim.wait()
                with pytest.raises(RuntimeError, match="before the run starts"):
                    async for _ in sim.events():
                        pass

    anyio.run(main)
    assert _last(tmp_path / "events.jsonl")["reason"] == "completed"
