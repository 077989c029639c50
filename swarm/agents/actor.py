"""AgentActor: one agent's mailbox around its policy.

The actor turns step messages into policy calls and never lets a policy stall a
step: a call that times out or raises becomes a no-op (or no answer) plus a
``PolicyFailed`` event. A policy that raises :class:`~swarm.errors.PolicyError`
(a dead provider, say) fails the run on purpose.
"""

from __future__ import annotations

from collections.abc import Mapping

import anyio

from actors import Actor, Message, handler
from swarm.agents.policy import Outcome, Policy
from swarm.errors import PolicyError
from swarm.messages import (
    Action,
    AgentPublic,
    Decision,
    Limits,
    Noop,
    Observation,
    ProposalView,
    Snapshot,
)

_NOOP = Noop()


class Act(Message):
    """Step broadcast: the shared snapshot plus every agent's public record and limits."""

    snapshot: Snapshot
    public: Mapping[str, AgentPublic]
    limits: Mapping[str, Limits]


class Acted(Message):
    action: Action
    failure: str | None = None


class Respond(Message):
    """The proposals addressed to this agent, to accept or decline."""

    snapshot: Snapshot
    me: AgentPublic
    proposals: tuple[ProposalView, ...]


class Responded(Message):
    decisions: tuple[Decision, ...]
    failures: tuple[str, ...] = ()


class Learn(Message):
    outcome: Outcome


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:300]


class AgentActor(Actor):
    """Hosts one policy; the step driver talks to it with Act, Respond and Learn."""

    def __init__(self, agent_id: str, policy: Policy, *, timeout: float, timed: bool = True) -> None:
        self.agent_id = agent_id
        self.policy = policy
        self.timeout = timeout
        self.timed = timed

    def _observation(self, snapshot: Snapshot, me: AgentPublic, limits: Limits) -> Observation:
        return Observation(self.agent_id, me, snapshot, limits)

    @handler
    async def on_act(self, msg: Act) -> Action | Acted:
        """This step's action; an :class:`Acted` (no-op plus the cause) when the policy failed."""
        obs = self._observation(msg.snapshot, msg.public[self.agent_id], msg.limits[self.agent_id])
        try:
            if self.timed:
                with anyio.fail_after(self.timeout):
                    action = await self.policy.decide(obs)
            else:
                action = await self.policy.decide(obs)
        except PolicyError:
            raise
        except TimeoutError:
            return Acted.model_construct(action=_NOOP, failure=f"timed out after {self.timeout:g} s")
        except Exception as exc:
            return Acted.model_construct(action=_NOOP, failure=_describe(exc))
        return action

    @handler
    async def on_respond(self, msg: Respond) -> Responded:
        """Answer every proposal; an LLM-backed policy answers them concurrently.

        Results are listed in proposal order whatever order the answers arrive in.
        """
        obs = self._observation(msg.snapshot, msg.me, Limits())
        answers: list[bool | str | None] = [None] * len(msg.proposals)

        async def answer(k: int, proposal: ProposalView) -> None:
            try:
                if self.timed:
                    with anyio.fail_after(self.timeout):
                        answers[k] = bool(await self.policy.accept(obs, proposal))
                else:
                    answers[k] = bool(await self.policy.accept(obs, proposal))
            except PolicyError:
                raise
            except TimeoutError:
                answers[k] = f"{proposal.proposal_id}: timed out after {self.timeout:g} s"
            except Exception as exc:
                answers[k] = f"{proposal.proposal_id}: {_describe(exc)}"

        if self.timed and len(msg.proposals) > 1:
            try:
                async with anyio.create_task_group() as tg:
                    for k, proposal in enumerate(msg.proposals):
                        tg.start_soon(answer, k, proposal)
            except BaseExceptionGroup as group:
                raise group.exceptions[0] from None
        else:
            for k, proposal in enumerate(msg.proposals):
                await answer(k, proposal)
        decisions: list[Decision] = []
        failures: list[str] = []
        for proposal, result in zip(msg.proposals, answers, strict=True):
            if isinstance(result, str):
                failures.append(result)
            elif result is not None:
                decisions.append(
                    Decision.model_construct(
                        proposal_id=proposal.proposal_id,
                        accept=result,
                        conduct=self.policy.conduct if result else None,
                    )
                )
        return Responded.model_construct(decisions=tuple(decisions), failures=tuple(failures))

    @handler
    async def on_learn(self, msg: Learn) -> None:
        self.policy.observe(msg.outcome)
