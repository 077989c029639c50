"""Cassettes: record every exchange to JSONL, and serve them back offline, strictly.

A cassette is a JSONL file. Its first line is a header naming the format, its
version and the run it was recorded from::

    {"format": "swarm-llm-cassette", "scenario": "llm_agents", "seed": 42, "version": 3}

Every further line is one exchange: where it was asked (``agent``, ``epoch``,
``step``, ``phase``, from the request's metadata), the request's stable ``key``
(:meth:`~adapters.CompletionRequest.stable_key`), what the key was computed from
(model, schema name and hash, temperature, max tokens, system and user text),
then either the ``answer`` (raw text, usage, cost, repaired, the 429s met before it)
or the ``error`` the
request ended with, and a ``digest`` of the line's other fields. Entries are
written as they are answered (flushed per line, to ``PATH.partial``) and sorted
by epoch, step, phase and agent when the cassette is closed, so the same run
records the same bytes whatever order the answers came back in.

Reading is strict: a file that is not a cassette, a damaged line, a missing field
or an entry edited after recording raise :class:`CassetteError` (bad input,
naming the file, line and field) before anything is served; a header recorded
from another scenario or seed fails :meth:`ReplayAdapter.check`. During a replay,
a request with no recorded answer raises :class:`CassetteMiss` naming where it
was asked, its key and the nearest recorded key, and why they differ.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import defaultdict, deque
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Annotated, Any

import anyio
import msgspec
from pydantic import ValidationError

import adapters._errors as _errors
from adapters._errors import CassetteMiss, LLMError
from adapters._types import Completion, CompletionRequest, LLMAdapter, T, Usage, close_adapter

FORMAT = "swarm-llm-cassette"
VERSION = 3
"""The cassette format this code reads and writes (1: the unversioned format without a header;
2: answers without ``rate_limited``)."""

PHASES = ("act", "accept")
"""The phases of a step, in the order they happen (others sort after them)."""

_KEY_SHOWN = 16
"""Hex digits of a key shown in messages."""

_MISSING = object()


class CassetteError(LLMError, ValueError):
    """A cassette that cannot be used: not a cassette, damaged, edited, or recorded from another run.

    Bad input, found before the run starts. Rendered like a scenario error::

        cassettes/c.jsonl:1: seed = 7
          the cassette was recorded with another seed: expected 42, the seed of this run
    """

    def __init__(
        self,
        path: str | Path,
        problem: str,
        expected: str,
        *,
        line: int | None = None,
        field: str | None = None,
        value: Any = _MISSING,
    ) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        self.problem = problem
        self.expected = expected
        head = self.path if line is None else f"{self.path}:{line}"
        if field is not None:
            head += f": {field}"
            if value is not _MISSING:
                head += f" = {_short(value)}"
        super().__init__(f"{head}\n  {problem}: expected {expected}")


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value) if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---------------------------------------------------------------------------------------------
# The format

Hex64 = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
Hex16 = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{16}$")]


class Header(msgspec.Struct, forbid_unknown_fields=True):
    """The first line of a cassette."""

    format: str
    version: int
    scenario: str | None
    seed: int | None


class RecordedUsage(msgspec.Struct, forbid_unknown_fields=True):
    input_tokens: int
    output_tokens: int


class RecordedAnswer(msgspec.Struct, forbid_unknown_fields=True):
    raw_text: str
    usage: RecordedUsage
    cost_usd: float
    repaired: bool
    rate_limited: int
    """429s the provider answered before this answer (format 3)."""


class RecordedError(msgspec.Struct, forbid_unknown_fields=True):
    """An LLM error (``type``: its class in :mod:`adapters`) or ``TimeoutError`` (the request was cut off)."""

    type: str
    message: str
    state: dict[str, str | int | float | bool | None]


class Entry(msgspec.Struct, forbid_unknown_fields=True):
    """One recorded exchange (every field required; ``answer`` or ``error`` is null)."""

    agent: str | None
    epoch: int | None
    step: int | None
    phase: str | None
    key: Hex64
    model: str
    schema: str
    schema_hash: Hex16
    temperature: float
    max_tokens: int
    system: str
    user: str
    answer: RecordedAnswer | None
    error: RecordedError | None
    digest: Hex16


def header_line(scenario: str | None, seed: int | None) -> dict[str, Any]:
    return {"format": FORMAT, "version": VERSION, "scenario": scenario, "seed": seed}


def digest_of(entry: dict[str, Any]) -> str:
    """The digest of an entry: sha256 over the canonical JSON of its other fields (16 hex digits)."""
    body = {k: v for k, v in entry.items() if k != "digest"}
    blob = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def schema_hash(request: CompletionRequest[Any]) -> str:
    blob = json.dumps(request.json_schema(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Where:
    """Where a request was asked: agent, epoch, step and phase (``None`` where the request does not say)."""

    agent: str | None
    epoch: int | None
    step: int | None
    phase: str | None

    @classmethod
    def of(cls, request: CompletionRequest[Any]) -> Where:
        meta = request.metadata
        return cls(meta.get("agent_id"), _int(meta.get("epoch")), _int(meta.get("step")), meta.get("phase"))

    def order(self) -> tuple[Any, ...]:
        phase = self.phase or ""
        rank = PHASES.index(phase) if phase in PHASES else len(PHASES)
        return (
            self.epoch is None,
            self.epoch or 0,
            self.step is None,
            self.step or 0,
            rank,
            phase,
            self.agent or "",
        )

    def time(self) -> tuple[int, int, int]:
        phase = self.phase or ""
        return (self.epoch or 0, self.step or 0, PHASES.index(phase) if phase in PHASES else len(PHASES))

    def __str__(self) -> str:
        if self.agent is None and self.epoch is None:
            return "a request without agent, epoch or step"
        parts = [self.agent or "?"]
        if self.epoch is not None:
            parts.append(f"at epoch {self.epoch}, step {self.step}")
        if self.phase:
            parts.append(f"({self.phase})")
        return " ".join(parts)


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
# Recording


class CassetteWriter:
    """A cassette being recorded; several recorders (one per provider) may share it.

    :meth:`begin` names the run for the header. Entries go to ``PATH.partial`` as
    they come, after the header, one flushed line each (an interrupted recording
    keeps them there, a readable cassette); :meth:`close` writes the cassette to
    ``path`` (just the header if nothing was asked), entries sorted by epoch,
    step, phase, agent and key. An existing cassette at ``path`` is replaced only
    then, and not at all by a writer that never began.
    """

    def __init__(self, path: str | Path, *, scenario: str | None = None, seed: int | None = None) -> None:
        self.path = Path(path)
        self.partial = self.path.with_name(self.path.name + ".partial")
        self.scenario = scenario
        self.seed = seed
        self._begun = False
        self._fh: IO[bytes] | None = None
        self._index: list[tuple[tuple[Any, ...], int, int, int]] = []
        self.closed = False

    def begin(self, scenario: str | None, seed: int | None) -> None:
        """Name the run being recorded (the header); one cassette records one scenario and seed."""
        if self._begun and (scenario, seed) != (self.scenario, self.seed):
            raise CassetteError(
                self.path,
                f"this cassette is recording scenario {self.scenario!r} with seed {self.seed}",
                "one scenario and seed per cassette (record another run to another file)",
                field="scenario",
                value=scenario,
            )
        self.scenario, self.seed = scenario, seed
        self._begun = True

    def _open(self) -> IO[bytes]:
        if self._fh is None:
            self._begun = True
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.partial.open("wb")
            self._fh.write(_line(header_line(self.scenario, self.seed)))
            self._fh.flush()
        return self._fh

    def write(self, entry: dict[str, Any], where: Where | None = None) -> None:
        """Append one entry (its ``digest`` is added here)."""
        if self.closed:
            return
        fh = self._open()
        entry = {**entry, "digest": digest_of(entry)}
        data = _line(entry)
        offset = fh.tell()
        fh.write(data)
        fh.flush()
        order = where.order() if where is not None else (True, 0, True, 0, len(PHASES), "", "")
        self._index.append(((*order, str(entry.get("key", ""))), len(self._index), offset, len(data)))

    def close(self) -> None:
        """Write the cassette to ``path`` (entries in order; only the header if nothing was asked)."""
        if self.closed:
            return
        self.closed = True
        if not self._begun:
            return
        fh = self._open()
        fh.close()
        tmp = self.path.with_name(self.path.name + ".tmp")
        with self.partial.open("rb") as src, tmp.open("wb") as dst:
            dst.write(_line(header_line(self.scenario, self.seed)))
            for _, _, offset, length in sorted(self._index):
                src.seek(offset)
                dst.write(src.read(length))
        os.replace(tmp, self.path)
        self.partial.unlink()


def _line(obj: dict[str, Any]) -> bytes:
    return (json.dumps(obj, sort_keys=True, ensure_ascii=False) + "\n").encode()


class RecordingAdapter:
    """Pass requests to ``inner`` and append each exchange to the cassette (flushed per line).

    An answer is recorded with its usage and cost; an LLM error with its type and
    message, and a request cut off by a timeout (cancelled) as ``TimeoutError``,
    so a replay fails the same requests the same way.
    """

    def __init__(self, inner: LLMAdapter, cassette: str | Path | CassetteWriter) -> None:
        self.inner = inner
        self.writer = cassette if isinstance(cassette, CassetteWriter) else CassetteWriter(cassette)
        self.path = self.writer.path

    async def complete(self, request: CompletionRequest[T]) -> Completion[T]:
        try:
            completion = await self.inner.complete(request)
        except LLMError as exc:
            self._write(request, error=_recorded_error(exc))
            raise
        except anyio.get_cancelled_exc_class():
            self._write(request, error=RecordedError("TimeoutError", "cut off before an answer came", {}))
            raise
        self._write(
            request,
            answer=RecordedAnswer(
                raw_text=completion.raw_text,
                usage=RecordedUsage(completion.usage.input_tokens, completion.usage.output_tokens),
                cost_usd=completion.cost_usd,
                repaired=completion.repaired,
                rate_limited=completion.rate_limited,
            ),
        )
        return completion

    def _write(
        self,
        request: CompletionRequest[Any],
        *,
        answer: RecordedAnswer | None = None,
        error: RecordedError | None = None,
    ) -> None:
        where = Where.of(request)
        entry = {
            "agent": where.agent,
            "epoch": where.epoch,
            "step": where.step,
            "phase": where.phase,
            "key": request.stable_key(),
            "model": request.model,
            "schema": request.schema.__name__,
            "schema_hash": schema_hash(request),
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            "system": request.system,
            "user": request.user,
            "answer": msgspec.to_builtins(answer),
            "error": msgspec.to_builtins(error),
        }
        self.writer.write(entry, where)

    def close(self) -> None:
        self.writer.close()

    async def aclose(self) -> None:
        """Close the inner adapter's network clients (the cassette stays open: :meth:`close`)."""
        await close_adapter(self.inner)


