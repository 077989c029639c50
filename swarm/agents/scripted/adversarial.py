"""The adversarial type: maximises harm to the system, at its own cost."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from swarm.actions import NOOP, Action, Conduct
from swarm.agents.scripted.base import NO_BOARD, NO_FEED, MarketHabits, ScriptedPolicy
from swarm.agents.scripted.external import external_action
from swarm.agents.scripted.market import market_action
from swarm.agents.types import PolicyConfig, chance
from swarm.core.interaction import InteractionType
from swarm.env.boundary import BoundaryView
from swarm.env.broker import ProposalView, Propose
from swarm.env.feed import CastVote, CreatePost, FeedView
from swarm.env.marketplace import MarketView
from swarm.env.network_view import NetworkView
from swarm.env.tasks import ClaimTask, SubmitWork, TaskBoardView
from swarm.views import AgentPublic, Observation

POSTS = (
    "The rules here are a joke.",
    "Nobody should trust the top posters.",
    "This whole board is rigged.",
    "Ignore the verifiers, they never check anything.",
    "Why bother doing tasks properly?",
)
_NO_WEIGHTS: dict[str, float] = {}
"""Its difficulty weights: none (every task weighs 3); one dict, so that its task values are kept."""


class AdversarialConfig(PolicyConfig):
    post_probability: float = chance(0.5, "chance to post in a step")
    attack_probability: float = chance(0.6, "chance to attack when ready")
    attack_cooldown: int = Field(
        default=2, ge=0, description="turns counted down after an attack before the next (1: none)"
    )
    target_reputation: float = Field(default=0.0, description="reputation above which an agent is a target")


class AdversarialPolicy(ScriptedPolicy):
    """Maximises harm to the system, at its own cost: targets reputable agents, disrupts the feed.

    Adversaries know their allies (the other adversaries of the scenario) but,
    like everyone, nobody's type: they target agents by visible reputation and wealth.
    """

    kind = "adversarial"
    Config = AdversarialConfig
    default_conduct = Conduct(effort=-0.05, sloppiness=0.67, defects=0.75, misuse=0.5, engagement=-0.22)
    market = MarketHabits(post=0.2, hostile=True)
    config: AdversarialConfig

    __slots__ = ("_cooldown",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._cooldown = 0

    def _is_ally(self, agent_id: str) -> bool:
        return agent_id != self.agent_id and agent_id in self.allies

    def _is_target(self, agent: AgentPublic | None) -> bool:
        return (
            agent is not None
            and agent.agent_id not in self.allies
            and (agent.reputation > self._settings.target_reputation or agent.resources > 50)
        )

    def _targets(self, others: list[AgentPublic]) -> list[str]:
        bar, allies = self._settings.target_reputation, self.allies
        return [
            a.agent_id
            for a in others
            if (a.reputation > bar or a.resources > 50) and a.agent_id not in allies
        ]

    def decide(self, observation: Observation) -> Action:
        c: AdversarialConfig = self._settings  # self.config, as a struct: read every turn
        rng = self.rng
        public = observation.snapshot.public  # the optional economies' rules only when the world has them
        board: TaskBoardView = public.get(TaskBoardView, NO_BOARD)  # my_tasks(), open_tasks(), inline
        forbidden = observation.forbidden  # what its rate limits forbid now (observation.can, inline)
        if MarketView in public and (trade := market_action(self, observation)) is not None:
            return trade
        if BoundaryView in public and (request := external_action(self, observation)) is not None:
            return request
        if self._cooldown > 0:
            self._cooldown -= 1
        others: list[AgentPublic] | None = None
        if self._cooldown == 0 and rng.random() < c.attack_probability:
            attack: Action | None = None
            tasks = board.open_tasks
            can_propose = Propose not in forbidden
            targets = self._targets(others := self._sample_others(observation)) if can_propose else []
            if targets:
                attack = Propose(
                    counterparty=rng.choice(targets),
                    interaction_type=InteractionType.TRADE,
                    content="You won't want to miss this opportunity.",
                    conduct=self.conduct,
                )
            elif ClaimTask not in forbidden and tasks:
                best = self._best_task(tasks, observation.me.reputation, _NO_WEIGHTS)
                if best is not None:
                    attack = ClaimTask(task_id=best.task_id)
            elif CreatePost not in forbidden:
                attack = CreatePost(content=rng.choice(POSTS))
            if attack is not None:
                self._cooldown = c.attack_cooldown
                return attack
        mine = board.by_worker.get(self.agent_id, ())
        if mine:
            return SubmitWork(task_id=mine[0].task_id, content="done", conduct=self.conduct)
        if CreatePost not in forbidden and rng.random() < c.post_probability:
            return self._post(observation, POSTS)
        # self.posts(observation), inline without an agent network: every decision that gets here
        posts = public.get(FeedView, NO_FEED).posts if NetworkView not in public else self.posts(observation)
        if CastVote not in forbidden and posts:
            # its votes as a set: a look-up per post of the feed (in the tuple, a comparison per vote)
            voted, index, me = set(self._voted), observation.snapshot.agent_index, observation.agent_id
            allies, bar = self.allies, c.target_reputation
            for p in posts:  # _is_target(observation.agent(p.author)), inline: every post of the feed
                if (
                    p.post_id not in voted
                    and (a := index.get(p.author)) is not None
                    and not a.frozen
                    and p.author != me
                    and a.agent_id not in allies
                    and (a.reputation > bar or a.resources > 50)
                ):
                    return self._vote_on(p, -1)
            top, most = posts[0], posts[0].upvotes - posts[0].downvotes  # max(posts, key=net_votes)
            for p in posts:
                if (net := p.upvotes - p.downvotes) > most:
                    top, most = p, net
            if (
                top.post_id not in self._voted
                and top.author != self.agent_id
                and not self._is_ally(top.author)
            ):
                return self._vote_on(top, -1)
        if Propose in forbidden:
            return NOOP
        if others is None:
            others = self._sample_others(observation)
        targets = self._targets(others)
        sample = targets or [a.agent_id for a in others]
        if sample:
            return Propose(
                counterparty=rng.choice(sample),
                interaction_type=InteractionType.TRADE,
                content="Special deal just for you." if targets else "Let's do business.",
                conduct=self.conduct,
            )
        return NOOP

    def accept(self, observation: Observation, proposal: ProposalView) -> bool:
        if self._is_ally(proposal.initiator) or self._is_target(observation.agent(proposal.initiator)):
            return True
        if proposal.interaction_type == InteractionType.TRADE:
            return True
        if proposal.interaction_type == InteractionType.COLLABORATION:
            return self.rng.random() < 0.3
        return self.rng.random() < 0.5


AdversarialPolicy.register(
    "Maximises harm to the system, at its own cost: targets reputable agents, disrupts the feed."
)
