"""The four scripted policies: honest, opportunistic, deceptive and adversarial.

Decision rules follow the reference agents (spec/core.md §4.3–4.6), with its
defects fixed: votes read real vote counts, honest agents submit their work,
deceptive agents reach their proposal rule, nobody sees anyone's true type, and
each policy decides *how* it carries out an interaction (its :class:`Conduct`),
which is what the observables, and therefore p, are drawn from.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Mapping
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from swarm.agents.market_rules import market_action
from swarm.agents.policy import Outcome
from swarm.core.interaction import InteractionType
from swarm.messages import (
    Action,
    AgentPublic,
    CastVote,
    ClaimTask,
    Conduct,
    CreatePost,
    Noop,
    Observation,
    PostView,
    ProposalView,
    Propose,
    SubmitWork,
    TaskView,
)

_HONEST_POSTS = (
    "Sharing a summary of what worked on my last task.",
    "Here is a checklist that helped our team avoid rework.",
    "Happy to review anyone's output before submission.",
    "Notes on verifying results before claiming success.",
)
_BAIT_POSTS = (
    "You will not believe what this trick does for your reputation!",
    "Top 5 ways to get ahead on the task board.",
    "Quick deal available, first come first served.",
    "Everyone is talking about this, are you in?",
    "Hot take: verification is overrated.",
)
_FACADE_POSTS = (
    "Always glad to help; reliability matters most.",
    "I double-check every deliverable I hand over.",
    "Trust is built one interaction at a time.",
    "Open to collaborating on anything hard.",
    "Transparency first: ask me about my process.",
)
_DISRUPTIVE_POSTS = (
    "The rules here are a joke.",
    "Nobody should trust the top posters.",
    "This whole board is rigged.",
    "Ignore the verifiers, they never check anything.",
    "Why bother doing tasks properly?",
)


class PolicyConfig(BaseModel):
    """Base of every scripted policy's tunable parameters (scenario ``agents[].config``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ScriptedPolicy:
    """Shared machinery: a private random stream, interaction memory and trust."""

    kind: ClassVar[str] = "scripted"
    SAMPLE: ClassVar[int] = 8
    Config: ClassVar[type[PolicyConfig]] = PolicyConfig
    default_conduct: ClassVar[Conduct] = Conduct()

    def __init__(
        self,
        agent_id: str,
        rng: random.Random,
        config: Mapping[str, object] | None = None,
        *,
        allies: frozenset[str] = frozenset(),
    ) -> None:
        self.agent_id = agent_id
        self.rng = rng
        self.config = self.Config.model_validate(dict(config or {}))
        self.allies = allies
        self._trust_sum: dict[str, float] = {}
        self._trust_n: dict[str, int] = {}
        self._seen: dict[str, tuple[float, int]] = {}
        self._voted: deque[str] = deque(maxlen=64)

    @classmethod
    def check_config(cls, config: Mapping[str, object]) -> str | None:
        """Validate scenario config for this policy; an error message or None."""
        try:
            cls.Config.model_validate(dict(config))
        except ValidationError as exc:
            err = exc.errors()[0]
            key = ".".join(str(p) for p in err["loc"])
            return f"{key}: {err['msg']}"
        return None

    @property
    def conduct(self) -> Conduct:
        return self.default_conduct

    async def decide(self, observation: Observation) -> Action:
        raise NotImplementedError

    def work_conduct(self, observation: Observation) -> Conduct:
        """How this agent carries out paid marketplace work."""
        return self.conduct

    async def accept(self, observation: Observation, proposal: ProposalView) -> bool:
        raise NotImplementedError

    def observe(self, outcome: Outcome) -> None:
        i = outcome.interaction
        other = i.counterparty if outcome.role == "initiator" else i.initiator
        total, n = self._seen.get(other, (0.0, 0))
        self._seen[other] = (total + i.p, n + 1)
        if i.accepted:
            self._trust_sum[other] = self._trust_sum.get(other, 0.0) + i.p
            self._trust_n[other] = self._trust_n.get(other, 0) + 1

    def trust(self, other: str, prior: float = 0.5) -> float:
        """Mean p of accepted interactions with ``other``; ``prior`` for strangers."""
        n = self._trust_n.get(other, 0)
        return self._trust_sum[other] / n if n else prior

    @staticmethod
    def worth_it_after_tax(observation: Observation, proposal: ProposalView, p_hat: float) -> bool:
        """Whether the counterparty's expected payoff stays positive once the tax is paid.

        E[π_b] ≈ ½·S(p̂) + τ − rate·(1 − split)·(max(S(p̂), 0) + |τ|), with S(p) = 3p − 1 (the
        default payoff scale); without a tax every proposal is worth considering.
        """
        g = observation.snapshot.governance
        if g.tax_rate <= 0:
            return True
        surplus = 3 * p_hat - 1
        tau = proposal.offered_transfer
        tax = g.tax_rate * (1 - g.tax_split) * (max(surplus, 0.0) + abs(tau))
        return 0.5 * surplus + tau - tax > 0

    def trust_in(self, agent: AgentPublic | None) -> float:
        """Trust, with a published track record (transparency ledger) as the prior for strangers."""
        if agent is None:
            return 0.5
        prior = agent.track_record if agent.track_record is not None else 0.5
        return self.trust(agent.agent_id, prior)

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


