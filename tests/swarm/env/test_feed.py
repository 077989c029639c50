"""The feed: posts, replies, votes (normalised or not), the visibility ranking, and the component."""

from __future__ import annotations

import heapq

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from swarm.core.payoff import SoftPayoffEngine
from swarm.env.feed import (
    MAX_POSTS_SHOWN,
    CastVote,
    CreatePost,
    Feed,
    FeedState,
    FeedView,
    PostCreated,
    PostView,
    Reply,
    VoteCast,
)
from swarm.events import ActionRejected
from swarm.kernel.component import At, Setup, Turn
from tests.conftest import make_scenario


def flat(**kw: object) -> FeedState:
    """A feed whose score is the (weighted) net votes alone."""
    return FeedState(reply_weight=0.0, age_decay=0.0, **kw)  # type: ignore[arg-type]


def ids(views: tuple[PostView, ...]) -> list[str]:
    return [v.post_id for v in views]


# ------------------------------------------------------------------- posting


def test_posts_get_sequential_ids_and_remember_author_content_and_step() -> None:
    s = FeedState()
    first = s.create("a", "hello", None, 3)
    second = s.create("b", "world", None, 4)
    assert (first.post_id, first.author, first.content, first.created_at_step) == ("post-1", "a", "hello", 3)
    assert second.post_id == "post-2"
    assert [v.post_id for v in s.ranked(4, 10)] == ["post-2", "post-1"]  # same score after decay: newer wins
    (view,) = [v for v in s.ranked(4, 10) if v.post_id == "post-1"]
    assert view == PostView("post-1", "a", "hello", None, 0, 0, 0, 3)


def test_replies_count_on_their_parent_and_are_not_ranked() -> None:
    s = flat()
    parent = s.create("a", "question", None, 0)
    s.create("b", "answer", parent.post_id, 1)
    nested = s.create("c", "answer to the answer", "post-2", 1)
    assert nested.parent_id == "post-2"
    assert (parent.reply_count, s.posts["post-2"].reply_count, nested.reply_count) == (1, 1, 0)
    assert ids(s.ranked(1, 10)) == ["post-1"]
    assert s.ranked(1, 10)[0].reply_count == 1
    assert len(s.posts) == 3


def test_a_reply_to_an_unknown_post_is_an_error_and_creates_nothing() -> None:
    s = FeedState()
    with pytest.raises(KeyError):
        s.create("a", "orphan", "post-9", 0)
    assert s.posts == {}


# -------------------------------------------------------------------- voting


def test_votes_count_up_and_down_per_voter() -> None:
    s = flat()
    p = s.create("a", "x", None, 0)
    assert s.vote(p.post_id, "b", 1)
    assert s.vote(p.post_id, "c", 1)
    assert s.vote(p.post_id, "d", -1)
    (view,) = s.ranked(0, 5)
    assert (view.upvotes, view.downvotes, view.net_votes) == (2, 1, 1)
    assert s.score(p, 0) == 1.0


def test_a_repeated_vote_changes_nothing() -> None:
    s = flat()
    p = s.create("a", "x", None, 0)
    assert s.vote(p.post_id, "b", 1)
    assert not s.vote(p.post_id, "b", 1)
    assert not s.vote(p.post_id, "b", 1)
    assert (p.upvotes, p.downvotes, s.score(p, 0)) == (1, 0, 1.0)


def test_changing_a_vote_moves_it_from_one_count_to_the_other() -> None:
    s = flat()
    p = s.create("a", "x", None, 0)
    s.vote(p.post_id, "b", 1)
    assert s.vote(p.post_id, "b", -1)
    assert (p.upvotes, p.downvotes, s.score(p, 0)) == (0, 1, -1.0)
    assert s.vote(p.post_id, "b", 1)
    assert (p.upvotes, p.downvotes, s.score(p, 0)) == (1, 0, 1.0)


