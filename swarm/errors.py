"""The exceptions of the sandbox: bad input reads like advice, bugs keep their tracebacks."""

from __future__ import annotations

import reprlib
from typing import Any


class SwarmError(Exception):
    """Base of every error the sandbox raises on purpose."""


class ScenarioError(SwarmError):
    """A scenario (file, mapping or override) that cannot be used, with where and why.

    Rendered as one short paragraph::

        scenarios/bad.yaml:14: governance.audit_probability = 1.5
          out of range: expected a value <= 1.0
    """

    def __init__(
        self,
        source: str,
        key: str | None,
        problem: str,
        expected: str,
        *,
        value: Any = None,
        line: int | None = None,
    ) -> None:
        self.source = source
        self.key = key
        self.problem = problem
        self.expected = expected
        self.value = value
        self.line = line
        super().__init__(self.render())

    def render(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        head = where
        if self.key is not None:
            head += f": {self.key}"
            if self.value is not None and not _is_missing(self.value):
                head += f" = {_short(self.value)}"
        return f"{head}\n  {self.problem}: expected {self.expected}"


class LogError(SwarmError):
    """An event log that cannot be read or does not match what replay expects."""


class PolicyError(SwarmError):
    """A policy that cannot go on (for instance a provider that refuses our credentials)."""

    def __init__(self, agent_id: str, cause: str) -> None:
        self.agent_id = agent_id
        self.cause = cause
        super().__init__(f"agent {agent_id}: {cause}")


def _is_missing(value: Any) -> bool:
    return type(value).__name__ == "object"


def _short(value: Any, limit: int = 60) -> str:
    # Bounded whatever the value: a huge or deeply shared structure (an alias bomb) is never
    # rendered in full, only its first items (reprlib), and the text is cut at ``limit``.
    if isinstance(value, str):
        text = repr(value[: limit + 1])
    elif isinstance(value, dict | list | tuple | set | frozenset):
        text = _REPR.repr(value)
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist, _REPR.maxtuple, _REPR.maxset = 3, 6, 8, 8, 8
_REPR.maxstring, _REPR.maxother = 60, 60


class PolicyFailure(SwarmError):
    """A policy giving up on one decision on purpose: the agent does nothing this phase.

    Raise it (or let an LLM error, which the LLM policy turns into one, or a
    timeout happen) and the run records a ``policy_failed`` event and goes on.
    Any other exception from a policy is a bug: the run stops with exit 3.
    """


class RunFailure(SwarmError):
    """Something broke the kernel's rules during a run (a policy returned a non-action, say): it stops."""


class ConfigProblem(ValueError):
    """Raised by scenario validators to name the key, the problem and what is expected."""

    def __init__(self, key: str, problem: str, expected: str, aliases: tuple[str, ...] = ()) -> None:
        self.key = key
        self.aliases = aliases
        """Other names the last part of ``key`` may have been written with."""
        self.problem = problem
        self.expected = expected
        super().__init__(f"{key}: {problem}; expected {expected}")


class ShardFailure(RunFailure):
    """A shard of a sharded run (worker process, Ray actor) that could not start or died: the run stops."""
