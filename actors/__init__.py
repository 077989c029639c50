"""A small asyncio actor runtime on anyio."""

from actors._core import (
    Actor,
    ActorError,
    ActorFailed,
    ActorRef,
    ActorStopped,
    ActorSystem,
    AskTimeout,
    Clock,
    MailboxFull,
    Message,
    NoHandler,
    Subscription,
    Supervision,
    Topic,
    Tracer,
    handler,
)

__all__ = [
    "Actor",
    "ActorError",
    "ActorFailed",
    "ActorRef",
    "ActorStopped",
    "ActorSystem",
    "AskTimeout",
    "Clock",
    "MailboxFull",
    "Message",
    "NoHandler",
    "Subscription",
    "Supervision",
    "Topic",
    "Tracer",
    "handler",
]
