"""The ledger: the one owner of agents' resources, reputation, freezes and rate-limit budgets.

It admits each step's actions (frozen agents, the bandwidth cap, the step's
action budget, content length, and every rate limit the components declare),
applies ledger entries in one batch, and keeps the money identity of
:mod:`swarm.money` checkable at any time (:meth:`LedgerBooks.imbalance`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from actors import Actor, handler
from swarm.actions import Action, Noop
from swarm.errors import RunFailure
from swarm.events import ActionRejected, AgentFrozen, AgentUnfrozen, Event, LedgerUpdated
from swarm.kernel.component import At, RateLimit, Turn
from swarm.money import (
    Burn,
    Entry,
    Freeze,
    Mint,
    Reputation,
    Settlement,
    Transfer,
    Unfreeze,
    is_system_account,
)
from swarm.views import AgentPublic


class AgentBooks:
    """One agent's books."""

    __slots__ = ("_public", "actions_used", "agent_id", "frozen", "frozen_until", "reputation", "resources")

    def __init__(self, agent_id: str, reputation: float, resources: float) -> None:
        self.agent_id = agent_id
        self.reputation = reputation
        self.resources = resources
        self.frozen = False
        self.frozen_until: int | None = None
        self.actions_used = 0
        self._public: AgentPublic | None = None

    def public(self) -> AgentPublic:
        pub = self._public
        if pub is None:
            pub = self._public = AgentPublic(self.agent_id, self.reputation, self.resources, self.frozen)
        return pub


_SETTLEMENT = str(Settlement.__struct_config__.tag)
"""``Settlement(...).kind``, read once."""


@dataclass(frozen=True, slots=True)
class _Limit:
    spec: RateLimit
    value: float
    index: int


