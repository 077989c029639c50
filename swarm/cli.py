"""The ``swarm`` command: run, replay and list scenarios (and more, registered below).

Exit codes (every command; the ``EXIT_*`` constants below, docs/reliability.md):
0 success; 1 a scenario's success criteria failed or a verification found a
difference; 2 bad input (scenario, log, arguments); 3 the run failed; 4 a run
stopped by its LLM budget; 130 interrupted (Ctrl-C or SIGTERM).
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from rich.progress import Progress

    from swarm.agents.llm_backend import LLMBackend
    from swarm.events import Event
    from swarm.runtime.result import SimulationResult
    from swarm.runtime.simulation import Simulation
    from swarm.scenario import Scenario

# Start-up is part of every command: what a command needs is imported inside it
# (the simulation, the scenario schema, logging, the LLM adapters, sweeps), so
# `swarm --help` and `swarm list` pay only for what they use (see
# tests/swarm/test_cli_imports.py).

app = typer.Typer(
    name="swarm",
    help="SWARM: simulate economies of interacting agents and measure what goes wrong.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


@app.callback()
def _before_every_command(ctx: typer.Context) -> None:
    # Run by every command (not by --help): the built-ins register first, in
    # their fixed order, before a command imports anything (see swarm/__init__.py).
    # `list` loads them itself, and only when it has to validate the scenarios again.
    if ctx.invoked_subcommand == "list":
        return
    from swarm.registry import load_builtins

    load_builtins()


# The exit-code contract of every command, in one place (docs/reliability.md).
EXIT_OK = 0
"""Done."""
EXIT_CRITERIA = 1
"""A success criterion failed, or a verification found a difference."""
EXIT_INPUT = 2
"""Bad input (a file, an argument, a log): the message names the file, line or key path; no traceback."""
EXIT_RUN = 3
"""The run failed (its event log up to the failure is kept and readable), or an unexpected error."""
EXIT_BUDGET = 4
"""A run stopped by its LLM budget (``llm.max_cost_usd``): finished cleanly, but not to its end."""
EXIT_INTERRUPTED = 130
"""Interrupted by Ctrl-C or SIGTERM: the log ends with ``run_ended(reason="interrupted")``."""


def _log() -> Any:
    """The CLI's structlog logger (structlog is imported by the commands that log)."""
    import structlog

    return structlog.get_logger("swarm")


def configure_logging(json_lines: bool) -> None:
    """Console logging for the CLI: pretty in a terminal, JSON lines with ``--log-json``."""
    import logging

    import structlog

    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json_lines
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.INFO),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )


def fail_input(exc: Exception) -> typer.Exit:
    err.print(str(exc), markup=False, soft_wrap=True)
    return typer.Exit(EXIT_INPUT)


def scenarios_dir() -> Path:
    """The shipped scenarios: ``./scenarios`` when present, else the ones beside the package."""
    here = Path("scenarios")
    if here.is_dir():
        return here
    return Path(__file__).resolve().parent.parent / "scenarios"


def resolve_scenario_path(name: str) -> Path:
    """A path as given, or the name of a shipped scenario (``baseline``)."""
    p = Path(name)
    if p.exists() or p.suffix in (".yaml", ".yml"):
        return p
    return scenarios_dir() / f"{name}.yaml"


def load_for_cli(
    scenario: str, seed: int | None, epochs: int | None, steps: int | None, sets: list[str]
) -> Scenario:
    from swarm.scenario import load_scenario

    overrides = list(sets)
    if seed is not None:
        overrides.append(f"simulation.seed={seed}")
    if epochs is not None:
        overrides.append(f"simulation.n_epochs={epochs}")
    if steps is not None:
        overrides.append(f"simulation.steps_per_epoch={steps}")
    return load_scenario(resolve_scenario_path(scenario), overrides)


