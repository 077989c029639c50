"""Strict YAML for scenario and sweep files: bounded, duplicate keys refused, every problem located.

``yaml.safe_load`` takes the last of two equal keys, expands an alias bomb into
gigabytes (or hangs whoever prints it), and raises ``RecursionError`` on a
deeply nested document. Here the parser's events (libyaml's when PyYAML has it)
are composed into nodes without recursion, with

* the nesting depth capped (:attr:`Limits.input_depth`),
* the document's size *with its aliases expanded* capped (:attr:`Limits.input_nodes`),
  counted as it is composed, so a bomb is refused before it is built,
* an alias to a node that contains it, or to an undefined or repeated anchor, refused,
* two equal keys in one mapping refused with both lines (merge keys ``<<`` may be
  overridden, as YAML says),

then constructed by PyYAML's safe constructor (plain data only). Files are read
with their size checked first and decoded as UTF-8 with the line of a bad byte.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from swarm.errors import ScenarioError
from swarm.limits import ENV, Limits

_Parser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE = "tag:yaml.org,2002:merge"


class YAMLProblem(Exception):
    """A document refused: where (1-based line, when known), the problem and what was expected."""

    def __init__(self, line: int | None, problem: str, expected: str, *, kind: str = "strict") -> None:
        super().__init__(problem)
        self.line = line
        self.problem = problem
        self.expected = expected
        self.kind = kind
        """``malformed`` (not YAML), ``limit`` (too large or too deep) or ``strict`` (YAML, but refused)."""
        self.key: str | None = None
        """The key path being read when the problem was found, where known."""

    def error(self, source: str) -> ScenarioError:
        return ScenarioError(source, self.key, self.problem, self.expected, line=self.line)


def read_text(path: str | Path, what: str, limits: Limits | None = None) -> str:
    """A file's text: it must be a regular file within the size limit, in UTF-8."""
    p = Path(path)
    source = str(p)
    limits = Limits.from_env() if limits is None else limits
    try:
        if not p.exists():
            raise ScenarioError(source, None, "file not found", f"a path to {what}")
        if not p.is_file():
            kind = "a directory" if p.is_dir() else "not a regular file"
            raise ScenarioError(source, None, f"{kind}, not a file", f"a path to {what}")
        with p.open("rb") as fh:
            raw = fh.read(limits.input_bytes + 1)
    except OSError as exc:
        raise ScenarioError(
            source, None, f"cannot be read ({exc.strerror or exc})", f"a readable {what}"
        ) from None
    if len(raw) > limits.input_bytes:
        raise ScenarioError(
            source,
            None,
            f"larger than the limit of {limits.input_bytes:,} bytes",
            f"a smaller file, or raise the limit with {ENV['input_bytes']} (docs/reliability.md#limits)",
        )
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ScenarioError(
            source,
            None,
            f"not UTF-8: byte {raw[exc.start]:#04x} at column {column} cannot be decoded",
            "a file saved as UTF-8",
            line=line,
        ) from None


def parse(text: str, limits: Limits | None = None) -> Any:
    """The data of a one-document YAML text, strictly (see the module); raises :class:`YAMLProblem`."""
    limits = Limits.from_env() if limits is None else limits
    node = compose(text, limits)
    if node is None:
        return None
    constructor = _Constructor()
    try:
        return constructor.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        problem = _problem(exc)
        if exc.problem_mark is not None:
            problem.key = _path_to(node, exc.problem_mark.index)
        raise problem from None
    except RecursionError:  # not reachable within the depth limit; a guard, never a traceback
        raise YAMLProblem(None, "nested too deeply", "a flatter document", kind="limit") from None


def compose(text: str, limits: Limits | None = None) -> Node | None:
    """The node graph of a one-document YAML text (no recursion; limits checked as it is built)."""
    limits = Limits.from_env() if limits is None else limits
    try:
        return _Composer(text, limits).run()
    except yaml.MarkedYAMLError as exc:
        raise _problem(exc) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1 if isinstance(exc.position, int) else None
        raise YAMLProblem(line, f"malformed YAML: {exc.reason}", "valid YAML", kind="malformed") from None
    except yaml.YAMLError as exc:
        raise YAMLProblem(None, f"malformed YAML: {exc}", "valid YAML", kind="malformed") from None


