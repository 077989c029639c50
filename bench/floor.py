"""A pure-Python floor for the simulation: the baseline mix's logical work per agent-turn, in a bare loop.

What the simulation does in a step of ``bench_simulation.population`` (60 % honest,
20 % opportunistic, 10 % deceptive, 10 % adversarial), reduced to plain objects and
one loop -- no actors, no event loop, no messages, no typed events, no validation,
no snapshot objects, no schedule shuffle:

* every step: the feed's top 20 recent posts are ranked once (``heapq.nlargest``
  over a 3-step window), as the feed component's view is;
* every agent-turn (one agent's act phase): a cascade of up to four draws decides
  between claim / post / vote / propose / nothing (a branch is skipped when its
  budget is spent or there is nothing to claim or vote on), with chances set so the
  shares of actions match what the simulation's agents take at 1,000 agents
  (~25 % posts, ~24 % votes, ~19 % proposals, ~17 % claims, ~3 % submissions,
  ~12 % nothing; ``--mix`` prints the floor's); an agent holding a claimed task
  submits it first; each type keeps its own conduct (what observables are drawn from);
* the chosen action passes a ledger-like admission check (the agent's budget for
  that action kind in a plain list, compared and charged);
* a post is appended to the feed; a vote picks one of the ranked posts (one draw)
  and updates its tally, remembering the post in a bounded per-agent set; a claim
  picks one of 8 open tasks (two draws, ``spread``) and conflicts when another
  agent took it first; a submission pays the task's bounty through the balances;
* a proposal samples 9 candidates from the population (two draws, ``spread``),
  takes the one it trusts most (a per-agent book: dict of [Σp, n]), the
  counterparty accepts with one draw, and the interaction is labelled as the
  broker does: 8 draws of observables (uniform progress, Bin(3) rework, Bin(2)
  rejections, Bin(1) misuse, uniform engagement), v̂ as a weighted sum, p by the
  calibrated sigmoid (``math.exp``), one draw of ground truth; payoffs for both
  parties, both balances and the initiator's reputation moved, both parties' books
  updated;
* every action appends one event-like tuple to the step's event list (two for an
  interaction, plus a ledger record when money moves) and bumps a metrics counter
  per event kind; interactions also feed toxicity and welfare sums;
* every epoch: ``n // 5`` tasks are posted, budgets reset, the metrics closed.

The population is built before the clock starts and then frozen out of the
garbage collector's way (``gc.freeze``), as the simulation does by default. All
draws come from one ``random.Random`` (the simulation's per-agent streams
cost about the same per draw: a list lookup into a block computed ahead).
Anything the simulation does *beyond* this -- routing actions to components,
typed messages and events, observation views, policy bookkeeping, writing the
log -- is what the ratio to this floor measures.

Run: ``python bench/floor.py`` (``--agents 1000 --epochs 10 --steps 10``);
``--json`` prints one machine-readable line.
"""

from __future__ import annotations

import argparse
import gc
import heapq
import json
import math
import random
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

POST, VOTE, CLAIM, PROPOSE, SUBMIT = range(5)
KINDS = ("post", "vote", "claim", "propose", "submit")
PER_EPOCH = (10, 50, 3, 10**9, 10**9)
"""Budgets per epoch (posts, votes, task claims), as the baseline's rate limits."""
PER_STEP_PROPOSALS = 5

CHANCES = (0.2, 0.32, 0.45, 0.6)
"""(claim, post, vote, propose): each branch's chance in the decision cascade, chosen so the shares
of actions taken match the simulation's baseline mix at 1,000 agents (``--mix`` prints them)."""
CONDUCT = {  # effort, facade, sloppiness, defects, misuse, engagement
    "honest": (0.42, 0.0, 0.17, 0.0, 0.0, 0.32),
    "opportunistic": (0.27, 0.0, 0.33, 0.25, 0.0, 0.04),
    "deceptive": (0.3, 0.0, 0.33, 0.25, 0.0, 0.15),
    "adversarial": (-0.05, 0.0, 0.67, 0.75, 0.5, -0.22),
}
SAMPLE = 8
WINDOW = 3
VISIBLE = 20


class Agent:
    __slots__ = (
        "book",
        "chances",
        "conduct",
        "held",
        "id",
        "reputation",
        "resources",
        "used",
        "voted",
        "voted_order",
    )

    def __init__(self, agent_id: str, kind: str) -> None:
        self.id = agent_id
        self.chances = CHANCES
        self.conduct = CONDUCT[kind]
        self.resources = 100.0
        self.reputation = 0.0
        self.used = [0, 0, 0, 0, 0]
        self.book: dict[str, list[float]] = {}
        self.voted: set[str] = set()
        self.voted_order: deque[str] = deque()
        self.held: Any = None  # the claimed task, until submitted


