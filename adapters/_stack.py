"""The standard adapter stack for a provider, composed from the wrappers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from adapters._credentials import require_credentials
from adapters._pricing import PriceTable, UsageMeter
from adapters._ratelimit import RateLimit, Throttled
from adapters._types import LLMAdapter
from adapters._wrappers import Limited, Retrying

if TYPE_CHECKING:
    import httpx

    from adapters._provider import Transport

Provider = Literal["anthropic", "openai", "ollama"]


def build_adapter(
    provider: Provider,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    max_concurrency: int = 64,
    max_retries: int = 3,
    timeout: float = 30.0,
    http_client: httpx.AsyncClient | None = None,
    prices: PriceTable | None = None,
    meter: UsageMeter | None = None,
    transport: Transport = "auto",
    rate_limits: Mapping[str | None, RateLimit] | None = None,
) -> LLMAdapter:
    """``Limited(Retrying(Throttled(Provider(...))))``: concurrency cap outside, retries inside them,
    and, with ``rate_limits`` (by model; ``None`` for the whole provider), every attempt held until
    the requests and tokens per minute allow it."""
    inner: LLMAdapter
    if provider == "anthropic":
        from adapters.anthropic import AnthropicAdapter

        inner = AnthropicAdapter(
            api_key=api_key,
            base_url=base_url,
            http_client=http_client,
            timeout=timeout,
            prices=prices,
            meter=meter,
            transport=transport,
        )
    else:
        from adapters.openai import OpenAIAdapter

        url = base_url or ("http://localhost:11434/v1" if provider == "ollama" else None)
        inner = OpenAIAdapter(
            api_key=api_key,
            base_url=url,
            http_client=http_client,
            timeout=timeout,
            prices=prices,
            meter=meter,
            require_key=provider == "openai",
            transport=transport,
        )
    if rate_limits:
        inner = Throttled(inner, rate_limits)
    return Limited(Retrying(inner, max_attempts=max_retries + 1), max_concurrency=max_concurrency)


__all__ = ["Provider", "build_adapter", "require_credentials"]