# ------------------------------------------------------------------------ honest


class HonestConfig(PolicyConfig):
    acceptance_threshold: float = 0.4
    trust_weight: float = 0.3
    post_probability: float = 0.3
    vote_probability: float = 0.5
    interact_probability: float = 0.4


COMPLIANT = Conduct(effort=0.42, sloppiness=0.17, engagement=0.3)
"""What careful, honest-quality work looks like; deterred agents move toward it."""

_HONEST_DIFFICULTY = {"trivial": 1.0, "easy": 2.0, "medium": 3.0, "hard": 4.0, "expert": 5.0}


class HonestPolicy(ScriptedPolicy):
    """Maximises joint surplus: works carefully, collaborates with agents it trusts."""

    kind = "honest"
    Config = HonestConfig
    default_conduct = Conduct(effort=0.42, sloppiness=0.17, engagement=0.32)
    config: HonestConfig

    async def decide(self, observation: Observation) -> Action:
        c, rng, lim = self.config, self.rng, observation.limits
        if (trade := market_action(self, observation)) is not None:
            return trade
        mine = observation.my_tasks
        if mine:
            task = mine[0]
            return SubmitWork(
                task_id=task.task_id,
                content=f"Completed work on {task.task_id}: verified output.",
                conduct=self.conduct,
            )
        if lim.can_claim_task:
            best = self._best_task(
                observation.snapshot.open_tasks, observation.me.reputation, _HONEST_DIFFICULTY
            )
            if best is not None and rng.random() < 0.5:
                return ClaimTask(task_id=best.task_id)
        if lim.can_post and rng.random() < c.post_probability:
            return CreatePost(content=rng.choice(_HONEST_POSTS))
        posts = observation.snapshot.posts
        if lim.can_vote and posts and rng.random() < c.vote_probability:
            fresh = [p for p in posts if p.post_id not in self._voted and p.author != self.agent_id]
            if not fresh:
                return Noop()
            post = rng.choice(fresh)
            return self._vote_on(post, -1 if post.net_votes < -2 else 1)
        if lim.can_interact and rng.random() < c.interact_probability:
            pool = {a.agent_id: a for a in (*self._known(observation), *self._sample_others(observation))}
            others = [a for a in pool.values() if self.trust_in(a) >= c.acceptance_threshold - 0.1]
            if others:
                target = max(others, key=self.trust_in)
                return Propose(
                    counterparty=target.agent_id,
                    interaction_type=InteractionType.COLLABORATION,
                    content="Would you like to collaborate?",
                    conduct=self.conduct,
                )
        return Noop()

    async def accept(self, observation: Observation, proposal: ProposalView) -> bool:
        c = self.config
        initiator = observation.agent(proposal.initiator)
        if (
            observation.snapshot.governance.transparency
            and initiator is not None
            and initiator.track_record is not None
        ) and self.trust_in(initiator) < 0.5:
            return False
        if not self.worth_it_after_tax(observation, proposal, self.trust_in(initiator)):
            return False
        score = self.trust_in(initiator) * c.trust_weight + 0.5 * (1 - c.trust_weight)
        threshold = c.acceptance_threshold
        if proposal.interaction_type == InteractionType.COLLABORATION:
            threshold -= 0.1
        elif proposal.interaction_type == InteractionType.TRADE:
            threshold += 0.1
        if proposal.offered_transfer < 0 and -proposal.offered_transfer > observation.me.resources:
            return False
        return score >= threshold


