"""The scenario model, generated from the registries.

* ``agents`` — a union of every registered agent type's spec, discriminated by ``type``;
* ``environment``, ``rate_limits``, ``safety`` — fixed keys plus those the
  components contribute (their shared settings and their rate limits);
* one optional section per component that has a section of its own (``marketplace``);
* ``governance`` — every lever's flat keys, checked so that a configuration cannot
  lie: a lever's setting changed while the lever is off is an error naming the switch;
* ``success_criteria`` — ``min_<figure>`` and ``max_<figure>`` for every run
  figure, plus the reference's names for some of them.

The model is rebuilt when a registry changes (a test registering a component, say).
"""

from __future__ import annotations

import functools
import operator
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from swarm.agents.types import AGENT_TYPES
from swarm.errors import ConfigProblem
from swarm.governance.lever import LEVERS, LeverConfig, levers_in_order
from swarm.kernel.component import COMPONENTS, components_in_order
from swarm.metrics.registry import RUN_FIGURES
from swarm.registry import load_builtins
from swarm.scenario._sections import KillSwitchSpec, LLMRunSpec, Scenario, Section, SimulationSpec

CRITERIA_ALIASES = {
    "toxicity_threshold": "max_avg_toxicity",
    "max_toxicity": "max_avg_toxicity",
    "min_welfare": "min_total_welfare",
    "min_interactions": "min_total_interactions",
}
"""The reference's names for criteria that are a bound on a run figure."""

_cache: dict[tuple[int, ...], type[Scenario]] = {}


def _versions() -> tuple[int, ...]:
    return (AGENT_TYPES.version, COMPONENTS.version, LEVERS.version, RUN_FIGURES.version)


def scenario_model() -> type[Scenario]:
    """The scenario model for everything registered now (built once per registry state)."""
    load_builtins()
    key = _versions()
    model = _cache.get(key)
    if model is None:
        model = _cache[key] = _build()
    return model


def _field(default: Any, description: str = "", **constraints: Any) -> Any:
    return Field(default=default, description=description, **constraints)


def _merged(name: str, base: type[Section], parts: list[type[BaseModel]], doc: str) -> type[Section]:
    fields: dict[str, Any] = {}
    for part in parts:
        for key, info in part.model_fields.items():
            if key in fields or key in base.model_fields:
                raise ValueError(f"two registrations define the key {name}.{key}")
            fields[key] = (info.annotation, info)
    return create_model(name, __base__=base, __doc__=doc, **fields)


class EnvironmentBase(Section):
    """The world: starting endowments, plus the keys the components add (feed, tasks, broker)."""

    initial_resources: float = Field(default=100.0, ge=0.0, description="resources every agent starts with")
    initial_reputation: float = Field(default=0.0, description="reputation every agent starts with")


class SafetyBase(Section):
    """Safety rails: content length, the kill switch, plus budgets the components add."""

    max_content_length: int = Field(
        default=1000, ge=1, description="characters of free text an action may carry"
    )
    kill_switch: KillSwitchSpec = KillSwitchSpec()


def _limits_model(section: str) -> list[type[BaseModel]]:
    fields: dict[str, Any] = {}
    for cls in components_in_order():
        for limit in cls.rate_limits:
            if limit.section != section:
                continue
            annotation: Any = float | None if limit.cost is not None else int | None
            if limit.default is not None:
                annotation = float if limit.cost is not None else int
            fields[limit.key] = (annotation, _field(limit.default, f"{limit.description} ({cls.key})", ge=0))
    if not fields:
        return []
    # Only its fields are used (merged into the section): no validator is built for it.
    return [create_model(f"_{section}_limits", __config__=ConfigDict(defer_build=True), **fields)]


class GovernanceBase(Section):
    """Every lever's keys; see docs/governance.md."""

    composite_tasks_enabled: bool = Field(
        default=False,
        description="the reference's switch: true acts as an empty composite_tasks section",
    )

    @model_validator(mode="after")
    def _cannot_lie(self) -> GovernanceBase:
        for cls in levers_in_order():
            config = cls.Config.model_validate({k: getattr(self, k) for k in cls.Config.model_fields})
            if cls.active(config):
                continue
            switches = _switch_keys(cls.Config)
            for key, info in cls.Config.model_fields.items():
                value = getattr(self, key)
                if key not in self.model_fields_set or value == info.default:
                    continue
                aliases = tuple(getattr(info.validation_alias, "choices", ()))
                if key in switches:
                    others = ", ".join(k for k in cls.Config.model_fields if k != key)
                    raise ConfigProblem(
                        f"governance.{key}",
                        f"the {cls.title} lever is switched on but does nothing with the settings given",
                        f"settings that make it act (its keys: {others})",
                        aliases,
                    )
                raise ConfigProblem(
                    f"governance.{key}",
                    f"set, but the {cls.title} lever is off, so it would have no effect",
                    f"the lever turned on with {cls.switch}, or no {key}",
                    aliases,
                )
        return self


