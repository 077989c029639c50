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


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_warm_opens_connections_with_model_list_requests_the_mock_does_not_count(provider: str) -> None:
    from adapters import warm_adapter

    app = create_app(echo)
    srv = ThreadedServer(app)
    adapter = recipe(srv.base_url, provider)()
    try:
        assert await warm_adapter(adapter, 5) == 5
        assert await warm_adapter(adapter, 0) == 0
        result = await adapter.complete(ask("after"))
    finally:
        await adapter.aclose()
        srv.close()
    assert result.value.word == f"{provider}:after"
    assert app.state.stats["requests"] == 1  # the completion; warming is not a request


async def test_warm_is_capped_by_the_concurrency_limit_and_gives_up_on_an_unreachable_server() -> None:
    from adapters import warm_adapter

    srv = ThreadedServer(create_app(echo))
    capped = build_adapter("openai", base_url=f"{srv.base_url}/v1", api_key="k", max_concurrency=3)
    dead = build_adapter("openai", base_url="http://127.0.0.1:9/v1", api_key="k", timeout=2)
    try:
        assert await warm_adapter(capped, 10) == 3
        assert await warm_adapter(dead, 4) == 0  # connection refused: nothing opened, nothing raised
    finally:
        for adapter in (capped, dead):
            await adapter.aclose()  # type: ignore[attr-defined]
        srv.close()


async def test_workers_started_early_warm_their_connections_and_serve_as_before() -> None:
    app = create_app(echo)
    srv = ThreadedServer(app)
    adapter = ShardedAdapter(recipe(srv.base_url), workers=1)
    try:
        await adapter.spawn(preload=(Word,), warm=6)
        await adapter.spawn(preload=(Word,), warm=6)  # a second call does nothing
        await adapter.start()
        results = await asyncio.gather(*(adapter.complete(ask(str(k))) for k in range(6)))
    finally:
        await adapter.aclose()
        srv.close()
    assert [r.value.word for r in results] == [f"openai:{k}" for k in range(6)]
    assert app.state.stats["requests"] == 6


async def test_closing_before_the_workers_are_ready_leaves_nothing_behind(server: ThreadedServer) -> None:
    adapter = ShardedAdapter(recipe(server.base_url), workers=1)
    await adapter.spawn(preload=(Word,), warm=4)
    processes = [w.process for w in adapter._workers]
    await adapter.aclose()
    assert all(p.returncode is not None for p in processes)


FORKING = """
import asyncio, functools, json, os, sys, time
from adapters import CompletionRequest, ShardedAdapter, build_adapter
from tests.adapters.test_sharded import Word

adapter = ShardedAdapter(
    functools.partial(build_adapter, "openai", base_url=sys.argv[1], api_key="k", max_retries=0, timeout=5),
    workers=2,
)
forked = [adapter.fork(), adapter.fork()]  # the second does nothing
other = ShardedAdapter(functools.partial(build_adapter, "openai", base_url=sys.argv[1], api_key="k"), 1)
forked.append(other.fork())  # its worker must not keep the first adapter's workers' pipes open

def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False

async def main():
    try:
        await adapter.start(preload=(Word,), warm=4)
        asks = [CompletionRequest(system="s", user=str(k), schema=Word, model="m") for k in range(6)]
        answers = await asyncio.gather(*(adapter.complete(a) for a in asks))
        pids = [w.process.pid for w in adapter._workers]
    finally:
        started = time.monotonic()
        await adapter.aclose()  # its workers end at once: no other process holds their input open
        closing = time.monotonic() - started
        await other.aclose()
    words = [a.value.word for a in answers]
    alive_after = [alive(p) for p in pids]
    got = {"forked": forked, "words": words, "pids": len(set(pids)), "alive": alive_after}
    print(json.dumps({**got, "quick": closing < 5}))

asyncio.run(main())
"""


def test_workers_forked_before_the_event_loop_serve_like_spawned_ones() -> None:
    import json
    import subprocess
    import sys

    from tests.conftest import ROOT

    app = create_app(echo)
    srv = ThreadedServer(app)
    try:
        done = subprocess.run(
            [sys.executable, "-c", FORKING, f"{srv.base_url}/v1"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
    finally:
        srv.close()
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout)
    assert got == {
        "forked": [True, False, True],
        "words": [f"openai:{k}" for k in range(6)],
        "pids": 2,
        "alive": [False, False],  # both ended and reaped by aclose
        "quick": True,
    }
    assert app.state.stats["requests"] == 6


async def test_no_fork_inside_a_running_event_loop() -> None:
    from adapters._sharded import can_fork

    assert not can_fork()
    adapter = ShardedAdapter(recipe("http://127.0.0.1:9"), workers=1)
    assert not adapter.fork()
    await adapter.aclose()
