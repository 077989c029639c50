"""Inequality of a distribution of resources, payoffs or reputations."""

from __future__ import annotations

import math
from collections.abc import Sequence

ARRAYS = 256
"""From this many values on, the sums are over numpy arrays (imported only then); the same floats."""


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
    if n < ARRAYS:
        ys = sorted(values)
        if ys[0] < 0:
            ys = [y - ys[0] for y in ys]
        sum_y = math.fsum(ys)
        if sum_y == 0:
            return 0.0
        ranked = math.fsum((2 * rank - n - 1) * y for rank, y in enumerate(ys, start=1))
        return min(max(ranked / (n * sum_y), 0.0), 1.0)
    import numpy as np

    xs = np.sort(np.asarray(values, dtype=float))
    if xs[0] < 0:
        xs = xs - xs[0]
    total = math.fsum(xs.tolist())
    if total == 0:
        return 0.0
    # (2i − n − 1)·xᵢ for i = 1..n, each product rounded as the scalar one is; fsum is exact in any order
    weighted = math.fsum((np.arange(1 - n, n, 2, dtype=float) * xs).tolist())
    return min(max(weighted / (n * total), 0.0), 1.0)
