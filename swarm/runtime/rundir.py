"""The folder a run writes into, chosen before anything is built: no earlier run is overwritten by accident.

``swarm run`` (and any embedding code) asks :func:`prepare_run_dir` for its
output folder. A missing folder or an empty one is used as it is; a file is
refused; a folder that already holds something is refused unless the caller
says ``overwrite=True`` (``--overwrite``: the run's own files are replaced, any
others are left alone) or ``fresh=True`` (the first free ``NAME-2``,
``NAME-3``, ... beside it is used instead).
"""

from __future__ import annotations

from pathlib import Path

from swarm.errors import ScenarioError

RUN_FILES = ("events.jsonl", "metrics.csv", "summary.json")
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
        "a new folder (--out), or --overwrite to replace the run's files in it",
    )


def _in_use(path: Path) -> bool:
    """Whether ``path`` is a folder with anything in it."""
    try:
        return path.is_dir() and any(path.iterdir())
    except OSError as exc:
        raise ScenarioError(
            "--out", str(path), f"cannot be read ({exc.strerror or exc})", "a readable folder"
        ) from None
