"""The simulation clock: the actor that owns the epoch/step loop and its phases. One tick is one step.

Every step, in order, never depending on which coroutine finished first: **observe**
(components' views, agents' public records and levers' notices make one immutable
snapshot); **act** (plain policies answer at once in this task, awaiting ones overlap in
their own); **admit** (the ledger, in the step's schedule order); **apply** (each component
its batch); **resolve** (components' questions, then their answers); **settle** (lever
effects, payoffs as ledger entries, the entries applied in one batch, outcomes learnt);
**record** (to the bus). An epoch's first step opens it, its last closes it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from itertools import repeat
from typing import Any, Protocol

import anyio.lowlevel

from actors import Clock
from swarm.actions import Action, Noop
from swarm.errors import RunFailure
from swarm.events import (
    ActionRejected,
    EpochCompleted,
    EpochStarted,
    Event,
    KillSwitchTriggered,
    Metrics,
    PolicyFailed,
)
from swarm.kernel import component as hooks
from swarm.kernel.agent import Acted
from swarm.kernel.component import Applied, At, Turn
from swarm.kernel.ledger import Admit, EndPeriod, Post, Publics, PublicState
from swarm.kernel.schedule import kill_reason, schedule
from swarm.kernel.settlement import settle
from swarm.kernel.world import Placed, World
from swarm.metrics.collector import CloseEpochMetrics
from swarm.views import Snapshot


class StepMonitor(Protocol):
    """Watches the run from outside the world: events to log after each step and epoch, and a reason
    to stop the run there (``None`` to go on)."""

    def after_step(self, epoch: int, step: int) -> tuple[list[Event], str | None]: ...

    def after_epoch(self, epoch: int, step: int) -> tuple[list[Event], str | None]: ...


class SimulationClock(Clock):
    """Drives a :class:`World` through ``n_epochs × steps_per_epoch`` steps."""

    def __init__(self, world: World, schedule_rng: random.Random) -> None:
        super().__init__()
        self.world = world
        self.rng = schedule_rng
        self.steps = world.scenario.simulation.steps_per_epoch
        self.total = world.scenario.simulation.n_epochs * self.steps
        self.epochs: list[Metrics] = []
        self.stopped_by: str | None = None
        self.step_seconds: list[float] = []
        self.boundary: Callable[[int, int], Awaitable[None]] | None = None
        """Awaited between epochs with (epochs completed, steps completed) — checkpoints, say."""
        self.monitor: StepMonitor | None = None
        """Asked after every step and epoch for events to log and whether to stop (LLM budgets, say)."""
        self._hooked: dict[tuple[str, ...], list[Placed]] = {}
        self._watchers = self._with("observe_events")
        self._ids = [seat.agent_id for seat in world.seats]
        """Every agent's id, by registration index (what ``world.seats[k].agent_id`` holds)."""
        self._views: Mapping[type, Any] | None = None
        """The last step's snapshot views: what levers read at the epoch's end."""

    def _with(self, *hooks: str) -> list[Placed]:
        """The components that implement any of ``hooks``, in the world's order (worked out once:
        the world's components are fixed when the clock is made, and a step asks for these lists)."""
        found = self._hooked.get(hooks)
        if found is None:
            found = self._hooked[hooks] = [
                p for p in self.world.components if any(p.cls.overrides(h) for h in hooks)
            ]
        return found

    async def tick(self, n: int) -> bool:
        epoch, step = divmod(n, self.steps)
        if n == 0 and self.boundary is not None:
            await self.boundary(0, 0)  # so that even a run stopped in its first epoch can go on
        if step == 0:
            await self._open_epoch(At(epoch, 0, n))
        started = time.perf_counter()
        await self._step(At(epoch, step, n))
        self.step_seconds.append(time.perf_counter() - started)
        if step == self.steps - 1:
            await self._close_epoch(At(epoch, self.steps, n))
            # Once an epoch the event loop gets a turn (a step may never suspend): timers,
            # signal handlers and a cancellation of the run reach it within an epoch.
            await anyio.lowlevel.checkpoint()
        more = self.stopped_by is None and n + 1 < self.total
        if more and step == self.steps - 1 and self.boundary is not None:
            await self.boundary(epoch + 1, n + 1)
        return more

    async def _open_epoch(self, at: At) -> None:
        w = self.world
        agents = (await w.ledger.ask(Publics())).agents
        done = Applied(events=[EpochStarted(epoch=at.epoch, step=0)])
        for placed in self._with("epoch_start"):
            done.add(await placed.ref.ask(hooks.OpenEpoch(at, agents)))
        done.add_effects(await w.governance.epoch_start(at, agents))
        await w.bus.publish(await self._settle(at, done))

    async def _close_epoch(self, at: At) -> None:
        w = self.world
        agents = (await w.ledger.ask(Publics())).agents
        done = Applied()
        for placed in self._with("epoch_end"):
            done.add(await placed.ref.ask(hooks.CloseEpoch(at, agents)))
        events = await self._settle(at, done)  # components first: their interactions meet the levers
        levers = Applied()
        agents = (await w.ledger.ask(Publics())).agents
        levers.add_effects(await w.governance.epoch_end(at, agents, self._views))
        await w.bus.publish(events + await self._settle(at, levers))
        metrics: Metrics = await w.metrics.ask(CloseEpochMetrics(at.epoch))
        self.epochs.append(metrics)
        closing: list[Event] = [EpochCompleted(epoch=at.epoch, step=at.step, metrics=metrics)]
        reason = kill_reason(w.scenario, metrics, len(w.seats))
        if reason is not None:
            closing.append(KillSwitchTriggered(epoch=at.epoch, step=at.step, reason=reason))
            self.stopped_by = "kill_switch"
        if self.monitor is not None:
            extra, stop = self.monitor.after_epoch(at.epoch, at.step)
            closing += extra
            self.stopped_by = self.stopped_by or stop
        await w.bus.publish([*closing, *await w.ledger.ask(EndPeriod(at, "epoch"))], "epoch")

    async def _step(self, at: At) -> None:
        w = self.world
        if w.streams is not None:
            w.streams.begin_step(at.clock)
        public: dict[type, Any] = {}
        for placed in self._with("view"):
            if (view := await placed.ref.ask(hooks.Describe(at))) is not None:
                public[type(view)] = view
        state: PublicState = await w.ledger.ask(Publics())
        public.update(await w.governance.live_notices(at))
        snap = Snapshot(
            at.epoch,
            at.step,
            state.agents,
            public,
            state.exhausted,
            state.never,
            w.governance.deterrence,
            state.index,
        )
        blocked = await w.governance.blocked(at, state.agents, public)
        self._views = public
        active: Sequence[int]
        if blocked or state.any_frozen:
            active = [k for k, a in enumerate(state.agents) if not a.frozen and a.agent_id not in blocked]
        else:  # everyone acts (the usual case; the ledger counts the frozen: no look at every agent)
            active = range(len(state.agents))  # a range: no list of every index held through the step
        done = Applied()
        replies = await w.population.act(snap, active)
        router = w.router
        ids = self._ids if len(active) == len(self._ids) else [self._ids[k] for k in active]
        order = schedule(w.scenario.simulation.schedule, active, at.clock, state.agents, self.rng)
        dispatched = _dispatch(at, order, replies, ids, router, len(w.components), None)
        if dispatched is None:  # a reply no part of the world takes: a failure, an oddity or a refusal
            for p, reply in enumerate(replies):  # failures and oddities, in registration order
                kind = type(reply)
                if kind is not Noop and kind not in router:
                    replies[p] = self._action(at, active[p], reply, done)
            dispatched = _dispatch(at, order, replies, ids, router, len(w.components), done.events)
            assert dispatched is not None
        turns, batches = dispatched
        admitted, rejected = await w.ledger.ask(Admit(at, tuple(turns)))
        done.events += rejected
        if len(admitted) != len(turns):  # some refused: the batches of the admitted ones (in order) instead
            for batch in batches:
                batch.clear()
            for turn in admitted:
                batches[router[type(turn.action)]].append(turn)
        for placed, batch in zip(w.components, batches, strict=True):
            if batch:
                done.add(await placed.ref.ask(hooks.ApplyTurns(at, tuple(batch), snap.agent_index, public)))
                batch.clear()
        del active, replies, dispatched, turns, admitted, batches  # applied: not held to the step's end
        for placed in self._with("questions", "resolve"):
            answers = await self._ask_agents(at, placed, snap, blocked, done)
            done.add(await placed.ref.ask(hooks.TakeAnswers(at, answers)))
            del answers  # taken: not held to the step's end
        del snap, state, blocked  # the snapshot (its copies of the index and budgets): not held to the end
        events = await self._settle(at, done)
        if self._watchers:
            step_events = hooks.StepEvents(at, tuple(events))
            for placed in self._watchers:
                await placed.ref.ask(step_events)
        if self.monitor is not None:
            extra, stop = self.monitor.after_step(at.epoch, at.step)
            events += extra
            self.stopped_by = self.stopped_by or stop
        events += await w.ledger.ask(EndPeriod(at, "step"))  # in place: no second list of the step's events
        logged = tuple(events)  # what the bus would make of the list (it keeps a tuple as it is), and
        del events, done  # the list let go before the subscribers handle the step's events
        await w.bus.publish(logged)

    def _action(self, at: At, k: int, reply: Any, done: Applied) -> Action:
        """An agent's reply as an action (a policy failure is a no-op plus an event; anything else a bug)."""
        seat = self.world.seats[k]
        if isinstance(reply, Acted):
            if reply.failure is not None:
                failed = PolicyFailed(
                    epoch=at.epoch, step=at.step, agent_id=seat.agent_id, phase="act", cause=reply.failure
                )
                done.events.append(failed)
            return reply.action
        if isinstance(reply, Action):
            return reply
        raise RunFailure(
            f"agent {seat.agent_id}: {type(seat.policy).__name__}.decide returned {reply!r}, not an action"
        )

    async def _ask_agents(
        self, at: At, placed: Placed, snap: Snapshot, blocked: Mapping[str, str], done: Applied
    ) -> tuple[tuple[str, Any, Any], ...]:
        """Put a component's questions to the active agents they are for, all at once."""
        w = self.world
        asked: Mapping[str, Sequence[Any]] = await placed.ref.ask(hooks.PoseQuestions(at))
        index_of, agents = w.index_of, snap.agents
        ids: list[str] = []
        pairs: list[tuple[int, tuple[Any, ...]]] = []
        for agent, questions in asked.items():
            k = index_of(agent)
            if k is not None and not agents[k].frozen and agent not in blocked:
                ids.append(agent)
                pairs.append((k, tuple(questions)))
        replies = await w.population.respond(snap, placed.cls.ask, pairs)
        answers: list[tuple[str, Any, Any]] = []
        for agent, (_, questions), reply in zip(ids, pairs, replies, strict=True):
            got = reply.answers
            if len(got) != len(questions):
                raise RunFailure(f"agent {agent}: {len(got)} answers to {len(questions)} questions")
            answers += zip(repeat(agent), questions, got)  # (agent, question, answer) for each
            for cause in reply.failures:
                done.events.append(
                    PolicyFailed(epoch=at.epoch, step=at.step, agent_id=agent, phase="respond", cause=cause)
                )
        return tuple(answers)

    async def _settle(self, at: At, done: Applied) -> list[Any]:
        """Lever effects and payoffs of the interactions, all entries posted; the events, in order."""
        w = self.world
        if done.interactions:
            effects = await w.governance.on_interactions(at, tuple(done.interactions))
            settled = settle(at, done.interactions, effects, w.engine, w.types, w.index_of)
            done.interactions.clear()  # settled into new objects (their events'): the originals go now
            done.events += settled.completed
            done.entries += settled.entries
            done.add_effects(effects)
            for placed in self._with("observe_settled"):
                done.add(await placed.ref.ask(hooks.Settled(at, tuple(settled.completed))))
            if settled.outcomes:  # told before the entries are posted (neither reads the other), then let go
                await w.population.learn(settled.outcomes)
            del settled, effects
        if done.entries:
            done.events += await w.ledger.ask(Post(at, tuple(done.entries)))
            done.entries.clear()  # booked: not held while the step's events are published
        return done.events


