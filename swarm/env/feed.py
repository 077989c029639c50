"""The feed: posts, replies and votes, and the ranking every agent sees.

Visibility score of a post: ``net_votes + α·reply_count − β·age_steps``, with age
counted in simulation steps (never wall-clock time). Only posts from the last
``window_steps`` steps are ranked, so a step costs O(recent posts), not O(history).
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass, field

from actors import Actor, Message, handler
from swarm.events import ActionRejected, Event, PostCreated, VoteCast
from swarm.messages import CastVote, CreatePost, PostView, Reply

FeedAction = CreatePost | Reply | CastVote


@dataclass(slots=True)
class _Post:
    post_id: str
    author: str
    content: str
    parent_id: str | None
    created_at_step: int
    upvotes: int = 0
    downvotes: int = 0
    reply_count: int = 0
    weighted: float = 0.0
    voters: dict[str, tuple[int, float]] = field(default_factory=dict)

    def view(self) -> PostView:
        return PostView.model_construct(
            post_id=self.post_id,
            author=self.author,
            content=self.content,
            parent_id=self.parent_id,
            upvotes=self.upvotes,
            downvotes=self.downvotes,
            reply_count=self.reply_count,
            created_at_step=self.created_at_step,
        )


class FeedState:
    """Posts and votes with their indexes; pure and synchronous (the Feed actor wraps it)."""

    def __init__(
        self,
        *,
        reply_weight: float = 0.5,
        age_decay: float = 0.1,
        window_steps: int = 50,
        max_vote_weight: float | None = None,
    ) -> None:
        self.max_vote_weight = max_vote_weight
        self._votes_this_epoch: dict[str, int] = {}
        self._epoch = 0
        self.reply_weight = reply_weight
        self.age_decay = age_decay
        self.window_steps = window_steps
        self.posts: dict[str, _Post] = {}
        self._recent: deque[_Post] = deque()
        self._counter = 0

    def _new_id(self) -> str:
        self._counter += 1
        return f"post-{self._counter}"

    def create(self, author: str, content: str, parent_id: str | None, clock: int) -> _Post:
        """Add a post (or a reply when ``parent_id`` is set); KeyError for an unknown parent."""
        if parent_id is not None:
            self.posts[parent_id].reply_count += 1
        post = _Post(self._new_id(), author, content, parent_id, clock)
        self.posts[post.post_id] = post
        if parent_id is None:
            self._recent.append(post)
        return post

    def vote_weight(self, voter: str, epoch: int) -> float:
        """1 without normalisation; else 1/(1 + n/max_weight), n = the voter's votes this epoch."""
        if self.max_vote_weight is None:
            return 1.0
        if epoch != self._epoch:
            self._epoch, self._votes_this_epoch = epoch, {}
        n = self._votes_this_epoch.get(voter, 0)
        self._votes_this_epoch[voter] = n + 1
        return 1.0 / (1.0 + n / self.max_vote_weight)

    def vote(self, post_id: str, voter: str, direction: int, epoch: int = 0) -> bool:
        """Record a vote; True if it changed the counts (a repeat of the same vote does not)."""
        post = self.posts[post_id]
        old = post.voters.get(voter)
        if old is not None and old[0] == direction:
            return False
        if old is not None:
            post.weighted -= old[0] * old[1]
            if old[0] == 1:
                post.upvotes -= 1
            else:
                post.downvotes -= 1
        weight = self.vote_weight(voter, epoch)
        if direction == 1:
            post.upvotes += 1
        else:
            post.downvotes += 1
        post.weighted += direction * weight
        post.voters[voter] = (direction, weight)
        return True

    def score(self, post: _Post, clock: int) -> float:
        net = post.weighted
        return net + self.reply_weight * post.reply_count - self.age_decay * (clock - post.created_at_step)

    def ranked(self, clock: int, limit: int) -> tuple[PostView, ...]:
        """The top ``limit`` recent top-level posts; ties go to the newer post."""
        while self._recent and clock - self._recent[0].created_at_step > self.window_steps:
            self._recent.popleft()
        if limit <= 0:
            return ()
        top = heapq.nlargest(
            limit, self._recent, key=lambda p: (self.score(p, clock), p.created_at_step, self._order(p))
        )
        return tuple(p.view() for p in top)

    @staticmethod
    def _order(post: _Post) -> int:
        return int(post.post_id.rsplit("-", 1)[1])


class FeedBatch(Message):
    """This step's feed actions, in application order: (index, agent, action)."""

    epoch: int
    step: int
    clock: int
    items: tuple[tuple[int, str, CreatePost | Reply | CastVote], ...]


class FeedResult(Message):
    events: tuple[tuple[int, Event], ...]


class RankedPosts(Message):
    clock: int
    limit: int


class PostsView(Message):
    posts: tuple[PostView, ...]
    total_posts: int


class Feed(Actor):
    """Owns the feed; applies post, reply and vote actions and ranks what agents see."""

    def __init__(self, state: FeedState) -> None:
        self._state = state

    @handler
    async def on_batch(self, msg: FeedBatch) -> FeedResult:
        out: list[tuple[int, Event]] = []
        s = self._state
        for index, agent, action in msg.items:
            at = {"epoch": msg.epoch, "step": msg.step}
            if isinstance(action, CastVote):
                if action.post_id not in s.posts:
                    out.append(
                        (
                            index,
                            ActionRejected(
                                **at, agent_id=agent, action="vote", reason=f"unknown post {action.post_id}"
                            ),
                        )
                    )
                    continue
                changed = s.vote(action.post_id, agent, action.direction, msg.epoch)
                out.append(
                    (
                        index,
                        VoteCast(
                            **at,
                            voter=agent,
                            post_id=action.post_id,
                            direction=action.direction,
                            changed=changed,
                        ),
                    )
                )
                continue
            parent = action.parent_id if isinstance(action, Reply) else None
            if parent is not None and parent not in s.posts:
                out.append(
                    (
                        index,
                        ActionRejected(**at, agent_id=agent, action="reply", reason=f"unknown post {parent}"),
                    )
                )
                continue
            post = s.create(agent, action.content, parent, msg.clock)
            out.append(
                (
                    index,
                    PostCreated(
                        **at, post_id=post.post_id, author=agent, parent_id=parent, content=post.content
                    ),
                )
            )
        return FeedResult(events=tuple(out))

    @handler
    async def on_ranked(self, msg: RankedPosts) -> PostsView:
        return PostsView(posts=self._state.ranked(msg.clock, msg.limit), total_posts=len(self._state.posts))
