"""The clock's step protocol, watched by a recording world component registered from test code.

The probe component owns one action (``Ping``), answers every hook by writing
what it was called with to ``CALLS``, and can be told (through its scenario
section) to freeze agents, set reputations, mint money, pair answers into an
interaction, book a settlement that breaks the money identity, or raise in a
hook. The agents are recording policies handed to the simulation directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict

from swarm import run
from swarm.actions import NOOP, Action, Conduct
from swarm.agents.policy import Outcome
from swarm.core.interaction import SoftInteraction
from swarm.env.feed import CreatePost, PostCreated
from swarm.env.marketplace import PostBounty
from swarm.errors import RunFailure
from swarm.events import (
    ActionRejected,
    EpochCompleted,
    EpochStarted,
    Event,
    InteractionCompleted,
    LedgerUpdated,
    RunEnded,
)
from swarm.governance.lever import Governance, Lever
from swarm.kernel.component import (
    COMPONENTS,
    Applied,
    At,
    RateLimit,
    Turn,
    WorldComponent,
    component,
)
from swarm.kernel.ledger import LedgerBooks
from swarm.money import Burn, Freeze, Mint, Reputation, Settlement, Transfer
from swarm.runtime.eventlog import read_log
from swarm.runtime.simulation import SimulationError
from swarm.views import AgentPublic, Observation
from tests.conftest import make_scenario

CALLS: list[tuple[Any, ...]] = []
"""Every hook call of the probe and every policy call, in the order they happened."""

AGENTS = ("honest_1", "honest_2", "honest_3", "honest_4")


# ----------------------------------------------------------------- the probe


class Ping(Action, tag="probe_ping", frozen=True):
    """The probe's own action."""


class Stray(Action, tag="probe_stray", frozen=True):
    """An action no component owns."""


class Pinged(Event, tag="probe_pinged", frozen=True):
    agent_id: str
    position: int


class ProbeOpened(Event, tag="probe_opened", frozen=True):
    pass


class ProbeClosed(Event, tag="probe_closed", frozen=True):
    pass


class ProbeSettled(Event, tag="probe_settled", frozen=True):
    interactions: int


class ProbeView(msgspec.Struct, frozen=True):
    clock: int


class ProbeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    enabled: bool = True
    fail_in: str | None = None
    freeze: list[str] = []
    reputation: dict[str, float] = {}
    mint: float = 0.0
    pair: bool = False
    bogus: bool = False


class Probe(WorldComponent):
    """Records every hook call; does what its section asks."""

    key = "probe"
    order = 5
    Config = ProbeConfig
    actions = (Ping,)
    rate_limits = (RateLimit("probe_pings_per_epoch", (Ping,), "epoch", None, "pings per epoch"),)
    view_type = ProbeView
    config: ProbeConfig

    def _hook(self, name: str, at: At, *details: Any) -> None:
        CALLS.append((name, at, *details))
        if self.config.fail_in == name:
            raise RuntimeError(f"the probe broke in {name}")

    def view(self, at: At) -> ProbeView:
        self._hook("view", at)
        return ProbeView(at.clock)

    def apply(self, at: At, turns: Sequence[Turn], agents: Mapping[str, AgentPublic]) -> Applied:
        self._hook("apply", at, tuple(turns), {a: p.reputation for a, p in agents.items()})
        out = Applied()
        for position, agent, _ in turns:
            out.events.append(Pinged(epoch=at.epoch, step=at.step, agent_id=agent, position=position))
            if self.config.mint:
                out.entries.append(Mint(account=agent, amount=self.config.mint, reason="ping", ref="ping"))
        if self.config.bogus and len(turns) >= 2:
            out.entries.append(
                Settlement(
                    initiator=turns[0].agent,
                    counterparty=turns[1].agent,
                    payoff_initiator=10.0,
                    payoff_counterparty=0.0,
                    reputation=0.0,
                    created=0.0,
                    destroyed=0.0,
                    reason="a payoff from nowhere",
                )
            )
        return out

    def questions(self, at: At) -> Mapping[str, Sequence[Any]]:
        self._hook("questions", at)
        return {agent: (f"question {at.clock}",) for agent in self.setup.agents}

    @classmethod
    def ask(cls, policy: Any, observation: Observation, question: Any) -> Any:
        CALLS.append(("ask", observation.agent_id, observation.snapshot.epoch, observation.snapshot.step))
        return policy.accept(observation, question)

    def resolve(self, at: At, answers: Sequence[tuple[str, Any, Any]]) -> Applied:
        self._hook("resolve", at, tuple(answers))
        out = Applied()
        if self.config.pair and len(answers) >= 2:
            (a, _, _), (b, _, _) = answers[0], answers[1]
            out.interactions.append(
                SoftInteraction(
                    interaction_id=f"probe-{at.clock}",
                    initiator=a,
                    counterparty=b,
                    accepted=True,
                    p=0.8,
                    epoch=at.epoch,
                    step=at.step,
                )
            )
        return out

    def epoch_start(self, at: At, agents: Sequence[AgentPublic]) -> Applied:
        self._hook("epoch_start", at)
        out = Applied(events=[ProbeOpened(epoch=at.epoch, step=at.step)])
        if at.epoch == 0:
            out.entries += [Freeze(agent=a, until_epoch=None, reason="probe") for a in self.config.freeze]
            out.entries += [
                Reputation(agent=a, amount=r, reason="probe") for a, r in self.config.reputation.items()
            ]
        return out

    def epoch_end(self, at: At, agents: Sequence[AgentPublic]) -> Applied:
        self._hook("epoch_end", at)
        return Applied(events=[ProbeClosed(epoch=at.epoch, step=at.step)])

    def observe_settled(self, at: At, completed: Sequence[InteractionCompleted]) -> Applied:
        self._hook("observe_settled", at, tuple(c.interaction.interaction_id for c in completed))
        return Applied(events=[ProbeSettled(epoch=at.epoch, step=at.step, interactions=len(completed))])


