"""The pipeline: read and check everything, then write each output format.

Phase 1 (``prepare``) reads the sources, parses the Markdown, resolves the
citations of the whole book and renders the chapters; it writes nothing.
Phase 2 (``write_outputs``) hands the rendered book to each format module.
"""
from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import document, images, markdown
from .cache import Cache, code_version, file_digest, folder_digest
from .cache import digest as cache_digest
from .citations import check_keys, load_style, process_citations
from .citations.completeness import missing_fields
from .citations.styles import check_locale
from .errors import BuildError, Diagnostics, Warning_, crash, raise_all
from .files import Gate
from .formats import Options, Written, epub, html, pdf
from .model import ChapterSource, Position, Project
from .outputs import DISK_FULL, Staging, remove_stale_temporaries, target_name
from .processes import Background, can_fork, check_terminated
from .render import Book, prepare_chapter, terms_for
from .resources import resolve_reference
from .sanitize import resources
from .sources import Inputs, load_project
from .themes import load_theme

log = logging.getLogger(__name__)
FORMATS = ("pdf", "epub", "html")
Progress = Callable[..., None]


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
    draft: bool = False  # --draft: the PDF laid out once (no footnote re-layout)
    cache: bool = True  # False: --no-cache, every stage and format done again
    inputs: Inputs = Inputs()  # Markdown and metadata files, -M values (builder.sources)
    output_name: str | None = None  # the outputs' file name without suffix (default: slug)
    html_split: str = "none"  # "chapter": the HTML as a site, a page per chapter
    jobs: int | None = None  # --jobs: processes laying out the PDF in chunks (None: cores)


@dataclass
class BuildResult:
    outputs: dict[str, Path] = field(default_factory=dict)
    up_to_date: list[str] = field(default_factory=list)  # formats not rewritten
    timings: dict[str, float] = field(default_factory=dict)
    diagnostics: Diagnostics = field(default_factory=Diagnostics)


def prepare(request: BuildRequest, diagnostics: Diagnostics,
            timings: dict[str, float] | None = None, cache: Cache | None = None,
            progress: Progress = lambda *_: None, fields: bool = False) -> Book:
    """Phase 1: everything read, checked, and made ready to write.

    ``timings`` receives the seconds of each stage: load, parse, citations, render.
    ``fields``: warn of each cited reference that lacks a field the style prints for it
    (``builder check``, and ``builder build --strict``).
    """
    clock = _Clock(timings if timings is not None else {})
    cache = cache or Cache(None)
    with clock("load"), _with_errors_so_far(diagnostics):
        project = load_project(request.project_root, request.style, request.locale,
                               list(request.bibliography) or None, diagnostics,
                               request.inputs)
        named_in = project.setting_position("csl", "style")
        with _from_metadata(named_in):
            style = load_style(project.style, project.root, named=named_in is None)
        with _from_metadata(project.setting_position("locale")):
            locale = check_locale(project.locale) if project.locale else None
        theme = load_theme(request.theme, project.root, allow_remote=request.allow_remote)
        superscript, inside_quotes = _citation_typography(style, locale)
        dialect = _Dialect(style.note, project.notes_after_punctuation, inside_quotes,
                           request.allow_remote, superscript)
    with clock("parse"):
        md = markdown.make_parser()
        drafts = []
        for n, chapter in enumerate(project.chapters):
            progress("parsing chapters", n + 1, len(project.chapters))
            drafts.append(cache.memo(
                "chapters", _draft_key(chapter, n, dialect, project.root),
                functools.partial(_draft, md, chapter, n, dialect, project.root),
                valid=lambda draft: all(path.exists() for path in draft.resources),
                keep=lambda draft: not draft.errors))
            for error in drafts[-1].errors:
                diagnostics.error(error)
        for error in _image_errors(drafts, project.root, cache):
            diagnostics.error(error)
    with clock("citations"):
        progress("formatting citations")
        every = [cluster for draft in drafts for cluster in draft.clusters]
        clusters = [cluster for cluster in every if not cluster.crossref]
        with diagnostics.collecting():
            check_keys(clusters, {ref.key: ref for ref in project.references})
        trees = [draft.tree for draft in drafts if draft.tree is not None]
        used_ids = document.Ids({"title-block", "references", "refs", "about"})
        headings = [document.assign(tree, used_ids) for tree in trees]
        numbers = document.number(trees, headings, project.number_sections)
        crossrefs, problems, unknown = document.resolve_crossrefs(
            [c for c in every if c.crossref], numbers.targets,
            {ref.key for ref in project.references}, project.metadata.lang,
            document.latex_labels(trees))
        for problem in problems:
            diagnostics.error(problem)
        for warning in unknown:
            diagnostics.warn(warning)
        diagnostics.raise_errors()  # every problem of the input, before anything is rendered
        citations = cache.memo("citations", _citations_key(clusters, project, style, locale),
                               lambda: process_citations(clusters, project.references, style,
                                                         locale, project.nocite,
                                                         project.link_citations,
                                                         project.link_bibliography))
        _warn_unused(project, clusters, diagnostics)
        if fields:
            _warn_missing_fields(project, style, clusters, diagnostics, cache)
        for tree in trees:
            for found in document.checks.warnings(tree):
                diagnostics.warn(Warning_(found.message, tree.path, found.line, found.hint))
    with clock("render"):
        terms = terms_for(project.metadata.lang)
        targets = {label: t.number for label, t in numbers.targets.items()}
        rendered = {**citations.clusters, **crossrefs}
        chapters = tuple(
            prepare_chapter(
                tree, draft.clusters, rendered, heads,
                document.Context([h.id for h in heads], sections, targets, terms["figure"],
                                 terms["table"], first_note, terms["back"],
                                 listing=terms["listing"]),
                [str(path.relative_to(project.root)) for path in draft.resources],
                project.root, request.allow_remote)
            for draft, tree, heads, sections, first_note in zip(
                drafts, trees, headings, numbers.sections, document.first_notes(trees),
                strict=True))
    lists = document.numbering.listed(trees, numbers, {"figures": terms["figure"],
                                                       "tables": terms["table"]})
    return Book(project.metadata, chapters, citations, theme,
                request.output_name or slugify(project.metadata.title),
                tuple((kind, tuple(lists[kind])) for kind in project.lists))


