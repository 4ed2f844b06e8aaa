"""Writing output files safely: a temporary file beside the target, then a rename.

A build that fails or is killed leaves the previous good file in place, and
never a half-written one.

Temporary files, and how the ones a killed build left are cleaned up
--------------------------------------------------------------------
:func:`atomic_path` writes ``.<name>.<host>.<pid>.<random>.tmp`` beside the
target ``<name>`` and renames it into place; the build stages each file it will
publish (every format, and the HTML page's fonts and images) as
``.<name>.<pid>.staged.tmp`` and commits them all at once (see :class:`Staging`),
keeping each file it replaces as ``.<name>.<pid>.kept.tmp`` until the last one is in
place.  A process killed with SIGKILL removes none of these.  So before it writes a
target, :func:`atomic_path` removes the *stale* temporaries of that same target
name (staged files, and temporaries of either, unwrapped to the final name):

- a temporary names the process that writes it; it is stale when that process
  no longer runs (a zombie counts as gone).  Process ids are those of this
  machine: a temporary whose name carries another host name is stale only once
  it is older than :data:`STALE_AFTER` (a folder shared between machines);
- a temporary of this process or of a process still running is never touched,
  so two builds writing to one folder at once leave each other's files alone;
  the last rename wins, and each file in place is a complete one;
- files whose names are not of these forms are never touched, even when they
  end in ``.tmp`` (``--out`` may point to a folder with other files).

A staged name has no host name: a build on another machine writing to the same
folder at the same moment could see the staged files of a live build there as
stale (run such builds with different ``--out`` folders).
"""
from __future__ import annotations

import contextlib
import errno
import os
import re
import socket
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import BuildError

# A temporary from another machine is stale after this long (its process can't be asked).
STALE_AFTER = 24 * 3600.0

# .<inner>.<host>.<pid>.<random>.tmp (atomic_path; the host has no dots, nor mkstemp's part)
_ATOMIC = re.compile(r"\.(?P<inner>.+)\.(?P<host>[A-Za-z0-9-]+)\.(?P<pid>\d+)\.[a-z0-9_]+\.tmp")
# .<inner>.<pid>.staged.tmp (a file staged by the build), .<inner>.<pid>.kept.tmp (the
# previous file, kept while the build commits)
_STAGED = re.compile(r"\.(?P<inner>.+)\.(?P<pid>\d+)\.(?:staged|kept)\.tmp")
# What a full disk says: no space, over the quota, over the size a file may have
DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:40] or "host"


def staging_path(dest: Path) -> Path:
    """Where this process stages ``dest`` before a build commits it (beside ``dest``)."""
    return dest.with_name(f".{dest.name}.{os.getpid()}.staged.tmp")


class Staging:
    """The files one build publishes, staged beside their targets, then put in place
    together by :meth:`commit`, or not at all.

    :meth:`path` names where a target's new content is written (making the folders it
    needs); :meth:`commit` moves every staged file over its target in the order they
    were staged, each previous file kept (a hard link) until the last one is in place:
    if any step fails, or the build is stopped meanwhile, the kept files go back, the
    new ones go, and the folder is as it was.  :meth:`discard` removes what is left:
    staged files, and the folders made for them while empty.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files: dict[Path, Path] = {}  # target -> its staged file
        self.made: list[Path] = []  # folders made for staged files, parents first

    def path(self, target: Path) -> Path:
        """Where to write ``target``'s new content (its folders made if need be)."""
        missing = [folder for folder in (target.parent, *target.parent.parents)
                   if not folder.exists()]
        for folder in reversed(missing):
            try:
                folder.mkdir()
            except OSError as exc:
                if exc.errno in DISK_FULL:
                    raise
                where = folder if self.folder in folder.parents else self.folder
                raise BuildError(f"cannot write to the output folder: {exc.strerror}", where,
                                 hint="choose another folder with --out") from None
            self.made.append(folder)
        self.files[target] = staging_path(target)
        return self.files[target]

    def write_bytes(self, target: Path, data: bytes) -> None:
        write_bytes(self.path(target), data)

    def commit(self) -> None:
        """Every staged file in place, or (an exception raised) none."""
        done: list[tuple[Path, Path | None, bool]] = []  # target, kept copy, existed
        target = self.folder
        try:
            for target, staged in self.files.items():
                existed = os.path.lexists(target)
                folder = existed and stat.S_ISDIR(os.lstat(target).st_mode)
                kept = _keep(target) if existed and not folder else None
                done.append((target, kept, existed))
                os.replace(staged, target)
        except BaseException as exc:
            _restore(done)
            if not isinstance(exc, OSError) or exc.errno in DISK_FULL:
                raise  # (a full disk: the build says so, for the whole folder)
            where = os.path.relpath(target, self.folder)
            raise BuildError(f"cannot put {where} in place: {exc.strerror}", self.folder,
                             hint="the previous outputs are back; check what is in the "
                                  "output folder, or choose another with --out",
                             category="output") from None
        for _, kept, _ in done:
            if kept is not None:
                with contextlib.suppress(OSError):
                    kept.unlink()
        self.files.clear()
        self.made.clear()

    def discard(self) -> None:
        """Remove the staged files not committed, and the folders made for them."""
        for staged in self.files.values():
            with contextlib.suppress(OSError):
                staged.unlink()
        for folder in reversed(self.made):
            with contextlib.suppress(OSError):  # (not empty: someone else's files)
                folder.rmdir()
        self.files.clear()
        self.made.clear()


