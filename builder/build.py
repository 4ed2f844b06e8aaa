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
from typing import Callable, Iterator, Sequence

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
    """Phase 2: each requested format, written atomically."""
    from .formats import epub, html, pdf
    writers = {"pdf": pdf.write, "epub": epub.write, "html": html.write}
    out_dir = request.out_dir or request.project_root / "dist"
    options = _options(request)
    for fmt in request.formats:
        dest = out_dir / f"{book.slug}.{fmt}"
        progress(f"writing {dest.name}")
        start = time.perf_counter()
        messages = writers[fmt](book, dest, options) or []
        result.timings[fmt] = time.perf_counter() - start
        for message in messages:
            result.diagnostics.warn(f"{fmt}: {message}")
        result.outputs[fmt] = dest


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
