"""What the dashboard shows, folded from a run's events: the same fold for a live run and a log.

Folding an event is a dictionary look-up and an append or two (the run pays for it on
every event even with nobody watching, see ``bench/bench_dashboard.py``). Rendering
for the page happens only when a browser asks, in :meth:`DashboardState.delta`, from
the latest state: a browser that falls behind gets the newest state and skips what it
missed (bounded buffers of recent events), so it never makes the run wait.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from swarm.events import (
    AgentCreated,
    AgentFrozen,
    AgentUnfrozen,
    EpochCompleted,
    Event,
    InteractionCompleted,
    KillSwitchTriggered,
    LedgerUpdated,
    LLMCall,
    LLMFallback,
    RunEnded,
    RunStarted,
)
from swarm.governance.effects import Effect

RECENT = 200
"""Events kept for the recent-events feed."""
GOVERNANCE = 300
"""Governance actions kept for their feed."""
EDGES = 300
"""The busiest pairs of agents drawn in the interaction network."""
LLM_ROWS = 20
"""Agents (and models) listed in the LLM panel, costliest first."""

_COMMON = ("seq", "epoch", "step", "type", "wall_clock")


def _plotted() -> list[dict[str, str]]:
    """The epoch metrics registered with ``plot=True`` (the time series on the page)."""
    from swarm.metrics.registry import EPOCH_METRICS

    return [{"name": m.name, "description": m.description} for m in EPOCH_METRICS.values() if m.plot]


@dataclass(eq=False)
class Cursor:
    """How much of the state one browser has been sent."""

    version: int = -1
    epochs: int = 0
    recent_seq: int = 0
    governance_seq: int = 0
    agents: int = -1
    edges: int = -1
    llm: int = -1
    run: bool = False


@dataclass
class _Agent:
    agent_id: str
    agent_type: str
    reputation: float
    resources: float
    interactions: int = 0
    frozen: bool = False


@dataclass
class _LLMUsage:
    """The run's LLM calls so far: totals, failures by cause, and cost per agent and model."""

    calls: int = 0
    failed: int = 0
    repaired: int = 0
    fallbacks: int = 0
    refusals: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    causes: dict[str, int] = field(default_factory=dict)
    by_agent: dict[str, list[float]] = field(default_factory=dict)
    by_model: dict[str, list[float]] = field(default_factory=dict)
    version: int = 0

    def call(self, e: LLMCall) -> None:
        self.version += 1
        self.calls += 1
        self.repaired += e.repaired
        self.refusals += e.rate_limited
        self.input_tokens += e.input_tokens
        self.output_tokens += e.output_tokens
        self.cost_usd += e.cost_usd
        if e.error is not None:
            self.failed += 1
            self.causes[e.error] = self.causes.get(e.error, 0) + 1
        for key, table in ((e.agent_id, self.by_agent), (e.model, self.by_model)):
            row = table.setdefault(key, [0, 0, 0.0])
            row[0] += 1
            row[1] += e.error is not None
            row[2] += e.cost_usd

    def fallback(self, e: LLMFallback) -> None:
        self.version += 1
        self.fallbacks += 1

    def view(self) -> dict[str, Any]:
        def rows(table: dict[str, list[float]]) -> list[dict[str, Any]]:
            ordered = sorted(table.items(), key=lambda kv: (-kv[1][2], -kv[1][0], kv[0]))[:LLM_ROWS]
            return [
                {"id": k, "calls": int(c), "failed": int(f), "cost_usd": cost} for k, (c, f, cost) in ordered
            ]

        return {
            "calls": self.calls,
            "failed": self.failed,
            "repaired": self.repaired,
            "fallbacks": self.fallbacks,
            "refusals": self.refusals,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": self.cost_usd,
            "causes": dict(sorted(self.causes.items(), key=lambda kv: (-kv[1], kv[0]))),
            "agents": rows(self.by_agent),
            "models": rows(self.by_model),
        }


