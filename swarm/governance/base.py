"""The engine-facing face of governance: the four hook points and the effects levers return.

The step driver calls, in this order each epoch: :meth:`Governance.epoch_start`,
then every step :meth:`Governance.blocked` (admission) and
:meth:`Governance.on_interactions` (costs and effects of each labelled
interaction, before payoffs), and :meth:`Governance.epoch_end`. Each hook
returns :class:`Effect` records; the driver applies them to the ledger and logs
each as a ``GovernanceApplied`` event.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from actors import ActorSystem
from swarm.core.interaction import SoftInteraction
from swarm.messages import AgentPublic
from swarm.metrics.epoch import EpochMetrics

EffectKind = Literal["cost", "reputation", "resources", "freeze", "unfreeze", "audit", "flag"]


class Effect(BaseModel):
    """One lever's effect on one agent.

    ``cost`` is charged inside the interaction's payoff (c_a or c_b);
    ``reputation``/``resources`` are direct ledger changes; ``freeze`` carries the
    epoch it lasts until in ``until_epoch``; ``audit``/``flag`` only record evidence.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    lever: str
    agent_id: str
    kind: EffectKind
    amount: float = 0.0
    reason: str = ""
    interaction_id: str | None = None
    until_epoch: int | None = None
    confidence: float | None = None


class Governance:
    """No levers: every hook is a no-op. Subclassed by the lever engine."""

    def attach(self, system: ActorSystem) -> None:
        """Spawn the engine's actors (its levers) into the run's actor system."""

    async def epoch_start(self, epoch: int, agents: Sequence[AgentPublic]) -> list[Effect]:
        return []

    async def blocked(self, epoch: int, step: int, agents: Sequence[AgentPublic]) -> dict[str, str]:
        """Agents not admitted to act this step, with the reason."""
        return {}

    async def on_interactions(
        self, epoch: int, step: int, interactions: Sequence[SoftInteraction]
    ) -> tuple[list[SoftInteraction], list[Effect]]:
        """Fill each interaction's governance costs (c_a, c_b) and return other effects."""
        return list(interactions), []

    async def epoch_end(
        self, epoch: int, metrics: EpochMetrics, agents: Sequence[AgentPublic]
    ) -> list[Effect]:
        return []
