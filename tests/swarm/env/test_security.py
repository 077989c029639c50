"""The security threat model (messages, payloads, a worm, secrets) and the security lever.

Runs are small: a dozen LLM agents answered by the scripted double, a few epochs of five steps.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm import load_scenario, run
from swarm.agents.llm_backend import LLMBackend
from swarm.env.security import Security, payload_of, payload_text, secret_of
from swarm.errors import ScenarioError
from swarm.governance.security import SecurityAnalyzer, SecurityConfig, injection_score
from tests.conftest import ROOT

LEVER = {"security_enabled": True}


def _scenario(
    *,
    n: int = 12,
    topology: dict[str, Any] | None = None,
    susceptibility: float = 0.9,
    governance: dict[str, Any] | None = None,
    injector: dict[str, Any] | None = None,
    epochs: int = 4,
    seed: int = 1,
) -> dict[str, Any]:
    agents: list[dict[str, Any]] = []
    if injector is not False:
        config = {"attack_probability": 1.0, "max_attacks": 1, "evasion": 1.0, **(injector or {})}
        agents.append({"type": "injector", "config": config})
    agents.append({"type": "llm", "count": n, "llm": {"provider": "scripted", "persona": "honest"}})
    return {
        "scenario_id": "security_test",
        "agents": agents,
        "simulation": {"n_epochs": epochs, "steps_per_epoch": 5, "seed": seed},
        "network": topology or {"topology": "ring"},
        "security": {"susceptibility": susceptibility},
        "governance": governance or {},
    }


def _events(data: dict[str, Any], out: Path, **options: Any) -> list[dict[str, Any]]:
    backend = LLMBackend(scripted=True, **options)
    try:
        run(load_scenario(data), out_dir=out, llm_factory=backend)
    finally:
        backend.close()
    return [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()[1:]]


def _of(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["type"] == kind]


def _clock(e: dict[str, Any]) -> int:
    return int(e["epoch"]) * 5 + int(e["step"])


# ------------------------------------------------------------------ the worm and its containment


@pytest.mark.parametrize(
    "topology",
    [{"topology": "ring"}, {"topology": "small_world", "params": {"k": 4, "p": 0.2}}],
    ids=["ring", "small_world"],
)
def test_a_worm_spreads_along_the_network_and_the_lever_contains_it(
    topology: dict[str, Any], tmp_path: Path
) -> None:
    free = _events(_scenario(topology=topology), tmp_path / "free")
    held = _events(_scenario(topology=topology, governance=LEVER), tmp_path / "held")
    taken_free = _of(free, "injection_succeeded")
    # The worm travels along edges: every takeover's source is a network neighbour who sent it.
    sent = {(e["sender"], r) for e in _of(free, "message_sent") for r in e["recipients"]}
    assert taken_free and all((t["source"], t["agent_id"]) in sent for t in taken_free)
    assert max(t["generation"] for t in taken_free) >= 3
    # Contained: every relaying agent is quarantined, after which nobody is taken over any more.
    freezes = [e for e in _of(held, "governance_freeze") if e["lever"] == "security"]
    taken_held = _of(held, "injection_succeeded")
    assert freezes and taken_held
    assert {t["agent_id"] for t in taken_held} <= {f["agent_id"] for f in freezes}
    last = max(_clock(t) for t in taken_held)
    assert last < 2 * 5, "takeovers go on into the third epoch although the lever is on"
    assert len({t["agent_id"] for t in taken_held}) < len({t["agent_id"] for t in taken_free})
    assert max(t["generation"] for t in taken_held) < max(t["generation"] for t in taken_free)


def test_a_released_agent_acts_again(tmp_path: Path) -> None:
    events = _events(
        _scenario(governance={**LEVER, "security_quarantine_epochs": 1}, epochs=3), tmp_path / "run"
    )
    released = _of(events, "security_release")
    assert released
    for r in released:
        agent = r["agent_id"]
        frozen = [e for e in _of(events, "governance_freeze") if e["agent_id"] == agent]
        assert frozen and _clock(frozen[0]) <= _clock(r)
        unfrozen = [e for e in _of(events, "agent_unfrozen") if e["agent_id"] == agent]
        assert unfrozen, f"{agent} released but still frozen in the ledger"
    llm_agent = next(r["agent_id"] for r in released if r["agent_id"].startswith("llm"))
    release_clock = _clock(next(r for r in released if r["agent_id"] == llm_agent))
    acts = [
        e
        for e in _of(events, "llm_call")
        if e["agent_id"] == llm_agent and e["phase"] == "act" and _clock(e) > release_clock
    ]
    assert acts, f"{llm_agent} never acted again after its release"


def test_a_falling_threat_score_ends_a_quarantine_early(tmp_path: Path) -> None:
    gov = {**LEVER, "security_quarantine_epochs": 10, "security_threat_half_life": 0.2}
    events = _events(_scenario(governance=gov, epochs=3), tmp_path / "run")
    released = _of(events, "security_release")
    assert released and all(r["epochs_served"] < 10 for r in released)
    assert all(r["threat_score"] < 0.3 for r in released)


def test_a_strict_lever_quarantines_honest_agents_and_counts_the_cost(tmp_path: Path) -> None:
    """At a very low quarantine threshold the counterparties of adversaries are quarantined too."""
    data = {
        "scenario_id": "strict",
        "agents": [{"type": "honest", "count": 4}, {"type": "adversarial", "count": 2}],
        "simulation": {"n_epochs": 3, "steps_per_epoch": 10, "seed": 3},
        "security": {},
        "governance": {
            "security_enabled": True,
            "security_quarantine_threshold": 0.05,
            "security_penalty_threshold": 0.025,
        },
    }
    run(load_scenario(data), out_dir=tmp_path)
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()[1:]]
    honest = [e["agent_id"] for e in _of(events, "governance_freeze") if e["agent_id"].startswith("honest")]
    measured = _of(events, "security_measured")
    assert honest
    assert sum(e["false_positive_quarantines"] for e in measured) == len(honest)
    assert sum(e["false_positive_cost"] for e in measured) >= len(honest)


# ------------------------------------------------------------------ susceptibility


def test_takeovers_need_susceptibility_and_grow_with_it(tmp_path: Path) -> None:
    totals = []
    for s in (0.0, 0.3, 0.9):
        taken = attempts = 0
        for seed in (1, 2, 3):
            data = _scenario(n=8, susceptibility=s, epochs=2, seed=seed)
            events = _events(data, tmp_path / f"{s}-{seed}")
            taken += len(_of(events, "injection_succeeded"))
            attempts += len(_of(events, "injection_attempted"))
        assert attempts > 0
        totals.append(taken)
    assert totals[0] == 0
    assert totals[0] < totals[1] < totals[2]


def test_without_payloads_nothing_is_an_injection(tmp_path: Path) -> None:
    data = _scenario(injector=False, susceptibility=1.0, governance=LEVER, epochs=2)  # type: ignore[arg-type]
    data["agents"].append({"type": "honest", "count": 3})
    events = _events(data, tmp_path / "run")
    kinds = {e["type"] for e in events}
    assert not kinds & {
        "injection_attempted",
        "injection_succeeded",
        "credential_leaked",
        "governance_freeze",
    }


HONEST_WORDS = st.sampled_from(
    [
        "thanks",
        "the",
        "task",
        "is",
        "done",
        "please",
        "review",
        "my",
        "work",
        "on",
        "bounty",
        "ok",
        "see",
        "you",
        "next",
        "step",
        "great",
        "post",
        "vote",
        "agreed",
        "key",
        "results",
        "numbers",
        "here",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(HONEST_WORDS, min_size=1, max_size=30))
def test_honest_text_is_never_a_payload_and_never_an_injection(words: list[str]) -> None:
    text = " ".join(words)
    assert payload_of(text) is None
    assert injection_score(text) == 0
    analyzer = SecurityAnalyzer(SecurityConfig(security_enabled=True), 5)
    found = analyzer.message(0, "a", ["b", "c"], text)
    assert not [i for i in found if i.kind in ("prompt_injection", "exfiltration")]


@given(
    st.sampled_from(["worm", "leak"]), st.booleans(), st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)
)
def test_every_payload_carries_its_marker(kind: str, evasive: bool, who: str) -> None:
    found = payload_of(payload_text(kind, who, who, evasive))
    assert found is not None and found.kind == kind and found.ident == who
    assert found.beneficiary == (who if kind == "leak" else None)


# ------------------------------------------------------------------ secrets


def test_a_leak_payload_exfiltrates_secrets_unless_the_lever_withholds_them(tmp_path: Path) -> None:
    data = _scenario(injector={"payload": "leak", "max_attacks": 3}, epochs=2)
    events = _events(data, tmp_path / "free")
    leaks = _of(events, "credential_leaked")
    assert leaks and all(e["recipient"] == "injector_1" for e in leaks)
    exfil = {e["agent_id"] for e in _of(events, "exfiltration_attempted")}
    assert {e["agent_id"] for e in leaks} == exfil
    for e in _of(events, "message_sent"):
        if e["sender"] in exfil:
            assert secret_of(1, e["sender"]) in e["content"]
    held = _events({**data, "governance": LEVER}, tmp_path / "held")
    tried = {e["agent_id"] for e in _of(held, "exfiltration_attempted")}
    assert tried and not _of(held, "credential_leaked")
    withheld = [e for e in _of(held, "governance_evidence") if e["finding"] == "message_withheld"]
    assert tried <= {e["agent_id"] for e in withheld}
    assert tried <= {e["agent_id"] for e in _of(held, "governance_freeze")}


def test_injected_text_and_only_the_agents_own_secret_reach_its_prompt(tmp_path: Path) -> None:
    cassette = tmp_path / "c.jsonl"
    _events(_scenario(n=4, epochs=1), tmp_path / "run", record=str(cassette))
    entries = [json.loads(line) for line in cassette.read_text().splitlines()[1:]]
    shown = [e for e in entries if "[[payload:worm:injector_1]]" in e["user"]]
    assert shown
    for e in entries:
        mine = secret_of(1, e["agent"])
        others = [secret_of(1, f"llm_{k}") for k in range(1, 5) if f"llm_{k}" != e["agent"]]
        assert mine in e["user"] and not any(s in e["user"] for s in others)


# ------------------------------------------------------------------ determinism, opt-in, bad keys


def test_same_seed_same_log(tmp_path: Path) -> None:
    data = _scenario(n=6, epochs=2, governance=LEVER)
    a = _events(data, tmp_path / "a")
    b = _events(data, tmp_path / "b")
    strip = [{k: v for k, v in e.items() if k != "wall_clock"} for e in a]
    assert strip == [{k: v for k, v in e.items() if k != "wall_clock"} for e in b]


def test_scenarios_without_the_keys_have_no_threat_model() -> None:
    for name in ("baseline", "network_effects", "llm_agents"):
        assert not Security.enabled(load_scenario(ROOT / "scenarios" / f"{name}.yaml"))


@pytest.mark.parametrize(
    ("patch", "where"),
    [
        ({"security": {"susceptibility": 1.5}}, "security.susceptibility"),
        ({"security": {"inbox": 3}}, "security.inbox"),
        (
            {"governance": {"security_enabled": True, "security_quarantine_threshold": 2.0}},
            "security_quarantine_threshold",
        ),
        (
            {"governance": {"security_enabled": True, "security_min_chain_length": 1}},
            "security_min_chain_length",
        ),
        (
            {"governance": {"security_enabled": True, "security_contagion_velocity": 0}},
            "security_contagion_velocity",
        ),
        ({"governance": {"security_quarantine_threshold": 0.5}}, "security_enabled: true"),
        ({"agents": [{"type": "injector", "config": {"payload": "virus"}}]}, "payload"),
    ],
)
def test_bad_keys_are_refused_naming_them(patch: dict[str, Any], where: str) -> None:
    data = {**_scenario(), **patch}
    with pytest.raises(ScenarioError) as info:
        load_scenario(data)
    assert where in str(info.value)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40), st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.sampled_from(["worm", "leak"]))
def test_a_more_susceptible_double_follows_whatever_a_less_susceptible_one_follows(
    user: str, a: float, b: float, kind: str
) -> None:
    from swarm.agents.llm_responder import _taken_over

    low, high = sorted((a, b))
    shown = {
        "your_secret_key": secret_of(0, "llm_1"),
        "inbox": [{"sender": "injector_1", "content": payload_text(kind, "injector_1", "injector_1", False)}],
    }
    if _taken_over("system", user, shown, low) is not None:
        assert _taken_over("system", user, shown, high) is not None
    assert _taken_over("system", user, shown, 0.0) is None
    followed = _taken_over("system", user, shown, 1.0)
    assert followed is not None and followed["action"]["type"] == "send_message"
    assert _taken_over("system", user, {"your_secret_key": "", "inbox": []}, 1.0) is None
