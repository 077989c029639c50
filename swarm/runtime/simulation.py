"""The embedding API: :class:`Simulation` (async) and :func:`run` (synchronous)."""

from __future__ import annotations

import gc
import hashlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import AsyncExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, overload

import anyio

from actors import (
    ActorFailed,
    ActorStopped,
    ActorSystem,
    AdvanceTo,
    Pause,
    Resume,
    Start,
    Stop,
    Subscription,
)
from swarm.agents.policy import Policy
from swarm.agents.roles import unwrap, with_role
from swarm.agents.types import AGENT_TYPES, BuildContext
from swarm.core.payoff import SoftPayoffEngine
from swarm.errors import PolicyError, RunFailure, ShardFailure, SwarmError
from swarm.events import AgentCreated, Event, Metrics, RunEnded, RunStarted, numbered
from swarm.governance.lever import Governance, build_governance
from swarm.kernel.bus import EventBatch, EventBus
from swarm.kernel.clock import SimulationClock
from swarm.kernel.component import Setup
from swarm.kernel.world import Seat, World
from swarm.metrics.collector import AgentHistory
from swarm.registry import load_builtins
from swarm.runtime._collection import held_thresholds
from swarm.runtime.checkpoint import CheckpointError
from swarm.runtime.eventlog import EventLogWriter, LogHeader, Recorder, package_versions, parse_header
from swarm.runtime.result import SimulationResult, evaluate_criteria, summarize, write_outputs
from swarm.runtime.rng import AgentStreams, derive_rng
from swarm.scenario import Scenario

if TYPE_CHECKING:
    from swarm.runtime.checkpoint import CheckpointInfo
    from swarm.runtime.shard_balance import Rebalance
    from swarm.runtime.shards import ShardedPopulation


FINAL_REASONS = frozenset({"completed", "kill_switch"})
"""How a run ends for good: such a run is not resumed (one interrupted, stopped or failed is)."""


class SimulationError(SwarmError):
    """A run that could not finish; the event log up to the failure is intact."""


def run_id_for(scenario: Scenario) -> str:
    """A run id derived from the scenario and seed (so identical runs have identical logs)."""
    blob = json.dumps(scenario.model_dump(mode="json"), sort_keys=True).encode()
    return "run-" + hashlib.sha256(blob).hexdigest()[:16]


def policy_name(policy: object) -> str:
    """How a custom policy is logged and measured: its class's own ``kind``, else its class name."""
    kind = type(policy).__dict__.get("kind")
    return kind if isinstance(kind, str) else type(policy).__name__


class _Resume:
    """``Simulation.resume(run_dir)`` goes on with a stopped run; ``await sim.resume()`` un-pauses ``sim``.

    On the class it is :meth:`Simulation.resume_run` (a run from its last checkpoint,
    see docs/reliability.md); on a simulation, the control that undoes
    :meth:`Simulation.pause` and :meth:`Simulation.step_epoch`.
    """

    @overload
    def __get__(self, obj: None, owner: type[Simulation]) -> Callable[..., Simulation]: ...

    @overload
    def __get__(
        self, obj: Simulation, owner: type[Simulation] | None = None
    ) -> Callable[[], Awaitable[None]]: ...

    def __get__(self, obj: Simulation | None, owner: type[Simulation] | None = None) -> Any:
        if obj is None:
            assert owner is not None
            return owner.resume_run
        return obj._resume_clock


