"""Shared machinery of the provider adapters: structured output, one repair round, cost, error mapping."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import anyio
import httpx
from pydantic import BaseModel, ValidationError

from adapters._errors import (
    InvalidOutput,
    LLMAuthError,
    LLMError,
    LLMTimeout,
    MissingAPIKey,
    ProviderError,
    RateLimited,
)
from adapters._http import bridged_client
from adapters._pricing import PriceTable, UsageMeter
from adapters._types import Completion, CompletionRequest, RawCompletion, T, Usage

C = TypeVar("C")

REPAIR_PROMPT = (
    "Your previous output did not match the required JSON schema.\n"
    "Validation errors:\n{errors}\n"
    "Answer again with output that matches the schema exactly."
)


class ProviderAdapter:
    """Base of the provider adapters: subclasses implement :meth:`_call` and :meth:`_map_error`."""

    provider = "provider"

    def __init__(
        self, *, timeout: float, prices: PriceTable | None = None, meter: UsageMeter | None = None
    ) -> None:
        self.timeout = timeout
        self.prices = prices or PriceTable.default()
        self.meter = meter or UsageMeter()

    async def _call(self, request: CompletionRequest[Any], repair: tuple[str, str] | None) -> RawCompletion:
        raise NotImplementedError

    def _map_error(self, exc: Exception, model: str) -> LLMError | None:
        raise NotImplementedError

    async def _call_mapped(
        self, request: CompletionRequest[Any], repair: tuple[str, str] | None
    ) -> RawCompletion:
        try:
            with anyio.fail_after(self.timeout):
                return await self._call(request, repair)
        except TimeoutError:
            raise LLMTimeout(
                f"no answer within {self.timeout:g} s", provider=self.provider, model=request.model
            ) from None
        except LLMError:
            raise
        except Exception as exc:
            mapped = self._map_error(exc, request.model)
            if mapped is None:
                raise
            raise mapped from exc

    async def complete(self, request: CompletionRequest[T]) -> Completion[T]:
        started = time.perf_counter()
        try:
            raw = await self._call_mapped(request, None)
            value, repaired, usage, text = self._validate(request, raw), False, raw.usage, raw.text
        except _Invalid as first:
            second = await self._call_mapped(request, (first.raw.text, first.errors))
            usage = Usage(
                first.raw.usage.input_tokens + second.usage.input_tokens,
                first.raw.usage.output_tokens + second.usage.output_tokens,
            )
            try:
                value, repaired, text = self._validate(request, second), True, second.text
            except _Invalid as again:
                self.meter.failure(request.model)
                raise InvalidOutput(
                    f"output does not match {request.schema.__name__} after one repair round",
                    raw_text=again.raw.text,
                    errors=again.errors,
                    provider=self.provider,
                    model=request.model,
                ) from None
        except LLMError:
            self.meter.failure(request.model)
            raise
        cost = self.prices.cost(request.model, usage)
        self.meter.record(request.model, usage, cost, priced=self.prices.knows(request.model))
        return Completion(
            value=value,
            raw_text=text,
            usage=usage,
            cost_usd=cost,
            latency_s=time.perf_counter() - started,
            model=request.model,
            repaired=repaired,
        )

    @staticmethod
    def _validate(request: CompletionRequest[T], raw: RawCompletion) -> T:
        try:
            return request.schema.model_validate_json(raw.text)
        except ValidationError as exc:
            raise _Invalid(raw, str(exc)) from None


class _Invalid(Exception):
    def __init__(self, raw: RawCompletion, errors: str) -> None:
        self.raw = raw
        self.errors = errors


def client_settings(
    *,
    provider: str,
    env_prefix: str,
    api_key: str | None,
    base_url: str | None,
    http_client: httpx.AsyncClient | None,
    timeout: float,
    require_key: bool = True,
) -> dict[str, Any]:
    """Keyword arguments for an SDK client: key and base URL from the arguments or the
    environment (``{PREFIX}_API_KEY``, ``{PREFIX}_BASE_URL``), no SDK retries (ours
    wrap it), and the SDK's HTTP routed through ``http_client`` when one is given."""
    key = api_key or os.environ.get(f"{env_prefix}_API_KEY")
    if not key:
        if require_key:
            raise MissingAPIKey(f"no API key: set {env_prefix}_API_KEY", provider=provider)
        key = "not-needed"
    return {
        "api_key": key,
        "base_url": base_url or os.environ.get(f"{env_prefix}_BASE_URL") or None,
        "max_retries": 0,
        "timeout": timeout,
        "http_client": bridged_client(http_client, timeout) if http_client is not None else None,
    }


class ClientRing(Generic[C]):
    """Several SDK clients used in turn.

    Each SDK client keeps its own connection pool, whose bookkeeping grows with its
    size; spreading hundreds of concurrent calls over a few small pools keeps it cheap.
    """

    def __init__(self, make: Callable[[], C], size: int) -> None:
        if size < 1:
            raise ValueError("a client ring needs at least one client")
        self._clients = [make() for _ in range(size)]
        self._turn = 0

    def next(self) -> C:
        self._turn = (self._turn + 1) % len(self._clients)
        return self._clients[self._turn]


def map_sdk_error(sdk: Any, exc: Exception, *, provider: str, model: str) -> LLMError | None:
    """Translate an anthropic/openai SDK exception (same class names in both) into ours."""
    if isinstance(exc, sdk.AuthenticationError | sdk.PermissionDeniedError):
        return LLMAuthError(f"credentials refused ({exc.status_code})", provider=provider, model=model)
    if isinstance(exc, sdk.RateLimitError):
        return RateLimited(
            "rate limited (429)",
            retry_after=retry_after(exc.response.headers),
            provider=provider,
            model=model,
        )
    if isinstance(exc, sdk.APIStatusError):
        return ProviderError(
            f"HTTP {exc.status_code}",
            status=exc.status_code,
            retry_after=retry_after(exc.response.headers),
            provider=provider,
            model=model,
        )
    if isinstance(exc, sdk.APITimeoutError):
        return LLMTimeout("the request timed out", provider=provider, model=model)
    if isinstance(exc, sdk.APIConnectionError):
        return ProviderError(f"connection failed: {exc}", provider=provider, model=model)
    return None


def retry_after(headers: Any) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` (seconds), if present and numeric."""
    for key, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(key) if headers is not None else None
        if value is None:
            continue
        try:
            return max(0.0, float(value) * scale)
        except ValueError:
            continue
    return None


def schema_name(schema: type[BaseModel]) -> str:
    return schema.__name__
