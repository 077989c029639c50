"""Settlement: a step's labelled interactions become payoffs, ledger entries and outcomes.

For each interaction, in order: the governance costs levers charged on it are
added to c_a and c_b; the payoff engine gives π_a and π_b; an
``interaction_completed`` event records everything needed to recompute every
metric; an accepted one becomes a :class:`~swarm.money.Settlement` entry (its
payoffs, the surplus it creates, the harm it destroys, where each cost goes, and
the initiator's reputation change (p − 0.5) − c_a); and both parties learn the
outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import msgspec

from swarm.agents.policy import Outcome
from swarm.core.interaction import SoftInteraction
from swarm.core.payoff import SoftPayoffEngine
from swarm.events import InteractionCompleted
from swarm.governance.effects import Cost, Effect
from swarm.kernel.component import At
from swarm.money import Settlement


@dataclass
class Settled:
    """What settling a batch of interactions produced."""

    completed: list[InteractionCompleted] = field(default_factory=list)
    entries: list[Settlement] = field(default_factory=list)
    outcomes: list[tuple[int, Outcome]] = field(default_factory=list)
    """Each party's outcome, by the party's registration index (parties not in the world left out)."""


def settle(
    at: At,
    interactions: Sequence[SoftInteraction],
    effects: Sequence[Effect],
    engine: SoftPayoffEngine,
    types: Mapping[str, str],
    index_of: Callable[[str], int | None] | None = None,
) -> Settled:
    """Settle ``interactions`` in order.

    ``index_of`` gives an agent's registration index: the outcomes are made by index
    here, as the population is told them, rather than listed by agent id and looked up
    again (without it, no outcomes are made).
    """
    costs: dict[str, list[Cost]] = {}
    for e in effects:
        if type(e) is Cost and e.interaction_id is not None:
            costs.setdefault(e.interaction_id, []).append(e)
    cfg = engine.terms
    # the engine's own formula (not a subclass's) is computed here, term by term as
    # SoftPayoffEngine.payoffs, expected_surplus and expected_harm do: the same floats
    own = type(engine) is SoftPayoffEngine
    s_plus, s_minus, h, theta, rho_a, rho_b, w_rep = (
        cfg.s_plus,
        cfg.s_minus,
        cfg.h,
        cfg.theta,
        cfg.rho_a,
        cfg.rho_b,
        cfg.w_rep,
    )
    replace = msgspec.structs.replace
    out = Settled()
    completed, entries, outcomes = out.completed, out.entries, out.outcomes
    epoch, step = at.epoch, at.step
    for i in interactions:
        charged = costs.get(i.interaction_id) if costs else None
        accepted, p = i.accepted, i.p
        if charged:
            ca = sum(c.amount for c in charged if c.agent_id == i.initiator)
            cb = sum(c.amount for c in charged if c.agent_id == i.counterparty)
            # i.with_costs(ca, cb).with_reputation_terms(), in one copy
            c_a = i.c_a + ca
            i = replace(i, c_a=c_a, c_b=i.c_b + cb, r_a=(p - 0.5) - c_a if accepted else 0.0, r_b=0.0)
        else:
            # i.with_reputation_terms(), inline
            i = replace(i, r_a=(p - 0.5) - i.c_a if accepted else 0.0, r_b=0.0)
        if own:
            # engine.payoffs(i), expected_surplus(p) and expected_harm(p), inline
            surplus = p * s_plus - (1.0 - p) * s_minus
            harm = (1.0 - p) * h
            pa = theta * surplus - i.tau - i.c_a - rho_a * harm + w_rep * i.r_a
            pb = (1.0 - theta) * surplus + i.tau - i.c_b - rho_b * harm + w_rep * i.r_b
        else:
            pa, pb = engine.payoffs(i)
        completed.append(
            InteractionCompleted(
                epoch=epoch,
                step=step,
                interaction=i,
                payoff_initiator=pa,
                payoff_counterparty=pb,
                initiator_type=types[i.initiator],
                counterparty_type=types[i.counterparty],
            )
        )
        if accepted:
            if not own:
                surplus, harm = engine.expected_surplus(p), engine.expected_harm(p)
            entries.append(
                Settlement(
                    initiator=i.initiator,
                    counterparty=i.counterparty,
                    payoff_initiator=pa,
                    payoff_counterparty=pb,
                    reputation=i.r_a,
                    created=surplus + w_rep * (i.r_a + i.r_b),
                    destroyed=(rho_a + rho_b) * harm,
                    costs=tuple((c.account, c.amount) for c in charged) if charged else (),
                    reason=f"interaction {i.interaction_id}",
                    ref=i.interaction_id,
                )
            )
        if index_of is None:
            continue
        if (k := index_of(i.initiator)) is not None:
            outcomes.append((k, Outcome(i, "initiator", pa)))
        if (k := index_of(i.counterparty)) is not None:
            outcomes.append((k, Outcome(i, "counterparty", pb)))
    return out
