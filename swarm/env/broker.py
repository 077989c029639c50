"""The interaction broker: proposals, the counterparty's answer, and labelling.

A proposal is a question put to its counterparty in the step it is made.
Resolution runs in a fixed order for every answered proposal, in the order
proposals were made: observables (drawn from both parties' conduct with the
broker's own random stream) → v̂ → p → ground truth. The kernel then adds
governance costs and settles payoffs; a proposal nobody answered within its time
to live expires with an event instead of staying pending forever.
"""

from __future__ import annotations

import inspect
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from math import exp
from typing import Annotated, Any, ClassVar, Literal

import msgspec
from pydantic import BaseModel, ConfigDict, Field

from swarm.actions import DEFAULT_CONDUCT, Action, Conduct
from swarm.core.interaction import InteractionType, Observables, SoftInteraction
from swarm.core.observables import (
    COUNTERPARTY_WEIGHT,
    ENGAGEMENT_NOISE,
    MAX_MISUSE,
    MAX_REJECTIONS,
    MAX_REWORK,
    PROGRESS_NOISE,
    draw_ground_truth,
    generate_observables,
)
from swarm.core.proxy import ProxyComputer
from swarm.core.sigmoid import _EXP_LIMIT
from swarm.env.identity_view import UNCREDENTIALED, IdentityView
from swarm.env.network_view import NetworkView
from swarm.events import ActionRejected, Event
from swarm.kernel.component import Applied, At, RateLimit, Setup, Turn, WorldComponent, component
from swarm.metrics.registry import count
from swarm.views import AgentPublic, Observation

# ----------------------------------------------------------------------- actions


class Propose(Action, tag="propose", frozen=True):
    """Propose an interaction; ``offered_transfer`` is τ, paid by the initiator if accepted."""

    counterparty: str
    interaction_type: InteractionType = InteractionType.COLLABORATION
    content: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    offered_transfer: Annotated[float, msgspec.Meta(ge=-100.0, le=100.0)] = 0.0
    conduct: Conduct = DEFAULT_CONDUCT
    text_fields: ClassVar[tuple[str, ...]] = ("content",)


def _transfer_offered(action: Propose) -> float:
    return max(action.offered_transfer, 0.0)


# ------------------------------------------------------------------------ events


class InteractionProposed(Event, tag="interaction_proposed", frozen=True):
    interaction_id: str
    initiator: str
    counterparty: str
    interaction_type: InteractionType
    conduct: Conduct
    offered_transfer: float = 0.0


class ProposalExpired(Event, tag="proposal_expired", frozen=True):
    interaction_id: str
    initiator: str
    counterparty: str
    reason: str


# ------------------------------------------------------------------- questions


class ProposalView(msgspec.Struct, frozen=True, gc=False):
    """A pending interaction proposal, as shown to its counterparty."""

    proposal_id: str
    initiator: str
    counterparty: str
    interaction_type: InteractionType
    content: str = ""
    offered_transfer: float = 0.0


class Decision(msgspec.Struct, frozen=True, gc=False):
    """A counterparty's answer to a proposal, with the conduct it brings if it accepts."""

    accept: bool
    conduct: Conduct | None = None


