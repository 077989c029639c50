"""LLM adapters: a system and user text plus a pydantic schema in, a validated object out.

Knows nothing of the simulation. Providers (:class:`AnthropicAdapter`,
:class:`OpenAIAdapter`) use the official async SDKs; wrappers compose::

    adapter = Limited(Retrying(OpenAIAdapter()), max_concurrency=64)

:class:`ShardedAdapter` runs such a stack in worker processes, for runs whose
request rate outgrows one process's CPU.
"""

from typing import TYPE_CHECKING, Any

from adapters._cassette import CassetteError, CassetteWriter, RecordingAdapter, ReplayAdapter
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
from adapters._pricing import PriceTable, UsageMeter, UsageSnapshot
from adapters._ratelimit import RateLimit, Throttled
from adapters._sharded import ShardedAdapter
from adapters._stack import build_adapter, require_credentials
from adapters._types import Completion, CompletionRequest, LLMAdapter, Usage, close_adapter, warm_adapter
from adapters._wrappers import Limited, Retrying
from adapters.scripted import ScriptedAdapter

if TYPE_CHECKING:
    from adapters._http import HttpxBridge, bridged_client
    from adapters.anthropic import AnthropicAdapter
    from adapters.openai import OpenAIAdapter

_LAZY = {
    "AnthropicAdapter": "adapters.anthropic",
    "OpenAIAdapter": "adapters.openai",
    "HttpxBridge": "adapters._http",
    "bridged_client": "adapters._http",
}


def __getattr__(name: str) -> Any:
    """The provider adapters and the httpx bridge load on first use, keeping ``import adapters`` light."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'adapters' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "AnthropicAdapter",
    "CassetteError",
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
    "RateLimit",
    "RateLimited",
    "RecordingAdapter",
    "ReplayAdapter",
    "Retrying",
    "ScriptedAdapter",
    "ShardedAdapter",
    "Throttled",
    "Usage",
    "UsageMeter",
    "UsageSnapshot",
    "bridged_client",
    "build_adapter",
    "close_adapter",
    "require_credentials",
    "warm_adapter",
]
