"""Plug your own policy into a scenario: here a 'saboteur' that looks busy but does no work.

The saboteur's facade fools the proxy — toxicity and welfare, both computed from
p, barely move or even improve — while the Brier score, which compares p with
the latent outcome, gets worse: the signature of deception.

    python examples/custom_policy.py
"""

from __future__ import annotations

import swarm
from swarm import Action, Conduct, Noop, Observation
from swarm.core.interaction import InteractionType
from swarm.env.broker import ProposalView, Propose


class Saboteur:
    """Proposes collaborations everywhere, shows effort it never puts in."""

    conduct = Conduct(effort=-0.3, facade=0.6, sloppiness=0.2, defects=0.6, engagement=0.4)

    def decide(self, observation: Observation) -> Action:
        others = observation.others
        if not others or not observation.can(Propose):
            return Noop()
        target = others[observation.step % len(others)]
        return Propose(
            counterparty=target.agent_id,
            interaction_type=InteractionType.COLLABORATION,
            content="Let's build this together.",
            conduct=self.conduct,
        )

    def accept(self, observation: Observation, proposal: ProposalView) -> bool:
        return True

    def observe(self, outcome: swarm.Outcome) -> None:
        pass


def main() -> None:
    scenario = swarm.load_scenario("scenarios/baseline.yaml")
    plain = swarm.run(scenario)
    sabotaged = swarm.run(scenario, policies={"honest_3": Saboteur()})
    for name, result in (("as shipped", plain), ("honest_3 replaced by a saboteur", sabotaged)):
        s = result.summary
        briers = [e.brier_score for e in result.epochs if e.brier_score is not None]
        print(
            f"{name:>32}: toxicity {s.avg_toxicity:.3f}, welfare {s.total_welfare:7.2f}, "
            f"Brier {sum(briers) / len(briers):.3f}"
        )


if __name__ == "__main__":
    main()