def _fmt(x: float | None, digits: int = 4) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def render_event(event: Event) -> str:
    """One human-readable line per event, for ``--stream`` and ``tail``."""
    import msgspec

    from swarm.events import EpochCompleted

    data = {k: v for k, v in msgspec.to_builtins(event).items() if k not in ("seq", "epoch", "step", "type")}
    if isinstance(event, EpochCompleted):
        m = event.metrics
        body = (
            f"interactions={m['interactions']} accepted={m['accepted']} "
            f"toxicity={_fmt(m['toxicity_rate'])} welfare={m['total_welfare']:.2f}"
        )
    else:
        body = " ".join(f"{k}={_short(v)}" for k, v in data.items() if k != "wall_clock")
    kind = getattr(event, "type", type(event).__name__)
    return f"[{event.epoch:>3}.{event.step:<3}] #{event.seq:<6} {kind:<22} {body}"


TABLE_COLUMNS = ("interactions", "accepted", "toxicity_rate", "quality_gap", "total_welfare")


def table_header(extra: list[str]) -> str:
    head = "epoch interactions accepted  toxicity quality_gap   welfare"
    return head + "".join(f" {name:>12}" for name in extra)


def epoch_row(epoch: int, m: dict[str, Any], extra: list[str]) -> str:
    """One line of the per-epoch table ("-" where a metric is undefined)."""
    tox, gap = _fmt(m["toxicity_rate"]), _fmt(m["quality_gap"])
    row = f"{epoch:>5} {m['interactions']:>12} {m['accepted']:>8} {tox:>9} {gap:>11}"
    row += f" {m['total_welfare']:>9.2f}"
    for name in extra:
        value = m.get(name)
        row += f" {value:>12.4g}" if isinstance(value, int | float) else f" {'-':>12}"
    return row


def _short(v: Any) -> str:
    text = json.dumps(v, separators=(",", ":")) if isinstance(v, dict | list) else str(v)
    return text if len(text) <= 80 else text[:77] + "..."


