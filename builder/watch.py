"""Rebuild on save: ``builder build --watch``, and the watching half of ``builder preview``.

The project folder (and any file named on the command line, such as ``--bibliography``
kept elsewhere) is watched with `watchfiles <https://watchfiles.helpmanual.io>`_; each
batch of saves is one rebuild through :func:`builder.build.build`, whose cache makes a
rebuild after one edit re-read the edited chapter only.  The outputs, the build cache
and editors' temporaries are not watched, so a build never triggers the next one.
"""
from __future__ import annotations

import queue
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
    output folder, the cache's ``.cache``)."""
    root = request.project_root
    outside = [path for path in request.bibliography if root not in path.parents]
    style = Path(request.style) if request.style and request.style.endswith(".csl") else None
    if style is not None and style.is_file() and root not in style.resolve().parents:
        outside.append(style.resolve())
    out_dir = request.out_dir or root / "dist"
    return [root, *outside], [out_dir, root / CACHE_FOLDER.parts[0]]


class Saves:
    """The batches of saved (added, changed or deleted) files, each sorted, from the moment
    it is made (a save during the first build, or during any rebuild, is not lost: the
    saves made meanwhile come as the next batch) until :meth:`stop` or Ctrl-C.

    watchfiles runs in a thread of its own; iterating waits in the main thread, where
    Ctrl-C (KeyboardInterrupt) arrives."""

    def __init__(self, request: BuildRequest) -> None:
        paths, ignored = watched(request)
        self.stopping = threading.Event()
        self.batches: queue.Queue[set[Path]] = queue.Queue()
        self.thread = threading.Thread(target=self._watch, args=(paths, ignored),
                                       name="watchfiles", daemon=True)
        self.thread.start()

    def _watch(self, paths: list[Path], ignored: list[Path]) -> None:
        for changes in watchfiles.watch(*paths, watch_filter=ProjectFilter(ignored),
                                        stop_event=self.stopping, debounce=400, step=40,
                                        raise_interrupt=False):
            self.batches.put({Path(path) for _, path in changes})

    def __iter__(self) -> Iterator[list[Path]]:
        while not self.stopping.is_set():
            try:
                batch = self.batches.get(timeout=0.25)
            except queue.Empty:
                continue
            while not self.batches.empty():  # what was saved during the last build too
                batch |= self.batches.get()
            yield sorted(batch)

    def stop(self) -> None:
        self.stopping.set()


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
    if written:
        what = "built " + ", ".join(written)
    else:
        what = ", ".join(display_path(path) for path in result.outputs.values()) + (
            " is" if len(result.outputs) == 1 else " are") + " up to date"
    warned = len(result.diagnostics.warnings)
    warnings = f", {warned} warning{'s' if warned != 1 else ''}" if warned else ""
    lines.append(f"{now} {what} ({outcome.seconds:.1f} s{warnings}){cause}")
    return lines


def build_on_save(request: BuildRequest, say: Say) -> int:
    """``builder build --watch``: build, then again after every save, one line each
    (and the errors of a failed build), until Ctrl-C; exit status 0."""
    watcher = Saves(request)
    try:
        for line in summary(attempt(request)):
            say(line)
        say(f"watching {display_path(request.project_root) or '.'} for changes "
            "(Ctrl-C to stop)")
        for changed in watcher:
            for line in summary(attempt(request), changed):
                say(line)
    except KeyboardInterrupt:
        pass
    finally:
        watcher.stop()
    say("stopped watching")
    return 0