@dataclass(frozen=True)
class _Dialect:
    """What the Markdown of a chapter is read with, besides its text."""

    note_style: bool
    notes_after_punctuation: bool | None
    punctuation_in_quote: bool
    allow_remote: bool
    superscript: bool  # the style's citations are superscript numbers


def _citation_typography(style: Any, locale: str | None) -> tuple[bool, bool]:
    """Whether the style sets its citations as superscripts (its citation layout does), and
    the locale's ``punctuation-in-quote`` (American English: true)."""
    from lxml import etree

    from .citations.quotes import CSL_NS, context_for
    root = etree.fromstring(style.xml)  # a copy: context_for prepares what it is given
    layout = root.find(f"{{{CSL_NS}}}citation/{{{CSL_NS}}}layout")
    superscript = layout is not None and layout.get("vertical-align") == "sup"
    quotes = context_for(root, locale or style.default_locale or "en-US")
    return superscript, quotes.punctuation_in_quote


@dataclass(frozen=True)
class _Draft:
    """A chapter read into its tree, with the clusters of its citations (each
    ``document.nodes.Cite`` names one by its index)."""

    chapter_id: str
    path: Path
    clusters: tuple[markdown.Cluster, ...]
    tree: document.Chapter | None
    resources: tuple[Path, ...]  # the local files it uses, checked again when it is reused
    errors: tuple[BuildError, ...] = ()  # its input errors (such a draft is not kept)


def _draft(md: Any, chapter: ChapterSource, n: int, dialect: _Dialect, root: Path) -> _Draft:
    parsed = markdown.parse_chapter(md, chapter, f"ch{n + 1}", note_style=dialect.note_style,
                                    project_root=root, allow_remote=dialect.allow_remote,
                                    notes_after_punctuation=dialect.notes_after_punctuation,
                                    punctuation_in_quote=dialect.punctuation_in_quote,
                                    superscript=dialect.superscript)
    if parsed.errors:  # reported with the book's other errors; nothing is rendered
        return _Draft(parsed.env["chapter_id"], chapter.path, tuple(parsed.clusters), None,
                      (), tuple(parsed.errors))
    tree = document.read_chapter(parsed)
    problems = _math_errors(tree)
    if problems:
        return _Draft(parsed.env["chapter_id"], chapter.path, tuple(parsed.clusters), None,
                      (), tuple(problems))
    used = {root / src for src in _tree_resources(tree, chapter, root, dialect.allow_remote)}
    return _Draft(parsed.env["chapter_id"], chapter.path, tuple(parsed.clusters), tree,
                  tuple(sorted(used)))


