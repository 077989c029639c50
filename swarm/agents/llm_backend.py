"""Wire LLM agents to adapters: one shared adapter stack per provider, live, recorded or replayed.

``LLMBackend`` is the ``llm_factory`` a :class:`~swarm.Simulation` takes. In
``live`` mode it builds the standard stack per provider (keys from the
environment; ``OPENAI_BASE_URL``/``ANTHROPIC_BASE_URL`` honoured, so a mock
server can stand in); ``record`` also writes every exchange to a cassette;
``replay`` serves a cassette with no network and no keys, once its header
matches the scenario and seed being run (:meth:`LLMBackend.check`). The ``scripted``
provider (or ``scripted=True`` for every agent) answers with scripted policies, offline.

Live requests of many agents are spread over worker processes
(:class:`~adapters.ShardedAdapter`): each SDK request costs a millisecond or two
of CPU, which with hundreds of LLM agents is what a single process runs out of.
By default the number of workers follows from the number of LLM agents using
a provider (:func:`auto_workers`); ``workers=N`` fixes it. Before the first step
the workers are started and the connections the first step needs are opened
(:meth:`LLMBackend.fork_workers` and :meth:`LLMBackend.prepare` start them early, while the
rest of the run is set up).
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, Any

from adapters import (
    CassetteError,
    CassetteWriter,
    LLMAdapter,
    RecordingAdapter,
    ReplayAdapter,
    ScriptedAdapter,
    ShardedAdapter,
    UsageMeter,
    build_adapter,
    close_adapter,
    require_credentials,
    warm_adapter,
)
from adapters._types import CompletionRequest
from swarm.agents.llm import LLMAgentSpec, LLMPolicy, LLMSpec, llm_spec, scenario_components
from swarm.agents.llm_responder import scripted_answer
from swarm.agents.llm_schema import AcceptChoice, action_choice
from swarm.agents.llm_usage import LLMMonitor, rate_limits_for
from swarm.agents.policy import Policy

if TYPE_CHECKING:
    import httpx

    from swarm.scenario import Scenario

AGENTS_PER_WORKER = 50
"""LLM agents of one provider per worker process when the number of workers is chosen automatically."""

MIN_CONCURRENCY = 64
"""The smallest automatic cap on requests in flight per provider."""

_Key = tuple[str, str | None, float, int]


def available_cores() -> int:
    """The CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - platforms without affinity (macOS, Windows)
        return os.cpu_count() or 1


