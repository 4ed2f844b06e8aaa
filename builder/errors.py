"""The one exception type of the builder, and the warning collector.

Every problem a user can fix is a :class:`BuildError` that names the file and
line it comes from.  The command line is the only place that prints one.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)


class BuildError(Exception):
    """A problem in the user's input, reported as ``path:line:col: error: message``."""

    def __init__(
        self,
        message: str,
        path: Path | str | None = None,
        line: int | None = None,
        col: int | None = None,
        hint: str | None = None,
        category: str = "input",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        self.col = col
        self.hint = hint
        self.category = category

    def location(self) -> str:
        parts = [display_path(self.path)] if self.path else []
        if self.path and self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        return ":".join(parts)

    def __str__(self) -> str:
        where = self.location()
        text = f"{where}: error: {self.message}" if where else f"error: {self.message}"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text


class MissingSystemLibrary(BuildError):
    """A system library or program the build needs is not installed."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message, hint=hint, category="system")


@dataclass(frozen=True)
class Warning_:
    message: str
    path: Path | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = display_path(self.path) if self.path else ""
        if where and self.line is not None:
            where += f":{self.line}"
        return f"{where}: warning: {self.message}" if where else f"warning: {self.message}"


@dataclass
class Diagnostics:
    """Warnings gathered during a build, each reported once."""

    warnings: list[Warning_] = field(default_factory=list)
    _seen: set[Warning_] = field(default_factory=set, repr=False)

    def warn(self, message: str, path: Path | None = None, line: int | None = None) -> None:
        warning = Warning_(message, path, line)
        if warning not in self._seen:
            self._seen.add(warning)
            self.warnings.append(warning)
            log.debug("%s", warning)


def display_path(path: Path | None) -> str:
    """A path relative to the working directory when it is inside it."""
    if path is None:
        return ""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
