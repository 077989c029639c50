"""What a run's LLM calls used, cost and suffered: the log's ``llm_call`` events, budgets, health.

Every LLM policy of a run reports each call it makes to the run's
:class:`LLMMonitor` (tokens, whether the answer needed the repair round, why it
failed, whether a fallback policy acted instead). The clock asks the monitor at
the end of every step for that step's events — sorted by agent (registration
order), phase and content, so the log does not depend on which answer came back
first — and whether the budget is spent; at the end of every epoch, whether too
many of its calls failed. The totals per agent, model and epoch go into
``summary.json`` (:meth:`LLMMonitor.report`).

Costs are computed here from the tokens and the run's price table (built-in,
then ``llm.prices_file``, then ``llm.prices``), so a run replayed from a cassette
costs exactly what the recorded run cost under the same prices.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from adapters import PriceTable, RateLimit
from swarm.errors import ScenarioError
from swarm.events import Event, LLMBudgetExceeded, LLMCall, LLMFallback, LLMUnhealthy

if TYPE_CHECKING:
    from swarm.scenario import Scenario
    from swarm.scenario._sections import LLMRunSpec

BUDGET_REASON = "llm_budget"
"""The ``run_ended`` reason of a run stopped by its LLM budget."""
UNHEALTHY_REASON = "llm_unhealthy"
"""The ``run_ended`` reason of a run stopped because too many of an epoch's LLM calls failed."""

_PHASES = {"act": 0, "accept": 1}


def cause_of(exc: BaseException) -> str:
    """A short name for why an LLM call failed (the ``error`` of an ``llm_call`` event)."""
    from adapters import CassetteMiss, InvalidOutput, LLMAuthError, LLMTimeout, ProviderError, RateLimited

    if refused(exc):
        return "rate_limited"
    if isinstance(exc, InvalidOutput):
        return "invalid_output"
    if isinstance(exc, LLMTimeout | TimeoutError):
        return "timeout"
    if isinstance(exc, LLMAuthError):
        return "auth"
    if isinstance(exc, CassetteMiss):
        return "cassette_miss"
    if isinstance(exc, ProviderError | RateLimited):
        return "provider_error"
    return type(exc).__name__


def refused(exc: BaseException) -> bool:
    """Whether the provider refused the request for its rate (429), after any retries."""
    from adapters import ProviderError, RateLimited

    return isinstance(exc, RateLimited) or (isinstance(exc, ProviderError) and exc.status == 429)


def price_table(settings: LLMRunSpec) -> PriceTable:
    """The built-in prices, overridden by ``llm.prices_file``, then by ``llm.prices``."""
    table = PriceTable.default()
    if settings.prices_file is not None:
        table = table.with_prices(_read_prices(settings.prices_file))
    if settings.prices:
        table = table.with_prices({m: (p.input, p.output) for m, p in settings.prices.items()})
    return table


def _read_prices(path: str) -> dict[str, tuple[float, float]]:
    from swarm.scenario._yaml import parse, read_text

    key = "llm.prices_file"
    expected = "a YAML or JSON mapping of model: {input: USD, output: USD} per million tokens"
    try:
        data = parse(read_text(path, "price file"))
    except ScenarioError as exc:
        problem = f"cannot read it ({exc.problem}{f', line {exc.line}' if exc.line else ''})"
        raise ScenarioError("<scenario>", key, problem, expected, value=path) from None
    if not isinstance(data, Mapping):
        raise ScenarioError(path, None, "not a mapping", expected)
    prices: dict[str, tuple[float, float]] = {}
    for model, entry in data.items():
        ok = isinstance(entry, Mapping) and set(entry) == {"input", "output"}
        values = [entry.get("input"), entry.get("output")] if ok else []
        if not ok or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 for v in values
        ):
            raise ScenarioError(path, str(model), "not a price", expected, value=entry)
        prices[str(model)] = (float(values[0]), float(values[1]))
    return prices


def rate_limits_for(settings: LLMRunSpec, provider: str) -> dict[str | None, RateLimit]:
    """The scenario's rate limits of one provider, by model (``None``: the provider as a whole)."""
    limits: dict[str | None, RateLimit] = {}
    for key, spec in settings.rate_limits.items():
        name, _, model = key.partition("/")
        if name == provider and (spec.requests_per_minute or spec.tokens_per_minute):
            limits[model or None] = RateLimit(spec.requests_per_minute, spec.tokens_per_minute)
    return limits


