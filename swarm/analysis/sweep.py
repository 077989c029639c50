"""Parameter sweeps: configurations x seeds, run in parallel, resumable, aggregated with 95% intervals.

A sweep file::

    name: mvp12
    base: ../mixed_population.yaml      # relative to the sweep file
    seeds: 10                           # seeds 0..9, the same for every configuration
    epochs: 10                          # optional overrides of the base
    configurations:
      - name: baseline
      - name: audits
        set: {governance.audit_enabled: true, governance.audit_probability: 0.3}
    vary:                               # optional: a cartesian product, appended
      governance.transaction_tax_rate: [0.0, 0.1]

Each run is written to ``OUT/runs/<configuration>/seed-<n>/``; a run counts as
finished once its ``summary.json`` exists (runs are written to a temporary
directory and renamed into place), so an interrupted sweep resumes where it
stopped and produces the same aggregate.

Sweep files are read as strictly as scenarios (duplicate keys, NaN, coercion and
oversized documents refused, with the key path and line); a seed listed twice is
an error (it would count twice in the aggregate and narrow its interval); names
are single path components, so no run is written outside ``OUT/runs``; and the
number of runs is checked against :attr:`swarm.limits.Limits.sweep_runs` before
any configuration is expanded.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import shutil
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from swarm.errors import ConfigProblem, ScenarioError
from swarm.limits import Limits, check_numbers, check_runs
from swarm.scenario import load_scenario

NAME = r"^[A-Za-z0-9_+\-][A-Za-z0-9_.+\-]*$"
"""A sweep's or configuration's name: one path component, not hidden, not ``.`` or ``..``."""
MAX_NAME = 120


class Configuration(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, strict=True, allow_inf_nan=False
    )

    name: str = Field(pattern=NAME, max_length=MAX_NAME)
    set_: dict[str, Any] = Field(default_factory=dict, alias="set")

    def overrides(self) -> list[str]:
        return [f"{k}={json.dumps(v)}" for k, v in self.set_.items()]


class SweepSpec(BaseModel):
    """A validated sweep file."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    name: str = Field(default="sweep", pattern=NAME, max_length=MAX_NAME)
    base: str
    seeds: int | list[int] = Field(default=5)
    epochs: int | None = Field(default=None, ge=1)
    steps: int | None = Field(default=None, ge=1)
    configurations: list[Configuration] = Field(default_factory=list)
    vary: dict[str, list[Any]] = Field(default_factory=dict)

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, v: int | list[int]) -> int | list[int]:
        if isinstance(v, int) and v < 1:
            raise ValueError("at least one seed")
        if isinstance(v, list) and (not v or any(s < 0 for s in v)):
            raise ValueError("a non-empty list of non-negative seeds")
        if isinstance(v, list):
            first: dict[int, int] = {}
            for index, seed in enumerate(v):
                if seed in first:
                    raise ConfigProblem(
                        f"seeds.{index}",
                        f"seed {seed} is listed twice (seeds.{first[seed]} and seeds.{index})",
                        "each seed once (a repeated seed would count twice in the aggregate "
                        "and narrow its confidence interval)",
                    )
                first[seed] = index
        return v

    @field_validator("vary")
    @classmethod
    def _axes(cls, v: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in v.items():
            if not values:
                raise ConfigProblem(
                    f"vary.{key}", "no values (the product would be empty)", "a list of at least one value"
                )
        return v

    def run_count(self) -> int:
        """Configurations × seeds, computed without expanding anything."""
        seeds = self.seeds if isinstance(self.seeds, int) else len(self.seeds)
        grid = math.prod(len(values) for values in self.vary.values()) if self.vary else 0
        return max(len(self.configurations) + grid, 1) * seeds

    def seed_list(self) -> list[int]:
        return list(range(self.seeds)) if isinstance(self.seeds, int) else list(self.seeds)

    def expanded(self) -> list[Configuration]:
        """Named configurations, then the cartesian product of ``vary`` (names from the values)."""
        out = list(self.configurations)
        if self.vary:
            keys = list(self.vary)
            for combo in itertools.product(*(self.vary[k] for k in keys)):
                name = "+".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in zip(keys, combo, strict=True))
                out.append(
                    Configuration.model_validate(
                        {"name": safe_name(name), "set": dict(zip(keys, combo, strict=True))}
                    )
                )
        if not out:
            out.append(Configuration(name="base"))
        names = [c.name for c in out]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"configuration names must be unique: {', '.join(duplicates)}")
        return out


