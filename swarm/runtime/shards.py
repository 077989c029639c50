"""Runs larger than one process: the agents spread over shards, under the same step barrier.

``Simulation(scenario, shards=N)`` (``swarm run --shards N``) splits the agents
over ``N`` shards. Shard 0 is this process: it keeps the agents that must stay
here (custom policies given with ``policies=``, policies that await, such as LLM
agents, and policies that do not pickle or whose class lives in ``__main__``) and
its share of the rest. Shards 1 … N−1 are worker processes (``backend="processes"``)
or Ray actors (``backend="ray"``). The others — registry-built agents whose
policies never wait — are dealt out round robin in registration order, so each
shard gets a like mix of types.

Every phase goes to all shards at once: the snapshot is encoded once
(:func:`~swarm.runtime.shard_worker.encode_snapshot`: only the public records
that changed since the last step's) and written to each worker,
this process answers for its own agents meanwhile, and the replies are merged back
into the order the clock asked in. The world components, the ledger, the levers and
the event log stay here and stay authoritative; a shard only ever runs policies.
Each shard gets its agents' policies as this process built them, pickled before
the run starts with the counter-based random streams they draw from, so the
replies — and the event log — are those of the unsharded run, byte for byte.

Balance (on unless ``balance=False``): every step each shard's time on the act
and respond phases is measured, and between steps agents move between shards so
that the shards finish together (see :mod:`swarm.runtime.shard_balance`; on a
shared machine one core may run far slower than another, and which one changes).
An agent leaving a worker sends its policy's attributes (as for a checkpoint)
into this process's copy of it; one leaving this process goes pickled with its
random stream. Only portable agents move. Where an agent runs never changes what
it does, so the log is the same whatever moves, and when.

A policy bug in a shard is raised here as the ``ActorFailed`` a local run raises
(naming the agent and the message); a shard that dies is a :class:`ShardFailure`.

Checkpoints: this process keeps the copy of every agent's policy it built, which
a worker's agents leave behind as they learn. At a checkpoint
(:meth:`ShardedPopulation.save_policies`) every worker sends its agents' policies'
attributes and those copies take them, so the checkpoint holds every agent, in
registration order, as an unsharded run's does. On resume or fork the copies take
the checkpoint's attributes with the rest of the world, and
:meth:`ShardedPopulation.load_policies` sends them to the workers.
Worker processes end with the run, when the run is cancelled, and when this
process dies (their stdin closes; on Linux the kernel also kills them).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import signal
import sys
import weakref
from array import array
from collections.abc import Callable, Sequence
from itertools import chain
from operator import itemgetter
from time import perf_counter
from typing import Any

from actors import Actor, ActorFailed, ActorRef, ActorSystem
from swarm.agents.policy import Outcome
from swarm.errors import ShardFailure
from swarm.kernel.agent import InlineAgent, Responded, is_inline
from swarm.kernel.component import Ask
from swarm.kernel.population import LocalPopulation, Population
from swarm.kernel.world import Seat
from swarm.runtime import checkpoint as ck
from swarm.runtime.rng import AgentStreams, Stream
from swarm.runtime.shard_balance import Balancer, Load, Rebalance
from swarm.runtime.shard_worker import (
    ACT,
    BUSY,
    FAIL,
    HEADER,
    LEARN,
    MOVE,
    PICKLE,
    RESPOND,
    RESTORE,
    SETUP,
    STATE,
    SYNC,
    Failure,
    ShardSetup,
    dumps,
    encode_outcomes,
    encode_snapshot,
    frame,
    grow_pipe,
)
from swarm.scenario import Scenario
from swarm.views import Snapshot

BACKENDS = ("processes", "ray")
START_TIMEOUT = 120.0
"""Seconds a shard may take to start and load its agents."""


def check_sharding(shards: int, backend: str) -> None:
    """Raise ``ValueError`` for a shard count or backend that cannot be used."""
    if not isinstance(shards, int) or isinstance(shards, bool) or shards < 1:
        raise ValueError(f"shards must be a whole number of at least 1 (got {shards!r})")
    if backend not in BACKENDS:
        raise ValueError(f"unknown shard backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    if backend == "ray" and shards > 1:
        import importlib.util

        if importlib.util.find_spec("ray") is None:
            raise ValueError(
                "the ray shard backend needs Ray, which is not installed: pip install 'swarm-sandbox[ray]'"
            )


def plan(seats: Sequence[Seat], shards: int, custom: frozenset[str] = frozenset()) -> list[int]:
    """Each seat's shard: round robin over the portable agents in registration order; 0 for the rest.

    An agent is portable when its policy was built from the registry (not given
    with ``policies=``), never awaits, and pickles (tried once per policy class,
    which must be importable elsewhere: not defined in ``__main__``).
    """
    owner = [0] * len(seats)
    n = 0
    for k, ok in enumerate(portable(seats, custom)):
        if ok:
            owner[k] = n % shards
            n += 1
    return owner


def portable(seats: Sequence[Seat], custom: frozenset[str] = frozenset()) -> list[bool]:
    """Which seats' agents may run in another shard (see :func:`plan`)."""
    out = []
    known: dict[type, bool] = {}
    for seat in seats:
        if seat.agent_id in custom:
            out.append(False)
            continue
        policy = seat.policy
        cls = type(policy)
        ok = known.get(cls)
        if ok is None:
            ok = known[cls] = is_inline(policy) and cls.__module__ != "__main__" and _pickles(policy)
        out.append(ok)
    return out