class Agent:
    """A recording policy: acts with ``plan`` (a ping by default) and accepts every question."""

    conduct = Conduct()

    def __init__(self, agent_id: str, plan: Callable[[Observation], Action] | None = None) -> None:
        self.agent_id = agent_id
        self.plan = plan or (lambda observation: Ping())
        self.seen: list[Observation] = []

    def decide(self, observation: Observation) -> Action:
        CALLS.append(("decide", self.agent_id, observation.epoch, observation.step))
        self.seen.append(observation)
        return self.plan(observation)

    def accept(self, observation: Observation, question: Any) -> bool:
        return True

    def observe(self, outcome: Outcome) -> None:
        CALLS.append(("observe", self.agent_id, outcome.interaction.interaction_id))


@pytest.fixture
def probe() -> Iterator[None]:
    component(Probe)
    CALLS.clear()
    try:
        yield
    finally:
        COMPONENTS.remove("probe")
        CALLS.clear()


def scenario(
    *, epochs: int = 2, steps: int = 3, schedule: str = "round_robin", seed: int = 5, **probe: Any
) -> Any:
    return make_scenario(
        honest=len(AGENTS),
        epochs=epochs,
        steps=steps,
        seed=seed,
        probe=probe,
        simulation={"n_epochs": epochs, "steps_per_epoch": steps, "seed": seed, "schedule": schedule},
    )


def run_probe(
    tmp_path: Path,
    sc: Any,
    plans: Mapping[str, Callable[[Observation], Action]] | None = None,
    **kwargs: Any,
) -> tuple[dict[str, Agent], list[Event]]:
    plans = plans or {}
    agents = {a: Agent(a, plans.get(a)) for a in AGENTS}
    run(sc, out_dir=tmp_path, policies=agents, **kwargs)
    return agents, read_log(tmp_path / "events.jsonl")[1]


def hook_calls(name: str) -> list[tuple[Any, ...]]:
    return [c for c in CALLS if c[0] == name]


def batches() -> list[tuple[At, tuple[Turn, ...], dict[str, float]]]:
    return [(c[1], c[2], c[3]) for c in hook_calls("apply")]


# ------------------------------------------------------------ within a step


def test_a_step_runs_view_act_apply_questions_resolve_then_settlement_in_that_order(
    probe: None, tmp_path: Path
) -> None:
    run_probe(tmp_path, scenario(epochs=1, steps=3, pair=True))
    for clock in range(3):
        start = next(k for k, c in enumerate(CALLS) if c[0] == "view" and c[1].clock == clock)
        end = next((k for k, c in enumerate(CALLS) if c[0] == "view" and c[1].clock == clock + 1), len(CALLS))
        step = [c[0] for c in CALLS[start:end] if c[0] != "epoch_end"]
        assert step == [
            "view",
            *["decide"] * 4,
            "apply",
            "questions",
            *["ask"] * 4,
            "resolve",
            "observe_settled",
            "observe",
            "observe",
        ]


