"""Where independent tasks run: a local pool of processes, or a Dask cluster.

    with open_pool(jobs=4) as pool:                  # this machine, 4 processes
    with open_pool(scheduler="tcp://host:8786") as pool:   # a running Dask cluster
        for index, outcome in pool.run(task, items):
            ...

``task`` is a module-level function of one picklable argument returning something
picklable; :meth:`Pool.run` yields ``(index, outcome)`` as each item finishes, in the
order they finish.  A task that raises (a crash, a worker lost) gives a
:class:`~builder.errors.BuildError` as its outcome, on one line (``errors.crash``):
one item never stops the others.

**The local pool** is a :class:`concurrent.futures.ProcessPoolExecutor` whose workers
are forked from this process once it has imported the builder (WeasyPrint, citeproc-py,
lxml ...): each worker starts warm, in milliseconds, where a new ``builder build``
process spends about a second on its imports.  A Dask ``LocalCluster`` does the same
work, but starts in seconds (a scheduler, a nanny per worker, each worker importing
everything again), which is the whole gain on an archive of small articles.  Its
workers share this machine's files (:attr:`Pool.shares_files`).

**A cluster** (``--scheduler tcp://HOST:PORT``, or the ``BUILDER_SCHEDULER``
environment variable) is reached through ``distributed.Client``: the same tasks,
submitted to its scheduler.  Its workers may be other machines, so they are assumed not
to share this one's files: the caller sends what a task needs (see ``archive.py``).
The workers need the same builder installed (``pip install builder[cluster]``).  Two
builds never run at once in one worker process (a lock): a build sets the process's
``SOURCE_DATE_EPOCH`` and listens to WeasyPrint's global logger.
"""
from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol, TypeVar

from .errors import BuildError, crash

T = TypeVar("T")
R = TypeVar("R")
SCHEDULER_VARIABLE = "BUILDER_SCHEDULER"
_one_build = threading.Lock()  # one task at a time in a worker process (see the docstring)


class Pool(Protocol):
    shares_files: bool  # the workers see this machine's files (the local pool)
    workers: int

    def run(self, task: Callable[[T], R], items: Iterable[T]) -> Iterator[tuple[int, Any]]:
        ...

    def close(self) -> None:
        ...

    def __enter__(self) -> Pool:
        ...

    def __exit__(self, *_: object) -> None:
        ...


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # (not Linux)
        return os.cpu_count() or 1


def scheduler_address(given: str | None) -> str | None:
    """``--scheduler``, else ``$BUILDER_SCHEDULER``, else None (the local pool)."""
    address = given or os.environ.get(SCHEDULER_VARIABLE) or None
    if address is not None and "://" not in address:
        address = f"tcp://{address}"
    return address


def open_pool(jobs: int | None = None, scheduler: str | None = None,
              warm: Callable[[], None] | None = None) -> Pool:
    """The local pool of ``jobs`` processes (``warm()`` run here first, so the forked
    workers inherit its imports), or the Dask cluster at ``scheduler``."""
    address = scheduler_address(scheduler)
    if address is not None:
        return DaskPool(address)
    return LocalPool(jobs or default_jobs(), warm)


def window(workers: int) -> int:
    """How many tasks are handed out at once: enough to keep every worker busy, few
    enough that a thousand projects are not all read into memory first."""
    return 2 * workers + 2


def guarded(task: Callable[[T], R], item: T) -> R:
    """``task(item)`` with the worker process to itself (what runs on a worker)."""
    with _one_build:
        return task(item)


class LocalPool:
    """Forked worker processes of this machine (see the module's docstring)."""

    shares_files = True

    def __init__(self, jobs: int, warm: Callable[[], None] | None = None) -> None:
        self.workers = jobs
        if warm is not None:
            warm()
        self.executor = self._start()

    def _start(self) -> ProcessPoolExecutor:
        import multiprocessing
        context = multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
        return ProcessPoolExecutor(self.workers, mp_context=context,
                                   initializer=_worker_started)

    def run(self, task: Callable[[T], R], items: Iterable[T]) -> Iterator[tuple[int, Any]]:
        """Each item's outcome as it ends.  A worker that dies (killed for its memory, a
        crash in a library) breaks the pool, and with it every task then running: those
        are run again in a new pool, one at a time, so that the one whose worker dies
        again alone is known, and fails; the others go on."""
        numbered = enumerate(items)
        pending: dict[Future[R], tuple[int, T, bool]] = {}  # index, item, run alone
        suspects: list[tuple[int, T]] = []  # running when the pool broke

        def fill() -> None:
            if suspects:  # alone, so that a death is its own
                if not pending:
                    n, item = suspects.pop(0)
                    pending[self.executor.submit(guarded, task, item)] = (n, item, True)
                return
            for n, item in itertools.islice(numbered, window(self.workers) - len(pending)):
                pending[self.executor.submit(guarded, task, item)] = (n, item, False)
        fill()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            broken = False
            for future in done:
                n, item, alone = pending.pop(future)
                if isinstance(future.exception(), BrokenProcessPool):
                    broken = True
                    if not alone:
                        suspects.append((n, item))
                        continue
                    yield n, BuildError("the worker process building it died",
                                        hint="build it alone with builder build to see why "
                                             "(a crash, or too little memory)",
                                        category="crash")
                    continue
                yield n, _outcome(future.result, "a worker process")
            if broken:
                self.executor.shutdown(wait=False, cancel_futures=True)
                self.executor = self._start()
            fill()

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> LocalPool:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _worker_started() -> None:
    """A worker of the local pool builds one project at a time on its core: it does not
    fork again for the PDF (``processes.can_fork``), the pool keeps every core busy."""
    os.environ["BUILDER_NO_FORK"] = "1"
    from .processes import die_with_parent
    die_with_parent()


class DaskPool:
    """The workers of a running Dask cluster, through ``distributed.Client``."""

    shares_files = False

    def __init__(self, address: str) -> None:
        try:
            import distributed
        except ImportError:
            raise BuildError("--scheduler needs Dask distributed, which is not installed",
                             hint="pip install 'builder[cluster]'", category="usage") from None
        self.distributed = distributed
        try:
            self.client = distributed.Client(address, timeout="20s", set_as_default=False)
        except OSError as exc:  # (TimeoutError, refused connection)
            raise BuildError(f"cannot reach the Dask scheduler at {address}: "
                             f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
                             hint=f"start it (dask scheduler), or check --scheduler and "
                                  f"${SCHEDULER_VARIABLE}", category="usage") from None
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})))

    def run(self, task: Callable[[T], R], items: Iterable[T]) -> Iterator[tuple[int, Any]]:
        numbered = enumerate(items)
        pending: dict[Any, int] = {}

        def submit(count: int) -> list[Any]:
            new = []
            for n, item in itertools.islice(numbered, count):
                future = self.client.submit(_on_worker, task, item, pure=False)
                pending[future] = n
                new.append(future)
            return new
        running = self.distributed.as_completed(submit(window(self.workers)),
                                                 loop=self.client.loop)
        for future in running:
            yield pending.pop(future), _outcome(future.result, "a Dask worker")
            future.release()
            for new in submit(1):
                running.add(new)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> DaskPool:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _on_worker(task: Callable[[T], R], item: T) -> R:
    os.environ["BUILDER_NO_FORK"] = "1"  # (a Dask worker is a daemon: it has no children)
    return guarded(task, item)


def _outcome(result: Callable[[], R], where: str) -> R | BuildError:
    try:
        return result()
    except BuildError as exc:
        return exc
    except Exception as exc:  # noqa: BLE001 - one task's crash, on one line; the others go on
        return crash(where, exc)