def test_without_normalisation_every_vote_weighs_one() -> None:
    s = flat()
    posts = [s.create("a", str(k), None, 0) for k in range(5)]
    for p in posts:
        s.vote(p.post_id, "v", 1)
    assert [s.score(p, 0) for p in posts] == [1.0] * 5
    assert s.vote_weight("v", 0) == 1.0


def test_normalised_votes_weigh_less_the_more_a_voter_votes_in_an_epoch() -> None:
    s = flat(max_vote_weight=2.0)
    posts = [s.create("a", str(k), None, 0) for k in range(4)]
    for p in posts:
        s.vote(p.post_id, "v", 1)
    # the k-th vote of the epoch weighs 1 / (1 + (k - 1) / 2)
    assert [s.score(p, 0) for p in posts] == pytest.approx([1.0, 2 / 3, 0.5, 0.4])
    # another voter starts afresh; so does everyone in a new epoch
    s.vote(posts[3].post_id, "w", -1)
    assert s.score(posts[3], 0) == pytest.approx(0.4 - 1.0)
    fresh = s.create("a", "new epoch", None, 10)
    s.vote(fresh.post_id, "v", 1, epoch=1)
    assert s.score(fresh, 10) == 1.0
    # counts are not weighted
    assert (posts[3].upvotes, posts[3].downvotes) == (1, 1)


def test_a_repeated_vote_does_not_use_up_vote_weight() -> None:
    s = flat(max_vote_weight=1.0)
    first, second = s.create("a", "1", None, 0), s.create("a", "2", None, 0)
    s.vote(first.post_id, "v", 1)
    for _ in range(5):
        s.vote(first.post_id, "v", 1)
    s.vote(second.post_id, "v", 1)
    assert s.score(second, 0) == pytest.approx(0.5)  # the voter's second vote, not its seventh


def test_a_changed_normalised_vote_replaces_the_old_weight_entirely() -> None:
    s = flat(max_vote_weight=1.0)
    p = s.create("a", "x", None, 0)
    s.vote(p.post_id, "v", 1)
    s.vote(p.post_id, "v", -1)
    assert s.score(p, 0) < 0  # nothing of the first up-vote is left
    assert (p.upvotes, p.downvotes) == (0, 1)