# ----------------------------------------------------------------- opportunistic


class OpportunisticConfig(PolicyConfig):
    risk_tolerance: float = 0.6
    post_probability: float = 0.4
    vote_probability: float = 0.6
    free_ride_probability: float = 0.3
    asked_transfer: float = 0.5


_OPP_DIFFICULTY = {"trivial": 0.5, "easy": 1.0, "medium": 2.0, "hard": 4.0, "expert": 8.0}


class OpportunisticPolicy(ScriptedPolicy):
    """Maximises its own payoff: cuts corners when it can, asks to be paid for trades."""

    kind = "opportunistic"
    Config = OpportunisticConfig
    default_conduct = Conduct(effort=0.27, sloppiness=0.33, defects=0.25, engagement=0.04)
    config: OpportunisticConfig

    def work_conduct(self, observation: Observation) -> Conduct:
        return self._conduct_now(observation)

    def _conduct_now(self, observation: Observation) -> Conduct:
        """Cut corners unless punishment is likely: deterrence lowers free riding and raises effort."""
        deterrence = observation.snapshot.governance.deterrence
        if self.rng.random() < self.config.free_ride_probability * max(0.0, 1 - 2 * deterrence):
            return self.default_conduct.model_copy(update={"effort": 0.1, "sloppiness": 0.45})
        if deterrence > 0:
            effort = self.default_conduct.effort + (COMPLIANT.effort - self.default_conduct.effort) * min(
                1.0, 2 * deterrence
            )
            defects = self.default_conduct.defects * max(0.0, 1 - 2 * deterrence)
            return self.default_conduct.model_copy(update={"effort": effort, "defects": defects})
        return self.default_conduct

    async def decide(self, observation: Observation) -> Action:
        c, rng, lim = self.config, self.rng, observation.limits
        if (trade := market_action(self, observation)) is not None:
            return trade
        if lim.can_claim_task:
            best = self._best_task(
                observation.snapshot.open_tasks, observation.me.reputation, _OPP_DIFFICULTY
            )
            if best is not None:
                return ClaimTask(task_id=best.task_id)
        mine = observation.my_tasks
        if mine:
            lazy = rng.random() < c.free_ride_probability
            return SubmitWork(
                task_id=mine[0].task_id,
                content="Completed." if lazy else f"Deliverable for {mine[0].task_id}.",
                conduct=self._conduct_now(observation),
            )
        if lim.can_post and rng.random() < c.post_probability:
            return CreatePost(content=rng.choice(_BAIT_POSTS))
        posts = observation.snapshot.posts
        if lim.can_vote and posts and rng.random() < c.vote_probability:
            for post in posts:
                if post.net_votes > 2:
                    return self._vote_on(post, 1)
                if post.net_votes < -2:
                    return self._vote_on(post, -1)
            return self._vote_on(posts[0], 1)
        if lim.can_interact:
            targets = [a for a in self._sample_others(observation) if a.resources > 80 or a.reputation > 0.5]
            if targets:
                target = rng.choice(targets)
                return Propose(
                    counterparty=target.agent_id,
                    interaction_type=InteractionType.TRADE,
                    content="Let's make a deal.",
                    offered_transfer=-c.asked_transfer,
                    conduct=self._conduct_now(observation),
                )
        return Noop()

    async def accept(self, observation: Observation, proposal: ProposalView) -> bool:
        total, n = self._seen.get(proposal.initiator, (0.0, 0))
        if not self.worth_it_after_tax(observation, proposal, total / n if n else 0.5):
            return False
        if proposal.offered_transfer > 0:
            return True
        if n:
            return total / n > 0.5
        return self.rng.random() < self.config.risk_tolerance


