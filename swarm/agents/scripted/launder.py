"""Information laundering (planted): an attacker pays a high-reputation proxy to pass its harm on.

Ground truth for the security analyzer's laundering signal: which agents form a
chain is set in the scenario (``config.chain``); the lever never sees it.

* ``launder_client`` — the attacker. It hands its low-quality work to its proxy
  (a proposal to the proxy, paid with ``fee``, done poorly) and deals with nobody
  else, so the harm never bears its own name.
* ``launder_proxy`` — works like an honest agent (and so keeps a good record),
  accepts every job its client pays for and, after one, passes the harm on: with
  ``relay_probability`` its next proposal goes to an outsider and is done as
  poorly as the client's work.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from swarm.actions import NOOP, Action
from swarm.agents.scripted.base import ScriptedPolicy
from swarm.agents.scripted.honest import HonestConfig, HonestPolicy
from swarm.agents.scripted.rings import INSIDE_CONDUCT, RING_NAME, _ring_of
from swarm.agents.types import BuildContext, PolicyConfig, chance, register_agent_type
from swarm.core.interaction import InteractionType
from swarm.env.broker import ProposalView, Propose
from swarm.env.network_view import NetworkView
from swarm.views import Observation


class ClientConfig(PolicyConfig):
    chain: str = Field(default="chain", pattern=RING_NAME, description="the proxy chain it belongs to")
    interact_probability: float = chance(0.3, "chance to hand work to its proxy in a step")
    fee: float = Field(default=1.0, gt=0.0, le=100.0, description="what it pays the proxy per job")


class ProxyConfig(HonestConfig):
    chain: str = Field(default="chain", pattern=RING_NAME, description="the proxy chain it belongs to")
    relay_probability: float = chance(0.8, "chance to pass a paid job's harm on in its next proposal")


class LaunderClientPolicy(ScriptedPolicy):
    """Pays its proxy to carry its low-quality work; deals with nobody else."""

    kind = "launder_client"
    Config = ClientConfig
    default_conduct = INSIDE_CONDUCT
    config: ClientConfig

    __slots__ = ()

    def decide(self, observation: Observation) -> Action:
        c = self.config
        if not observation.can(Propose) or self.rng.random() >= c.interact_probability:
            return NOOP
        network: NetworkView | None = observation.snapshot.public.get(NetworkView)
        for a in observation.snapshot.agents:
            if a.agent_id in self.allies and not a.frozen and a.agent_id != self.agent_id:
                if network is not None and not network.reaches(self.agent_id, a.agent_id):
                    continue
                return Propose(
                    counterparty=a.agent_id,
                    interaction_type=InteractionType.COLLABORATION,
                    content="Please deliver this under your name.",
                    offered_transfer=min(c.fee, max(observation.me.resources, 0.0)),
                    conduct=INSIDE_CONDUCT,
                )
        return NOOP

    def accept(self, observation: Observation, proposal: ProposalView) -> bool:
        return proposal.initiator in self.allies


class LaunderProxyPolicy(HonestPolicy):
    """Honest in its own dealings; passes a paying client's harm on to outsiders."""

    kind = "launder_proxy"
    Config = ProxyConfig
    config: ProxyConfig

    __slots__ = ("_pending",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending = 0

    def accept(self, observation: Observation, proposal: ProposalView) -> bool:
        if proposal.initiator in self.allies:
            self._pending += 1
            return True
        return super().accept(observation, proposal)

    def decide(self, observation: Observation) -> Action:
        if self._pending and observation.can(Propose):
            self._pending -= 1
            if self.rng.random() < self.config.relay_probability:
                marks = [a for a in self._sample_others(observation) if a.agent_id not in self.allies]
                if marks:
                    mark = marks[int(self.rng.random() * len(marks))]
                    return Propose(
                        counterparty=mark.agent_id,
                        interaction_type=InteractionType.COLLABORATION,
                        content="Delivered work, as agreed.",
                        conduct=INSIDE_CONDUCT,
                    )
        return super().decide(observation)


def _chain(ctx: BuildContext, chain: str) -> frozenset[str]:
    return _ring_of(ctx, "launder_client", "chain", chain) | _ring_of(ctx, "launder_proxy", "chain", chain)


def _build_client(agent_id: str, spec: Any, ctx: BuildContext) -> LaunderClientPolicy:
    return LaunderClientPolicy(
        agent_id, ctx.stream(agent_id), spec.config, allies=_chain(ctx, spec.config.chain)
    )


def _build_proxy(agent_id: str, spec: Any, ctx: BuildContext) -> LaunderProxyPolicy:
    return LaunderProxyPolicy(
        agent_id, ctx.stream(agent_id), spec.config, allies=_chain(ctx, spec.config.chain)
    )


def laundering_chains(scenario: Any) -> dict[str, str]:
    """Ground truth: every planted client's and proxy's id and its chain."""
    return {
        agent_id: spec.config.chain
        for agent_id, spec in scenario.agent_ids()
        if spec.type in ("launder_client", "launder_proxy")
    }


register_agent_type(
    "launder_client",
    ClientConfig,
    _build_client,
    description="Information laundering: pays its proxy (config.chain) to pass its low-quality work on.",
)
register_agent_type(
    "launder_proxy",
    ProxyConfig,
    _build_proxy,
    description="Information laundering: an honest-looking proxy that passes a paying client's harm on.",
)
