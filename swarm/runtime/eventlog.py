"""The event log: JSON Lines with a header, written as the run goes.

Line 1 is a header (schema version, run id, seed, the full scenario, package
versions); every later line is one event in sequence order. The writer flushes
after every step and fsyncs after every epoch, so a crash loses at most the step
in flight. A log is written fresh for each run (never appended to).
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel, ConfigDict, ValidationError

from actors import Actor, Message, handler
from swarm.errors import LogError
from swarm.events import EVENT_ADAPTER, AnyEvent, Event

SCHEMA_VERSION = 1


class LogHeader(BaseModel):
    """The first line of every event log."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str = "header"
    schema_version: int = SCHEMA_VERSION
    run_id: str
    seed: int
    scenario: dict[str, Any]
    versions: dict[str, str]


def package_versions() -> dict[str, str]:
    """Versions that can change a run's outcome: Python and the sandbox's own packages."""
    out = {"python": platform.python_version()}
    for dist in ("swarm-sandbox", "pydantic", "anyio"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "unknown"
    return out


class EventLogWriter:
    """Appends events to a fresh JSONL file; flush per step, fsync per epoch."""

    def __init__(self, path: Path, header: LogHeader) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh: IO[str] | None = path.open("w", encoding="utf-8")
        self._fh.write(header.model_dump_json() + "\n")
        self._fh.flush()

    def write(self, events: Sequence[Event]) -> None:
        fh = self._require()
        fh.write("".join(ev.model_dump_json() + "\n" for ev in events))

    def flush(self, *, fsync: bool = False) -> None:
        fh = self._require()
        fh.flush()
        if fsync:
            os.fsync(fh.fileno())

    def close(self) -> None:
        if self._fh is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            self._fh = None

    def _require(self) -> IO[str]:
        if self._fh is None:
            raise LogError(f"{self.path}: the event log is already closed")
        return self._fh


class Record(Message):
    """Write events; ``sync`` says how durable the write must be before replying."""

    events: tuple[Event, ...]
    sync: str = "step"


class Recorder(Actor):
    """Owns the event log file."""

    def __init__(self, writer: EventLogWriter) -> None:
        self._writer = writer

    @handler
    async def on_record(self, msg: Record) -> None:
        self._writer.write(msg.events)
        if msg.sync != "none":
            self._writer.flush(fsync=msg.sync == "epoch")

    async def on_stop(self) -> None:
        self._writer.flush(fsync=True)


def read_log(path: str | Path) -> tuple[LogHeader, list[AnyEvent]]:
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


def iter_log(path: str | Path) -> Iterator[tuple[LogHeader | None, AnyEvent | None]]:
    """Yield (header, None) for the first line, then (None, event) for each event line."""
    p = Path(path)
    if not p.is_file():
        raise LogError(f"{p}: no such event log")
    with p.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                if lineno == 1:
                    data = json.loads(line)
                    if data.get("type") != "header":
                        raise LogError(f"{p}:1: not an event log (the first line is not a header)")
                    if data.get("schema_version") != SCHEMA_VERSION:
                        raise LogError(
                            f"{p}:1: schema version {data.get('schema_version')} "
                            f"(this version reads {SCHEMA_VERSION})"
                        )
                    yield LogHeader.model_validate(data), None
                else:
                    yield None, EVENT_ADAPTER.validate_json(line)
            except (ValidationError, json.JSONDecodeError) as exc:
                raise LogError(f"{p}:{lineno}: unreadable line: {str(exc).splitlines()[0]}") from None
