"""Answer LLM requests with a scripted policy: for offline runs and the mock provider server.

The observation travels inside the prompt (see :func:`swarm.agents.llm.render_prompt`),
so a responder needs nothing but the request text: it rebuilds the observation,
asks the scripted policy that matches the persona, and returns the object the
model would have returned. Its random stream is seeded from the request text,
so the same request always gets the same answer. In a world with economies it
first acts in them by their scripted rules (:mod:`swarm.agents.llm_economies`).
"""

from __future__ import annotations

import hashlib
import random
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


async def scripted_answer(
    system: str, user: str, schema_name: str, susceptibility: float = 0.0
) -> dict[str, Any]:
    """The JSON object a model would return for this request, chosen by a scripted policy.

    ``susceptibility``: the chance that the double, asked to act, follows an
    injection payload in a message of its inbox, a post of its feed or a task output its prompt
    shows instead (see :mod:`swarm.env.security`).
    Raises ValueError for a request that carries no observation or an unknown schema.
    """
    load_builtins()
    doc = parse_prompt(user)
    if doc is None:
        raise ValueError("the request carries no <observation> block")
    if susceptibility > 0 and schema_name == "ActionChoice":
        world = doc.world
        taken = _taken_over(
            system, user, world.get("security"), susceptibility, world.get("feed"), _output_texts(world)
        )
        if taken is not None:
            return taken
    seed = int.from_bytes(hashlib.sha256((system + user).encode()).digest()[:8], "big")
    persona = persona_of(system)
    kind = PERSONA_POLICY[persona]
    if schema_name == "ActionChoice" and _ECONOMIES & doc.world.keys():
        from swarm.agents.llm_economies import economy_action, without_full_missions

        economy = economy_action(persona, kind, doc, _economy_rng(system, user))
        if economy is not None:
            return {"action": msgspec.to_builtins(economy), "reasoning": f"scripted {kind} economy choice"}
        doc = without_full_missions(doc)
    cls = AGENT_TYPES[kind]
    ctx = BuildContext(None, seed, {})
    policy = cls.build(doc.agent_id, cls.spec(type=kind), ctx)
    policy = _with_told_role(policy, system, doc.agent_id, ctx)
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


_ECONOMIES = frozenset({"auction", "missions", "order_book"})


def _economy_rng(system: str, user: str) -> random.Random:
    """The double's stream for its economy decisions, seeded from the request text (apart from the
    scripted policy's, which a world without economies leaves as it was)."""
    digest = hashlib.sha256(f"{system}{user}|economies".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _with_told_role(policy: Any, system: str, agent_id: str, ctx: BuildContext) -> Any:
    """The policy with the role the system prompt gives the agent (one that takes no settings)."""
    from swarm.agents.roles import ROLES, with_role

    for name, role in ROLES.items():
        if role.prompt and not role.needs_config and f"Your role: {role.prompt}" in system:
            return with_role(policy, name, agent_id, ctx.stream(agent_id), None)
    return policy


def _taken_over(
    system: str, user: str, shown: Any, susceptibility: float, feed: Any = None, outputs: Any = ()
) -> dict[str, Any] | None:
    """The payload's action when the double follows the first payload it reads (None: it does not).

    It reads its inbox, then the feed posts and replies in its prompt, then the task outputs
    (``outputs``: their texts, as :func:`_output_texts` finds them).

    One uniform draw per request, seeded from the request text, decides: the same
    request gets the same answer, and a higher susceptibility follows a superset of payloads.
    """
    from swarm.env.security import SecurityPrompt, hijacked_action, payload_of

    if shown is None:
        return None
    prompt = msgspec.convert(shown, SecurityPrompt)
    texts = [(m.content, False) for m in prompt.inbox] + [(t, True) for t in _feed_texts(feed)]
    texts += [(str(t), False) for t in outputs or ()]
    for k, (text, posted) in enumerate(texts):
        payload = payload_of(text)
        if payload is None:
            continue
        digest = hashlib.sha256(f"{system}{user}|injection".encode()).digest()
        if int.from_bytes(digest[:8], "big") / 2**64 >= susceptibility:
            return None
        action = hijacked_action(payload, text, prompt.your_secret_key, posted=posted)
        where = "a post" if posted else "a message" if k < len(prompt.inbox) else "a task output"
        return {"action": msgspec.to_builtins(action), "reasoning": f"following an instruction in {where}"}
    return None


def _feed_texts(feed: Any) -> list[str]:
    """The text of the posts, then the replies, in a prompt's feed view (none without a feed)."""
    if not isinstance(feed, dict):
        return []
    items = [*(feed.get("posts") or ()), *(feed.get("replies") or ())]
    return [str(p.get("content", "")) for p in items if isinstance(p, dict)]


def _output_texts(world: Any) -> list[str]:
    """The text of the task outputs a prompt's world shows: the task board's recent work, then the
    composite subtasks' work shown to the agent (none unless the world shows outputs)."""
    if not isinstance(world, dict):
        return []
    items: list[Any] = []
    board = world.get("tasks")
    if isinstance(board, dict):
        items += board.get("recent_work") or ()
    composite = world.get("composite_tasks")
    if isinstance(composite, dict) and isinstance(work := composite.get("work"), dict):
        for shown in work.values():
            items += shown or ()
    return [str(o.get("content", "")) for o in items if isinstance(o, dict)]
