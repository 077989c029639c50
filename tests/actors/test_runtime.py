"""The actor runtime: ordering, backpressure, ask, failures, shutdown, cancellation, pub/sub, clock."""

from __future__ import annotations

import asyncio

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actors import (
    Actor,
    ActorFailed,
    ActorStopped,
    ActorSystem,
    AskTimeout,
    MailboxFull,
    Message,
    NoHandler,
    Supervision,
    Topic,
    handler,
)


class Put(Message):
    sender: int
    n: int


class Get(Message):
    pass


class Boom(Message):
    why: str


class Sleep(Message):
    seconds: float


class Recorder(Actor):
    def __init__(self) -> None:
        self.seen: list[tuple[int, int]] = []
        self.stopped = False

    @handler
    async def on_put(self, msg: Put) -> int:
        self.seen.append((msg.sender, msg.n))
        return msg.n * 2

    @handler
    async def on_get(self, msg: Get) -> list[tuple[int, int]]:
        return list(self.seen)

    @handler
    async def on_boom(self, msg: Boom) -> None:
        raise RuntimeError(msg.why)

    @handler
    async def on_sleep(self, msg: Sleep) -> str:
        await anyio.sleep(msg.seconds)
        return "awake"

    async def on_stop(self) -> None:
        self.stopped = True


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=60))
def test_each_senders_messages_arrive_in_send_order(senders: list[int]) -> None:
    async def main() -> list[tuple[int, int]]:
        async with ActorSystem() as system:
            ref = system.spawn(Recorder(), name="rec", mailbox_size=4)
            counters = dict.fromkeys(range(4), 0)
            plan = []
            for s in senders:
                plan.append((s, counters[s]))
                counters[s] += 1

            async def send(s: int) -> None:
                for sender, n in plan:
                    if sender == s:
                        await ref.tell(Put(sender=sender, n=n))
                        await anyio.sleep(0)

            async with anyio.create_task_group() as tg:
                for s in range(4):
                    tg.start_soon(send, s)
            return await ref.ask(Get())  # type: ignore[no-any-return]

    seen = anyio.run(main)
    for s in range(4):
        ns = [n for sender, n in seen if sender == s]
        assert ns == sorted(ns) == list(range(len(ns)))
    assert len(seen) == len(senders)


async def test_tell_blocks_when_mailbox_full_and_resumes_after_drain() -> None:
    async with ActorSystem() as system:
        ref = system.spawn(Recorder(), name="rec", mailbox_size=2)
        await ref.tell(Sleep(seconds=0.05))
        await anyio.sleep(0)  # the actor takes the sleeper out of the mailbox
        await ref.tell(Put(sender=0, n=0))
        await ref.tell(Put(sender=0, n=1))
        with pytest.raises(MailboxFull):
            ref.tell_nowait(Put(sender=0, n=2))
        with anyio.fail_after(2):
            await ref.tell(Put(sender=0, n=2))  # waits for space, then goes in
        assert [n for _, n in await ref.ask(Get())] == [0, 1, 2]


async def test_ask_returns_the_handlers_value_and_times_out_with_a_typed_error() -> None:
    async with ActorSystem() as system:
        ref = system.spawn(Recorder(), name="rec")
        assert await ref.ask(Put(sender=0, n=21)) == 42
        with pytest.raises(AskTimeout, match="rec"):
            await ref.ask(Sleep(seconds=1.0), timeout=0.01)
        assert await ref.ask(Put(sender=0, n=1), timeout=2) == 2


async def test_handler_failure_stops_the_system_naming_actor_and_message() -> None:
    rec = Recorder()
    with pytest.raises(ActorFailed) as info:
        async with ActorSystem() as system:
            ref = system.spawn(rec, name="fragile")
            system.spawn(Recorder(), name="bystander")
            await ref.tell(Boom(why="disk on fire"))
            await anyio.sleep(5)
    text = str(info.value)
    assert "fragile" in text and "Boom" in text and "disk on fire" in text
    assert isinstance(info.value.__cause__, RuntimeError)
    assert rec.stopped


async def test_pending_ask_fails_when_its_actor_fails() -> None:
    with pytest.raises(ActorFailed):
        async with ActorSystem() as system:
            ref = system.spawn(Recorder(), name="fragile")
            await ref.ask(Boom(why="nope"))


async def test_resume_supervision_drops_the_message_and_goes_on() -> None:
    async with ActorSystem() as system:
        ref = system.spawn(Recorder(), name="tough", supervision=Supervision.RESUME)
        with pytest.raises(ActorFailed):
            await ref.ask(Boom(why="once"))
        assert await ref.ask(Put(sender=0, n=3)) == 6


