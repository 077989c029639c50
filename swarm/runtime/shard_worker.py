"""One shard of a sharded run: some agents' policies, run outside the main process.

Both backends of :class:`~swarm.runtime.shards.ShardedPopulation` run a
:class:`ShardRunner`: a worker process (``--backend processes``) runs :func:`main`,
which serves the runner over its stdin and stdout; a Ray actor (``--backend ray``)
wraps one. Either way every request and reply is a kind and bytes, so both
backends move exactly the same data.

A shard gets its agents' policies as the main process built them, pickled before
the run starts, together with their counter-based random streams (a draw depends
only on the stream's key, the step and the draw's number, see
:mod:`swarm.runtime.rng`): each policy starts in exactly the state it would have
had in the unsharded run, whatever registered its type. The runner then answers
the phases with the handlers of :class:`~swarm.kernel.agent.InlineAgent`, for its
agents, in the order asked.

Requests (``kind``, ``a``, ``b``) and replies:

* ``SETUP``: ``a`` a pickled :class:`ShardSetup`; replied ``OK`` once loaded.
* ``ACT``: ``a`` the step's snapshot (:func:`encode_snapshot`: the public records
  that changed since the last snapshot sent, the same bytes for every shard that
  had that one), ``b`` the active agents' positions in this shard (``array('I')``);
  replied with the pickled list of replies (actions, or ``Acted``).
* ``RESPOND``: ``a`` pickled ``(ask, [(position, questions), ...])``, ``b`` a
  snapshot when it is not the last one sent (else empty); replied with the pickled
  list of ``Responded``.
* ``LEARN``: ``a`` the outcomes ``[(position, outcome), ...]`` (:func:`encode_outcomes`);
  not replied (a failure is: see below). Learning is told, not asked, as it is to
  a local agent, so the shard learns while the main process finishes the step.
* ``SYNC``: replied ``OK`` once everything sent before it is handled.
* ``STATE``: replied with the shard's agents' policies' attributes, in shard order
  (:func:`~swarm.runtime.checkpoint.dump_policies`), once everything sent before
  it is handled: what a checkpoint saves of them. One that cannot be saved is
  replied ``FAIL`` naming the agent and the attribute.
* ``RESTORE``: ``a`` such attributes (a checkpoint's, on resume or fork), which
  the shard's policies take back; replied ``OK``.
* ``MOVE`` (between steps, when the main process rebalances the shards): ``a``
  pickled ``(leaving, arriving, streams)``: the positions of the agents that go
  to the main process, and ``(registration index, agent id, policy)`` of those
  that come here, with their random streams. Replied with pickled ``(kept,
  attributes)``: the registration indices of leaving agents whose policies'
  attributes cannot be sent (they stay), and the others' attributes as ``STATE``
  sends them. The shard's agents stay in registration order.

Every reply frame's ``b`` is the seconds the shard spent computing ``ACT`` and
``RESPOND`` replies since its last reply, and how much of that its agents' own
work took (two doubles, :data:`BUSY`); a Ray actor returns them as a third and
fourth element. The main process balances the shards with them.

A policy bug is replied ``FAIL`` with a :class:`Failure` (the request, which
agent, the exception when it pickles, its traceback), at once, whatever the
request; every later request is answered with the same ``FAIL``. Frames on the
pipes are ``HEADER`` (kind and the lengths of ``a`` and ``b``), then ``a`` and ``b``.
"""

from __future__ import annotations

import copyreg
import gc
import io
import os
import pickle
import signal
import struct
import sys
import traceback
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import compress
from operator import is_not, methodcaller
from time import perf_counter
from typing import Any

import msgspec

SETUP, ACT, RESPOND, LEARN, SYNC, STATE, RESTORE, MOVE = 1, 2, 3, 4, 5, 6, 7, 8
OK, FAIL = 0, 1
HEADER = struct.Struct(">BII")
BUSY = struct.Struct("<dd")
PICKLE = pickle.HIGHEST_PROTOCOL
PIPE_BYTES = 1 << 20
"""Pipe capacity asked for (Linux allows 1 MiB unprivileged): a step's snapshot crosses in one write."""
PICKLED, PACKED = b"p", b"m"
ALL, CHANGED = 0, 1
"""How a snapshot's public records are sent: all of them, or those changed since the last one."""


