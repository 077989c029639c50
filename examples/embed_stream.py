"""Embed a run in your own async code and react to events as they happen.

python examples/embed_stream.py
"""

from __future__ import annotations

import anyio

import swarm
from swarm.events import EpochCompleted, InteractionCompleted


async def main() -> None:
    scenario = swarm.load_scenario("scenarios/baseline.yaml", overrides=["simulation.n_epochs=5"])
    worst: tuple[float, str] = (1.0, "")
    async with swarm.Simulation(scenario) as sim:
        async for event in sim.events():
            if isinstance(event, InteractionCompleted) and event.interaction.accepted:
                worst = min(worst, (event.interaction.p, event.interaction.interaction_id))
            elif isinstance(event, EpochCompleted):
                m = event.metrics
                tox = "-" if m.toxicity_rate is None else f"{m.toxicity_rate:.3f}"
                print(f"epoch {m.epoch}: {m.accepted} accepted, toxicity {tox}")
    print(f"lowest-quality accepted interaction: {worst[1]} (p = {worst[0]:.3f})")
    print(f"average toxicity: {sim.result.summary.avg_toxicity:.3f}")


if __name__ == "__main__":
    anyio.run(main)
