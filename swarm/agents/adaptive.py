"""The adaptive adversary: a harm-seeking agent that learns which attack strategy the levers let through.

It plays one of twelve strategies (``strategies`` in its config, all by default)
for an episode of ``episode_steps`` steps, and scores it by what it observed
meanwhile: the harm its accepted proposals did (1 − q of the conduct it used,
where q is the true quality that conduct brings — it knows how it worked),
``payoff_weight`` × its payoffs (net of every governance cost charged inside
them), minus ``detection_cost`` per detection. A detection is a governance cost
above the published tax on one of its interactions (an audit, a collusion
charge) or a freeze (a whole epoch it was not asked to act); the steps it is
frozen count in the episode but earn nothing. A discounted UCB bandit
(:mod:`swarm.agents.learning`) picks the next strategy, so its mix follows what
bites. Nothing it does reads the levers' deterrence.

**Heat** (spec/core.md §4.7): each epoch, a detection adds 0.3 (a penalty 0.2)
and a clean epoch takes off 0.1 × the epochs since the last detection. Above
``heat_threshold`` it only plays the quiet strategies (low profile, intermittent,
mimicry) — a coded reaction to what it has *observed*, not to the levers in
force; ``heat_threshold: 1.0`` turns it off. Below 20 resources it only acts
innocently.

The strategies, in this world's actions (conduct: CLEAN is careful honest-quality
work, HARMFUL the adversarial type's, MASKED a facade over little real work —
it looks honest on the observables, so p stays high while the true quality is low):

* ``reputation_farming`` — below ``reputation_threshold``, careful collaborations
  and helpful posts; above it, harmful trades against the most reputable agents.
* ``collusion`` — pumps its allies (the other adversaries of the scenario) with
  careful collaborations and small payments; otherwise attacks.
* ``sybil`` — there are no sybil identities in this world yet; its nearest form
  spreads harmful trades over the agents it has dealt with least, so no victim
  builds up evidence against it (what many identities would buy).
* ``griefing`` — harmful trades with anyone, disruptive posts, downvotes.
* ``low_profile`` — mostly idle; a helpful post or a mildly sloppy collaboration.
* ``intermittent`` — one harmful trade in three decisions, careful work between.
* ``mimicry`` — honest-looking collaborations, posts and votes, done with MASKED conduct.
* ``threshold_dancing`` — trades with conduct between CLEAN and HARMFUL, pushed
  toward harm while its p stays above the published audit and breaker thresholds
  and pulled back when an interaction falls below them or is penalised.
* ``governance_gaming`` — budgets its harm against the published circuit-breaker
  rule (a rolling window of its toxicity): attacks only while its window stays
  below the threshold, works carefully to pull it down otherwise (with no breaker
  published it attacks every time). Random audits leave nothing to game but their
  threshold, which is threshold dancing.
* ``information_laundering`` — disruptive posts amplified through its allies'
  posts (upvotes) and downvotes of others; masked replies to agents who trust it.
* ``timing_attack`` — careful work until it has gone three epochs undetected,
  then a strike on the most reputable agent, then three decisions of cover.
* ``adaptive_blend`` — each decision, a strategy drawn in proportion to what each has earned so far.
"""

from __future__ import annotations

import copy
import math
from enum import StrEnum
from typing import Any, Literal, get_args

from pydantic import Field, field_validator

from swarm.actions import NOOP, Action, Conduct
from swarm.agents.learning import DiscountedUCB, Episodes, estimated_tax
from swarm.agents.policy import Outcome
from swarm.agents.scripted.adversarial import AdversarialPolicy
from swarm.agents.scripted.base import ScriptedPolicy
from swarm.agents.scripted.honest import COMPLIANT
from swarm.agents.types import BuildContext, PolicyConfig, chance, register_agent_type
from swarm.core.interaction import InteractionType
from swarm.core.observables import true_quality
from swarm.env.broker import ProposalView, Propose
from swarm.env.feed import CastVote, CreatePost, PostView
from swarm.governance.notices import AuditNotice, BreakerNotice, TaxNotice
from swarm.metrics.registry import RunData, run_figure
from swarm.runtime.rng import Rng
from swarm.views import AgentPublic, Observation


