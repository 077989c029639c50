"""Loading scenarios: YAML with located errors, ``--set`` overrides, and the reference's keys.

Every section and key is validated; an unknown key is an error, never silently
dropped. Errors name the file, the key path (and line, where the YAML has one)
and what was expected. Keys the reference uses for capabilities that do not
exist here yet are refused with a message that says so.

Files are read strictly (:mod:`swarm.scenario._yaml`: size, depth and alias
limits, duplicate keys refused); every number, overrides included, must be
finite and within :data:`swarm.limits.MAX_MAGNITUDE`; and the scenario's size
(agents, steps, agent-turns, memory) is checked against the budget
(:class:`swarm.limits.Limits`) before anything is built.
"""

from __future__ import annotations

import copy
import types
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from yaml.nodes import MappingNode, Node, SequenceNode

from swarm.errors import ConfigProblem, ScenarioError
from swarm.limits import Limits, budget_overrun, check_numbers
from swarm.scenario._compat import not_available_yet
from swarm.scenario._schema import scenario_model
from swarm.scenario._sections import Scenario
from swarm.scenario._yaml import YAMLProblem, compose, parse, read_text

Loc = tuple[Any, ...]

# ------------------------------------------------------------------------ loading


def load_scenario(
    path: str | Path | Mapping[str, Any], overrides: Sequence[str] = (), *, limits: Limits | None = None
) -> Scenario:
    """Load and validate a scenario from a YAML file (or an already parsed mapping).

    ``overrides`` are ``key.path=value`` strings (values parsed as YAML), applied
    before validation, so an override gets exactly the checks the file gets.
    ``limits`` defaults to :meth:`Limits.from_env` (the ``SWARM_MAX_*`` variables).
    """
    limits = Limits.from_env() if limits is None else limits
    if isinstance(path, Mapping):
        data: Any = copy.deepcopy(dict(path))
        source, text = "<mapping>", None
    else:
        source = str(path)
        text = read_text(path, "a scenario YAML file", limits)
        try:
            data = parse(text, limits)
        except YAMLProblem as exc:
            raise exc.error(source) from None
    if not isinstance(data, dict):
        raise ScenarioError(source, None, "the top level is not a mapping", "a mapping of sections")
    overridden = apply_overrides(data, overrides, limits=limits)
    return validate_scenario(data, source=source, text=text, overridden=overridden, limits=limits)


def validate_scenario(
    data: Mapping[str, Any],
    *,
    source: str,
    text: str | None = None,
    overridden: Sequence[Loc] = (),
    budget: bool = True,
    limits: Limits | None = None,
) -> Scenario:
    """Validate parsed scenario data, turning the first problem into a ScenarioError.

    ``text`` (the file's YAML) gives errors their line; a problem under a key path
    in ``overridden`` is reported as the ``--set`` override's. With ``budget`` the
    scenario's size is checked against ``limits`` (see :func:`swarm.limits.budget_overrun`).
    """
    lines = _Lines(text)

    def locate(loc: Sequence[Any]) -> tuple[str, int | None]:
        for path in overridden:
            if tuple(loc[: len(path)]) == tuple(path):
                return "--set", None
        return source, lines.line_of(loc)

    def fail(loc: Sequence[Any], problem: str, expected: str) -> ScenarioError:
        where, line = locate(loc)
        return ScenarioError(where, _dotted(loc), problem, expected, value=_lookup(data, loc), line=line)

    model = scenario_model()
    later = not_available_yet(data)
    if later is not None:
        loc, capability = later
        raise fail(
            loc,
            f"{capability} is not available yet",
            "a scenario without this key (the capability comes in a later version of SWARM)",
        )
    check_numbers(data, locate)
    clash = _alias_clash(model, data, ())
    if clash is not None:
        raise fail(*clash)
    try:
        scenario = model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = _without_tags(tuple(err["loc"]), data)
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc = (*loc, "type")
        message, expected = _explain(err)
        problem = err.get("ctx", {}).get("error")
        if isinstance(problem, ConfigProblem):
            loc = (*loc, *problem.key.split(".")[len(loc) :])
            if _lookup(data, loc) is _MISSING:
                written = [a for a in problem.aliases if _lookup(data, (*loc[:-1], a)) is not _MISSING]
                loc = (*loc[:-1], written[0]) if written else loc
            message, expected = problem.problem, problem.expected
        elif message == "wrong type":
            expected += _text_hint(_lookup(data, loc))
        raise fail(loc, message, expected) from None
    if budget:
        overrun = budget_overrun(scenario, limits)
        if overrun is not None:
            raise fail(overrun.loc, overrun.problem, overrun.expected)
    return scenario


