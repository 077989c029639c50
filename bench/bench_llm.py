"""LLM concurrency benchmark: N LLM agents against ``swarm mock-llm`` (its own process) with a fixed latency.

Each step has two dependent round trips (act, then accept), so with latency L the
latency-bound step time is 2·L. Reports each step's wall time against that bound
(first step, mean, median and slowest of the rest) and the set-up time before the
first step. Run: ``python bench/bench_llm.py --agents 100 --latency-ms 200``.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import anyio

import swarm
from swarm.agents.llm_backend import LLMBackend
from swarm.agents.mock_llm import environment
from swarm.events import InteractionCompleted, PolicyFailed, RunEnded


async def run(agents: int, steps: int, provider: str, workers: int) -> tuple[list[float], int, int]:
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
    failures = completed = 0
    async with swarm.Simulation(
        scenario, llm_factory=LLMBackend(max_concurrency=agents * 2, workers=workers)
    ) as sim:
        async for event in sim.events():
            if isinstance(event, RunEnded):
                break
            failures += isinstance(event, PolicyFailed)
            completed += isinstance(event, InteractionCompleted)
    return sim.step_seconds, failures, completed


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


@contextmanager
def mock_server(latency_ms: float) -> Iterator[None]:
    """``swarm mock-llm`` in its own process, with both SDKs pointed at it, for the block's duration."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "swarm.cli", "mock-llm", "--port", str(port), "--latency-ms", str(latency_ms)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.environ.update(environment("127.0.0.1", port))
    try:
        _wait_for(port)
        yield
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--provider", choices=["openai", "anthropic"], default="openai")
    parser.add_argument(
        "--workers", type=int, default=1, help="LLM worker processes (swarm run --llm-workers)."
    )
    args = parser.parse_args()
    with mock_server(args.latency_ms):
        t0 = time.perf_counter()
        steps, failures, completed = anyio.run(run, args.agents, args.steps, args.provider, args.workers)
        total = time.perf_counter() - t0
    bound = 2 * args.latency_ms / 1000
    print(
        f"agents={args.agents} latency={args.latency_ms:.0f}ms provider={args.provider} "
        f"steps={args.steps} workers={args.workers}"
    )
    print(f"latency bound per step (act, then accept): 2 x latency = {bound:.3f} s")
    print(f"set-up and wind-down around the steps (imports, workers): {total - sum(steps):.2f} s")

    def show(label: str, seconds: float) -> None:
        print(f"{label:<34} {seconds:.3f} s   ratio {seconds / bound:.2f}")

    show("first step (opens connections)", steps[0])
    show("mean step, all steps", statistics.fmean(steps))
    later = steps[1:]
    if later:
        show("median step after the first", statistics.median(later))
        show("slowest step after the first", max(later))
    print(f"interactions completed: {completed}; policy failures: {failures}")


if __name__ == "__main__":
    main()
