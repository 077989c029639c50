"""Moderation: agents with the role moderator hide posts and warn their authors.

The component exists in a run when an agent has ``role: moderator`` (or a
``moderation:`` section is given). It owns one action, ``moderate``: a moderator
lists posts to hide (their authors are warned too) and posts whose authors it only
warns. Each listed post spends one of the moderator's ``rate_limits.moderations_per_step``.
A hidden post leaves every visible feed with its replies and takes no more votes or
replies (the feed's :meth:`~swarm.env.feed.FeedState.hide`).

Every decision is an event: ``post_hidden``, ``agent_warned``. Warnings are sanctioned
through governance effects logged under the lever name ``moderation``: each costs the
author ``warning_penalty`` reputation (``governance_reputation``), and with
``freeze_after_warnings: n`` every n-th warning freezes the author for
``freeze_epochs`` (``governance_freeze``). A ``moderation_measured`` event closes each
epoch. Every agent reads the warnings each author has received in a
:class:`ModerationView`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

import msgspec
from pydantic import BaseModel, ConfigDict, Field

from swarm.actions import Action
from swarm.env.feed import Feed, FeedState
from swarm.env.network_view import NetworkView
from swarm.errors import ConfigProblem
from swarm.events import ActionRejected, Event
from swarm.governance.effects import Effect, FreezeOrder, ReputationChange
from swarm.kernel.component import Applied, At, RateLimit, Setup, Turn, WorldComponent, component
from swarm.metrics.registry import latest, run_figure, sum_of
from swarm.views import AgentPublic

if TYPE_CHECKING:
    from swarm.scenario import Scenario

MODERATOR = "moderator"
LEVER = "moderation"
"""The lever name moderation's sanctions are logged under."""

# ----------------------------------------------------------------------- action


class Moderate(Action, tag="moderate", frozen=True):
    """Moderators only: hide posts (and warn their authors), or only warn the authors of posts."""

    hide: Annotated[list[str], msgspec.Meta(max_length=20)] = msgspec.field(default_factory=list)
    warn: Annotated[list[str], msgspec.Meta(max_length=20)] = msgspec.field(default_factory=list)
    reason: Annotated[str, msgspec.Meta(max_length=200)] = ""
    text_fields: ClassVar[tuple[str, ...]] = ("reason",)


def _cost(action: Moderate) -> float:
    return float(max(1, len(set(action.hide)) + len(set(action.warn) - set(action.hide))))


# ----------------------------------------------------------------------- events


class PostHidden(Event, tag="post_hidden", frozen=True):
    post_id: str
    author: str
    moderator: str
    reason: str = ""


class AgentWarned(Event, tag="agent_warned", frozen=True):
    agent_id: str
    moderator: str
    post_id: str
    warnings: int
    """The agent's warnings since the start of the run, this one included."""
    reason: str = ""


class ModerationMeasured(Event, tag="moderation_measured", frozen=True):
    """An epoch's moderation: decisions, warnings and the freezes they brought."""

    actions: int
    hidden: int
    warnings: int
    freezes: int
    warned_agents: int
    """Agents warned at least once since the start of the run."""


# ------------------------------------------------------------------------- view


class ModerationView(msgspec.Struct, frozen=True, gc=False):
    """What every agent may read about moderation: each warned author's warnings so far."""

    warnings: dict[str, int] = msgspec.field(default_factory=dict)
    hidden_posts: dict[str, int] = msgspec.field(default_factory=dict)
    """Each author's hidden posts so far."""

    def of(self, agent_id: str) -> int:
        return self.warnings.get(agent_id, 0)


# ----------------------------------------------------------------------- config


