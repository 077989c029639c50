"""What agents see of the agent network: a per-step, immutable view of neighbours, weights and reach.

Kept apart from :mod:`swarm.env.network` (which builds and changes the graph) so
that policies and other components can read the view without loading the
network's registrations or networkx.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import msgspec


class NetworkView:
    """The agent network as every agent sees it in one step: neighbours, weights, reach.

    Immutable for the step (the component hands out a new one when the graph has
    changed). ``reach(a)`` holds the agents within ``hops`` hops of ``a``.
    """

    __slots__ = ("_adj", "_reach", "hops")

    def __init__(self, adjacency: Mapping[str, Mapping[str, float]], hops: int = 1) -> None:
        self._adj = adjacency
        self.hops = hops
        self._reach: dict[str, dict[str, None]] = {}

    def __getstate__(self) -> tuple[Mapping[str, Mapping[str, float]], int]:
        return self._adj, self.hops

    def __setstate__(self, state: tuple[Mapping[str, Mapping[str, float]], int]) -> None:
        self._adj, self.hops = state
        self._reach = {}

    def __repr__(self) -> str:
        edges = sum(len(n) for n in self._adj.values()) // 2
        return f"NetworkView({len(self._adj)} agents, {edges} edges, reach {self.hops})"

    def neighbours(self, agent_id: str) -> Mapping[str, float]:
        """The agent's direct neighbours and each edge's weight (empty for an agent not in the network)."""
        return self._adj.get(agent_id, _EMPTY)

    def weight(self, a: str, b: str) -> float:
        """The weight of the edge a–b, 0 when there is none."""
        return self._adj.get(a, _EMPTY).get(b, 0.0)

    def reach(self, agent_id: str) -> Mapping[str, Any]:
        """The agents ``agent_id`` can see and propose to (never itself), nearest first, as mapping keys."""
        if self.hops == 1:
            return self._adj.get(agent_id, _EMPTY)
        found = self._reach.get(agent_id)
        if found is None:
            found = self._reach[agent_id] = dict.fromkeys(_within(self._adj, agent_id, self.hops))
        return found

    def reaches(self, a: str, b: str) -> bool:
        """Whether ``a`` can see and propose to ``b``."""
        return b in self.reach(a)


_EMPTY: Mapping[str, float] = {}


def _within(adj: Mapping[str, Mapping[str, float]], source: str, hops: int) -> Iterator[str]:
    """Agents 1..``hops`` hops from ``source`` (breadth first)."""
    seen = {source}
    frontier = [source]
    for _ in range(hops):
        nxt = []
        for node in frontier:
            for other in adj.get(node, _EMPTY):
                if other not in seen:
                    seen.add(other)
                    nxt.append(other)
                    yield other
        frontier = nxt


class NetworkPrompt(msgspec.Struct, frozen=True):
    """What an LLM agent is told of the network: its neighbours by weight (the 20 heaviest edges),
    the other agents within its reach (at most 30, nearest first) and how far its reach goes."""

    neighbours: dict[str, float]
    reach_hops: int
    further: list[str] = []
