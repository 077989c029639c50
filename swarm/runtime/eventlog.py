"""The event log: JSON Lines with a header, written as the run goes.

Line 1 is a header (schema version, run id, seed, the full scenario, package
versions); every later line is one event in sequence order, encoded by msgspec
from the event's struct (the same encoder on every machine, so the same run
gives the same bytes). The recorder flushes after every step, so a crash loses at
most the step in flight, and fsyncs after every epoch, on a thread of its own while
the next epoch runs (a checkpoint waits for it). A log is written fresh for each
run; a resumed run cuts its log back to the checkpoint it resumes from and goes on
from there, and a fork starts with its own header and the original's events up to
the fork (docs/reliability.md).
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import IO, Any

import msgspec
from pydantic import BaseModel, ConfigDict, ValidationError

from actors import Actor, handler
from swarm.errors import LogError
from swarm.events import Event, decoder
from swarm.kernel.bus import EventBatch
from swarm.registry import load_builtins

SCHEMA_VERSION = 3
"""2: msgspec-encoded events; typed governance effects, ledger entries and market events (kernel v2).
3: agents draw from counter-based streams (the same seed gives other draws than in 2)."""

_encoder = msgspec.json.Encoder()


class LogHeader(BaseModel):
    """The first line of every event log."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str = "header"
    schema_version: int = SCHEMA_VERSION
    run_id: str
    seed: int
    scenario: dict[str, Any]
    versions: dict[str, str]
    forked_from: dict[str, Any] | None = None
    """For a fork: the original run's id and log, and the epoch it branched at."""

    def line(self) -> bytes:
        """The header as the log's first line (``forked_from`` only when set)."""
        return self.model_dump_json(exclude_none=True).encode() + b"\n"


def package_versions() -> dict[str, str]:
    """Versions that can change a run's outcome: Python and the sandbox's own packages."""
    out = {"python": platform.python_version()}
    for dist in ("swarm-sandbox", "pydantic", "msgspec"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "unknown"
    return out


def encode_event(event: Event) -> bytes:
    return _encoder.encode(event)


def decode_event(line: str | bytes) -> Event:
    """One event from its log line (any registered type); msgspec errors on bad input."""
    load_builtins()
    event: Event = decoder().decode(line)
    return event


class EventLogWriter:
    """Writes events to a fresh JSONL file; flush per step, fsync per epoch."""

    def __init__(self, path: Path, header: LogHeader) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[bytes] | None = path.open("wb")
        self._fh.write(header.line())
        self._fh.flush()

    @classmethod
    def resume(cls, path: Path, offset: int) -> EventLogWriter:
        """Go on writing ``path`` from byte ``offset`` (what follows it is cut off)."""
        writer = cls.__new__(cls)
        writer.path = path
        fh = path.open("r+b")
        fh.truncate(offset)
        fh.seek(offset)
        writer._fh = fh
        return writer

    @classmethod
    def fork(cls, path: Path, header: LogHeader, source: Path, offset: int) -> EventLogWriter:
        """A new log at ``path``: ``header``, then ``source``'s events up to byte ``offset``."""
        writer = cls(path, header)
        fh = writer._require()
        with source.open("rb") as src:
            src.readline()
            remaining = offset - src.tell()
            while remaining > 0:
                chunk = src.read(min(remaining, 1 << 20))
                if not chunk:
                    raise LogError(f"{source}: shorter than {offset} bytes")
                fh.write(chunk)
                remaining -= len(chunk)
        fh.flush()
        return writer

    def tell(self) -> int:
        """Bytes written so far (after a flush, the file's size)."""
        return self._require().tell()

    def write(self, events: Sequence[Event]) -> None:
        self._require().write(_encoder.encode_lines(events))  # one JSON line per event

    def flush(self, *, fsync: bool = False, wait: bool = True) -> None:
        """Hand what was written to the operating system; with ``fsync``, to the disk too.

        With ``wait=False`` the fsync runs on the writer's own thread while the run goes on
        (it releases the interpreter, so the next step does not wait for the disk); the next
        waiting flush, or :meth:`close`, waits for it first, and a failure of it is raised
        there as a :class:`LogError`. A checkpoint, which records how many bytes of the log
        are on disk, flushes with ``wait=True``.
        """
        fh = self._require()
        fh.flush()
        if not fsync:
            return
        self._join_sync()
        if wait:
            self._fsync(fh.fileno())
            return
        if self._syncer is None:
            self._syncer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="swarm-log-fsync")
        self._pending = self._syncer.submit(os.fsync, fh.fileno())

    def close(self) -> None:
        if self._fh is not None:
            fh, self._fh = self._fh, None
            try:
                fh.flush()
                self._join_sync()
                self._fsync(fh.fileno())
            finally:
                fh.close()
                if self._syncer is not None:
                    self._syncer.shutdown()
                    self._syncer = None

    @property
    def closed(self) -> bool:
        return self._fh is None

    _syncer: ThreadPoolExecutor | None = None
    _pending: Future[None] | None = None

    def _join_sync(self) -> None:
        """Wait for the fsync under way on the writer's thread, if any; raise its failure."""
        pending, self._pending = self._pending, None
        if pending is not None:
            try:
                pending.result()
            except OSError as exc:
                raise LogError(f"{self.path}: could not write the event log to disk: {exc}") from exc

    def _fsync(self, fd: int) -> None:
        try:
            os.fsync(fd)
        except OSError as exc:
            raise LogError(f"{self.path}: could not write the event log to disk: {exc}") from exc

    def _require(self) -> IO[bytes]:
        if self._fh is None:
            raise LogError(f"{self.path}: the event log is already closed")
        return self._fh


