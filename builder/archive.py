"""Whole archives: many projects built at once (``builder build-all DIR...``).

Every folder under the given folders that holds a ``book/`` is a project
(:func:`find_projects`); each is one task on a :mod:`builder.pool` pool, built with the
same options (``--style``/``--theme`` given there apply to all: an archive
re-rendered in a new house style).  A failing project never stops the others; each
ends as an :class:`Outcome`: built, up to date, or failed with its errors.

Two kinds of task, as the pool's workers see this machine's files or not:

- **in place** (:func:`build_here`, the local pool): the worker runs ``build.build``
  on the project as ``builder build`` would, with the project's own cache: an
  output whose inputs did not change (the cache's content hashes) is up to date;
- **shipped** (:func:`build_shipped`, a Dask cluster): this process reads the
  project's files through the file gate (:func:`pack`, within its limits, at most
  :data:`BUNDLE_LIMIT` in all) and sends them; the worker builds them in a
  temporary folder and sends the output files back as bytes (a file this process
  already received in the run, such as the HTML page's fonts, the same in every
  project, as its hash alone); this process puts them in ``dist/`` together
  (``outputs.Staging``), or none.  A project whose
  inputs (every file sent, the options, the builder's version and
  ``SOURCE_DATE_EPOCH``) hash to what its last shipped build recorded, and whose
  outputs are still those files (their hashes), is up to date and not sent.

Both give the same bytes: the outputs do not depend on the folder a project is
built in, and ``SOURCE_DATE_EPOCH`` of this process is the one every worker uses.
"""
from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from .build import BuildRequest, build
from .cache import Cache, code_version, digest
from .errors import BuildError, BuildErrors
from .files import MB, Gate
from .outputs import Staging
from .pool import Pool

BUNDLE_LIMIT = 512 * MB  # the most one project sends to a cluster's worker
# Folders of a project that are never sent: outputs, caches, version control
_SKIPPED = {"dist", "node_modules", "__pycache__"}
# The file gate's kind of each file sent, by its suffix; a file of another kind is
# nothing the build reads, and is not sent.
_KINDS = {
    **dict.fromkeys((".md", ".markdown"), "chapter"),
    **dict.fromkeys((".yml", ".yaml"), "metadata"),
    **dict.fromkeys((".json", ".bib", ".bibtex"), "bibliography"),
    ".csl": "style",
    **dict.fromkeys((".css", ".html", ".htm", ".jinja", ".j2", ".xhtml"), "theme"),
    **dict.fromkeys((".ttf", ".otf", ".woff", ".woff2"), "font"),
    **dict.fromkeys((".icc", ".icm"), "profile"),
    **dict.fromkeys((".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".tif", ".tiff",
                     ".bmp"), "image"),
}

Fields = tuple[Any, ...]  # a BuildError's arguments (path relative to the project)


@dataclass(frozen=True)
class Outcome:
    """How one project's build ended."""

    project: Path
    status: str  # "built", "up to date" or "failed"
    seconds: float = 0.0
    errors: tuple[Fields, ...] = ()  # (failed) each error, its path relative to the project
    warnings: int = 0

    def first_error(self) -> str:
        """The first error as ``builder build`` prints it (paths as seen from here)."""
        if not self.errors:
            return ""
        message, path, *rest = self.errors[0]
        return str(BuildError(message, self.project / path if path else None, *rest))


@dataclass(frozen=True)
class Bundle:
    """A project as a worker that does not share this machine's files receives it."""

    project: Path  # where it is on this machine (for the outcome)
    request: BuildRequest  # project_root and out_dir are set by the worker
    files: dict[str, bytes]  # relative POSIX path -> content
    named: dict[str, bytes] = field(default_factory=dict)  # --bibliography, --style FILE
    epoch: str | None = None  # SOURCE_DATE_EPOCH here
    # the SHA-256 of outputs this process already holds (the HTML page's fonts, the same
    # for every project): the worker sends their hash, not their bytes
    known: frozenset[str] = frozenset()

    def digest(self) -> str:
        """What the outputs are made from."""
        return digest(code_version(), "archive", dataclasses.replace(
            self.request, project_root=Path("."), bibliography=(), out_dir=None),
            sorted((k, hashlib.sha256(v).hexdigest()) for k, v in self.files.items()),
            sorted((k, hashlib.sha256(v).hexdigest()) for k, v in self.named.items()),
            self.epoch)


