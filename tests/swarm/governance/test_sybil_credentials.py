"""The sybil lever with identity: levers read the step's views, credentials and trust weigh the verdict."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm import load_scenario, run
from swarm.core.payoff import SoftPayoffEngine
from swarm.env.identity_view import IdentityView
from swarm.errors import ScenarioError
from swarm.governance.effects import Evidence, ReputationChange, ResourceChange
from swarm.governance.lever import Hook
from swarm.governance.sybil import SybilDetection, SybilDetectionConfig, SybilReport
from swarm.kernel.component import At, Setup
from swarm.runtime.eventlog import read_log
from tests.conftest import make_scenario
from tests.swarm.governance.test_sybil import HONEST, at, pub, world

SCENARIO = Path(__file__).resolve().parents[3] / "scenarios" / "sybil_attack.yaml"
AGENTS = [f"a{k}" for k in range(8)]


def detector(**kw: Any) -> SybilDetection:
    settings_: dict[str, Any] = {"sybil_detection_enabled": True}
    settings_.update({f"sybil_{k}": v for k, v in kw.items()})
    sc = make_scenario()
    return SybilDetection(SybilDetectionConfig(**settings_), Setup(sc, None, SoftPayoffEngine(sc.payoff), {}))


def identity(
    credentialed: frozenset[str] = frozenset(), trust: dict[str, float] | None = None
) -> IdentityView:
    return IdentityView(
        personhood_cost=10.0,
        require_to_propose=False,
        require_to_vote=False,
        credentialed=credentialed,
        trust=trust or {},
    )


def blocked_with(lever: SybilDetection, view: IdentityView | None, when: At) -> dict[str, str]:
    public: dict[type, Any] | None = {IdentityView: view} if view is not None else None
    out: dict[str, str] = lever.on_hook(Hook("blocked", when, public=public))
    return out


# ------------------------------------------------------------------ the kernel: levers read the views


def test_a_lever_reads_the_views_only_during_the_hook_it_is_given_them_for() -> None:
    lever = detector(require_credentials=True)
    view = identity(frozenset({"s0"}))
    seen: list[IdentityView | None] = []

    def blocked(when: At, agents: Any) -> dict[str, str]:
        seen.append(lever.published(IdentityView))
        return {}

    lever.blocked = blocked  # type: ignore[method-assign, assignment]
    assert lever.published(IdentityView) is None
    lever.on_hook(Hook("blocked", at(1, 0), public={IdentityView: view}))
    lever.on_hook(Hook("blocked", at(1, 1)))
    assert seen == [view, None]
    assert lever.published(IdentityView) is None  # nothing of the step is kept


# ------------------------------------------------------------------ credentials required


@settings(max_examples=80, deadline=None)
@given(
    flagged=st.sets(st.sampled_from(AGENTS)),
    large=st.sets(st.sampled_from(AGENTS)),
    credentialed=st.sets(st.sampled_from(AGENTS)),
)
def test_requiring_credentials_blocks_every_uncredentialed_flagged_agent_and_only_adds_blocks(
    flagged: set[str], large: set[str], credentialed: set[str]
) -> None:
    large &= flagged
    view = identity(frozenset(credentialed))
    plain, strict = detector(), detector(require_credentials=True)
    for lv in (plain, strict):
        lv.flagged, lv.too_large = frozenset(flagged), frozenset(large)
        lv.suspected = frozenset(flagged)
    without = blocked_with(plain, view, at(1, 0))
    with_rule = blocked_with(strict, view, at(1, 0))
    assert set(without) == large
    assert set(with_rule) == large | (flagged - credentialed)
    assert set(with_rule) <= flagged  # nobody outside a cluster is ever blocked
    assert list(with_rule) == sorted(with_rule)  # a fixed order, whatever the sets' order
    assert not any(a in credentialed and a not in large for a in with_rule)


def test_a_cluster_under_the_cap_is_blocked_only_where_it_holds_no_credential() -> None:
    lever = detector(require_credentials=True)
    lever.on_interactions(at(0), world(random.Random(2)))
    agents = tuple(pub(a) for a in [*HONEST, "s0", "s1", "s2"])
    view = identity(frozenset({*HONEST, "s0"}))
    effects = lever.on_hook(Hook("epoch_end", at(0), agents=agents, public={IdentityView: view}))
    report = effects[0]
    assert type(report) is SybilReport and report.agents_flagged == 3 and report.agents_blocked == 2
    blocked = {e.agent_id: e.reason for e in effects if type(e) is Evidence and e.finding == "blocked"}
    assert set(blocked) == {"s1", "s2"} and all("without a valid credential" in r for r in blocked.values())
    assert set(blocked_with(lever, view, at(1, 0))) == {"s1", "s2"}
    assert blocked_with(lever, identity(frozenset({"s1", "s2", "s0"})), at(1, 1)) == {}  # credentials issued
    assert lever.blocked(at(1, 2), list(agents)) == {}  # no view at hand: the cap alone (3 is at the cap)


def test_an_uncredentialed_agent_once_flagged_stays_blocked_until_it_holds_a_credential() -> None:
    lever = detector(require_credentials=True)
    lever.on_interactions(at(0), world(random.Random(2)))
    agents = tuple(pub(a) for a in [*HONEST, "s0", "s1", "s2"])
    lever.epoch_end(at(0), agents)
    assert lever.suspected == {"s0", "s1", "s2"}
    lever.profiles = type(lever.profiles)()  # the ring stopped acting: no likeness left
    lever.epoch_end(at(1), agents)
    assert lever.flagged == frozenset()
    assert set(blocked_with(lever, identity(frozenset(HONEST)), at(2, 0))) == {"s0", "s1", "s2"}
    assert blocked_with(lever, identity(frozenset({*HONEST, "s0", "s1", "s2"})), at(2, 1)) == {}


# ------------------------------------------------------------------ trust discount


@pytest.mark.parametrize("trust", [0.0, 0.25, 0.6, 1.0])
def test_a_clusters_penalty_is_scaled_by_one_minus_its_mean_trust(trust: float) -> None:
    lever = detector(trust_discount=True, penalty_multiplier=2.0)
    lever.on_interactions(at(0), world(random.Random(2)))
    view = identity(trust={"s0": trust, "s1": trust, "s2": min(1.0, trust + 0.3)})
    mean = (2 * trust + min(1.0, trust + 0.3)) / 3
    agents = tuple(pub(a) for a in [*HONEST, "s0", "s1", "s2"])
    effects = lever.on_hook(Hook("epoch_end", at(0), agents=agents, public={IdentityView: view}))
    taken = {e.agent_id: e.amount for e in effects if type(e) is ResourceChange}
    lost = {e.agent_id: e.amount for e in effects if type(e) is ReputationChange}
    scale = 2.0 * (1.0 - mean)
    if scale > 0:
        assert taken == {s: pytest.approx(-scale) for s in ("s0", "s1", "s2")}
        assert lost == {s: pytest.approx(-0.1 * scale) for s in ("s0", "s1", "s2")}
    else:
        assert taken == lost == {}
    assert effects[0].penalty == pytest.approx(3 * scale)


def test_an_identity_without_a_trust_score_pays_in_full() -> None:
    lever = detector(trust_discount=True)
    lever.on_interactions(at(0), world(random.Random(2)))
    agents = tuple(pub(a) for a in [*HONEST, "s0", "s1", "s2"])
    effects = lever.on_hook(Hook("epoch_end", at(0), agents=agents, public={IdentityView: identity()}))
    assert sorted(e.amount for e in effects if type(e) is ResourceChange) == [-1.0, -1.0, -1.0]


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize("key", ["sybil_require_credentials", "sybil_trust_discount"])
def test_credential_keys_need_an_identity_section(key: str) -> None:
    with pytest.raises(ScenarioError) as info:
        make_scenario(governance={"sybil_detection_enabled": True, key: True})
    assert f"governance.{key}" in str(info.value) and "identity:" in str(info.value)
    sc = make_scenario(governance={"sybil_detection_enabled": True, key: True}, identity={})
    assert getattr(sc.governance, key) is True


def test_a_credential_key_without_the_lever_names_the_switch() -> None:
    with pytest.raises(ScenarioError) as info:
        make_scenario(governance={"sybil_require_credentials": True}, identity={})
    assert "sybil_detection_enabled" in str(info.value)


@pytest.mark.parametrize("value", ["yes", 1])
def test_a_credential_key_must_be_a_bool(value: Any) -> None:
    with pytest.raises(ScenarioError) as info:
        make_scenario(
            governance={"sybil_detection_enabled": True, "sybil_require_credentials": value}, identity={}
        )
    assert "governance.sybil_require_credentials" in str(info.value)


# ------------------------------------------------------------------ end to end


def _first_sybil_block(tmp_path: Path, seed: int, require: bool) -> tuple[float, set[str], bool]:
    sc = load_scenario(
        SCENARIO,
        [
            f"simulation.seed={seed}",
            "simulation.n_epochs=8",
            f"governance.sybil_require_credentials={str(require).lower()}",
        ],
    )
    out = tmp_path / f"{seed}-{require}"
    result = run(sc, out_dir=out)
    events = read_log(out / "events.jsonl")[1]
    blocked = [e for e in events if type(e) is Evidence and e.lever == "sybil" and e.finding == "blocked"]
    first = min((e.epoch for e in blocked if e.agent_id.startswith("sybil_")), default=8)
    honest = {e.agent_id for e in blocked if e.agent_id.startswith("honest")}
    return float(first), honest, result.passed


def test_requiring_credentials_blocks_planted_sybils_sooner_and_never_an_honest_agent(tmp_path: Path) -> None:
    firsts = {True: [], False: []}  # type: dict[bool, list[float]]
    for seed in (0, 1, 2):
        for require in (True, False):
            first, honest, _ = _first_sybil_block(tmp_path, seed, require)
            firsts[require].append(first)
            assert honest == set()
    assert all(a <= b for a, b in zip(firsts[True], firsts[False], strict=True))
    assert sum(firsts[True]) < sum(firsts[False])


def test_the_shipped_sybil_attack_scenario_meets_its_success_criteria(tmp_path: Path) -> None:
    sc = load_scenario(SCENARIO)
    result = run(sc, out_dir=tmp_path)
    assert result.passed, [c for c in result.criteria if not c.passed]
