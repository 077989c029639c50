"""Checkpoints: a run's whole state at an epoch boundary, kept beside its event log.

A checkpoint holds what the run would need to go on from the start of an epoch:
every world component's state, the ledger's books, every lever's state, every
agent's policy (memory, counters, an LLM agent's conversation), the metrics
collector, the clock's schedule stream and the metrics of the epochs so far, the
event counter, and how many bytes of the log were written by then. Random
streams are part of the objects that own them; agents' counter-based streams need
nothing saved. LLM cassettes are matched by a stable key, so there is no cursor.

**Restoring into a fresh world.** Nothing is rebuilt from the file alone: the
run is set up from its scenario exactly as a new run would be (components,
ledger, agents, levers, their actors and network clients), and then each of
those objects takes back the attributes the checkpoint saved. Objects of the
running process that cannot be saved — the actor system, actor references,
the bus, the scenario, the payoff engine, LLM adapters and each agent's random
stream — are saved as a name and resolve to the fresh world's object of that
name. Attributes made of code (bound handlers, closures, generated schema
classes) are not saved: the fresh world's are the same. Anything else that
cannot be saved (a custom policy holding a lock or a socket) is an error naming
the object and the attribute when the checkpoint is taken.

**Forks** restore the same way into a world built from a *changed* scenario. An
attribute whose value the change itself alters (compare two fresh worlds, one
of the original scenario and one of the changed one) takes the changed world's
value; every other attribute takes the checkpoint's. So a raised tax rate is in
force from the fork on, while the tax collected so far, the agents' memories and
the ledger carry over. With another seed every random stream starts afresh from
that seed at the fork.

**Sharded runs.** A worker shard's agents' policies live in another process;
this process keeps the copies it built. At a checkpoint every worker sends its
agents' policies' attributes (:func:`dump_policies`, their random streams written
as names) and the copies take them, so the state saved is the one a run in one
process saves. On resume the copies take the checkpoint's attributes like every
other object, and are sent back to the workers (:func:`load_policies` there).
Agents' streams are named by registration index, so a checkpoint resumes over any
number of shards.

File layout: ``checkpoints/epoch-NNNNN.ckpt``, one JSON line (:class:`CheckpointInfo`)
then the state as a zlib-compressed pickle. Files are written to a temporary name
and renamed, so a kill never leaves half a checkpoint under the real name.
Checkpoints are read only from run folders you trust: loading one runs pickle.
"""

from __future__ import annotations

import copy
import copyreg
import hashlib
import io
import json
import os
import pickle
import types
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from actors import Actor
from swarm.errors import SwarmError

if TYPE_CHECKING:
    from swarm.kernel.clock import SimulationClock
    from swarm.kernel.world import World

FORMAT = "swarm-checkpoint"
VERSION = 4
"""2: policies, the payoff engine, the proxy and the metrics collector keep plain copies of their settings
(what a version-1 checkpoint's pickled objects lack). 3: a scripted policy's trust book keeps two sums per
slot and its counts apart, the ledger keeps the agents' index, the random streams' pool its array of draws,
and the broker's pending proposals are structs (what a version-2 checkpoint holds otherwise or lacks). 4: a
scripted policy keeps the posts it voted on as a tuple (a dict in a version-3 checkpoint)."""
FOLDER = "checkpoints"
"""The checkpoints' folder inside a run folder."""

_RUNTIME_SLOTS = frozenset(Actor.__slots__) | {"__weakref__", "__dict__"}


class CheckpointError(SwarmError):
    """A checkpoint that cannot be taken, found or restored (the message names which and why)."""


@dataclass(frozen=True)
class CheckpointInfo:
    """The first line of a checkpoint file: where in the run it was taken."""

    format: str
    version: int
    run_id: str
    epoch: int
    """Epochs completed: the run goes on with epoch ``epoch``."""
    ticks: int
    """Steps completed."""
    seq: int
    """The last event's sequence number."""
    log_bytes: int
    """Bytes of the event log (header included) written by then."""
    log_tail: str
    """SHA-256 of the log's last line before ``log_bytes`` (checks the log is this run's)."""
    shards: int = 1
    """The shards the run was asked to spread its agents over (a resume uses as many unless told)."""
    shard_backend: str = "processes"
    """Where its worker shards ran (``processes`` or ``ray``)."""


