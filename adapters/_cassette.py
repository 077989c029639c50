"""Cassettes: record every exchange to JSONL keyed by a stable hash, and serve them back offline."""

from __future__ import annotations

import json
from collections import defaultdict, deque
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from adapters._errors import CassetteMiss, InvalidOutput
from adapters._types import Completion, CompletionRequest, LLMAdapter, T, Usage, close_adapter


class CassetteWriter:
    """A cassette file open for writing; several recorders (one per provider) may share it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[str] = self.path.open("w", encoding="utf-8")

    def write(self, entry: dict[str, Any]) -> None:
        self._fh.write(json.dumps(entry, sort_keys=True) + "\n")
        self._fh.flush()

    def close(self) -> None:
        self._fh.close()


class RecordingAdapter:
    """Pass requests to ``inner`` and append each answered exchange to the cassette (flushed per line)."""

    def __init__(self, inner: LLMAdapter, cassette: str | Path | CassetteWriter) -> None:
        self.inner = inner
        self.writer = cassette if isinstance(cassette, CassetteWriter) else CassetteWriter(cassette)
        self.path = self.writer.path

    async def complete(self, request: CompletionRequest[T]) -> Completion[T]:
        completion = await self.inner.complete(request)
        line = {
            "key": request.stable_key(),
            "model": request.model,
            "schema": request.schema.__name__,
            "system": request.system,
            "user": request.user,
            "raw_text": completion.raw_text,
            "usage": {
                "input_tokens": completion.usage.input_tokens,
                "output_tokens": completion.usage.output_tokens,
            },
            "cost_usd": completion.cost_usd,
            "repaired": completion.repaired,
            "wall_clock_latency_s": round(completion.latency_s, 6),
        }
        self.writer.write(line)
        return completion

    def close(self) -> None:
        self.writer.close()

    async def aclose(self) -> None:
        """Close the inner adapter's network clients (the cassette stays open: :meth:`close`)."""
        await close_adapter(self.inner)


class ReplayAdapter:
    """Serve recorded answers; a request never recorded raises :class:`CassetteMiss`.

    A key recorded several times is served in recorded order.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise CassetteMiss(f"{self.path}: no such cassette")
        self._entries: dict[str, deque[dict[str, Any]]] = defaultdict(deque)
        with self.path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                    self._entries[entry["key"]].append(entry)
                except (json.JSONDecodeError, KeyError) as exc:
                    raise CassetteMiss(f"{self.path}:{lineno}: unreadable cassette line ({exc})") from None

    async def complete(self, request: CompletionRequest[T]) -> Completion[T]:
        key = request.stable_key()
        queue = self._entries.get(key)
        if not queue:
            start = request.user[:80].replace("\n", " ")
            raise CassetteMiss(
                f"{self.path}: no recorded answer for request {key[:16]} "
                f"(model {request.model}, user text {start!r}...)",
                model=request.model,
            )
        entry = queue.popleft()
        try:
            value = request.schema.model_validate_json(entry["raw_text"])
        except ValidationError as exc:
            raise InvalidOutput(
                "recorded answer no longer validates",
                raw_text=entry["raw_text"],
                errors=str(exc),
                model=request.model,
            ) from None
        usage = Usage(**entry["usage"])
        return Completion(
            value=value,
            raw_text=entry["raw_text"],
            usage=usage,
            cost_usd=entry["cost_usd"],
            latency_s=0.0,
            model=request.model,
            repaired=entry.get("repaired", False),
        )
