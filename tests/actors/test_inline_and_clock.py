"""Plain handlers run in the sender's task when the actor is idle; the clock obeys its control plane."""

from __future__ import annotations

import asyncio

import anyio
import pytest

from actors import (
    Actor,
    ActorFailed,
    ActorSystem,
    Advance,
    AdvanceTo,
    BackendError,
    Clock,
    ClockStatus,
    Message,
    Overflow,
    Pause,
    Resume,
    Start,
    Status,
    Stop,
    Topic,
    handler,
)


class Note(Message):
    n: int


class Wait(Message):
    gate: asyncio.Event


class Keeper(Actor):
    """A plain handler for Note, a coroutine handler for Wait."""

    def __init__(self) -> None:
        self.seen: list[int] = []
        self.tasks: list[asyncio.Task[object] | None] = []

    @handler
    def on_note(self, msg: Note) -> int:
        self.seen.append(msg.n)
        self.tasks.append(asyncio.current_task())
        return msg.n + 1

    @handler
    async def on_wait(self, msg: Wait) -> str:
        await msg.gate.wait()
        return "released"


async def test_plain_handler_of_an_idle_actor_runs_in_the_senders_task() -> None:
    async with ActorSystem() as system:
        keeper = Keeper()
        ref = system.spawn(keeper, name="k")
        before = len(asyncio.all_tasks())
        assert await ref.ask(Note(n=1)) == 2
        await ref.tell(Note(n=2))
        ref.tell_nowait(Note(n=3))
        assert keeper.seen == [1, 2, 3]
        assert keeper.tasks == [asyncio.current_task()] * 3
        assert len(asyncio.all_tasks()) == before  # no task was made for the actor


async def test_messages_to_a_busy_actor_queue_behind_it_in_order() -> None:
    async with ActorSystem() as system:
        keeper = Keeper()
        ref = system.spawn(keeper, name="k")
        gate = asyncio.Event()
        async with anyio.create_task_group() as tg:
            tg.start_soon(ref.ask, Wait(gate=gate))
            await anyio.sleep(0.01)  # the coroutine handler is now running
            await ref.tell(Note(n=1))
            await ref.tell(Note(n=2))
            assert keeper.seen == []  # queued behind the busy handler, not run inline
            gate.set()
            assert await ref.ask(Note(n=3)) == 4
        assert keeper.seen == [1, 2, 3]
        assert asyncio.current_task() not in keeper.tasks[:2]


async def test_an_actor_is_idle_only_with_nothing_queued_or_in_hand() -> None:
    async with ActorSystem() as system:
        ref = system.spawn(Keeper(), name="k")
        await ref.ask(Note(n=0))
        assert ref.is_idle() and ref.idle
        gate = asyncio.Event()
        async with anyio.create_task_group() as tg:
            tg.start_soon(ref.ask, Wait(gate=gate))
            await anyio.sleep(0.01)  # the coroutine handler is now running
            assert not ref.is_idle() and not ref.idle
            await ref.tell(Note(n=1))
            assert not ref.is_idle() and not ref.idle  # and a message waits behind it
            gate.set()
        await anyio.sleep(0.01)
        assert ref.is_idle() and ref.idle


async def test_coroutine_handlers_of_different_actors_overlap_in_a_gather() -> None:
    n = 5
    arrived = 0
    everyone = asyncio.Event()

    class Meeter(Actor):
        @handler
        async def on_note(self, msg: Note) -> int:
            nonlocal arrived
            arrived += 1
            if arrived == n:
                everyone.set()
            await everyone.wait()  # only returns if all handlers are running at once
            return msg.n

    async with ActorSystem() as system:
        refs = [system.spawn(Meeter(), name=f"m{i}") for i in range(n)]
        with anyio.fail_after(2):
            replies = await system.gather_ask([(r, Note(n=i)) for i, r in enumerate(refs)])
    assert replies == list(range(n))


async def test_a_failing_plain_handler_raises_to_the_asker_and_stops_the_system() -> None:
    class Fragile(Actor):
        @handler
        def on_note(self, msg: Note) -> int:
            return 1 // msg.n

    with pytest.raises(ActorFailed, match=r"fragile.*ZeroDivisionError"):
        async with ActorSystem() as system:
            ref = system.spawn(Fragile(), name="fragile")
            with pytest.raises(ActorFailed):
                await ref.ask(Note(n=0))
            await anyio.sleep(1)