def path_for(run_dir: Path, epoch: int) -> Path:
    return run_dir / FOLDER / f"epoch-{epoch:05d}.ckpt"


def list_checkpoints(run_dir: Path) -> list[Path]:
    """A run folder's checkpoint files, by epoch."""
    folder = run_dir / FOLDER
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("epoch-*.ckpt") if p.is_file())


def tail_digest(last_line: bytes) -> str:
    return hashlib.sha256(last_line).hexdigest()


def last_line_before(path: Path, offset: int) -> bytes:
    """The log line that ends at byte ``offset`` (which must end a line)."""
    with path.open("rb") as fh:
        start = max(0, offset - 65536)
        while True:
            fh.seek(start)
            chunk = fh.read(offset - start)
            if len(chunk) != offset - start or not chunk.endswith(b"\n"):
                raise CheckpointError(f"{path}: the log is shorter than the checkpoint says ({offset} bytes)")
            cut = chunk.rfind(b"\n", 0, len(chunk) - 1)
            if cut >= 0 or start == 0:
                return chunk[cut + 1 :]
            start = max(0, start - 65536 * 4)


# ------------------------------------------------------------------ what is saved


def roots(world: World, clock: SimulationClock | None = None) -> dict[str, object]:
    """The objects whose attributes a checkpoint saves, by a name that is stable across runs."""
    out: dict[str, object] = {}
    monitor = getattr(clock, "monitor", None)
    if monitor is not None:
        out["llm_monitor"] = monitor  # the LLM calls' totals, budget and health
    for placed in world.components:
        out[f"component:{placed.cls.key}"] = placed.component
    out["books"] = world.books
    for lv in world.governance.levers:
        out[f"lever:{lv.key}"] = lv
    out["collector"] = world.collector
    for seat in world.seats:
        out[f"policy:{seat.agent_id}"] = seat.policy
    return out


def named_objects(world: World, clock: SimulationClock | None, llm: object = None) -> dict[str, object]:
    """Objects of the running process saved by name only (they resolve to the fresh world's)."""
    out: dict[str, object] = {
        "system": world.system,
        "bus": world.bus,
        "topic": world.bus.topic,
        "scenario": world.scenario,
        "engine": world.engine,
        "governance": world.governance,
        "population": world.population,
        "ledger": world.ledger,
        "metrics": world.metrics,
        "world": world,
    }
    if clock is not None:
        out["clock"] = clock
    if llm is not None:
        out["llm"] = llm
    for placed in world.components:
        out[f"ref:{placed.cls.key}"] = placed.ref
    if world.streams is not None:
        out["streams"] = world.streams
        # By registration index: a sharded run's pool holds only this process's agents' streams.
        every = getattr(world.population, "all_streams", None)
        for k, stream in enumerate(every if every is not None else world.streams.streams):
            out[f"stream:{k}"] = stream
    for seat in world.seats:
        adapter = getattr(seat.policy, "adapter", None)
        if adapter is not None:
            out[f"adapter:{seat.agent_id}"] = adapter
    for key, obj in roots(world, clock).items():
        out[f"root:{key}"] = obj
    return out


def fields(obj: object) -> Iterator[tuple[str, Any]]:
    """An object's own attributes: its ``__dict__`` and any set ``__slots__`` (runtime slots left out)."""
    seen: set[str] = set()
    for cls in type(obj).__mro__:
        for name in cls.__dict__.get("__slots__", ()):
            if name in _RUNTIME_SLOTS or name in seen:
                continue
            seen.add(name)
            try:
                yield name, getattr(obj, name)
            except AttributeError:
                continue
    d = getattr(obj, "__dict__", None)
    if d is not None:
        yield from ((k, v) for k, v in d.items() if k not in seen)


class _Pickler(pickle.Pickler):
    """Pickles a state; objects in ``names`` are written as their name (see :func:`_named`).

    Only the classes of named objects get a reducer (a per-class table the C
    pickler consults itself), so the many other objects of a large state cost no
    Python call each.
    """

    def __init__(self, buf: io.BytesIO, names: Mapping[int, str], named_types: Iterable[type]) -> None:
        super().__init__(buf, protocol=pickle.HIGHEST_PROTOCOL)
        protocol = pickle.HIGHEST_PROTOCOL

        def reduce(obj: Any) -> Any:
            name = names.get(id(obj))
            if name is not None:
                return (_named, (name,))
            return obj.__reduce_ex__(protocol)

        table = dict(copyreg.dispatch_table)
        table.update({cls: reduce for cls in named_types})
        self.dispatch_table = table


