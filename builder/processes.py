"""Work shared with forked copies of this process (the machine's second core) within one
build.  (``builder/pool.py`` forks too: the worker processes of ``build-all``.)

- :class:`FromBothEnds`: a list of results made from both ends at once (citations);
- :class:`Background`: one piece of work in a child while this process does others
  (the PDF's layout while the EPUB and the HTML are written);
- :func:`fork_worker`: a child that serves requests on a pipe (the PDF's chunks,
  ``formats.pdf_chunks``), started with ``os.fork`` so that it works in a
  :class:`Background` child too (multiprocessing gives a daemon no children);
- :func:`sigterm_stops`: SIGTERM stops the build as Ctrl-C does (:class:`Terminated`).

A forked child inherits everything the parent has computed (nothing is pickled on
the way in) and sends back only its results.  :func:`can_fork` says whether to
fork at all: not without ``os.fork``, not on one core, and not when the
``BUILDER_NO_FORK`` environment variable is set (tests use it to check the
single-process path).
"""
from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from .errors import BuildError, crash

T = TypeVar("T")


class Terminated(BaseException):  # noqa: N818 - named as KeyboardInterrupt is
    """SIGTERM arrived (a service manager, ``kill``): the build stops as for Ctrl-C."""


_terminated = False  # SIGTERM arrived (its exception may have been lost: check_terminated)