async def test_restart_supervision_replaces_the_actor_with_a_fresh_one_and_keeps_the_mailbox() -> None:
    made: list[Recorder] = []

    def fresh() -> Recorder:
        made.append(Recorder())
        return made[-1]

    first = Recorder()
    async with ActorSystem() as system:
        ref = system.spawn(first, name="phoenix", supervision=Supervision.RESTART, restart=fresh)
        await ref.tell(Put(sender=0, n=1))
        await ref.tell(Boom(why="once"))
        await ref.tell(Put(sender=0, n=2))  # queued behind the poison message
        assert await ref.ask(Get()) == [(0, 2)]  # fresh state, the queued message kept
        with pytest.raises(ActorFailed, match="twice"):
            await ref.ask(Boom(why="twice"))  # the asker of a failing message hears of it
        assert await ref.ask(Put(sender=1, n=5)) == 10
    assert first.stopped and len(made) == 2 and made[0].stopped and made[1].stopped


async def test_restarts_beyond_the_budget_stop_the_system_saying_so() -> None:
    with pytest.raises(ActorFailed, match="restarted 2 times within 60 s already; giving up"):
        async with ActorSystem() as system:
            ref = system.spawn(
                Recorder(), name="doomed", supervision=Supervision.RESTART, restart=Recorder, max_restarts=2
            )
            for k in range(3):
                with pytest.raises(ActorFailed):
                    await ref.ask(Boom(why=f"fall {k}"))
            await anyio.sleep(5)


async def test_restart_supervision_without_a_factory_is_refused() -> None:
    async with ActorSystem() as system:
        with pytest.raises(ValueError, match="restart factory"):
            system.spawn(Recorder(), name="x", supervision=Supervision.RESTART)


async def test_message_without_handler_is_a_no_handler_failure() -> None:
    class Stranger(Message):
        pass

    with pytest.raises(ActorFailed) as info:
        async with ActorSystem() as system:
            ref = system.spawn(Recorder(), name="rec")
            await ref.ask(Stranger())
    assert isinstance(info.value.__cause__, NoHandler)


async def test_clean_shutdown_leaves_no_tasks_and_runs_on_stop() -> None:
    before = len(asyncio.all_tasks())
    actors = [Recorder() for _ in range(20)]
    async with ActorSystem() as system:
        refs = [system.spawn(a, name=f"a{i}") for i, a in enumerate(actors)]
        for r in refs:
            await r.tell(Put(sender=0, n=1))
    assert all(a.stopped for a in actors)
    assert all(a.seen == [(0, 1)] for a in actors)
    assert len(asyncio.all_tasks()) == before
    with pytest.raises(ActorStopped):
        await refs[0].tell(Put(sender=0, n=2))


async def test_cancelling_the_enclosing_scope_ends_every_actor() -> None:
    before = len(asyncio.all_tasks())
    rec = Recorder()
    with anyio.move_on_after(0.05):
        async with ActorSystem() as system:
            ref = system.spawn(rec, name="sleepy")
            await ref.ask(Sleep(seconds=10))
    assert rec.stopped
    assert len(asyncio.all_tasks()) == before


async def test_duplicate_actor_names_are_refused() -> None:
    async with ActorSystem() as system:
        system.spawn(Recorder(), name="x")
        with pytest.raises(ValueError, match="x"):
            system.spawn(Recorder(), name="x")


async def test_gather_ask_returns_replies_in_input_order() -> None:
    async with ActorSystem() as system:
        refs = [system.spawn(Recorder(), name=f"r{i}") for i in range(50)]
        replies = await system.gather_ask([(r, Put(sender=i, n=i)) for i, r in enumerate(refs)])
        assert replies == [2 * i for i in range(50)]


async def test_topic_delivers_every_message_to_every_subscriber_in_order() -> None:
    topic: Topic[Put] = Topic("t")
    a, b = topic.subscribe(maxsize=10), topic.subscribe(maxsize=10)
    for n in range(5):
        await topic.publish(Put(sender=0, n=n))
    a.close()
    b.close()
    assert [m.n async for m in a] == list(range(5))
    assert [m.n async for m in b] == list(range(5))


async def test_tracer_sees_sends_handled_messages_and_failures() -> None:
    class T:
        def __init__(self) -> None:
            self.log: list[str] = []

        def on_send(self, sender: str | None, receiver: str, message: Message) -> None:
            self.log.append(f"send {receiver} {type(message).__name__}")

        def on_handled(self, actor: str, message: Message, seconds: float) -> None:
            self.log.append(f"done {actor} {type(message).__name__}")

        def on_failure(self, actor: str, message: Message, exc: BaseException) -> None:
            self.log.append(f"fail {actor} {exc}")

    tracer = T()
    async with ActorSystem(tracer=tracer) as system:
        ref = system.spawn(Recorder(), name="rec", supervision=Supervision.RESUME)
        await ref.ask(Put(sender=0, n=1))
        with pytest.raises(ActorFailed):
            await ref.ask(Boom(why="x"))
    assert tracer.log == ["send rec Put", "done rec Put", "send rec Boom", "fail rec x"]