def auto_workers(llm_agents: int, cores: int | None = None) -> int:
    """Worker processes for ``llm_agents`` live LLM agents of one provider.

    One per :data:`AGENTS_PER_WORKER` agents, rounded up, and at most one per core;
    1 means no worker process (up to 50 agents, or on one core), the requests
    then go out from the simulation's own process. On 2 cores: 1-50 agents → 1,
    51 or more → 2.
    """
    cores = available_cores() if cores is None else cores
    return max(1, min(cores, -(-llm_agents // AGENTS_PER_WORKER)))


def auto_concurrency(llm_agents: int) -> int:
    """The default cap on requests in flight for ``llm_agents`` agents of a provider: 2 each, at least 64."""
    return max(MIN_CONCURRENCY, 2 * llm_agents)


async def _scripted(request: CompletionRequest[object]) -> dict[str, object]:  # type: ignore[type-var]
    susceptibility = float(request.metadata.get("susceptibility", 0.0))
    return await scripted_answer(request.system, request.user, request.schema.__name__, susceptibility)


def _susceptibility(scenario: Scenario) -> float | None:
    """The scripted double's susceptibility to injected instructions (None: no threat model)."""
    from swarm.env.security import Security, SecuritySection

    if not Security.enabled(scenario):
        return None
    section = scenario.section(Security.key) or SecuritySection()
    return float(section.susceptibility)


def _key(spec: LLMSpec) -> _Key:
    return (spec.provider, spec.base_url, spec.timeout, spec.max_retries)


def llm_groups(scenario: Scenario) -> dict[_Key, tuple[LLMSpec, int]]:
    """The scenario's LLM agents per adapter stack (provider, base URL, timeout, retries): a spec, a count."""
    groups: dict[_Key, tuple[LLMSpec, int]] = {}
    for spec in scenario.agents:
        if not isinstance(spec, LLMAgentSpec) or spec.count == 0:
            continue
        llm = llm_spec(spec)
        first, count = groups.get(_key(llm), (llm, 0))
        groups[_key(llm)] = (first, count + spec.count)
    return groups


class LLMBackend:
    """Builds LLM policies for a run and owns their adapters (and cassette).

    ``workers``: worker processes per live provider; ``None`` (the default) picks
    them from the number of LLM agents using it (:func:`auto_workers`).
    ``max_concurrency``: requests in flight per provider (shared by its workers);
    ``None`` allows two per agent, at least 64 (:func:`auto_concurrency`).
    ``warm``: open the connections the first step needs before it starts.
    """

    def __init__(
        self,
        *,
        record: str | None = None,
        replay: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        max_concurrency: int | None = None,
        scripted: bool = False,
        workers: int | None = None,
        warm: bool = True,
    ) -> None:
        if workers is not None and workers < 1:
            raise ValueError("workers must be at least 1")
        if workers is not None and workers > 1 and http_client is not None:
            raise ValueError("an injected http_client serves one process: use workers=1 with it")
        if max_concurrency is not None and max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.scripted = scripted
        self.workers = workers
        if record and replay:
            raise ValueError("record and replay are mutually exclusive")
        self.meter = UsageMeter()
        self.http_client = http_client
        self.max_concurrency = max_concurrency
        self.warm = warm
        self._replay_path = replay
        self._replay: ReplayAdapter | None = None
        self._cassette = CassetteWriter(record) if record else None
        self._providers: dict[_Key, LLMAdapter] = {}
        self._counts: dict[_Key, int] = {}
        self._schemas: set[tuple[str, ...]] = set()
        self._scenario: Scenario | None = None
        self.monitor: LLMMonitor | None = None
        """The current run's LLM accounting (calls, cost, failures; made when its policies are built)."""

    def workers_for(self, llm_agents: int) -> int:
        """Worker processes for a live provider used by ``llm_agents`` agents (1: none, in-process)."""
        if self.http_client is not None:
            return 1
        return self.workers if self.workers is not None else auto_workers(llm_agents)

    def _live(self, spec: LLMSpec) -> bool:
        return not (self.scripted or spec.provider == "scripted" or self._replay_path is not None)

    def check(self, scenario: Scenario) -> None:
        """Ready the cassette for a run of ``scenario``, before it starts.

        Replaying: read the whole cassette and check it, and that its header names
        this scenario and seed; every recorded answer can be served again. Recording:
        name the run in the cassette's header. Raises :class:`~adapters.CassetteError`
        (bad input: the file, line and field, and what was expected).
        """
        seed = scenario.simulation.seed
        if self._replay_path is not None:
            if self._replay is None:
                self._replay = ReplayAdapter(self._replay_path)
            else:
                self._replay.rewind()
            self._replay.check(scenario.scenario_id, seed)
        if self._cassette is not None:
            self._cassette.begin(scenario.scenario_id, seed)

    def _plan(self, scenario: Scenario) -> None:
        """Check the cassette and count the scenario's agents per adapter stack (once per scenario)."""
        if self._scenario is not scenario:
            self.monitor = LLMMonitor.for_scenario(scenario)
            self.check(scenario)
            self._scenario = scenario
            self._counts = {key: count for key, (_, count) in llm_groups(scenario).items()}
            self._schemas.add(scenario_components(scenario))

    def _provider(self, spec: LLMSpec) -> LLMAdapter:
        key = _key(spec)
        if key not in self._providers:
            agents = self._counts.get(key, 1)
            limit = self.max_concurrency or auto_concurrency(agents)
            workers = self.workers_for(agents)
            limits = (
                rate_limits_for(self._scenario.llm, spec.provider)
                if self._scenario is not None and spec.provider != "scripted"
                else {}
            )
            if spec.provider == "scripted" or self.scripted:
                adapter: LLMAdapter = ScriptedAdapter(_scripted)
            elif workers > 1:
                require_credentials(spec.provider)
                recipe = functools.partial(
                    build_adapter,
                    spec.provider,
                    base_url=spec.base_url,
                    max_concurrency=-(-limit // workers),
                    max_retries=spec.max_retries,
                    timeout=spec.timeout,
                    rate_limits={m: r.divided(workers) for m, r in limits.items()},
                )
                adapter = ShardedAdapter(recipe, workers, meter=self.meter)
            else:
                adapter = build_adapter(
                    spec.provider,
                    base_url=spec.base_url,
                    max_concurrency=limit,
                    max_retries=spec.max_retries,
                    timeout=spec.timeout,
                    http_client=self.http_client,
                    meter=self.meter,
                    rate_limits=limits,
                )
            if self._cassette is not None:
                adapter = RecordingAdapter(adapter, self._cassette)
            self._providers[key] = adapter
        return self._providers[key]

    def adapter_for(self, spec: LLMSpec) -> LLMAdapter:
        if self._replay_path is not None:
            if self._replay is None:
                raise CassetteError(self._replay_path, "not checked", "LLMBackend.check(scenario) first")
            return self._replay
        return self._provider(spec)

    def __call__(self, agent_id: str, spec: object, scenario: Scenario) -> Policy:
        self._plan(scenario)
        llm = llm_spec(spec)
        model = llm.role_models.get(getattr(spec, "role", "worker"), llm.model)
        return LLMPolicy(
            agent_id,
            self.adapter_for(llm),
            model=model,
            components=scenario_components(scenario),
            persona=llm.persona,
            temperature=llm.temperature,
            max_tokens=llm.max_tokens,
            system_prompt=llm.system_prompt,
            monitor=self.monitor,
            priced=llm.cost_tracking and not (self.scripted or llm.provider == "scripted"),
            susceptibility=_susceptibility(scenario) if not self._live(llm) else None,
        )

    def _preload(self) -> tuple[object, ...]:
        return (AcceptChoice, *(action_choice(c) for c in sorted(self._schemas)))

    def _connections(self, key: _Key) -> int:
        """Connections the first step opens for a provider: one per agent, within its cap."""
        agents = self._counts.get(key, 0)
        return min(agents, self.max_concurrency or auto_concurrency(agents)) if self.warm else 0

    def fork_workers(self, scenario: Scenario) -> int:
        """Start the worker processes ``scenario``'s LLM agents need now, by forking this process.

        For a command line, before its event loop starts: forked workers begin
        with every module already imported here and load their SDK while the run
        is set up. Only where forking is safe (:meth:`ShardedAdapter.fork`);
        otherwise, and for providers served in-process, nothing happens here.
        Best effort, like :meth:`prepare`; returns the number of adapters forked.
        """
        self._plan(scenario)
        forked = 0
        try:
            for spec, count in llm_groups(scenario).values():
                if not self._live(spec) or self.workers_for(count) < 2:
                    continue
                adapter = _unwrap(self._provider(spec))
                if isinstance(adapter, ShardedAdapter) and adapter.fork():
                    forked += 1
        except Exception:
            pass
        return forked

    async def prepare(self, scenario: Scenario) -> None:
        """Start what ``scenario``'s LLM agents need now, without waiting for it.

        Builds the adapters and starts the worker processes (which then load
        their SDKs and open their connections) while the caller sets up the rest
        of the run; :meth:`astart` waits for them. Optional (``astart`` does all
        of it otherwise) and best effort: a problem (a missing key, say) is left
        for the run to report as it would without this call.
        """
        self._plan(scenario)
        try:
            for key, (spec, _) in llm_groups(scenario).items():
                if not self._live(spec):
                    continue
                adapter = _unwrap(self._provider(spec))
                if isinstance(adapter, ShardedAdapter):
                    await adapter.spawn(preload=self._preload(), warm=self._connections(key))
        except Exception:
            return

    async def astart(self) -> None:
        """Make the adapters ready before the first step: worker processes started, connections open.

        A :class:`~swarm.Simulation` calls this once its policies are built, so
        process start-up and connection set-up are not counted in the first step.
        """
        for key, adapter in self._providers.items():
            inner = _unwrap(adapter)
            if isinstance(inner, ShardedAdapter):
                await inner.start(preload=self._preload(), warm=self._connections(key))
            elif self.http_client is None and self._connections(key):
                await warm_adapter(inner, self._connections(key))

    async def aclose(self) -> None:
        """Close the adapters' network clients; the next run builds fresh ones.

        A :class:`~swarm.Simulation` calls this when its run ends. The cassette
        being recorded stays open until :meth:`close`.
        """
        providers, self._providers = list(self._providers.values()), {}
        self._scenario = None
        for adapter in providers:
            await close_adapter(adapter)

    def close(self) -> None:
        """Finish the cassette being recorded (if any)."""
        if self._cassette is not None:
            self._cassette.close()


def _unwrap(adapter: Any) -> Any:
    return adapter.inner if isinstance(adapter, RecordingAdapter) else adapter
