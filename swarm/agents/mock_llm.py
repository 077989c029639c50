"""The mock LLM provider for swarm runs: the generic mock server answering with scripted policies."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from adapters.mock_server import MockRequest, create_app
from swarm.agents.llm_responder import scripted_answer


async def scripted_responder(request: MockRequest, susceptibility: float = 0.0) -> dict[str, Any]:
    """Answer a swarm agent's request with the scripted policy matching its persona.

    ``susceptibility``: the chance that, asked to act, it follows an injection payload
    in its inbox, feed or task outputs instead (as the offline backend's double does; see
    :mod:`swarm.env.security`).
    """
    return await scripted_answer(request.system, request.user, request.schema_name, susceptibility)


def mock_app(
    *,
    latency_ms: float = 0.0,
    error_rate: float = 0.0,
    seed: int = 0,
    hang_s: float = 120.0,
    rate_limit_rpm: int | None = None,
    susceptibility: float = 0.0,
) -> Any:
    """The ASGI app of ``swarm mock-llm`` (``rate_limit_rpm``: answer 429 past that rate;
    ``susceptibility``: the chance to follow an injection payload, see :func:`scripted_responder`)."""
    if not 0.0 <= susceptibility <= 1.0:
        raise ValueError(f"susceptibility {susceptibility}: expected a chance between 0 and 1")
    responder: Callable[[MockRequest], Awaitable[dict[str, Any]]] = (
        functools.partial(scripted_responder, susceptibility=susceptibility)
        if susceptibility > 0
        else scripted_responder
    )
    return create_app(
        responder,
        latency_ms=latency_ms,
        error_rate=error_rate,
        seed=seed,
        hang_s=hang_s,
        rate_limit_rpm=rate_limit_rpm,
    )


def environment(host: str, port: int) -> dict[str, str]:
    """The variables that point both SDKs (and so every scenario) at the mock server."""
    base = f"http://{host}:{port}"
    return {
        "OPENAI_BASE_URL": f"{base}/v1",
        "ANTHROPIC_BASE_URL": base,
        "OPENAI_API_KEY": "mock-key",
        "ANTHROPIC_API_KEY": "mock-key",
    }
