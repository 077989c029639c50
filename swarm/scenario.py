"""Scenario files: the pydantic schema, YAML loading with located errors, and overrides.

Every section and key is validated; an unknown key is an error, never silently
dropped. Errors name the file, the key path (and line, where the YAML has one)
and what was expected.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from swarm.core.payoff import PayoffConfig
from swarm.errors import ScenarioError
from swarm.governance.config import GovernanceConfig

AgentType = Literal["honest", "opportunistic", "deceptive", "adversarial", "llm"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LLMSpec(_Strict):
    """How an LLM-backed agent thinks: provider, model(s) per role, persona and limits."""

    provider: Literal["anthropic", "openai", "ollama", "scripted"] = "anthropic"
    model: str = "claude-sonnet-4-20250514"
    role_models: dict[str, str] = Field(default_factory=dict)
    persona: Literal["honest", "strategic", "opportunistic", "deceptive", "adversarial", "open"] = "open"
    base_url: str | None = None
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    max_tokens: int = Field(default=512, ge=1)
    timeout: float = Field(default=30.0, gt=0.0)
    max_retries: int = Field(default=3, ge=0)
    system_prompt: str | None = None


class AgentSpec(_Strict):
    """A group of identical agents: ids are ``{name or type}_{n}``, counted per name."""

    type: AgentType = "honest"
    count: int = Field(default=1, ge=0)
    name: str | None = Field(default=None, pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$")
    role: Literal["worker", "poster", "planner", "verifier", "moderator"] = "worker"
    config: dict[str, float | int | bool] = Field(default_factory=dict)
    llm: LLMSpec | None = None

    @model_validator(mode="after")
    def _llm_only_for_llm_agents(self) -> AgentSpec:
        if self.llm is not None and self.type != "llm":
            raise ValueError("an 'llm' section only belongs to agents of type 'llm'")
        return self


class SimulationSpec(_Strict):
    """How long the run is, its seed, and in which order actions are applied."""

    n_epochs: int = Field(default=10, ge=1)
    steps_per_epoch: int = Field(default=10, ge=1)
    seed: int = Field(default=0, ge=0)
    schedule: Literal["round_robin", "random", "priority"] = "round_robin"
    max_actions_per_step: int | None = Field(default=None, ge=1)
    policy_timeout: float = Field(default=60.0, gt=0.0)


class RateLimitsSpec(_Strict):
    """Per-agent limits; interactions are per step, everything else per epoch."""

    posts_per_epoch: int = Field(default=10, ge=0)
    interactions_per_step: int = Field(default=5, ge=0)
    votes_per_epoch: int = Field(default=50, ge=0)
    tasks_per_epoch: int = Field(default=3, ge=0)
    bounties_per_epoch: int = Field(default=3, ge=0)
    bids_per_epoch: int = Field(default=5, ge=0)


class EnvironmentSpec(_Strict):
    """The world: starting endowments, the feed's ranking, the task supply."""

    initial_resources: float = Field(default=100.0, ge=0.0)
    initial_reputation: float = 0.0
    visible_posts: int = Field(default=20, ge=0)
    reply_weight: float = Field(default=0.5, ge=0.0)
    age_decay: float = Field(default=0.1, ge=0.0)
    feed_window_steps: int = Field(default=50, ge=1)
    tasks_per_epoch: int = Field(default=2, ge=0)
    task_deadline_epochs: int = Field(default=2, ge=1)
    task_bounty: float = Field(default=5.0, ge=0.0)
    proposal_ttl_steps: int = Field(default=1, ge=1)


class KillSwitchSpec(_Strict):
    """Stop the run early when the system goes bad (off unless a threshold is set)."""

    enabled: bool = True
    max_epoch_toxicity: float | None = Field(default=None, ge=0.0, le=1.0)
    max_frozen_fraction: float | None = Field(default=None, ge=0.0, le=1.0)


class SafetySpec(_Strict):
    """Safety rails: content length, per-agent transfer budget, and the kill switch."""

    max_content_length: int = Field(default=1000, ge=1)
    transfer_budget_per_epoch: float | None = Field(default=None, ge=0.0)
    kill_switch: KillSwitchSpec = KillSwitchSpec()


class SuccessCriteria(_Strict):
    """Checks the CLI evaluates after a run; a failing one makes it exit non-zero."""

    min_epochs: int | None = Field(default=None, ge=0)
    min_agents: int | None = Field(default=None, ge=0)
    min_interactions: int | None = Field(default=None, ge=0)
    toxicity_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    min_total_welfare: float | None = None
    max_quality_gap_negative_epochs: int | None = Field(default=None, ge=0)


class MarketplaceSpec(_Strict):
    """The marketplace (off unless this section is present and enabled)."""

    enabled: bool = True
    escrow_fee_rate: float = Field(default=0.02, ge=0.0, le=1.0)
    min_bounty_amount: float = Field(default=1.0, ge=0.0)
    max_bids_per_bounty: int = Field(default=10, ge=1)
    bid_deadline_epochs: int = Field(default=3, ge=1)
    dispute_resolution_epochs: int = Field(default=2, ge=0)
    auto_expire_bounties: bool = True
    dispute_default_split: float = Field(default=0.5, ge=0.0, le=1.0)
    delivery_deadline_epochs: int = Field(default=2, ge=1)