class _MarkerPickler(pickle.Pickler):
    """Pickles one attribute to compare it (names as persistent ids, code as a marker).

    A settings model is compared by its values alone: which of its fields were
    given explicitly (a scenario read from a log header gives them all) changes
    nothing in the run.
    """

    def __init__(self, buf: io.BytesIO, names: Mapping[int, str]) -> None:
        super().__init__(buf, protocol=pickle.HIGHEST_PROTOCOL)
        self._names = names

    def persistent_id(self, obj: Any) -> str | None:
        return self._names.get(id(obj))

    def reducer_override(self, obj: Any) -> Any:
        if _is_code(obj):
            return (_code_marker, ())
        if isinstance(obj, BaseModel):
            cls = type(obj)
            return (_model_marker, (cls.__module__, cls.__qualname__, obj.__dict__, obj.__pydantic_extra__))
        return NotImplemented


def _named(name: str) -> object:
    """Stands for an object of the running process in a checkpoint (resolved when it is read)."""
    raise CheckpointError(f"{name!r} is resolved only while a checkpoint is read")


def _code_marker() -> None:
    return None


def _model_marker(*_: object) -> None:
    return None


def _is_code(obj: Any) -> bool:
    """Functions, methods and classes that pickle cannot name (closures, lambdas, generated classes)."""
    if isinstance(obj, types.FunctionType | types.BuiltinFunctionType | types.MethodType | type):
        qualname = getattr(obj, "__qualname__", "")
        return "<locals>" in qualname or "<lambda>" in qualname or not _importable(obj)
    return False


def _importable(obj: Any) -> bool:
    import importlib

    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not module or not qualname:
        return False
    try:
        found: Any = importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        return False
    return found is obj


def _dumps(
    value: Any, names: Mapping[int, str], named_types: Iterable[type] = (), *, code_as_marker: bool = False
) -> bytes:
    buf = io.BytesIO()
    if code_as_marker:
        _MarkerPickler(buf, names).dump(value)
    else:
        _Pickler(buf, names, named_types).dump(value)
    return buf.getvalue()


class _Unpickler(pickle.Unpickler):
    def __init__(self, buf: io.BytesIO, names: Mapping[str, object]) -> None:
        super().__init__(buf)
        self._names = names

    def find_class(self, module: str, name: str) -> Any:
        if module == __name__ and name == "_named":
            return self._resolve
        return super().find_class(module, name)

    def _resolve(self, name: str) -> object:
        try:
            return self._names[name]
        except KeyError:
            raise CheckpointError(
                f"the checkpoint refers to {name!r}, which this run does not have"
            ) from None


