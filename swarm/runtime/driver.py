"""The step driver: wires the world's actors and runs the clock-driven step protocol.

One step, deterministic although concurrent:

1. Observe — one immutable snapshot of feed, tasks and public agent state.
2. Act — every admitted agent's policy is awaited concurrently (a clock phase).
3. Apply — actions in the step's schedule order: the ledger admits them (rate
   limits, safety rails), then each owner applies its share in one batch.
4. Resolve — counterparties answer their proposals concurrently; the broker
   labels them in proposal order; governance adds costs; payoffs settle.
5. Record — the step's events, in a fixed order, go to the log and the stream.

Nothing depends on which coroutine finished first: replies are collected in
participant order and events sorted by schedule index before they are numbered.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from actors import ActorRef, ActorSystem, Clock, Topic
from swarm.agents.actor import Act, Acted, AgentActor, Learn, Respond, Responded
from swarm.agents.policy import Outcome, Policy
from swarm.agents.scripted import ScriptedPolicy
from swarm.core.interaction import SoftInteraction
from swarm.core.payoff import SoftPayoffEngine
from swarm.core.proxy import ProxyComputer
from swarm.env.broker import (
    BrokerState,
    InteractionBroker,
    PendingProposals,
    PendingQuery,
    ProposeBatch,
    ProposeResult,
    Resolve,
    Resolved,
)
from swarm.env.feed import Feed, FeedBatch, FeedResult, FeedState, PostsView, RankedPosts
from swarm.env.ledger import (
    Adjust,
    Adjusted,
    Admission,
    Admit,
    EpochOpened,
    EpochOver,
    Freeze,
    Ledger,
    LedgerSnapshot,
    LedgerState,
    LedgerView,
    Settle,
    StepOver,
)
from swarm.env.marketplace import (
    MarketBatch,
    MarketEpochEnd,
    Marketplace,
    MarketplaceState,
    MarketResult,
    MarketSettled,
    MarketViewQuery,
)
from swarm.env.tasks import (
    BoardBatch,
    BoardResult,
    BoardSnapshot,
    BoardView,
    OpenedEpoch,
    OpenEpoch,
    TaskBoard,
    TaskBoardState,
)
from swarm.events import (
    AgentCreated,
    EpochCompleted,
    EpochStarted,
    Event,
    GovernanceApplied,
    InteractionCompleted,
    KillSwitchTriggered,
    PolicyFailed,
    RunStarted,
)
from swarm.governance.base import Effect, Governance
from swarm.messages import (
    MARKET_ACTIONS,
    Action,
    AgentPublic,
    CastVote,
    ClaimTask,
    CreatePost,
    Decision,
    GovernanceView,
    Propose,
    Reply,
    Snapshot,
    SubmitWork,
)
from swarm.metrics.actor import CloseEpoch, MetricsActor, Observe
from swarm.metrics.collector import MetricsCollector
from swarm.metrics.epoch import EpochMetrics
from swarm.runtime.rng import derive_rng
from swarm.scenario import Scenario

EventSink = Callable[[Sequence[Event], str], Awaitable[None]]
"""Receives each step's numbered events and a durability hint ("step" or "epoch")."""


@dataclass
class RunState:
    """What the driver knows about the run so far."""

    epochs: list[EpochMetrics] = field(default_factory=list)
    seq: int = 0
    stopped: str | None = None
    step_seconds: list[float] = field(default_factory=list)
    """Wall-clock duration of each completed step (kept out of the event log: it is not reproducible)."""


