"""Opt-in features leave every other run alone: the shipped scenarios log exactly what they logged before.

Each shipped scenario (shortened) is run and the digest of its event log, without the header (it
describes the scenario, so new defaulted keys show there) and without ``run_ended.wall_clock``, is
compared with ``tests/fixtures/golden_logs.json``. A change that alters what a scenario does must
say so: regenerate the file with ``python tests/swarm/test_golden_logs.py`` and explain the change
in CHANGELOG.md.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

import pytest

from swarm import load_scenario, run
from swarm.agents.llm_backend import LLMBackend

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
GOLDEN = ROOT / "tests" / "fixtures" / "golden_logs.json"
SHORT = ["simulation.n_epochs=3", "simulation.steps_per_epoch=4"]


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    for line in path.read_text().splitlines()[1:]:
        data = json.loads(line)
        data.pop("wall_clock", None)
        h.update(json.dumps(data, sort_keys=True).encode())
        h.update(b"\n")
    return h.hexdigest()


def _run(path: Path, out: Path) -> str:
    scenario = load_scenario(path, SHORT)
    llm = any(a.type == "llm" for a in scenario.agents)
    run(scenario, out_dir=out, llm_factory=LLMBackend(scripted=True) if llm else None)
    return _digest(out / "events.jsonl")


def _golden() -> dict[str, str]:
    data: dict[str, str] = json.loads(GOLDEN.read_text())
    return data


@pytest.mark.parametrize("name", sorted(_golden()))
def test_shipped_scenario_logs_what_it_logged_before(name: str, tmp_path: Path) -> None:
    assert _run(SCENARIOS / f"{name}.yaml", tmp_path) == _golden()[name], (
        f"{name}: the event log changed; if intended, regenerate {GOLDEN.name} and say why in CHANGELOG.md"
    )


def test_every_shipped_scenario_has_a_golden_digest() -> None:
    assert {p.stem for p in SCENARIOS.glob("*.yaml")} <= set(_golden())


if __name__ == "__main__":  # regenerate
    names = sys.argv[1:] or sorted(p.stem for p in SCENARIOS.glob("*.yaml"))
    golden = _golden() if GOLDEN.exists() else {}
    for n in names:
        with tempfile.TemporaryDirectory() as d:
            golden[n] = _run(SCENARIOS / f"{n}.yaml", Path(d))
    GOLDEN.write_text(json.dumps(dict(sorted(golden.items())), indent=2) + "\n")
    print(f"wrote {len(names)} digests to {GOLDEN}")