class Counter(Clock):
    """Ticks until ``limit``; records every tick it ran."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.ran: list[int] = []
        self.finished_with: str | None = None

    async def tick(self, n: int) -> bool:
        self.ran.append(n)
        await anyio.sleep(0)
        return n + 1 < self.limit

    async def finish(self, reason: str) -> None:
        self.finished_with = reason


async def test_clock_ticks_to_the_end_and_reports_completion() -> None:
    async with ActorSystem() as system:
        clock = Counter(limit=7)
        ref = system.spawn(clock, name="clock")
        await ref.tell(Start())
        assert await clock.finished == "completed"
        assert clock.ran == list(range(7)) and clock.finished_with == "completed"
        status: ClockStatus = await ref.ask(Status())
        assert status.finished and status.ticks == 7 and status.reason == "completed"


async def test_clock_pauses_advances_resumes_and_stops_between_ticks() -> None:
    async with ActorSystem() as system:
        clock = Counter(limit=1_000_000)
        ref = system.spawn(clock, name="clock")
        await ref.tell(Pause())
        await ref.tell(Start())
        for _ in range(20):
            await anyio.sleep(0)
        assert clock.ran == []  # paused before the first tick
        await ref.tell(Advance(ticks=3))
        for _ in range(20):
            await anyio.sleep(0)
        assert clock.ran == [0, 1, 2]  # exactly three ticks, then paused again
        await ref.tell(Resume())
        while len(clock.ran) < 10:
            await anyio.sleep(0)
        await ref.tell(Stop(reason="enough"))
        assert await clock.finished == "enough"
        assert clock.ran == list(range(len(clock.ran))) and len(clock.ran) < 1_000_000


async def test_advance_to_runs_to_the_next_multiple_of_ticks_then_stays_paused() -> None:
    async with ActorSystem() as system:
        clock = Counter(limit=100)
        ref = system.spawn(clock, name="clock")
        await ref.tell(Pause())
        await ref.tell(Start())
        await ref.tell(Advance(ticks=2))
        await anyio.wait_all_tasks_blocked()
        assert clock.ran == [0, 1]
        await ref.tell(AdvanceTo(multiple=5))  # to the end of the period of five under way
        await anyio.wait_all_tasks_blocked()
        assert clock.ran == [0, 1, 2, 3, 4]
        await ref.tell(AdvanceTo(multiple=5))  # at a boundary: one whole period
        await ref.tell(AdvanceTo(multiple=5))  # asked twice before it ran: two
        await anyio.wait_all_tasks_blocked()
        assert clock.ran == list(range(15))
        await ref.tell(Stop())


async def test_a_paused_clock_stops_when_told() -> None:
    async with ActorSystem() as system:
        clock = Counter(limit=10)
        ref = system.spawn(clock, name="clock")
        await ref.tell(Pause())
        await ref.tell(Start())
        await anyio.sleep(0.01)
        await ref.tell(Stop(reason="halted"))
        with anyio.fail_after(2):
            assert await clock.finished == "halted"
        assert clock.ran == []


async def test_drop_oldest_subscription_keeps_the_newest_and_counts_the_rest() -> None:
    topic: Topic[int] = Topic("t")
    live = topic.subscribe(maxsize=3, overflow=Overflow.DROP_OLDEST)
    for n in range(10):
        await topic.publish(n)  # never blocks although nobody reads
    live.close()
    assert [m async for m in live] == [7, 8, 9] and live.dropped == 7


async def test_closing_a_full_subscription_releases_a_blocked_publisher() -> None:
    topic: Topic[int] = Topic("t")
    sub = topic.subscribe(maxsize=1)
    await topic.publish(0)
    async with anyio.create_task_group() as tg:
        tg.start_soon(topic.publish, 1)  # blocks: the subscription is full
        await anyio.sleep(0.01)
        sub.close()
    with anyio.fail_after(1):
        await topic.publish(2)  # a closed subscription is skipped
    assert [m async for m in sub] == [0]


async def test_attached_actor_receives_every_published_message() -> None:
    async with ActorSystem() as system:
        keeper = Keeper()
        topic: Topic[Note] = system.topic("notes")
        topic.attach(system.spawn(keeper, name="k"))
        for n in range(4):
            await topic.publish(Note(n=n))
    assert keeper.seen == [0, 1, 2, 3]


def test_the_runtime_refuses_trio_with_a_clear_error() -> None:
    pytest.importorskip("trio")

    async def main() -> None:
        async with ActorSystem():
            pass

    with pytest.raises(BackendError, match="asyncio"):
        anyio.run(main, backend="trio")
