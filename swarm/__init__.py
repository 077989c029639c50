"""SWARM: a sandbox for distributional AI safety.

Simulate economies of interacting agents (scripted and LLM-backed) and measure
what goes wrong at the level of the system. The public API::

    import swarm
    scenario = swarm.load_scenario("scenarios/baseline.yaml")
    async with swarm.Simulation(scenario, out_dir="runs/demo") as sim:
        async for event in sim.events():
            ...
    result = sim.result
    swarm.run(scenario)          # the same, synchronously
"""

from swarm.agents.policy import Outcome, Policy
from swarm.errors import LogError, PolicyError, ScenarioError, SwarmError
from swarm.events import AnyEvent, Event
from swarm.messages import Action, Conduct, Observation, ProposalView
from swarm.metrics.epoch import EpochMetrics
from swarm.runtime.result import SimulationResult
from swarm.runtime.simulation import Simulation, SimulationError, run
from swarm.scenario import Scenario, load_scenario

__version__ = "0.1.0"

__all__ = [
    "Action",
    "AnyEvent",
    "Conduct",
    "EpochMetrics",
    "Event",
    "LogError",
    "Observation",
    "Outcome",
    "Policy",
    "PolicyError",
    "ProposalView",
    "Scenario",
    "ScenarioError",
    "Simulation",
    "SimulationError",
    "SimulationResult",
    "SwarmError",
    "__version__",
    "load_scenario",
    "run",
]
