"""Follow an event log while a run is still writing it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import msgspec

from swarm.errors import LogError
from swarm.events import Event, RunEnded
from swarm.runtime.eventlog import decode_event, parse_header


def follow_log(
    path: str | Path, *, follow: bool = True, poll: float = 0.2, idle_timeout: float | None = None
) -> Iterator[Event]:
    """Yield events as lines are completed; stop at ``run_ended`` (or at EOF without ``follow``).

    A partially written last line is held back until its newline arrives. With
    ``idle_timeout``, stop after that many seconds without a new line.
    """
    p = Path(path)
    deadline = time.monotonic() + (idle_timeout or 0)
    while not p.exists():
        if not follow or (idle_timeout is not None and time.monotonic() > deadline):
            raise LogError(f"{p}: no such event log")
        time.sleep(poll)
    if p.is_dir():
        raise LogError(f"{p}: a directory, not an event log (expected RUN_DIR/events.jsonl)")
    with p.open("rb") as fh:
        buffer, lineno = b"", 0
        last_progress = time.monotonic()
        while True:
            chunk = fh.readline()
            if chunk:
                buffer += chunk
                if not buffer.endswith(b"\n"):
                    continue
                raw, buffer = buffer, b""
                lineno += 1
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise LogError(f"{p}:{lineno}: not UTF-8 (byte {raw[exc.start]:#04x})") from None
                last_progress = time.monotonic()
                if lineno == 1:
                    parse_header(line, p)
                    continue
                try:
                    event = decode_event(line)
                except (msgspec.ValidationError, msgspec.DecodeError) as exc:
                    raise LogError(f"{p}:{lineno}: unreadable line: {exc}") from None
                yield event
                if isinstance(event, RunEnded):
                    return
                continue
            if not follow:
                return
            if idle_timeout is not None and time.monotonic() - last_progress > idle_timeout:
                return
            time.sleep(poll)
