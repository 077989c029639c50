"""The embedding API: :class:`Simulation` (async) and :func:`run` (synchronous)."""

from __future__ import annotations

import gc
import hashlib
import json
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import anyio

from actors import ActorFailed, ActorSystem, Subscription, Topic
from adapters import LLMError, close_adapter
from swarm.agents.policy import Policy
from swarm.agents.registry import LLMPolicyFactory, build_policies, check_agent_configs
from swarm.errors import PolicyError, SwarmError
from swarm.events import Event, RunEnded
from swarm.governance.base import Governance
from swarm.runtime.driver import StepDriver
from swarm.runtime.eventlog import EventLogWriter, LogHeader, Record, Recorder, package_versions
from swarm.runtime.result import (
    AgentSummary,
    SimulationResult,
    evaluate_criteria,
    summarize_epochs,
    write_outputs,
)
from swarm.scenario import Scenario


class SimulationError(SwarmError):
    """A run that could not finish; the event log up to the failure is intact."""


def run_id_for(scenario: Scenario) -> str:
    """A run id derived from the scenario and seed (so identical runs have identical logs)."""
    blob = json.dumps(scenario.model_dump(mode="json"), sort_keys=True).encode()
    return "run-" + hashlib.sha256(blob).hexdigest()[:16]


def default_governance(scenario: Scenario) -> Governance:
    """The lever engine for the scenario's governance section."""
    from swarm.governance.engine import build_governance

    return build_governance(scenario)


