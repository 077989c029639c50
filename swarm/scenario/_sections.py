"""The scenario's fixed sections, and the base class of every scenario model.

The full model adds what the registries contribute (agent types, component
sections and keys, lever keys, success criteria); see :mod:`swarm.scenario._schema`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from swarm.core.payoff import PayoffConfig

if TYPE_CHECKING:
    from swarm.agents.types import AgentSpec


class Section(BaseModel):
    """Base of every section: frozen, unknown keys refused, no coercion to numbers, finite numbers only."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, populate_by_name=True, allow_inf_nan=False
    )


class SimulationSpec(Section):
    """How long the run is, its seed, and in which order actions are applied."""

    n_epochs: int = Field(default=10, ge=1, validation_alias=AliasChoices("n_epochs", "epochs"))
    steps_per_epoch: int = Field(default=10, ge=1)
    seed: int = Field(default=0, ge=0)
    schedule: Literal["round_robin", "random", "priority"] = "round_robin"
    max_actions_per_step: int | None = Field(default=None, ge=1)
    policy_timeout: float = Field(default=60.0, gt=0.0)


class KillSwitchSpec(Section):
    """Stop the run early when the system goes bad (off unless a threshold is set)."""

    enabled: bool = True
    max_epoch_toxicity: float | None = Field(default=None, ge=0.0, le=1.0)
    max_frozen_fraction: float | None = Field(default=None, ge=0.0, le=1.0)


class ModelPrice(Section):
    """USD per million input and output tokens of one model."""

    input: float = Field(ge=0.0)
    output: float = Field(ge=0.0)


class LLMRateLimitSpec(Section):
    """Requests and tokens per minute one provider (or one of its models) may be sent."""

    requests_per_minute: int | None = Field(default=None, ge=1)
    tokens_per_minute: int | None = Field(default=None, ge=1)


class LLMRunSpec(Section):
    """What a run's LLM calls may cost, how many may fail, and how fast they may be sent (docs/llm.md)."""

    max_cost_usd: float | None = Field(default=None, gt=0.0)
    """Stop the run (reason ``llm_budget``) once its LLM calls have cost this much."""
    prices: dict[str, ModelPrice] = Field(default_factory=dict)
    """Prices by model, over the built-in table (and over ``prices_file``)."""
    prices_file: str | None = None
    """A YAML or JSON file of ``model: {input: USD, output: USD}`` per million tokens."""
    max_failure_rate: float | None = Field(default=0.5, ge=0.0, le=1.0)
    """Stop the run (reason ``llm_unhealthy``) when more than this share of an epoch's calls fail."""
    min_calls: int = Field(default=5, ge=1)
    """Epochs with fewer LLM calls than this are not judged by ``max_failure_rate``."""
    rate_limits: dict[str, LLMRateLimitSpec] = Field(default_factory=dict)
    """By ``provider`` (all its models together) or ``provider/model``."""

    @field_validator("rate_limits")
    @classmethod
    def _known_providers(cls, value: dict[str, LLMRateLimitSpec]) -> dict[str, LLMRateLimitSpec]:
        for key in value:
            provider = key.split("/", 1)[0]
            if provider not in ("anthropic", "openai", "ollama") or key.endswith("/"):
                raise ValueError(
                    f"{key!r}: expected a provider (anthropic, openai, ollama) or provider/model"
                )
        return value


class OutputsSpec(Section):
    """Extra copies of the run's outputs (the reference's keys); relative paths from the working directory."""

    event_log: str | None = None
    metrics_csv: str | None = None

    @field_validator("event_log", "metrics_csv")
    @classmethod
    def _inside_the_working_directory(cls, value: str | None) -> str | None:
        if value is not None and not is_confined(value):
            raise ValueError(
                "a relative file path inside the working directory (not absolute, no '..', no ~)"
            )
        return value


def is_confined(path: str) -> bool:
    """Whether ``path`` is a relative file path that cannot leave the folder it is taken from.

    Checked as written, on every platform: not absolute (``/x``, ``C:\\x``, ``\\\\server``),
    no ``..`` part, no ``~`` expansion, no NUL, not empty.
    """
    if not path or "\x00" in path or path.startswith("~"):
        return False
    for flavour in (PurePosixPath(path), PureWindowsPath(path)):
        if flavour.is_absolute() or flavour.anchor or ".." in flavour.parts:
            return False
    return path.strip() not in ("", ".")


class Scenario(BaseModel):
    """A complete, validated scenario (an instance of the model the registries generate).

    Build one with :func:`swarm.load_scenario` or :func:`swarm.scenario.validate_scenario`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    scenario_id: str = Field(default="unnamed", pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=100)
    description: str = ""
    motif: str = ""
    payoff: PayoffConfig = PayoffConfig()
    outputs: OutputsSpec = OutputsSpec()
    metrics_to_track: list[str] = Field(default_factory=list)
    """Metrics shown in the terminal's per-epoch table (names of registered epoch metrics)."""

    if TYPE_CHECKING:
        agents: list[AgentSpec]
        simulation: SimulationSpec
        governance: Any
        environment: Any
        rate_limits: Any
        llm: LLMRunSpec
        safety: Any
        success_criteria: Any

    def agent_ids(self) -> list[tuple[str, AgentSpec]]:
        """The agents' ids in registration order, paired with their spec."""
        counters: dict[str, int] = {}
        out: list[tuple[str, AgentSpec]] = []
        for spec in self.agents:
            prefix = spec.name or spec.type
            for _ in range(spec.count):
                counters[prefix] = counters.get(prefix, 0) + 1
                out.append((f"{prefix}_{counters[prefix]}", spec))
        return out

    def section(self, component: str) -> Any:
        """A component's settings: its own section (None when absent) or its keys of a shared section."""
        from swarm.kernel.component import COMPONENTS

        cls = COMPONENTS[component]
        if cls.Config is None:
            return None
        if cls.section is None:
            return getattr(self, component, None)
        shared = getattr(self, cls.section)
        return cls.Config.model_validate({k: getattr(shared, k) for k in cls.Config.model_fields})

    def with_overrides(self, overrides: Iterable[str]) -> Scenario:
        """A copy with ``key.path=value`` overrides applied and re-validated."""
        from swarm.scenario._load import apply_overrides, validate_scenario

        data = self.model_dump(mode="json", exclude_unset=True)
        apply_overrides(data, overrides)
        return validate_scenario(data, source="<overrides>")
