"""Work shared with forked copies of this process (the machine's second core).

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
import traceback
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


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