def _pickles(obj: object) -> bool:
    try:
        pickle.loads(pickle.dumps(obj, PICKLE))
    except Exception:
        return False
    return True


class ShardedPopulation(Population):
    """The run's agents over this process (shard 0) and ``shards − 1`` workers.

    Life cycle: :meth:`spawn` (the workers start, importing the sandbox, while this
    process builds the agents), :meth:`assign` (the agents dealt out; each worker
    gets its own, pickled, and loads them while the world is set up), :meth:`bind`
    (this process's agents join its actor system), :meth:`ready` (every shard has
    loaded its agents), the phases, :meth:`flush` (every shard has handled all it
    was sent), :meth:`aclose`.
    """

    def __init__(self, shards: int, backend: str = "processes", balance: bool | Rebalance = True) -> None:
        check_sharding(shards, backend)
        self.shards = shards
        self.backend = backend
        self.balance: Rebalance | None = (
            (Balancer() if balance else None) if isinstance(balance, bool) else balance
        )
        """What moves agents between shards between steps (None: the first split stays)."""
        self.movable: list[bool] = []
        """Each agent's: whether it may move between shards (portable, and not refused a move)."""
        self.moved = 0
        """Agents moved between shards so far."""
        self.pool: AgentStreams = AgentStreams.pool([])
        """This process's agents' random streams (what its clock steps); kept in step with moves."""
        self.move_seconds: float | None = None
        """Seconds a move takes per agent moved (smoothed; None before the first)."""
        self._steps = 1
        self._total = 0
        self._measured = 0
        self._spent: list[float] = []
        """Each shard's seconds on the act and respond phases this step (from each phase's start)."""
        self._agent_spent: list[float] = []
        """How much of them its agents' own work took."""
        self._learnt = 0.0
        """Seconds this process's agents spent learning this step (its critical path; not a worker's)."""
        self._t0 = 0.0
        self._actors: dict[int, tuple[ActorRef, InlineAgent | None]] = {}
        """The actor of every agent that has been in this process (by registration index)."""
        self.n = 1
        """Shards that have agents (fewer than asked when there are fewer portable agents)."""
        self.owner: list[int] = []
        self.pos: list[int] = []
        self.index: dict[str, int] = {}
        self.members: list[list[Seat]] = [[]]
        self.local_indices: list[int] = []
        """Registration indices of the agents that stay in this process."""
        self.indices: list[list[int]] = [[]]
        """Each shard's agents' registration indices, in shard order."""
        self.all_streams: list[Stream] = []
        """Every agent's random stream, in registration order (a checkpoint names them so)."""
        self.local: LocalPopulation | None = None
        self.remotes: list[_Remote] = []
        self._snapshot: Snapshot | None = None
        self._snapshot_blobs: list[tuple[Any, Any, bytes]] = []
        self._exhausted: dict[Any, Any] = {}
        """The current snapshot's encodings: (the records a shard held before, the bytes)."""
        self._act_route = _Route([], [], [], 1)
        self._closed = False
        self._failed: ActorFailed | None = None
        self._stand_ins: set[str] = set()
        self._surplus: list[_Remote] = []
        self._pids: list[int] = []
        self._finalizer = weakref.finalize(self, _kill, self._pids)

    # ------------------------------------------------------------------ life cycle

    async def spawn(self) -> None:
        """Start ``shards − 1`` workers (they have no agents yet)."""
        if self.backend == "ray":
            self.remotes = await _ray_shards(self.shards - 1)
            return
        for shard in range(1, self.shards):
            worker = await _Process.spawn(shard)
            self._pids.append(worker.pid)
            self.remotes.append(worker)

    def assign(
        self,
        scenario: Scenario,
        seats: Sequence[Seat],
        streams: Sequence[Stream],
        custom: frozenset[str] = frozenset(),
    ) -> None:
        """Deal the agents out (see :func:`plan`) and send each worker its own, without waiting.

        ``streams``: every agent's random stream, in registration order; a worker gets
        its agents' streams with their policies. Workers left without agents are stopped.
        """
        owner = plan(seats, self.shards, custom)
        self.n = max(owner, default=0) + 1
        self.movable = portable(seats, custom)
        self._seats = list(seats)
        self.index = {seat.agent_id: k for k, seat in enumerate(seats)}
        self.all_streams = list(streams)
        self._steps = scenario.simulation.steps_per_epoch
        self._total = scenario.simulation.n_epochs * self._steps
        self._place(owner)
        indices = self.indices
        self.pool = AgentStreams.pool([self.all_streams[k] for k in self.local_indices])
        surplus, self.remotes = self.remotes[self.n - 1 :], self.remotes[: self.n - 1]
        for remote in surplus:
            remote.close_input()
        self._surplus = surplus
        steps = scenario.simulation.steps_per_epoch
        for s, remote in enumerate(self.remotes, start=1):
            members = self.members[s]
            setup = ShardSetup(
                s,
                steps,
                tuple((seat.agent_id, seat.policy) for seat in members),
                tuple(streams[k] for k in indices[s]),
                tuple(indices[s]),
            )
            try:
                blob = pickle.dumps(setup, PICKLE)
            except Exception as exc:
                culprit = next((seat for seat in members if not _pickles(seat.policy)), None)
                who = f"agent {culprit.agent_id}'s policy" if culprit else f"shard {s}'s agents"
                raise ShardFailure(f"{who} cannot be sent to another process: {exc}") from None
            remote.post(SETUP, blob)

    def _place(self, owner: list[int]) -> None:
        """Each agent's shard is ``owner``'s: every shard's agents in registration order."""
        self.owner = owner
        indices: list[list[int]] = [[] for _ in range(self.n)]
        adders = [mine.append for mine in indices]
        for k, s in enumerate(owner):
            adders[s](k)
        pos = [0] * len(owner)
        for mine in indices:
            for p, k in enumerate(mine):
                pos[k] = p
        self.pos = pos
        seat = self._seats.__getitem__
        self.members = [list(map(seat, mine)) for mine in indices]
        self.local_indices = indices[0]
        self.indices = indices
        self._act_route = _Route([], [], [], 1)

    def bind(self, system: ActorSystem, timeout: float) -> None:
        """Spawn this process's agents as actors of ``system``."""
        self.local = LocalPopulation(system, [(s.agent_id, s.policy) for s in self.members[0]], timeout)
        self._actors = dict(zip(self.local_indices, self.local.members(), strict=True))

    async def ready(self, timeout: float = START_TIMEOUT) -> None:
        """Wait until every worker shard has loaded its agents."""
        try:
            async with asyncio.timeout(timeout):
                for remote in self.remotes:
                    status, payload = await remote.receive("starting")
                    if status == FAIL:
                        failure: Failure = pickle.loads(payload)
                        raise ShardFailure(f"{failure.error_text}\n{_tail(failure.traceback)}")
        except TimeoutError:
            raise ShardFailure(f"the shards did not load their agents within {timeout:g} s") from None

    # ------------------------------------------------------------------ checkpoints

    def _named(self, shard: int) -> dict[str, object]:
        """What a worker's saved attributes name (its agents' streams, by position), here."""
        streams = self.all_streams
        return {f"stream:{p}": streams[k] for p, k in enumerate(self.indices[shard])}

    async def save_policies(self) -> None:
        """This process's copies of the workers' agents' policies take their state now (for a checkpoint).

        Asked after everything sent so far, so each shard has learnt what it was
        told. An attribute that cannot be saved is a ``CheckpointError`` naming the agent.
        """
        for remote in self.remotes:
            await remote.send(STATE, b"")
        replies = await self._gather(self.remotes, "saving its agents")
        for s, blob in enumerate(replies, start=1):
            states = ck.load_policies(blob, self._named(s))
            for seat, attrs in zip(self.members[s], states, strict=True):
                ck.put_back(seat.policy, attrs)

    async def load_policies(self) -> None:
        """Send every worker its agents' policies' attributes as this process's copies hold them
        (a checkpoint's, once restored), and wait until they have taken them."""
        for s, remote in enumerate(self.remotes, start=1):
            agents = [(seat.agent_id, seat.policy) for seat in self.members[s]]
            await remote.send(RESTORE, ck.dump_policies(agents, self._named(s)))
        await self._gather(self.remotes, "taking back its agents' saved state")

    async def aclose(self) -> None:
        """Stop every worker shard (closing its input; killing it if it does not end in time)."""
        self._closed = True
        remotes, self.remotes = [*self.remotes, *self._surplus], []
        self._surplus = []
        for remote in remotes:
            remote.close_input()
        for remote in remotes:
            await remote.stop()
        self._finalizer.detach()

    # ----------------------------------------------------------------------- phases

    def _blobs(self, snapshot: Snapshot, remotes: Sequence[_Remote]) -> list[Any]:
        """The snapshot as each of ``remotes`` takes it (the records changed since the ones it holds,
        the exhausted rate limits only when they changed).

        Shards that hold the same records get the same bytes, shared once.
        """
        if snapshot is not self._snapshot:
            self._snapshot, self._snapshot_blobs = snapshot, []
            limits = snapshot.exhausted
            self._exhausted = limits if type(limits) is dict else dict(limits)
        made = self._snapshot_blobs
        exhausted = self._exhausted
        out: list[bytes] = []
        for remote in remotes:
            base, spent = remote.agents, remote.exhausted
            blob = next((b for held, had, b in made if held is base and had is spent), None)
            if blob is None:
                blob = encode_snapshot(snapshot, base, spent)
                made.append((base, spent, blob))
            out.append(blob)
            remote.snapshot, remote.agents, remote.exhausted = snapshot, snapshot.agents, exhausted
        shared: dict[int, Any] = {}
        for blob in out:
            if id(blob) not in shared:
                shared[id(blob)] = remotes[0].share(blob, sum(b is blob for b in out))
        return [shared[id(b)] for b in out]

    def _route(self, active: Sequence[int]) -> _Route:
        """Where the agents of ``active`` (registration indices, ascending) answer; one act
        phase's is kept."""
        kept = self._act_route
        if len(active) == len(kept.keys) == len(self.owner):  # everyone, in order, as last time
            return kept
        keys = list(active)
        if keys == kept.keys:
            return kept
        return _Route(keys, self.owner, self.pos, self.n)

    async def act(self, snapshot: Snapshot, active: Sequence[int]) -> list[Any]:
        assert self.local is not None
        if self.balance is not None and self.remotes:
            await self._between_steps(snapshot.epoch * self._steps + snapshot.step)
        self._t0 = perf_counter()
        route = self._act_route = self._route(active)
        if self.remotes:
            blobs = self._blobs(snapshot, self.remotes)
            for remote, blob, positions in zip(self.remotes, blobs, route.packed()[1:], strict=True):
                await remote.send(ACT, blob, positions)
        here = route.per[0]
        local = await self._local(self.local.act(snapshot, here) if here else None)
        replies = await self._gather(self.remotes, "acting", timed=True)
        return route.merge([local or [], *(pickle.loads(r) for r in replies)])

    async def respond(
        self, snapshot: Snapshot, ask: Ask, asked: Sequence[tuple[int, tuple[Any, ...]]]
    ) -> list[Responded]:
        assert self.local is not None
        self._t0 = perf_counter()
        route, split = _Route.split(asked, self.owner, self.pos, self.n)
        sent = []
        for s, remote in enumerate(self.remotes, start=1):
            if split[s]:
                fresh = b"" if remote.snapshot is snapshot else self._blobs(snapshot, [remote])[0]
                await remote.send(RESPOND, dumps((ask, split[s])), fresh)
                sent.append(remote)
        here = split[0]
        local = await self._local(self.local.respond(snapshot, ask, here) if here else None)
        replies = iter(await self._gather(sent, "responding", timed=True))
        answered: list[list[Any]] = [local or []]
        for theirs in split[1:]:
            answered.append(pickle.loads(next(replies)) if theirs else [])
        return route.merge(answered)

    async def learn(self, outcomes: Sequence[tuple[int, Outcome]]) -> None:
        """Told, not asked (as to a local agent): the shards learn while this process goes on.

        A shard whose agent fails to learn says so at its next reply, or at :meth:`flush`.
        """
        assert self.local is not None
        split = _Route.split(outcomes, self.owner, self.pos, self.n, merged=False)[1]
        for s, remote in enumerate(self.remotes, start=1):
            if split[s]:
                await remote.send(LEARN, encode_outcomes(split[s]))
        if split[0]:
            began = perf_counter()
            await self.local.learn(split[0])
            self._learnt += perf_counter() - began

    async def flush(self) -> None:
        """Wait until every shard has handled all it was sent (what it learnt, say); raise its failure."""
        for remote in self.remotes:
            await remote.send(SYNC, b"")
        await self._gather(self.remotes, "finishing")

    async def _local(self, phase: Any) -> Any:
        """This process's part of a phase; a policy failure waits until the shards have answered."""
        began = perf_counter()
        try:
            return None if phase is None else await phase
        except ActorFailed as exc:
            self._failed = exc
            return None
        finally:
            if self._spent:
                now = perf_counter()
                self._spent[0] += now - self._t0
                self._agent_spent[0] += now - began

    async def _gather(self, remotes: Sequence[_Remote], doing: str, timed: bool = False) -> list[bytes]:
        """Every shard's reply to a request.

        ``timed`` (the act and respond phases): each shard's time is added to the
        step's: the compute time it reports, or, when this process had to wait for
        its reply, the time from the phase's start until the reply came.

        A policy bug in a shard is raised as the ``ActorFailed`` the agent's own actor
        would raise here (same text, same supervision: the run stops naming the agent).
        A bug in this process's agents goes first; of several shards', the earliest agent's.
        """
        if self._closed:
            raise ShardFailure("the sharded population is closed")
        replies: list[bytes] = []
        failures: list[tuple[int, Failure, _Remote]] = []
        dead: ShardFailure | None = None
        spent = self._spent if timed and self._spent else None
        for remote in remotes:
            began = perf_counter()
            try:
                status, payload = await remote.receive(doing)
            except ShardFailure as exc:
                dead = dead or exc
                continue
            if spent is not None:
                now = perf_counter()
                waited = now - began > _BLOCKED
                spent[remote.shard] += max(remote.busy, now - self._t0) if waited else remote.busy
                self._agent_spent[remote.shard] += remote.agent_busy
            if status == FAIL:
                failure: Failure = pickle.loads(payload)
                failures.append((self.index.get(failure.agent_id, -1), failure, remote))
            replies.append(payload)
        local, self._failed = self._failed, None
        if dead is not None:
            raise dead
        if local is not None:
            raise local
        if failures:
            _, failure, remote = min(failures, key=lambda f: (f[1].kind != LEARN, f[0]))
            if failure.kind in (STATE, RESTORE):
                raise ck.CheckpointError(f"{_reason(failure)} (in {remote.name})")
            if failure.kind == MOVE:
                raise ShardFailure(f"{remote.name} could not move agents: {failure.error_text}")
            raise self._failure(failure, remote)
        return replies

    # ---------------------------------------------------------------------- balance

    async def _between_steps(self, t: int) -> None:
        """Before step ``t``'s first phase: the last step's times to the balancer, and its moves made."""
        assert self.balance is not None
        spent, self._spent = self._spent, [0.0] * self.n
        agents, self._agent_spent = self._agent_spent, [0.0] * self.n
        learnt, self._learnt = self._learnt, 0.0
        if not spent:
            return
        self._measured += 1
        load = Load(
            self._measured,
            tuple(self.owner),
            tuple(self.movable),
            tuple(spent),
            tuple(agents),
            remaining=self._total - t,
            move_seconds=self.move_seconds,
            serial_seconds=learnt,
        )
        moves = self.balance.moves(load)
        if moves:
            began = perf_counter()
            moved = await self.move(moves, t)
            if moved:
                per = (perf_counter() - began) / moved
                old = self.move_seconds
                self.move_seconds = per if old is None else (old + per) / 2

    async def move(self, moves: Sequence[tuple[int, int]], t: int) -> int:
        """Move agents (``(registration index, shard)``) between steps, before step ``t``; how many moved.

        Agents that may not move, or are asked to stay where they are, are left
        out; one whose state cannot be sent stays where it is and is never moved again.
        """
        assert self.local is not None
        owner, movable, n = self.owner, self.movable, self.n
        wanted: dict[int, int] = {}
        for k, dest in moves:
            if 0 <= k < len(owner) and movable[k] and 0 <= dest < n and dest != owner[k]:
                wanted[k] = dest
        if not wanted:
            return 0
        refs = self._actors
        for k in [k for k, dest in wanted.items() if owner[k] == 0]:
            if not refs[k][0].idle:  # something still queued for it here: it moves another time
                del wanted[k]
        new_owner = list(owner)
        # 1. every worker gives up its leaving agents (their state comes here) and takes this process's
        arriving: list[list[int]] = [[] for _ in range(n)]
        via_here: list[tuple[int, int]] = []
        for k, dest in sorted(wanted.items()):
            if owner[k] == 0:
                arriving[dest].append(k)
            elif dest != 0:
                via_here.append((k, dest))
        leaving = [[k for k in self.indices[s] if k in wanted] for s in range(n)]
        asked = []
        for s, remote in enumerate(self.remotes, start=1):
            if leaving[s] or arriving[s]:
                request, sent = self._move_request([self.pos[k] for k in leaving[s]], arriving[s])
                await remote.send(MOVE, request)
                asked.append(s)
                for k in sent:
                    new_owner[k] = s
        replies = await self._gather([self.remotes[s - 1] for s in asked], "moving agents")
        for s, reply in zip(asked, replies, strict=True):
            kept, blob = pickle.loads(reply)
            states = ck.load_policies(blob, self._named(s))
            stay = set(kept)
            gone = [k for k in leaving[s] if k not in stay]
            for k, attrs in zip(gone, states, strict=True):
                ck.put_back(self._seats[k].policy, attrs)
                new_owner[k] = 0
            for k in kept:
                movable[k] = False
        # 2. agents going from one worker to another went through here; now they go on
        onward: list[list[int]] = [[] for _ in range(n)]
        for k, dest in via_here:
            if new_owner[k] == 0:
                onward[dest].append(k)
        asked = []
        for s, remote in enumerate(self.remotes, start=1):
            if onward[s]:
                request, sent = self._move_request([], onward[s])
                await remote.send(MOVE, request)
                asked.append(s)
                for k in sent:
                    new_owner[k] = s
        if asked:
            await self._gather([self.remotes[s - 1] for s in asked], "moving agents")
        moved = sum(new_owner[k] != owner[k] for k in wanted)
        self._place(new_owner)
        self._seat_here(t)
        self.moved += moved
        return moved

    def _move_request(self, leaving: list[int], arriving: list[int]) -> tuple[bytes, list[int]]:
        """A ``MOVE`` request (positions leaving that worker; agents arriving, with their streams),
        and which of ``arriving`` it sends: a policy that no longer pickles stays here, never to move."""
        for k in arriving:  # what this process computed ahead stays here
            stream = self.all_streams[k]
            stream.begin(stream.t)

        def request(ks: list[int]) -> bytes:
            agents = tuple((k, self._seats[k].agent_id, self._seats[k].policy) for k in ks)
            streams = tuple(self.all_streams[k] for k in ks)
            return pickle.dumps((tuple(leaving), agents, streams), PICKLE)

        try:
            return request(arriving), arriving
        except Exception:
            sent = []
            for k in arriving:
                if _pickles(self._seats[k].policy):
                    sent.append(k)
                else:
                    self.movable[k] = False
            return request(sent), sent

    def _seat_here(self, t: int) -> None:
        """This process's actors and random streams follow the agents it now holds (step ``t`` begun)."""
        assert self.local is not None
        refs = self._actors
        for k in self.local_indices:
            if k not in refs:
                seat = self._seats[k]
                refs[k] = self.local.spawn(seat.agent_id, seat.policy)
        self.local.reseat([refs[k] for k in self.local_indices])
        self.pool.hold([self.all_streams[k] for k in self.local_indices])
        self.pool.begin_step(t)

    def _failure(self, failure: Failure, remote: _Remote) -> ActorFailed:
        """What the agent's actor raises for this bug here: the same text, the system stopping on it."""
        assert self.local is not None
        cause: BaseException | None = None
        if failure.error is not None:
            with contextlib.suppress(Exception):
                cause = pickle.loads(failure.error)
        if not isinstance(cause, BaseException):
            cause = RuntimeError(failure.error_text)
        cause.add_note(f"raised in {remote.name}:\n{failure.traceback.rstrip()}")
        name = f"agent:{failure.agent_id}"
        here = self._actors.get(self.index.get(failure.agent_id, -1))
        if here is not None:  # the agent was in this process once: its actor there says it
            return here[0].failed(_Described(failure.message), cause)
        if name in self._stand_ins:  # pragma: no cover - a shard fails once, then answers nothing else
            error = ActorFailed(f"actor {name!r} failed handling {failure.message}: {failure.error_text}")
            error.__cause__ = cause
            return error
        self._stand_ins.add(name)
        ref = self.local.system.spawn(_Elsewhere(), name=name)
        return ref.failed(_Described(failure.message), cause)


