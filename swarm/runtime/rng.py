"""Seeded random streams: one per actor, derived from the run's seed and the actor's name.

No module-level ``random`` is used anywhere in the sandbox; every draw comes from
a stream made here, so a run depends only on its seed and its scenario.

Components and levers (a handful per run) get a :class:`random.Random` each.
Agents (up to millions per run) get a :class:`Stream`: a counter-based generator
that costs bytes rather than the Mersenne Twister's 2.5 KB. Its ``j``-th draw in
step ``t`` is

    SplitMix64(key + ((t << 32) | j) · γ)  →  a float in [0, 1) with 53 random bits

with the agent's 64-bit ``key`` derived from (seed, agent id). A draw depends on
nothing but (key, t, j), so it is the same whichever process computes it and in
whichever order agents act. An :class:`AgentStreams` pool computes the first
``block`` draws of every agent for each step at once (with numpy, for large
populations) into one flat array of doubles, each stream reading its own
stretch of it, which makes a draw about as cheap as a list lookup (and a draw
not taken costs no Python object); later draws of the same step, and every draw
of a small population, are computed one by one with the same formula.
"""

from __future__ import annotations

import hashlib
import math
import random
from array import array
from collections.abc import MutableSequence, Sequence
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

MASK = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB
UNIT = 2.0**-53
BLOCK = 8
"""Draws per agent and step computed ahead (a decision takes a few)."""
VECTOR_FROM = 128
"""Populations at least this large get their blocks from numpy."""


