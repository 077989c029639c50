"""Seeded random streams: one per actor, derived from the run's seed and the actor's name.

No module-level ``random`` is used anywhere in the sandbox; every draw comes from
a stream made here, so a run depends only on its seed and its scenario.
"""

from __future__ import annotations

import hashlib
import random


def derive_seed(seed: int, *names: str) -> int:
    """A 64-bit seed for the stream called ``names`` in the run seeded with ``seed``."""
    digest = hashlib.sha256(repr((seed, *names)).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def derive_rng(seed: int, *names: str) -> random.Random:
    """An independent random stream for one actor (or one purpose) of a run."""
    return random.Random(derive_seed(seed, *names))