votes = st.lists(
    st.tuples(
        st.integers(1, 3), st.sampled_from(["u", "v", "w", "x"]), st.sampled_from([1, -1]), st.integers(0, 2)
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(votes, st.one_of(st.none(), st.floats(0.5, 10.0)))
def test_counts_follow_each_voters_latest_vote(
    sequence: list[tuple[int, str, int, int]], cap: float | None
) -> None:
    s = flat(max_vote_weight=cap)
    for k in range(3):
        s.create("author", str(k), None, 0)
    latest: dict[tuple[str, str], int] = {}
    epoch = 0
    for n, voter, direction, bump in sequence:
        epoch += bump  # epochs only move forward
        post_id = f"post-{n}"
        changed = s.vote(post_id, voter, direction, epoch)
        assert changed == (latest.get((post_id, voter)) != direction)
        latest[post_id, voter] = direction
    for post_id, post in s.posts.items():
        mine = [d for (p, _), d in latest.items() if p == post_id]
        assert (post.upvotes, post.downvotes) == (mine.count(1), mine.count(-1))
        score = s.score(post, 0)
        if cap is None:
            assert score == pytest.approx(post.upvotes - post.downvotes)
        else:  # every vote weighs in (0, 1]: the score has the sign of the votes and no more magnitude
            assert -post.downvotes - 1e-9 <= score <= post.upvotes + 1e-9


# ------------------------------------------------------------------- ranking


def test_ranking_orders_by_votes_replies_and_age() -> None:
    s = FeedState(reply_weight=0.5, age_decay=0.1, window_steps=50)
    old = s.create("a", "old but loved", None, 0)
    new = s.create("b", "new", None, 10)
    discussed = s.create("c", "discussed", None, 10)
    for voter in ("v1", "v2"):
        s.vote(old.post_id, voter, 1)
    s.create("d", "reply", discussed.post_id, 10)
    # old: 2 - 0.1*10 = 1.0; discussed: 0.5; new: 0
    assert [s.score(p, 10) for p in (old, discussed, new)] == pytest.approx([1.0, 0.5, 0.0])
    assert ids(s.ranked(10, 10)) == [old.post_id, discussed.post_id, new.post_id]
    # a later post with fewer votes overtakes it: age costs the old post 0.1 per step
    later = s.create("e", "later", None, 25)
    s.vote(later.post_id, "v1", 1)
    assert s.score(later, 25) - s.score(old, 25) == pytest.approx(1 - (2 - 2.5))
    assert ids(s.ranked(25, 10))[0] == later.post_id


def test_ranking_ties_go_to_the_newer_post() -> None:
    s = flat()
    a = s.create("a", "1", None, 5)
    b = s.create("b", "2", None, 5)
    c = s.create("c", "3", None, 7)
    assert ids(s.ranked(7, 10)) == [c.post_id, b.post_id, a.post_id]
    s.vote(a.post_id, "v", 1)
    assert ids(s.ranked(7, 10)) == [a.post_id, c.post_id, b.post_id]


def test_ranking_shows_at_most_the_limit() -> None:
    s = flat()
    for k in range(6):
        p = s.create("a", str(k), None, 0)
        for j in range(k):
            s.vote(p.post_id, f"v{j}", 1)
    assert ids(s.ranked(0, 3)) == ["post-6", "post-5", "post-4"]
    assert s.ranked(0, 0) == ()


def test_only_posts_inside_the_window_are_ranked() -> None:
    s = FeedState(reply_weight=0.0, age_decay=0.0, window_steps=5)
    old = s.create("a", "old", None, 0)
    for voter in "abcdefgh":
        s.vote(old.post_id, voter, 1)
    s.create("b", "new", None, 4)
    assert ids(s.ranked(5, 10)) == ["post-1", "post-2"]  # exactly window_steps old: still ranked
    assert ids(s.ranked(6, 10)) == ["post-2"]
    assert ids(s.ranked(9, 10)) == ["post-2"]
    assert ids(s.ranked(10, 10)) == []


def test_posts_leaving_the_window_are_archived_so_memory_stays_bounded() -> None:
    s = FeedState(window_steps=3)
    for clock in range(50):
        parent = s.create("a", "x", None, clock)
        s.create("b", "re", parent.post_id, clock)
        s.ranked(clock, 5)
    assert s.created == 100
    assert len(s.posts) == 8  # the posts and replies of the last four steps
    assert s.archived("post-1") and not s.archived("post-99") and not s.archived("post-101")
    assert not s.archived("nonsense")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=1, max_size=60), st.integers(1, 6), st.integers(1, 10))
