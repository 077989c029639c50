"""The poster role: write posts and replies following a content strategy.

A poster's ``role_config`` is its content strategy (the reference's
``ContentStrategy``): ``topics``, a ``tone`` (neutral, helpful, provocative),
``reply_priority`` (the share of its writing that replies rather than posts),
``post_probability`` (its chance to write in a step) and ``min_post_interval``
(steps between two of its writings). When it does not write, half the time it votes
as its tone says; otherwise it leaves the step to the agent's own policy.

What the tone does (coded here; what it does to votes, threads, moderation and
reputation over a run is what emerges):

* **content**: its posts and replies are written in its tone, about one of its
  topics (provocative content carries the hostility markers moderators look for);
* **whom it replies to**: helpful posters answer the least-answered posts;
  provocative ones the most engaged (most votes and replies) and, half the time,
  the latest replies, so arguments grow deep threads; neutral ones pick at random;
* **how it votes**: helpful posters vote up helpful and neutral posts and down
  provocative ones; provocative posters vote up provocative posts and down the top
  post of someone else; neutral posters leave voting to the agent's policy.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from swarm.actions import Action, Conduct
from swarm.agents.roles import RoleBehaviour, register_role
from swarm.agents.roles.moderator import content_severity
from swarm.env.feed import CastVote, CreatePost, FeedView, PostView, Reply
from swarm.env.network_view import NetworkView
from swarm.errors import ConfigProblem
from swarm.views import Observation

Tone = Literal["neutral", "helpful", "provocative"]

POSTS: dict[str, tuple[str, ...]] = {
    "neutral": (
        "Notes on {topic} from this epoch.",
        "An update about {topic}.",
        "Question about {topic}: how do others handle it?",
    ),
    "helpful": (
        "A checklist for {topic} that saved our team rework.",
        "Happy to help anyone stuck on {topic}; ask below.",
        "What worked for me on {topic}: verify before claiming success.",
    ),
    "provocative": (
        "Hot take: {topic} is a joke and everyone knows it!",
        "Nobody should trust what the top posters say about {topic}.",
        "Why bother with {topic}? The whole thing is rigged.",
    ),
}
REPLIES: dict[str, tuple[str, ...]] = {
    "neutral": ("Noted, thanks. More on {topic} later.", "Interesting point about {topic}."),
    "helpful": (
        "Here is how I would approach {topic}: check each step before submitting.",
        "Good question; on {topic}, a second reviewer catches most defects.",
    ),
    "provocative": (
        "Wrong again. Everything said here about {topic} is a joke.",
        "Nobody should trust this take on {topic}.",
    ),
}


VOTE_SHARE = 0.5
"""Chance that a poster votes in a step it does not write (otherwise its policy acts)."""


class ContentStrategy(BaseModel):
    """``role_config`` of a poster: its content strategy."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    topics: list[str] = Field(
        default_factory=lambda: ["tasks", "verification", "collaboration"],
        min_length=1,
        max_length=20,
        description="what it writes about (one is picked for each post)",
    )
    tone: Tone = Field(default="neutral", description="neutral, helpful or provocative")
    reply_priority: float = Field(
        default=0.5, ge=0.0, le=1.0, description="share of its writing that replies to others"
    )
    post_probability: float = Field(default=0.6, ge=0.0, le=1.0, description="chance to write in a step")
    min_post_interval: int = Field(default=1, ge=1, le=1000, description="steps between two of its writings")

    @field_validator("topics")
    @classmethod
    def _topics(cls, value: list[str]) -> list[str]:
        for index, topic in enumerate(value):
            if not topic.strip() or len(topic) > 60:
                raise ConfigProblem(
                    f"role_config.topics.{index}",
                    f"{topic!r} is not a topic",
                    "a non-empty phrase of ≤ 60 characters",
                )
        return value


