"""Scenarios: the schema (generated from the registries), YAML loading with located errors, overrides."""

from swarm.agents.types import AgentSpec
from swarm.scenario._load import apply_overrides, load_scenario, validate_scenario
from swarm.scenario._schema import CRITERIA_ALIASES, scenario_model
from swarm.scenario._sections import KillSwitchSpec, OutputsSpec, Scenario, SimulationSpec

__all__ = [
    "CRITERIA_ALIASES",
    "AgentSpec",
    "KillSwitchSpec",
    "OutputsSpec",
    "Scenario",
    "SimulationSpec",
    "apply_overrides",
    "load_scenario",
    "scenario_model",
    "validate_scenario",
]