class LedgerBooks:
    """Every agent's books, the system accounts, rate-limit budgets; pure and synchronous."""

    def __init__(
        self,
        limits: Sequence[tuple[RateLimit, float | None]] = (),
        *,
        max_content_length: int | None = None,
        max_actions_per_step: int | None = None,
        bandwidth_cap: int | None = None,
    ) -> None:
        self.agents: dict[str, AgentBooks] = {}
        self.accounts: dict[str, float] = {}
        self.endowed = 0.0
        self.minted = 0.0
        self.burned = 0.0
        self.max_content_length = max_content_length
        self.max_actions_per_step = max_actions_per_step
        self.bandwidth_cap = bandwidth_cap
        self._limits: list[_Limit] = []
        self._by_type: dict[type[Action], list[_Limit]] = {}
        self._never: set[type[Action]] = set()
        for spec, value in limits:
            if value is None:
                continue
            limit = _Limit(spec, value, len(self._limits))
            self._limits.append(limit)
            for kind in spec.actions:
                self._by_type.setdefault(kind, []).append(limit)
            if value <= 0 and spec.cost is None:
                self._never.update(spec.actions)
        self._counted: dict[type[Action], tuple[int, float, tuple[type[Action], ...], str]] = {
            kind: (only.index, only.value, only.spec.actions, only.spec.description)
            for kind, (only, *more) in self._by_type.items()
            if not more and only.spec.cost is None
        }
        """The action types whose only budget is a count (the usual case): that budget's index, value,
        action types and description, so that admission checks and spends it at once."""
        self._used: list[dict[str, float]] = [{} for _ in self._limits]
        """Per limit, what each agent spent of it this period: a count budget's as an int (a small
        one is shared, where a float would be an object per agent; the same comparisons)."""
        self._exhausted: dict[str, frozenset[type[Action]]] = {}
        """Per agent, the action types its spent budgets forbid (frozen, so a step's snapshot copies
        the dict and not every set; equal sets are one object, see :meth:`_exhaust`)."""
        self._sets: dict[frozenset[type[Action]], frozenset[type[Action]]] = {}
        self._publics: tuple[AgentPublic, ...] | None = None
        self._slots: list[AgentPublic] = []
        self._position: dict[str, int] = {}
        self._index: dict[str, AgentPublic] = {}
        self._dirty: set[AgentBooks] = set()
        self._frozen = 0
        """How many agents are frozen (kept by every freeze and unfreeze, so that a step knows whether
        anyone is without a look at every record)."""

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        if "_frozen" not in state:  # books pickled before the count was kept
            self._frozen = sum(b.frozen for b in self.agents.values())

    # ------------------------------------------------------------------ agents

    def add(self, agent_id: str, reputation: float, resources: float) -> AgentBooks:
        if agent_id in self.agents or is_system_account(agent_id):
            raise ValueError(f"cannot register agent {agent_id!r}: the name is taken or reserved")
        books = self.agents[agent_id] = AgentBooks(agent_id, reputation, resources)
        self.endowed += resources
        self._publics = None
        return books

    def publics(self) -> tuple[AgentPublic, ...]:
        """Every agent's public record, in registration order (only changed records are rebuilt)."""
        if self._publics is None:
            slots, index = self._slots, self._index
            if len(slots) != len(self.agents):
                slots[:] = [b.public() for b in self.agents.values()]
                self._position = {a: k for k, a in enumerate(self.agents)}
                self._index = {p.agent_id: p for p in slots}
            else:
                position = self._position
                for books in self._dirty:
                    pub = books._public
                    if pub is None:  # books.public(), inline (a few hundred changed records a step)
                        pub = books._public = AgentPublic(
                            books.agent_id, books.reputation, books.resources, books.frozen
                        )
                    slots[position[books.agent_id]] = index[books.agent_id] = pub
            self._dirty.clear()
            self._publics = tuple(slots)
        return self._publics

    def index(self) -> dict[str, AgentPublic]:
        """Every agent's public record by id, as :meth:`publics` has them (a copy: a step's snapshot
        keeps it, so it is kept up to date here rather than built again from every record each step)."""
        self.publics()
        return self._index.copy()

    def exhausted(self) -> tuple[frozenset[type[Action]], dict[str, frozenset[type[Action]]]]:
        """Action types nobody may take, and per agent the ones its spent budgets forbid."""
        return frozenset(self._never), dict(self._exhausted)

    def total(self) -> float:
        """Σ agent resources + Σ system accounts."""
        return sum(b.resources for b in self.agents.values()) + sum(self.accounts.values())

    def imbalance(self) -> float:
        """How far the books are from the money identity (0 up to rounding)."""
        return self.total() - (self.endowed + self.minted - self.burned)

    def check_identity(self) -> None:
        """Raise :class:`RunFailure` when money appeared or vanished outside Mint, Burn and Settlement."""
        gap = self.imbalance()
        scale = max(1.0, abs(self.endowed) + abs(self.minted) + abs(self.burned))
        if abs(gap) > 1e-9 * scale:
            raise RunFailure(
                f"the ledger is off by {gap:.6g}: money appeared or vanished outside Mint, Burn and "
                "Settlement entries (a component or lever moved balances without the ledger)"
            )

    # --------------------------------------------------------------- admission

    def admit(self, at: At, turns: Iterable[Turn]) -> tuple[list[Turn], list[Event]]:
        """Admit actions in schedule order; the refused ones become ``ActionRejected`` events.

        An action is refused, checking in this order, when its agent is frozen, has
        reached the bandwidth cap, sends a text field longer than the content limit,
        would overspend a rate limit, or comes after the step's action budget is used.
        An admitted one spends its cost from each of its budgets. (One loop, with no
        call per action: every action of the step passes here.)
        """
        admitted: list[Turn] = []
        rejected: list[Event] = []
        budget = self.max_actions_per_step
        cap, longest = self.bandwidth_cap, self.max_content_length
        agents, by_type, counted, used = self.agents, self._by_type, self._counted, self._used
        quick = self._quick(cap, longest, budget)
        for turn in turns:
            agent = turn[1]  # turn.agent and turn.action, by index: no unpacking iterator, no descriptor
            action = turn[2]
            plan = quick.get(type(action))
            if plan is not None:
                # the usual case, the checks below in short: a type with one count budget (and at
                # most one text field to measure; no cap, no step budget) from an agent that is not
                # frozen, has some of the budget left and sends no text over the limit
                books = agents[agent]
                spent_on, value, kinds, text = plan
                spent = spent_on.get(agent, 0) + 1
                if (
                    spent <= value
                    and not books.frozen
                    and (text is None or len(getattr(action, text)) <= longest)  # type: ignore[operator]
                ):
                    books.actions_used += 1
                    spent_on[agent] = spent
                    if spent >= value:
                        self._exhaust(agent, kinds)
                    admitted.append(turn)
                    continue
            kind = type(action)
            if kind is Noop:
                continue
            books = agents[agent]
            reason: str | None = None
            if books.frozen:
                reason = "agent is frozen"
            elif cap is not None and books.actions_used >= cap:
                reason = f"bandwidth cap of {cap} actions per epoch reached"
            elif longest is not None:
                for name in action.text_fields:
                    size = len(getattr(action, name))
                    if size > longest:
                        reason = f"{name} of {size} characters exceeds {longest}"
                        break
            if reason is None:
                # a type with one count budget: what it would have spent, worked out once for the
                # check and the spending (the loops below do the same for any budgets)
                only = counted.get(kind)
                if only is not None:
                    spent = used[only[0]].get(agent, 0) + 1
                    if spent > only[1]:
                        reason = f"rate limit: {only[1]:g} {only[3]}"
                else:
                    for limit in by_type.get(kind, ()):
                        spec = limit.spec
                        cost = 1 if spec.cost is None else spec.cost(action)
                        if cost > 0 and used[limit.index].get(agent, 0) + cost > limit.value:
                            reason = f"rate limit: {limit.value:g} {spec.description}"
                            break
            if reason is None and budget is not None and len(admitted) >= budget:
                reason = "step action budget exhausted"
            if reason is not None:
                rejected.append(
                    ActionRejected(
                        epoch=at.epoch, step=at.step, agent_id=agent, action=action.type, reason=reason
                    )
                )
                continue
            books.actions_used += 1
            if only is not None:
                used[only[0]][agent] = spent
                if spent >= only[1]:
                    self._exhaust(agent, only[2])
            else:
                for limit in by_type.get(kind, ()):
                    spec = limit.spec
                    cost = 1 if spec.cost is None else spec.cost(action)
                    if cost <= 0:
                        continue
                    spent_on = used[limit.index]
                    total = spent_on[agent] = spent_on.get(agent, 0) + cost
                    if spec.cost is None and total >= limit.value:
                        self._exhaust(agent, spec.actions)
            admitted.append(turn)
        return admitted, rejected

    def _quick(
        self, cap: int | None, longest: int | None, budget: int | None
    ) -> dict[type[Action], tuple[dict[str, float], float, tuple[type[Action], ...], str | None]]:
        """For :meth:`admit`: the action types it may admit in short (their one budget a count, at most
        one text field to measure, neither a bandwidth cap nor a step budget), each with the budget's
        spending by agent, its value, the action types it covers and the text field (None: none)."""
        if cap is not None or budget is not None:
            return {}
        used = self._used
        quick = {}
        for kind, (index, value, kinds, _) in self._counted.items():
            fields = kind.text_fields if longest is not None else ()
            if len(fields) <= 1:
                quick[kind] = (used[index], value, kinds, fields[0] if fields else None)
        return quick

    def _exhaust(self, agent: str, kinds: Iterable[type[Action]]) -> None:
        spent = self._exhausted.get(agent)
        kept = frozenset(kinds) if spent is None else spent.union(kinds)
        self._exhausted[agent] = self._sets.setdefault(kept, kept)  # one object per distinct set

    def end_period(self, per: str) -> None:
        """Restore the budgets that reset every ``per`` ("step" or "epoch").

        ``_exhausted`` is always what the budgets say (the action types of every
        count budget an agent has used up), so it is worked out again only when a
        budget being reset had been used up by someone.
        """
        stale = False
        for limit in self._limits:
            used = self._used[limit.index]
            if (limit.spec.per == per or per == "epoch") and used:
                if not stale and limit.spec.cost is None and max(used.values()) >= limit.value:
                    stale = True
                used.clear()
        if per == "epoch":
            for books in self.agents.values():
                books.actions_used = 0
        if stale:
            self._exhausted.clear()
            for limit in self._limits:
                if limit.spec.cost is not None:
                    continue
                for agent, spent in self._used[limit.index].items():
                    if spent >= limit.value:
                        self._exhaust(agent, limit.spec.actions)

    # ----------------------------------------------------------------- entries

    def post(self, at: At, entries: Iterable[Entry]) -> list[Event]:
        """Apply entries in order; the events they cause (balance changes, freezes)."""
        events: list[Event] = []
        for entry in entries:
            kind = type(entry)
            if kind is Settlement:
                self._settle(at, entry, events)  # type: ignore[arg-type]
            elif kind is Transfer:
                t: Transfer = entry  # type: ignore[assignment]
                self._known(t.payee, t)  # both sides exist before any money moves
                self._move(at, t.payer, -t.amount, t, events)
                self._move(at, t.payee, t.amount, t, events)
            elif kind is Mint:
                m: Mint = entry  # type: ignore[assignment]
                self.minted += m.amount
                self._move(at, m.account, m.amount, m, events)
            elif kind is Burn:
                b: Burn = entry  # type: ignore[assignment]
                self.burned += b.amount
                self._move(at, b.account, -b.amount, b, events)
            elif kind is Reputation:
                r: Reputation = entry  # type: ignore[assignment]
                books = self._books(r.agent, r)
                books.reputation += r.amount
                self._changed(books)
                events.append(self._updated(at, books, r, reputation=r.amount))
            elif kind is Freeze:
                self._freeze(at, entry, events)  # type: ignore[arg-type]
            elif kind is Unfreeze:
                u: Unfreeze = entry  # type: ignore[assignment]
                books = self._books(u.agent, u)
                if books.frozen:
                    books.frozen, books.frozen_until = False, None
                    self._frozen -= 1
                    self._changed(books)
                    events.append(
                        AgentUnfrozen(epoch=at.epoch, step=at.step, agent_id=u.agent, reason=u.reason)
                    )
            else:
                raise TypeError(f"the ledger does not know the entry type {kind.__name__}")
        return events

    def unfreeze_due(self, at: At, epoch: int) -> list[Event]:
        """Lift the freezes that end at the start of ``epoch``."""
        events: list[Event] = []
        for books in self.agents.values():
            if books.frozen and books.frozen_until is not None and epoch >= books.frozen_until:
                books.frozen, books.frozen_until = False, None
                self._frozen -= 1
                self._changed(books)
                events.append(
                    AgentUnfrozen(
                        epoch=at.epoch, step=at.step, agent_id=books.agent_id, reason="freeze expired"
                    )
                )
        return events

    def _books(self, agent: str, entry: Entry) -> AgentBooks:
        books = self.agents.get(agent)
        if books is None:
            raise ValueError(
                f"{type(entry).__name__} entry ({entry.reason}) names an unknown agent {agent!r}"
            )
        return books

    def _known(self, account: str, entry: Entry) -> None:
        if not is_system_account(account):
            self._books(account, entry)

    def _changed(self, books: AgentBooks) -> None:
        books._public = None
        self._publics = None
        self._dirty.add(books)

    def _move(self, at: At, account: str, amount: float, entry: Entry, events: list[Event]) -> None:
        if is_system_account(account):
            self.accounts[account] = self.accounts.get(account, 0.0) + amount
            return
        books = self._books(account, entry)
        books.resources += amount
        self._changed(books)
        events.append(self._updated(at, books, entry, resources=amount))

    def _settle(self, at: At, s: Settlement, events: list[Event]) -> None:
        a, b = self.agents.get(s.initiator), self.agents.get(s.counterparty)  # _books(), inline
        if a is None or b is None:
            a, b = self._books(s.initiator, s), self._books(s.counterparty, s)  # the error it raises
        a.resources += s.payoff_initiator
        a.reputation += s.reputation
        b.resources += s.payoff_counterparty
        self.minted += s.created
        self.burned += s.destroyed
        for account, amount in s.costs:
            if account is None:
                self.burned += amount
            else:
                self.accounts[account] = self.accounts.get(account, 0.0) + amount
        a._public = b._public = self._publics = None  # _changed(a) and _changed(b), inline
        self._dirty.add(a)
        self._dirty.add(b)
        # _updated() for each side, inline (two events per accepted interaction); every
        # settlement's entry kind is the same tag
        epoch, step, reason, ref = at.epoch, at.step, s.reason, s.ref
        events.append(
            LedgerUpdated(
                epoch=epoch,
                step=step,
                agent_id=a.agent_id,
                entry=_SETTLEMENT,
                reason=reason,
                reputation=a.reputation,
                resources=a.resources,
                reputation_delta=s.reputation,
                resources_delta=s.payoff_initiator,
                ref=ref,
            )
        )
        events.append(
            LedgerUpdated(
                epoch=epoch,
                step=step,
                agent_id=b.agent_id,
                entry=_SETTLEMENT,
                reason=reason,
                reputation=b.reputation,
                resources=b.resources,
                resources_delta=s.payoff_counterparty,
                ref=ref,
            )
        )

    def _freeze(self, at: At, f: Freeze, events: list[Event]) -> None:
        """Freeze, or lengthen a freeze; an event only when the freeze starts or gets longer."""
        books = self._books(f.agent, f)
        before = books.frozen_until if books.frozen else 0
        until = f.until_epoch
        if books.frozen and (
            books.frozen_until is None or (until is not None and until < books.frozen_until)
        ):
            until = books.frozen_until
        if not books.frozen:
            self._frozen += 1
        books.frozen, books.frozen_until = True, until
        self._changed(books)
        if before is not None and (until is None or until > before):
            events.append(
                AgentFrozen(
                    epoch=at.epoch, step=at.step, agent_id=f.agent, until_epoch=until, reason=f.reason
                )
            )

    @staticmethod
    def _updated(
        at: At, books: AgentBooks, entry: Entry, *, reputation: float = 0.0, resources: float = 0.0
    ) -> LedgerUpdated:
        return LedgerUpdated(
            epoch=at.epoch,
            step=at.step,
            agent_id=books.agent_id,
            entry=entry.kind,
            reason=entry.reason,
            reputation=books.reputation,
            resources=books.resources,
            reputation_delta=reputation,
            resources_delta=resources,
            ref=entry.ref,
        )


