"""The live dashboard: a web page on a run in progress, a finished run or a sweep.

``swarm run SCENARIO --dashboard`` and ``swarm dashboard DIR`` use it; embedding code
uses :func:`live_dashboard` (needs the ``dashboard`` extra: starlette and uvicorn).
See docs/dashboard.md. Importing this package imports neither (the ``swarm`` command
registers its ``dashboard`` command from here).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from swarm.dashboard._server import DashboardError, LiveDashboard, live_dashboard
    from swarm.dashboard._state import DashboardState

__all__ = ["DashboardError", "DashboardState", "LiveDashboard", "live_dashboard"]


def __getattr__(name: str) -> Any:
    if name in ("DashboardError", "LiveDashboard", "live_dashboard"):
        from swarm.dashboard import _server

        return getattr(_server, name)
    if name == "DashboardState":
        from swarm.dashboard._state import DashboardState

        return DashboardState
    raise AttributeError(f"module 'swarm.dashboard' has no attribute {name!r}")