@dataclass(frozen=True)
class Shipped:
    """What a worker sends back: the outcome, and the output files (relative POSIX path
    under the output folder -> content, or the SHA-256 of a content the bundle said is
    known) when it built."""

    outcome: Outcome
    outputs: dict[str, bytes | str] = field(default_factory=dict)


def find_projects(folders: Iterable[Path]) -> list[Path]:
    """Every folder holding a ``book/`` folder, at or under ``folders`` (a project's own
    subfolders are not searched; hidden folders and outputs are skipped), in order."""
    found: dict[Path, None] = {}
    for top in folders:
        if not top.is_dir():
            raise BuildError("folder not found", top, category="usage",
                             hint="name folders that hold projects (folders with book/)")
        for path in _walk_projects(top):
            found.setdefault(path.resolve(), None)
    return list(found)


def _walk_projects(folder: Path) -> Iterator[Path]:
    if (folder / "book").is_dir():
        yield folder
        return
    with contextlib.suppress(OSError):
        for child in sorted(folder.iterdir()):
            if child.name.startswith(".") or child.name in _SKIPPED or child.is_symlink():
                continue
            if child.is_dir():
                yield from _walk_projects(child)


def build_all(projects: Sequence[Path], template: BuildRequest, pool: Pool,
              seen: Callable[[Outcome], None] = lambda _: None) -> list[Outcome]:
    """Every project built with ``template``'s options on ``pool``; ``seen`` hears of each
    outcome as it comes.  The outcomes, in the order of ``projects``."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    outcomes: dict[Path, Outcome] = {}
    if pool.shares_files:
        requests = [dataclasses.replace(template, project_root=p) for p in projects]
        for n, outcome in pool.run(build_here, requests):
            outcomes[projects[n]] = _failed(projects[n], outcome) \
                if isinstance(outcome, BuildError) else outcome
            seen(outcomes[projects[n]])
        return [outcomes[p] for p in projects]
    todo = []
    for project in projects:
        try:
            if _shipped_up_to_date(project, pack(project, template, epoch)):
                outcomes[project] = Outcome(project, "up to date")
                seen(outcomes[project])
            else:
                todo.append(project)
        except BuildError as exc:
            outcomes[project] = _failed(project, exc)
            seen(outcomes[project])
    sent: list[tuple[Path, str]] = []  # each project sent, with its inputs' digest
    blobs = _Blobs()  # large outputs received, by their hash

    def bundles() -> Iterator[Bundle]:
        for project in todo:
            try:
                bundle = pack(project, template, epoch)
            except BuildError as exc:  # (changed since it was read above)
                outcomes[project] = _failed(project, exc)
                seen(outcomes[project])
                continue
            sent.append((project, bundle.digest()))
            yield dataclasses.replace(bundle, known=blobs.known())
    for n, shipped in pool.run(build_shipped, bundles()):
        project, inputs = sent[n]
        try:
            outcomes[project] = _failed(project, shipped) if isinstance(shipped, BuildError) \
                else _receive(project, template, shipped, inputs, blobs)
        except BuildError as exc:
            outcomes[project] = _failed(project, exc)
        seen(outcomes[project])
    return [outcomes[p] for p in projects]


# --- what a worker runs --------------------------------------------------------------------

def build_here(request: BuildRequest) -> Outcome:
    """Build a project in place, as ``builder build`` does (a worker that shares the files)."""
    start = time.perf_counter()
    try:
        result = build(request)
    except BuildError as exc:
        return _failed(request.project_root, exc, request.project_root,
                       time.perf_counter() - start)
    status = "up to date" if set(result.up_to_date) >= set(request.formats) else "built"
    return Outcome(request.project_root, status, time.perf_counter() - start,
                   warnings=len(result.diagnostics.warnings))


def build_shipped(bundle: Bundle) -> Shipped:
    """Build a project sent as its files in a temporary folder; its outputs as bytes."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="builder-") as temporary:
        root = Path(temporary) / "project"
        _unpack(bundle.files, root)
        named = Path(temporary) / "named"
        _unpack(bundle.named, named)
        request = dataclasses.replace(
            bundle.request, project_root=root, out_dir=root / "dist", cache=False,
            bibliography=tuple(named / PurePosixPath(p).name for p in bundle.request.bibliography),
            style=str(named / "style.csl") if "style.csl" in bundle.named else bundle.request.style)
        try:
            with _epoch(bundle.epoch):
                result = build(request)
        except BuildError as exc:
            return Shipped(_failed(bundle.project, exc, root, time.perf_counter() - start))
        out = root / "dist"
        outputs: dict[str, bytes | str] = {}
        for path in sorted(p for p in out.rglob("*") if p.is_file()):
            data = path.read_bytes()
            sha = hashlib.sha256(data).hexdigest()
            outputs[path.relative_to(out).as_posix()] = sha if sha in bundle.known else data
    return Shipped(Outcome(bundle.project, "built", time.perf_counter() - start,
                           warnings=len(result.diagnostics.warnings)), outputs)


