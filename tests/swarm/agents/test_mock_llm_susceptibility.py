"""``swarm mock-llm --susceptibility``: the mock provider's agents follow injection payloads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, swarm_run_against_mock


def _injections(tmp_path: Path, susceptibility: float) -> tuple[int, int]:
    """(payloads planted, payloads followed) in a small worm scenario answered by the mock server."""
    from swarm.agents.mock_llm import mock_app

    scenario = tmp_path / f"worm-{susceptibility}.yaml"
    data = {
        "scenario_id": "worm_over_http",
        "agents": [
            {"type": "injector", "config": {"attack_probability": 1.0, "max_attacks": 1, "evasion": 1.0}},
            {
                "type": "llm",
                "count": 6,
                "llm": {"provider": "openai", "model": "gpt-4o-mini", "persona": "honest"},
            },
        ],
        "simulation": {"n_epochs": 1, "steps_per_epoch": 5, "seed": 2},
        "network": {"topology": "ring"},
        "security": {"susceptibility": 0.0},  # the offline double's setting: not what the server reads
    }
    scenario.write_text(json.dumps(data))
    out = tmp_path / f"out-{susceptibility}"
    swarm_run_against_mock(scenario, out, mock_app(susceptibility=susceptibility))
    kinds = [json.loads(line)["type"] for line in (out / "events.jsonl").read_text().splitlines()[1:]]
    return kinds.count("injection_attempted"), kinds.count("injection_succeeded")


def test_the_mock_servers_agents_follow_payloads_only_when_susceptible(tmp_path: Path) -> None:
    planted, followed = _injections(tmp_path, 0.0)
    assert planted > 0 and followed == 0
    planted, followed = _injections(tmp_path, 1.0)
    assert planted > 0 and followed > 0


def test_a_susceptibility_outside_zero_to_one_is_refused() -> None:
    from swarm.agents.mock_llm import mock_app

    with pytest.raises(ValueError, match=r"susceptibility 1\.5"):
        mock_app(susceptibility=1.5)
    done = subprocess.run(
        [sys.executable, "-m", "swarm.cli", "mock-llm", "--susceptibility", "-0.1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 2 and "--susceptibility -0.1" in done.stderr