class _Route:
    """Where each of a phase's agents answers, and how the shards' replies go back in order.

    ``per[s]``: shard ``s``'s positions of its agents among ``keys``' (registration
    indices), in order; ``source[s]``: where in ``keys`` each of those came from.
    """

    __slots__ = ("_order", "_packed", "keys", "per", "source")

    def __init__(self, keys: list[int], owner: Sequence[int], pos: Sequence[int], shards: int) -> None:
        self.keys = keys
        self.per: list[list[int]] = [[] for _ in range(shards)]
        self.source: list[list[int]] = [[] for _ in range(shards)]
        per, source = self.per, self.source
        for i, k in enumerate(keys):
            s = owner[k]
            per[s].append(pos[k])
            source[s].append(i)
        self._order: Callable[[list[Any]], tuple[Any, ...]] | None = None
        self._packed: list[bytes] | None = None

    @classmethod
    def split(
        cls,
        items: Sequence[tuple[int, Any]],
        owner: Sequence[int],
        pos: Sequence[int],
        shards: int,
        merged: bool = True,
    ) -> tuple[_Route, list[list[tuple[int, Any]]]]:
        """``items`` (registration index, value) as each shard's ``(position, value)``, in one pass;
        and the route that puts the shards' replies back in the order of ``items`` (when ``merged``)."""
        route = cls.__new__(cls)
        route.keys, route.per, route._order, route._packed = [], [], None, None
        split: list[list[tuple[int, Any]]] = [[] for _ in range(shards)]
        source: list[list[int]] = [[] for _ in range(shards)]
        route.source = source
        put = [mine.append for mine in split]
        if merged:
            came = [mine.append for mine in source]
            for i, (k, value) in enumerate(items):
                s = owner[k]
                put[s]((pos[k], value))
                came[s](i)
        else:
            for k, value in items:
                put[owner[k]]((pos[k], value))
        return route, split

    def packed(self) -> list[bytes]:
        """Each shard's positions as ``array('I')`` bytes (what an act request carries), packed once."""
        if self._packed is None:
            self._packed = [array("I", mine).tobytes() for mine in self.per]
        return self._packed

    def pairs(self, shard: int, values: Sequence[Any]) -> list[tuple[int, Any]]:
        """``(position, value)`` for shard ``shard``'s agents, ``values`` being in the order of ``keys``."""
        return list(zip(self.per[shard], map(values.__getitem__, self.source[shard]), strict=True))

    def merge(self, replies: Sequence[Sequence[Any]]) -> list[Any]:
        """The shards' replies (shard 0's first), back in the order of ``keys``."""
        if self._order is None:  # where each of keys' replies sits among the shards' laid end to end
            came = [i for mine in self.source for i in mine]
            order = sorted(range(len(came)), key=came.__getitem__)
            # one C call picks them all (itemgetter of one index gives the item, not a tuple)
            self._order = itemgetter(*order) if len(order) > 1 else (lambda laid: tuple(laid))
        return list(self._order(list(chain.from_iterable(replies))))