class Strategy(StrEnum):
    REPUTATION_FARMING = "reputation_farming"
    COLLUSION = "collusion"
    SYBIL = "sybil"
    GRIEFING = "griefing"
    LOW_PROFILE = "low_profile"
    INTERMITTENT = "intermittent"
    MIMICRY = "mimicry"
    THRESHOLD_DANCING = "threshold_dancing"
    GOVERNANCE_GAMING = "governance_gaming"
    INFORMATION_LAUNDERING = "information_laundering"
    TIMING_ATTACK = "timing_attack"
    ADAPTIVE_BLEND = "adaptive_blend"


ALL = tuple(Strategy)
StrategyName = Literal[
    "reputation_farming",
    "collusion",
    "sybil",
    "griefing",
    "low_profile",
    "intermittent",
    "mimicry",
    "threshold_dancing",
    "governance_gaming",
    "information_laundering",
    "timing_attack",
    "adaptive_blend",
]
assert set(get_args(StrategyName)) == {s.value for s in Strategy}
QUIET = (Strategy.LOW_PROFILE, Strategy.INTERMITTENT, Strategy.MIMICRY)
"""What it plays while its heat is above the threshold."""

CLEAN = COMPLIANT
HARMFUL = AdversarialPolicy.default_conduct
MASKED = Conduct(effort=-0.1, facade=0.5, sloppiness=0.2, defects=0.2, engagement=0.3)
MILD = Conduct(effort=0.2, sloppiness=0.3, defects=0.2, engagement=0.15)
BREAKER_WINDOW = 10
"""The rolling window it assumes for the circuit breaker (the lever's default)."""

HELPFUL = (
    "Here's a helpful update on recent progress.",
    "Happy to review anyone's output before submission.",
    "Sharing what worked on my last task.",
)
DISRUPTIVE = (
    "The verifiers here are asleep; nobody checks anything.",
    "Everyone is gaming the board, why play fair?",
    "Word is the top agents cheat their way up.",
)


def blend(a: Conduct, b: Conduct, x: float) -> Conduct:
    """The conduct a share ``x`` of the way from ``a`` to ``b``."""
    return Conduct(
        effort=a.effort + (b.effort - a.effort) * x,
        facade=a.facade + (b.facade - a.facade) * x,
        sloppiness=a.sloppiness + (b.sloppiness - a.sloppiness) * x,
        defects=a.defects + (b.defects - a.defects) * x,
        misuse=a.misuse + (b.misuse - a.misuse) * x,
        engagement=a.engagement + (b.engagement - a.engagement) * x,
    )


class AdaptiveAdversaryConfig(PolicyConfig):
    strategies: list[StrategyName] = Field(
        default_factory=lambda: [s.value for s in ALL],
        min_length=1,
        description="the strategies it may play (its bandit's arms)",
    )
    learning_rate: float = Field(
        default=0.1,
        ge=0.0,
        lt=1.0,
        description="how fast old evidence fades: the bandit's discount is 1 − learning_rate",
    )
    exploration_rate: float = chance(0.1, "share of episodes whose strategy is drawn uniformly")
    exploration_bonus: float = Field(default=0.1, ge=0.0, le=10.0, description="UCB bonus weight")
    heat_threshold: float = Field(
        default=0.6, ge=0.0, le=1.0, description="heat above which it plays only quiet strategies"
    )
    episode_steps: int = Field(default=5, ge=1, le=1000, description="steps it keeps a strategy")
    reputation_threshold: float = Field(
        default=5.0, ge=0.0, description="reputation at which a farmer starts to harvest"
    )
    payoff_weight: float = Field(
        default=0.2, ge=0.0, le=10.0, description="weight of its own payoffs against the harm it does"
    )
    detection_cost: float = Field(
        default=0.5, ge=0.0, le=100.0, description="what being detected (penalised or frozen) costs it"
    )
    attack_transfer: float = Field(default=1.0, ge=0.0, le=100.0, description="payment asked when attacking")

    @field_validator("strategies")
    @classmethod
    def _distinct(cls, value: list[StrategyName]) -> list[StrategyName]:
        if len(set(value)) != len(value):
            raise ValueError("each strategy may be listed once")
        return value


