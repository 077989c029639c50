"""LLM concurrency benchmark: N LLM agents against ``swarm mock-llm`` (its own process) with a fixed latency.

Each step has two dependent round trips (act, then accept), so with latency L the
latency-bound step time is 2·L. Reports the measured wall time per step and its
ratio to that bound. Run: ``python bench/bench_llm.py --agents 100 --latency-ms 200``.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time

import anyio

import swarm
from swarm.agents.llm_backend import LLMBackend
from swarm.agents.mock_llm import environment
from swarm.events import EpochStarted, InteractionCompleted, PolicyFailed, RunEnded


async def run(agents: int, steps: int, provider: str) -> tuple[list[float], int, int]:
    scenario = swarm.load_scenario(
        {
            "scenario_id": "bench-llm",
            "agents": [
                {
                    "type": "llm",
                    "count": agents,
                    "llm": {"provider": provider, "model": "gpt-4o-mini", "persona": "open", "timeout": 30},
                }
            ],
            "simulation": {"n_epochs": 1, "steps_per_epoch": steps, "seed": 1},
            "rate_limits": {"interactions_per_step": 1},
        }
    )
    marks: list[float] = []
    failures = completed = 0
    async with swarm.Simulation(scenario, llm_factory=LLMBackend(max_concurrency=agents * 2)) as sim:
        async for event in sim.events():
            if isinstance(event, EpochStarted) or (event.step != getattr(sim, "_last", -1)):
                marks.append(time.perf_counter())
                sim._last = event.step  # type: ignore[attr-defined]
            failures += isinstance(event, PolicyFailed)
            completed += isinstance(event, InteractionCompleted)
            if isinstance(event, RunEnded):
                break
    return marks, failures, completed


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("swarm mock-llm did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--provider", choices=["openai", "anthropic"], default="openai")
    args = parser.parse_args()
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "swarm.cli",
            "mock-llm",
            "--port",
            str(port),
            "--latency-ms",
            str(args.latency_ms),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.environ.update(environment("127.0.0.1", port))
    try:
        _wait_for(port)
        t0 = time.perf_counter()
        marks, failures, completed = anyio.run(run, args.agents, args.steps, args.provider)
        total = time.perf_counter() - t0
    finally:
        server.terminate()
        server.wait(timeout=10)
    per_step = total / args.steps
    steady = sorted(b - a for a, b in zip(marks[1:], marks[2:], strict=False))  # noqa: RUF007
    bound = 2 * args.latency_ms / 1000
    print(f"agents={args.agents} latency={args.latency_ms:.0f}ms provider={args.provider} steps={args.steps}")
    ratio = per_step / bound if bound else float("nan")
    print(
        f"wall time per step: {per_step:.3f} s; latency bound 2 x latency = {bound:.3f} s; ratio {ratio:.2f}"
    )
    if steady:
        median = steady[len(steady) // 2]
        steady_ratio = median / bound if bound else float("nan")
        print(f"steady-state step (median of later steps): {median:.3f} s; ratio {steady_ratio:.2f}")
    print(f"interactions completed: {completed}; policy failures: {failures}")


if __name__ == "__main__":
    main()