# ---------------------------------------------------------------------- messages


@dataclass(frozen=True, slots=True)
class Publics:
    """Ask for every agent's public record and the spent budgets."""


@dataclass(frozen=True, slots=True)
class PublicState:
    agents: tuple[AgentPublic, ...]
    never: frozenset[type[Action]]
    exhausted: Mapping[str, frozenset[type[Action]]]
    index: dict[str, AgentPublic]
    """``agents`` by id (what :attr:`Snapshot.agent_index` holds)."""
    any_frozen: bool = True
    """Whether any of ``agents`` is frozen (True when not known)."""


@dataclass(frozen=True, slots=True)
class Admit:
    at: At
    turns: tuple[Turn, ...]


@dataclass(frozen=True, slots=True)
class Post:
    at: At
    entries: tuple[Entry, ...]


@dataclass(frozen=True, slots=True)
class EndPeriod:
    at: At
    per: str


class Ledger(Actor):
    """The actor around :class:`LedgerBooks`."""

    def __init__(self, books: LedgerBooks) -> None:
        self.books = books

    @handler
    def on_publics(self, msg: Publics) -> PublicState:
        never, exhausted = self.books.exhausted()
        books = self.books
        return PublicState(books.publics(), never, exhausted, books.index(), books._frozen > 0)

    @handler
    def on_admit(self, msg: Admit) -> tuple[list[Turn], list[Event]]:
        return self.books.admit(msg.at, msg.turns)

    @handler
    def on_post(self, msg: Post) -> list[Event]:
        return self.books.post(msg.at, msg.entries)

    @handler
    def on_end_period(self, msg: EndPeriod) -> list[Event]:
        self.books.end_period(msg.per)
        if msg.per == "epoch":
            self.books.check_identity()
            return self.books.unfreeze_due(msg.at, msg.at.epoch + 1)
        return []
