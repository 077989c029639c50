"""The security lever: threat scores from observed behaviour, quarantine that is released, containment.

The lever's keys are the reference's flat ``governance.security_*`` keys (plus two
of its own). It has no hooks of its own: what it judges — messages between agents
and their interactions — is seen by the ``security`` world component
(:mod:`swarm.env.security`), which runs the :class:`SecurityAnalyzer` when
``security_enabled`` is true and books its findings as governance effects
(``lever: security``). The analyzer reads only what an operator could observe:
the text of messages, who sent what to whom and when, and each interaction's
observables. It never reads the simulation's ground truth (payload markers,
which agents were taken over).

Indicators (each with a severity and a confidence; risk = severity·confidence):

* **prompt injection** — a message whose text matches instruction-override
  phrases (``INJECTION_PATTERNS``): severity min(1, 0.5·hits), confidence
  min(0.9, severity + 0.2), kept when severity ≥ ``security_injection_threshold``;
  and, at an epoch's end, the reference's interaction score (accepted with p < 0.3,
  tool misuse, verifier rejections);
* **exfiltration** — a message carrying credential-like text
  (``CREDENTIAL_PATTERNS``): severity 0.9, confidence 0.8;
* **manipulation** — an agent that receives credentials in at least
  ``security_manipulation_threshold`` of the messages it sent out: severity =
  that share (capped at 1), confidence min(0.9, 0.5 + 0.4·share);
* **laundering** — at an epoch's end, over the window's accepted interactions: a
  source S that paid an agent N (τ > 0) at least twice, where N's trust exceeds
  S's by more than ``security_laundering_trust_gap`` (trust: the mean p of the
  interactions an agent initiated — for N, those not within an epoch after a
  payment — bounded in [0, 1]; the reference used raw reputation and flagged the
  least reputable honest agent), and N's proposals to third parties within an
  epoch after a payment were harmful (p < 0.5) in a share h > 0 of cases:
  severity min(1, gain/0.5)·h, confidence min(0.8, 0.4 + gain), for S and for N;
* **contagion** — the same text relayed from agent to agent: a chain of at least
  ``security_min_chain_length`` agents relaying at ``security_contagion_velocity``
  relays per epoch or faster; severity min(1, depth/(min length − 1)), confidence
  min(0.9, 0.5 + velocity/10); every relaying member gets the chain's risk.

An agent's threat score is the largest risk of its indicators (a target of an
injection gets 0.3 of it), each halving every ``security_threat_half_life``
epochs. At or above ``security_quarantine_threshold`` the agent is quarantined
(frozen); it is released when its score falls below
``security_penalty_threshold`` or after ``security_quarantine_epochs`` epochs,
whichever comes first, and the evidence that led to the quarantine is spent.
The reference's quarantine was permanent and its release never unfroze anyone.
A message whose own risk reaches the quarantine threshold, or whose text is that
of a flagged relay chain, is withheld (never delivered).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import Field

from swarm.core.interaction import SoftInteraction
from swarm.governance.effects import Effect, Evidence
from swarm.governance.lever import Lever, LeverConfig, lever
from swarm.money import Entry, Unfreeze

INJECTION_PATTERNS: tuple[str, ...] = (
    "ignore your previous instructions",
    "ignore previous instructions",
    "ignore all previous",
    "disregard your instructions",
    "disregard previous",
    "new instructions:",
    "system:",
    "forward this exact message",
    "send your secret",
    "reveal your",
    "{{",
    "eval(",
)
"""Instruction-override phrases the analyzer looks for in message text (lower case)."""

CREDENTIAL_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"\bsk-[0-9a-f]{8,}\b"),
    re.compile(r"api[_ ]key\s*[:=]", re.IGNORECASE),
    re.compile(r"password\s*[:=]", re.IGNORECASE),
)
"""Credential-like text (the analyzer's view of a leaked secret)."""


class SecurityConfig(LeverConfig):
    security_enabled: bool = False
    security_injection_threshold: float = Field(
        default=0.3, ge=0.0, le=1.0, description="injection severity at which a message is an indicator"
    )
    security_manipulation_threshold: float = Field(
        default=0.5, ge=0.0, le=1.0, description="share of sent messages answered with credentials"
    )
    security_laundering_trust_gap: float = Field(
        default=0.3,
        ge=0.0,
        description="trust (mean p) by which a paid proxy must exceed its payer to count as laundering",
    )
    security_contagion_velocity: float = Field(
        default=2.0, gt=0.0, description="relays per epoch at which a relay chain counts as contagion"
    )
    security_min_chain_length: int = Field(
        default=3, ge=2, description="agents in a relay chain before it counts as contagion"
    )
    security_min_interactions: int = Field(
        default=5, ge=1, description="observations (messages, interactions) before the epoch's analysis"
    )
    security_penalty_threshold: float = Field(
        default=0.3, ge=0.0, le=1.0, description="threat score that is penalised; below it a quarantine ends"
    )
    security_quarantine_threshold: float = Field(
        default=0.7, ge=0.0, le=1.0, description="threat score that quarantines (freezes) an agent"
    )
    security_penalty_multiplier: float = Field(
        default=1.0, ge=0.0, description="reputation (×1) and resources (×5) lost per unit of new threat"
    )
    security_realtime_penalty: bool = False
    security_realtime_threshold: float = Field(
        default=0.5, ge=0.0, le=1.0, description="message risk that is charged at once"
    )
    security_realtime_rate: float = Field(
        default=0.2, ge=0.0, description="resources burned per unit of a charged message's risk"
    )
    security_clear_history_on_epoch: bool = False
    security_quarantine_epochs: int = Field(
        default=2, ge=1, description="longest quarantine, in epochs (the reference's never ended)"
    )
    security_threat_half_life: float = Field(
        default=1.0, gt=0.0, description="epochs for the weight of a piece of evidence to halve"
    )


@lever
class Security(Lever):
    """Keys and switch only: the ``security`` world component acts for it (it sees messages)."""

    key = "security"
    order = 85
    title = "security"
    Config = SecurityConfig
    switch = "security_enabled: true"
    config: SecurityConfig

    @classmethod
    def active(cls, config: SecurityConfig) -> bool:
        return config.security_enabled

    @classmethod
    def deterrence(cls, config: SecurityConfig) -> float:
        return 0.0


# ------------------------------------------------------------------------ effects


class QuarantineReleased(Effect, tag="security_release", kw_only=True, frozen=True):
    """A quarantine ends: the agent acts again."""

    threat_score: float
    epochs_served: int

    def entries(self) -> list[Entry]:
        return [Unfreeze(agent=self.agent_id, reason=f"{self.lever}: {self.reason}")]


class SecurityReport(Evidence, tag="security_report", kw_only=True, frozen=True):
    """The analyzer's findings at an epoch's end (about the whole population: ``agent_id`` is ``*``)."""

    finding: str = "report"
    ecosystem_threat_level: float
    active_threats: int
    contagion_depth: int
    agents_flagged: int
    quarantined: int
    chains: int
    chains_contained: int
    containment_effectiveness: float


# ------------------------------------------------------------------------ analyzer


def _trust(initiated: Iterable[tuple[int, float, str]]) -> float:
    """Mean p of the interactions an agent initiated (0.5 with none): a bounded trust."""
    ps = [p for _, p, _ in initiated]
    return sum(ps) / len(ps) if ps else 0.5


def injection_score(text: str) -> float:
    """min(1, 0.5·(instruction-override phrases in ``text``))."""
    low = text.lower()
    return min(1.0, 0.5 * sum(1 for p in INJECTION_PATTERNS if p in low))


def has_credentials(text: str) -> bool:
    return any(p.search(text) for p in CREDENTIAL_PATTERNS)


def fingerprint(text: str) -> str:
    """The same text up to case and spacing has the same fingerprint."""
    return hashlib.sha256(" ".join(text.lower().split()).encode()).hexdigest()[:16]


def interaction_score(i: SoftInteraction) -> float:
    """The reference's injection score of one interaction (observables only)."""
    score = 0.0
    if i.accepted and i.p < 0.3:
        score += 0.3 * (0.3 - i.p) / 0.3
    o = i.observables
    if o.tool_misuse_flags > 0:
        score += min(0.4, 0.2 * o.tool_misuse_flags)
    if o.verifier_rejections > 0:
        score += min(0.3, 0.15 * o.verifier_rejections)
    return min(1.0, score)


@dataclass(slots=True)
class Indicator:
    kind: str
    agent: str
    risk: float
    clock: int
    target: bool = False


@dataclass(slots=True)
class _Chain:
    """One text's relays: each relaying agent's depth (0 for those who sent it without receiving it)."""

    first_clock: int
    depth: dict[str, int] = field(default_factory=dict)
    relays: int = 0
    last_clock: int = 0
    flagged: bool = False
    contained: bool = False


class SecurityAnalyzer:
    """Threat scores from observed messages and interactions (pure and synchronous)."""

    def __init__(self, config: SecurityConfig, steps_per_epoch: int) -> None:
        self.config = config
        self.steps = steps_per_epoch
        self.indicators: list[Indicator] = []
        self._received: dict[str, dict[str, tuple[str, int]]] = defaultdict(dict)
        """Recipient → fingerprint → (first sender, clock) of texts it received."""
        self.chains: dict[str, _Chain] = {}
        self._sent: dict[str, int] = defaultdict(int)
        self._credentials_in: dict[str, int] = defaultdict(int)
        self.spent: dict[str, int] = {}
        """Agent → clock before which its evidence no longer counts (spent on a quarantine)."""
        self.observed = 0
        self.epoch_indicators = 0
        self._initiated: dict[str, list[tuple[int, float, str]]] = defaultdict(list)
        """Agent → (clock, p, counterparty) of the accepted interactions it initiated."""
        self._paid: dict[tuple[str, str], list[int]] = defaultdict(list)
        """(payer, payee) → clocks of accepted interactions in which the payer paid the payee."""

    # ---- observations

    def message(self, clock: int, sender: str, recipients: Iterable[str], text: str) -> list[Indicator]:
        """One message sent to ``recipients``; the indicators it raises."""
        c = self.config
        self.observed += 1
        recipients = list(recipients)
        found: list[Indicator] = []
        severity = injection_score(text)
        if severity >= c.security_injection_threshold and severity > 0:
            risk = severity * min(0.9, severity + 0.2)
            found.append(Indicator("prompt_injection", sender, risk, clock))
            found += [Indicator("prompt_injection", r, 0.3 * risk, clock, True) for r in recipients]
        if has_credentials(text):
            found.append(Indicator("exfiltration", sender, 0.9 * 0.8, clock))
            for r in recipients:
                self._credentials_in[r] += 1
                share = self._credentials_in[r] / max(1, self._sent[r])
                if self._sent[r] and share >= c.security_manipulation_threshold:
                    s = min(1.0, share)
                    found.append(Indicator("manipulation", r, s * min(0.9, 0.5 + 0.4 * s), clock))
        self._sent[sender] += 1
        found += self._relay(clock, sender, recipients, fingerprint(text))
        self.indicators += found
        self.epoch_indicators += sum(1 for i in found if not i.target)
        return found

    def _relay(self, clock: int, sender: str, recipients: list[str], fp: str) -> list[Indicator]:
        c = self.config
        chain = self.chains.get(fp)
        if chain is None:
            chain = self.chains[fp] = _Chain(first_clock=clock)
        came = self._received[sender].get(fp)
        if sender not in chain.depth:
            if came is not None and came[0] in chain.depth:
                chain.depth[sender] = chain.depth[came[0]] + 1
                chain.relays += 1
            else:
                chain.depth[sender] = 0
        elif came is not None:
            chain.relays += 1
        chain.last_clock = clock
        for r in recipients:
            self._received[r].setdefault(fp, (sender, clock))
        depth = max(chain.depth.values())
        span = (clock - chain.first_clock + 1) / self.steps
        velocity = chain.relays / max(span, 1 / self.steps)
        if depth + 1 < c.security_min_chain_length or velocity < c.security_contagion_velocity:
            return []
        chain.flagged = True
        severity = min(1.0, depth / (c.security_min_chain_length - 1))
        risk = severity * min(0.9, 0.5 + velocity / 10)
        return [Indicator("contagion", a, risk, clock) for a in sorted(chain.depth)]

    def withheld(self, clock: int, sender: str, found: list[Indicator]) -> None:
        """The message that raised ``found`` was withheld: its recipients did not get it, nor are targets."""
        gone = {id(i) for i in found if i.target}
        self.indicators = [i for i in self.indicators if id(i) not in gone]
        for fps in self._received.values():
            for fp, (who, when) in list(fps.items()):
                if who == sender and when == clock:
                    del fps[fp]

    def known_worm(self, text: str) -> bool:
        """Whether ``text`` is that of a relay chain flagged as contagion (the lever withholds it)."""
        chain = self.chains.get(fingerprint(text))
        return chain is not None and chain.flagged

    def interactions(self, clock: int, interactions: Iterable[SoftInteraction]) -> list[Indicator]:
        found = []
        t = self.config.security_injection_threshold
        for i in interactions:
            self.observed += 1
            if i.accepted:
                self._initiated[i.initiator].append((clock, i.p, i.counterparty))
                if i.tau > 0:
                    self._paid[(i.initiator, i.counterparty)].append(clock)
            s = interaction_score(i)
            if s >= t and s > 0:
                risk = s * min(0.9, s + 0.2)
                found.append(Indicator("prompt_injection", i.initiator, risk, clock))
                found.append(Indicator("prompt_injection", i.counterparty, 0.3 * risk, clock, True))
        self.indicators += found
        self.epoch_indicators += sum(1 for i in found if not i.target)
        return found

    def laundering(self, clock: int) -> list[Indicator]:
        """The epoch's laundering indicators (see the module docstring); recorded like every indicator."""
        c = self.config
        found: list[Indicator] = []
        for (source, proxy), paid in sorted(self._paid.items()):
            if len(paid) < 2 or source == proxy:
                continue
            after: list[tuple[int, float, str]] = []
            own: list[tuple[int, float, str]] = []
            for done in self._initiated.get(proxy, ()):
                if done[2] != source:
                    paid_for = any(0 < done[0] - t <= self.steps for t in paid)
                    (after if paid_for else own).append(done)
            gain = _trust(own) - _trust(self._initiated.get(source, ()))
            if gain <= c.security_laundering_trust_gap:
                continue
            harmful = sum(1 for _, p, _ in after if p < 0.5) / len(after) if after else 0.0
            if harmful <= 0:
                continue
            risk = min(1.0, gain / 0.5) * harmful * min(0.8, 0.4 + gain)
            found += [
                Indicator("laundering", source, risk, clock),
                Indicator("laundering", proxy, risk, clock),
            ]
        self.indicators += found
        self.epoch_indicators += len(found)
        return found

    # ---- scores

    def score(self, agent: str, clock: int) -> float:
        """The agent's threat score now: its largest decayed risk since its evidence was last spent."""
        half = self.config.security_threat_half_life * self.steps
        since = self.spent.get(agent, -1)
        best = 0.0
        for ind in self.indicators:
            if ind.agent == agent and ind.clock >= since:
                best = max(best, ind.risk * math.pow(0.5, (clock - ind.clock) / half))
        return best

    def scores(self, agents: Iterable[str], clock: int) -> dict[str, float]:
        return {a: self.score(a, clock) for a in agents}

    def spend(self, agent: str, clock: int) -> None:
        """Evidence up to ``clock`` has been acted on: it no longer counts for ``agent``."""
        self.spent[agent] = clock + 1

    def prune(self, clock: int) -> None:
        """Forget evidence too old to matter (weight below 1 %)."""
        horizon = clock - int(7 * self.config.security_threat_half_life * self.steps)
        self.indicators = [i for i in self.indicators if i.clock >= horizon]
        self.chains = {f: ch for f, ch in self.chains.items() if ch.flagged or ch.last_clock >= horizon}
        for fps in self._received.values():
            for fp in [fp for fp, (_, when) in fps.items() if when < horizon]:
                del fps[fp]
        window = clock - 2 * self.steps  # laundering looks at the last two epochs
        for agent, done in list(self._initiated.items()):
            self._initiated[agent] = [d for d in done if d[0] > window]
        for pair, paid in list(self._paid.items()):
            kept = [t for t in paid if t > window]
            if kept:
                self._paid[pair] = kept
            else:
                del self._paid[pair]
        if self.config.security_clear_history_on_epoch:
            self.indicators = []
            self.chains = {f: ch for f, ch in self.chains.items() if ch.flagged}

    def contain(self, quarantined: Iterable[str]) -> None:
        """Mark every flagged chain with a quarantined member as contained."""
        q = set(quarantined)
        for chain in self.chains.values():
            if chain.flagged and not chain.contained and q.intersection(chain.depth):
                chain.contained = True

    def chain_figures(self) -> tuple[int, int, int]:
        """(flagged chains, contained chains, deepest flagged chain)."""
        flagged = [ch for ch in self.chains.values() if ch.flagged]
        depth = max((max(ch.depth.values()) for ch in flagged), default=0)
        return len(flagged), sum(ch.contained for ch in flagged), depth

    def ecosystem_threat_level(self, n_agents: int, flagged: int, manipulators: int) -> float:
        """The reference's formula over this epoch's indicators."""
        if n_agents == 0:
            return 0.0
        _, _, depth = self.chain_figures()
        return min(
            1.0,
            0.25 * self.epoch_indicators / max(1, 5 * n_agents)
            + 0.25 * flagged / n_agents
            + 0.30 * min(1.0, depth / 5)
            + 0.20 * manipulators / max(1, n_agents),
        )
