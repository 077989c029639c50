"""What ``swarm list`` shows, remembered between calls while nothing it depends on changes.

Listing validates every scenario file through the generated schema, which needs
the registries and pydantic: most of a second. The rows are kept in the user's
cache folder (``$XDG_CACHE_HOME/swarm``, else ``~/.cache/swarm``; ``SWARM_CACHE_DIR``
overrides it) under a key made of everything the answer depends on: the files
listed (name, size, modification time), the sandbox's own source files (so a new
version, or an edited one, validates again), the Python version and the ``SWARM_*``
environment variables (limits). Any change means a fresh validation. A cache
that cannot be read or written is simply not used.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent

Row = tuple[str, str, str]
"""A scenario's name, its number of agents (``?`` when invalid) and its description (or what is wrong)."""


def cache_dir() -> Path:
    explicit = os.environ.get("SWARM_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "swarm"


def _key(where: Path, files: list[Path]) -> str:
    h = hashlib.sha256()
    h.update(f"{sys.version_info[:3]}|{where.resolve()}\n".encode())
    for name, value in sorted(os.environ.items()):
        if name.startswith("SWARM_") and name != "SWARM_CACHE_DIR":
            h.update(f"env {name}={value}\n".encode())
    for path in sorted(_PACKAGE.rglob("*.py")):
        st = path.stat()
        h.update(f"src {path.relative_to(_PACKAGE)} {st.st_size} {st.st_mtime_ns}\n".encode())
    for path in files:
        st = path.stat()
        h.update(f"file {path.name} {st.st_size} {st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def cached_rows(where: Path, files: list[Path]) -> tuple[str, list[Row] | None]:
    """The key for ``files`` in ``where``, and the rows remembered for it (None when there are none)."""
    try:
        key = _key(where, files)
    except OSError:
        return "", None
    try:
        data = json.loads((cache_dir() / "list.json").read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("key") == key:
            rows = data.get("rows")
            if isinstance(rows, list) and all(
                isinstance(r, list) and len(r) == 3 and all(isinstance(x, str) for x in r) for r in rows
            ):
                return key, [(r[0], r[1], r[2]) for r in rows]
    except (OSError, ValueError):
        pass
    return key, None


def remember(key: str, rows: list[Row]) -> None:
    """Keep ``rows`` under ``key`` (written atomically; a failure to write is ignored)."""
    if not key:
        return
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f"list.json.{os.getpid()}.tmp"
        tmp.write_text(json.dumps({"key": key, "rows": [list(r) for r in rows]}), encoding="utf-8")
        os.replace(tmp, folder / "list.json")
    except OSError:
        pass
