"""Rebuild on save: ``builder build --watch``, and the watching half of ``builder preview``.

The project folder (and any file named on the command line, such as ``--bibliography``
kept elsewhere) is watched with `watchfiles <https://watchfiles.helpmanual.io>`_; each
batch of saves is one rebuild through :func:`builder.build.build`, whose cache makes a
rebuild after one edit re-read the edited chapter only.  The outputs, the build cache
and editors' temporaries are not watched, so a build never triggers the next one.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import watchfiles

from .build import BuildRequest, BuildResult, build
from .cache import FOLDER as CACHE_FOLDER
from .errors import BuildError, BuildErrors, crash, display_path


class ProjectFilter(watchfiles.DefaultFilter):
    """watchfiles' own filter (``.git``, ``__pycache__``, editors' swap and backup files),
    and the build's own outputs and cache."""

    def __init__(self, ignored: list[Path]) -> None:
        super().__init__()
        self.ignored = [str(path) for path in ignored]

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        if any(path == folder or path.startswith(folder + "/") for folder in self.ignored):
            return False
        return super().__call__(change, path)


def watched(request: BuildRequest) -> tuple[list[Path], list[Path]]:
    """What to watch (the project, the files named outside it) and what not to (the
    output folder, the cache)."""
    root = request.project_root
    outside = [path for path in request.bibliography if root not in path.parents]
    style = Path(request.style) if request.style and request.style.endswith(".csl") else None
    if style is not None and style.is_file() and root not in style.resolve().parents:
        outside.append(style.resolve())
    out_dir = request.out_dir or root / "dist"
    return [root, *outside], [out_dir, root / CACHE_FOLDER]


def saves(request: BuildRequest, stop: threading.Event | None = None) -> Iterator[list[Path]]:
    """Each batch of saved (added, changed or deleted) files, sorted, until ``stop`` is set
    or Ctrl-C (KeyboardInterrupt) is pressed."""
    paths, ignored = watched(request)
    for changes in watchfiles.watch(*paths, watch_filter=ProjectFilter(ignored),
                                    stop_event=stop, debounce=400, step=40,
                                    raise_interrupt=True):
        yield sorted({Path(path) for _, path in changes})


@dataclass
class Outcome:
    """One build: its result, or the errors that stopped it (each a ``path:line:`` line)."""

    result: BuildResult | None
    errors: list[BuildError] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.result is not None


def attempt(request: BuildRequest) -> Outcome:
    """One build; its input errors (or a crash, as one line) returned, not raised: a
    watcher goes on to the next save."""
    start = time.perf_counter()
    try:
        result = build(request)
    except BuildErrors as exc:
        return Outcome(None, list(exc.errors), time.perf_counter() - start)
    except BuildError as exc:
        return Outcome(None, [exc], time.perf_counter() - start)
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # a bug: one line, and the watcher goes on
        return Outcome(None, [crash("the build", exc)], time.perf_counter() - start)
    return Outcome(result, [], time.perf_counter() - start)


Say = Callable[[str], None]


def summary(outcome: Outcome, changed: list[Path] | None = None) -> list[str]:
    """The lines a rebuild prints: its warnings, then one line (or its errors, then one
    line)."""
    now = time.strftime("%H:%M:%S")
    cause = ""
    if changed:
        cause = f" ({display_path(changed[0])}" + (
            f" and {len(changed) - 1} more" if len(changed) > 1 else "") + " changed)"
    if outcome.result is None:
        count = len(outcome.errors)
        return [str(error) for error in outcome.errors] + [
            f"{now} build failed{cause}: {count} error{'s' if count != 1 else ''}; "
            "waiting for the next save"]
    result = outcome.result
    lines = [str(warning) for warning in result.diagnostics.warnings]
    written = [display_path(path) for fmt, path in result.outputs.items()
               if fmt not in result.up_to_date]
    what = ", ".join(written) if written else "nothing changed in the outputs"
    warned = len(result.diagnostics.warnings)
    warnings = f", {warned} warning{'s' if warned != 1 else ''}" if warned else ""
    lines.append(f"{now} built {what} in {outcome.seconds:.1f} s{warnings}{cause}")
    return lines


def build_on_save(request: BuildRequest, say: Say, stop: threading.Event | None = None) -> int:
    """``builder build --watch``: build, then again after every save, one line each
    (and the errors of a failed build), until Ctrl-C; exit status 0."""
    for line in summary(attempt(request)):
        say(line)
    say(f"watching {display_path(request.project_root) or '.'} for changes (Ctrl-C to stop)")
    try:
        for changed in saves(request, stop):
            for line in summary(attempt(request), changed):
                say(line)
    except KeyboardInterrupt:
        pass
    say("stopped watching")
    return 0
