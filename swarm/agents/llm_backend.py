"""Wire LLM agents to adapters: one shared adapter stack per provider, live, recorded or replayed.

``LLMBackend`` is the ``llm_factory`` a :class:`~swarm.Simulation` takes. In
``live`` mode it builds the standard stack per provider (keys from the
environment; ``OPENAI_BASE_URL``/``ANTHROPIC_BASE_URL`` honoured, so a mock
server can stand in); ``record`` also writes every exchange to a cassette;
``replay`` serves a cassette with no network and no keys. The ``scripted``
provider (or ``scripted=True`` for every agent) answers with scripted policies, offline.
With ``workers > 1`` live requests are spread over that many worker processes
(:class:`~adapters.ShardedAdapter`): each SDK request costs a millisecond or two
of CPU, which with hundreds of LLM agents is what a single process runs out of.
"""

from __future__ import annotations

import functools

import httpx

from adapters import (
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
)
from adapters._types import CompletionRequest
from swarm.agents.llm import LLMPolicy, LLMSpec, llm_spec, scenario_components
from swarm.agents.llm_responder import scripted_answer
from swarm.agents.llm_schema import AcceptChoice, action_choice
from swarm.agents.policy import Policy
from swarm.scenario import Scenario


async def _scripted(request: CompletionRequest[object]) -> dict[str, object]:  # type: ignore[type-var]
    return await scripted_answer(request.system, request.user, request.schema.__name__)


class LLMBackend:
    """Builds LLM policies for a run and owns their adapters (and cassette)."""

    def __init__(
        self,
        *,
        record: str | None = None,
        replay: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        max_concurrency: int = 64,
        scripted: bool = False,
        workers: int = 1,
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        if workers > 1 and http_client is not None:
            raise ValueError("an injected http_client serves one process: use workers=1 with it")
        self.scripted = scripted
        self.workers = workers
        if record and replay:
            raise ValueError("record and replay are mutually exclusive")
        self.meter = UsageMeter()
        self.http_client = http_client
        self.max_concurrency = max_concurrency
        self._replay = ReplayAdapter(replay) if replay else None
        self._cassette = CassetteWriter(record) if record else None
        self._providers: dict[tuple[str, str | None, float, int], LLMAdapter] = {}
        self._schemas: set[tuple[str, ...]] = set()

    def _provider(self, spec: LLMSpec) -> LLMAdapter:
        key = (spec.provider, spec.base_url, spec.timeout, spec.max_retries)
        if key not in self._providers:
            if spec.provider == "scripted" or self.scripted:
                adapter: LLMAdapter = ScriptedAdapter(_scripted)
            elif self.workers > 1:
                require_credentials(spec.provider)
                recipe = functools.partial(
                    build_adapter,
                    spec.provider,
                    base_url=spec.base_url,
                    max_concurrency=-(-self.max_concurrency // self.workers),
                    max_retries=spec.max_retries,
                    timeout=spec.timeout,
                )
                adapter = ShardedAdapter(recipe, self.workers, meter=self.meter)
            else:
                adapter = build_adapter(
                    spec.provider,
                    base_url=spec.base_url,
                    max_concurrency=self.max_concurrency,
                    max_retries=spec.max_retries,
                    timeout=spec.timeout,
                    http_client=self.http_client,
                    meter=self.meter,
                )
            if self._cassette is not None:
                adapter = RecordingAdapter(adapter, self._cassette)
            self._providers[key] = adapter
        return self._providers[key]

    def adapter_for(self, spec: LLMSpec) -> LLMAdapter:
        if self._replay is not None:
            return self._replay
        return self._provider(spec)

    def __call__(self, agent_id: str, spec: object, scenario: Scenario) -> Policy:
        llm = llm_spec(spec)
        model = llm.role_models.get(getattr(spec, "role", "worker"), llm.model)
        components = scenario_components(scenario)
        self._schemas.add(components)
        return LLMPolicy(
            agent_id,
            self.adapter_for(llm),
            model=model,
            components=components,
            persona=llm.persona,
            temperature=llm.temperature,
            max_tokens=llm.max_tokens,
            system_prompt=llm.system_prompt,
        )

    async def astart(self) -> None:
        """Start what the adapters need before the first step (the worker processes of ``workers > 1``).

        A :class:`~swarm.Simulation` calls this once its policies are built, so
        process start-up is not counted in the first step.
        """
        for adapter in self._providers.values():
            if isinstance(adapter, RecordingAdapter):
                adapter = adapter.inner
            if isinstance(adapter, ShardedAdapter):
                await adapter.start(
                    preload=(AcceptChoice, *(action_choice(c) for c in sorted(self._schemas)))
                )

    async def aclose(self) -> None:
        """Close the adapters' network clients; the next run builds fresh ones.

        A :class:`~swarm.Simulation` calls this when its run ends. The cassette
        being recorded stays open until :meth:`close`.
        """
        providers, self._providers = list(self._providers.values()), {}
        for adapter in providers:
            await close_adapter(adapter)

    def close(self) -> None:
        """Finish the cassette being recorded (if any)."""
        if self._cassette is not None:
            self._cassette.close()