class BrokerConfig(BaseModel):
    """The broker's key in the ``environment`` section."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    proposal_ttl_steps: int = Field(
        default=1, ge=1, description="steps after the one it was made in that a proposal waits for an answer"
    )


# ------------------------------------------------------------------------- state


class _Pending(msgspec.Struct, frozen=True, gc=False):
    """A proposal waiting for its answer (a struct, built in C: one per proposal)."""

    view: ProposalView
    conduct: Conduct
    expires_at: int


class BrokerState:
    """Pending proposals and the labelling pipeline; pure and synchronous."""

    def __init__(self, rng: random.Random, proxy: ProxyComputer, *, ttl_steps: int = 1) -> None:
        self.rng = rng
        self.proxy = proxy
        self.ttl_steps = ttl_steps
        self.pending: dict[str, _Pending] = {}
        self._counter = 0

    def propose(self, at: At, initiator: str, action: Propose) -> InteractionProposed:
        self._counter += 1
        pid = f"ix-{self._counter}"
        view = ProposalView(
            pid,
            initiator,
            action.counterparty,
            action.interaction_type,
            action.content,
            action.offered_transfer,
        )
        self.pending[pid] = _Pending(view, action.conduct, at.clock + self.ttl_steps)
        return InteractionProposed(
            epoch=at.epoch,
            step=at.step,
            interaction_id=pid,
            initiator=initiator,
            counterparty=action.counterparty,
            interaction_type=action.interaction_type,
            offered_transfer=action.offered_transfer,
            conduct=action.conduct,
        )

    def by_counterparty(self) -> dict[str, list[ProposalView]]:
        out: dict[str, list[ProposalView]] = {}
        for p in self.pending.values():
            view = p.view
            asked = out.get(view.counterparty)
            if asked is None:
                out[view.counterparty] = [view]
            else:
                asked.append(view)
        return out

    def resolve(self, at: At, decisions: Mapping[str, Decision]) -> tuple[list[SoftInteraction], list[Event]]:
        """Label every answered proposal (in proposal order) and expire stale unanswered ones."""
        done: list[SoftInteraction] = []
        expired: list[Event] = []
        pending_by_id = self.pending
        if not pending_by_id:
            return done, expired
        label = _labeller(self.rng, self.proxy)
        clock, epoch, step = at.clock, at.epoch, at.step
        for pid in list(pending_by_id):
            pending = pending_by_id[pid]
            decision = decisions.get(pid)
            v = pending.view
            if decision is None:
                if clock >= pending.expires_at:
                    del pending_by_id[pid]
                    expired.append(
                        ProposalExpired(
                            epoch=epoch,
                            step=step,
                            interaction_id=pid,
                            initiator=v.initiator,
                            counterparty=v.counterparty,
                            reason="no answer from the counterparty",
                        )
                    )
                continue
            del pending_by_id[pid]
            accept = decision.accept
            obs, v_hat, p, truth = label(pending.conduct, decision.conduct, accept)
            done.append(
                SoftInteraction(
                    interaction_id=pid,
                    initiator=v.initiator,
                    counterparty=v.counterparty,
                    interaction_type=v.interaction_type,
                    accepted=accept,
                    observables=obs,
                    v_hat=v_hat,
                    p=p,
                    tau=v.offered_transfer if accept else 0.0,
                    ground_truth=truth,
                    epoch=epoch,
                    step=step,
                )
            )
        return done, expired


_Label = tuple[Observables, float, float, Literal[-1, 1]]
"""An interaction's observables, v̂, p and ground truth."""


def _labeller(rng: random.Random, proxy: ProxyComputer) -> Callable[[Conduct, Conduct | None, bool], _Label]:
    """``label(conduct, answer, accepted)``: :func:`generate_observables`, then ``proxy``'s
    :meth:`~ProxyComputer.compute_labels`, then :func:`draw_ground_truth`, from ``rng``.

    For a plain :class:`ProxyComputer` the three are computed in one call instead of eleven:
    the same draws in the same order and the same float operations in the same order (the
    decay signals of every possible count made once here, as ``compute_v_hat`` would make
    them). A subclass's own scoring is called as it is.
    """
    if type(proxy) is not ProxyComputer:

        def label_with_calls(conduct: Conduct, answer: Conduct | None, accepted: bool) -> _Label:
            obs = generate_observables(rng, conduct, answer, accepted)
            v_hat, p = proxy.compute_labels(obs)
            return obs, v_hat, p, draw_ground_truth(rng, conduct)

        return label_with_calls
    draw = rng.random
    w_progress, w_rework, w_verifier, w_engagement = proxy._w
    k = proxy.sigmoid_k
    rework_signal = [2.0 * proxy.rework_decay**n - 1.0 for n in range(MAX_REWORK + 1)]
    rejection_signal = [2.0 * proxy.rejection_decay**n - 1.0 for n in range(MAX_REJECTIONS + 1)]
    misuse_signal = [2.0 * proxy.misuse_decay**n - 1.0 for n in range(MAX_MISUSE + 1)]
    progress_lo, progress_span = -PROGRESS_NOISE, PROGRESS_NOISE - -PROGRESS_NOISE
    engagement_lo, engagement_span = -ENGAGEMENT_NOISE, ENGAGEMENT_NOISE - -ENGAGEMENT_NOISE
    own_weight = 1 - COUNTERPARTY_WEIGHT
    assert (MAX_REWORK, MAX_REJECTIONS, MAX_MISUSE) == (3, 2, 1)  # the binomials below are unrolled

    def label(c: Conduct, answer: Conduct | None, accepted: bool) -> _Label:
        # generate_observables(rng, c, answer, accepted), inline; Bin(n, q) as n draws in order
        progress = c.effort + c.facade + (progress_lo + progress_span * draw())
        progress = -1.0 if progress < -1.0 else 1.0 if progress > 1.0 else progress
        q = c.sloppiness
        rework = (draw() < q) + (draw() < q) + (draw() < q)  # an int: bools add up as ints
        q = c.defects
        rejections = (draw() < q) + (draw() < q)
        misuse = 1 if draw() < c.misuse else 0
        tone = c.engagement
        if answer is not None:
            tone = own_weight * tone + COUNTERPARTY_WEIGHT * answer.engagement
        engagement = tone + (engagement_lo + engagement_span * draw())
        engagement = -1.0 if engagement < -1.0 else 1.0 if engagement > 1.0 else engagement
        if not accepted:
            engagement = min(engagement, 0.0)
        obs = Observables(progress, rework, rejections, misuse, engagement)
        # proxy.compute_labels(obs), inline (its clamps of progress and engagement are no-ops here)
        verifier = (rejection_signal[rejections] + misuse_signal[misuse]) / 2.0
        v_hat = (
            w_progress * progress
            + w_rework * rework_signal[rework]
            + w_verifier * verifier
            + w_engagement * engagement
        )
        v_hat = -1.0 if v_hat < -1.0 else 1.0 if v_hat > 1.0 else v_hat
        # calibrated_sigmoid(v_hat, k), inline (|v̂| ≤ 1: its clamp to ±10 is a no-op)
        z = k * v_hat if v_hat else 0.0
        if z < -_EXP_LIMIT:
            ez = exp(z)
            p = ez / (1.0 + ez)
        else:
            p = 1.0 / (1.0 + exp(-z))
        # draw_ground_truth(rng, c) with true_quality(c), inline
        q = 0.5 + 0.5 * c.effort - 0.15 * c.sloppiness - 0.2 * c.defects
        q -= 0.2 * c.misuse
        q = 0.02 if q < 0.02 else 0.98 if q > 0.98 else q
        return obs, v_hat, p, 1 if draw() < q else -1

    return label


