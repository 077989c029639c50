"""Both providers mocked at the HTTP layer with respx, through the real SDKs.

How: the SDKs speak ``httpx2``, which respx does not patch, so each adapter takes
an ``httpx.AsyncClient`` and routes the SDK's traffic through it
(``adapters.bridged_client``); respx then intercepts that client as usual.
"""

from __future__ import annotations

import json
import random
from typing import Any

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from adapters import (
    AnthropicAdapter,
    CompletionRequest,
    InvalidOutput,
    LLMAuthError,
    LLMTimeout,
    MissingAPIKey,
    OpenAIAdapter,
    ProviderError,
    Retrying,
)
from adapters._provider import dumps_with

ANTHROPIC = "https://api.anthropic.test"
OPENAI = "https://api.openai.test/v1"


class Answer(BaseModel):
    verdict: bool
    score: int


def request() -> CompletionRequest[Answer]:
    return CompletionRequest(system="be terse", user="grade this", schema=Answer, model="gpt-4o-mini")


def anthropic_body(payload: Any, *, tool: bool = True) -> dict[str, Any]:
    block = (
        {"type": "tool_use", "id": "tu_1", "name": "respond", "input": payload}
        if tool
        else {"type": "text", "text": payload}
    )
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-20250514",
        "content": [block],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 100, "output_tokens": 20},
    }


def openai_body(content: str | None, *, tool_args: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_args is not None:
        message["tool_calls"] = [
            {"id": "c1", "type": "function", "function": {"name": "respond", "arguments": tool_args}}
        ]
    return {
        "id": "cmpl_1",
        "object": "chat.completion",
        "created": 0,
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 50, "completion_tokens": 10, "total_tokens": 60},
    }


class FakeSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def make(provider: str, client: httpx.AsyncClient, **kw: Any) -> Any:
    if provider == "anthropic":
        return AnthropicAdapter(api_key="sk-test", base_url=ANTHROPIC, http_client=client, **kw)
    return OpenAIAdapter(api_key="sk-test", base_url=OPENAI, http_client=client, **kw)


def route(provider: str, mock: respx.MockRouter) -> respx.Route:
    return (
        mock.post(f"{ANTHROPIC}/v1/messages")
        if provider == "anthropic"
        else mock.post(f"{OPENAI}/chat/completions")
    )


def ok(provider: str, payload: dict[str, Any]) -> httpx.Response:
    if provider == "anthropic":
        return httpx.Response(200, json=anthropic_body(payload))
    return httpx.Response(200, json=openai_body(json.dumps(payload)))


def garbage(provider: str) -> httpx.Response:
    if provider == "anthropic":
        return httpx.Response(200, json=anthropic_body("I think it is fine!", tool=False))
    return httpx.Response(200, json=openai_body("{not json"))


PROVIDERS = ["anthropic", "openai"]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_success_returns_validated_object_usage_and_cost(provider: str) -> None:
    async with httpx.AsyncClient() as client, respx.mock(assert_all_called=True) as mock:
        r = route(provider, mock).mock(return_value=ok(provider, {"verdict": True, "score": 7}))
        result = await make(provider, client).complete(request())
    assert result.value == Answer(verdict=True, score=7)
    assert result.usage.input_tokens > 0 and result.cost_usd > 0
    sent = json.loads(r.calls.last.request.content)
    if provider == "anthropic":
        assert sent["tool_choice"] == {"type": "tool", "name": "respond"}
        assert sent["tools"][0]["input_schema"]["properties"].keys() == {"verdict", "score"}
    else:
        assert sent["response_format"]["type"] == "json_schema"
    assert sent == make(provider, client).body(request())
    headers = r.calls.last.request.headers
    assert headers["content-type"] == "application/json"
    assert "sk-test" in headers.get("x-api-key", "") + headers.get("authorization", "")
    if provider == "anthropic":
        assert "anthropic-version" in headers
    assert "sk-test" not in repr(make(provider, client))


@pytest.mark.parametrize(
    ("provider", "mode"), [("anthropic", None), ("openai", "json_schema"), ("openai", "tools")]
)
async def test_the_repair_round_sends_the_bad_answer_and_the_errors_back(
    provider: str, mode: str | None
) -> None:
    kw = {"mode": mode} if mode else {}
    async with httpx.AsyncClient() as client, respx.mock() as mock:
        bad = garbage(provider)
        if mode == "tools":
            bad = httpx.Response(200, json=openai_body(None, tool_args="{not json"))
            good = httpx.Response(200, json=openai_body(None, tool_args='{"verdict": true, "score": 1}'))
        else:
            good = ok(provider, {"verdict": True, "score": 1})
        r = route(provider, mock).mock(side_effect=[bad, good])
        adapter = make(provider, client, **kw)
        result = await adapter.complete(request())
        first, second = (json.loads(call.request.content) for call in r.calls)
    assert result.repaired and result.value == Answer(verdict=True, score=1)
    assert first == adapter.body(request())
    repair = second["messages"][-2:]
    assert repair[0]["role"] == "assistant" and repair[1]["role"] == "user"
    assert "did not match the required JSON schema" in repair[1]["content"]
    assert second["messages"][:-2] == first["messages"]
    assert {k: v for k, v in second.items() if k != "messages"} == {
        k: v for k, v in first.items() if k != "messages"
    }


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_response_body_of_the_wrong_shape_is_a_provider_error(provider: str) -> None:
    async with httpx.AsyncClient() as client, respx.mock() as mock:
        route(provider, mock).mock(return_value=httpx.Response(200, json={"unexpected": True}))
        with pytest.raises(ProviderError, match="unexpected response body"):
            await make(provider, client).complete(request())


