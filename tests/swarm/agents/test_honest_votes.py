"""The honest voter picks, with the same draw, the post that a plain filter of the feed gives.

Its filter of the posts it has not voted on (and did not write) reads an index of the feed that it
keeps between decisions; whatever the feed (its own posts in it, repeated ids, the same feed read
again or a new one), the post it votes on must be the one the plain list comprehension picks.
"""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from swarm.actions import NOOP
from swarm.agents.scripted import HonestPolicy
from swarm.env.broker import Propose
from swarm.env.feed import CastVote, CreatePost, FeedView, PostView
from swarm.env.tasks import ClaimTask
from swarm.views import AgentPublic, Observation, Snapshot

ME = "me"


def _observation(posts: tuple[PostView, ...]) -> Observation:
    me = AgentPublic(ME, 1.0, 100.0, False)
    # claims, posts and proposals used up: a decision draws only for the vote
    spent = frozenset({ClaimTask, CreatePost, Propose})
    snapshot = Snapshot(0, 0, (me,), {FeedView: FeedView(posts, len(posts))}, exhausted={ME: spent})
    return Observation(ME, me, snapshot)


feeds = st.lists(
    st.lists(
        st.tuples(
            st.sampled_from(["p1", "p2", "p3", "p4", "p5", "p6"]),
            st.sampled_from([ME, "a", "b"]),
            st.sampled_from([0, 5]),  # downvotes: 5 turns the vote down
        ),
        max_size=8,
    ),
    min_size=1,
    max_size=4,
)


@settings(max_examples=200, deadline=None)
@given(feeds=feeds, rounds=st.integers(1, 3), seed=st.integers(0, 2**32))
def test_the_vote_goes_to_the_post_a_plain_filter_picks(
    feeds: list[list[tuple[str, str, int]]], rounds: int, seed: int
) -> None:
    policy = HonestPolicy(ME, random.Random(seed), {"vote_probability": 1.0})
    rng = random.Random(seed)
    voted: dict[str, None] = {}
    for feed in feeds:
        posts = tuple(PostView(post_id, author, "text", downvotes=down) for post_id, author, down in feed)
        observation = _observation(posts)
        for _ in range(rounds):  # the same feed again: the index kept is read
            action = policy.decide(observation)
            if not posts:
                assert action is NOOP
                continue
            rng.random()  # the vote's draw
            fresh = [p for p in posts if p.post_id not in voted and p.author != ME]
            if not fresh:
                assert action is NOOP
                continue
            expected = rng.choice(fresh)
            voted[expected.post_id] = None
            down = expected.downvotes > 2
            assert action == CastVote(post_id=expected.post_id, direction=-1 if down else 1)
    assert rng.random() == policy.rng.random()  # the same draws, no more