def derive_seed(seed: int, *names: str) -> int:
    """A 64-bit seed for the stream called ``names`` in the run seeded with ``seed``."""
    digest = hashlib.sha256(repr((seed, *names)).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _agent_seeds(seed: int, agent_ids: Sequence[str]) -> list[int]:
    """``derive_seed(seed, "agent", a)`` for each id ``a``: the same digests of the same text, the
    tuple's ``repr`` written once up to the id."""
    head = repr((seed, "agent"))[:-1] + ", "  # "(seed, 'agent', " of repr((seed, "agent", a))
    sha = hashlib.sha256
    return [int.from_bytes(sha(f"{head}{a!r})".encode()).digest()[:8], "big") for a in agent_ids]


def derive_rng(seed: int, *names: str) -> random.Random:
    """An independent random stream for one actor (or one purpose) of a run."""
    return random.Random(derive_seed(seed, *names))


def splitmix(key: int, t: int, j: int) -> float:
    """Draw ``j`` of step ``t`` of the stream ``key`` (see the module docstring)."""
    z = (key + ((t << 32) | j) * GAMMA) & MASK
    z = ((z ^ (z >> 30)) * MIX1) & MASK
    z = ((z ^ (z >> 27)) * MIX2) & MASK
    return ((z ^ (z >> 31)) >> 11) * UNIT


class Rng(Protocol):
    """What policies may use of a random stream (both :class:`Stream` and :class:`random.Random` have it)."""

    def random(self) -> float: ...
    def uniform(self, a: float, b: float) -> float: ...
    def choice(self, seq: Sequence[T]) -> T: ...
    def sample(self, population: Sequence[T], k: int) -> list[T]: ...


_NONE: tuple[float, ...] = ()


class Stream:
    """One agent's random stream: a few dozen bytes, as fast per draw as :class:`random.Random`.

    ``row[start:end]`` holds the step's first draws when they were computed ahead
    (``row`` may be shared with other streams); ``j`` counts from ``start``.
    """

    __slots__ = ("end", "j", "key", "row", "start", "t")

    def __init__(self, key: int) -> None:
        self.key = key
        self.t = 0
        self.j = 0
        self.row: Sequence[float] = _NONE
        self.start = 0
        self.end = 0

    @classmethod
    def of(cls, seed: int, *names: str) -> Stream:
        """The stream called ``names`` in the run seeded with ``seed``."""
        return cls(derive_seed(seed, *names))

    def begin(self, t: int, row: Sequence[float] = _NONE) -> None:
        """Start step ``t`` (with its first draws, when computed ahead)."""
        self.t, self.j, self.row, self.start, self.end = t, 0, row, 0, len(row)

    def random(self) -> float:
        """The next float in [0, 1)."""
        j = self.j
        self.j = j + 1
        if j < self.end:
            return self.row[j]
        return splitmix(self.key, self.t, j - self.start)

    def below(self, n: int) -> int:
        """An integer in [0, n)."""
        if n <= 0:
            raise ValueError("below() needs a positive bound")
        return int(self.random() * n)

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self.random()

    def randrange(self, start: int, stop: int | None = None) -> int:
        if stop is None:
            start, stop = 0, start
        return start + self.below(stop - start)

    def randint(self, a: int, b: int) -> int:
        return a + self.below(b - a + 1)

    def choice(self, seq: Sequence[T]) -> T:
        if not seq:
            raise IndexError("cannot choose from an empty sequence")
        return seq[int(self.random() * len(seq))]

    def shuffle(self, x: MutableSequence[Any]) -> None:
        """Fisher–Yates, in place."""
        for i in range(len(x) - 1, 0, -1):
            k = int(self.random() * (i + 1))
            x[i], x[k] = x[k], x[i]

    def sample(self, population: Sequence[T], k: int) -> list[T]:
        """``k`` distinct elements, in selection order (partial shuffle, or rejection for small k)."""
        n = len(population)
        if not 0 <= k <= n:
            raise ValueError("sample larger than population or is negative")
        if k * 4 <= n:
            chosen: set[int] = set()
            out: list[T] = []
            while len(out) < k:
                i = int(self.random() * n)
                if i not in chosen:
                    chosen.add(i)
                    out.append(population[i])
            return out
        pool = list(population)
        for i in range(k):
            m = i + int(self.random() * (n - i))
            pool[i], pool[m] = pool[m], pool[i]
        return pool[:k]

    def gauss(self, mu: float = 0.0, sigma: float = 1.0) -> float:
        """A normal draw (Box–Muller, one value per two uniforms)."""
        u = 1.0 - self.random()
        return mu + sigma * math.sqrt(-2.0 * math.log(u)) * math.cos(2.0 * math.pi * self.random())


class AgentStreams:
    """Every agent's :class:`Stream` of a run, with their draws for each step computed at once."""

    def __init__(self, seed: int, agent_ids: Sequence[str], block: int = BLOCK) -> None:
        self.streams = [Stream(key) for key in _agent_seeds(seed, agent_ids)]
        self.block = block
        self._keys: Any = None
        self._flat: array[float] | None = None
        """The array the streams were last given their places in (see :meth:`begin_step`)."""
        if len(self.streams) >= VECTOR_FROM:
            import numpy as np

            self._keys = np.array([s.key for s in self.streams], dtype=np.uint64)

    @classmethod
    def pool(cls, streams: Sequence[Stream], block: int = BLOCK) -> AgentStreams:
        """A pool of existing :class:`Stream` objects (a shard's agents, say)."""
        pool = cls.__new__(cls)
        pool.streams = list(streams)
        pool.block = block
        pool._keys = None
        pool._flat = None
        if len(pool.streams) >= VECTOR_FROM:
            import numpy as np

            pool._keys = np.array([s.key for s in pool.streams], dtype=np.uint64)
        return pool

    def hold(self, streams: Sequence[Stream]) -> None:
        """Hold ``streams`` from now on (a sharded run's agents moved between steps)."""
        other = AgentStreams.pool(streams, self.block)
        self.streams, self._keys, self._flat = other.streams, other._keys, None

    def subset(self, indices: Sequence[int]) -> AgentStreams:
        """A pool of the same streams at ``indices`` (the agents a sharded run keeps in this process)."""
        return AgentStreams.pool([self.streams[k] for k in indices], self.block)

    def ahead(self, t: int) -> array[float] | None:
        """The first draws of step ``t`` of every stream, computed now (None for a small pool)."""
        return None if self._keys is None else block_of(self._keys, t, self.block)

    def begin_step(self, t: int, ahead: array[float] | None = None) -> None:
        """Every stream starts step ``t``; large populations get their first draws computed ahead.

        ``ahead``: what :meth:`ahead` gave for ``t`` (computed earlier, while there was time).
        """
        if self._keys is None:
            for s in self.streams:
                s.begin(t)
            return
        flat = self._flat
        if flat is not None and len(flat) == (
            len(ahead) if ahead is not None else len(self._keys) * self.block
        ):
            # The streams keep their places in last step's array, which takes this step's
            # draws in place: each stream only restarts its count (unless something else,
            # another pool or Stream.begin, has since given it another row).
            if ahead is None:
                block_of(self._keys, t, self.block, flat)
            else:
                flat[:] = ahead
            for s in self.streams:
                if s.row is not flat:
                    break
                s.t = t
                s.j = s.start
            else:
                return
            block = flat
        else:
            block = ahead if ahead is not None else block_of(self._keys, t, self.block)
        self._flat = flat = block
        start, width = 0, self.block
        for s in self.streams:  # stream k reads flat[k·block : (k+1)·block]
            s.t, s.j, s.row, s.start, s.end = t, start, flat, start, start + width
            start += width


def block_of(keys: Any, t: int, width: int, out: array[float] | None = None) -> array[float]:
    """Draws 0..width−1 of step ``t`` for every key, key by key in one flat array of doubles.

    ``out[k·width + j]`` is draw ``j`` of key ``k`` (numpy; bit-identical to :func:`splitmix`).
    Written into ``out`` when given (``len(keys)·width`` doubles), else into a new array.
    """
    import numpy as np

    u64 = np.uint64
    if out is None:
        out = array("d", bytes(8 * len(keys) * width))
    counters = (u64(t) << u64(32)) | np.arange(width, dtype=u64)
    # SplitMix64 of every counter, each operation in place on one array (no array per operation)
    with np.errstate(over="ignore"):
        z = np.add(keys[:, None], counters[None, :] * u64(GAMMA))
        shifted = np.empty_like(z)
        for shift, mix in ((30, MIX1), (27, MIX2)):
            np.right_shift(z, u64(shift), out=shifted)
            np.bitwise_xor(z, shifted, out=z)
            np.multiply(z, u64(mix), out=z)
        np.right_shift(z, u64(31), out=shifted)
        np.bitwise_xor(z, shifted, out=z)
    np.right_shift(z, u64(11), out=z)
    # (z >> 11) as doubles times 2⁻⁵³, written straight into the doubles of ``out``
    np.multiply(z, UNIT, out=np.frombuffer(out, dtype=np.float64).reshape(z.shape), casting="unsafe")
    return out
