"""Messages: typed, immutable values that actors exchange.

:class:`Message` is the validated default (a frozen pydantic model that refuses
unknown fields). Dispatch is by type, so any class can travel as a message; hot
paths that move many small messages may use slotted classes of their own.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Message(BaseModel):
    """Base of validated messages: frozen, no unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


def describe(msg: object, limit: int = 200) -> str:
    """A message's repr, cut to ``limit`` characters (for error messages)."""
    text = repr(msg)
    return text if len(text) <= limit else text[: limit - 3] + "..."
