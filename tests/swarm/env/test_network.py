"""The agent network: settings, topologies, dynamics, what it lets agents reach, its metrics, its effect."""

from __future__ import annotations

import importlib.util
import os
import pickle
import random
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm import load_scenario, run
from swarm.core.payoff import SoftPayoffEngine
from swarm.env.broker import InteractionBroker, InteractionProposed, Propose
from swarm.env.feed import CastVote, Feed, Reply, VoteCast
from swarm.env.network import (
    AgentDisconnected,
    AgentNetwork,
    Graph,
    NetworkConfig,
    NetworkMeasured,
    assortativity,
    build_edges,
)
from swarm.env.network_view import NetworkView
from swarm.errors import ScenarioError
from swarm.events import ActionRejected, InteractionCompleted
from swarm.kernel.component import ApplyTurns, At, Setup, Turn
from swarm.runtime.eventlog import read_log
from swarm.views import AgentPublic
from tests.conftest import ROOT, make_scenario

IDS = [f"a{k}" for k in range(6)]


def edges_of(topology: str, n: int = 6, seed: int = 42, **keys: Any) -> list[tuple[str, str, float]]:
    config = NetworkConfig.model_validate({"topology": topology, **keys})
    return build_edges(config, [f"a{k}" for k in range(n)], random.Random(seed))


def degrees(edges: Sequence[tuple[str, str, float]], ids: Sequence[str] = IDS) -> dict[str, int]:
    out = dict.fromkeys(ids, 0)
    for a, b, _ in edges:
        out[a] += 1
        out[b] += 1
    return out


def net(data: dict[str, Any], **sim: Any) -> Any:
    return make_scenario(network=data, **sim)


def events_of(scenario: Any, tmp: Path) -> list[Any]:
    run(scenario, out_dir=tmp)
    return read_log(tmp / "events.jsonl")[1]


# ------------------------------------------------------------------ settings


def test_defaults_are_the_references() -> None:
    c = NetworkConfig()
    assert (c.topology, c.edge_probability, c.k_neighbors, c.rewire_probability, c.m_edges) == (
        "complete",
        0.5,
        4,
        0.1,
        2,
    )
    assert not c.dynamic and c.reputation_disconnect_threshold is None and c.reach_hops == 1


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("edge_probability", 1.5, "<= 1"),
        ("edge_probability", -0.1, ">= 0"),
        ("rewire_probability", 2.0, "<= 1"),
        ("k_neighbors", 1, ">= 2"),
        ("m_edges", 0, ">= 1"),
        ("edge_decay_rate", 1.5, "<= 1"),
        ("reach_hops", 0, ">= 1"),
        ("topology", "erdos_renyi", "random_erdos_renyi"),
    ],
)
def test_bad_settings_name_the_key_and_the_range(key: str, value: Any, expected: str) -> None:
    with pytest.raises(ScenarioError) as info:
        net({key: value})
    text = str(info.value)
    assert f"network.{key}" in text and expected in text


def test_the_references_short_names_nesting_and_case_carry_their_meaning() -> None:
    sc = net(
        {"topology": "Small_World", "params": {"k": 6, "p": 0.2}, "dynamic": True, "edge_decay_rate": 0.1}
    )
    n = sc.network
    assert (n.topology, n.k_neighbors, n.rewire_probability, n.dynamic, n.edge_decay_rate) == (
        "small_world",
        6,
        0.2,
        True,
        0.1,
    )
    assert net({"topology": "scale_free", "m": 3}).network.m_edges == 3


@pytest.mark.parametrize(
    ("data", "key", "problem"),
    [
        ({"params": {"k": 4}, "k_neighbors": 4}, "network.params.k", "also given outside params"),
        ({"params": {"q": 1}}, "network.params.q", "unknown key"),
        ({"edges": [["honest_1", "honest_2"]]}, "network.edges", "topology: custom"),
        ({"topology": "custom", "edges": [["honest_1", "nobody"]]}, "network.edges.0.1", "no agent 'nobody'"),
        ({"topology": "custom", "edges": [["honest_1"]]}, "network.edges.0", "not an edge"),
        ({"topology": "custom", "edges": [["honest_1", 5]]}, "network.edges.0", "not an agent id"),
        ({"topology": "custom", "edges": [["honest_1", "honest_2", True]]}, "network.edges.0.2", "positive"),
        ({"topology": "custom", "edges": [["honest_1", "honest_1"]]}, "network.edges.0", "itself"),
        ({"topology": "custom", "edges": [["honest_1", "honest_2", 0]]}, "network.edges.0.2", "positive"),
        ({"min_edge_weight": 2.0}, "network.min_edge_weight", "above max_edge_weight"),
    ],
)
def test_inconsistent_settings_are_refused_with_where_and_why(
    data: dict[str, Any], key: str, problem: str
) -> None:
    with pytest.raises(ScenarioError) as info:
        net(data)
    assert key in str(info.value) and problem in str(info.value)