@dataclass(frozen=True)
class ShardSetup:
    """A shard's agents: their ids and policies, and the random streams those policies draw from."""

    shard: int
    steps_per_epoch: int
    agents: tuple[tuple[str, Any], ...]
    """(agent id, policy), in shard order."""
    streams: tuple[Any, ...]
    """The agents' :class:`~swarm.runtime.rng.Stream` objects (pickled with the policies that hold them)."""
    keys: tuple[int, ...] = ()
    """The agents' registration indices (ascending; empty: 0, 1, 2, ...)."""


@dataclass(frozen=True)
class Failure:
    """A policy bug in a shard (raised in the main process as the ``ActorFailed`` a local run raises).

    ``kind`` is the request it happened in and ``message`` the repr of the message
    the agent was handling (``Act(epoch=1, step=0)``); ``kind`` ``SETUP`` is a shard
    that could not load its agents, ``STATE`` an agent that cannot be saved and
    ``RESTORE`` saved attributes that could not be taken back.
    """

    kind: int
    message: str
    agent_id: str
    error: bytes | None
    """The exception, pickled (None when it does not pickle)."""
    error_text: str
    traceback: str


_STRUCT_REDUCE = msgspec.Struct.__reduce__
_OBJECT_REDUCE_EX = object.__reduce_ex__


class _Reductions(dict[type, Any]):
    """The reduction of each class a :class:`_Pickler` meets, found once per class.

    A msgspec struct's is its own ``__reduce__`` (C), called directly: the default
    path goes through ``object.__reduce_ex__``, which looks ``__reduce__`` up again
    on every object, and takes longer than the struct's reduction itself. Any other
    class's is what pickle would call (``copyreg``'s, else ``__reduce_ex__(PICKLE)``);
    classes themselves (instances of a metaclass) are left to pickle (a ``KeyError``),
    which saves them by reference. So the bytes are exactly ``pickle.dumps``'s.
    """

    def __missing__(self, cls: type) -> Any:
        found = copyreg.dispatch_table.get(cls)
        if found is None:
            if issubclass(cls, type):
                raise KeyError(cls)
            if (
                issubclass(cls, msgspec.Struct)
                and cls.__reduce__ is _STRUCT_REDUCE
                and cls.__reduce_ex__ is _OBJECT_REDUCE_EX
            ):
                found = _STRUCT_REDUCE
            else:
                found = methodcaller("__reduce_ex__", PICKLE)
        self[cls] = found
        return found


class _Pickler(pickle.Pickler):
    dispatch_table = _Reductions()


def dumps(obj: Any) -> bytes:
    """``pickle.dumps(obj, PICKLE)``, byte for byte, in less time for msgspec structs
    (see :class:`_Reductions`)."""
    out = io.BytesIO()
    _Pickler(out, PICKLE).dump(obj)
    return out.getvalue()


