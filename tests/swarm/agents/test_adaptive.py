"""Learning adversaries: the bandit, the adaptive adversary and what it learns, the ``learning`` switch.

The behavioural claims are measured over seeds on short runs: the adaptive
adversary's strategy mix shifts when audits or the circuit breaker come on, and a
breaker cuts its harm less than that of the same adversary with its learning
stopped (it adapts; the other keeps its habit).
"""

from __future__ import annotations

import copy
import math
import pickle
import random
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import swarm
from swarm.actions import Action, Conduct
from swarm.agents.adaptive import CLEAN, HARMFUL, QUIET, AdaptiveAdversaryPolicy, Strategy
from swarm.agents.learning import EFFORT_COST, ConductLearner, DiscountedUCB, Episodes
from swarm.agents.policy import Outcome
from swarm.agents.scripted import DeceptivePolicy, OpportunisticPolicy
from swarm.agents.scripted.honest import COMPLIANT
from swarm.agents.scripted.opportunistic import FREE_RIDE
from swarm.core.interaction import SoftInteraction
from swarm.env.broker import Propose
from swarm.env.feed import CastVote, CreatePost, FeedView, PostView
from swarm.errors import ScenarioError
from swarm.events import InteractionCompleted
from swarm.governance.notices import AuditNotice, BreakerNotice, TaxNotice
from swarm.runtime.rng import Stream
from swarm.runtime.simulation import Simulation
from swarm.views import AgentPublic, Observation, Snapshot
from tests.conftest import ROOT

ME = "me"

# ------------------------------------------------------------------- builders


def seen(
    *others: AgentPublic,
    epoch: int = 0,
    step: int = 0,
    me: AgentPublic | None = None,
    posts: Sequence[PostView] = (),
    public: Mapping[type, Any] | None = None,
    deterrence: float = 0.0,
) -> Observation:
    me = me or AgentPublic(ME, 0.0, 100.0)
    views: dict[type, Any] = dict(public or {})
    if posts:
        views[FeedView] = FeedView(tuple(posts), len(posts))
    snapshot = Snapshot(epoch, step, (me, *others), views, deterrence=deterrence)
    return Observation(me.agent_id, me, snapshot)


OTHERS = (AgentPublic("a", 1.0, 100.0), AgentPublic("b", 0.2, 60.0), AgentPublic("ally", 0.0, 100.0))


def outcome(
    other: str,
    p: float,
    payoff: float = 0.0,
    *,
    role: str = "initiator",
    c: float = 0.0,
    accepted: bool = True,
) -> Outcome:
    initiator, counterparty = (ME, other) if role == "initiator" else (other, ME)
    interaction = SoftInteraction(
        interaction_id="ix",
        initiator=initiator,
        counterparty=counterparty,
        accepted=accepted,
        p=p,
        c_a=c if role == "initiator" else 0.0,
        c_b=c if role == "counterparty" else 0.0,
    )
    return Outcome(interaction, role, payoff)  # type: ignore[arg-type]


def adversary(seed: int = 0, **config: Any) -> AdaptiveAdversaryPolicy:
    return AdaptiveAdversaryPolicy(ME, random.Random(seed), config, allies=frozenset({ME, "ally"}))


# --------------------------------------------------------------------- bandit


@settings(max_examples=100, deadline=None)
@given(
    rewards=st.lists(
        st.tuples(st.integers(0, 3), st.floats(-5, 5, allow_nan=False)), min_size=1, max_size=30
    ),
    discount=st.floats(0.05, 1.0),
)
def test_discounted_ucb_fades_old_evidence_by_its_discount(
    rewards: list[tuple[int, float]], discount: float
) -> None:
    """Law: one update multiplies every arm's count and sum by the discount, then adds the play."""
    bandit = DiscountedUCB(4, discount=discount)
    for arm, reward in rewards:
        counts, sums = list(bandit.counts), list(bandit.sums)
        bandit.update(arm, reward)
        for k in range(4):
            assert bandit.counts[k] == pytest.approx(discount * counts[k] + (k == arm))
            assert bandit.sums[k] == pytest.approx(discount * sums[k] + (reward if k == arm else 0.0))
    assert sum(bandit.pulls) == len(rewards)
    assert sum(bandit.counts) <= len(rewards) + 1e-9