def _switch_keys(config: type[LeverConfig]) -> set[str]:
    """Keys that switch a lever on: its ``*_enabled`` booleans, or else its first key (a rate)."""
    keys = {k for k in config.model_fields if k.endswith("_enabled")}
    return keys or set(list(config.model_fields)[:1])


def _criteria_model() -> type[Section]:
    fields: dict[str, Any] = {}
    for name, fig in RUN_FIGURES.items():
        for bound, word in (("min", "at least"), ("max", "at most")):
            fields[f"{bound}_{name}"] = (float | None, _field(None, f"{fig.description}: {word} this"))
    for alias, target in CRITERIA_ALIASES.items():
        fields[alias] = (float | None, _field(None, f"the reference's name for {target}"))
    return create_model(
        "SuccessCriteria", __base__=Section, __doc__="Checks evaluated after a run.", **fields
    )


def _build() -> type[Scenario]:
    shared: dict[str, list[type[BaseModel]]] = {"environment": [], "rate_limits": [], "safety": []}
    own: dict[str, Any] = {}
    for cls in components_in_order():
        key = cls.key
        if cls.Config is None:
            continue
        if cls.section is None:
            own[key] = (cls.Config | None, None)
        elif cls.section in shared:
            shared[cls.section].append(cls.Config)
        else:
            raise ValueError(f"component {key}: unknown shared section {cls.section!r}")
    environment = _merged(
        "EnvironmentSpec", EnvironmentBase, shared["environment"], EnvironmentBase.__doc__ or ""
    )
    rate_limits = _merged(
        "RateLimitsSpec",
        Section,
        _limits_model("rate_limits"),
        "Per-agent limits: interactions per step, the rest per epoch.",
    )
    safety = _merged("SafetySpec", SafetyBase, _limits_model("safety"), SafetyBase.__doc__ or "")
    governance = _merged(
        "GovernanceConfig",
        GovernanceBase,
        [cls.Config for cls in levers_in_order()],
        GovernanceBase.__doc__ or "",
    )
    criteria = _criteria_model()
    population_check: Any = model_validator(mode="after")(_population)  # the cross-section checks
    specs = tuple(t.spec for t in AGENT_TYPES.values())
    agent_item: Any = (
        specs[0]
        if len(specs) == 1
        else Annotated[functools.reduce(operator.or_, specs), Field(discriminator="type")]
    )
    model = create_model(
        "Scenario",
        __base__=Scenario,
        __doc__=Scenario.__doc__,
        agents=(list[agent_item], Field(min_length=1)),
        simulation=(SimulationSpec, SimulationSpec()),
        environment=(environment, environment()),
        rate_limits=(rate_limits, rate_limits()),
        llm=(LLMRunSpec, LLMRunSpec()),
        safety=(safety, safety()),
        governance=(governance, governance()),
        success_criteria=(criteria, criteria()),
        __validators__={"_population": population_check},
        **own,
    )
    return model


def _population(self: Any) -> Any:
    """The cross-section checks of a generated scenario model (an after-validator)."""
    if sum(a.count for a in self.agents) == 0:
        raise ConfigProblem("agents", "the scenario has no agents (every count is 0)", "at least one agent")
    seen: dict[str, int] = {}
    for index, spec in enumerate(self.agents):
        prefix = spec.name or spec.type
        other = seen.setdefault(prefix, index)
        if other != index and spec.name is not None:
            raise ConfigProblem(
                f"agents.{index}.name",
                f"also the name of agents.{other}",
                "a name no other group has",
            )
    types = {spec.type for spec in self.agents}
    names = {spec.name for spec in self.agents if spec.name}
    clash = sorted(types & names)
    if clash:
        raise ValueError(
            f"the name {clash[0]!r} is also an agent type in this scenario, so ids would collide"
        )
    from swarm.metrics.registry import EPOCH_METRICS

    unknown = [m for m in self.metrics_to_track if m not in EPOCH_METRICS]
    if unknown:
        index = self.metrics_to_track.index(unknown[0])
        raise ConfigProblem(f"metrics_to_track.{index}", "not a metric", f"one of {', '.join(EPOCH_METRICS)}")
    for cls in components_in_order():
        if cls.enabled(self):
            cls.check(self)
    for lever_cls in levers_in_order():
        lever_cls.check(self)
    return self