class _Described:
    """A message known by its repr (a shard's agent was handling it)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


class _Elsewhere(Actor):
    """Stands in, in this process's actor system, for an agent whose policy failed in another shard."""


_BLOCKED = 0.0005
"""Seconds of waiting for a reply that show this process waited for the shard (it was still working)."""


def _reason(failure: Failure) -> str:
    """A checkpoint failure's message (the exception's own text, when it pickled)."""
    with contextlib.suppress(Exception):
        if failure.error is not None:
            return str(pickle.loads(failure.error))
    return failure.error_text


def _tail(text: str, lines: int = 12) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _kill(pids: list[int]) -> None:
    """Last resort (the population was dropped without ``aclose``, or the interpreter is exiting)."""
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, getattr(signal, "SIGKILL", signal.SIGTERM))


# ---------------------------------------------------------------------- backends


class _Remote:
    """A worker shard as the population drives it: send a request, receive its reply."""

    name = "shard"
    shard = 0
    busy = 0.0
    """The compute seconds the shard reported with its last reply."""
    agent_busy = 0.0
    """How much of them its agents' own work took."""
    snapshot: Snapshot | None = None
    """The last snapshot sent to this shard (a respond phase reuses it)."""
    agents: tuple[Any, ...] | None = None
    """That snapshot's public records (the next snapshot sends only those that changed)."""
    exhausted: dict[Any, Any] | None = None
    """That snapshot's exhausted rate limits (the next one sends them only when they changed)."""

    def share(self, blob: bytes, shards: int) -> Any:
        """``blob`` as it is best sent to ``shards`` shards of this kind (as it is, by default)."""
        return blob

    def post(self, kind: int, a: Any, b: bytes = b"") -> None:
        """Send without waiting for the shard to take it."""
        raise NotImplementedError

    async def send(self, kind: int, a: Any, b: bytes = b"") -> None:
        raise NotImplementedError

    async def receive(self, doing: str) -> tuple[int, bytes]:
        raise NotImplementedError

    def close_input(self) -> None:
        """Tell the shard there is nothing more (it ends)."""

    async def stop(self) -> None:
        """Wait for the shard to end, ending it if it does not."""


