"""Client CPU per LLM request, layer by layer, against ``swarm mock-llm`` (its own process).

Sends batches of concurrent chat-completion requests the size of an agent's act
request and reports the client's CPU time per request for each layer: a bare
aiohttp session, the SDK's httpx2 client on its aiohttp transport, the SDK
client's ``post``, and the whole adapter stack (limits, retries, timeout,
validation, accounting). The difference between layers is what each one costs.
Run: ``python bench/bench_llm_client.py --batch 100 --rounds 8``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import httpx2

from adapters import CompletionRequest, build_adapter
from swarm.agents.llm import ActionChoice

sys.path.insert(0, os.path.dirname(__file__))
from bench_llm import mock_server


async def act_prompt(agents: int = 100) -> tuple[str, str]:
    """A real act request (system, user) from the third step of a run of ``agents`` LLM agents."""
    import swarm
    from swarm.agents.llm_backend import LLMBackend

    seen: list[tuple[str, str]] = []

    class Capture(LLMBackend):
        def __call__(self, agent_id: str, spec: Any, scenario: Any) -> Any:
            policy = super().__call__(agent_id, spec, scenario)
            inner = policy.adapter

            class Spy:
                async def complete(self, request: Any) -> Any:
                    seen.append((request.system, request.user))
                    return await inner.complete(request)

            policy.adapter = Spy()
            return policy

    scenario = swarm.load_scenario(
        {
            "scenario_id": "prompt",
            "agents": [{"type": "llm", "count": agents, "llm": {"provider": "scripted", "persona": "open"}}],
            "simulation": {"n_epochs": 1, "steps_per_epoch": 3, "seed": 1},
        }
    )
    async with swarm.Simulation(scenario, llm_factory=Capture(scripted=True)) as sim:
        await sim.wait()
    return seen[-1]


async def measure(batch: int, rounds: int, send: Callable[[], Awaitable[Any]]) -> list[float]:
    await asyncio.gather(*(send() for _ in range(batch)))  # open connections, warm caches
    per_request = []
    for _ in range(rounds):
        cpu = time.process_time()
        await asyncio.gather(*(send() for _ in range(batch)))
        per_request.append((time.process_time() - cpu) / batch * 1000)
    return per_request


async def main(batch: int, rounds: int) -> None:
    adapter = build_adapter("openai", max_concurrency=batch * 2)
    provider: Any = adapter.inner.inner  # type: ignore[attr-defined]
    system, user = await act_prompt()
    request = CompletionRequest(system=system, user=user, schema=ActionChoice, model="gpt-4o-mini")
    body = json.dumps(provider.body(request)).encode()
    url = provider._url
    headers = {"content-type": "application/json", "authorization": "Bearer mock-key"}

    async with aiohttp.ClientSession() as session:

        async def bare() -> bytes:
            async with session.post(url, data=body, headers=headers) as response:
                return await response.read()

        layers: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
            ("aiohttp session", bare),
            (
                "SDK's httpx2 client (aiohttp)",
                lambda: provider._client._client.post(url, content=body, headers=headers),
            ),
            ("SDK client post", lambda: provider._client.post(url, cast_to=httpx2.Response, content=body)),
            ("adapter stack (complete)", lambda: adapter.complete(request)),
        ]
        print(f"act request: {len(body)} bytes; batches of {batch} concurrent requests, {rounds} rounds")
        print("client CPU per request, ms")
        for name, send in layers:
            values = await measure(batch, rounds, send)
            print(f"  {name:<32} median {statistics.median(values):.2f}   min {min(values):.2f}")
    await adapter.aclose()  # type: ignore[attr-defined]


def run() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    args = parser.parse_args()
    with mock_server(args.latency_ms):
        asyncio.run(main(args.batch, args.rounds))


if __name__ == "__main__":
    run()
