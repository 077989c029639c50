"""The interaction broker: proposals, who is asked what, labelling in proposal order, and expiry."""

from __future__ import annotations

import inspect
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from swarm.actions import Conduct
from swarm.core.interaction import InteractionType, SoftInteraction
from swarm.core.payoff import SoftPayoffEngine
from swarm.core.proxy import ProxyComputer
from swarm.env.broker import (
    BrokerState,
    Decision,
    InteractionBroker,
    InteractionProposed,
    ProposalExpired,
    ProposalView,
    Propose,
)
from swarm.events import ActionRejected
from swarm.kernel.component import At, Setup, Turn
from swarm.views import AgentPublic, Observation, Snapshot
from tests.conftest import make_scenario

CAREFUL = Conduct(effort=0.8, sloppiness=0.0, engagement=0.5)
SHODDY = Conduct(effort=-0.8, sloppiness=1.0, defects=1.0, misuse=1.0, engagement=-0.5)
YES = Decision(True, CAREFUL)
NO = Decision(False)


def broker(seed: int = 0, ttl: int = 1) -> BrokerState:
    return BrokerState(random.Random(seed), ProxyComputer(sigmoid_k=2.0), ttl_steps=ttl)


def at(clock: int, steps: int = 10) -> At:
    return At(clock // steps, clock % steps, clock)


def offer(to: str, tau: float = 0.0, conduct: Conduct = CAREFUL, **kw: object) -> Propose:
    return Propose(counterparty=to, offered_transfer=tau, conduct=conduct, **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------- proposals


def test_a_proposal_is_recorded_and_announced() -> None:
    s = broker()
    event = s.propose(at(12), "a", offer("b", 2.0, interaction_type=InteractionType.TRADE, content="deal?"))
    assert event == InteractionProposed(
        epoch=1,
        step=2,
        interaction_id="ix-1",
        initiator="a",
        counterparty="b",
        interaction_type=InteractionType.TRADE,
        conduct=CAREFUL,
        offered_transfer=2.0,
    )
    assert s.by_counterparty() == {
        "b": [ProposalView("ix-1", "a", "b", InteractionType.TRADE, "deal?", 2.0)],
    }


def test_questions_are_grouped_by_counterparty_in_proposal_order() -> None:
    s = broker()
    for initiator, to in [("a", "b"), ("c", "b"), ("b", "a"), ("a", "c"), ("d", "b")]:
        s.propose(at(0), initiator, offer(to))
    asked = s.by_counterparty()
    assert {k: [(q.proposal_id, q.initiator) for q in v] for k, v in asked.items()} == {
        "b": [("ix-1", "a"), ("ix-2", "c"), ("ix-5", "d")],
        "a": [("ix-3", "b")],
        "c": [("ix-4", "a")],
    }


# -------------------------------------------------------------- resolution


def test_answered_proposals_are_labelled_in_proposal_order() -> None:
    s = broker()
    for initiator, to in [("a", "b"), ("b", "c"), ("c", "a")]:
        s.propose(at(3), initiator, offer(to, tau=1.5))
    decisions = {"ix-3": YES, "ix-1": NO, "ix-2": YES}  # answers arrive in any order
    done, expired = s.resolve(at(3), decisions)
    assert expired == []
    assert [(i.interaction_id, i.initiator, i.counterparty, i.accepted) for i in done] == [
        ("ix-1", "a", "b", False),
        ("ix-2", "b", "c", True),
        ("ix-3", "c", "a", True),
    ]
    assert all(0.0 <= i.p <= 1.0 and -1.0 <= i.v_hat <= 1.0 for i in done)
    assert all(i.ground_truth in (-1, 1) and (i.epoch, i.step) == (0, 3) for i in done)
    assert [i.tau for i in done] == [0.0, 1.5, 1.5]  # the transfer is paid only when accepted
    assert s.pending == {}


def test_an_answered_proposal_is_asked_once() -> None:
    s = broker(ttl=5)
    s.propose(at(0), "a", offer("b"))
    s.propose(at(0), "a", offer("c"))
    done, _ = s.resolve(at(0), {"ix-1": YES})
    assert [i.interaction_id for i in done] == ["ix-1"]
    assert list(s.by_counterparty()) == ["c"]
    done, _ = s.resolve(at(1), {"ix-1": YES, "ix-2": NO})  # a stale answer to ix-1 is ignored
    assert [i.interaction_id for i in done] == ["ix-2"]


def test_careful_work_is_labelled_better_than_shoddy_work() -> None:
    s = broker(seed=3, ttl=1)
    for k in range(40):
        s.propose(at(0), "a", offer("b", conduct=CAREFUL if k % 2 == 0 else SHODDY))
    done, _ = s.resolve(at(0), {f"ix-{k}": YES for k in range(1, 41)})
    careful = [i.p for i in done if int(i.interaction_id[3:]) % 2 == 1]
    shoddy = [i.p for i in done if int(i.interaction_id[3:]) % 2 == 0]
    assert min(careful) > max(shoddy)


def test_unanswered_proposals_wait_their_time_to_live_then_expire() -> None:
    s = broker(ttl=3)
    s.propose(at(10), "a", offer("b"))
    s.propose(at(11), "c", offer("b"))
    for clock in (10, 11, 12):
        done, expired = s.resolve(at(clock), {})
        assert done == [] and expired == []
    done, expired = s.resolve(at(13), {})
    assert done == []
    assert expired == [
        ProposalExpired(
            epoch=1,
            step=3,
            interaction_id="ix-1",
            initiator="a",
            counterparty="b",
            reason="no answer from the counterparty",
        )
    ]
    assert list(s.pending) == ["ix-2"]
    _, expired = s.resolve(at(14), {})
    assert [e.interaction_id for e in expired] == ["ix-2"]  # type: ignore[attr-defined]
    assert s.by_counterparty() == {}


def test_with_the_default_time_to_live_an_unanswered_proposal_expires_at_the_next_step() -> None:
    s = broker(ttl=1)
    s.propose(at(0), "a", offer("b"))
    assert s.resolve(at(0), {}) == ([], [])
    assert list(s.by_counterparty()) == ["b"]
    _, expired = s.resolve(at(1), {})
    assert [e.interaction_id for e in expired] == ["ix-1"]  # type: ignore[attr-defined]
    assert s.pending == {}


def labels(seed: int) -> list[SoftInteraction]:
    s = broker(seed=seed)
    for k, conduct in enumerate([CAREFUL, SHODDY, Conduct()] * 3):
        s.propose(at(0), "a", offer("b", conduct=conduct, tau=float(k)))
    done, _ = s.resolve(at(0), {f"ix-{k}": YES if k % 2 else NO for k in range(1, 10)})
    return done


def test_labelling_is_deterministic_for_a_seed() -> None:
    assert labels(11) == labels(11)
    assert [i.p for i in labels(11)] != [i.p for i in labels(12)]


conducts = st.builds(
    Conduct,
    effort=st.floats(-1.0, 1.0),
    facade=st.floats(0.0, 1.0),
    sloppiness=st.floats(0.0, 1.0),
    defects=st.floats(0.0, 1.0),
    misuse=st.floats(0.0, 1.0),
    engagement=st.floats(-1.0, 1.0),
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(conducts, st.booleans(), st.floats(-100.0, 100.0)), min_size=1, max_size=10),
    st.integers(0, 99),
)
def test_every_label_is_a_probability_and_only_accepted_ones_carry_a_transfer(
    plan: list[tuple[Conduct, bool, float]], seed: int
) -> None:
    s = broker(seed=seed)
    for conduct, _, tau in plan:
        s.propose(at(0), "a", offer("b", tau=tau, conduct=conduct))
    decisions = {
        f"ix-{k}": Decision(accept, CAREFUL if accept else None) for k, (_, accept, _) in enumerate(plan, 1)
    }
    done, _ = s.resolve(at(0), decisions)
    assert len(done) == len(plan)
    for i, (_, accept, tau) in zip(done, plan, strict=True):
        assert 0.0 <= i.p <= 1.0 and -1.0 <= i.v_hat <= 1.0
        assert i.accepted == accept and i.tau == (tau if accept else 0.0)


# --------------------------------------------------------------- component

AGENTS = {"a": "honest", "b": "honest", "c": "honest"}


def component(seed: int = 7, ttl: int = 1) -> InteractionBroker:
    scenario = make_scenario(seed=seed, environment={"proposal_ttl_steps": ttl})
    return InteractionBroker(
        Setup(scenario, scenario.section("broker"), SoftPayoffEngine(scenario.payoff), AGENTS)
    )


def publics(frozen: str = "") -> dict[str, AgentPublic]:
    return {a: AgentPublic(a, 0.0, 100.0, frozen=a == frozen) for a in AGENTS}


def test_proposals_to_oneself_unknown_or_frozen_agents_are_rejected() -> None:
    ib = component()
    turns = [
        Turn(0, "a", offer("a")),
        Turn(1, "a", offer("zed")),
        Turn(2, "b", offer("c")),
        Turn(3, "c", offer("a")),
    ]
    out = ib.apply(at(0), turns, publics(frozen="c"))
    assert [(e.agent_id, e.reason) for e in out.events if isinstance(e, ActionRejected)] == [
        ("a", "cannot propose an interaction to oneself"),
        ("a", "unknown counterparty zed"),
        ("b", "counterparty c is frozen"),
    ]
    assert [e.initiator for e in out.events if isinstance(e, InteractionProposed)] == ["c"]
    assert {k: [q.initiator for q in v] for k, v in ib.questions(at(0)).items()} == {"a": ["c"]}


class Answers:
    """A policy that accepts proposals from the agents it likes."""

    conduct = CAREFUL

    def __init__(self, likes: set[str]) -> None:
        self.likes = likes

    def accept(self, observation: Observation, proposal: ProposalView) -> bool:
        return proposal.initiator in self.likes


class SlowAnswers(Answers):
    async def accept(self, observation: Observation, proposal: ProposalView) -> bool:  # type: ignore[override]
        return proposal.initiator in self.likes


def observation(agent: str) -> Observation:
    agents = tuple(publics().values())
    return Observation(agent, publics()[agent], Snapshot(0, 0, agents, {}))


def question(initiator: str) -> ProposalView:
    return ProposalView("ix-1", initiator, "b", InteractionType.COLLABORATION)


def test_asking_a_plain_policy_gives_its_decision_and_its_conduct_only_when_accepting() -> None:
    policy = Answers({"a"})
    assert InteractionBroker.ask(policy, observation("b"), question("a")) == Decision(True, CAREFUL)
    assert InteractionBroker.ask(policy, observation("b"), question("c")) == Decision(False, None)


async def test_asking_an_awaiting_policy_gives_an_awaitable_decision() -> None:
    policy = SlowAnswers({"a"})
    pending = InteractionBroker.ask(policy, observation("b"), question("a"))
    assert inspect.isawaitable(pending)
    assert await pending == Decision(True, CAREFUL)
    refused = InteractionBroker.ask(policy, observation("b"), question("c"))
    assert inspect.isawaitable(refused)
    assert await refused == Decision(False, None)


def test_resolving_skips_missing_answers_which_later_expire() -> None:
    ib = component(ttl=1)
    ib.apply(at(0), [Turn(0, "a", offer("b")), Turn(1, "c", offer("b"))], publics())
    asked = ib.questions(at(0))["b"]
    out = ib.resolve(at(0), [("b", asked[0], YES), ("b", asked[1], None)])  # the second answer failed
    assert [i.interaction_id for i in out.interactions] == ["ix-1"] and out.events == [] and out.entries == []
    out = ib.resolve(at(1), [])
    assert [e.interaction_id for e in out.events if isinstance(e, ProposalExpired)] == ["ix-2"]
    assert out.interactions == []


def test_the_component_labels_the_same_way_for_the_same_seed() -> None:
    def run(seed: int) -> list[SoftInteraction]:
        ib = component(seed)
        ib.apply(
            at(0), [Turn(k, "a", offer("b", conduct=Conduct(effort=k / 10))) for k in range(6)], publics()
        )
        asked = ib.questions(at(0))["b"]
        return ib.resolve(at(0), [("b", q, YES) for q in asked]).interactions

    assert run(5) == run(5)
    assert [i.p for i in run(5)] != [i.p for i in run(6)]