async def _run_with_output(
    sim: Simulation,
    *,
    stream: bool,
    log_json: bool,
    progress: bool,
    dashboard: dict[str, Any] | None = None,
) -> SimulationResult:
    import msgspec

    from swarm.events import EpochCompleted, RunEnded

    sc = sim.scenario
    total = sc.simulation.n_epochs
    extra = [m for m in sc.metrics_to_track if m not in TABLE_COLUMNS]
    if not stream:
        out.print(table_header(extra), markup=False)
    bar: Progress | None = None
    task = None
    if progress and not stream and out.is_terminal and total * sc.simulation.steps_per_epoch >= 200:
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        bar = Progress(
            TextColumn("epochs"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeRemainingColumn(),
            console=err,
            transient=True,
        )
        bar.start()
        task = bar.add_task("run", total=total)
    try:
        async with sim, _live_dashboard(sim, dashboard) as observe:
            async for event in sim.events():
                if observe is not None:
                    observe(event)
                if stream:
                    if log_json:
                        out.print(msgspec.json.encode(event).decode(), markup=False, soft_wrap=True)
                    else:
                        out.print(render_event(event), markup=False, soft_wrap=True)
                elif isinstance(event, EpochCompleted):
                    out.print(epoch_row(event.epoch, event.metrics, extra), markup=False)
                    if bar is not None and task is not None:
                        bar.advance(task)
                if isinstance(event, RunEnded):
                    break
    finally:
        if bar is not None:
            bar.stop()
    return sim.result


def print_summary(result: SimulationResult) -> None:
    from rich.table import Table

    from swarm.metrics.registry import RUN_FIGURES

    s = result.summary
    table = Table(title=f"{result.scenario_id} (seed {result.seed}): {result.reason}", show_header=False)
    table.add_row("epochs", str(s["epochs"]))
    table.add_row("interactions (accepted)", f"{s['total_interactions']} ({s['accepted']})")
    for name, fig in RUN_FIGURES.items():
        if fig.headline:
            value = s.get(name)
            table.add_row(fig.description, _fmt(value if isinstance(value, int | float) else None))
    if result.llm is not None:
        _llm_rows(table, result.llm)
    out.print(table)
    for c in result.criteria:
        out.print(
            f"[{'green' if c.passed else 'red'}]{'PASS' if c.passed else 'FAIL'}[/] {c.name}: {c.detail}"
        )


def _llm_rows(table: Any, llm: dict[str, Any]) -> None:
    """The LLM calls' health and cost, in the summary table."""
    calls = llm["calls"]
    table.add_row(
        "LLM calls (failed, repaired, fallbacks)",
        f"{calls} ({llm['failed']}, {llm['repaired']}, {llm['fallbacks']})",
    )
    if llm["rate_limited"]:
        table.add_row("LLM requests refused for their rate (429)", str(llm["rate_limited"]))
    causes = llm["failures_by_cause"]
    if causes:
        table.add_row("LLM failures by cause", ", ".join(f"{c} {n}" for c, n in causes.items()))
    table.add_row("LLM tokens (in / out)", f"{llm['input_tokens']} / {llm['output_tokens']}")
    budget = llm["budget_usd"]
    cost = f"{llm['cost_usd']:.4f}" + (f" of {budget:g}" if budget is not None else "")
    table.add_row("LLM cost, USD", cost)
    for model, m in llm["by_model"].items():
        table.add_row(f"  {model}", f"{m['calls']} calls, {m['cost_usd']:.4f} USD")
    if llm["unpriced_models"]:
        table.add_row("LLM models without a price", ", ".join(llm["unpriced_models"]))


@app.command()
def run(
    scenario: Annotated[str, typer.Argument(help="A scenario YAML path, or the name of a shipped one.")],
    seed: Annotated[int | None, typer.Option(help="Override simulation.seed.")] = None,
    epochs: Annotated[int | None, typer.Option(help="Override simulation.n_epochs.")] = None,
    steps: Annotated[int | None, typer.Option(help="Override simulation.steps_per_epoch.")] = None,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="KEY.PATH=VALUE override (repeatable).")
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Output directory (default runs/<scenario>-<seed>).")
    ] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace the run files in an --out folder that holds some.")
    ] = False,
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh", help="If --out holds something, write into the first free NAME-2, NAME-3, ..."
        ),
    ] = False,
    stream: Annotated[bool, typer.Option(help="Print every event as it happens.")] = False,
    log_json: Annotated[
        bool, typer.Option("--log-json", help="JSON lines instead of pretty output.")
    ] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on long runs.")] = True,
    record_llm: Annotated[
        Path | None, typer.Option("--record-llm", help="Record every LLM exchange to this cassette.")
    ] = None,
    replay_llm: Annotated[
        Path | None,
        typer.Option("--replay-llm", help="Serve LLM answers from this cassette (no network, no keys)."),
    ] = None,
    llm_workers: Annotated[
        int | None,
        typer.Option(
            "--llm-workers",
            min=1,
            help=(
                "Worker processes for live LLM requests (SDK requests cost CPU). Default: one per 50 LLM "
                "agents of a provider, at most one per core; 1 sends them from this process."
            ),
            show_default="auto",
        ),
    ] = None,
    shards: Annotated[
        int,
        typer.Option(
            min=1,
            help="Spread the agents over this process and N-1 workers (the event log is the same).",
        ),
    ] = 1,
    shard_backend: Annotated[
        str,
        typer.Option("--backend", help="Where shards 2..N run: processes, or ray (the ray extra)."),
    ] = "processes",
    balance: Annotated[
        bool,
        typer.Option(
            "--balance/--no-balance",
            help="With --shards: move agents between shards between steps so they finish together.",
        ),
    ] = True,
    checkpoint_every: Annotated[
        int,
        typer.Option(
            "--checkpoint-every",
            min=0,
            help="Write a checkpoint every N epochs for `swarm resume` and `swarm fork` (0: none).",
        ),
    ] = 1,
    keep_checkpoints: Annotated[
        int | None,
        typer.Option(
            "--keep-checkpoints", min=1, help="Keep only the last N checkpoints.", show_default="all"
        ),
    ] = None,
    dashboard: Annotated[
        bool, typer.Option("--dashboard", help="Serve a live web page of the run, with controls.")
    ] = False,
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="With --dashboard: its port (0: any free one).")
    ] = 8050,
    host: Annotated[
        str, typer.Option(help="With --dashboard: its address; other than loopback, anyone can use it.")
    ] = "127.0.0.1",
    paused: Annotated[
        bool, typer.Option("--paused", help="With --dashboard: start paused (press resume on the page).")
    ] = False,
) -> None:
    """Run a scenario: per-epoch table, then events.jsonl, metrics.csv and summary.json in --out."""
    from swarm.errors import ScenarioError, SwarmError

    live = _dashboard_options(dashboard, port, host, paused)
    try:
        sc = load_for_cli(scenario, seed, epochs, steps, set_ or [])
        if shards != 1 or shard_backend != "processes":
            from swarm.runtime.shards import check_sharding

            check_sharding(shards, shard_backend)
        if record_llm is not None:
            _check_cassette_target(record_llm)
        backend = None
        if record_llm is not None or replay_llm is not None or any(a.type == "llm" for a in sc.agents):
            from adapters import LLMError
            from swarm.agents.llm_backend import LLMBackend

            try:
                backend = LLMBackend(
                    record=str(record_llm) if record_llm else None,
                    replay=str(replay_llm) if replay_llm else None,
                    workers=llm_workers,
                )
            except LLMError as exc:
                raise fail_input(exc) from None
        from swarm.runtime.rundir import create_run_dir, prepare_run_dir

        try:  # the inputs are good: now the folder (an earlier run in it is refused, not overwritten)
            target = prepare_run_dir(
                out_dir or Path("runs") / f"{sc.scenario_id}-{sc.simulation.seed}",
                overwrite=overwrite,
                fresh=fresh,
            )
            create_run_dir(target)
        except SwarmError:
            if backend is not None:
                backend.close()
            raise
        if backend is not None:
            # Worker processes start now and load their SDK while the run is set up.
            backend.fork_workers(sc)
    except (SwarmError, ValueError) as exc:
        raise fail_input(exc) from None
    configure_logging(log_json)
    _log().info("run started", scenario=sc.scenario_id, seed=sc.simulation.seed, out=str(target))
    from swarm.runtime.simulation import SimulationError

    began = time.time()
    try:
        result = _run_cli(
            sc,
            target,
            backend,
            stream=stream,
            log_json=log_json,
            progress=progress,
            shards=shards,
            shard_backend=shard_backend,
            shard_balance=balance,
            checkpoints=_checkpoints(checkpoint_every, keep_checkpoints),
            dashboard=live,
        )
    except _BadInput as exc:
        raise fail_input(exc.error) from None
    except ScenarioError as exc:
        raise fail_input(exc) from None
    except SimulationError as exc:
        err.print(str(exc), markup=False, soft_wrap=True)
        log = target / "events.jsonl"
        if log.exists() and log.stat().st_mtime >= began:  # this run's log, not an earlier run's
            err.print(
                f"the event log up to the failure is in {target / 'events.jsonl'}",
                markup=False,
                soft_wrap=True,
            )
        raise typer.Exit(EXIT_RUN) from None
    finally:
        if backend is not None:
            backend.close()
    if not stream:
        print_summary(result)
    _log().info(
        "run finished",
        reason=result.reason,
        events=str(target / "events.jsonl"),
        metrics=str(target / "metrics.csv"),
        summary=str(target / "summary.json"),
    )
    if result.reason == "interrupted":
        err.print(
            f"interrupted after {len(result.epochs)} epochs: {target / 'events.jsonl'} ends with "
            "run_ended(reason=interrupted) and summary.json says so",
            markup=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_INTERRUPTED)
    if result.reason == "llm_budget":
        err.print(
            f"the run stopped: its LLM calls cost {result.summary['llm_cost_usd']:.4f} USD, "
            f"the budget is {(result.llm or {}).get('budget_usd')} USD",
            markup=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_BUDGET)
    if not result.passed:
        raise typer.Exit(EXIT_CRITERIA)


