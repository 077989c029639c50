"""The reference's eleven scenario files (reconstructed from its description in the spec) load.

Every key whose capability exists is accepted with its meaning; a key of a
capability that comes later is refused (exit 2 through the CLI) with a message
that names the capability instead of calling the key unknown — and once such keys
are taken out, the rest of the file loads.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from swarm import load_scenario, run
from swarm.errors import ScenarioError
from swarm.scenario._compat import not_available_yet
from tests.conftest import ROOT

REFERENCE = ROOT / "tests" / "fixtures" / "reference_scenarios"
LOADABLE = {
    "baseline",
    "status_game",
    "strict_governance",
    "marketplace_economy",
    "network_effects",
    "collusion_detection",
    "emergent_capabilities",
    "boundary_test",
    "security_evaluation",
    "adversarial_redteam",
}
LATER: dict[str, str] = {}
FILES = sorted(REFERENCE.glob("*.yaml"))


def test_all_eleven_reference_files_are_covered() -> None:
    assert {p.stem for p in FILES} == LOADABLE | set(LATER) | {"llm_agents"}


def test_the_reference_llm_file_loads_its_cost_keys_mean_what_they_say_and_it_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # its outputs section writes copies relative to the working directory
    path = REFERENCE / "llm_agents.yaml"
    data = yaml.safe_load(path.read_text())
    sc = load_scenario(path, ["simulation.n_epochs=2"])
    assert [a.llm.cost_tracking for a in sc.agents if a.type == "llm"] == [True, True]
    assert sc.success_criteria.max_llm_cost_usd == data["success_criteria"]["max_llm_cost_usd"] == 5.0
    from swarm.agents.llm_backend import LLMBackend

    result = run(sc, out_dir=tmp_path, llm_factory=LLMBackend(scripted=True))
    assert result.reason == "completed" and result.llm is not None and result.llm["calls"] > 0
    cost = next(c for c in result.criteria if c.name == "max_llm_cost_usd")
    assert cost.passed and cost.detail.startswith("llm_cost_usd 0 <= 5")


@pytest.mark.parametrize("path", [p for p in FILES if p.stem in LOADABLE], ids=lambda p: p.stem)
def test_reference_file_loads_and_runs_with_its_keys_meaning_what_they_say(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = yaml.safe_load(path.read_text())
    epochs = "epochs" if "epochs" in data["simulation"] else "n_epochs"  # boundary_test uses the alias
    scenario = load_scenario(path, [f"simulation.{epochs}=2", "simulation.steps_per_epoch=3"])
    assert scenario.scenario_id == data["scenario_id"]
    assert scenario.simulation.seed == data["simulation"]["seed"]
    for key, value in data.get("governance", {}).items():
        if key in type(scenario.governance).model_fields:  # aliases: test_the_reference_aliases_...
            assert getattr(scenario.governance, key) == value
    monkeypatch.chdir(tmp_path)
    result = run(scenario, out_dir=tmp_path / "run")
    assert result.reason == "completed"
    outputs = data.get("outputs", {})
    if "event_log" in outputs:
        assert (tmp_path / outputs["event_log"]).read_bytes() == (
            tmp_path / "run" / "events.jsonl"
        ).read_bytes()
    if "metrics_csv" in outputs:
        assert (tmp_path / outputs["metrics_csv"]).read_text() == (
            tmp_path / "run" / "metrics.csv"
        ).read_text()
    names = {c.name for c in result.criteria}
    assert names == set(data.get("success_criteria", {}))


def _without_later_keys(data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    data = copy.deepcopy(data)
    removed = []
    while (found := not_available_yet(data)) is not None:
        loc, capability = found
        node: Any = data
        for part in loc[:-1]:
            node = node[part]
        if loc[-1] == "type":
            node["type"] = "adversarial"
        else:
            del node[loc[-1]]
        removed.append(capability)
    return data, removed


@pytest.mark.parametrize("path", [p for p in FILES if p.stem in LATER], ids=lambda p: p.stem)
def test_reference_file_of_a_later_capability_says_so_and_the_rest_loads(path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    text = str(info.value)
    assert "is not available yet" in text and LATER[path.stem] in text
    assert "unknown key" not in text
    rest, removed = _without_later_keys(yaml.safe_load(path.read_text()))
    assert removed
    load_scenario(rest)


def test_the_reference_aliases_carry_their_meaning() -> None:
    data = yaml.safe_load((REFERENCE / "boundary_test.yaml").read_text())
    rest, _ = _without_later_keys(data)
    sc = load_scenario(rest)
    assert sc.simulation.n_epochs == 20  # simulation.epochs
    g = sc.governance
    assert g.audit_enabled and g.circuit_breaker_enabled  # enable_audits, enable_circuit_breaker
    assert g.freeze_threshold_toxicity == 0.6 and g.reputation_decay_rate == 0.98
    assert sc.metrics_to_track == ["toxicity_rate", "quality_gap", "total_welfare"]
    boundaries = sc.section("boundaries")  # boundaries.enabled / sensitivity_threshold
    assert boundaries is not None and boundaries.enabled and boundaries.sensitivity_threshold == 0.5
