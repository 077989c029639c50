"""Shared machinery of the scripted policies: a private random stream, interaction memory, trust.

Decision rules follow the reference agents (spec/core.md §4.3–4.6), with its
defects fixed: votes read real vote counts, honest agents submit their work,
deceptive agents reach their proposal rule, nobody sees anyone's true type, and
each policy decides *how* it carries out an interaction (its
:class:`~swarm.actions.Conduct`), which is what the observables, and therefore
p, are drawn from. Scripted policies never wait, so they run inline.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping
from dataclasses import dataclass
from math import gcd
from sys import getsizeof
from typing import Any, ClassVar

import msgspec

from swarm.actions import Action, Conduct
from swarm.agents.policy import Outcome
from swarm.agents.types import AgentSpec, BuildContext, PolicyConfig, register_agent_type
from swarm.env.broker import ProposalView
from swarm.env.culture_view import CultureView, tell
from swarm.env.feed import CastVote, CreatePost, FeedView, PostView
from swarm.env.network_view import NetworkView
from swarm.env.tasks import TaskBoardView, TaskView
from swarm.governance.notices import TaxNotice, TransparencyNotice
from swarm.runtime.rng import Rng
from swarm.views import AgentPublic, Observation


def spread(n: int, k: int, rng: Rng) -> list[int]:
    """About ``k`` distinct indices below ``n`` from two draws: a random start and a random stride.

    Every index is equally likely to be among them; there are fewer than ``k`` only
    when the stride shares a factor with ``n`` and its cycle is shorter than ``k``.
    Two draws rather than ``k`` keep a decision cheap in a large population.
    """
    return [i % n for i in _walk(n, k, rng)]


def _walk(n: int, k: int, rng: Rng) -> range:
    """:func:`spread`'s indices before they wrap around ``n``: ``start + i·stride`` for each."""
    start = int(rng.random() * n)
    stride = 1 + int(rng.random() * (n - 1)) if n > 1 else 1
    cycle = n // gcd(n, stride)
    return range(start, start + (k if k < cycle else cycle) * stride, stride)


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


_SETTINGS: dict[type[PolicyConfig], tuple[PolicyConfig, Any]] = {}
"""Per config class, the last config made into settings, and those settings (the agents of a group
share their config and are built one after another)."""
_SETTINGS_TYPES: dict[type[PolicyConfig], type] = {}


def _settings_of(config: PolicyConfig) -> Any:
    """A frozen struct with ``config``'s settings under the same names (pickled as the config).

    A pydantic model answers every attribute read through its ``__getattr__`` hook,
    about five times slower than a struct field, and decisions read a setting or two
    every turn.
    """
    kind = type(config)
    last = _SETTINGS.get(kind)
    if last is not None and last[0] is config:
        return last[1]
    names = tuple(kind.model_fields)
    struct = _SETTINGS_TYPES.get(kind)
    if struct is None:

        def reduce(self: Any) -> tuple[Any, ...]:
            return _settings_of, (kind.model_construct(**{name: getattr(self, name) for name in names}),)

        struct = _SETTINGS_TYPES[kind] = msgspec.defstruct(
            f"{kind.__name__}Settings",
            [(name, Any) for name in names],
            frozen=True,
            namespace={"__reduce__": reduce},
        )
    settings = struct(**{name: getattr(config, name) for name in names})
    _SETTINGS[kind] = (config, settings)
    return settings


def _table_bytes(n: int) -> int:
    """The size of a dict of ``n`` str keys built by insertion: the table it needs, no more.

    A dict whose keys are deleted and inserted again (a recency order kept by moving a
    key to the end) fills its table with the deleted entries' places; when they fill it, it
    moves to a table for three times its live entries and keeps it. Copying it (``dict(d)``) as soon as it
    has grown gives the small table back: the same keys, values and order.
    """
    return getsizeof(dict.fromkeys(f"{k:08d}" for k in range(n)))


_HEADER = getsizeof({}) - {}.__sizeof__()
"""What ``getsizeof`` adds to a dict's ``__sizeof__`` (its garbage-collector header): the hot paths ask
``__sizeof__`` directly, a method call rather than ``getsizeof``'s lookup of it (same comparisons)."""