def test_an_absent_or_disabled_section_means_no_network(tmp_path: Path) -> None:
    assert not AgentNetwork.enabled(make_scenario())
    assert not AgentNetwork.enabled(net({"enabled": False}))
    events = events_of(net({"enabled": False}, epochs=1), tmp_path)
    assert not any(isinstance(e, NetworkMeasured) for e in events)


def test_the_cli_refuses_a_bad_network_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("agents: [{type: honest, count: 2}]\nnetwork:\n  topology: hypercube\n")
    done = subprocess.run(
        [sys.executable, "-m", "swarm", "run", str(bad), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and "network.topology" in done.stderr + done.stdout


# ---------------------------------------------------------------- topologies


def test_complete_ring_and_star_have_their_shapes() -> None:
    assert len(edges_of("complete")) == 15 and set(degrees(edges_of("complete")).values()) == {5}
    ring = edges_of("ring")
    assert set(degrees(ring).values()) == {2}
    assert {(a, b) for a, b, _ in ring} >= {("a0", "a1"), ("a0", "a5")}
    star = edges_of("star")
    assert degrees(star)["a0"] == 5 and all(a == "a0" for a, _, _ in star)


def test_erdos_renyi_extremes_and_custom_edges() -> None:
    assert edges_of("random_erdos_renyi", edge_probability=0.0) == []
    assert len(edges_of("random_erdos_renyi", edge_probability=1.0)) == 15
    custom = edges_of("custom", edges=[["a0", "a3", 0.5], ["a1", "a2"]])
    assert custom == [("a0", "a3", 0.5), ("a1", "a2", 1.0)]


def test_fewer_than_two_agents_have_no_edges() -> None:
    for topology in ("complete", "ring", "star", "small_world", "scale_free"):
        assert edges_of(topology, n=1) == []


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 40),
    topology=st.sampled_from(["complete", "ring", "star", "random_erdos_renyi", "small_world", "scale_free"]),
    seed=st.integers(0, 10_000),
    k=st.integers(2, 8),
    m=st.integers(1, 4),
)
def test_every_topology_is_a_simple_graph_over_the_agents(
    n: int, topology: str, seed: int, k: int, m: int
) -> None:
    ids = [f"a{i}" for i in range(n)]
    edges = edges_of(topology, n=n, seed=seed, k_neighbors=k, m_edges=m)
    pairs = [frozenset((a, b)) for a, b, _ in edges]
    assert all(len(p) == 2 and p <= set(ids) for p in pairs)  # no loops, only known agents
    assert len(set(pairs)) == len(pairs)  # no duplicates
    assert all(w == 1.0 for _, _, w in edges)
    assert edges == edges_of(topology, n=n, seed=seed, k_neighbors=k, m_edges=m)  # same seed, same graph
    if topology == "scale_free" and n > m:
        g = nx.Graph([(a, b) for a, b, _ in edges])
        assert nx.is_connected(g) and all(d >= m for node, d in g.degree() if int(node[1:]) > m)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(5, 40), half=st.integers(1, 2))
def test_an_unrewired_small_world_is_the_ring_lattice(n: int, half: int) -> None:
    edges = edges_of("small_world", n=n, k_neighbors=2 * half, rewire_probability=0.0)
    ids = [f"a{i}" for i in range(n)]
    assert set(degrees(edges, ids).values()) == {2 * half}
    for a, b, _ in edges:
        gap = abs(int(a[1:]) - int(b[1:]))
        assert min(gap, n - gap) <= half


# ------------------------------------------------------------------ dynamics


def graph(topology: str = "complete", **keys: Any) -> Graph:
    config = NetworkConfig.model_validate({"topology": topology, **keys})
    return Graph(config, IDS, build_edges(config, IDS, random.Random(0)))


