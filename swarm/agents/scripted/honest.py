"""The honest type: maximises joint surplus, works carefully, collaborates with agents it trusts."""

from __future__ import annotations

from itertools import filterfalse
from typing import Any, ClassVar

from pydantic import Field

from swarm.actions import NOOP, Action, Conduct
from swarm.agents.scripted.base import NO_BOARD, NO_FEED, MarketHabits, ScriptedPolicy
from swarm.agents.scripted.external import external_action
from swarm.agents.scripted.market import market_action
from swarm.agents.scripted.missions import mission_action
from swarm.agents.types import PolicyConfig, chance
from swarm.core.interaction import InteractionType
from swarm.env.boundary import BoundaryView
from swarm.env.broker import ProposalView, Propose
from swarm.env.feed import CastVote, CreatePost, FeedView, PostView
from swarm.env.marketplace import MarketView
from swarm.env.missions import MissionsView
from swarm.env.network_view import NetworkView
from swarm.env.tasks import ClaimTask, SubmitWork, TaskBoardView
from swarm.governance.notices import TaxNotice, TransparencyNotice
from swarm.views import AgentPublic, Observation

POSTS = (
    "Sharing a summary of what worked on my last task.",
    "Here is a checklist that helped our team avoid rework.",
    "Happy to review anyone's output before submission.",
    "Notes on verifying results before claiming success.",
)
DIFFICULTY_WEIGHT = {"trivial": 1.0, "easy": 2.0, "medium": 3.0, "hard": 4.0, "expert": 5.0}


class HonestConfig(PolicyConfig):
    acceptance_threshold: float = Field(
        default=0.4, ge=0.0, le=1.0, description="trust score at which a proposal is accepted"
    )
    trust_weight: float = Field(
        default=0.3, ge=0.0, le=1.0, description="weight of trust against a neutral prior"
    )
    post_probability: float = chance(0.3, "chance to post in a step")
    vote_probability: float = chance(0.5, "chance to vote in a step")
    interact_probability: float = Field(
        default=0.4, ge=0.0, le=1.0, description="chance to propose in a step"
    )


class _FeedIndex:
    """A ranked feed's posts as the honest voter's filter reads them: their ids in order, the posts by
    id, their authors, and whether each id is unique (so that it stands for its post)."""

    __slots__ = ("authors", "by_id", "ids", "posts", "usable")

    def __init__(self, posts: tuple[PostView, ...]) -> None:
        self.posts = posts  # kept, so that no other tuple can take its identity while it is the key
        self.ids = tuple(p.post_id for p in posts)
        self.by_id = {p.post_id: p for p in posts}
        self.usable = len(self.by_id) == len(posts)
        self.authors = frozenset(p.author for p in posts)


_FEED = _FeedIndex(())
"""The index of the feed last voted on: without an agent network every agent of a step reads the same
snapshot's posts (with one, each agent its own tuple, which is filtered as it comes)."""


def _index_feed(posts: tuple[PostView, ...]) -> _FeedIndex:
    global _FEED
    _FEED = _FeedIndex(posts)
    return _FEED


_NO_RECORDS: dict[str, float] = {}
"""The published track records of a world without a transparency ledger (never changed)."""

COMPLIANT = Conduct(effort=0.42, sloppiness=0.17, engagement=0.3)
"""What careful, honest-quality work looks like; deterred agents move toward it."""


