"""SWARM: a sandbox for distributional AI safety.

Simulate economies of interacting agents (scripted and LLM-backed) and measure
what goes wrong at the level of the system. Running::

    import swarm
    scenario = swarm.load_scenario("scenarios/baseline.yaml")
    async with swarm.Simulation(scenario, out_dir="runs/demo") as sim:
        async for event in sim.events():
            ...
    result = sim.result
    swarm.run(scenario)          # the same, synchronously

Extending (a new world component, lever, metric or agent type): :mod:`swarm.extend`.
"""

from swarm.actions import Action, Conduct, Noop
from swarm.agents.policy import Outcome, Policy
from swarm.errors import LogError, PolicyError, PolicyFailure, RunFailure, ScenarioError, SwarmError
from swarm.events import Event, Metrics
from swarm.runtime.result import SimulationResult
from swarm.runtime.simulation import Simulation, SimulationError, run
from swarm.scenario import Scenario, load_scenario
from swarm.views import AgentPublic, Observation, Snapshot

__version__ = "0.2.0"

from swarm.registry import load_builtins

load_builtins()  # built-ins register first, in a fixed order, whatever is imported next

__all__ = [
    "Action",
    "AgentPublic",
    "Conduct",
    "Event",
    "LogError",
    "Metrics",
    "Noop",
    "Observation",
    "Outcome",
    "Policy",
    "PolicyError",
    "PolicyFailure",
    "RunFailure",
    "Scenario",
    "ScenarioError",
    "Simulation",
    "SimulationError",
    "SimulationResult",
    "Snapshot",
    "SwarmError",
    "__version__",
    "load_scenario",
    "run",
]
