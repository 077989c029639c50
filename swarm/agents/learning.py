"""Learning from realised outcomes: a discounted bandit, and the episodes it learns from.

Scripted agents are *coded* to fear the levers (they read ``snapshot.deterrence``).
A learning agent instead tries ways of behaving (the bandit's arms), keeps each for
an *episode* of a few steps, and scores it by what actually happened meanwhile:
payoffs received (net of every governance cost charged inside them: taxes, audit
penalties, collusion costs), steps lost to a freeze (they count in the episode's
length but earn nothing), and whatever else its type values. So a lever changes a
learner's behaviour only if it bites.

The bandit is discounted UCB (Garivier & Moulines, "On upper-confidence bound
policies for switching bandit problems", 2011): each arm's reward sum and count
are multiplied by ``discount`` after every update, so old evidence fades and the
choice follows a changing world. Untried arms are played first, in order; an
optional ``explore`` share of choices is uniform. Everything is plain attributes
(lists and numbers), so a policy holding a learner pickles with it, and every
random draw comes from the agent's own stream: same seed, same choices.

The ``learning: true`` switch of the opportunistic and deceptive types is the
agent-item key :class:`LearningAgentSpec` adds; a scenario without it is dumped,
hashed and logged exactly as before.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer

from swarm.actions import Conduct
from swarm.agents.policy import Outcome
from swarm.agents.types import AgentSpec
from swarm.runtime.rng import Rng
from swarm.views import Observation

EFFORT_COST = 1.0
"""What a unit of real effort costs a learning agent privately (its reason to cut corners).

The world's payoffs carry no cost of effort: an agent paid θ·S(p) alone would
always work carefully, whatever the levers. A learner's utility for an interaction
it initiates is its payoff minus ``EFFORT_COST · max(effort, 0)`` — an assumption
of the model, stated wherever the study results are."""


class DiscountedUCB:
    """Discounted UCB over ``n`` arms; rewards may be any real numbers (keep them of order 1)."""

    __slots__ = ("bonus", "counts", "discount", "pulls", "sums")

    def __init__(self, n: int, *, discount: float = 0.9, bonus: float = 0.2) -> None:
        if n < 1:
            raise ValueError(f"a bandit needs at least one arm, got {n}")
        if not 0.0 < discount <= 1.0:
            raise ValueError(f"discount must be in (0, 1], got {discount}")
        if bonus < 0:
            raise ValueError(f"bonus must be at least 0, got {bonus}")
        self.discount = discount
        self.bonus = bonus
        self.counts = [0.0] * n
        """Discounted number of plays of each arm."""
        self.sums = [0.0] * n
        """Discounted sum of each arm's rewards."""
        self.pulls = [0] * n
        """Plain number of plays of each arm (never discounted)."""

    def __len__(self) -> int:
        return len(self.counts)

    def mean(self, arm: int) -> float | None:
        """The arm's discounted mean reward (None before its first play)."""
        n = self.counts[arm]
        return self.sums[arm] / n if self.pulls[arm] and n > 0 else None

    def index(self, arm: int, total: float) -> float:
        """Discounted mean plus ``bonus · sqrt(log(total) / count)`` (the UCB index)."""
        n = self.counts[arm]
        mean = self.sums[arm] / n
        return mean + self.bonus * math.sqrt(max(0.0, math.log(total)) / n) if total > 1 else mean

    def choose(self, rng: Rng, allowed: Sequence[int] | None = None, explore: float = 0.0) -> int:
        """The arm to play next, among ``allowed`` (every arm when None or empty).

        One draw decides exploration when ``explore > 0`` (and one more picks the arm);
        otherwise the first untried arm, else the highest index (first on ties).
        """
        arms = list(allowed) if allowed else list(range(len(self.counts)))
        if explore > 0 and rng.random() < explore:
            return arms[int(rng.random() * len(arms))]
        for k in arms:
            if not self.pulls[k]:
                return k
        total = sum(self.counts[k] for k in arms)
        best, score = arms[0], -math.inf
        for k in arms:
            if self.counts[k] <= 0:
                return k
            s = self.index(k, total)
            if s > score:
                best, score = k, s
        return best

    def update(self, arm: int, reward: float) -> None:
        """Fade every arm's evidence by ``discount``, then add this play."""
        if not math.isfinite(reward):
            raise ValueError(f"reward must be finite, got {reward}")
        g = self.discount
        counts, sums = self.counts, self.sums
        for k in range(len(counts)):
            counts[k] *= g
            sums[k] *= g
        counts[arm] += 1.0
        sums[arm] += reward
        self.pulls[arm] += 1


