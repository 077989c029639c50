"""The measurements of culture and diffusion, as pure functions (numpy and networkx).

* :func:`embed` — a light embedding of post content: hashed bag of words (stable CRC-32
  hashes, stopwords dropped), L2-normalised;
* :func:`narratives` — deterministic clustering of embedded posts into narratives, invariant
  to the order of the posts;
* :class:`Lineage` — the lineage forest of memes: who adopted which meme from whom;
* :func:`communities`, :func:`adjusted_rand` — community detection on an interaction graph and
  the agreement of two partitions.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from swarm.env.culture_view import STOPWORDS, CommunityMethod

_TOKEN = re.compile(r"[a-z0-9]+")


def tokens(text: str) -> list[str]:
    """The words of ``text``: lowercased runs of letters and digits, stopwords dropped."""
    return [t for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS]


def embed(texts: Sequence[str], dim: int) -> np.ndarray:
    """Hashed bag of words: one L2-normalised row of ``dim`` word counts per text (float64).

    Each word goes to bucket CRC-32(word) mod ``dim`` (stable across runs and platforms, unlike
    Python's ``hash``). A text without words gives a zero row.
    """
    out = np.zeros((len(texts), dim), dtype=np.float64)
    for row, text in enumerate(texts):
        for word in tokens(text):
            out[row, zlib.crc32(word.encode()) % dim] += 1.0
    norms = np.linalg.norm(out, axis=1)
    nonzero = norms > 0
    out[nonzero] /= norms[nonzero, None]
    return out


# ----------------------------------------------------------------- narratives

_TOLERANCE = 1e-9
"""Cosine similarities this close to the threshold count as reaching it (rounding never decides)."""


def narratives(vectors: np.ndarray, keys: Sequence[str], threshold: float) -> list[int]:
    """Cluster embedded posts into narratives; each post's cluster number (in the order they were made).

    Two posts are *alike* when their cosine similarity reaches ``threshold`` (posts
    without words are alike only with each other). Clusters are made greedily: the
    post alike with the most unclustered posts (ties broken by its text, ``keys``)
    leads a cluster of every unclustered post alike with it, until none is left.
    The order is a function of the contents alone, so the result does not depend
    on the order the posts come in (posts with the same text always share a cluster).
    """
    n = len(keys)
    if n == 0:
        return []
    similar = vectors @ vectors.T >= threshold - _TOLERANCE
    empty = ~vectors.any(axis=1)
    if empty.any():
        similar[np.ix_(empty, empty)] = True
    np.fill_diagonal(similar, True)
    label = np.full(n, -1, dtype=np.int64)
    free = np.ones(n, dtype=bool)
    degree = similar.sum(axis=1, dtype=np.int64)  # alike unclustered posts, itself included
    cluster = 0
    while free.any():
        open_degree = np.where(free, degree, -1)
        candidates = np.flatnonzero(open_degree == open_degree.max())
        leader = min(candidates.tolist(), key=lambda i: keys[i])
        members = similar[leader] & free
        label[members] = cluster
        free &= ~members
        degree -= similar[:, members].sum(axis=1, dtype=np.int64)
        cluster += 1
    return label.tolist()


@dataclass(frozen=True)
class NarrativeSummary:
    """How an epoch's posts spread over narratives."""

    posts: int
    narratives: int
    """Clusters of at least two posts."""
    top_share: float
    """Share of the posts in the largest cluster."""
    concentration: float
    """Herfindahl index Σ sᵢ² of the clusters' shares (1: one narrative; 1/n: every post alone)."""
    entropy: float
    """Shannon entropy of the shares over log(posts): 0 one narrative, 1 every post alone."""
    centroid: np.ndarray | None
    """Mean vector of the largest cluster (for persistence across epochs)."""


def summarise(vectors: np.ndarray, labels: Sequence[int]) -> NarrativeSummary:
    """Shares, concentration and entropy of a clustering (``labels`` from :func:`narratives`)."""
    n = len(labels)
    if n == 0:
        return NarrativeSummary(0, 0, 0.0, 0.0, 0.0, None)
    sizes: dict[int, int] = {}
    for k in labels:
        sizes[k] = sizes.get(k, 0) + 1
    shares = [s / n for s in sizes.values()]
    top = max(sizes, key=lambda k: (sizes[k], -k))
    entropy = -math.fsum(s * math.log(s) for s in shares)
    members = np.asarray(labels) == top
    return NarrativeSummary(
        posts=n,
        narratives=sum(1 for s in sizes.values() if s >= 2),
        top_share=sizes[top] / n,
        concentration=math.fsum(s * s for s in shares),
        entropy=entropy / math.log(n) if n > 1 else 0.0,
        centroid=vectors[members].mean(axis=0),
    )


def cosine(a: np.ndarray | None, b: np.ndarray | None) -> float | None:
    """Cosine similarity of two vectors (None when either is missing or zero)."""
    if a is None or b is None:
        return None
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0.0 or nb == 0.0:
        return None
    return float(a @ b) / (na * nb)


# ------------------------------------------------------------------- lineage


@dataclass(slots=True)
class _Node:
    parent: str | None
    epoch: int
    children: int = 0


@dataclass(slots=True)
class _Meme:
    root: str
    born: int
    last: int
    nodes: dict[str, _Node] = field(default_factory=dict)


class Lineage:
    """The lineage forest of memes: one tree per meme, one node per agent that adopted it.

    A meme is born when an agent originates content (its root node); an agent adopts
    it from a *source* (an earlier adopter) by replying to, repeating or up-voting a
    post of it, and becomes a child of the source's node. An agent adopts a meme once:
    later repeats add nothing. Memes without adoptions for ``memory`` epochs are
    forgotten (memory stays bounded).
    """

    def __init__(self, memory: int = 10) -> None:
        self.memory = memory
        self.memes: dict[int, _Meme] = {}
        self._next = 0

    def originate(self, agent: str, epoch: int) -> int:
        """A new meme with ``agent`` as its root; its id."""
        meme = self._next
        self._next += 1
        self.memes[meme] = _Meme(agent, epoch, epoch, {agent: _Node(None, epoch)})
        return meme

    def adopt(self, meme: int, agent: str, source: str, epoch: int) -> bool:
        """``agent`` adopts ``meme`` from ``source``; False when it already had it (or the meme or the
        source is unknown, or ``agent`` is the source)."""
        m = self.memes.get(meme)
        if m is None or agent in m.nodes or agent == source:
            return False
        parent = m.nodes.get(source)
        if parent is None:
            return False
        parent.children += 1
        m.nodes[agent] = _Node(source, epoch)
        m.last = epoch
        return True

    def known(self, meme: int) -> bool:
        return meme in self.memes

    def forget(self, epoch: int) -> None:
        """Drop the memes whose last adoption is more than ``memory`` epochs before ``epoch``."""
        old = [k for k, m in self.memes.items() if epoch - m.last > self.memory]
        for k in old:
            del self.memes[k]

    def stats(self, epoch: int) -> CascadeStats:
        """The cascades active in ``epoch`` (a node made then), and R0 of the previous epoch's adopters."""
        sizes: list[int] = []
        adoptions = 0
        cohort = offspring = 0
        for m in self.memes.values():
            if m.last < epoch - 1:
                continue
            new = 0
            for node in m.nodes.values():
                if node.epoch == epoch:
                    new += 1
                elif node.epoch == epoch - 1:
                    cohort += 1
                    offspring += node.children
            if new:
                sizes.append(len(m.nodes))
                adoptions += new
        return cascade_stats(sizes, adoptions, offspring / cohort if cohort else None)


@dataclass(frozen=True)
class CascadeStats:
    adoptions: int
    """Nodes made in the epoch (memes born and adopted)."""
    cascades: int
    """Memes with a node made in the epoch."""
    max_size: int
    mean_size: float | None
    tail_share: float | None
    """Share of the active cascades' adopters in their largest tenth (at least one cascade)."""
    r0: float | None
    """Mean number of agents each adopter of the previous epoch passed its meme on to, so far."""
    sizes: tuple[tuple[int, int], ...]
    """(cascade size, how many active cascades have it), by size."""


def cascade_stats(sizes: Sequence[int], adoptions: int, r0: float | None) -> CascadeStats:
    """Sizes' summary: count, max, mean, top-decile share and distribution."""
    if not sizes:
        return CascadeStats(adoptions, 0, 0, None, None, r0, ())
    ordered = sorted(sizes, reverse=True)
    top = ordered[: max(1, math.ceil(len(ordered) / 10))]
    counts: dict[int, int] = {}
    for s in ordered:
        counts[s] = counts.get(s, 0) + 1
    return CascadeStats(
        adoptions=adoptions,
        cascades=len(ordered),
        max_size=ordered[0],
        mean_size=sum(ordered) / len(ordered),
        tail_share=sum(top) / sum(ordered),
        r0=r0,
        sizes=tuple(sorted(counts.items())),
    )


# --------------------------------------------------------------- communities


def communities(
    agents: Sequence[str],
    weights: Mapping[tuple[str, str], float],
    method: CommunityMethod,
    seed: int,
) -> tuple[list[int], float | None]:
    """Partition ``agents`` into communities of the weighted graph; (community of each agent, modularity).

    Every agent is in exactly one community (an agent without edges is one on its
    own). Communities are numbered by size, largest first, ties by their first agent
    in ``agents`` order. Louvain uses ``seed``; greedy modularity and (semi-synchronous)
    label propagation are deterministic; label propagation is the cheapest, Louvain finds
    the partitions of highest modularity.
    Modularity is None for a graph without edges.
    """
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(agents)
    graph.add_weighted_edges_from((a, b, w) for (a, b), w in sorted(weights.items()) if w > 0 and a != b)
    if graph.number_of_edges() == 0:
        return list(range(len(agents))), None
    found: Iterable[Iterable[str]]
    if method == "louvain":
        found = nx.community.louvain_communities(graph, weight="weight", seed=seed)
    elif method == "label_propagation":
        found = nx.community.label_propagation_communities(graph)
    else:
        found = nx.community.greedy_modularity_communities(graph, weight="weight")
    groups = [set(c) for c in found]
    position = {a: k for k, a in enumerate(agents)}
    groups.sort(key=lambda c: (-len(c), min(position[a] for a in c)))
    label = {a: k for k, c in enumerate(groups) for a in c}
    modularity = float(nx.community.modularity(graph, groups, weight="weight"))
    return [label[a] for a in agents], modularity


def adjusted_rand(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """Adjusted Rand index of two labellings of the same items (Hubert & Arabie 1985).

    1 for the same partition (whatever the labels), about 0 for unrelated ones; 1 when
    both put every item alone or all together (nothing to tell apart).
    """
    if len(a) != len(b):
        raise ValueError("the labellings have different lengths")
    n = len(a)
    if n < 2:
        return 1.0
    pairs: dict[tuple[Any, Any], int] = {}
    rows: dict[Any, int] = {}
    cols: dict[Any, int] = {}
    for x, y in zip(a, b, strict=True):
        pairs[(x, y)] = pairs.get((x, y), 0) + 1
        rows[x] = rows.get(x, 0) + 1
        cols[y] = cols.get(y, 0) + 1

    def c2(k: int) -> int:
        return k * (k - 1) // 2

    index = sum(c2(k) for k in pairs.values())
    sa = sum(c2(k) for k in rows.values())
    sb = sum(c2(k) for k in cols.values())
    expected = sa * sb / c2(n)
    top = (sa + sb) / 2
    if top == expected:
        return 1.0
    return (index - expected) / (top - expected)
