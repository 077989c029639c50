"""A deterministic adapter for offline runs: canned or rule-based answers, no I/O."""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel

from adapters._errors import InvalidOutput
from adapters._types import Completion, CompletionRequest, T, Usage

Responder = Callable[
    [CompletionRequest[Any]], BaseModel | dict[str, Any] | str | Awaitable[BaseModel | dict[str, Any] | str]
]


class ScriptedAdapter:
    """Answers from ``responder(request)`` (a model, a dict or JSON text; sync or async).

    Token usage is counted as characters / 4, so cost accounting can be tested offline.
    """

    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        self.calls = 0

    async def complete(self, request: CompletionRequest[T]) -> Completion[T]:
        self.calls += 1
        answer = self.responder(request)
        if inspect.isawaitable(answer):
            answer = await answer
        if isinstance(answer, BaseModel):
            text = answer.model_dump_json()
        elif isinstance(answer, dict):
            text = json.dumps(answer, sort_keys=True)
        else:
            text = str(answer)
        try:
            value = request.schema.model_validate_json(text)
        except ValueError as exc:
            raise InvalidOutput(
                "scripted answer does not match the schema",
                raw_text=text,
                errors=str(exc),
                provider="scripted",
                model=request.model,
            ) from None
        usage = Usage(len(request.system + request.user) // 4, len(text) // 4)
        return Completion(
            value=value, raw_text=text, usage=usage, cost_usd=0.0, latency_s=0.0, model=request.model
        )