_NEW_SUMS = array("d", (0.0, 0.0))
"""A trust-book slot's sums of p before any dealing."""
_NEW_COUNTS = {code: array(code, (0, 0)) for code in "BHQ"}
"""A trust-book slot's counts before any dealing, per width (never changed in place)."""
_NO_SUMS = array("d")
_NO_COUNTS = array("B")
"""The tallies of an empty trust book, shared by every policy until its first dealing: never changed in
place (a book's first slot makes its own arrays)."""

VOTES = 64
"""The posts a scripted agent remembers voting on (the most recent ones)."""


_PLAIN_CONDUCT: set[type] = set()
"""The scripted classes whose ``conduct`` is their ``default_conduct`` as a class attribute."""

NO_FEED = FeedView()
"""The feed of a world without one: no posts (policies read it instead of checking for None)."""
NO_BOARD = TaskBoardView()
"""The task board of a world without one: no tasks (policies read it instead of checking for None)."""


def _learns(spec: Any, ctx: BuildContext) -> bool:
    """``getattr(spec, "learning", False)``, worked out once per agent item of a build (the item's
    agents share its spec; a pydantic spec answers a missing attribute by raising, some µs each)."""
    known: dict[int, tuple[Any, bool]] = ctx.__dict__.setdefault("_learns", {})
    found = known.get(id(spec))
    if found is None:  # the spec is kept with its answer, so that its id is not reused meanwhile
        found = known[id(spec)] = (spec, bool(getattr(spec, "learning", False)))
    return found[1]


