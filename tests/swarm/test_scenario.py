"""Scenario loading: valid files load; every kind of bad input names file, key and expectation."""

from __future__ import annotations

from pathlib import Path

import pytest

from swarm.errors import ScenarioError
from swarm.scenario import load_scenario
from tests.conftest import SCENARIOS

BASE = """\
scenario_id: t
agents:
  - type: honest
    count: 2
simulation:
  n_epochs: 2
  steps_per_epoch: 2
  seed: 1
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "s.yaml"
    p.write_text(text)
    return p


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_scenario_loads(path: Path) -> None:
    sc = load_scenario(path)
    assert sc.agent_ids()


def test_agent_ids_count_per_type_across_groups() -> None:
    sc = load_scenario(
        {"agents": [{"type": "honest", "count": 2}, {"type": "adversarial"}, {"type": "honest"}]}
    )
    assert [a for a, _ in sc.agent_ids()] == ["honest_1", "honest_2", "adversarial_1", "honest_3"]


@pytest.mark.parametrize(
    ("patch", "key", "problem"),
    [
        ("governance:\n  audit_probability: 1.5\n", "governance.audit_probability", "out of range"),
        ("governance:\n  transaction_tax_rate: -0.1\n", "governance.transaction_tax_rate", "out of range"),
        ("governance:\n  no_such_lever: 1\n", "governance.no_such_lever", "unknown key"),
        ("payoff:\n  theta: 2\n", "payoff.theta", "out of range"),
        ("payoff:\n  sigmoid_k: -1\n", "payoff.sigmoid_k", "out of range"),
        ("rate_limits:\n  posts_per_epoch: -3\n", "rate_limits.posts_per_epoch", "out of range"),
        ("rate_limits:\n  posts_per_epoch: many\n", "rate_limits.posts_per_epoch", "wrong type"),
        ("colour: blue\n", "colour", "unknown key"),
    ],
)
def test_bad_values_name_the_key_path_and_line(tmp_path: Path, patch: str, key: str, problem: str) -> None:
    path = write(tmp_path, BASE + patch)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    exc = info.value
    assert exc.key == key
    assert exc.problem == problem
    assert exc.line is not None and exc.line > 1
    assert str(path) in str(exc) and key in str(exc)


def test_unknown_agent_type_lists_the_allowed_types(tmp_path: Path) -> None:
    path = write(tmp_path, BASE.replace("type: honest", "type: saboteur"))
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.key == "agents.0.type"
    assert "'honest'" in info.value.expected and "'adversarial'" in info.value.expected


def test_negative_agent_count_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, BASE.replace("count: 2", "count: -1")))
    assert info.value.key == "agents.0.count"


def test_missing_file_is_a_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "nope.yaml")
    assert info.value.problem == "file not found"


def test_malformed_yaml_reports_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, BASE + "governance:\n  audit_enabled: [true\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.problem.startswith("malformed YAML")
    assert info.value.line is not None


def test_overrides_are_validated_like_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, BASE)
    sc = load_scenario(path, ["governance.audit_enabled=true", "simulation.seed=9", "agents.0.count=4"])
    assert sc.governance.audit_enabled and sc.simulation.seed == 9 and len(sc.agent_ids()) == 4
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, ["governance.audit_probability=2"])
    assert info.value.key == "governance.audit_probability"
    with pytest.raises(ScenarioError):
        load_scenario(path, ["governance.audit_probability"])


def test_reference_aliases_are_accepted() -> None:
    sc = load_scenario(
        {"agents": [{"type": "honest"}], "governance": {"transaction_tax": 0.1, "reputation_decay": 0.9}}
    )
    assert sc.governance.transaction_tax_rate == 0.1
    assert sc.governance.reputation_decay_rate == 0.9


def test_scenario_without_agents_is_rejected() -> None:
    with pytest.raises(ScenarioError):
        load_scenario({"agents": [{"type": "honest", "count": 0}]})
