"""The ``swarm dashboard`` command (and what ``swarm run --dashboard`` shares with it)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from swarm.cli import EXIT_INPUT, EXIT_INTERRUPTED, app, err

if TYPE_CHECKING:
    from swarm.events import Event
    from swarm.runtime.simulation import Simulation

# Registering this command must not cost the others: starlette and uvicorn load when it runs.

EXTRA_MISSING = "the dashboard needs the 'dashboard' extra: pip install 'swarm-sandbox[dashboard]'"


def check_installed() -> None:
    """Exit 2 with the extra to install when starlette or uvicorn is missing."""
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        err.print(EXTRA_MISSING, markup=False)
        raise typer.Exit(EXIT_INPUT) from None


def announce(url: str, host: str, port: int) -> None:
    """Say where the page is (and warn when it is reachable from other machines)."""
    from swarm.dashboard._server import no_auth_warning

    warning = no_auth_warning(host, port)
    if warning is not None:
        err.print(warning, markup=False, soft_wrap=True, style="yellow")
    err.print(f"dashboard: {url}", markup=False, soft_wrap=True)


@asynccontextmanager
async def watch(
    sim: Simulation, *, host: str, port: int, paused: bool
) -> AsyncIterator[Callable[[Event], None]]:
    """The live page of ``swarm run --dashboard``: yields what takes every event of the run."""
    from swarm.dashboard._server import DashboardError, live_dashboard

    try:
        live = live_dashboard(sim, host=host, port=port, paused=paused)
        board = await live.__aenter__()
    except DashboardError as exc:
        err.print(str(exc), markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_INPUT) from None
    announce(board.url, host, port)
    if paused:
        err.print("the run is paused: press resume (or step) on the page", markup=False)
    try:
        yield board.observe
    except BaseException as exc:
        if not await live.__aexit__(type(exc), exc, exc.__traceback__):
            raise
    else:
        await live.__aexit__(None, None, None)


@app.command()
def dashboard(
    directory: Annotated[
        Path, typer.Argument(help="A run's output directory (events.jsonl) or a sweep's (aggregate.csv).")
    ],
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on (0: any free one).")] = 8050,
    host: Annotated[
        str, typer.Option(help="Address to listen on; other than loopback, anyone can see it (no auth).")
    ] = "127.0.0.1",
) -> None:
    """Serve a finished run or a sweep as a web page (Ctrl-C to stop)."""
    check_installed()
    from swarm.dashboard._server import DashboardError, serve_directory

    try:
        serve_directory(directory, host, port, lambda url: announce(url, host, port))
    except DashboardError as exc:
        err.print(str(exc), markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_INPUT) from None
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the way to stop it (exit 130, as for every command)
        err.print("dashboard stopped", markup=False)
        raise typer.Exit(EXIT_INTERRUPTED) from None