class HonestPolicy(ScriptedPolicy):
    """Maximises joint surplus: works carefully, collaborates with agents it trusts."""

    kind = "honest"
    Config = HonestConfig
    default_conduct = Conduct(effort=0.42, sloppiness=0.17, engagement=0.32)
    market = MarketHabits(accept=1.0, bid=0.3, bid_share=(0.8, 0.95), post=0.15)
    config: HonestConfig

    __slots__ = ()

    def decide(self, observation: Observation) -> Action:
        c: HonestConfig = self._settings  # self.config, as a struct: read every turn
        rng = self.rng
        public = observation.snapshot.public  # the optional economies' rules only when the world has them
        board: TaskBoardView = public.get(TaskBoardView, NO_BOARD)  # my_tasks(), open_tasks(), inline
        forbidden = observation.forbidden  # what its rate limits forbid now (observation.can, inline)
        if MarketView in public and (trade := market_action(self, observation)) is not None:
            return trade
        if BoundaryView in public and (request := external_action(self, observation)) is not None:
            return request
        if (
            MissionsView in public
            and (mission := mission_action(self, observation, contribute=True)) is not None
        ):
            return mission
        mine = board.by_worker.get(self.agent_id, ())
        if mine:
            task = mine[0]
            return SubmitWork(
                task_id=task.task_id,
                content=f"Completed work on {task.task_id}: verified output.",
                conduct=self.conduct,
            )
        if ClaimTask not in forbidden and rng.random() < 0.5:
            best = self._best_task(board.open_tasks, observation.me.reputation, DIFFICULTY_WEIGHT)
            if best is not None:
                return ClaimTask(task_id=best.task_id)
        if CreatePost not in forbidden and rng.random() < c.post_probability:
            return self._post(observation, POSTS)
        # self.posts(observation), inline without an agent network: every decision that gets here
        posts = public.get(FeedView, NO_FEED).posts if NetworkView not in public else self.posts(observation)
        if CastVote not in forbidden and posts and rng.random() < c.vote_probability:
            voted, me = self._voted, self.agent_id
            index = _FEED
            if index.posts is not posts and NetworkView not in public:  # the feed all agents read
                index = _index_feed(posts)
            if index.posts is posts and index.usable and me not in index.authors:
                # the posts it has not voted on, as ids filtered in C rather than a Python pass per
                # post: its votes on this feed's posts (a look-up in the feed's index per vote it
                # remembers), then the feed's ids but those; the same list, in the same order, so the
                # draw picks the same post
                seen = index.by_id.keys() & voted
                fresh_ids = list(filterfalse(seen.__contains__, index.ids)) if seen else index.ids
                if not fresh_ids:
                    return NOOP
                post = index.by_id[rng.choice(fresh_ids)]
            else:
                remembered = set(voted)
                fresh = [p for p in posts if p.post_id not in remembered and p.author != me]
                if not fresh:
                    return NOOP
                post = rng.choice(fresh)
            # self._vote_on(post, ...), without its look-up: the post is not among its votes
            return self._vote_anew(post, -1 if post.upvotes - post.downvotes < -2 else 1)  # net_votes, inline
        if Propose not in forbidden and rng.random() < c.interact_probability:
            # the most trusted of its recent partners and a few others (a repeat cannot win twice)
            notice: TransparencyNotice | None = public.get(TransparencyNotice)  # published(), inline
            records = notice.track_records if notice is not None else _NO_RECORDS
            book, tally, counts = self._book, self._tally, self._counts  # self.trust(other, prior), inline
            target: AgentPublic | None = None
            floor = c.acceptance_threshold - 0.1
            for group in (self._known(observation), self._sample_others(observation)):
                for a in group:
                    other = a.agent_id
                    slot = book.get(other)
                    if slot is not None and (n := counts[slot]):
                        t = tally[slot] / n
                    else:  # a stranger (or a forgotten one): its published record, if any, as the prior
                        t = records.get(other, 0.5) if records else 0.5
                    if t > floor or (target is None and t == floor):
                        target, floor = a, t
            if target is not None:
                return Propose(
                    counterparty=target.agent_id,
                    interaction_type=InteractionType.COLLABORATION,
                    content="Would you like to collaborate?",
                    conduct=self.conduct,
                )
        return NOOP

    _HOOKS: ClassVar[tuple[str, ...]] = ("trust", "trust_in", "track_record", "worth_it_after_tax")
    """The methods :meth:`accept` reads inline; a subclass overriding any of them is asked through them."""
    _hooked: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._hooked = any(getattr(cls, name) is not getattr(HonestPolicy, name) for name in cls._HOOKS)

    def accept(self, observation: Observation, proposal: ProposalView) -> bool:
        if self._hooked:
            vetted = self._trust_through_hooks(observation, proposal)
            if vetted is None:
                return False
            trust = vetted
        else:  # the same, with the hooks inline: every proposal
            public, who = observation.snapshot.public, proposal.initiator
            trust = 0.5
            # observation.agent(who), self.trust_in(...) and self.track_record(...), inline
            initiator = observation.snapshot.agent_index.get(who)
            if initiator is not None and not initiator.frozen and who != observation.agent_id:
                notice: TransparencyNotice | None = public.get(TransparencyNotice)
                record = notice.track_records.get(who) if notice is not None else None
                if record is not None:
                    trust = record
                slot = self._book.get(who)  # self.trust(who, trust), inline
                if slot is not None and (n := self._counts[slot]):
                    trust = self._tally[slot] / n
                if record is not None and trust < 0.5:
                    return False
            tax: TaxNotice | None = public.get(TaxNotice)  # self.worth_it_after_tax(...), inline
            if tax is not None and tax.rate > 0:
                surplus = 3 * trust - 1
                tau = proposal.offered_transfer
                cost = tax.rate * (1 - tax.split) * (max(surplus, 0.0) + abs(tau))
                if not 0.5 * surplus + tau - cost > 0:
                    return False
        c: HonestConfig = self._settings
        score = trust * c.trust_weight + 0.5 * (1 - c.trust_weight)
        threshold = c.acceptance_threshold
        kind = proposal.interaction_type
        if kind == InteractionType.COLLABORATION:
            threshold -= 0.1
        elif kind == InteractionType.TRADE:
            threshold += 0.1
        if proposal.offered_transfer < 0 and -proposal.offered_transfer > observation.me.resources:
            return False
        return score >= threshold

    def _trust_through_hooks(self, observation: Observation, proposal: ProposalView) -> float | None:
        """The trust :meth:`accept` weighs, as the hooks it inlines work it out (for a subclass that
        overrides one of them); None when a bad track record or the tax rules the proposal out."""
        initiator = observation.agent(proposal.initiator)
        trust = self.trust_in(observation, initiator)
        if (
            initiator is not None
            and self.track_record(observation, initiator.agent_id) is not None
            and trust < 0.5
        ):
            return None
        if not self.worth_it_after_tax(observation, proposal, trust):
            return None
        return trust


HonestPolicy.register("Maximises joint surplus: works carefully, collaborates with agents it trusts.")
