"""``ActorRef.idle`` is an attribute kept up to date, not worked out when read: it must agree with
the state it stands for after any sequence of sends, handlers, failures, restarts and stops."""

from __future__ import annotations

import asyncio
import contextlib

import anyio
from hypothesis import given, settings
from hypothesis import strategies as st

from actors import Actor, ActorFailed, ActorRef, ActorSystem, Message, Supervision, handler


class Note(Message):
    n: int


class Boom(Message):
    pass


class Wait(Message):
    gate: asyncio.Event


class Keeper(Actor):
    """A plain handler, a failing plain handler and a coroutine handler that waits for a gate."""

    @handler
    def on_note(self, msg: Note) -> int:
        return msg.n

    @handler
    def on_boom(self, msg: Boom) -> None:
        raise ValueError("boom")

    @handler
    async def on_wait(self, msg: Wait) -> str:
        await msg.gate.wait()
        return "released"


def expected(ref: ActorRef) -> bool:
    """What ``idle`` stands for, from the ref's state."""
    return bool(
        ref._system._tracer is None
        and ref._started
        and not (ref._busy or ref._mailbox or ref._stopped or ref._pending_restart)
    )


OPS = st.lists(
    st.sampled_from(["ask", "tell", "tell_nowait", "wait", "release", "boom", "yield"]), max_size=25
)


@settings(max_examples=60, deadline=None)
@given(ops=OPS)
def test_idle_agrees_with_the_state_it_stands_for(ops: list[str]) -> None:
    async def run() -> None:
        async with ActorSystem() as system:
            ref = system.spawn(
                Keeper(), name="k", supervision=Supervision.RESTART, restart=Keeper, max_restarts=1000
            )
            gates: list[asyncio.Event] = []
            async with anyio.create_task_group() as tg:
                assert ref.idle == expected(ref)
                for op in ops:
                    if op == "ask":
                        tg.start_soon(ref.ask, Note(n=1))
                    elif op == "tell":
                        await ref.tell(Note(n=2))
                    elif op == "tell_nowait" and not ref._mailbox:
                        ref.tell_nowait(Note(n=3))
                    elif op == "wait":
                        gates.append(asyncio.Event())
                        tg.start_soon(ref.ask, Wait(gate=gates[-1]))
                    elif op == "release":
                        for gate in gates:
                            gate.set()
                    elif op == "boom":
                        with contextlib.suppress(ActorFailed):
                            await ref.tell(Boom())
                    else:
                        await anyio.sleep(0)
                    assert ref.idle == expected(ref), op
                    assert ref.is_idle() == ref.idle
                for gate in gates:
                    gate.set()
            for _ in range(5):
                await anyio.sleep(0)
            assert ref.idle == expected(ref)
        assert ref.idle == expected(ref) and not ref.idle  # stopped with the system

    anyio.run(run)


def test_a_traced_system_never_has_an_idle_actor() -> None:
    class Quiet:
        def on_send(self, *args: object) -> None: ...
        def on_handled(self, *args: object) -> None: ...
        def on_failure(self, *args: object) -> None: ...

    async def run() -> None:
        async with ActorSystem(tracer=Quiet()) as system:
            ref = system.spawn(Keeper(), name="k")
            assert await ref.ask(Note(n=4)) == 4
            assert not ref.idle and not ref.is_idle()

    anyio.run(run)