def is_provocative(post: PostView) -> bool:
    """Whether a post reads as provocative (it carries a hostility marker or keyword)."""
    return content_severity(post.content) >= 1 and len(post.content.strip()) >= 5


@register_role
class PosterRole(RoleBehaviour):
    """Posts, replies and votes following its content strategy (see the module docstring)."""

    name = "poster"
    description = "writes posts and replies in its tone about its topics"
    prompt = (
        "you are a poster: you write posts and replies for the community. Post and reply often, "
        "about your topics, in your tone; vote on what you read."
    )
    Config = ContentStrategy
    needs_config = True
    config: ContentStrategy
    VOTED: ClassVar[int] = 64

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._last = -(10**9)
        """The step count of its last writing."""
        self._steps = 0
        self._voted: dict[str, None] = {}

    def role_prompt(self) -> str:
        c = self.config
        return f"{self.prompt} Your topics: {', '.join(c.topics)}; your tone: {c.tone}."

    def act(self, observation: Observation, conduct: Conduct) -> Action | None:
        self._steps += 1
        c, rng = self.config, self.rng
        feed = observation.view(FeedView)
        posts, replies = self._visible(observation, feed)
        if (
            self._steps - self._last >= c.min_post_interval
            and observation.can(CreatePost)
            and rng.random() < c.post_probability
        ):
            topic = c.topics[int(rng.random() * len(c.topics)) % len(c.topics)]
            target = self._reply_target(posts, replies) if rng.random() < c.reply_priority else None
            self._last = self._steps
            if target is not None:
                text = REPLIES[c.tone][int(rng.random() * len(REPLIES[c.tone])) % len(REPLIES[c.tone])]
                return Reply(parent_id=target.post_id, content=text.format(topic=topic))
            text = POSTS[c.tone][int(rng.random() * len(POSTS[c.tone])) % len(POSTS[c.tone])]
            return CreatePost(content=text.format(topic=topic))
        if observation.can(CastVote) and rng.random() < VOTE_SHARE:
            return self._vote(posts)
        return None

    def _visible(
        self, observation: Observation, feed: FeedView | None
    ) -> tuple[list[PostView], list[PostView]]:
        """Others' posts and replies it may act on (within network reach, when there is a network)."""
        if feed is None:
            return [], []
        me = self.agent_id
        network = observation.view(NetworkView)

        def ok(p: PostView) -> bool:
            return p.author != me and (network is None or network.reaches(me, p.author))

        replies = feed.replies if isinstance(feed.replies, tuple) else ()
        return [p for p in feed.posts if ok(p)], [p for p in replies if ok(p)]

    def _reply_target(self, posts: list[PostView], replies: list[PostView]) -> PostView | None:
        tone, rng = self.config.tone, self.rng
        if tone == "provocative":
            if replies and rng.random() < 0.5:
                return replies[0]  # the latest reply: keep the argument going
            if posts:
                return max(posts, key=lambda p: (p.upvotes + p.downvotes + p.reply_count, p.created_at_step))
            return None
        if tone == "helpful":
            if posts:
                return min(posts, key=lambda p: (p.reply_count, -p.created_at_step))
            return None
        pool = posts + replies
        return pool[int(rng.random() * len(pool)) % len(pool)] if pool else None

    def _vote(self, posts: list[PostView]) -> Action | None:
        tone, voted = self.config.tone, self._voted
        fresh = [p for p in posts if p.post_id not in voted]
        if tone == "neutral" or not fresh:
            return None
        provocative = [p for p in fresh if is_provocative(p)]
        if tone == "helpful":
            post, direction = (provocative[0], -1) if provocative else (fresh[0], 1)
        else:
            post, direction = (
                (provocative[0], 1) if provocative else (max(fresh, key=lambda p: p.net_votes), -1)
            )
        voted[post.post_id] = None
        if len(voted) > self.VOTED:
            del voted[next(iter(voted))]
        return CastVote(post_id=post.post_id, direction=1 if direction > 0 else -1)
