"""API keys from the arguments or the environment, checked without importing an SDK or HTTP client."""

from __future__ import annotations

import os

from adapters._errors import MissingAPIKey

_KEY_PREFIXES = {"anthropic": "ANTHROPIC", "openai": "OPENAI"}


def api_key_for(*, provider: str, env_prefix: str, api_key: str | None, required: bool = True) -> str:
    """``api_key`` or ``{PREFIX}_API_KEY``; with neither, MissingAPIKey (a placeholder if not required)."""
    key = api_key or os.environ.get(f"{env_prefix}_API_KEY")
    if key:
        return key
    if required:
        raise MissingAPIKey(f"no API key: set {env_prefix}_API_KEY", provider=provider)
    return "not-needed"


def require_credentials(provider: str, api_key: str | None = None) -> None:
    """Raise :class:`MissingAPIKey` now if ``provider`` needs a key and none is set.

    What the provider adapters check when they are built, for callers that build
    them elsewhere (in the worker processes of a :class:`ShardedAdapter`).
    """
    prefix = _KEY_PREFIXES.get(provider)
    if prefix is not None:
        api_key_for(provider=provider, env_prefix=prefix, api_key=api_key)
