"""Client-side rate limits: the sliding windows never let a minute (or its share) hold more than the
limit, a provider's retry-after holds every request, and the mock server refuses past its rate."""

from __future__ import annotations

import bisect
from typing import Any

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from adapters import (
    Completion,
    CompletionRequest,
    OpenAIAdapter,
    RateLimit,
    RateLimited,
    Throttled,
    Usage,
)
from adapters._ratelimit import SlidingWindow
from adapters.mock_server import MockRequest, create_app, serve


class Answer(BaseModel):
    word: str


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def admit(window: SlidingWindow, clock: FakeClock, arrivals: list[float], amounts: list[int]) -> list[float]:
    """Admit requests first come, first served, as concurrent callers would; the times they go out."""
    times = []
    for arrival, amount in zip(arrivals, amounts, strict=True):
        clock.now = max(clock.now, arrival)
        while (wait := window.wait_for(amount)) > 0:
            clock.now += wait
        window.take(amount)
        times.append(clock.now)
    return times


@settings(max_examples=150, deadline=None)
@given(
    per_minute=st.integers(1, 5000),
    gaps=st.lists(st.floats(0, 3, allow_nan=False), min_size=1, max_size=80),
    whole_minute=st.booleans(),
    data=st.data(),
)
def test_no_window_of_the_limit_ever_holds_more_than_its_allowance(
    per_minute: int, gaps: list[float], whole_minute: bool, data: Any
) -> None:
    clock = FakeClock()
    window = SlidingWindow(per_minute, clock, whole_minute=whole_minute)
    size = st.integers(1, 50) if whole_minute else st.just(1)  # tokens vary, requests count 1 each
    amounts = data.draw(st.lists(size, min_size=len(gaps), max_size=len(gaps)))
    arrivals = [sum(gaps[: k + 1]) for k in range(len(gaps))]
    times = admit(window, clock, arrivals, amounts)
    assert window.window * (per_minute // window.allowance) == pytest.approx(60.0)
    for k, start in enumerate(times):
        end = bisect.bisect_left(times, start + window.window - 1e-9)
        used = sum(amounts[k:end])
        assert used <= window.allowance or end - k == 1  # an oversize request goes alone
    # and whole minutes never hold more than the per-minute limit (unless a request alone is larger
    # than a window's allowance: requests never are, token estimates may be)
    for k, start in enumerate(times):
        end = bisect.bisect_left(times, start + 60.0 - 1e-9)
        oversize = any(a > window.allowance for a in amounts[k:end])
        assert sum(amounts[k:end]) <= per_minute or end - k == 1 or oversize


def test_the_window_follows_the_limit_and_bad_limits_are_refused() -> None:
    assert (SlidingWindow(1200).window, SlidingWindow(1200).allowance) == (0.05, 1)
    assert (
        SlidingWindow(1200, whole_minute=True).window,
        SlidingWindow(1200, whole_minute=True).allowance,
    ) == (
        60.0,
        1200,
    )
    assert (SlidingWindow(30).window, SlidingWindow(30).allowance) == (2.0, 1)
    with pytest.raises(ValueError, match="at least 1 per minute"):
        SlidingWindow(0)
    with pytest.raises(ValueError, match="requests_per_minute must be a positive whole number"):
        RateLimit(requests_per_minute=0)
    assert RateLimit(100, 1000).divided(3) == RateLimit(33, 333)
    assert RateLimit(2, None).divided(5) == RateLimit(1, None)


class Refusing:
    """Answers 429 with retry-after to its first ``refusals`` requests, then answers."""

    def __init__(self, clock: FakeClock, refusals: int, retry_after: float) -> None:
        self.clock = clock
        self.refusals = refusals
        self.retry_after = retry_after
        self.sent: list[float] = []

    async def complete(self, request: CompletionRequest[Any]) -> Completion[Any]:
        self.sent.append(self.clock.now)
        if len(self.sent) <= self.refusals:
            raise RateLimited("rate limited (429)", retry_after=self.retry_after)
        return Completion(Answer(word="x"), '{"word":"x"}', Usage(10, 5), 0.0, 0.0, request.model)


def request(model: str = "m", user: str = "u") -> CompletionRequest[Answer]:
    return CompletionRequest(system="s", user=user, schema=Answer, model=model, max_tokens=10)


async def test_retry_after_holds_every_request_of_the_provider_not_only_the_refused_one() -> None:
    clock = FakeClock()
    inner = Refusing(clock, refusals=1, retry_after=2.5)
    throttled = Throttled(inner, {None: RateLimit(requests_per_minute=6000)}, clock=clock, sleep=clock.sleep)
    with pytest.raises(RateLimited):
        await throttled.complete(request())
    await throttled.complete(request(user="another"))
    assert inner.sent == [0.0, 2.5]


async def test_tokens_per_minute_hold_requests_and_the_estimate_is_corrected_by_the_real_count() -> None:
    clock = FakeClock()
    inner = Refusing(clock, refusals=0, retry_after=0)
    # 60 tokens a minute: one token a second; a request is estimated at 10 + 2 / 4 = 10 tokens
    # and really uses 15, so the next must wait until those 15 have left the one-minute window.
    throttled = Throttled(inner, {"m": RateLimit(tokens_per_minute=60)}, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        await throttled.complete(request())
    assert inner.sent[:4] == [0.0, 0.0, 0.0, 0.0] and inner.sent[4] == pytest.approx(60.0)
    other = Throttled(
        inner, {"other-model": RateLimit(requests_per_minute=1)}, clock=clock, sleep=clock.sleep
    )
    before = len(inner.sent)
    for _ in range(3):  # a limit on another model does not hold this one
        await other.complete(request())
    assert inner.sent[before:] == [clock.now] * 3


def word(req: MockRequest) -> dict[str, Any]:
    return {"word": "ok"}


async def test_the_mock_server_refuses_past_its_rate_with_retry_after_and_the_adapter_reads_it() -> None:
    import httpx

    app = create_app(word, rate_limit_rpm=120)  # at most one in any half second
    async with anyio.create_task_group() as tg:
        server = await serve(app, tg)
        body = {"model": "m", "messages": [{"role": "user", "content": "a"}]}
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            codes = [(await client.post("/v1/messages", json=body)) for _ in range(3)]
        adapter = OpenAIAdapter(api_key="k", base_url=f"{server.base_url}/v1")
        async with adapter:
            with pytest.raises(RateLimited) as info:
                await adapter.complete(request())
        await server.close()
    assert [r.status_code for r in codes] == [200, 429, 429]
    wait_ms = int(codes[2].headers["retry-after-ms"])
    assert 0 < wait_ms <= 500
    assert info.value.retry_after is not None and 0 < info.value.retry_after <= 0.5
    assert app.stats == {"requests": 4, "faults": 0, "rate_limited": 3}
    assert len(app.request_times) == 4 and app.request_times == sorted(app.request_times)
