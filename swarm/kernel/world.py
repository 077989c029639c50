"""Building a run's world: the components a scenario switches on, the ledger, the agents, the levers.

Nothing here names a concrete component: they come from the registry, in
registration order, with the settings their scenario section gives them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from actors import ActorRef, ActorSystem
from swarm.actions import Action
from swarm.agents.policy import Policy
from swarm.core.payoff import SoftPayoffEngine
from swarm.governance.lever import Governance
from swarm.kernel.bus import EventBus
from swarm.kernel.component import RateLimit, Setup, WorldComponent, components_in_order
from swarm.kernel.ledger import Ledger, LedgerBooks
from swarm.kernel.population import LocalPopulation, Population
from swarm.metrics.collector import MetricsActor, MetricsCollector
from swarm.runtime.rng import AgentStreams
from swarm.scenario import Scenario


@dataclass(frozen=True, slots=True)
class Seat:
    """One agent of the run: its id, its type (a custom policy's own name), its role and its policy."""

    agent_id: str
    agent_type: str
    role: str
    policy: Policy


@dataclass(frozen=True)
class Placed:
    """A component class, the actor running it and the component itself (its state)."""

    cls: type[WorldComponent]
    ref: ActorRef
    component: WorldComponent


def rate_limits(
    scenario: Scenario, components: Sequence[type[WorldComponent]]
) -> list[tuple[RateLimit, float | None]]:
    """Every rate limit of ``components`` with the value the scenario sets."""
    out = []
    for cls in components:
        for limit in cls.rate_limits:
            out.append((limit, getattr(getattr(scenario, limit.section), limit.key)))
    return out


class World:
    """Everything one run is made of, spawned into one actor system."""

    def __init__(
        self,
        system: ActorSystem,
        scenario: Scenario,
        seats: Sequence[Seat],
        governance: Governance,
        bus: EventBus,
        streams: AgentStreams | None = None,
        population: Population | None = None,
    ) -> None:
        self.scenario = scenario
        self.streams = streams
        self.system = system
        self.bus = bus
        self.governance = governance
        self.engine = SoftPayoffEngine(scenario.payoff)
        self.seats = list(seats)
        self.types = {s.agent_id: s.agent_type for s in seats}
        self._index = {s.agent_id: k for k, s in enumerate(seats)}
        self.index_of: Callable[[str], int | None] = self._index.get
        """The agent's position in registration order (None for an unknown id); a plain dict
        lookup, as the kernel asks it for every outcome and every question."""
        classes = [cls for cls in components_in_order() if cls.enabled(scenario)]
        self.components: list[Placed] = []
        self.router: dict[type[Action], int] = {}
        built: dict[str, WorldComponent] = {}
        for cls in classes:
            setup = Setup(scenario, scenario.section(cls.key), self.engine, self.types, built)
            component = built[cls.key] = cls(setup)
            self.components.append(Placed(cls, system.spawn(component, name=cls.key), component))
            for action in cls.actions:
                self.router[action] = len(self.components) - 1
        env, safety = scenario.environment, scenario.safety
        self.books = LedgerBooks(
            rate_limits(scenario, classes),
            max_content_length=safety.max_content_length,
            max_actions_per_step=scenario.simulation.max_actions_per_step,
            bandwidth_cap=scenario.governance.bandwidth_cap,
        )
        for seat in seats:
            self.books.add(seat.agent_id, env.initial_reputation, env.initial_resources)
        self.ledger = system.spawn(Ledger(self.books), name="ledger")
        self.population: Population = population or LocalPopulation(
            system, [(s.agent_id, s.policy) for s in seats], scenario.simulation.policy_timeout
        )
        self.collector = MetricsCollector(self.engine)
        self.metrics = system.spawn(MetricsActor(self.collector), name="metrics")
        bus.topic.attach(self.metrics)
        governance.attach(system)

    def setup(self) -> Setup:
        return Setup(self.scenario, None, self.engine, self.types)