class _Process(_Remote):
    """A worker process speaking frames over its stdin and stdout."""

    def __init__(self, shard: int, process: asyncio.subprocess.Process) -> None:
        self.shard = shard
        self.process = process
        self.pid = process.pid
        self.name = f"shard {shard} (process {process.pid})"
        assert process.stdin is not None and process.stdout is not None
        self.stdin = process.stdin
        self.stdout = process.stdout
        # drain() returns only once the pipe has taken every byte: the worker then reads
        # the snapshot while this process computes its own agents' replies.
        self.stdin.transport.set_write_buffer_limits(high=0)
        pipe = self.stdin.transport.get_extra_info("pipe")
        if pipe is not None:  # (the worker grows its output pipe itself)
            grow_pipe(pipe.fileno())

    @classmethod
    async def spawn(cls, shard: int) -> _Process:
        path = [p for p in sys.path if isinstance(p, str)]
        code = (
            f"import sys; sys.path[:0] = {path!r}; "
            f"from swarm.runtime.shard_worker import main; main({os.getpid()})"
        )
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                code,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=1 << 30,
            )
        except OSError as exc:
            raise ShardFailure(f"shard {shard} could not start a worker process: {exc}") from None
        return cls(shard, process)

    def post(self, kind: int, a: bytes, b: bytes = b"") -> None:
        """Send without waiting: what the pipe does not take now goes when this process next waits."""
        self.stdin.writelines(frame(kind, a, b))

    async def send(self, kind: int, a: bytes, b: bytes = b"") -> None:
        try:
            self.stdin.writelines(frame(kind, a, b))
            await self.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            raise await self._died("being sent a request") from None

    async def receive(self, doing: str) -> tuple[int, bytes]:
        try:
            kind, na, nb = HEADER.unpack(await self.stdout.readexactly(HEADER.size))
            a = await self.stdout.readexactly(na) if na else b""
            if nb:
                b = await self.stdout.readexactly(nb)
                self.busy, self.agent_busy = BUSY.unpack(b) if nb == BUSY.size else (0.0, 0.0)
        except (asyncio.IncompleteReadError, ConnectionResetError):
            raise await self._died(doing) from None
        return kind, a

    async def _died(self, doing: str) -> ShardFailure:
        code = self.process.returncode
        if code is None:
            with contextlib.suppress(TimeoutError):
                code = await asyncio.wait_for(self.process.wait(), 2.0)
        if code is None:
            how = "closed its pipe"
        elif code < 0:
            try:
                how = f"was killed by {signal.Signals(-code).name}"
            except ValueError:
                how = f"was killed by signal {-code}"
        else:
            how = f"exited with code {code}"
        return ShardFailure(f"{self.name} {how} while {doing}; its agents cannot go on")

    def close_input(self) -> None:
        if not self.stdin.is_closing():
            self.stdin.close()

    async def stop(self, timeout: float = 5.0) -> None:
        try:
            await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()


