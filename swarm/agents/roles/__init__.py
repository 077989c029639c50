"""Roles: what an agent does because of its job in the world, whatever its type.

An agent item's ``role:`` (poster, worker, verifier, moderator, planner) gives the
agent a :class:`RoleBehaviour` beside its policy. Each step the role is asked
first (:meth:`RoleBehaviour.act`); when it has nothing to do (``None``) the
agent's own policy decides as usual. A role sees the same observation as the
policy and carries out its work with the policy's conduct, so an honest verifier
and a deceptive one differ. Roles are registered like agent types
(:func:`register_role`); a role with no registered behaviour, or one that does
not apply to the scenario (:meth:`RoleBehaviour.applies`: a worker without
composite tasks), leaves the agent exactly as it was.

For LLM agents a role adds its :attr:`RoleBehaviour.prompt` to the system prompt
and, when :attr:`RoleBehaviour.scripted_for_llm` is false, leaves the choice of
action to the model.

A role with settings declares them as a pydantic model (:attr:`RoleBehaviour.Config`);
an agent item's ``role_config:`` is validated against it when the scenario loads
(:func:`check_role_config`) and the behaviour receives it as ``self.config``.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ValidationError

from swarm.actions import Action, Conduct
from swarm.agents.policy import Outcome, Policy
from swarm.registry import Registry
from swarm.views import Observation

if TYPE_CHECKING:
    from swarm.runtime.rng import Rng
    from swarm.scenario import Scenario

__all__ = ["ROLES", "RoleBehaviour", "check_role_config", "register_role", "unwrap", "with_role"]


class RoleBehaviour:
    """Base of the role behaviours: one instance per agent that holds the role."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    prompt: ClassVar[str] = ""
    """What an LLM agent with this role is told (added to its system prompt)."""
    scripted_for_llm: ClassVar[bool] = False
    """Whether :meth:`act` also decides for LLM agents (otherwise the model does)."""
    Config: ClassVar[type[BaseModel] | None] = None
    """The role's settings (an agent item's ``role_config:``); None: the role takes none."""
    needs_config: ClassVar[bool] = False
    """Whether the role acts only for agents whose ``role_config`` is given (a role that scenarios
    used as a mere label before it could act stays a label there)."""

    def __init__(
        self, agent_id: str, rng: Rng, scenario: Scenario | None, config: Mapping[str, Any] | None = None
    ) -> None:
        self.agent_id = agent_id
        self.rng = rng
        self.scenario = scenario
        self.config: Any = self.Config.model_validate(dict(config or {})) if self.Config is not None else None

    @classmethod
    def applies(cls, scenario: Scenario | None) -> bool:
        """Whether the role has anything to do in ``scenario`` (when not, the agent is left alone)."""
        return True

    def act(self, observation: Observation, conduct: Conduct) -> Action | None:
        """The role's action this step, carried out with ``conduct``; None to let the policy decide."""
        return None

    def observe(self, outcome: Outcome) -> None:
        """Learn from a settled interaction of this agent."""

    def role_prompt(self) -> str:
        """What an LLM agent with this role is told: :attr:`prompt` (a role may add its settings)."""
        return self.prompt


ROLES: Registry[type[RoleBehaviour]] = Registry("role")