class StepDriver:
    """Spawns the world's actors into ``system`` and runs the scenario epoch by epoch."""

    def __init__(
        self,
        system: ActorSystem,
        scenario: Scenario,
        policies: dict[str, tuple[str, Policy]],
        sink: EventSink,
        *,
        governance: Governance | None = None,
        topic: Topic[Event] | None = None,
    ) -> None:
        sc = scenario
        self.scenario = sc
        self.system = system
        self.sink = sink
        self.topic = topic
        self.governance = governance or Governance()
        self.governance.attach(system)
        self.engine = SoftPayoffEngine(sc.payoff)
        self.metrics = system.spawn(MetricsActor(MetricsCollector(self.engine)), name="metrics")
        self.state = RunState()
        seed = sc.simulation.seed
        self.schedule_rng = derive_rng(seed, "schedule")
        env = sc.environment
        self.ledger_state = LedgerState(
            sc.rate_limits,
            sc.safety,
            max_actions_per_step=sc.simulation.max_actions_per_step,
            bandwidth_cap=sc.governance.bandwidth_cap,
            track_window=20 if sc.governance.transparency_enabled else None,
            market=sc.marketplace is not None and sc.marketplace.enabled,
        )
        self.governance_view = governance_view(sc)
        self.types = {aid: kind for aid, (kind, _) in policies.items()}
        for agent_id, (kind, _) in policies.items():
            self.ledger_state.add(agent_id, kind.split(":")[0], env.initial_reputation, env.initial_resources)
        self.ledger = system.spawn(Ledger(self.ledger_state), name="ledger")
        self.feed = system.spawn(
            Feed(
                FeedState(
                    reply_weight=env.reply_weight,
                    age_decay=env.age_decay,
                    window_steps=env.feed_window_steps,
                    max_vote_weight=sc.governance.max_vote_weight_per_agent
                    if sc.governance.vote_normalization_enabled
                    else None,
                )
            ),
            name="feed",
        )
        self.board = system.spawn(
            TaskBoard(
                TaskBoardState(
                    derive_rng(seed, "tasks"),
                    per_epoch=env.tasks_per_epoch,
                    deadline_epochs=env.task_deadline_epochs,
                    bounty=env.task_bounty,
                )
            ),
            name="tasks",
        )
        proxy = ProxyComputer(sigmoid_k=sc.payoff.sigmoid_k)
        self.broker = system.spawn(
            InteractionBroker(
                BrokerState(derive_rng(seed, "broker"), proxy, ttl_steps=env.proposal_ttl_steps)
            ),
            name="broker",
        )
        self.market: ActorRef | None = None
        if sc.marketplace is not None and sc.marketplace.enabled:
            self.market = system.spawn(
                Marketplace(MarketplaceState(sc.marketplace, derive_rng(seed, "marketplace"))),
                name="marketplace",
            )
        self.agent_ids = list(policies)
        self.agents: dict[str, ActorRef] = {
            agent_id: system.spawn(
                AgentActor(
                    agent_id,
                    policy,
                    timeout=sc.simulation.policy_timeout,
                    timed=not isinstance(policy, ScriptedPolicy),
                ),
                name=f"agent:{agent_id}",
                mailbox_size=64,
            )
            for agent_id, (_, policy) in policies.items()
        }
        self.clock = Clock(system)

    # ------------------------------------------------------------------ events

    async def _emit(self, events: Sequence[Event], sync: str = "step") -> None:
        numbered = list(events)
        seq = self.state.seq
        for ev in numbered:
            seq += 1
            # Events are numbered once, here, before anyone else sees them.
            ev.__dict__["seq"] = seq
        self.state.seq = seq
        await self.metrics.tell(Observe.model_construct(events=tuple(numbered)))
        await self.sink(numbered, sync)
        if self.topic is not None:
            for ev in numbered:
                await self.topic.publish(ev)

    # ----------------------------------------------------------------- the run

    async def run(self) -> RunState:
        sc = self.scenario
        sim = sc.simulation
        opening: list[Event] = [
            RunStarted(
                scenario_id=sc.scenario_id,
                seed=sim.seed,
                n_agents=len(self.agent_ids),
                n_epochs=sim.n_epochs,
                steps_per_epoch=sim.steps_per_epoch,
            )
        ]
        for agent_id in self.agent_ids:
            rec = self.ledger_state.agents[agent_id]
            opening.append(
                AgentCreated(
                    agent_id=agent_id,
                    agent_type=rec.agent_type,
                    policy=self.types[agent_id],
                    reputation=rec.reputation,
                    resources=rec.resources,
                )
            )
        await self._emit(opening)
        for epoch in range(sim.n_epochs):
            await self._run_epoch(epoch)
            if self.state.stopped is not None:
                break
        return self.state

    async def _run_epoch(self, epoch: int) -> None:
        sim = self.scenario.simulation
        opened: OpenedEpoch = await self.board.ask(OpenEpoch(epoch=epoch))
        events: list[Event] = [EpochStarted(epoch=epoch, step=0), *opened.events]
        view: LedgerSnapshot = await self.ledger.ask(LedgerView())
        effects = await self.governance.epoch_start(epoch, view.agents)
        events.extend(await self._apply_effects(epoch, 0, effects))
        await self._emit(events)
        for step in range(sim.steps_per_epoch):
            started = time.perf_counter()
            await self._run_step(epoch, step)
            self.state.step_seconds.append(time.perf_counter() - started)
            if self.state.stopped is not None:
                return
        metrics: EpochMetrics = await self.metrics.ask(CloseEpoch(epoch=epoch))
        end = sim.steps_per_epoch
        closing: list[Event] = [EpochCompleted(epoch=epoch, step=end, metrics=metrics)]
        kill = self._kill_reason(metrics)
        if kill is not None:
            closing.append(KillSwitchTriggered(epoch=epoch, step=end, reason=kill))
            self.state.stopped = "kill_switch"
        self.state.epochs.append(metrics)
        if self.state.stopped is None and self.market is not None:
            settled: MarketSettled = await self.market.ask(MarketEpochEnd(epoch=epoch))
            closing.extend(settled.events)
            if settled.transfers:
                moved: Adjusted = await self.ledger.ask(
                    Adjust(
                        epoch=epoch,
                        step=end,
                        changes=tuple((a, why, 0.0, amt) for a, amt, why in settled.transfers),
                    )
                )
                closing.extend(moved.events)
        if self.state.stopped is None:
            view = await self.ledger.ask(LedgerView())
            effects = await self.governance.epoch_end(epoch, metrics, view.agents)
            closing.extend(await self._apply_effects(epoch, end, effects))
            reopened: EpochOpened = await self.ledger.ask(EpochOver(epoch=epoch))
            closing.extend(reopened.events)
        await self._emit(closing, sync="epoch")

    def _kill_reason(self, metrics: EpochMetrics) -> str | None:
        ks = self.scenario.safety.kill_switch
        if not ks.enabled:
            return None
        if (
            ks.max_epoch_toxicity is not None
            and metrics.accepted
            and metrics.toxicity_rate > ks.max_epoch_toxicity
        ):
            return f"epoch toxicity {metrics.toxicity_rate:.3f} above {ks.max_epoch_toxicity}"
        n = len(self.agent_ids)
        if ks.max_frozen_fraction is not None and n and metrics.frozen_agents / n > ks.max_frozen_fraction:
            return f"{metrics.frozen_agents} of {n} agents frozen (limit {ks.max_frozen_fraction:.0%})"
        return None

    def _schedule(self, ids: list[str], clock: int, reputation: dict[str, float]) -> list[str]:
        mode = self.scenario.simulation.schedule
        if mode == "random":
            order = list(ids)
            self.schedule_rng.shuffle(order)
            return order
        if mode == "priority":
            return sorted(ids, key=lambda a: -reputation[a])
        if not ids:
            return ids
        k = clock % len(ids)
        return ids[k:] + ids[:k]

    async def _run_step(self, epoch: int, step: int) -> None:
        clock = epoch * self.scenario.simulation.steps_per_epoch + step
        at = {"epoch": epoch, "step": step}
        board_view, posts, ledger_view = await self.system.gather_ask(
            [
                (self.board, BoardView()),
                (self.feed, RankedPosts(clock=clock, limit=self.scenario.environment.visible_posts)),
                (self.ledger, LedgerView()),
            ]
        )
        assert isinstance(board_view, BoardSnapshot) and isinstance(posts, PostsView)
        assert isinstance(ledger_view, LedgerSnapshot)
        market_view = await self.market.ask(MarketViewQuery()) if self.market is not None else None
        snapshot = Snapshot.model_construct(
            epoch=epoch,
            step=step,
            posts=posts.posts,
            agents=ledger_view.agents,
            open_tasks=board_view.open_tasks,
            claimed_tasks=board_view.claimed_tasks,
            governance=self.governance_view,
            market=market_view,
        )
        public = {a.agent_id: a for a in ledger_view.agents}
        blocked = await self.governance.blocked(epoch, step, ledger_view.agents)
        active = [a for a in self.agent_ids if not public[a].frozen and a not in blocked]

        # Act
        act = Act.model_construct(snapshot=snapshot, public=public, limits=ledger_view.limits)
        replies = await self.clock.phase([self.agents[a] for a in active], act)
        events: list[tuple[int, Event]] = []
        chosen: dict[str, Action] = {}
        for agent_id, reply in zip(active, replies, strict=True):
            if isinstance(reply, Acted):
                chosen[agent_id] = reply.action
                if reply.failure is not None:
                    events.append(
                        (-1, PolicyFailed(**at, agent_id=agent_id, phase="act", cause=reply.failure))
                    )
            else:
                chosen[agent_id] = reply

        # Apply
        order = self._schedule(active, clock, {a: public[a].reputation for a in active})
        items = tuple((i, a, chosen[a]) for i, a in enumerate(order))
        admission: Admission = await self.ledger.ask(Admit(epoch=epoch, step=step, items=items))
        events.extend(admission.rejected)
        feed_items, board_items, broker_items, market_items = [], [], [], []
        for index, agent, action in admission.admitted:
            if isinstance(action, CreatePost | Reply | CastVote):
                feed_items.append((index, agent, action))
            elif isinstance(action, ClaimTask | SubmitWork):
                board_items.append((index, agent, action))
            elif isinstance(action, Propose):
                broker_items.append((index, agent, action))
            elif isinstance(action, MARKET_ACTIONS):
                market_items.append((index, agent, action))
        feed_res, board_res, broker_res = await self.system.gather_ask(
            [
                (
                    self.feed,
                    FeedBatch.model_construct(epoch=epoch, step=step, clock=clock, items=tuple(feed_items)),
                ),
                (self.board, BoardBatch.model_construct(epoch=epoch, step=step, items=tuple(board_items))),
                (
                    self.broker,
                    ProposeBatch.model_construct(
                        epoch=epoch, step=step, clock=clock, items=tuple(broker_items)
                    ),
                ),
            ]
        )
        assert isinstance(feed_res, FeedResult) and isinstance(board_res, BoardResult)
        assert isinstance(broker_res, ProposeResult)
        events.extend(feed_res.events)
        events.extend(board_res.events)
        events.extend(broker_res.events)
        if board_res.payouts:
            paid: Adjusted = await self.ledger.ask(
                Adjust(
                    epoch=epoch,
                    step=step,
                    changes=tuple(
                        (agent, reason, 0.0, amount) for _, agent, amount, reason in board_res.payouts
                    ),
                )
            )
            last = max(i for i, *_ in board_res.payouts)
            events.extend((last, ev) for ev in paid.events)
        if market_items and self.market is not None:
            market_res: MarketResult = await self.market.ask(
                MarketBatch.model_construct(epoch=epoch, step=step, items=tuple(market_items))
            )
            events.extend(market_res.events)
            for index, agent, amount, reason in market_res.transfers:
                moved: Adjusted = await self.ledger.ask(
                    Adjust(epoch=epoch, step=step, changes=((agent, reason, 0.0, amount),))
                )
                events.extend((index, ev) for ev in moved.events)
        events.sort(key=lambda pair: pair[0])
        step_events: list[Event] = [ev for _, ev in events]

        # Resolve
        step_events.extend(await self._resolve(epoch, step, clock, snapshot, public, blocked))
        await self.ledger.tell(StepOver())
        await self._emit(step_events)

    async def _resolve(
        self,
        epoch: int,
        step: int,
        clock: int,
        snapshot: Snapshot,
        public: dict[str, AgentPublic],
        blocked: dict[str, str],
    ) -> list[Event]:
        pending: PendingProposals = await self.broker.ask(PendingQuery())
        answering = [
            cp
            for cp in self.agent_ids
            if cp in pending.by_counterparty and not public[cp].frozen and cp not in blocked
        ]
        asks = [
            (
                self.agents[cp],
                Respond.model_construct(
                    snapshot=snapshot, me=public[cp], proposals=tuple(pending.by_counterparty[cp])
                ),
            )
            for cp in answering
        ]
        replies = await self.system.gather_ask(asks) if asks else []
        events: list[Event] = []
        decisions: dict[str, Decision] = {}
        for cp, reply in zip(answering, replies, strict=True):
            assert isinstance(reply, Responded)
            for d in reply.decisions:
                decisions[d.proposal_id] = d
            for cause in reply.failures:
                events.append(PolicyFailed(epoch=epoch, step=step, agent_id=cp, phase="accept", cause=cause))
        resolved: Resolved = await self.broker.ask(
            Resolve(epoch=epoch, step=step, clock=clock, decisions=decisions)
        )
        events.extend(resolved.events)
        if not resolved.interactions:
            return events
        interactions, effects = await self.governance.on_interactions(epoch, step, resolved.interactions)
        settle = []
        for i in interactions:
            pa, pb = self.engine.payoffs(i)
            settle.append((i, pa, pb))
            events.append(
                InteractionCompleted(
                    epoch=epoch,
                    step=step,
                    interaction=i,
                    payoff_initiator=pa,
                    payoff_counterparty=pb,
                    initiator_type=self.ledger_state.agents[i.initiator].agent_type,
                    counterparty_type=self.ledger_state.agents[i.counterparty].agent_type,
                )
            )
        events.extend(self._cost_events(epoch, step, effects))
        settled: Adjusted = await self.ledger.ask(Settle(items=tuple(settle)))
        events.extend(settled.events)
        events.extend(await self._apply_effects(epoch, step, [e for e in effects if e.kind != "cost"]))
        for i, pa, pb in settle:
            await self.agents[i.initiator].tell(
                Learn(outcome=Outcome(interaction=i, role="initiator", payoff=pa))
            )
            await self.agents[i.counterparty].tell(
                Learn(outcome=Outcome(interaction=i, role="counterparty", payoff=pb))
            )
        return events

    @staticmethod
    def _cost_events(epoch: int, step: int, effects: Sequence[Effect]) -> list[Event]:
        return [
            GovernanceApplied(
                epoch=epoch,
                step=step,
                lever=e.lever,
                agent_id=e.agent_id,
                effect="cost",
                amount=e.amount,
                reason=e.reason,
                interaction_id=e.interaction_id,
            )
            for e in effects
            if e.kind == "cost"
        ]

    async def _apply_effects(self, epoch: int, step: int, effects: Sequence[Effect]) -> list[Event]:
        """Apply non-cost governance effects to the ledger, logging each."""
        events: list[Event] = []
        for e in effects:
            events.append(
                GovernanceApplied(
                    epoch=epoch,
                    step=step,
                    lever=e.lever,
                    agent_id=e.agent_id,
                    effect=e.kind,
                    amount=e.amount,
                    reason=e.reason,
                    interaction_id=e.interaction_id,
                    details={"until_epoch": e.until_epoch, "confidence": e.confidence},
                )
            )
            if e.kind in ("reputation", "resources"):
                rep, res = (e.amount, 0.0) if e.kind == "reputation" else (0.0, e.amount)
                done: Adjusted = await self.ledger.ask(
                    Adjust(
                        epoch=epoch, step=step, changes=((e.agent_id, f"{e.lever}: {e.reason}", rep, res),)
                    )
                )
                events.extend(done.events)
            elif e.kind == "freeze":
                frozen: Adjusted = await self.ledger.ask(
                    Freeze(
                        epoch=epoch,
                        step=step,
                        agent_id=e.agent_id,
                        until_epoch=e.until_epoch,
                        reason=f"{e.lever}: {e.reason}",
                    )
                )
                events.extend(frozen.events)
        return events


def governance_view(scenario: Scenario) -> GovernanceView:
    """What agents can read about the levers in force."""
    g = scenario.governance
    return GovernanceView(
        tax_rate=g.transaction_tax_rate,
        tax_split=g.transaction_tax_split,
        audit_probability=g.audit_probability if g.audit_enabled else 0.0,
        audit_threshold_p=g.audit_threshold_p,
        audit_penalty_multiplier=g.audit_penalty_multiplier if g.audit_enabled else 0.0,
        min_stake=g.min_stake_to_participate if g.staking_enabled else 0.0,
        slash_rate=g.stake_slash_rate if g.staking_enabled else 0.0,
        slash_threshold_p=g.slash_threshold_p if g.staking_enabled else 0.0,
        breaker_threshold=g.freeze_threshold_toxicity if g.circuit_breaker_enabled else None,
        moderator_threshold_p=g.moderator_threshold_p if g.moderator_enabled else None,
        transparency=g.transparency_enabled,
    )


def interactions_of(events: Sequence[Event]) -> list[SoftInteraction]:
    """The interactions recorded in a sequence of events, in order."""
    return [ev.interaction for ev in events if isinstance(ev, InteractionCompleted)]