def test_strengthening_adds_the_rate_up_to_the_cap_and_can_create_an_edge() -> None:
    g = graph("custom", edges=[["a0", "a1", 0.5]], dynamic=True, edge_strengthen_rate=0.2)
    g.strengthen("a0", "a1")
    assert g.adj["a0"]["a1"] == g.adj["a1"]["a0"] == pytest.approx(0.7)
    for _ in range(5):
        g.strengthen("a0", "a1")
    assert g.adj["a0"]["a1"] == 1.0
    g.strengthen("a2", "a3")  # created at the minimum weight (0.1) plus the rate
    assert g.adj["a2"]["a3"] == pytest.approx(0.3) and g.created == 1


def test_decay_multiplies_every_weight_and_prunes_below_the_minimum() -> None:
    g = graph(dynamic=True, edge_decay_rate=0.1)
    assert g.decay() == 0 and all(w == pytest.approx(0.9) for row in g.adj.values() for w in row.values())
    g = graph("custom", edges=[["a0", "a1", 0.3], ["a1", "a2", 1.0]], dynamic=True, edge_decay_rate=0.5,
              min_edge_weight=0.2)  # fmt: skip
    assert g.decay() == 1 and "a1" not in g.adj["a0"] and g.adj["a1"]["a2"] == pytest.approx(0.5)


def test_disconnecting_removes_every_edge_of_the_agent_both_ways() -> None:
    g = graph()
    assert g.disconnect("a2") == 5
    assert g.adj["a2"] == {} and all("a2" not in row for row in g.adj.values()) and g.n_edges == 10


# ---------------------------------------------------------------------- view


def test_reach_is_neighbours_or_everything_within_k_hops_and_the_view_pickles() -> None:
    g = graph("ring")
    one = g.view()
    assert set(one.reach("a0")) == {"a1", "a5"} and one.reaches("a0", "a1") and not one.reaches("a0", "a2")
    g.config = g.config.model_copy(update={"reach_hops": 2})
    two = g.view()
    assert list(two.reach("a0")) == ["a1", "a5", "a2", "a4"]  # nearest first, in a fixed order
    again = pickle.loads(pickle.dumps(two))
    assert list(again.reach("a0")) == list(two.reach("a0")) and again.weight("a0", "a1") == 1.0
    assert one.reach("stranger") == {} and one.weight("a0", "a3") == 0.0


def _setup(cls: Any, scenario: Any, agents: dict[str, str]) -> Any:
    return cls(Setup(scenario, scenario.section(cls.key), SoftPayoffEngine(scenario.payoff), agents))


def test_the_broker_and_the_feed_refuse_what_reaches_outside_the_published_view() -> None:
    sc = make_scenario(honest=3)
    agents = {"a": "honest", "b": "honest", "c": "honest"}
    view = NetworkView({"a": {"b": 1.0}, "b": {"a": 1.0}, "c": {}})
    publics = {k: AgentPublic(k, 0.0, 100.0) for k in agents}
    at = At(0, 0, 0)
    broker = _setup(InteractionBroker, sc, agents)
    turns = (Turn(0, "a", Propose(counterparty="b")), Turn(1, "a", Propose(counterparty="c")))
    out = broker.on_apply(ApplyTurns(at, turns, publics, {NetworkView: view}))
    assert [e.counterparty for e in out.events if isinstance(e, InteractionProposed)] == ["b"]
    assert [e.reason for e in out.events if isinstance(e, ActionRejected)] == [
        "counterparty c is outside your network reach"
    ]
    feed = _setup(Feed, sc, agents)
    post_b = feed.state.create("b", "hello", None, 0).post_id
    post_c = feed.state.create("c", "hi", None, 0).post_id
    turns = (
        Turn(0, "a", CastVote(post_id=post_b, direction=1)),
        Turn(1, "a", CastVote(post_id=post_c, direction=1)),
        Turn(2, "c", Reply(parent_id=post_c, content="me")),
        Turn(3, "c", Reply(parent_id=post_b, content="you")),
    )
    out = feed.on_apply(ApplyTurns(at, turns, publics, {NetworkView: view}))
    assert [(e.voter, e.post_id) for e in out.events if isinstance(e, VoteCast)] == [("a", post_b)]
    rejected = [e for e in out.events if isinstance(e, ActionRejected)]
    assert [(e.agent_id, e.action) for e in rejected] == [("a", "vote"), ("c", "reply")]
    assert all("outside your network reach" in e.reason for e in rejected)
    # without a network view nothing is refused
    out = broker.on_apply(ApplyTurns(at, (Turn(0, "a", Propose(counterparty="c")),), publics))
    assert not any(isinstance(e, ActionRejected) for e in out.events)


