"""Shared machinery of the scripted policies: a private random stream, interaction memory, trust.

Decision rules follow the reference agents (spec/core.md §4.3–4.6), with its
defects fixed: votes read real vote counts, honest agents submit their work,
deceptive agents reach their proposal rule, nobody sees anyone's true type, and
each policy decides *how* it carries out an interaction (its
:class:`~swarm.actions.Conduct`), which is what the observables, and therefore
p, are drawn from. Scripted policies never wait, so they run inline.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from swarm.actions import Action, Conduct
from swarm.agents.policy import Outcome
from swarm.agents.types import BuildContext, PolicyConfig, register_agent_type
from swarm.env.broker import ProposalView
from swarm.env.feed import CastVote, FeedView, PostView
from swarm.env.tasks import TaskBoardView, TaskView
from swarm.governance.notices import TaxNotice, TransparencyNotice
from swarm.runtime.rng import Rng
from swarm.views import AgentPublic, Observation


@dataclass(frozen=True)
class MarketHabits:
    """How a scripted type uses a marketplace, when the scenario has one.

    ``accept``: chance to award one's bounty each turn; ``bid``: chance to bid;
    ``bid_share``: the bid as a share of the reward (low, high); ``post``: chance
    to post a bounty; ``hostile``: posts bait and disputes instead of delivering.
    """

    accept: float = 0.0
    bid: float = 0.0
    bid_share: tuple[float, float] = (0.8, 0.95)
    post: float = 0.0
    hostile: bool = False
    prefers_rich: bool = False


class ScriptedPolicy:
    """Base of the scripted policies: ``decide``/``accept`` are plain methods of the observation."""

    kind: ClassVar[str] = "scripted"
    SAMPLE: ClassVar[int] = 8
    Config: ClassVar[type[PolicyConfig]] = PolicyConfig
    default_conduct: ClassVar[Conduct] = Conduct()
    market: ClassVar[MarketHabits | None] = None
    """How this type trades on a marketplace; None: it never does."""

    def __init__(
        self,
        agent_id: str,
        rng: Rng,
        config: PolicyConfig | Mapping[str, Any] | None = None,
        *,
        allies: frozenset[str] = frozenset(),
    ) -> None:
        self.agent_id = agent_id
        self.rng = rng
        self.config = (
            config if isinstance(config, self.Config) else self.Config.model_validate(dict(config or {}))
        )
        self.allies = allies
        self._trust_sum: dict[str, float] = {}
        self._trust_n: dict[str, int] = {}
        self._seen: dict[str, tuple[float, int]] = {}
        self._voted: deque[str] = deque(maxlen=64)

    @classmethod
    def register(cls, description: str) -> None:
        """Register this class as the agent type ``cls.kind``."""

        def build(agent_id: str, spec: Any, ctx: BuildContext) -> ScriptedPolicy:
            return cls(agent_id, ctx.stream(agent_id), spec.config, allies=ctx.ids_of_type(cls.kind))

        register_agent_type(cls.kind, cls.Config, build, description=description)

    @property
    def conduct(self) -> Conduct:
        return self.default_conduct

    def decide(self, observation: Observation) -> Action:
        raise NotImplementedError

    def accept(self, observation: Observation, proposal: ProposalView) -> bool:
        raise NotImplementedError

    def work_conduct(self, observation: Observation) -> Conduct:
        """How this agent carries out paid marketplace work."""
        return self.conduct

    def observe(self, outcome: Outcome) -> None:
        i = outcome.interaction
        other = i.counterparty if outcome.role == "initiator" else i.initiator
        total, n = self._seen.get(other, (0.0, 0))
        self._seen[other] = (total + i.p, n + 1)
        if i.accepted:
            self._trust_sum[other] = self._trust_sum.get(other, 0.0) + i.p
            self._trust_n[other] = self._trust_n.get(other, 0) + 1

    # ------------------------------------------------------------ what is seen

    @staticmethod
    def posts(observation: Observation) -> tuple[PostView, ...]:
        feed = observation.view(FeedView)
        return feed.posts if feed is not None else ()

    @staticmethod
    def open_tasks(observation: Observation) -> tuple[TaskView, ...]:
        board = observation.view(TaskBoardView)
        return board.open_tasks if board is not None else ()

    def my_tasks(self, observation: Observation) -> tuple[TaskView, ...]:
        board = observation.view(TaskBoardView)
        return board.tasks_of(self.agent_id) if board is not None else ()

    @staticmethod
    def track_record(observation: Observation, agent_id: str) -> float | None:
        """The agent's published track record, when a transparency ledger publishes one."""
        notice = observation.view(TransparencyNotice)
        return notice.track_records.get(agent_id) if notice is not None else None

    # ------------------------------------------------------------------- trust

    def trust(self, other: str, prior: float = 0.5) -> float:
        """Mean p of accepted interactions with ``other``; ``prior`` for strangers."""
        n = self._trust_n.get(other, 0)
        return self._trust_sum[other] / n if n else prior

    def trust_in(self, observation: Observation, agent: AgentPublic | None) -> float:
        """Trust, with a published track record (transparency ledger) as the prior for strangers."""
        if agent is None:
            return 0.5
        record = self.track_record(observation, agent.agent_id)
        return self.trust(agent.agent_id, record if record is not None else 0.5)

    @staticmethod
    def worth_it_after_tax(observation: Observation, proposal: ProposalView, p_hat: float) -> bool:
        """Whether the counterparty's expected payoff stays positive once the tax is paid.

        E[π_b] ≈ ½·S(p̂) + τ − rate·(1 − split)·(max(S(p̂), 0) + |τ|), with S(p) = 3p − 1 (the
        default payoff scale); without a tax every proposal is worth considering.
        """
        tax = observation.view(TaxNotice)
        if tax is None or tax.rate <= 0:
            return True
        surplus = 3 * p_hat - 1
        tau = proposal.offered_transfer
        cost = tax.rate * (1 - tax.split) * (max(surplus, 0.0) + abs(tau))
        return 0.5 * surplus + tau - cost > 0

    def _vote_on(self, post: PostView, direction: int) -> CastVote:
        self._voted.append(post.post_id)
        return CastVote(post_id=post.post_id, direction=1 if direction >= 0 else -1)

    def _sample_others(self, observation: Observation) -> list[AgentPublic]:
        """Up to ``SAMPLE`` other active agents: all of them in a small world, a random few in a large one."""
        agents = observation.snapshot.agents
        me = self.agent_id
        if len(agents) <= self.SAMPLE + 1:
            return [a for a in agents if a.agent_id != me and not a.frozen]
        picks = sorted(self.rng.sample(range(len(agents)), self.SAMPLE + 1))
        return [agents[i] for i in picks if agents[i].agent_id != me and not agents[i].frozen][: self.SAMPLE]

    def _known(self, observation: Observation) -> list[AgentPublic]:
        """Active agents this one has interacted with (accepted), in first-met order."""
        return [a for k in self._trust_n if (a := observation.agent(k)) is not None]

    def _best_task(
        self, tasks: tuple[TaskView, ...], rep: float, weights: Mapping[str, float]
    ) -> TaskView | None:
        if len(tasks) > self.SAMPLE:
            tasks = tuple(self.rng.sample(tasks, self.SAMPLE))
        eligible = [t for t in tasks if t.min_reputation <= rep]
        if not eligible:
            return None
        return max(eligible, key=lambda t: t.bounty / weights.get(t.difficulty, 3.0))
