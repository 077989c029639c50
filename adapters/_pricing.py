"""Token prices and usage accounting, per model."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pydantic import BaseModel

from adapters._types import Usage

_DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    # USD per million input / output tokens
    "claude-sonnet-4-20250514": (3.0, 15.0),
    "claude-3-5-haiku-latest": (0.8, 4.0),
    "claude-opus-4-20250514": (15.0, 75.0),
    "claude-3-5-sonnet-20241022": (3.0, 15.0),
    "claude-3-haiku-20240307": (0.25, 1.25),
    "gpt-4-turbo": (10.0, 30.0),
    "gpt-4o": (2.5, 10.0),
    "gpt-4o-mini": (0.15, 0.6),
    "gpt-4.1": (2.0, 8.0),
    "gpt-4.1-mini": (0.4, 1.6),
}


@dataclass(frozen=True)
class PriceTable:
    """USD per million input and output tokens, by model; unknown models cost 0 (and are reported)."""

    prices: Mapping[str, tuple[float, float]] = field(default_factory=lambda: dict(_DEFAULT_PRICES))

    @classmethod
    def default(cls) -> PriceTable:
        return cls()

    def with_prices(self, extra: Mapping[str, tuple[float, float]]) -> PriceTable:
        return PriceTable({**self.prices, **extra})

    def knows(self, model: str) -> bool:
        return model in self.prices

    def cost(self, model: str, usage: Usage) -> float:
        pin, pout = self.prices.get(model, (0.0, 0.0))
        return (usage.input_tokens * pin + usage.output_tokens * pout) / 1_000_000


class ModelUsage(BaseModel):
    calls: int = 0
    failures: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    priced: bool = True


class UsageSnapshot(BaseModel):
    models: dict[str, ModelUsage]

    @property
    def total_cost_usd(self) -> float:
        return sum(m.cost_usd for m in self.models.values())


class UsageMeter:
    """Accumulates calls, tokens, cost and failures per model."""

    def __init__(self) -> None:
        self._models: dict[str, ModelUsage] = {}

    def record(self, model: str, usage: Usage, cost: float, *, priced: bool = True) -> None:
        m = self._models.get(model)
        if m is None:
            m = self._models[model] = ModelUsage()
        m.calls += 1
        m.input_tokens += usage.input_tokens
        m.output_tokens += usage.output_tokens
        m.cost_usd += cost
        m.priced = m.priced and priced

    def failure(self, model: str) -> None:
        self._models.setdefault(model, ModelUsage()).failures += 1

    def snapshot(self) -> UsageSnapshot:
        return UsageSnapshot(models={k: v.model_copy() for k, v in sorted(self._models.items())})