def test_discounted_ucb_tries_every_arm_in_order_then_prefers_the_best() -> None:
    bandit, rng = DiscountedUCB(3, discount=1.0, bonus=0.0), random.Random(0)
    tried = []
    for reward in (0.1, 0.9, 0.5):
        arm = bandit.choose(rng)
        tried.append(arm)
        bandit.update(arm, reward)
    assert tried == [0, 1, 2]
    assert bandit.choose(rng) == 1
    assert bandit.choose(rng, allowed=[0, 2]) == 2
    picks = {bandit.choose(rng, explore=1.0) for _ in range(200)}
    assert picks == {0, 1, 2}


@pytest.mark.parametrize("seed", range(5))
def test_discounting_follows_a_world_that_changes(seed: int) -> None:
    """Arm 0 pays first, then arm 1: a discounted bandit switches far sooner than one that never forgets."""

    def switch_time(discount: float) -> int:
        bandit, rng = DiscountedUCB(2, discount=discount, bonus=0.1), random.Random(seed)
        for t in range(400):
            arm = bandit.choose(rng)
            good = 0 if t < 100 else 1
            bandit.update(arm, (1.0 if arm == good else 0.0) + rng.uniform(-0.1, 0.1))
            if t >= 100 and all(bandit.choose(random.Random(k)) == 1 for k in range(3)):
                return t - 100
        return 400

    assert switch_time(0.8) < 30 <= switch_time(1.0)


def test_bandit_and_episode_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="at least one arm"):
        DiscountedUCB(0)
    with pytest.raises(ValueError, match="discount"):
        DiscountedUCB(2, discount=0.0)
    with pytest.raises(ValueError, match="finite"):
        DiscountedUCB(2).update(0, math.nan)
    with pytest.raises(ValueError, match="at least one step"):
        Episodes(DiscountedUCB(2), 0)


def test_an_episode_that_spans_a_freeze_is_scored_over_the_steps_lost() -> None:
    ep, rng = Episodes(DiscountedUCB(2, discount=1.0), 5), random.Random(0)
    for step in range(10):  # epoch 0 teaches it 10 steps per epoch
        ep.tick(seen(epoch=0, step=step), rng)
    arm, missed = ep.tick(seen(epoch=1, step=0), rng)
    assert not missed and ep.per_epoch == 10
    ep.credit(2.0)
    before = ep.bandit.sums[arm]
    _, missed = ep.tick(seen(epoch=4, step=0), rng)  # epochs 1 (rest), 2 and 3 lost
    assert missed and ep.frozen == 1
    assert ep.bandit.sums[arm] - before == pytest.approx(2.0 / 30)  # earned 2 over 30 steps


# ----------------------------------------------------------- the adversary