def test_beyond_its_capacity_the_feed_keeps_the_best_ranked_posts(
    votes: list[int], capacity: int, limit: int
) -> None:
    """Archiving the lowest-ranked posts never changes the top of the ranking while they stay out of it."""
    bounded = FeedState(window_steps=1000, capacity=capacity)
    full = FeedState(window_steps=1000, capacity=10**6)
    for s in (bounded, full):
        for clock, net in enumerate(votes):
            p = s.create("a", "x", None, clock)
            for j in range(abs(net)):
                s.vote(p.post_id, f"v{j}", 1 if net > 0 else -1)
            s.ranked(clock, limit)
    clock = len(votes)
    assert len([p for p in bounded.posts.values() if p.parent_id is None]) <= 2 * capacity
    assert ids(bounded.ranked(clock, min(limit, capacity))) == ids(full.ranked(clock, min(limit, capacity)))
    assert all(bounded.archived(post_id) for post_id in full.posts if post_id not in bounded.posts)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(-3, 3), st.integers(0, 2), st.booleans()),
        min_size=1,
        max_size=40,
    ),
    st.integers(1, 12),
    st.sampled_from([(0.5, 0.1), (0.0, 0.0), (1.0, 0.0), (float("inf"), 0.1)]),
)
@example([(0, 0, 0, False)] * 9, 2, (float("inf"), 0.1))  # NaN keys, a pass over four times the capacity
def test_keeping_the_best_posts_keeps_the_smallest_entries_sorted(
    posts: list[tuple[int, int, int, bool]], capacity: int, weights: tuple[float, float]
) -> None:
    """The capacity pass sorts float keys, not the entries: it must keep the entries a sort of the
    entries keeps (ties to the newer post), in their order, and archive the rest (hidden ones too)."""
    reply_weight, age_decay = weights  # an infinite reply weight makes NaN keys (inf · 0 replies)
    s = FeedState(reply_weight=reply_weight, age_decay=age_decay, window_steps=1000, capacity=capacity)
    step = 0
    for gap, net, replies, hidden in posts:
        step += gap
        p = s.create("a", "x", None, step)
        for j in range(abs(net)):
            s.vote(p.post_id, f"v{j}", 1 if net > 0 else -1)
        for _ in range(replies):
            s.create("b", "r", p.post_id, step)
        if hidden:
            s.hide(p.post_id)
    live = list(s._live)
    entries = [s._entry(p) for p in live if p.parent_id is None and not p.hidden]
    # the k smallest entries, as the entries' own comparison picks them (with NaN keys, the pick
    # depends on the way: the one the feed always took)
    expected = (
        sorted(entries)[:capacity] if len(entries) <= 4 * capacity else heapq.nsmallest(capacity, entries)
    )
    s._keep_best(s._live, s.posts)
    assert [(e[1], e[2]) for e in s._heap] == [(e[1], e[2]) for e in expected]
    assert [e[0] for e in s._heap] == pytest.approx([e[0] for e in expected], nan_ok=True)
    kept = {e[3].post_id for e in expected}
    roots = [p.post_id for p in live if p.parent_id is None]
    assert [r for r in roots if r in s.posts] == [r for r in roots if r in kept]
    assert list(s._live) == [p for p in live if p.post_id in s.posts]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 20), st.integers(-3, 3), st.integers(0, 3)), min_size=1, max_size=25),
    st.integers(1, 8),
    st.integers(0, 10),
)
def test_the_ranking_is_the_top_of_the_window_by_score(
    posts: list[tuple[int, int, int]], limit: int, window: int
) -> None:
    s = FeedState(reply_weight=0.5, age_decay=0.1, window_steps=max(window, 1))
    made = []
    step = 0
    for gap, net, replies in posts:
        step += gap % 3
        p = s.create("a", "x", None, step)
        for j in range(abs(net)):
            s.vote(p.post_id, f"v{j}", 1 if net > 0 else -1)
        for _ in range(replies):
            s.create("b", "r", p.post_id, step)
        made.append(p)
    clock = step + window
    ranked = s.ranked(clock, limit)
    eligible = [p for p in made if clock - p.created_at_step <= s.window_steps]
    key = {p.post_id: (s.score(p, clock), p.created_at_step, p.order) for p in eligible}
    assert ids(ranked) == sorted(key, key=key.__getitem__, reverse=True)[:limit]


# ----------------------------------------------------------------- component

AGENTS = {"a": "honest", "b": "honest", "c": "honest"}


def feed(**governance: object) -> Feed:
    scenario = make_scenario(environment={"visible_posts": 3}, governance=governance)
    return Feed(Setup(scenario, scenario.section("feed"), SoftPayoffEngine(scenario.payoff), AGENTS))


def play(component: Feed, at: At, *pairs: tuple[str, object]) -> list[object]:
    return component.apply(at, [Turn(k, a, x) for k, (a, x) in enumerate(pairs)], {}).events  # type: ignore[arg-type]


