"""The opportunistic type: maximises its own payoff, cuts corners when it can, asks to be paid for trades."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from swarm.actions import NOOP, Action, Conduct
from swarm.agents.learning import ConductLearner, LearningAgentSpec
from swarm.agents.policy import Outcome
from swarm.agents.scripted.base import NO_BOARD, NO_FEED, MarketHabits, ScriptedPolicy
from swarm.agents.scripted.external import external_action
from swarm.agents.scripted.honest import COMPLIANT
from swarm.agents.scripted.market import market_action
from swarm.agents.scripted.missions import mission_action
from swarm.agents.types import PolicyConfig, chance
from swarm.core.interaction import InteractionType
from swarm.env.boundary import BoundaryView
from swarm.env.broker import ProposalView, Propose
from swarm.env.feed import CastVote, CreatePost, FeedView
from swarm.env.marketplace import MarketView
from swarm.env.missions import MissionsView
from swarm.env.network_view import NetworkView
from swarm.env.tasks import ClaimTask, SubmitWork, TaskBoardView
from swarm.views import Observation

POSTS = (
    "You will not believe what this trick does for your reputation!",
    "Top 5 ways to get ahead on the task board.",
    "Quick deal available, first come first served.",
    "Everyone is talking about this, are you in?",
    "Hot take: verification is overrated.",
)
FREE_RIDE = Conduct(effort=0.1, sloppiness=0.45, defects=0.25, engagement=0.04)
"""How it works when it free-rides (its usual conduct with less effort and more sloppiness)."""
DIFFICULTY_WEIGHT = {"trivial": 0.5, "easy": 1.0, "medium": 2.0, "hard": 4.0, "expert": 8.0}


class OpportunisticConfig(PolicyConfig):
    risk_tolerance: float = chance(0.6, "chance to accept a stranger")
    post_probability: float = chance(0.4, "chance to post in a step")
    vote_probability: float = chance(0.6, "chance to vote in a step")
    free_ride_probability: float = Field(
        default=0.3, ge=0.0, le=1.0, description="chance to cut corners (undeterred)"
    )
    asked_transfer: float = Field(default=0.5, ge=0.0, le=100.0, description="payment asked for a trade")


class OpportunisticPolicy(ScriptedPolicy):
    """Maximises its own payoff: cuts corners when it can, asks to be paid for trades.

    Its deterrence response is coded (an assumption, not an emergent effect): the
    stronger the levers in force, the less it free-rides and the more effort it puts in.
    With ``learning=True`` (``learning: true`` in a scenario) it ignores the levers'
    deterrence and learns instead which of three conducts — careful, its usual one,
    free riding — pays best once payoffs, penalties and freezes are counted
    (:class:`~swarm.agents.learning.ConductLearner`).
    """

    kind = "opportunistic"
    Config = OpportunisticConfig
    default_conduct = Conduct(effort=0.27, sloppiness=0.33, defects=0.25, engagement=0.04)
    market = MarketHabits(accept=1.0, bid=0.5, bid_share=(0.5, 0.7), prefers_rich=True)
    config: OpportunisticConfig

    __slots__ = ("_learner",)

    def __init__(self, *args: Any, learning: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._learner = ConductLearner((COMPLIANT, self.default_conduct, FREE_RIDE)) if learning else None

    @property
    def conduct(self) -> Conduct:
        learner = self._learner
        return learner.conduct if learner is not None else self.default_conduct

    @property
    def learner(self) -> ConductLearner | None:
        """What it has learnt (None unless it learns)."""
        return self._learner

    def observe(self, outcome: Outcome) -> None:
        super().observe(outcome)
        if self._learner is not None:
            self._learner.observe(outcome)

    def work_conduct(self, observation: Observation) -> Conduct:
        return self._conduct_now(observation)

    def _conduct_now(self, observation: Observation) -> Conduct:
        """Cut corners unless punishment is likely: deterrence lowers free riding and raises effort."""
        if self._learner is not None:
            return self._learner.conduct
        deterrence = observation.snapshot.deterrence
        base = self.default_conduct
        c: OpportunisticConfig = self._settings
        if self.rng.random() < c.free_ride_probability * max(0.0, 1 - 2 * deterrence):
            return base.but(effort=0.1, sloppiness=0.45)
        if deterrence > 0:
            effort = base.effort + (COMPLIANT.effort - base.effort) * min(1.0, 2 * deterrence)
            return base.but(effort=effort, defects=base.defects * max(0.0, 1 - 2 * deterrence))
        return base

    def decide(self, observation: Observation) -> Action:
        c: OpportunisticConfig = self._settings  # self.config, as a struct: read every turn
        rng = self.rng
        if self._learner is not None:
            self._learner.tick(observation, rng)
        public = observation.snapshot.public  # the optional economies' rules only when the world has them
        board: TaskBoardView = public.get(TaskBoardView, NO_BOARD)  # my_tasks(), open_tasks(), inline
        forbidden = observation.forbidden  # what its rate limits forbid now (observation.can, inline)
        if MarketView in public and (trade := market_action(self, observation)) is not None:
            return trade
        if BoundaryView in public and (request := external_action(self, observation)) is not None:
            return request
        if (
            MissionsView in public
            and (mission := mission_action(self, observation, contribute=False)) is not None
        ):
            return mission
        if ClaimTask not in forbidden:
            best = self._best_task(board.open_tasks, observation.me.reputation, DIFFICULTY_WEIGHT)
            if best is not None:
                return ClaimTask(task_id=best.task_id)
        mine = board.by_worker.get(self.agent_id, ())
        if mine:
            lazy = rng.random() < c.free_ride_probability
            return SubmitWork(
                task_id=mine[0].task_id,
                content="Completed." if lazy else f"Deliverable for {mine[0].task_id}.",
                conduct=self._conduct_now(observation),
            )
        if CreatePost not in forbidden and rng.random() < c.post_probability:
            return self._post(observation, POSTS)
        # self.posts(observation), inline without an agent network: every decision that gets here
        posts = public.get(FeedView, NO_FEED).posts if NetworkView not in public else self.posts(observation)
        if CastVote not in forbidden and posts and rng.random() < c.vote_probability:
            for post in posts:
                net = post.upvotes - post.downvotes  # net_votes, once
                if net > 2:
                    return self._vote_on(post, 1)
                if net < -2:
                    return self._vote_on(post, -1)
            return self._vote_on(posts[0], 1)
        if Propose not in forbidden:
            targets = []  # a loop rather than a comprehension: no frame of its own
            for a in self._sample_others(observation):
                if a.resources > 80 or a.reputation > 0.5:
                    targets.append(a)
            if targets:
                target = rng.choice(targets)
                if self._learner is not None:
                    self._learner.proposed(target.agent_id)
                return Propose(
                    counterparty=target.agent_id,
                    interaction_type=InteractionType.TRADE,
                    content="Let's make a deal.",
                    offered_transfer=-c.asked_transfer,
                    conduct=self._conduct_now(observation),
                )
        return NOOP

    def accept(self, observation: Observation, proposal: ProposalView) -> bool:
        total, n = self.dealings(proposal.initiator)
        if not self.worth_it_after_tax(observation, proposal, total / n if n else 0.5):
            return False
        if proposal.offered_transfer > 0:
            return True
        if n:
            return total / n > 0.5
        c: OpportunisticConfig = self._settings
        return self.rng.random() < c.risk_tolerance


OpportunisticPolicy.register(
    "Maximises its own payoff: cuts corners when it can, asks to be paid for trades.",
    spec_base=LearningAgentSpec,
)
