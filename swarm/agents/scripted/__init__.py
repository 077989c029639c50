"""The scripted agent types: honest, opportunistic, deceptive, adversarial (each registers itself)."""

from swarm.agents.scripted.adversarial import AdversarialPolicy
from swarm.agents.scripted.base import MarketHabits, ScriptedPolicy
from swarm.agents.scripted.deceptive import DeceptivePolicy
from swarm.agents.scripted.honest import HonestPolicy
from swarm.agents.scripted.opportunistic import OpportunisticPolicy
from swarm.agents.scripted.rings import ColluderPolicy, SybilPolicy

__all__ = [
    "AdversarialPolicy",
    "ColluderPolicy",
    "DeceptivePolicy",
    "HonestPolicy",
    "MarketHabits",
    "OpportunisticPolicy",
    "ScriptedPolicy",
    "SybilPolicy",
]
