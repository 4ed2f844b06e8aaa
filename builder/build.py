"""The pipeline: read and check everything, then write each output format.

Phase 1 (``prepare``) reads the sources, parses the Markdown, resolves the
citations of the whole book and renders the chapters; it writes nothing.
Phase 2 (``write_outputs``) hands the rendered book to each format module.
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from . import markdown
from .citations import load_style, process_citations
from .citations.styles import check_locale
from .errors import BuildError, Diagnostics
from .formats import Options
from .model import Position, Project
from .render import Book, finish_chapter
from .sanitize import sanitize
from .sources import load_project
from .themes import load_theme

log = logging.getLogger(__name__)
FORMATS = ("pdf", "epub", "html")


@dataclass(frozen=True)
class BuildRequest:
    project_root: Path
    formats: tuple[str, ...] = FORMATS
    style: str | None = None
    locale: str | None = None
    out_dir: Path | None = None
    theme: str = "report"
    bibliography: tuple[Path, ...] = ()
    strict: bool = False
    allow_remote: bool = False
    page_size: str | None = None
    print_ready: bool = False
    bleed: str | None = None
    pdf_variant: str | None = None
    toc: bool | None = None


@dataclass
class BuildResult:
    outputs: dict[str, Path] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    diagnostics: Diagnostics = field(default_factory=Diagnostics)


def prepare(request: BuildRequest, diagnostics: Diagnostics,
            timings: dict[str, float] | None = None) -> Book:
    """Phase 1: everything read, checked and rendered to HTML fragments.

    ``timings`` receives the seconds of each stage: load, parse, citations, render.
    """
    clock = _Clock(timings if timings is not None else {})
    with clock("load"):
        project = load_project(request.project_root, request.style, request.locale,
                               list(request.bibliography) or None)
        with _from_metadata(project.setting_position("csl", "style")):
            style = load_style(project.style, project.root)
        with _from_metadata(project.setting_position("locale")):
            locale = check_locale(project.locale) if project.locale else None
        theme = load_theme(request.theme, project.root)
    with clock("parse"):
        md = markdown.make_parser()
        parsed = [markdown.parse_chapter(md, chapter, f"ch{n + 1}", note_style=style.note,
                                         project_root=project.root,
                                         allow_remote=request.allow_remote)
                  for n, chapter in enumerate(project.chapters)]
    with clock("citations"):
        clusters = [cluster for chapter in parsed for cluster in chapter.clusters]
        citations = process_citations(clusters, project.references, style, locale)
        _warn_unused(project, clusters, diagnostics)
    with clock("render"):
        used_ids: set[str] = {"title-block", "references", "refs", "about"}
        chapters = tuple(
            finish_chapter(p.env["chapter_id"], p.source.path,
                           sanitize(markdown.render_chapter(md, p, citations.clusters),
                                    p.source.path, project.root, request.allow_remote), used_ids)
            for p in parsed)
    return Book(project.metadata, chapters, citations, theme, slugify(project.metadata.title))


class _Clock:
    """``with clock("stage"):`` adds the stage's seconds to ``timings[stage]``."""

    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings

    @contextlib.contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - start


@contextlib.contextmanager
def _from_metadata(position: Position | None) -> Iterator[None]:
    """A bad style or locale named in the metadata is an input error at its line."""
    try:
        yield
    except BuildError as exc:
        if position is None or exc.line is not None:
            raise
        raise BuildError(exc.message, position.path, position.line, hint=exc.hint) from None


def _warn_unused(project: Project, clusters: Sequence[markdown.Cluster],
                 diagnostics: Diagnostics, listed: int = 10) -> None:
    """A warning for each reference never cited (one summary line past ``listed``)."""
    cited = {item.key for cluster in clusters for item in cluster.items}
    unused = [ref for ref in project.references if ref.key not in cited]
    for ref in unused[:listed]:
        diagnostics.warn(f"reference '{ref.key}' is never cited", ref.position.path,
                         ref.position.line)
    if len(unused) > listed:
        diagnostics.warn(f"{len(unused) - listed} more references are never cited",
                         unused[listed].position.path)


def write_outputs(book: Book, request: BuildRequest, result: BuildResult,
                  progress: Callable[[str], None] = lambda _: None) -> None:
    """Phase 2: each requested format, all or none.

    Each format is first written to a staging file beside its target; only when
    every format has succeeded are they moved into place, so a failure leaves
    dist/ as it was.  The PDF (WeasyPrint's layout, the longest step) is made in
    a forked process while this one writes the EPUB and the HTML.
    """
    from .formats import epub, html, pdf
    writers = {"pdf": pdf.write, "epub": epub.write, "html": html.write}
    out_dir = request.out_dir or request.project_root / "dist"
    options = _options(request)
    targets = {fmt: out_dir / f"{book.slug}.{fmt}" for fmt in request.formats}
    staged = {fmt: _staging(dest) for fmt, dest in targets.items()}
    background = None
    try:
        if "pdf" in targets and len(targets) > 1 and _can_fork():
            progress("writing the PDF in the background")
            background = _Background(writers["pdf"], book, staged["pdf"], options)
        for fmt in request.formats:
            if fmt == "pdf" and background is not None:
                continue
            progress(f"writing {targets[fmt].name}")
            start = time.perf_counter()
            messages = writers[fmt](book, staged[fmt], options) or []
            result.timings[fmt] = time.perf_counter() - start
            _record(result, fmt, messages)
        if background is not None:
            progress("laying out the PDF")
            messages, result.timings["pdf"] = background.wait(progress)
            _record(result, "pdf", messages)
        for fmt in request.formats:
            os.replace(staged[fmt], targets[fmt])
            result.outputs[fmt] = targets[fmt]
    finally:
        if background is not None:
            background.stop()
        for path in staged.values():
            path.unlink(missing_ok=True)


