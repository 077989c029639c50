"""OpenAI chat completions (and OpenAI-compatible servers: Ollama, vLLM) through the official async SDK."""

from __future__ import annotations

from typing import Any, Literal

import httpx
import openai as sdk

from adapters._errors import LLMError
from adapters._pricing import PriceTable, UsageMeter
from adapters._provider import REPAIR_PROMPT, ClientRing, ProviderAdapter, client_settings, map_sdk_error
from adapters._types import CompletionRequest, RawCompletion, Usage

TOOL = "respond"


class OpenAIAdapter(ProviderAdapter):
    """Structured output by JSON-schema response format (``mode="json_schema"``) or a forced tool call.

    The key comes from ``OPENAI_API_KEY`` (or ``api_key``). With ``base_url`` (or
    ``OPENAI_BASE_URL``) it talks to any OpenAI-compatible server; local servers
    that need no key get a placeholder one.
    """

    provider = "openai"

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        timeout: float = 30.0,
        mode: Literal["json_schema", "tools"] = "json_schema",
        prices: PriceTable | None = None,
        meter: UsageMeter | None = None,
        pools: int = 8,
        require_key: bool = True,
    ) -> None:
        super().__init__(timeout=timeout, prices=prices, meter=meter)
        self.mode = mode
        settings = client_settings(
            provider=self.provider,
            env_prefix="OPENAI",
            api_key=api_key,
            base_url=base_url,
            http_client=http_client,
            timeout=timeout,
            require_key=require_key,
        )
        self._ring = ClientRing(lambda: sdk.AsyncOpenAI(**settings), 1 if http_client is not None else pools)

    @property
    def _client(self) -> sdk.AsyncOpenAI:
        return self._ring.next()

    def __repr__(self) -> str:
        return f"OpenAIAdapter(base_url={str(self._client.base_url)!r}, mode={self.mode!r})"

    async def _call(self, request: CompletionRequest[Any], repair: tuple[str, str] | None) -> RawCompletion:
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": request.system},
            {"role": "user", "content": request.user},
        ]
        if repair is not None:
            messages += [
                {"role": "assistant", "content": repair[0] or "(no output)"},
                {"role": "user", "content": REPAIR_PROMPT.format(errors=repair[1])},
            ]
        schema = request.json_schema()
        kwargs: dict[str, Any]
        if self.mode == "tools":
            kwargs = {
                "tools": [{"type": "function", "function": {"name": TOOL, "parameters": schema}}],
                "tool_choice": {"type": "function", "function": {"name": TOOL}},
            }
        else:
            kwargs = {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": request.schema.__name__, "schema": schema, "strict": False},
                }
            }
        # Messages and schema travel in extra_body: they are plain JSON already, and the
        # SDK's recursive parameter transform over them costs more than the call itself.
        response = await self._client.chat.completions.create(
            model=request.model,
            messages=[],
            temperature=request.temperature,
            max_tokens=request.max_tokens,
            extra_body={"messages": messages, **kwargs},
        )
        message = response.choices[0].message
        if self.mode == "tools" and message.tool_calls:
            text = message.tool_calls[0].function.arguments  # type: ignore[union-attr]
        else:
            text = message.content or ""
        u = response.usage
        usage = Usage(u.prompt_tokens, u.completion_tokens) if u is not None else Usage()
        return RawCompletion(text=text, usage=usage, model=request.model)

    def _map_error(self, exc: Exception, model: str) -> LLMError | None:
        return map_sdk_error(sdk, exc, provider=self.provider, model=model)
