"""Shared fixtures: build worlds and scenarios in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from swarm.scenario import Scenario, load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def make_scenario(
    *,
    honest: int = 3,
    opportunistic: int = 0,
    deceptive: int = 0,
    adversarial: int = 0,
    epochs: int = 3,
    steps: int = 5,
    seed: int = 7,
    **sections: Any,
) -> Scenario:
    """A validated scenario with the given population, in one call."""
    agents = [
        {"type": kind, "count": n}
        for kind, n in (
            ("honest", honest),
            ("opportunistic", opportunistic),
            ("deceptive", deceptive),
            ("adversarial", adversarial),
        )
        if n
    ]
    data: dict[str, Any] = {
        "scenario_id": "test",
        "agents": agents,
        "simulation": {"n_epochs": epochs, "steps_per_epoch": steps, "seed": seed},
        **sections,
    }
    return load_scenario(data)


@pytest.fixture
def baseline() -> Scenario:
    return load_scenario(SCENARIOS / "baseline.yaml")


def swarm_run_against_mock(scenario: Path, out: Path, app: Any) -> subprocess.CompletedProcess[str]:
    """``swarm run SCENARIO --out OUT`` in a subprocess, both SDKs pointed at ``app`` served over HTTP.

    Asserts that the command ended as a run does (0, or 1 for failed success criteria)."""
    from adapters.mock_server import ThreadedServer
    from swarm.agents.mock_llm import environment

    server = ThreadedServer(app)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "swarm.cli", "run", str(scenario), "--out", str(out)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, **environment("127.0.0.1", server.port)},
            timeout=180,
        )
    finally:
        server.close()
    assert done.returncode in (0, 1), done.stderr[-3000:]
    return done
