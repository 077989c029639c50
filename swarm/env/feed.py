"""The feed: posts, replies and votes, and the ranking every agent sees.

Visibility score of a post: ``net_votes + α·reply_count − β·age_steps``, with age
counted in simulation steps (never wall-clock time). Only posts from the last
``feed_window_steps`` steps are ranked (older ones are archived), so a step costs O(recent posts), not
O(history). With vote normalisation on, a voter's k-th vote of an epoch weighs
1/(1 + (k − 1)/max_weight).

Hidden posts (a moderator's decision, :mod:`swarm.env.moderation`) leave every
visible feed, with their replies, and take no more votes or replies. Replies form
threads: each post knows its root and depth. When threads are tracked (an agent with
the role moderator, a poster with a content strategy, or ``environment.feed_threads: true``) the feed view
carries them — each ranked post's thread size and depth, the latest visible
replies — and the epoch's feed statistics, and a ``feed_measured`` event closes each
epoch; otherwise none of this is shown or logged.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from math import isnan
from typing import Annotated, ClassVar, Literal

import msgspec
from pydantic import BaseModel, ConfigDict, Field

from swarm.actions import Action
from swarm.env.identity_view import UNCREDENTIALED, IdentityView
from swarm.env.network_view import NetworkView
from swarm.events import ActionRejected, Event
from swarm.kernel.component import Applied, At, RateLimit, Setup, Turn, WorldComponent, component
from swarm.metrics.registry import count, latest
from swarm.views import AgentPublic

# ----------------------------------------------------------------------- actions


class CreatePost(Action, tag="post", frozen=True):
    """Publish a top-level post."""

    content: Annotated[str, msgspec.Meta(max_length=4000)]
    text_fields: ClassVar[tuple[str, ...]] = ("content",)


class Reply(Action, tag="reply", frozen=True):
    """Reply to an existing post."""

    parent_id: str
    content: Annotated[str, msgspec.Meta(max_length=4000)]
    text_fields: ClassVar[tuple[str, ...]] = ("content",)


class CastVote(Action, tag="vote", frozen=True):
    """An up- or down-vote on a post."""

    post_id: str
    direction: Literal[1, -1]


# ------------------------------------------------------------------------ events


class PostCreated(Event, tag="post_created", frozen=True):
    post_id: str
    author: str
    content: str
    parent_id: str | None = None


class VoteCast(Event, tag="vote_cast", frozen=True):
    voter: str
    post_id: str
    direction: int
    changed: bool = True


class FeedMeasured(Event, tag="feed_measured", frozen=True):
    """The feed at an epoch's end (only when threads are tracked): the epoch's statistics and
    the threads still live."""

    posts: int
    replies: int
    hidden: int
    upvotes: int
    downvotes: int
    deepest_reply: int
    hidden_total: int
    threads: int
    """Live top-level posts with at least one reply."""
    mean_thread_size: float
    """Mean replies per live top-level post (0 when there is none)."""
    largest_thread: int
    max_thread_depth: int


# -------------------------------------------------------------------------- view


class PostView(msgspec.Struct, frozen=True, gc=False):
    """A post as every agent sees it (votes included).

    The thread fields are set only when the feed tracks threads (unset, and never
    encoded, otherwise): ``root_id`` and ``depth`` (0 for a top-level post) on every
    post, ``thread_size`` (replies at any depth) and ``thread_depth`` (the deepest
    reply's depth) on top-level posts.
    """

    post_id: str
    author: str
    content: str
    parent_id: str | None = None
    upvotes: int = 0
    downvotes: int = 0
    reply_count: int = 0
    created_at_step: int = 0
    root_id: str | msgspec.UnsetType = msgspec.UNSET
    depth: int | msgspec.UnsetType = msgspec.UNSET
    thread_size: int | msgspec.UnsetType = msgspec.UNSET
    thread_depth: int | msgspec.UnsetType = msgspec.UNSET

    @property
    def net_votes(self) -> int:
        return self.upvotes - self.downvotes


class FeedView(msgspec.Struct, frozen=True, gc=False):
    """The ranked top posts of this step, and how many posts exist."""

    posts: tuple[PostView, ...] = ()
    total_posts: int = 0
    latest: dict[str, PostView] | msgspec.UnsetType = msgspec.UNSET
    """With an agent network only: each author's latest live top-level post, so that an agent
    can read its neighbours' posts whatever their rank (unset, and never encoded, otherwise)."""
    replies: tuple[PostView, ...] | msgspec.UnsetType = msgspec.UNSET
    """With threads tracked only: the latest visible replies, newest first (at most ``visible_posts``)."""
    stats: FeedStats | msgspec.UnsetType = msgspec.UNSET
    """With threads tracked only: the feed's statistics for the epoch so far."""


class FeedStats(msgspec.Struct, frozen=True, gc=False):
    """What happened on the feed in an epoch (so far): the feed statistics moderators read."""

    posts: int = 0
    """Top-level posts created."""
    replies: int = 0
    hidden: int = 0
    """Posts hidden by moderators."""
    upvotes: int = 0
    """Votes up that changed a post (as the ``upvotes`` metric)."""
    downvotes: int = 0
    deepest_reply: int = 0
    """The depth of the deepest reply created (0: none)."""
    hidden_total: int = 0
    """Posts hidden since the start of the run."""


class FeedConfig(BaseModel):
    """The feed's keys in the ``environment`` section."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    visible_posts: int = Field(default=20, ge=0, description="posts in each step's ranked feed")
    reply_weight: float = Field(default=0.5, ge=0.0, description="α: visibility per reply")
    age_decay: float = Field(default=0.1, ge=0.0, description="β: visibility lost per step of age")
    feed_window_steps: int = Field(
        default=50, ge=1, description="only posts this recent are ranked; older ones are archived"
    )
    feed_capacity: int = Field(
        default=1000,
        ge=1,
        description="most top-level posts kept live; the lowest-ranked beyond are archived",
    )
    feed_threads: bool = Field(
        default=False,
        description="show threads and feed statistics to agents and log feed_measured each epoch "
        "(on anyway with a moderator, or a poster with a role_config)",
    )


# ------------------------------------------------------------------------- state


@dataclass(slots=True)
class _Post:
    post_id: str
    author: str
    content: str
    parent_id: str | None
    created_at_step: int
    order: int
    upvotes: int = 0
    downvotes: int = 0
    reply_count: int = 0
    weighted: float = 0.0
    voters: dict[str, float] | None = None
    """Each voter's signed vote weight (±1 without normalisation); made at the first vote."""
    version: int = 0
    """Bumped whenever the post's score changes (older heap entries are then stale)."""
    _view: PostView | None = None
    parent: _Post | None = None
    root: _Post | None = None
    """The top-level post of its thread (None: it is one)."""
    depth: int = 0
    thread_size: int = 0
    """On a top-level post: replies in its thread, at any depth."""
    thread_depth: int = 0
    """On a top-level post: the deepest reply's depth."""
    hidden: bool = False

    def view(self, threads: bool = False) -> PostView:
        """The post as agents see it (rebuilt only after a change); with thread fields if ``threads``."""
        view = self._view
        if view is None:
            if not threads:
                view = PostView(
                    self.post_id,
                    self.author,
                    self.content,
                    self.parent_id,
                    self.upvotes,
                    self.downvotes,
                    self.reply_count,
                    self.created_at_step,
                )
            else:
                root = self.root  # None on a top-level post, which carries its thread's size and depth
                view = PostView(
                    self.post_id,
                    self.author,
                    self.content,
                    self.parent_id,
                    self.upvotes,
                    self.downvotes,
                    self.reply_count,
                    self.created_at_step,
                    root_id=self.post_id if root is None else root.post_id,
                    depth=self.depth,
                    thread_size=self.thread_size if root is None else msgspec.UNSET,
                    thread_depth=self.thread_depth if root is None else msgspec.UNSET,
                )
            self._view = view
        return view

    def visible(self) -> bool:
        """Whether neither the post nor any post it replies to is hidden."""
        post: _Post | None = self
        while post is not None:
            if post.hidden:
                return False
            post = post.parent
        return True


Entry = tuple[float, int, int, "_Post"]
"""A heap entry: (−(score + β·clock), −order, version, post); the newer post wins a tie."""


class FeedState:
    """Posts and votes with their indexes; pure and synchronous.

    Live posts are those inside the ranking window, at most ``capacity`` top-level
    ones: when more are live, the lowest-ranked are archived. Archived posts are
    never ranked again and take no votes or replies, so memory stays bounded
    whatever the population or the length of the run.
    """

    def __init__(
        self,
        *,
        reply_weight: float = 0.5,
        age_decay: float = 0.1,
        window_steps: int = 50,
        max_vote_weight: float | None = None,
        capacity: int = 1000,
    ) -> None:
        self.max_vote_weight = max_vote_weight
        self._votes_this_epoch: dict[str, int] = {}
        self._epoch = 0
        self.reply_weight = reply_weight
        self.age_decay = age_decay
        self.window_steps = window_steps
        self.capacity = capacity
        self.posts: dict[str, _Post] = {}
        """The live posts (archived ones are forgotten)."""
        self.latest: dict[str, _Post] = {}
        """Each author's latest top-level post (kept only when the feed is asked for it)."""
        self.track_latest = False
        self.track_threads = False
        """Whether views carry thread fields, the latest replies and the statistics."""
        self.stats = FeedStats()
        """The current epoch's statistics (kept only when threads are tracked)."""
        self.hidden_total = 0
        self._replies: deque[_Post] = deque(maxlen=256)
        """The latest replies, oldest first (kept only when threads are tracked)."""
        self._live: deque[_Post] = deque()
        self._recent = 0
        """Live top-level posts."""
        self._heap: list[Entry] = []
        self._changed: dict[int, _Post] = {}
        """Top-level posts whose score changed since the heap was last brought up to date, by number:
        each gets one fresh entry when the ranking is next read, however often it changed."""
        self._counter = 0

    def create(self, author: str, content: str, parent_id: str | None, clock: int) -> _Post:
        """Add a post (or a reply when ``parent_id`` is set); KeyError for an unknown parent."""
        parent = None
        if parent_id is not None:
            parent = self.posts[parent_id]
            parent.reply_count += 1
            self._rerank(parent)
        self._counter += 1
        order = self._counter
        post = _Post(f"post-{order}", author, content, parent_id, clock, order)
        self.posts[post.post_id] = post
        self._live.append(post)
        if parent is None:
            self._recent += 1
            self._changed[order] = post  # self._rerank(post), inline (a post every few turns)
            if self.track_latest:
                self.latest[author] = post
            if self.track_threads:
                self.stats = msgspec.structs.replace(self.stats, posts=self.stats.posts + 1)
        else:
            root = post.root = parent.root or parent
            post.parent = parent
            post.depth = parent.depth + 1
            root.thread_size += 1
            root.thread_depth = max(root.thread_depth, post.depth)
            root._view = None
            if self.track_threads:
                self._replies.append(post)
                stats = self.stats
                self.stats = msgspec.structs.replace(
                    stats, replies=stats.replies + 1, deepest_reply=max(stats.deepest_reply, post.depth)
                )
        return post

    def hide(self, post_id: str) -> _Post:
        """Hide a live post (KeyError for an unknown one): it leaves every visible feed for good."""
        post = self.posts[post_id]
        if not post.hidden:
            post.hidden = True
            post.version += 1  # its heap entries are stale now, and none is pushed again
            post._view = None
            self.hidden_total += 1
            if self.track_threads:
                self.stats = msgspec.structs.replace(
                    self.stats, hidden=self.stats.hidden + 1, hidden_total=self.hidden_total
                )
        return post

    def recent_replies(self, limit: int) -> tuple[PostView, ...]:
        """The latest live, visible replies, newest first (at most ``limit``)."""
        out: list[PostView] = []
        posts = self.posts
        for post in reversed(self._replies):
            if len(out) >= limit:
                break
            if post.post_id in posts and post.visible():
                out.append(post.view(True))
        return tuple(out)

    def new_epoch(self) -> None:
        """Start the next epoch's statistics."""
        self.stats = FeedStats(hidden_total=self.hidden_total)

    def latest_views(self) -> dict[str, PostView]:
        """Each author's latest top-level post that is still live, by author."""
        posts, threads = self.posts, self.track_threads
        return {a: p.view(threads) for a, p in self.latest.items() if p.post_id in posts and not p.hidden}

    @property
    def created(self) -> int:
        """Posts and replies created since the start, archived ones included."""
        return self._counter

    def archived(self, post_id: str) -> bool:
        """Whether ``post_id`` names a post that existed and has been archived."""
        number = post_id.removeprefix("post-")
        return post_id not in self.posts and number.isdigit() and 0 < int(number) <= self._counter

    def _archive(self, clock: int) -> None:
        """Archive posts older than the window, then the lowest-ranked beyond the capacity."""
        live, window, posts = self._live, self.window_steps, self.posts
        while live and clock - live[0].created_at_step > window:
            post = live.popleft()
            if posts.pop(post.post_id, None) is not None and post.parent_id is None:
                self._recent -= 1
        if self._recent > 2 * self.capacity:  # amortised: one pass per `capacity` new posts
            self._keep_best(live, posts)

    def _keep_best(self, live: deque[_Post], posts: dict[str, _Post]) -> None:
        """Archive every live top-level post but the ``capacity`` best-ranked (hidden ones too); the
        kept posts' entries, sorted, become the heap."""
        rw, ad, k = self.reply_weight, self.age_decay, self.capacity
        roots = [p for p in reversed(live) if p.parent_id is None and not p.hidden]  # newest first
        keys = [-(p.weighted + rw * p.reply_count + ad * p.created_at_step) for p in roots]  # _entry()[0]
        if isnan(sum(keys)):  # no order among NaN keys: the entries' own comparison, in creation order
            entries = [self._entry(p) for p in live if p.parent_id is None and not p.hidden]
            # (with NaN keys the pick depends on the way it is made: the one the feed has always taken)
            kept = sorted(entries)[:k] if len(entries) <= 4 * k else heapq.nsmallest(k, entries)
            keep = {id(e[3]) for e in kept}
            archived = [p for p in live if p.parent_id is None and id(p) not in keep]
        else:
            # The entries' order is by key, ties to the newer post: a stable sort of the keys of
            # `roots`, newest first, gives it, and sorting floats is much cheaper than sorting tuples.
            ranks = sorted(range(len(roots)), key=keys.__getitem__)
            kept = [(keys[j], -roots[j].order, roots[j].version, roots[j]) for j in ranks[:k]]
            archived = [roots[j] for j in ranks[k:]]
            if self.hidden_total:  # hidden top-level posts go too
                archived += [p for p in live if p.hidden and p.parent_id is None]
        for post in archived:
            del posts[post.post_id]
        self._live = deque([p for p in live if p.post_id in posts])
        self._recent = len(kept)
        self._heap = kept  # sorted, so already a heap

    def vote_weight(self, voter: str, epoch: int) -> float:
        """1 without normalisation; else 1/(1 + n/max_weight), n = the voter's votes this epoch so far."""
        if self.max_vote_weight is None:
            return 1.0
        if epoch != self._epoch:
            self._epoch, self._votes_this_epoch = epoch, {}
        n = self._votes_this_epoch.get(voter, 0)
        self._votes_this_epoch[voter] = n + 1
        return 1.0 / (1.0 + n / self.max_vote_weight)

    def vote(self, post_id: str, voter: str, direction: int, epoch: int = 0) -> bool:
        """Record a vote; True if it changed the counts (a repeat of the same vote does not)."""
        return self._vote(self.posts[post_id], voter, direction, epoch)

    def _vote(self, post: _Post, voter: str, direction: int, epoch: int) -> bool:
        """:meth:`vote` on a live post the caller already holds."""
        voters = post.voters
        if voters is None:
            voters = post.voters = {}
        old = voters.get(voter)
        if old is not None and (old > 0) == (direction > 0):
            return False
        if old is not None:
            post.weighted -= old
            if old > 0:
                post.upvotes -= 1
            else:
                post.downvotes -= 1
        weight = 1.0 if self.max_vote_weight is None else self.vote_weight(voter, epoch)
        if direction == 1:
            post.upvotes += 1
        else:
            post.downvotes += 1
        signed = direction if weight == 1.0 else direction * weight
        post.weighted += signed
        voters[voter] = signed
        # self._rerank(post), inline (a vote every few turns)
        post._view = None
        if post.parent_id is None and not post.hidden:
            self._changed[post.order] = post
        if self.track_threads:
            stats = self.stats
            self.stats = (
                msgspec.structs.replace(stats, upvotes=stats.upvotes + 1)
                if direction == 1
                else msgspec.structs.replace(stats, downvotes=stats.downvotes + 1)
            )
        return True

    def _rerank(self, post: _Post) -> None:
        """Record a changed score: the post's view to be rebuilt, and (for a ranked post) a fresh heap
        entry to be pushed when the ranking is next read."""
        post._view = None
        if post.parent_id is None and not post.hidden:  # a hidden post is never ranked again
            self._changed[post.order] = post

    def _push_changed(self) -> None:
        """A fresh heap entry for each post whose score changed since the last (older ones go stale)."""
        heap, rw, ad = self._heap, self.reply_weight, self.age_decay
        for post in self._changed.values():
            if post.hidden:
                continue
            post.version = version = post.version + 1
            key = post.weighted + rw * post.reply_count + ad * post.created_at_step  # _entry(post), inline
            heapq.heappush(heap, (-key, -post.order, version, post))
        self._changed.clear()

    def _entry(self, post: _Post) -> Entry:
        """Every post loses β per step of age alike, so score + β·clock ranks them at any clock.

        Posts are numbered in creation order, so the higher number is the newer post.
        """
        key = post.weighted + self.reply_weight * post.reply_count + self.age_decay * post.created_at_step
        return (-key, -post.order, post.version, post)

    def score(self, post: _Post, clock: int) -> float:
        return (
            post.weighted
            + self.reply_weight * post.reply_count
            - self.age_decay * (clock - post.created_at_step)
        )

    def ranked(self, clock: int, limit: int) -> tuple[PostView, ...]:
        """The top ``limit`` live top-level posts by score; ties go to the newer post.

        A lazy heap keeps them ordered: a post whose score changed gets a fresh entry
        (one however often it changed since the last reading), and stale or archived
        entries are dropped when they reach the top, so a step costs O(limit·log n)
        rather than a pass over every live post.
        """
        if self._changed:
            self._push_changed()
        self._archive(clock)
        heap, posts = self._heap, self.posts
        if len(heap) > 2 * self._recent + 1024:
            heap[:] = [self._entry(p) for p in self._live if p.parent_id is None and not p.hidden]
            heapq.heapify(heap)
        top: list[Entry] = []
        while heap and len(top) < limit:
            entry = heapq.heappop(heap)
            post = entry[3]
            if entry[2] == post.version and post.post_id in posts:
                top.append(entry)
        for entry in top:
            heapq.heappush(heap, entry)
        threads = self.track_threads
        return tuple(entry[3].view(threads) for entry in top)


# --------------------------------------------------------------------- component


@component
class Feed(WorldComponent):
    """Owns posts, replies and votes; ranks what every agent sees."""

    key = "feed"
    order = 10
    Config = FeedConfig
    section = "environment"
    actions = (CreatePost, Reply, CastVote)
    rate_limits = (
        RateLimit("posts_per_epoch", (CreatePost, Reply), "epoch", 10, "posts per epoch"),
        RateLimit("votes_per_epoch", (CastVote,), "epoch", 50, "votes per epoch"),
    )
    view_type = FeedView
    prompt_rules = (
        "The feed: agents post, reply to posts and vote on them (direction 1 or -1); "
        "the observation lists the top posts by visibility (votes, replies, recency)."
    )
    config: FeedConfig

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        g = setup.scenario.governance
        self.state = FeedState(
            reply_weight=self.config.reply_weight,
            age_decay=self.config.age_decay,
            window_steps=self.config.feed_window_steps,
            capacity=self.config.feed_capacity,
            max_vote_weight=g.max_vote_weight_per_agent if g.vote_normalization_enabled else None,
        )
        network = getattr(setup.scenario, "network", None)  # agents then read their neighbours' posts
        self.state.track_latest = network is not None and bool(network.enabled)
        self.state.track_threads = self.config.feed_threads or any(
            spec.count > 0 and (spec.role == "moderator" or (spec.role == "poster" and spec.role_config))
            for spec in setup.scenario.agents
        )

    def view(self, at: At) -> FeedView:
        s = self.state
        ranked = s.ranked(at.clock, self.config.visible_posts)
        if s.track_threads:
            return FeedView(
                ranked,
                s.created,
                s.latest_views() if s.track_latest else msgspec.UNSET,
                s.recent_replies(self.config.visible_posts),
                s.stats,
            )
        if s.track_latest:
            return FeedView(ranked, s.created, s.latest_views())
        return FeedView(ranked, s.created)

    def epoch_end(self, at: At, agents: Sequence[AgentPublic]) -> Applied:
        s = self.state
        if not s.track_threads:
            return Applied()
        roots = [p for p in s.posts.values() if p.parent_id is None and not p.hidden]
        threads = [p for p in roots if p.thread_size]
        st = s.stats
        measured = FeedMeasured(
            epoch=at.epoch,
            step=at.step,
            posts=st.posts,
            replies=st.replies,
            hidden=st.hidden,
            upvotes=st.upvotes,
            downvotes=st.downvotes,
            deepest_reply=st.deepest_reply,
            hidden_total=s.hidden_total,
            threads=len(threads),
            mean_thread_size=sum(p.thread_size for p in roots) / len(roots) if roots else 0.0,
            largest_thread=max((p.thread_size for p in threads), default=0),
            max_thread_depth=max((p.thread_depth for p in threads), default=0),
        )
        s.new_epoch()
        return Applied(events=[measured])

    def apply(self, at: At, turns: Sequence[Turn], agents: Mapping[str, AgentPublic]) -> Applied:
        out = Applied()
        events: list[Event] = out.events
        s = self.state
        posts = s.posts
        epoch, step = at.epoch, at.step
        network = self.published(NetworkView)
        identity = self.published(IdentityView)
        for _, agent, action in turns:
            if type(action) is CastVote:
                if identity is not None and not identity.may_vote(agent):
                    events.append(
                        ActionRejected(
                            epoch=epoch,
                            step=step,
                            agent_id=agent,
                            action="vote",
                            reason=UNCREDENTIALED.format(what="vote"),
                        )
                    )
                    continue
                post = posts.get(action.post_id)
                if post is None or (network is not None and not _in_reach(network, agent, post.author)):
                    events.append(
                        ActionRejected(
                            epoch=epoch,
                            step=step,
                            agent_id=agent,
                            action="vote",
                            reason=self._missing(action.post_id, network is not None),
                        )
                    )
                    continue
                if post.hidden or (post.parent is not None and not post.visible()):  # visible(), inline
                    events.append(
                        ActionRejected(
                            epoch=epoch,
                            step=step,
                            agent_id=agent,
                            action="vote",
                            reason=_hidden(action.post_id),
                        )
                    )
                    continue
                changed = s._vote(post, agent, action.direction, epoch)
                events.append(
                    VoteCast(
                        epoch=epoch,
                        step=step,
                        voter=agent,
                        post_id=action.post_id,
                        direction=action.direction,
                        changed=changed,
                    )
                )
                continue
            # the world routes actions by their exact type: a post or a reply (no isinstance needed)
            parent = action.parent_id if type(action) is Reply else None
            if parent is not None and (
                parent not in s.posts
                or (network is not None and not _in_reach(network, agent, s.posts[parent].author))
            ):
                events.append(
                    ActionRejected(
                        epoch=epoch,
                        step=step,
                        agent_id=agent,
                        action="reply",
                        reason=self._missing(parent, network is not None),
                    )
                )
                continue
            if parent is not None and not s.posts[parent].visible():
                events.append(
                    ActionRejected(
                        epoch=epoch, step=step, agent_id=agent, action="reply", reason=_hidden(parent)
                    )
                )
                continue
            post = s.create(agent, action.content, parent, at.clock)  # type: ignore[attr-defined]
            events.append(
                PostCreated(
                    epoch=epoch,
                    step=step,
                    post_id=post.post_id,
                    author=agent,
                    parent_id=parent,
                    content=post.content,
                )
            )
        return out

    def _missing(self, post_id: str, networked: bool = False) -> str:
        if self.state.archived(post_id):
            return f"post {post_id} is archived (out of the feed's window or capacity)"
        post = self.state.posts.get(post_id)
        if networked and post is not None:
            return f"post {post_id} is by {post.author}, outside your network reach"
        return f"unknown post {post_id}"

    @classmethod
    def prompt_view(cls, view: FeedView, agent_id: str) -> FeedView:
        if view.replies is not msgspec.UNSET:
            return FeedView(
                view.posts[:MAX_POSTS_SHOWN],
                view.total_posts,
                replies=view.replies[:MAX_REPLIES_SHOWN],
                stats=view.stats,
            )
        return FeedView(view.posts[:MAX_POSTS_SHOWN], view.total_posts)


MAX_POSTS_SHOWN = 10
MAX_REPLIES_SHOWN = 5


def _hidden(post_id: str) -> str:
    return f"post {post_id} is hidden by moderation"


def _in_reach(network: NetworkView, agent: str, author: str) -> bool:
    """Whether ``agent`` may vote on or reply to a post by ``author`` (its own, or one within reach)."""
    return author == agent or network.reaches(agent, author)


count("posts", PostCreated, "top-level posts", where=lambda e: e.parent_id is None)
count("replies", PostCreated, "replies", where=lambda e: e.parent_id is not None)
count("total_posts", PostCreated, "posts and replies since the start", cumulative=True)
count("upvotes", VoteCast, "votes up that changed a post", where=lambda e: e.changed and e.direction > 0)
count("downvotes", VoteCast, "votes down that changed a post", where=lambda e: e.changed and e.direction < 0)
latest(
    "feed_threads",
    FeedMeasured,
    "live threads (top-level posts with replies)",
    lambda e: e.threads,
    optional=True,
)
latest(
    "feed_mean_thread_size",
    FeedMeasured,
    "mean replies per live top-level post",
    lambda e: e.mean_thread_size,
    optional=True,
)
latest(
    "feed_largest_thread",
    FeedMeasured,
    "replies in the largest live thread",
    lambda e: e.largest_thread,
    optional=True,
)
latest(
    "feed_max_thread_depth",
    FeedMeasured,
    "depth of the deepest live thread",
    lambda e: e.max_thread_depth,
    optional=True,
)
