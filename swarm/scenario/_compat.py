"""The reference's keys for capabilities that do not exist here yet.

A scenario that uses one is refused (exit 2) with a message naming the
capability, rather than an "unknown key" error, so a user of the reference knows
the key was understood. Each capability's issue removes its entries here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LATER_SECTIONS: dict[str, str] = {}
LATER_GOVERNANCE_PREFIXES: dict[str, str] = {}
LATER_AGENT_TYPES: dict[str, str] = {}
LATER_AGENT_KEYS: dict[str, str] = {}
LATER_LLM_KEYS: dict[str, str] = {}
LATER_CRITERIA: dict[str, str] = {}

Location = tuple[str | int, ...]


def not_available_yet(data: Mapping[str, Any]) -> tuple[Location, str] | None:
    """The first key of ``data`` that needs a capability SWARM does not have yet, and that capability."""
    for key, capability in LATER_SECTIONS.items():
        if key in data:
            return (key,), capability
    governance = data.get("governance")
    if isinstance(governance, Mapping):
        for key in governance:
            for prefix, capability in LATER_GOVERNANCE_PREFIXES.items():
                if str(key).startswith(prefix):
                    return ("governance", key), capability
    agents = data.get("agents")
    if isinstance(agents, list):
        for index, item in enumerate(agents):
            if not isinstance(item, Mapping):
                continue
            kind = item.get("type")
            if isinstance(kind, str) and kind in LATER_AGENT_TYPES:
                return ("agents", index, "type"), LATER_AGENT_TYPES[kind]
            for key, capability in LATER_AGENT_KEYS.items():
                if key in item:
                    return ("agents", index, key), capability
            llm = item.get("llm")
            if isinstance(llm, Mapping):
                for key, capability in LATER_LLM_KEYS.items():
                    if key in llm:
                        return ("agents", index, "llm", key), capability
    criteria = data.get("success_criteria")
    if isinstance(criteria, Mapping):
        for key in criteria:
            if key in LATER_CRITERIA:
                return ("success_criteria", key), LATER_CRITERIA[key]
    return None