def _dashboard_options(dashboard: bool, port: int, host: str, paused: bool) -> dict[str, Any] | None:
    """``--dashboard`` and its options (which mean nothing without it: exit 2)."""
    if not dashboard:
        given = [
            name
            for name, on in (("--port", port != 8050), ("--host", host != "127.0.0.1"), ("--paused", paused))
            if on
        ]
        if given:
            err.print(f"{given[0]} needs --dashboard", markup=False)
            raise typer.Exit(EXIT_INPUT)
        return None
    from swarm.dashboard.commands import check_installed

    check_installed()
    return {"host": host, "port": port, "paused": paused}


def _live_dashboard(
    sim: Simulation, options: dict[str, Any] | None
) -> AbstractAsyncContextManager[Callable[[Event], None] | None]:
    """With ``--dashboard``, the live page (its ``observe`` takes every event); else nothing."""
    if options is None:
        return contextlib.nullcontext(None)
    from swarm.dashboard.commands import watch

    return watch(sim, **options)


def _checkpoints(every: int, keep: int | None) -> dict[str, Any]:
    """The Simulation's checkpoint settings for ``--checkpoint-every``/``--keep-checkpoints``.

    A sharded run writes them too: its workers' agents are fetched into each one.
    """
    if every == 0:
        return {}
    return {"checkpoint_every": every, "keep_checkpoints": keep}


