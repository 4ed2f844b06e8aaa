"""Loading references: CSL-JSON, CSL-YAML and BibTeX/BibLaTeX, all into CSL-JSON.

Each reference keeps the file and line it was defined on, so that a problem
with it can be reported there.
"""
from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from ..errors import BuildError, raise_all
from ..files import Gate
from ..model import Position, Reference
from ..yamlfile import load_yaml_node

CSL_TYPES = frozenset("""
article article-journal article-magazine article-newspaper bill book broadcast chapter
classic collection dataset document entry entry-dictionary entry-encyclopedia event
figure graphic hearing interview legal_case legislation manuscript map motion_picture
musical_score pamphlet paper-conference patent performance periodical personal_communication
post post-weblog regulation report review review-book software song speech standard thesis
treaty webpage
""".split())


def load_references(paths: Iterable[Path], gate: Gate | None = None) -> list[Reference]:
    """Every reference of every file; a key defined twice is an error.  The problems of
    every file and entry are raised together.  Files are read through ``gate`` (by
    default: any file, the caller having named each)."""
    paths = list(paths)
    gate = gate or Gate(None, paths)
    seen: dict[str, Reference] = {}
    errors: list[BuildError] = []
    for path in paths:
        try:
            references, bad = _read_entries(path, gate)
        except BuildError as exc:  # the file cannot be read at all
            errors.append(exc)
            continue
        errors.extend(bad)
        for reference in references:
            earlier = seen.get(reference.key)
            if earlier:
                where = f"{earlier.position.path.name}:{earlier.position.line}"
                errors.append(BuildError(f"duplicate reference key '{reference.key}' "
                                         f"(first defined at {where})",
                                         path, reference.position.line,
                                         hint="give each reference its own key"))
                continue
            seen[reference.key] = reference
    raise_all(errors)
    return list(seen.values())


def read_file(path: Path) -> list[Reference]:
    """The references of one file; its problems raised together."""
    references, errors = _read_entries(path, Gate(None, [path]))
    raise_all(errors)
    return references


def _read_entries(path: Path, gate: Gate) -> tuple[list[Reference], list[BuildError]]:
    """The good references of one file, and the problem of each bad one."""
    if not os.path.lexists(path):
        raise BuildError("bibliography file not found", path)
    text = gate.read_text(path, "bibliography")
    suffix = path.suffix.lower()
    if suffix == ".json":
        items = _read_json(text, path)
    elif suffix in (".yaml", ".yml"):
        items = _read_yaml(text, path)
    elif suffix in (".bib", ".biblatex", ".bibtex"):
        from .bibtex import read_bibtex
        items = read_bibtex(text, path)
    else:
        raise BuildError(f"unknown bibliography format '{suffix}'", path,
                         hint="use .json (CSL-JSON), .yaml (CSL-YAML) or .bib (BibTeX)")
    references, errors = [], []
    for item, line in items:
        try:
            references.append(_reference(item, path, line))
        except BuildError as exc:
            errors.append(exc)
    return references, errors


def _reference(item: dict[str, Any], path: Path, line: int | None) -> Reference:
    if not isinstance(item.get("id"), (str, int)) or item["id"] == "":
        raise BuildError("reference without an 'id'", path, line,
                         hint="every reference needs a key, like \"id\": \"doe2020\"")
    key = str(item["id"])
    ref_type = item.get("type")
    if not isinstance(ref_type, str) or not ref_type:
        raise BuildError(f"reference '{key}' has no 'type'", path, line,
                         hint="add a CSL type such as article-journal, book or webpage")
    if ref_type not in CSL_TYPES:
        raise BuildError(f"reference '{key}' has unknown type '{ref_type}'", path, line,
                         hint="CSL types include article-journal, book, chapter, report, webpage")
    return Reference(key, dict(item, id=key), Position(path, line))


def _read_json(text: str, path: Path) -> list[tuple[dict[str, Any], int | None]]:
    try:
        return _read_json_items(text, path)
    except RecursionError:
        # Python's JSON reader recurses once per level and gives up near 1,000 levels.
        line, col = _too_deep(text)
        raise BuildError(f"malformed JSON: arrays and objects nested more than {MAX_JSON_DEPTH} "
                         "deep", path, line, col,
                         hint="CSL-JSON is a list of references, each an object of fields; "
                         "it needs only a few levels") from None


MAX_JSON_DEPTH = 100
_JSON_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]')


def _too_deep(text: str) -> tuple[int | None, int | None]:
    """Line and column of the bracket that opens level MAX_JSON_DEPTH + 1 (strings skipped)."""
    depth = 0
    for match in _JSON_TOKEN.finditer(text):
        char = match.group()
        if char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                start = match.start()
                line = text.count("\n", 0, start) + 1
                return line, start - (text.rfind("\n", 0, start) + 1) + 1
        elif char in "]}":
            depth -= 1
    return None, None


def _read_json_items(text: str, path: Path) -> list[tuple[dict[str, Any], int | None]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BuildError(f"malformed JSON: {exc.msg}", path, exc.lineno, exc.colno) from None
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        data = data["items"]
        text = text[text.index('"items"'):]
    if not isinstance(data, list):
        raise BuildError("CSL-JSON must be a list of references", path, 1)
    lines = _element_lines(text)
    items = []
    for index, entry in enumerate(data):
        line = lines[index] if index < len(lines) else None
        if not isinstance(entry, dict):
            raise BuildError("each CSL-JSON reference must be an object", path, line)
        items.append((entry, line))
    return items


def _element_lines(text: str) -> list[int]:
    """The line where each element of the first JSON array in ``text`` starts."""
    decoder = json.JSONDecoder()
    pos = text.index("[") + 1
    lines: list[int] = []
    line, counted = 1, 0  # newlines are counted once, as the scan moves on
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text) or text[pos] == "]":
            return lines
        line += text.count("\n", counted, pos)
        counted = pos
        lines.append(line)
        _, pos = decoder.raw_decode(text, pos)


def _read_yaml(text: str, path: Path) -> list[tuple[dict[str, Any], int | None]]:
    # load_yaml_node refuses deep nesting and alias bombs, so the copy below is bounded
    data, node = load_yaml_node(text, path)
    if isinstance(data, dict):
        data = data.get("references")
        if isinstance(node, yaml.MappingNode):  # the last 'references:' wins, as in data
            found = [v for k, v in node.value if getattr(k, "value", None) == "references"]
            node = found[-1] if found else None
    if not isinstance(data, list):
        raise BuildError("CSL-YAML must hold a 'references:' list", path, 1)
    lines = ([n.start_mark.line + 1 for n in node.value]
             if isinstance(node, yaml.SequenceNode) else [])
    items = []
    for index, entry in enumerate(data):
        line = lines[index] if index < len(lines) else None
        if not isinstance(entry, dict):
            raise BuildError("each reference must be a mapping", path, line)
        items.append((_yaml_to_json(entry), line))
    return items


def _yaml_to_json(value: Any) -> Any:
    """YAML gives dates and numbers where CSL-JSON has strings."""
    if isinstance(value, dict):
        return {str(k): _yaml_to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_yaml_to_json(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
