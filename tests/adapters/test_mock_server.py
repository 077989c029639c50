"""The mock provider server, hit through real HTTP by the real adapters."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from pydantic import BaseModel

from adapters import AnthropicAdapter, CompletionRequest, LLMError, OpenAIAdapter, Retrying
from adapters.mock_server import MockRequest, create_app, serve


class Answer(BaseModel):
    word: str


def responder(req: MockRequest) -> dict[str, Any]:
    return {"word": f"{req.api}:{req.user}"}


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
async def test_both_apis_round_trip_through_the_mock_server(provider: str) -> None:
    async with anyio.create_task_group() as tg:
        server = await serve(create_app(responder), tg)
        if provider == "openai":
            adapter: Any = OpenAIAdapter(api_key="k", base_url=f"{server.base_url}/v1")
        else:
            adapter = AnthropicAdapter(api_key="k", base_url=server.base_url)
        async with adapter:
            result = await adapter.complete(
                CompletionRequest(system="s", user="hi", schema=Answer, model="m")
            )
        await server.close()
    assert result.value.word == f"{provider}:hi"


async def test_injected_faults_are_retried_or_surface_as_typed_errors() -> None:
    async def no_sleep(_: float) -> None:
        return None

    outcomes = {"ok": 0, "error": 0}
    async with anyio.create_task_group() as tg:
        app = create_app(responder, error_rate=0.5, seed=3, hang_s=5)
        server = await serve(app, tg)
        adapter = Retrying(
            OpenAIAdapter(api_key="k", base_url=f"{server.base_url}/v1", timeout=0.5),
            max_attempts=3,
            sleep=no_sleep,
        )
        for k in range(12):
            try:
                await adapter.complete(CompletionRequest(system="s", user=str(k), schema=Answer, model="m"))
                outcomes["ok"] += 1
            except LLMError:
                outcomes["error"] += 1
        await adapter.aclose()
        await server.close()
    assert outcomes["ok"] > 0 and app.state.stats["faults"] > 0


async def test_a_body_that_is_not_json_gets_a_400_naming_the_problem() -> None:
    import httpx

    async with anyio.create_task_group() as tg:
        server = await serve(create_app(responder), tg)
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            chat = await client.post("/v1/chat/completions", content=b"{not json")
            messages = await client.post("/v1/messages", content=b"")
        await server.close()
    assert chat.status_code == messages.status_code == 400
    assert "not JSON" in chat.json()["error"]["message"]


async def test_a_request_the_responder_cannot_answer_gets_a_400_with_its_reason() -> None:
    import httpx

    from swarm.agents.mock_llm import mock_app

    async with anyio.create_task_group() as tg:
        server = await serve(mock_app(), tg)
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            reply = await client.post(
                "/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": "hi"}]}
            )
        await server.close()
    assert reply.status_code == 400
    assert "no <observation> block" in reply.json()["error"]["message"]


async def test_unknown_routes_and_methods_are_refused_and_health_counts_requests() -> None:
    import httpx

    app = create_app(responder)
    async with anyio.create_task_group() as tg:
        server = await serve(app, tg)
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            missing = await client.post("/v1/completions", json={})
            wrong = await client.get("/v1/messages")
            await client.post(
                "/v1/messages", json={"model": "m", "messages": [{"role": "user", "content": "a"}]}
            )
            health = await client.get("/health")
        await server.close()
    assert (missing.status_code, wrong.status_code) == (404, 405)
    assert health.json() == {"requests": 1, "faults": 0} == app.state.stats
