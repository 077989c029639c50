"""Agent types: each registered once, with its settings, and the scenario schema follows.

An agent type is a key (``honest``, ``llm``, ...), a settings model (the
``config:`` of an agent item), how to build one agent's policy, and the spec
model of its scenario items — generated from the settings model unless the
type brings its own (LLM agents add an ``llm:`` section). The scenario's
``agents`` list is a union of these specs discriminated by ``type``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, create_model, field_validator

from swarm.agents.policy import Policy
from swarm.errors import ConfigProblem
from swarm.registry import Registry
from swarm.runtime.rng import Stream, derive_rng

if TYPE_CHECKING:
    from swarm.scenario import Scenario

Role = Literal["worker", "poster", "planner", "verifier", "moderator"]
Capability = Literal[
    "research",
    "analysis",
    "planning",
    "execution",
    "verification",
    "coordination",
    "creativity",
    "communication",
]
"""What an agent can do on a composite task (the reference's capability types)."""
CAPABILITIES: tuple[str, ...] = get_args(Capability)


class PolicyConfig(BaseModel):
    """Base of every agent type's settings (an agent item's ``config``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def chance(default: float, description: str) -> Any:
    """A policy setting that is a probability (between 0 and 1)."""
    return Field(default=default, ge=0.0, le=1.0, description=description)


class AgentSpec(BaseModel):
    """A group of identical agents: ids are ``{name or type}_{n}``, counted per name."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    type: str
    count: int = Field(default=1, ge=0)
    name: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", max_length=64)
    role: Role = "worker"
    role_config: dict[str, Any] = Field(
        default_factory=dict, description="settings of the agent's role (see docs/social.md, Roles)"
    )
    capabilities: list[Capability] = Field(
        default_factory=list, description="what these agents can do on composite tasks (distinct names)"
    )
    config: PolicyConfig = PolicyConfig()

    @field_validator("role_config")
    @classmethod
    def _role_settings(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        """``role_config`` must be settings of ``role`` (its behaviour's ``Config``), checked here."""
        from swarm.agents.roles import check_role_config

        if "role" in info.data:  # else the role itself is wrong, and that error is reported
            check_role_config(info.data["role"], value, "agents.*.role_config")
        return value

    @field_validator("capabilities", mode="before")
    @classmethod
    def _known_capabilities(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value  # the type check says what is wrong
        for index, name in enumerate(value):
            if name not in CAPABILITIES:
                raise ConfigProblem(
                    f"capabilities.{index}",
                    f"unknown capability {name!r}",
                    f"one of {', '.join(CAPABILITIES)}",
                )
            if name in value[:index]:
                raise ConfigProblem(
                    f"capabilities.{index}", f"{name!r} is listed twice", "each capability once"
                )
        return value


@dataclass(frozen=True)
class BuildContext:
    """What building one agent's policy may use."""

    scenario: Scenario | None
    seed: int
    agents: Mapping[str, str]
    """Every agent id of the run and its type, in registration order."""
    llm_factory: Any = None
    streams: Mapping[str, Stream] | None = None
    """The run's agent streams by agent id (None outside a run: streams are then made on demand)."""

    def rng(self, *names: str) -> random.Random:
        """A Mersenne Twister stream called ``names`` (for the few non-agent purposes that want one)."""
        return derive_rng(self.seed, *names)

    def stream(self, agent_id: str) -> Stream:
        """The agent's own random stream (a few dozen bytes; see :mod:`swarm.runtime.rng`)."""
        if self.streams is not None and agent_id in self.streams:
            return self.streams[agent_id]
        return Stream.of(self.seed, "agent", agent_id)

    def ids_of_type(self, kind: str) -> frozenset[str]:
        """The ids of every agent of type ``kind`` (one shared set per type)."""
        cache: dict[str, frozenset[str]] = self.__dict__.setdefault("_by_type", {})
        found = cache.get(kind)
        if found is None:
            # from a dict, which it sizes its table for at once: grown member by member, a set's table
            # ends up to twice as large (it quadruples as it fills)
            found = cache[kind] = frozenset(dict.fromkeys(a for a, t in self.agents.items() if t == kind))
        return found


Builder = Callable[[str, Any, BuildContext], Policy]


@dataclass(frozen=True)
class AgentType:
    key: str
    Config: type[PolicyConfig]
    build: Builder
    spec: type[AgentSpec]
    description: str


AGENT_TYPES: Registry[AgentType] = Registry("agent type")


def register_agent_type(
    key: str,
    config: type[PolicyConfig],
    build: Builder,
    *,
    description: str,
    spec_base: type[AgentSpec] = AgentSpec,
) -> AgentType:
    """Register an agent type; its scenario items get ``type: <key>`` and ``config:`` of ``config``."""
    spec = create_model(
        f"{''.join(part.title() for part in key.split('_'))}AgentSpec",
        __base__=spec_base,
        __doc__=description,
        type=(Literal[key], key),  # type: ignore[arg-type]
        config=(config, config()),
    )
    return AGENT_TYPES.add(key, AgentType(key, config, build, spec, description))
