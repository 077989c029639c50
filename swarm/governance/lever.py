"""The Lever interface: one actor per lever, answering the engine's four hook messages.

A lever keeps its state private and changes it only in its handlers; the pure
methods below are what a lever overrides. The engine asks every lever at each
hook and combines the answers in its fixed lever order, never in arrival order.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import Field

from actors import Actor, Message, handler
from swarm.core.interaction import SoftInteraction
from swarm.governance.base import Effect
from swarm.messages import AgentPublic
from swarm.metrics.epoch import EpochMetrics

Costs = dict[str, tuple[float, float]]
"""Per interaction id: (cost to the initiator, cost to the counterparty)."""


class EpochStartHook(Message):
    epoch: int
    agents: tuple[AgentPublic, ...]


class AdmissionHook(Message):
    epoch: int
    step: int
    agents: tuple[AgentPublic, ...]


class InteractionHook(Message):
    epoch: int
    step: int
    interactions: tuple[SoftInteraction, ...]


class EpochEndHook(Message):
    epoch: int
    metrics: EpochMetrics
    agents: tuple[AgentPublic, ...]


class LeverEffects(Message):
    effects: tuple[Effect, ...] = ()
    costs: Costs = Field(default_factory=dict)


class Blocked(Message):
    reasons: dict[str, str] = Field(default_factory=dict)


class Lever(Actor):
    """Base of every lever: no-op hooks; subclasses override the pure methods."""

    key: str = "lever"

    def epoch_start(self, epoch: int, agents: Sequence[AgentPublic]) -> list[Effect]:
        return []

    def blocked(self, epoch: int, step: int, agents: Sequence[AgentPublic]) -> dict[str, str]:
        return {}

    def on_interactions(
        self, epoch: int, step: int, interactions: Sequence[SoftInteraction]
    ) -> tuple[Costs, list[Effect]]:
        return {}, []

    def epoch_end(self, epoch: int, metrics: EpochMetrics, agents: Sequence[AgentPublic]) -> list[Effect]:
        return []

    @handler
    async def on_epoch_start(self, msg: EpochStartHook) -> LeverEffects:
        return LeverEffects.model_construct(effects=tuple(self.epoch_start(msg.epoch, msg.agents)), costs={})

    @handler
    async def on_admission(self, msg: AdmissionHook) -> Blocked:
        return Blocked.model_construct(reasons=self.blocked(msg.epoch, msg.step, msg.agents))

    @handler
    async def on_interaction(self, msg: InteractionHook) -> LeverEffects:
        costs, effects = self.on_interactions(msg.epoch, msg.step, msg.interactions)
        return LeverEffects.model_construct(effects=tuple(effects), costs=costs)

    @handler
    async def on_epoch_end(self, msg: EpochEndHook) -> LeverEffects:
        return LeverEffects.model_construct(
            effects=tuple(self.epoch_end(msg.epoch, msg.metrics, msg.agents)), costs={}
        )
