"""Agents as actors: each agent's mailbox around its policy.

Three messages reach an agent: :class:`Act` (the step's snapshot; answer with
an action), :class:`Respond` (questions a component puts to it, such as
proposals; answer each) and :class:`Learn` (an outcome). A policy whose methods
are plain functions gets an :class:`InlineAgent` (plain handlers: run at once in
the clock's task); one with coroutines gets an :class:`AwaitingAgent` (coroutine
handlers, each call bounded by the policy timeout, answers overlapping).

Failures tell the truth: a timeout or a :class:`~swarm.errors.PolicyFailure`
is an expected failure (no action, and a ``policy_failed`` event); anything
else escapes the handler and stops the run, naming the agent and the message.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from types import FunctionType
from typing import Any

import anyio
import msgspec

from actors import Actor, handler
from swarm.actions import NOOP, Action
from swarm.agents.policy import Outcome, Policy
from swarm.errors import PolicyFailure
from swarm.kernel.component import Ask
from swarm.views import Observation, Snapshot, _Told

EXPECTED_FAILURES: tuple[type[BaseException], ...] = (PolicyFailure, TimeoutError)


@dataclass(frozen=True, slots=True)
class Act:
    """The step's snapshot: choose an action."""

    snapshot: Snapshot

    def __repr__(self) -> str:
        return f"Act(epoch={self.snapshot.epoch}, step={self.snapshot.step})"


@dataclass(frozen=True, slots=True)
class Acted:
    """An action, or the no-op with the reason the policy failed."""

    action: Action
    failure: str | None = None


@dataclass(frozen=True, slots=True)
class Respond:
    """Questions from one component, to answer in order with its ``ask``."""

    snapshot: Snapshot
    ask: Ask
    questions: tuple[Any, ...]

    def __repr__(self) -> str:
        snap = self.snapshot
        return f"Respond(epoch={snap.epoch}, step={snap.step}, questions={len(self.questions)})"


_NO_ANSWER = object()


class Responded(msgspec.Struct, frozen=True, gc=False):
    """One answer per question (``None`` where the policy failed), and the failures.

    (A struct, built in C: one per agent asked, every step; a frozen dataclass's
    ``__init__`` is Python code setting each field through ``object.__setattr__``.)
    """

    answers: tuple[Any, ...]
    failures: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Learn:
    outcome: Outcome


def describe_failure(exc: BaseException, timeout: float | None = None) -> str:
    if isinstance(exc, TimeoutError) and timeout is not None:
        return f"timed out after {timeout:g} s"
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:300]


_KERNEL_CALLS = ("decide", "accept", "observe")


def is_inline(policy: Policy) -> bool:
    """Whether every method of ``policy`` the kernel calls is a plain function."""
    return not any(inspect.iscoroutinefunction(getattr(policy, name, None)) for name in _KERNEL_CALLS)


def _is_inline_known(policy: Policy, known: dict[type, bool | None]) -> bool:
    """:func:`is_inline`, worked out once per policy class in ``known`` (filled in here) where the
    class decides it: the three methods are functions of the class, found by plain attribute lookup
    and not set on the policy itself, so every policy of the class gets the same answer."""
    cls = type(policy)
    if cls not in known:
        plain = cls.__getattribute__ is object.__getattribute__ and all(
            isinstance(getattr(cls, name, None), FunctionType) for name in _KERNEL_CALLS
        )
        known[cls] = is_inline(policy) if plain else None
    ok = known[cls]
    own = getattr(policy, "__dict__", None)
    if ok is None or (own and not own.keys().isdisjoint(_KERNEL_CALLS)):
        return is_inline(policy)
    return ok


