"""The embedding API: :class:`Simulation` (async) and :func:`run` (synchronous)."""

from __future__ import annotations

import gc
import hashlib
import json
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import anyio

from actors import ActorFailed, ActorSystem, Start, Subscription
from swarm.agents.policy import Policy
from swarm.agents.types import AGENT_TYPES, BuildContext
from swarm.core.payoff import SoftPayoffEngine
from swarm.errors import PolicyError, RunFailure, ShardFailure, SwarmError
from swarm.events import AgentCreated, Event, Metrics, RunEnded, RunStarted, numbered
from swarm.governance.lever import Governance, build_governance
from swarm.kernel.bus import EventBatch, EventBus
from swarm.kernel.clock import SimulationClock
from swarm.kernel.component import Setup
from swarm.kernel.world import Seat, World
from swarm.registry import load_builtins
from swarm.runtime.eventlog import EventLogWriter, LogHeader, Recorder, package_versions
from swarm.runtime.result import SimulationResult, evaluate_criteria, summarize, write_outputs
from swarm.runtime.rng import AgentStreams, derive_rng
from swarm.scenario import Scenario

if TYPE_CHECKING:
    from swarm.runtime.shards import ShardedPopulation


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
    Ray actors (``"ray"``), with the same event log (see docs/scaling.md).
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
    ) -> None:
        load_builtins()
        if shards != 1 or shard_backend != "processes":
            from swarm.runtime.shards import check_sharding

            check_sharding(shards, shard_backend)
        self._shards, self._shard_backend = shards, shard_backend
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
            await self._execute()
        except SimulationError as exc:
            self._error = exc
        finally:
            self._done.set()
            if self._sub is not None:
                self._sub.close()

    def _seats(self, factory: Any) -> list[Seat]:
        sc = self.scenario
        ids = sc.agent_ids()
        self._streams = AgentStreams(sc.simulation.seed, [a for a, _ in ids])
        by_id = dict(zip((a for a, _ in ids), self._streams.streams, strict=True))
        ctx = BuildContext(sc, sc.simulation.seed, {a: spec.type for a, spec in ids}, factory, by_id)
        seats = []
        for agent_id, spec in ids:
            custom = self._custom.get(agent_id)
            if custom is not None:
                seats.append(Seat(agent_id, policy_name(custom), spec.role, custom))
                continue
            policy = AGENT_TYPES[spec.type].build(agent_id, spec, ctx)
            seats.append(Seat(agent_id, spec.type, spec.role, policy))
        return seats

    async def _execute(self) -> None:
        sc = self.scenario
        factory = self._llm_factory
        needs_llm = any(spec.type == "llm" for spec in sc.agents)
        if factory is None and needs_llm:
            from swarm.agents.llm_backend import LLMBackend

            factory = LLMBackend()
        population = await self._spawn_shards()  # the workers start while the agents are built
        try:
            seats = self._seats(factory)
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
        if self.log_path is not None:
            header = LogHeader(
                run_id=run_id_for(sc),
                seed=sc.simulation.seed,
                scenario=sc.model_dump(mode="json"),
                versions=package_versions(),
            )
            self._writer = EventLogWriter(self.log_path, header)
        started = time.time()
        reason = "completed"
        failure: BaseException | None = None
        world: World | None = None
        try:
            async with ActorSystem(name=f"swarm:{sc.scenario_id}") as system:
                if self._writer is not None:
                    self._bus.topic.attach(system.spawn(Recorder(self._writer), name="recorder"))
                types = {s.agent_id: s.agent_type for s in seats}
                governance = self._governance or build_governance(
                    sc, Setup(sc, None, SoftPayoffEngine(sc.payoff), types)
                )
                if population is not None:
                    population.bind(system, sc.simulation.policy_timeout)
                world = World(system, sc, seats, governance, self._bus, self._streams, population)
                self._clock = SimulationClock(world, derive_rng(sc.simulation.seed, "schedule"))
                clock_ref = system.spawn(self._clock, name="clock")
                if population is not None:
                    await population.ready()
                await self._bus.publish(self._opening(world))
                with _settled_heap(self._freeze_heap):
                    await clock_ref.tell(Start())
                    reason = await self._clock.finished
                if population is not None:
                    await population.flush()  # the shards' last lessons learnt (or their failure)
                reason = self._clock.stopped_by or reason
                await self._bus.publish([self._ending(reason, started, None)], "epoch")
                self._ended = True
        except (ActorFailed, ShardFailure) as exc:
            reason, failure = "failed", exc
        except anyio.get_cancelled_exc_class():
            reason = "cancelled"
            raise
        finally:
            try:
                await self._finish(reason, started, failure, world)
            finally:
                await _close_population(population)
                await _close_llm(factory)
        if failure is not None:
            raise _explain_failure(failure) from failure

    async def _spawn_shards(self) -> ShardedPopulation | None:
        """With ``shards`` > 1, a sharded population whose workers are starting."""
        if self._shards == 1:
            return None
        from swarm.runtime.shards import ShardedPopulation

        population = ShardedPopulation(self._shards, self._shard_backend)
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
        self._streams = streams.subset(population.local_indices)

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
                    policy=type(seat.policy).__name__,
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
        summary = summarize(epochs, agents)
        self._result = SimulationResult(
            scenario_id=self.scenario.scenario_id,
            seed=self.scenario.simulation.seed,
            reason=reason,
            epochs=epochs,
            agents=agents,
            summary=summary,
            criteria=evaluate_criteria(self.scenario, summary),
            log_path=str(self.log_path) if self.log_path else None,
        )
        if self.out_dir is not None:
            write_outputs(self.out_dir, self.scenario, self._result)


def _explain_failure(exc: BaseException) -> SimulationError:
    cause = exc.__cause__
    if isinstance(cause, PolicyError | RunFailure):
        return SimulationError(f"the run stopped: {cause}")
    return SimulationError(f"the run stopped: {exc}")


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