def _dispatch(
    at: At,
    order: Sequence[int],
    replies: Sequence[Any],
    ids: Sequence[str],
    router: Mapping[type, int],
    n: int,
    refused: list[Event] | None,
) -> tuple[list[Turn], list[list[Turn]]] | None:
    """The step's actions as turns in schedule order (no-ops left out; a turn's position is its place in
    ``order``) and each of the ``n`` components' batch of them.

    A reply no component takes is refused (an ``ActionRejected`` appended to ``refused``); with
    ``refused`` None the first such reply ends the dispatch instead, with None and nothing refused
    (the usual step has none: its replies are then looked at only here, once).
    """
    turns: list[Turn] = []
    batches: list[list[Turn]] = [[] for _ in range(n)]
    route = router.get
    new = tuple.__new__  # Turn(...) without the named tuple's Python-level __new__
    for index, p in enumerate(order):
        action = replies[p]
        taker = route(type(action))
        if taker is not None:
            turn = new(Turn, (index, ids[p], action))
            turns.append(turn)
            batches[taker].append(turn)  # its component's batch, should the ledger admit it
        elif type(action) is not Noop:
            if refused is None:
                return None
            why = f"no part of this scenario's world takes {action.type} actions"
            refused.append(
                ActionRejected(epoch=at.epoch, step=at.step, agent_id=ids[p], action=action.type, reason=why)
            )
    return turns, batches