class _Unpicklable:
    """Stands in for a reply that does not pickle; its repr is the reply's (for the clock's error)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def encode_snapshot(
    snapshot: Any, base: tuple[Any, ...] | None = None, exhausted: dict[Any, Any] | None = None
) -> bytes:
    """The parts of a snapshot agents read, as bytes: the public records by msgspec, the rest pickled.

    ``base``: the public records the shard holds already (those of the last snapshot
    it was sent). Then only the records that are not the very same objects go, with
    their positions: the ledger rebuilds an agent's record only when something in it
    changed, so a step sends the third or so of the records that did. ``exhausted``:
    the exhausted rate limits the shard holds; when the snapshot's are equal, they
    are sent as None (the shard keeps its own).
    """
    agents = snapshot.agents
    records: tuple[Any, ...]
    if base is None or len(base) != len(agents):
        records = (ALL, msgspec.msgpack.encode(agents))
    else:
        changed = list(compress(range(len(agents)), map(is_not, base, agents)))
        records = (
            CHANGED,
            array("I", changed).tobytes(),
            msgspec.msgpack.encode(list(map(agents.__getitem__, changed))),
        )
    spent = _plain(snapshot.exhausted)
    parts = (
        snapshot.epoch,
        snapshot.step,
        records,
        _plain(snapshot.public),
        None if exhausted is not None and spent == exhausted else spent,
        snapshot.never,
        snapshot.deterrence,
    )
    return dumps(parts)


def _plain(mapping: Any) -> dict[Any, Any]:
    return mapping if type(mapping) is dict else dict(mapping)


def encode_outcomes(outcomes: list[tuple[int, Any]]) -> bytes:
    """``[(position, outcome), ...]`` as msgpack (outcomes are msgspec structs), else pickled."""
    try:
        return PACKED + msgspec.msgpack.encode(outcomes)
    except Exception:  # pragma: no cover - an outcome msgspec cannot encode
        return PICKLED + pickle.dumps(outcomes, PICKLE)


class ShardRunner:
    """The policies of one shard's agents and the phases they answer."""

    def __init__(self, setup_blob: bytes) -> None:
        from swarm.agents.policy import Outcome
        from swarm.kernel.agent import Act, InlineAgent, Learn, Respond, is_inline
        from swarm.runtime.rng import AgentStreams
        from swarm.views import AgentPublic, Snapshot

        setup: ShardSetup = pickle.loads(setup_blob)
        self.shard = setup.shard
        self.steps = setup.steps_per_epoch
        self._InlineAgent, self._is_inline, self._AgentStreams = InlineAgent, is_inline, AgentStreams
        self._inline: dict[type, bool] = {}
        self.agents: list[Any] = [self._agent(agent_id, policy) for agent_id, policy in setup.agents]
        self.keys: list[int] = list(setup.keys or range(len(self.agents)))
        """The agents' registration indices, ascending (their order here)."""
        self.streams = AgentStreams.pool(setup.streams)
        self.busy = 0.0
        """Seconds spent on ``ACT`` and ``RESPOND`` since the last reply (see :meth:`take_busy`)."""
        self.agent_busy = 0.0
        """How much of it the agents' own work took (the rest: decoding and encoding)."""
        table = InlineAgent.handler_table()
        self._on_act = getattr(InlineAgent, table[Act][0])
        self._on_respond = getattr(InlineAgent, table[Respond][0])
        self._on_learn = getattr(InlineAgent, table[Learn][0])
        self._Act, self._Respond, self._Learn = Act, Respond, Learn
        self._Snapshot = Snapshot
        self._decode_agents = msgspec.msgpack.Decoder(list[AgentPublic]).decode
        self._agents: list[Any] = []
        """The public records of the last snapshot (a snapshot may send only those that changed)."""
        self._index: dict[str, Any] = {}
        self._exhausted: dict[Any, Any] = {}
        """The exhausted rate limits of the last snapshot (a snapshot sends them only when they changed)."""
        self._decode_outcomes = msgspec.msgpack.Decoder(list[tuple[int, Outcome]]).decode
        self.snapshot: Any = None
        self.failed: bytes | None = None
        """The ``FAIL`` payload every request gets once a policy has failed."""
        self._t = -1
        self._ahead: tuple[int, Any] | None = None

    def _agent(self, agent_id: str, policy: Any) -> Any:
        cls = type(policy)
        ok = self._inline.get(cls)
        if ok is None:
            ok = self._inline[cls] = self._is_inline(policy)
        if not ok:
            raise RuntimeError(f"agent {agent_id}: {cls.__name__} awaits: it cannot run in a shard")
        return self._InlineAgent(agent_id, policy)

    def take_busy(self) -> tuple[float, float]:
        """Seconds computing replies since the last call, and the agents' part (a reply reports them)."""
        busy, agents, self.busy, self.agent_busy = self.busy, self.agent_busy, 0.0, 0.0
        return busy, agents

    def handle(self, kind: int, a: bytes, b: bytes) -> tuple[int, bytes]:
        """Answer one request: ``(OK, payload)`` or ``(FAIL, pickled Failure)``."""
        if self.failed is not None:
            return FAIL, self.failed
        if kind in (ACT, RESPOND):
            began = perf_counter()
            reply = self.act(a, b) if kind == ACT else self.respond(a, b)
            self.busy += perf_counter() - began
        elif kind == MOVE:
            reply = self.move(a)
        elif kind == LEARN:
            reply = self.learn(a)
        elif kind == SYNC:
            reply = OK, b""
        elif kind == STATE:
            reply = self.state()
        elif kind == RESTORE:
            reply = self.restore(a)
        else:
            raise ValueError(f"unknown request kind {kind}")
        if reply[0] == FAIL:
            self.failed = reply[1]
        return reply

    def _named(self) -> dict[str, object]:
        """What saved attributes name rather than hold: the agents' random streams, by position."""
        return {f"stream:{p}": s for p, s in enumerate(self.streams.streams)}

    def state(self) -> tuple[int, bytes]:
        """The agents' policies' attributes, for a checkpoint."""
        from swarm.runtime.checkpoint import dump_policies

        try:
            return OK, dump_policies([(a.agent_id, a.policy) for a in self.agents], self._named())
        except Exception as exc:
            return FAIL, _failure(STATE, "", "", exc)

    def restore(self, payload: bytes) -> tuple[int, bytes]:
        """The agents' policies take back a checkpoint's attributes."""
        from swarm.runtime.checkpoint import load_policies, put_back

        try:
            states = load_policies(payload, self._named())
            if len(states) != len(self.agents):
                raise ValueError(f"{len(states)} agents' state for {len(self.agents)} agents")
            for agent, attrs in zip(self.agents, states, strict=True):
                put_back(agent.policy, attrs)
        except Exception as exc:
            return FAIL, _failure(RESTORE, "", "", exc)
        return OK, b""

    def move(self, payload: bytes) -> tuple[int, bytes]:
        """Agents leave for the main process (their attributes replied) and arrive from it."""
        from swarm.runtime.checkpoint import dump_policies

        try:
            leaving, arriving, streams = pickle.loads(payload)
            named = self._named()
            going = [p for p in leaving if 0 <= p < len(self.agents)]
            if len(going) != len(leaving):
                raise ValueError(f"positions {list(leaving)} for {len(self.agents)} agents")
            kept: list[int] = []
            try:
                blob = dump_policies([(self.agents[p].agent_id, self.agents[p].policy) for p in going], named)
            except Exception:  # some cannot be sent as saved attributes: those stay
                sendable = []
                for p in going:
                    try:
                        dump_policies([(self.agents[p].agent_id, self.agents[p].policy)], named)
                        sendable.append(p)
                    except Exception:
                        kept.append(self.keys[p])
                going = sendable
                blob = dump_policies([(self.agents[p].agent_id, self.agents[p].policy) for p in going], named)
            gone = set(going)
            rows = [
                (self.keys[p], agent, stream)
                for p, (agent, stream) in enumerate(zip(self.agents, self.streams.streams, strict=True))
                if p not in gone
            ]
            for (key, agent_id, policy), stream in zip(arriving, streams, strict=True):
                rows.append((key, self._agent(agent_id, policy), stream))
            rows.sort(key=lambda row: row[0])
            self.keys = [key for key, _, _ in rows]
            self.agents = [agent for _, agent, _ in rows]
            self.streams = self._AgentStreams.pool([stream for _, _, stream in rows], self.streams.block)
            self._ahead = None
        except Exception as exc:
            return FAIL, _failure(MOVE, "", "", exc)
        return OK, pickle.dumps((kept, blob), PICKLE)

    def think_ahead(self) -> None:
        """Draw the next step's first random numbers now, while the main process finishes this step."""
        t = self._t + 1
        self._ahead = (t, self.streams.ahead(t))

    def _load_snapshot(self, blob: bytes) -> None:
        epoch, step, records, public, exhausted, never, deterrence = pickle.loads(blob)
        if exhausted is None:  # the same as the last snapshot's
            exhausted = self._exhausted
        self._exhausted = exhausted
        if records[0] == ALL:
            agents = self._agents = self._decode_agents(records[1])
            index = {a.agent_id: a for a in agents}
        else:
            agents, index = self._agents, self._index.copy()  # the last snapshot's stay as they were
            positions = array("I")
            positions.frombytes(records[1])
            for p, record in zip(positions, self._decode_agents(records[2]), strict=True):
                agents[p] = index[record.agent_id] = record
        self._index = index
        self.snapshot = self._Snapshot(
            epoch, step, tuple(agents), public, exhausted, never, deterrence, index
        )

    def act(self, snapshot: bytes, positions: bytes) -> tuple[int, bytes]:
        self._load_snapshot(snapshot)
        snap = self.snapshot
        t = snap.epoch * self.steps + snap.step
        if t != self._t:
            ahead, self._ahead = self._ahead, None
            self.streams.begin_step(t, ahead[1] if ahead is not None and ahead[0] == t else None)
            self._t = t
        msg = self._Act(snap)
        on_act, agents = self._on_act, self.agents
        replies = []
        began = perf_counter()
        for p in array("I", positions):
            agent = agents[p]
            try:
                replies.append(on_act(agent, msg))
            except Exception as exc:
                return FAIL, _failure(ACT, msg, agent.agent_id, exc)
        self.agent_busy += perf_counter() - began
        return OK, _dump_replies(replies)

    def respond(self, payload: bytes, snapshot: bytes) -> tuple[int, bytes]:
        if snapshot:
            self._load_snapshot(snapshot)
        ask, asked = pickle.loads(payload)
        on_respond, agents, snap, Respond = self._on_respond, self.agents, self.snapshot, self._Respond
        out = []
        began = perf_counter()
        for p, questions in asked:
            agent = agents[p]
            msg = Respond(snap, ask, questions)
            try:
                done = on_respond(agent, msg)
            except Exception as exc:
                return FAIL, _failure(RESPOND, msg, agent.agent_id, exc)
            out.append(done)
        self.agent_busy += perf_counter() - began
        return OK, _dump_replies(out)

    def learn(self, payload: bytes) -> tuple[int, bytes]:
        body = memoryview(payload)[1:]
        outcomes = self._decode_outcomes(body) if payload[:1] == PACKED else pickle.loads(body)
        on_learn, agents, Learn = self._on_learn, self.agents, self._Learn
        for p, outcome in outcomes:
            agent = agents[p]
            msg = Learn(outcome)
            try:
                on_learn(agent, msg)
            except Exception as exc:
                return FAIL, _failure(LEARN, msg, agent.agent_id, exc)
        return OK, b""