def _record(result: BuildResult, fmt: str, messages: Sequence[str]) -> None:
    for message in messages:
        result.diagnostics.warn(f"{fmt}: {message}")


def _staging(dest: Path) -> Path:
    """Where a format is written before the build commits it (beside ``dest``)."""
    return dest.with_name(f".{dest.name}.{os.getpid()}.staged.tmp")


def _can_fork() -> bool:
    return hasattr(os, "fork") and (os.cpu_count() or 1) > 1 and not os.environ.get(
        "BUILDER_NO_FORK")


class _Background:
    """One format written by a forked copy of this process.

    The child inherits the rendered book (nothing is pickled on the way in);
    it sends back its warnings and time, or the error, through a pipe.  A child
    that is stopped (another format failed, Ctrl-C) removes its temporary file.
    """

    def __init__(self, writer: Callable[..., Any], book: Book, dest: Path,
                 options: Any) -> None:
        import multiprocessing
        context = multiprocessing.get_context("fork")
        self.receive, send = context.Pipe(duplex=False)
        self.pages = context.Value("i", 0, lock=False)
        self.process = context.Process(target=_child, daemon=True,
                                       args=(writer, book, dest, options, send, self.pages))
        self.process.start()
        send.close()

    def wait(self, progress: Callable[[str], None]) -> tuple[list[str], float]:
        while not self.receive.poll(0.2):
            if not self.process.is_alive() and not self.receive.poll(0):
                raise BuildError(f"the PDF process stopped (exit code {self.process.exitcode})",
                                 hint="run again; if it happens again, build with --to pdf "
                                      "to see the error")
            if self.pages.value:
                progress(f"laying out the PDF: page {self.pages.value}")
        try:
            outcome = self.receive.recv()
        except EOFError:
            self.process.join()
            raise BuildError(f"the PDF process stopped (exit code {self.process.exitcode})",
                             hint="build with --to pdf to see the error") from None
        self.process.join()
        if outcome[0] == "error":
            message, path, line, col, hint, category = outcome[1]
            raise BuildError(message, path, line, col, hint, category)
        if outcome[0] == "crash":
            raise RuntimeError(f"the PDF process failed:\n{outcome[1]}")
        return outcome[1], outcome[2]

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
        self.process.join()
        self.receive.close()


def _child(writer: Callable[..., Any], book: Book, dest: Path, options: Any, send: Any,
           pages: Any) -> None:
    import signal
    import traceback

    def stop(*_: object) -> None:
        raise SystemExit(1)  # runs the ``finally`` blocks: no temporary file left behind
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    _count_pages(pages)
    start = time.perf_counter()
    try:
        messages = writer(book, dest, options) or []
        send.send(("ok", list(messages), time.perf_counter() - start))
    except BuildError as exc:
        send.send(("error", (exc.message, exc.path, exc.line, exc.col, exc.hint, exc.category)))
    except SystemExit:
        os._exit(1)
    except BaseException:  # noqa: BLE001 - shown by the parent, as a crash of its own
        send.send(("crash", traceback.format_exc()))
    finally:
        send.close()
    os._exit(0)  # no atexit handlers or buffers of the parent run twice


def _count_pages(pages: Any) -> None:
    """WeasyPrint logs each page it lays out: count them for the progress line."""

    class Pages(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "Page" in record.msg and record.args:
                pages.value = int(record.args[0])  # type: ignore[index]
    progress = logging.getLogger("weasyprint.progress")
    progress.addHandler(Pages())
    progress.setLevel(logging.INFO)


def build(request: BuildRequest, progress: Callable[[str], None] = lambda _: None) -> BuildResult:
    result = BuildResult()
    start = time.perf_counter()
    progress("reading sources")
    if "pdf" in request.formats:
        from .formats.pdf import check_options, load_weasyprint
        check_options(_options(request))  # a bad page size or variant: nothing read, nothing written
        load_weasyprint()  # a missing system library stops the build before any file is written
    book = prepare(request, result.diagnostics, result.timings)
    if request.strict and result.diagnostics.warnings:
        first = result.diagnostics.warnings[0]
        raise BuildError(f"{first.message} (--strict makes warnings errors)", first.path, first.line)
    write_outputs(book, request, result, progress)
    result.timings["total"] = time.perf_counter() - start
    return result


def _options(request: BuildRequest) -> Options:
    return Options(request.project_root, request.strict, request.allow_remote,
                   _source_date_epoch(), request.page_size, request.print_ready, request.bleed,
                   request.pdf_variant, request.toc)


def _source_date_epoch() -> int | None:
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise BuildError(f"SOURCE_DATE_EPOCH must be a number of seconds, not '{value}'") from None


def slugify(title: str) -> str:
    text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return slug[:60].rstrip("-") or "book"