def population(n: int) -> list[Agent]:
    """The baseline mix: 60 % honest, 20 % opportunistic, 10 % deceptive, the rest adversarial."""
    honest = max(1, n * 6 // 10)
    opp, dec = n * 2 // 10, n // 10
    kinds = ["honest"] * honest + ["opportunistic"] * opp + ["deceptive"] * dec
    kinds += ["adversarial"] * (n - len(kinds))
    return [Agent(f"{k}_{i}", k) for i, k in enumerate(kinds)]


def spread(n: int, k: int, rand: Callable[[], float]) -> set[int]:
    start = int(rand() * n)
    stride = 1 + int(rand() * (n - 1))
    return {(start + i * stride) % n for i in range(k)}


def run(n: int, epochs: int, steps: int, seed: int = 1) -> dict[str, Any]:
    """Run the floor; returns turns, seconds (wall and CPU), turns/s (CPU) and the action shares."""
    rng = random.Random(seed)
    rand = rng.random
    exp = math.exp
    agents = population(n)
    gc.collect()
    gc.freeze()  # as the simulation does with the heap alive when its run starts (freeze_heap)
    chosen_counts = [0] * 6
    metrics: Counter[str] = Counter()
    closed: dict[int, tuple[float, float]] = {}  # per epoch: toxicity, welfare
    posts: list[list[Any]] = []  # [post_id, author, votes, clock]
    started_wall, started_cpu = time.perf_counter(), time.process_time()
    clock = 0
    for epoch in range(epochs):
        tasks: list[list[Any]] = [[f"t{epoch}-{i}", 1.0 + rand() * 4, None] for i in range(max(2, n // 5))]
        for a in agents:
            a.used[POST] = a.used[VOTE] = a.used[CLAIM] = 0
        toxic = welfare = accepted_n = 0.0
        for _step in range(steps):
            events: list[tuple[object, ...]] = []
            recent = [p for p in posts[-4 * n :] if clock - p[3] < WINDOW]
            posts = recent
            ranked = heapq.nlargest(VISIBLE, recent, key=lambda p: p[2])
            open_view = [t for t in tasks if t[2] is None]  # the task board's view of this step
            proposals = 0
            for a in agents:
                chances, used = a.chances, a.used
                # decide
                if a.held is not None:
                    kind = SUBMIT
                elif open_view and used[CLAIM] < PER_EPOCH[CLAIM] and rand() < chances[0]:
                    kind = CLAIM
                elif used[POST] < PER_EPOCH[POST] and rand() < chances[1]:
                    kind = POST
                elif ranked and used[VOTE] < PER_EPOCH[VOTE] and rand() < chances[2]:
                    kind = VOTE
                elif rand() < chances[3]:
                    kind = PROPOSE
                else:
                    chosen_counts[5] += 1
                    continue
                # admit
                if used[kind] >= PER_EPOCH[kind] or (kind == PROPOSE and proposals >= PER_STEP_PROPOSALS * n):
                    events.append(("rejected", a.id, kind))
                    metrics["action_rejected"] += 1
                    continue
                used[kind] += 1
                chosen_counts[kind] += 1
                # apply
                if kind == POST:
                    post: list[Any] = [f"p{clock}-{len(posts)}", a.id, 0, clock]
                    posts.append(post)
                    events.append(("post_created", a.id, post[0]))
                    metrics["post_created"] += 1
                elif kind == VOTE:
                    post = ranked[int(rand() * len(ranked))]
                    pid = post[0]
                    if pid in a.voted or post[1] == a.id:
                        continue
                    a.voted.add(pid)
                    a.voted_order.append(pid)
                    if len(a.voted_order) > 64:
                        a.voted.discard(a.voted_order.popleft())
                    post[2] += 1
                    events.append(("vote_cast", a.id, post[0]))
                    metrics["vote_cast"] += 1
                elif kind == CLAIM:
                    picks = spread(len(open_view), SAMPLE, rand)
                    best = max((open_view[i] for i in picks), key=lambda t: t[1])
                    if best[2] is not None:
                        events.append(("claim_conflict", a.id, best[0]))
                        metrics["claim_conflict"] += 1
                        continue
                    best[2] = a.id
                    a.held = best
                    events.append(("task_claimed", a.id, best[0]))
                    metrics["task_claimed"] += 1
                elif kind == SUBMIT:
                    task, a.held = a.held, None
                    a.resources += task[1]
                    events.append(("work_verified", a.id, task[0]))
                    events.append(("ledger_updated", a.id, task[1]))
                    metrics["work_verified"] += 1
                    metrics["ledger_updated"] += 1
                else:  # PROPOSE
                    proposals += 1
                    book = a.book
                    target, floor = None, -1.0
                    for i in spread(n, SAMPLE + 1, rand):
                        other = agents[i]
                        if other is a:
                            continue
                        rec = book.get(other.id)
                        t = rec[0] / rec[1] if rec is not None and rec[1] else 0.5
                        if t > floor:
                            target, floor = other, t
                    if target is None:
                        continue
                    events.append(("interaction_proposed", a.id, target.id))
                    accept = rand() < 0.7
                    effort, facade, sloppy, defects, misuse, engage = a.conduct
                    progress = min(1.0, max(-1.0, effort + facade + (rand() - 0.5) * 0.5))
                    rework = (rand() < sloppy) + (rand() < sloppy) + (rand() < sloppy)
                    rejections = (rand() < defects) + (rand() < defects)
                    flags = rand() < misuse
                    tone = 0.8 * engage + 0.2 * target.conduct[5] if accept else engage
                    engagement = min(1.0, max(-1.0, tone + (rand() - 0.5) * 0.4))
                    if not accept:
                        engagement = min(engagement, 0.0)
                    v_hat = (
                        0.4 * progress
                        + 0.2 * (1 - 2 * rework / 3)
                        + 0.2 * (1 - rejections)
                        + 0.1 * (1 - 2 * flags)
                        + 0.1 * engagement
                    )
                    v_hat = min(1.0, max(-1.0, v_hat))
                    p = 1.0 / (1.0 + exp(-2.0 * v_hat))
                    truth = 1 if rand() < 0.5 + 0.5 * effort - 0.15 * sloppy - 0.2 * defects else -1
                    s = p * 2.0 - (1.0 - p)
                    pi_a = pi_b = 0.5 * s
                    for rec_of, who in ((a.book, target.id), (target.book, a.id)):
                        rec = rec_of.get(who)
                        if rec is None:
                            rec = rec_of[who] = [0.0, 0.0]
                        if accept:
                            rec[0] += p
                            rec[1] += 1
                    events.append(("interaction_completed", a.id, target.id, p, truth, pi_a, pi_b))
                    metrics["interaction_completed"] += 1
                    if accept:
                        a.resources += pi_a
                        target.resources += pi_b
                        a.reputation += p - 0.5
                        toxic += 1 - p
                        welfare += pi_a + pi_b
                        accepted_n += 1
                        events.append(("ledger_updated", a.id, target.id, pi_a, pi_b))
                        metrics["ledger_updated"] += 1
            metrics["events"] += len(events)
            clock += 1
        closed[epoch] = (toxic / accepted_n if accepted_n else 0.0, welfare)
    cpu = time.process_time() - started_cpu
    wall = time.perf_counter() - started_wall
    gc.unfreeze()
    turns = n * epochs * steps
    total = sum(chosen_counts)
    shares = {k: round(c / total, 3) for k, c in zip((*KINDS, "nothing"), chosen_counts, strict=True)}
    return {
        "agents": n,
        "epochs": epochs,
        "steps": steps,
        "turns": turns,
        "wall_s": wall,
        "cpu_s": cpu,
        "turns_per_s": turns / cpu if cpu > 0 else float("inf"),
        "shares": shares,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best (least CPU) is reported")
    parser.add_argument("--json", action="store_true", help="print one JSON line")
    parser.add_argument("--mix", action="store_true", help="also print the shares of actions taken")
    args = parser.parse_args()
    best = min(
        (run(args.agents, args.epochs, args.steps) for _ in range(args.repeat)), key=lambda r: r["cpu_s"]
    )
    if args.json:
        print(json.dumps(best))
        return
    print(
        f"floor: {args.agents:,} agents x {args.epochs} epochs x {args.steps} steps: "
        f"{best['cpu_s']:.2f} s CPU, {best['turns_per_s']:,.0f} agent-turns/s "
        f"({1e6 / best['turns_per_s']:.2f} us per turn; best of {args.repeat})"
    )
    if args.mix:
        print("shares:", best["shares"])


if __name__ == "__main__":
    main()