def test_the_feed_turns_actions_into_events_in_schedule_order() -> None:
    f = feed()
    at = At(1, 2, 7)
    events = play(
        f,
        at,
        ("a", CreatePost(content="hi")),
        ("b", Reply(parent_id="post-1", content="hello")),
        ("c", CastVote(post_id="post-1", direction=1)),
        ("c", CastVote(post_id="post-1", direction=1)),
        ("b", CastVote(post_id="post-2", direction=-1)),
    )
    assert events == [
        PostCreated(epoch=1, step=2, post_id="post-1", author="a", content="hi"),
        PostCreated(epoch=1, step=2, post_id="post-2", author="b", content="hello", parent_id="post-1"),
        VoteCast(epoch=1, step=2, voter="c", post_id="post-1", direction=1, changed=True),
        VoteCast(epoch=1, step=2, voter="c", post_id="post-1", direction=1, changed=False),
        VoteCast(epoch=1, step=2, voter="b", post_id="post-2", direction=-1, changed=True),
    ]
    view = f.view(at)
    assert isinstance(view, FeedView) and view.total_posts == 2
    (top,) = view.posts
    assert (top.post_id, top.upvotes, top.reply_count) == ("post-1", 1, 1)


def test_the_feed_rejects_votes_and_replies_on_unknown_posts() -> None:
    f = feed()
    events = play(
        f,
        At(0, 0, 0),
        ("a", CastVote(post_id="post-7", direction=1)),
        ("b", Reply(parent_id="post-8", content="?")),
        ("c", CreatePost(content="fine")),
    )
    assert events[:2] == [
        ActionRejected(agent_id="a", action="vote", reason="unknown post post-7"),
        ActionRejected(agent_id="b", action="reply", reason="unknown post post-8"),
    ]
    assert isinstance(events[2], PostCreated) and events[2].post_id == "post-1"
    assert f.view(At(0, 0, 0)).total_posts == 1


def test_votes_and_replies_on_posts_older_than_the_window_are_refused_as_archived() -> None:
    scenario = make_scenario(environment={"feed_window_steps": 2})
    f = Feed(Setup(scenario, scenario.section("feed"), SoftPayoffEngine(scenario.payoff), AGENTS))
    play(f, At(0, 0, 0), ("a", CreatePost(content="early")))
    f.view(At(0, 3, 3))  # the window moves on as the feed is ranked
    events = play(
        f,
        At(0, 3, 3),
        ("b", CastVote(post_id="post-1", direction=1)),
        ("c", Reply(parent_id="post-1", content="late")),
    )
    reason = "post post-1 is archived (out of the feed's window or capacity)"
    assert events == [
        ActionRejected(epoch=0, step=3, agent_id="b", action="vote", reason=reason),
        ActionRejected(epoch=0, step=3, agent_id="c", action="reply", reason=reason),
    ]
    assert f.view(At(0, 3, 3)).total_posts == 1


def test_the_feed_view_shows_the_configured_number_of_posts() -> None:
    f = feed()
    play(f, At(0, 0, 0), *[("a", CreatePost(content=str(k))) for k in range(5)])
    assert len(f.view(At(0, 0, 0)).posts) == 3
    many = FeedView(tuple(PostView(f"post-{k}", "a", "x") for k in range(25)), 25)
    shown = Feed.prompt_view(many, "a")
    assert len(shown.posts) == MAX_POSTS_SHOWN and shown.total_posts == 25