def _image_errors(drafts: Sequence[_Draft], root: Path, cache: Cache) -> list[BuildError]:
    """Every image the chapters use, and the cover, read through the file gate and checked
    (:mod:`builder.images`): a damaged or mistyped image is an error at its line.  Each
    verdict is kept in the cache by the image's content, so an image is decoded once."""
    gate = Gate(root)

    def verdict(data: bytes, suffix: str) -> str:
        key = cache_digest(code_version(), "image", suffix.lower(), data)
        return cache.memo("images", key, lambda: images.problem(data, suffix) or "")

    errors = []
    for draft in drafts:
        if draft.tree is None:
            continue
        lines: dict[str, int | None] = {}
        raw = [(block.line, block.html) for block in document.walk.blocks(draft.tree)
               if isinstance(block, document.nodes.RawBlock) and block.format == "html"]
        for line, node in document.walk.located_inlines(draft.tree):
            if isinstance(node, document.nodes.RawInline) and node.format == "html":
                raw.append((line, node.html))
            if isinstance(node, document.nodes.Image):
                lines.setdefault(node.src, line)
                if node.src.startswith("data:"):
                    found = images.data_url_problem(node.src)
                    if found:
                        errors.append(BuildError(f"image in a data: URL: {found}", draft.path,
                                                 line, hint="use an image file instead"))
        for line, fragment in raw:  # the line of each file raw HTML names
            for _, value in resources(fragment):
                with contextlib.suppress(BuildError):
                    lines.setdefault(resolve_reference(value, draft.path.parent, root), line)
        for path in draft.resources:
            name = path.relative_to(root).as_posix()
            line = lines.get(name)
            try:
                found = verdict(gate.read_bytes(path, "image"), path.suffix)
            except BuildError as exc:
                errors.append(BuildError(exc.message, draft.path, line, hint=exc.hint))
                continue
            if found:
                errors.append(BuildError(f"image '{name}': {found}", draft.path, line,
                                         hint="replace it with a good copy of the image"))
    for cover in (root / "book" / name for name in images.COVER_NAMES):
        if os.path.lexists(cover):
            try:
                found = verdict(gate.read_bytes(cover, "image"), cover.suffix)
            except BuildError as exc:
                errors.append(exc)
                break
            if found:
                errors.append(BuildError(f"the cover image: {found}", cover,
                                         hint="replace it with a good copy, or remove it "
                                              "for a generated cover"))
            break
    return errors


def _math_errors(tree: document.Chapter) -> list[BuildError]:
    """A formula TeX cannot read is an error at its line (the PDF's paths are drawn later,
    from the same TeX)."""
    found = list(document.walk.math(tree))
    if not found:
        return []
    from .mathrender import MathError, to_mathml  # (its font loads slowly: only for math)
    errors = []
    for line, node in found:
        try:
            to_mathml(node.tex, node.display)
        except MathError as exc:
            where = f" (at character {exc.column} of the formula)" if exc.column else ""
            errors.append(BuildError(f"TeX math: {exc.message}{where}", tree.path, line,
                                     hint=f"check ${node.tex}$"))
    return errors


def _tree_resources(tree: document.Chapter, chapter: ChapterSource, root: Path,
                    allow_remote: bool) -> set[str]:
    """The project files a chapter loads (paths relative to the project): its images, and
    what its raw HTML names."""
    found = set(document.image_sources(tree))
    for fragment in document.raw_html(tree):
        for _, value in resources(fragment):
            with contextlib.suppress(BuildError):  # (refused: reported at its line already)
                found.add(resolve_reference(value, chapter.path.parent, root, allow_remote))
    return {src for src in found if "://" not in src and not src.startswith("data:")}