class StateCodec:
    """Turns a world's saved attributes into bytes (one per run: it learns which attributes are code)."""

    def __init__(self) -> None:
        self._code: dict[type, frozenset[str]] = {}

    def state(self, world: World, clock: SimulationClock) -> dict[str, dict[str, Any]]:
        """Every root's saved attributes (attributes made of code left out)."""
        out: dict[str, dict[str, Any]] = {}
        for key, obj in roots(world, clock).items():
            skip = self._code.get(type(obj), frozenset())
            out[key] = {name: v for name, v in fields(obj) if name not in skip}
        return out

    def dumps(self, world: World, clock: SimulationClock, llm: object = None) -> bytes:
        named = named_objects(world, clock, llm)
        names = {id(obj): name for name, obj in named.items()}
        kinds = {type(obj) for obj in named.values()}
        payload = {"state": self.state(world, clock), "clock": clock_state(clock)}
        try:
            return _dumps(payload, names, kinds)
        except Exception:
            pass
        self._learn_code(world, clock, names, kinds)  # one object of each class
        payload = {"state": self.state(world, clock), "clock": clock_state(clock)}
        try:
            return _dumps(payload, names, kinds)
        except Exception:
            self._learn_code(world, clock, names, kinds, every=True)  # names what cannot be saved
            payload = {"state": self.state(world, clock), "clock": clock_state(clock)}
            return _dumps(payload, names, kinds)

    def field_bytes(self, world: World, clock: SimulationClock, llm: object = None) -> dict[str, bytes]:
        """Each saved attribute, pickled on its own (``root/attribute`` → bytes), to compare two worlds."""
        named = named_objects(world, clock, llm)
        names = {id(obj): name for name, obj in named.items()}
        self._learn_code(world, clock, names, {type(obj) for obj in named.values()})
        out: dict[str, bytes] = {}
        shared: dict[int, bytes] = {}  # a value many objects hold (a type's allies, say) is pickled once

        def walk(path: str, value: Any, depth: int) -> None:
            if depth < 3 and _plain_object(value) and id(value) not in names:
                for name, inner in fields(value):
                    walk(f"{path}/{name}", inner, depth + 1)
                return
            done = shared.get(id(value))
            if done is None:
                done = shared[id(value)] = _dumps(value, names, code_as_marker=True)
            out[path] = done

        for key, attrs in self.state(world, clock).items():
            for name, value in attrs.items():
                walk(f"{key}/{name}", value, 0)
        for name, value in clock_state(clock).items():
            out[f"clock/{name}"] = _dumps(value, names, code_as_marker=True)
        return out

    def _learn_code(
        self,
        world: World,
        clock: SimulationClock,
        names: Mapping[int, str],
        kinds: Iterable[type],
        *,
        every: bool = False,
    ) -> None:
        """Learn which attributes of each class are code (left out); an error for one that cannot be saved.

        Objects of one class hold the same kinds of attributes, so one of each is
        looked at, unless ``every`` (after that was not enough).
        """
        seen: set[type] = set()
        for key, obj in roots(world, clock).items():
            if not every and type(obj) in seen:
                continue
            seen.add(type(obj))
            self._code[type(obj)] = _code_fields(
                key, obj, self._code.get(type(obj), frozenset()), names, kinds
            )


def dump_policies(agents: Sequence[tuple[str, object]], named: Mapping[str, object]) -> bytes:
    """Each agent's policy's saved attributes (code left out), pickled as one list, in order.

    What a sharded run's worker sends for a checkpoint, and what it is sent back
    on resume: the objects of ``named`` (the agents' random streams, the scenario)
    are written as their names and resolve, in :func:`load_policies`, to the
    reading process's objects of those names. A value that cannot be saved is a
    :class:`CheckpointError` naming the agent and the attribute, as in one process.
    """
    names = {id(obj): name for name, obj in named.items()}
    kinds = {type(obj) for obj in named.values()}
    skip: dict[type, frozenset[str]] = {}

    def states() -> list[dict[str, Any]]:
        return [
            {name: v for name, v in fields(policy) if name not in skip.get(type(policy), ())}
            for _, policy in agents
        ]

    try:
        return _dumps(states(), names, kinds)
    except Exception:
        pass
    for agent_id, policy in agents:  # which attributes are code, and which cannot be saved at all
        cls = type(policy)
        skip[cls] = _code_fields(f"policy:{agent_id}", policy, skip.get(cls, frozenset()), names, kinds)
    return _dumps(states(), names, kinds)


def _code_fields(
    key: str, obj: object, known: frozenset[str], names: Mapping[int, str], kinds: Iterable[type]
) -> frozenset[str]:
    """``known`` plus the attributes of ``obj`` that are code (saved as markers, left out).

    An attribute that cannot be saved even as a marker is a :class:`CheckpointError`
    naming ``key``, the class and the attribute.
    """
    code = set(known)
    for name, value in fields(obj):
        if name in code:
            continue
        try:
            _dumps(value, names, kinds)
        except Exception as exc:
            try:
                _dumps(value, names, code_as_marker=True)
            except Exception:
                raise CheckpointError(
                    f"cannot save {key} ({type(obj).__name__}).{name}: {type(exc).__name__}: {exc} "
                    "(a custom policy must be picklable, or define __getstate__/__setstate__)"
                ) from exc
            code.add(name)
    return frozenset(code)