def _unpack(files: dict[str, bytes], root: Path) -> None:
    for name, data in files.items():
        relative = PurePosixPath(name)
        if relative.is_absolute() or ".." in relative.parts:
            raise BuildError(f"a file sent with the project has a bad name: '{name}'")
        path = root.joinpath(*relative.parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


@contextlib.contextmanager
def _epoch(value: str | None) -> Iterator[None]:
    """The sender's SOURCE_DATE_EPOCH (or none) in this worker while it builds."""
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    _set_epoch(value)
    try:
        yield
    finally:
        _set_epoch(previous)


def _set_epoch(value: str | None) -> None:
    if value is None:
        os.environ.pop("SOURCE_DATE_EPOCH", None)
    else:
        os.environ["SOURCE_DATE_EPOCH"] = value


def _failed(project: Path, exc: BuildError, root: Path | None = None,
            seconds: float = 0.0) -> Outcome:
    errors = exc.errors if isinstance(exc, BuildErrors) else [exc]
    return Outcome(project, "failed", seconds, tuple(_fields(e, root) for e in errors))


def _fields(exc: BuildError, root: Path | None) -> Fields:
    path: Path | str | None = exc.path
    if exc.path is not None and root is not None:
        with contextlib.suppress(ValueError):
            path = exc.path.relative_to(root).as_posix()
    return (exc.message, str(path) if path is not None else None, exc.line, exc.col,
            exc.hint, exc.category)


# --- sending a project, and what comes back --------------------------------------------------

def pack(project: Path, template: BuildRequest, epoch: str | None = None) -> Bundle:
    """The files of ``project`` the build may read, read through the file gate (each
    within its kind's limit, :data:`BUNDLE_LIMIT` in all), and the files named by the
    options."""
    gate = Gate(project, [*template.bibliography, *_style_file(template)])
    files: dict[str, bytes] = {}
    total = 0
    for path in _project_files(project):
        data = gate.read_bytes(path, _KINDS[path.suffix.lower()])
        total += len(data)
        if total > BUNDLE_LIMIT:
            raise BuildError(f"the project is too large to send to a cluster (over "
                             f"{BUNDLE_LIMIT // MB} MB)", project,
                             hint="build it on its own with builder build")
        files[path.relative_to(project).as_posix()] = data
    named = {p.name: gate.read_bytes(p, "bibliography") for p in template.bibliography}
    for style in _style_file(template):
        named["style.csl"] = gate.read_bytes(style, "style")
    return Bundle(project, template, files, named, epoch)


def _style_file(request: BuildRequest) -> list[Path]:
    style = request.style
    return [Path(style)] if style and style.endswith(".csl") and os.sep in style else []


def _project_files(project: Path) -> Iterator[Path]:
    for folder, subfolders, names in os.walk(project):
        here = Path(folder)
        subfolders[:] = sorted(
            name for name in subfolders if not name.startswith(".") and name not in _SKIPPED
            and not (here != project and (here / name / "book").is_dir()))
        for name in sorted(names):
            path = here / name
            if not name.startswith(".") and path.suffix.lower() in _KINDS:
                yield path


def _record_key(project: Path) -> str:
    return digest(str((project / "dist").resolve()))


def _shipped_up_to_date(project: Path, bundle: Bundle) -> bool:
    record = Cache.for_project(project, bundle.request.cache).load("shipped", _record_key(project))
    if not isinstance(record, dict) or record.get("inputs") != bundle.digest():
        return False
    out = project / "dist"
    for name, sha in record.get("files", {}).items():
        try:
            if hashlib.sha256((out / name).read_bytes()).hexdigest() != sha:
                return False
        except OSError:
            return False
    return True


class _Blobs:
    """The large outputs received in this run, by their SHA-256 (at most :data:`LIMIT`
    bytes): a later project's identical files come as their hash alone."""

    LIMIT = 256 * MB
    SMALLEST = 64 * 1024

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}
        self.size = 0

    def known(self) -> frozenset[str]:
        return frozenset(self.data)

    def resolve(self, outputs: dict[str, bytes | str]) -> dict[str, bytes]:
        found = {}
        for name, data in outputs.items():
            if isinstance(data, str):
                if data not in self.data:
                    raise BuildError(f"a worker sent '{name}' as a hash this process does "
                                     "not hold", hint="build again")
                found[name] = self.data[data]
                continue
            found[name] = data
            sha = hashlib.sha256(data).hexdigest()
            if len(data) >= self.SMALLEST and sha not in self.data \
                    and self.size + len(data) <= self.LIMIT:
                self.data[sha] = data
                self.size += len(data)
        return found