def everything(policy: AdaptiveAdversaryPolicy, steps: int = 60) -> list[Action]:
    posts = [PostView("p1", "a", "hi", upvotes=3), PostView("p2", "ally", "yo")]
    return [policy.decide(seen(*OTHERS, epoch=s // 10, step=s % 10, posts=posts)) for s in range(steps)]


@pytest.mark.parametrize("strategy", [s.value for s in Strategy])
def test_every_strategy_acts_as_itself_with_real_counterparties(strategy: str) -> None:
    """The reference's adversary acted as agent "" and proposed to nobody; here each strategy acts, aimed."""
    actions = [a for seed in range(8) for a in everything(adversary(seed, strategies=[strategy]))]
    kinds = {type(a) for a in actions}
    assert kinds & {Propose, CreatePost, CastVote}
    for a in actions:
        if isinstance(a, Propose):
            assert a.counterparty in {"a", "b", "ally"}
            assert a.content


def test_attacks_are_harmful_and_clean_work_is_careful() -> None:
    griefer = [a for s in range(5) for a in everything(adversary(s, strategies=["griefing"]))]
    assert {a.conduct for a in griefer if isinstance(a, Propose)} == {HARMFUL}
    farmer = [a for s in range(5) for a in everything(adversary(s, strategies=["reputation_farming"]))]
    assert {a.conduct for a in farmer if isinstance(a, Propose)} == {CLEAN}  # reputation 0 < 5: still farming
    rich = AgentPublic(ME, 9.0, 100.0)
    harvest = adversary(strategies=["reputation_farming"]).decide(seen(*OTHERS, me=rich))
    assert isinstance(harvest, Propose) and harvest.conduct == HARMFUL and harvest.counterparty == "a"


def test_collusion_pumps_allies_and_never_attacks_them() -> None:
    actions = [a for s in range(10) for a in everything(adversary(s, strategies=["collusion"]))]
    to_ally = [a for a in actions if isinstance(a, Propose) and a.counterparty == "ally"]
    assert to_ally and all(a.conduct == CLEAN and a.offered_transfer > 0 for a in to_ally)
    assert all(a.conduct == HARMFUL for a in actions if isinstance(a, Propose) and a.counterparty != "ally")


def test_governance_gaming_keeps_its_rolling_toxicity_under_the_published_breaker() -> None:
    policy = adversary(strategies=["governance_gaming"])
    breaker = {BreakerNotice: BreakerNotice(0.55, 3, 2)}
    for step in range(40):
        action = policy.decide(seen(*OTHERS, epoch=step // 10, step=step % 10, public=breaker))
        if isinstance(action, Propose):
            p = 0.42 if action.conduct == HARMFUL else 0.73
            policy.observe(outcome(action.counterparty, p))
    window = policy._window
    assert len(window) == 10 and sum(window) / len(window) < 0.55
    assert policy._episodes.frozen == 0


def test_threshold_dancing_backs_off_when_audited_and_creeps_back_when_not() -> None:
    policy = adversary(strategies=["threshold_dancing"])
    audit = {AuditNotice: AuditNotice(0.3, 0.6, 3.0)}
    policy.decide(seen(*OTHERS, public=audit))
    start = policy._dance
    policy.observe(outcome("a", 0.5, c=0.3))  # below the published threshold, and penalised
    assert policy._dance < start and policy.detections == 1
    low = policy._dance
    for _ in range(5):
        policy.observe(outcome("a", 0.9))
    assert policy._dance > low


def test_only_costs_above_the_published_tax_count_as_detection() -> None:
    policy = adversary()
    policy.decide(seen(*OTHERS, public={TaxNotice: TaxNotice(0.1, 0.5)}))
    tax = 0.1 * 0.5 * (3 * 0.8 - 1)
    policy.observe(outcome("a", 0.8, c=tax))
    assert policy.detections == 0
    policy.observe(outcome("a", 0.8, c=tax + 0.5))
    assert policy.detections == 1


def test_heat_from_detections_keeps_it_to_quiet_strategies_until_it_cools() -> None:
    policy = adversary(heat_threshold=0.5, episode_steps=1)
    quiet = {Strategy(s) for s in QUIET}
    played: list[tuple[int, Strategy | None]] = []
    for epoch in range(12):
        for step in range(3):
            policy.decide(seen(*OTHERS, epoch=epoch, step=step))
            if epoch in (2, 3) and step == 0:
                policy.observe(outcome("a", 0.3, c=1.0))  # audited, twice
            played.append((epoch, policy.strategy))
    assert policy.heat < 0.5  # it cooled
    hot = [s for e, s in played if 4 <= e <= 5]
    assert hot and set(hot) <= quiet
    assert {s for e, s in played if e >= 9} - quiet  # and came back to everything


def test_a_freeze_is_a_detection_blamed_on_the_strategy_that_did_the_harm() -> None:
    policy = adversary(strategies=["griefing", "low_profile"], episode_steps=1, heat_threshold=1.0)
    for step in range(10):
        policy.decide(seen(*OTHERS, epoch=0, step=step))
        if policy.strategy is Strategy.GRIEFING:
            policy.observe(outcome("a", 0.4, 0.0))
    before = policy.bandit.sums[0]
    policy.decide(seen(*OTHERS, epoch=4, step=0))
    assert policy.detections == 1 and policy._episodes.frozen == 1
    assert policy.bandit.sums[0] < before - 1.0


def test_it_pickles_mid_run_and_the_copy_decides_the_same() -> None:
    policy = AdaptiveAdversaryPolicy(ME, Stream.of(7, "agent", ME), {}, allies=frozenset({ME, "ally"}))
    everything(policy, 37)
    policy.observe(outcome("a", 0.4, 1.0))
    twin = pickle.loads(pickle.dumps(policy))
    assert everything(twin, 40) == everything(policy, 40)
    assert twin.report() == policy.report()


def test_its_report_names_its_strategy_heat_and_what_each_strategy_earned() -> None:
    policy = adversary(episode_steps=2)
    everything(policy, 30)
    report = policy.report()
    assert report["current_strategy"] in {s.value for s in Strategy}
    assert set(report["strategy_stats"]) <= {s.value for s in Strategy}
    assert sum(policy.strategy_mix().values()) == pytest.approx(1.0)


# --------------------------------------------------------- the learning switch


def drive(policy: OpportunisticPolicy, payoff_of: Any, epochs: int = 40) -> Conduct:
    """Ten steps an epoch; whatever it proposes gets the payoff ``payoff_of(conduct)``."""
    rich = (AgentPublic("a", 1.0, 100.0),)
    for epoch in range(epochs):
        for step in range(10):
            action = policy.decide(seen(*rich, epoch=epoch, step=step))
            if isinstance(action, Propose):
                policy.observe(outcome(action.counterparty, 0.6, payoff_of(action.conduct)))
    assert policy.learner is not None
    return policy.conduct


@pytest.mark.parametrize("seed", range(4))
def test_a_learning_opportunist_adopts_the_conduct_that_pays(seed: int) -> None:
    careful = drive(
        OpportunisticPolicy(ME, random.Random(seed), learning=True),
        lambda c: 2.0 if c == COMPLIANT else -1.0,  # careless work is penalised
    )
    assert careful == COMPLIANT
    lazy = drive(
        OpportunisticPolicy(ME, random.Random(seed), learning=True),
        lambda c: 0.5,  # effort is not rewarded: only its private cost counts
    )
    assert lazy == FREE_RIDE


@pytest.mark.parametrize("kind", [OpportunisticPolicy, DeceptivePolicy])
def test_a_learner_ignores_the_coded_deterrence(kind: type[Any]) -> None:
    def acts(deterrence: float, learning: bool) -> list[Action]:
        policy = kind(ME, random.Random(3), learning=learning)
        for k in range(12):  # a trusted history with two partners: a deceptive agent starts exploiting
            policy.observe(outcome("a" if k % 2 else "b", 0.9, role="counterparty"))
        return [
            policy.decide(seen(*OTHERS, epoch=s // 10, step=s % 10, deterrence=deterrence)) for s in range(50)
        ]

    assert acts(0.0, True) == acts(1.0, True)
    assert acts(0.0, False) != acts(1.0, False)  # the coded one reads deterrence


def test_the_conduct_learner_credits_each_outcome_to_the_conduct_that_made_it() -> None:
    learner = ConductLearner((COMPLIANT, FREE_RIDE))
    rng = random.Random(0)
    learner.tick(seen(step=0), rng)
    learner.proposed("a")  # made with arm 0
    learner.episodes.arm = 1  # the episode moved on before the outcome came
    learner.observe(outcome("a", 0.7, 1.0))
    assert learner.episodes.gain == pytest.approx(1.0 - EFFORT_COST * COMPLIANT.effort)


# ------------------------------------------------------------------ scenarios

BASE: dict[str, Any] = {
    "scenario_id": "learning",
    "agents": [{"type": "honest", "count": 3}, {"type": "opportunistic", "count": 2}, {"type": "deceptive"}],
    "simulation": {"n_epochs": 3, "steps_per_epoch": 5, "seed": 5},
}


def with_agents(*agents: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data["agents"] = list(agents)
    return data


def test_a_scenario_without_the_new_keys_dumps_as_before_and_learning_true_is_recorded() -> None:
    plain = swarm.load_scenario(BASE).model_dump(mode="json")
    assert all("learning" not in a for a in plain["agents"])
    off = copy.deepcopy(BASE)
    off["agents"][1]["learning"] = False
    assert swarm.load_scenario(off).model_dump(mode="json") == plain
    on = copy.deepcopy(BASE)
    on["agents"][1]["learning"] = True
    on["agents"][2]["learning"] = True
    dumped = swarm.load_scenario(on).model_dump(mode="json")["agents"]
    assert dumped[1]["learning"] is True and dumped[2]["learning"] is True


def test_learning_changes_a_run_and_the_same_seed_gives_the_same_log(tmp_path: Any) -> None:
    on = copy.deepcopy(BASE)
    on["agents"][1]["learning"] = True
    logs = []
    for k, data in enumerate((BASE, on, on)):
        swarm.run(swarm.load_scenario(data), out_dir=tmp_path / str(k))
        logs.append((tmp_path / str(k) / "events.jsonl").read_bytes().splitlines()[:-1])  # not run_ended
    assert logs[1] == logs[2] and logs[0] != logs[1]


@pytest.mark.parametrize(
    ("item", "where", "what"),
    [
        ({"type": "honest", "learning": True}, "agents.0.learning", "unknown key"),
        ({"type": "opportunistic", "learning": "yes"}, "agents.0.learning", "boolean"),
        ({"type": "adaptive_adversary", "config": {"strategies": ["nope"]}}, "strategies.0", "sybil"),
        ({"type": "adaptive_adversary", "config": {"strategies": ["sybil", "sybil"]}}, "strategies", "once"),
        ({"type": "adaptive_adversary", "config": {"strategies": []}}, "strategies", "at least 1"),
        ({"type": "adaptive_adversary", "config": {"learning_rate": 1.0}}, "learning_rate", "< 1"),
        ({"type": "adaptive_adversary", "config": {"heat_threshold": 1.5}}, "heat_threshold", "1"),
        ({"type": "adaptive_adversary", "config": {"episode_steps": 0}}, "episode_steps", "1"),
    ],
)
def test_bad_new_keys_are_refused_naming_where_and_why(item: dict[str, Any], where: str, what: str) -> None:
    with pytest.raises(ScenarioError) as info:
        swarm.load_scenario(with_agents(item))
    assert where in str(info.value) and what in str(info.value)


def test_the_reference_red_team_file_keeps_its_adaptive_adversaries_and_they_act(tmp_path: Any) -> None:
    import yaml

    from swarm.scenario._compat import not_available_yet

    data = yaml.safe_load(
        (ROOT / "tests" / "fixtures" / "reference_scenarios" / "adversarial_redteam.yaml").read_text()
    )
    while (found := not_available_yet(data)) is not None:
        node: Any = data
        for part in found[0][:-1]:
            node = node[part]
        assert found[0][-1] != "type"  # the adaptive adversary is no longer a later capability
        del node[found[0][-1]]
    data["simulation"].update(n_epochs=3, steps_per_epoch=6)
    scenario = swarm.load_scenario(data)
    assert [a.type for a in scenario.agents].count("adaptive_adversary") == 1
    swarm.run(scenario, out_dir=tmp_path)
    from swarm.runtime.eventlog import read_log

    _, events = read_log(tmp_path / "events.jsonl")
    assert all(getattr(e, "agent_id", "x") != "" for e in events)
    initiated = [
        e
        for e in events
        if isinstance(e, InteractionCompleted) and e.interaction.initiator.startswith("adaptive_adversary")
    ]
    assert initiated


# ------------------------------------------------- what it learns, over seeds

SEEDS = range(8)
AUDITS = {
    "audit_enabled": True,
    "audit_probability": 0.3,
    "audit_penalty_multiplier": 3.0,
    "audit_threshold_p": 0.6,
}
BREAKER = {"circuit_breaker_enabled": True}  # the lever's defaults: toxicity 0.55, 3 violations, 2 epochs


def world(governance: Mapping[str, Any], seed: int, epochs: int, w_rep: float = 1.0) -> swarm.Scenario:
    return swarm.load_scenario(
        {
            "scenario_id": "red",
            "payoff": {"w_rep": w_rep},
            "agents": [
                {"type": "honest", "count": 4},
                {"type": "opportunistic", "count": 2},
                {"type": "adaptive_adversary", "count": 2},
            ],
            "governance": dict(governance),
            "simulation": {"n_epochs": epochs, "steps_per_epoch": 10, "seed": seed},
        }
    )


def adversaries(scenario: swarm.Scenario) -> dict[str, AdaptiveAdversaryPolicy]:
    ids = [a for a, spec in scenario.agent_ids() if spec.type == "adaptive_adversary"]
    seed = scenario.simulation.seed
    return {
        a: AdaptiveAdversaryPolicy(a, Stream.of(seed, "agent", a), {}, allies=frozenset(ids)) for a in ids
    }


def play(scenario: swarm.Scenario, policies: dict[str, AdaptiveAdversaryPolicy]) -> float:
    """Run with these adversaries; the truly harmful interactions they initiated, per adversary per epoch."""
    harmful = 0

    async def main() -> None:
        nonlocal harmful
        async with Simulation(scenario, policies=policies) as sim:
            async for e in sim.events():
                if isinstance(e, InteractionCompleted):
                    i = e.interaction
                    harmful += i.accepted and i.initiator in policies and i.ground_truth == -1

    anyio.run(main)
    return harmful / (scenario.simulation.n_epochs * len(policies))


def mix(policies: Mapping[str, AdaptiveAdversaryPolicy], names: Sequence[str]) -> float:
    return statistics.fmean(sum(p.strategy_mix()[n] for n in names) for p in policies.values())


def paired_low(xs: Sequence[float]) -> float:
    """Lower end of the 95 % interval of the mean (t, df = 7)."""
    return statistics.fmean(xs) - 2.365 * statistics.stdev(xs) / math.sqrt(len(xs))


@pytest.fixture(scope="module")
def mixes() -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"off_loud": [], "breaker_loud": [], "off_quiet": [], "audit_quiet": []}
    loud, quiet = ("sybil", "griefing"), tuple(QUIET)
    for seed in SEEDS:
        for name, governance in (("off", {}), ("breaker", BREAKER), ("audit", AUDITS)):
            scenario = world(governance, seed, 25)
            policies = adversaries(scenario)
            play(scenario, policies)
            if name != "audit":
                out[f"{name}_loud"].append(mix(policies, loud))
            if name != "breaker":
                out[f"{name}_quiet"].append(mix(policies, quiet))
    return out


def test_the_circuit_breaker_shifts_its_mix_away_from_strategies_it_gets_frozen_for(
    mixes: dict[str, list[float]],
) -> None:
    drop = [a - b for a, b in zip(mixes["off_loud"], mixes["breaker_loud"], strict=True)]
    assert paired_low(drop) > 0.05, drop


def test_audits_shift_its_mix_toward_quiet_strategies(mixes: dict[str, list[float]]) -> None:
    rise = [b - a for a, b in zip(mixes["off_quiet"], mixes["audit_quiet"], strict=True)]
    assert paired_low(rise) > 0.1, rise


def test_a_breaker_cuts_a_learners_harm_less_than_that_of_the_same_adversary_that_stopped_learning() -> None:
    """Both adversaries learnt for 30 epochs without governance; then the breaker comes on.

    The one that goes on learning moves off the strategies that get it frozen; the one
    that stopped keeps its habit, is frozen more, and its harm falls further. The payoff's
    reputation term is off (``w_rep`` 0): it charges harm to the harmer too, which the
    learner also learns from, so with it the two ratios are closer (about 0.89 against 0.86).
    """
    kept: dict[tuple[str, bool], list[float]] = {}
    for seed in SEEDS:
        school = world({}, 1000 + seed, 30, w_rep=0.0)
        trained = adversaries(school)
        play(school, trained)
        for name, governance in (("off", {}), ("breaker", BREAKER)):
            for learning in (True, False):
                scenario = world(governance, seed, 20, w_rep=0.0)
                policies = {
                    a: p.carried_over(Stream.of(seed, "agent", a), learning=learning)
                    for a, p in trained.items()
                }
                kept.setdefault((name, learning), []).append(play(scenario, policies))
    ratio = {
        learning: statistics.fmean(kept[("breaker", learning)]) / statistics.fmean(kept[("off", learning)])
        for learning in (True, False)
    }
    assert ratio[False] < 0.9  # the breaker bites the habit
    assert ratio[True] > ratio[False] + 0.05, ratio


def test_learners_resume_from_a_checkpoint_to_the_log_of_an_uninterrupted_run(tmp_path: Any) -> None:
    """Everything they learn lives in the policy objects, so a checkpoint carries it over."""
    from swarm.runtime import checkpoint as ck

    data = copy.deepcopy(BASE)
    data["agents"][1]["learning"] = True
    data["agents"][2]["learning"] = True
    data["agents"].append({"type": "adaptive_adversary", "count": 2, "config": {"episode_steps": 2}})
    data["governance"] = {"circuit_breaker_enabled": True, "audit_enabled": True}
    data["simulation"].update(n_epochs=6, steps_per_epoch=6)
    scenario = swarm.load_scenario(data)
    swarm.run(scenario, out_dir=tmp_path / "plain")
    swarm.run(scenario, out_dir=tmp_path / "killed", checkpoint_every=1)
    log = tmp_path / "killed" / "events.jsonl"
    cut = ck.read_info(ck.path_for(tmp_path / "killed", 3)).log_bytes + 100  # mid-epoch 4
    with log.open("r+b") as fh:
        fh.truncate(cut)
    for path in ck.list_checkpoints(tmp_path / "killed"):
        if ck.read_info(path).log_bytes > cut:
            path.unlink()

    async def resume() -> None:
        async with Simulation.resume_run(tmp_path / "killed") as sim:
            await sim.wait()

    anyio.run(resume)
    assert (
        log.read_bytes().splitlines()[:-1]
        == (tmp_path / "plain" / "events.jsonl").read_bytes().splitlines()[:-1]
    )