def _problem(exc: yaml.MarkedYAMLError) -> YAMLProblem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    what = exc.problem or exc.context or "unreadable"
    if "nesting depth" in what:  # libyaml's own limit (1,000 levels of flow collections)
        return YAMLProblem(line, "nested too deeply", "a flatter document", kind="limit")
    if len(what) > 160:
        what = what[:157] + "..."
    return YAMLProblem(line, f"malformed YAML: {what}", "valid YAML", kind="malformed")


def _path_to(root: Node, index: int) -> str | None:
    """The key path of the node that starts at character ``index`` (a depth-first search, no recursion)."""
    seen: set[int] = set()
    todo: list[tuple[Node, tuple[str, ...]]] = [(root, ())]
    while todo:
        node, path = todo.pop()
        if node.start_mark.index == index and isinstance(node, ScalarNode):
            return ".".join(path) or None
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for key, value in reversed(node.value):
                name = str(key.value) if isinstance(key, ScalarNode) else "?"
                todo.extend(((value, (*path, name)), (key, (*path, name))))
        elif isinstance(node, SequenceNode):
            todo.extend((item, (*path, str(i))) for i, item in reversed(list(enumerate(node.value))))
    return None


def _line(event: Any) -> int:
    return int(event.start_mark.line) + 1


class _Open:
    __slots__ = ("anchor", "items", "node")

    def __init__(self, node: Node, anchor: str | None) -> None:
        self.node = node
        self.anchor = anchor
        self.items: list[Node] = []


