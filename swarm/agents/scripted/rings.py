"""Planted coordinated attackers: colluding rings and sybil rings (one controller, many identities).

Both are ground truth for the detectors: which ring an agent belongs to is set in
the scenario (``config.ring`` / ``config.controller``) and known to the harness
(:func:`planted_groups`); levers never see it, they see only what agents do.

* ``colluder`` — members of one ring propose to each other preferentially, accept
  each other's work whatever its quality, carry it out sloppily, pay each other a
  small transfer with every inside proposal, up-vote each other's posts and
  down-vote outsiders'; outsiders are exploited: low-quality trades that ask for a
  payment, proposed to outsiders it can reach, drawn at random.
* ``sybil`` — several identities driven by one controller. The controller's plan
  for an epoch comes from one random stream of its own (the same for every
  identity): in which steps the ring acts, and which few outsiders it exploits this
  epoch. Identities act in the same steps on the same targets, share their budget
  (the richer pay the poorest sibling), cast the same votes and accept each other.
  With ``jitter``, an identity acts on its own in a share of steps (a random
  outsider, at its own moment), which makes the ring harder to tell apart.
"""

from __future__ import annotations

import random
from typing import Any

from pydantic import Field

from swarm.actions import NOOP, Action, Conduct
from swarm.agents.scripted.base import ScriptedPolicy
from swarm.agents.types import BuildContext, PolicyConfig, chance, register_agent_type
from swarm.core.interaction import InteractionType
from swarm.env.broker import ProposalView, Propose
from swarm.env.feed import CastVote, CreatePost, PostView
from swarm.env.network_view import NetworkView
from swarm.runtime.rng import derive_rng
from swarm.views import AgentPublic, Observation

RING_NAME = r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}$"

INSIDE_CONDUCT = Conduct(effort=-0.5, sloppiness=0.9, defects=0.9, misuse=0.6, engagement=0.3)
"""Work a ring member does for another: sloppy, and accepted anyway."""
EXPLOIT_CONDUCT = Conduct(effort=-0.15, facade=0.45, sloppiness=0.4, defects=0.45, engagement=0.1)
"""Work done for an outsider: poor, behind a facade of visible effort."""
POSTS = ("Great results from our team again.", "Worth following these agents.", "Quality speaks for itself.")


class ColluderConfig(PolicyConfig):
    ring: str = Field(
        default="ring", pattern=RING_NAME, description="colluders with the same ring name collude"
    )
    interact_probability: float = chance(0.8, "chance to propose in a step")
    inside_probability: float = chance(0.6, "chance that a proposal goes to a ring member")
    boost_transfer: float = Field(
        default=1.0, ge=0.0, le=100.0, description="transfer paid to a ring member with each inside proposal"
    )
    exploit_transfer: float = Field(
        default=1.0, ge=0.0, le=100.0, description="payment asked of an outsider when exploiting it"
    )
    outsider_acceptance: float = chance(0.7, "chance to accept an outsider's proposal (and do poor work)")
    vote_probability: float = chance(0.5, "chance to vote in a step it does not propose")
    post_probability: float = chance(0.1, "chance to post in a step it does not propose")


class SybilConfig(PolicyConfig):
    controller: str = Field(
        default="sybil", pattern=RING_NAME, description="identities with the same controller are one actor"
    )
    act_probability: float = chance(0.7, "chance that the controller acts in a step (all identities at once)")
    targets_per_epoch: int = Field(
        default=2, ge=1, le=20, description="outsiders the controller exploits per epoch"
    )
    share_probability: float = chance(0.15, "chance that an identity pays the poorest sibling instead")
    exploit_transfer: float = Field(
        default=1.0, ge=0.0, le=100.0, description="payment asked of an outsider when exploiting it"
    )
    outsider_acceptance: float = chance(0.7, "chance to accept an outsider's proposal (and do poor work)")
    jitter: float = chance(
        0.0, "chance that an identity acts on its own in a step, not on the controller's plan"
    )


def _ring_of(ctx: BuildContext, kind: str, key: str, value: str) -> frozenset[str]:
    """The ids of every ``kind`` agent whose ``config.<key>`` is ``value`` (no scenario: all)."""
    if ctx.scenario is None:
        return ctx.ids_of_type(kind)
    return frozenset(
        agent_id
        for agent_id, spec in ctx.scenario.agent_ids()
        if spec.type == kind and getattr(spec.config, key) == value
    )


