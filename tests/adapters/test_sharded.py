"""ShardedAdapter: requests served by worker processes, answers and errors as if served in-process."""

from __future__ import annotations

import asyncio
import functools
import pickle
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from adapters import (
    CassetteMiss,
    CompletionRequest,
    InvalidOutput,
    LLMAuthError,
    LLMTimeout,
    MissingAPIKey,
    ProviderError,
    RateLimited,
    ShardedAdapter,
    build_adapter,
)
from adapters.mock_server import MockRequest, ThreadedServer, create_app


class Word(BaseModel):
    word: str


def echo(req: MockRequest) -> dict[str, Any]:
    return {"word": f"{req.api}:{req.user}"}


def deny(req: MockRequest) -> dict[str, Any]:
    raise AssertionError("never reached")


@pytest.fixture
def server() -> Iterator[ThreadedServer]:
    srv = ThreadedServer(create_app(echo, latency_ms=20))
    try:
        yield srv
    finally:
        srv.close()


def recipe(base_url: str, provider: str = "openai") -> Any:
    url = f"{base_url}/v1" if provider == "openai" else base_url
    return functools.partial(build_adapter, provider, base_url=url, api_key="k", max_retries=0, timeout=5)


def ask(user: str, model: str = "gpt-4o-mini") -> CompletionRequest[Word]:
    return CompletionRequest(system="s", user=user, schema=Word, model=model)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_every_request_is_answered_by_a_worker_and_counted_here(
    server: ThreadedServer, provider: str
) -> None:
    adapter = ShardedAdapter(recipe(server.base_url, provider), workers=2)
    try:
        await adapter.start(preload=(Word,))
        results = await asyncio.gather(*(adapter.complete(ask(f"{k:02d}" * 20)) for k in range(40)))
    finally:
        await adapter.aclose()
    assert [r.value.word for r in results] == [f"{provider}:" + f"{k:02d}" * 20 for k in range(40)]
    assert all(isinstance(r.value, Word) and r.raw_text for r in results)
    usage = adapter.meter.snapshot().models["gpt-4o-mini"]
    assert usage.calls == 40 and usage.failures == 0
    assert usage.input_tokens == sum(r.usage.input_tokens for r in results) > 0


async def test_requests_are_spread_over_the_workers() -> None:
    app = create_app(echo, latency_ms=300)
    srv = ThreadedServer(app)
    adapter = ShardedAdapter(recipe(srv.base_url), workers=3)
    try:
        await adapter.start()
        pending = [asyncio.ensure_future(adapter.complete(ask(str(k)))) for k in range(30)]
        await asyncio.sleep(0.02)
        in_flight = [len(w.pending) for w in adapter._workers]
        await asyncio.gather(*pending)
    finally:
        await adapter.aclose()
        srv.close()
    assert in_flight == [10, 10, 10]
    assert app.state.stats["requests"] == 30


async def test_provider_errors_arrive_typed() -> None:
    srv = ThreadedServer(create_app(deny, error_rate=1.0, seed=1, hang_s=1.0))
    adapter = ShardedAdapter(
        functools.partial(
            build_adapter, "openai", base_url=f"{srv.base_url}/v1", api_key="k", max_retries=0, timeout=0.3
        ),
        workers=2,
    )
    try:
        outcomes = await asyncio.gather(
            *(adapter.complete(ask(str(k))) for k in range(12)), return_exceptions=True
        )
    finally:
        await adapter.aclose()
        srv.close()
    kinds = {type(o) for o in outcomes}
    assert kinds <= {RateLimited, ProviderError, LLMTimeout, InvalidOutput}
    assert len(kinds) >= 2
    assert adapter.meter.snapshot().models["gpt-4o-mini"].failures == 12


async def test_a_dead_worker_fails_its_requests_with_a_provider_error_naming_it() -> None:
    slow = ThreadedServer(create_app(echo, latency_ms=1000))
    adapter = ShardedAdapter(recipe(slow.base_url), workers=1)
    try:
        await adapter.start()
        pending = asyncio.ensure_future(adapter.complete(ask("x")))
        await asyncio.sleep(0.3)
        adapter._workers[0].process.kill()
        with pytest.raises(ProviderError, match="LLM worker process 0 exited"):
            await pending
        with pytest.raises(ProviderError, match="no LLM worker process is running"):
            await adapter.complete(ask("y"))
    finally:
        await adapter.aclose()
        slow.close()


async def test_a_worker_whose_recipe_fails_reports_instead_of_hanging(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    adapter = ShardedAdapter(
        functools.partial(build_adapter, "anthropic", api_key=""), workers=1, start_timeout=30
    )
    try:
        with pytest.raises(ProviderError, match="LLM worker process 0 exited"):
            await adapter.complete(ask("x"))
    finally:
        await adapter.aclose()


def test_unpicklable_recipes_and_schemas_are_refused_up_front() -> None:
    with pytest.raises(TypeError, match="cannot be pickled"):
        ShardedAdapter(lambda: None)  # type: ignore[arg-type,return-value]

    class Local(BaseModel):
        x: int

    adapter = ShardedAdapter(functools.partial(build_adapter, "ollama"), workers=1)
    request = CompletionRequest(system="s", user="u", schema=Local, model="m")
    with pytest.raises(TypeError, match="module-level"):
        asyncio.run(_complete_then_close(adapter, request))


async def _complete_then_close(adapter: ShardedAdapter, request: CompletionRequest[Any]) -> None:
    try:
        await adapter.complete(request)
    finally:
        await adapter.aclose()


@pytest.mark.parametrize(
    "error",
    [
        LLMAuthError("no", provider="openai", model="m"),
        MissingAPIKey("set X"),
        RateLimited("slow", retry_after=1.5, provider="anthropic"),
        ProviderError("boom", status=503, attempts=3, retry_after=2.0, provider="openai", model="m"),
        LLMTimeout("late"),
        InvalidOutput("bad", raw_text="{", errors="e", provider="p", model="m"),
        CassetteMiss("never seen"),
    ],
)
def test_every_adapter_error_survives_pickling(error: Exception) -> None:
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error)
    assert str(back) == str(error)
    assert back.__dict__ == error.__dict__
