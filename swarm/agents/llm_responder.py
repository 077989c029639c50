"""Answer LLM requests with a scripted policy: for offline runs and the mock provider server.

The observation travels inside the prompt (see :func:`swarm.agents.llm.render_prompt`),
so a responder needs nothing but the request text: it rebuilds the observation,
asks the scripted policy that matches the persona, and returns the object the
model would have returned. Its random stream is seeded from the request text,
so the same request always gets the same answer.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec

from swarm.agents.llm import PERSONAS, parse_prompt, rebuild_observation
from swarm.agents.types import AGENT_TYPES, BuildContext
from swarm.env.broker import ProposalView
from swarm.registry import load_builtins

PERSONA_POLICY = {
    "honest": "honest",
    "open": "honest",
    "strategic": "opportunistic",
    "opportunistic": "opportunistic",
    "deceptive": "deceptive",
    "adversarial": "adversarial",
}


def persona_of(system: str) -> str:
    """Guess the persona from a system prompt written by LLMPolicy (honest if unknown)."""
    for name, text in PERSONAS.items():
        if system.startswith(text):
            return name
    return "honest"


async def scripted_answer(system: str, user: str, schema_name: str) -> dict[str, Any]:
    """The JSON object a model would return for this request, chosen by a scripted policy.

    Raises ValueError for a request that carries no observation or an unknown schema.
    """
    load_builtins()
    doc = parse_prompt(user)
    if doc is None:
        raise ValueError("the request carries no <observation> block")
    seed = int.from_bytes(hashlib.sha256((system + user).encode()).digest()[:8], "big")
    kind = PERSONA_POLICY[persona_of(system)]
    cls = AGENT_TYPES[kind]
    policy = cls.build(doc.agent_id, cls.spec(type=kind), BuildContext(None, seed, {}))
    obs = rebuild_observation(doc)
    if schema_name == "ActionChoice":
        action = policy.decide(obs)
        return {"action": msgspec.to_builtins(action), "reasoning": f"scripted {kind} choice"}
    if schema_name == "AcceptChoice":
        if doc.proposal is None:
            raise ValueError("an accept request carries no proposal")
        accept = policy.accept(obs, msgspec.convert(doc.proposal, ProposalView))
        return {"accept": bool(accept), "reasoning": f"scripted {kind} answer"}
    raise ValueError(f"unknown schema {schema_name!r}")
