"""OpenAI chat completions (and OpenAI-compatible servers: Ollama, vLLM) through the official async SDK."""

from __future__ import annotations

import copy
import functools
from typing import TYPE_CHECKING, Any, Literal

import httpx2
import openai as sdk
from pydantic import BaseModel

from adapters._errors import LLMError
from adapters._pricing import PriceTable, UsageMeter
from adapters._provider import (
    REPAIR_PROMPT,
    ProviderAdapter,
    Transport,
    client_settings,
    dumps_with,
    encoded_fields,
    map_sdk_error,
    parse_body,
    request_schema,
)
from adapters._types import CompletionRequest, RawCompletion, Usage, schema_of

if TYPE_CHECKING:
    import httpx

TOOL = "respond"
PATH = "/chat/completions"


class _Function(BaseModel):
    arguments: str = ""


class _ToolCall(BaseModel):
    function: _Function


class _Message(BaseModel):
    content: str | None = None
    tool_calls: list[_ToolCall] | None = None


class _Choice(BaseModel):
    message: _Message


class _Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class _ChatCompletion(BaseModel):
    """The part of a chat completion the adapter reads."""

    choices: list[_Choice]
    usage: _Usage | None = None


class OpenAIAdapter(ProviderAdapter):
    """Structured output by JSON-schema response format (``mode="json_schema"``) or a forced tool call.

    The key comes from ``OPENAI_API_KEY`` (or ``api_key``). With ``base_url`` (or
    ``OPENAI_BASE_URL``) it talks to any OpenAI-compatible server; local servers
    that need no key get a placeholder one.

    Requests go through the SDK client's ``post`` (auth, base URL, headers, timeouts
    and status errors are the SDK's); the body is built here and the response read
    into a small model of the fields used, skipping the SDK's per-call parameter
    transform and response model construction, which cost more CPU than the HTTP
    exchange when hundreds of agents call at once.
    """

    provider = "openai"
    models_path = "/models"  # the base URL ends in /v1

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        timeout: float = 30.0,
        mode: Literal["json_schema", "tools"] = "json_schema",
        prices: PriceTable | None = None,
        meter: UsageMeter | None = None,
        transport: Transport = "auto",
        require_key: bool = True,
    ) -> None:
        super().__init__(timeout=timeout, prices=prices, meter=meter)
        if mode not in ("json_schema", "tools"):
            raise ValueError(f"mode must be 'json_schema' or 'tools', got {mode!r}")
        self.mode = mode
        settings = client_settings(
            sdk=sdk,
            provider=self.provider,
            env_prefix="OPENAI",
            api_key=api_key,
            base_url=base_url,
            http_client=http_client,
            timeout=timeout,
            transport=transport,
            require_key=require_key,
        )
        self._client = sdk.AsyncOpenAI(**settings)
        self._warmable = http_client is None
        # An absolute URL: the SDK then skips re-deriving it from the base URL on every call.
        self._url = str(self._client.base_url).rstrip("/") + PATH

    def __repr__(self) -> str:
        return f"OpenAIAdapter(base_url={str(self._client.base_url)!r}, mode={self.mode!r})"

    def body(self, request: CompletionRequest[Any], repair: tuple[str, str] | None = None) -> dict[str, Any]:
        """The JSON body of the chat completion request for ``request``."""
        return {
            **self._base(request, repair),
            **copy.deepcopy(_structured(request_schema(request), self.mode)),
        }

    def _base(self, request: CompletionRequest[Any], repair: tuple[str, str] | None) -> dict[str, Any]:
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": request.system},
            {"role": "user", "content": request.user},
        ]
        if repair is not None:
            messages += [
                {"role": "assistant", "content": repair[0] or "(no output)"},
                {"role": "user", "content": REPAIR_PROMPT.format(errors=repair[1])},
            ]
        return {
            "model": request.model,
            "messages": messages,
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
        }

    async def _call(self, request: CompletionRequest[Any], repair: tuple[str, str] | None) -> RawCompletion:
        content = dumps_with(
            self._base(request, repair), encoded_fields(_structured, request_schema(request), self.mode)
        )
        response = await self._client.post(self._url, cast_to=httpx2.Response, content=content)
        completion = parse_body(
            _ChatCompletion, response, provider=self.provider, request_model=request.model
        )
        if not completion.choices:
            return RawCompletion(text="", usage=_usage(completion), model=request.model)
        message = completion.choices[0].message
        if self.mode == "tools" and message.tool_calls:
            text = message.tool_calls[0].function.arguments
        else:
            text = message.content or ""
        return RawCompletion(text=text, usage=_usage(completion), model=request.model)

    def _map_error(self, exc: Exception, model: str) -> LLMError | None:
        return map_sdk_error(sdk, exc, provider=self.provider, model=model)


@functools.lru_cache(maxsize=256)
def _structured(schema: type[BaseModel], mode: str) -> dict[str, Any]:
    """The body fields asking for output matching ``schema`` (the same for every request)."""
    spec = schema_of(schema)
    if mode == "tools":
        return {
            "tools": [{"type": "function", "function": {"name": TOOL, "parameters": spec}}],
            "tool_choice": {"type": "function", "function": {"name": TOOL}},
        }
    return {
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": schema.__name__, "schema": spec, "strict": False},
        }
    }


def _usage(completion: _ChatCompletion) -> Usage:
    u = completion.usage
    return Usage(u.prompt_tokens, u.completion_tokens) if u is not None else Usage()