class InlineAgent(Actor):
    """An agent whose policy never waits: every handler is plain."""

    __slots__ = ("agent_id", "policy")

    def __init__(self, agent_id: str, policy: Policy) -> None:
        self.agent_id = agent_id
        self.policy = policy

    @handler
    def on_act(self, msg: Act) -> Acted | Action:
        snap = msg.snapshot
        obs = Observation(self.agent_id, snap.agent_index[self.agent_id], snap)
        try:
            return self.policy.decide(obs)  # type: ignore[return-value]
        except EXPECTED_FAILURES as exc:
            return Acted(NOOP, describe_failure(exc))

    @handler
    def on_respond(self, msg: Respond) -> Responded:
        return self.answer(msg.snapshot, msg.ask, msg.questions)

    def answer(self, snap: Snapshot, ask: Ask, questions: tuple[Any, ...]) -> Responded:
        """The policy's answer to each question (``None`` and a failure where it gave up)."""
        me = self.agent_id
        forbidden = snap._forbidden_by_agent.get(me, snap.never)  # what Observation works out, inline
        obs = _Told(me, snap.agent_index[me], snap, forbidden)
        if len(questions) == 1:  # the usual case (one proposal): no lists to build
            try:
                return Responded((ask(self.policy, obs, questions[0]),))
            except EXPECTED_FAILURES as exc:
                return Responded((None,), (describe_failure(exc),))
        answers: list[Any] = []
        failures: list[str] = []
        for question in questions:
            try:
                answers.append(ask(self.policy, obs, question))
            except EXPECTED_FAILURES as exc:
                answers.append(None)
                failures.append(describe_failure(exc))
        return Responded(tuple(answers), tuple(failures))

    @handler
    def on_learn(self, msg: Learn) -> None:
        self.policy.observe(msg.outcome)


class AwaitingAgent(Actor):
    """An agent whose policy awaits (an LLM call): handlers run in the agent's task, under a timeout."""

    def __init__(self, agent_id: str, policy: Policy, timeout: float) -> None:
        self.agent_id = agent_id
        self.policy = policy
        self.timeout = timeout

    async def _call(self, fn: Any, *args: Any) -> Any:
        with anyio.fail_after(self.timeout):
            result = fn(*args)
            if inspect.isawaitable(result):
                result = await result
            return result

    @handler
    async def on_act(self, msg: Act) -> Acted | Action:
        snap = msg.snapshot
        obs = Observation(self.agent_id, snap.agent_index[self.agent_id], snap)
        try:
            action: Action = await self._call(self.policy.decide, obs)
        except EXPECTED_FAILURES as exc:
            return Acted(NOOP, describe_failure(exc, self.timeout))
        return action

    @handler
    async def on_respond(self, msg: Respond) -> Responded:
        """Answer every question; the answers overlap, and are listed in question order."""
        snap = msg.snapshot
        obs = Observation(self.agent_id, snap.agent_index[self.agent_id], snap)
        answers: list[Any] = [_NO_ANSWER] * len(msg.questions)
        failures: list[str | None] = [None] * len(msg.questions)

        async def answer(k: int, question: Any) -> None:
            try:
                answers[k] = await self._call(msg.ask, self.policy, obs, question)
            except EXPECTED_FAILURES as exc:
                answers[k] = None
                failures[k] = describe_failure(exc, self.timeout)

        if len(msg.questions) == 1:
            await answer(0, msg.questions[0])
        else:
            try:
                async with anyio.create_task_group() as tg:
                    for k, question in enumerate(msg.questions):
                        tg.start_soon(answer, k, question)
            except BaseExceptionGroup as group:
                raise group.exceptions[0] from None
        return Responded(tuple(answers), tuple(f for f in failures if f is not None))

    @handler
    def on_learn(self, msg: Learn) -> None:
        self.policy.observe(msg.outcome)


def agent_actor(
    agent_id: str, policy: Policy, timeout: float, known: dict[type, bool | None] | None = None
) -> Actor:
    """The actor for one agent: inline for plain policies, awaiting for coroutine ones (``known``:
    what is known of policy classes so far, for building many agents; see :func:`_is_inline_known`)."""
    if is_inline(policy) if known is None else _is_inline_known(policy, known):
        return InlineAgent(agent_id, policy)
    return AwaitingAgent(agent_id, policy, timeout)
