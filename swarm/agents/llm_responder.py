"""Answer LLM requests with a scripted policy: for offline runs and the mock provider server.

The observation travels inside the prompt (see :func:`swarm.agents.llm.render_prompt`),
so a responder needs nothing but the request text: it rebuilds the observation,
asks the scripted policy that matches the persona, and returns the object the
model would have returned. Its random stream is seeded from the request text,
so the same request always gets the same answer.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any

from swarm.agents.llm import AcceptChoice, ActionChoice, parse_prompt
from swarm.agents.scripted import SCRIPTED_POLICIES, ScriptedPolicy

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
    from swarm.agents.llm import PERSONAS

    for name, text in PERSONAS.items():
        if system.startswith(text):
            return name
    return "honest"


def _policy(kind: str, agent_id: str, text: str) -> ScriptedPolicy:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
    return SCRIPTED_POLICIES[kind](agent_id, random.Random(seed))


async def scripted_answer(system: str, user: str, schema_name: str) -> dict[str, Any]:
    """The JSON object a model would return for this request, chosen by a scripted policy.

    Raises ValueError for a request that carries no observation or an unknown schema.
    """
    doc = parse_prompt(user)
    if doc is None:
        raise ValueError("the request carries no <observation> block")
    policy = _policy(PERSONA_POLICY[persona_of(system)], doc.agent_id, system + user)
    obs = doc.to_observation()
    if schema_name == ActionChoice.__name__:
        action = await policy.decide(obs)
        return {"action": action.model_dump(mode="json"), "reasoning": f"scripted {policy.kind} choice"}
    if schema_name == AcceptChoice.__name__:
        if doc.proposal is None:
            raise ValueError("an accept request carries no proposal")
        accept = await policy.accept(obs, doc.proposal)
        return {"accept": accept, "reasoning": f"scripted {policy.kind} answer"}
    raise ValueError(f"unknown schema {schema_name!r}")
