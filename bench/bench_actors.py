"""Runtime micro-benchmark: tell throughput, ask round trips, scatter-gather phases, memory per actor.

Run: ``python bench/bench_actors.py``. Not part of the test suite.
"""

from __future__ import annotations

import gc
import time
import tracemalloc

import anyio

from actors import Actor, ActorSystem, Message, handler


class Ping(Message):
    n: int


class Sink(Actor):
    def __init__(self) -> None:
        self.count = 0

    @handler
    async def on_ping(self, msg: Ping) -> int:
        self.count += 1
        return msg.n


class PlainSink(Actor):
    """The same, with a plain handler: handled inline in the sender's task when idle."""

    def __init__(self) -> None:
        self.count = 0

    @handler
    def on_ping(self, msg: Ping) -> int:
        self.count += 1
        return msg.n


async def plain_ask_rate(n: int) -> float:
    msg = Ping(n=1)
    async with ActorSystem() as system:
        ref = system.spawn(PlainSink(), name="sink")
        t0 = time.perf_counter()
        for _ in range(n):
            await ref.ask(msg)
        return n / (time.perf_counter() - t0)


async def plain_phase_rate(actors: int, phases: int) -> float:
    msg = Ping(n=1)
    async with ActorSystem() as system:
        refs = [system.spawn(PlainSink(), name=f"s{i}") for i in range(actors)]
        t0 = time.perf_counter()
        for _ in range(phases):
            await system.gather_ask([(r, msg) for r in refs])
        return phases / (time.perf_counter() - t0)


async def tell_throughput(n: int) -> float:
    msg = Ping(n=1)
    async with ActorSystem() as system:
        sink = Sink()
        ref = system.spawn(sink, name="sink", mailbox_size=4096)
        t0 = time.perf_counter()
        for _ in range(n):
            await ref.tell(msg)
        await ref.ask(msg)
        return n / (time.perf_counter() - t0)


async def ask_rate(n: int) -> float:
    msg = Ping(n=1)
    async with ActorSystem() as system:
        ref = system.spawn(Sink(), name="sink")
        t0 = time.perf_counter()
        for _ in range(n):
            await ref.ask(msg)
        return n / (time.perf_counter() - t0)


async def phase_rate(actors: int, phases: int) -> float:
    msg = Ping(n=1)
    async with ActorSystem() as system:
        refs = [system.spawn(Sink(), name=f"s{i}") for i in range(actors)]
        t0 = time.perf_counter()
        for _ in range(phases):
            await system.gather_ask([(r, msg) for r in refs])
        return phases / (time.perf_counter() - t0)


async def memory_per_actor(actors: int) -> float:
    gc.collect()
    tracemalloc.start()
    async with ActorSystem() as system:
        base = tracemalloc.get_traced_memory()[0]
        for i in range(actors):
            system.spawn(Sink(), name=f"s{i}", mailbox_size=64)
        await anyio.sleep(0.01)
        used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    return used / actors


def main() -> None:
    rows = [
        ("tell (messages/s)", anyio.run(tell_throughput, 300_000)),
        ("ask round trips/s", anyio.run(ask_rate, 50_000)),
        ("clock phases/s over 1,000 actors", anyio.run(phase_rate, 1000, 100)),
        ("  = messages/s in phases", anyio.run(phase_rate, 1000, 100) * 1000),
        ("ask round trips/s, plain handler (inline)", anyio.run(plain_ask_rate, 200_000)),
        ("phases/s over 1,000 plain actors (inline)", anyio.run(plain_phase_rate, 1000, 300)),
        ("memory per idle actor (bytes)", anyio.run(memory_per_actor, 10_000)),
    ]
    for name, value in rows:
        print(f"{name:<44} {value:>14,.0f}")


if __name__ == "__main__":
    main()
