"""Run the mixed LLM/scripted scenario fully offline, from its recorded cassette.

python examples/llm_offline.py
"""

from __future__ import annotations

from pathlib import Path

import swarm
from swarm.agents.llm_backend import LLMBackend

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    scenario = swarm.load_scenario(ROOT / "scenarios" / "llm_agents.yaml")
    backend = LLMBackend(replay=str(ROOT / "scenarios" / "cassettes" / "llm_agents.jsonl"))
    result = swarm.run(scenario, llm_factory=backend)
    for agent in result.agents:
        print(f"{agent.agent_id:<16} {agent.agent_type:<14} payoff {agent.total_payoff:7.2f}")
    print(f"average toxicity {result.summary.avg_toxicity:.3f}, welfare {result.summary.total_welfare:.2f}")


if __name__ == "__main__":
    main()
