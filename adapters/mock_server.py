"""A local server speaking the OpenAI and Anthropic HTTP APIs, for runs and benchmarks without keys.

``POST /v1/chat/completions`` (JSON-schema response format or tools) and
``POST /v1/messages`` (tool use) are answered by a pluggable responder that
receives the system and user text and the requested JSON schema, and returns
the object to put in the structured output. Latency and failures can be
injected: with ``error_rate`` a seeded draw picks, per request, one of a 429
(``retry-after: 0``), a 500, a hang past the client's patience, or a non-JSON
answer.

Needs the ``mock`` extra (starlette, uvicorn).
"""

from __future__ import annotations

import json
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
from pydantic_core import from_json


@dataclass(frozen=True)
class MockRequest:
    """What the responder sees of a request."""

    api: str
    model: str
    system: str
    user: str
    schema: dict[str, Any]
    schema_name: str


Responder = Callable[[MockRequest], Awaitable[dict[str, Any]] | dict[str, Any]]
FAULTS = ("rate_limit", "server_error", "hang", "garbage")


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def _openai_request(body: dict[str, Any]) -> MockRequest:
    messages = body.get("messages", [])
    system = "".join(_text(m.get("content")) for m in messages if m.get("role") == "system")
    users = [_text(m.get("content")) for m in messages if m.get("role") == "user"]
    fmt = (body.get("response_format") or {}).get("json_schema") or {}
    tools = body.get("tools") or []
    schema = fmt.get("schema") or (tools[0]["function"]["parameters"] if tools else {})
    name = fmt.get("name") or schema.get("title", "")
    return MockRequest("openai", body.get("model", ""), system, users[0] if users else "", schema, name)


def _anthropic_request(body: dict[str, Any]) -> MockRequest:
    users = [_text(m.get("content")) for m in body.get("messages", []) if m.get("role") == "user"]
    tools = body.get("tools") or [{}]
    schema = tools[0].get("input_schema", {})
    return MockRequest(
        "anthropic",
        body.get("model", ""),
        _text(body.get("system", "")),
        users[0] if users else "",
        schema,
        schema.get("title", ""),
    )


def create_app(
    responder: Responder,
    *,
    latency_ms: float = 0.0,
    error_rate: float = 0.0,
    seed: int = 0,
    hang_s: float = 120.0,
) -> Any:
    """The ASGI app (starlette)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    if not 0.0 <= error_rate <= 1.0:
        raise ValueError(f"error_rate must be in [0, 1], got {error_rate}")
    rng = random.Random(seed)
    stats = {"requests": 0, "faults": 0}

    async def answer(req: MockRequest) -> tuple[str | None, dict[str, Any] | None]:
        stats["requests"] += 1
        if latency_ms:
            await anyio.sleep(latency_ms / 1000)
        if error_rate and rng.random() < error_rate:
            stats["faults"] += 1
            return FAULTS[rng.randrange(len(FAULTS))], None
        result = responder(req)
        if not isinstance(result, dict):
            result = await result
        return None, result

    async def fault_response(fault: str) -> JSONResponse | None:
        if fault == "rate_limit":
            return JSONResponse(
                {"error": {"type": "rate_limit_error", "message": "slow down"}},
                429,
                headers={"retry-after": "0"},
            )
        if fault == "server_error":
            return JSONResponse({"error": {"type": "api_error", "message": "injected failure"}}, 500)
        if fault == "hang":
            await anyio.sleep(hang_s)
        return None

    def bad_request(message: str) -> JSONResponse:
        return JSONResponse({"error": {"type": "invalid_request_error", "message": message}}, 400)

    async def chat(request: Request) -> JSONResponse:
        try:
            body = from_json(await request.body())
        except ValueError as exc:
            return bad_request(f"the body is not JSON: {exc}")
        req = _openai_request(body)
        fault, obj = await answer(req)
        if fault is not None and (resp := await fault_response(fault)) is not None:
            return resp
        text = "this is not JSON" if obj is None else json.dumps(obj)
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if body.get("tools") and obj is not None:
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "respond", "arguments": text}}
                ],
            }
        return JSONResponse(
            {
                "id": f"mock-{stats['requests']}",
                "object": "chat.completion",
                "created": 0,
                "model": req.model,
                "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                "usage": {
                    "prompt_tokens": len(req.user) // 4,
                    "completion_tokens": len(text) // 4,
                    "total_tokens": (len(req.user) + len(text)) // 4,
                },
            }
        )

    async def messages(request: Request) -> JSONResponse:
        try:
            body = from_json(await request.body())
        except ValueError as exc:
            return bad_request(f"the body is not JSON: {exc}")
        req = _anthropic_request(body)
        fault, obj = await answer(req)
        if fault is not None and (resp := await fault_response(fault)) is not None:
            return resp
        if obj is None:
            block: dict[str, Any] = {"type": "text", "text": "this is not JSON"}
        else:
            block = {"type": "tool_use", "id": "toolu_1", "name": "respond", "input": obj}
        return JSONResponse(
            {
                "id": f"mock-{stats['requests']}",
                "type": "message",
                "role": "assistant",
                "model": req.model,
                "content": [block],
                "stop_reason": "tool_use",
                "stop_sequence": None,
                "usage": {"input_tokens": len(req.user) // 4, "output_tokens": 20},
            }
        )

    async def health(request: Request) -> JSONResponse:
        return JSONResponse(stats)

    app = Starlette(
        routes=[
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/v1/messages", messages, methods=["POST"]),
            Route("/health", health, methods=["GET"]),
        ]
    )
    app.state.stats = stats
    return app


class RunningServer:
    """A server started by :func:`serve`; ``port`` is the bound port."""

    def __init__(self, server: Any, port: int) -> None:
        self._server = server
        self.port = port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def close(self) -> None:
        self._server.should_exit = True
        while not getattr(self._server, "_swarm_done", True):
            await anyio.sleep(0.01)


async def serve(app: Any, task_group: Any, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Start ``app`` with uvicorn inside ``task_group``; returns once it listens."""
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    server._swarm_done = False  # type: ignore[attr-defined]

    async def run() -> None:
        try:
            await server.serve()
        finally:
            server._swarm_done = True  # type: ignore[attr-defined]

    task_group.start_soon(run)
    while not server.started:
        await anyio.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    return RunningServer(server, bound)


class ThreadedServer:
    """A server running in a background thread with its own event loop (usable from sync or async code)."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        import threading

        import uvicorn

        self._server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
        )
        self._thread = threading.Thread(target=self._server.run, name="mock-llm", daemon=True)
        self._thread.start()
        import time

        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the mock LLM server did not start")
            time.sleep(0.01)
        self.port: int = self._server.servers[0].sockets[0].getsockname()[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