def _keep(target: Path) -> Path:
    """A second name for the file at ``target``, to put it back if the commit fails."""
    kept = target.with_name(f".{target.name}.{os.getpid()}.kept.tmp")
    kept.unlink(missing_ok=True)
    try:
        os.link(target, kept, follow_symlinks=False)
    except OSError as exc:
        if exc.errno in DISK_FULL:
            raise
        os.rename(target, kept)  # no hard links here: the target is missing for a moment
    return kept


def _restore(done: list[tuple[Path, Path | None, bool]]) -> None:
    """Undo a commit, last file first: the kept files back, the new ones removed."""
    for target, kept, existed in reversed(done):
        with contextlib.suppress(OSError):
            if kept is not None:
                os.replace(kept, target)
            elif not existed:
                target.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_path(dest: Path) -> Iterator[Path]:
    """A temporary path to write to; it replaces ``dest`` only if the block succeeds."""
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(dest.parent, target_name(dest.name))
        fd, name = tempfile.mkstemp(prefix=f".{dest.name}.{_host()}.{os.getpid()}.",
                                    suffix=".tmp", dir=dest.parent)
    except OSError as exc:
        if exc.errno in DISK_FULL:
            raise  # (the build reports it once, for the whole output folder)
        raise BuildError(f"cannot write to the output folder: {exc.strerror}", dest.parent,
                         hint="choose another folder with --out") from None
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        try:
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, dest)
        except OSError as exc:
            if exc.errno in DISK_FULL:
                raise
            raise BuildError(f"cannot write {dest.name}: {exc.strerror}", dest.parent,
                             hint="check the output folder's space and permissions") from None
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes(dest: Path, data: bytes) -> None:
    with atomic_path(dest) as tmp:
        tmp.write_bytes(data)


def write_text(dest: Path, text: str) -> None:
    write_bytes(dest, text.encode("utf-8"))


def target_name(name: str) -> str:
    """The output a (possibly nested) temporary's name stands for: ``book.pdf`` for
    ``.book.pdf.41.staged.tmp`` and ``..book.pdf.41.staged.tmp.host.42.x1y2.tmp``."""
    while True:
        match = _STAGED.fullmatch(name) or _ATOMIC.fullmatch(name)
        if match is None:
            return name
        name = match.group("inner")


def remove_stale_temporaries(folder: Path, name: str | None = None) -> list[Path]:
    """Remove the temporaries killed builds left in ``folder`` (for the target ``name``
    only, when given); return what was removed.  See the module's documentation."""
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    host, now = _host(), time.time()
    for path in folder.glob(".*.tmp"):
        if not (_STAGED.fullmatch(path.name) or _ATOMIC.fullmatch(path.name)):
            continue  # not ours
        if name is not None and target_name(path.name) != name:
            continue
        if _is_stale(path, host, now):
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed


def _is_stale(path: Path, host: str, now: float) -> bool:
    staged = _STAGED.fullmatch(path.name)
    match = staged or _ATOMIC.fullmatch(path.name)
    assert match is not None
    pid = int(match.group("pid"))
    if staged or match.group("host") == host:
        return pid != os.getpid() and not _running(pid)
    try:
        return now - path.stat().st_mtime > STALE_AFTER
    except OSError:
        return False  # gone already


def _running(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine (a zombie counts as gone)."""
    if os.name == "nt":  # os.kill(pid, 0) would terminate it there: assume it runs
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, as someone else's process
    with contextlib.suppress(OSError, IndexError):
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    return True