def test_agents_see_the_views_of_this_step_and_answer_on_the_same_snapshot(
    probe: None, tmp_path: Path
) -> None:
    agents, _ = run_probe(tmp_path, scenario(epochs=2, steps=3))
    for a in agents.values():
        clocks = [o.view(ProbeView).clock for o in a.seen]  # type: ignore[union-attr]
        assert clocks == [o.epoch * 3 + o.step for o in a.seen] == list(range(6))
    decided = [(c[2], c[3]) for c in hook_calls("decide")]
    asked = [(c[2], c[3]) for c in hook_calls("ask")]
    assert decided == asked  # every active agent acts and answers once per step, on that step's snapshot


def test_apply_receives_only_what_the_ledger_admitted(probe: None, tmp_path: Path) -> None:
    sc = scenario(epochs=2, steps=4).with_overrides(["rate_limits.probe_pings_per_epoch=2"])
    _, events = run_probe(tmp_path, sc)
    applied = [(at.epoch, at.step, len(turns)) for at, turns, _ in batches()]
    assert applied == [(0, 0, 4), (0, 1, 4), (1, 0, 4), (1, 1, 4)]  # no batch once every budget is spent
    rejected = [e for e in events if isinstance(e, ActionRejected)]
    assert len(rejected) == 2 * 2 * 4
    assert {e.reason for e in rejected} == {"rate limit: 2 pings per epoch"}
    for e in rejected:  # refused at admission, before the step's other events and never applied
        assert not any(isinstance(p, Pinged) and (p.epoch, p.step) == (e.epoch, e.step) for p in events)


def test_questions_are_resolved_and_settled_interactions_reach_components_and_agents(
    probe: None, tmp_path: Path
) -> None:
    _, events = run_probe(tmp_path, scenario(epochs=1, steps=2, pair=True))
    resolved = hook_calls("resolve")
    assert [[(a, q, ans) for a, q, ans in c[2]] for c in resolved] == [
        [(a, f"question {clock}", True) for a in AGENTS] for clock in range(2)
    ]
    settled = [c[2] for c in hook_calls("observe_settled")]
    assert settled == [("probe-0",), ("probe-1",)]
    completed = [e for e in events if isinstance(e, InteractionCompleted)]
    assert [e.interaction.interaction_id for e in completed] == ["probe-0", "probe-1"]
    for e in completed:
        after = events[events.index(e) + 1 :]
        notice = next(x for x in after if isinstance(x, ProbeSettled))
        paid = [x for x in after if isinstance(x, LedgerUpdated) and x.ref == e.interaction.interaction_id]
        assert notice.step == e.step and {x.step for x in paid} == {e.step} and len(paid) == 2
    learnt = [(c[1], c[2]) for c in hook_calls("observe")]
    assert learnt == [(a, f"probe-{k}") for k in range(2) for a in AGENTS[:2]]


def test_entries_a_component_returns_are_booked_by_the_ledger_in_the_same_step(
    probe: None, tmp_path: Path
) -> None:
    agents, events = run_probe(tmp_path, scenario(epochs=2, steps=3, mint=2.5))
    minted = [e for e in events if isinstance(e, LedgerUpdated) and e.entry == "mint"]
    pinged = [e for e in events if isinstance(e, Pinged)]
    assert [(e.epoch, e.step, e.agent_id) for e in minted] == [(e.epoch, e.step, e.agent_id) for e in pinged]
    # in the log, each step's pings are followed by their mints before anything of the next step
    trail = [(e.epoch, e.step, type(e).__name__) for e in events if e in minted or isinstance(e, Pinged)]
    assert trail == sorted(trail, key=lambda x: (x[0], x[1], x[2] == "LedgerUpdated"))
    assert all(m.resources_delta == 2.5 for m in minted)
    for a in agents.values():
        assert [o.me.resources for o in a.seen] == [100.0 + 2.5 * k for k in range(6)]


# ------------------------------------------------------------ across an epoch


def test_epoch_start_opens_the_first_step_and_epoch_end_follows_the_last(probe: None, tmp_path: Path) -> None:
    _, events = run_probe(tmp_path, scenario(epochs=3, steps=2))
    names = [(c[0], c[1].epoch, c[1].step) for c in CALLS if c[0] in ("epoch_start", "view", "epoch_end")]
    expected = []
    for epoch in range(3):
        expected += [
            ("epoch_start", epoch, 0),
            ("view", epoch, 0),
            ("view", epoch, 1),
            ("epoch_end", epoch, 2),
        ]
    assert names == expected
    kinds = [
        type(e)
        for e in events
        if isinstance(e, EpochStarted | ProbeOpened | Pinged | ProbeClosed | EpochCompleted)
    ]
    one_epoch = [EpochStarted, ProbeOpened, *[Pinged] * 8, ProbeClosed, EpochCompleted]
    assert kinds == one_epoch * 3
    assert [e.seq for e in events] == list(range(1, len(events) + 1))