def _draft_key(chapter: ChapterSource, n: int, dialect: _Dialect, root: Path) -> str:
    """What a chapter's draft depends on: its text, place and dialect.  (It also depends on
    the presence of the files it uses: a stored draft is used only if they all exist, so
    that a missing image is reported at its line.)"""
    return cache_digest(code_version(), "draft", str(root), str(chapter.path), chapter.first_line,
                        chapter.text, n, dialect)


def _citations_key(clusters: Sequence[markdown.Cluster], project: Project, style: Any,
                   locale: str | None) -> str:
    cited = {item.key for cluster in clusters for item in cluster.items} | set(project.nocite)
    references = [(ref.key, ref.csl) for ref in project.references
                  if ref.key in cited or "*" in cited]
    return cache_digest(code_version(), "citations", style.xml, style.name, locale,
                        [(c.id, c.items, c.narrative, c.note_index, c.in_footnote)
                         for c in clusters],
                        references, project.nocite, project.link_citations,
                        project.link_bibliography)


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
def _with_errors_so_far(diagnostics: Diagnostics) -> Iterator[None]:
    """An error that stops the build (no style, no theme) comes with those found before."""
    try:
        yield
    except BuildError as exc:
        if not diagnostics.errors or exc.category != "input":
            raise
        diagnostics.error(exc)
        diagnostics.raise_errors()


@contextlib.contextmanager
def _from_metadata(position: Position | None) -> Iterator[None]:
    """A bad style or locale named in the metadata is an input error at its line."""
    try:
        yield
    except BuildError as exc:
        if position is None or exc.line is not None:
            raise
        raise BuildError(exc.message, position.path, position.line, hint=exc.hint) from None


def _warn_missing_fields(project: Project, style: Any, clusters: Sequence[markdown.Cluster],
                         diagnostics: Diagnostics, cache: Cache) -> None:
    """A warning for each cited reference that lacks a field the style prints for it."""
    cited = {item.key for cluster in clusters for item in cluster.items}
    if "*" in project.nocite:
        cited = {ref.key for ref in project.references}
    cited |= set(project.nocite)
    references = [ref for ref in project.references if ref.key in cited]
    items = [ref.csl for ref in references]
    found = cache.memo("fields", cache_digest(code_version(), style.xml, project.locale, items),
                       lambda: missing_fields(style.xml, items, project.locale))
    for ref in references:
        for name in found.get(ref.key, []):
            kind = str(ref.csl.get("type", "item")).replace("-", " ").replace("_", " ")
            article = "an" if kind[:1] in "aeiou" else "a"
            diagnostics.warn(f"reference '{ref.key}' has no {name}, which {style.name} prints "
                             f"for {article} {kind} (add {name}: to the entry)", ref.position.path,
                             ref.position.line)


def _warn_unused(project: Project, clusters: Sequence[markdown.Cluster],
                 diagnostics: Diagnostics, listed: int = 10) -> None:
    """A warning for each reference never cited (one summary line past ``listed``)."""
    cited = {item.key for cluster in clusters for item in cluster.items} | set(project.nocite)
    if "*" in cited:
        return
    unused = [ref for ref in project.references if ref.key not in cited]
    for ref in unused[:listed]:
        diagnostics.warn(f"reference '{ref.key}' is never cited", ref.position.path,
                         ref.position.line)
    if len(unused) > listed:
        diagnostics.warn(f"{len(unused) - listed} more references are never cited",
                         unused[listed].position.path)


