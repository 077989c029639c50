"""Serving a dashboard: on a live run (in the run's own event loop) or on a directory of results."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import uvicorn

from swarm.dashboard._app import Board, create_app, finished_run
from swarm.dashboard._state import DashboardState
from swarm.errors import SwarmError

if TYPE_CHECKING:
    from swarm.events import Event
    from swarm.runtime.simulation import Simulation

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8050


class DashboardError(SwarmError):
    """A dashboard that cannot start: an address in use, a directory with nothing to show (exit 2)."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def no_auth_warning(host: str, port: int) -> str | None:
    """The warning for an address other than loopback (v1 has no authentication), else None."""
    if is_loopback(host):
        return None
    return (
        f"warning: the dashboard listens on {host}:{port} and has no authentication in this version: "
        "anyone who can reach that address can watch the run and pause or stop it"
    )


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free port), or a DashboardError saying why not."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise DashboardError(f"--host {host}: not an address this machine can listen on ({exc})") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise DashboardError(
            f"--port {port}: cannot listen on {host}:{port} ({exc.strerror or exc}); "
            "choose another port (--port 0 picks a free one)"
        ) from None
    sock.setblocking(False)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: Ctrl-C stops a run (or the command) as usual."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _server(board: Board) -> _Server:
    config = uvicorn.Config(
        create_app(board),
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=1,
    )
    return _Server(config)


@dataclass
class LiveDashboard:
    """A dashboard on a run in progress: feed it the run's events with :meth:`observe`."""

    url: str
    state: DashboardState
    board: Board

    def observe(self, event: Event) -> None:
        self.state.observe(event)


@contextlib.asynccontextmanager
async def live_dashboard(
    sim: Simulation,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    paused: bool = False,
) -> AsyncIterator[LiveDashboard]:
    """Serve a dashboard of ``sim`` while the block runs; feed it every event of ``sim.events()``.

    >>> async with Simulation(scenario) as sim, live_dashboard(sim, port=0) as board:
    ...     async for event in sim.events():
    ...         board.observe(event)

    The server runs in this event loop; with nobody connected it costs the run only
    :meth:`LiveDashboard.observe`. With ``paused`` the run starts paused (``sim.pause()``).
    On leaving, connected browsers get the final state (within a second) before it closes.
    """
    sock = bind(host, port)
    state = DashboardState(live=True)
    board = Board("live", sim.scenario.scenario_id, state=state, controls=sim)
    server = _server(board)
    if paused:
        await sim.pause()
        state.set_paused(True)
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(server.serve, [sock])
            try:
                yield LiveDashboard(url_of(sock), state, board)
                state.live = False
                state.version += 1
                with anyio.move_on_after(1.5):
                    while board.behind():
                        await anyio.sleep(0.05)
            finally:
                server.should_exit = True
                if not server.server_state.connections:
                    tg.cancel_scope.cancel()  # nobody to wind down for (uvicorn's takes 0.2 s)
    finally:
        for listening in getattr(server, "servers", []):
            listening.close()
        sock.close()


def board_for(directory: Path) -> Board:
    """A finished run (``events.jsonl``) or a sweep (``aggregate.csv``) to serve, else a DashboardError."""
    if not directory.is_dir():
        raise DashboardError(f"{directory}: no such directory (expected a run's or a sweep's output)")
    if (directory / "aggregate.csv").is_file():
        return _sweep_board(directory)
    if (directory / "events.jsonl").is_file():
        state = _read_run(directory)
        return Board("run", state.run.get("scenario_id", directory.name), state=state)
    raise DashboardError(
        f"{directory}: neither a run (no events.jsonl) nor a sweep (no aggregate.csv)\n"
        "  expected the --out directory of `swarm run` or `swarm sweep`"
    )


def _read_run(directory: Path) -> DashboardState:
    from swarm.errors import LogError

    try:
        return finished_run(directory)
    except LogError as exc:
        raise DashboardError(str(exc)) from None


def _sweep_board(directory: Path) -> Board:
    from swarm.analysis.aggregate import metric_names
    from swarm.analysis.report import ReportError, panels, read_csv, table_rows

    try:
        rows = table_rows(directory)
        runs = read_csv(directory / "runs.csv") if (directory / "runs.csv").is_file() else []
    except ReportError as exc:
        raise DashboardError(str(exc)) from None
    configurations: dict[str, str] = {}
    for row in rows:
        configurations.setdefault(row["configuration"], "")
    for run in runs:
        configurations[run.get("configuration", "")] = run.get("overrides", "")
    members: dict[str, Callable[[], DashboardState]] = {}
    for log in sorted((directory / "runs").glob("*/seed-*/events.jsonl")):
        members[f"{log.parent.parent.name}/{log.parent.name}"] = _loader(log.parent)
    headline = dict(panels())
    sweep: dict[str, Any] = {
        "configurations": [
            {"name": name, "overrides": _own_overrides(overrides)}
            for name, overrides in configurations.items()
            if name
        ],
        "metrics": [
            {"name": m, "description": headline.get(m, ""), "headline": m in headline}
            for m in metric_names()
            if any(r["metric"] == m for r in rows)
        ],
        "aggregate": rows,
    }
    return Board("sweep", directory.name, sweep=sweep, runs=members)


def _loader(directory: Path) -> Callable[[], DashboardState]:
    return lambda: _read_run(directory)


def _own_overrides(overrides: str) -> str:
    """A configuration's own settings (the seed and the sweep's epochs and steps left out)."""
    common = ("simulation.seed=", "simulation.n_epochs=", "simulation.steps_per_epoch=")
    return " ".join(o for o in overrides.split() if not o.startswith(common))


def serve_directory(directory: Path, host: str, port: int, announce: Callable[[str], None]) -> None:
    """Serve a finished run or a sweep until interrupted (Ctrl-C)."""
    board = board_for(directory)
    sock = bind(host, port)
    announce(url_of(sock))
    server = _server(board)

    async def main() -> None:
        try:
            await server.serve([sock])
        finally:
            sock.close()

    anyio.run(main)
