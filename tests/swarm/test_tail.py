"""`swarm tail` follows a log that is still being written."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from swarm import run
from swarm.events import RunEnded
from swarm.runtime.tail import follow_log
from tests.conftest import make_scenario


def test_follow_yields_lines_as_they_are_completed_and_stops_at_run_end(tmp_path: Path) -> None:
    run(make_scenario(honest=2, epochs=1, steps=2), out_dir=tmp_path / "src")
    lines = (tmp_path / "src" / "events.jsonl").read_text().splitlines(keepends=True)
    target = tmp_path / "live.jsonl"
    target.write_text(lines[0])

    def writer() -> None:
        with target.open("a") as fh:
            for line in lines[1:]:
                half = len(line) // 2
                fh.write(line[:half])
                fh.flush()
                time.sleep(0.002)
                fh.write(line[half:])
                fh.flush()

    thread = threading.Thread(target=writer)
    thread.start()
    events = list(follow_log(target, poll=0.001, idle_timeout=10))
    thread.join()
    assert len(events) == len(lines) - 1
    assert isinstance(events[-1], RunEnded)
    assert [e.seq for e in events[:-1]] == list(range(1, len(events)))