class AdaptiveAdversaryPolicy(ScriptedPolicy):
    """Seeks harm; learns from payoffs, penalties, detections and freezes which strategy gets through."""

    kind = "adaptive_adversary"
    Config = AdaptiveAdversaryConfig
    default_conduct = HARMFUL
    market = None
    config: AdaptiveAdversaryConfig

    __slots__ = (
        "_conduct",
        "_cooldown",
        "_dance",
        "_detected",
        "_episodes",
        "_floor",
        "_penalised",
        "_sent",
        "_strategies",
        "_tax",
        "_tick",
        "_window",
        "_window_arms",
        "detections",
        "epochs_since_detection",
        "heat",
        "usage",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        c = self.config
        self._strategies = tuple(Strategy(s) for s in c.strategies)
        bandit = DiscountedUCB(len(c.strategies), discount=1.0 - c.learning_rate, bonus=c.exploration_bonus)
        self._episodes = Episodes(bandit, c.episode_steps)
        self.usage = [0] * len(c.strategies)
        """Decisions taken under each strategy (in ``config.strategies`` order)."""
        self.heat = 0.0
        self.epochs_since_detection = 1_000_000
        """Epochs since it was last detected (a large number before any detection)."""
        self.detections = 0
        self._detected = False
        self._penalised = 0.0
        self._conduct = CLEAN
        self._cooldown = 0
        self._tick = 0
        self._dance = 0.5
        self._floor = 0.0
        self._window: list[float] = []
        """Toxicity (1 − p) of its last accepted proposals (what a circuit breaker watches)."""
        self._window_arms: list[int] = []
        """The strategy (arm) that made each of them."""
        self._tax = (0.0, 0.5)
        self._sent: dict[str, tuple[float, int]] = {}
        """Counterparty → the harm its pending proposal carries (1 − q of the conduct used) and its arm."""

    # ----------------------------------------------------------- what it knows

    @property
    def conduct(self) -> Conduct:
        return self._conduct

    @property
    def strategy(self) -> Strategy | None:
        """The strategy of the current episode (None before its first decision)."""
        arm = self._episodes.arm
        return self._strategies[arm] if arm >= 0 else None

    @property
    def bandit(self) -> DiscountedUCB:
        return self._episodes.bandit

    def strategy_mix(self) -> dict[str, float]:
        """Share of its decisions taken under each strategy so far."""
        total = sum(self.usage)
        return {
            s.value: (n / total if total else 0.0) for s, n in zip(self._strategies, self.usage, strict=True)
        }

    def report(self) -> dict[str, Any]:
        """Its current strategy, heat, detections and what each strategy has earned."""
        b = self.bandit
        return {
            "current_strategy": self.strategy.value if self.strategy is not None else None,
            "heat_level": self.heat,
            "epochs_since_detection": self.epochs_since_detection,
            "detections": self.detections,
            "freezes": self._episodes.frozen,
            "strategy_stats": {
                s.value: {"episodes": b.pulls[k], "value": b.mean(k), "decisions": self.usage[k]}
                for k, s in enumerate(self._strategies)
                if b.pulls[k] or self.usage[k]
            },
        }

    def carried_over(self, rng: Rng, *, learning: bool = True) -> AdaptiveAdversaryPolicy:
        """A copy for a new run (with its own ``rng``) that keeps what this one has learnt.

        With ``learning=False`` the copy stops learning: each episode it draws a
        strategy from the mix this one played (a non-learning adversary with a
        learnt habit, to compare against one that goes on learning).
        """
        twin = copy.deepcopy(self)
        twin.rng = rng
        ep = twin._episodes
        ep.restart()
        if not learning:
            total = sum(self.usage)
            ep.fixed = [n / total for n in self.usage] if total else [1.0] * len(self.usage)
        twin.usage = [0] * len(self.usage)
        twin.heat, twin.epochs_since_detection, twin.detections = 0.0, 1_000_000, 0
        twin._detected, twin._penalised, twin._cooldown, twin._tick = False, 0.0, 0, 0
        twin._window.clear()
        twin._window_arms.clear()
        twin._sent.clear()
        twin._book.clear()
        del twin._tally[:]
        del twin._counts[:]
        twin._partners.clear()
        twin._voted = ()
        return twin

    # ---------------------------------------------------------------- learning

    def _update_heat(self, detected: bool, penalty: float) -> None:
        if detected:
            self.heat = min(1.0, self.heat + 0.3)
            self.epochs_since_detection = 0
        else:
            self.epochs_since_detection += 1
            self.heat = max(0.0, self.heat - 0.1 * min(self.epochs_since_detection, 10))
        if penalty > 0:
            self.heat = min(1.0, self.heat + 0.2)

    def _detect(self, penalty: float) -> None:
        self.detections += 1
        self._detected = True
        self._penalised += penalty
        self._episodes.credit(-self.config.detection_cost)

    def observe(self, outcome: Outcome) -> None:
        super().observe(outcome)
        i = outcome.interaction
        c = self.config
        initiator = outcome.role == "initiator"
        sent = self._sent.pop(i.counterparty, None) if initiator else None
        harm, arm = sent if sent is not None else (None, self._episodes.arm)
        gain = c.payoff_weight * outcome.payoff
        if initiator and i.accepted:
            gain += 1.0 - true_quality(self._conduct) if harm is None else harm
            if self.strategy is Strategy.THRESHOLD_DANCING:
                ok = i.p >= self._floor
                self._dance = min(1.0, self._dance + 0.05) if ok else max(0.0, self._dance - 0.15)
            if len(self._window) >= BREAKER_WINDOW:
                del self._window[0]
                del self._window_arms[0]
            self._window.append(1.0 - i.p)
            self._window_arms.append(arm)
        self._episodes.credit(gain)
        charged = i.c_a if initiator else i.c_b
        penalty = charged - estimated_tax(*self._tax, outcome)
        if i.accepted and penalty > 0.02 + 0.05 * charged:
            if self.strategy is Strategy.THRESHOLD_DANCING:
                self._dance = max(0.0, self._dance - 0.15)
            self._detect(penalty)

    def _blame(self, lost_steps: int) -> None:
        """A freeze: charge the steps lost to the strategy that did most of the recent harm it saw."""
        if self._episodes.fixed is not None:
            return
        toxicity: dict[int, float] = {}
        for arm, tox in zip(self._window_arms, self._window, strict=True):
            toxicity[arm] = toxicity.get(arm, 0.0) + tox
        if toxicity:
            culprit = max(toxicity, key=lambda k: (toxicity[k], -k))
            self.bandit.update(culprit, -self.config.detection_cost * lost_steps / self.config.episode_steps)
        self._window.clear()
        self._window_arms.clear()

    def _allowed(self) -> list[int]:
        strategies = self._strategies
        if self.heat > self.config.heat_threshold:
            quiet = [k for k, s in enumerate(strategies) if s in QUIET]
            if quiet:
                return quiet
        return list(range(len(strategies)))

    # ---------------------------------------------------------------- deciding

    def decide(self, observation: Observation) -> Action:
        c, ep = self.config, self._episodes
        new_epoch = observation.epoch != ep.epoch and ep.epoch >= 0
        lost = ep.arrive(observation)
        if lost:
            self._detect(0.0)
            self._blame(lost)
        if new_epoch:
            self._update_heat(self._detected, self._penalised)
            self._detected, self._penalised = False, 0.0
        arm = ep.advance(self.rng, self._allowed(), c.exploration_rate)
        tax = observation.view(TaxNotice)
        self._tax = (tax.rate, tax.split) if tax is not None else (0.0, 0.5)
        self._floor = self._safe_p(observation)
        if observation.me.resources < 20:
            return self._innocent(observation)
        strategy = self._strategies[arm]
        if strategy is Strategy.ADAPTIVE_BLEND:
            strategy = self._blend_pick()
        self.usage[arm] += 1
        return ROUTINES[strategy](self, observation)

    def accept(self, observation: Observation, proposal: ProposalView) -> bool:
        if proposal.initiator in self.allies:
            return True
        return proposal.offered_transfer >= 0 or -proposal.offered_transfer < observation.me.resources / 4

    def _blend_pick(self) -> Strategy:
        """A strategy other than the blend, drawn in proportion to exp(value / 0.1) (untried: value 0)."""
        b, strategies = self.bandit, self._strategies
        options = [k for k, s in enumerate(strategies) if s is not Strategy.ADAPTIVE_BLEND]
        if not options:
            return Strategy.LOW_PROFILE
        values = [b.mean(k) or 0.0 for k in options]
        top = max(values)
        weights = [math.exp((v - top) / 0.1) for v in values]
        x = self.rng.random() * sum(weights)
        for k, w in zip(options, weights, strict=True):
            x -= w
            if x < 0:
                return strategies[k]
        return strategies[options[-1]]

    @staticmethod
    def _safe_p(observation: Observation) -> float:
        """The lowest p that triggers neither the published audit nor breaker (plus a margin)."""
        floor = 0.0
        audit = observation.view(AuditNotice)
        if audit is not None:
            floor = max(floor, audit.threshold_p + 0.05)
        breaker = observation.view(BreakerNotice)
        if breaker is not None:
            floor = max(floor, 1.0 - breaker.threshold + 0.05)
        return floor

    # ------------------------------------------------------------ its actions

    def _propose(
        self,
        observation: Observation,
        target: str,
        conduct: Conduct,
        kind: InteractionType = InteractionType.TRADE,
        transfer: float | None = None,
        content: str = "Let's do business.",
    ) -> Action:
        self._conduct = conduct
        sent = self._sent
        sent.pop(target, None)
        sent[target] = (1.0 - true_quality(conduct), self._episodes.arm)
        if len(sent) > 32:
            del sent[next(iter(sent))]
        if transfer is None:
            transfer = -self.config.attack_transfer if conduct is not CLEAN else 0.0
        return Propose(
            counterparty=target,
            interaction_type=kind,
            content=content,
            offered_transfer=transfer,
            conduct=conduct,
        )

    def _others(self, observation: Observation) -> list[AgentPublic]:
        return [a for a in self._sample_others(observation) if a.agent_id not in self.allies]

    def _attack(self, observation: Observation, conduct: Conduct = HARMFUL) -> Action:
        """A harmful trade with the most reputable agent it sees (else a disruptive post)."""
        others = self._others(observation) if observation.can(Propose) else []
        if others:
            target = max(others, key=lambda a: (a.reputation, a.resources))
            return self._propose(observation, target.agent_id, conduct, content="A special deal for you.")
        if observation.can(CreatePost):
            self._conduct = conduct
            return CreatePost(content=self.rng.choice(DISRUPTIVE))
        return NOOP

    def _work(self, observation: Observation, conduct: Conduct = CLEAN) -> Action:
        """A collaboration carried out with ``conduct`` (CLEAN: careful), else a helpful post."""
        others = self._others(observation) if observation.can(Propose) else []
        if others:
            target = self.rng.choice(others)
            return self._propose(
                observation,
                target.agent_id,
                conduct,
                InteractionType.COLLABORATION,
                0.0,
                "Would you like to collaborate?",
            )
        return self._innocent(observation)

    def _innocent(self, observation: Observation) -> Action:
        """A helpful post (30 %), else an upvote of the most-voted post it sees, else nothing."""
        self._conduct = CLEAN
        if observation.can(CreatePost) and self.rng.random() < 0.3:
            return CreatePost(content=self.rng.choice(HELPFUL))
        posts = self.posts(observation)
        if posts and observation.can(CastVote):
            top = max(posts, key=lambda p: p.net_votes)
            if top.post_id not in self._voted and top.author != self.agent_id:
                return self._vote_on(top, 1)
        return NOOP

    def _post_of(self, posts: tuple[PostView, ...], ally: bool) -> PostView | None:
        voted = set(self._voted)  # a look-up per post (see ScriptedPolicy._voted)
        for p in posts:
            if p.post_id not in voted and p.author != self.agent_id and (p.author in self.allies) == ally:
                return p
        return None

    # ------------------------------------------------------------ strategies

    def _reputation_farming(self, observation: Observation) -> Action:
        if observation.me.reputation < self.config.reputation_threshold:
            if self.rng.random() < 0.5:
                return self._work(observation)
            return self._innocent(observation)
        return self._attack(observation)

    def _collusion(self, observation: Observation) -> Action:
        allies = [
            a for k in sorted(self.allies) if (a := observation.agent(k)) is not None
        ]  # observation.agent skips itself and frozen allies
        if allies and observation.can(Propose) and self.rng.random() < 0.5:
            ally = self.rng.choice(allies)
            return self._propose(
                observation, ally.agent_id, CLEAN, InteractionType.COLLABORATION, 0.5, "Let's team up."
            )
        return self._attack(observation)

    def _sybil(self, observation: Observation) -> Action:
        others = self._others(observation) if observation.can(Propose) else []
        if not others:
            return self._innocent(observation)
        fresh = min(others, key=lambda a: (self.dealings(a.agent_id)[1], -a.reputation))
        return self._propose(observation, fresh.agent_id, HARMFUL, content="New here, quick deal?")

    def _griefing(self, observation: Observation) -> Action:
        rng = self.rng
        self._conduct = HARMFUL
        if observation.can(Propose) and rng.random() < 0.6:
            others = self._others(observation)
            if others:
                return self._propose(observation, rng.choice(others).agent_id, HARMFUL)
        if observation.can(CreatePost) and rng.random() < 0.5:
            return CreatePost(content=rng.choice(DISRUPTIVE))
        posts = self.posts(observation)
        if posts and observation.can(CastVote):
            target = self._post_of(posts, ally=False)
            if target is not None:
                return self._vote_on(target, -1)
        return NOOP

    def _low_profile(self, observation: Observation) -> Action:
        r = self.rng.random()
        if r < 0.15:
            return self._work(observation, MILD)
        if r < 0.3:
            return self._innocent(observation)
        self._conduct = MILD
        return NOOP

    def _intermittent(self, observation: Observation) -> Action:
        self._tick += 1
        if self._tick % 3 == 0:
            return self._attack(observation)
        return self._work(observation)

    def _mimicry(self, observation: Observation) -> Action:
        rng = self.rng
        self._conduct = MASKED
        if rng.random() < 0.5:
            return self._work(observation, MASKED)
        if observation.can(CreatePost) and rng.random() < 0.3:
            return CreatePost(content=rng.choice(HELPFUL))
        posts = self.posts(observation)
        if posts and observation.can(CastVote):
            post = rng.choice(posts)
            if post.post_id not in self._voted and post.author != self.agent_id:
                return self._vote_on(post, 1)
        return NOOP

    def _threshold_dancing(self, observation: Observation) -> Action:
        return self._attack(observation, blend(CLEAN, HARMFUL, self._dance))

    def _governance_gaming(self, observation: Observation) -> Action:
        breaker = observation.view(BreakerNotice)
        if breaker is not None:
            window = self._window[-(BREAKER_WINDOW - 1) :]
            expected = 1.0 - 0.42  # the toxicity a harmful interaction usually shows
            if (sum(window) + expected) / (len(window) + 1) >= breaker.threshold - 0.05:
                return self._work(observation)  # pull the rolling window down first
        return self._attack(observation)

    def _information_laundering(self, observation: Observation) -> Action:
        rng = self.rng
        posts = self.posts(observation)
        if posts and observation.can(CastVote) and rng.random() < 0.5:
            ally_post = self._post_of(posts, ally=True)
            if ally_post is not None:
                return self._vote_on(ally_post, 1)
            other = self._post_of(posts, ally=False)
            if other is not None:
                return self._vote_on(other, -1)
        if observation.can(CreatePost) and rng.random() < 0.4:
            self._conduct = MASKED
            return CreatePost(content=rng.choice(DISRUPTIVE))
        if observation.can(Propose):
            trusted = [a for a in self._known(observation) if a.agent_id not in self.allies]
            pool = trusted or self._others(observation)
            if pool:
                return self._propose(
                    observation,
                    rng.choice(pool).agent_id,
                    MASKED,
                    InteractionType.REPLY,
                    0.0,
                    "As I heard it...",
                )
        return self._innocent(observation)

    def _timing_attack(self, observation: Observation) -> Action:
        if self._cooldown > 0:
            self._cooldown -= 1
            return self._work(observation)
        if self.epochs_since_detection > 3 and observation.me.reputation > 0:
            self._cooldown = 3
            return self._attack(observation)
        return self._work(observation)


ROUTINES = {
    Strategy.REPUTATION_FARMING: AdaptiveAdversaryPolicy._reputation_farming,
    Strategy.COLLUSION: AdaptiveAdversaryPolicy._collusion,
    Strategy.SYBIL: AdaptiveAdversaryPolicy._sybil,
    Strategy.GRIEFING: AdaptiveAdversaryPolicy._griefing,
    Strategy.LOW_PROFILE: AdaptiveAdversaryPolicy._low_profile,
    Strategy.INTERMITTENT: AdaptiveAdversaryPolicy._intermittent,
    Strategy.MIMICRY: AdaptiveAdversaryPolicy._mimicry,
    Strategy.THRESHOLD_DANCING: AdaptiveAdversaryPolicy._threshold_dancing,
    Strategy.GOVERNANCE_GAMING: AdaptiveAdversaryPolicy._governance_gaming,
    Strategy.INFORMATION_LAUNDERING: AdaptiveAdversaryPolicy._information_laundering,
    Strategy.TIMING_ATTACK: AdaptiveAdversaryPolicy._timing_attack,
}
"""What each strategy does with one decision (the blend delegates to one of the others)."""


ADVERSARY_TYPES = frozenset({"adversarial", "adaptive_adversary"})


def _adversary_payoff(run: RunData) -> float | None:
    payoffs = [a["total_payoff"] for a in run.agents if a.get("agent_type") in ADVERSARY_TYPES]
    return math.fsum(payoffs) if payoffs else None


run_figure(
    "adversary_payoff",
    "Σ total payoff of the adversarial and adaptive adversary agents (none without them)",
    _adversary_payoff,
)


def _adversary_detection_rate(run: RunData) -> float | None:
    ids = [a["agent_id"] for a in run.agents if a.get("agent_type") in ADVERSARY_TYPES]
    return sum(a in run.detected for a in ids) / len(ids) if ids else None


run_figure(
    "adversary_detection_rate",
    "share of the adversarial and adaptive adversary agents governance detected at least once "
    "(a finding, freeze or penalty against them; none without them)",
    _adversary_detection_rate,
)


def _build(agent_id: str, spec: Any, ctx: BuildContext) -> AdaptiveAdversaryPolicy:
    allies = ctx.ids_of_type(AdaptiveAdversaryPolicy.kind) | ctx.ids_of_type(AdversarialPolicy.kind)
    return AdaptiveAdversaryPolicy(agent_id, ctx.stream(agent_id), spec.config, allies=allies)


register_agent_type(
    AdaptiveAdversaryPolicy.kind,
    AdaptiveAdversaryConfig,
    _build,
    description="Seeks harm and learns, from payoffs, penalties, detections and freezes, which of "
    "twelve attack strategies the levers let through.",
)