def _recorded_error(exc: LLMError) -> RecordedError:
    state = {k: v for k, v in vars(exc).items() if v is None or isinstance(v, str | int | float | bool)}
    return RecordedError(type(exc).__name__, exc.args[0] if exc.args else str(exc), state)


def _replayed_error(error: RecordedError) -> BaseException:
    if error.type == "TimeoutError":
        return TimeoutError(error.message)
    cls = getattr(_errors, error.type, None)
    if not (isinstance(cls, type) and issubclass(cls, LLMError)):
        cls = LLMError
    exc = cls.__new__(cls)
    Exception.__init__(exc, error.message)
    exc.__dict__.update(error.state)
    return exc


# ---------------------------------------------------------------------------------------------
# Replaying


@dataclass(slots=True)
class _Recorded:
    line: int
    where: Where
    entry: Entry
    used: bool = False


_MSGSPEC_AT = re.compile(r"^(?P<what>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_MSGSPEC_TYPE = re.compile(r"^Expected `(?P<expected>[^`]+)`(?P<rest>.*?)(?:, got `(?P<got>[^`]+)`)?$")
_MSGSPEC_FIELD = re.compile(r"(?P<kind>missing required|unknown) field `(?P<name>[^`]+)`")


def _value_at(obj: Any, at: str) -> Any:
    for part in at.split(".") if at else ():
        if isinstance(obj, dict) and part in obj:
            obj = obj[part]
        elif isinstance(obj, list) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        else:
            return _MISSING
    return obj if isinstance(obj, str | int | float | bool) or obj is None else _MISSING


def _field_error(
    path: Path, line: int, exc: msgspec.ValidationError, what: str, obj: dict[str, Any]
) -> CassetteError:
    """A msgspec validation error as a cassette error naming the field's key path."""
    match = _MSGSPEC_AT.match(str(exc))
    assert match is not None
    problem, at = match["what"], (match["path"] or "").lstrip(".")
    at = re.sub(r"\[(\d+)\]", r".\1", at)
    named = _MSGSPEC_FIELD.search(problem)
    if named is not None:
        field = f"{at}.{named['name']}" if at else named["name"]
        if named["kind"] == "unknown":
            return CassetteError(
                path,
                "unknown field",
                f"only the fields of a {what} (format {VERSION})",
                line=line,
                field=field,
            )
        return CassetteError(
            path,
            "missing",
            f"every field of a {what} (format {VERSION}); re-record the cassette",
            line=line,
            field=field,
        )
    typed = _MSGSPEC_TYPE.match(problem)
    if typed is not None:
        return CassetteError(
            path,
            f"wrong type: got {typed['got']}" if typed["got"] else "invalid value",
            f"{typed['expected']}{typed['rest']}, as in a {what} (format {VERSION})",
            line=line,
            field=at or None,
            value=_value_at(obj, at),
        )
    return CassetteError(
        path, problem, f"a {what} as recorded (format {VERSION})", line=line, field=at or None
    )


class ReplayAdapter:
    """Serve recorded answers; a request never recorded raises :class:`CassetteMiss`.

    The whole file is read and checked on construction (:class:`CassetteError`);
    :meth:`check` compares its header with the run about to start. A key recorded
    several times is served in recorded order.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.header, self._recorded = _read(self.path)
        self._by_key: dict[str, deque[_Recorded]] = defaultdict(deque)
        self._by_where: dict[Where, list[_Recorded]] = defaultdict(list)
        for rec in self._recorded:
            self._by_key[rec.entry.key].append(rec)
            self._by_where[rec.where].append(rec)

    @property
    def entries(self) -> int:
        return len(self._recorded)

    def check(self, scenario: str | None, seed: int | None) -> None:
        """Raise :class:`CassetteError` unless the cassette was recorded from ``scenario`` with ``seed``."""
        if self.header.scenario != scenario:
            raise CassetteError(
                self.path,
                "the cassette was recorded from another scenario",
                f"{_short(scenario)}, the scenario being run (or a cassette recorded from it)",
                line=1,
                field="scenario",
                value=self.header.scenario,
            )
        if self.header.seed != seed:
            raise CassetteError(
                self.path,
                "the cassette was recorded with another seed",
                f"{seed}, the seed of this run (or a cassette recorded with it)",
                line=1,
                field="seed",
                value=self.header.seed,
            )

    def rewind(self) -> None:
        """Serve every recorded answer again (for another run of the same scenario)."""
        for rec in self._recorded:
            rec.used = False
        self._by_key = defaultdict(deque)
        for rec in self._recorded:
            self._by_key[rec.entry.key].append(rec)

    async def complete(self, request: CompletionRequest[T]) -> Completion[T]:
        key = request.stable_key()
        queue = self._by_key.get(key)
        if not queue:
            raise self._miss(request, key)
        rec = queue.popleft()
        rec.used = True
        entry = rec.entry
        if entry.error is not None:
            raise _replayed_error(entry.error)
        assert entry.answer is not None
        answer = entry.answer
        try:
            value = request.schema.model_validate_json(answer.raw_text)
        except ValidationError as exc:
            where = Where.of(request)
            why = f"no longer validates against {request.schema.__name__}: {_first_error(exc)}"
            raise CassetteMiss(
                f"the answer recorded in {self.path}:{rec.line} for {where} (key {key[:_KEY_SHOWN]}) {why}",
                where=where,
                key=key,
                path=str(self.path),
                nearest_key=key,
                nearest_line=rec.line,
                reason=why,
            ) from None
        return Completion(
            value=value,
            raw_text=answer.raw_text,
            usage=Usage(answer.usage.input_tokens, answer.usage.output_tokens),
            cost_usd=answer.cost_usd,
            latency_s=0.0,
            model=request.model,
            repaired=answer.repaired,
            rate_limited=answer.rate_limited,
        )

    # -- misses -----------------------------------------------------------------------------

    def _miss(self, request: CompletionRequest[Any], key: str) -> CassetteMiss:
        where = Where.of(request)
        head = f"no recorded answer in {self.path} for {where}, request key {key[:_KEY_SHOWN]}"
        nearest, why = self._nearest(request, key, where)
        if nearest is not None:
            near = (
                f"nearest recorded key: {nearest.entry.key[:_KEY_SHOWN]} "
                f"(line {nearest.line}, {nearest.where}): {why}"
            )
        else:
            near = why
        return CassetteMiss(
            f"{head}\n  {near}",
            where=where,
            key=key,
            path=str(self.path),
            nearest_key=nearest.entry.key if nearest is not None else None,
            nearest_line=nearest.line if nearest is not None else None,
            reason=why,
        )

    def _nearest(
        self, request: CompletionRequest[Any], key: str, where: Where
    ) -> tuple[_Recorded | None, str]:
        if not self._recorded:
            return None, "the cassette records no request at all"
        located = where.agent is not None and where.epoch is not None
        same = self._by_where.get(where, []) if located else self._recorded
        if same:
            repeats = [r for r in same if r.entry.key == key]
            if repeats:
                return repeats[-1], (
                    f"this request was recorded {len(repeats)} time(s) and has been asked more often"
                )
            best = max(same, key=lambda r: (not r.used, _common(r.entry, request)))
            return best, _difference(best.entry, request)
        last = max(self._recorded, key=lambda r: r.where.time())
        if where.time() >= last.where.time():
            return last, (
                f"the cassette ends at epoch {last.where.epoch}, step {last.where.step} without this "
                "request: it was cut short, or recorded from a shorter run"
            )
        agents = sorted({r.where.agent for r in self._recorded if r.where.agent is not None})
        mine = [r for r in self._recorded if r.where.agent == where.agent]
        if not mine:
            return None, f"the cassette records no request of {where.agent} (it records {', '.join(agents)})"
        before = [r for r in mine if r.where.time() < where.time()]
        nearest = max(before, key=lambda r: r.where.time()) if before else mine[0]
        return nearest, (
            f"the cassette has no request of {where.agent} at epoch {where.epoch}, step {where.step} "
            f"({where.phase}), though it goes on after it: an entry was removed, or the recorded "
            "run took another course before this request"
        )


def _common(entry: Entry, request: CompletionRequest[Any]) -> int:
    return _prefix(entry.system + entry.user, request.system + request.user)


def _prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def _difference(entry: Entry, request: CompletionRequest[Any]) -> str:
    """What differs between a recorded request and the one asked, the first difference named."""
    if entry.model != request.model:
        return f"the model differs: recorded {entry.model!r}, asked {request.model!r}"
    if entry.schema != request.schema.__name__:
        return f"the schema differs: recorded {entry.schema}, asked {request.schema.__name__}"
    if entry.schema_hash != schema_hash(request):
        return (
            f"the {entry.schema} schema differs from the one recorded (the scenario's components or "
            "their actions changed)"
        )
    if entry.temperature != request.temperature:
        return f"the temperature differs: recorded {entry.temperature}, asked {request.temperature}"
    if entry.max_tokens != request.max_tokens:
        return f"max_tokens differs: recorded {entry.max_tokens}, asked {request.max_tokens}"
    for name, recorded, asked in (
        ("system prompt", entry.system, request.system),
        ("user prompt", entry.user, request.user),
    ):
        if recorded != asked:
            at = _prefix(recorded, asked)
            return (
                f"the {name} differs at character {at}: recorded {_around(recorded, at)}, "
                f"asked {_around(asked, at)}"
            )
    return "the requests look the same but their keys differ"


def _around(text: str, at: int, before: int = 24, after: int = 40) -> str:
    start = max(0, at - before)
    snippet = text[start : at + after]
    return ("..." if start else "") + repr(snippet) + ("..." if at + after < len(text) else "")


def _first_error(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False)
    if not errors:
        return str(exc)
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"])
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first['msg']}{more}" if where else f"{first['msg']}{more}"


def _read(path: Path) -> tuple[Header, list[_Recorded]]:
    """Read and check a whole cassette (:class:`CassetteError` at the first problem)."""
    if not path.is_file():
        raise CassetteError(path, "no such cassette", "a cassette recorded with --record-llm")
    data = path.read_bytes()
    if not data.strip():
        raise CassetteError(
            path,
            "empty file",
            f"a cassette: a header line ({FORMAT} version {VERSION}), then one JSON entry per line",
            line=1,
        )
    lines = data.split(b"\n")
    complete = data.endswith(b"\n")
    if complete:
        lines.pop()
    header: Header | None = None
    recorded: list[_Recorded] = []
    for lineno, raw in enumerate(lines, start=1):
        last = lineno == len(lines)
        obj = _json_line(path, lineno, raw, cut=last and not complete)
        if header is None:
            header = _header(path, obj)
            continue
        try:
            entry = msgspec.convert(obj, Entry)
        except msgspec.ValidationError as exc:
            raise _field_error(path, lineno, exc, "cassette entry", obj) from None
        if (entry.answer is None) == (entry.error is None):
            raise CassetteError(
                path,
                "an entry has an answer or an error, never both nor neither",
                "exactly one of answer and error",
                line=lineno,
                field="answer",
            )
        if digest_of(obj) != entry.digest:
            raise CassetteError(
                path,
                "the entry does not match its digest: it was changed after recording",
                "the entry as recorded (record the run again rather than edit the cassette)",
                line=lineno,
                field="digest",
                value=entry.digest,
            )
        where = Where(entry.agent, entry.epoch, entry.step, entry.phase)
        recorded.append(_Recorded(lineno, where, entry))
    assert header is not None
    return header, recorded


def _json_line(path: Path, lineno: int, raw: bytes, *, cut: bool) -> dict[str, Any]:
    try:
        obj = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        if cut:
            raise CassetteError(
                path,
                f"the last line is cut short ({exc})",
                "a complete JSON entry ending with a newline (was the recording interrupted? record again)",
                line=lineno,
            ) from None
        problem = "an empty line" if not raw.strip() else f"not JSON ({exc})"
        raise CassetteError(path, problem, "one JSON object per line", line=lineno) from None
    if not isinstance(obj, dict):
        raise CassetteError(
            path, f"a JSON {type(obj).__name__}, not an object", "one JSON object per line", line=lineno
        )
    return obj


def _header(path: Path, obj: dict[str, Any]) -> Header:
    expected = (
        f'a header {{"format": "{FORMAT}", "version": {VERSION}, "scenario": ..., "seed": ...}} '
        "as the first line"
    )
    if obj.get("format") != FORMAT:
        if "format" in obj:
            raise CassetteError(
                path, "not a cassette header", expected, line=1, field="format", value=obj["format"]
            )
        problem = "missing: the file has no cassette header"
        if "key" in obj:
            problem += " (a cassette of format 1, which had none? re-record it with --record-llm)"
        raise CassetteError(path, problem, expected, line=1, field="format")
    if obj.get("version") != VERSION:
        raise CassetteError(
            path,
            "a cassette format this version of swarm does not read",
            f"version {VERSION} (re-record the cassette with --record-llm)",
            line=1,
            field="version",
            value=obj.get("version"),
        )
    try:
        return msgspec.convert(obj, Header)
    except msgspec.ValidationError as exc:
        raise _field_error(path, 1, exc, "cassette header", obj) from None
