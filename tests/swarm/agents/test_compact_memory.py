"""The scripted agents' memories kept compact behave as the plain structures they replace.

A trust book (the last ``BOOK`` counterparts, most recent last) is a dict whose order is a
recency order; when moves have filled its table the policy copies it into a small one. The
posts an agent voted on (the last ``VOTES``) are a tuple, oldest first. These tests check
the policy's book and votes against a plain model of the rules after every change (same
keys, same order, same figures) and that they stay at the size of the structure at rest.
"""

from __future__ import annotations

import random
from array import array
from collections import OrderedDict
from sys import getsizeof

from hypothesis import given, settings
from hypothesis import strategies as st

from swarm.agents.policy import Outcome
from swarm.agents.scripted import HonestPolicy
from swarm.agents.scripted.base import VOTES, ScriptedPolicy, _table_bytes
from swarm.core.interaction import SoftInteraction
from swarm.env.feed import PostView
from swarm.metrics._columns import counts_column

ME = "me"

Dealing = tuple[int, float, bool, bool]
"""(counterpart number, p, accepted, as initiator)."""

dealings = st.lists(
    st.tuples(
        st.integers(0, 40),
        st.floats(0.0, 1.0, allow_nan=False),
        st.booleans(),
        st.booleans(),
    ),
    max_size=300,
)


def outcome(other: str, p: float, accepted: bool, initiator: bool) -> Outcome:
    a, b = (ME, other) if initiator else (other, ME)
    interaction = SoftInteraction(interaction_id="ix", initiator=a, counterparty=b, accepted=accepted, p=p)
    return Outcome(interaction, "initiator" if initiator else "counterparty", 0.0)


