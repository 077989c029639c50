"""Market halt: governance halts an order book whose price falls fast, before a crash is declared.

With ``market_halt_enabled`` the order book (``order_book:``) halts a resource's
market for ``market_halt_ticks`` ticks as soon as its price is ``market_halt_drop``
or more below the maximum of the detector's window (``crash_window_ticks``). The
book logs ``governance_market_halt`` (naming the lever) and then ``market_halted``;
nothing clears while halted. The lever publishes its rule to every agent as a
:class:`MarketHaltNotice`; the book applies it tick by tick inside the step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec
from pydantic import Field

from swarm.errors import ConfigProblem
from swarm.governance.lever import Lever, LeverConfig, lever

if TYPE_CHECKING:
    from swarm.scenario import Scenario


class MarketHaltNotice(msgspec.Struct, frozen=True, gc=False):
    """The halt rule in force: a fall of ``drop`` below the window's maximum halts for ``ticks``."""

    drop: float
    ticks: int


class MarketHaltConfig(LeverConfig):
    market_halt_enabled: bool = Field(default=False, description="governance may halt order-book markets")
    market_halt_drop: float = Field(
        default=0.05, gt=0.0, lt=1.0, description="fall below the window's maximum that halts a market"
    )
    market_halt_ticks: int = Field(default=20, ge=1, description="ticks a governance halt lasts")


@lever
class MarketHalt(Lever):
    key = "market_halt"
    order = 65
    title = "market halt"
    Config = MarketHaltConfig
    switch = "market_halt_enabled: true"
    Notice = MarketHaltNotice
    config: MarketHaltConfig

    @classmethod
    def active(cls, config: MarketHaltConfig) -> bool:
        return config.market_halt_enabled

    @classmethod
    def notice(cls, config: MarketHaltConfig) -> MarketHaltNotice:
        return MarketHaltNotice(config.market_halt_drop, config.market_halt_ticks)

    @classmethod
    def check(cls, scenario: Scenario) -> None:
        if not scenario.governance.market_halt_enabled:
            return
        book = scenario.section("order_book")
        if book is None or not book.enabled:
            raise ConfigProblem(
                "governance.market_halt_enabled",
                "true without an order_book: section",
                "an enabled order_book: section (or false)",
            )