class _BadInput(Exception):
    """A problem with the user's input found once the event loop runs (exit 2)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _run_cli(
    sc: Scenario,
    target: Path,
    backend: LLMBackend | None,
    *,
    stream: bool,
    log_json: bool,
    progress: bool,
    shards: int = 1,
    shard_backend: str = "processes",
    shard_balance: bool = True,
    checkpoints: dict[str, Any] | None = None,
    dashboard: dict[str, Any] | None = None,
) -> SimulationResult:
    """Run ``sc`` in a fresh event loop; the LLM workers start first, while the simulation is set up."""
    import anyio

    async def main() -> SimulationResult:
        from swarm.errors import SwarmError

        try:
            if backend is not None:
                await backend.prepare(sc)
            from swarm.runtime.simulation import Simulation

            try:
                sim = Simulation(
                    sc,
                    out_dir=target,
                    llm_factory=backend,
                    shards=shards,
                    shard_backend=shard_backend,
                    shard_balance=shard_balance,
                    **(checkpoints or {}),
                )
            except (SwarmError, ValueError) as exc:
                raise _BadInput(exc) from None
            return await _interruptible(
                sim,
                _run_with_output(
                    sim, stream=stream, log_json=log_json, progress=progress, dashboard=dashboard
                ),
            )
        finally:
            if backend is not None:
                await backend.aclose()

    return anyio.run(main)


async def _interruptible(sim: Simulation, running: Awaitable[SimulationResult]) -> SimulationResult:
    """Await ``running``; Ctrl-C or SIGTERM ends the run as ``interrupted`` (its log and summary say so).

    The signal asks the clock to stop after the step under way (a Python-level
    handler: the kernel may not hand control back to the event loop for a while);
    a step that does not end within ``INTERRUPT_GRACE`` seconds (a hung LLM call,
    say), or a second signal, cancels the run at once. Either way the simulation
    writes ``run_ended(reason="interrupted")``, metrics.csv and summary.json (which
    does not claim success) before this returns.
    """
    import asyncio
    import signal
    import threading

    import anyio

    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        return await running
    loop = asyncio.get_running_loop()
    asked = anyio.Event()
    signals = 0

    def on_signal(signum: int, frame: object) -> None:
        nonlocal signals
        signals += 1
        sim._cancel_reason = "interrupted"
        clock = sim._clock
        if clock is not None and clock.stopped_by is None:
            clock.stopped_by = "interrupted"  # read by the clock after the step under way
        loop.call_soon_threadsafe(asked.set)  # safe in a signal handler; wakes an idle loop

    done: list[SimulationResult] = []
    failure: Exception | None = None
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        async with anyio.create_task_group() as tg:

            async def watch() -> None:
                await asked.wait()
                seen = signals
                with anyio.move_on_after(INTERRUPT_GRACE):
                    while signals == seen and sim._clock is not None:
                        await anyio.sleep(0.05)
                tg.cancel_scope.cancel()

            tg.start_soon(watch)
            try:
                done.append(await running)
            except Exception as exc:  # raised as it is, not in an exception group
                failure = exc
            tg.cancel_scope.cancel()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if failure is not None:
        raise failure
    if done:
        return done[0]
    try:
        return sim.result
    except RuntimeError:  # interrupted before the run began: nothing was written
        raise KeyboardInterrupt from None


INTERRUPT_GRACE = 3.0
"""Seconds a signalled run has to end its step before it is cancelled."""


def _rerun_with(cassette: Path | None) -> Callable[[Scenario, Path], None]:
    def rerun(scenario: Scenario, out_dir: Path) -> None:
        import anyio

        from swarm.agents.llm_backend import LLMBackend
        from swarm.runtime.simulation import Simulation

        backend = LLMBackend(replay=str(cassette)) if cassette is not None else None

        async def main() -> None:
            async with Simulation(scenario, out_dir=out_dir, llm_factory=backend) as sim:
                await sim.wait()

        anyio.run(main)

    return rerun


@app.command()
def replay(
    log_file: Annotated[Path, typer.Argument(help="An events.jsonl written by `swarm run`.")],
    verify: Annotated[bool, typer.Option(help="Also re-execute the scenario and compare the logs.")] = False,
    replay_llm: Annotated[
        Path | None, typer.Option("--replay-llm", help="The LLM cassette the run was recorded with.")
    ] = None,
) -> None:
    """Recompute every epoch's metrics from a log; with --verify, re-run it and compare line by line."""
    from swarm.errors import LogError, ScenarioError, SwarmError
    from swarm.runtime.replay import recompute, reexecute

    configure_logging(False)
    try:
        _epochs, n, mismatch = recompute(log_file)
    except (LogError, ScenarioError) as exc:
        raise fail_input(exc) from None
    if mismatch is not None:
        out.print(
            f"metrics differ at {mismatch.where}: logged {mismatch.expected}, recomputed {mismatch.found}",
            markup=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_CRITERIA)
    out.print(f"recomputed metrics of {n} epochs from the logged events: they match the log")
    if not verify:
        return
    try:
        lines, diff = reexecute(log_file, _rerun_with(replay_llm))
    except SwarmError as exc:
        raise fail_input(exc) from None
    if diff is not None:
        out.print(
            f"re-execution differs at {diff.where}:\n  logged:   {diff.expected}\n  replayed: {diff.found}",
            markup=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_CRITERIA)
    out.print(f"re-executed the scenario: all {lines} lines match the log (wall-clock fields aside)")