# --------------------------------------------------------------------- in a run


def test_on_a_ring_agents_deal_and_vote_only_with_their_neighbours(tmp_path: Path) -> None:
    sc = net({"topology": "ring"}, honest=4, opportunistic=2, deceptive=1, adversarial=1, epochs=3, steps=6)
    ids = [a for a, _ in sc.agent_ids()]
    n = len(ids)

    def ring(a: str, b: str) -> bool:
        gap = abs(ids.index(a) - ids.index(b))
        return min(gap, n - gap) == 1

    events = events_of(sc, tmp_path)
    proposed = [e for e in events if isinstance(e, InteractionProposed)]
    assert proposed and all(ring(e.initiator, e.counterparty) for e in proposed)
    authors = {e.post_id: e.author for e in events if type(e).__name__ == "PostCreated"}
    votes = [e for e in events if isinstance(e, VoteCast)]
    assert votes and all(e.voter == authors[e.post_id] or ring(e.voter, authors[e.post_id]) for e in votes)
    assert not any(isinstance(e, ActionRejected) and "network" in e.reason for e in events)
    measured = [e for e in events if isinstance(e, NetworkMeasured)]
    assert [e.epoch for e in measured] == [0, 1, 2]
    assert measured[0].edges == n and measured[0].components == 1 and measured[0].degree_gini == 0.0


def test_the_network_metrics_are_in_every_epoch_and_replay_recomputes_them(tmp_path: Path) -> None:
    from swarm.runtime.replay import recompute

    sc = net({"topology": "small_world", "params": {"k": 4, "p": 0.1}}, honest=6, adversarial=2, epochs=2)
    result = run(sc, out_dir=tmp_path)
    for m in result.epochs:
        assert m["network_edges"] == 16 and 0 < m["network_density"] < 1 and m["network_components"] == 1
        assert m["network_path_length"] is not None and m["network_path_length"] > 1
    _, epochs, mismatch = recompute(tmp_path / "events.jsonl")
    assert mismatch is None and epochs == 2
    assert "network_density" not in {
        k for k, v in run(make_scenario(epochs=1), out_dir=tmp_path / "b").epochs[0].items() if v is not None
    }


def test_dynamic_edges_decay_and_are_pruned_and_used_ones_last_longer(tmp_path: Path) -> None:
    sc = net(
        {
            "topology": "complete",
            "dynamic": True,
            "edge_decay_rate": 0.3,
            "min_edge_weight": 0.3,
            "edge_strengthen_rate": 0.3,
        },
        honest=6,
        epochs=5,
        steps=4,
    )
    events = events_of(sc, tmp_path)
    measured = [e for e in events if isinstance(e, NetworkMeasured)]
    assert measured[0].edges == 15 and measured[-1].edges < 15
    assert sum(e.edges_pruned for e in measured) == 15 - measured[-1].edges + sum(
        e.edges_created for e in measured
    )
    used = {
        frozenset((e.interaction.initiator, e.interaction.counterparty))
        for e in events
        if isinstance(e, InteractionCompleted) and e.interaction.accepted and e.interaction.p >= 0.5
    }
    assert 0 < measured[-1].edges <= len(used)  # an edge never used well decays away within 4 epochs


def test_agents_below_the_reputation_threshold_are_cut_off(tmp_path: Path) -> None:
    sc = net(
        {"topology": "complete", "reputation_disconnect_threshold": 0.0}, honest=4, adversarial=2, epochs=4
    )
    events = events_of(sc, tmp_path)
    cut = [e for e in events if isinstance(e, AgentDisconnected)]
    assert cut and all(e.reputation < 0.0 and e.edges_removed > 0 for e in cut)
    for e in cut:  # after its epoch, nobody deals with it any more
        later = [
            x
            for x in events
            if isinstance(x, InteractionProposed)
            and x.epoch > e.epoch
            and e.agent_id in (x.initiator, x.counterparty)
        ]
        assert later == []


