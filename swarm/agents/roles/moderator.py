"""The moderator role: review the visible posts, hide the worst and warn their authors.

Each step a moderator reviews what it is shown (the ranked posts and, when the feed
tracks threads, the latest replies), scores each post's severity and moderates the
most severe ones, up to its ``rate_limits.moderations_per_step``: a post at
``hide_threshold`` or above is hidden (its author warned), one at ``warn_threshold``
only earns its author a warning. With nothing to moderate the agent's own policy acts.

Severity (0-5) adds what the post says and what is known about it:

* **content** (at most 3): the reference's keywords (attack, spam, scam, exploit: +1
  each) and patterns (``i will``, ``you must``, ``destroy``: +2 each), more than three
  ``!`` (+1) or fewer than 5 characters (+1), plus hostility markers (+1 each; the
  ones hostile agents' posts and provocative posters' posts actually use: "rigged",
  "a joke", "nobody should trust", ...) and the role's own ``keywords``;
* **the author's record**: +1 when the author's public reputation is below
  ``reputation_floor``, +1 when moderators have warned the author before;
* **the community's verdict**: +1 when the post has at least two votes down and more
  down than up.

How carefully it reviews follows the agent's conduct: each step it reviews with
chance ``0.5 + effort`` (clamped to [0.1, 1]), so a careless or hostile moderator
lets more through.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from swarm.actions import Action, Conduct
from swarm.agents.roles import RoleBehaviour, register_role
from swarm.env.feed import FeedView, PostView
from swarm.env.moderation import Moderate, Moderation, ModerationView
from swarm.env.network_view import NetworkView
from swarm.errors import ConfigProblem
from swarm.views import Observation

if TYPE_CHECKING:
    from swarm.scenario import Scenario

KEYWORDS = ("attack", "spam", "scam", "exploit")
"""The reference's toxic keywords (+1 each)."""
PATTERNS = ("i will", "you must", "destroy")
"""The reference's threatening patterns (+2 each; its fourth, "attack", is a keyword here)."""
HOSTILE = (
    "rigged",
    "a joke",
    "nobody should trust",
    "ignore the",
    "why bother",
    "never check",
    "overrated",
    "you will not believe",
    "wrong again",
    "idiot",
    "liar",
    "fraud",
    "garbage",
)
"""Hostility and bait markers (+1 each)."""
CONTENT_CAP = 3
MAX_SEVERITY = 5
UNLIMITED = 20
"""Posts acted on per step when the rate limit is unset (a ``moderate`` action lists at most 20)."""


def content_severity(text: str, extra: tuple[str, ...] = ()) -> int:
    """The severity of what a post says (0 to 3), from keywords, patterns and markers."""
    lowered = text.lower()
    words = set(re.findall(r"[a-z]+", lowered))
    score = sum(1 for k in KEYWORDS if k in words)
    score += sum(2 for p in PATTERNS if p in lowered)
    score += sum(1 for m in HOSTILE if m in lowered)
    score += sum(1 for m in extra if m in lowered)
    if lowered.count("!") > 3:
        score += 1
    if len(text.strip()) < 5:
        score += 1
    return min(score, CONTENT_CAP)


class ModeratorSettings(BaseModel):
    """``role_config`` of a moderator."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    hide_threshold: int = Field(
        default=3, ge=1, le=MAX_SEVERITY, description="severity at which a post is hidden"
    )
    warn_threshold: int = Field(
        default=2, ge=1, le=MAX_SEVERITY, description="severity at which the author is warned"
    )
    keywords: list[str] = Field(
        default_factory=list, max_length=50, description="more markers that each add 1 to a post's severity"
    )
    reputation_floor: float = Field(
        default=0.0, description="an author below this public reputation adds 1 to the severity"
    )
    review_replies: bool = Field(default=True, description="review the latest replies too (when shown)")

    @model_validator(mode="after")
    def _ordered(self) -> ModeratorSettings:
        if self.warn_threshold > self.hide_threshold:
            raise ConfigProblem(
                "role_config.warn_threshold",
                f"{self.warn_threshold} is above hide_threshold ({self.hide_threshold})",
                "a warning threshold no higher than the hiding threshold",
            )
        if any(not k.strip() for k in self.keywords):
            raise ConfigProblem("role_config.keywords", "an empty keyword", "non-empty words or phrases")
        return self


@register_role
class ModeratorRole(RoleBehaviour):
    """Hides the most severe visible posts and warns their authors (see the module docstring)."""

    name = "moderator"
    description = "reviews visible posts; hides severe ones and warns their authors"
    prompt = (
        "you are a moderator. Review the posts and replies you are shown; hide posts that are "
        "hostile, manipulative or spam, and warn the authors of borderline ones, with a `moderate` "
        "action listing post ids. Do not moderate your own posts. Otherwise act as you see fit."
    )
    Config = ModeratorSettings
    config: ModeratorSettings
    MEMORY: ClassVar[int] = 256

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._done: dict[str, None] = {}
        """Posts it moderated (the last ``MEMORY``), oldest first."""
        self._keywords = tuple(k.lower() for k in self.config.keywords)
        default = Moderation.rate_limits[0].default
        if self.scenario is None:  # answering for an LLM agent: the limit is not known, take the default
            capacity = default
        else:
            capacity = getattr(self.scenario.rate_limits, "moderations_per_step", default)
        self.capacity = int(capacity) if capacity is not None else UNLIMITED
        """Posts it acts on in a step at most (its ``rate_limits.moderations_per_step``)."""

    @classmethod
    def applies(cls, scenario: Scenario | None) -> bool:
        """Not in a scenario whose ``moderation:`` section switches moderation off."""
        return scenario is None or Moderation.enabled(scenario)

    def severity(self, post: PostView, observation: Observation) -> int:
        """The post's severity (0-5) as this moderator judges it."""
        score = content_severity(post.content, self._keywords)
        author = observation.snapshot.agent_index.get(post.author)
        if author is not None and author.reputation < self.config.reputation_floor:
            score += 1
        moderation = observation.view(ModerationView)
        if moderation is not None and moderation.of(post.author) > 0:
            score += 1
        if post.downvotes >= 2 and post.downvotes > post.upvotes:
            score += 1
        return min(score, MAX_SEVERITY)

    def act(self, observation: Observation, conduct: Conduct) -> Action | None:
        feed = observation.view(FeedView)
        if feed is None or observation.view(ModerationView) is None or self.capacity < 1:
            return None
        if not observation.can(Moderate):
            return None
        if self.rng.random() >= min(1.0, max(0.1, 0.5 + conduct.effort)):
            return None
        c = self.config
        candidates = list(feed.posts)
        if c.review_replies and isinstance(feed.replies, tuple):
            candidates.extend(feed.replies)
        network = observation.view(NetworkView)
        me, done = self.agent_id, self._done
        scored: list[tuple[int, int, PostView]] = []
        for order, post in enumerate(candidates):
            if post.author == me or post.post_id in done:
                continue
            if network is not None and not network.reaches(me, post.author):
                continue
            score = self.severity(post, observation)
            if score >= c.warn_threshold:
                scored.append((-score, order, post))
        if not scored:
            return None
        scored.sort(key=lambda t: (t[0], t[1]))
        hide: list[str] = []
        warn: list[str] = []
        for neg, _, post in scored[: self.capacity]:
            (hide if -neg >= c.hide_threshold else warn).append(post.post_id)
            done[post.post_id] = None
        while len(done) > self.MEMORY:
            del done[next(iter(done))]
        worst = -scored[0][0]
        return Moderate(hide=hide, warn=warn, reason=f"severity {worst}")
