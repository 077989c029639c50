"""How a sharded run moves agents between shards so that the shards finish a phase together.

Every step, :class:`~swarm.runtime.shards.ShardedPopulation` measures how long each
shard's agents took in the phases the main process waits for (act and respond):
this process times its own part, a worker reports its compute time with each
reply, and a worker the main process had to wait for is charged the time until
its reply arrived. Between steps a :class:`Rebalance` decides which agents move
where; the population moves them (their policies' live state and random streams
go with them) before the next step's first phase.

:class:`Balancer` (the default) keeps a smoothed cost per agent for each shard and,
every few steps, asks :func:`split` for the shard sizes that would make the shards
finish together, then :func:`choose` for which agents to move. It moves only when
the predicted gain is worth it, and at most a capped number of agents at once,
so noise does not make agents shuttle back and forth.

Where an agent runs never changes what it does (its policy and its counter-based
random stream go with it), so the event log is the same whatever moves and
when; the decision itself uses wall-clock times and is not reproducible, which is
why nothing in a run may depend on it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Load:
    """What the balancer sees between two steps.

    ``owner[k]``: agent ``k``'s shard (registration order); ``movable[k]``: whether it
    may move (portable agents only); ``seconds[s]``: when shard ``s`` finished the
    barrier phases of the step just done, counted from each phase's start (None
    when not measured); ``agent_seconds[s]``: how much of that its agents' own
    work took (the rest is the shard's overhead: encoding, decoding, sending;
    None: not told apart); ``step``: steps measured since the run (re)started;
    ``remaining``: steps left in the run; ``move_seconds``: what moving one agent
    has cost so far (None before the first move); ``serial_seconds``: what shard
    0's agents took outside those phases, on the step's critical path (learning:
    a worker's agents learn while shard 0 runs the world, shard 0's hold it up).
    """

    step: int
    owner: Sequence[int]
    movable: Sequence[bool]
    seconds: Sequence[float | None]
    agent_seconds: Sequence[float | None] | None = None
    remaining: int | None = None
    move_seconds: float | None = None
    serial_seconds: float | None = None


class Rebalance(Protocol):
    """Decides between steps which agents move: ``[(agent index, destination shard), ...]``."""

    def moves(self, load: Load) -> Sequence[tuple[int, int]]: ...


def split(
    counts: Sequence[int],
    fixed: Sequence[int],
    costs: Sequence[float],
    cap: int,
    min_gain: float = 0.0,
    overhead: Sequence[float] | None = None,
) -> list[int]:
    """The shard sizes that make the shards finish together, moving at most ``cap`` agents.

    ``counts[s]`` agents are in shard ``s`` now, ``fixed[s]`` of them cannot move;
    each costs ``costs[s]`` seconds there (> 0), on top of ``overhead[s]`` seconds
    the shard takes whatever it holds (none by default): shard ``s`` finishes at
    ``overhead[s] + size · costs[s]``. The ideal sizes make those equal (no shard
    below its fixed agents, and whole agents each placed where it finishes
    soonest); when reaching them takes more than ``cap`` moves, every shard goes
    the same fraction of the way. Unchanged when the predicted slowest shard's
    time would improve by less than ``min_gain`` (a fraction of it now).
    """
    n = len(counts)
    total = sum(counts)
    if n < 2 or total == 0 or cap <= 0:
        return list(counts)
    if any(not (c > 0 and math.isfinite(c)) for c in costs):
        raise ValueError(f"costs must be positive and finite, got {list(costs)}")
    base = [0.0] * n if overhead is None else [max(float(o), 0.0) for o in overhead]
    if not all(map(math.isfinite, base)):
        raise ValueError(f"overheads must be finite, got {list(base)}")
    rate = [1.0 / c for c in costs]
    # Water filling: the common finish time T with sum(max(fixed, (T - overhead)·rate)) = total.
    pinned = [False] * n
    finish = 0.0
    while not all(pinned):  # (all pinned: every agent is fixed where it is)
        free = total - sum(fixed[s] for s in range(n) if pinned[s])
        speed = sum(rate[s] for s in range(n) if not pinned[s])
        finish = (free + sum(base[s] * rate[s] for s in range(n) if not pinned[s])) / speed
        newly = [s for s in range(n) if not pinned[s] and (finish - base[s]) * rate[s] < fixed[s]]
        if not newly:
            break
        for s in newly:
            pinned[s] = True
    ideal = [float(fixed[s]) if pinned[s] else (finish - base[s]) * rate[s] for s in range(n)]
    target = _round(ideal, total, fixed, costs, base)
    before = finishing(counts, costs, base)
    after = finishing(target, costs, base)
    if before - after <= min_gain * before:
        return list(counts)
    delta = [t - c for t, c in zip(target, counts, strict=True)]
    wanted = sum(d for d in delta if d > 0)
    if wanted <= cap:
        return target
    gain = _share([max(d, 0) for d in delta], cap)
    loss = _share([max(-d, 0) for d in delta], cap)
    return [c + g - lost for c, g, lost in zip(counts, gain, loss, strict=True)]


def finishing(
    counts: Sequence[int], costs: Sequence[float], overhead: Sequence[float] | None = None
) -> float:
    """When the slowest shard finishes: ``max(overhead[s] + counts[s] · costs[s])``."""
    base = overhead if overhead is not None else [0.0] * len(counts)
    return max(o + n * c for n, c, o in zip(counts, costs, base, strict=True))


def _round(
    ideal: Sequence[float], total: int, floor: Sequence[int], costs: Sequence[float], base: Sequence[float]
) -> list[int]:
    """Whole sizes summing to ``total``, each at least ``floor``: the ideal ones rounded down, then
    each agent left over where it finishes soonest (fewer than one per shard)."""
    out = [max(int(x), f) if x > 0 else f for x, f in zip(ideal, floor, strict=True)]
    shards = range(len(out))
    while sum(out) > total:  # (only float error can get here)
        s = max((s for s in shards if out[s] > floor[s]), key=lambda s: (base[s] + out[s] * costs[s], s))
        out[s] -= 1
    for _ in range(total - sum(out)):
        s = min(shards, key=lambda s: (base[s] + (out[s] + 1) * costs[s], s))
        out[s] += 1
    return out


def _share(weights: Sequence[int], budget: int) -> list[int]:
    """``budget`` split in proportion to ``weights`` (whole numbers, none above its weight)."""
    total = sum(weights)
    exact = [w * budget / total for w in weights]
    out = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda s: (out[s] - exact[s], s))
    for s in order[: budget - sum(out)]:
        out[s] += 1
    return out


def choose(owner: Sequence[int], movable: Sequence[bool], target: Sequence[int]) -> list[tuple[int, int]]:
    """Which agents move where so that shard ``s`` holds ``target[s]`` agents: ``[(agent, shard)]``.

    A shard with too many gives up movable agents spread evenly over its own (so
    each shard keeps a like mix of types); they go to the shards with too few,
    in shard order. Raises ``ValueError`` when the movable agents do not allow it.
    """
    n = len(target)
    have = [0] * n
    free: list[list[int]] = [[] for _ in range(n)]
    for k, s in enumerate(owner):
        have[s] += 1
        if movable[k]:
            free[s].append(k)
    if sum(have) != sum(target):
        raise ValueError(f"target sizes {list(target)} do not hold the {sum(have)} agents")
    leaving: list[int] = []
    for s in range(n):
        surplus = have[s] - target[s]
        if surplus <= 0:
            continue
        mine = free[s]
        if surplus > len(mine):
            raise ValueError(f"shard {s} cannot give up {surplus} agents: {len(mine)} may move")
        step = len(mine) / surplus
        leaving.extend(mine[int(i * step)] for i in range(surplus))
    leaving.sort()
    out: list[tuple[int, int]] = []
    it = iter(leaving)
    for s in range(n):
        for _ in range(max(target[s] - have[s], 0)):
            out.append((next(it), s))
    return out


class Balancer:
    """The default :class:`Rebalance`: smoothed per-agent costs, hysteresis, a cap on each move.

    ``every``: steps between two moves at least; ``warmup``: steps not measured at
    the start (they pay for start-up); ``cap``: the largest fraction of the movable
    agents moved at once; ``min_gain``: the least predicted gain (fraction of the
    slowest shard's time) worth a move; ``smoothing``: the weight of the newest
    step in each shard's cost; ``persist``: how many steps in a row the measurements
    must ask for a move the same way (more agents to the same shards) before one is
    made. A move must also pay for itself: the time it saves per step, over the
    steps left (at most ``horizon``), must exceed what moving the agents costs
    (``Load.move_seconds`` per agent, ``move_guess`` before the first move).
    """

    def __init__(
        self,
        every: int = 3,
        warmup: int = 1,
        cap: float = 0.1,
        min_gain: float = 0.08,
        smoothing: float = 0.3,
        horizon: int = 10,
        move_guess: float = 60e-6,
        persist: int = 3,
    ) -> None:
        if every < 1 or warmup < 0 or not 0 < cap <= 1 or not 0 <= min_gain < 1 or not 0 < smoothing <= 1:
            raise ValueError("balancer settings out of range")
        if persist < 1 or horizon < 1 or move_guess < 0:
            raise ValueError("balancer settings out of range")
        self.every, self.warmup, self.cap = every, warmup, cap
        self.min_gain, self.smoothing = min_gain, smoothing
        self.horizon, self.move_guess, self.persist = horizon, move_guess, persist
        self._way: tuple[int, ...] = ()
        self._streak = 0
        self.cost: list[float | None] = []
        """Each shard's smoothed seconds per agent (None until measured)."""
        self.overhead: list[float] = []
        """Each shard's smoothed seconds per step whatever it holds."""
        self.serial = 0.0
        """Shard 0's smoothed seconds per agent outside the barrier phases (its agents' learning)."""
        self._last = -1

    def observe(self, load: Load) -> None:
        """Fold one step's measurements into the smoothed costs."""
        shards = len(load.seconds)
        if len(self.cost) != shards:
            self.cost, self.overhead = [None] * shards, [0.0] * shards
        counts = [0] * shards
        for s in load.owner:
            counts[s] += 1
        a = self.smoothing
        if load.serial_seconds is not None and counts[0]:
            self.serial = (1 - a) * self.serial + a * load.serial_seconds / counts[0]
        agents = load.agent_seconds if load.agent_seconds is not None else load.seconds
        for s, (seconds, mine) in enumerate(zip(load.seconds, agents, strict=True)):
            if seconds is None:
                continue
            work = seconds if mine is None else min(mine, seconds)
            self.overhead[s] = (1 - a) * self.overhead[s] + a * (seconds - work)
            if work <= 0 or counts[s] == 0:
                continue
            per = work / counts[s]
            old = self.cost[s]
            self.cost[s] = per if old is None else (1 - a) * old + a * per

    def moves(self, load: Load) -> list[tuple[int, int]]:
        if load.step <= self.warmup:
            return []
        self.observe(load)
        known = [c for c in self.cost if c is not None]
        if len(known) < 2:
            return []
        mean = sum(known) / len(known)
        costs = [mean if c is None else c for c in self.cost]  # a shard left empty: assume the average
        shards = len(costs)
        counts, fixed = [0] * shards, [0] * shards
        for k, s in enumerate(load.owner):
            counts[s] += 1
            fixed[s] += not load.movable[k]
        cap = max(1, int(self.cap * sum(load.movable)))
        target = split(counts, fixed, costs, cap, self.min_gain, self.overhead)
        way = tuple((t > c) - (t < c) for t, c in zip(target, counts, strict=True))
        self._streak = self._streak + 1 if way == self._way else 1
        self._way = way
        if target == counts or self._streak < self.persist:  # not worth it, or not for long enough yet
            return []
        if self._last >= 0 and load.step - self._last < self.every:
            return []
        # shard 0's agents also learn on the critical path: more of them there costs that too
        gain = finishing(counts, costs, self.overhead) - finishing(target, costs, self.overhead)
        gain -= (target[0] - counts[0]) * self.serial
        if gain <= 0:
            return []
        horizon = self.horizon if load.remaining is None else min(load.remaining, self.horizon)
        moving = sum(max(t - c, 0) for t, c in zip(target, counts, strict=True))
        price = self.move_guess if load.move_seconds is None else load.move_seconds
        if gain * horizon <= price * moving:
            return []
        self._last = load.step
        self._streak = 0
        return choose(load.owner, load.movable, target)
