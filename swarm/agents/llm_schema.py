"""What LLM agents fill in: schemas generated from the same classes the kernel uses.

An action is defined once, as a msgspec struct on its component; its pydantic
twin (for the providers' structured output and validation) is generated here,
with the struct's ``msgspec.Meta`` constraints carried over (also inside lists,
tuples and dicts: an auction bid's values per resource), and non-finite numbers
refused (a reply with ``NaN`` or an overflowing number is malformed). ``ActionChoice``
for a scenario is the union of the actions of the components it has (plus the
no-op); its class name encodes those components, so worker processes rebuild
the same class by name when it is sent to them (see :func:`__getattr__`).
"""

from __future__ import annotations

import functools
import operator
import types
import typing
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import msgspec
from pydantic import BaseModel, ConfigDict, Field, create_model

from swarm.actions import Action, Noop

_MODULE = __name__
_CONSTRAINTS = ("gt", "ge", "lt", "le", "min_length", "max_length", "pattern")


class AcceptChoice(BaseModel):
    """What the model returns when asked about a proposal."""

    model_config = ConfigDict(extra="forbid")

    accept: bool
    reasoning: str = Field(default="", max_length=1000)


def _field_of(meta: msgspec.Meta) -> Any:
    return Field(**{k: getattr(meta, k) for k in _CONSTRAINTS if getattr(meta, k, None) is not None})


@functools.cache
def pydantic_twin(struct: type[msgspec.Struct]) -> type[BaseModel]:
    """A pydantic model with the fields, defaults and constraints of a msgspec struct."""
    hints = typing.get_type_hints(struct, include_extras=True)
    tag = struct.__struct_config__.tag
    fields: dict[str, Any] = {}
    if isinstance(tag, str):
        fields[struct.__struct_config__.tag_field or "type"] = (Literal[tag], tag)
    for f in msgspec.structs.fields(struct):
        annotation = _convert(hints[f.name])
        if f.default is not msgspec.NODEFAULT:
            default: Any = f.default
            if isinstance(default, msgspec.Struct):
                default = pydantic_twin(type(default)).model_validate(msgspec.to_builtins(default))
            fields[f.name] = (annotation, default)
        else:
            fields[f.name] = (annotation, ...)
    return create_model(
        struct.__name__,
        __config__=ConfigDict(extra="forbid", allow_inf_nan=False),
        __doc__=struct.__doc__,
        __module__=_MODULE,
        **fields,
    )


def _convert(tp: Any) -> Any:
    origin = get_origin(tp)
    if origin is Annotated:
        base, *extras = get_args(tp)
        out = [_field_of(m) if isinstance(m, msgspec.Meta) else m for m in extras]
        return Annotated[(_convert(base), *out)]
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return pydantic_twin(tp)
    if origin in (Union, types.UnionType):
        return functools.reduce(operator.or_, [_convert(a) for a in get_args(tp)])
    if origin in (tuple, list, dict):
        return origin[tuple(_convert(a) for a in get_args(tp))]
    return tp


def _owners() -> dict[str, Any]:
    from swarm.kernel.component import COMPONENTS
    from swarm.registry import load_builtins

    load_builtins()
    return dict(COMPONENTS.items())


def action_types(components: typing.Iterable[str]) -> tuple[type[Action], ...]:
    """The no-op plus every action of the named components, in registration order."""
    owners = _owners()
    kinds: list[type[Action]] = [Noop]
    for key in components:
        kinds.extend(owners[key].actions)
    return tuple(kinds)


def choice_name(components: typing.Iterable[str]) -> str:
    return "ActionChoice__" + "__".join(components)


@functools.cache
def action_choice(components: tuple[str, ...]) -> type[BaseModel]:
    """The schema an LLM fills to act in a world made of ``components``."""
    twins = [pydantic_twin(k) for k in action_types(components)]
    union: Any = (
        twins[0]
        if len(twins) == 1
        else Annotated[functools.reduce(operator.or_, twins), Field(discriminator="type")]
    )
    name = choice_name(components)
    model = create_model(
        "ActionChoice",
        __config__=ConfigDict(extra="forbid"),
        __doc__="What the model returns when asked to act.",
        __module__=_MODULE,
        action=(union, ...),
        reasoning=(str, Field(default="", max_length=1000)),
    )
    model.__qualname__ = name
    globals()[name] = model
    return model


def to_action(choice: BaseModel, components: tuple[str, ...]) -> Action:
    """The kernel's action for a validated ``ActionChoice``."""
    union = Union[action_types(components)]  # type: ignore[valid-type]  # noqa: UP007
    action: Action = msgspec.convert(choice.action.model_dump(mode="json"), union)  # type: ignore[attr-defined]
    return action


def __getattr__(name: str) -> Any:
    """Rebuild an ``ActionChoice__...`` class by name (how worker processes unpickle it)."""
    if name.startswith("ActionChoice__"):
        return action_choice(tuple(name.removeprefix("ActionChoice__").split("__")))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
