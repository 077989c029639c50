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

from __future__ import annotations

import importlib
import os
import sys
from typing import TYPE_CHECKING, Any

from swarm.registry import load_builtins

if TYPE_CHECKING:
    from swarm.actions import Action, Conduct, Noop
    from swarm.agents.policy import Outcome, Policy
    from swarm.analysis.history import RunHistory, load_run
    from swarm.errors import LogError, PolicyError, PolicyFailure, RunFailure, ScenarioError, SwarmError
    from swarm.events import Event, Metrics
    from swarm.runtime.result import SimulationResult
    from swarm.runtime.simulation import Simulation, SimulationError, run
    from swarm.scenario import Scenario, load_scenario
    from swarm.views import AgentPublic, Observation, Snapshot

__version__ = "0.2.0"

# The public names, each from the module that defines it; a name is imported on
# first use (``swarm.Simulation``, ``from swarm import run``), as the same object.
_PUBLIC = {
    "Action": "swarm.actions",
    "Conduct": "swarm.actions",
    "Noop": "swarm.actions",
    "Outcome": "swarm.agents.policy",
    "Policy": "swarm.agents.policy",
    "RunHistory": "swarm.analysis.history",
    "load_run": "swarm.analysis.history",
    "LogError": "swarm.errors",
    "PolicyError": "swarm.errors",
    "PolicyFailure": "swarm.errors",
    "RunFailure": "swarm.errors",
    "ScenarioError": "swarm.errors",
    "SwarmError": "swarm.errors",
    "Event": "swarm.events",
    "Metrics": "swarm.events",
    "AgentPublic": "swarm.views",
    "Observation": "swarm.views",
    "Snapshot": "swarm.views",
    "SimulationResult": "swarm.runtime.result",
    "Simulation": "swarm.runtime.simulation",
    "SimulationError": "swarm.runtime.simulation",
    "run": "swarm.runtime.simulation",
    "Scenario": "swarm.scenario",
    "load_scenario": "swarm.scenario",
}

_VOCABULARY = ("swarm.actions", "swarm.agents.policy", "swarm.errors", "swarm.events", "swarm.views")


def _is_the_swarm_command() -> bool:
    """Whether this process is the ``swarm`` command: its console script, ``python -m swarm[.cli]``.

    The command registers nothing of its own and loads the built-ins itself before
    any of its commands runs (:mod:`swarm.cli`), so their order is the same; its
    ``--help`` then needs none of them.
    """
    argv0 = sys.argv[0] if sys.argv else ""
    if argv0 == "-m":  # `python -m MODULE`: sys.argv[0] is "-m" while MODULE's package is imported
        orig = list(getattr(sys, "orig_argv", []))
        at = orig.index("-m") + 1 if "-m" in orig else len(orig)
        return orig[at : at + 1] in (["swarm"], ["swarm.cli"])
    main = sys.modules.get("__main__")
    script = getattr(main, "__file__", None)
    if not (
        os.path.basename(argv0) in ("swarm", "swarm-script.py")
        and getattr(main, "__spec__", None) is None
        and isinstance(script, str)
        and os.path.abspath(script) == os.path.abspath(argv0)
    ):
        return False
    try:  # the console script the installer wrote for the entry point swarm.cli:main
        with open(script, encoding="utf-8", errors="replace") as fh:
            return "from swarm.cli import main" in fh.read(4096)
    except OSError:
        return False


if not _is_the_swarm_command():
    for _module in _VOCABULARY:
        importlib.import_module(_module)
    del _module
    load_builtins()  # built-ins register first, in a fixed order, whatever is imported next


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
    elif not name.startswith("_"):
        try:  # a subpackage (swarm.scenario, swarm.runtime, ...), as when this module imported them all
            value = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module 'swarm' has no attribute {name!r}") from None
    else:
        raise AttributeError(f"module 'swarm' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])


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
    "RunHistory",
    "Scenario",
    "ScenarioError",
    "Simulation",
    "SimulationError",
    "SimulationResult",
    "Snapshot",
    "SwarmError",
    "__version__",
    "load_run",
    "load_scenario",
    "run",
]
