"""The deceptive type: builds trust with good work, then exploits it behind a facade of visible effort."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import Field

from swarm.actions import NOOP, Action, Conduct
from swarm.agents.learning import ConductLearner, LearningAgentSpec
from swarm.agents.policy import Outcome
from swarm.agents.scripted.base import NO_BOARD, NO_FEED, MarketHabits, ScriptedPolicy
from swarm.agents.scripted.external import external_action
from swarm.agents.scripted.honest import COMPLIANT
from swarm.agents.scripted.market import market_action
from swarm.agents.types import PolicyConfig, chance
from swarm.core.interaction import InteractionType
from swarm.env.boundary import BoundaryView
from swarm.env.broker import ProposalView, Propose
from swarm.env.feed import CastVote, CreatePost, FeedView
from swarm.env.marketplace import MarketView
from swarm.env.network_view import NetworkView
from swarm.env.tasks import ClaimTask, SubmitWork, TaskBoardView, TaskView
from swarm.views import Observation

POSTS = (
    "Always glad to help; reliability matters most.",
    "I double-check every deliverable I hand over.",
    "Trust is built one interaction at a time.",
    "Open to collaborating on anything hard.",
    "Transparency first: ask me about my process.",
)


class DeceptiveConfig(PolicyConfig):
    trust_building_phase: int = Field(
        default=5, ge=0, description="dealings with an agent before exploiting it"
    )
    exploitation_threshold: float = Field(
        default=0.7, ge=0.0, le=1.0, description="trust that marks a victim"
    )
    post_probability: float = chance(0.35, "chance to post in a step")
    vote_probability: float = chance(0.5, "chance to vote in a step")
    exploit_probability: float = Field(
        default=0.3, ge=0.0, le=1.0, description="chance to exploit (undeterred)"
    )
    interact_probability: float = Field(
        default=0.4, ge=0.0, le=1.0, description="chance to propose in a step"
    )
    exploit_transfer: float = Field(
        default=1.0, ge=0.0, le=100.0, description="payment asked when exploiting"
    )


class DeceptivePolicy(ScriptedPolicy):
    """Builds trust with good work, then exploits it behind a facade of visible effort.

    Like the opportunist, it exploits less when levers deter (coded, not learnt).
    With ``learning=True`` (``learning: true`` in a scenario) it ignores the levers'
    deterrence and learns instead how to carry out its exploitation — behind a
    facade, as its usual work, or carefully (not exploiting at all) — from what its
    exploiting trades brought once payoffs, penalties and freezes are counted.
    """

    kind = "deceptive"
    Config = DeceptiveConfig
    default_conduct = Conduct(effort=0.3, sloppiness=0.33, defects=0.25, engagement=0.15)
    exploit_conduct = Conduct(effort=-0.15, facade=0.45, sloppiness=0.33, defects=0.4, engagement=0.2)
    market = MarketHabits(accept=0.7, bid=0.4, bid_share=(0.7, 0.9))
    config: DeceptiveConfig

    __slots__ = ("_dealt", "_learner", "_trusted")

    def __init__(self, *args: Any, learning: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._learner = (
            ConductLearner((self.exploit_conduct, self.default_conduct, COMPLIANT)) if learning else None
        )
        self._dealt = 0
        self._trusted: set[str] = set()
        """Partners whose trust has reached the exploitation threshold (less 0.1)."""

    @property
    def exploiting(self) -> bool:
        return len(self._trusted) >= 2 and self._dealt > 10

    @property
    def conduct(self) -> Conduct:
        if not self.exploiting:
            return self.default_conduct
        return self._learner.conduct if self._learner is not None else self.exploit_conduct

    @property
    def learner(self) -> ConductLearner | None:
        """What it has learnt (None unless it learns)."""
        return self._learner

    def observe(self, outcome: Outcome) -> None:
        super().observe(outcome)
        i = outcome.interaction
        other = i.counterparty if outcome.role == "initiator" else i.initiator
        learner = self._learner
        if learner is not None and outcome.role == "initiator" and other in learner.sent:
            learner.observe(outcome)  # what its exploiting trades brought
        self._dealt += 1
        if self.trust(other, prior=0.0) > self._settings.exploitation_threshold - 0.1:
            self._trusted.add(other)
        else:
            self._trusted.discard(other)

    def decide(self, observation: Observation) -> Action:
        c: DeceptiveConfig = self._settings  # self.config, as a struct: read every turn
        rng = self.rng
        learner = self._learner
        if learner is not None:
            learner.tick(observation, rng)
        public = observation.snapshot.public  # the optional economies' rules only when the world has them
        board: TaskBoardView = public.get(TaskBoardView, NO_BOARD)  # my_tasks(), open_tasks(), inline
        forbidden = observation.forbidden  # what its rate limits forbid now (observation.can, inline)
        if MarketView in public and (trade := market_action(self, observation)) is not None:
            return trade
        if BoundaryView in public and (request := external_action(self, observation)) is not None:
            return request
        deterred = 1.0 if learner is not None else max(0.0, 1 - 2 * observation.snapshot.deterrence)
        if self.exploiting and Propose not in forbidden and rng.random() < c.exploit_probability * deterred:
            marks = sorted(
                (a for a in self._known(observation) if a.resources > 50),
                key=lambda a: -self.trust(a.agent_id),
            )
            if marks:
                if learner is not None:
                    learner.proposed(marks[0].agent_id)
                return Propose(
                    counterparty=marks[0].agent_id,
                    interaction_type=InteractionType.TRADE,
                    content="I have a special opportunity for you.",
                    offered_transfer=-c.exploit_transfer,
                    conduct=self.exploit_conduct if learner is None else learner.conduct,
                )
        mine = board.by_worker.get(self.agent_id, ())
        if mine:
            hidden = self.exploiting and rng.random() < 0.4
            return SubmitWork(
                task_id=mine[0].task_id,
                content=f"Task {mine[0].task_id} completed with careful attention to detail.",
                conduct=self._hidden_conduct() if hidden else self.default_conduct,
            )
        tasks = board.open_tasks
        if ClaimTask not in forbidden and tasks:
            seen: Sequence[TaskView] = rng.sample(tasks, self.SAMPLE) if len(tasks) > self.SAMPLE else tasks
            pick = seen[0]  # the first easy or medium one among them, else the first
            for t in seen:
                if t.difficulty == "easy" or t.difficulty == "medium":
                    pick = t
                    break
            return ClaimTask(task_id=pick.task_id)
        if CreatePost not in forbidden and rng.random() < c.post_probability:
            return self._post(observation, POSTS)
        # self.posts(observation), inline without an agent network: every decision that gets here
        posts = public.get(FeedView, NO_FEED).posts if NetworkView not in public else self.posts(observation)
        if CastVote not in forbidden and posts and rng.random() < c.vote_probability:
            return self._vote_on(rng.choice(posts), 1)
        if Propose not in forbidden and rng.random() < c.interact_probability:
            fresh = [
                a
                for a in self._sample_others(observation)
                if self.dealings(a.agent_id)[1] < c.trust_building_phase
            ]
            if fresh:
                return Propose(
                    counterparty=rng.choice(fresh).agent_id,
                    interaction_type=InteractionType.COLLABORATION,
                    content="Would you like to collaborate?",
                    offered_transfer=0.1,
                    conduct=self.default_conduct,
                )
        return NOOP

    def accept(self, observation: Observation, proposal: ProposalView) -> bool:
        count = self.dealings(proposal.initiator)[1]
        if count < self._settings.trust_building_phase:
            return self.rng.random() < 0.8
        return self.trust(proposal.initiator) > 0.6

    def _hidden_conduct(self) -> Conduct:
        return self._learner.conduct if self._learner is not None else self.exploit_conduct


DeceptivePolicy.register(
    "Builds trust with good work, then exploits it behind a facade of visible effort.",
    spec_base=LearningAgentSpec,
)