@dataclass
class DashboardState:
    """The page's state: run, position, epochs' metrics, agents, network, feeds, ending.

    Feed it every event in log order with :meth:`observe`; read it with :meth:`snapshot`
    (everything) or :meth:`delta` (what a browser has not seen yet).
    """

    run: dict[str, Any] = field(default_factory=dict)
    epoch: int = 0
    step: int = 0
    epochs: list[dict[str, Any]] = field(default_factory=list)
    ended: dict[str, Any] | None = None
    paused: bool = False
    live: bool = False
    version: int = 0
    _agents: dict[str, _Agent] = field(default_factory=dict)
    _agents_version: int = 0
    _edges: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    _edges_version: int = 0
    _recent: deque[Event] = field(default_factory=lambda: deque(maxlen=RECENT))
    _governance: deque[Event] = field(default_factory=lambda: deque(maxlen=GOVERNANCE))
    _llm: _LLMUsage = field(default_factory=_LLMUsage)

    def __post_init__(self) -> None:
        self._fold: dict[type, Callable[[Any], None]] = {
            RunStarted: self._started,
            AgentCreated: self._created,
            LedgerUpdated: self._ledger,
            InteractionCompleted: self._interaction,
            AgentFrozen: self._frozen,
            AgentUnfrozen: self._unfrozen,
            KillSwitchTriggered: self._governance.append,
            EpochCompleted: self._epoch,
            RunEnded: self._ended,
            LLMCall: self._llm.call,
            LLMFallback: self._llm.fallback,
        }

    @classmethod
    def from_events(cls, events: Iterable[Event]) -> DashboardState:
        """The state of a finished (or interrupted) run, from its logged events."""
        state = cls()
        for event in events:
            state.observe(event)
        return state

    def observe(self, event: Event) -> None:
        """Fold one event in (events must come in log order)."""
        self.version += 1
        self.epoch = event.epoch
        self.step = event.step
        self._recent.append(event)
        fold = self._fold.get(type(event))
        if fold is not None:
            fold(event)
        elif isinstance(event, Effect):
            self._governance.append(event)

    def set_paused(self, paused: bool) -> None:
        self.paused = paused
        self.version += 1

    # -- folds

    def _started(self, e: RunStarted) -> None:
        self.run = {
            "scenario_id": e.scenario_id,
            "seed": e.seed,
            "n_agents": e.n_agents,
            "n_epochs": e.n_epochs,
            "steps_per_epoch": e.steps_per_epoch,
        }

    def _created(self, e: AgentCreated) -> None:
        self._agents[e.agent_id] = _Agent(e.agent_id, e.agent_type, e.reputation, e.resources)
        self._agents_version += 1

    def _ledger(self, e: LedgerUpdated) -> None:
        agent = self._agents.get(e.agent_id)
        if agent is not None:
            agent.reputation = e.reputation
            agent.resources = e.resources
            self._agents_version += 1

    def _interaction(self, e: InteractionCompleted) -> None:
        i = e.interaction
        for who in (i.initiator, i.counterparty):
            agent = self._agents.get(who)
            if agent is not None:
                agent.interactions += 1
        edge = self._edges.get((i.initiator, i.counterparty))
        if edge is None:
            edge = self._edges[(i.initiator, i.counterparty)] = [0, 0]
        edge[0] += 1
        edge[1] += i.accepted
        self._agents_version += 1
        self._edges_version += 1

    def _frozen(self, e: AgentFrozen) -> None:
        self._governance.append(e)
        agent = self._agents.get(e.agent_id)
        if agent is not None:
            agent.frozen = True
            self._agents_version += 1

    def _unfrozen(self, e: AgentUnfrozen) -> None:
        self._governance.append(e)
        agent = self._agents.get(e.agent_id)
        if agent is not None:
            agent.frozen = False
            self._agents_version += 1

    def _epoch(self, e: EpochCompleted) -> None:
        self.epochs.append({"epoch": e.epoch, **e.metrics})

    def _ended(self, e: RunEnded) -> None:
        self.ended = {"reason": e.reason, "epochs_completed": e.epochs_completed}

    # -- views

    def agents(self) -> list[dict[str, Any]]:
        return [
            {
                "id": a.agent_id,
                "type": a.agent_type,
                "reputation": a.reputation,
                "resources": a.resources,
                "interactions": a.interactions,
                "frozen": a.frozen,
            }
            for a in self._agents.values()
        ]

    def edges(self) -> list[dict[str, Any]]:
        """The busiest :data:`EDGES` initiator → counterparty pairs (ties in first-seen order)."""
        busiest = sorted(self._edges.items(), key=lambda kv: -kv[1][0])[:EDGES]
        return [{"source": a, "target": b, "count": n, "accepted": acc} for (a, b), (n, acc) in busiest]

    def snapshot(self) -> dict[str, Any]:
        """Everything the page shows."""
        return self.delta(Cursor())

    def delta(self, cursor: Cursor) -> dict[str, Any]:
        """What a browser at ``cursor`` has not seen yet (and move the cursor to now).

        Epochs are sent once each; the agent table and the network whole when they changed;
        of the feeds, only the events still kept that are newer than the cursor.
        """
        out: dict[str, Any] = {
            "version": self.version,
            "epoch": self.epoch,
            "step": self.step,
            "paused": self.paused,
            "live": self.live,
            "ended": self.ended,
        }
        if not cursor.run and self.run:
            out["run"] = {**self.run, "metrics": _plotted()}
            cursor.run = True
        if len(self.epochs) > cursor.epochs:
            out["epochs"] = self.epochs[cursor.epochs :]
            cursor.epochs = len(self.epochs)
        if self._agents_version != cursor.agents:
            out["agents"] = self.agents()
            cursor.agents = self._agents_version
        if self._edges_version != cursor.edges:
            out["edges"] = self.edges()
            cursor.edges = self._edges_version
        if self._llm.calls and self._llm.version != cursor.llm:
            out["llm"] = self._llm.view()
            cursor.llm = self._llm.version
        recent = [describe(e) for e in self._recent if e.seq > cursor.recent_seq]
        if recent:
            out["recent"] = recent
            cursor.recent_seq = recent[-1]["seq"]
        governance = [describe(e) for e in self._governance if e.seq > cursor.governance_seq]
        if governance:
            out["governance"] = governance
            cursor.governance_seq = governance[-1]["seq"]
        cursor.version = self.version
        return out


def describe(event: Event) -> dict[str, Any]:
    """One event for a feed: its place in the log, its type and its fields in a line."""
    if isinstance(event, InteractionCompleted):
        i = event.interaction
        text = (
            f"{i.initiator} → {i.counterparty} {'accepted' if i.accepted else 'declined'} "
            f"p={i.p:.3f} payoffs {event.payoff_initiator:.2f}/{event.payoff_counterparty:.2f}"
        )
    elif isinstance(event, EpochCompleted):
        m = event.metrics
        tox = m.get("toxicity_rate")
        text = f"interactions={m.get('interactions')} toxicity={'-' if tox is None else f'{tox:.4f}'}"
    else:
        data = msgspec.to_builtins(event)
        text = " ".join(f"{k}={_short(v)}" for k, v in data.items() if k not in _COMMON)
    return {"seq": event.seq, "epoch": event.epoch, "step": event.step, "type": event.type, "text": text}


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."