def _text_hint(value: Any) -> str:
    """Why a number written in YAML arrived as text, when it did."""
    if not isinstance(value, str):
        return ""
    try:
        float(value.replace("_", ""))
    except ValueError:
        return ""
    if "e" in value.lower() and "." not in value:
        return f" (YAML reads {value} as text: write the exponent with a dot, 1.0e+6, or the digits)"
    return f" (the quoted {value!r} is text: write the number without quotes)"


def apply_overrides(
    data: dict[str, Any], overrides: Iterable[str], *, limits: Limits | None = None
) -> list[Loc]:
    """Apply ``a.b.c=value`` overrides in place (list items by index: ``agents.0.count=3``).

    Values are parsed as (strict) YAML; text that is not YAML is kept as a string.
    Returns the key paths set, in order.
    """
    limits = Limits.from_env() if limits is None else limits
    done: list[Loc] = []
    for item in overrides:
        if "=" not in item:
            raise ScenarioError(
                "--set", item, "an override needs '='", "KEY.PATH=VALUE, e.g. governance.audit_enabled=true"
            )
        key, raw = item.split("=", 1)
        parts = [p for p in key.strip().split(".") if p]
        if not parts:
            raise ScenarioError("--set", item, "empty key path", "KEY.PATH=VALUE")
        try:
            value = parse(raw, limits)
        except YAMLProblem as exc:
            if exc.kind != "malformed":
                raise ScenarioError("--set", key, exc.problem, exc.expected, value=raw) from None
            value = raw
        node: Any = data
        loc: list[Any] = []
        for i, part in enumerate(parts[:-1]):
            nxt = _child(node, part)
            if nxt is None:
                nxt = {}
                _set_child(node, part, nxt, key)
            elif not isinstance(nxt, dict | list):
                where = ".".join(parts[: i + 1])
                raise ScenarioError("--set", key, f"{where} is not a section", "a path to a key")
            loc.append(_index(part, len(node)) if isinstance(node, list) else part)
            node = nxt
        _set_child(node, parts[-1], value, key)
        loc.append(_index(parts[-1], len(node)) if isinstance(node, list) else parts[-1])
        done.append(tuple(loc))
    return done


def _child(node: Any, part: str) -> Any:
    if isinstance(node, list):
        idx = _index(part, len(node))
        return node[idx] if idx is not None else None
    return node.get(part) if isinstance(node, dict) else None


def _set_child(node: Any, part: str, value: Any, key: str) -> None:
    if isinstance(node, list):
        idx = _index(part, len(node))
        if idx is None:
            raise ScenarioError("--set", key, f"no list item {part!r}", f"an index below {len(node)}")
        node[idx] = value
    else:
        node[part] = value


def _index(part: str, length: int) -> int | None:
    if not (part.isdigit() and len(part) <= 18):
        return None
    return int(part) if int(part) < length else None


def _without_tags(loc: tuple[Any, ...], data: Any) -> tuple[Any, ...]:
    """``loc`` without the union tags pydantic inserts (``agents.0.honest.config`` → ``agents.0.config``)."""
    out: list[Any] = []
    node = data
    for part in loc:
        if isinstance(node, Mapping) and part not in node and part == node.get("type"):
            continue
        out.append(part)
        if isinstance(node, Mapping):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            node = None
    return tuple(out)


def _dotted(loc: Sequence[Any]) -> str:
    return ".".join(str(p) for p in loc) if loc else "<top level>"


def _lookup(data: Any, loc: Sequence[Any]) -> Any:
    node = data
    for part in loc:
        in_map = isinstance(node, Mapping) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if in_map or in_list:
            node = node[part]
        else:
            return _MISSING
    return node


_MISSING = object()


