"""Limits on what SWARM reads and on what it agrees to build (docs/reliability.md#limits).

Two kinds:

* **input limits** — a scenario or sweep file's size, its nesting depth and its
  size once YAML aliases are expanded; and every number read (files, ``--set``
  overrides, sweep grids) finite and at most :data:`MAX_MAGNITUDE` in magnitude.
  They keep a hostile file from hanging or exhausting the loader and keep
  NaN, infinities and overflow out of the run.
* **the size budget** — agents, steps (epochs × steps per epoch), agent-turns
  (agents × steps) and estimated memory of one run, and runs in one sweep,
  checked before anything is built.

Every limit but the magnitude is raised with an environment variable
(:data:`ENV`); an error that hits one names it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from swarm.errors import ScenarioError

if TYPE_CHECKING:
    from swarm.scenario import Scenario

MAX_MAGNITUDE = 1e12
"""Every number a scenario or sweep holds is finite and within ±1e12 (not configurable).

Money, weights, thresholds and timeouts are far below it; products and sums over
a run of values this size stay finite (1e308 overflows the metrics' sums)."""

MIB = 1 << 20
AGENT_BYTES = 4096
"""Estimated memory per agent (the benchmarks measure 3-4 KB at 10,000 to 1,000,000 agents)."""
EPOCH_BYTES = 2048
"""Estimated memory per epoch (the epoch's metrics, kept for the result)."""
TASK_BYTES = 1024
"""Estimated memory per task on the task board."""
BASE_BYTES = 128 * MIB
"""Estimated memory of the interpreter, the libraries and an empty world."""


@dataclass(frozen=True)
class Limits:
    """The limits in force; :meth:`from_env` reads the ``SWARM_MAX_*`` variables (see :data:`ENV`)."""

    input_bytes: int = MIB
    """Bytes of a scenario or sweep file."""
    input_nodes: int = 100_000
    """Values (scalars, lists, mappings) in a file once its aliases are expanded."""
    input_depth: int = 64
    """Nesting depth of lists and mappings."""
    agents: int = 1_000_000
    """Agents in a run."""
    steps: int = 1_000_000
    """Steps in a run: ``n_epochs × steps_per_epoch``."""
    agent_turns: int = 100_000_000
    """Agents × steps (the benchmark's 100,000 agents × 10 × 10; ~40 GB of event log)."""
    memory: int | None = None
    """Estimated bytes a run may take; None: 80 % of this machine's physical memory."""
    sweep_runs: int = 100_000
    """Runs in a sweep: configurations × seeds."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """The defaults, each replaced by its ``SWARM_MAX_*`` variable when set."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV[f.name], "").strip()
            if raw:
                values[f.name] = _parse_limit(ENV[f.name], raw, memory=f.name == "memory")
        return cls(**values)

    def memory_limit(self) -> int | None:
        """The memory budget in bytes (80 % of physical memory unless set), None if unknown."""
        if self.memory is not None:
            return self.memory
        total = physical_memory()
        return None if total is None else int(total * 0.8)


ENV = {
    "input_bytes": "SWARM_MAX_INPUT_BYTES",
    "input_nodes": "SWARM_MAX_INPUT_NODES",
    "input_depth": "SWARM_MAX_INPUT_DEPTH",
    "agents": "SWARM_MAX_AGENTS",
    "steps": "SWARM_MAX_STEPS",
    "agent_turns": "SWARM_MAX_AGENT_TURNS",
    "memory": "SWARM_MAX_MEMORY",
    "sweep_runs": "SWARM_MAX_SWEEP_RUNS",
}
"""The environment variable that raises (or lowers) each limit."""

_SUFFIXES = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def _parse_limit(name: str, raw: str, *, memory: bool) -> int:
    text = raw.replace("_", "").upper().removesuffix("IB").removesuffix("B")
    scale = 1
    if memory and text[-1:] in _SUFFIXES:
        scale, text = _SUFFIXES[text[-1]], text[:-1]
    try:
        value = int(text) * scale
    except ValueError:
        value = -1
    if value < 1:
        example = "8G, 512M or a number of bytes" if memory else "a whole number such as 2000000"
        raise ScenarioError(name, None, f"{raw!r} is not a limit", f"a positive {example}", value=None)
    return value


def physical_memory() -> int | None:
    """This machine's physical memory in bytes, None where the platform does not say."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return None


def raise_hint(limit: str, value: int) -> str:
    """How to raise one limit, for error messages."""
    return f"raise the limit with {ENV[limit]}={value} in the environment (docs/reliability.md#limits)"


def _human(n: float) -> str:
    return f"{n:,.0f}" if n < 1e15 else f"{n:.3g}"


def _bytes(n: float) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f} B"


# --------------------------------------------------------------------- numbers

Locate = Callable[[Sequence[Any]], tuple[str, int | None]]
"""Where a key path was written: (source, line)."""


def check_numbers(data: Any, locate: Locate, prefix: Sequence[Any] = ()) -> None:
    """Refuse NaN, infinities and numbers beyond ±:data:`MAX_MAGNITUDE` anywhere in ``data``.

    ``locate`` maps a key path to the source and line to report. Walks without
    recursion, and each shared (aliased) list or mapping once.
    """
    seen: set[int] = set()
    todo: list[tuple[tuple[Any, ...], Any]] = [(tuple(prefix), data)]
    while todo:
        loc, node = todo.pop()
        if isinstance(node, Mapping | list):
            if id(node) in seen:
                continue
            seen.add(id(node))
            items = node.items() if isinstance(node, Mapping) else enumerate(node)
            todo.extend(((*loc, k), v) for k, v in reversed(list(items)))
            continue
        problem = number_problem(node)
        if problem is not None:
            source, line = locate(loc)
            raise ScenarioError(source, _dotted(loc), *problem, value=node, line=line)


def number_problem(value: Any) -> tuple[str, str] | None:
    """(problem, expected) if ``value`` is a number SWARM refuses, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return "not a finite number", "a finite number (NaN and infinities are refused)"
    if abs(value) > MAX_MAGNITUDE:
        return "out of range", f"a number between -{MAX_MAGNITUDE:g} and {MAX_MAGNITUDE:g}"
    return None


def _dotted(loc: Sequence[Any]) -> str:
    return ".".join(str(p) for p in loc) if loc else "<top level>"


# ----------------------------------------------------------------- size budget


@dataclass(frozen=True)
class Overrun:
    """A budget a scenario goes over: the key path to blame, the problem and what is expected."""

    loc: tuple[str | int, ...]
    problem: str
    expected: str


def estimated_memory(agents: int, epochs: int, live_tasks: int = 0) -> int:
    """Bytes a run of ``agents`` agents over ``epochs`` epochs is estimated to take at its peak."""
    return BASE_BYTES + agents * AGENT_BYTES + epochs * EPOCH_BYTES + live_tasks * TASK_BYTES


def budget_overrun(scenario: Scenario, limits: Limits | None = None) -> Overrun | None:
    """The first size budget ``scenario`` goes over, or None (nothing is built to find out).

    Agent-turns count each agent's turn in each step, plus each task the task
    board posts (``environment.tasks_per_epoch`` × epochs), since each is work
    and a line of the log; the memory estimate counts the tasks alive at once.
    """
    limits = Limits.from_env() if limits is None else limits
    counts = [spec.count for spec in scenario.agents]
    agents = sum(counts)
    biggest: tuple[str | int, ...] = ("agents", max(range(len(counts)), key=counts.__getitem__), "count")
    sim = scenario.simulation
    steps = sim.n_epochs * sim.steps_per_epoch
    longest: tuple[str | int, ...] = (
        ("simulation", "n_epochs")
        if sim.n_epochs >= sim.steps_per_epoch
        else ("simulation", "steps_per_epoch")
    )
    tasks_per_epoch = int(getattr(scenario.environment, "tasks_per_epoch", 0) or 0)
    deadline = int(getattr(scenario.environment, "task_deadline_epochs", 1) or 1)
    tasks_key: tuple[str | int, ...] = ("environment", "tasks_per_epoch")
    if agents > limits.agents:
        return Overrun(
            biggest,
            f"{_human(agents)} agents in all, over the limit of {_human(limits.agents)}",
            f"at most {_human(limits.agents)} agents, or {raise_hint('agents', agents)}",
        )
    if steps > limits.steps:
        return Overrun(
            longest,
            f"{_human(sim.n_epochs)} epochs × {_human(sim.steps_per_epoch)} steps = {_human(steps)} steps, "
            f"over the limit of {_human(limits.steps)}",
            f"at most {_human(limits.steps)} steps in a run, or {raise_hint('steps', steps)}",
        )
    tasks = tasks_per_epoch * sim.n_epochs
    turns = agents * steps + tasks
    if turns > limits.agent_turns:
        what = f"{_human(agents)} agents × {_human(steps)} steps"
        if tasks:
            what += f" + {_human(tasks_per_epoch)} tasks an epoch × {_human(sim.n_epochs)} epochs"
        loc = tasks_key if tasks > agents * steps else (biggest if agents >= steps else longest)
        return Overrun(
            loc,
            f"{what} = {_human(turns)} agent-turns, over the limit of {_human(limits.agent_turns)}",
            f"at most {_human(limits.agent_turns)} agent-turns, or {raise_hint('agent_turns', turns)}",
        )
    budget = limits.memory_limit()
    live_tasks = tasks_per_epoch * min(deadline + 1, sim.n_epochs)
    need = estimated_memory(agents, sim.n_epochs, live_tasks)
    if budget is not None and need > budget:
        where = "set by SWARM_MAX_MEMORY" if limits.memory is not None else "80 % of this machine's memory"
        loc = tasks_key if live_tasks * TASK_BYTES > agents * AGENT_BYTES else biggest
        return Overrun(
            loc,
            f"{_human(agents)} agents over {_human(sim.n_epochs)} epochs"
            + (f" with {_human(live_tasks)} tasks on the board" if live_tasks else "")
            + f" are estimated to need {_bytes(need)}, over the memory budget of {_bytes(budget)} ({where})",
            f"a smaller run, or {raise_hint('memory', need)}",
        )
    return None


def check_runs(n: int, source: str, key: str, limits: Limits | None = None, line: int | None = None) -> None:
    """Refuse a sweep of more than ``limits.sweep_runs`` runs."""
    limits = Limits.from_env() if limits is None else limits
    if n > limits.sweep_runs:
        raise ScenarioError(
            source,
            key,
            f"{_human(n)} runs (configurations × seeds), over the limit of {_human(limits.sweep_runs)}",
            f"at most {_human(limits.sweep_runs)} runs, or {raise_hint('sweep_runs', n)}",
            line=line,
        )