@app.command("list")
def list_scenarios(
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Where to look (default: the shipped scenarios).")
    ] = None,
) -> None:
    """List scenarios with their descriptions (each validated; the answer is cached while nothing changes)."""
    from rich.table import Table

    from swarm._listing import cached_rows, remember

    where = directory or scenarios_dir()
    if not where.is_dir():
        err.print(f"{where}: no such directory")
        raise typer.Exit(EXIT_INPUT)
    files = sorted(where.glob("*.yaml"))
    key, rows = cached_rows(where, files)
    if rows is None:
        rows = _validated_rows(files)
        remember(key, rows)
    table = Table("scenario", "agents", "description")
    for name, agents, description in rows:
        table.add_row(name, agents, description)
    out.print(table)


def _validated_rows(files: list[Path]) -> list[tuple[str, str, str]]:
    """Each scenario file's name, number of agents and description, or what is wrong with it."""
    from swarm.errors import ScenarioError
    from swarm.registry import load_builtins
    from swarm.scenario import load_scenario

    load_builtins()
    rows = []
    for path in files:
        try:
            sc = load_scenario(path)
        except ScenarioError as exc:
            rows.append((path.stem, "?", f"[red]invalid: {exc.problem}[/]"))
            continue
        description = sc.description.strip().splitlines()[0] if sc.description else ""
        rows.append((path.stem, str(len(sc.agent_ids())), description))
    return rows


