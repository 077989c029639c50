"""How the scripted policies take part in missions, when a scenario has them.

Coded behaviour (an assumption, not a finding): an agent not in a mission joins
the oldest open one it can afford with chance ``JOIN``; a *contributor* (honest)
in an active mission proposes an interaction to a random teammate with chance
``CONTRIBUTE``; a *free rider* (opportunistic) joins but never initiates mission
work, and only accepts what teammates propose. Without missions these rules
never fire and draw nothing from the policy's random stream.
"""

from __future__ import annotations

from swarm.actions import Action
from swarm.agents.scripted.base import ScriptedPolicy
from swarm.env.broker import Propose
from swarm.env.missions import JoinMission, MissionsView
from swarm.views import Observation

JOIN = 0.5
CONTRIBUTE = 0.6


def mission_action(policy: ScriptedPolicy, observation: Observation, *, contribute: bool) -> Action | None:
    """The mission action this policy takes now, if any (``contribute``: it does the mission's work)."""
    missions = observation.view(MissionsView)
    if missions is None or not missions.missions:
        return None
    me, rng = policy.agent_id, policy.rng
    mine = missions.mission_of(me)
    if mine is None:
        for m in missions.missions:
            if observation.me.resources >= m.join_stake and observation.can(JoinMission):
                return JoinMission(mission_id=m.mission_id) if rng.random() < JOIN else None
        return None
    if not contribute or mine.status != "active" or not observation.can(Propose):
        return None
    mates = [a for a in mine.members if a != me]
    if mates and rng.random() < CONTRIBUTE:
        return Propose(
            counterparty=mates[int(rng.random() * len(mates))],
            content="Working on our mission together.",
            conduct=policy.conduct,
        )
    return None