async def test_openai_tools_mode_parses_the_function_arguments() -> None:
    async with httpx.AsyncClient() as client, respx.mock() as mock:
        mock.post(f"{OPENAI}/chat/completions").mock(
            return_value=httpx.Response(
                200, json=openai_body(None, tool_args='{"verdict": false, "score": 2}')
            )
        )
        result = await make("openai", client, mode="tools").complete(request())
    assert result.value == Answer(verdict=False, score=2)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_malformed_output_gets_one_repair_round(provider: str) -> None:
    async with httpx.AsyncClient() as client, respx.mock() as mock:
        r = route(provider, mock).mock(
            side_effect=[garbage(provider), ok(provider, {"verdict": True, "score": 1})]
        )
        result = await make(provider, client).complete(request())
    assert result.repaired and result.value.score == 1
    assert "did not match" in r.calls.last.request.content.decode()


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_still_malformed_after_repair_is_a_typed_error_with_the_raw_text(provider: str) -> None:
    async with httpx.AsyncClient() as client, respx.mock() as mock:
        route(provider, mock).mock(side_effect=[garbage(provider), garbage(provider)])
        with pytest.raises(InvalidOutput) as info:
            await make(provider, client).complete(request())
    assert info.value.raw_text and "Answer" in str(info.value)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_429_then_success_waits_as_told_by_retry_after(provider: str) -> None:
    sleep = FakeSleep()
    async with httpx.AsyncClient() as client, respx.mock() as mock:
        route(provider, mock).mock(
            side_effect=[
                httpx.Response(429, headers={"retry-after": "3"}, json={"error": {"message": "slow down"}}),
                ok(provider, {"verdict": True, "score": 5}),
            ]
        )
        result = await Retrying(make(provider, client), sleep=sleep).complete(request())
    assert result.value.score == 5 and sleep.calls == [3.0]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_500s_until_retries_run_out_raise_provider_error_with_attempts(provider: str) -> None:
    sleep = FakeSleep()
    async with httpx.AsyncClient() as client, respx.mock() as mock:
        r = route(provider, mock).mock(return_value=httpx.Response(500, json={"error": {"message": "boom"}}))
        with pytest.raises(ProviderError) as info:
            await Retrying(
                make(provider, client), max_attempts=3, sleep=sleep, rng=random.Random(1)
            ).complete(request())
    assert info.value.attempts == 3 and info.value.status == 500 and r.call_count == 3
    assert len(sleep.calls) == 2 and sleep.calls[0] < sleep.calls[1] * 2


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_transport_timeouts_become_llm_timeout(provider: str) -> None:
    async with httpx.AsyncClient() as client, respx.mock() as mock:
        route(provider, mock).mock(side_effect=httpx.ReadTimeout("too slow"))
        with pytest.raises(LLMTimeout):
            await make(provider, client).complete(request())


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_401_is_an_auth_error_and_is_not_retried(provider: str) -> None:
    sleep = FakeSleep()
    async with httpx.AsyncClient() as client, respx.mock() as mock:
        r = route(provider, mock).mock(
            return_value=httpx.Response(401, json={"error": {"message": "bad key"}})
        )
        with pytest.raises(LLMAuthError):
            await Retrying(make(provider, client), sleep=sleep).complete(request())
    assert r.call_count == 1 and sleep.calls == []


@pytest.mark.parametrize(
    ("cls", "var"), [(AnthropicAdapter, "ANTHROPIC_API_KEY"), (OpenAIAdapter, "OPENAI_API_KEY")]
)
def test_missing_key_names_the_variable(monkeypatch: pytest.MonkeyPatch, cls: type, var: str) -> None:
    monkeypatch.delenv(var, raising=False)
    with pytest.raises(MissingAPIKey, match=var):
        cls()


@given(
    body=st.dictionaries(
        st.text(max_size=8), st.one_of(st.integers(), st.text(max_size=12), st.none()), max_size=4
    ),
    extra=st.dictionaries(
        st.text(max_size=8),
        st.recursive(
            st.one_of(st.integers(), st.booleans(), st.text(max_size=6)), lambda c: st.lists(c, max_size=3)
        ),
        max_size=3,
    ),
)
def test_splicing_pre_encoded_values_gives_the_same_json_as_encoding_everything(
    body: dict[str, Any], extra: dict[str, Any]
) -> None:
    body = {k: v for k, v in body.items() if k not in extra}
    encoded = tuple((k, json.dumps(v).encode()) for k, v in extra.items())
    assert json.loads(dumps_with(body, encoded)) == {**body, **extra}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_transport_is_aiohttp_unless_a_proxy_is_configured(
    provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    cls = AnthropicAdapter if provider == "anthropic" else OpenAIAdapter

    def transport_of(adapter: Any) -> str:
        return type(adapter._client._client._transport).__name__

    assert transport_of(cls(api_key="k")) == "AiohttpTransport"
    assert transport_of(cls(api_key="k", transport="httpx")) == "AsyncHTTPTransport"
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    assert transport_of(cls(api_key="k")) != "AiohttpTransport"
    assert transport_of(cls(api_key="k", transport="aiohttp")) == "AiohttpTransport"
    with pytest.raises(ValueError, match="transport"):
        cls(api_key="k", transport="carrier-pigeon")