class ScriptedPolicy:
    """Base of the scripted policies: ``decide``/``accept`` are plain methods of the observation.

    What an agent remembers is bounded whatever the population: its dealings with
    its last ``BOOK`` counterparts, its last ``SAMPLE`` partners and its last 64 votes.
    """

    __slots__ = (
        "_book",
        "_counts",
        "_partners",
        "_settings",
        "_story",
        "_tally",
        "_voted",
        "agent_id",
        "allies",
        "config",
        "rng",
    )

    kind: ClassVar[str] = "scripted"
    SAMPLE: ClassVar[int] = 8
    BOOK: ClassVar[int] = 16
    """Counterparts whose dealings it remembers (the most recent ones)."""
    _BOOK_BYTES: ClassVar[int] = _table_bytes(16)
    """The size of a book of ``BOOK`` counterparts at rest (see :func:`_table_bytes`)."""
    _BOOK_SIZEOF: ClassVar[int] = _table_bytes(16) - _HEADER
    """The same, as its ``__sizeof__`` gives it."""
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
        self._settings: Any = _settings_of(self.config)
        """``config`` as a struct: what decisions read (see :func:`_settings_of`)."""
        self.allies = allies
        self._book: dict[str, int] = {}
        """Counterpart → its slot in ``_tally`` and ``_counts``, least recently dealt with first (at most
        ``BOOK``)."""
        self._tally = _NO_SUMS
        """Per slot: Σ p accepted, Σ p seen."""
        self._counts = _NO_COUNTS
        """Per slot: n accepted, n seen — a byte each, widened to two, then eight, if a count ever outgrows
        them (an eighth of the room of doubles; read back as the same whole numbers, so every division by
        them, and every decision, is the same)."""
        self._partners: list[str] = []
        """The last ``SAMPLE`` counterparts of accepted dealings, oldest first."""
        self._voted: tuple[str, ...] = ()
        """The posts it voted on (the last ``VOTES``), oldest first: a tuple, a third of a dict's room for
        the few dozen an agent holds (a vote makes a new one; see :meth:`_vote_on`)."""
        self._story: list[int] | None = None
        """The story it tells, when the scenario's culture has story content (see :func:`tell`)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._BOOK_BYTES = _table_bytes(cls.BOOK)
        cls._BOOK_SIZEOF = cls._BOOK_BYTES - _HEADER
        owner = next(k for k in cls.__mro__ if "conduct" in k.__dict__)
        if owner is ScriptedPolicy or owner in _PLAIN_CONDUCT:  # conduct is default_conduct: read it as a
            cls.conduct = cls.default_conduct  # type: ignore[assignment]  # a class attribute, not a property: no Python call
            _PLAIN_CONDUCT.add(cls)  # (asked every accepted proposal and most actions)

    @classmethod
    def register(cls, description: str, *, spec_base: type[AgentSpec] = AgentSpec) -> None:
        """Register this class as the agent type ``cls.kind``.

        An agent item's ``learning: true`` (a key of ``spec_base``, when it has it) is
        passed to the policy as ``learning=True``.
        """

        def build(agent_id: str, spec: Any, ctx: BuildContext) -> ScriptedPolicy:
            extra = {"learning": True} if _learns(spec, ctx) else {}
            return cls(agent_id, ctx.stream(agent_id), spec.config, allies=ctx.ids_of_type(cls.kind), **extra)

        register_agent_type(cls.kind, cls.Config, build, description=description, spec_base=spec_base)

    @property
    def conduct(self) -> Conduct:
        """How it carries out an interaction: ``default_conduct`` unless a subclass says otherwise.

        (A subclass that does not define ``conduct`` gets its ``default_conduct`` as a plain class
        attribute under this name, set when the class is made.)
        """
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
        book, tally, counts = self._book, self._tally, self._counts
        slot = book.pop(other, None)
        if slot is None:
            if len(book) >= self.BOOK:  # forget the counterpart dealt with longest ago
                slot = book.pop(next(iter(book)))
                tally[slot] = tally[slot + 1] = 0.0
                counts[slot] = counts[slot + 1] = 0
            else:  # a new slot: copies sized exactly (extend would leave room to spare)
                slot = len(tally)
                tally = self._tally = tally + _NEW_SUMS
                counts = self._counts = counts + _NEW_COUNTS[counts.typecode]
        book[other] = slot
        if book.__sizeof__() > self._BOOK_SIZEOF:  # moves filled its table, which grew: compact it
            self._book = dict(book)
        tally[slot + 1] += i.p
        try:
            counts[slot + 1] += 1
        except OverflowError:  # a count past 255 (65,535): two (eight) bytes each from now on
            counts = self._counts = array("H" if counts.typecode == "B" else "Q", counts)
            counts[slot + 1] += 1
        if i.accepted:  # n accepted ≤ n seen: its count fits where that one did
            tally[slot] += i.p
            counts[slot] += 1
            partners = self._partners
            if other in partners:
                partners.remove(other)
            elif len(partners) >= self.SAMPLE:  # the oldest goes first: the list never grows past SAMPLE
                del partners[0]  # (appending a ninth would double its room, for good)
            partners.append(other)

    # ------------------------------------------------------------ what is seen

    @staticmethod
    def posts(observation: Observation) -> tuple[PostView, ...]:
        """The ranked feed; with an agent network, its posts by agents within reach (and by itself),
        then the latest post of each other agent within reach."""
        public = observation.snapshot.public  # inline rather than view(): every decision
        feed: FeedView | None = public.get(FeedView)
        if feed is None:
            return ()
        network: NetworkView | None = public.get(NetworkView)
        if network is None:
            return feed.posts
        me, reach = observation.agent_id, network.reach(observation.agent_id)
        ranked = [p for p in feed.posts if p.author == me or p.author in reach]
        latest = feed.latest
        if latest is msgspec.UNSET:
            return tuple(ranked)
        shown = {p.post_id for p in ranked}
        for author in reach:
            post = latest.get(author)
            if post is not None and post.post_id not in shown:
                ranked.append(post)
        return tuple(ranked)

    @staticmethod
    def open_tasks(observation: Observation) -> tuple[TaskView, ...]:
        board: TaskBoardView | None = observation.snapshot.public.get(TaskBoardView)
        return board.open_tasks if board is not None else ()

    def my_tasks(self, observation: Observation) -> tuple[TaskView, ...]:
        board: TaskBoardView | None = observation.snapshot.public.get(TaskBoardView)
        return board.by_worker.get(self.agent_id, ()) if board is not None else ()  # tasks_of(), inline

    @staticmethod
    def published(observation: Observation) -> dict[str, float]:
        """Every published track record (empty without a transparency ledger)."""
        notice: TransparencyNotice | None = observation.snapshot.public.get(TransparencyNotice)
        return notice.track_records if notice is not None else {}

    @staticmethod
    def track_record(observation: Observation, agent_id: str) -> float | None:
        """The agent's published track record, when a transparency ledger publishes one."""
        notice = observation.snapshot.public.get(TransparencyNotice)  # inline rather than view()
        return notice.track_records.get(agent_id) if notice is not None else None

    # ------------------------------------------------------------------- trust

    def trust(self, other: str, prior: float = 0.5) -> float:
        """Mean p of accepted interactions with ``other``; ``prior`` for strangers (or forgotten ones)."""
        slot = self._book.get(other)
        if slot is None:
            return prior
        n = self._counts[slot]
        return self._tally[slot] / n if n else prior

    def dealings(self, other: str) -> tuple[float, int]:
        """(Σ p, n) over every resolved interaction with ``other``, accepted or not (remembered ones)."""
        slot = self._book.get(other)
        return (self._tally[slot + 1], self._counts[slot + 1]) if slot is not None else (0.0, 0)

    def trust_in(self, observation: Observation, agent: AgentPublic | None) -> float:
        """Trust, with a published track record (transparency ledger) as the prior for strangers."""
        if agent is None:
            return 0.5
        notice = observation.snapshot.public.get(TransparencyNotice)  # inline rather than view()
        record = notice.track_records.get(agent.agent_id) if notice is not None else None
        return self.trust(agent.agent_id, record if record is not None else 0.5)

    @staticmethod
    def worth_it_after_tax(observation: Observation, proposal: ProposalView, p_hat: float) -> bool:
        """Whether the counterparty's expected payoff stays positive once the tax is paid.

        E[π_b] ≈ ½·S(p̂) + τ − rate·(1 − split)·(max(S(p̂), 0) + |τ|), with S(p) = 3p − 1 (the
        default payoff scale); without a tax every proposal is worth considering.
        """
        tax: TaxNotice | None = observation.snapshot.public.get(TaxNotice)  # inline rather than view()
        if tax is None or tax.rate <= 0:
            return True
        surplus = 3 * p_hat - 1
        tau = proposal.offered_transfer
        cost = tax.rate * (1 - tax.split) * (max(surplus, 0.0) + abs(tau))
        return 0.5 * surplus + tau - cost > 0

    def _post(self, observation: Observation, lines: tuple[str, ...]) -> Action:
        """A post: one of its stock ``lines``, or with culture story content its story (possibly a reply)."""
        culture: CultureView | None = observation.snapshot.public.get(CultureView)
        if culture is None:
            return CreatePost(content=self.rng.choice(lines))
        story = self._story
        if story is None:
            story = self._story = []
        return tell(culture, story, self.rng, self.agent_id, self.posts(observation))

    def _vote_on(self, post: PostView, direction: int) -> CastVote:
        """A vote on ``post``, remembered (unless it already is)."""
        if post.post_id not in self._voted:
            return self._vote_anew(post, direction)
        return CastVote(post_id=post.post_id, direction=1 if direction >= 0 else -1)

    def _vote_anew(self, post: PostView, direction: int) -> CastVote:
        """:meth:`_vote_on` for a post it has not voted on (or has forgotten): no look-up first."""
        voted, new = self._voted, (post.post_id,)
        # concatenation: one copy of exactly the size needed, without the list an unpacking builds first
        self._voted = voted + new if len(voted) < VOTES else voted[1:] + new
        return CastVote(post_id=post.post_id, direction=1 if direction >= 0 else -1)

    def _sample_others(self, observation: Observation) -> list[AgentPublic]:
        """Up to ``SAMPLE`` other active agents: all of them in a small world, a random few in a large one.

        With an agent network, only agents within its reach are candidates.
        """
        network: NetworkView | None = observation.snapshot.public.get(NetworkView)  # inline: every decision
        if network is not None:
            return self._sample_reach(observation, network)
        agents = observation.snapshot.agents
        me, k, n = self.agent_id, self.SAMPLE + 1, len(agents)
        if n <= k:
            return [a for a in agents if a.agent_id != me and not a.frozen]
        rng = self.rng  # spread()'s agents, but itself, in one pass (_walk(n, k, rng), inline)
        start = int(rng.random() * n)
        stride = 1 + int(rng.random() * (n - 1))
        cycle = n // gcd(n, stride)
        out = []  # a loop rather than a comprehension: no frame of its own
        for i in range(start, start + (k if k < cycle else cycle) * stride, stride):
            if not (a := agents[i % n]).frozen and a.agent_id != me:
                out.append(a)
        del out[k - 1 :]
        return out

    def _sample_reach(self, observation: Observation, network: NetworkView) -> list[AgentPublic]:
        """Up to ``SAMPLE`` active agents within its network reach (in the network's order)."""
        reach = network.reach(self.agent_id)
        index = observation.snapshot.agent_index
        ids = list(reach)
        if len(ids) > self.SAMPLE:
            ids = [ids[i] for i in spread(len(ids), self.SAMPLE, self.rng)]
        return [a for k in ids if (a := index.get(k)) is not None and not a.frozen]

    def _known(self, observation: Observation) -> list[AgentPublic]:
        """Its last few partners (accepted dealings) that are active now, and within reach, oldest first."""
        network: NetworkView | None = observation.snapshot.public.get(NetworkView)  # inline: every decision
        if network is not None:
            reach = network.reach(self.agent_id)
            return [a for k in self._partners if k in reach and (a := observation.agent(k)) is not None]
        index, me = observation.snapshot.agent_index, observation.agent_id  # observation.agent(k), inline
        known = []  # a loop rather than a comprehension: no frame of its own
        for k in self._partners:
            if (a := index.get(k)) is not None and not a.frozen and k != me:
                known.append(a)
        return known

    def _best_task(
        self, tasks: tuple[TaskView, ...], rep: float, weights: Mapping[str, float]
    ) -> TaskView | None:
        """The best-paid task (bounty over difficulty weight) it may take, among ``SAMPLE`` of them."""
        n, k = len(tasks), self.SAMPLE
        start = 0
        if n > k:  # k neighbours from a random start: each task is looked at with chance k/n
            start = int(self.rng.random() * n)
        else:
            k = n
        if not k:
            return None
        values = _task_values(tasks, weights)
        if rep >= values.ceiling:  # it may take every task: the first best-paid of the k, found in C
            window = values.twice[start : start + k]
            return values.tasks[(start + window.index(max(window))) % n]
        if rep < values.floor:  # it may take none
            return None
        best, score = None, 0.0
        value_of = values.twice
        for j in range(start, start + k):
            t = tasks[j % n]
            if t.min_reputation <= rep:
                value = value_of[j]
                if best is None or value > score:
                    best, score = t, value
        return best


