"""Composable wrappers written once for every provider: retries with backoff, a concurrency limit."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import replace

import anyio

from adapters._errors import LLMError, LLMTimeout, ProviderError, RateLimited
from adapters._types import Completion, CompletionRequest, LLMAdapter, T, close_adapter, warm_adapter


def retryable(exc: LLMError) -> bool:
    """429, 408, 5xx, timeouts and connection failures are worth another try; other errors are not."""
    if isinstance(exc, RateLimited | LLMTimeout):
        return True
    if isinstance(exc, ProviderError):
        return exc.status is None or exc.status == 408 or exc.status >= 500
    return False


class Retrying:
    """Retry transient failures with exponential backoff and jitter, honouring ``retry-after``.

    delay(n) = min(max_delay, base_delay·2^(n−1))·U(0.5, 1), or the provider's
    ``retry-after`` when it sends one. After ``max_attempts`` the last error is
    raised (a ProviderError carries the attempt count).
    """

    def __init__(
        self,
        inner: LLMAdapter,
        *,
        max_attempts: int = 4,
        base_delay: float = 0.5,
        max_delay: float = 8.0,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.inner = inner
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.rng = rng or random.Random(0)
        self.sleep = sleep

    async def complete(self, request: CompletionRequest[T]) -> Completion[T]:
        """The answer, whose ``rate_limited`` (like an error's, when it fails) counts the 429s met."""
        attempt = refusals = 0
        while True:
            attempt += 1
            try:
                completion = await self.inner.complete(request)
                return replace(completion, rate_limited=refusals) if refusals else completion
            except LLMError as exc:
                refusals += isinstance(exc, RateLimited) or getattr(exc, "status", None) == 429
                if not retryable(exc) or attempt >= self.max_attempts:
                    exc.rate_limited = refusals  # type: ignore[attr-defined]
                    if isinstance(exc, ProviderError):
                        exc.attempts = attempt
                    elif isinstance(exc, RateLimited) and attempt > 1:
                        still = ProviderError(
                            f"still rate limited after {attempt} attempts",
                            status=429,
                            attempts=attempt,
                            provider=exc.provider,
                            model=exc.model,
                        )
                        still.rate_limited = refusals  # type: ignore[attr-defined]
                        raise still from exc
                    raise
                hint = getattr(exc, "retry_after", None)
                delay = (
                    hint
                    if hint is not None
                    else min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
                    * (0.5 + 0.5 * self.rng.random())
                )
                await self.sleep(min(delay, self.max_delay))

    async def aclose(self) -> None:
        await close_adapter(self.inner)


class Limited:
    """At most ``max_concurrency`` requests in flight through this adapter."""

    def __init__(self, inner: LLMAdapter, max_concurrency: int = 64) -> None:
        self.inner = inner
        self.limiter = anyio.CapacityLimiter(max_concurrency)

    async def complete(self, request: CompletionRequest[T]) -> Completion[T]:
        async with self.limiter:
            return await self.inner.complete(request)

    async def warm(self, connections: int) -> int:
        """Open connections ahead of the first requests: no more than may be in flight at once."""
        return await warm_adapter(self.inner, min(connections, int(self.limiter.total_tokens)))

    async def aclose(self) -> None:
        await close_adapter(self.inner)