def safe_name(name: str) -> str:
    """``name`` as a configuration name: one path component (a long one shortened, with a hash)."""
    out = "".join(ch if ch.isalnum() or ch in "_.+-=" else "_" for ch in name).replace("=", "-")
    if not out or out[0] == ".":
        out = "_" + out
    if len(out) > MAX_NAME:
        digest = hashlib.sha256(name.encode()).hexdigest()[:10]
        out = f"{out[: MAX_NAME - 11]}~{digest}".replace("~", "-")
    return out


def load_sweep(path: str | Path, *, limits: Limits | None = None) -> tuple[SweepSpec, Path]:
    """Read and validate a sweep file; returns the spec and the base scenario's resolved path."""
    from swarm.scenario._load import _explain, _Lines, _lookup
    from swarm.scenario._yaml import YAMLProblem, parse, read_text

    limits = Limits.from_env() if limits is None else limits
    p = Path(path)
    source = str(p)
    text = read_text(p, "a sweep YAML file", limits)
    try:
        data = parse(text, limits)
    except YAMLProblem as exc:
        raise exc.error(source) from None
    if not isinstance(data, dict):
        raise ScenarioError(source, None, "the top level is not a mapping", "a sweep: name, base, seeds, ...")
    lines = _Lines(text)
    check_numbers(data, lambda loc: (source, lines.line_of(loc)))
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = _untagged(tuple(err["loc"]), data)
        problem, expected = _explain(err)
        found = err.get("ctx", {}).get("error")
        if isinstance(found, ConfigProblem):
            loc = tuple(int(p) if p.isdigit() else p for p in found.key.split(".", 1))
            problem, expected = found.problem, found.expected
        elif err["type"] in ("string_pattern_mismatch", "string_too_long") and loc[-1:] == ("name",):
            problem = "not a usable folder name" if err["type"] == "string_pattern_mismatch" else "too long"
            expected = (
                f"a name of at most {MAX_NAME} letters, digits, '_', '+', '-' or '.', not starting with '.' "
                "(it names a folder: no '/', no '..', not absolute)"
            )
        elif problem == "invalid value":
            problem, expected = expected, "see docs/sweeps.md"
        key = ".".join(str(x) for x in loc) or None
        raise ScenarioError(
            source, key, problem, expected, value=_lookup(data, loc), line=lines.line_of(loc)
        ) from None
    seeds = spec.seeds if isinstance(spec.seeds, int) else len(spec.seeds)
    blame = "vary" if spec.vary and spec.run_count() // seeds > seeds else "seeds"
    check_runs(spec.run_count(), source, blame, limits, line=lines.line_of((blame,)))
    try:
        spec.expanded()
    except ValueError as exc:
        raise ScenarioError(
            source, "configurations", str(exc), "unique names", line=lines.line_of(("configurations",))
        ) from None
    base = (p.parent / spec.base).resolve()
    if not base.is_file():
        raise ScenarioError(
            source,
            "base",
            f"the base scenario {base} is not a file",
            "a scenario YAML path, relative to the sweep file",
            value=spec.base,
            line=lines.line_of(("base",)),
        )
    return spec, base


def _untagged(loc: tuple[Any, ...], data: Any) -> tuple[Any, ...]:
    """``loc`` without the union members pydantic names in it (``seeds.int`` → ``seeds``)."""
    out: list[Any] = []
    node = data
    for part in loc:
        if isinstance(part, str) and not isinstance(node, dict):
            continue
        out.append(part)
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
    return tuple(out)


class RunSpec(BaseModel):
    """One run of a sweep; its directory is always ``OUT/runs/<configuration>/seed-<n>``."""

    model_config = ConfigDict(frozen=True)

    configuration: str = Field(pattern=NAME, max_length=MAX_NAME)
    seed: int = Field(ge=0)
    base: str
    overrides: list[str]

    def directory(self, out: Path) -> Path:
        return out / "runs" / self.configuration / f"seed-{self.seed}"