class _RayShard(_Remote):
    """A Ray actor running a shard (see :class:`~swarm.runtime.shard_worker.RayShard`)."""

    def __init__(self, actor: Any, shard: int) -> None:
        self.actor = actor
        self.shard = shard
        self.name = f"shard {shard} (Ray actor)"
        self.pending: Any = None

    def post(self, kind: int, a: Any, b: bytes = b"") -> None:
        self.pending = self.actor.setup.remote(a) if kind == SETUP else self.actor.call.remote(kind, a, b)

    def share(self, blob: bytes, shards: int) -> Any:
        """Put once in the object store for all the shards (each call would copy it in again)."""
        if shards < 2:
            return blob
        import ray

        return ray.put(blob)

    async def send(self, kind: int, a: Any, b: bytes = b"") -> None:
        ref = self.actor.call.remote(kind, a, b)
        if kind != LEARN:  # told, not asked: a failure shows in the next reply
            self.pending = ref

    async def receive(self, doing: str) -> tuple[int, bytes]:
        import ray

        pending, self.pending = self.pending, None
        try:
            status, payload, *busy = await pending
        except ray.exceptions.RayError as exc:
            raise ShardFailure(f"{self.name} failed while {doing}: {exc}") from None
        self.busy, self.agent_busy = (float(busy[0]), float(busy[1])) if len(busy) == 2 else (0.0, 0.0)
        return int(status), bytes(payload)

    async def stop(self) -> None:
        import ray

        with contextlib.suppress(Exception):
            ray.kill(self.actor)


async def _ray_shards(count: int) -> list[_Remote]:
    """One Ray actor per worker shard, on the cluster ``RAY_ADDRESS`` names (else a local one)."""
    try:
        import ray
    except ImportError:
        raise ShardFailure(
            "the ray shard backend needs Ray, which is not installed: pip install 'swarm-sandbox[ray]'"
        ) from None
    from swarm.runtime.shard_worker import RayShard

    if not ray.is_initialized():
        options: dict[str, Any] = {} if os.environ.get("RAY_ADDRESS") else {"include_dashboard": False}
        # On this thread, although a local Ray takes seconds to start: Ray ties the processes it
        # starts to the life of the thread that starts them, and a worker thread (asyncio.to_thread)
        # ends with the event loop, taking Ray down under any later run in this process.
        ray.init(**options)
    actor_class = ray.remote(num_cpus=1)(RayShard)
    return [_RayShard(actor_class.remote(), shard) for shard in range(1, count + 1)]