def _receive(project: Path, template: BuildRequest, shipped: Shipped, inputs: str,
             blobs: _Blobs) -> Outcome:
    """A worker's outputs put in ``project/dist`` together, or none (a failed build: none)."""
    if shipped.outcome.status != "built":
        return shipped.outcome
    out = project / "dist"
    outputs = blobs.resolve(shipped.outputs)
    staging = Staging(out)
    try:
        for name, data in outputs.items():
            relative = PurePosixPath(name)
            if relative.is_absolute() or ".." in relative.parts:
                raise BuildError(f"a worker sent an output with a bad name: '{name}'", project)
            staging.write_bytes(out.joinpath(*relative.parts), data)
        staging.commit()
    except OSError as exc:
        raise BuildError(f"cannot write the outputs: {exc.strerror}", out,
                         category="output") from None
    finally:
        staging.discard()
    Cache.for_project(project, template.cache).store("shipped", _record_key(project), {
        "inputs": inputs,
        "files": {name: hashlib.sha256(data).hexdigest()
                  for name, data in outputs.items()}})
    return shipped.outcome



def summary(outcomes: Sequence[Outcome], failed_only: bool = False) -> str:
    """The table of outcomes: project, result, seconds, and a failure's first error;
    then the count of each result."""
    from .errors import display_path
    shown = [o for o in outcomes if o.status == "failed" or not failed_only]
    names = [display_path(o.project) or "." for o in shown]
    width = max([len("project"), *map(len, names)])
    lines = [f"{'project':{width}}  {'result':10}  {'time':>7}  first error"] if shown else []
    for name, outcome in zip(names, shown, strict=True):
        lines.append(f"{name:{width}}  {outcome.status:10}  {outcome.seconds:5.1f} s  "
                     f"{outcome.first_error()}".rstrip())
    counts = {status: sum(o.status == status for o in outcomes)
              for status in ("built", "up to date", "failed")}
    lines.append(f"{len(outcomes)} projects: " + ", ".join(f"{n} {status}"
                                                          for status, n in counts.items()))
    return "\n".join(lines)