class BookModel:
    """The trust book's rules over an ordered dict of [Σp accepted, n accepted, Σp seen, n seen]."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.book: OrderedDict[str, list[float]] = OrderedDict()
        self.partners: list[str] = []

    def observe(self, other: str, p: float, accepted: bool) -> None:
        row = self.book.pop(other, None)
        if row is None:
            if len(self.book) >= self.size:
                self.book.popitem(last=False)
            row = [0.0, 0.0, 0.0, 0.0]
        self.book[other] = row
        row[2] += p
        row[3] += 1
        if accepted:
            row[0] += p
            row[1] += 1
            if other in self.partners:
                self.partners.remove(other)
            self.partners.append(other)
            del self.partners[: -ScriptedPolicy.SAMPLE]


@settings(max_examples=60, deadline=None)
@given(dealings)
def test_the_trust_book_is_a_bounded_recency_dict_of_exact_sums(seq: list[Dealing]) -> None:
    policy = HonestPolicy(ME, random.Random(0))
    model = BookModel(policy.BOOK)
    for k, p, accepted, initiator in seq:
        other = f"agent_{k}"
        policy.observe(outcome(other, p, accepted, initiator))
        model.observe(other, p, accepted)
        assert list(policy._book) == list(model.book)
        assert getsizeof(policy._book) <= policy._BOOK_BYTES
        assert len(policy._tally) == len(policy._counts) == 2 * len(policy._book)
    assert policy._partners == model.partners
    for other, (acc_p, acc_n, seen_p, seen_n) in model.book.items():
        assert policy.dealings(other) == (seen_p, int(seen_n))
        assert policy.trust(other, 0.25) == (acc_p / acc_n if acc_n else 0.25)
    for k in range(41):  # forgotten and never-met counterparts are strangers
        if f"agent_{k}" not in model.book:
            assert policy.trust(f"agent_{k}", 0.3) == 0.3
            assert policy.dealings(f"agent_{k}") == (0.0, 0)


def test_a_long_run_of_dealings_keeps_the_book_at_its_size_at_rest() -> None:
    policy = HonestPolicy(ME, random.Random(0))
    rng = random.Random(1)
    sizes = set()
    for _ in range(5_000):
        policy.observe(outcome(f"agent_{rng.randrange(24)}", rng.random(), rng.random() < 0.7, True))
        sizes.add(getsizeof(policy._book))
    assert max(sizes) == policy._BOOK_BYTES == _table_bytes(16)
    exact = array("d", [0.0] * 2 * policy.BOOK)
    assert getsizeof(policy._tally) == getsizeof(exact)  # no spare room in the full book's tallies
    counts = policy._counts  # a byte each while every count is below 256
    assert getsizeof(counts) == getsizeof(array(counts.typecode, [0] * 2 * policy.BOOK))
    appended: list[str] = []
    for k in range(policy.SAMPLE):
        appended.append(str(k))
    assert policy._partners and getsizeof(policy._partners) == getsizeof(appended)  # never past SAMPLE


def test_counts_past_one_byte_are_kept_whole() -> None:
    policy = HonestPolicy(ME, random.Random(0))
    policy.observe(outcome("other", 0.5, False, True))
    policy.observe(outcome("agent_b", 0.25, True, True))
    assert policy._counts.typecode == "B"
    slot = policy._book["other"]
    policy._counts[slot + 1] = 0xFF  # as if 255 dealings had been seen
    policy.observe(outcome("other", 0.75, False, False))
    assert policy._counts.typecode == "H"
    assert policy.dealings("other") == (1.25, 0x100)
    assert policy.trust("other") == 0.5 and policy.dealings("agent_b") == (0.25, 1)


def test_counts_past_two_bytes_are_kept_whole() -> None:
    policy = HonestPolicy(ME, random.Random(0))
    policy.observe(outcome("other", 0.5, False, True))
    policy.observe(outcome("agent_b", 0.25, True, True))
    policy._counts = array("H", policy._counts)  # as if a count had once passed 255
    slot = policy._book["other"]
    policy._counts[slot + 1] = 0xFFFF  # as if 65,535 dealings had been seen
    policy.observe(outcome("other", 0.75, True, False))
    assert policy._counts.typecode == "Q"
    assert policy.dealings("other") == (1.25, 0x10000)
    assert policy.trust("other") == 0.75
    assert policy.dealings("agent_b") == (0.25, 1) and policy.trust("agent_b") == 0.25


def post(number: int) -> PostView:
    return PostView(f"post-{number}", "author", "text")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 150), max_size=500))
def test_the_votes_remembered_are_the_last_ones_in_order(posts: list[int]) -> None:
    policy = HonestPolicy(ME, random.Random(0))
    model: dict[str, None] = {}
    for number in posts:
        vote = policy._vote_on(post(number), 1)
        assert vote.post_id == f"post-{number}"
        pid = f"post-{number}"
        if pid not in model:
            model[pid] = None
            if len(model) > VOTES:
                del model[next(iter(model))]
        assert list(policy._voted) == list(model)
        assert getsizeof(policy._voted) == getsizeof(tuple(model))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 150), max_size=500))
def test_a_vote_on_a_post_not_remembered_needs_no_look_up(posts: list[int]) -> None:
    looked_up, trusted = HonestPolicy(ME, random.Random(0)), HonestPolicy(ME, random.Random(0))
    for number in posts:
        if f"post-{number}" in trusted._voted:
            continue  # _vote_anew is for a post it does not remember
        vote = trusted._vote_anew(post(number), -1)
        assert vote == looked_up._vote_on(post(number), -1)
        assert trusted._voted == looked_up._voted


def test_many_votes_keep_the_last_ones_only() -> None:
    policy = HonestPolicy(ME, random.Random(0))
    for number in range(3_000):
        policy._vote_on(post(number), -1)
    assert len(policy._voted) == VOTES
    assert getsizeof(policy._voted) == getsizeof(tuple(range(VOTES)))
    assert list(policy._voted) == [f"post-{n}" for n in range(3_000 - VOTES, 3_000)]


@given(st.lists(st.integers(-(2**63), 2**63 - 1), max_size=50))
def test_a_counts_column_reads_back_the_same_ints(values: list[int]) -> None:
    column = counts_column(values)
    assert list(column) == values
    assert all(type(v) is int for v in column)


@given(st.lists(st.integers(0, 2**40), min_size=1, max_size=50))
def test_a_counts_column_is_as_narrow_as_its_largest_count_allows(values: list[int]) -> None:
    column = counts_column(values)
    top = max(values)
    width = 1 if top < 2**8 else 2 if top < 2**16 else 4 if top < 2**32 else 8
    assert column.itemsize == width
