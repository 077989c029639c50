"""Length-prefixed pickle frames: how :class:`~adapters.ShardedAdapter` talks to its worker processes."""

from __future__ import annotations

import asyncio
import pickle
import struct
from dataclasses import dataclass
from typing import Any

HEADER = struct.Struct(">I")
MAX_FRAME = 1 << 28


@dataclass(frozen=True)
class Warm:
    """Sent in place of a request: open up to ``connections`` connections now (answered with how many)."""

    connections: int


def frame(obj: object) -> bytes:
    """``obj`` pickled behind its length."""
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(data)) + data


async def read_frame(reader: asyncio.StreamReader) -> Any | None:
    """The next frame's object, or None at end of input."""
    try:
        head = await reader.readexactly(HEADER.size)
    except asyncio.IncompleteReadError:
        return None
    (size,) = HEADER.unpack(head)
    if size > MAX_FRAME:
        raise ValueError(f"frame of {size} bytes exceeds the limit of {MAX_FRAME}")
    return pickle.loads(await reader.readexactly(size))
