"""Client-side rate limits: requests and tokens per minute, per provider and model.

Requests per minute ``N`` are spaced: at most one in any ``60 / N`` seconds
(1200 a minute: one every 50 ms), so no minute — and no second — ever holds more
than its share, and the provider sees the requests as evenly as they were sent
(a burst taken at once would leave the client over a CPU-bound stretch and
reach the provider bunched with the next). Tokens per minute are counted over a
sliding window of a whole minute (a request's size varies too much for shorter
ones); a request whose token estimate alone exceeds the limit waits until the
window is empty and goes alone.

Written here rather than taken from a library: the limiter runs on anyio (not
only asyncio), is paused as a whole by a provider's ``retry-after``, and
corrects a token estimate once the answer reports the real usage.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio

from adapters._errors import LLMError, ProviderError, RateLimited
from adapters._types import Completion, CompletionRequest, LLMAdapter, T, close_adapter, warm_adapter


@dataclass(frozen=True)
class RateLimit:
    """Requests and/or tokens per minute (``None``: no limit of that kind)."""

    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None

    def __post_init__(self) -> None:
        for name in ("requests_per_minute", "tokens_per_minute"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a positive whole number, got {value!r}")

    def divided(self, parts: int) -> RateLimit:
        """This limit shared out over ``parts`` independent senders (rounded down, at least 1 each)."""

        def share(x: int | None) -> int | None:
            return None if x is None else max(1, x // parts)

        return RateLimit(share(self.requests_per_minute), share(self.tokens_per_minute))


class SlidingWindow:
    """At most one unit in any ``60 / per_minute`` seconds, or with ``whole_minute`` at most
    ``per_minute`` units in any 60 seconds.

    ``clock`` gives monotonic seconds (replaceable in tests). Not thread-safe: it
    serves the coroutines of one event loop, where checking and taking happen
    without a suspension point between them.
    """

    def __init__(
        self, per_minute: int, clock: Callable[[], float] = time.monotonic, *, whole_minute: bool = False
    ) -> None:
        if per_minute < 1:
            raise ValueError(f"a rate limit must be at least 1 per minute, got {per_minute}")
        g = 1 if whole_minute else per_minute
        self.window = 60.0 / g
        self.allowance = per_minute // g
        self.clock = clock
        self._log: deque[list[float]] = deque()  # [time taken, amount]
        self._used = 0.0

    def _expire(self, now: float) -> None:
        log = self._log
        while log and log[0][0] <= now - self.window:
            self._used -= log.popleft()[1]

    def wait_for(self, amount: float, now: float | None = None) -> float:
        """Seconds until ``amount`` fits in the window (0: it fits now)."""
        now = self.clock() if now is None else now
        self._expire(now)
        if not self._log or self._used + amount <= self.allowance:
            return 0.0
        need = self._used + min(amount, self.allowance) - self.allowance
        freed = 0.0
        for at, taken in self._log:
            freed += taken
            if freed >= need - 1e-9:
                return max(at + self.window - now, 1e-6)
        return max(self._log[-1][0] + self.window - now, 1e-6)  # pragma: no cover - freed reaches need

    def take(self, amount: float, now: float | None = None) -> list[float]:
        """Record ``amount`` as taken now; the entry can be corrected later with :meth:`correct`."""
        entry = [self.clock() if now is None else now, amount]
        self._log.append(entry)
        self._used += amount
        return entry

    def correct(self, entry: list[float], amount: float) -> None:
        """Replace a taken entry's amount (a token estimate by the real count), if still in the window."""
        if self._log and entry[0] >= self._log[0][0]:
            self._used += amount - entry[1]
        entry[1] = amount


class RateLimiter:
    """The windows of one limit (requests, tokens), paused as a whole by ``retry-after``."""

    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.clock = clock
        self.requests = SlidingWindow(limit.requests_per_minute, clock) if limit.requests_per_minute else None
        self.tokens = (
            SlidingWindow(limit.tokens_per_minute, clock, whole_minute=True)
            if limit.tokens_per_minute
            else None
        )
        self.paused_until = 0.0

    def wait_for(self, tokens: float) -> float:
        now = self.clock()
        wait = self.paused_until - now
        if self.requests is not None:
            wait = max(wait, self.requests.wait_for(1, now))
        if self.tokens is not None:
            wait = max(wait, self.tokens.wait_for(tokens, now))
        return max(wait, 0.0)

    def take(self, tokens: float) -> list[float] | None:
        now = self.clock()
        if self.requests is not None:
            self.requests.take(1, now)
        return self.tokens.take(tokens, now) if self.tokens is not None else None

    def pause(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (a provider's ``retry-after``)."""
        self.paused_until = max(self.paused_until, self.clock() + seconds)


def estimate_tokens(request: CompletionRequest[Any]) -> int:
    """Tokens a request may use before it is answered: its text / 4, plus its ``max_tokens``."""
    return (len(request.system) + len(request.user)) // 4 + request.max_tokens


class Throttled:
    """Hold each request (each attempt, inside :class:`~adapters.Retrying`) until the limits allow it.

    ``limits`` maps a model to its limit; the key ``None`` is the limit shared by
    every model of this adapter's provider. A 429's ``retry-after`` pauses the
    limiters the request went through, so every request waits, not only the
    refused one.
    """

    def __init__(
        self,
        inner: LLMAdapter,
        limits: Mapping[str | None, RateLimit],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] = anyio.sleep,
    ) -> None:
        self.inner = inner
        self.clock = clock
        self.sleep = sleep
        self._limiters = {model: RateLimiter(limit, clock) for model, limit in limits.items()}

    def _for(self, model: str) -> list[RateLimiter]:
        found = [self._limiters[k] for k in (None, model) if k in self._limiters]
        return found

    async def complete(self, request: CompletionRequest[T]) -> Completion[T]:
        limiters = self._for(request.model)
        if not limiters:
            return await self.inner.complete(request)
        estimate = estimate_tokens(request)
        while True:
            wait = max(lim.wait_for(estimate) for lim in limiters)
            if wait <= 0:
                break
            await self.sleep(wait)
        entries = [(lim, lim.take(estimate)) for lim in limiters]
        try:
            completion = await self.inner.complete(request)
        except LLMError as exc:
            hint = getattr(exc, "retry_after", None)
            refused = isinstance(exc, RateLimited) or (isinstance(exc, ProviderError) and exc.status == 429)
            if refused and hint:
                for lim in limiters:
                    lim.pause(hint)
            raise
        used = completion.usage.input_tokens + completion.usage.output_tokens
        for lim, entry in entries:
            if entry is not None and lim.tokens is not None:
                lim.tokens.correct(entry, used)
        return completion

    async def warm(self, connections: int) -> int:
        return await warm_adapter(self.inner, connections)

    async def aclose(self) -> None:
        await close_adapter(self.inner)