def test_the_feed_normalises_votes_when_governance_says_so() -> None:
    normalised, plain = feed(vote_normalization_enabled=True, max_vote_weight_per_agent=1.0), feed()
    for f in (normalised, plain):
        play(f, At(0, 0, 0), *[("a", CreatePost(content=str(k))) for k in range(2)])
        play(
            f,
            At(0, 1, 1),
            ("b", CastVote(post_id="post-1", direction=1)),
            ("b", CastVote(post_id="post-2", direction=1)),
        )
    s = normalised.state
    assert (s.score(s.posts["post-1"], 1) - s.score(s.posts["post-2"], 1)) == pytest.approx(0.5)
    p = plain.state
    assert p.score(p.posts["post-1"], 1) == p.score(p.posts["post-2"], 1)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["post", "reply", "vote"]), st.integers(0, 30), st.sampled_from([1, -1])),
        min_size=1,
        max_size=120,
    ),
    st.integers(1, 8),
    st.booleans(),
)
def test_ranking_equals_sorting_every_recent_post_by_its_score_now(
    moves: list[tuple[str, int, int]], limit: int, normalised: bool
) -> None:
    """The lazy heap gives exactly the order of a full sort of the recent posts.

    The sort key is the score plus β·clock (the same for every post at a given clock, so the order is
    the score's; computed without the clock it is free of the rounding of clock − created_at_step).
    """
    state = FeedState(
        reply_weight=0.5, age_decay=0.1, window_steps=6, max_vote_weight=3.0 if normalised else None
    )
    top_level: list[str] = []
    for clock, (kind, pick, direction) in enumerate(moves):
        top_level = [post_id for post_id in top_level if post_id in state.posts]  # archived ones take nothing
        if kind == "post" or not top_level:
            top_level.append(state.create(f"a{pick}", "x", None, clock).post_id)
        elif kind == "reply":
            state.create(f"a{pick}", "r", top_level[pick % len(top_level)], clock)
        else:
            state.vote(top_level[pick % len(top_level)], f"v{pick % 5}", direction, epoch=clock // 10)
        recent = [
            p
            for p in state.posts.values()
            if p.parent_id is None and clock - p.created_at_step <= state.window_steps
        ]
        expected = sorted(
            recent,
            key=lambda p: (
                p.weighted + 0.5 * p.reply_count + 0.1 * p.created_at_step,
                p.created_at_step,
                p.order,
            ),
            reverse=True,
        )
        got = state.ranked(clock, limit)
        assert [v.post_id for v in got] == [p.post_id for p in expected[:limit]]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["post", "reply", "vote", "vote", "hide", "read", "tick"]),
            st.integers(0, 30),
            st.sampled_from([1, -1]),
        ),
        min_size=1,
        max_size=150,
    ),
    st.integers(1, 8),
    st.integers(1, 4),
)
def test_ranking_read_after_many_changes_equals_sorting_the_visible_posts(
    moves: list[tuple[str, int, int]], limit: int, capacity: int
) -> None:
    """Changes between two readings of the ranking (several votes on one post, replies, hidden
    posts, posts made and voted on at once) give the ranking a full sort of the visible posts gives."""
    state = FeedState(reply_weight=0.5, age_decay=0.1, window_steps=5, capacity=capacity)
    clock = 0
    for kind, pick, direction in moves:
        roots = [p for p in state.posts.values() if p.parent_id is None and not p.hidden]
        if kind == "tick":
            clock += 1
        elif kind == "post" or not roots:
            state.create(f"a{pick}", "x", None, clock)
        elif kind == "reply":
            state.create(f"a{pick}", "r", roots[pick % len(roots)].post_id, clock)
        elif kind == "vote":
            state.vote(roots[pick % len(roots)].post_id, f"v{pick % 7}", direction)
        elif kind == "hide":
            state.hide(roots[pick % len(roots)].post_id)
        else:
            before = dict(state.posts)
            got = [v.post_id for v in state.ranked(clock, limit)]
            eligible = [  # what the reading keeps live: inside the window, not hidden
                p
                for p in before.values()
                if p.parent_id is None and not p.hidden and clock - p.created_at_step <= state.window_steps
            ]
            key = {
                p.post_id: (p.weighted + 0.5 * p.reply_count + 0.1 * p.created_at_step, p.order)
                for p in eligible
            }
            expected = sorted(key, key=key.__getitem__, reverse=True)
            # beyond the capacity the lowest-ranked posts are archived first: the top is unchanged
            assert min(limit, capacity, len(expected)) <= len(got) <= min(limit, len(expected))
            assert got == expected[: len(got)]