def register_role(cls: type[RoleBehaviour]) -> type[RoleBehaviour]:
    """Class decorator: make ``cls`` the behaviour of ``role: <cls.name>``."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} needs a name")
    ROLES.add(cls.name, cls)
    return cls


class _WithRole:
    """A policy with a role: the role acts first, the policy otherwise (plain methods: runs inline)."""

    __slots__ = ("inner", "role")

    def __init__(self, inner: Policy, role: RoleBehaviour) -> None:
        self.inner = inner
        self.role = role

    @property
    def conduct(self) -> Conduct:
        return self.inner.conduct

    def decide(self, observation: Observation) -> Action | Awaitable[Action]:
        action = self.role.act(observation, self.inner.conduct)
        return self.inner.decide(observation) if action is None else action

    def accept(self, observation: Observation, proposal: Any) -> bool | Awaitable[bool]:
        return self.inner.accept(observation, proposal)

    def observe(self, outcome: Outcome) -> None:
        self.role.observe(outcome)
        self.inner.observe(outcome)

    def __getattr__(self, name: str) -> Any:  # the policy's other attributes (work_conduct, rng, ...)
        if name.startswith("__") or name in ("inner", "role"):  # unpickling asks before the slots are set
            raise AttributeError(name)
        return getattr(self.inner, name)


class _AwaitingWithRole(_WithRole):
    """The same for a policy that awaits (an LLM policy): the role acts only if it scripts LLM agents."""

    __slots__ = ()

    async def decide(self, observation: Observation) -> Action:
        if self.role.scripted_for_llm:
            action = self.role.act(observation, self.inner.conduct)
            if action is not None:
                return action
        result = self.inner.decide(observation)
        return await result if inspect.isawaitable(result) else result

    async def accept(self, observation: Observation, proposal: Any) -> bool:
        result = self.inner.accept(observation, proposal)
        return await result if inspect.isawaitable(result) else result


def with_role(
    policy: Policy,
    role: str,
    agent_id: str,
    rng: Rng,
    scenario: Scenario | None,
    config: Mapping[str, Any] | None = None,
) -> Policy:
    """``policy`` with the behaviour of ``role`` when one is registered and applies, else ``policy``.

    ``config`` is the agent item's ``role_config``. An LLM policy (one with a ``system``
    prompt) is told the role's :attr:`~RoleBehaviour.prompt`.
    """
    cls = ROLES.get(role)
    if cls is None or not cls.applies(scenario) or (cls.needs_config and not config):
        return policy
    if getattr(policy, "declines_roles", False):  # a policy that does its role's work its own way
        return policy
    behaviour = cls(agent_id, rng, scenario, config)
    awaiting = any(inspect.iscoroutinefunction(getattr(policy, n, None)) for n in ("decide", "accept"))
    told = behaviour.role_prompt() if awaiting else ""
    if told and isinstance(getattr(policy, "system", None), str):
        policy.system = f"{policy.system}\n\nYour role: {told}"  # type: ignore[attr-defined]
    return (_AwaitingWithRole if awaiting else _WithRole)(policy, behaviour)


def check_role_config(role: str, config: Mapping[str, Any], key: str = "role_config") -> None:
    """Raise :class:`~swarm.errors.ConfigProblem` (naming ``key``) unless ``config`` is valid settings
    of ``role``."""
    from swarm.errors import ConfigProblem
    from swarm.registry import load_builtins

    load_builtins()
    cls = ROLES.get(role)
    model = cls.Config if cls is not None else None
    if model is None:
        if config:
            keys = ", ".join(sorted(map(str, config)))
            raise ConfigProblem(key, f"{keys} given, but role {role} takes no settings", "no role_config")
        return
    try:
        model.model_validate(dict(config))
    except ValidationError as exc:
        error = exc.errors()[0]
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, ConfigProblem):  # the settings' own check, named from role_config
            raise ConfigProblem(
                key + cause.key.removeprefix("role_config"), cause.problem, cause.expected
            ) from None
        where = ".".join(str(part) for part in error["loc"])
        if error["type"] == "extra_forbidden":
            problem, expected = "unknown key", f"one of {', '.join(model.model_fields)}"
        else:
            problem, expected = (
                f"{error['input']!r} is invalid",
                error["msg"].removeprefix("Input should be "),
            )
        raise ConfigProblem(f"{key}.{where}" if where else key, problem, expected) from None


def unwrap(policy: Any) -> Any:
    """The agent's own policy, without its role."""
    return policy.inner if isinstance(policy, _WithRole) else policy
