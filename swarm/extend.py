"""Everything needed to add to SWARM: a world component, a lever, a metric, an agent type.

Each is one new file plus, at most, one registration line (the decorator or
call below); see docs/extending.md for a worked example of each.
"""

from swarm.agents.scripted.base import MarketHabits, ScriptedPolicy
from swarm.agents.types import AgentSpec, BuildContext, PolicyConfig, register_agent_type
from swarm.governance.effects import Cost, Effect, Evidence, FreezeOrder, ReputationChange, ResourceChange
from swarm.governance.lever import Lever, LeverConfig, lever
from swarm.kernel.component import Applied, At, RateLimit, Setup, Turn, WorldComponent, component
from swarm.metrics.registry import (
    EpochData,
    RunData,
    count,
    epoch_metric,
    mean_of,
    pooled,
    run_figure,
    sum_of,
)
from swarm.money import Burn, Entry, Freeze, Mint, Reputation, Transfer, Unfreeze

__all__ = [
    "AgentSpec",
    "Applied",
    "At",
    "BuildContext",
    "Burn",
    "Cost",
    "Effect",
    "Entry",
    "EpochData",
    "Evidence",
    "Freeze",
    "FreezeOrder",
    "Lever",
    "LeverConfig",
    "MarketHabits",
    "Mint",
    "PolicyConfig",
    "RateLimit",
    "Reputation",
    "ReputationChange",
    "ResourceChange",
    "RunData",
    "ScriptedPolicy",
    "Setup",
    "Transfer",
    "Turn",
    "Unfreeze",
    "WorldComponent",
    "component",
    "count",
    "epoch_metric",
    "lever",
    "mean_of",
    "pooled",
    "register_agent_type",
    "run_figure",
    "sum_of",
]
