"""Whether an agent's policy runs inline is worked out once per policy class when a population is
built; every policy must get the answer :func:`is_inline` gives it on its own."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from swarm.kernel.agent import _KERNEL_CALLS, _is_inline_known, is_inline


def plain(self: Any, *args: Any) -> None:
    return None


async def waits(self: Any, *args: Any) -> None:
    return None


class _Proxy:
    """Answers every method from the policy it wraps (one class, sync or async inside)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


KINDS = ("plain", "waits", "missing", "property")
ways = st.fixed_dictionaries({name: st.sampled_from(KINDS) for name in _KERNEL_CALLS})
own = st.fixed_dictionaries({name: st.sampled_from(("none", "plain", "waits")) for name in _KERNEL_CALLS})


def policy_class(way: dict[str, str]) -> type:
    body: dict[str, Any] = {}
    for name, kind in way.items():
        if kind == "plain":
            body[name] = plain
        elif kind == "waits":
            body[name] = waits
        elif kind == "property":  # what the instance holds, looked up per instance
            body[name] = property(lambda self, name=name: self.__dict__.get("_" + name))
    return type("Policy", (), body)


def instance(cls: type, overrides: dict[str, str]) -> Any:
    policy = cls()
    for name, kind in overrides.items():
        if kind != "none":
            fn = (lambda *a: None) if kind == "plain" else waits.__get__(policy)
            policy.__dict__[name] = fn
            policy.__dict__["_" + name] = fn
    return policy


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 2), own, st.booleans()), min_size=1, max_size=12),
    st.lists(ways, min_size=3, max_size=3),
)
def test_worked_out_once_per_class_is_what_each_policy_says(
    agents: list[tuple[int, dict[str, str], bool]], classes: list[dict[str, str]]
) -> None:
    made = [policy_class(way) for way in classes]
    known: dict[type, bool | None] = {}
    for k, overrides, wrapped in agents:
        policy = instance(made[k], overrides)
        if wrapped:
            policy = _Proxy(policy)
        assert _is_inline_known(policy, known) == is_inline(policy)
