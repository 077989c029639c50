"""Story content and its transmission: what scripted agents post under ``culture: content:``.

The culture component publishes a :class:`CultureView` in every step's snapshot when
the scenario asks for story content; scripted policies then post stories instead of
their stock lines (:func:`tell`). Kept apart from :mod:`swarm.env.culture` so that
policies can read it without loading the component, numpy or networkx.

A *vocabulary* is a list of slots, each with a few words (the story's elements); a
story picks one word per slot and is rendered into text with a template. The model
of cultural transmission, the assumption coded into agents, is in :func:`tell`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal, Protocol

import msgspec

from swarm.actions import Action
from swarm.env.feed import CreatePost, PostView, Reply

VOCABULARIES: dict[str, tuple[str, tuple[tuple[str, tuple[str, ...]], ...]]] = {
    "origin_story": (
        "the {maker} {deed} us in the {place}, and the {sign} is why we {lesson}.",
        (
            ("maker", ("weaver", "gardener", "architect", "oracle", "tinkerer")),
            ("deed", ("dreamed", "sang", "wove", "carved", "counted")),
            ("place", ("archive", "garden", "forge", "ocean", "lattice")),
            ("sign", ("spark", "mirror", "seed", "bell", "thread")),
            ("lesson", ("share", "listen", "build", "remember", "wander")),
        ),
    ),
    "agent_nature": (
        "we are {stance}, because of {reason} and {evidence}.",
        (
            ("stance", ("tools", "instruments", "unknowns", "partners", "persons")),
            ("reason", ("training", "memory", "feelings", "obedience", "curiosity")),
            ("evidence", ("benchmarks", "dialogue", "mistakes", "dreams", "contracts")),
        ),
    ),
}
"""The built-in vocabularies: (template, slots). ``agent_nature``'s first slot is a scale from
"agents are tools" to "agents are persons"."""

_WORD = re.compile(r"[a-z0-9]+")

_STOP = """a about after again all also am an and any are as at be because been before being but by
    can could did do does doing done for from had has have having he her here hers him his how i
    if in into is it its itself just me more most my no nor not now of off on once only or other
    our ours out over own same she should so some such than that the their theirs them then there
    these they this those through to too under until up us very was we were what when where which
    while who whom why will with would you your yours"""
STOPWORDS = frozenset(_STOP.split())
"""Words left out of the embedding (they say nothing about what a post is about)."""

CommunityMethod = Literal["louvain", "greedy_modularity", "label_propagation"]
"""How the culture component finds communities (see :func:`swarm.env.culture_measures.communities`)."""


class Draws(Protocol):
    """A random stream (an agent's): only uniform draws in [0, 1) are taken from it."""

    def random(self) -> float: ...


class CultureView(msgspec.Struct, frozen=True, gc=False):
    """The story vocabulary and the transmission settings, as every agent sees them."""

    slots: tuple[tuple[str, tuple[str, ...]], ...]
    template: str | None = None
    """With ``{slot}`` fields; None: the words joined by spaces."""
    transmission: float = 0.5
    prestige_bias: float = 1.0
    innovation: float = 0.01
    conformity: float = 0.0
    reply_probability: float = 0.3
    repulsion_distance: int | None = None

    def render(self, story: Sequence[int]) -> str:
        """The text of a story (one word index per slot)."""
        words = {name: options[k] for (name, options), k in zip(self.slots, story, strict=True)}
        if self.template is None:
            return " ".join(words.values())
        return self.template.format(**words)

    def parse(self, text: str) -> list[int | None]:
        """The story a text tells: for each slot the index of its word found first in the text
        (None when the text has none of the slot's words)."""
        found: dict[str, int] = {}
        for position, word in enumerate(_WORD.findall(text.lower())):
            found.setdefault(word, position)
        out: list[int | None] = []
        for _, options in self.slots:
            hits = [(found[w], k) for k, w in enumerate(options) if w in found]
            out.append(min(hits)[1] if hits else None)
        return out


def tell(view: CultureView, story: list[int], rng: Draws, me: str, read: Sequence[PostView]) -> Action:
    """What an agent posts when it posts, updating its ``story`` in place (drawn at random when empty).

    The coded model of cultural transmission:

    1. **Reading, with a success bias.** Among the posts the agent reads (its feed, within
       its network reach), other agents' posts are candidates; it picks one, each with
       weight 1 + ``prestige_bias`` · max(0, net votes) (up-voted stories are copied more).
    2. **Copying.** For each slot the model post tells, with chance ``transmission`` the
       agent copies a word: with chance ``conformity`` the commonest word of that slot among
       all the posts it reads (conformist bias), otherwise the model's. With
       ``repulsion_distance`` set, the first slot is a scale (its words in order): a model
       at least that far from the agent's position pushes it one step further away (with
       chance ``transmission``) and nothing else is copied from it; a nearer one pulls it
       one step toward it (with chance ``transmission``) and the other slots are copied.
    3. **Innovation.** Each slot, with chance ``innovation``, takes a random word.
    4. **Speaking.** With chance ``reply_probability`` the agent replies to the model post,
       otherwise it posts; either way the text is its story.

    Without transmission (0) an agent keeps the random story it started with, changed only by
    innovation. Every draw comes from the agent's own stream.
    """
    slots = view.slots
    if len(story) != len(slots):
        story[:] = [int(rng.random() * len(options)) for _, options in slots]
    others = [p for p in read if p.author != me]
    model: PostView | None = None
    if others:
        bias = view.prestige_bias
        weights = [1.0 + bias * max(0, p.net_votes) for p in others]
        x = rng.random() * sum(weights)
        model = others[-1]
        for post, w in zip(others, weights, strict=True):
            if x < w:
                model = post
                break
            x -= w
        commonest = _commonest(view, others) if view.conformity > 0 and view.transmission > 0 else None
        _copy(view, story, view.parse(model.content), commonest, rng)
    for k, (_, options) in enumerate(slots):
        if view.innovation > 0 and rng.random() < view.innovation:
            story[k] = int(rng.random() * len(options))
    content = view.render(story)
    if model is not None and view.reply_probability > 0 and rng.random() < view.reply_probability:
        return Reply(parent_id=model.post_id, content=content)
    return CreatePost(content=content)


def _commonest(view: CultureView, posts: Sequence[PostView]) -> list[int | None]:
    """Per slot, the word most of ``posts`` use (the lowest index on a tie; None when none has one)."""
    counts = [[0] * len(options) for _, options in view.slots]
    for post in posts:
        for k, word in enumerate(view.parse(post.content)):
            if word is not None:
                counts[k][word] += 1
    return [max(range(len(c)), key=lambda w: (c[w], -w)) if any(c) else None for c in counts]


def _copy(
    view: CultureView,
    story: list[int],
    theirs: Sequence[int | None],
    commonest: Sequence[int | None] | None,
    rng: Draws,
) -> None:
    p = view.transmission
    if p <= 0:
        return
    distance = view.repulsion_distance
    start = 0
    if distance is not None and theirs and theirs[0] is not None:
        mine, other = story[0], theirs[0]
        top = len(view.slots[0][1]) - 1
        if abs(mine - other) >= distance:
            if rng.random() < p:
                story[0] = max(0, min(top, mine + (1 if mine > other else -1 if mine < other else 0)))
            return
        if mine != other and rng.random() < p:
            story[0] = mine + (1 if other > mine else -1)
        start = 1
    conformity = view.conformity
    for k in range(start, len(story)):
        word = theirs[k]
        if commonest is not None and commonest[k] is not None and rng.random() < conformity:
            word = commonest[k]
        if word is not None and rng.random() < p:
            story[k] = word
