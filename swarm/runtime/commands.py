"""The ``swarm resume`` and ``swarm fork`` commands (docs/reliability.md#checkpoints-resume-and-forks)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from swarm.cli import EXIT_BUDGET, EXIT_CRITERIA, EXIT_INTERRUPTED, EXIT_RUN, app, err, fail_input, out

if TYPE_CHECKING:
    from swarm.agents.llm_backend import LLMBackend
    from swarm.runtime.result import SimulationResult
    from swarm.runtime.simulation import Simulation
    from swarm.scenario import Scenario

# Registering these commands must not cost the others: each imports what it uses when it runs.


def _backend(scenario: Scenario, replay_llm: Path | None) -> LLMBackend | None:
    if replay_llm is None and not any(a.type == "llm" for a in scenario.agents):
        return None
    from adapters import LLMError
    from swarm.agents.llm_backend import LLMBackend

    try:
        backend = LLMBackend(replay=str(replay_llm) if replay_llm else None)
        backend.check(scenario)
    except LLMError as exc:
        raise fail_input(exc) from None
    return backend


_SHARDS_HELP = "Spread the agents over this process and N-1 workers (default: as the checkpoint records)."
_BACKEND_HELP = "Where shards 2..N run: processes, or ray (default: as the checkpoint records)."


def _sharding(shards: int | None, backend: str | None) -> dict[str, object]:
    """``--shards``/``--backend`` as Simulation arguments (absent: the checkpoint's); exit 2 when unusable."""
    if backend is not None:
        from swarm.runtime.shards import check_sharding

        try:
            check_sharding(shards or 1, backend)
        except ValueError as exc:
            raise fail_input(exc) from None
    return {"shards": shards, "shard_backend": backend}


def _drive(
    make: Callable[[LLMBackend | None], Simulation],
    scenario: Scenario,
    backend: LLMBackend | None,
    *,
    stream: bool,
    progress: bool,
) -> SimulationResult:
    """Run the simulation ``make`` builds, printing as ``swarm run`` does; exit codes as it does."""
    import anyio

    from swarm.cli import _interruptible, _run_with_output
    from swarm.errors import SwarmError
    from swarm.runtime.simulation import SimulationError

    async def main() -> SimulationResult:
        try:
            if backend is not None:
                await backend.prepare(scenario)
            sim = make(backend)
            return await _interruptible(
                sim, _run_with_output(sim, stream=stream, log_json=False, progress=progress)
            )
        finally:
            if backend is not None:
                await backend.aclose()

    try:
        return anyio.run(main)
    except SimulationError as exc:
        err.print(str(exc), markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_RUN) from None
    except (SwarmError, ValueError) as exc:
        raise fail_input(exc) from None
    finally:
        if backend is not None:
            backend.close()


@app.command()
def resume(
    run_dir: Annotated[Path, typer.Argument(help="The folder of a run that was interrupted or killed.")],
    epoch: Annotated[
        int | None,
        typer.Option(help="Go on from the checkpoint at this epoch rather than the last usable one."),
    ] = None,
    replay_llm: Annotated[
        Path | None,
        typer.Option("--replay-llm", help="The cassette the run replayed its LLM answers from, if any."),
    ] = None,
    stream: Annotated[bool, typer.Option(help="Print every event as it happens.")] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on long runs.")] = True,
    shards: Annotated[int | None, typer.Option(min=1, help=_SHARDS_HELP, show_default=False)] = None,
    shard_backend: Annotated[
        str | None, typer.Option("--backend", help=_BACKEND_HELP, show_default=False)
    ] = None,
) -> None:
    """Go on with a run from its last checkpoint; its log ends as an uninterrupted run's would."""
    from swarm.errors import SwarmError
    from swarm.runtime.simulation import Simulation, _read_run, _scenario_of

    try:
        scenario = _scenario_of(*_read_run(run_dir))
    except (SwarmError, ValueError) as exc:
        raise fail_input(exc) from None
    sharding = _sharding(shards, shard_backend)
    backend = _backend(scenario, replay_llm)
    try:
        sim = Simulation.resume_run(run_dir, epoch=epoch, llm_factory=backend, **sharding)
    except (SwarmError, ValueError) as exc:
        if backend is not None:
            backend.close()
        raise fail_input(exc) from None
    over = f" over {sim.shards} shards" if sim.shards > 1 else ""
    err.print(f"resuming {run_dir} with epoch {sim.resumed_from} (its checkpoint){over}", markup=False)
    _exit_for(_drive(lambda _: sim, scenario, backend, stream=stream, progress=progress))


def _exit_for(result: SimulationResult) -> None:
    """The exit code of a finished run, as ``swarm run`` gives it."""
    if result.reason == "interrupted":
        err.print("interrupted: the log ends with run_ended(reason=interrupted)", markup=False)
        raise typer.Exit(EXIT_INTERRUPTED)
    if result.reason == "llm_budget":
        raise typer.Exit(EXIT_BUDGET)
    if not result.passed:
        raise typer.Exit(EXIT_CRITERIA)


@app.command()
def fork(
    run_dir: Annotated[Path, typer.Argument(help="The folder of a run written with checkpoints.")],
    at_epoch: Annotated[
        int, typer.Option("--at-epoch", min=1, help="Branch off when this many epochs are done.")
    ],
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="KEY.PATH=VALUE change from the fork on (repeatable).")
    ] = None,
    epochs: Annotated[int | None, typer.Option(help="Run the branches to this many epochs in all.")] = None,
    seeds: Annotated[
        int,
        typer.Option(
            min=0,
            help="Also run N paired branches and continuations with fresh random streams (a 95% interval).",
        ),
    ] = 0,
    name: Annotated[str | None, typer.Option(help="The fork set's folder name under RUN_DIR/forks.")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="The fork set's folder (instead).")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace a fork set of the same name.")] = False,
    replay_llm: Annotated[
        Path | None, typer.Option("--replay-llm", help="Serve LLM answers from this cassette.")
    ] = None,
    shards: Annotated[int | None, typer.Option(min=1, help=_SHARDS_HELP, show_default=False)] = None,
    shard_backend: Annotated[
        str | None, typer.Option("--backend", help=_BACKEND_HELP, show_default=False)
    ] = None,
) -> None:
    """Branch a run at an epoch with changed parameters, and compare the branch with the original."""
    from swarm.analysis import forks
    from swarm.errors import SwarmError
    from swarm.runtime import checkpoint as ck
    from swarm.runtime.rundir import prepare_run_dir
    from swarm.runtime.simulation import Simulation, _read_run, _scenario_of

    changes = list(set_ or [])
    sharding = _sharding(shards, shard_backend)
    try:
        header, log = _read_run(run_dir)
        original = _scenario_of(header, log)
        extra = [f"simulation.n_epochs={epochs}"] if epochs is not None else []
        changed = original.with_overrides([*changes, *extra]) if changes or extra else original
        if at_epoch >= changed.simulation.n_epochs:
            raise ck.CheckpointError(
                f"--at-epoch {at_epoch}: the branch would have no epoch left to run "
                f"(it runs to epoch {changed.simulation.n_epochs}; raise --epochs)"
            )
        ck.check_fork(original, changed)
        ck.choose(run_dir, log, header.run_id, at_epoch, exact=True)
        target = out_dir or run_dir / "forks" / (name or forks.default_name(at_epoch, changes))
        if name is not None and ("/" in name or name in (".", "..") or "\0" in name):
            raise ck.CheckpointError(f"--name {name!r}: a plain folder name, please")
        target = prepare_run_dir(target, overwrite=overwrite, option="--out")
    except (SwarmError, ValueError) as exc:
        raise fail_input(exc) from None
    seed_list = forks.fork_seeds(original.simulation.seed, seeds) if seeds else None
    plan: list[tuple[str, Scenario]] = []
    if seed_list is None:
        plan.append(("branch", changed))
    else:
        for s in seed_list:
            plan.append((f"continuation-seed-{s}", original.with_overrides([f"simulation.seed={s}", *extra])))
            plan.append((f"branch-seed-{s}", changed.with_overrides([f"simulation.seed={s}"])))
    target.mkdir(parents=True, exist_ok=True)
    manifest = forks.ForkSet(
        run=str(run_dir),
        at_epoch=at_epoch,
        changes=changes + extra,
        seeds=seed_list,
        branches=[label for label, _ in plan if label.startswith("branch")],
        continuations=[label for label, _ in plan if label.startswith("continuation")],
    )
    manifest.save(target)
    for label, scenario in plan:
        err.print(f"{label}: epochs {at_epoch}..{scenario.simulation.n_epochs - 1}", markup=False)
        backend = _backend(scenario, replay_llm)
        branch_dir = target / label

        def make(llm: LLMBackend | None, sc: Scenario = scenario, where: Path = branch_dir) -> Simulation:
            return Simulation.fork(
                run_dir, at_epoch=at_epoch, scenario=sc, out_dir=where, llm_factory=llm, **sharding
            )

        result = _drive(make, scenario, backend, stream=False, progress=True)
        if result.reason in ("interrupted", "llm_budget"):
            _exit_for(result)  # the branches finished so far are kept; the comparison needs them all
    print_comparison(target)


def print_comparison(folder: Path) -> None:
    """The fork set's comparison table (and ``comparison.csv`` beside it)."""
    from rich.table import Table

    from swarm.analysis import forks

    try:
        fs, diffs = forks.compare(folder)
        path = forks.write_comparison(folder)
    except (OSError, ValueError, forks.ForkSetError) as exc:
        raise fail_input(exc) from None
    out.print(forks.describe(fs), markup=False, soft_wrap=True)
    table = Table("metric", "n", "continuation", "branch", "difference", "95% CI")
    for d in diffs:
        ci = f"[{d.ci_low:+.4f}, {d.ci_high:+.4f}]" if d.n > 1 else "—"
        table.add_row(d.metric, str(d.n), f"{d.continuation:.4f}", f"{d.branch:.4f}", f"{d.mean:+.4f}", ci)
    out.print(table)
    out.print(f"wrote {path}", markup=False)
