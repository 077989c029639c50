"""One exception hierarchy for every provider; each message names provider, model and what happened."""

from __future__ import annotations


class LLMError(Exception):
    """Base of every adapter error."""

    def __init__(self, message: str, *, provider: str = "", model: str = "") -> None:
        self.provider = provider
        self.model = model
        where = " ".join(x for x in (provider, model) if x)
        super().__init__(f"{where}: {message}" if where else message)

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only constructor arguments: rebuild from args and attributes instead,
        # so errors survive pickling (they cross process boundaries in ShardedAdapter).
        return (_restore, (type(self), self.args, dict(self.__dict__)))


def _restore(cls: type[LLMError], args: tuple[object, ...], state: dict[str, object]) -> LLMError:
    exc = cls.__new__(cls)
    Exception.__init__(exc, *args)
    exc.__dict__.update(state)
    return exc


class LLMAuthError(LLMError):
    """The provider refused our credentials (401/403) or none were configured: a dead provider."""


class MissingAPIKey(LLMAuthError):
    """No API key in the environment."""


class RateLimited(LLMError):
    """429 from the provider (retried before it reaches the caller)."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, provider: str = "", model: str = ""
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, provider=provider, model=model)


class ProviderError(LLMError):
    """A 5xx, connection failure or unexpected status, after retries ran out."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        attempts: int = 1,
        retry_after: float | None = None,
        provider: str = "",
        model: str = "",
    ) -> None:
        self.status = status
        self.attempts = attempts
        self.retry_after = retry_after
        super().__init__(message, provider=provider, model=model)


class LLMTimeout(LLMError):
    """The request took longer than its timeout."""


class InvalidOutput(LLMError):
    """Output that does not validate against the schema, even after one repair round."""

    def __init__(
        self,
        message: str,
        *,
        raw_text: str,
        errors: str,
        provider: str = "",
        model: str = "",
        input_tokens: int = 0,
        output_tokens: int = 0,
    ) -> None:
        self.raw_text = raw_text
        self.errors = errors
        self.input_tokens = input_tokens
        """Tokens the failed attempts used (they are paid for all the same)."""
        self.output_tokens = output_tokens
        super().__init__(message, provider=provider, model=model)


class CassetteMiss(LLMError):
    """A replayed run asked something the cassette has no answer for: the run cannot go on.

    The message names where the request was asked (agent, epoch, step, phase), its
    key, the nearest recorded key and why they differ; so do the attributes.
    """

    def __init__(
        self,
        message: str,
        *,
        where: object = None,
        key: str = "",
        path: str = "",
        nearest_key: str | None = None,
        nearest_line: int | None = None,
        reason: str = "",
        provider: str = "",
        model: str = "",
    ) -> None:
        self.where = where
        self.key = key
        self.path = path
        self.nearest_key = nearest_key
        self.nearest_line = nearest_line
        self.reason = reason
        super().__init__(message, provider=provider, model=model)