def load_policies(blob: bytes, named: Mapping[str, object]) -> list[dict[str, Any]]:
    """The attributes :func:`dump_policies` saved, with names resolved to ``named``'s objects."""
    try:
        states: list[dict[str, Any]] = _Unpickler(io.BytesIO(blob), named).load()
    except CheckpointError:
        raise
    except Exception as exc:
        raise CheckpointError(f"cannot read the agents' saved state ({type(exc).__name__}: {exc})") from None
    return states


def put_back(obj: object, attrs: Mapping[str, Any]) -> None:
    """Give ``obj`` the saved attributes ``attrs`` (as a restore does)."""
    for name, value in attrs.items():
        setattr(obj, name, value)


def _keep_inner(path: str, fresh: Any, restored: Any, keep_fresh: frozenset[str]) -> Any:
    """Inside a restored attribute, put back the fresh values the fork's change alters.

    Returns the restored value: itself, or a changed copy of it when it is frozen
    (a component's settings, say).
    """
    prefix = path + "/"
    inner = {k[len(prefix) :].split("/", 1)[0] for k in keep_fresh if k.startswith(prefix)}
    for name in sorted(inner):
        sub = f"{prefix}{name}"
        fresh_value = getattr(fresh, name, None)
        if sub not in keep_fresh:
            fresh_value = _keep_inner(sub, fresh_value, getattr(restored, name, None), keep_fresh)
        restored = _with(restored, name, fresh_value)
    return restored


def _with(obj: Any, name: str, value: Any) -> Any:
    """``obj`` with attribute ``name`` set to ``value``: in place, or on a copy when ``obj`` is frozen."""
    if getattr(obj, name, value) is value and hasattr(obj, name):
        return obj
    try:
        setattr(obj, name, value)
        return obj
    except AttributeError:  # a frozen dataclass, a read-only slot
        clone = copy.copy(obj)
        object.__setattr__(clone, name, value)
        return clone


def _plain_object(value: Any) -> bool:
    """An object of the project's own classes whose attributes are compared one by one."""
    module = getattr(type(value), "__module__", "")
    return (module.startswith("swarm.") or module.startswith("actors.")) and not isinstance(
        value, type | BaseModel
    )


def clock_state(clock: SimulationClock) -> dict[str, Any]:
    """The clock's state to save: its schedule stream and the metrics of the epochs so far.

    Not whether it was asked to stop: a checkpoint is taken only on the way on, and a
    stop asked for while it is written (Ctrl-C, say) belongs to that process, not to
    the run that resumes from it.
    """
    return {"rng": clock.rng.getstate(), "epochs": list(clock.epochs)}


# ------------------------------------------------------------------ files


def write(path: Path, info: CheckpointInfo, blob: bytes) -> None:
    """Write a checkpoint atomically (temporary name, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as fh:
        fh.write(json.dumps(asdict(info), sort_keys=True).encode() + b"\n")
        fh.write(zlib.compress(blob, 1))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_info(path: Path) -> CheckpointInfo:
    """A checkpoint file's header line; CheckpointError when it is not one this version reads."""
    try:
        with path.open("rb") as fh:
            line = fh.readline(65536)
        data = json.loads(line)
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: not a checkpoint ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a checkpoint (no {FORMAT!r} header)")
    if data.get("version") != VERSION:
        raise CheckpointError(
            f"{path}: checkpoint version {data.get('version')} (this version reads {VERSION})"
        )
    try:
        return CheckpointInfo(**data)
    except TypeError as exc:
        raise CheckpointError(f"{path}: unreadable checkpoint header ({exc})") from None


def read_blob(path: Path) -> bytes:
    """A checkpoint's state, still pickled; CheckpointError when the file is damaged."""
    try:
        with path.open("rb") as fh:
            fh.readline(65536)
            raw = fh.read()
        return zlib.decompress(raw)
    except (OSError, zlib.error) as exc:
        raise CheckpointError(f"{path}: the checkpoint is damaged ({exc})") from None


def read_state(path: Path, names: Mapping[str, object]) -> dict[str, Any]:
    """A checkpoint's saved state, with named objects resolved to ``names``."""
    blob = read_blob(path)
    try:
        payload: dict[str, Any] = _Unpickler(io.BytesIO(blob), names).load()
    except CheckpointError:
        raise
    except Exception as exc:
        raise CheckpointError(
            f"{path}: cannot restore the checkpoint ({type(exc).__name__}: {exc})"
        ) from None
    return payload