class ModerationConfig(BaseModel):
    """The ``moderation:`` section (optional: agents with ``role: moderator`` switch moderation on)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    enabled: bool = Field(default=True, description="false: no moderation, whatever the agents' roles")
    warning_penalty: float = Field(
        default=0.1, ge=0.0, description="reputation an author loses for each warning (0: none)"
    )
    freeze_after_warnings: int | None = Field(
        default=None, ge=1, description="every this many warnings an author is frozen (null: never)"
    )
    freeze_epochs: int = Field(default=1, ge=1, description="how long a moderation freeze lasts")


def _moderators(scenario: Scenario) -> list[str]:
    return [agent for agent, spec in scenario.agent_ids() if spec.role == MODERATOR]


# -------------------------------------------------------------------- component


@component
class Moderation(WorldComponent):
    """Moderators' decisions on the feed, and the sanctions of warnings."""

    key = "moderation"
    order = 11  # after the feed: a step's votes and posts land before its moderation
    Config = ModerationConfig
    actions = (Moderate,)
    rate_limits = (
        RateLimit(
            "moderations_per_step",
            (Moderate,),
            "step",
            3,
            "posts a moderator may hide or warn about per step",
            cost=_cost,
            unit="posts",
        ),
    )
    view_type = ModerationView
    prompt_rules = (
        "Moderation: agents with the role moderator may hide posts that harm the community "
        "(their authors are warned) or only warn a post's author, with a `moderate` action listing "
        "post ids; each listed post uses one of the moderator's moderations this step. A hidden post "
        "leaves the feed and takes no votes or replies; warnings cost reputation. The observation "
        "lists each agent's warnings so far."
    )
    config: ModerationConfig

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        if self.config is None:  # switched on by a moderator, without a section
            self.config = ModerationConfig()
        feed = setup.component(Feed.key)
        if not isinstance(feed, Feed):
            raise RuntimeError("moderation needs the feed, built before it")
        self.feed: Feed = feed
        self.moderators = frozenset(_moderators(setup.scenario))
        self.warnings: dict[str, int] = {}
        self.hidden_by_author: dict[str, int] = {}
        self._since_freeze: dict[str, int] = {}
        self._epoch = [0, 0, 0, 0]  # actions, hidden, warnings, freezes
        self._view: ModerationView | None = None

    @classmethod
    def enabled(cls, scenario: Scenario) -> bool:
        config = scenario.section(cls.key)
        if config is not None:
            return bool(config.enabled)
        return any(spec.role == MODERATOR and spec.count > 0 for spec in scenario.agents)

    @classmethod
    def check(cls, scenario: Scenario) -> None:
        if not _moderators(scenario):
            raise ConfigProblem(
                "moderation", "no agent has role: moderator", "an agent item with role: moderator"
            )

    @property
    def state(self) -> FeedState:
        return self.feed.state

    def view(self, at: At) -> ModerationView:
        view = self._view
        if view is None:
            view = self._view = ModerationView(dict(self.warnings), dict(self.hidden_by_author))
        return view

    def apply(self, at: At, turns: Sequence[Turn], agents: Mapping[str, AgentPublic]) -> Applied:
        out = Applied()
        network = self.published(NetworkView)
        for _, agent, action in turns:
            assert isinstance(action, Moderate)
            if agent not in self.moderators:
                out.events.append(self._rejected(at, agent, "only agents with role: moderator may moderate"))
                continue
            hide = list(dict.fromkeys(action.hide))
            warn = [p for p in dict.fromkeys(action.warn) if p not in hide]
            if not hide and not warn:
                out.events.append(
                    self._rejected(at, agent, "nothing to moderate: list post ids in hide or warn")
                )
                continue
            self._epoch[0] += 1
            for post_id, hiding in [(p, True) for p in hide] + [(p, False) for p in warn]:
                problem = self._problem(post_id, agent, network)
                if problem is not None:
                    out.events.append(self._rejected(at, agent, problem))
                    continue
                post = self.state.posts[post_id]
                if hiding:
                    self.state.hide(post_id)
                    self.hidden_by_author[post.author] = self.hidden_by_author.get(post.author, 0) + 1
                    self._epoch[1] += 1
                    out.events.append(
                        PostHidden(
                            epoch=at.epoch,
                            step=at.step,
                            post_id=post_id,
                            author=post.author,
                            moderator=agent,
                            reason=action.reason,
                        )
                    )
                self._warn(at, out, post.author, agent, post_id, action.reason)
            self._view = None
        return out

    def _problem(self, post_id: str, moderator: str, network: NetworkView | None) -> str | None:
        state = self.state
        post = state.posts.get(post_id)
        if post is None:
            if state.archived(post_id):
                return f"post {post_id} is archived (out of the feed's window or capacity)"
            return f"unknown post {post_id}"
        if not post.visible():
            return f"post {post_id} is already hidden"
        if post.author == moderator:
            return f"post {post_id} is your own: a moderator does not moderate itself"
        if network is not None and not network.reaches(moderator, post.author):
            return f"post {post_id} is by {post.author}, outside your network reach"
        return None

    def _warn(self, at: At, out: Applied, author: str, moderator: str, post_id: str, reason: str) -> None:
        c = self.config
        count = self.warnings[author] = self.warnings.get(author, 0) + 1
        self._epoch[2] += 1
        out.events.append(
            AgentWarned(
                epoch=at.epoch,
                step=at.step,
                agent_id=author,
                moderator=moderator,
                post_id=post_id,
                warnings=count,
                reason=reason,
            )
        )
        why = f"warning {count} by {moderator} for {post_id}"
        effects: list[Effect] = []
        if c.warning_penalty > 0:
            effects.append(
                ReputationChange(
                    epoch=at.epoch,
                    step=at.step,
                    lever=LEVER,
                    agent_id=author,
                    amount=-c.warning_penalty,
                    reason=why,
                )
            )
        if c.freeze_after_warnings is not None:
            since = self._since_freeze[author] = self._since_freeze.get(author, 0) + 1
            if since >= c.freeze_after_warnings:
                self._since_freeze[author] = 0
                self._epoch[3] += 1
                effects.append(
                    FreezeOrder(
                        epoch=at.epoch,
                        step=at.step,
                        lever=LEVER,
                        agent_id=author,
                        until_epoch=at.epoch + c.freeze_epochs + 1,
                        reason=f"{since} warnings ({why})",
                    )
                )
        out.add_effects(effects)

    def _rejected(self, at: At, agent: str, reason: str) -> ActionRejected:
        return ActionRejected(epoch=at.epoch, step=at.step, agent_id=agent, action="moderate", reason=reason)

    def epoch_end(self, at: At, agents: Sequence[AgentPublic]) -> Applied:
        actions, hidden, warnings, freezes = self._epoch
        self._epoch = [0, 0, 0, 0]
        measured = ModerationMeasured(
            epoch=at.epoch,
            step=at.step,
            actions=actions,
            hidden=hidden,
            warnings=warnings,
            freezes=freezes,
            warned_agents=len(self.warnings),
        )
        return Applied(events=[measured])

    @classmethod
    def prompt_view(cls, view: ModerationView, agent_id: str) -> Any:
        top = sorted(view.warnings.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_SHOWN]
        return ModerationView(dict(top), {a: view.hidden_posts[a] for a, _ in top if a in view.hidden_posts})


MAX_SHOWN = 20
"""Warned authors shown to an LLM agent (the most warned first)."""


# ---------------------------------------------------------------------- metrics

latest("moderation_actions", ModerationMeasured, "moderate actions taken", lambda e: e.actions, optional=True)
latest(
    "moderation_hidden", ModerationMeasured, "posts hidden by moderators", lambda e: e.hidden, optional=True
)
latest(
    "moderation_warnings",
    ModerationMeasured,
    "warnings given by moderators",
    lambda e: e.warnings,
    optional=True,
)
latest(
    "moderation_freezes",
    ModerationMeasured,
    "freezes brought by warnings",
    lambda e: e.freezes,
    optional=True,
)
run_figure("posts_hidden", "posts hidden by moderators over the run", sum_of("moderation_hidden"))
run_figure("warnings_given", "warnings given by moderators over the run", sum_of("moderation_warnings"))
