"""Compact columns for what the metrics keep per agent per epoch."""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from struct import pack
from typing import Any

_WIDTHS = (("B", 0xFF), ("H", 0xFFFF), ("I", 0xFFFF_FFFF))


def counts_column(values: Sequence[int]) -> array[int]:
    """``values`` (whole numbers) in the narrowest array that holds them all: one byte each for
    counts below 256, eight only when some count needs it. Reads back the same ints, in order."""
    if values and min(values) >= 0:
        top = max(values)
        for code, limit in _WIDTHS:
            if top <= limit:
                return packed(code, values)
    return packed("q", values)


def packed(code: str, values: Sequence[float]) -> array[Any]:
    """``array(code, values)``, its items packed by :func:`struct.pack` (which converts each value in
    C, where the array's own constructor parses each as a call's argument: several times the work)."""
    out = array(code)
    out.frombytes(pack(f"{len(values)}{code}", *values))
    return out
