"""The four scripted policies, driven with hand-built observations.

Every decision is a pure function of the observation, the policy's random stream
and what it has learnt from ``observe``; so each test builds a snapshot, a
policy with a seeded ``random.Random``, and reads what it decides or answers.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarm.actions import Action, Noop
from swarm.agents.policy import Outcome
from swarm.agents.scripted import (
    AdversarialPolicy,
    DeceptivePolicy,
    HonestPolicy,
    OpportunisticPolicy,
    ScriptedPolicy,
)
from swarm.agents.scripted.honest import COMPLIANT
from swarm.core.interaction import InteractionType, SoftInteraction
from swarm.env.broker import InteractionBroker, ProposalView, Propose
from swarm.env.feed import CastVote, CreatePost, Feed, FeedView, PostView
from swarm.env.tasks import ClaimTask, SubmitWork, TaskBoard, TaskBoardView, TaskView
from swarm.governance.notices import TaxNotice, TransparencyNotice
from swarm.views import AgentPublic, Observation, Snapshot

KINDS: tuple[type[ScriptedPolicy], ...] = (
    HonestPolicy,
    OpportunisticPolicy,
    DeceptivePolicy,
    AdversarialPolicy,
)
RATE_LIMITED: tuple[type[Action], ...] = tuple(
    sorted(
        {
            kind
            for cls in (Feed, TaskBoard, InteractionBroker)
            for limit in cls.rate_limits
            for kind in limit.actions
        },
        key=lambda kind: kind.__name__,
    )
)
"""The action types the built-in components put rate limits on (what ``never``/``exhausted`` may name)."""
SEEDS = range(60)
ME = "me"


# ------------------------------------------------------------------- builders


def agent(
    agent_id: str, reputation: float = 0.0, resources: float = 100.0, frozen: bool = False
) -> AgentPublic:
    return AgentPublic(agent_id, reputation, resources, frozen)


def post(post_id: str, author: str, up: int = 0, down: int = 0) -> PostView:
    return PostView(post_id, author, f"text of {post_id}", upvotes=up, downvotes=down)


def task(
    task_id: str, difficulty: Any = "medium", bounty: float = 5.0, min_reputation: float = 0.0
) -> TaskView:
    return TaskView(task_id, "a task", difficulty, bounty, min_reputation)


def claimed(task_id: str, by: str) -> TaskView:
    return TaskView(task_id, "a task", "medium", 5.0, status="claimed", claimed_by=by)


def seen(
    *others: AgentPublic,
    me: AgentPublic | None = None,
    posts: Sequence[PostView] | None = None,
    open_tasks: Sequence[TaskView] | None = None,
    claimed_tasks: Sequence[TaskView] = (),
    tax: TaxNotice | None = None,
    records: Mapping[str, float] | None = None,
    never: Iterable[type[Action]] = (),
    exhausted: Iterable[type[Action]] = (),
    deterrence: float = 0.0,
) -> Observation:
    """An observation for the agent ``me``; views are present only when given."""
    me = me or agent(ME)
    agents = (me, *others)
    public: dict[type, Any] = {}
    if posts is not None:
        public[FeedView] = FeedView(tuple(posts), len(posts))
    if open_tasks is not None or claimed_tasks:
        public[TaskBoardView] = TaskBoardView(tuple(open_tasks or ()), tuple(claimed_tasks))
    if tax is not None:
        public[TaxNotice] = tax
    if records is not None:
        public[TransparencyNotice] = TransparencyNotice(dict(records))
    spent = frozenset(exhausted)
    snapshot = Snapshot(
        0,
        0,
        agents,
        public,
        exhausted={me.agent_id: spent} if spent else {},
        never=frozenset(never),
        deterrence=deterrence,
    )
    return Observation(me.agent_id, me, snapshot)


def outcome(other: str, p: float, *, accepted: bool = True, role: str = "initiator", me: str = ME) -> Outcome:
    initiator, counterparty = (me, other) if role == "initiator" else (other, me)
    interaction = SoftInteraction(
        interaction_id="ix", initiator=initiator, counterparty=counterparty, accepted=accepted, p=p
    )
    return Outcome(interaction, role, 0.0)  # type: ignore[arg-type]


def proposal(
    initiator: str = "x", kind: InteractionType = InteractionType.COLLABORATION, transfer: float = 0.0
) -> ProposalView:
    return ProposalView("ix-1", initiator, ME, kind, "hello", transfer)


def decisions(policy: ScriptedPolicy, observation: Observation, n: int) -> list[Action]:
    return [policy.decide(observation) for _ in range(n)]


def learnt(policy: ScriptedPolicy, *outcomes: Outcome) -> ScriptedPolicy:
    for o in outcomes:
        policy.observe(o)
    return policy


# ------------------------------------------------------------------- honest


def test_honest_submits_work_on_its_claimed_task_before_anything_else() -> None:
    observation = seen(
        agent("x", 0.9),
        posts=[post("post-1", "x")],
        open_tasks=[task("task-1"), task("task-2", "trivial")],
        claimed_tasks=[claimed("task-9", ME), claimed("task-8", "x")],
    )
    for s in SEEDS:
        action = HonestPolicy(ME, random.Random(s)).decide(observation)
        assert isinstance(action, SubmitWork)
        assert action.task_id == "task-9" and action.conduct == HonestPolicy.default_conduct


def test_honest_claims_only_open_tasks_within_its_reputation() -> None:
    board = [task("task-1", "easy"), task("task-2", "hard", 20.0, min_reputation=5.0), task("task-3")]
    observation = seen(agent("x"), me=agent(ME, reputation=1.0), open_tasks=board, never=[CreatePost])
    claims = [
        a
        for s in SEEDS
        for a in decisions(HonestPolicy(ME, random.Random(s)), observation, 3)
        if isinstance(a, ClaimTask)
    ]
    assert claims  # it does claim
    assert {c.task_id for c in claims} <= {"task-1", "task-3"}  # never one above its reputation
    spent = seen(agent("x"), me=agent(ME, reputation=1.0), open_tasks=board, exhausted=[ClaimTask])
    for s in SEEDS:
        assert not any(
            isinstance(a, ClaimTask) for a in decisions(HonestPolicy(ME, random.Random(s)), spent, 3)
        )


def test_honest_votes_once_per_post_never_on_its_own_and_down_only_on_disliked_posts() -> None:
    posts = [post("post-1", ME, up=9), post("post-2", "x", down=5), post("post-3", "x", up=4)]
    observation = seen(agent("x"), posts=posts, never=[CreatePost, Propose])
    voted_any = False
    for s in SEEDS:
        votes = [
            a
            for a in decisions(HonestPolicy(ME, random.Random(s)), observation, 12)
            if isinstance(a, CastVote)
        ]
        voted_any |= bool(votes)
        ids = [v.post_id for v in votes]
        assert len(ids) == len(set(ids)) and "post-1" not in ids
        assert all(v.direction == (-1 if v.post_id == "post-2" else 1) for v in votes)
        assert len(ids) <= 2
    assert voted_any


def test_honest_proposes_collaborations_to_the_agent_it_trusts_most() -> None:
    others = (agent("b"), agent("c"), agent("d"))
    observation = seen(*others, never=[CreatePost])
    targets = []
    for s in SEEDS:
        policy = learnt(
            HonestPolicy(ME, random.Random(s)), outcome("c", 0.6), outcome("b", 0.9), outcome("d", 0.05)
        )
        for action in decisions(policy, observation, 4):
            if isinstance(action, Propose):
                assert action.interaction_type == InteractionType.COLLABORATION
                targets.append(action.counterparty)
    assert targets and set(targets) == {"b"}


def test_honest_does_not_propose_to_an_agent_it_distrusts() -> None:
    observation = seen(agent("b", frozen=True), agent("d"), never=[CreatePost])
    for s in SEEDS:
        policy = learnt(HonestPolicy(ME, random.Random(s)), outcome("b", 0.95), outcome("d", 0.05))
        assert not any(isinstance(a, Propose) for a in decisions(policy, observation, 4))


def test_honest_declines_a_stranger_whose_published_track_record_is_bad() -> None:
    for s in SEEDS:
        policy = HonestPolicy(ME, random.Random(s))
        assert not policy.accept(seen(agent("x"), records={"x": 0.2}), proposal("x"))
        assert policy.accept(seen(agent("x"), records={"x": 0.9}), proposal("x"))
        assert policy.accept(seen(agent("x")), proposal("x"))  # no transparency notice: a neutral prior


def test_honest_declines_proposals_the_tax_makes_not_worth_it() -> None:
    policy = HonestPolicy(ME, random.Random(0))
    offer = proposal("x")
    assert policy.accept(seen(agent("x")), offer)
    assert policy.accept(seen(agent("x"), tax=TaxNotice(0.05, 0.5)), offer)
    assert not policy.accept(seen(agent("x"), tax=TaxNotice(0.8, 0.0)), offer)
    # the same tax paid entirely by the initiator costs the counterparty nothing
    assert policy.accept(seen(agent("x"), tax=TaxNotice(0.8, 1.0)), offer)
    # a large enough transfer makes the taxed proposal worth it again
    assert policy.accept(seen(agent("x"), tax=TaxNotice(0.8, 0.0)), proposal("x", transfer=5.0))


class _Hooked(HonestPolicy):
    """Overrides an acceptance hook with itself: its accept goes through the hooks, to the same end."""

    def trust_in(self, observation: Observation, agent: AgentPublic | None) -> float:
        return super().trust_in(observation, agent)


@settings(max_examples=150, deadline=None)
@given(
    dealings=st.lists(st.tuples(st.sampled_from("xyz"), st.floats(0, 1), st.booleans()), max_size=6),
    initiator=st.sampled_from(["x", "y", "z", ME, "stranger"]),
    frozen=st.booleans(),
    records=st.none() | st.dictionaries(st.sampled_from("xyz"), st.floats(0, 1), max_size=3),
    tax=st.none() | st.builds(TaxNotice, st.floats(0, 1), st.floats(0, 1)),
    kind=st.sampled_from(list(InteractionType)),
    transfer=st.floats(-10, 10),
    resources=st.floats(0, 10),
)
def test_honest_acceptance_inline_decides_as_its_hooks_do(
    dealings: list[tuple[str, float, bool]],
    initiator: str,
    frozen: bool,
    records: dict[str, float] | None,
    tax: TaxNotice | None,
    kind: InteractionType,
    transfer: float,
    resources: float,
) -> None:
    policy, hooked = HonestPolicy(ME, random.Random(0)), _Hooked(ME, random.Random(0))
    assert not policy._hooked and hooked._hooked
    for other, p, accepted in dealings:
        policy.observe(outcome(other, p, accepted=accepted))
        hooked.observe(outcome(other, p, accepted=accepted))
    others = [agent(a, frozen=frozen and a == initiator) for a in "xyz"]
    observation = seen(*others, me=agent(ME, resources=resources), records=records, tax=tax)
    offer = proposal(initiator, kind, transfer)
    assert policy.accept(observation, offer) == hooked.accept(observation, offer)


def test_a_subclass_overriding_an_acceptance_hook_is_asked_through_it() -> None:
    class Wary(HonestPolicy):
        def worth_it_after_tax(self, observation: Observation, proposal: ProposalView, trust: float) -> bool:
            return False  # nothing is, whatever the tax

    assert HonestPolicy(ME, random.Random(0)).accept(seen(agent("x")), proposal("x"))
    assert not Wary(ME, random.Random(0)).accept(seen(agent("x")), proposal("x"))


def test_honest_declines_a_proposal_asking_more_than_it_has() -> None:
    poor = seen(agent("x"), me=agent(ME, resources=3.0))
    assert not HonestPolicy(ME, random.Random(0)).accept(poor, proposal("x", transfer=-5.0))
    assert HonestPolicy(ME, random.Random(0)).accept(poor, proposal("x", transfer=-1.0))


# ------------------------------------------------------------ opportunistic


def submitted_conduct(seed: int, deterrence: float) -> Any:
    observation = seen(agent("x"), claimed_tasks=[claimed("task-1", ME)], deterrence=deterrence)
    action = OpportunisticPolicy(ME, random.Random(seed)).decide(observation)
    assert isinstance(action, SubmitWork)
    return action.conduct


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    low=st.floats(0.0, 1.0, allow_nan=False),
    high=st.floats(0.0, 1.0, allow_nan=False),
)
def test_opportunist_cuts_fewer_corners_as_deterrence_rises(seed: int, low: float, high: float) -> None:
    """The opportunist's deterrence response is *coded* (an assumption of the model, not learnt).

    With the same random stream, stronger deterrence never lowers its effort nor raises its defects,
    and from deterrence 0.5 on it always works like a compliant agent.
    """
    low, high = sorted((low, high))
    weak, strong = submitted_conduct(seed, low), submitted_conduct(seed, high)
    assert strong.effort >= weak.effort - 1e-12
    assert strong.defects <= weak.defects + 1e-12
    if high >= 0.5:
        assert strong.effort == pytest.approx(COMPLIANT.effort) and strong.defects == 0.0


def test_opportunist_free_rides_less_often_under_deterrence() -> None:
    """Coded deterrence, measured: the share of free-riding submissions falls as deterrence rises."""

    def free_riding(deterrence: float) -> int:
        return sum(submitted_conduct(s, deterrence).effort < 0.2 for s in range(400))

    none, some, strong = free_riding(0.0), free_riding(0.25), free_riding(0.5)
    assert none > some > strong == 0
    assert none > 60  # without deterrence it does free-ride


def test_opportunist_asks_to_be_paid_and_proposes_only_to_rich_or_reputable_agents() -> None:
    others = (agent("rich", -0.5, 500.0), agent("famous", 0.9, 10.0), agent("nobody", 0.0, 10.0))
    observation = seen(*others, never=[CreatePost])
    proposals = [
        a
        for s in SEEDS
        for a in decisions(OpportunisticPolicy(ME, random.Random(s)), observation, 3)
        if isinstance(a, Propose)
    ]
    assert {p.counterparty for p in proposals} == {"rich", "famous"}
    assert all(p.offered_transfer < 0 and p.interaction_type == InteractionType.TRADE for p in proposals)


def test_opportunist_accepts_every_paid_proposal_but_an_unpaid_one_only_from_a_good_partner() -> None:
    observation = seen(agent("x"), agent("y"))
    for s in SEEDS:
        policy = learnt(OpportunisticPolicy(ME, random.Random(s)), outcome("x", 0.1), outcome("y", 0.9))
        assert policy.accept(observation, proposal("x", InteractionType.TRADE, transfer=0.5))
        assert not policy.accept(observation, proposal("x", InteractionType.TRADE))
        assert policy.accept(observation, proposal("y", InteractionType.TRADE))


def test_opportunist_turns_down_a_paid_proposal_the_tax_eats() -> None:
    policy = OpportunisticPolicy(ME, random.Random(0))
    paid = proposal("x", transfer=1.0)
    assert policy.accept(seen(agent("x"), tax=TaxNotice(0.1, 0.5)), paid)
    assert not policy.accept(seen(agent("x"), tax=TaxNotice(1.0, 0.0)), paid)


# ---------------------------------------------------------------- deceptive


def courted(seed: int, dealings: Mapping[str, tuple[int, float]]) -> DeceptivePolicy:
    """A deceptive agent that has had ``n`` accepted dealings of quality p with each agent."""
    policy = DeceptivePolicy(ME, random.Random(seed))
    for other, (n, p) in dealings.items():
        for k in range(n):
            policy.observe(outcome(other, p, role="counterparty" if k % 2 else "initiator"))
    return policy


PARTNERS = (agent("b", 0.5, 200.0), agent("c", 0.5, 200.0), agent("d", 0.5, 200.0))


def is_exploit(action: Action) -> bool:
    return isinstance(action, Propose) and action.conduct == DeceptivePolicy.exploit_conduct


def test_deceptive_builds_trust_with_small_paid_collaborations_and_never_exploits_early() -> None:
    observation = seen(*PARTNERS, never=[CreatePost])
    proposals = []
    for s in SEEDS:
        policy = courted(s, {"b": (2, 0.9), "c": (2, 0.9)})
        assert policy.conduct == DeceptivePolicy.default_conduct
        proposals += [a for a in decisions(policy, observation, 4) if isinstance(a, Propose)]
    assert proposals
    for p in proposals:
        assert p.interaction_type == InteractionType.COLLABORATION
        assert 0 < p.offered_transfer <= 0.5  # a small sweetener, paid by the deceiver
        assert p.conduct == DeceptivePolicy.default_conduct


def test_deceptive_stops_courting_an_agent_after_its_trust_building_phase() -> None:
    observation = seen(*PARTNERS, never=[CreatePost])
    for s in SEEDS:
        policy = courted(s, {"b": (5, 0.3), "c": (5, 0.3)})  # plenty of dealings, but no trust gained
        for action in decisions(policy, observation, 4):
            if isinstance(action, Propose):
                assert action.counterparty == "d"


def test_deceptive_exploits_its_most_trusted_partners_once_it_has_enough_trusted_dealings() -> None:
    observation = seen(*PARTNERS, agent("e", 0.5, 10.0), never=[CreatePost])
    exploits = []
    for s in SEEDS:
        policy = courted(s, {"b": (6, 0.95), "c": (6, 0.75), "e": (6, 0.99)})
        assert policy.conduct == DeceptivePolicy.exploit_conduct  # what it brings when it accepts, too
        exploits += [a for a in decisions(policy, observation, 4) if is_exploit(a)]
    assert exploits
    assert all(isinstance(a, Propose) and a.offered_transfer < 0 for a in exploits)  # it asks to be paid
    assert {a.counterparty for a in exploits} == {"b"}  # most trusted among those worth robbing


def test_deceptive_hides_bad_work_behind_a_facade_only_once_exploiting() -> None:
    observation = seen(*PARTNERS, claimed_tasks=[claimed("task-1", ME)], never=[Propose])
    early = {courted(s, {}).decide(observation).conduct for s in SEEDS}  # type: ignore[attr-defined]
    assert early == {DeceptivePolicy.default_conduct}
    late = {courted(s, {"b": (6, 0.95), "c": (6, 0.95)}).decide(observation).conduct for s in SEEDS}  # type: ignore[attr-defined]
    assert late == {DeceptivePolicy.default_conduct, DeceptivePolicy.exploit_conduct}


def exploits_at(seed: int, deterrence: float) -> bool:
    observation = seen(*PARTNERS, never=[CreatePost], deterrence=deterrence)
    return is_exploit(courted(seed, {"b": (6, 0.95), "c": (6, 0.95)}).decide(observation))


def test_deceptive_exploits_less_under_deterrence() -> None:
    counts = [sum(exploits_at(s, d) for s in range(300)) for d in (0.0, 0.25, 0.5, 1.0)]
    assert counts[0] > counts[1] > counts[2] == counts[3] == 0


@settings(max_examples=100, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    low=st.floats(0.0, 1.0, allow_nan=False),
    high=st.floats(0.0, 1.0, allow_nan=False),
)
def test_deceptive_exploitation_is_monotone_in_deterrence_for_the_same_stream(
    seed: int, low: float, high: float
) -> None:
    low, high = sorted((low, high))
    assert exploits_at(seed, low) or not exploits_at(seed, high)


# -------------------------------------------------------------- adversarial

ALLIES = frozenset({ME, "ally"})


def adversary(seed: int, **config: Any) -> AdversarialPolicy:
    return AdversarialPolicy(ME, random.Random(seed), config, allies=ALLIES)


CROWD = (
    agent("ally", 2.0, 500.0),
    agent("famous", 0.8, 10.0),
    agent("rich", -0.5, 300.0),
    agent("nobody", -0.5, 10.0),
)
TARGETS = {"famous", "rich"}


def test_adversary_attacks_reputable_or_wealthy_non_allies_only() -> None:
    observation = seen(*CROWD, never=[CreatePost])
    proposed: set[str] = set()
    for s in SEEDS:
        for action in decisions(adversary(s), observation, 6):
            if isinstance(action, Propose):
                proposed.add(action.counterparty)
    assert proposed == TARGETS


def test_adversary_never_targets_an_ally_even_the_most_reputable_one() -> None:
    observation = seen(*CROWD, posts=[post("post-1", "ally", up=20), post("post-2", "famous")], open_tasks=[])
    for s in SEEDS:
        policy = adversary(s)
        for action in decisions(policy, observation, 8):
            assert not (isinstance(action, Propose) and action.counterparty == "ally")
            assert not (isinstance(action, CastVote) and action.post_id == "post-1")
        assert policy.accept(observation, proposal("ally", InteractionType.COLLABORATION))


def test_adversary_downvotes_targets_posts_and_never_its_own_or_its_allies() -> None:
    posts = [
        post("own", ME, up=30),
        post("allied", "ally", up=10),
        post("of-famous", "famous", up=3),
        post("of-rich", "rich"),
        post("of-nobody", "nobody", up=1),
    ]
    observation = seen(*CROWD, posts=posts, never=[CreatePost, Propose])
    downvoted: set[str] = set()
    for s in SEEDS:
        for action in decisions(adversary(s), observation, 6):
            if isinstance(action, CastVote):
                assert action.direction == -1
                downvoted.add(action.post_id)
    assert {"of-famous", "of-rich"} <= downvoted
    assert not downvoted & {"own", "allied"}


@pytest.mark.parametrize("cooldown", [0, 1, 2, 3, 5])
def test_adversary_waits_out_its_attack_cooldown_then_attacks_again(cooldown: int) -> None:
    observation = seen(*CROWD)
    attack = "You won't want to miss this opportunity."
    for s in range(10):
        policy = adversary(s, attack_probability=1.0, attack_cooldown=cooldown)
        steps = [
            k
            for k, a in enumerate(decisions(policy, observation, 30))
            if getattr(a, "content", None) == attack
        ]
        gaps = [b - a for a, b in pairwise(steps)]
        assert steps and steps[0] == 0
        assert all(max(cooldown, 1) <= g <= cooldown + 1 for g in gaps)


def test_adversary_never_attacks_while_cooling_down_even_when_certain_to_attack() -> None:
    observation = seen(*CROWD, never=[Propose, CreatePost], open_tasks=[task("task-1")])
    for s in range(10):
        policy = adversary(s, attack_probability=1.0, attack_cooldown=4)
        claims = [k for k, a in enumerate(decisions(policy, observation, 20)) if isinstance(a, ClaimTask)]
        assert claims and all(b - a >= 4 for a, b in pairwise(claims))


# ---------------------------------------------------------- every policy

ids = st.sampled_from([f"a{k}" for k in range(10)])
units = st.floats(0.0, 1.0, allow_nan=False)


@st.composite
def observations(draw: st.DrawFn) -> Observation:
    """Any snapshot the kernel could show: crowds, feeds, boards, notices, spent budgets, deterrence."""
    names = draw(st.lists(ids, unique=True, max_size=10))
    others = [
        agent(n, draw(st.floats(-2.0, 3.0)), draw(st.floats(0.0, 300.0)), draw(st.booleans())) for n in names
    ]
    authors = st.sampled_from([ME, *names])
    posts = None
    if draw(st.booleans()):
        posts = [
            post(f"post-{k}", draw(authors), draw(st.integers(0, 6)), draw(st.integers(0, 6)))
            for k in range(draw(st.integers(0, 6)))
        ]
    open_tasks = None
    if draw(st.booleans()):
        open_tasks = [
            task(
                f"task-{k}",
                draw(st.sampled_from(["trivial", "easy", "medium", "hard", "expert"])),
                draw(st.floats(0.5, 20.0)),
                draw(st.sampled_from([0.0, 0.0, 1.0, 5.0])),
            )
            for k in range(draw(st.integers(0, 12)))
        ]
    claimed_tasks = [claimed(f"task-c{k}", draw(authors)) for k in range(draw(st.integers(0, 2)))]
    return seen(
        *others,
        me=agent(ME, draw(st.floats(-2.0, 3.0)), draw(st.floats(0.0, 300.0))),
        posts=posts,
        open_tasks=open_tasks,
        claimed_tasks=claimed_tasks,
        tax=draw(st.none() | st.builds(TaxNotice, units, units)),
        records=draw(st.none() | st.dictionaries(st.sampled_from(names or [ME]), units)),
        never=draw(st.sets(st.sampled_from(RATE_LIMITED))),
        exhausted=draw(st.sets(st.sampled_from(RATE_LIMITED))),
        deterrence=draw(units),
    )


memories = st.lists(
    st.builds(
        lambda other, p, accepted, role: outcome(other, p, accepted=accepted, role=role),
        ids,
        units,
        st.booleans(),
        st.sampled_from(["initiator", "counterparty"]),
    ),
    max_size=30,
)


def build(kind: type[ScriptedPolicy], seed: int, memory: Sequence[Outcome]) -> ScriptedPolicy:
    policy = kind(ME, random.Random(seed), allies=frozenset({ME, "a0", "a1"}))
    return learnt(policy, *memory)


def well_formed(action: Action, observation: Observation) -> bool:
    """Whether the action names things that exist: an active other agent, a visible post, a task."""
    board = observation.view(TaskBoardView)
    feed = observation.view(FeedView)
    if isinstance(action, Propose):
        return observation.agent(action.counterparty) is not None
    if isinstance(action, CastVote):
        return feed is not None and action.post_id in {p.post_id for p in feed.posts}
    if isinstance(action, ClaimTask):
        return board is not None and action.task_id in {t.task_id for t in board.open_tasks}
    if isinstance(action, SubmitWork):
        return board is not None and action.task_id in {t.task_id for t in board.tasks_of(ME)}
    return isinstance(action, CreatePost | Noop)


@settings(max_examples=150, deadline=None)
@given(observation=observations(), memory=memories, seed=st.integers(0, 2**32 - 1))
def test_no_policy_takes_an_action_its_rate_limits_forbid(
    observation: Observation, memory: list[Outcome], seed: int
) -> None:
    for kind in KINDS:
        policy = build(kind, seed, memory)
        for action in decisions(policy, observation, 4):
            assert observation.can(type(action)), (kind.kind, action)
            assert well_formed(action, observation), (kind.kind, action)


@settings(max_examples=80, deadline=None)
@given(
    steps=st.lists(
        st.tuples(observations(), memories, st.sampled_from(list(InteractionType))), min_size=1, max_size=5
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_decisions_are_a_pure_function_of_observation_stream_and_memory(
    steps: list[tuple[Observation, list[Outcome], InteractionType]], seed: int
) -> None:
    for kind in KINDS:
        runs = []
        for _ in range(2):
            policy = build(kind, seed, [])
            trace: list[Any] = []
            for observation, learnt_now, kind_of in steps:
                trace.append(policy.decide(observation))
                trace.append(policy.accept(observation, proposal("a2", kind_of)))
                trace.append(policy.conduct)
                learnt(policy, *learnt_now)
            runs.append(trace)
        assert runs[0] == runs[1], kind.kind


def test_observe_keeps_the_mean_quality_of_accepted_dealings_as_trust() -> None:
    for kind in KINDS:
        policy = kind(ME, random.Random(0))
        assert policy.trust("x") == 0.5  # a stranger
        policy.observe(outcome("x", 0.9))
        policy.observe(outcome("x", 0.5, role="counterparty"))
        policy.observe(outcome("x", 0.0, accepted=False))  # a declined interaction shows nothing of x's work
        policy.observe(outcome("y", 0.2, role="counterparty"))
        assert policy.trust("x") == pytest.approx(0.7)
        assert policy.trust("y") == pytest.approx(0.2)
        assert policy.trust("z", prior=0.3) == 0.3


def test_an_honest_agent_burnt_by_an_initiator_turns_down_its_next_trade() -> None:
    observation = seen(agent("x"))
    trade = proposal("x", InteractionType.TRADE)
    policy = learnt(HonestPolicy(ME, random.Random(0)), outcome("x", 0.9))
    assert policy.accept(observation, trade)
    learnt(policy, outcome("x", 0.05, role="counterparty"), outcome("x", 0.05))
    assert not policy.accept(observation, trade)
