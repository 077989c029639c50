"""Cancelled while the system waits for its actors to finish their mail: it still leaves cleanly."""

from __future__ import annotations

import anyio

from actors import Actor, ActorSystem, Message, handler


class Nap(Message):
    seconds: float


class Sleeper(Actor):
    def __init__(self) -> None:
        self.woke = False

    @handler
    async def on_nap(self, msg: Nap) -> None:
        await anyio.sleep(msg.seconds)
        self.woke = True


def test_a_timeout_while_draining_cancels_the_actors_and_exits_the_system() -> None:
    sleeper, later = Sleeper(), Sleeper()

    async def main() -> bool:
        with anyio.move_on_after(0.2) as scope:
            async with ActorSystem() as system:
                ref = system.spawn(sleeper, name="sleeper")
                await ref.tell(Nap(seconds=30))
        async with ActorSystem() as again:  # the task's cancel scopes are in order afterwards
            ref = again.spawn(later, name="sleeper")
            await ref.tell(Nap(seconds=0))
        return scope.cancelled_caught

    assert anyio.run(main)
    assert not sleeper.woke and later.woke
