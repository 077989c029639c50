"""A world component added from test code only: a donation box agents pay into and the ledger settles.

It declares an action, a rate limit with its scenario key, a section of its own,
a view, a prompt section and epoch-end work; a scripted agent type using it is
registered from here too. The kernel, the schema, the LLM prompt and the money
identity pick all of it up without a line changed anywhere else.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec
import pytest
from pydantic import BaseModel, ConfigDict, Field

from swarm import Action, Noop, Observation, load_scenario, run
from swarm.agents.llm_backend import LLMBackend
from swarm.agents.types import AGENT_TYPES
from swarm.errors import ScenarioError
from swarm.events import Event
from swarm.extend import (
    Applied,
    At,
    PolicyConfig,
    RateLimit,
    ScriptedPolicy,
    Setup,
    Transfer,
    Turn,
    WorldComponent,
    component,
)
from swarm.kernel.component import COMPONENTS
from swarm.runtime.eventlog import read_log
from swarm.views import AgentPublic

BOX = "donations:box"


class Donate(Action, tag="donate", frozen=True):
    """Put some of your resources into the donation box; at epoch end the box is shared by all."""

    amount: float


class Donated(Event, tag="donated", frozen=True):
    agent_id: str
    amount: float


class BoxEmptied(Event, tag="box_emptied", frozen=True):
    total: float
    share: float


class BoxView(msgspec.Struct, frozen=True):
    total: float


class DonationConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    enabled: bool = True
    max_donation: float = Field(default=5.0, gt=0)


class DonationBox(WorldComponent):
    key = "donations"
    order = 50
    Config = DonationConfig
    actions = (Donate,)
    rate_limits = (RateLimit("donations_per_epoch", (Donate,), "epoch", 2, "donations per epoch"),)
    view_type = BoxView
    prompt_rules = "The donation box: donate some resources; at each epoch's end the box is shared equally."
    config: DonationConfig

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        self.total = 0.0

    def view(self, at: At) -> BoxView:
        return BoxView(self.total)

    def apply(self, at: At, turns: Sequence[Turn], agents: Mapping[str, AgentPublic]) -> Applied:
        out = Applied()
        for _, agent, action in turns:
            assert isinstance(action, Donate)
            amount = min(action.amount, self.config.max_donation, max(agents[agent].resources, 0.0))
            if amount <= 0:
                continue
            self.total += amount
            out.events.append(Donated(epoch=at.epoch, step=at.step, agent_id=agent, amount=amount))
            out.entries.append(Transfer(payer=agent, payee=BOX, amount=amount, reason="donation"))
        return out

    def epoch_end(self, at: At, agents: Sequence[AgentPublic]) -> Applied:
        if self.total <= 0 or not agents:
            return Applied()
        share = self.total / len(agents)
        out = Applied(events=[BoxEmptied(epoch=at.epoch, step=at.step, total=self.total, share=share)])
        out.entries = [
            Transfer(payer=BOX, payee=a.agent_id, amount=share, reason="box shared out") for a in agents
        ]
        self.total = 0.0
        return out


class DonorConfig(PolicyConfig):
    amount: float = 3.0
    mindful: bool = True
    """Reads its remaining budget (``observation.can``) before donating."""


class Donor(ScriptedPolicy):
    kind = "donor"
    Config = DonorConfig
    config: DonorConfig

    def decide(self, observation: Observation) -> Action:
        if observation.view(BoxView) is not None and (observation.can(Donate) or not self.config.mindful):
            return Donate(amount=self.config.amount)
        return Noop()

    def accept(self, observation: Observation, proposal: Any) -> bool:
        return False


@pytest.fixture
def donation_box() -> Iterator[None]:
    component(DonationBox)
    Donor.register("Donates to the box whenever it can.")
    try:
        yield
    finally:
        COMPONENTS.remove("donations")
        AGENT_TYPES.remove("donor")


def scenario(**extra: Any) -> Any:
    return load_scenario(
        {
            "scenario_id": "donations",
            "agents": [
                {"type": "donor", "count": 3, "config": {"amount": 4.0}},
                {"type": "honest", "count": 2},
            ],
            "simulation": {"n_epochs": 3, "steps_per_epoch": 4, "seed": 1},
            "donations": {"max_donation": 5.0},
            **extra,
        }
    )


def test_agents_donate_within_their_rate_limit_and_the_box_is_shared_out(
    donation_box: None, tmp_path: Path
) -> None:
    result = run(scenario(), out_dir=tmp_path)
    assert result.reason == "completed"
    _, events = read_log(tmp_path / "events.jsonl")
    donated = [e for e in events if isinstance(e, Donated)]
    per_epoch: dict[tuple[int, str], int] = {}
    for e in donated:
        per_epoch[(e.epoch, e.agent_id)] = per_epoch.get((e.epoch, e.agent_id), 0) + 1
    assert set(per_epoch.values()) == {2}  # the declared rate limit, 2 per epoch, enforced by the ledger
    emptied = [e for e in events if isinstance(e, BoxEmptied)]
    assert [e.total for e in emptied] == [24.0, 24.0, 24.0] and all(e.share == 24.0 / 5 for e in emptied)
    assert not [e for e in events if e.type == "action_rejected"]  # mindful donors read their budget


def test_donations_past_the_rate_limit_are_refused_with_its_key(donation_box: None, tmp_path: Path) -> None:
    sc = scenario().with_overrides(["agents.0.config.mindful=false"])
    run(sc, out_dir=tmp_path)
    _, events = read_log(tmp_path / "events.jsonl")
    rejected = [e for e in events if e.type == "action_rejected"]
    assert len(rejected) == 3 * 3 * 2  # 3 donors x 3 epochs x (4 steps - 2 allowed)
    assert all(e.reason == "rate limit: 2 donations per epoch" for e in rejected)


def test_money_is_conserved_with_the_box_holding_nothing_between_epochs(
    donation_box: None, tmp_path: Path
) -> None:
    result = run(scenario(), out_dir=tmp_path)
    total = sum(a["resources"] for a in result.agents)
    start = 5 * 100.0
    payoffs_and_bounties = 0.0
    _, events = read_log(tmp_path / "events.jsonl")
    for e in events:
        if e.type == "ledger_updated" and e.entry in ("settlement", "mint"):
            payoffs_and_bounties += e.resources_delta
    assert total == pytest.approx(start + payoffs_and_bounties)


def test_the_components_keys_are_in_the_schema_with_their_ranges(donation_box: None) -> None:
    sc = scenario(rate_limits={"donations_per_epoch": 1})
    assert sc.rate_limits.donations_per_epoch == 1 and sc.section("donations").max_donation == 5.0
    with pytest.raises(ScenarioError, match=r"donations.max_donation"):
        scenario(donations={"max_donation": -1.0})
    without = load_scenario({"agents": [{"type": "honest", "count": 2}]})
    assert without.section("donations") is None  # no section: no donation box in this world


def test_an_llm_agent_sees_the_boxs_prompt_section_and_can_donate(donation_box: None, tmp_path: Path) -> None:
    sc = load_scenario(
        {
            "scenario_id": "donations-llm",
            "agents": [
                {"type": "llm", "count": 1, "llm": {"provider": "scripted"}},
                {"type": "donor", "count": 2},
            ],
            "simulation": {"n_epochs": 2, "steps_per_epoch": 3, "seed": 3},
            "donations": {},
        }
    )
    seen: list[tuple[str, str, Any]] = []
    backend = LLMBackend(scripted=True)

    def spying(agent_id: str, spec: Any, scenario: Any) -> Any:
        policy = backend(agent_id, spec, scenario)
        inner = policy.adapter

        class Spy:
            async def complete(self, request: Any) -> Any:
                seen.append((request.system, request.user, request.schema))
                return await inner.complete(request)

        policy.adapter = Spy()
        return policy

    run(sc, out_dir=tmp_path, llm_factory=spying)
    system, user, schema = seen[0]
    assert DonationBox.prompt_rules in system
    assert '"donations":{"total":' in user
    tags = str(schema.model_json_schema())
    assert "'donate'" in tags and "max_donation" not in tags


def test_a_run_with_the_new_component_is_deterministic(donation_box: None, tmp_path: Path) -> None:
    run(scenario(), out_dir=tmp_path / "a")
    run(scenario(), out_dir=tmp_path / "b")
    a = (tmp_path / "a" / "events.jsonl").read_text().splitlines()[:-1]
    b = (tmp_path / "b" / "events.jsonl").read_text().splitlines()[:-1]
    assert a == b