class _Composer:
    def __init__(self, text: str, limits: Limits) -> None:
        self.text = text
        self.limits = limits
        self.resolver: Any = Resolver()
        self.anchors: dict[str, Node] = {}
        self.anchor_lines: dict[str, int] = {}
        self.sizes: dict[int, int] = {}
        self.open_anchors: set[str] = set()
        self.stack: list[_Open] = []
        self.total = 0
        self.keys = SafeConstructor()

    def run(self) -> Node | None:
        try:
            return self._run()
        except YAMLProblem as exc:
            if exc.key is None:
                exc.key = ".".join(self._path()) or None
            raise

    def _path(self) -> list[str]:
        """The key path of the node being composed (keys of the open mappings, indexes of open lists)."""
        path: list[str] = []
        for opened in self.stack:
            items = opened.items
            if isinstance(opened.node, SequenceNode):
                path.append(str(len(items)))
            elif len(items) % 2 == 1:
                key = items[-1]
                path.append(str(key.value) if isinstance(key, ScalarNode) else "?")
            else:
                break
        return path

    def _run(self) -> Node | None:
        loader = _Parser(self.text)
        root: Node | None = None
        documents = 0
        try:
            while loader.check_event():
                event = loader.get_event()
                if isinstance(event, DocumentStartEvent):
                    documents += 1
                    if documents > 1:
                        raise YAMLProblem(_line(event), "a second YAML document ('---')", "a single document")
                    continue
                node = self._event(event)
                if node is not None:
                    root = node
        finally:
            loader.dispose()
        return root

    def _event(self, event: Any) -> Node | None:
        """The completed top-level node, if ``event`` completes it."""
        if isinstance(event, ScalarEvent):
            tag = event.tag
            if tag is None or tag == "!":
                tag = self.resolver.resolve(ScalarNode, event.value, event.implicit)
            node: Node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)  # type: ignore[arg-type]
            self._anchor(event.anchor, node, _line(event))
            return self._add(node, 1, event)
        if isinstance(event, AliasEvent):
            name = event.anchor
            if name in self.open_anchors:
                raise YAMLProblem(
                    _line(event),
                    f"the alias *{name} is inside the node it names",
                    "an alias to a finished node",
                )
            if name not in self.anchors:
                raise YAMLProblem(
                    _line(event),
                    f"undefined alias *{name}",
                    "an alias to an anchor defined above it",
                    kind="malformed",
                )
            target = self.anchors[name]
            return self._add(target, self.sizes[id(target)], event)
        if isinstance(event, SequenceStartEvent | MappingStartEvent):
            mapping = isinstance(event, MappingStartEvent)
            kind: Any = MappingNode if mapping else SequenceNode
            tag = event.tag
            if tag is None or tag == "!":
                tag = self.resolver.resolve(kind, None, event.implicit)
            if len(self.stack) >= self.limits.input_depth:
                raise YAMLProblem(
                    _line(event),
                    f"nested more than {self.limits.input_depth} levels deep",
                    f"a flatter document, or raise the limit with {ENV['input_depth']}",
                    kind="limit",
                )
            node = kind(tag, [], event.start_mark, None, flow_style=event.flow_style)
            if event.anchor is not None:
                self._check_anchor(event.anchor, _line(event))
                self.open_anchors.add(event.anchor)
            self._count(1, event)
            self.stack.append(_Open(node, event.anchor))
            return None
        if isinstance(event, SequenceEndEvent | MappingEndEvent):
            opened = self.stack.pop()
            node = opened.node
            node.end_mark = event.end_mark
            items = opened.items
            if isinstance(node, MappingNode):
                pairs = list(zip(items[::2], items[1::2], strict=True))
                self._no_duplicates(pairs)
                node.value = pairs
            else:
                node.value = items
            size = 1 + sum(self.sizes[id(child)] for child in items)
            if opened.anchor is not None:
                self.open_anchors.discard(opened.anchor)
                self._anchor(opened.anchor, node, node.start_mark.line + 1)
            self.sizes[id(node)] = size
            return self._attach(node)
        return None

    def _check_anchor(self, name: str, line: int) -> None:
        if name in self.anchors or name in self.open_anchors:
            first = self.anchor_lines.get(name)
            raise YAMLProblem(
                line,
                f"the anchor &{name} is defined twice" + (f" (first on line {first})" if first else ""),
                "each anchor defined once",
            )
        self.anchor_lines[name] = line

    def _anchor(self, name: str | None, node: Node, line: int) -> None:
        if name is None:
            return
        if isinstance(node, ScalarNode):
            self._check_anchor(name, line)
        self.anchors[name] = node
        self.sizes.setdefault(id(node), 1)

    def _count(self, n: int, event: Any) -> None:
        self.total += n
        if self.total > self.limits.input_nodes:
            raise YAMLProblem(
                _line(event),
                f"more than {self.limits.input_nodes:,} values once aliases are expanded",
                f"a smaller document (fewer aliases), or raise the limit with {ENV['input_nodes']}",
                kind="limit",
            )

    def _add(self, node: Node, size: int, event: Any) -> Node | None:
        self._count(size, event)
        self.sizes.setdefault(id(node), size)
        return self._attach(node)

    def _attach(self, node: Node) -> Node | None:
        if self.stack:
            self.stack[-1].items.append(node)
            return None
        return node

    def _no_duplicates(self, pairs: list[tuple[Node, Node]]) -> None:
        seen: dict[Any, int] = {}
        for key_node, _ in pairs:
            if not isinstance(key_node, ScalarNode):
                continue
            key: Any
            if key_node.tag == _MERGE:
                key = ("<<",)
            else:
                try:
                    key = self.keys.construct_object(key_node, deep=True)
                    hash(key)
                except Exception:  # an unreadable key is the constructor's to report, with its line
                    key = (key_node.tag, key_node.value)
            line = key_node.start_mark.line + 1
            if key in seen:
                shown = "<<" if key_node.tag == _MERGE else key_node.value
                problem = YAMLProblem(
                    line,
                    f"duplicate key {shown!r} (first on line {seen[key]}, again on line {line})",
                    "each key once in a mapping (YAML would silently keep the last)",
                )
                problem.key = ".".join([*self._path(), str(shown)])
                raise problem
            seen[key] = line


class _Constructor(SafeConstructor):
    """PyYAML's safe constructor; a value it cannot build (a date of month 13) is located, not raised."""

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, OverflowError, ArithmeticError) as exc:
            shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
            raise ConstructorError(None, None, f"cannot read {shown!r}: {exc}", node.start_mark) from None