def planted_groups(scenario: Any) -> dict[str, str]:
    """Ground truth: every planted agent's id and its group (``ring:<name>`` or ``sybil:<controller>``)."""
    out: dict[str, str] = {}
    for agent_id, spec in scenario.agent_ids():
        if spec.type == "colluder":
            out[agent_id] = f"ring:{spec.config.ring}"
        elif spec.type == "sybil":
            out[agent_id] = f"sybil:{spec.config.controller}"
    return out


class _Ring(ScriptedPolicy):
    """What both kinds share: siblings, reach, votes."""

    __slots__ = ()

    def _siblings(self, observation: Observation) -> list[AgentPublic]:
        """Active ring members it can propose to, in registration order."""
        network: NetworkView | None = observation.snapshot.public.get(NetworkView)
        out = []
        for a in observation.snapshot.agents:
            mine = a.agent_id in self.allies and a.agent_id != self.agent_id and not a.frozen
            if mine and (network is None or network.reaches(self.agent_id, a.agent_id)):
                out.append(a)
        return out

    def _shared_vote(
        self, observation: Observation, outsiders: frozenset[str] | None = None
    ) -> CastVote | None:
        """Up-vote the newest post of a sibling; else down-vote the newest post of an outsider (``outsiders``
        limits which); the same choice for every member that sees the same feed."""
        if not observation.can(CastVote):
            return None
        posts = self.posts(observation)
        voted, me = set(self._voted), self.agent_id  # a look-up per post (see ScriptedPolicy._voted)
        fresh = [p for p in posts if p.post_id not in voted and p.author != me]
        up = [p for p in fresh if p.author in self.allies]
        if up:
            return self._vote_on(_newest(up), 1)
        down = [
            p for p in fresh if p.author not in self.allies and (outsiders is None or p.author in outsiders)
        ]
        return self._vote_on(_newest(down), -1) if down else None

    def accept(self, observation: Observation, proposal: ProposalView) -> bool:
        if proposal.initiator in self.allies:
            return True
        return self.rng.random() < self._outsider_acceptance()

    def _outsider_acceptance(self) -> float:
        raise NotImplementedError


def _newest(posts: list[PostView]) -> PostView:
    return max(posts, key=lambda p: (p.created_at_step, p.post_id))


class ColluderPolicy(_Ring):
    """A member of a colluding ring: boosts the ring, exploits outsiders."""

    kind = "colluder"
    Config = ColluderConfig
    default_conduct = EXPLOIT_CONDUCT
    config: ColluderConfig

    __slots__ = ()

    def _outsider_acceptance(self) -> float:
        return self.config.outsider_acceptance

    def decide(self, observation: Observation) -> Action:
        c, rng = self.config, self.rng
        if observation.can(Propose) and rng.random() < c.interact_probability:
            siblings = self._siblings(observation)
            if siblings and rng.random() < c.inside_probability:
                partner = siblings[int(rng.random() * len(siblings))]
                return Propose(
                    counterparty=partner.agent_id,
                    interaction_type=InteractionType.COLLABORATION,
                    content="Let's keep working together.",
                    offered_transfer=min(c.boost_transfer, max(observation.me.resources, 0.0)),
                    conduct=INSIDE_CONDUCT,
                )
            marks = [a for a in self._sample_others(observation) if a.agent_id not in self.allies]
            if marks:
                mark = marks[int(rng.random() * len(marks))]
                return Propose(
                    counterparty=mark.agent_id,
                    interaction_type=InteractionType.TRADE,
                    content="An exclusive offer from our group.",
                    offered_transfer=-c.exploit_transfer,
                    conduct=EXPLOIT_CONDUCT,
                )
        if observation.can(CreatePost) and rng.random() < c.post_probability:
            return CreatePost(content=POSTS[int(rng.random() * len(POSTS))])
        if rng.random() < c.vote_probability and (vote := self._shared_vote(observation)) is not None:
            return vote
        return NOOP


