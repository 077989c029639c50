"""Build each agent's policy from its scenario spec."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from swarm.agents.policy import Policy
from swarm.agents.scripted import SCRIPTED_POLICIES
from swarm.errors import ScenarioError
from swarm.runtime.rng import derive_rng
from swarm.scenario import AgentSpec, Scenario

LLMPolicyFactory = Callable[[str, AgentSpec, Scenario], Policy]
"""Builds an LLM-backed policy for one agent (the run's adapters are wired in by the caller)."""


def check_agent_configs(scenario: Scenario, source: str) -> None:
    """Validate every scripted agent's ``config`` against its policy; ScenarioError on the first bad key."""
    for index, spec in enumerate(scenario.agents):
        cls = SCRIPTED_POLICIES.get(spec.type)
        if cls is None:
            continue
        problem = cls.check_config(spec.config)
        if problem is not None:
            key, _, why = problem.partition(": ")
            raise ScenarioError(
                source,
                f"agents.{index}.config.{key}",
                why or "invalid value",
                f"a parameter of the {spec.type} policy ({', '.join(cls.Config.model_fields)})",
            )


def build_policies(
    scenario: Scenario, *, llm_factory: LLMPolicyFactory | None = None
) -> dict[str, tuple[str, Policy]]:
    """Every agent's (type, policy), in registration order, each with its own random stream."""
    seed = scenario.simulation.seed
    ids = scenario.agent_ids()
    coalition = frozenset(aid for aid, spec in ids if spec.type == "adversarial")
    out: dict[str, tuple[str, Policy]] = {}
    for agent_id, spec in ids:
        if spec.type == "llm":
            if llm_factory is None:
                raise ScenarioError(
                    "<scenario>",
                    "agents",
                    f"agent {agent_id} is an LLM agent but no LLM backend is set up",
                    "an LLM backend (pass llm_factory, or run through the CLI)",
                )
            out[agent_id] = (
                f"llm:{spec.llm.persona if spec.llm else 'open'}",
                llm_factory(agent_id, spec, scenario),
            )
            continue
        cls = SCRIPTED_POLICIES[spec.type]
        kwargs: dict[str, Any] = {"allies": coalition} if spec.type == "adversarial" else {}
        policy = cls(agent_id, derive_rng(seed, "agent", agent_id), spec.config, **kwargs)
        out[agent_id] = (spec.type, policy)
    return out
