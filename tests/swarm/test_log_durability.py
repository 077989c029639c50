"""The event log reaches the disk: fsynced after every epoch on the writer's own thread, waited
for before a checkpoint records the log's length and when the log closes, and a failed fsync is
a clear error that loses none of the events already written."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import anyio
import pytest

from swarm.errors import LogError
from swarm.events import RunStarted
from swarm.runtime.eventlog import EventLogWriter, LogHeader, read_log
from swarm.runtime.simulation import Simulation, SimulationError
from swarm.scenario import load_scenario


def _header() -> LogHeader:
    return LogHeader(run_id="r", seed=1, scenario={}, versions={})


class _Disk:
    """Stands in for ``os.fsync``: records which thread synced, and can hold or fail a call."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.calls: list[str] = []
        self.done: list[str] = []
        self.release = threading.Event()
        self.release.set()
        self.fail_at = fail_at

    def __call__(self, fd: int) -> None:
        os.fstat(fd)  # a real, open descriptor
        name = threading.current_thread().name
        self.calls.append(name)
        if len(self.calls) == self.fail_at:
            raise OSError(errno.EIO, "Input/output error")
        assert self.release.wait(5)
        self.done.append(name)


def test_a_background_fsync_is_waited_for_before_a_waiting_one_and_before_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk = _Disk()
    monkeypatch.setattr(os, "fsync", disk)
    writer = EventLogWriter(tmp_path / "events.jsonl", _header())
    writer.write([RunStarted(scenario_id="s", seed=1, n_agents=0, n_epochs=1, steps_per_epoch=1)])
    disk.release.clear()  # the disk is slow: the background fsync hangs until released
    writer.flush(fsync=True, wait=False)  # returns at once
    assert disk.done == []
    threading.Timer(0.05, disk.release.set).start()
    writer.flush(fsync=True)  # a checkpoint's flush: waits for the one under way, then syncs itself
    assert [name.startswith("swarm-log-fsync") for name in disk.done] == [True, False]
    writer.flush(fsync=True, wait=False)
    writer.close()
    assert len(disk.done) == 4 and not disk.done[-1].startswith("swarm-log-fsync")
    assert writer.closed
    assert [type(e) for e in read_log(tmp_path / "events.jsonl")[1]] == [RunStarted]


def test_a_failed_background_fsync_is_raised_at_the_next_flush_naming_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "fsync", _Disk(fail_at=1))
    path = tmp_path / "events.jsonl"
    writer = EventLogWriter(path, _header())
    writer.write([RunStarted(scenario_id="s", seed=1, n_agents=0, n_epochs=1, steps_per_epoch=1)])
    writer.flush(fsync=True, wait=False)
    with pytest.raises(LogError, match=rf"{path}: could not write the event log to disk: .*Input/output"):
        writer.flush(fsync=True)
    writer.close()  # the failure was reported once; the file still closes
    assert writer.closed and len(read_log(path)[1]) == 1


def test_a_run_whose_log_cannot_reach_the_disk_stops_with_the_reason_and_keeps_its_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    disk = _Disk(fail_at=2)  # the second epoch's fsync fails
    monkeypatch.setattr(os, "fsync", disk)
    scenario = load_scenario(
        {
            "scenario_id": "durable",
            "agents": [{"type": "honest", "count": 4}],
            "simulation": {"n_epochs": 6, "steps_per_epoch": 2, "seed": 3},
        }
    )

    async def main() -> None:
        async with Simulation(scenario, out_dir=tmp_path) as sim:
            await sim.wait()

    with pytest.raises(SimulationError, match="could not write the event log to disk"):
        anyio.run(main)
    _, events = read_log(tmp_path / "events.jsonl")
    assert events[-1].type == "run_ended" and events[-1].reason == "failed"  # type: ignore[attr-defined]
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    completed = [e for e in events if e.type == "epoch_completed"]
    assert 2 <= len(completed) < 6  # what was written before the failure is all there
    assert (tmp_path / "summary.json").is_file()