def plan(spec: SweepSpec, base: Path, *, source: str | None = None) -> list[RunSpec]:
    """Every (configuration, seed) run, configurations in file order; each override validated now.

    A configuration's bad override is reported as ``SOURCE (configuration NAME)`` and its key path.
    """
    common = []
    if spec.epochs is not None:
        common.append(f"simulation.n_epochs={spec.epochs}")
    if spec.steps is not None:
        common.append(f"simulation.steps_per_epoch={spec.steps}")
    runs: list[RunSpec] = []
    for config in spec.expanded():
        overrides = [*common, *config.overrides()]
        try:
            load_scenario(base, overrides)
        except ScenarioError as exc:
            if exc.source != "--set":
                raise
            own = {"simulation.n_epochs": "epochs", "simulation.steps_per_epoch": "steps"}
            key = exc.key
            if key in own and getattr(spec, own[key]) is not None and key not in config.set_:
                where, key = source or "sweep", own[key]  # the sweep's own epochs/steps
            else:
                where = (
                    f"{source} (configuration {config.name})" if source else f"configuration {config.name}"
                )
            raise ScenarioError(
                where, key, exc.problem, exc.expected, value=exc.value, line=exc.line
            ) from None
        runs.extend(
            RunSpec(
                configuration=config.name,
                seed=seed,
                base=str(base),
                overrides=[*overrides, f"simulation.seed={seed}"],
            )
            for seed in spec.seed_list()
        )
    return runs


def execute_run(run: RunSpec, out: str) -> str:
    """Run one sweep member into its directory (atomically); returns the directory."""
    import swarm

    final = run.directory(Path(out))
    if (final / "summary.json").exists():
        return str(final)
    tmp = final.parent / f".{final.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    scenario = load_scenario(run.base, run.overrides)
    try:
        swarm.run(scenario, out_dir=tmp)
    except swarm.SimulationError as exc:
        tmp.mkdir(parents=True, exist_ok=True)
        (tmp / "error.txt").write_text(str(exc), encoding="utf-8")
    (tmp / "run.json").write_text(run.model_dump_json(indent=2), encoding="utf-8")
    if final.exists():
        shutil.rmtree(final)
    tmp.rename(final)
    return str(final)


def _worker_init(parent: int) -> None:
    """A pool worker: Ctrl-C and SIGTERM are the parent's to handle, and it dies with its parent."""
    from swarm.runtime.shard_worker import _die_with_parent

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler, inherited by fork
    _die_with_parent(parent)  # Linux: killed when the parent dies, even by kill -9


def run_sweep(
    runs: Sequence[RunSpec],
    out: Path,
    *,
    workers: int | None = None,
    backend: str = "process",
    max_runs: int | None = None,
    on_done: Callable[[RunSpec], None] | None = None,
) -> int:
    """Run every unfinished run; returns how many ran now. Finished runs are skipped.

    ``max_runs`` stops after that many new runs (an interrupted sweep, on purpose).
    Ctrl-C (or SIGTERM, in the ``swarm`` command) stops the pool at once: runs in
    flight are abandoned (their partial directories never look finished) and a
    later call finishes the rest. The workers die with this process, even when it
    is killed with kill -9 (Linux).
    """
    todo = [r for r in runs if not (r.directory(out) / "summary.json").exists()]
    if max_runs is not None:
        todo = todo[:max_runs]
    out.mkdir(parents=True, exist_ok=True)
    if backend == "ray":
        return _run_ray(todo, out, on_done)
    if not todo:
        return 0
    done = 0
    with ProcessPoolExecutor(
        max_workers=workers or os.cpu_count() or 1, initializer=_worker_init, initargs=(os.getpid(),)
    ) as pool:
        pending: dict[Future[str], RunSpec] = {}
        queue = list(todo)
        try:
            while queue or pending:
                while queue and len(pending) < (workers or os.cpu_count() or 1) * 2:
                    r = queue.pop(0)
                    pending[pool.submit(execute_run, r, str(out))] = r
                finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for fut in finished:
                    r = pending.pop(fut)
                    fut.result()
                    done += 1
                    if on_done is not None:
                        on_done(r)
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (the command maps it to Ctrl-C)
            for fut in pending:
                fut.cancel()
            # Runs in flight are abandoned now (their partial folders never look finished).
            for process in list(getattr(pool, "_processes", {}).values()):
                process.kill()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return done


def _run_ray(todo: Sequence[RunSpec], out: Path, on_done: Callable[[RunSpec], None] | None) -> int:
    try:
        import ray
    except ImportError:
        raise ScenarioError(
            "--backend", "ray", "ray is not installed", "pip install 'swarm-sandbox[ray]'"
        ) from None
    ray.init(ignore_reinit_error=True)
    remote = ray.remote(execute_run)
    refs = {remote.remote(r, str(out)): r for r in todo}
    done = 0
    while refs:
        ready, _ = ray.wait(list(refs), num_returns=1)
        for ref in ready:
            ray.get(ref)
            done += 1
            if on_done is not None:
                on_done(refs.pop(ref))
    return done
