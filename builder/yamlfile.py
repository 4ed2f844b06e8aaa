"""YAML reading with line numbers in every error."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import BuildError


def load_yaml(text: str, path: Path, first_line: int = 1) -> tuple[Any, dict[str, int]]:
    """Parse YAML safely; return the data and the line of each top-level key.

    The lines of the items of a top-level list are there too, as ``key[n]``.
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + first_line if mark else None
        col = mark.column + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise BuildError(f"malformed YAML: {problem}", path, line, col,
                         hint="check the indentation and quote values that contain ':'") from None
    except yaml.YAMLError as exc:
        raise BuildError(f"malformed YAML: {exc}", path, first_line) from None
    lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key = str(key_node.value)
                lines[key] = key_node.start_mark.line + first_line
                if isinstance(value_node, yaml.SequenceNode):
                    for n, item in enumerate(value_node.value):
                        lines[f"{key}[{n}]"] = item.start_mark.line + first_line
    return data, lines
