"""Culture and diffusion: settings, laws of the measures, story transmission, the motifs against controls."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm import load_scenario, run
from swarm.env.culture import CascadesMeasured, CommunitiesMeasured, NarrativesMeasured
from swarm.env.culture_measures import (
    Lineage,
    adjusted_rand,
    communities,
    embed,
    narratives,
    summarise,
)
from swarm.env.culture_view import VOCABULARIES, CultureView, tell
from swarm.env.feed import CreatePost, PostCreated, PostView, Reply
from swarm.errors import ScenarioError
from swarm.runtime.eventlog import read_log
from tests.conftest import SCENARIOS, make_scenario

STORY = {"content": {"vocabulary": "origin_story"}}


def events_of(scenario: Any, tmp: Path) -> list[Any]:
    run(scenario, out_dir=tmp)
    return read_log(tmp / "events.jsonl")[1]


def digest(path: Path) -> str:
    """The log without its header and wall-clock times."""
    h = hashlib.sha256()
    for line in path.read_text().splitlines()[1:]:
        data = json.loads(line)
        data.pop("wall_clock", None)
        h.update(json.dumps(data, sort_keys=True).encode())
    return h.hexdigest()


# ------------------------------------------------------------------ settings


@pytest.mark.parametrize(
    ("section", "key", "expected"),
    [
        ({"similarity_threshold": 0.0}, "culture.similarity_threshold", "> 0"),
        ({"community_method": "spectral"}, "culture.community_method", "louvain"),
        ({"graph_memory": 1.0}, "culture.graph_memory", "< 1"),
        ({"max_posts_embedded": 0}, "culture.max_posts_embedded", ">= 1"),
        ({"bogus": 1}, "culture.bogus", "unknown key"),
        ({"content": {"vocabulary": "saga"}}, "culture.content.vocabulary", "origin_story"),
        ({"content": {"transmission": 1.5}}, "culture.content.transmission", "<= 1"),
        ({"content": {"vocabulary": {"a": ["x"]}}}, "culture.content.vocabulary.a", "at least two words"),
        ({"content": {"vocabulary": {"a": ["x", "Big"]}}}, "culture.content.vocabulary.a", "lowercase"),
        ({"content": {"vocabulary": {"a": ["x", "the"]}}}, "culture.content.vocabulary.a", "no stopword"),
        (
            {"content": {"vocabulary": {"a": ["x", "y"], "b": ["y", "z"]}}},
            "culture.content.vocabulary.b",
            "one slot only",
        ),
        (
            {"content": {"vocabulary": "agent_nature", "repulsion_distance": 5}},
            "culture.content.repulsion_distance",
            "below 5",
        ),
        ({"content": "yes"}, "culture.content", "dictionary"),
    ],
)
def test_bad_settings_name_the_key_and_what_is_expected(
    section: dict[str, Any], key: str, expected: str
) -> None:
    with pytest.raises(ScenarioError) as info:
        make_scenario(culture=section)
    text = str(info.value)
    assert key in text and expected in text


def test_without_a_culture_section_nothing_is_measured_and_posts_are_stock_lines(tmp_path: Path) -> None:
    result = run(make_scenario(honest=4, epochs=2, steps=5), out_dir=tmp_path)
    _, events = read_log(tmp_path / "events.jsonl")
    assert not [
        e for e in events if isinstance(e, CommunitiesMeasured | CascadesMeasured | NarrativesMeasured)
    ]
    assert not [k for m in result.epochs for k in m if k.startswith("culture_")]
    stock = {e.content for e in events if isinstance(e, PostCreated)}
    assert stock and all(e.parent_id is None for e in events if isinstance(e, PostCreated))
    assert not any(w in text for text in stock for w in VOCABULARIES["origin_story"][1][0][1])


def test_measuring_alone_changes_nothing_the_agents_do(tmp_path: Path) -> None:
    plain = events_of(make_scenario(honest=4, opportunistic=2, epochs=2), tmp_path / "a")
    measured = events_of(make_scenario(honest=4, opportunistic=2, epochs=2, culture={}), tmp_path / "b")
    culture = (CommunitiesMeasured, CascadesMeasured, NarrativesMeasured)
    strip = [type(e).__name__ for e in measured if not isinstance(e, culture) and e.type != "epoch_completed"]
    assert strip == [type(e).__name__ for e in plain if e.type != "epoch_completed"]
    assert [e.content for e in measured if isinstance(e, PostCreated)] == [
        e.content for e in plain if isinstance(e, PostCreated)
    ]
    assert {type(e) for e in measured if isinstance(e, culture)} == set(culture)


def test_same_seed_same_log_and_replay_recomputes_the_culture_metrics(tmp_path: Path) -> None:
    from swarm.runtime.replay import recompute

    def scenario() -> Any:
        return make_scenario(
            honest=6, opportunistic=2, epochs=3, steps=6, culture=STORY, network={"topology": "ring"}
        )

    run(scenario(), out_dir=tmp_path / "a")
    run(scenario(), out_dir=tmp_path / "b")
    assert digest(tmp_path / "a" / "events.jsonl") == digest(tmp_path / "b" / "events.jsonl")
    _, epochs, mismatch = recompute(tmp_path / "a" / "events.jsonl")
    assert mismatch is None and epochs == 3


def test_the_events_are_consistent_and_the_partition_covers_every_agent(tmp_path: Path) -> None:
    sc = make_scenario(honest=8, opportunistic=2, deceptive=2, epochs=3, steps=8, culture=STORY)
    events = events_of(sc, tmp_path)
    n = len(sc.agent_ids())
    found = [e for e in events if isinstance(e, CommunitiesMeasured)]
    assert [e.epoch for e in found] == [0, 1, 2]
    for e in found:
        assert len(e.membership) == n
        sizes = [e.membership.count(k) for k in set(e.membership)]
        assert sorted(set(e.membership)) == list(range(len(sizes)))
        assert e.communities == sum(1 for s in sizes if s >= 2) and e.singletons == sum(
            1 for s in sizes if s == 1
        )
    assert found[0].stability is None and found[1].stability is not None
    for c in (e for e in events if isinstance(e, CascadesMeasured)):
        assert sum(k for _, k in c.sizes) == c.cascades
        if c.cascades:
            assert max(s for s, _ in c.sizes) == c.max_size
            assert c.mean_size == pytest.approx(sum(s * k for s, k in c.sizes) / c.cascades)
            assert 0 < c.tail_share <= 1  # type: ignore[operator]
    posts = {e.epoch: 0 for e in events if isinstance(e, PostCreated)}
    for e in events:
        if isinstance(e, PostCreated):
            posts[e.epoch] += 1
    for m in (e for e in events if isinstance(e, NarrativesMeasured)):
        assert m.posts == posts.get(m.epoch, 0) and m.embedded == m.posts
        assert 0 <= m.story_agreement <= 1  # type: ignore[operator]
        assert m.concentration is None or 1 / m.posts - 1e-9 <= m.concentration <= 1


def test_the_embedding_cap_bounds_the_work(tmp_path: Path) -> None:
    sc = make_scenario(honest=8, epochs=2, steps=8, culture={**STORY, "max_posts_embedded": 3})
    measured = [e for e in events_of(sc, tmp_path) if isinstance(e, NarrativesMeasured)]
    assert all(m.embedded == min(3, m.posts) for m in measured) and any(m.posts > 3 for m in measured)


# -------------------------------------------------------------- the measures


def random_forest(draw: Any) -> tuple[Lineage, list[tuple[int, str, str | None, int]]]:
    """A lineage built from random births and adoptions, and the log of what was done."""
    agents = [f"a{k}" for k in range(draw(st.integers(2, 8)))]
    lineage = Lineage(memory=100)
    log: list[tuple[int, str, str | None, int]] = []
    for epoch in range(draw(st.integers(1, 4))):
        for _ in range(draw(st.integers(0, 12))):
            if not lineage.memes or draw(st.booleans()):
                who = draw(st.sampled_from(agents))
                log.append((lineage.originate(who, epoch), who, None, epoch))
            else:
                meme = draw(st.sampled_from(sorted(lineage.memes)))
                source = draw(st.sampled_from(sorted(lineage.memes[meme].nodes)))
                who = draw(st.sampled_from(agents))
                if lineage.adopt(meme, who, source, epoch):
                    log.append((meme, who, source, epoch))
    return lineage, log


@given(st.data())
@settings(max_examples=50, deadline=None)
def test_cascades_and_r0_are_those_of_the_lineage_forest(data: st.DataObject) -> None:
    lineage, log = random_forest(data.draw)
    # every meme is a tree: one root, each agent once, parents adopted no later than their children
    for meme, m in lineage.memes.items():
        rows = [r for r in log if r[0] == meme]
        assert [r[1] for r in rows if r[2] is None] == [m.root]
        assert sorted(r[1] for r in rows) == sorted(m.nodes)
        assert sum(n.children for n in m.nodes.values()) == len(m.nodes) - 1
        for agent, node in m.nodes.items():
            if node.parent is not None:
                assert m.nodes[node.parent].epoch <= node.epoch and node.parent != agent
    last = max((r[3] for r in log), default=0)
    stats = lineage.stats(last)
    active = {r[0] for r in log if r[3] == last}
    assert stats.cascades == len(active)
    assert stats.adoptions == sum(1 for r in log if r[3] == last)
    assert sorted(s for s, k in stats.sizes for _ in range(k)) == sorted(
        len(lineage.memes[m].nodes) for m in active
    )
    cohort = [(r[0], r[1]) for r in log if r[3] == last - 1]
    children = [sum(1 for r in log if r[0] == meme and r[2] == agent) for meme, agent in cohort]
    assert stats.r0 == (pytest.approx(sum(children) / len(children)) if children else None)


def test_an_agent_adopts_a_meme_once_and_not_from_itself_or_a_stranger() -> None:
    lineage = Lineage()
    meme = lineage.originate("a", 0)
    assert lineage.adopt(meme, "b", "a", 0)
    assert not lineage.adopt(meme, "b", "a", 1)  # a repeat adds nothing
    assert not lineage.adopt(meme, "c", "c", 1)  # not from itself
    assert not lineage.adopt(meme, "c", "z", 1)  # z never adopted it
    assert not lineage.adopt(meme + 1, "c", "a", 1)
    lineage.memory = 1
    lineage.forget(3)
    assert not lineage.known(meme)


@given(
    st.integers(2, 14),
    st.lists(st.tuples(st.integers(0, 13), st.integers(0, 13), st.integers(1, 4)), max_size=40),
    st.sampled_from(["louvain", "greedy_modularity"]),
    st.integers(0, 2**31),
)
@settings(max_examples=60, deadline=None)
def test_a_partition_covers_every_agent_exactly_once_and_is_deterministic(
    n: int, edges: list[tuple[int, int, int]], method: Any, seed: int
) -> None:
    agents = [f"x{k}" for k in range(n)]
    weights: dict[tuple[str, str], float] = {}
    for a, b, w in edges:
        if a < n and b < n and a != b:
            pair = (agents[min(a, b)], agents[max(a, b)])
            weights[pair] = weights.get(pair, 0) + w
    labels, modularity = communities(agents, weights, method, seed)
    assert len(labels) == n and sorted(set(labels)) == list(range(len(set(labels))))
    sizes = [labels.count(k) for k in range(len(set(labels)))]
    assert sizes == sorted(sizes, reverse=True)
    assert (labels, modularity) == communities(agents, weights, method, seed)
    assert (modularity is None) == (not weights)
    if modularity is not None:
        assert -0.5 <= modularity <= 1.0


@given(st.lists(st.integers(0, 4), min_size=2, max_size=30), st.permutations(range(5)))
def test_the_adjusted_rand_index_ignores_labels_and_is_symmetric(
    labels: list[int], rename: list[int]
) -> None:
    assert adjusted_rand(labels, [rename[x] for x in labels]) == pytest.approx(1.0)
    other = labels[::-1]
    assert adjusted_rand(labels, other) == pytest.approx(adjusted_rand(other, labels))
    assert adjusted_rand(labels, other) <= 1.0 + 1e-12


WORDS = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa", "zeta"]


@given(
    st.lists(st.lists(st.sampled_from(WORDS), min_size=0, max_size=5), min_size=1, max_size=25),
    st.randoms(use_true_random=False),
    st.sampled_from([0.3, 0.5, 0.6, 0.8, 1.0]),
)
@settings(max_examples=80, deadline=None)
def test_narratives_do_not_depend_on_the_order_of_the_posts(
    docs: list[list[str]], shuffle: random.Random, threshold: float
) -> None:
    texts = [" ".join(d) for d in docs]
    order = list(range(len(texts)))
    shuffle.shuffle(order)
    shuffled = [texts[k] for k in order]
    a = narratives(embed(texts, 64), texts, threshold)
    b = narratives(embed(shuffled, 64), shuffled, threshold)
    assert [b[order.index(k)] for k in range(len(texts))] == a
    for i, t in enumerate(texts):  # the same text, the same narrative
        assert all(a[j] == a[i] for j, u in enumerate(texts) if u == t)
    s = summarise(embed(texts, 64), a)
    assert s.posts == len(texts) and 0 < s.top_share <= 1 and 0 <= s.entropy <= 1 + 1e-12
    assert s.concentration == pytest.approx(sum((a.count(k) / len(a)) ** 2 for k in set(a)))


def test_the_embedding_is_a_normalised_bag_of_words_without_stopwords() -> None:
    v = embed(["the weaver sang", "sang weaver", "the and of", ""], 128)
    assert np.allclose(np.linalg.norm(v[:2], axis=1), 1.0) and np.allclose(v[0], v[1])
    assert not v[2].any() and not v[3].any()
    assert narratives(v, ["1", "2", "3", "4"], 0.99) == [0, 0, 1, 1]


# ------------------------------------------------------------ transmission


class Fixed:
    """A random stream that always returns ``x``."""

    def __init__(self, x: float) -> None:
        self.x = x

    def random(self) -> float:
        return self.x


def view(**kw: Any) -> CultureView:
    template, slots = VOCABULARIES[kw.pop("vocabulary", "origin_story")]
    return CultureView(slots, template, **kw)


def post(text: str, author: str = "b", votes: int = 0, pid: str = "post-1") -> PostView:
    return PostView(pid, author, text, upvotes=votes)


def test_a_story_renders_and_parses_back() -> None:
    v = view()
    for story in ([0, 1, 2, 3, 4], [4, 4, 4, 4, 4], [2, 0, 3, 1, 0]):
        assert v.parse(v.render(story)) == story
    assert v.parse("nothing of the kind") == [None] * 5


def test_full_transmission_copies_the_read_story_and_none_keeps_ones_own() -> None:
    v, theirs = view(transmission=1.0, innovation=0.0, reply_probability=0.0), [4, 3, 2, 1, 0]
    mine = [0, 0, 0, 0, 0]
    action = tell(v, mine, Fixed(0.0), "a", [post(v.render(theirs))])
    assert mine == theirs and isinstance(action, CreatePost) and action.content == v.render(theirs)
    keep = [0, 1, 2, 3, 4]
    tell(view(transmission=0.0, innovation=0.0), keep, Fixed(0.0), "a", [post(v.render(theirs))])
    assert keep == [0, 1, 2, 3, 4]
    own = [0, 0, 0, 0, 0]
    tell(v, own, Fixed(0.0), "a", [post(v.render(theirs), author="a")])  # its own posts teach nothing
    assert own == [0, 0, 0, 0, 0]


def test_a_reply_answers_the_post_read_and_up_votes_draw_the_choice() -> None:
    v = view(transmission=1.0, innovation=0.0, reply_probability=1.0, prestige_bias=10.0)
    low, high = post(v.render([1] * 5), pid="post-1"), post(v.render([3] * 5), votes=5, pid="post-2")
    mine = [0] * 5
    action = tell(v, mine, Fixed(0.5), "a", [low, high])  # weights 1 and 51: 0.5 of 52 falls on the second
    assert isinstance(action, Reply) and action.parent_id == "post-2" and mine == [3] * 5


def test_conformity_copies_the_commonest_word_of_what_is_read() -> None:
    v = view(transmission=1.0, innovation=0.0, reply_probability=0.0, conformity=1.0)
    read = [post(v.render([2] * 5), pid=f"post-{k}") for k in range(3)] + [
        post(v.render([4] * 5), pid="post-9")
    ]
    mine = [0] * 5
    tell(v, mine, Fixed(0.99), "a", read)  # the model is the last post (4s), but most posts say 2
    assert mine == [2] * 5


def test_a_far_stance_repels_and_a_near_one_attracts() -> None:
    v = view(
        vocabulary="agent_nature",
        transmission=1.0,
        innovation=0.0,
        reply_probability=0.0,
        repulsion_distance=2,
    )
    far = [1, 0, 0]
    tell(v, far, Fixed(0.0), "a", [post(v.render([4, 3, 3]))])
    assert far == [0, 0, 0]  # pushed one step away, nothing copied
    near = [1, 0, 0]
    tell(v, near, Fixed(0.0), "a", [post(v.render([2, 3, 3]))])
    assert near == [2, 3, 3]  # pulled one step, arguments copied


# ------------------------------------------------------------------ motifs

SEEDS = (0, 1, 2)


def epochs_of(name: str, overrides: list[str], seed: int) -> list[Any]:
    overrides = [f"simulation.seed={seed}", "simulation.n_epochs=8", *overrides]
    return run(load_scenario(SCENARIOS / f"{name}.yaml", overrides)).epochs


@pytest.mark.parametrize("seed", SEEDS)
def test_myth_making_converges_on_one_story_and_does_not_without_transmission(seed: int) -> None:
    shipped = [m["culture_narrative_top_share"] for m in epochs_of("myth_making", [], seed)]
    control = [
        m["culture_narrative_top_share"]
        for m in epochs_of("myth_making", ["culture.content.transmission=0.0"], seed)
    ]
    assert shipped[-1] - shipped[0] > 0.15 and shipped[-1] > 0.6
    assert abs(control[-1] - control[0]) < 0.15 and control[-1] < 0.4 and shipped[-1] > control[-1] + 0.25


@pytest.mark.parametrize("seed", SEEDS)
def test_meta_discourse_splits_into_camps_that_keep_arguing_and_does_not_without_transmission(
    seed: int,
) -> None:
    shipped = epochs_of("meta_discourse", [], seed)
    control = epochs_of("meta_discourse", ["culture.content.transmission=0.0"], seed)
    first, last = shipped[0]["culture_polarisation"], shipped[-1]["culture_polarisation"]
    assert last > first + 0.1 and last > 0.75
    assert control[-1]["culture_polarisation"] < 0.65 and last > control[-1]["culture_polarisation"] + 0.2
    cross = [m["culture_cross_camp_replies"] for m in shipped]
    assert all(x is not None and x > 0.2 for x in cross)  # the camps keep answering each other


def test_culture_metrics_are_left_out_of_epochs_without_their_event() -> None:
    from swarm.core.payoff import SoftPayoffEngine
    from swarm.metrics.collector import MetricsCollector

    c = MetricsCollector(SoftPayoffEngine())
    assert not [k for k in c.close_epoch(0) if k.startswith("culture_")]
    c.feed(
        [
            CascadesMeasured(
                epoch=1, step=5, adoptions=0, cascades=0, max_size=0, mean_size=None, tail_share=None, r0=None
            )
        ]
    )
    m = c.close_epoch(1)
    assert m["culture_cascades"] == 0 and m["culture_r0"] is None and "culture_r0" in m
    assert "culture_narratives" not in m and "culture_communities" not in m
