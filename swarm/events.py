"""Events: what happened in a run, in the order it happened.

Every event is a frozen msgspec struct tagged by its ``type``, carrying its
logical time (``epoch``, ``step``) and the sequence number the event bus gives
it when it is published. Subclasses register themselves: the log decoder knows
every event type defined anywhere (a component's own events included), so a
new event is one class. Nothing here reads the wall clock except the
``wall_clock`` field of :class:`RunEnded`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Union

import msgspec

from swarm.core.interaction import SoftInteraction

WALL_CLOCK_FIELD = "wall_clock"
"""The one field that holds wall-clock data; replay comparisons ignore it."""


class Event(
    msgspec.Struct, frozen=True, gc=False, kw_only=True, tag_field="type", forbid_unknown_fields=True
):
    """Base of every event: logical time plus the sequence number given by the bus.

    A subclass with a ``tag`` is an event type (``class Hired(Event, tag="hired")``);
    a subclass without one is a base for others and is never logged itself.
    """

    epoch: int = 0
    step: int = 0
    seq: int = 0

    @property
    def type(self) -> str:
        tag = self.__struct_config__.tag
        assert isinstance(tag, str)
        return tag


def numbered(event: Event, seq: int) -> None:
    """Give ``event`` its sequence number (done once, by the bus, before anyone sees it)."""
    msgspec.structs.force_setattr(event, "seq", seq)


def event_types() -> dict[str, type[Event]]:
    """Every event class defined so far (in any module imported), by its tag.

    Two classes with one tag are an error, unless they are the same class defined again.
    """
    found: dict[str, type[Event]] = {}
    pending: list[type[Event]] = [Event]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        tag = cls.__struct_config__.tag
        if isinstance(tag, str):
            known = found.get(tag)
            redefined = known is not None and (known.__module__, known.__qualname__) == (
                cls.__module__,
                cls.__qualname__,
            )
            if known is not None and known is not cls and not redefined:
                raise TypeError(
                    f"two event classes use the tag {tag!r}: {known.__qualname__} and {cls.__qualname__}"
                )
            found[tag] = cls  # a class defined again (a module reloaded) replaces its older self
    return found


_decoders: dict[frozenset[type[Event]], msgspec.json.Decoder[Any]] = {}


def decoder() -> msgspec.json.Decoder[Any]:
    """A JSON decoder for one event of any type defined so far (made once per set of types)."""
    kinds = frozenset(event_types().values())
    dec = _decoders.get(kinds)
    if dec is None:
        ordered = tuple(sorted(kinds, key=lambda c: c.__struct_config__.tag or ""))
        dec = _decoders[kinds] = msgspec.json.Decoder(Union[ordered])  # noqa: UP007
    return dec


class Record(dict[str, Any]):
    """Named values, also readable as attributes (``record.avg_toxicity``)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no value named {name!r} (known: {', '.join(self)})") from None


class Metrics(Record):
    """An epoch's metrics by name (``metrics.toxicity_rate``), one per registered epoch metric."""


# ------------------------------------------------------------------ the kernel's own events


class RunStarted(Event, tag="run_started", frozen=True):
    scenario_id: str
    seed: int
    n_agents: int
    n_epochs: int
    steps_per_epoch: int


class AgentCreated(Event, tag="agent_created", frozen=True):
    agent_id: str
    agent_type: str
    """The registered agent type, or a custom policy's own name."""
    policy: str
    """The policy class that decides for the agent."""
    role: str
    reputation: float
    resources: float


class EpochStarted(Event, tag="epoch_started", frozen=True):
    pass


class ActionRejected(Event, tag="action_rejected", frozen=True):
    """An action the world refused, and why (rate limit, unknown target, frozen, ...)."""

    agent_id: str
    action: str
    reason: str


class PolicyFailed(Event, tag="policy_failed", frozen=True):
    """A policy that timed out or gave up on purpose; the agent did nothing this phase."""

    agent_id: str
    phase: str
    cause: str


class InteractionCompleted(Event, tag="interaction_completed", frozen=True):
    """A resolved interaction: everything needed to recompute every metric."""

    interaction: SoftInteraction
    payoff_initiator: float
    payoff_counterparty: float
    initiator_type: str
    counterparty_type: str


class LedgerUpdated(Event, tag="ledger_updated", frozen=True):
    """An agent's reputation and/or resources changed: by which ledger entry, why, and the new values."""

    agent_id: str
    entry: str
    reason: str
    reputation: float
    resources: float
    reputation_delta: float = 0.0
    resources_delta: float = 0.0
    ref: str | None = None


class AgentFrozen(Event, tag="agent_frozen", frozen=True):
    agent_id: str
    until_epoch: int | None
    reason: str


class AgentUnfrozen(Event, tag="agent_unfrozen", frozen=True):
    agent_id: str
    reason: str


class KillSwitchTriggered(Event, tag="kill_switch_triggered", frozen=True):
    reason: str


class EpochCompleted(Event, tag="epoch_completed", frozen=True):
    """The epoch's metrics, one value per registered metric."""

    metrics: dict[str, Any]

    def __post_init__(self) -> None:
        if type(self.metrics) is not Metrics:
            msgspec.structs.force_setattr(self, "metrics", Metrics(self.metrics))


class RunEnded(Event, tag="run_ended", frozen=True):
    epochs_completed: int
    reason: str
    """completed, kill_switch, failed, cancelled, stopped (by a control), or a budget's name."""
    wall_clock: dict[str, Any] = msgspec.field(default_factory=dict)


class LLMCall(Event, tag="llm_call", frozen=True):
    """One LLM request of an agent: tokens and cost, or why it failed (logged at the end of its step)."""

    agent_id: str
    phase: str
    """``act`` (the step's action) or ``accept`` (an answer to a proposal)."""
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    repaired: bool = False
    """The first answer did not match the schema; the repair round's did."""
    error: str | None = None
    """Why the call failed: ``invalid_output``, ``rate_limited``, ``timeout``, ``provider_error``, ..."""
    rate_limited: int = 0
    """How many times the provider refused the request for its rate (429), retried or not."""


class LLMFallback(Event, tag="llm_fallback", frozen=True):
    """The provider kept refusing an agent's request: its scripted fallback policy acted instead."""

    agent_id: str
    phase: str
    policy: str
    cause: str


class LLMBudgetExceeded(Event, tag="llm_budget_exceeded", frozen=True):
    """The run's LLM calls have cost its budget (``llm.max_cost_usd``): the run stops after this step."""

    spent_usd: float
    budget_usd: float


class LLMUnhealthy(Event, tag="llm_unhealthy", frozen=True):
    """More of an epoch's LLM calls failed than ``llm.max_failure_rate`` allows: the run stops."""

    calls: int
    failed: int
    max_failure_rate: float
    cause: str
    """The commonest cause of the failures."""
    example: str
    """One failure of that cause: the agent, the error, and the model's reply where there was one."""


def interactions_in(events: Iterator[Event] | list[Event]) -> list[SoftInteraction]:
    """The interactions recorded in a sequence of events, in order."""
    return [ev.interaction for ev in events if isinstance(ev, InteractionCompleted)]
