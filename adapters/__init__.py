"""LLM adapters: a system and user text plus a pydantic schema in, a validated object out.

Knows nothing of the simulation. Providers (:class:`AnthropicAdapter`,
:class:`OpenAIAdapter`) use the official async SDKs; wrappers compose::

    adapter = Limited(Retrying(OpenAIAdapter()), max_concurrency=64)

:class:`ShardedAdapter` runs such a stack in worker processes, for runs whose
request rate outgrows one process's CPU.
"""

from typing import TYPE_CHECKING, Any

from adapters._cassette import CassetteWriter, RecordingAdapter, ReplayAdapter
from adapters._errors import (
    CassetteMiss,
    InvalidOutput,
    LLMAuthError,
    LLMError,
    LLMTimeout,
    MissingAPIKey,
    ProviderError,
    RateLimited,
)
from adapters._http import HttpxBridge, bridged_client
from adapters._pricing import PriceTable, UsageMeter, UsageSnapshot
from adapters._sharded import ShardedAdapter
from adapters._stack import build_adapter, require_credentials
from adapters._types import Completion, CompletionRequest, LLMAdapter, Usage, close_adapter
from adapters._wrappers import Limited, Retrying
from adapters.scripted import ScriptedAdapter

if TYPE_CHECKING:
    from adapters.anthropic import AnthropicAdapter
    from adapters.openai import OpenAIAdapter


def __getattr__(name: str) -> Any:
    """The provider adapters load their SDKs on first use, keeping ``import adapters`` light."""
    if name == "AnthropicAdapter":
        from adapters.anthropic import AnthropicAdapter

        return AnthropicAdapter
    if name == "OpenAIAdapter":
        from adapters.openai import OpenAIAdapter

        return OpenAIAdapter
    raise AttributeError(f"module 'adapters' has no attribute {name!r}")


__all__ = [
    "AnthropicAdapter",
    "CassetteMiss",
    "CassetteWriter",
    "Completion",
    "CompletionRequest",
    "HttpxBridge",
    "InvalidOutput",
    "LLMAdapter",
    "LLMAuthError",
    "LLMError",
    "LLMTimeout",
    "Limited",
    "MissingAPIKey",
    "OpenAIAdapter",
    "PriceTable",
    "ProviderError",
    "RateLimited",
    "RecordingAdapter",
    "ReplayAdapter",
    "Retrying",
    "ScriptedAdapter",
    "ShardedAdapter",
    "Usage",
    "UsageMeter",
    "UsageSnapshot",
    "bridged_client",
    "build_adapter",
    "close_adapter",
    "require_credentials",
]
