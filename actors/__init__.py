"""A small actor runtime for asyncio, built on anyio.

Actors keep private state and handle typed messages one at a time; an
:class:`ActorRef` is the only way to reach one (``tell`` and ``ask``). An
:class:`ActorSystem` owns them and stops them all, cleanly, when one fails. A
:class:`Topic` fans messages out to subscribers; a :class:`Clock` is an actor
that drives ticks, with pause, resume, advance and stop as messages.

The runtime runs on asyncio (plain, or anyio's asyncio backend); under trio,
entering an :class:`ActorSystem` raises :class:`BackendError`.
"""

from actors._actor import Actor, handler
from actors._clock import Advance, AdvanceTo, Clock, ClockStatus, Pause, Resume, Start, Status, Stop
from actors._errors import (
    ActorError,
    ActorFailed,
    ActorStopped,
    AskTimeout,
    BackendError,
    MailboxFull,
    NoHandler,
)
from actors._message import Message
from actors._ref import ActorRef
from actors._supervision import Supervision, Tracer
from actors._system import ActorSystem
from actors._topic import Overflow, Subscription, Topic

__all__ = [
    "Actor",
    "ActorError",
    "ActorFailed",
    "ActorRef",
    "ActorStopped",
    "ActorSystem",
    "Advance",
    "AdvanceTo",
    "AskTimeout",
    "BackendError",
    "Clock",
    "ClockStatus",
    "MailboxFull",
    "Message",
    "NoHandler",
    "Overflow",
    "Pause",
    "Resume",
    "Start",
    "Status",
    "Stop",
    "Subscription",
    "Supervision",
    "Topic",
    "Tracer",
    "handler",
]
