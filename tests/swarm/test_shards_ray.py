"""Sharded runs on Ray actors (``shard_backend="ray"``): the same event log, and Ray still up afterwards.

Skipped where Ray is not installed (the ``ray`` extra; ``make test`` installs it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from swarm import run
from tests.conftest import make_scenario
from tests.swarm.test_shards import comparable

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module", autouse=True)
def ray_session() -> Iterator[None]:
    """Each test's runs start Ray themselves (when it is not running); the module stops it at the end."""
    if ray.is_initialized():
        ray.shutdown()
    yield
    ray.shutdown()


def test_a_ray_sharded_run_logs_what_one_process_logs_and_leaves_ray_up(tmp_path: Path) -> None:
    sc = make_scenario(honest=6, opportunistic=2, deceptive=1, adversarial=1, epochs=2, steps=4, seed=11)
    run(sc, out_dir=tmp_path / "one")
    run(sc, out_dir=tmp_path / "ray", shards=3, shard_backend="ray")
    one = comparable(tmp_path / "one" / "events.jsonl")
    assert len(one) > 50
    assert comparable(tmp_path / "ray" / "events.jsonl") == one
    # Ray was started by the run, on this thread: it outlives the run's event loop (started from a
    # worker thread, it went down with that thread and took this process with it a minute later)
    assert ray.get(ray.put(41), timeout=30) == 41
    run(sc, out_dir=tmp_path / "again", shards=2, shard_backend="ray")
    assert comparable(tmp_path / "again" / "events.jsonl") == one
