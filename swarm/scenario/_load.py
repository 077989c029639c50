"""Loading scenarios: YAML with located errors, ``--set`` overrides, and the reference's keys.

Every section and key is validated; an unknown key is an error, never silently
dropped. Errors name the file, the key path (and line, where the YAML has one)
and what was expected. Keys the reference uses for capabilities that do not
exist here yet are refused with a message that says so.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from swarm.errors import ConfigProblem, ScenarioError
from swarm.scenario._compat import not_available_yet
from swarm.scenario._schema import scenario_model
from swarm.scenario._sections import Scenario

# ------------------------------------------------------------------------ loading


def load_scenario(path: str | Path | Mapping[str, Any], overrides: Sequence[str] = ()) -> Scenario:
    """Load and validate a scenario from a YAML file (or an already parsed mapping).

    ``overrides`` are ``key.path=value`` strings (values parsed as YAML), applied
    before validation, so an override gets exactly the checks the file gets.
    """
    if isinstance(path, Mapping):
        data: Any = copy.deepcopy(dict(path))
        source, text = "<mapping>", None
    else:
        p = Path(path)
        source = str(p)
        if not p.is_file():
            raise ScenarioError(source, None, "file not found", "a path to a scenario YAML file")
        text = p.read_text(encoding="utf-8")
        try:
            data = yaml.safe_load(text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            line = mark.line + 1 if mark is not None else None
            raise ScenarioError(
                source, None, f"malformed YAML: {exc.problem}", "valid YAML", line=line
            ) from None
        except yaml.YAMLError as exc:
            raise ScenarioError(source, None, f"malformed YAML: {exc}", "valid YAML") from None
    if not isinstance(data, dict):
        raise ScenarioError(source, None, "the top level is not a mapping", "a mapping of sections")
    apply_overrides(data, overrides)
    return validate_scenario(data, source=source, text=text)


def validate_scenario(data: Mapping[str, Any], *, source: str, text: str | None = None) -> Scenario:
    """Validate parsed scenario data, turning the first problem into a ScenarioError."""
    model = scenario_model()
    later = not_available_yet(data)
    if later is not None:
        loc, capability = later
        raise ScenarioError(
            source,
            _dotted(loc),
            f"{capability} is not available yet",
            "a scenario without this key (the capability comes in a later version of SWARM)",
            value=_lookup(data, loc),
            line=_line_of(text, loc) if text is not None else None,
        )
    try:
        return model.model_validate(data)
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
        key = _dotted(loc)
        value = _lookup(data, loc)
        line = _line_of(text, loc) if text is not None else None
        raise ScenarioError(source, key, message, expected, value=value, line=line) from None


def apply_overrides(data: dict[str, Any], overrides: Iterable[str]) -> None:
    """Apply ``a.b.c=value`` overrides in place (list items by index: ``agents.0.count=3``)."""
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
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        node: Any = data
        for i, part in enumerate(parts[:-1]):
            nxt = _child(node, part)
            if nxt is None:
                nxt = {}
                _set_child(node, part, nxt, key)
            elif not isinstance(nxt, dict | list):
                where = ".".join(parts[: i + 1])
                raise ScenarioError("--set", key, f"{where} is not a section", "a path to a key")
            node = nxt
        _set_child(node, parts[-1], value, key)


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
    return int(part) if part.isdigit() and int(part) < length else None


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
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return "wrong type", err["msg"].replace("Input should be", "a value that is").rstrip(".")
    return "invalid value", str(err["msg"]).removeprefix("Value error, ")


def _agent_types() -> str:
    from swarm.agents.types import AGENT_TYPES

    return ", ".join(AGENT_TYPES)


def _line_of(text: str, loc: Sequence[Any]) -> int | None:
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == str(part)), None)
            key_node = next((k for k, _ in node.value if k.value == str(part)), None)
            if key_node is None:
                break
            line = key_node.start_mark.line + 1
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line