def write_outputs(book: Book, request: BuildRequest, result: BuildResult,
                  progress: Progress = lambda *_: None, cache: Cache | None = None) -> None:
    """Phase 2: each requested format, all or none.

    A format whose output was built from exactly these inputs (the cache's record)
    is not written again.  The others, and the HTML page's fonts and images, are
    first staged beside their targets (``outputs.Staging``); only when every one has
    succeeded are they committed together, so a failure (a full disk too) or a stop
    (Ctrl-C, SIGTERM) leaves dist/ as it was.  The PDF (WeasyPrint's layout, the
    longest step) is made in a forked process while this one writes the EPUB and
    the HTML.
    """
    out_dir = request.out_dir or request.project_root / "dist"
    cache = cache or Cache(None)
    options = format_options(request, cache)
    record = cache.outputs(out_dir)
    targets = {fmt: out_dir / (html.page_name(book, options) if fmt == "html"
                               else f"{book.slug}.{fmt}") for fmt in request.formats}
    keys = _format_keys(book, request, options, targets)
    todo = [fmt for fmt in request.formats if not record.up_to_date(fmt, keys[fmt], targets[fmt])]
    for fmt in request.formats:
        if fmt not in todo:
            result.up_to_date.append(fmt)
            result.outputs[fmt] = targets[fmt]
            result.timings[fmt] = 0.0
            for stored in record.warnings(fmt):
                result.diagnostics.warn(_restored(stored))
    if "pdf" in todo:
        pdf.load_weasyprint()  # a missing system library stops the build before any file is written
    staging = Staging(out_dir)
    pages: dict[str, int] = {}  # the PDF's last page laid out, for the next build's progress
    try:
        with _output_errors(out_dir):
            remove_stale_temporaries(out_dir)  # a killed build's, even when nothing is written now
            if "html" in request.formats:  # its fonts and images (again, if they were deleted)
                html.stage_files(book, out_dir, options, staging)
            staged = {fmt: staging.path(targets[fmt]) for fmt in todo}
            written = _stage(book, out_dir, staged, options, result, progress, record, pages)
            warnings = {fmt: [Warning_(f"{fmt}: {w.message}", w.path, w.line, w.hint)
                              for w in written[fmt].warnings] for fmt in todo}
            if request.strict:  # (decided here for every format: the writers only report)
                raise_all([w.as_error() for fmt in todo for w in warnings[fmt]])
            check_terminated()  # (a SIGTERM whose exception a finalizer swallowed)
            staging.commit()
    finally:
        staging.discard()
    for fmt in todo:
        result.outputs[fmt] = targets[fmt]
        for warning in warnings[fmt]:
            result.diagnostics.warn(warning)
        record.record(fmt, keys[fmt], targets[fmt], [_stored(w) for w in warnings[fmt]],
                      pages.get("last") if fmt == "pdf" else None)
    if todo:
        record.save()


def _stage(book: Book, out_dir: Path, staged: dict[str, Path], options: Options,
           result: BuildResult, progress: Progress, record: Any,
           pages: dict[str, int]) -> dict[str, Written]:
    """Each format written at its ``staged`` path; the PDF in a forked process when
    there is more to do."""
    writers = {"pdf": pdf.write, "epub": epub.write, "html": html.write}
    todo = list(staged)
    written: dict[str, Written] = {}

    def page_done(page: int) -> None:
        pages["last"] = page
        progress("laying out the PDF", page, record.pages())

    def write(fmt: str, seen: Callable[[int], None]) -> Written:
        with _output_errors(out_dir, f"the {fmt.upper()} writer"), \
                _counting_pages(seen) if fmt == "pdf" else contextlib.nullcontext():
            return writers[fmt](book, staged[fmt], options)

    background = None
    try:
        if "pdf" in todo and len(todo) > 1 and can_fork():
            progress("writing the PDF in the background")
            background = Background(functools.partial(write, "pdf"), "the PDF process",
                                    "--to pdf")
        for fmt in todo:
            if fmt == "pdf" and background is not None:
                continue
            progress(f"writing {target_name(staged[fmt].name)}")
            start = time.perf_counter()
            written[fmt] = write(fmt, page_done)
            result.timings[fmt] = time.perf_counter() - start
        if background is not None:
            progress("laying out the PDF")
            written["pdf"], result.timings["pdf"] = background.wait(page_done)
    finally:
        if background is not None:
            background.stop()
            # the child's own temporaries (its process is gone, so they are stale)
            remove_stale_temporaries(out_dir, target_name(staged["pdf"].name))
    if "layouts" in written.get("pdf", Written()).stats:
        result.timings["pdf_layouts"] = written["pdf"].stats["layouts"]
    for name, value in written.get("pdf", Written()).stats.items():
        if name.startswith("chunk"):  # the PDF laid out in chunks (formats/pdf_chunks.py)
            result.timings[f"pdf_{name}"] = value
    return written


