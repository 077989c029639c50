"""The step's bookkeeping shortcuts give what the plain ways give: the public records' index kept up
to date between steps, and outcomes made by registration index at settlement."""

from __future__ import annotations

from swarm.core.interaction import SoftInteraction
from swarm.core.payoff import SoftPayoffEngine
from swarm.env.broker import Propose
from swarm.env.feed import CreatePost, Reply
from swarm.kernel.component import At, RateLimit
from swarm.kernel.ledger import LedgerBooks
from swarm.kernel.settlement import settle
from swarm.money import Reputation, Settlement, Transfer

AGENTS = ("a", "b", "c")
LIMITS = [
    (RateLimit("posts_per_epoch", (CreatePost, Reply), "epoch", None, "posts per epoch"), 2.0),
    (RateLimit("interactions_per_step", (Propose,), "step", None, "proposals per step"), 1.0),
]


def fresh_books() -> LedgerBooks:
    b = LedgerBooks(LIMITS, max_content_length=10, max_actions_per_step=6)
    for agent in AGENTS:
        b.add(agent, 1.0, 100.0)
    return b


def test_the_index_of_public_records_follows_every_change_and_is_a_copy() -> None:
    b = fresh_books()
    first = b.index()
    assert first == {p.agent_id: p for p in b.publics()}
    b.post(
        At(0, 0, 0),
        [
            Transfer(payer="a", payee="b", amount=5.0, reason="t"),
            Reputation(agent="c", amount=0.25, reason="r"),
        ],
    )
    second = b.index()
    assert second == {p.agent_id: p for p in b.publics()}
    assert list(second) == list(AGENTS)  # registration order, as the snapshot's own index would have it
    assert second["b"].resources == 105.0 and second["c"].reputation == 1.25
    assert first["b"].resources == 100.0  # an earlier step's index is left as it was
    b.add("d", 0.0, 1.0)
    assert list(b.index()) == [*AGENTS, "d"]


def test_settlement_makes_outcomes_by_registration_index() -> None:
    index = {"a": 0, "b": 1}
    done = [
        SoftInteraction(interaction_id="ix-1", initiator="a", counterparty="b", accepted=True, p=0.8),
        SoftInteraction(interaction_id="ix-2", initiator="b", counterparty="gone", accepted=False, p=0.3),
    ]
    out = settle(At(0, 0, 0), done, [], SoftPayoffEngine(), {"a": "x", "b": "y", "gone": "z"}, index.get)
    assert [(k, o.role, o.interaction.interaction_id) for k, o in out.outcomes] == [
        (0, "initiator", "ix-1"),
        (1, "counterparty", "ix-1"),
        (1, "initiator", "ix-2"),  # the departed counterparty is told nothing
    ]
    assert [o.payoff for _, o in out.outcomes[:2]] == [
        (c := out.completed[0]).payoff_initiator,
        c.payoff_counterparty,
    ]
    assert isinstance(out.entries[0], Settlement)
    assert settle(At(0, 0, 0), done, [], SoftPayoffEngine(), {"a": "x", "b": "y", "gone": "z"}).outcomes == []
