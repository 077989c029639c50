"""Pytest fixtures for running your own scenarios against mocked LLM providers.

Use from a ``conftest.py``::

    pytest_plugins = ["swarm.testing"]

    async def test_my_scenario(mock_llm):
        scenario = swarm.load_scenario("my.yaml")
        async with swarm.Simulation(scenario, llm_factory=mock_llm.backend()) as sim:
            ...

``mock_llm`` starts the mock provider server (both APIs, scripted answers) on a
free local port and points the adapters at it through ``OPENAI_BASE_URL`` /
``ANTHROPIC_BASE_URL`` (with placeholder keys) for the duration of the test.
``scripted_llm`` needs no server at all: it answers in-process.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from swarm.agents.llm_backend import LLMBackend


@dataclass
class MockLLM:
    """A running mock provider."""

    base_url: str
    stats: dict[str, int]

    def backend(self, **kwargs: object) -> LLMBackend:
        """An LLM backend whose live adapters reach this server."""
        return LLMBackend(**kwargs)  # type: ignore[arg-type]


@pytest.fixture
def mock_llm(monkeypatch: pytest.MonkeyPatch) -> Iterator[MockLLM]:
    """The mock provider server (in a background thread), with every provider pointed at it."""
    from adapters.mock_server import ThreadedServer
    from swarm.agents.mock_llm import environment, mock_app

    app = mock_app()
    server = ThreadedServer(app)
    try:
        for key, value in environment("127.0.0.1", server.port).items():
            monkeypatch.setenv(key, value)
        yield MockLLM(base_url=server.base_url, stats=app.state.stats)
    finally:
        server.close()


@pytest.fixture
def scripted_llm() -> LLMBackend:
    """An in-process backend: every LLM agent answered by the scripted policy of its persona."""
    return LLMBackend(scripted=True)
