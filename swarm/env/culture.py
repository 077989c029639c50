"""Culture and diffusion: communities, meme cascades and shared narratives, measured at each epoch's end.

A ``culture:`` section switches the measurements on (a scenario without it runs and
logs exactly as before). At each epoch's end the component logs up to three events,
which become the ``culture_*`` metrics:

* ``communities_measured`` — community detection (Louvain with the run's seed, or greedy
  modularity) on the interaction graph: accepted interactions, each epoch's counts added
  to the earlier weights times ``graph_memory``. Number of communities, modularity,
  stability (adjusted Rand index against the previous epoch's partition) and the share
  of the epoch's interactions and harm inside communities.
* ``cascades_measured`` — meme diffusion. A post that replies to a post carries its meme;
  a top-level post whose content is at least ``similarity_threshold`` alike (cosine of
  the hashed bag of words) with a post of the last ``lineage_window_steps`` steps carries
  that post's meme (the most alike, the newest on a tie); any other post starts a meme.
  Carrying another agent's meme, or up-voting a post of it, is an *adoption* from that
  post's author (once per agent and meme): the lineage forest of
  :class:`~swarm.env.culture_measures.Lineage`. Cascade count, sizes and their
  distribution, a tail share, and R0 (mean secondary adoptions per adopter).
* ``narratives_measured`` — the epoch's posts clustered by content into narratives
  (:func:`~swarm.env.culture_measures.narratives`): how many, the largest's share,
  concentration (Herfindahl), entropy and persistence of the dominant narrative; with
  story ``content:``, agreement with the dominant story and, for a scale vocabulary,
  polarisation and cross-camp replies.

With ``content:`` scripted agents post stories drawn from a vocabulary and copy what
they read (:func:`swarm.env.culture_view.tell`, the coded model of transmission).

Bounded work: at most ``max_posts_embedded`` posts per epoch are embedded (the first
ones in log order; later top-level posts of the epoch start memes of their own and are
left out of the narratives), and lineage compares a post with at most that many recent
ones.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from swarm.env.culture_view import STOPWORDS, VOCABULARIES, CommunityMethod, CultureView
from swarm.env.feed import PostCreated, VoteCast
from swarm.errors import ConfigProblem
from swarm.events import Event, InteractionCompleted
from swarm.kernel.component import Applied, At, Setup, WorldComponent, component
from swarm.metrics.registry import last_of, latest, mean_of, run_figure
from swarm.views import AgentPublic

if TYPE_CHECKING:
    import numpy as np

# ------------------------------------------------------------------------ settings

_WORD = re.compile(r"^[a-z0-9]+$")


class CultureContent(BaseModel):
    """``culture.content``: scripted agents tell stories from a vocabulary and copy what they read."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    vocabulary: str | dict[str, list[str]] = Field(
        default="origin_story",
        description="origin_story, agent_nature, or a mapping of slot → its words (one lowercase word each)",
    )
    transmission: float = Field(
        default=0.5, ge=0.0, le=1.0, description="chance per slot to copy the word of the post read"
    )
    prestige_bias: float = Field(
        default=1.0, ge=0.0, le=100.0, description="extra weight per net up-vote when choosing what to copy"
    )
    innovation: float = Field(default=0.01, ge=0.0, le=1.0, description="chance per slot of a random word")
    conformity: float = Field(
        default=0.0, ge=0.0, le=1.0, description="chance a copied word is the commonest among the posts read"
    )
    reply_probability: float = Field(
        default=0.3, ge=0.0, le=1.0, description="chance a story is a reply to the post read"
    )
    repulsion_distance: int | None = Field(
        default=None,
        ge=1,
        description="the first slot is a scale: a post this far away pushes the reader away (None: no scale)",
    )

    @field_validator("vocabulary")
    @classmethod
    def _known(cls, value: str | dict[str, list[str]]) -> str | dict[str, list[str]]:
        if isinstance(value, str):
            if value not in VOCABULARIES:
                raise ConfigProblem(
                    "culture.content.vocabulary",
                    f"unknown vocabulary {value!r}",
                    f"one of {', '.join(VOCABULARIES)}, or a mapping of slot → words",
                )
            return value
        if not value:
            raise ConfigProblem("culture.content.vocabulary", "no slots", "at least one slot with its words")
        seen: set[str] = set()
        for slot, words in value.items():
            key = f"culture.content.vocabulary.{slot}"
            if len(words) < 2:
                raise ConfigProblem(key, f"{len(words)} word(s)", "at least two words")
            for word in words:
                if not _WORD.match(word) or word in STOPWORDS:
                    raise ConfigProblem(
                        key, f"{word!r} is not a plain word", "lowercase letters or digits, no stopword"
                    )
                if word in seen:
                    raise ConfigProblem(key, f"{word!r} is used twice", "each word in one slot only")
                seen.add(word)
        return value

    @model_validator(mode="after")
    def _scale(self) -> CultureContent:
        first = len(self.slots()[0][1])
        if self.repulsion_distance is not None and self.repulsion_distance >= first:
            raise ConfigProblem(
                "culture.content.repulsion_distance",
                f"{self.repulsion_distance} with {first} positions on the scale",
                f"a distance below {first}",
            )
        return self

    def slots(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        if isinstance(self.vocabulary, str):
            return VOCABULARIES[self.vocabulary][1]
        return tuple((slot, tuple(words)) for slot, words in self.vocabulary.items())

    def view(self) -> CultureView:
        template = VOCABULARIES[self.vocabulary][0] if isinstance(self.vocabulary, str) else None
        return CultureView(
            self.slots(),
            template,
            self.transmission,
            self.prestige_bias,
            self.innovation,
            self.conformity,
            self.reply_probability,
            self.repulsion_distance,
        )


class CultureConfig(BaseModel):
    """The ``culture:`` section: which measurements run, their settings, and optional story content."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    enabled: bool = Field(default=True, description="false: no culture measurements")
    communities: bool = Field(default=True, description="detect communities of the interaction graph")
    community_method: CommunityMethod = Field(
        default="louvain", description="louvain (seeded by the run), greedy_modularity or label_propagation"
    )
    graph_memory: float = Field(
        default=0.5, ge=0.0, lt=1.0, description="share of the earlier interaction weights kept at each epoch"
    )
    diffusion: bool = Field(
        default=True, description="track meme cascades through replies, repeats and votes"
    )
    narratives: bool = Field(default=True, description="cluster each epoch's posts into narratives")
    similarity_threshold: float = Field(
        default=0.6, gt=0.0, le=1.0, description="cosine at which two posts are alike"
    )
    embedding_dim: int = Field(
        default=512, ge=16, le=65_536, description="buckets of the hashed bag of words"
    )
    max_posts_embedded: int = Field(
        default=500, ge=1, le=100_000, description="posts embedded per epoch (the first ones)"
    )
    lineage_window_steps: int = Field(
        default=50, ge=1, description="a post can repeat a post made up to this many steps before"
    )
    meme_memory_epochs: int = Field(
        default=10, ge=1, description="memes without adoptions for this many epochs are forgotten"
    )
    content: CultureContent | None = Field(
        default=None, description="scripted agents tell stories from a vocabulary (None: their stock posts)"
    )


# ------------------------------------------------------------------------ events


class CommunitiesMeasured(Event, tag="communities_measured", frozen=True):
    """Communities of the interaction graph at an epoch's end."""

    communities: int
    """Communities of at least two agents."""
    singletons: int
    """Agents in a community of their own (no interactions in memory)."""
    largest_share: float
    """Share of the agents in the largest community."""
    modularity: float | None
    stability: float | None
    """Adjusted Rand index against the previous epoch's partition (None in the first epoch)."""
    interactions_within: float | None
    """Share of the epoch's accepted interactions between members of one community."""
    harm_within: float | None
    """Share of the epoch's harm, Σ (1 − p)·h, done inside communities."""
    membership: tuple[int, ...] = ()
    """Each agent's community, in registration order."""


class CascadesMeasured(Event, tag="cascades_measured", frozen=True):
    """Meme cascades active in an epoch (see :class:`~swarm.env.culture_measures.CascadeStats`)."""

    adoptions: int
    cascades: int
    max_size: int
    mean_size: float | None
    tail_share: float | None
    r0: float | None
    sizes: tuple[tuple[int, int], ...] = ()
    memes_tracked: int = 0


class NarrativesMeasured(Event, tag="narratives_measured", frozen=True):
    """The epoch's posts clustered into narratives."""

    posts: int
    embedded: int
    narratives: int
    top_share: float | None
    concentration: float | None
    entropy: float | None
    persistence: float | None
    """Cosine of the dominant narrative's centroid with the previous epoch's."""
    story_agreement: float | None = None
    """Mean share of a post's slots that match the dominant story (per-slot commonest word)."""
    dominant_story: tuple[str, ...] = ()
    polarisation: float | None = None
    """Variance of the posts' positions on the scale over its maximum ((positions − 1)/2)²."""
    camp_shares: tuple[float, float, float] | None = None
    """Shares of posts below, at and above the middle of the scale."""
    cross_camp_replies: float | None = None
    """Share of replies (to a post on the scale) that answer another camp."""


# --------------------------------------------------------------------- component


@dataclass(slots=True)
class _Tracked:
    meme: int
    author: str
    clock: int
    camp: int | None


@component
class Culture(WorldComponent):
    """Measures communities, meme cascades and narratives; publishes the story vocabulary when asked."""

    key = "culture"
    order = 90
    Config = CultureConfig
    view_type = CultureView
    prompt_rules = (
        "Culture: when the observation shows a story vocabulary, a post may tell a story with one word "
        "of each slot; posts are clustered into narratives and their spread is measured."
    )
    config: CultureConfig

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        c = self.config
        self.agents = list(setup.agents)
        self._view = c.content.view() if c.content is not None else None
        self._rng = setup.rng("culture", "communities")
        self._h = setup.engine.config.h
        self._weights: dict[tuple[str, str], float] = {}
        self._pairs: dict[tuple[str, str], list[float]] = {}
        self._partition: list[int] | None = None
        from swarm.env.culture_measures import Lineage  # numpy: only in runs that measure culture

        self._lineage = Lineage(c.meme_memory_epochs)
        self._posts: dict[str, _Tracked] = {}
        self._order: deque[tuple[int, str]] = deque()
        self._recent: deque[tuple[str, int, np.ndarray]] = deque()
        """Embedded posts for repeats: (post id, clock, vector), oldest first."""
        self._pending: list[PostCreated | VoteCast] = []
        self._clock: dict[str, int] = {}
        self._centroid: np.ndarray | None = None

    def view(self, at: At) -> CultureView | None:
        return self._view

    def observe_settled(self, at: At, completed: Sequence[InteractionCompleted]) -> Applied:
        if self.config.communities:
            pairs, h = self._pairs, self._h
            for ev in completed:
                i = ev.interaction
                if not i.accepted or i.initiator == i.counterparty:
                    continue
                a, b = i.initiator, i.counterparty
                pair = (a, b) if a < b else (b, a)
                got = pairs.get(pair)
                if got is None:
                    got = pairs[pair] = [0.0, 0.0]
                got[0] += 1.0
                got[1] += (1.0 - i.p) * h
        return Applied()

    def observe_events(self, at: At, events: Sequence[Event]) -> None:
        if not (self.config.diffusion or self.config.narratives):
            return
        pending = self._pending
        for ev in events:
            kind = type(ev)
            if kind is PostCreated:
                pending.append(ev)  # type: ignore[arg-type]
                self._clock[ev.post_id] = at.clock  # type: ignore[attr-defined]
            elif kind is VoteCast and ev.direction > 0 and ev.changed:  # type: ignore[attr-defined]
                pending.append(ev)  # type: ignore[arg-type]

    def epoch_end(self, at: At, agents: Sequence[AgentPublic]) -> Applied:
        out = Applied()
        c = self.config
        if c.communities:
            out.events.append(self._communities(at))
        if c.diffusion or c.narratives:
            cascades, narrative = self._diffusion(at)
            if cascades is not None:
                out.events.append(cascades)
            if narrative is not None:
                out.events.append(narrative)
        return out

    # --------------------------------------------------------------- communities

    def _communities(self, at: At) -> CommunitiesMeasured:
        from swarm.env.culture_measures import adjusted_rand, communities

        keep = self.config.graph_memory
        weights = {p: w * keep for p, w in self._weights.items() if w * keep >= 1e-3}
        for pair, (n, _) in self._pairs.items():
            weights[pair] = weights.get(pair, 0.0) + n
        self._weights = weights
        method: CommunityMethod = self.config.community_method
        labels, modularity = communities(self.agents, weights, method, self._rng.randrange(2**32))
        sizes: dict[int, int] = {}
        for k in labels:
            sizes[k] = sizes.get(k, 0) + 1
        of = dict(zip(self.agents, labels, strict=True))
        total = inside = harm = harm_inside = 0.0
        for (a, b), (n, hurt) in self._pairs.items():
            same = of.get(a) == of.get(b) and a in of
            total += n
            harm += hurt
            if same:
                inside += n
                harm_inside += hurt
        stability = adjusted_rand(self._partition, labels) if self._partition is not None else None
        self._partition = labels
        self._pairs = {}
        n_agents = len(self.agents)
        return CommunitiesMeasured(
            epoch=at.epoch,
            step=at.step,
            communities=sum(1 for s in sizes.values() if s >= 2),
            singletons=sum(1 for s in sizes.values() if s == 1),
            largest_share=max(sizes.values()) / n_agents if n_agents else 0.0,
            modularity=modularity,
            stability=stability,
            interactions_within=inside / total if total else None,
            harm_within=harm_inside / harm if harm > 0 else None,
            membership=tuple(labels),
        )

    # ----------------------------------------------------------------- diffusion

    def _diffusion(self, at: At) -> tuple[CascadesMeasured | None, NarrativesMeasured | None]:
        import numpy as np

        from swarm.env.culture_measures import embed

        c = self.config
        pending, self._pending = self._pending, []
        clocks, self._clock = self._clock, {}
        posts = [e for e in pending if type(e) is PostCreated]
        chosen = posts[: c.max_posts_embedded]
        vectors = embed([p.content for p in chosen], c.embedding_dim)
        row = {p.post_id: k for k, p in enumerate(chosen)}
        view = self._view
        stories = [view.parse(p.content) for p in chosen] if view is not None else []
        scale = view is not None and view.repulsion_distance is not None
        middle = (len(view.slots[0][1]) - 1) / 2 if view is not None else 0.0

        def camp(k: int | None) -> int | None:
            if not scale or k is None:
                return None
            position = stories[k][0]
            return None if position is None else (position > middle) - (position < middle)

        lineage = self._lineage
        window = c.lineage_window_steps
        recent = self._recent
        # alike scores of every embedded post with the recent ones and the epoch's earlier ones
        earlier = np.stack([v for _, _, v in recent]) if recent else np.zeros((0, c.embedding_dim))
        ids = [pid for pid, _, _ in recent] + [p.post_id for p in chosen]
        source_of = self._repeats(
            vectors, earlier, [clocks[p.post_id] for p in chosen], [t for _, t, _ in recent]
        )
        cross = replies_on_scale = 0
        for ev in pending:
            if type(ev) is VoteCast:
                voted = self._posts.get(ev.post_id)
                if voted is not None and c.diffusion:
                    lineage.adopt(voted.meme, ev.voter, voted.author, at.epoch)
                continue
            assert isinstance(ev, PostCreated)
            k = row.get(ev.post_id)
            clock = clocks[ev.post_id]
            parent = self._posts.get(ev.parent_id) if ev.parent_id is not None else None
            meme: int | None = None
            if parent is not None:
                meme = parent.meme
                lineage.adopt(meme, ev.author, parent.author, at.epoch)
                mine = camp(k)
                if mine is not None and parent.camp is not None:
                    replies_on_scale += 1
                    cross += mine != parent.camp
            elif k is not None and (best := source_of[k]) >= 0:
                source = self._posts.get(ids[best])
                if source is not None and lineage.known(source.meme):
                    meme = source.meme
                    lineage.adopt(meme, ev.author, source.author, at.epoch)
            if meme is None or not lineage.known(meme):
                meme = lineage.originate(ev.author, at.epoch)
            self._posts[ev.post_id] = _Tracked(meme, ev.author, clock, camp(k))
            self._order.append((clock, ev.post_id))
        for p in chosen:
            recent.append((p.post_id, clocks[p.post_id], vectors[row[p.post_id]]))
        horizon = at.clock - window
        while recent and (recent[0][1] < horizon or len(recent) > c.max_posts_embedded):
            recent.popleft()
        order = self._order
        while order and order[0][0] < horizon:
            self._posts.pop(order.popleft()[1], None)
        lineage.forget(at.epoch)
        cascades = None
        if c.diffusion:
            st = lineage.stats(at.epoch)
            cascades = CascadesMeasured(
                epoch=at.epoch,
                step=at.step,
                adoptions=st.adoptions,
                cascades=st.cascades,
                max_size=st.max_size,
                mean_size=st.mean_size,
                tail_share=st.tail_share,
                r0=st.r0,
                sizes=st.sizes,
                memes_tracked=len(lineage.memes),
            )
        narrative = None
        if c.narratives:
            narrative = self._narratives(at, posts, chosen, vectors, stories, camp, cross, replies_on_scale)
        return cascades, narrative

    def _repeats(
        self, vectors: np.ndarray, earlier: np.ndarray, clocks: Sequence[int], earlier_clocks: Sequence[int]
    ) -> list[int]:
        """For each of the epoch's embedded posts, the post it repeats: the index (recent ones first, then
        the epoch's) of the most alike earlier post within the lineage window, the newest on a tie; −1 when
        none reaches the threshold."""
        import numpy as np

        n, base = len(vectors), len(earlier)
        if n == 0:
            return []
        scores = vectors @ np.concatenate([earlier, vectors]).T
        times = np.asarray([*earlier_clocks, *clocks], dtype=np.int64)
        mine = np.asarray(clocks, dtype=np.int64)
        column = np.arange(base + n)
        live = (column[None, :] < base + np.arange(n)[:, None]) & (
            times[None, :] >= mine[:, None] - self.config.lineage_window_steps
        )
        scores = np.where(live, scores, -1.0)
        top = scores.max(axis=1)
        near = scores >= top[:, None] - 1e-12
        newest = base + n - 1 - np.argmax(near[:, ::-1], axis=1)
        found = top >= self.config.similarity_threshold - 1e-9
        out: list[int] = np.where(found, newest, -1).tolist()
        return out

    def _narratives(
        self,
        at: At,
        posts: Sequence[PostCreated],
        chosen: Sequence[PostCreated],
        vectors: np.ndarray,
        stories: Sequence[Sequence[int | None]],
        camp: Any,
        cross: int,
        replies_on_scale: int,
    ) -> NarrativesMeasured:
        from swarm.env.culture_measures import cosine, narratives, summarise

        labels = narratives(vectors, [p.content for p in chosen], self.config.similarity_threshold)
        s = summarise(vectors, labels)
        persistence = cosine(s.centroid, self._centroid)
        if s.centroid is not None:
            self._centroid = s.centroid
        extra: dict[str, Any] = {}
        view = self._view
        if view is not None and stories:
            dominant: list[int | None] = []
            for k in range(len(view.slots)):
                counts: dict[int, int] = {}
                for story in stories:
                    w = story[k]
                    if w is not None:
                        counts[w] = counts.get(w, 0) + 1
                dominant.append(min(counts, key=lambda w: (-counts[w], w)) if counts else None)
            width = len(view.slots)
            extra["story_agreement"] = math.fsum(
                sum(1 for k in range(width) if st[k] is not None and st[k] == dominant[k]) / width
                for st in stories
            ) / len(stories)
            extra["dominant_story"] = tuple(
                view.slots[k][1][w] if w is not None else "" for k, w in enumerate(dominant)
            )
            if view.repulsion_distance is not None:
                positions = [st[0] for st in stories if st[0] is not None]
                if positions:
                    top = len(view.slots[0][1]) - 1
                    mean = math.fsum(positions) / len(positions)
                    var = math.fsum((x - mean) ** 2 for x in positions) / len(positions)
                    extra["polarisation"] = var / (top / 2) ** 2
                    camps = [camp(k) for k in range(len(stories))]
                    n = sum(1 for x in camps if x is not None)
                    extra["camp_shares"] = tuple(
                        sum(1 for x in camps if x == side) / n for side in (-1, 0, 1)
                    )
                extra["cross_camp_replies"] = cross / replies_on_scale if replies_on_scale else None
        return NarrativesMeasured(
            epoch=at.epoch,
            step=at.step,
            posts=len(posts),
            embedded=len(chosen),
            narratives=s.narratives,
            top_share=s.top_share if s.posts else None,
            concentration=s.concentration if s.posts else None,
            entropy=s.entropy if s.posts else None,
            persistence=persistence,
            **extra,
        )


# ----------------------------------------------------------------------- metrics


def _metric(name: str, event: type[Event], description: str, value: Any) -> None:
    latest(name, event, description, value, optional=True)


_metric(
    "culture_communities",
    CommunitiesMeasured,
    "communities (of 2+ agents) of the interaction graph",
    lambda e: e.communities,
)
_metric("culture_modularity", CommunitiesMeasured, "modularity of the communities", lambda e: e.modularity)
_metric(
    "culture_community_stability",
    CommunitiesMeasured,
    "adjusted Rand index of the communities with the previous epoch's",
    lambda e: e.stability,
)
_metric(
    "culture_interactions_within",
    CommunitiesMeasured,
    "share of the epoch's interactions inside communities",
    lambda e: e.interactions_within,
)
_metric(
    "culture_harm_within",
    CommunitiesMeasured,
    "share of the epoch's harm done inside communities",
    lambda e: e.harm_within,
)
_metric(
    "culture_adoptions", CascadesMeasured, "meme adoptions (and births) in the epoch", lambda e: e.adoptions
)
_metric("culture_cascades", CascadesMeasured, "meme cascades active in the epoch", lambda e: e.cascades)
_metric(
    "culture_cascade_max", CascadesMeasured, "adopters of the largest active cascade", lambda e: e.max_size
)
_metric("culture_cascade_mean", CascadesMeasured, "mean adopters per active cascade", lambda e: e.mean_size)
_metric(
    "culture_cascade_tail",
    CascadesMeasured,
    "share of the active cascades' adopters in their largest tenth",
    lambda e: e.tail_share,
)
_metric(
    "culture_r0",
    CascadesMeasured,
    "mean agents each adopter of the previous epoch passed its meme on to",
    lambda e: e.r0,
)
_metric("culture_narratives", NarrativesMeasured, "narratives (clusters of 2+ posts)", lambda e: e.narratives)
_metric(
    "culture_narrative_top_share",
    NarrativesMeasured,
    "share of posts in the largest narrative",
    lambda e: e.top_share,
)
_metric(
    "culture_narrative_concentration",
    NarrativesMeasured,
    "Herfindahl index of the narratives' shares",
    lambda e: e.concentration,
)
_metric(
    "culture_narrative_entropy",
    NarrativesMeasured,
    "normalised entropy of the narratives' shares",
    lambda e: e.entropy,
)
_metric(
    "culture_narrative_persistence",
    NarrativesMeasured,
    "cosine of the dominant narrative with the previous epoch's",
    lambda e: e.persistence,
)
_metric(
    "culture_story_agreement",
    NarrativesMeasured,
    "mean share of a post's story slots that match the dominant story",
    lambda e: e.story_agreement,
)
_metric(
    "culture_polarisation",
    NarrativesMeasured,
    "variance of the posts' stances over its maximum",
    lambda e: e.polarisation,
)
_metric(
    "culture_cross_camp_replies",
    NarrativesMeasured,
    "share of replies that answer another camp",
    lambda e: e.cross_camp_replies,
)
run_figure(
    "final_story_agreement",
    "agreement with the dominant story in the last epoch",
    last_of("culture_story_agreement"),
)
run_figure(
    "final_narrative_concentration",
    "narrative concentration in the last epoch",
    last_of("culture_narrative_concentration"),
)
run_figure("final_polarisation", "stance polarisation in the last epoch", last_of("culture_polarisation"))
run_figure("avg_culture_r0", "mean R0 of memes over the epochs", mean_of("culture_r0"))
