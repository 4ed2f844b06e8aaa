"""YAML reading with line numbers in every error, bounded on hostile input.

Every YAML file the builder reads (front matter, book.yml, theme.yml, CSL-YAML
bibliographies) goes through :func:`load_yaml_node`.  Before anything is built
from the text, its events are scanned once (PyYAML's parser is a state machine,
so this pass cannot run out of stack) and two things are refused with the line
and column where they happen:

- collections nested more than :data:`MAX_DEPTH` deep (PyYAML composes nodes
  recursively, so deep nesting would end in a ``RecursionError``);
- aliases (``*name``) that would stand for more than :data:`MAX_ALIAS_VALUES`
  values once expanded, and an alias inside the node it names.  A "billion
  laughs" file is tiny but expands exponentially, and whatever copies the data
  (the CSL-YAML reader does) would walk every copy.  Small aliases, such as one
  list of editors named by several references, stay allowed.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from .errors import BuildError

MAX_DEPTH = 100
"""Deepest nesting of lists and mappings accepted (real files need fewer than ten)."""

MAX_ALIAS_VALUES = 100_000
"""Values (scalars, lists, mappings) that all the aliases of one file may add once expanded."""

_HINT = "check the indentation and quote values that contain ':'"


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, whose value errors name the node they come from.

    The safe constructors raise plain ``ValueError`` (and worse) for values such
    as ``2020-02-30`` or ``!!int x``; here they become ``ConstructorError`` with
    the node's position, like every other YAML error.
    """

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, AttributeError, OverflowError) as exc:
            value = node.value if isinstance(node, yaml.ScalarNode) else node.tag
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read the value {value!r} ({exc})", node.start_mark,
            ) from None


def load_yaml(text: str, path: Path, first_line: int = 1,
              documents: bool = False) -> tuple[Any, dict[str, int]]:
    """Parse YAML safely; return the data and the line of each top-level key.

    The lines of the items of a top-level list are there too, as ``key[n]``, and of the
    keys of a top-level mapping as ``key.sub``.  ``documents``: read as Pandoc reads a
    metadata file, one or more YAML documents, each between ``---`` and ``---`` or
    ``...`` (or bare); their mappings are combined, a later key winning.
    """
    if documents:
        return _load_documents(text, path, first_line)
    data, node = load_yaml_node(text, path, first_line)
    return data, _key_lines(node, first_line)


def _key_lines(node: yaml.Node | None, first_line: int) -> dict[str, int]:
    lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key = str(key_node.value)
                lines[key] = key_node.start_mark.line + first_line
                if isinstance(value_node, yaml.SequenceNode):
                    for n, item in enumerate(value_node.value):
                        lines[f"{key}[{n}]"] = item.start_mark.line + first_line
                elif isinstance(value_node, yaml.MappingNode):  # build: {theme: ...}
                    for sub_node, _ in value_node.value:
                        if isinstance(sub_node, yaml.ScalarNode):
                            lines[f"{key}.{sub_node.value}"] = sub_node.start_mark.line + first_line
    return lines


_FENCE = re.compile(r"^(---|\.\.\.)[ \t]*$", re.M)


def _load_documents(text: str, path: Path, first_line: int) -> tuple[Any, dict[str, int]]:
    """The YAML blocks of a metadata file, one mapping (see :func:`load_yaml`).

    Each block between fences is read on its own (so that a ``---`` closing one block
    and a ``---`` opening the next read as Pandoc reads them, not as an empty document
    between two), at its own lines."""
    fences = [m for m in _FENCE.finditer(text)]
    if not fences:
        return load_yaml(text, path, first_line)
    data: dict[Any, Any] = {}
    lines: dict[str, int] = {}
    starts = [0, *(m.end() for m in fences)]
    ends = [*(m.start() for m in fences), len(text)]
    for start, end in zip(starts, ends, strict=True):
        block = text[start:end]
        if not block.strip() or all(line.lstrip().startswith("#") or not line.strip()
                                    for line in block.splitlines()):
            continue
        line = first_line + text.count("\n", 0, start)
        if text[start:start + 1] == "\n":  # a fence's own line end
            block, line = block[1:], line + 1
        found, node = load_yaml_node(block, path, line)
        if found is None:
            continue
        if not isinstance(found, dict):
            raise BuildError("metadata must be a mapping of keys to values", path, line,
                             hint="write 'key: value' lines between the --- fences")
        for key in found:
            for name in [k for k in lines
                         if k == str(key) or k.startswith((f"{key}[", f"{key}."))]:
                del lines[name]
        data.update(found)
        lines.update(_key_lines(node, line))
    return data, lines


def load_yaml_node(text: str, path: Path, first_line: int = 1) -> tuple[Any, yaml.Node | None]:
    """Parse YAML safely; return the data and the node it was built from (None if empty)."""
    try:
        _check_events(text, path, first_line)
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + first_line if mark else None
        col = mark.column + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        hint = ("quote the value to keep it as text" if problem.startswith("cannot read the value")
                else _HINT)
        raise BuildError(f"malformed YAML: {problem}", path, line, col, hint=hint) from None
    except yaml.YAMLError as exc:
        raise BuildError(f"malformed YAML: {exc}", path, first_line) from None
    return data, node


def _check_events(text: str, path: Path, first_line: int) -> None:
    """Refuse nesting deeper than MAX_DEPTH and aliases expanding beyond MAX_ALIAS_VALUES."""
    sizes: dict[str, int] = {}  # anchor -> values the anchored node stands for, expanded
    open_nodes: list[list[Any]] = []  # [anchor, values so far] of each open list or mapping
    added = 0  # values the aliases add
    loader = yaml.SafeLoader(text)
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                if len(open_nodes) >= MAX_DEPTH:
                    raise _error(f"lists and mappings nested more than {MAX_DEPTH} deep", event,
                                 path, first_line, "flatten the data; nothing the builder "
                                 "reads needs more than a few levels")
                open_nodes.append([event.anchor, 1])
                continue
            if isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                anchor, size = open_nodes.pop()
                if anchor is not None:
                    sizes[anchor] = size
            elif isinstance(event, yaml.ScalarEvent):
                size = 1
                if event.anchor is not None:
                    sizes[event.anchor] = 1
            elif isinstance(event, yaml.AliasEvent):
                if any(anchor == event.anchor for anchor, _ in open_nodes):
                    raise _error(f"the alias '*{event.anchor}' is inside the node it names",
                                 event, path, first_line,
                                 "an alias may only repeat a node that is complete")
                size = sizes.get(event.anchor, 1)  # undefined: PyYAML reports it later
                added += size
                if added > MAX_ALIAS_VALUES:
                    raise _error(f"the aliases expand to more than {MAX_ALIAS_VALUES:,} values "
                                 f"(at '*{event.anchor}')", event, path, first_line,
                                 "write the data out instead of repeating it with "
                                 "anchors (&name) and aliases (*name)")
            else:
                continue
            if open_nodes:
                open_nodes[-1][1] += size
    finally:
        loader.dispose()


def _error(message: str, event: yaml.Event, path: Path, first_line: int, hint: str) -> BuildError:
    mark = event.start_mark
    return BuildError(message, path, mark.line + first_line, mark.column + 1, hint=hint)