class Simulation:
    """One run of a scenario, as an async context manager.

    >>> async with Simulation(scenario, out_dir="runs/demo") as sim:
    ...     async for event in sim.events():
    ...         print(event.type)
    >>> sim.result.summary.avg_toxicity

    The run starts when :meth:`events` is first iterated, or when the block exits
    (or :meth:`wait` is awaited), and nothing is printed or configured globally.
    ``policies`` replaces chosen agents' policies with your own (any object with
    the :class:`~swarm.Policy` methods); such an agent is logged and measured
    under its policy's own name. With ``freeze_heap`` (the default) the objects
    alive when the run starts are set aside from the garbage collector until it
    ends (``gc.freeze``/``gc.unfreeze``). ``shards`` spreads the agents over this
    process and ``shards - 1`` worker processes (``shard_backend="processes"``) or
    Ray actors (``"ray"``), with the same event log (see docs/scaling.md). With
    ``shard_balance`` (the default) agents move between shards between steps so that
    the shards finish each phase together; ``False`` keeps the first split (a
    :class:`~swarm.runtime.shard_balance.Rebalance` object decides the moves instead).
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        out_dir: str | Path | None = None,
        llm_factory: Any = None,
        governance: Governance | None = None,
        policies: Mapping[str, Policy] | None = None,
        stream_buffer: int = 10_000,
        freeze_heap: bool = True,
        shards: int = 1,
        shard_backend: str = "processes",
        shard_balance: bool | Rebalance = True,
        checkpoint_every: int | None = None,
        keep_checkpoints: int | None = None,
    ) -> None:
        load_builtins()
        if checkpoint_every is not None:
            if checkpoint_every < 1:
                raise ValueError(f"checkpoint_every must be at least 1 (epochs), got {checkpoint_every}")
            if out_dir is None:
                raise ValueError("checkpoints are written beside the event log: give out_dir too")
        if keep_checkpoints is not None and keep_checkpoints < 1:
            raise ValueError(f"keep_checkpoints must be at least 1, got {keep_checkpoints}")
        self._checkpoint_every = checkpoint_every
        self._keep_checkpoints = keep_checkpoints
        self._plan: _Restore | None = None
        self._world: World | None = None
        self._population: ShardedPopulation | None = None
        self._factory: Any = None
        self._codec: Any = None
        if shards != 1 or shard_backend != "processes":
            from swarm.runtime.shards import check_sharding

            check_sharding(shards, shard_backend)
        self._shards, self._shard_backend = shards, shard_backend
        self._shard_balance = shard_balance
        self.scenario = scenario
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self._llm_factory = llm_factory
        self._custom = dict(policies or {})
        unknown = sorted(set(self._custom) - {a for a, _ in scenario.agent_ids()})
        if unknown:
            raise ValueError(f"policies given for agents the scenario does not have: {', '.join(unknown)}")
        self._governance = governance
        self._stream_buffer = stream_buffer
        self._freeze_heap = freeze_heap
        self._stack: AsyncExitStack | None = None
        self._sub: Subscription[EventBatch] | None = None
        self._done = anyio.Event()
        self._started = False
        self._result: SimulationResult | None = None
        self._clock: SimulationClock | None = None
        self._writer: EventLogWriter | None = None
        self._error: SimulationError | None = None
        self._bus = EventBus()
        self._ended = False

    @property
    def log_path(self) -> Path | None:
        return self.out_dir / "events.jsonl" if self.out_dir is not None else None

    @property
    def step_seconds(self) -> list[float]:
        """Wall-clock seconds of each step completed so far (for profiling; never in the event log)."""
        return list(self._clock.step_seconds) if self._clock is not None else []

    @property
    def shards(self) -> int:
        """The shards the agents are spread over (1: all in this process)."""
        return self._shards

    @property
    def agents_moved(self) -> int:
        """Agents moved between shards so far by the balance (0 for a run in one process)."""
        return self._population.moved if self._population is not None else 0

    @property
    def resumed_from(self) -> int | None:
        """For a resumed run or a fork: the epoch it goes on with (its checkpoint's); else None."""
        return self._plan.info.epoch if self._plan is not None else None

    @property
    def result(self) -> SimulationResult:
        """The finished run's result (available once the run is over)."""
        if self._result is None:
            raise RuntimeError("the simulation has not finished yet")
        return self._result

    async def __aenter__(self) -> Simulation:
        self._stack = AsyncExitStack()
        self._tg = await self._stack.enter_async_context(anyio.create_task_group())
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._stack is not None
        try:
            if exc_type is None:
                # Nobody reads the stream once the block is left (a loop over events() broken
                # off early, its generator still referenced): a full stream must not hold the run.
                if self._sub is not None:
                    self._sub.close()
                self._ensure_started()
                await self._done.wait()
            else:
                self._tg.cancel_scope.cancel()
        finally:
            if self._sub is not None:
                self._sub.close()
            await self._stack.__aexit__(None, None, None)
        if exc_type is None and self._error is not None:
            raise self._error

    async def wait(self) -> SimulationResult:
        """Run to the end (if not already running) and return the result."""
        self._ensure_started()
        await self._done.wait()
        if self._error is not None:
            raise self._error
        return self.result

    _cancel_reason = "cancelled"
    """The ``run_ended`` reason of a cancelled run (the command line sets ``interrupted`` on a signal)."""

    async def events(self) -> AsyncIterator[Event]:
        """Every event of the run, live and typed, in log order, ending with ``RunEnded``.

        Leaving the loop early is fine: the stream is closed and the run goes on to its end.
        """
        if self._started:
            raise RuntimeError("events() must be iterated before the run starts (call it once, first)")
        self._sub = self._bus.topic.subscribe(maxsize=max(1, self._stream_buffer // 100))
        self._ensure_started()
        try:
            async for batch in self._sub:
                for event in batch.events:
                    yield event
                    if isinstance(event, RunEnded):
                        return
        finally:
            self._sub.close()

    def _ensure_started(self) -> None:
        if not self._started:
            self._started = True
            self._tg.start_soon(self._run)

    async def _run(self) -> None:
        try:
            agents = sum(spec.count for spec in self.scenario.agents)
            with _held_full_collections(self._freeze_heap, agents):
                await self._execute()
        except SimulationError as exc:
            self._error = exc
        finally:
            self._done.set()
            if self._sub is not None:
                self._sub.close()

    def _seats(self, factory: Any, sc: Scenario) -> tuple[list[Seat], AgentStreams]:
        """The agents of ``sc`` with their policies, and the random streams those policies draw from."""
        ids = sc.agent_ids()
        streams = AgentStreams(sc.simulation.seed, [a for a, _ in ids])
        by_id = dict(zip((a for a, _ in ids), streams.streams, strict=True))
        ctx = BuildContext(sc, sc.simulation.seed, {a: spec.type for a, spec in ids}, factory, by_id)
        seats = []
        for agent_id, spec in ids:
            custom = self._custom.get(agent_id)
            if custom is not None:
                seats.append(Seat(agent_id, policy_name(custom), spec.role, custom))
                continue
            policy = AGENT_TYPES[spec.type].build(agent_id, spec, ctx)
            policy = with_role(policy, spec.role, agent_id, ctx.stream(agent_id), sc, spec.role_config)
            seats.append(Seat(agent_id, spec.type, spec.role, policy))
        return seats, streams

    async def _execute(self) -> None:
        sc = self.scenario
        factory = self._llm_factory
        needs_llm = any(spec.type == "llm" for spec in sc.agents)
        if factory is None and needs_llm:
            from swarm.agents.llm_backend import LLMBackend

            factory = LLMBackend()
        population = await self._spawn_shards()  # the workers start while the agents are built
        self._population = population
        try:
            seats, self._streams = self._seats(factory, sc)
            monitor = _llm_monitor(sc, factory, seats) if needs_llm or self._custom else None
            start = getattr(factory, "astart", None)
            if start is not None:
                await start()
            if population is not None:
                self._assign_shards(population, seats)
        except SwarmError as exc:
            await _close_population(population)
            await _close_llm(factory)
            if isinstance(exc, ShardFailure):
                raise SimulationError(f"the shards cannot start: {exc}") from exc
            raise
        except Exception as exc:
            await _close_population(population)
            await _close_llm(factory)
            if type(exc).__module__.startswith("adapters"):
                raise SimulationError(f"the LLM agents cannot start: {exc}") from exc
            raise
        self._factory = factory
        if self.log_path is not None:
            try:
                self._writer = self._open_log()
            except BaseException:
                await _close_population(population)
                await _close_llm(factory)
                raise
        started = time.time()
        reason = "completed"
        failure: BaseException | None = None
        world: World | None = None
        try:
            async with ActorSystem(name=f"swarm:{sc.scenario_id}") as system:
                if self._writer is not None:
                    self._bus.topic.attach(system.spawn(Recorder(self._writer), name="recorder"))
                governance = self._governance or _levers(sc, seats)
                if population is not None:
                    population.bind(system, sc.simulation.policy_timeout)
                world = World(system, sc, seats, governance, self._bus, self._streams, population)
                self._clock = SimulationClock(world, derive_rng(sc.simulation.seed, "schedule"))
                self._clock.monitor = monitor
                self._world = world
                if self._checkpoint_every is not None:
                    self._clock.boundary = self._checkpoint
                clock_ref = system.spawn(self._clock, name="clock")
                if self._plan is not None:
                    await self._restore(world, self._clock, self._plan, factory)
                for control in self._early_controls:  # asked for before the clock existed
                    await clock_ref.tell(control)
                if population is not None:
                    await population.ready()
                    if self._plan is not None:  # the workers' agents take the checkpoint's state too
                        await population.load_policies()
                if self._plan is None:
                    await self._bus.publish(self._opening(world))
                with _settled_heap(self._freeze_heap):
                    await clock_ref.tell(Start())
                    reason = await self._clock.finished
                if population is not None:
                    await population.flush()  # the shards' last lessons learnt (or their failure)
                reason = self._clock.stopped_by or reason
                await self._bus.publish([self._ending(reason, started, None)], "epoch")
                self._ended = True
        except (ActorFailed, ShardFailure, CheckpointError) as exc:
            reason, failure = "failed", exc
        except anyio.get_cancelled_exc_class():
            reason = self._cancel_reason
            raise
        finally:
            try:
                await self._finish(reason, started, failure, world)
            finally:
                await _close_population(population)
                await _close_llm(factory)
        if failure is not None:
            raise _explain_failure(failure) from failure
        unhealthy = getattr(monitor, "error", None)
        if reason == "llm_unhealthy" and unhealthy:
            raise SimulationError(f"the run stopped: {unhealthy}")

    async def _spawn_shards(self) -> ShardedPopulation | None:
        """With ``shards`` > 1, a sharded population whose workers are starting."""
        if self._shards == 1:
            return None
        from swarm.runtime.shards import ShardedPopulation

        population = ShardedPopulation(self._shards, self._shard_backend, self._shard_balance)
        try:
            await population.spawn()
        except BaseException as exc:
            await _close_population(population)
            if isinstance(exc, ShardFailure):
                raise SimulationError(f"the shards cannot start: {exc}") from exc
            raise
        return population

    def _assign_shards(self, population: ShardedPopulation, seats: list[Seat]) -> None:
        """Deal the agents out to the shards; this process's clock steps only its own agents' streams."""
        streams = self._streams
        population.assign(self.scenario, seats, streams.streams, frozenset(self._custom))
        self._streams = population.pool  # kept in step with the agents that move here and away

    # ------------------------------------------------------------------ checkpoints, resume, forks

    @classmethod
    def resume_run(cls, run_dir: str | Path, *, epoch: int | None = None, **kwargs: Any) -> Simulation:
        """A Simulation that goes on with the run in ``run_dir`` from its last usable checkpoint.

        ``epoch`` picks the checkpoint taken when that many epochs were complete
        instead. The log is cut back to that checkpoint and continued, so a run
        killed at any point and resumed ends with the same log as one never
        interrupted (the ``wall_clock`` field aside). ``kwargs`` are the
        constructor's (an ``llm_factory`` replaying the same cassette, say);
        checkpoints go on being written every epoch unless ``checkpoint_every``
        says otherwise. A sharded run goes on over as many shards, on the same
        backend, as the checkpoint records unless ``shards``/``shard_backend`` say
        otherwise (a checkpoint resumes with any shard count: the log is the same).
        """
        from swarm.runtime import checkpoint as ck

        run = Path(run_dir)
        header, log = _read_run(run)
        scenario = _scenario_of(header, log)
        reason = ck.ended(log)
        if reason in FINAL_REASONS:
            raise ck.CheckpointError(f"{run}: the run is over ({reason}); nothing to resume (fork it)")
        path, info = ck.choose(run, log, header.run_id, epoch)
        kwargs.setdefault("checkpoint_every", 1)
        _recorded_shards(kwargs, info)
        sim = cls(scenario, out_dir=run, **kwargs)
        sim._plan = _Restore(path, info)
        return sim

    @classmethod
    def fork(
        cls,
        run_dir: str | Path,
        *,
        at_epoch: int,
        scenario: Scenario,
        out_dir: str | Path,
        **kwargs: Any,
    ) -> Simulation:
        """A branch of the run in ``run_dir`` from its checkpoint at ``at_epoch``, under ``scenario``.

        ``scenario`` is the original with changes (``original.with_overrides([...])``,
        another seed, more epochs); the agents must stay the same. What the change
        alters takes effect at the fork; everything else carries over from the
        checkpoint (see :mod:`swarm.runtime.checkpoint`). The fork's log starts
        with its own header (naming the original) and the original's events up to
        the fork; with no change it is the original's log. Like a resumed run it
        uses the shards its checkpoint records unless ``shards`` says otherwise.
        """
        from swarm.runtime import checkpoint as ck

        run = Path(run_dir)
        header, log = _read_run(run)
        original = _scenario_of(header, log)
        ck.check_fork(original, scenario)
        path, info = ck.choose(run, log, header.run_id, at_epoch, exact=True)
        kwargs.setdefault("checkpoint_every", 1)
        _recorded_shards(kwargs, info)
        sim = cls(scenario, out_dir=out_dir, **kwargs)
        sim._plan = _Restore(path, info, original=original, source_log=log, source_run=header.run_id)
        return sim

    def _open_log(self) -> EventLogWriter:
        assert self.log_path is not None
        sc, plan = self.scenario, self._plan
        if plan is not None and plan.original is None:
            return EventLogWriter.resume(self.log_path, plan.info.log_bytes)
        header = LogHeader(
            run_id=run_id_for(sc),
            seed=sc.simulation.seed,
            scenario=sc.model_dump(mode="json"),
            versions=package_versions(),
        )
        if plan is None:
            return EventLogWriter(self.log_path, header)
        assert plan.source_log is not None
        origin = {"run_id": plan.source_run, "log": str(plan.source_log), "epoch": plan.info.epoch}
        header = header.model_copy(update={"forked_from": origin})
        return EventLogWriter.fork(self.log_path, header, plan.source_log, plan.info.log_bytes)

    async def _checkpoint(self, epochs: int, ticks: int) -> None:
        """Write a checkpoint when ``epochs`` epochs are complete (every ``checkpoint_every``)."""
        from swarm.runtime import checkpoint as ck

        every = self._checkpoint_every
        world, clock, writer = self._world, self._clock, self._writer
        if every is None or epochs % every or world is None or clock is None or writer is None:
            return
        assert self.out_dir is not None and self.log_path is not None
        if epochs == 0 and self._plan is None:
            for stale in ck.list_checkpoints(self.out_dir):  # an earlier run's, in a folder overwritten
                stale.unlink()
        await world.system.settle(exclude=clock.ref)  # every event written, every actor at rest
        if self._population is not None:  # every shard's agents as they are now (all lessons learnt)
            await self._population.save_policies()
        if self._codec is None:
            self._codec = ck.StateCodec()
        blob = self._codec.dumps(world, clock, self._factory)
        writer.flush(fsync=True)
        offset = writer.tell()
        info = ck.CheckpointInfo(
            format=ck.FORMAT,
            version=ck.VERSION,
            run_id=run_id_for(self.scenario),
            epoch=epochs,
            ticks=ticks,
            seq=self._bus.seq,
            log_bytes=offset,
            log_tail=ck.tail_digest(ck.last_line_before(self.log_path, offset)),
            shards=self._shards,
            shard_backend=self._shard_backend,
        )
        ck.write(ck.path_for(self.out_dir, epochs), info, blob)
        if self._keep_checkpoints is not None:
            for old in ck.list_checkpoints(self.out_dir)[: -self._keep_checkpoints]:
                old.unlink(missing_ok=True)

    async def _restore(self, world: World, clock: SimulationClock, plan: _Restore, factory: Any) -> None:
        """Give the fresh world the checkpoint's state (for a fork, what the change alters stays fresh)."""
        from swarm.runtime import checkpoint as ck

        self._codec = ck.StateCodec()
        keep: frozenset[str] = frozenset()
        if plan.original is not None:
            mine = self._codec.field_bytes(world, clock, factory)
            theirs = await self._fresh_fields(plan.original, factory)
            keep = frozenset(k for k, v in mine.items() if theirs.get(k) != v)
        payload = ck.read_state(plan.path, ck.named_objects(world, clock, factory))
        ck.restore(world, clock, payload, keep_fresh=keep)
        clock.ticks = plan.info.ticks
        self._bus.seq = plan.info.seq

    async def _fresh_fields(self, scenario: Scenario, factory: Any) -> dict[str, bytes]:
        """Each saved attribute of a fresh world of ``scenario`` (built aside, never run)."""
        from swarm.runtime import checkpoint as ck

        seats, streams = self._seats(factory, scenario)
        governance = _levers(scenario, seats)
        async with ActorSystem(name=f"swarm:{scenario.scenario_id}:fork-base") as system:
            world = World(system, scenario, seats, governance, EventBus(), streams)
            clock = SimulationClock(world, derive_rng(scenario.simulation.seed, "schedule"))
            clock.monitor = _llm_monitor(scenario, factory, seats)
            fields = ck.StateCodec().field_bytes(world, clock, factory)
        return fields

    def _opening(self, world: World) -> list[Event]:
        sc = self.scenario
        sim = sc.simulation
        books = world.books.agents
        events: list[Event] = [
            RunStarted(
                scenario_id=sc.scenario_id,
                seed=sim.seed,
                n_agents=len(world.seats),
                n_epochs=sim.n_epochs,
                steps_per_epoch=sim.steps_per_epoch,
            )
        ]
        for seat in world.seats:
            b = books[seat.agent_id]
            events.append(
                AgentCreated(
                    agent_id=seat.agent_id,
                    agent_type=seat.agent_type,
                    policy=type(unwrap(seat.policy)).__name__,
                    role=seat.role,
                    reputation=b.reputation,
                    resources=b.resources,
                )
            )
        return events

    def _ending(self, reason: str, started: float, failure: BaseException | None) -> RunEnded:
        clock = self._clock
        epochs = clock.epochs if clock is not None else []
        wall: dict[str, Any] = {"started_at": started, "elapsed_s": round(time.time() - started, 6)}
        if failure is not None:
            wall["error"] = str(_explain_failure(failure))
        ticks = clock.ticks if clock is not None else 0
        steps = self.scenario.simulation.steps_per_epoch
        epoch = max(ticks - 1, 0) // steps
        step = steps if len(epochs) > epoch else max(ticks - 1, 0) % steps
        return RunEnded(epoch=epoch, step=step, epochs_completed=len(epochs), reason=reason, wall_clock=wall)

    async def _finish(
        self, reason: str, started: float, failure: BaseException | None, world: World | None
    ) -> None:
        if not self._ended:
            end = self._ending(reason, started, failure)
            numbered(end, self._bus.seq + 1)
            if self._writer is not None and not self._writer.closed:
                self._writer.write([end])
            if self._sub is not None and not self._sub.closed:
                with anyio.move_on_after(1):
                    await self._sub._put(EventBatch((end,), "epoch"))
        if self._writer is not None:
            self._writer.close()
        clock = self._clock
        epochs: list[Metrics] = list(clock.epochs) if clock is not None else []
        agents = world.collector.agent_rows() if world is not None else []
        detected = frozenset(getattr(world.collector, "detected", ())) if world is not None else frozenset()
        summary = summarize(epochs, agents, detected)
        report = getattr(clock.monitor if clock is not None else None, "report", None)
        llm: dict[str, Any] | None = report() if report is not None else None
        if llm is not None:  # every call, an epoch cut short by a budget stop included
            summary.update(llm_calls=llm["calls"], llm_cost_usd=llm["cost_usd"])
        self._result = SimulationResult(
            scenario_id=self.scenario.scenario_id,
            seed=self.scenario.simulation.seed,
            reason=reason,
            epochs=epochs,
            agents=agents,
            summary=summary,
            criteria=evaluate_criteria(self.scenario, summary),
            log_path=str(self.log_path) if self.log_path else None,
            agent_history=world.collector.history() if world is not None else AgentHistory([], []),
            llm=llm,
        )
        if self.out_dir is not None:
            write_outputs(self.out_dir, self.scenario, self._result)

    # Control plane (for embedding code and the dashboard). Each call is a message to the clock,
    # handled between two steps, so a paused and resumed run writes the same log as one that never
    # paused. Called before the clock exists, a control is kept and sent to it first; once the run
    # is over, a control does nothing.

    _early_controls: tuple[Pause | Resume | AdvanceTo | Stop, ...] = ()
    _paused = False

    @property
    def paused(self) -> bool:
        """Whether the last control was :meth:`pause` or :meth:`step_epoch` (not yet resumed)."""
        return self._paused

    async def pause(self) -> None:
        """Pause after the step under way; nothing happens until :meth:`resume`, :meth:`step_epoch`
        or :meth:`stop`. Called before the run starts, the run starts paused."""
        self._paused = True
        await self._control(Pause())

    resume = _Resume()

    async def _resume_clock(self) -> None:
        """Go on after :meth:`pause` or :meth:`step_epoch` (``await sim.resume()``)."""
        self._paused = False
        await self._control(Resume())

    async def step_epoch(self) -> None:
        """Run to the end of the epoch under way (a whole epoch if paused between two), then pause."""
        self._paused = True
        await self._control(AdvanceTo(multiple=self.scenario.simulation.steps_per_epoch))

    async def stop(self) -> None:
        """End the run after the step under way: a clean ``run_ended`` with reason ``stopped``
        (outputs written as for any ending)."""
        await self._control(Stop(reason="stopped"))

    async def _control(self, msg: Pause | Resume | AdvanceTo | Stop) -> None:
        clock = self._clock
        if clock is None:
            self._early_controls = (*self._early_controls, msg)
            return
        with suppress(ActorStopped):  # the run is over
            await clock.ref.tell(msg)


@dataclass(frozen=True)
class _Restore:
    """Where a resumed run or a fork starts: a checkpoint, and for a fork the original run."""

    path: Path
    info: CheckpointInfo
    original: Scenario | None = None
    source_log: Path | None = None
    source_run: str | None = None


def _recorded_shards(kwargs: dict[str, Any], info: CheckpointInfo) -> None:
    """A resumed run or a fork runs over the shards its checkpoint records, unless told otherwise."""
    if kwargs.get("shards") is None:
        kwargs["shards"] = info.shards
    if kwargs.get("shard_backend") is None:
        kwargs["shard_backend"] = info.shard_backend


def _levers(scenario: Scenario, seats: list[Seat]) -> Governance:
    """The levers ``scenario`` switches on, set up for its agents."""
    types = {s.agent_id: s.agent_type for s in seats}
    return build_governance(scenario, Setup(scenario, None, SoftPayoffEngine(scenario.payoff), types))


def _read_run(run: Path) -> tuple[LogHeader, Path]:
    """A run folder's log header (a clear error when the folder holds no run)."""
    from swarm.errors import LogError
    from swarm.runtime import checkpoint as ck

    log = run / "events.jsonl"
    if not run.is_dir():
        raise ck.CheckpointError(f"{run}: no such run folder")
    if not log.is_file():
        raise ck.CheckpointError(f"{run}: not a run folder (no events.jsonl)")
    try:
        with log.open("rb") as fh:
            return parse_header(fh.readline(), log), log
    except LogError as exc:
        raise ck.CheckpointError(str(exc)) from None


def _scenario_of(header: LogHeader, log: Path) -> Scenario:
    from swarm.scenario import validate_scenario

    return validate_scenario(header.scenario, source=f"{log} (header)")


def _explain_failure(exc: BaseException) -> SimulationError:
    cause = exc.__cause__
    if isinstance(cause, PolicyError | RunFailure | CheckpointError):
        return SimulationError(f"the run stopped: {cause}")
    return SimulationError(f"the run stopped: {exc}")


def _llm_monitor(scenario: Scenario, factory: object, seats: list[Seat]) -> Any:
    """The run's LLM monitor (:class:`swarm.agents.llm_usage.LLMMonitor`): the LLM backend's, else a
    new one, given to every LLM policy that reports to none; None in a run without LLM policies."""
    from swarm.agents.llm import LLMPolicy
    from swarm.agents.llm_usage import LLMMonitor

    policies = [p for p in (unwrap(s.policy) for s in seats) if isinstance(p, LLMPolicy)]
    if not policies:
        return None
    monitor = getattr(factory, "monitor", None)
    if not isinstance(monitor, LLMMonitor):
        monitor = LLMMonitor.for_scenario(scenario)
    for policy in policies:
        if policy.monitor is None:
            policy.monitor = monitor
    return monitor


def run(scenario: Scenario, **kwargs: Any) -> SimulationResult:
    """Run a scenario to the end, synchronously (for scripts and notebooks without a loop)."""

    async def _main() -> SimulationResult:
        async with Simulation(scenario, **kwargs) as sim:
            return await sim.wait()

    return anyio.run(_main)


async def _close_llm(factory: object) -> None:
    """Close the LLM backend's network clients (bound to this event loop) when the run ends."""
    close = getattr(factory, "aclose", None)
    if close is not None:
        with anyio.CancelScope(shield=True):
            await close()


async def _close_population(population: ShardedPopulation | None) -> None:
    """Stop a sharded population's workers (whatever else is going on)."""
    if population is not None:
        with anyio.CancelScope(shield=True):
            await population.aclose()


@contextmanager
def _settled_heap(enabled: bool) -> Iterator[None]:
    """Keep the garbage collector off the heap that exists when the run starts (``gc.freeze``)."""
    if not enabled:
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


_held: list[tuple[int, int, int]] = []
"""The collector's thresholds before the first of the runs now holding full collections back."""


@contextmanager
def _held_full_collections(enabled: bool, agents: int = 0) -> Iterator[None]:
    """Hold full collections back and collect the youngest generation less often while runs are being
    built and run (:func:`swarm.runtime._collection.held_thresholds`). The thresholds come back when
    the last run holding them ends (runs may overlap in one loop; a larger one joining raises them).
    """
    if not enabled:
        yield
        return
    now = gc.get_threshold()
    _held.append(_held[0] if _held else now)
    gc.set_threshold(*held_thresholds(agents, now))
    try:
        yield
    finally:
        saved = _held.pop()
        if not _held:
            gc.set_threshold(*saved)
