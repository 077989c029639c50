"""The runtime's one exception hierarchy: every error names the actor it concerns."""

from __future__ import annotations


class ActorError(Exception):
    """Base of every error the actor runtime raises."""


class AskTimeout(ActorError, TimeoutError):
    """An ``ask`` that got no answer within its timeout."""


class ActorFailed(ActorError):
    """A handler raised; the message says which actor, which message and what went wrong.

    The original exception is the ``__cause__``.
    """


class ActorStopped(ActorError):
    """The actor is stopped (or stopped before answering)."""


class NoHandler(ActorError):
    """The actor has no handler for the message's type."""


class MailboxFull(ActorError):
    """``tell_nowait`` found the mailbox full."""


class BackendError(ActorError):
    """The runtime was started under an event loop it does not support (it needs asyncio)."""