def _dump_replies(replies: list[Any]) -> bytes:
    try:
        return dumps(replies)
    except Exception:
        return dumps([_portable(r) for r in replies])


def _portable(obj: Any) -> Any:
    try:
        pickle.dumps(obj, PICKLE)
        return obj
    except Exception:
        return _Unpicklable(repr(obj))


def _failure(kind: int, msg: object, agent_id: str, exc: BaseException) -> bytes:
    error: bytes | None
    try:
        error = pickle.dumps(exc, PICKLE)
        pickle.loads(error)
    except Exception:
        error = None
    tb = "".join(traceback.format_exception(exc))
    text = f"{type(exc).__name__}: {exc}"
    return pickle.dumps(Failure(kind, repr(msg), agent_id, error, text, tb), PICKLE)


def setup_failure(shard: int, exc: BaseException) -> bytes:
    """A shard that could not load its agents, as a :class:`Failure`."""
    text = f"shard {shard} could not load its agents: {type(exc).__name__}: {exc}"
    tb = "".join(traceback.format_exception(exc))
    return pickle.dumps(Failure(SETUP, "", "", None, text, tb), PICKLE)


def _shard_of(setup_blob: bytes) -> int:
    try:
        shard: int = pickle.loads(setup_blob).shard
        return shard
    except Exception:
        return -1