@contextlib.contextmanager
def sigterm_stops() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` in the main thread, once (a
    second one, during the clean-up, is ignored); the ``finally`` blocks of the build
    remove its temporaries on the way out."""
    global _terminated
    _terminated = False
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(*_: object) -> None:
        global _terminated
        _terminated = True
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Terminated
    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def check_terminated() -> None:
    """Raise :class:`Terminated` if SIGTERM arrived though its exception was lost (raised
    inside a finalizer, Python prints it and goes on): the build commits nothing then."""
    if _terminated:
        raise Terminated


def can_fork() -> bool:
    return hasattr(os, "fork") and (os.cpu_count() or 1) > 1 and not os.environ.get(
        "BUILDER_NO_FORK")


def die_with_parent() -> None:
    """On Linux, the kernel ends this process when the process that forked it dies
    (even by SIGKILL), so no orphan goes on with work nobody will use."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() == 1:  # the parent died before prctl: nobody waits for this work
        os._exit(1)


class FromBothEnds(Generic[T]):
    """``make(0) ... make(count - 1)``, shared between this process and a forked child.

    The child starts at once, from the first index up.  This process does its own
    work meanwhile, then :meth:`results` makes the rest from the last index down,
    until the two meet: neither waits for the other, whatever each one's work costs.
    Two shared counters say where each one is; an index both take at the same
    moment is made twice, with the same result.  If the child fails, this process
    makes what it did not send.  ``make`` must depend only on the index and on the
    state at the fork, and return something picklable.
    """

    def __init__(self, count: int, make: Callable[[int], T], fork: bool = True) -> None:
        self.count, self.make = count, make
        self.process: Any = None
        if not (fork and can_fork()):
            return
        import multiprocessing
        context = multiprocessing.get_context("fork")
        # [next index the child makes, lowest index this process has taken]
        self.marks = context.RawArray("l", [0, count])
        self.receive, send = context.Pipe(duplex=False)
        process = context.Process(target=self._child, args=(send,), daemon=True)
        try:
            process.start()
        except (AssertionError, OSError):  # a daemon (a pool's worker) has no children; no memory
            self.receive.close()
        else:
            self.process = process
        finally:
            send.close()

    def _child(self, send: Any) -> None:
        die_with_parent()
        made: dict[int, T] = {}
        try:
            index = 0
            while index < self.marks[1]:
                made[index] = self.make(index)
                index = self.marks[0] = index + 1
            send.send(("ok", made))
        except BaseException:  # noqa: BLE001 - the parent makes the rest itself
            with contextlib.suppress(Exception):
                send.send(("crash", traceback.format_exc()))
        finally:
            send.close()
        os._exit(0)  # no atexit handlers or buffers of the parent run twice

    def results(self) -> list[T]:
        if self.process is None:
            return [self.make(index) for index in range(self.count)]
        made: dict[int, T] = {}
        index = self.count - 1
        while index >= self.marks[0]:
            self.marks[1] = index
            made[index] = self.make(index)
            index -= 1
        try:
            outcome = self.receive.recv()
        except EOFError:
            outcome = ("crash", None)
        self.process.join()
        self.receive.close()
        if outcome[0] == "ok":
            made.update(outcome[1])
        return [made[i] if i in made else self.make(i) for i in range(self.count)]

    def close(self) -> None:
        """Stop the child (the caller failed before asking for the results)."""
        if self.process is not None and self.process.is_alive():
            self.process.kill()
            self.process.join()


class Background(Generic[T]):
    """``work(seen)`` in a forked child; :meth:`wait` gives its result and its seconds.

    The child inherits everything (nothing is pickled on the way in) and sends back its
    result, or its :class:`BuildError` (an unexpected exception as one:
    :func:`errors.crash`, the traceback in ``details``), through a pipe; ``seen(n)``
    there sets a number the parent's :meth:`wait` passes on to its ``progress`` (the
    PDF's pages laid out).  A child that is stopped (another format failed, Ctrl-C,
    SIGTERM) exits at once, wherever it is: the caller removes what it left (see
    ``build.write_outputs``).  ``name`` and ``alone`` word the error when the child
    dies: "the PDF process stopped ... (build with --to pdf to see the error)".
    """

    def __init__(self, work: Callable[[Callable[[int], None]], T], name: str,
                 alone: str) -> None:
        import multiprocessing
        context = multiprocessing.get_context("fork")
        self.name, self.alone = name, alone
        self.receive, send = context.Pipe(duplex=False)
        self.count = context.Value("i", 0, lock=False)
        self.process = context.Process(target=_background, daemon=True,
                                       args=(work, send, self.count, name))
        self.process.start()
        send.close()

    def wait(self, progress: Callable[[int], None]) -> tuple[T, float]:
        while not self.receive.poll(0.2):
            if not self.process.is_alive() and not self.receive.poll(0):
                raise BuildError(f"{self.name} stopped (exit code {self.process.exitcode})",
                                 hint=f"run again; if it happens again, build with "
                                      f"{self.alone} to see the error")
            if self.count.value:
                progress(self.count.value)
        try:
            outcome = self.receive.recv()
        except EOFError:
            self.process.join()
            raise BuildError(f"{self.name} stopped (exit code {self.process.exitcode})",
                             hint=f"build with {self.alone} to see the error") from None
        self.process.join()
        if self.count.value:
            progress(self.count.value)
        if outcome[0] == "error":  # (a BuildError, or a crash as one: errors.crash)
            raise BuildError(*outcome[1])
        return outcome[1], outcome[2]

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
        self.process.join()
        self.receive.close()


def _background(work: Callable[[Callable[[int], None]], Any], send: Any, count: Any,
                name: str) -> None:
    def stop(*_: object) -> None:
        # Not SystemExit: raised inside a weakref callback or a ``__del__`` it would be
        # printed and ignored, and the child would go on.  The parent cleans up.
        os._exit(1)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    die_with_parent()
    start = time.perf_counter()
    try:
        result = work(lambda n: setattr(count, "value", n))
        send.send(("ok", result, time.perf_counter() - start))
    except BuildError as exc:
        send.send(("error", _fields(exc)))
    except BaseException as exc:  # noqa: BLE001 - shown by the parent, on one line
        send.send(("error", _fields(crash(name, exc))))
    finally:
        send.close()
    os._exit(0)  # no atexit handlers or buffers of the parent run twice


def fork_worker(serve: Callable[[Any], None]) -> tuple[int, Any]:
    """A forked child running ``serve(connection)`` (one end of a duplex pipe), then
    exiting; returns its pid and the other end.  The child dies with this process and on
    SIGTERM or Ctrl-C (the parent cleans up); the caller reaps it (``os.waitpid``)."""
    import multiprocessing
    mine, theirs = multiprocessing.Pipe(duplex=True)
    pid = os.fork()
    if pid == 0:  # the child
        code = 0
        try:
            signal.signal(signal.SIGTERM, lambda *_: os._exit(1))
            signal.signal(signal.SIGINT, lambda *_: os._exit(1))
            die_with_parent()
            mine.close()
            serve(theirs)
        except BaseException:  # noqa: BLE001 - the parent sees the pipe close
            code = 1
        finally:
            os._exit(code)  # no atexit handlers or buffers of the parent run twice
    theirs.close()
    return pid, mine


def _fields(exc: BuildError) -> tuple[Any, ...]:
    """A BuildError's arguments, to make it again on the other side of the pipe."""
    return (exc.message, exc.path, exc.line, exc.col, exc.hint, exc.category, exc.details)
