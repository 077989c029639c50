"""The agent network: a weighted graph over the agents that decides who can reach whom.

With a ``network:`` section an agent sees posts and proposes interactions only
within ``reach_hops`` hops of itself along the graph's edges. The component
publishes a :class:`NetworkView` in every step's snapshot; scripted policies
pick counterparties and read posts through it, and the broker and the feed
refuse proposals, votes and replies that reach outside it (so an LLM agent that
ignores its neighbour list is refused too).

The graph starts as one of the reference's topologies (every edge at weight
1.0). With ``dynamic: true`` it changes: a successful interaction (accepted,
p ≥ 0.5) strengthens the edge between its parties by ``edge_strengthen_rate``
(creating it at ``min_edge_weight`` + that rate when they were further apart);
at each epoch's end every weight is multiplied by ``1 − edge_decay_rate`` and
edges that fall below ``min_edge_weight`` are pruned. Whatever ``dynamic``
says, an agent whose reputation is below ``reputation_disconnect_threshold`` at
an epoch's end loses every edge. At each epoch's end a ``network_measured`` event records density,
clustering, components, degree Gini, assortativity by agent type, mean path
length and how the epoch's harm was spread over edges; those become the
``network_*`` metrics.

networkx builds the topologies and measures the graph; it is imported only when
a scenario has a network.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

from swarm.env.network_view import NetworkPrompt, NetworkView
from swarm.errors import ConfigProblem
from swarm.events import Event, InteractionCompleted
from swarm.kernel.component import Applied, At, Setup, WorldComponent, component
from swarm.metrics.inequality import gini
from swarm.metrics.registry import count, last_of, latest, mean_of, run_figure
from swarm.views import AgentPublic

if TYPE_CHECKING:
    import networkx as nx

    from swarm.scenario import Scenario

Topology = Literal["complete", "ring", "star", "random_erdos_renyi", "small_world", "scale_free", "custom"]
TOPOLOGIES: tuple[str, ...] = (
    "complete",
    "ring",
    "star",
    "random_erdos_renyi",
    "small_world",
    "scale_free",
    "custom",
)

_PARAM_ALIASES = {"k": "k_neighbors", "p": "rewire_probability", "m": "m_edges"}
_PARAMS = ("edge_probability", "k_neighbors", "rewire_probability", "m_edges")

# ------------------------------------------------------------------------ settings


class NetworkConfig(BaseModel):
    """The ``network:`` section: the reference's keys, ``edges``, ``reach_hops``, ``max_measured_sources``.

    Topology parameters may be given flat or nested under ``params:``, and as the
    reference's short names ``k``, ``p`` and ``m``.
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, populate_by_name=True, allow_inf_nan=False
    )

    enabled: bool = Field(default=True, description="false: the scenario has no network")
    topology: Topology = Field(default="complete", description="the graph the run starts with")
    edge_probability: float = Field(
        default=0.5, ge=0.0, le=1.0, description="random_erdos_renyi: chance of each edge"
    )
    k_neighbors: int = Field(
        default=4,
        ge=2,
        validation_alias=AliasChoices("k_neighbors", "k"),
        description="small_world: each agent's neighbours in the ring lattice (an odd k acts as k − 1)",
    )
    rewire_probability: float = Field(
        default=0.1,
        ge=0.0,
        le=1.0,
        validation_alias=AliasChoices("rewire_probability", "p"),
        description="small_world: chance each lattice edge is rewired",
    )
    m_edges: int = Field(
        default=2,
        ge=1,
        validation_alias=AliasChoices("m_edges", "m"),
        description="scale_free: edges each new agent attaches with",
    )
    edges: list[list[str | float]] = Field(
        default_factory=list,
        description="custom: the edges, each [agent, agent] or [agent, agent, weight]",
    )
    dynamic: bool = Field(default=False, description="edges strengthen with use, decay and are pruned")
    edge_strengthen_rate: float = Field(
        default=0.1, ge=0.0, description="weight a successful interaction adds to its edge"
    )
    edge_decay_rate: float = Field(
        default=0.05, ge=0.0, le=1.0, description="share of every weight lost at each epoch's end"
    )
    min_edge_weight: float = Field(
        default=0.1, ge=0.0, description="edges below this weight at an epoch's end are pruned"
    )
    max_edge_weight: float = Field(default=1.0, gt=0.0, description="no edge weighs more")
    reputation_disconnect_threshold: float | None = Field(
        default=None, description="an agent whose reputation is below this at an epoch's end loses its edges"
    )
    reach_hops: int = Field(
        default=1, ge=1, le=6, description="agents see posts of, and propose to, agents this many hops away"
    )
    max_measured_sources: int = Field(
        default=32,
        ge=1,
        le=100_000,
        description="mean path length is measured from at most this many agents (all of them when fewer)",
    )

    @model_validator(mode="before")
    @classmethod
    def _flatten(cls, data: Any) -> Any:
        """Lift ``params:`` up (with the short names), and lowercase the topology, as the reference does."""
        if not isinstance(data, Mapping):
            return data
        out = dict(data)
        topology = out.get("topology")
        if isinstance(topology, str):
            out["topology"] = topology.lower()
        params = out.pop("params", None)
        if params is None:
            return out
        if not isinstance(params, Mapping):
            raise ConfigProblem("network.params", "not a mapping", "a mapping of topology parameters")
        given = {_PARAM_ALIASES.get(k, k) for k in out}
        for key, value in params.items():
            name = _PARAM_ALIASES.get(str(key), str(key))
            if name not in _PARAMS:
                raise ConfigProblem(
                    f"network.params.{key}", "unknown key", f"one of {', '.join((*_PARAMS, 'k', 'p', 'm'))}"
                )
            if name in given:
                raise ConfigProblem(
                    f"network.params.{key}", "also given outside params", "each parameter given once"
                )
            given.add(name)
            out[name] = value
        return out

    @field_validator("edges", mode="before")
    @classmethod
    def _edge_shape(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value  # the type check says what is wrong
        for index, edge in enumerate(value):
            if not isinstance(edge, list) or len(edge) not in (2, 3):
                raise ConfigProblem(
                    f"network.edges.{index}", "not an edge", "[agent, agent] or [agent, agent, weight]"
                )
            ends, weight = edge[:2], edge[2:]
            if not all(isinstance(e, str) for e in ends):
                raise ConfigProblem(f"network.edges.{index}", "an end is not an agent id", "two agent ids")
            if weight and (type(weight[0]) not in (int, float) or not 0 < weight[0] < math.inf):
                raise ConfigProblem(f"network.edges.{index}.2", "not a positive weight", "a number above 0")
            if ends[0] == ends[1]:
                raise ConfigProblem(
                    f"network.edges.{index}", "links an agent to itself", "two different agents"
                )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> NetworkConfig:
        if self.edges and self.topology != "custom":
            raise ConfigProblem("network.edges", f"given with topology {self.topology}", "topology: custom")
        if self.min_edge_weight > self.max_edge_weight:
            raise ConfigProblem(
                "network.min_edge_weight",
                f"above max_edge_weight ({self.max_edge_weight:g})",
                "a minimum no greater than the maximum",
            )
        return self


# ------------------------------------------------------------------------ events


class NetworkMeasured(Event, tag="network_measured", frozen=True):
    """The network at an epoch's end, after decay, pruning and disconnection."""

    agents: int
    edges: int
    density: float
    clustering: float
    components: int
    degree_gini: float
    assortativity: float | None
    """Newman's assortativity of the edges by agent type (None when undefined: one type, no edges)."""
    path_length: float | None
    """Mean hops between connected agents (sampled from ``max_measured_sources`` agents in a large graph)."""
    edges_pruned: int
    edges_created: int
    harm: float
    """Σ (1 − p)·h over the epoch's accepted interactions."""
    harm_top_edges: tuple[tuple[str, str, float], ...] = ()
    """Up to ten pairs that carried the most of the epoch's harm, with their share of it."""


class AgentDisconnected(Event, tag="agent_disconnected", frozen=True):
    """An agent whose reputation fell below the network's threshold lost all its edges."""

    agent_id: str
    reputation: float
    edges_removed: int


# ------------------------------------------------------------------------ graphs


def _networkx() -> Any:
    try:
        import networkx
    except ImportError as exc:  # pragma: no cover - networkx ships with the network extra
        raise ImportError("the network section needs networkx: pip install 'swarm-sandbox[network]'") from exc
    return networkx


def build_edges(
    config: NetworkConfig, agents: Sequence[str], rng: random.Random
) -> list[tuple[str, str, float]]:
    """The starting edges (agent, agent, weight) of ``config``'s topology over ``agents``, in order.

    Every edge of a generated topology starts at weight 1.0 (capped at
    ``max_edge_weight``); a custom edge at its own weight (1.0 when not given).
    Fewer than two agents give no edges.
    """
    cap = config.max_edge_weight
    if config.topology == "custom":
        return [(str(e[0]), str(e[1]), min(float(e[2]) if len(e) == 3 else 1.0, cap)) for e in config.edges]
    n = len(agents)
    if n < 2:
        return []
    nx = _networkx()
    kind = config.topology
    if kind == "complete":
        graph = nx.complete_graph(n)
    elif kind == "ring":
        graph = nx.cycle_graph(n)
    elif kind == "star":
        graph = nx.star_graph(n - 1)  # node 0, the first agent, is the hub
    elif kind == "random_erdos_renyi":
        graph = nx.gnp_random_graph(n, config.edge_probability, seed=rng)
    elif kind == "small_world":
        k = min(config.k_neighbors, n - 1)
        graph = nx.watts_strogatz_graph(n, k, config.rewire_probability, seed=rng)
    else:  # scale_free
        m = config.m_edges
        graph = nx.complete_graph(n) if n <= m else nx.barabasi_albert_graph(n, m, seed=rng)
    w = min(1.0, cap)
    return [(agents[a], agents[b], w) for a, b in sorted((min(u, v), max(u, v)) for u, v in graph.edges())]


class Graph:
    """The weighted, undirected graph and its dynamics (pure and synchronous)."""

    def __init__(self, config: NetworkConfig, agents: Sequence[str], edges: Iterable[tuple[str, str, float]]):
        self.config = config
        self.agents = list(agents)
        self.adj: dict[str, dict[str, float]] = {a: {} for a in self.agents}
        for a, b, w in edges:
            self.adj[a][b] = self.adj[b][a] = w
        self.version = 0
        """Bumped whenever an edge or a weight changes."""
        self.created = 0
        """Edges created by interactions since the last :meth:`take_created`."""

    @property
    def n_edges(self) -> int:
        return sum(len(n) for n in self.adj.values()) // 2

    def strengthen(self, a: str, b: str) -> None:
        """Add ``edge_strengthen_rate`` to the edge a–b (capped); a missing edge is created at
        ``min_edge_weight`` + ``edge_strengthen_rate``, so that it outlives at least one decay."""
        adj = self.adj
        if a not in adj or b not in adj or a == b:
            return
        current = adj[a].get(b)
        if current is None:
            self.created += 1
            current = self.config.min_edge_weight
        w = min(current + self.config.edge_strengthen_rate, self.config.max_edge_weight)
        if w != current:
            adj[a][b] = adj[b][a] = w
            self.version += 1

    def decay(self) -> int:
        """Multiply every weight by 1 − decay rate, prune edges below the minimum; how many were pruned."""
        factor = 1.0 - self.config.edge_decay_rate
        floor = self.config.min_edge_weight
        pruned = 0
        for a in self.agents:
            row = self.adj[a]
            for b in list(row):
                if a < b:
                    w = row[b] * factor
                    if w < floor:
                        del row[b]
                        del self.adj[b][a]
                        pruned += 1
                    else:
                        row[b] = self.adj[b][a] = w
        self.version += 1
        return pruned

    def disconnect(self, agent: str) -> int:
        """Remove all the agent's edges; how many there were."""
        row = self.adj.get(agent)
        if not row:
            return 0
        for other in row:
            del self.adj[other][agent]
        n = len(row)
        row.clear()
        self.version += 1
        return n

    def view(self) -> NetworkView:
        """An immutable copy of the graph as agents see it."""
        return NetworkView({a: dict(row) for a, row in self.adj.items()}, self.config.reach_hops)

    def nx_graph(self) -> nx.Graph:
        nx = _networkx()
        g = nx.Graph()
        g.add_nodes_from(self.agents)
        g.add_weighted_edges_from((a, b, w) for a, row in self.adj.items() for b, w in row.items() if a < b)
        return g


def assortativity(adj: Mapping[str, Mapping[str, float]], kind: Mapping[str, str]) -> float | None:
    """Newman's assortativity by a categorical attribute (2003): r = (Σ e_ii − Σ a_i²) / (1 − Σ a_i²).

    e is the share of edge ends joining a type i agent to a type j one (each edge
    counted both ways, so a = b); None when undefined (no edges, or every edge
    end of one type).
    """
    mix: dict[tuple[str, str], int] = {}
    total = 0
    for a, row in adj.items():
        ta = kind[a]
        for b in row:
            key = (ta, kind[b])
            mix[key] = mix.get(key, 0) + 1
            total += 1
    if total == 0:
        return None
    share: dict[str, float] = {}
    same = 0.0
    for (ta, tb), n in mix.items():
        share[ta] = share.get(ta, 0.0) + n / total
        if ta == tb:
            same += n / total
    expected = math.fsum(s * s for s in share.values())
    if expected >= 1.0 - 1e-12:
        return None
    return (same - expected) / (1.0 - expected)


def _path_length(graph: nx.Graph, agents: Sequence[str], limit: int, rng: random.Random) -> float | None:
    """Mean hops between connected pairs, from every agent or ``limit`` of them drawn at random."""
    nx = _networkx()
    sources = list(agents) if len(agents) <= limit else rng.sample(list(agents), limit)
    total = pairs = 0
    for s in sources:
        for _, d in nx.single_source_shortest_path_length(graph, s).items():
            if d > 0:
                total += d
                pairs += 1
    return total / pairs if pairs else None


# --------------------------------------------------------------------- component


@component
class AgentNetwork(WorldComponent):
    """Owns the agent network: publishes who can reach whom, changes with use, measures itself."""

    key = "network"
    order = 5
    Config = NetworkConfig
    view_type = NetworkView
    prompt_rules = (
        "Network: you are linked to some agents (your neighbours). You can see posts by, vote on and "
        "reply to posts of, and propose interactions to, only agents within your reach along these links; "
        "anything else is refused."
    )
    config: NetworkConfig

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        ids = list(setup.agents)
        self.kind = dict(setup.agents)
        self.graph = Graph(self.config, ids, build_edges(self.config, ids, setup.rng("network")))
        self._measure_rng = setup.rng("network", "measure")
        self._view: NetworkView | None = None
        self._version = -1
        self._harm: dict[tuple[str, str], float] = {}

    @classmethod
    def check(cls, scenario: Scenario) -> None:
        config: NetworkConfig = scenario.section(cls.key)
        if not config.edges:
            return
        ids = {agent_id for agent_id, _ in scenario.agent_ids()}
        for index, edge in enumerate(config.edges):
            for end in (0, 1):
                if edge[end] not in ids:
                    raise ConfigProblem(
                        f"network.edges.{index}.{end}",
                        f"no agent {edge[end]!r}",
                        "an agent id of this scenario",
                    )

    def view(self, at: At) -> NetworkView:
        if self._view is None or self._version != self.graph.version:
            self._view = self.graph.view()
            self._version = self.graph.version
        return self._view

    @classmethod
    def prompt_view(cls, view: NetworkView, agent_id: str) -> NetworkPrompt:
        row = view.neighbours(agent_id)
        top = sorted(row.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_NEIGHBOURS_SHOWN]
        further = (
            [a for a in view.reach(agent_id) if a not in row][:MAX_FURTHER_SHOWN] if view.hops > 1 else []
        )
        return NetworkPrompt({a: round(w, 3) for a, w in top}, view.hops, further)

    @classmethod
    def view_from_prompt(cls, value: Any, agent_id: str) -> NetworkView:
        """The agent's neighbourhood as the prompt showed it: neighbours with their weights, and
        the agents further within reach as neighbours of weight 0."""
        import msgspec

        shown = msgspec.convert(value, NetworkPrompt)
        row = {**shown.neighbours, **dict.fromkeys(shown.further, 0.0)}
        adjacency: dict[str, dict[str, float]] = {agent_id: row}
        for other, w in row.items():
            adjacency[other] = {agent_id: w}
        return NetworkView(adjacency, 1)

    def observe_settled(self, at: At, completed: Sequence[InteractionCompleted]) -> Applied:
        h = self.setup.engine.config.h
        dynamic = self.config.dynamic
        harm = self._harm
        for ev in completed:
            i = ev.interaction
            if not i.accepted:
                continue
            a, b = i.initiator, i.counterparty
            pair = (a, b) if a < b else (b, a)
            harm[pair] = harm.get(pair, 0.0) + (1.0 - i.p) * h
            if dynamic and i.p >= 0.5:
                self.graph.strengthen(a, b)
        return Applied()

    def epoch_end(self, at: At, agents: Sequence[AgentPublic]) -> Applied:
        out = Applied()
        g = self.graph
        pruned = g.decay() if self.config.dynamic else 0
        threshold = self.config.reputation_disconnect_threshold
        if threshold is not None:
            for a in agents:
                if a.reputation < threshold and g.adj.get(a.agent_id):
                    removed = g.disconnect(a.agent_id)
                    out.events.append(
                        AgentDisconnected(
                            epoch=at.epoch,
                            step=at.step,
                            agent_id=a.agent_id,
                            reputation=a.reputation,
                            edges_removed=removed,
                        )
                    )
        out.events.append(self._measure(at, pruned))
        self._harm = {}
        g.created = 0
        return out

    def _measure(self, at: At, pruned: int) -> NetworkMeasured:
        nx = _networkx()
        g = self.graph
        graph = g.nx_graph()
        n = len(g.agents)
        edges = g.n_edges
        harm = self._harm
        total = math.fsum(harm.values())
        top = sorted(harm.items(), key=lambda kv: (-kv[1], kv[0]))[:10] if total > 0 else []
        return NetworkMeasured(
            epoch=at.epoch,
            step=at.step,
            agents=n,
            edges=edges,
            density=2 * edges / (n * (n - 1)) if n > 1 else 0.0,
            clustering=float(nx.average_clustering(graph)) if n else 0.0,
            components=nx.number_connected_components(graph),
            degree_gini=gini([float(len(g.adj[a])) for a in g.agents]),
            assortativity=assortativity(g.adj, self.kind),
            path_length=_path_length(graph, g.agents, self.config.max_measured_sources, self._measure_rng),
            edges_pruned=pruned,
            edges_created=g.created,
            harm=total,
            harm_top_edges=tuple((a, b, v / total) for (a, b), v in top),
        )


MAX_NEIGHBOURS_SHOWN = 20
MAX_FURTHER_SHOWN = 30


def _top_edge_share(e: NetworkMeasured) -> Any:  # None in an epoch without harm
    return e.harm_top_edges[0][2] if e.harm_top_edges else None


latest("network_edges", NetworkMeasured, "edges of the agent network", lambda e: e.edges)
latest("network_density", NetworkMeasured, "edges over possible edges", lambda e: e.density)
latest("network_clustering", NetworkMeasured, "mean local clustering of the network", lambda e: e.clustering)
latest("network_components", NetworkMeasured, "connected components of the network", lambda e: e.components)
latest("network_degree_gini", NetworkMeasured, "Gini of the agents' degrees", lambda e: e.degree_gini)
latest(
    "network_assortativity",
    NetworkMeasured,
    "assortativity of the edges by agent type (1: like links with like)",
    lambda e: e.assortativity,
)
latest("network_path_length", NetworkMeasured, "mean hops between connected agents", lambda e: e.path_length)
latest(
    "network_harm_top_edge_share",
    NetworkMeasured,
    "share of the epoch's harm carried by the one pair of agents that carried most",
    _top_edge_share,
)
latest("network_edges_pruned", NetworkMeasured, "edges pruned at the epoch's end", lambda e: e.edges_pruned)
count("network_disconnected", AgentDisconnected, "agents cut off for low reputation")
run_figure(
    "connected_components", "connected components of the network at the end", last_of("network_components")
)
run_figure(
    "avg_path_length",
    "mean over the epochs of the network's mean path length",
    mean_of("network_path_length"),
)