@dataclass(frozen=True, slots=True)
class _Call:
    agent_id: str
    epoch: int
    step: int
    phase: str
    model: str
    input_tokens: int
    output_tokens: int
    cost_usd: float
    repaired: bool
    error: str | None
    fallback: str | None
    detail: str
    reply: str | None
    rate_limited: int

    def order(self, index: Mapping[str, int]) -> tuple[Any, ...]:
        return (
            index.get(self.agent_id, len(index)),
            self.agent_id,
            _PHASES.get(self.phase, 2),
            self.phase,
            self.model,
            self.error or "",
            self.input_tokens,
            self.output_tokens,
            self.repaired,
            self.fallback or "",
            self.detail,
            self.reply or "",
            self.rate_limited,
        )


@dataclass
class _Totals:
    calls: int = 0
    failed: int = 0
    repaired: int = 0
    fallbacks: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    rate_limited: int = 0

    def add(self, call: _Call) -> None:
        self.calls += 1
        self.failed += call.error is not None and call.fallback is None
        self.repaired += call.repaired
        self.fallbacks += call.fallback is not None
        self.input_tokens += call.input_tokens
        self.output_tokens += call.output_tokens
        self.cost_usd += call.cost_usd
        self.rate_limited += call.rate_limited

    def as_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "failed": self.failed,
            "repaired": self.repaired,
            "fallbacks": self.fallbacks,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": round(self.cost_usd, 10),
            "rate_limited": self.rate_limited,
        }


@dataclass
class _Epoch:
    totals: _Totals = field(default_factory=_Totals)
    causes: Counter[str] = field(default_factory=Counter)
    examples: dict[str, _Call] = field(default_factory=dict)


