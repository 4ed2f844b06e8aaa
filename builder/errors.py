"""The one exception type of the builder, and the warning collector.

Every problem a user can fix is a :class:`BuildError` that names the file and
line it comes from.  The command line is the only place that prints one.
"""
from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Sequence
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
        details: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        self.col = col
        self.hint = hint
        self.category = category
        self.details = details  # a traceback, printed by ``--debug`` (category "crash")

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


class BuildErrors(BuildError):
    """Several problems in the user's input, found in one pass: each is a line."""

    def __init__(self, errors: Sequence[BuildError]) -> None:
        flat: list[BuildError] = []
        for error in errors:
            flat.extend(error.errors if isinstance(error, BuildErrors) else [error])
        first = flat[0]
        super().__init__(first.message, first.path, first.line, first.col, first.hint,
                         first.category)
        self.errors: list[BuildError] = flat

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)


def crash(what: str, exc: BaseException) -> BuildError:
    """An unexpected exception (a bug, here or in a library) as one line: ``what failed:
    RecursionError: maximum recursion depth exceeded``; ``--debug`` prints the traceback."""
    import traceback
    text = str(exc).strip().splitlines()
    summary = type(exc).__name__ + (f": {text[0][:200]}" if text else "")
    return BuildError(f"{what} failed: {summary}", hint="build again with --debug to see "
                      "where, and report it", category="crash",
                      details="".join(traceback.format_exception(exc)))


def raise_all(errors: Sequence[BuildError]) -> None:
    """Raise the problems found, if any: one as itself, several together."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise BuildErrors(errors)


class MissingSystemLibrary(BuildError):
    """A system library or program the build needs is not installed."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message, hint=hint, category="system")


@dataclass(frozen=True)
class Warning_:
    message: str
    path: Path | None = None
    line: int | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = display_path(self.path) if self.path else ""
        if where and self.line is not None:
            where += f":{self.line}"
        text = f"{where}: warning: {self.message}" if where else f"warning: {self.message}"
        return text + (f" (hint: {self.hint})" if self.hint else "")

    def as_error(self) -> BuildError:
        """This warning under ``--strict``."""
        return BuildError(f"{self.message} (--strict makes warnings errors)", self.path,
                          self.line, hint=self.hint)


@dataclass
class Diagnostics:
    """Warnings gathered during a build, each reported once; and the input errors found
    so far, so that a build reports all of them at once (:meth:`collecting`)."""

    warnings: list[Warning_] = field(default_factory=list)
    errors: list[BuildError] = field(default_factory=list)
    _seen: set[Warning_] = field(default_factory=set, repr=False)

    def error(self, exc: BuildError) -> None:
        """Keep an input error (each of several), once."""
        for error in exc.errors if isinstance(exc, BuildErrors) else [exc]:
            if error not in self.errors:
                self.errors.append(error)

    @contextlib.contextmanager
    def collecting(self) -> Iterator[None]:
        """Run a step; an input error it raises is kept, and the build goes on."""
        try:
            yield
        except BuildError as exc:
            if exc.category != "input":
                raise
            self.error(exc)

    def raise_errors(self) -> None:
        """Stop here if any input error was found: all of them, in file and line order."""
        order: dict[str, int] = {}
        for error in self.errors:
            order.setdefault(str(error.path), len(order))
        raise_all(sorted(self.errors, key=lambda e: (order[str(e.path)], e.line or 0,
                                                     e.col or 0)))

    def warn(self, message: str | Warning_, path: Path | None = None,
             line: int | None = None) -> None:
        warning = message if isinstance(message, Warning_) else Warning_(message, path, line)
        if warning not in self._seen:
            self._seen.add(warning)
            self.warnings.append(warning)
            log.debug("%s", warning)


def display_path(path: Path | None) -> str:
    """A path relative to the working directory when it is inside it (``..`` and symlinks
    not followed: the path as the user sees it)."""
    if path is None:
        return ""
    lexical = Path(os.path.abspath(path))  # a symlink is shown where it is, not where it leads
    for cwd in (Path.cwd().absolute(), Path.cwd().resolve()):
        try:
            return str(lexical.relative_to(cwd))
        except ValueError:
            continue
    return str(lexical)


# -- on a terminal ---------------------------------------------------------------------
_COLOURS = {"error:": "\033[1;31m", "warning:": "\033[1;33m"}  # bold red, bold yellow
_RESET = "\033[0m"


def colour_enabled(stream: object) -> bool:
    """Colours on a terminal only, and never with ``NO_COLOR`` set (no-color.org) or on a
    ``dumb`` terminal; ``FORCE_COLOR`` forces them."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"


def paint(line: str, enabled: bool) -> str:
    """``error:`` and ``warning:`` of a message line in colour, when ``enabled``."""
    if not enabled:
        return line
    for word, colour in _COLOURS.items():
        for prefix in (f" {word} ", f"{word} "):
            at = line.find(prefix)
            if at == 0 or (at > 0 and prefix[0] == " "):
                start = at + (prefix[0] == " ")
                return f"{line[:start]}{colour}{word}{_RESET}{line[start + len(word):]}"
    return line
