"""Anthropic Messages API through the official async SDK; structured output by forced tool use."""

from __future__ import annotations

import copy
import functools
import json
from typing import TYPE_CHECKING, Any

import anthropic as sdk
import httpx2
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
PATH = "/v1/messages"


class _Block(BaseModel):
    type: str
    text: str | None = None
    input: Any = None


class _Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0


class _Message(BaseModel):
    """The part of a Messages API response the adapter reads."""

    content: list[_Block]
    usage: _Usage | None = None


@functools.lru_cache(maxsize=256)
def _structured(schema: type[BaseModel]) -> dict[str, Any]:
    """The body fields forcing a tool call whose input matches ``schema``."""
    return {
        "tools": [
            {
                "name": TOOL,
                "description": f"Answer with a {schema.__name__}.",
                "input_schema": schema_of(schema),
            }
        ],
        "tool_choice": {"type": "tool", "name": TOOL},
    }


class AnthropicAdapter(ProviderAdapter):
    """Claude models. The key comes from ``ANTHROPIC_API_KEY`` (or ``api_key``), never logged.

    The current Messages API takes no sampling temperature, so ``request.temperature``
    is not sent (it still takes part in the cassette key). Requests go through the
    SDK client's ``post`` (auth, version header, base URL, timeouts and status errors
    are the SDK's); the body is built here and the response read into a small model
    of the fields used, as in :class:`~adapters.OpenAIAdapter`.
    """

    provider = "anthropic"

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        timeout: float = 30.0,
        prices: PriceTable | None = None,
        meter: UsageMeter | None = None,
        transport: Transport = "auto",
    ) -> None:
        super().__init__(timeout=timeout, prices=prices, meter=meter)
        settings = client_settings(
            sdk=sdk,
            provider=self.provider,
            env_prefix="ANTHROPIC",
            api_key=api_key,
            base_url=base_url,
            http_client=http_client,
            timeout=timeout,
            transport=transport,
        )
        self._client = sdk.AsyncAnthropic(**settings)
        self._warmable = http_client is None
        # An absolute URL: the SDK then skips re-deriving it from the base URL on every call.
        self._url = str(self._client.base_url).rstrip("/") + PATH

    def __repr__(self) -> str:
        return f"AnthropicAdapter(base_url={str(self._client.base_url)!r})"

    def body(self, request: CompletionRequest[Any], repair: tuple[str, str] | None = None) -> dict[str, Any]:
        """The JSON body of the Messages API request for ``request``."""
        return {**self._base(request, repair), **copy.deepcopy(_structured(request_schema(request)))}

    def _base(self, request: CompletionRequest[Any], repair: tuple[str, str] | None) -> dict[str, Any]:
        messages: list[dict[str, Any]] = [{"role": "user", "content": request.user}]
        if repair is not None:
            messages += [
                {"role": "assistant", "content": repair[0] or "(no output)"},
                {"role": "user", "content": REPAIR_PROMPT.format(errors=repair[1])},
            ]
        return {
            "model": request.model,
            "max_tokens": request.max_tokens,
            "system": request.system,
            "messages": messages,
        }

    async def _call(self, request: CompletionRequest[Any], repair: tuple[str, str] | None) -> RawCompletion:
        response = await self._client.post(
            self._url,
            cast_to=httpx2.Response,
            content=dumps_with(
                self._base(request, repair), encoded_fields(_structured, request_schema(request))
            ),
        )
        message = parse_body(_Message, response, provider=self.provider, request_model=request.model)
        tool = next((b for b in message.content if b.type == "tool_use"), None)
        if tool is not None:
            text = json.dumps(tool.input, sort_keys=True)
        else:
            text = "".join(b.text or "" for b in message.content)
        u = message.usage
        usage = Usage(u.input_tokens, u.output_tokens) if u is not None else Usage()
        return RawCompletion(text=text, usage=usage, model=request.model)

    def _map_error(self, exc: Exception, model: str) -> LLMError | None:
        return map_sdk_error(sdk, exc, provider=self.provider, model=model)