def _explain(err: Mapping[str, Any]) -> tuple[str, str]:
    kind = err["type"]
    ctx = err.get("ctx", {})
    if kind == "extra_forbidden":
        return "unknown key", "one of the keys this section defines (see docs/scenarios.md)"
    if kind == "missing":
        return "missing key", "this key is required"
    if kind == "union_tag_invalid":
        return "unknown type", f"one of {ctx.get('expected_tags', '')}"
    if kind == "union_tag_not_found":
        return "missing key 'type'", f"an agent type: {_agent_types()}"
    if kind == "literal_error":
        return "not an allowed value", f"one of {ctx.get('expected', '')}"
    if kind in {"greater_than_equal", "greater_than", "less_than_equal", "less_than"}:
        bounds = {
            "greater_than_equal": ">=",
            "greater_than": ">",
            "less_than_equal": "<=",
            "less_than": "<",
        }
        bound = next(iter(ctx.values()), "")
        return "out of range", f"a value {bounds[kind]} {bound}"
    if kind == "finite_number":
        return "not a finite number", "a finite number (NaN and infinities are refused)"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return "wrong type", err["msg"].replace("Input should be", "a value that is").rstrip(".")
    return "invalid value", str(err["msg"]).removeprefix("Value error, ")


def _agent_types() -> str:
    from swarm.agents.types import AGENT_TYPES

    return ", ".join(AGENT_TYPES)


class _Lines:
    """Lines of key paths in a YAML text, composed (strictly) once, when the first is asked for."""

    def __init__(self, text: str | None) -> None:
        self.text = text
        self.root: Node | None = None
        self.composed = False

    def line_of(self, loc: Sequence[Any]) -> int | None:
        if self.text is None:
            return None
        if not self.composed:
            self.composed = True
            try:
                self.root = compose(self.text, Limits(input_bytes=len(self.text) + 1))
            except YAMLProblem:
                self.root = None
        return _node_line(self.root, loc)


def _node_line(node: Node | None, loc: Sequence[Any]) -> int | None:
    line = None
    for part in loc:
        if isinstance(node, MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if pair is None:
                break
            line = pair[0].start_mark.line + 1
            node = pair[1]
        elif isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _line_of(text: str, loc: Sequence[Any]) -> int | None:
    """The line of ``loc`` in the YAML ``text`` (the deepest key of it that is written), or None."""
    return _Lines(text).line_of(loc)


# ------------------------------------------------------------------ aliases


def _alias_clash(model: type[BaseModel], data: Any, loc: Loc) -> tuple[Loc, str, str] | None:
    """A setting given under two of its names (``n_epochs`` and ``epochs``): where, problem, expected."""
    if not isinstance(data, Mapping):
        return None
    for name, info in model.model_fields.items():
        names = {name}
        alias = info.validation_alias
        choices = getattr(alias, "choices", [alias] if isinstance(alias, str) else [])
        names.update(c for c in choices if isinstance(c, str))
        given = [k for k in data if k in names]
        if len(given) > 1:
            others = [k for k in given if k != name] if name in given else given[1:]
            keep = name if name in given else given[0]
            return (
                (*loc, given[-1]),
                f"{' and '.join(repr(g) for g in given)} both given (names of one setting)",
                f"one of them: keep {keep!r}"
                + (" (the canonical name)" if keep == name else "")
                + f" and remove {', '.join(repr(o) for o in others)}",
            )
        if given:
            for sub_loc, sub_model, sub_data in _submodels(info.annotation, data[given[0]]):
                clash = _alias_clash(sub_model, sub_data, (*loc, given[0], *sub_loc))
                if clash is not None:
                    return clash
    return None


def _submodels(annotation: Any, value: Any) -> list[tuple[Loc, type[BaseModel], Any]]:
    """The models (with their data and relative key path) a field's value is validated against."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _submodels(get_args(annotation)[0], value)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [((), annotation, value)] if isinstance(value, Mapping) else []
    if origin is list and isinstance(value, list):
        (inner,) = get_args(annotation) or (Any,)
        return [((i, *sub), m, v) for i, item in enumerate(value) for sub, m, v in _submodels(inner, item)]
    if origin in (Union, types.UnionType) and isinstance(value, Mapping):
        models = [a for a in get_args(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
        tagged = [m for m in models if _tag_matches(m, value.get("type"))]
        return [((), m, value) for m in (tagged or models[:1])]
    return []


def _tag_matches(model: type[BaseModel], tag: Any) -> bool:
    field = model.model_fields.get("type")
    return field is not None and get_origin(field.annotation) is Literal and tag in get_args(field.annotation)