def restore(
    world: World,
    clock: SimulationClock,
    payload: Mapping[str, Any],
    *,
    keep_fresh: frozenset[str] = frozenset(),
) -> None:
    """Give the fresh world's objects back the checkpoint's attributes.

    ``keep_fresh``: the ``root/attribute`` paths to leave as the fresh world has them (a fork's changes).
    """
    live = roots(world, clock)
    for key, attrs in payload["state"].items():
        obj = live.get(key)
        if obj is None:
            continue  # a part the (forked) scenario no longer has
        for name, value in attrs.items():
            path = f"{key}/{name}"
            if path in keep_fresh:
                continue
            fresh = getattr(obj, name, None)
            setattr(obj, name, _keep_inner(path, fresh, value, keep_fresh))
    saved = payload["clock"]
    if "clock/rng" not in keep_fresh:
        clock.rng.setstate(saved["rng"])
    clock.epochs = list(saved["epochs"])


# ------------------------------------------------------------------ choosing one


def choose(
    run_dir: Path, log: Path, run_id: str, epoch: int | None = None, *, exact: bool = False
) -> tuple[Path, CheckpointInfo]:
    """The checkpoint to go on from: the latest usable one, or the one at ``epoch``.

    Usable: this run's, and the log still holds every byte it was taken after
    (a checkpoint taken after the log was cut back, or of another run, is not).
    """
    found = list_checkpoints(run_dir)
    if not found:
        raise CheckpointError(
            f"{run_dir}: no checkpoints (a run writes them with `swarm run --checkpoint-every N`, "
            "the default, or Simulation(checkpoint_every=N))"
        )
    if epoch is not None:
        wanted = path_for(run_dir, epoch)
        if wanted not in found:
            have = ", ".join(str(read_epoch(p)) for p in found)
            what = "the fork's epoch" if exact else "that epoch"
            raise CheckpointError(f"{run_dir}: no checkpoint at epoch {epoch} ({what}); there are: {have}")
        found = [wanted]
    size = log.stat().st_size
    problems = []
    for path in reversed(found):
        try:
            info = read_info(path)
            if info.run_id != run_id:
                raise CheckpointError(f"{path}: taken in run {info.run_id}, not {run_id}")
            if info.log_bytes > size:
                raise CheckpointError(f"{path}: the log is shorter than when it was taken")
            if tail_digest(last_line_before(log, info.log_bytes)) != info.log_tail:
                raise CheckpointError(f"{path}: the log differs from the one it was taken beside")
            read_blob(path)
        except CheckpointError as exc:
            problems.append(str(exc))
            continue
        return path, info
    raise CheckpointError(f"{run_dir}: no usable checkpoint: " + "; ".join(problems))


def read_epoch(path: Path) -> int:
    try:
        return int(path.stem.split("-", 1)[1])
    except (IndexError, ValueError):
        return -1


def ended(log: Path) -> str | None:
    """The reason in the log's ``run_ended`` event, when its last line is one."""
    with log.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - 65536))
        lines = fh.read().rstrip(b"\n").rsplit(b"\n", 1)
    try:
        last = json.loads(lines[-1])
    except ValueError:
        return None
    if isinstance(last, dict) and last.get("type") == "run_ended":
        reason = last.get("reason")
        return str(reason)
    return None


def check_fork(original: Any, fork: Any) -> None:
    """A fork keeps the original's agents and step length (what it changes must leave those)."""
    mine = [(a, s.type) for a, s in original.agent_ids()]
    theirs = [(a, s.type) for a, s in fork.agent_ids()]
    if mine != theirs:
        added = sorted({a for a, _ in theirs} - {a for a, _ in mine})
        gone = sorted({a for a, _ in mine} - {a for a, _ in theirs})
        raise CheckpointError(
            "a fork keeps the original run's agents"
            + (f"; it would add {', '.join(added[:5])}" if added else "")
            + (f"; it would drop {', '.join(gone[:5])}" if gone else "")
            + ("" if added or gone else "; it would change their types")
        )
    if original.simulation.steps_per_epoch != fork.simulation.steps_per_epoch:
        raise CheckpointError("a fork keeps the original run's simulation.steps_per_epoch")