class _TaskValues:
    """A task tuple's values as :meth:`ScriptedPolicy._best_task` reads them under one weighting: each
    task's bounty over its difficulty weight, twice over (so that a window wrapping around the end is
    one slice), and the least and greatest reputation the tasks ask for."""

    __slots__ = ("ceiling", "floor", "tasks", "twice", "weights")

    def __init__(self, tasks: tuple[TaskView, ...], weights: Mapping[str, float]) -> None:
        self.tasks = tasks  # kept, so that no other tuple can take its identity while it is the key
        self.weights = weights
        values = [t.bounty / weights.get(t.difficulty, 3.0) for t in tasks]
        self.twice = values + values
        reps = [t.min_reputation for t in tasks]
        self.floor = min(reps, default=0.0)
        self.ceiling = max(reps, default=0.0)


_TASK_VALUES: dict[int, _TaskValues] = {}
"""Per weighting (by identity), the values of the task tuple last looked at: every agent of a step
reads the same snapshot's open tasks."""


def _task_values(tasks: tuple[TaskView, ...], weights: Mapping[str, float]) -> _TaskValues:
    found = _TASK_VALUES.get(id(weights))
    if found is None or found.tasks is not tasks or found.weights is not weights:
        if len(_TASK_VALUES) >= 16:  # weightings made afresh per call: keep the table small
            _TASK_VALUES.clear()
        found = _TASK_VALUES[id(weights)] = _TaskValues(tasks, weights)
    return found
