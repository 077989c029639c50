"""The ``swarm sweep``, ``swarm report`` and ``swarm export`` commands."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from swarm.cli import EXIT_INPUT, EXIT_INTERRUPTED, app, err, fail_input, out, resolve_scenario_path

if TYPE_CHECKING:
    from swarm.analysis.sweep import SweepSpec

# Registering these commands must not cost the others: each imports what it uses when it runs.


def _vary_spec(scenario: str, vary: list[str], seeds: int) -> tuple[SweepSpec, Path]:
    from pydantic import ValidationError

    from swarm.analysis.sweep import SweepSpec, safe_name
    from swarm.errors import ScenarioError
    from swarm.limits import check_numbers, check_runs

    axes: dict[str, list[object]] = {}
    for item in vary:
        key, sep, values = item.partition("=")
        if not sep or not values:
            raise ScenarioError(
                "--vary", item, "expected KEY=v1,v2,...", "e.g. governance.audit_probability=0,0.2"
            )
        if key in axes:
            raise ScenarioError(
                "--vary", key, "given twice", "each key in one --vary, its values joined by commas"
            )
        axes[key] = [_vary_value(v) for v in values.split(",")]
    check_numbers(axes, lambda loc: ("--vary", None))
    base = resolve_scenario_path(scenario).resolve()
    try:
        spec = SweepSpec.model_validate(
            {"name": safe_name(base.stem), "base": str(base), "seeds": seeds, "vary": axes}
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        key = "--vary" if err["loc"][:1] == ("vary",) else "--seeds"
        raise ScenarioError(
            key, None, str(err["msg"]).removeprefix("Value error, "), "see docs/sweeps.md"
        ) from None
    check_runs(spec.run_count(), "--vary", "--seeds")
    return spec, base


def _vary_value(text: str) -> object:
    """A --vary value: a number or a boolean where it reads as one, else the text."""
    if text in ("true", "false") or text.replace(".", "", 1).lstrip("-").isdigit():
        try:
            return json.loads(text)
        except ValueError:  # a number too long to read (Python's 4,300-digit limit)
            return text
    return text


@app.command()
def sweep(
    target: Annotated[str, typer.Argument(help="A sweep YAML file, or a scenario with --vary.")],
    vary: Annotated[
        list[str] | None, typer.Option(help="KEY=v1,v2,... (repeatable; cartesian product).")
    ] = None,
    seeds: Annotated[int, typer.Option(min=1, help="Seeds per configuration with --vary.")] = 5,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Parallel processes (default: all cores).")
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Output directory (default runs/sweep-<name>).")
    ] = None,
    backend: Annotated[str, typer.Option(help="process (default) or ray.")] = "process",
    max_runs: Annotated[
        int | None, typer.Option(min=0, help="Stop after this many new runs (resume later).")
    ] = None,
) -> None:
    """Run configurations x seeds in parallel (resumable); write runs and aggregate tables."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from swarm.analysis.aggregate import aggregate, collect, write_tables
    from swarm.analysis.sweep import RunSpec, load_sweep, plan, run_sweep
    from swarm.errors import ScenarioError

    if backend not in ("process", "ray"):
        err.print(f"--backend {backend}: expected process or ray")
        raise typer.Exit(EXIT_INPUT)
    try:
        spec, base = _vary_spec(target, vary, seeds) if vary else load_sweep(target)
        runs: list[RunSpec] = plan(spec, base, source=target if not vary else "--vary")
    except ScenarioError as exc:
        raise fail_input(exc) from None
    target_dir = out_dir or Path("runs") / f"sweep-{spec.name}"
    from swarm.runtime.rundir import check_path

    try:
        check_path(target_dir, "--out")
    except ScenarioError as exc:
        raise fail_input(exc) from None
    if target_dir.exists() and not target_dir.is_dir():
        err.print(f"--out {target_dir}: not a directory (expected a sweep's output directory)")
        raise typer.Exit(EXIT_INPUT)
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        err.print(f"--out {target_dir}: cannot be created ({exc.strerror or exc})", markup=False)
        raise typer.Exit(EXIT_INPUT) from None
    todo = [r for r in runs if not (r.directory(target_dir) / "summary.json").exists()]
    out.print(f"{len(runs)} runs ({len(runs) - len(todo)} already finished) into {target_dir}", markup=False)
    with Progress(
        TextColumn("runs"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("sweep", total=len(runs), completed=len(runs) - len(todo))
        try:
            run_sweep(
                runs,
                target_dir,
                workers=workers,
                backend=backend,
                max_runs=max_runs,
                on_done=lambda _: bar.advance(task),
            )
        except KeyboardInterrupt:
            err.print("interrupted: finished runs are kept; run the same command again to finish the rest")
            raise typer.Exit(EXIT_INTERRUPTED) from None
    from swarm.analysis.report import ReportError

    try:
        rows = collect(runs, target_dir)
        written = write_tables(target_dir, rows, aggregate(rows))
    except ReportError as exc:
        raise fail_input(exc) from None
    for path in written:
        out.print(f"wrote {path}", markup=False)


def _is_sweep(directory: Path) -> bool:
    return (directory / "aggregate.csv").is_file()


def _is_run(directory: Path) -> bool:
    return (directory / "events.jsonl").is_file() or (directory / "summary.json").is_file()


def _report_sweep(directory: Path, plots: bool) -> None:
    from rich.table import Table

    from swarm.analysis.report import plot_sweep, table_rows

    table = Table("configuration", "metric", "n", "mean", "95% CI")
    for row in table_rows(directory):
        table.add_row(
            row["configuration"],
            row["metric"],
            str(row["n"]),
            f"{row['mean']:.4f}",
            f"[{row['ci_low']:.4f}, {row['ci_high']:.4f}]",
        )
    out.print(table)
    if plots:
        for path in plot_sweep(directory):
            out.print(f"wrote {path}", markup=False)


def _report_run(directory: Path, plots: bool) -> None:
    from rich.table import Table

    from swarm.analysis.history import load_run
    from swarm.analysis.run_report import plotted_metrics, report_run

    history = load_run(directory)
    shown = [name for name, _ in plotted_metrics() if name in history.epochs.columns]
    table = Table("epoch", *shown)
    for row in history.epochs.to_dict("records"):
        table.add_row(str(row["epoch"]), *(_figure(row[name]) for name in shown))
    out.print(table)
    out.print(f"ended: {history.reason or 'no run_ended in the log (the run did not finish)'}", markup=False)
    if plots:
        for path in report_run(directory):
            out.print(f"wrote {path}", markup=False)


def _figure(value: object) -> str:
    return f"{value:.4f}" if isinstance(value, float) and value == value else "—"


# What `swarm report` takes, tried in order: (test, report, what the folder must hold).
def _is_fork_set(directory: Path) -> bool:
    from swarm.analysis.forks import is_fork_set

    return is_fork_set(directory)


def _report_forks(directory: Path, plots: bool) -> None:
    from swarm.runtime.commands import print_comparison

    print_comparison(directory)


_REPORTS: tuple[tuple[Callable[[Path], bool], Callable[[Path, bool], None], str], ...] = (
    (_is_fork_set, _report_forks, "a fork set (with fork.json, from `swarm fork`)"),
    (_is_sweep, _report_sweep, "a sweep's output folder (with aggregate.csv, from `swarm sweep`)"),
    (_is_run, _report_run, "a run folder (with events.jsonl, from `swarm run`)"),
)


@app.command()
def report(
    directory: Annotated[Path, typer.Argument(help="A sweep's output folder, a run folder or a fork set.")],
    plots: Annotated[bool, typer.Option(help="Write PNG plots (and a run's HTML report).")] = True,
) -> None:
    """Report on a sweep (aggregate table, plots) or one run (plots and an HTML page in RUN_DIR/report)."""
    from swarm.analysis.report import ReportError
    from swarm.errors import LogError

    for matches, make, _ in _REPORTS:
        if matches(directory):
            try:
                make(directory, plots)
            except (ReportError, LogError) as exc:
                raise fail_input(exc) from None
            return
    expected = " or ".join(what for _, _, what in _REPORTS)
    err.print(f"{directory}: nothing to report on: expected {expected}", markup=False, soft_wrap=True)
    raise typer.Exit(EXIT_INPUT)


@app.command("export")
def export_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (or its events.jsonl).")],
    fmt: Annotated[str, typer.Option("--format", help="json, csv or parquet.")] = "csv",
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Where to write (default RUN_DIR/export).")
    ] = None,
) -> None:
    """Export a run's epochs, interactions, agents and agent_epochs as tables (schema: docs/export.md)."""
    from swarm.analysis.export import export_run
    from swarm.errors import LogError, ScenarioError

    if fmt not in ("json", "csv", "parquet"):
        err.print(f"--format {fmt}: expected json, csv or parquet")
        raise typer.Exit(EXIT_INPUT)
    try:
        if out_dir is not None:
            from swarm.runtime.rundir import check_path

            check_path(out_dir, "--out")
            if out_dir.exists() and not out_dir.is_dir():
                raise ScenarioError(
                    "--out", str(out_dir), "is a file, not a folder", "a folder for the tables"
                )
        for path in export_run(run_dir, fmt, out_dir):  # type: ignore[arg-type]
            out.print(f"wrote {path}", markup=False)
    except (LogError, ScenarioError) as exc:
        raise fail_input(exc) from None
    except OSError as exc:  # a folder that cannot be created or written
        err.print(f"{exc.filename or out_dir}: cannot be written ({exc.strerror or exc})", markup=False)
        raise typer.Exit(EXIT_INPUT) from None