# ----------------------------------------------------------------- routing


def test_a_component_gets_only_its_own_action_types_in_schedule_order(probe: None, tmp_path: Path) -> None:
    def sometimes_post(observation: Observation) -> Action:
        return CreatePost(content="hi") if observation.step % 2 else Ping()

    plans = {"honest_2": sometimes_post, "honest_3": lambda observation: NOOP}
    _, events = run_probe(tmp_path, scenario(epochs=1, steps=4), plans)
    for at, turns, _ in batches():
        assert all(type(t.action) is Ping for t in turns)
        assert [t.position for t in turns] == sorted(t.position for t in turns)
        expected = {"honest_1", "honest_4"} | ({"honest_2"} if at.step % 2 == 0 else set())
        assert {t.agent for t in turns} == expected
    posts = [(e.step, e.author) for e in events if isinstance(e, PostCreated)]
    assert posts == [(1, "honest_2"), (3, "honest_2")]  # the feed got the posts


def test_an_action_no_enabled_component_owns_is_rejected_with_a_reason(probe: None, tmp_path: Path) -> None:
    plans = {
        "honest_1": lambda observation: Stray(),
        "honest_2": lambda o: PostBounty(reward=5.0, description="x"),
    }
    _, events = run_probe(tmp_path, scenario(epochs=1, steps=2), plans)
    rejected = {(e.agent_id, e.action, e.reason) for e in events if isinstance(e, ActionRejected)}
    assert rejected == {
        ("honest_1", "probe_stray", "no part of this scenario's world takes probe_stray actions"),
        ("honest_2", "post_bounty", "no part of this scenario's world takes post_bounty actions"),
    }
    assert all(t.agent not in ("honest_1", "honest_2") for _, turns, _ in batches() for t in turns)


# ---------------------------------------------------------------- schedules


def orders() -> list[list[str]]:
    return [[t.agent for t in sorted(turns, key=lambda t: t.position)] for _, turns, _ in batches()]


def test_round_robin_rotates_the_first_agent_every_step(probe: None, tmp_path: Path) -> None:
    run_probe(tmp_path, scenario(epochs=2, steps=3, schedule="round_robin"))
    seen = orders()
    assert len(seen) == 6
    for clock, order in enumerate(seen):
        k = clock % len(AGENTS)
        assert order == [*AGENTS[k:], *AGENTS[:k]]
    for _, turns, _ in batches():
        assert sorted(t.position for t in turns) == list(range(len(AGENTS)))


def test_random_schedule_is_a_seeded_shuffle(probe: None, tmp_path: Path) -> None:
    run_probe(tmp_path / "a", scenario(epochs=2, steps=5, schedule="random", seed=3))
    first = orders()
    CALLS.clear()
    run_probe(tmp_path / "b", scenario(epochs=2, steps=5, schedule="random", seed=3))
    again = orders()
    CALLS.clear()
    run_probe(tmp_path / "c", scenario(epochs=2, steps=5, schedule="random", seed=4))
    other = orders()
    assert all(sorted(o) == sorted(AGENTS) for o in first)
    assert len({tuple(o) for o in first}) > 1  # reshuffled from step to step
    assert first == again
    assert first != other


def test_priority_schedule_lets_the_most_reputable_act_first(probe: None, tmp_path: Path) -> None:
    reputation = {"honest_1": 0.1, "honest_2": 0.9, "honest_3": -0.4, "honest_4": 0.9}
    run_probe(tmp_path, scenario(epochs=2, steps=2, schedule="priority", pair=True, reputation=reputation))
    for _, turns, reps in batches():
        order = [t.agent for t in sorted(turns, key=lambda t: t.position)]
        assert [reps[a] for a in order] == sorted(reps.values(), reverse=True)
    assert orders()[0] == ["honest_2", "honest_4", "honest_1", "honest_3"]  # ties keep registration order


# ------------------------------------------------------- who acts, who answers


