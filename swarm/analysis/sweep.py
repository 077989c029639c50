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
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from swarm.errors import ScenarioError
from swarm.scenario import load_scenario


class Configuration(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_.+\-]+$")
    set_: dict[str, Any] = Field(default_factory=dict, alias="set")

    def overrides(self) -> list[str]:
        return [f"{k}={json.dumps(v)}" for k, v in self.set_.items()]


class SweepSpec(BaseModel):
    """A validated sweep file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "sweep"
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
        return v

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
                        {"name": _safe(name), "set": dict(zip(keys, combo, strict=True))}
                    )
                )
        if not out:
            out.append(Configuration(name="base"))
        names = [c.name for c in out]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"configuration names must be unique: {', '.join(duplicates)}")
        return out


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "_.+-=" else "_" for ch in name).replace("=", "-")


def load_sweep(path: str | Path) -> tuple[SweepSpec, Path]:
    """Read and validate a sweep file; returns the spec and the base scenario's resolved path."""
    p = Path(path)
    if not p.is_file():
        raise ScenarioError(str(p), None, "file not found", "a sweep YAML file")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ScenarioError(str(p), None, f"malformed YAML: {exc}", "valid YAML") from None
    try:
        spec = SweepSpec.model_validate(data)
        spec.expanded()
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(x) for x in err["loc"])
        raise ScenarioError(
            str(p), key, str(err["msg"]).removeprefix("Value error, "), "see docs/sweeps.md"
        ) from None
    except ValueError as exc:
        raise ScenarioError(str(p), "configurations", str(exc), "unique names") from None
    base = (p.parent / spec.base).resolve()
    return spec, base


class RunSpec(BaseModel):
    """One run of a sweep."""

    model_config = ConfigDict(frozen=True)

    configuration: str
    seed: int
    base: str
    overrides: list[str]

    def directory(self, out: Path) -> Path:
        return out / "runs" / self.configuration / f"seed-{self.seed}"


def plan(spec: SweepSpec, base: Path) -> list[RunSpec]:
    """Every (configuration, seed) run, configurations in file order; each override validated now."""
    common = []
    if spec.epochs is not None:
        common.append(f"simulation.n_epochs={spec.epochs}")
    if spec.steps is not None:
        common.append(f"simulation.steps_per_epoch={spec.steps}")
    runs: list[RunSpec] = []
    for config in spec.expanded():
        overrides = [*common, *config.overrides()]
        load_scenario(base, overrides)
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


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


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
    Ctrl-C stops the pool cleanly: runs in flight are abandoned (their partial
    directories never look finished) and a later call finishes the rest.
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
    with ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1, initializer=_ignore_sigint) as pool:
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
        except KeyboardInterrupt:
            for fut in pending:
                fut.cancel()
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
