"""The dashboard's web app (Starlette): the page, its assets, the state stream and the controls.

Routes: ``/`` the page; ``/static/*`` its script and style (shipped in the package);
``/api/info`` what is served (a live run, a finished run or a sweep); ``/api/stream``
the state as server-sent events; ``/api/sweep`` a sweep's aggregates; ``POST
/api/control/{pause,resume,step,stop}`` the controls of a live run.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import anyio
import msgspec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from swarm.dashboard._state import Cursor, DashboardState

POLL_S = 0.15
"""How often a browser's stream looks for a newer state (the run never waits for it)."""

_ASSETS = {
    "dashboard.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
}
_encode = msgspec.json.Encoder().encode


class Controls(Protocol):
    """What the page's buttons call (a :class:`~swarm.Simulation` has these)."""

    async def pause(self) -> None: ...
    @property
    def resume(self) -> Callable[[], Awaitable[None]]: ...
    async def step_epoch(self) -> None: ...
    async def stop(self) -> None: ...


@dataclass
class Board:
    """What one dashboard serves: a live run (with controls), a finished run, or a sweep."""

    kind: str
    title: str
    state: DashboardState | None = None
    controls: Controls | None = None
    sweep: dict[str, Any] | None = None
    runs: dict[str, Callable[[], DashboardState]] = field(default_factory=dict)
    """A sweep's runs by name (``configuration/seed-N``), each read when first asked for."""
    _read: dict[str, DashboardState] = field(default_factory=dict)
    streams: list[Cursor] = field(default_factory=list)
    """The cursors of the browsers connected now."""

    def state_for(self, run: str | None) -> DashboardState | None:
        if run is None:
            return self.state
        load = self.runs.get(run)
        if load is None:
            return None
        if run not in self._read:
            self._read[run] = load()
        return self._read[run]

    def behind(self) -> bool:
        """Whether a connected browser has not been sent the latest state yet."""
        state = self.state
        return state is not None and any(c.version != state.version for c in self.streams)


def _asset(name: str) -> bytes:
    return resources.files("swarm.dashboard").joinpath("static", name).read_bytes()


def create_app(board: Board) -> Starlette:
    """The ASGI app serving ``board``."""

    async def index(request: Request) -> Response:
        return Response(_asset("index.html"), media_type="text/html; charset=utf-8")

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in _ASSETS:
            return JSONResponse({"error": f"no asset {name!r}"}, status_code=404)
        return Response(_asset(name), media_type=_ASSETS[name], headers={"Cache-Control": "no-cache"})

    async def info(request: Request) -> Response:
        return _json({"kind": board.kind, "title": board.title, "runs": list(board.runs)})

    async def sweep(request: Request) -> Response:
        if board.sweep is None:
            return JSONResponse({"error": "not a sweep"}, status_code=404)
        return _json(board.sweep)

    async def stream(request: Request) -> Response:
        run = request.query_params.get("run")
        state = board.state_for(run)
        if state is None:
            return JSONResponse({"error": f"no run {run!r} here"}, status_code=404)
        return StreamingResponse(
            _events(board, state),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    async def control(request: Request) -> Response:
        action = request.path_params["action"]
        state, controls = board.state, board.controls
        calls: dict[str, Callable[[Controls], Awaitable[None]]] = {
            "pause": lambda c: c.pause(),
            "resume": lambda c: c.resume(),
            "step": lambda c: c.step_epoch(),
            "stop": lambda c: c.stop(),
        }
        if action not in calls:
            return JSONResponse({"error": f"no control {action!r} (pause, resume, step, stop)"}, 404)
        if controls is None or state is None:
            return JSONResponse({"error": "this dashboard shows a finished run: nothing to control"}, 409)
        if state.ended is not None:
            return JSONResponse({"error": f"the run has ended ({state.ended['reason']})"}, 409)
        await calls[action](controls)
        if action != "stop":
            state.set_paused(action != "resume")
        return JSONResponse({"ok": True, "paused": state.paused})

    async def favicon(request: Request) -> Response:
        return Response(status_code=204)

    return Starlette(
        routes=[
            Route("/", index),
            Route("/favicon.ico", favicon),
            Route("/static/{name}", static),
            Route("/api/info", info),
            Route("/api/sweep", sweep),
            Route("/api/stream", stream),
            Route("/api/control/{action}", control, methods=["POST"]),
        ]
    )


async def _events(board: Board, state: DashboardState) -> AsyncIterator[bytes]:
    """The state as server-sent events: all of it first, then what changed, at most every POLL_S.

    Each message is computed when the browser is ready for it, from the latest state, so a
    slow browser skips states rather than queueing them; the run never waits.
    """
    cursor = Cursor()
    board.streams.append(cursor)
    try:
        while True:
            if cursor.version != state.version:
                yield b"data: " + _encode(_finite(state.delta(cursor))) + b"\n\n"
            if state.ended is not None or not state.live:
                yield b"event: end\ndata: {}\n\n"
                return
            await anyio.sleep(POLL_S)
    finally:
        board.streams.remove(cursor)


def _json(data: Any) -> Response:
    return Response(_encode(_finite(data)), media_type="application/json")


def _finite(data: Any) -> Any:
    """JSON has no NaN or infinity: such numbers go as null."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(v) for v in data]
    return data


def finished_run(directory: Path) -> DashboardState:
    """The state of the run whose log is ``directory/events.jsonl``."""
    from swarm.runtime.eventlog import read_log

    _header, events = read_log(directory / "events.jsonl")
    return DashboardState.from_events(events)