@app.command()
def tail(
    log_file: Annotated[Path, typer.Argument(help="An events.jsonl, possibly still being written.")],
    follow: Annotated[
        bool,
        typer.Option("--follow/--no-follow", "-f", help="Keep waiting for new events until the run ends."),
    ] = True,
    log_json: Annotated[bool, typer.Option("--log-json", help="Print raw JSON lines.")] = False,
    poll: Annotated[float, typer.Option(help="Seconds between checks for new lines.")] = 0.2,
    timeout: Annotated[
        float | None, typer.Option(help="Give up after this many seconds without a new line.")
    ] = None,
) -> None:
    """Follow a run in progress: print its events as they are written, until ``run_ended``."""
    import msgspec

    from swarm.errors import LogError
    from swarm.runtime.tail import follow_log

    _check_seconds("--poll", poll, positive=True)
    if timeout is not None:
        _check_seconds("--timeout", timeout)
    try:
        for event in follow_log(log_file, follow=follow, poll=poll, idle_timeout=timeout):
            out.print(
                msgspec.json.encode(event).decode() if log_json else render_event(event),
                markup=False,
                soft_wrap=True,
            )
    except LogError as exc:
        raise fail_input(exc) from None


def _check_seconds(option: str, value: float, *, positive: bool = False) -> None:
    """Exit 2 unless ``value`` is a finite number >= 0 (> 0 with ``positive``)."""
    import math

    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        err.print(f"{option} {value}: expected a finite number {'>' if positive else '>='} 0", markup=False)
        raise typer.Exit(EXIT_INPUT)


def _check_unit(option: str, value: float, what: str) -> None:
    """Exit 2 unless ``value`` lies in [0, 1] (``what`` it is, for the message: "a share")."""
    if not 0.0 <= value <= 1.0:
        err.print(f"{option} {value}: expected {what} between 0 and 1")
        raise typer.Exit(EXIT_INPUT)


def _check_cassette_target(path: Path) -> None:
    """Exit 2 unless ``--record-llm`` names a file that can be written (checked before the run)."""
    from swarm.errors import ScenarioError
    from swarm.runtime.rundir import check_path

    check_path(path, "--record-llm")
    if path.is_dir():
        raise ScenarioError("--record-llm", str(path), "is a folder", "a cassette file to write")
    parent = path.parent
    if parent.exists() and not parent.is_dir():
        raise ScenarioError("--record-llm", str(path), f"{parent} is a file", "a cassette file to write")