class Gate(Lever):
    """A lever that keeps one agent out of every step."""

    key = "probe_gate"
    order = 1
    title = "probe gate"
    Config = None  # type: ignore[assignment]
    switch = "never"

    def __init__(self, shut_out: str) -> None:
        super().__init__(None, None)  # type: ignore[arg-type]
        self.shut_out = shut_out

    def blocked(self, at: At, agents: Sequence[AgentPublic]) -> dict[str, str]:
        return {self.shut_out: "kept out by the probe gate"}


@pytest.mark.parametrize("how", ["frozen", "blocked"])
def test_frozen_and_blocked_agents_neither_act_nor_answer(probe: None, tmp_path: Path, how: str) -> None:
    if how == "frozen":
        agents, _ = run_probe(tmp_path, scenario(epochs=2, steps=2, freeze=["honest_3"]))
    else:
        agents, _ = run_probe(
            tmp_path, scenario(epochs=2, steps=2), governance=Governance([Gate("honest_3")])
        )
    assert agents["honest_3"].seen == []
    assert all(len(agents[a].seen) == 4 for a in AGENTS if a != "honest_3")
    assert "honest_3" not in {c[1] for c in hook_calls("ask")}
    for c in hook_calls("resolve"):
        assert [a for a, _, _ in c[2]] == ["honest_1", "honest_2", "honest_4"]
    for _, turns, _ in batches():
        assert [t.agent for t in turns if t.agent == "honest_3"] == []


# ----------------------------------------------------------------- failures


@pytest.mark.parametrize(
    "hook", ["view", "apply", "questions", "resolve", "observe_settled", "epoch_start", "epoch_end"]
)
def test_a_hook_that_raises_stops_the_run_naming_the_component_and_keeping_the_log(
    probe: None, tmp_path: Path, hook: str
) -> None:
    with pytest.raises(SimulationError) as failure:
        run_probe(tmp_path, scenario(epochs=2, steps=2, fail_in=hook, pair=True))
    message = str(failure.value)
    assert "'probe'" in message and f"the probe broke in {hook}" in message
    assert len(hook_calls(hook)) == 1  # nothing ran after the failure
    _, events = read_log(tmp_path / "events.jsonl")
    assert events[0].type == "run_started"
    assert isinstance(events[-1], RunEnded) and events[-1].reason == "failed"
    assert not [e for e in events if isinstance(e, EpochCompleted)]


def test_a_settlement_that_creates_money_from_nothing_stops_the_run_at_the_epoch_check(
    probe: None, tmp_path: Path
) -> None:
    with pytest.raises(SimulationError, match="the ledger is off by 10"):
        run_probe(tmp_path, scenario(epochs=2, steps=1, bogus=True))
    _, events = read_log(tmp_path / "events.jsonl")
    assert isinstance(events[-1], RunEnded) and events[-1].reason == "failed"
    assert not [e for e in events if isinstance(e, EpochCompleted)]  # epoch 0 never closed
    booked = [e for e in events if isinstance(e, LedgerUpdated) and e.reason == "a payoff from nowhere"]
    assert [e.resources_delta for e in booked] == [10.0, 0.0]  # the steps before the check are all logged


# ---------------------------------------------------------- the ledger's identity


def endowed_books() -> LedgerBooks:
    books = LedgerBooks()
    for agent in ("a", "b"):
        books.add(agent, 0.0, 100.0)
    return books


@settings(max_examples=100, deadline=None)
@given(
    amounts=st.lists(st.floats(-50.0, 50.0, allow_nan=False), min_size=1, max_size=8),
    tamper=st.floats(-1e3, 1e3, allow_nan=False).filter(lambda x: abs(x) > 1e-6),
    where=st.sampled_from(["agent", "account", "minted", "endowed"]),
)
def test_the_identity_check_passes_on_booked_entries_and_fails_on_tampered_books(
    amounts: list[float], tamper: float, where: str
) -> None:
    books = endowed_books()
    at = At(0, 0, 0)
    for k, x in enumerate(amounts):
        entry = (
            Transfer(payer="a", payee="b" if k % 2 else "market:escrow", amount=x, reason="t"),
            Mint(account="b", amount=x, reason="m"),
            Burn(account="market:escrow", amount=x, reason="b"),
        )[k % 3]
        books.post(at, [entry])
    books.check_identity()
    if where == "agent":
        books.agents["a"].resources += tamper
    elif where == "account":
        books.accounts["market:escrow"] = books.accounts.get("market:escrow", 0.0) + tamper
    elif where == "minted":
        books.minted += tamper
    else:
        books.endowed += tamper
    with pytest.raises(RunFailure, match="the ledger is off by"):
        books.check_identity()