def test_assortativity_matches_newmans_coefficient_as_networkx_computes_it() -> None:
    rng = random.Random(3)
    for _ in range(20):
        n = rng.randint(4, 20)
        g = nx.gnp_random_graph(n, 0.3, seed=rng.randint(0, 999))
        kinds = {v: rng.choice("xyz") for v in g}
        nx.set_node_attributes(g, kinds, "kind")
        adj = {str(v): {str(u): 1.0 for u in g[v]} for v in g}
        ours = assortativity(adj, {str(v): k for v, k in kinds.items()})
        if ours is None:
            continue
        assert ours == pytest.approx(nx.attribute_assortativity_coefficient(g, "kind"))
    two_cliques = {"a": {"b": 1.0}, "b": {"a": 1.0}, "c": {"d": 1.0}, "d": {"c": 1.0}}
    assert assortativity(two_cliques, {"a": "x", "b": "x", "c": "y", "d": "y"}) == pytest.approx(1.0)
    assert assortativity(two_cliques, {"a": "x", "b": "y", "c": "x", "d": "y"}) == pytest.approx(-1.0)
    assert assortativity(two_cliques, dict.fromkeys("abcd", "x")) is None


def test_a_network_run_is_the_same_whatever_the_hash_seed(tmp_path: Path) -> None:
    code = (
        "import sys; from swarm import load_scenario, run\n"
        "sc = load_scenario({'scenario_id': 'h', 'agents': [{'type': 'honest', 'count': 5},"
        " {'type': 'adversarial', 'count': 2}],"
        " 'simulation': {'n_epochs': 2, 'steps_per_epoch': 4, 'seed': 3},"
        " 'network': {'topology': 'small_world', 'reach_hops': 2, 'dynamic': True}})\n"
        "run(sc, out_dir=sys.argv[1])\n"
    )
    logs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / hash_seed
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run([sys.executable, "-c", code, str(out)], check=True, env=env, cwd=ROOT)
        logs.append(
            [line for line in (out / "events.jsonl").read_text().splitlines() if "run_ended" not in line]
        )
    assert logs[0] == logs[1] and len(logs[0]) > 20


# ------------------------------------------------------------------ the claim