class Recorder(Actor):
    """Owns the event log file; subscribed to the event bus."""

    def __init__(self, writer: EventLogWriter) -> None:
        self.writer = writer

    @handler
    def on_batch(self, msg: EventBatch) -> None:
        self.writer.write(msg.events)
        if msg.sync != "none":
            self.writer.flush(fsync=msg.sync == "epoch", wait=False)

    async def on_stop(self) -> None:
        if not self.writer.closed:
            self.writer.flush(fsync=True)


def read_log(path: str | Path) -> tuple[LogHeader, list[Event]]:
    """Read a whole event log; a clear LogError names the file and line of any bad line."""
    header, events = None, []
    for lineno, (head, event) in enumerate(iter_log(path), start=1):
        if lineno == 1:
            header = head
        if event is not None:
            events.append(event)
    if header is None:
        raise LogError(f"{path}: empty event log (expected a header line)")
    return header, events


def parse_header(line: str | bytes, path: Path) -> LogHeader:
    """The header of an event log (its first line); LogError if it is not one this version reads."""
    try:
        data = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LogError(f"{path}:1: not an event log (the first line is not JSON: {exc})") from None
    if not isinstance(data, dict) or data.get("type") != "header":
        raise LogError(f"{path}:1: not an event log (the first line is not a header)")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise LogError(
            f"{path}:1: schema version {data.get('schema_version')} (this version reads {SCHEMA_VERSION})"
        )
    try:
        return LogHeader.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(the header)"
        raise LogError(f"{path}:1: unreadable header: {key}: {first['msg']}") from None


def iter_log(path: str | Path) -> Iterator[tuple[LogHeader | None, Event | None]]:
    """Yield (header, None) for the first line, then (None, event) for each event line."""
    p = Path(path)
    if not p.is_file():
        raise LogError(f"{p}: no such event log")
    with p.open("rb") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                if lineno == 1:
                    yield parse_header(line, p), None
                else:
                    yield None, decode_event(line)
            except (ValidationError, json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise LogError(f"{p}:{lineno}: unreadable line: {str(exc).splitlines()[0]}") from None
            except (msgspec.ValidationError, msgspec.DecodeError) as exc:
                raise LogError(f"{p}:{lineno}: unreadable line: {exc}") from None
