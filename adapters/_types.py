"""Requests, completions and the adapter protocol: text and a schema in, a validated object out."""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from pydantic import BaseModel

T = TypeVar("T", bound=BaseModel)
T_co = TypeVar("T_co", bound=BaseModel, covariant=True)


@functools.lru_cache(maxsize=256)
def schema_of(schema: type[BaseModel]) -> dict[str, Any]:
    """A schema's JSON schema, computed once per class (it is costly and never changes)."""
    return schema.model_json_schema()


@dataclass(frozen=True)
class CompletionRequest(Generic[T]):
    """One structured-output request; ``metadata`` is for bookkeeping and never sent."""

    system: str
    user: str
    schema: type[T]
    model: str
    temperature: float = 0.7
    max_tokens: int = 512
    metadata: dict[str, str] = field(default_factory=dict)

    def json_schema(self) -> dict[str, Any]:
        return schema_of(self.schema)

    def stable_key(self) -> str:
        """sha256 over the canonical JSON of everything that determines the answer."""
        blob = json.dumps(
            {
                "system": self.system,
                "user": self.user,
                "schema": self.json_schema(),
                "model": self.model,
                "temperature": self.temperature,
                "max_tokens": self.max_tokens,
            },
            sort_keys=True,
            separators=(",", ":"),
        )
        return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True)
class Completion(Generic[T]):
    """A validated answer with its raw text, token usage, cost and latency."""

    value: T
    raw_text: str
    usage: Usage
    cost_usd: float
    latency_s: float
    model: str
    attempts: int = 1
    repaired: bool = False
    rate_limited: int = 0
    """How many times the provider refused this request for its rate (429) before answering."""


@dataclass(frozen=True)
class RawCompletion:
    """What a provider returned before validation: the JSON text of the structured output."""

    text: str
    usage: Usage
    model: str


class LLMAdapter(Protocol):
    """Anything that completes a structured request."""

    async def complete(self, request: CompletionRequest[T]) -> Completion[T]: ...


async def close_adapter(adapter: object) -> None:
    """Close an adapter's network clients, if it has any (``aclose``); a no-op otherwise."""
    close = getattr(adapter, "aclose", None)
    if close is not None:
        await close()


async def warm_adapter(adapter: object, connections: int) -> int:
    """Open up to ``connections`` connections before the first request, where the adapter can.

    Asks the first of ``adapter`` and the adapters it wraps (``inner``) that has a
    ``warm`` method; returns how many connections it opened (0 if none can).
    Best effort: a provider that cannot be reached is left for the requests to report.
    """
    current: object | None = adapter
    while current is not None:
        warm = getattr(current, "warm", None)
        if warm is not None:
            opened: int = await warm(connections)
            return opened
        current = getattr(current, "inner", None)
    return 0