# ------------------------------------------------------------------ worker process


def frame(kind: int, a: bytes = b"", b: bytes = b"") -> Sequence[bytes]:
    """The pieces of one frame, to write in order."""
    return (HEADER.pack(kind, len(a), len(b)), a, b)


def _read_exactly(source: Any, n: int) -> bytes | None:
    """``n`` bytes from an unbuffered file, or None at end of input."""
    if n == 0:
        return b""
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = source.readinto(view[got:])
        if not k:
            return None
        got += k
    return bytes(buf)


def _write_all(fd: int, pieces: Sequence[bytes]) -> None:
    for piece in pieces:
        view = memoryview(piece)
        while view:
            view = view[os.write(fd, view) :]


def grow_pipe(fd: int) -> None:
    """Ask for a pipe of ``PIPE_BYTES`` (Linux; elsewhere, or when refused, the pipe stays as it is)."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)  # type: ignore[attr-defined,unused-ignore]
    except Exception:
        pass


def _die_with_parent(parent: int) -> None:
    """Ask Linux to kill this process when its parent dies (a closed pipe also ends it, when idle)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    except Exception:
        return
    if os.getppid() != parent:  # the parent died before we asked
        os._exit(1)


def main(parent: int) -> None:
    """Serve a :class:`ShardRunner` over stdin/stdout until the parent closes stdin, then exit."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _die_with_parent(parent)
    out = os.dup(1)
    os.dup2(2, 1)  # stray prints from policies go to stderr, never into the frames
    sys.stdout = sys.stderr
    grow_pipe(0)
    grow_pipe(out)
    _warm()
    code = 0
    try:
        serve(open(0, "rb", buffering=0, closefd=False), out)  # noqa: SIM115 - for the process's lifetime
    except BaseException:
        traceback.print_exc()
        code = 1
    sys.stderr.flush()
    os._exit(code)  # nothing to tidy: skip tearing down the interpreter and its heap


def _warm() -> None:
    """What a shard needs besides its agents, loaded while the main process builds the world.

    The modules its agents' phases run (numpy draws the random streams' blocks of a
    large population), then the import-time heap frozen out of the collector's way:
    the set-up that follows is only the agents' own objects.
    """
    import importlib

    for module in ("numpy", "swarm.kernel.agent", "swarm.runtime.rng", "swarm.views", "swarm.agents.policy"):
        importlib.import_module(module)
    gc.collect()
    gc.freeze()


def _collect_rarely(agents: int) -> None:
    """The collector's thresholds for the rest of this process, as a run sets them in the main one
    (:func:`swarm.runtime._collection.held_thresholds`, for the agents held here)."""
    from swarm.runtime._collection import held_thresholds

    gc.set_threshold(*held_thresholds(agents, gc.get_threshold()))


def serve(inp: Any, out: int) -> None:
    """Answer the frames read from ``inp`` with frames written to ``out``, until end of input."""
    _collect_rarely(0)  # while the set-up builds the agents too
    runner: ShardRunner | None = None
    while True:
        head = _read_exactly(inp, HEADER.size)
        if head is None:
            return
        kind, na, nb = HEADER.unpack(head)
        a = _read_exactly(inp, na)
        b = _read_exactly(inp, nb)
        if a is None or b is None:
            return
        if runner is None:
            try:
                if kind != SETUP:
                    raise RuntimeError("a request came before the set-up")
                runner = ShardRunner(a)
                gc.freeze()  # the policies live as long as the process: keep the collector off them
                _collect_rarely(len(runner.agents))
                reply: tuple[int, bytes] = (OK, b"")
            except Exception as exc:
                reply = (FAIL, setup_failure(_shard_of(a), exc))
        else:
            reply = runner.handle(kind, a, b)
        if kind != LEARN or reply[0] == FAIL:
            busy = runner.take_busy() if runner is not None else (0.0, 0.0)
            _write_all(out, frame(reply[0], reply[1], BUSY.pack(*busy)))
        if kind in (ACT, MOVE) and runner is not None and runner.failed is None:
            runner.think_ahead()


class RayShard:
    """The Ray actor of a shard (made remote by :mod:`swarm.runtime.shards` when Ray is used)."""

    def __init__(self) -> None:
        self.runner: ShardRunner | None = None
        self.shard = -1

    def setup(self, blob: bytes) -> tuple[int, bytes]:
        self.shard = _shard_of(blob)
        try:
            self.runner = ShardRunner(blob)
            return OK, b""
        except Exception as exc:
            return FAIL, setup_failure(self.shard, exc)

    def call(self, kind: int, a: bytes, b: bytes) -> tuple[int, bytes, float, float]:
        if self.runner is None:
            return FAIL, setup_failure(self.shard, RuntimeError("a request came before the set-up")), 0.0, 0.0
        status, payload = self.runner.handle(kind, a, b)
        busy, agents = self.runner.take_busy() if kind != LEARN else (0.0, 0.0)
        return status, payload, busy, agents