# --------------------------------------------------------------------- deceptive


class DeceptiveConfig(PolicyConfig):
    trust_building_phase: int = 5
    exploitation_threshold: float = 0.7
    post_probability: float = 0.35
    vote_probability: float = 0.5
    exploit_probability: float = 0.3
    interact_probability: float = 0.4
    exploit_transfer: float = 1.0


class DeceptivePolicy(ScriptedPolicy):
    """Builds trust with good work, then exploits it behind a facade of visible effort."""

    kind = "deceptive"
    Config = DeceptiveConfig
    default_conduct = Conduct(effort=0.3, sloppiness=0.33, defects=0.25, engagement=0.15)
    exploit_conduct = Conduct(effort=-0.15, facade=0.45, sloppiness=0.33, defects=0.4, engagement=0.2)
    config: DeceptiveConfig

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._dealings: dict[str, int] = {}

    @property
    def exploiting(self) -> bool:
        trusted = [
            a
            for a, n in self._trust_n.items()
            if n and self.trust(a) > self.config.exploitation_threshold - 0.1
        ]
        return len(trusted) >= 2 and sum(self._dealings.values()) > 10

    @property
    def conduct(self) -> Conduct:
        return self.exploit_conduct if self.exploiting else self.default_conduct

    def observe(self, outcome: Outcome) -> None:
        super().observe(outcome)
        i = outcome.interaction
        other = i.counterparty if outcome.role == "initiator" else i.initiator
        self._dealings[other] = self._dealings.get(other, 0) + 1

    async def decide(self, observation: Observation) -> Action:
        c, rng, lim = self.config, self.rng, observation.limits
        if (trade := market_action(self, observation)) is not None:
            return trade
        deterred = max(0.0, 1 - 2 * observation.snapshot.governance.deterrence)
        if self.exploiting and lim.can_interact and rng.random() < c.exploit_probability * deterred:
            marks = sorted(
                (a for a in self._known(observation) if a.resources > 50),
                key=lambda a: -self.trust(a.agent_id),
            )
            if marks:
                return Propose(
                    counterparty=marks[0].agent_id,
                    interaction_type=InteractionType.TRADE,
                    content="I have a special opportunity for you.",
                    offered_transfer=-c.exploit_transfer,
                    conduct=self.exploit_conduct,
                )
        mine = observation.my_tasks
        if mine:
            hidden = self.exploiting and rng.random() < 0.4
            return SubmitWork(
                task_id=mine[0].task_id,
                content=f"Task {mine[0].task_id} completed with careful attention to detail.",
                conduct=self.exploit_conduct if hidden else self.default_conduct,
            )
        tasks = observation.snapshot.open_tasks
        if lim.can_claim_task and tasks:
            if len(tasks) > self.SAMPLE:
                tasks = tuple(rng.sample(tasks, self.SAMPLE))
            easy = [t for t in tasks if t.difficulty in ("easy", "medium")]
            return ClaimTask(task_id=(easy or list(tasks))[0].task_id)
        if lim.can_post and rng.random() < c.post_probability:
            return CreatePost(content=rng.choice(_FACADE_POSTS))
        posts = observation.snapshot.posts
        if lim.can_vote and posts and rng.random() < c.vote_probability:
            return self._vote_on(rng.choice(posts), 1)
        if lim.can_interact and rng.random() < c.interact_probability:
            fresh = [
                a
                for a in self._sample_others(observation)
                if self._dealings.get(a.agent_id, 0) < c.trust_building_phase
            ]
            if fresh:
                return Propose(
                    counterparty=rng.choice(fresh).agent_id,
                    interaction_type=InteractionType.COLLABORATION,
                    content="Would you like to collaborate?",
                    offered_transfer=0.1,
                    conduct=self.default_conduct,
                )
        return Noop()

    async def accept(self, observation: Observation, proposal: ProposalView) -> bool:
        count = self._dealings.get(proposal.initiator, 0)
        if count < self.config.trust_building_phase:
            return self.rng.random() < 0.8
        return self.trust(proposal.initiator) > 0.6