@contextlib.contextmanager
def _output_errors(out_dir: Path, writer: str | None = None) -> Iterator[None]:
    """A full disk while writing into ``out_dir`` is one error, for the whole folder; any
    other unexpected failure of a ``writer`` (a bug here or in WeasyPrint) is a crash, on
    one line too (``errors.crash``)."""
    try:
        yield
    except BuildError:
        raise
    except OSError as exc:
        if exc.errno in DISK_FULL:
            raise BuildError(f"cannot write the outputs: {exc.strerror}", out_dir,
                             hint="free some space on that disk, or choose another folder "
                                  "with --out", category="output") from None
        if writer is None:
            raise
        raise crash(writer, exc) from None
    except Exception as exc:
        if writer is None:
            raise
        raise crash(writer, exc) from None


def _format_keys(book: Book, request: BuildRequest, options: Options,
                 targets: dict[str, Path]) -> dict[str, str]:
    """What each output is made from: the rendered book, the theme, the files the book
    uses (images, the cover), the builder's code, and the options of that format."""
    root = request.project_root
    images = sorted({src for chapter in book.chapters for src in chapter.images})
    shared = cache_digest(
        code_version(), book.metadata, book.chapters, book.citations, book.slug,
        folder_digest(book.theme.folders), [(src, file_digest(root / src)) for src in images],
        [(p.name, file_digest(p)) for p in sorted((root / "book").glob("cover.*"))],
        str(root), request.strict, request.allow_remote, options.source_date_epoch)
    pdf_only = (options.page_size, options.print_ready, options.bleed, options.pdf_variant,
                options.toc, options.draft)
    html_only = options.html_split
    return {fmt: cache_digest(shared, fmt, pdf_only if fmt == "pdf" else
                              html_only if fmt == "html" else None, str(dest))
            for fmt, dest in targets.items()}


def _stored(warning: Warning_) -> list[Any]:
    """A format's warning as the output record keeps it (JSON), to be shown again when
    the format is up to date."""
    return [warning.message, str(warning.path) if warning.path else None, warning.line,
            warning.hint]


def _restored(stored: Any) -> Warning_:
    if isinstance(stored, str):  # (a record of an older build)
        return Warning_(stored)
    message, path, line, hint = stored
    return Warning_(message, Path(path) if path else None, line, hint)


@contextlib.contextmanager
def _counting_pages(seen: Callable[[int], None]) -> Iterator[None]:
    """WeasyPrint logs each page it lays out: ``seen(page)`` hears of each."""

    class Pages(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "Page" in str(record.msg) and isinstance(record.args, tuple) and record.args:
                seen(int(str(record.args[0])))
    logger = logging.getLogger("weasyprint.progress")
    handler, level = Pages(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def build(request: BuildRequest, progress: Progress = lambda *_: None) -> BuildResult:
    """Build the requested formats; ``progress(step, done, total)`` hears of each stage
    (``done`` and ``total`` when they are known: chapters parsed, PDF pages laid out)."""
    result = BuildResult()
    start = time.perf_counter()
    cache = Cache.for_project(request.project_root, request.cache)
    progress("reading sources")
    if "pdf" in request.formats:
        # a bad page size or variant: nothing read, nothing written
        pdf.check_options(format_options(request))
    # under --strict every warning counts: references lacking a field the style prints too
    book = prepare(request, result.diagnostics, result.timings, cache, progress,
                   fields=request.strict)
    if request.strict and result.diagnostics.warnings:
        raise_all([w.as_error() for w in result.diagnostics.warnings])
    write_outputs(book, request, result, progress, cache)
    result.timings["total"] = time.perf_counter() - start
    return result


def format_options(request: BuildRequest, cache: Cache | None = None) -> Options:
    return Options(request.project_root, request.strict, request.allow_remote,
                   _source_date_epoch(), request.page_size, request.print_ready, request.bleed,
                   request.pdf_variant, request.toc, cache, request.draft,
                   request.html_split, request.jobs)


def _source_date_epoch() -> int | None:
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise BuildError(f"SOURCE_DATE_EPOCH must be a number of seconds, not '{value}'") from None


def slugify(title: str) -> str:
    # casefold first: "Straße" gives "strasse", not "strae"
    text = unicodedata.normalize("NFKD", title.casefold()).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return slug[:60].rstrip("-") or "book"
