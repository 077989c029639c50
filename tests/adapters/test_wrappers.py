"""Wrappers and offline adapters: limits, cassettes, scripted answers, prices."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from pydantic import BaseModel

from adapters import (
    CassetteError,
    CassetteMiss,
    CompletionRequest,
    Limited,
    PriceTable,
    RecordingAdapter,
    ReplayAdapter,
    ScriptedAdapter,
    Usage,
)
from adapters._types import Completion, T


class Answer(BaseModel):
    text: str


def req(user: str, model: str = "m") -> CompletionRequest[Answer]:
    return CompletionRequest(system="s", user=user, schema=Answer, model=model)


def test_stable_key_depends_on_every_field_that_shapes_the_answer() -> None:
    base = req("hello")
    assert base.stable_key() == req("hello").stable_key()
    assert base.stable_key() != req("hello!").stable_key()
    assert base.stable_key() != req("hello", model="other").stable_key()
    other = CompletionRequest(system="s", user="hello", schema=Answer, model="m", temperature=0.1)
    assert base.stable_key() != other.stable_key()


async def test_recorded_cassette_replays_identical_values_in_order(tmp_path: Path) -> None:
    counter = iter(range(100))
    live = ScriptedAdapter(lambda r: {"text": f"{r.user}-{next(counter)}"})
    recorder = RecordingAdapter(live, tmp_path / "c.jsonl")
    first = [await recorder.complete(req(u)) for u in ("a", "b", "a")]
    recorder.close()
    replay = ReplayAdapter(tmp_path / "c.jsonl")
    again = [await replay.complete(req(u)) for u in ("a", "b", "a")]
    assert [c.value for c in again] == [c.value for c in first]
    assert [c.raw_text for c in again] == [c.raw_text for c in first]
    with pytest.raises(CassetteMiss, match="no recorded answer"):
        await replay.complete(req("never asked"))


def test_missing_cassette_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(CassetteError, match="no such cassette"):
        ReplayAdapter(tmp_path / "none.jsonl")


async def test_limited_never_exceeds_its_concurrency() -> None:
    in_flight = peak = 0

    class Slow:
        async def complete(self, request: CompletionRequest[T]) -> Completion[T]:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            await anyio.sleep(0.01)
            in_flight -= 1
            return Completion(
                value=request.schema.model_validate({"text": "x"}),
                raw_text="",
                usage=Usage(),
                cost_usd=0,
                latency_s=0,
                model=request.model,
            )

    limited = Limited(Slow(), max_concurrency=3)
    async with anyio.create_task_group() as tg:
        for k in range(12):
            tg.start_soon(limited.complete, req(str(k)))
    assert peak == 3


def test_price_table_costs_tokens_and_can_be_extended() -> None:
    table = PriceTable.default().with_prices({"my-model": (1.0, 2.0)})
    assert table.cost("my-model", Usage(1_000_000, 500_000)) == pytest.approx(2.0)
    assert table.cost("unknown", Usage(10, 10)) == 0.0 and not table.knows("unknown")