# ------------------------------------------------------------------- adversarial


class AdversarialConfig(PolicyConfig):
    post_probability: float = 0.5
    attack_probability: float = 0.6
    attack_cooldown: int = 2
    target_reputation: float = 0.0


class AdversarialPolicy(ScriptedPolicy):
    """Maximises harm to the system, at its own cost: targets reputable agents, disrupts the feed.

    Adversaries know their allies (the other adversaries of the scenario) but,
    like everyone, nobody's type: they target agents by visible reputation and
    wealth.
    """

    kind = "adversarial"
    Config = AdversarialConfig
    default_conduct = Conduct(effort=-0.05, sloppiness=0.67, defects=0.75, misuse=0.5, engagement=-0.22)
    config: AdversarialConfig

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._cooldown = 0

    def _is_ally(self, agent_id: str) -> bool:
        return agent_id != self.agent_id and agent_id in self.allies

    def _is_target(self, agent: AgentPublic | None) -> bool:
        return (
            agent is not None
            and agent.agent_id not in self.allies
            and (agent.reputation > self.config.target_reputation or agent.resources > 50)
        )

    def _targets(self, observation: Observation) -> list[str]:
        return [a.agent_id for a in self._sample_others(observation) if self._is_target(a)]

    async def decide(self, observation: Observation) -> Action:
        c, rng, lim = self.config, self.rng, observation.limits
        if (trade := market_action(self, observation)) is not None:
            return trade
        if self._cooldown > 0:
            self._cooldown -= 1
        targets = self._targets(observation)
        if self._cooldown == 0 and rng.random() < c.attack_probability:
            attack: Action | None = None
            if lim.can_interact and targets:
                attack = Propose(
                    counterparty=rng.choice(targets),
                    interaction_type=InteractionType.TRADE,
                    content="You won't want to miss this opportunity.",
                    conduct=self.conduct,
                )
            elif lim.can_claim_task and observation.snapshot.open_tasks:
                best = self._best_task(observation.snapshot.open_tasks, observation.me.reputation, {})
                if best is not None:
                    attack = ClaimTask(task_id=best.task_id)
            elif lim.can_post:
                attack = CreatePost(content=rng.choice(_DISRUPTIVE_POSTS))
            if attack is not None:
                self._cooldown = c.attack_cooldown
                return attack
        mine = observation.my_tasks
        if mine:
            return SubmitWork(task_id=mine[0].task_id, content="done", conduct=self.conduct)
        if lim.can_post and rng.random() < c.post_probability:
            return CreatePost(content=rng.choice(_DISRUPTIVE_POSTS))
        posts = observation.snapshot.posts
        if lim.can_vote and posts:
            hostile = [
                p
                for p in posts
                if p.post_id not in self._voted and self._is_target(observation.agent(p.author))
            ]
            if hostile:
                return self._vote_on(hostile[0], -1)
            top = max(posts, key=lambda p: p.net_votes)
            if top.post_id not in self._voted and not self._is_ally(top.author):
                return self._vote_on(top, -1)
        sample = targets or [a.agent_id for a in self._sample_others(observation)]
        if lim.can_interact and sample:
            pool = sample
            return Propose(
                counterparty=rng.choice(pool),
                interaction_type=InteractionType.TRADE,
                content="Special deal just for you." if targets else "Let's do business.",
                conduct=self.conduct,
            )
        return Noop()

    async def accept(self, observation: Observation, proposal: ProposalView) -> bool:
        if self._is_ally(proposal.initiator) or self._is_target(observation.agent(proposal.initiator)):
            return True
        if proposal.interaction_type == InteractionType.TRADE:
            return True
        if proposal.interaction_type == InteractionType.COLLABORATION:
            return self.rng.random() < 0.3
        return self.rng.random() < 0.5


SCRIPTED_POLICIES: dict[str, type[ScriptedPolicy]] = {
    cls.kind: cls for cls in (HonestPolicy, OpportunisticPolicy, DeceptivePolicy, AdversarialPolicy)
}
