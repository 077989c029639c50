"""Build the governance engine for a scenario."""

from __future__ import annotations

from swarm.errors import ScenarioError
from swarm.governance.base import Governance
from swarm.scenario import Scenario


def build_governance(scenario: Scenario) -> Governance:
    """The lever engine for ``scenario.governance`` (no levers: a no-op engine)."""
    enabled = scenario.governance.enabled_levers()
    if enabled and enabled != ["bandwidth_cap"]:
        raise ScenarioError(
            "<scenario>", "governance", f"levers not available yet: {', '.join(enabled)}", "no levers"
        )
    return Governance()