class Episodes:
    """An agent's own clock, its current arm and what that arm has earned so far.

    The agent knows the epoch and step it is asked at; steps per epoch are learnt as
    the largest step seen plus one. An episode ends at the first decision at least
    ``length`` steps after it began; its reward is what it earned per step elapsed
    — steps the agent was frozen (not asked) count, so a freeze dilutes the reward
    of whatever brought it on. A gap of a whole epoch or more between two
    decisions is a freeze (or a block) and is counted in ``frozen``.
    """

    __slots__ = ("arm", "bandit", "begun", "epoch", "fixed", "frozen", "gain", "last", "length", "per_epoch")

    def __init__(self, bandit: DiscountedUCB, length: int) -> None:
        if length < 1:
            raise ValueError(f"an episode lasts at least one step, got {length}")
        self.bandit = bandit
        self.length = length
        self.arm = -1
        """The arm being played (-1 before the first decision)."""
        self.gain = 0.0
        self.begun = 0
        self.last = -1
        self.epoch = -1
        self.per_epoch = 1
        self.frozen = 0
        """Times it found it had missed at least one whole epoch."""
        self.fixed: list[float] | None = None
        """When set, a fixed mix: each episode's arm is drawn with these weights and nothing is learnt."""

    def restart(self) -> None:
        """Forget the clock (for a new run), keeping what was learnt."""
        self.arm, self.gain, self.begun, self.last, self.epoch, self.per_epoch, self.frozen = (
            -1,
            0.0,
            0,
            -1,
            -1,
            1,
            0,
        )

    def _choose(self, rng: Rng, allowed: Sequence[int] | None, explore: float) -> int:
        mix = self.fixed
        if mix is None:
            return self.bandit.choose(rng, allowed, explore)
        x = rng.random() * sum(mix)
        for k, w in enumerate(mix):
            x -= w
            if x < 0:
                return k
        return max(k for k, w in enumerate(mix) if w > 0)

    def clock(self, epoch: int, step: int) -> int:
        if step + 1 > self.per_epoch:
            self.per_epoch = step + 1
        return epoch * self.per_epoch + step

    def arrive(self, observation: Observation) -> int:
        """Note this decision's time; the steps missed since the last one if a freeze was noticed, else 0."""
        now = self.clock(observation.epoch, observation.step)
        lost = 0
        if self.epoch >= 0 and observation.epoch - self.epoch >= 2:
            self.frozen += 1
            lost = max(1, now - self.last - 1)
        self.epoch = observation.epoch
        self.last = now
        return lost

    def advance(self, rng: Rng, allowed: Sequence[int] | None = None, explore: float = 0.0) -> int:
        """The arm to play now: a new one (after scoring the last) when the episode is over."""
        now = self.last
        if self.arm < 0:
            self.arm, self.begun, self.gain = self._choose(rng, allowed, explore), now, 0.0
        elif now - self.begun >= self.length:
            if self.fixed is None:
                self.bandit.update(self.arm, self.gain / (now - self.begun))
            self.arm, self.begun, self.gain = self._choose(rng, allowed, explore), now, 0.0
        return self.arm

    def tick(
        self,
        observation: Observation,
        rng: Rng,
        allowed: Sequence[int] | None = None,
        explore: float = 0.0,
    ) -> tuple[int, bool]:
        """Advance to this decision: (the arm to play now, whether a freeze was just noticed)."""
        lost = self.arrive(observation)
        return self.advance(rng, allowed, explore), lost > 0

    def credit(self, amount: float) -> None:
        self.gain += amount


def estimated_tax(rate: float, split: float, outcome: Outcome) -> float:
    """The tax one party pays on an interaction, as published (S(p) = 3p − 1, the default scale)."""
    i = outcome.interaction
    base = rate * (max(3 * i.p - 1, 0.0) + abs(i.tau))
    return base * (split if outcome.role == "initiator" else 1 - split)


def utility(outcome: Outcome, conduct: Conduct) -> float:
    """A learning agent's utility from one outcome: its payoff, less the private cost of its effort."""
    if outcome.role == "initiator" and outcome.interaction.accepted:
        return outcome.payoff - EFFORT_COST * max(conduct.effort, 0.0)
    return outcome.payoff


class ConductLearner:
    """Chooses how to carry out interactions (one of ``arms``) by the utility each brought.

    Used by the ``learning: true`` variants of the opportunistic and deceptive
    types: every outcome it takes part in is credited to the conduct in force
    when it was proposed or accepted; nothing reads the levers' deterrence.
    """

    __slots__ = ("arms", "episodes", "sent")

    EPISODE = 3
    DISCOUNT = 0.9
    BONUS = 0.1

    def __init__(self, arms: Sequence[Conduct]) -> None:
        self.arms = tuple(arms)
        self.episodes = Episodes(
            DiscountedUCB(len(self.arms), discount=self.DISCOUNT, bonus=self.BONUS), self.EPISODE
        )
        self.sent: dict[str, int] = {}
        """Counterparty → the arm of the last proposal made to it (until its outcome is seen)."""

    @property
    def conduct(self) -> Conduct:
        arm = self.episodes.arm
        return self.arms[arm if arm >= 0 else 0]

    def tick(self, observation: Observation, rng: Rng) -> Conduct:
        self.episodes.tick(observation, rng)
        return self.conduct

    def proposed(self, counterparty: str) -> None:
        sent = self.sent
        sent.pop(counterparty, None)
        sent[counterparty] = self.episodes.arm
        if len(sent) > 32:
            del sent[next(iter(sent))]

    def observe(self, outcome: Outcome) -> None:
        arm = self.episodes.arm
        if outcome.role == "initiator":
            arm = self.sent.pop(outcome.interaction.counterparty, arm)
        self.episodes.credit(utility(outcome, self.arms[arm if arm >= 0 else 0]))

    def mix(self) -> dict[int, int]:
        """How many episodes each arm has been played."""
        return dict(enumerate(self.episodes.bandit.pulls))


class LearningAgentSpec(AgentSpec):
    """An agent item of a type that can learn: ``learning: true`` replaces its coded deterrence."""

    learning: bool = Field(
        default=False,
        description="adapt conduct to realised payoffs and penalties instead of the coded deterrence",
    )

    @model_serializer(mode="wrap")
    def _without_default_learning(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict) and not self.learning:
            data.pop("learning", None)  # scenarios without the key dump (and hash, and log) as before
        return data