class Scenario(_Strict):
    """A complete, validated scenario."""

    scenario_id: str = "unnamed"
    description: str = ""
    motif: str = ""
    agents: tuple[AgentSpec, ...] = Field(min_length=1)
    simulation: SimulationSpec = SimulationSpec()
    rate_limits: RateLimitsSpec = RateLimitsSpec()
    payoff: PayoffConfig = PayoffConfig()
    governance: GovernanceConfig = GovernanceConfig()
    environment: EnvironmentSpec = EnvironmentSpec()
    safety: SafetySpec = SafetySpec()
    marketplace: MarketplaceSpec | None = None
    success_criteria: SuccessCriteria = SuccessCriteria()

    @model_validator(mode="after")
    def _agent_names_do_not_collide(self) -> Scenario:
        if sum(a.count for a in self.agents) == 0:
            raise ValueError("the scenario has no agents (every count is 0)")
        return self

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

    def with_overrides(self, overrides: Iterable[str]) -> Scenario:
        """A copy with ``key.path=value`` overrides applied and re-validated."""
        data = self.model_dump(mode="json")
        apply_overrides(data, overrides)
        return validate_scenario(data, source="<overrides>")


# ------------------------------------------------------------------------ loading


def load_scenario(path: str | Path | Mapping[str, Any], overrides: Sequence[str] = ()) -> Scenario:
    """Load and validate a scenario from a YAML file (or an already parsed mapping).

    ``overrides`` are ``key.path=value`` strings (values parsed as YAML), applied
    before validation, so an override gets exactly the checks the file gets.
    """
    if isinstance(path, Mapping):
        data: Any = copy.deepcopy(dict(path))
        source, text = "<mapping>", None
    else:
        p = Path(path)
        source = str(p)
        if not p.is_file():
            raise ScenarioError(source, None, "file not found", "a path to a scenario YAML file")
        text = p.read_text(encoding="utf-8")
        try:
            data = yaml.safe_load(text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            line = mark.line + 1 if mark is not None else None
            raise ScenarioError(
                source, None, f"malformed YAML: {exc.problem}", "valid YAML", line=line
            ) from None
        except yaml.YAMLError as exc:
            raise ScenarioError(source, None, f"malformed YAML: {exc}", "valid YAML") from None
    if not isinstance(data, dict):
        raise ScenarioError(source, None, "the top level is not a mapping", "a mapping of sections")
    apply_overrides(data, overrides)
    return validate_scenario(data, source=source, text=text)


def validate_scenario(data: Mapping[str, Any], *, source: str, text: str | None = None) -> Scenario:
    """Validate parsed scenario data, turning the first pydantic error into a ScenarioError."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        key = _dotted(loc)
        value = _lookup(data, loc)
        message, expected = _explain(err)
        line = _line_of(text, loc) if text is not None else None
        raise ScenarioError(source, key, message, expected, value=value, line=line) from None


def apply_overrides(data: dict[str, Any], overrides: Iterable[str]) -> None:
    """Apply ``a.b.c=value`` overrides in place (list items by index: ``agents.0.count=3``)."""
    for item in overrides:
        if "=" not in item:
            raise ScenarioError(
                "--set", item, "an override needs '='", "KEY.PATH=VALUE, e.g. governance.audit_enabled=true"
            )
        key, raw = item.split("=", 1)
        parts = [p for p in key.strip().split(".") if p]
        if not parts:
            raise ScenarioError("--set", item, "empty key path", "KEY.PATH=VALUE")
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        node: Any = data
        for i, part in enumerate(parts[:-1]):
            nxt = _child(node, part)
            if nxt is None:
                nxt = {}
                _set_child(node, part, nxt, key)
            elif not isinstance(nxt, dict | list):
                where = ".".join(parts[: i + 1])
                raise ScenarioError("--set", key, f"{where} is not a section", "a path to a key")
            node = nxt
        _set_child(node, parts[-1], value, key)


def _child(node: Any, part: str) -> Any:
    if isinstance(node, list):
        idx = _index(part, len(node))
        return node[idx] if idx is not None else None
    return node.get(part) if isinstance(node, dict) else None


def _set_child(node: Any, part: str, value: Any, key: str) -> None:
    if isinstance(node, list):
        idx = _index(part, len(node))
        if idx is None:
            raise ScenarioError("--set", key, f"no list item {part!r}", f"an index below {len(node)}")
        node[idx] = value
    else:
        node[part] = value


def _index(part: str, length: int) -> int | None:
    return int(part) if part.isdigit() and int(part) < length else None


def _dotted(loc: Sequence[Any]) -> str:
    return ".".join(str(p) for p in loc) if loc else "<top level>"


def _lookup(data: Any, loc: Sequence[Any]) -> Any:
    node = data
    for part in loc:
        in_map = isinstance(node, Mapping) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if in_map or in_list:
            node = node[part]
        else:
            return _MISSING
    return node


_MISSING = object()


def _explain(err: Mapping[str, Any]) -> tuple[str, str]:
    kind = err["type"]
    ctx = err.get("ctx", {})
    if kind == "extra_forbidden":
        return "unknown key", "one of the keys this section defines (see docs/scenarios.md)"
    if kind == "missing":
        return "missing key", "this key is required"
    if kind == "literal_error":
        return "not an allowed value", f"one of {ctx.get('expected', '')}"
    if kind in {"greater_than_equal", "greater_than", "less_than_equal", "less_than"}:
        bounds = {
            "greater_than_equal": ">=",
            "greater_than": ">",
            "less_than_equal": "<=",
            "less_than": "<",
        }
        bound = next(iter(ctx.values()), "")
        return "out of range", f"a value {bounds[kind]} {bound}"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return "wrong type", err["msg"].replace("Input should be", "a value that is").rstrip(".")
    return "invalid value", str(err["msg"]).removeprefix("Value error, ")


def _line_of(text: str, loc: Sequence[Any]) -> int | None:
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == str(part)), None)
            key_node = next((k for k, _ in node.value if k.value == str(part)), None)
            if key_node is None:
                break
            line = key_node.start_mark.line + 1
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line