class LLMMonitor:
    """One run's LLM accounting: per-call events, the budget, the failure ceiling, the summary."""

    def __init__(
        self,
        settings: LLMRunSpec,
        agents: Sequence[str],
        *,
        budget_usd: float | None = None,
        prices: PriceTable | None = None,
    ) -> None:
        self.settings = settings
        self.prices = prices if prices is not None else price_table(settings)
        self.budget_usd = budget_usd if budget_usd is not None else settings.max_cost_usd
        self._index = {a: k for k, a in enumerate(agents)}
        self._pending: list[_Call] = []
        self.total = _Totals()
        self.by_agent: dict[str, _Totals] = {}
        self.by_model: dict[str, _Totals] = {}
        self.by_epoch: dict[int, _Epoch] = {}
        self.causes: Counter[str] = Counter()
        self.unpriced: set[str] = set()
        self.stopped: str | None = None
        self.error: str | None = None
        """Why the run was stopped as unhealthy (the message the run fails with)."""

    @classmethod
    def for_scenario(cls, scenario: Scenario) -> LLMMonitor:
        """The monitor of a run of ``scenario``: its ``llm`` settings; the budget is ``llm.max_cost_usd``,
        else the success criterion ``max_llm_cost_usd`` (spending past it fails the run anyway)."""
        settings = scenario.llm
        budget = settings.max_cost_usd
        if budget is None:
            budget = getattr(scenario.success_criteria, "max_llm_cost_usd", None)
        return cls(settings, [a for a, _ in scenario.agent_ids()], budget_usd=budget)

    def record(
        self,
        agent_id: str,
        phase: str,
        epoch: int,
        step: int,
        model: str,
        *,
        input_tokens: int = 0,
        output_tokens: int = 0,
        repaired: bool = False,
        error: str | None = None,
        detail: str = "",
        reply: str | None = None,
        fallback: str | None = None,
        rate_limited: int = 0,
        priced: bool = True,
    ) -> None:
        """One call of ``agent_id`` (``priced``: counted in the cost; False for scripted answers and
        agents with ``cost_tracking: false``)."""
        cost = 0.0
        if priced:
            if self.prices.knows(model):
                from adapters import Usage

                cost = self.prices.cost(model, Usage(input_tokens, output_tokens))
            elif input_tokens or output_tokens:
                self.unpriced.add(model)
        self._pending.append(
            _Call(
                agent_id,
                epoch,
                step,
                phase,
                model,
                input_tokens,
                output_tokens,
                cost,
                repaired,
                error,
                fallback,
                detail[:500],
                reply[:500] if reply is not None else None,
                rate_limited,
            )
        )

    @property
    def spent_usd(self) -> float:
        return self.total.cost_usd

    def after_step(self, epoch: int, step: int) -> tuple[list[Event], str | None]:
        """The step's call events, in a fixed order, and ``llm_budget`` once the budget is spent."""
        calls, self._pending = self._pending, []
        if not calls and self.stopped is not None:
            return [], None
        index = self._index
        calls.sort(key=lambda c: c.order(index))
        events: list[Event] = []
        for call in calls:
            self._account(call)
            events.append(
                LLMCall(
                    epoch=epoch,
                    step=step,
                    agent_id=call.agent_id,
                    phase=call.phase,
                    model=call.model,
                    input_tokens=call.input_tokens,
                    output_tokens=call.output_tokens,
                    cost_usd=call.cost_usd,
                    repaired=call.repaired,
                    error=call.error,
                    rate_limited=call.rate_limited,
                )
            )
            if call.fallback is not None:
                events.append(
                    LLMFallback(
                        epoch=epoch,
                        step=step,
                        agent_id=call.agent_id,
                        phase=call.phase,
                        policy=call.fallback,
                        cause=call.detail,
                    )
                )
        budget = self.budget_usd
        if self.stopped is None and budget is not None and self.total.cost_usd >= budget:
            self.stopped = BUDGET_REASON
            events.append(
                LLMBudgetExceeded(epoch=epoch, step=step, spent_usd=self.total.cost_usd, budget_usd=budget)
            )
            return events, BUDGET_REASON
        return events, None

    def _account(self, call: _Call) -> None:
        self.total.add(call)
        self.by_agent.setdefault(call.agent_id, _Totals()).add(call)
        self.by_model.setdefault(call.model, _Totals()).add(call)
        epoch = self.by_epoch.setdefault(call.epoch, _Epoch())
        epoch.totals.add(call)
        if call.error is not None:
            self.causes[call.error] += 1
            if call.fallback is None:
                epoch.causes[call.error] += 1
                epoch.examples.setdefault(call.error, call)

    def after_epoch(self, epoch: int, step: int) -> tuple[list[Event], str | None]:
        """``llm_unhealthy`` when more of the epoch's calls failed than ``llm.max_failure_rate`` allows."""
        limit = self.settings.max_failure_rate
        data = self.by_epoch.get(epoch)
        if limit is None or data is None or self.stopped is not None:
            return [], None
        calls, failed = data.totals.calls, data.totals.failed
        if calls < self.settings.min_calls or failed <= limit * calls:
            return [], None
        cause = min(data.causes, key=lambda c: (-data.causes[c], c))
        ex = data.examples[cause]
        example = f"{ex.agent_id} ({ex.phase}, step {ex.step}): {ex.detail}"
        if ex.reply is not None:
            example += f"; the model replied: {ex.reply[:200]!r}"
        self.stopped = UNHEALTHY_REASON
        self.error = (
            f"{failed} of the {calls} LLM calls of epoch {epoch} failed, more than "
            f"llm.max_failure_rate = {limit:g} allows; the commonest cause: {cause} "
            f"({data.causes[cause]} calls); for example {example}"
        )
        event = LLMUnhealthy(
            epoch=epoch,
            step=step,
            calls=calls,
            failed=failed,
            max_failure_rate=limit,
            cause=cause,
            example=example,
        )
        return [event], UNHEALTHY_REASON

    def report(self) -> dict[str, Any]:
        """The run's LLM figures for ``summary.json``: totals, failures by cause, per agent, model, epoch."""
        return {
            **self.total.as_dict(),
            "budget_usd": self.budget_usd,
            "stopped": self.stopped,
            "failures_by_cause": dict(sorted(self.causes.items())),
            "unpriced_models": sorted(self.unpriced),
            "by_agent": {a: t.as_dict() for a, t in sorted(self.by_agent.items(), key=self._agent_order)},
            "by_model": {m: t.as_dict() for m, t in sorted(self.by_model.items())},
            "by_epoch": [
                {"epoch": e, **d.totals.as_dict(), "failures_by_cause": dict(sorted(d.causes.items()))}
                for e, d in sorted(self.by_epoch.items())
            ],
        }

    def _agent_order(self, item: tuple[str, _Totals]) -> tuple[int, str]:
        return self._index.get(item[0], len(self._index)), item[0]
