"""Post hiding, threads and feed statistics, and the moderation component that hides and warns."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm.core.payoff import SoftPayoffEngine
from swarm.env.feed import CastVote, CreatePost, Feed, FeedMeasured, FeedState, FeedView, Reply
from swarm.env.moderation import (
    AgentWarned,
    Moderate,
    Moderation,
    ModerationMeasured,
    ModerationView,
    PostHidden,
)
from swarm.events import ActionRejected
from swarm.governance.effects import FreezeOrder, ReputationChange
from swarm.kernel.component import At, Setup, Turn
from swarm.scenario import Scenario, load_scenario

# ------------------------------------------------------------ the feed's state


def threaded() -> FeedState:
    s = FeedState(reply_weight=0.0, age_decay=0.0)
    s.track_threads = True
    s.track_latest = True
    return s


def test_a_hidden_post_leaves_the_ranking_the_latest_posts_and_the_replies_with_its_thread() -> None:
    s = threaded()
    root = s.create("a", "root", None, 0)
    other = s.create("b", "other", None, 0)
    reply = s.create("c", "reply", root.post_id, 0)
    deeper = s.create("d", "deeper", reply.post_id, 0)
    s.vote(root.post_id, "x", 1)
    assert [p.post_id for p in s.ranked(0, 10)] == [root.post_id, other.post_id]
    s.hide(root.post_id)
    assert [p.post_id for p in s.ranked(0, 10)] == [other.post_id]
    assert "a" not in s.latest_views()
    assert s.recent_replies(10) == ()  # the whole thread is out of sight
    assert not deeper.visible() and not reply.visible() and other.visible()
    assert s.stats.hidden == 1 and s.hidden_total == 1
    s.vote(other.post_id, "x", 1)  # a later score change never brings the hidden post back
    assert root.post_id not in [p.post_id for p in s.ranked(0, 10)]


def test_threads_carry_root_depth_size_and_depth_in_the_views() -> None:
    s = threaded()
    root = s.create("a", "root", None, 0)
    r1 = s.create("b", "r1", root.post_id, 0)
    s.create("c", "r2", r1.post_id, 1)
    s.create("d", "r3", root.post_id, 1)
    (top,) = s.ranked(1, 10)
    assert (top.root_id, top.depth, top.thread_size, top.thread_depth) == (root.post_id, 0, 3, 2)
    assert top.reply_count == 2  # direct replies, as before
    replies = s.recent_replies(10)
    assert [(p.content, p.depth, p.root_id) for p in replies] == [
        ("r3", 1, root.post_id),
        ("r2", 2, root.post_id),
        ("r1", 1, root.post_id),
    ]
    assert s.stats.replies == 3 and s.stats.deepest_reply == 2 and s.stats.posts == 1


def test_without_threads_tracked_views_carry_no_thread_fields_and_encode_as_before() -> None:
    s = FeedState()
    root = s.create("a", "root", None, 0)
    s.create("b", "reply", root.post_id, 0)
    (view,) = s.ranked(0, 10)
    assert view.thread_size is msgspec.UNSET and view.depth is msgspec.UNSET
    assert b"thread" not in msgspec.json.encode(FeedView((view,), 2))
    assert b"replies" not in msgspec.json.encode(FeedView((view,), 2))


OPS = st.lists(
    st.tuples(st.sampled_from(["post", "reply", "vote", "hide", "tick"]), st.integers(0, 10_000)),
    max_size=80,
)


@settings(max_examples=60, deadline=None)
@given(OPS)
def test_a_hidden_post_never_appears_in_a_visible_feed_and_threads_stay_consistent(
    ops: list[tuple[str, int]],
) -> None:
    s = FeedState(reply_weight=0.5, age_decay=0.1, window_steps=6, capacity=5)
    s.track_threads = s.track_latest = True
    clock = 0
    sizes: dict[str, int] = {}  # root → replies created in its thread
    depths: dict[str, int] = {}
    for op, n in ops:
        live = sorted(s.posts, key=lambda p: int(p.removeprefix("post-")))
        pick = live[n % len(live)] if live else None
        if op == "post":
            s.create(f"a{n % 4}", "text", None, clock)
        elif op == "reply" and pick is not None and s.posts[pick].visible():
            post = s.create(f"a{n % 4}", "reply", pick, clock)
            root = (post.root or post).post_id
            sizes[root] = sizes.get(root, 0) + 1
            depths[root] = max(depths.get(root, 0), post.depth)
        elif op == "vote" and pick is not None:
            s.vote(pick, f"v{n % 3}", 1 if n % 2 else -1)
        elif op == "hide" and pick is not None:
            s.hide(pick)
        elif op == "tick":
            clock += 1 + n % 3
        shown = [*s.ranked(clock, 10), *s.latest_views().values(), *s.recent_replies(10)]
        for view in shown:
            post = s.posts[view.post_id]
            assert post.visible(), f"{view.post_id} is hidden (or in a hidden thread) but shown"
        for post in s.posts.values():
            if post.parent is not None:
                assert post.depth == post.parent.depth + 1
                assert post.root is (post.parent.root or post.parent)
            else:
                assert post.depth == 0 and post.root is None
                assert post.thread_size == sizes.get(post.post_id, 0)
                assert post.thread_depth == depths.get(post.post_id, 0)


# --------------------------------------------------------- the two components

AGENTS = {"h_1": "honest", "h_2": "honest", "bad_1": "adversarial", "mod_1": "honest"}


def scenario(**sections: Any) -> Scenario:
    return load_scenario(
        {
            "scenario_id": "mod",
            "agents": [
                {"type": "honest", "name": "h", "count": 2},
                {"type": "adversarial", "name": "bad", "count": 1},
                {"type": "honest", "name": "mod", "count": 1, "role": "moderator"},
            ],
            "simulation": {"n_epochs": 2, "steps_per_epoch": 3},
            **sections,
        }
    )


def world(**sections: Any) -> tuple[Feed, Moderation]:
    sc = scenario(**sections)
    engine = SoftPayoffEngine(sc.payoff)
    built: dict[str, Any] = {}
    feed = built["feed"] = Feed(Setup(sc, sc.section("feed"), engine, AGENTS, built))
    moderation = Moderation(Setup(sc, sc.section("moderation"), engine, AGENTS, built))
    return feed, moderation


AT = At(0, 1, 1)


def test_moderation_is_on_with_a_moderator_and_threads_are_tracked() -> None:
    sc = scenario()
    assert Moderation.enabled(sc)
    feed, _ = world()
    assert feed.state.track_threads
    plain = load_scenario({"agents": [{"type": "honest", "role": "poster"}]})
    assert not Moderation.enabled(plain)
    assert not Feed(
        Setup(plain, plain.section("feed"), SoftPayoffEngine(plain.payoff), {})
    ).state.track_threads


def test_hiding_warns_the_author_costs_reputation_and_closes_the_post_to_votes_and_replies() -> None:
    feed, mod = world()
    post = feed.state.create("bad_1", "The whole board is rigged.", None, 0)
    done = mod.apply(AT, [Turn(0, "mod_1", Moderate(hide=[post.post_id], reason="hostile"))], {})
    hidden, warned, sanction = done.events
    assert isinstance(hidden, PostHidden) and (hidden.author, hidden.moderator) == ("bad_1", "mod_1")
    assert isinstance(warned, AgentWarned) and (warned.agent_id, warned.warnings) == ("bad_1", 1)
    assert isinstance(sanction, ReputationChange) and sanction.amount == pytest.approx(-0.1)
    assert sanction.lever == "moderation" and done.entries  # booked by the ledger
    assert feed.view(AT).posts == ()
    assert mod.view(AT) == ModerationView({"bad_1": 1}, {"bad_1": 1})
    turns = [
        Turn(0, "h_1", CastVote(post_id=post.post_id, direction=1)),
        Turn(1, "h_2", Reply(parent_id=post.post_id, content="agreed")),
    ]
    rejected = feed.apply(AT, turns, {}).events
    assert [type(e) for e in rejected] == [ActionRejected, ActionRejected]
    assert all("hidden by moderation" in e.reason for e in rejected if isinstance(e, ActionRejected))


def test_only_moderators_moderate_and_never_their_own_or_unknown_or_hidden_posts() -> None:
    feed, mod = world()
    own = feed.state.create("mod_1", "mine", None, 0)
    other = feed.state.create("h_1", "fine", None, 0)
    by_other = mod.apply(AT, [Turn(0, "h_1", Moderate(hide=[other.post_id]))], {}).events
    assert [e.reason for e in by_other if isinstance(e, ActionRejected)] == [
        "only agents with role: moderator may moderate"
    ]
    feed.state.hide(other.post_id)
    events = mod.apply(
        AT, [Turn(0, "mod_1", Moderate(hide=[own.post_id, "post-99"], warn=[other.post_id]))], {}
    )
    reasons = [e.reason for e in events.events if isinstance(e, ActionRejected)]
    assert reasons == [
        f"post {own.post_id} is your own: a moderator does not moderate itself",
        "unknown post post-99",
        f"post {other.post_id} is already hidden",
    ]
    empty = mod.apply(AT, [Turn(0, "mod_1", Moderate())], {}).events
    assert "nothing to moderate" in empty[0].reason  # type: ignore[attr-defined]


def test_every_nth_warning_freezes_the_author_when_asked() -> None:
    feed, mod = world(moderation={"warning_penalty": 0.0, "freeze_after_warnings": 2, "freeze_epochs": 3})
    posts = [feed.state.create("bad_1", f"spam {k}", None, 0).post_id for k in range(4)]
    events = mod.apply(AT, [Turn(0, "mod_1", Moderate(warn=posts))], {}).events
    assert not any(isinstance(e, ReputationChange) for e in events)  # no penalty asked for
    freezes = [e for e in events if isinstance(e, FreezeOrder)]
    assert len(freezes) == 2 and all(f.until_epoch == AT.epoch + 4 for f in freezes)
    assert [e.warnings for e in events if isinstance(e, AgentWarned)] == [1, 2, 3, 4]
    (measured,) = mod.epoch_end(At(0, 3, 3), ()).events
    assert isinstance(measured, ModerationMeasured)
    assert (measured.actions, measured.warnings, measured.freezes, measured.hidden) == (1, 4, 2, 0)


def test_feed_statistics_close_each_epoch_and_restart() -> None:
    feed, mod = world()
    s = feed.state
    root = s.create("h_1", "hello", None, 0)
    reply = s.create("h_2", "hi", root.post_id, 0)
    s.create("h_1", "hey", reply.post_id, 1)
    s.vote(root.post_id, "h_2", 1)
    s.vote(root.post_id, "bad_1", -1)
    mod.apply(AT, [Turn(0, "mod_1", Moderate(hide=[s.create("bad_1", "rigged", None, 1).post_id]))], {})
    stats = feed.view(AT).stats
    assert not isinstance(stats, msgspec.UnsetType)
    assert (stats.posts, stats.replies, stats.hidden, stats.upvotes, stats.downvotes) == (2, 2, 1, 1, 1)
    (measured,) = feed.epoch_end(At(0, 3, 3), ()).events
    assert isinstance(measured, FeedMeasured)
    assert (measured.threads, measured.largest_thread, measured.max_thread_depth) == (1, 2, 2)
    assert measured.mean_thread_size == 2.0  # one live, visible top-level post with two replies
    after = feed.view(At(1, 0, 3)).stats
    assert not isinstance(after, msgspec.UnsetType)
    assert (after.posts, after.hidden, after.hidden_total) == (0, 0, 1)


def test_a_feed_without_threads_logs_no_statistics() -> None:
    sc = load_scenario({"agents": [{"type": "honest", "count": 2}]})
    feed = Feed(Setup(sc, sc.section("feed"), SoftPayoffEngine(sc.payoff), {}))
    feed.state.create("honest_1", "x", None, 0)
    assert feed.epoch_end(At(0, 3, 3), ()).events == []
    view = feed.view(AT)
    assert view.stats is msgspec.UNSET and view.replies is msgspec.UNSET


def test_the_moderation_cost_is_one_per_distinct_post() -> None:
    (limit,) = Moderation.rate_limits
    assert limit.cost is not None
    assert limit.cost(Moderate(hide=["post-1", "post-1"], warn=["post-1", "post-2"])) == 2
    assert limit.cost(Moderate()) == 1
    assert limit.key == "moderations_per_step" and limit.per == "step"


def test_a_created_post_of_a_moderated_feed_is_still_ranked() -> None:
    feed, _ = world()
    done = feed.apply(AT, [Turn(0, "h_1", CreatePost(content="hello"))], {})
    assert len(done.events) == 1 and feed.view(AT).posts[0].content == "hello"
