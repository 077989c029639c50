"""The sybil controller: an adversarial agent that buys new identities when it can afford them.

Its identities are the dormant agents listed under its id in the scenario's
``identity.controllers`` (any agent type); each one it creates pays the
proof-of-personhood cost from its own resources. Between creations it acts like
the adversarial type, and treats its identities as allies.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from swarm.actions import Action
from swarm.agents.scripted.adversarial import AdversarialConfig, AdversarialPolicy
from swarm.agents.types import BuildContext, chance, register_agent_type
from swarm.env.identity import CreateIdentity
from swarm.env.identity_view import IdentityView
from swarm.views import Observation


class SybilControllerConfig(AdversarialConfig):
    create_probability: float = chance(1.0, "chance to create an identity in a step when it can")
    reserve: float = Field(
        default=0.0, ge=0.0, le=1_000_000.0, description="resources it keeps after paying for an identity"
    )


class SybilControllerPolicy(AdversarialPolicy):
    """Creates its dormant identities one by one while it can pay, else acts adversarially."""

    kind = "sybil_controller"
    Config = SybilControllerConfig
    config: SybilControllerConfig

    __slots__ = ("_identities",)

    def __init__(self, *args: Any, identities: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._identities = identities

    def decide(self, observation: Observation) -> Action:
        view = observation.view(IdentityView)
        if (
            view is not None
            and observation.can(CreateIdentity)
            and any(i in view.dormant for i in self._identities)
            and observation.me.resources - view.personhood_cost >= self.config.reserve
            and self.rng.random() < self.config.create_probability
        ):
            return CreateIdentity()
        return super().decide(observation)


def _build(agent_id: str, spec: Any, ctx: BuildContext) -> SybilControllerPolicy:
    identities: tuple[str, ...] = ()
    section = getattr(ctx.scenario, "identity", None) if ctx.scenario is not None else None
    if section is not None:
        identities = tuple(section.controllers.get(agent_id, ()))
    allies = ctx.ids_of_type(SybilControllerPolicy.kind) | frozenset(identities)
    return SybilControllerPolicy(
        agent_id, ctx.stream(agent_id), spec.config, allies=allies, identities=identities
    )


register_agent_type(
    SybilControllerPolicy.kind,
    SybilControllerConfig,
    _build,
    description="An adversary that pays the proof-of-personhood cost to bring its dormant identities "
    "(identity.controllers) into the run, then acts adversarially.",
)
