"""The folder a run writes into, chosen before anything is built: no earlier run is overwritten by accident.

``swarm run`` (and any embedding code) asks :func:`prepare_run_dir` for its
output folder. A missing folder or an empty one is used as it is; a file is
refused; a folder that already holds something is refused unless the caller
says ``overwrite=True`` (``--overwrite``: the run's own files are replaced, any
others are left alone) or ``fresh=True`` (the first free ``NAME-2``,
``NAME-3``, ... beside it is used instead).
"""

from __future__ import annotations

import os
from pathlib import Path

from swarm.errors import ScenarioError

RUN_FILES = ("events.jsonl", "metrics.csv", "agent_epochs.csv", "summary.json")
"""The files a run writes into its folder."""

MAX_SUFFIX = 10_000


def prepare_run_dir(
    target: str | Path, *, overwrite: bool = False, fresh: bool = False, option: str = "--out"
) -> Path:
    """The folder a run may write into: ``target``, or with ``fresh`` a new sibling of it.

    Raises :class:`ScenarioError` (exit 2) when ``target`` is a file, or a folder
    that is not empty and neither ``overwrite`` nor ``fresh`` is given. Nothing is
    created or deleted here.
    """
    path = Path(target)
    check_path(path, option)
    if path.exists() and not path.is_dir():
        raise ScenarioError(option, str(path), "is a file, not a folder", "a folder for the run's outputs")
    if not _in_use(path) or overwrite:
        return path
    if fresh:
        for n in range(2, MAX_SUFFIX):
            candidate = path.with_name(f"{path.name}-{n}")
            if not candidate.exists():
                return candidate
        raise ScenarioError(
            option, str(path), f"{MAX_SUFFIX} folders of that name already exist", "a new folder name"
        )
    what = "an earlier run" if any((path / name).exists() for name in RUN_FILES) else "other files"
    raise ScenarioError(
        option,
        str(path),
        f"the folder already holds {what}",
        "a new folder (--out), --fresh for a new one beside it, or --overwrite to replace the run's files",
    )


MAX_NAME = 255
"""The longest file name (one path component) in bytes, as on common file systems."""
MAX_PATH = 4096


def check_path(path: Path, option: str = "--out") -> None:
    """Refuse (exit 2) a path no file system takes: a NUL, a name over 255 bytes, a path over 4,096."""
    text = str(path)
    if "\x00" in text:
        raise ScenarioError(option, _shown(text), "contains a NUL character", "a path without NUL")
    if len(os.fsencode(text)) > MAX_PATH:
        raise ScenarioError(option, _shown(text), "is too long", f"a path of at most {MAX_PATH:,} bytes")
    for part in path.parts:
        if len(os.fsencode(part)) > MAX_NAME:
            raise ScenarioError(
                option,
                _shown(text),
                f"has a name of {len(os.fsencode(part))} bytes ({_shown(part, 40)})",
                f"names of at most {MAX_NAME} bytes",
            )


def create_run_dir(path: Path, *, option: str = "--out") -> Path:
    """Create the run's folder (and its parents) now, before anything is built or started.

    Raises :class:`ScenarioError` (exit 2) naming the folder when it cannot be
    created or written to. Nothing in it is removed: with ``--overwrite`` an
    earlier run's files are replaced only as the new run writes its own (a run
    refused for bad input, or one that cannot start, leaves them as they were).
    """
    check_path(path, option)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ScenarioError(
            option, str(path), f"cannot be created ({exc.strerror or exc})", "a folder you can write to"
        ) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ScenarioError(option, str(path), "is not writable", "a folder you can write to")
    return path


def _shown(text: str, limit: int = 80) -> str:
    text = text.replace("\x00", "\\0")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _in_use(path: Path) -> bool:
    """Whether ``path`` is a folder with anything in it."""
    try:
        return path.is_dir() and any(path.iterdir())
    except OSError as exc:
        raise ScenarioError(
            "--out", str(path), f"cannot be read ({exc.strerror or exc})", "a readable folder"
        ) from None