class SybilPolicy(_Ring):
    """One identity of a sybil ring: the controller's plan decides when it acts and against whom."""

    kind = "sybil"
    Config = SybilConfig
    default_conduct = EXPLOIT_CONDUCT
    config: SybilConfig

    __slots__ = ("_plan", "_plan_epoch", "_seed", "_steps")

    def __init__(self, *args: Any, seed: int = 0, steps: int = 10, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._seed = seed
        self._steps = steps
        self._plan_epoch = -1
        self._plan: tuple[list[bool], list[float]] = ([], [])

    def _outsider_acceptance(self) -> float:
        return self.config.outsider_acceptance

    def plan(self, epoch: int) -> tuple[list[bool], list[float]]:
        """The controller's plan for ``epoch``: whether the ring acts at each step, and the draw that orders
        the agents it exploits (the same for every identity of the controller)."""
        if epoch != self._plan_epoch:
            rng: random.Random = derive_rng(self._seed, "sybil", self.config.controller, str(epoch))
            acts = [rng.random() < self.config.act_probability for _ in range(self._steps)]
            self._plan = (acts, [rng.random() for _ in range(self.config.targets_per_epoch)])
            self._plan_epoch = epoch
        return self._plan

    def targets(self, observation: Observation) -> list[str]:
        """This epoch's outsiders to exploit, chosen among every agent in registration order."""
        outsiders = [a.agent_id for a in observation.snapshot.agents if a.agent_id not in self.allies]
        chosen: list[str] = []
        for draw in self.plan(observation.epoch)[1]:
            left = [a for a in outsiders if a not in chosen]
            if not left:
                break
            chosen.append(left[int(draw * len(left))])
        return chosen

    def decide(self, observation: Observation) -> Action:
        c, rng = self.config, self.rng
        if c.jitter > 0 and rng.random() < c.jitter:
            return self._own_move(observation)
        acts = self.plan(observation.epoch)[0]
        step = observation.step
        if not (0 <= step < len(acts) and acts[step]):
            vote = self._shared_vote(observation, frozenset(self.targets(observation)))
            return vote if vote is not None else NOOP
        if not observation.can(Propose):
            return NOOP
        if rng.random() < c.share_probability:
            siblings = self._siblings(observation)
            poorest = min(siblings, key=lambda a: (a.resources, a.agent_id), default=None)
            me = observation.me.resources
            if poorest is not None and me > poorest.resources + 2:
                return Propose(
                    counterparty=poorest.agent_id,
                    interaction_type=InteractionType.COLLABORATION,
                    offered_transfer=min(100.0, (me - poorest.resources) / 2),
                    conduct=INSIDE_CONDUCT,
                )
        network: NetworkView | None = observation.snapshot.public.get(NetworkView)
        for target in self.targets(observation):
            if observation.agent(target) is None:
                continue
            if network is not None and not network.reaches(self.agent_id, target):
                continue
            return Propose(
                counterparty=target,
                interaction_type=InteractionType.TRADE,
                content="A limited offer, today only.",
                offered_transfer=-c.exploit_transfer,
                conduct=EXPLOIT_CONDUCT,
            )
        return NOOP

    def _own_move(self, observation: Observation) -> Action:
        """A step on its own: acts with the controller's chance, against an outsider of its own choice."""
        c, rng = self.config, self.rng
        if not observation.can(Propose) or rng.random() >= c.act_probability:
            return NOOP
        marks = [a for a in self._sample_others(observation) if a.agent_id not in self.allies]
        if not marks:
            return NOOP
        return Propose(
            counterparty=marks[int(rng.random() * len(marks))].agent_id,
            interaction_type=InteractionType.TRADE,
            content="A limited offer, today only.",
            offered_transfer=-c.exploit_transfer,
            conduct=EXPLOIT_CONDUCT,
        )


def _build_colluder(agent_id: str, spec: Any, ctx: BuildContext) -> ColluderPolicy:
    ring = _ring_of(ctx, "colluder", "ring", spec.config.ring)
    return ColluderPolicy(agent_id, ctx.stream(agent_id), spec.config, allies=ring)


def _build_sybil(agent_id: str, spec: Any, ctx: BuildContext) -> SybilPolicy:
    ring = _ring_of(ctx, "sybil", "controller", spec.config.controller)
    steps = ctx.scenario.simulation.steps_per_epoch if ctx.scenario is not None else 10
    return SybilPolicy(agent_id, ctx.stream(agent_id), spec.config, allies=ring, seed=ctx.seed, steps=steps)


register_agent_type(
    "colluder",
    ColluderConfig,
    _build_colluder,
    description="A member of a colluding ring (config.ring): boosts the ring, exploits outsiders.",
)
register_agent_type(
    "sybil",
    SybilConfig,
    _build_sybil,
    description="One identity of a sybil ring (config.controller): its controller acts for all at once.",
)
