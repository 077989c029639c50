"""A local server speaking the OpenAI and Anthropic HTTP APIs, for runs and benchmarks without keys.

``POST /v1/chat/completions`` (JSON-schema response format or tools) and
``POST /v1/messages`` (tool use) are answered by a pluggable responder that
receives the system and user text and the requested JSON schema, and returns
the object to put in the structured output. Latency and failures can be
injected: with ``error_rate`` a seeded draw picks, per request, one of a 429
(``retry-after: 0``), a 500, a hang past the client's patience, or a non-JSON
answer. With ``rate_limit_rpm`` it answers 429 (with ``retry-after-ms``) to every
request sooner than ``60 / rate_limit_rpm`` seconds after the last one it accepted,
as the client's limiter spaces them (:class:`adapters._ratelimit.SlidingWindow`); ``request_times``
holds the arrival time (``time.monotonic``) of every completion request. ``GET
/health`` reports the request and fault counts; ``GET /v1/models`` answers an
empty model list (clients ask for it to open their connections early).

Needs the ``mock`` extra (uvicorn).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import anyio
from pydantic_core import from_json, to_json


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


class MockApp:
    """The ASGI app of the mock provider: four routes, JSON in and out, faults and latency injected.

    A bare ASGI callable (no framework): it is on the critical path of every
    benchmark request, so it does as little as a server can.
    """

    def __init__(
        self,
        responder: Responder,
        *,
        latency_ms: float = 0.0,
        error_rate: float = 0.0,
        seed: int = 0,
        hang_s: float = 120.0,
        rate_limit_rpm: int | None = None,
    ) -> None:
        if not 0.0 <= error_rate <= 1.0:
            raise ValueError(f"error_rate must be in [0, 1], got {error_rate}")
        from adapters._ratelimit import SlidingWindow

        self.window = SlidingWindow(rate_limit_rpm) if rate_limit_rpm is not None else None
        self.request_times: list[float] = []
        self.responder = responder
        self.latency_s = latency_ms / 1000
        self.error_rate = error_rate
        self.hang_s = hang_s
        self.rng = random.Random(seed)
        self.stats = {"requests": 0, "faults": 0}
        if self.window is not None:
            self.stats["rate_limited"] = 0
        self.state = SimpleNamespace(stats=self.stats)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        route = _ROUTES.get(scope["path"])
        if route is None:
            await _respond(send, 404, _error("not_found_error", f"no route {scope['path']}"))
            return
        method, api = route
        if scope["method"] != method:
            await _respond(send, 405, _error("invalid_request_error", f"use {method}"))
            return
        if api == "health":
            await _respond(send, 200, self.stats)
            return
        if api == "models":  # what clients ask to open their connections early; not counted
            await _respond(send, 200, _MODELS)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        try:
            body = from_json(b"".join(chunks))
        except ValueError as exc:
            await _respond(send, 400, _error("invalid_request_error", f"the body is not JSON: {exc}"))
            return
        if not isinstance(body, dict):
            await _respond(send, 400, _error("invalid_request_error", "the body is not a JSON object"))
            return
        req = _openai_request(body) if api == "openai" else _anthropic_request(body)
        try:
            fault, obj = await self._answer(req)
        except ValueError as exc:  # the responder cannot answer this request
            await _respond(send, 400, _error("invalid_request_error", str(exc)))
            return
        if fault == "rate_limit":
            await _respond(send, 429, _error("rate_limit_error", "slow down"), extra=[(b"retry-after", b"0")])
            return
        if fault == "throttled":
            wait_ms = str(max(1, round(obj["retry_after_s"] * 1000))).encode() if obj else b"1000"
            await _respond(
                send,
                429,
                _error("rate_limit_error", "rate limit reached"),
                extra=[(b"retry-after-ms", wait_ms)],
            )
            return
        if fault == "server_error":
            await _respond(send, 500, _error("api_error", "injected failure"))
            return
        if fault == "hang":
            await anyio.sleep(self.hang_s)
        if api == "openai":
            await _respond(send, 200, self._chat_completion(req, obj, bool(body.get("tools"))))
        else:
            await _respond(send, 200, self._message(req, obj))

    async def _answer(self, req: MockRequest) -> tuple[str | None, dict[str, Any] | None]:
        self.stats["requests"] += 1
        if self.window is not None:
            now = time.monotonic()
            self.request_times.append(now)
            wait = self.window.wait_for(1, now)
            if wait > 0:
                self.stats["rate_limited"] += 1
                return "throttled", {"retry_after_s": wait}
            self.window.take(1, now)
        if self.latency_s:
            await anyio.sleep(self.latency_s)
        if self.error_rate and self.rng.random() < self.error_rate:
            self.stats["faults"] += 1
            return FAULTS[self.rng.randrange(len(FAULTS))], None
        result = self.responder(req)
        if not isinstance(result, dict):
            result = await result
        return None, result

    def _chat_completion(self, req: MockRequest, obj: dict[str, Any] | None, tools: bool) -> dict[str, Any]:
        text = "this is not JSON" if obj is None else json.dumps(obj)
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if tools and obj is not None:
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "respond", "arguments": text}}
                ],
            }
        return {
            "id": f"mock-{self.stats['requests']}",
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

    def _message(self, req: MockRequest, obj: dict[str, Any] | None) -> dict[str, Any]:
        if obj is None:
            block: dict[str, Any] = {"type": "text", "text": "this is not JSON"}
        else:
            block = {"type": "tool_use", "id": "toolu_1", "name": "respond", "input": obj}
        return {
            "id": f"mock-{self.stats['requests']}",
            "type": "message",
            "role": "assistant",
            "model": req.model,
            "content": [block],
            "stop_reason": "tool_use",
            "stop_sequence": None,
            "usage": {"input_tokens": len(req.user) // 4, "output_tokens": 20},
        }


_ROUTES = {
    "/v1/chat/completions": ("POST", "openai"),
    "/v1/messages": ("POST", "anthropic"),
    "/health": ("GET", "health"),
    "/v1/models": ("GET", "models"),
}
_MODELS = {"object": "list", "data": [], "has_more": False, "first_id": None, "last_id": None}


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message}}


async def _respond(
    send: Any, status: int, payload: dict[str, Any], extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = to_json(payload)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + (extra or [])})
    await send({"type": "http.response.body", "body": body})


def create_app(
    responder: Responder,
    *,
    latency_ms: float = 0.0,
    error_rate: float = 0.0,
    seed: int = 0,
    hang_s: float = 120.0,
    rate_limit_rpm: int | None = None,
) -> MockApp:
    """The ASGI app; ``app.state.stats`` counts requests, injected faults and rate-limit refusals."""
    return MockApp(
        responder,
        latency_ms=latency_ms,
        error_rate=error_rate,
        seed=seed,
        hang_s=hang_s,
        rate_limit_rpm=rate_limit_rpm,
    )


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
