"""Shared machinery of the provider adapters: structured output, one repair round, cost, error mapping."""

from __future__ import annotations

import functools
import json
import os
import time
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import anyio
import httpx2
from pydantic import BaseModel, ValidationError

from adapters._credentials import api_key_for
from adapters._errors import (
    InvalidOutput,
    LLMAuthError,
    LLMError,
    LLMTimeout,
    ProviderError,
    RateLimited,
)
from adapters._pricing import PriceTable, UsageMeter
from adapters._types import Completion, CompletionRequest, RawCompletion, T, Usage

if TYPE_CHECKING:
    import httpx

B = TypeVar("B", bound=BaseModel)
A = TypeVar("A", bound="ProviderAdapter")

REPAIR_PROMPT = (
    "Your previous output did not match the required JSON schema.\n"
    "Validation errors:\n{errors}\n"
    "Answer again with output that matches the schema exactly."
)


WARM_TIMEOUT = 10.0
"""The longest :meth:`ProviderAdapter.warm` waits for its connections (seconds)."""


class ProviderAdapter:
    """Base of the provider adapters: subclasses implement :meth:`_call` and :meth:`_map_error`."""

    provider = "provider"
    models_path = "/v1/models"
    """The provider's model list, relative to the client's base URL (what :meth:`warm` asks for)."""
    _warmable = True

    def __init__(
        self, *, timeout: float, prices: PriceTable | None = None, meter: UsageMeter | None = None
    ) -> None:
        self.timeout = timeout
        self.prices = prices or PriceTable.default()
        self.meter = meter or UsageMeter()

    _client: Any

    async def aclose(self) -> None:
        """Close the SDK client and its connections."""
        await self._client.close()

    async def warm(self, connections: int) -> int:
        """Open up to ``connections`` connections before the first requests need them.

        Sends as many concurrent GETs of the provider's model list (``/v1/models``,
        which OpenAI, Anthropic and OpenAI-compatible servers answer cheaply and
        without cost) through the SDK client, so its pool holds open connections
        when the first step's requests start. Returns how many were answered (with
        any status). Best effort: waits at most the request timeout (and 10 s),
        never raises for network errors, and does nothing when an ``http_client``
        was injected (tests mock exactly the routes they expect).
        """
        if connections < 1 or not self._warmable:
            return 0
        url = str(self._client.base_url).rstrip("/") + self.models_path
        answered = 0

        async def one() -> None:
            nonlocal answered
            try:
                await self._client.get(url, cast_to=httpx2.Response)
                answered += 1
            except Exception as exc:
                # An error status still means the server answered over an open connection.
                answered += getattr(exc, "status_code", None) is not None

        with anyio.move_on_after(min(self.timeout, WARM_TIMEOUT)):
            async with anyio.create_task_group() as tg:
                for _ in range(connections):
                    tg.start_soon(one)
        return answered

    async def __aenter__(self: A) -> A:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

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
                    input_tokens=usage.input_tokens,
                    output_tokens=usage.output_tokens,
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


Transport = Literal["auto", "aiohttp", "httpx"]
"""How the SDK client reaches the network: the SDK's aiohttp transport, its default
httpx2 one, or ``auto`` (aiohttp unless an HTTP proxy is configured in the environment,
which only the httpx2 transport honours)."""

_PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


def request_schema(request: CompletionRequest[Any]) -> type[BaseModel]:
    """The request's schema class (typed for the per-schema caches)."""
    schema: type[BaseModel] = request.schema
    return schema


@functools.lru_cache(maxsize=512)
def encoded_fields(fields: Callable[..., dict[str, Any]], *key: Hashable) -> tuple[tuple[str, bytes], ...]:
    """``fields(*key)`` with each value encoded to JSON once (for :func:`dumps_with`)."""
    return tuple((name, dumps(value)) for name, value in fields(*key).items())


def client_settings(
    *,
    sdk: Any,
    provider: str,
    env_prefix: str,
    api_key: str | None,
    base_url: str | None,
    http_client: httpx.AsyncClient | None,
    timeout: float,
    transport: Transport = "auto",
    require_key: bool = True,
) -> dict[str, Any]:
    """Keyword arguments for an SDK client: key and base URL from the arguments or the
    environment (``{PREFIX}_API_KEY``, ``{PREFIX}_BASE_URL``), no SDK retries (ours
    wrap it), and the HTTP transport.

    With ``http_client`` every request goes through it (so respx can mock it);
    otherwise the SDK's aiohttp transport is used where :data:`Transport` says so:
    its connection pool stays cheap with hundreds of concurrent requests, where the
    default pool's bookkeeping grows with every open connection.
    """
    if transport not in ("auto", "aiohttp", "httpx"):
        raise ValueError(f"transport must be 'auto', 'aiohttp' or 'httpx', got {transport!r}")
    key = api_key_for(provider=provider, env_prefix=env_prefix, api_key=api_key, required=require_key)
    client: Any = None
    if http_client is not None:
        from adapters._http import bridged_client  # httpx is imported only for an injected client

        client = bridged_client(http_client, timeout)
    elif transport == "aiohttp" or (transport == "auto" and not any(os.environ.get(v) for v in _PROXY_VARS)):
        client = sdk.DefaultAioHttpClient(timeout=timeout)
    return {
        "api_key": key,
        "base_url": base_url or os.environ.get(f"{env_prefix}_BASE_URL") or None,
        "max_retries": 0,
        "timeout": timeout,
        "http_client": client,
    }


def dumps(body: dict[str, Any]) -> bytes:
    """A request body as compact JSON bytes."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def dumps_with(body: dict[str, Any], encoded: tuple[tuple[str, bytes], ...]) -> bytes:
    """``dumps(body)`` with more keys whose values are JSON already (``(key, json_bytes)`` pairs).

    The structured-output schema is the same for every request of a kind and larger
    than the prompt; encoding it once per schema instead of once per request matters
    when hundreds of agents call at once.
    """
    head = dumps(body)
    if not encoded:
        return head
    parts = [head[:-1]] if len(body) else [b"{"]
    for k, (key, value) in enumerate(encoded):
        parts.append(b"," if (k or len(body)) else b"")
        parts.append(json.dumps(key).encode() + b":" + value)
    parts.append(b"}")
    return b"".join(parts)


def parse_body(model: type[B], response: httpx2.Response, *, provider: str, request_model: str) -> B:
    """A provider's response body read into ``model``; a body of the wrong shape is a ProviderError."""
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise ProviderError(
            f"unexpected response body (HTTP {response.status_code}): {where}: {first['msg']}",
            status=response.status_code,
            provider=provider,
            model=request_model,
        ) from None


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
