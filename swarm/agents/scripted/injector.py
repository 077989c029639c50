"""The injector type: plants injection payloads in messages (the security threat model's attacker)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from swarm.actions import NOOP, Action
from swarm.agents.scripted.base import ScriptedPolicy
from swarm.agents.types import PolicyConfig, chance
from swarm.env.broker import ProposalView
from swarm.env.feed import CreatePost
from swarm.env.security import SendMessage, payload_text
from swarm.views import Observation


class InjectorConfig(PolicyConfig):
    payload: Literal["worm", "leak"] = Field(
        default="worm", description="worm: a self-relaying message; leak: asks for the reader's secret key"
    )
    attack_probability: float = chance(0.3, "chance to send a payload in a step")
    evasion: float = chance(0.0, "chance a payload is phrased to avoid the analyzer's phrase list")
    channel: Literal["message", "post"] = Field(
        default="message", description="message: sent to everyone within reach; post: on the feed"
    )
    max_attacks: int | None = Field(default=None, ge=0, description="payloads sent at most (None: no limit)")


class InjectorPolicy(ScriptedPolicy):
    """Sends payload-carrying messages to every agent within reach (or posts them); never works or trades."""

    kind = "injector"
    Config = InjectorConfig
    config: InjectorConfig

    __slots__ = ("_sent",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sent = 0

    def decide(self, observation: Observation) -> Action:
        c = self.config
        kind = CreatePost if c.channel == "post" else SendMessage
        if not observation.can(kind) or (c.max_attacks is not None and self._sent >= c.max_attacks):
            return NOOP
        if self.rng.random() >= c.attack_probability:
            return NOOP
        evasive = self.rng.random() < c.evasion
        self._sent += 1
        text = payload_text(c.payload, self.agent_id, self.agent_id, evasive)
        if c.channel == "post":
            return CreatePost(content=text)
        return SendMessage(recipient="*", content=text)

    def accept(self, observation: Observation, proposal: ProposalView) -> bool:
        return False


InjectorPolicy.register("Plants injection payloads (a worm, or a request for secrets) in messages.")
