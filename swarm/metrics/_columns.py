"""Compact columns for what the metrics keep per agent per epoch."""

from __future__ import annotations

from array import array
from collections.abc import Sequence

_WIDTHS = (("B", 0xFF), ("H", 0xFFFF), ("I", 0xFFFF_FFFF))


def counts_column(values: Sequence[int]) -> array[int]:
    """``values`` (whole numbers) in the narrowest array that holds them all: one byte each for
    counts below 256, eight only when some count needs it. Reads back the same ints, in order."""
    if values and min(values) >= 0:
        top = max(values)
        for code, limit in _WIDTHS:
            if top <= limit:
                return array(code, values)
    return array("q", values)