@app.command("mock-llm")
def mock_llm(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on (127.0.0.1).")] = 8765,
    latency_ms: Annotated[float, typer.Option("--latency-ms", help="Added latency per request.")] = 0.0,
    error_rate: Annotated[
        float, typer.Option("--error-rate", help="Share of requests answered with a fault.")
    ] = 0.0,
    seed: Annotated[int, typer.Option(help="Seed of the fault draws.")] = 0,
    rate_limit_rpm: Annotated[
        int | None,
        typer.Option(
            "--rate-limit-rpm", min=1, help="Answer 429 (with retry-after) past this many requests a minute."
        ),
    ] = None,
    susceptibility: Annotated[
        float,
        typer.Option(
            "--susceptibility",
            help=(
                "Chance that an agent asked to act follows an injection payload in its inbox, feed "
                "or task outputs."
            ),
        ),
    ] = 0.0,
) -> None:
    """Serve the OpenAI and Anthropic APIs locally, answering with scripted policies (no keys needed)."""
    try:
        import uvicorn

        from swarm.agents.mock_llm import environment, mock_app
    except ImportError:
        err.print("swarm mock-llm needs the 'mock' extra: pip install 'swarm-sandbox[mock]'")
        raise typer.Exit(EXIT_INPUT) from None
    _check_seconds("--latency-ms", latency_ms)
    _check_unit("--error-rate", error_rate, "a share")
    _check_unit("--susceptibility", susceptibility, "a chance")
    out.print("Mock LLM provider. In another shell:", markup=False)
    for key, value in environment("127.0.0.1", port).items():
        out.print(f"export {key}={value}", markup=False)
    app_ = mock_app(
        latency_ms=latency_ms,
        error_rate=error_rate,
        seed=seed,
        rate_limit_rpm=rate_limit_rpm,
        susceptibility=susceptibility,
    )
    # The server lives as long as the process: keep the collector off its start-up heap.
    import gc

    gc.collect()
    gc.freeze()
    # No proxy-header rewriting or access log: every request's CPU here is CPU the clients lack.
    # On Ctrl-C or SIGTERM, requests still open (an injected hang, say) get one second, then the
    # server exits (uvicorn would otherwise wait for them to finish) with 130. Uvicorn takes the
    # signals while it serves and raises them again once it has stopped: they are noted here.
    import signal

    stopped: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: stopped.append(signum))
    uvicorn.run(
        app_,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        proxy_headers=False,
        access_log=False,
        timeout_graceful_shutdown=1,
    )
    if stopped:
        raise typer.Exit(EXIT_INTERRUPTED)


from swarm.analysis import commands as _analysis_commands  # noqa: E402,F401  (registers sweep, report, export)
from swarm.dashboard import commands as _dashboard_commands  # noqa: E402,F401  (registers dashboard)
from swarm.redteam import commands as _redteam_commands  # noqa: E402,F401  (registers redteam)
from swarm.runtime import commands as _run_commands  # noqa: E402,F401  (registers resume, fork)


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _plain_list(args: list[str]) -> bool:
    """Run ``swarm list`` or ``swarm list --dir DIR`` directly; False for any other command line.

    The argument parser converts every option's value, even an absent one, through
    pydantic, which it imports for that: without it a remembered listing executes about
    40 % fewer instructions (docs/benchmarks.md). Anything else (``--help``, a typo,
    another command) goes through the parser as usual.
    """
    if args[:1] != ["list"]:
        return False
    rest = args[1:]
    if not rest:
        directory = None
    elif len(rest) == 2 and rest[0] == "--dir" and rest[1] and not rest[1].startswith("-"):
        directory = Path(rest[1])
    elif len(rest) == 1 and rest[0].startswith("--dir=") and len(rest[0]) > len("--dir="):
        directory = Path(rest[0][len("--dir=") :])
    else:
        return False
    try:
        list_scenarios(directory)
    except typer.Exit as stop:
        sys.exit(stop.exit_code)
    except BrokenPipeError:  # `swarm list | head`: end quietly with 1, as the parser's own handling does
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    return True


def main() -> None:
    """Entry point of the ``swarm`` console script."""
    import signal

    # SIGTERM behaves as Ctrl-C everywhere (a command that runs something installs its own
    # handlers meanwhile, which end the run cleanly).
    signal.signal(signal.SIGTERM, _terminate)
    try:
        if not _plain_list(sys.argv[1:]):
            app()
    except KeyboardInterrupt:  # outside any command's own handling (typer maps the rest to 130)
        sys.exit(EXIT_INTERRUPTED)
    except Exception:
        # A bug, not bad input: keep its traceback, and exit 3 (1 would read as a failed criterion).
        import traceback

        traceback.print_exc()
        err.print("swarm: unexpected error (a bug; please report it with the traceback above)", markup=False)
        sys.exit(EXIT_RUN)
    finally:
        # The process is ending and takes every object with it: the interpreter's last
        # collection need not walk them (that takes tens of milliseconds after a run).
        import gc

        gc.freeze()


if __name__ == "__main__":
    # Run through the importable module so commands registered on it (sweep, ...) are present.
    from swarm.cli import main as _main

    _main()
