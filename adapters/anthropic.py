"""Anthropic Messages API through the official async SDK; structured output by forced tool use."""

from __future__ import annotations

import json
from typing import Any

import anthropic as sdk
import httpx

from adapters._errors import LLMError
from adapters._pricing import PriceTable, UsageMeter
from adapters._provider import REPAIR_PROMPT, ClientRing, ProviderAdapter, client_settings, map_sdk_error
from adapters._types import CompletionRequest, RawCompletion, Usage

TOOL = "respond"


class AnthropicAdapter(ProviderAdapter):
    """Claude models. The key comes from ``ANTHROPIC_API_KEY`` (or ``api_key``), never logged.

    The current Messages API takes no sampling temperature, so ``request.temperature``
    is not sent (it still takes part in the cassette key).
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
        pools: int = 8,
    ) -> None:
        super().__init__(timeout=timeout, prices=prices, meter=meter)
        settings = client_settings(
            provider=self.provider,
            env_prefix="ANTHROPIC",
            api_key=api_key,
            base_url=base_url,
            http_client=http_client,
            timeout=timeout,
        )
        self._ring = ClientRing(
            lambda: sdk.AsyncAnthropic(**settings), 1 if http_client is not None else pools
        )

    @property
    def _client(self) -> sdk.AsyncAnthropic:
        return self._ring.next()

    def __repr__(self) -> str:
        return f"AnthropicAdapter(base_url={str(self._client.base_url)!r})"

    async def _call(self, request: CompletionRequest[Any], repair: tuple[str, str] | None) -> RawCompletion:
        messages: list[dict[str, Any]] = [{"role": "user", "content": request.user}]
        if repair is not None:
            messages += [
                {"role": "assistant", "content": repair[0] or "(no output)"},
                {"role": "user", "content": REPAIR_PROMPT.format(errors=repair[1])},
            ]
        response = await self._client.messages.create(
            model=request.model,
            max_tokens=request.max_tokens,
            system=request.system,
            messages=messages,  # type: ignore[arg-type]
            # The tool schema travels in extra_body: it is plain JSON already, and the
            # SDK's recursive parameter transform over it costs more than the call.
            extra_body={
                "tools": [
                    {
                        "name": TOOL,
                        "description": f"Answer with a {request.schema.__name__}.",
                        "input_schema": request.json_schema(),
                    }
                ],
                "tool_choice": {"type": "tool", "name": TOOL},
            },
        )
        text = ""
        for block in response.content:
            if block.type == "tool_use":
                text = json.dumps(block.input, sort_keys=True)
                break
        else:
            text = "".join(getattr(b, "text", "") for b in response.content)
        usage = Usage(response.usage.input_tokens, response.usage.output_tokens)
        return RawCompletion(text=text, usage=usage, model=request.model)

    def _map_error(self, exc: Exception, model: str) -> LLMError | None:
        return map_sdk_error(sdk, exc, provider=self.provider, model=model)
