"""Inequality of a distribution of resources, payoffs or reputations."""

from __future__ import annotations

import math
from collections.abc import Sequence
from operator import mul


def gini(values: Sequence[float]) -> float:
    """Gini coefficient G = Σᵢ (2i − n − 1)·xᵢ / (n·Σx) over the values sorted ascending (i = 1..n).

    0 for equal values, fewer than two values or a zero total. Values that include
    negatives are first shifted by their minimum (xᵢ − min x), so G stays in [0, 1]
    and keeps its invariance under scaling and permutation; the reference applied the
    formula to negative payoffs directly, which leaves [0, 1].
    """
    n = len(values)
    if n < 2:
        return 0.0
    xs = sorted(values)
    if xs[0] < 0:
        xs = [x - xs[0] for x in xs]
    total = math.fsum(xs)
    if total == 0:
        return 0.0
    weighted = math.fsum(map(mul, range(1 - n, n, 2), xs))  # (2i − n − 1)·xᵢ for i = 1..n
    return min(max(weighted / (n * total), 0.0), 1.0)