class Simulation:
    """One run of a scenario, as an async context manager.

    >>> async with Simulation(scenario, out_dir="runs/demo") as sim:
    ...     async for event in sim.events():
    ...         print(event.type)
    >>> sim.result.summary.avg_toxicity

    The run starts when :meth:`events` is first iterated, or when the block exits
    (or :meth:`wait` is awaited), and nothing is printed or configured globally.
    ``policies`` replaces chosen agents' policies with your own (any object with
    the :class:`~swarm.Policy` methods). With ``freeze_heap`` (the default) the
    objects alive when the run starts are set aside from the garbage collector
    until it ends (``gc.freeze``/``gc.unfreeze``), which saves the collector from
    re-walking them; turn it off if your process must collect its older garbage
    while a run is going.
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        out_dir: str | Path | None = None,
        llm_factory: LLMPolicyFactory | None = None,
        governance: Governance | None = None,
        policies: Mapping[str, Policy] | None = None,
        stream_buffer: int = 10_000,
        freeze_heap: bool = True,
    ) -> None:
        check_agent_configs(scenario, "<scenario>")
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
        self._system: ActorSystem | None = None
        self._topic: Topic[Event] | None = None
        self._sub: Subscription[Event] | None = None
        self._done = anyio.Event()
        self._started = False
        self._result: SimulationResult | None = None
        self._driver: StepDriver | None = None
        self._writer: EventLogWriter | None = None
        self._error: SimulationError | None = None

    @property
    def log_path(self) -> Path | None:
        return self.out_dir / "events.jsonl" if self.out_dir is not None else None

    @property
    def step_seconds(self) -> list[float]:
        """Wall-clock seconds of each step completed so far (for profiling; never in the event log)."""
        return list(self._driver.state.step_seconds) if self._driver is not None else []

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
        """Every event of the run, live and typed, in log order, ending with ``RunEnded``."""
        if self._started:
            raise RuntimeError("events() must be iterated before the run starts (call it once, first)")
        self._topic = Topic("events")
        self._sub = self._topic.subscribe(maxsize=self._stream_buffer)
        self._ensure_started()
        async for event in self._sub:
            yield event
            if isinstance(event, RunEnded):
                break

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

    async def _execute(self) -> None:
        sc = self.scenario
        factory = self._llm_factory
        if factory is None and any(spec.type == "llm" for spec in sc.agents):
            from swarm.agents.llm_backend import LLMBackend

            factory = LLMBackend()
        try:
            policies = build_policies(sc, llm_factory=factory)
            start = getattr(factory, "astart", None)
            if start is not None:
                await start()
        except LLMError as exc:
            await _close_llm(factory)
            raise SimulationError(f"the LLM agents cannot start: {exc}") from exc
        for agent_id, policy in self._custom.items():
            policies[agent_id] = (f"{policies[agent_id][0]}:custom", policy)
        governance = self._governance if self._governance is not None else default_governance(sc)
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
        try:
            async with ActorSystem(name=f"swarm:{sc.scenario_id}") as system:
                recorder = system.spawn(Recorder(self._writer), name="recorder") if self._writer else None

                async def sink(events: Sequence[Event], sync: str) -> None:
                    if recorder is not None:
                        await recorder.ask(Record.model_construct(events=tuple(events), sync=sync))

                self._driver = StepDriver(
                    system, sc, policies, sink, governance=governance, topic=self._topic
                )
                with _settled_heap(self._freeze_heap):
                    state = await self._driver.run()
                if state.stopped is not None:
                    reason = state.stopped
                await system.stop()
        except ActorFailed as exc:
            reason, failure = "failed", exc
        except anyio.get_cancelled_exc_class():
            reason = "cancelled"
            raise
        finally:
            try:
                await self._finish(reason, started, failure)
            finally:
                await _close_llm(factory)
        if failure is not None:
            raise _explain_failure(failure) from failure

    async def _finish(self, reason: str, started: float, failure: BaseException | None) -> None:
        driver = self._driver
        epochs = driver.state.epochs if driver else []
        seq = driver.state.seq if driver else 0
        n_epochs = len(epochs)
        wall: dict[str, Any] = {"started_at": started, "elapsed_s": round(time.time() - started, 6)}
        if failure is not None:
            wall["error"] = str(_explain_failure(failure))
        end = RunEnded(
            seq=seq + 1,
            epoch=max(n_epochs - 1, 0),
            step=0,
            epochs_completed=n_epochs,
            reason=reason,
            wall_clock=wall,
        )
        if self._writer is not None:
            self._writer.write([end])
            self._writer.close()
        if self._topic is not None:
            with anyio.move_on_after(1):
                await self._topic.publish(end)
        agents = []
        if driver is not None:
            for rec in driver.ledger_state.agents.values():
                agents.append(
                    AgentSummary(
                        agent_id=rec.agent_id,
                        agent_type=rec.agent_type,
                        reputation=rec.reputation,
                        resources=rec.resources,
                        total_payoff=rec.total_payoff,
                        interactions_initiated=rec.interactions_initiated,
                        interactions_received=rec.interactions_received,
                        accepted_initiated=rec.accepted_initiated,
                        frozen=rec.frozen,
                    )
                )
        summary = summarize_epochs(epochs)
        self._result = SimulationResult(
            scenario_id=self.scenario.scenario_id,
            seed=self.scenario.simulation.seed,
            reason=reason,
            epochs=list(epochs),
            agents=agents,
            summary=summary,
            criteria=evaluate_criteria(self.scenario.success_criteria, summary, epochs, len(agents)),
            log_path=str(self.log_path) if self.log_path else None,
        )
        if self.out_dir is not None:
            write_outputs(self.out_dir, self.scenario, self._result)


def _explain_failure(exc: BaseException) -> SimulationError:
    cause = exc.__cause__
    if isinstance(cause, PolicyError):
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
    with anyio.CancelScope(shield=True):
        await close_adapter(factory)


@contextmanager
def _settled_heap(enabled: bool) -> Iterator[None]:
    """Keep the garbage collector off the heap that exists when the run starts.

    Imported modules (the provider SDKs define thousands of classes), policies,
    actors and the scenario live for the whole run; each full collection would
    walk them all again. ``gc.freeze`` sets them aside for the run (an O(1)
    move), and ``gc.unfreeze`` hands them back afterwards, so nothing stays
    uncollectable once the run is over.
    """
    if not enabled:
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
