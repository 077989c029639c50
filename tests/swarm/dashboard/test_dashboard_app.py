"""The dashboard server: what it serves for runs and sweeps, its controls, and a run it never holds up."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import anyio
import httpx
import pytest
from starlette.testclient import TestClient

from swarm import Simulation, run
from swarm.dashboard import DashboardError, live_dashboard
from swarm.dashboard._app import Board, create_app
from swarm.dashboard._server import bind, board_for, no_auth_warning
from swarm.events import RunEnded
from tests.conftest import ROOT, make_scenario

SWARM = [sys.executable, "-m", "swarm.cli"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("run")
    run(make_scenario(honest=3, deceptive=1, epochs=3, steps=4), out_dir=out)
    return out


def messages(body: str) -> list[tuple[str, dict[str, object]]]:
    """Server-sent events as (event name, data)."""
    found = []
    for block in body.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        found.append((fields.get("event", "message"), json.loads(fields["data"])))
    return found


def test_a_finished_run_is_served_whole_then_the_stream_ends(run_dir: Path) -> None:
    client = TestClient(create_app(board_for(run_dir)))
    page = client.get("/")
    assert page.status_code == 200 and "/static/dashboard.js" in page.text
    assert client.get("/static/dashboard.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/static/secret.txt").status_code == 404
    assert client.get("/api/info").json()["kind"] == "run"
    sent = messages(client.get("/api/stream").text)
    assert [name for name, _ in sent] == ["message", "end"]
    state = sent[0][1]
    assert [e["epoch"] for e in state["epochs"]] == [0, 1, 2]  # type: ignore[index]
    assert state["ended"] == {"reason": "completed", "epochs_completed": 3}
    assert {m["name"] for m in state["run"]["metrics"]} >= {"toxicity_rate", "quality_gap"}  # type: ignore[index]


def test_controls_answer_with_advice_when_there_is_nothing_to_control(run_dir: Path) -> None:
    client = TestClient(create_app(board_for(run_dir)))
    refused = client.post("/api/control/pause")
    assert refused.status_code == 409 and "finished run" in refused.json()["error"]
    unknown = client.post("/api/control/rewind")
    assert unknown.status_code == 404 and "pause, resume, step, stop" in unknown.json()["error"]


def test_a_sweep_shows_its_levers_with_confidence_intervals_and_its_runs(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    done = subprocess.run(
        [
            *SWARM,
            "sweep",
            "baseline",
            "--vary",
            "payoff.theta=0.3,0.7",
            "--seeds",
            "2",
            "--workers",
            "1",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    client = TestClient(create_app(board_for(out)))
    info = client.get("/api/info").json()
    assert info["kind"] == "sweep" and len(info["runs"]) == 4
    sweep = client.get("/api/sweep").json()
    names = [c["name"] for c in sweep["configurations"]]
    assert len(names) == 2 and all("payoff.theta=" in c["overrides"] for c in sweep["configurations"])
    tox = [r for r in sweep["aggregate"] if r["metric"] == "avg_toxicity"]
    assert [r["configuration"] for r in tox] == names
    assert all(r["ci_low"] <= r["mean"] <= r["ci_high"] for r in tox)
    member = messages(client.get("/api/stream", params={"run": info["runs"][0]}).text)
    assert member[0][1]["ended"]["reason"] == "completed"  # type: ignore[index]
    assert client.get("/api/stream", params={"run": "../../etc"}).status_code == 404


def test_a_directory_with_nothing_to_show_is_refused_with_advice(tmp_path: Path) -> None:
    with pytest.raises(DashboardError, match="neither a run"):
        board_for(tmp_path)
    done = subprocess.run(
        [*SWARM, "dashboard", str(tmp_path / "missing")], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 2 and "no such directory" in done.stderr


def test_dashboard_options_without_dashboard_are_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [*SWARM, "run", "baseline", "--paused", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 2 and "--paused needs --dashboard" in done.stderr


def test_a_port_in_use_is_bad_input_and_other_hosts_get_a_warning() -> None:
    taken = bind("127.0.0.1", 0)
    port = taken.getsockname()[1]
    try:
        with pytest.raises(DashboardError, match=f"--port {port}: cannot listen"):
            bind("127.0.0.1", port)
    finally:
        taken.close()
    assert no_auth_warning("127.0.0.1", 8050) is None and no_auth_warning("localhost", 8050) is None
    warning = no_auth_warning("0.0.0.0", 8050)
    assert warning is not None and "no authentication" in warning


async def test_a_stalled_and_a_vanished_browser_never_hold_up_the_run(tmp_path: Path) -> None:
    """One browser never reads its stream, another leaves after the first message: the run goes on."""
    sc = make_scenario(honest=4, deceptive=1, epochs=60, steps=5)
    stalled = socket.socket()
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    with anyio.fail_after(120):
        async with Simulation(sc, out_dir=tmp_path) as sim, live_dashboard(sim, port=0) as board:
            host, port = httpx.URL(board.url).host, httpx.URL(board.url).port
            stalled.connect((host, port))
            stalled.sendall(b"GET /api/stream HTTP/1.1\r\nHost: x\r\n\r\n")
            async with (
                httpx.AsyncClient(base_url=board.url) as client,
                client.stream("GET", "/api/stream") as response,
            ):
                async for line in response.aiter_lines():
                    if line.startswith("data: "):
                        break
            ended = None
            async for event in sim.events():
                board.observe(event)
                if isinstance(event, RunEnded):
                    ended = event
    stalled.close()
    assert ended is not None and ended.reason == "completed" and ended.epochs_completed == 60
    assert len(board.state.epochs) == 60
    assert board.board.streams == []  # every stream closed (the stalled one when the server shut down)


def test_board_has_no_state_for_a_run_it_does_not_list() -> None:
    assert Board("sweep", "s").state_for("nope") is None