# --------------------------------------------------------------------- component


async def _deciding(pending: Awaitable[bool], policy: Any) -> Decision:
    accept = bool(await pending)
    return Decision(accept, policy.conduct if accept else None)


@component
class InteractionBroker(WorldComponent):
    """Owns proposals; asks counterparties; labels each answered one with observables, v̂ and p."""

    key = "broker"
    order = 30
    Config = BrokerConfig
    section = "environment"
    actions = (Propose,)
    rate_limits = (
        RateLimit("interactions_per_step", (Propose,), "step", 5, "proposals per step"),
        RateLimit(
            "transfer_budget_per_epoch",
            (Propose,),
            "epoch",
            None,
            "of transfers offered per epoch",
            section="safety",
            cost=_transfer_offered,
            unit="resources",
        ),
    )
    prompt_rules = (
        "Interactions: propose one to another agent (a collaboration, trade, reply or vote exchange), "
        "optionally offering a transfer (positive: you pay; negative: you ask to be paid), and declare "
        "the conduct you will bring; the counterparty accepts or declines."
    )
    config: BrokerConfig

    def __init__(self, setup: Setup) -> None:
        super().__init__(setup)
        proxy = ProxyComputer(sigmoid_k=setup.scenario.payoff.sigmoid_k)
        self.state = BrokerState(setup.rng("broker"), proxy, ttl_steps=self.config.proposal_ttl_steps)

    def apply(self, at: At, turns: Sequence[Turn], agents: Mapping[str, AgentPublic]) -> Applied:
        out = Applied()
        network = self.published(NetworkView)
        identity = self.published(IdentityView)
        for _, agent, action in turns:
            assert type(action) is Propose  # routed by exact type; isinstance on a struct class costs more
            other = agents.get(action.counterparty)
            reason = None
            if identity is not None and not identity.may_propose(agent):
                reason = UNCREDENTIALED.format(what="propose")
            elif action.counterparty == agent:
                reason = "cannot propose an interaction to oneself"
            elif other is None:
                reason = f"unknown counterparty {action.counterparty}"
            elif other.frozen:
                reason = f"counterparty {action.counterparty} is frozen"
            elif network is not None and not network.reaches(agent, action.counterparty):
                reason = f"counterparty {action.counterparty} is outside your network reach"
            if reason is not None:
                out.events.append(
                    ActionRejected(
                        epoch=at.epoch, step=at.step, agent_id=agent, action="propose", reason=reason
                    )
                )
                continue
            out.events.append(self.state.propose(at, agent, action))
        return out

    def questions(self, at: At) -> Mapping[str, Sequence[ProposalView]]:
        return self.state.by_counterparty()

    @classmethod
    def ask(
        cls, policy: Any, observation: Observation, question: ProposalView
    ) -> Decision | Awaitable[Decision]:
        answer = policy.accept(observation, question)
        if type(answer) is not bool and inspect.isawaitable(answer):
            return _deciding(answer, policy)
        accept = bool(answer)
        return Decision(accept, policy.conduct if accept else None)

    def resolve(self, at: At, answers: Sequence[tuple[str, Any, Any]]) -> Applied:
        decisions = {q.proposal_id: a for _, q, a in answers if a is not None}
        interactions, expired = self.state.resolve(at, decisions)
        return Applied(events=expired, interactions=interactions)


count("proposals", InteractionProposed, "interactions proposed")
count("expired_proposals", ProposalExpired, "proposals nobody answered in time")