def _study() -> Any:
    path = ROOT / "examples" / "network_harm_study.py"
    spec = importlib.util.spec_from_file_location("network_harm_study", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_on_a_small_world_harm_stays_closer_to_its_source_than_on_a_complete_graph() -> None:
    study = _study()
    for seed in range(3):
        small = study.measure(study.NETWORKS["small world"], seed, epochs=6, steps=6)
        complete = study.measure(study.NETWORKS["complete"], seed, epochs=6, steps=6)
        assert small["harm distance"] < complete["harm distance"]
        assert small["local share"] > complete["local share"]


def test_the_shipped_and_the_reference_network_scenarios_load_and_run(tmp_path: Path) -> None:
    ref = load_scenario(ROOT / "tests" / "fixtures" / "reference_scenarios" / "network_effects.yaml")
    assert (ref.network.topology, ref.network.k_neighbors, ref.network.rewire_probability) == (
        "small_world",
        4,
        0.1,
    )
    assert ref.network.min_edge_weight == 0.2 and ref.network.dynamic
    shipped = load_scenario(ROOT / "scenarios" / "network_effects.yaml", ["simulation.n_epochs=2"])
    result = run(shipped, out_dir=tmp_path)
    assert result.reason == "completed" and result.epochs[-1]["network_components"] is not None


def test_a_killed_network_run_resumes_to_the_same_log(tmp_path: Path) -> None:
    import anyio

    from swarm.runtime import checkpoint as ck
    from swarm.runtime.simulation import Simulation

    sc = net(
        {
            "topology": "small_world",
            "reach_hops": 2,
            "dynamic": True,
            "edge_decay_rate": 0.3,
            "min_edge_weight": 0.3,
            "reputation_disconnect_threshold": -0.5,
        },
        honest=5,
        deceptive=1,
        adversarial=2,
        epochs=6,
        steps=4,
    )

    async def go(out: Path, **kw: Any) -> None:
        async with Simulation(sc, out_dir=out, **kw) as sim:
            await sim.wait()

    async def again(d: Path) -> None:
        async with Simulation.resume_run(d) as sim:
            await sim.wait()

    anyio.run(go, tmp_path / "plain")
    anyio.run(lambda: go(tmp_path / "with", checkpoint_every=1))
    log = (tmp_path / "with" / "events.jsonl").read_bytes()
    cut = ck.read_info(ck.path_for(tmp_path / "with", 3)).log_bytes + 100  # inside epoch 3
    with (tmp_path / "with" / "events.jsonl").open("r+b") as fh:
        fh.truncate(cut)
    for path in ck.list_checkpoints(tmp_path / "with"):
        if ck.read_info(path).log_bytes > cut:
            path.unlink()
    anyio.run(again, tmp_path / "with")

    def lines(p: Path) -> list[bytes]:
        return [x for x in p.read_bytes().splitlines() if b'"run_ended"' not in x]

    assert lines(tmp_path / "with" / "events.jsonl") == lines(tmp_path / "plain" / "events.jsonl")
    assert b"network_measured" in log and b"edges_pruned" in log


def test_agents_read_their_neighbours_latest_posts_so_a_sparse_network_still_votes(tmp_path: Path) -> None:
    import msgspec

    from swarm.env.feed import FeedView

    assert msgspec.json.encode(FeedView()) == b'{"posts":[],"total_posts":0}'  # unchanged without a network
    crowd = {"honest": 60, "opportunistic": 20, "deceptive": 10, "adversarial": 10, "epochs": 2, "steps": 5}
    plain = run(make_scenario(**crowd), out_dir=tmp_path / "plain")  # type: ignore[arg-type]
    sparse = run(net({"topology": "small_world"}, **crowd), out_dir=tmp_path / "net")
    votes = [sum(m["upvotes"] + m["downvotes"] for m in r.epochs) for r in (plain, sparse)]
    assert votes[1] > votes[0] / 2 > 0
    # ... and every vote was on a post by the voter or an agent within its reach
    _, events = read_log(tmp_path / "net" / "events.jsonl")
    assert not any(isinstance(e, ActionRejected) and "network" in e.reason for e in events)


def test_a_sharded_network_run_logs_what_one_process_logs(tmp_path: Path) -> None:
    sc = load_scenario(
        ROOT / "scenarios" / "network_effects.yaml", ["simulation.n_epochs=3", "network.reach_hops=2"]
    )
    run(sc, out_dir=tmp_path / "one")
    run(sc, out_dir=tmp_path / "two", shards=2)

    def lines(p: Path) -> list[str]:
        return [x for x in p.read_text().splitlines() if '"run_ended"' not in x]

    one = lines(tmp_path / "one" / "events.jsonl")
    assert len(one) > 100 and one == lines(tmp_path / "two" / "events.jsonl")


def test_llm_agents_are_told_their_neighbourhood_and_the_mock_answers_from_it(tmp_path: Path) -> None:
    import yaml

    from swarm.agents.llm_backend import LLMBackend

    view = NetworkView(
        {"a": {"b": 0.5, "c": 1.0}, "b": {"a": 0.5, "d": 1.0}, "c": {"a": 1.0}, "d": {"b": 1.0}}, 2
    )
    shown = AgentNetwork.prompt_view(view, "a")
    assert (shown.neighbours, shown.further, shown.reach_hops) == ({"c": 1.0, "b": 0.5}, ["d"], 2)
    back = AgentNetwork.view_from_prompt(msgspec_roundtrip(shown), "a")
    assert set(back.reach("a")) == {"b", "c", "d"} and back.weight("a", "b") == 0.5 and back.reaches("d", "a")

    data = yaml.safe_load((ROOT / "scenarios" / "llm_agents.yaml").read_text())
    data["network"] = {"topology": "ring"}
    data["simulation"]["n_epochs"] = 2
    sc = load_scenario(data)
    ids = [a for a, _ in sc.agent_ids()]
    run(sc, out_dir=tmp_path, llm_factory=LLMBackend(scripted=True))
    _, events = read_log(tmp_path / "events.jsonl")
    proposed = [e for e in events if isinstance(e, InteractionProposed) and e.initiator.startswith("llm")]
    assert proposed
    for e in proposed:
        gap = abs(ids.index(e.initiator) - ids.index(e.counterparty))
        assert min(gap, len(ids) - gap) == 1
    assert not any(isinstance(e, ActionRejected) and "network" in e.reason for e in events)


def msgspec_roundtrip(value: Any) -> Any:
    import msgspec

    return msgspec.json.decode(msgspec.json.encode(value))
