"""The interaction broker: proposals, the counterparty's answer, and labelling.

Resolution runs in a fixed order for every proposal, in the order proposals were
made: observables (drawn from both parties' conduct with the broker's own random
stream) → v̂ → p → ground truth. Governance costs and payoffs are added by the
step driver afterwards; a proposal nobody answered within its time to live
expires with an event instead of staying pending forever.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from actors import Actor, Message, handler
from swarm.core.interaction import SoftInteraction
from swarm.core.observables import draw_ground_truth, generate_observables
from swarm.core.proxy import ProxyComputer
from swarm.events import Event, InteractionProposed, ProposalExpired
from swarm.messages import Conduct, Decision, ProposalView, Propose


@dataclass(slots=True)
class _Pending:
    view: ProposalView
    conduct: Conduct
    epoch: int
    step: int
    expires_at: int


class BrokerState:
    """Pending proposals and the labelling pipeline; pure and synchronous."""

    def __init__(self, rng: random.Random, proxy: ProxyComputer, *, ttl_steps: int = 1) -> None:
        self.rng = rng
        self.proxy = proxy
        self.ttl_steps = ttl_steps
        self.pending: dict[str, _Pending] = {}
        self._counter = 0

    def propose(
        self, epoch: int, step: int, clock: int, initiator: str, action: Propose
    ) -> InteractionProposed:
        self._counter += 1
        pid = f"ix-{self._counter}"
        view = ProposalView(
            proposal_id=pid,
            initiator=initiator,
            counterparty=action.counterparty,
            interaction_type=action.interaction_type,
            content=action.content,
            offered_transfer=action.offered_transfer,
        )
        self.pending[pid] = _Pending(view, action.conduct, epoch, step, clock + self.ttl_steps)
        return InteractionProposed(
            epoch=epoch,
            step=step,
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
            out.setdefault(p.view.counterparty, []).append(p.view)
        return out

    def resolve(
        self, epoch: int, step: int, clock: int, decisions: dict[str, Decision]
    ) -> tuple[list[SoftInteraction], list[Event]]:
        """Label every answered proposal (in proposal order) and expire stale unanswered ones."""
        done: list[SoftInteraction] = []
        expired: list[Event] = []
        for pid in list(self.pending):
            pending = self.pending[pid]
            decision = decisions.get(pid)
            v = pending.view
            if decision is None:
                if clock >= pending.expires_at:
                    del self.pending[pid]
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
            del self.pending[pid]
            obs = generate_observables(self.rng, pending.conduct, decision.conduct, decision.accept)
            v_hat, p = self.proxy.compute_labels(obs)
            done.append(
                SoftInteraction(
                    interaction_id=pid,
                    initiator=v.initiator,
                    counterparty=v.counterparty,
                    interaction_type=v.interaction_type,
                    accepted=decision.accept,
                    observables=obs,
                    v_hat=v_hat,
                    p=p,
                    tau=v.offered_transfer if decision.accept else 0.0,
                    ground_truth=draw_ground_truth(self.rng, pending.conduct),
                    epoch=epoch,
                    step=step,
                )
            )
        return done, expired


class ProposeBatch(Message):
    epoch: int
    step: int
    clock: int
    items: tuple[tuple[int, str, Propose], ...]


class ProposeResult(Message):
    events: tuple[tuple[int, Event], ...]


class PendingQuery(Message):
    pass


class PendingProposals(Message):
    by_counterparty: dict[str, list[ProposalView]]


class Resolve(Message):
    epoch: int
    step: int
    clock: int
    decisions: dict[str, Decision]


class Resolved(Message):
    interactions: tuple[SoftInteraction, ...]
    events: tuple[Event, ...]


class InteractionBroker(Actor):
    """Owns proposals; labels each answered one with observables, v̂ and p."""

    def __init__(self, state: BrokerState) -> None:
        self._state = state

    @handler
    async def on_propose(self, msg: ProposeBatch) -> ProposeResult:
        s = self._state
        events = tuple(
            (index, s.propose(msg.epoch, msg.step, msg.clock, agent, action))
            for index, agent, action in msg.items
        )
        return ProposeResult.model_construct(events=events)

    @handler
    async def on_pending(self, msg: PendingQuery) -> PendingProposals:
        return PendingProposals.model_construct(by_counterparty=self._state.by_counterparty())

    @handler
    async def on_resolve(self, msg: Resolve) -> Resolved:
        done, expired = self._state.resolve(msg.epoch, msg.step, msg.clock, msg.decisions)
        return Resolved.model_construct(interactions=tuple(done), events=tuple(expired))
