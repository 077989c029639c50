"""What agents do: the action base class, the no-op, and how an interaction is carried out.

Every action is a small frozen msgspec struct tagged by its ``type``. A world
component declares the action types it owns (the kernel routes each admitted
action to its owner by type); the LLM schema of an action is generated from the
same class, so an action is defined exactly once. Field constraints are
``msgspec.Meta`` annotations; they are enforced where actions come from outside
(an LLM's answer, a decoded log), not on the hot path of scripted agents.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

import msgspec
from msgspec import Meta

Unit = Annotated[float, Meta(ge=0.0, le=1.0)]
Signed = Annotated[float, Meta(ge=-1.0, le=1.0)]


class Action(msgspec.Struct, frozen=True, gc=False, tag_field="type", forbid_unknown_fields=True):
    """Base of every action; ``type`` is the tag that names it in prompts and events."""

    text_fields: ClassVar[tuple[str, ...]] = ()
    """Fields holding free text, checked against the scenario's ``safety.max_content_length``."""

    @property
    def type(self) -> str:
        tag = self.__struct_config__.tag
        assert isinstance(tag, str)
        return tag


class Noop(Action, tag="noop", frozen=True):
    """Do nothing this step."""


NOOP = Noop()


class Conduct(msgspec.Struct, frozen=True, gc=False, forbid_unknown_fields=True):
    """How an agent carries out an interaction; observables are generated from it with noise.

    ``effort`` is the real work put in (it drives the true outcome); ``facade`` is
    how much the visible progress overstates that work (deception); ``sloppiness``
    drives rework, ``defects`` hidden faults a verifier may catch, ``misuse`` tool
    misuse, and ``engagement`` how the counterparty is treated.
    """

    effort: Signed = 0.42
    facade: Unit = 0.0
    sloppiness: Unit = 0.17
    defects: Unit = 0.0
    misuse: Unit = 0.0
    engagement: Signed = 0.32

    def but(self, **changes: float) -> Conduct:
        """A copy with some fields changed."""
        return msgspec.structs.replace(self, **changes)


DEFAULT_CONDUCT = Conduct()
