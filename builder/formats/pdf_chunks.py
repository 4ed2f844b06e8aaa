"""The PDF laid out in chunks, in parallel processes, and rebuilt chunk by chunk.

A theme whose chapters each start on a new page of a known side (``chapter-start:
right`` or ``left``: the book theme) cuts the book into independent chunks at those
points: the front matter (title page, imprint, contents), each chapter, the back matter
(the references, and what follows them).  Each chunk is a whole HTML document of its
own (the book's head and stylesheet, the chunk's part of the body) that WeasyPrint lays
out on its own: with the book's page side for its first page (the side the theme starts
chapters on), the footnote counter where the chunks before it left it, and the book's
title for the running heads.  Themes whose chapters run on (``any``, and ``page``, where
a chapter's side depends on every page before it) are laid out whole, as before.

Why the pages are the pages of the one-process layout.  The body of a chunk depends on
nothing before it but what is given to it above; the page numbers do, and WeasyPrint
sets them only in the page-margin boxes (folios, "Page X of Y"), which it makes after
the chunk's pagination is over.  So each chunk is laid out in two steps in one process:
(1) paginate, and report the page count and the pages of its anchors; (2) when every
chunk has reported (the page numbers are known), make the margin boxes with the chunk's
page offset and the book's page total, and write the chunk's PDF.  Between the two a
worker lays out its next chunk in another thread (the paused one waits inside
WeasyPrint, holding its layout).  The contents page (in the front chunk) gets its page
numbers as text, from the anchors the chunks reported: the theme's
``target-counter(attr(href), page)`` becomes ``attr(data-page)``.  A chunk that ends on
a page of the side the next one starts on is followed by a blank page, made by
WeasyPrint with the same stylesheet (``@page :blank``).  This is why no stamping is
needed: the margin boxes are WeasyPrint's own, made once, with the right numbers.

The chunk PDFs are joined with pypdf: pages in order, the outline (bookmarks) of each
chunk under one root, the named destinations (each from the chunk that has the
element), links kept across chunks (a chunk keeps its links to the others' anchors:
``_patched``), the catalogue's metadata, output intents and identifier taken from
the front chunk.  Each font is written once: the chunks' subsets of it are merged
glyph by glyph (:func:`merge_fonts`); the CMYK profile of ``--print`` is written once too
(:func:`one_cmyk_profile`).  The join's file is some 50% larger than
WeasyPrint's own (pypdf writes no object streams).

The layout of one chunk, :func:`layout_chunk`, is a pure top-level function of a
picklable :class:`ChunkTask` when the task carries its page offset (a cache or a
cluster can run it anywhere); the local pool (:func:`run_pool`, ``--jobs N`` forked
workers) also runs it without an offset, the two steps above.  Each chunk's result is
kept in the build cache (namespace ``pdf-chunks``) under the hash of everything it
depends on (its HTML, the stylesheet, the theme's files, the images, the options, and
its page offset, the book's page total and whether a blank page follows); its page
count and anchors (which do not depend on the offset) under the hash without those
(``pdf-pages``).  After editing a paragraph of one chapter only that chapter is laid
out again, unless its page count changes: then the chunks after it are laid out again
too (their numbers changed).

Not chunked: PDF/UA (its structure tree would have to be merged) and ``--jobs 1``.
"""
from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import threading
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, cast

from ..cache import Cache, code_version, digest, file_digest, folder_digest
from ..errors import BuildError, Warning_, crash
from ..outputs import atomic_path
from ..render import Book
from ..resources import make_url_fetcher
from ..themes import Theme
from . import Options, Written
from . import pdf as pdf_format

log = logging.getLogger(__name__)

_BOUNDARY = re.compile(r'<(/?)section\b([^>]*)>')
_CHUNK_CLASS = re.compile(r'\bclass="(?:[^"]*\s)?(?:chapter|bibliography)(?:\s[^"]*)?"')
_NOTE = re.compile(r'<span class="footnote"')
_TOC_LINK = re.compile(r'(<p class="toc-entry[^"]*"><a href="#([^"]+)")')
_TARGET_COUNTER = "target-counter(attr(href), page)"
_HREF = re.compile(r'href="#([^"]+)"')
_ID = re.compile(r'\bid="([^"]+)"')
UNCHUNKED_VARIANTS = ("pdf/ua-1",)


def jobs_for(options: Options) -> int:
    """``--jobs``, or the number of cores."""
    jobs = getattr(options, "jobs", None)
    return max(1, int(jobs)) if jobs else (os.cpu_count() or 1)


def wanted(layout: pdf_format.Layout, options: Options, html: str) -> bool:
    """Whether this PDF is laid out in chunks: more than one job, chapters that each start
    on a page of a known side, a variant whose structure needs no merging, and at least
    two chunks."""
    from ..processes import can_fork
    return (jobs_for(options) > 1 and can_fork() and layout.chapter_start in ("right", "left")
            and layout.variant not in UNCHUNKED_VARIANTS and len(split(html)[1]) > 2)


# --- cutting the document ------------------------------------------------------------


def split(html: str) -> tuple[str, list[str], str]:
    """The document's head (to the end of the ``<body>`` tag), the parts of its body (the
    front matter, then each top-level chapter or bibliography section with what follows
    it up to the next), and its tail (``</body>`` on)."""
    start = html.index(">", html.index("<body")) + 1
    end = html.rindex("</body>")
    body = html[start:end]
    cuts, depth = [], 0
    for match in _BOUNDARY.finditer(body):
        if match.group(1):
            depth -= 1
            continue
        if depth == 0 and _CHUNK_CLASS.search(match.group(2)):
            cuts.append(match.start())
        depth += 1
    if not cuts:
        return html[:start], [body], html[end:]
    ends = [*cuts[1:], len(body)]
    parts = [body[:cuts[0]]] + [body[a:b] for a, b in zip(cuts, ends, strict=True)]
    return html[:start], parts, html[end:]


def document_title(front: str) -> str:
    """The text of the title (``h1.title``), as the running heads' ``string(doc-title)``
    has it."""
    from lxml import html as lhtml
    match = re.search(r'<h1 class="title[^"]*"[^>]*>.*?</h1>', front, re.S)
    if not match:
        return ""
    return " ".join(lhtml.fragment_fromstring(match.group(0)).text_content().split())


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


# --- one chunk ------------------------------------------------------------------------


@dataclass(frozen=True)
class ChunkTask:
    """Everything one chunk's layout depends on (picklable)."""

    index: int
    html: str                      # the chunk's whole HTML document
    css: str                       # the book's stylesheet (parsed once per process)
    own_css: str                   # the chunk's own rules (page side, footnote counter)
    project_root: str
    theme: Theme
    allow_remote: bool
    layout: pdf_format.Layout
    pdf_options: dict[str, Any]
    slug: str
    dates: tuple[str, str]         # created, modified (PDF metadata)
    draft: bool
    external: tuple[str, ...]      # anchors this chunk links to that others have
    side: str                      # "right" or "left": its first page
    offset: int | None = None      # pages before it; None: asked once it is paginated
    total: int | None = None       # pages of the book
    blank_after: bool = False      # a blank page follows it

    def key(self) -> str:
        """The hash of what its pages depend on (not its page numbers)."""
        return digest(code_version(), "pdf-chunk", self.html, self.css, self.own_css,
                      self.project_root,
                      folder_digest(self.theme.folders), self.allow_remote, repr(self.layout),
                      sorted(self.pdf_options.items()), self.slug, self.dates,
                      self.draft, self.external, self.side)

    def numbered_key(self, base: str) -> str:
        return digest(base, self.offset, self.total, self.blank_after)


@dataclass
class ChunkResult:
    """A chunk laid out: its PDF, its page count (without the blank page after it), the
    first page (0-based, in the chunk) of each anchor, WeasyPrint's warnings, layouts."""

    pdf: bytes
    pages: int
    anchors: dict[str, int]
    messages: list[str] = field(default_factory=list)
    layouts: int = 1


Ask = Callable[[int, dict[str, int]], tuple[int, int, bool]]
_local = threading.local()


class _Relayout(Exception):  # noqa: N818 - not an error: lay the chunk out again
    def __init__(self, blocks: set[str]) -> None:
        super().__init__()
        self.blocks = blocks


class _Numbering:
    """The page numbers of the chunk being laid out in this thread."""

    def __init__(self, task: ChunkTask, ask: Ask | None, keep_notes: bool) -> None:
        self.task, self.ask, self.keep_notes = task, ask, keep_notes
        self.offset, self.total = task.offset, task.total
        self.blank_after = task.blank_after
        self.pages: list[Any] = []      # the page boxes of the last pagination
        self.anchors: dict[str, int] = {}
        self.count = 0

    def paginated(self, context: Any) -> None:
        """Pagination is over (WeasyPrint makes the first margin box): note the pages and
        anchors, have misplaced notes laid out again, and learn the page numbers."""
        self.count = len(self.pages)
        self.anchors = _box_anchors(self.pages)
        if self.keep_notes:
            view = types.SimpleNamespace(pages=[types.SimpleNamespace(
                anchors=dict.fromkeys(names), _page_box=box)
                for box, names in zip(self.pages, _anchors_by_page(self.pages), strict=True)])
            blocks = set(pdf_format.blocks_to_keep(view))
            if blocks:
                raise _Relayout(blocks)
        if self.offset is None:
            assert self.ask is not None
            self.offset, self.total, self.blank_after = self.ask(self.count, self.anchors)
        self.pages = []


def _anchors_by_page(pages: list[Any]) -> list[list[str]]:
    seen: set[str] = set()
    found = []
    for page in pages:
        names = []
        for box in page.descendants():
            name = box.style["anchor"]
            if name and name not in seen:
                seen.add(name)
                names.append(name)
        found.append(names)
    return found


def _box_anchors(pages: list[Any]) -> dict[str, int]:
    return {name: number for number, names in enumerate(_anchors_by_page(pages))
            for name in names}


@contextlib.contextmanager
def _patched(task: ChunkTask) -> Iterator[list[str]]:
    """The process-wide changes a chunk's layout needs, installed once per process (a
    worker lays out several chunks in threads): pdf.write's own (warnings collected,
    notes kept with their calls, fewer collections, a fixed document id), the page
    numbers of :class:`_Numbering`, and links to other chunks' anchors kept."""
    from weasyprint import layout as wlayout
    from weasyprint import pdf as wpdf
    make_all_pages, make_margin_boxes = wlayout.make_all_pages, wlayout.make_margin_boxes
    resolve_links = wpdf.resolve_links

    def all_pages(context: Any, root_box: Any, html: Any, pages: Any) -> Iterator[Any]:
        numbering = getattr(_local, "numbering", None)
        made = []
        for page in make_all_pages(context, root_box, html, pages):
            made.append(page)
            yield page
        if numbering is not None:
            numbering.pages = made

    def margin_boxes(context: Any, page: Any, state: Any) -> Any:
        numbering = getattr(_local, "numbering", None)
        if numbering is not None:
            if numbering.pages:
                numbering.paginated(context)
            quotes, counters, scopes, groups = state
            counters = dict(counters)
            counters["page"] = [value + numbering.offset for value in counters["page"]]
            counters["pages"] = [numbering.total]
            state = (quotes, counters, scopes, groups)
        return make_margin_boxes(context, page, state)

    def links(pages: list[Any]) -> Iterator[Any]:
        external = getattr(_local, "external", ())
        if not external or not pages:
            yield from resolve_links(pages)
            return
        first = pages[0].anchors
        added = [name for name in external if name not in first]
        first.update({name: (0, 0, 0, 0) for name in added})
        try:
            for number, (page_links, anchors) in enumerate(resolve_links(pages)):
                yield page_links, ([a for a in anchors if a[0] not in added]
                                   if number == 0 else anchors)
        finally:
            for name in added:
                first.pop(name, None)

    book = cast(Book, types.SimpleNamespace(slug=task.slug))
    with pdf_format._captured("weasyprint") as messages, pdf_format._fixed_document_id(book), \
            pdf_format._notes_stay_with_calls(), pdf_format._fewer_collections():
        wlayout.make_all_pages, wlayout.make_margin_boxes = all_pages, margin_boxes
        wpdf.resolve_links = links
        _MESSAGES[:] = [messages]
        try:
            yield messages
        finally:
            wlayout.make_all_pages, wlayout.make_margin_boxes = make_all_pages, make_margin_boxes
            wpdf.resolve_links = resolve_links
            _MESSAGES[:] = []


_MESSAGES: list[list[str]] = []  # what WeasyPrint said in this process (while patched)


_FONTS: dict[int, Any] = {}
_SHEETS: dict[tuple[int, str], tuple[Any, dict[str, Any]]] = {}


def _font_config() -> Any:
    """One FontConfiguration per process (as pdf.write has one for the book)."""
    from weasyprint.text.fonts import FontConfiguration
    return _FONTS.setdefault(os.getpid(), FontConfiguration())


def layout_chunk(task: ChunkTask, ask: Ask | None = None) -> ChunkResult:
    """Lay out one chunk and write its PDF.  Pure when ``task.offset`` is given;
    otherwise ``ask(pages, anchors)`` gives ``(offset, total, blank_after)`` once the
    chunk is paginated (and may wait for the other chunks)."""
    if getattr(_local, "patched", False):
        return _layout_chunk(task, ask)
    with _patched(task):
        _local.patched = True
        try:
            return _layout_chunk(task, ask)
        finally:
            _local.patched = False


def _layout_chunk(task: ChunkTask, ask: Ask | None) -> ChunkResult:
    weasyprint = pdf_format.load_weasyprint()
    layout = task.layout
    root = Path(task.project_root)
    fetcher = make_url_fetcher(root, task.theme, allow_remote=task.allow_remote)
    fetcher = pdf_format._svg_fetcher(fetcher, task.theme, cmyk=layout.print_ready)
    fonts = _font_config()
    parsed = _SHEETS.get((os.getpid(), task.css))
    if parsed is None:  # (one per process: every chunk has the book's stylesheet)
        profiles: dict[str, Any] = {}  # (filled from @color-profile: the output intent)
        parsed = (weasyprint.CSS(string=task.css, url_fetcher=fetcher, font_config=fonts,
                                 color_profiles=profiles), profiles)
        _SHEETS.clear()
        _SHEETS[(os.getpid(), task.css)] = parsed
    sheet, profiles = parsed
    own = [weasyprint.CSS(string=task.own_css)] if task.own_css else []
    kept: set[str] = set()
    layouts = 0
    _local.external = task.external
    try:
        while True:
            numbering = _Numbering(task, ask, keep_notes=not task.draft
                                   and layouts < pdf_format.MAX_RELAYOUTS)
            sheets = [sheet, *own] + ([weasyprint.CSS(string=pdf_format.keep_css(kept))]
                                      if kept else [])
            document = weasyprint.HTML(string=task.html, base_url=str(root),
                                       url_fetcher=fetcher)
            _local.numbering = numbering
            layouts += 1
            try:
                rendering = document.render(stylesheets=sheets, font_config=fonts,
                                            color_profiles=profiles, **task.pdf_options)
            except _Relayout as again:
                kept |= again.blocks
                continue
            finally:
                _local.numbering = None
            break
        messages = list(_MESSAGES[0]) if _MESSAGES else []
        shift = numbering.offset or 0
        for note, call_page, note_page in pdf_format.misplaced_notes(rendering):
            messages.append(f"footnote {note} is on page {note_page + shift}, "
                            f"its call on page {call_page + shift}")
        count, anchors = numbering.count, numbering.anchors
        if numbering.blank_after:
            rendering.pages.append(_blank_page(task, numbering, sheet, fetcher, fonts,
                                               profiles))
        rendering.metadata.created, rendering.metadata.modified = task.dates
        if layout.variant and layout.variant.startswith("pdf/a") and rendering.metadata.authors:
            # PDF/A: Info's Author must equal the one entry of XMP's dc:creator
            rendering.metadata.authors = [", ".join(rendering.metadata.authors)]
        finisher = pdf_format._Finisher(layout, None)
        out = io.BytesIO()
        options = dict(task.pdf_options)
        rendering.write_pdf(out, finisher=finisher, **options)
    finally:
        _local.external = ()
    return ChunkResult(out.getvalue(), count, anchors, messages, layouts)


def _blank_page(task: ChunkTask, numbering: _Numbering, sheet: Any, fetcher: Any,
                fonts: Any, profiles: Any) -> Any:
    """The blank page after a chunk, as WeasyPrint makes it in a whole book (``@page
    :blank``): the second page of a document whose second element starts on the side
    after it."""
    weasyprint = pdf_format.load_weasyprint()
    side = "left" if task.side == "right" else "right"  # the blank page's own side
    start = "right" if side == "left" else "left"
    html = (f'<html style="break-before: {start}"><body><div></div>'
            f'<div style="break-before: {task.side}"></div></body></html>')
    blank = _Numbering(replace(task, offset=(numbering.offset or 0) + numbering.count - 1),
                       None, keep_notes=False)
    _local.numbering = blank
    try:
        rendering = weasyprint.HTML(string=html, url_fetcher=fetcher).render(
            stylesheets=[sheet], font_config=fonts, color_profiles=profiles,
            **task.pdf_options)
    finally:
        _local.numbering = None
    return rendering.pages[1]


# --- the pool ---------------------------------------------------------------------------


def _serve(connection: Any) -> None:
    """A worker: lay out each chunk it is sent in a thread of its own; one thread runs at
    a time (the one just started, or the one whose page numbers just came)."""
    threading.stack_size(64 * 1024 * 1024)
    waiting: dict[int, tuple[threading.Event, list[Any]]] = {}
    stopped = threading.Event()

    def run(task: ChunkTask) -> None:
        def ask(pages: int, anchors: dict[str, int]) -> tuple[int, int, bool]:
            event = threading.Event()
            answer: list[Any] = []
            waiting[task.index] = (event, answer)
            connection.send(("paginated", task.index, pages, anchors))
            stopped.set()
            event.wait()
            return cast(tuple[int, int, bool], answer[0])
        try:
            result = layout_chunk(task, ask if task.offset is None else None)
            connection.send(("done", task.index, result))
        except BuildError as exc:
            connection.send(("error", task.index, _fields(exc)))
        except BaseException as exc:  # noqa: BLE001 - shown by the parent, on one line
            connection.send(("error", task.index, _fields(crash("the PDF chunk", exc))))
        finally:
            stopped.set()

    first = None
    with contextlib.ExitStack() as stack:
        while True:
            message = connection.recv()
            if message[0] == "stop":
                break
            if first is None:  # the process-wide patches, once, for every thread
                first = message[1] if message[0] == "layout" else None
                if first is not None:
                    stack.enter_context(_patched(first))
            stopped.clear()
            if message[0] == "layout":
                thread = threading.Thread(target=_run_patched, args=(run, message[1]),
                                          daemon=True)
                thread.start()
            else:  # ("numbers", index, offset, total, blank_after)
                event, answer = waiting.pop(message[1])
                answer.append(tuple(message[2:]))
                event.set()
            stopped.wait()


def _run_patched(run: Callable[[ChunkTask], None], task: ChunkTask) -> None:
    _local.patched = True
    run(task)


def _fields(exc: BuildError) -> tuple[Any, ...]:
    return (exc.message, exc.path, exc.line, exc.col, exc.hint, exc.category, exc.details)


class Pool:
    """``jobs`` forked workers serving :func:`_serve`."""

    def __init__(self, jobs: int) -> None:
        from ..processes import fork_worker
        self.workers: list[tuple[int, Any]] = []
        self.cpu: list[float] = []  # each worker's CPU seconds, once it has exited
        for _ in range(jobs):
            self.workers.append(fork_worker(_serve))

    def close(self) -> None:
        import signal
        for pid, connection in self.workers:
            with contextlib.suppress(OSError):
                connection.send(("stop",))
            with contextlib.suppress(OSError):
                connection.close()
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)
            with contextlib.suppress(OSError, ChildProcessError):
                _, _, usage = os.wait4(pid, 0)
                self.cpu.append(usage.ru_utime + usage.ru_stime)


# --- the book ----------------------------------------------------------------------------


@dataclass
class _Plan:
    offsets: list[int]
    blanks: list[bool]
    total: int


def _plan(counts: list[int], sides: list[str]) -> _Plan:
    """Each chunk's page offset, whether a blank page follows it, the book's total."""
    offsets, blanks = [], []
    position = 0
    for number, count in enumerate(counts):
        offsets.append(position)
        position += count
        following = sides[number + 1] if number + 1 < len(counts) else None
        # (a right-hand page has an odd number: page 1 is a right-hand page)
        blank = following is not None and ((position + 1) % 2 == 1) != (following == "right")
        blanks.append(blank)
        position += blank
    return _Plan(offsets, blanks, position)


def write(book: Book, dest: Path, options: Options, layout: pdf_format.Layout, html: str,
          css: str) -> Written:
    """The PDF of ``book`` laid out in chunks (see the module's docstring)."""
    started, cpu = time.perf_counter(), time.process_time()
    cache = options.cache if isinstance(options.cache, Cache) else Cache(None)
    head, parts, tail = split(html)
    side = layout.chapter_start
    title = document_title(parts[0])
    ids = [set(_ID.findall(part)) for part in parts]
    tasks: list[ChunkTask] = []
    notes = 0
    metadata = types.SimpleNamespace()
    pdf_format._set_dates(metadata, book, options)
    pdf_options: dict[str, Any] = {"pdf_identifier": pdf_format._identifier(book),
                                   "pdf_variant": layout.variant}
    if layout.print_ready:
        pdf_options["output_intent"] = "device-cmyk"
    for number, part in enumerate(parts):
        rules = [f"html {{ counter-reset: footnote {notes}; }}"] if notes else []
        if number:
            rules.append(f"html {{ break-before: {side}; string-set: doc-title "
                         f"{_css_string(title)}; }}")
        notes += len(_NOTE.findall(part))
        own = ids[number]
        external = tuple(sorted({name for name in _HREF.findall(part) if name not in own}))
        tasks.append(ChunkTask(
            number, head + part + tail, css, "\n".join(rules),
            str(options.project_root), book.theme, options.allow_remote, layout, pdf_options,
            book.slug, (metadata.created, metadata.modified), options.draft,
            external, side if number else "right"))
    images = digest(sorted((src, file_digest(Path(str(options.project_root)) / src))
                           for chapter in book.chapters for src in chapter.images))
    keys = [digest(task.key(), images) for task in tasks]
    try:
        results, stats = _lay_out(tasks, keys, cache, jobs_for(options))
    finally:  # (the front chunk's stylesheet and fonts, parsed in this process)
        _SHEETS.clear()
        _FONTS.pop(os.getpid(), None)
    laid_out = time.perf_counter()
    with atomic_path(dest) as tmp:
        join(results, tmp)
    messages = list(dict.fromkeys(m for result in results for m in result.messages))
    stats.update({"layouts": max(result.layouts for result in results), "chunks": len(tasks),
                  "chunk_layout_s": laid_out - started,
                  "chunk_join_s": time.perf_counter() - laid_out,
                  "chunk_parent_cpu_s": time.process_time() - cpu})
    return Written([Warning_(pdf_format._theme_place(m, book, css)) for m in messages], stats)


def _front(task: ChunkTask, plan: _Plan | None, anchors: list[dict[str, int]]) -> ChunkTask:
    """The front chunk with the contents' page numbers written in (each heading's page:
    its chunk's offset and its page there), or placeholders before they are known."""
    numbers: dict[str, str] = {}
    if plan is not None:
        for number, found in enumerate(anchors):
            for name, page in found.items():
                numbers.setdefault(name, str(plan.offsets[number] + page + 1))

    def entry(match: re.Match[str]) -> str:
        return f'{match.group(1)} data-page="{numbers.get(match.group(2), "0")}"'
    return replace(task, html=_TOC_LINK.sub(entry, task.html),
                   css=task.css.replace(_TARGET_COUNTER, "attr(data-page)"), offset=0,
                   total=plan.total if plan else 0,
                   blank_after=plan.blanks[0] if plan else False)


class _Dispatch:
    """The pool's workers, one message outstanding at each: a message gets one answer
    ("paginated", "done" or "error")."""

    def __init__(self, jobs: int) -> None:
        self.pool = Pool(jobs)
        self.free = list(range(jobs))
        self.queues: dict[int, list[Any]] = {n: [] for n in range(jobs)}

    def send(self, worker: int, message: Any) -> None:
        self.free.remove(worker)
        self.pool.workers[worker][1].send(message)

    def feed(self, shared: list[Any]) -> None:
        """Each free worker its own next message, or the next of ``shared``."""
        for worker in list(self.free):
            if self.queues[worker]:
                self.send(worker, self.queues[worker].pop(0))
            elif shared:
                self.send(worker, shared.pop(0))

    def receive(self) -> tuple[int, Any]:
        from multiprocessing.connection import wait
        connections = {connection: n for n, (_, connection) in enumerate(self.pool.workers)
                       if n not in self.free}
        connection = cast(Any, wait(list(connections))[0])
        try:
            message = connection.recv()
        except EOFError:
            raise BuildError("a PDF worker process stopped",
                             hint="run again; if it happens again, build with --jobs 1") from None
        self.free.append(connections[connection])
        if message[0] == "error":
            raise BuildError(*cast(tuple[Any, ...], message[2]))
        return connections[connection], message


def _lay_out(tasks: list[ChunkTask], keys: list[str], cache: Cache,
             jobs: int) -> tuple[list[ChunkResult], dict[str, Any]]:
    """Every chunk's result: from the cache, or laid out in the pool (the chunks whose
    page counts are not known in two steps, the others as whole tasks); the front chunk
    in this process, meanwhile.  The chunks are given their numbers as soon as every
    body chunk is paginated, from the contents' length with placeholder numbers; should
    the real numbers change that length, the chunks laid out for the old numbers are
    laid out again."""
    started = time.perf_counter()
    count = len(tasks)
    sides = [task.side for task in tasks]
    counts: list[int | None] = [None] * count
    anchors: list[dict[str, int]] = [{} for _ in range(count)]
    for number in range(count):
        known = cache.load("pdf-pages", keys[number])
        if known is not None:
            counts[number], anchors[number] = known
    results: list[ChunkResult | None] = [None] * count
    stats: dict[str, Any] = {"chunks_laid_out": 0, "chunks_cached": 0}
    sent: dict[int, tuple[int | None, int | None, bool]] = {}  # the numbers each was given

    def front(plan: _Plan | None) -> ChunkResult:
        task = _front(tasks[0], plan, anchors)
        key = digest(keys[0], task.html, task.css, task.own_css, task.total, task.blank_after)
        found = cache.load("pdf-chunks", key)
        if isinstance(found, ChunkResult):
            stats["chunks_cached"] += 1
            return found
        result = layout_chunk(task)
        stats["chunks_laid_out"] += 1
        cache.store("pdf-chunks", key, result)
        return result

    def numbered(plan: _Plan) -> list[Any]:
        """Each body chunk given its numbers: from the cache, or to lay out (returned)."""
        todo = []
        for number in range(1, count):
            task = tasks[number] = replace(tasks[number], offset=plan.offsets[number],
                                           total=plan.total, blank_after=plan.blanks[number])
            if number in held:
                assert dispatch is not None
                dispatch.queues[held.pop(number)].append(
                    ("numbers", number, task.offset, task.total, task.blank_after))
                sent[number] = (task.offset, task.total, task.blank_after)
                continue
            if number in sent:
                continue  # (being laid out: checked when it comes back)
            found = cache.load("pdf-chunks", task.numbered_key(keys[number]))
            if isinstance(found, ChunkResult) and found.pages == counts[number]:
                results[number] = found
                stats["chunks_cached"] += 1
            else:
                results[number] = None
                todo.append(("layout", task))
                sent[number] = (task.offset, task.total, task.blank_after)
        return todo

    unknown = sorted((n for n in range(1, count) if counts[n] is None),
                     key=lambda n: -len(tasks[n].html))
    dispatch: _Dispatch | None = None
    held: dict[int, int] = {}  # a paused chunk -> its worker
    try:
        queue = [("layout", tasks[n]) for n in unknown]
        if unknown:
            dispatch = _Dispatch(min(jobs, len(unknown)))
            dispatch.feed(queue)
        if counts[0] is None:  # the contents' length, with placeholder numbers
            placeholder = front(None)
            counts[0], anchors[0] = placeholder.pages, placeholder.anchors
            cache.store("pdf-pages", keys[0], (counts[0], anchors[0]))
        while dispatch is not None and any(c is None for c in counts):
            worker, message = dispatch.receive()
            number = message[1]
            counts[number], anchors[number] = message[2], message[3]
            cache.store("pdf-pages", keys[number], (message[2], message[3]))
            held[number] = worker
            dispatch.feed(queue)
        numbers_at = time.perf_counter()  # every page count known
        plan = _plan(cast(list[int], counts), sides)
        todo = numbered(plan)
        if todo and dispatch is None:
            dispatch = _Dispatch(min(jobs, len(todo)))
        if dispatch is not None:
            dispatch.feed(todo)  # the workers go on while the contents are laid out here
        laid = results[0] = front(plan)
        if laid.pages != counts[0]:  # the real numbers changed the contents' length
            counts[0], anchors[0] = laid.pages, laid.anchors
            cache.store("pdf-pages", keys[0], (counts[0], anchors[0]))
            plan = _plan(cast(list[int], counts), sides)
            results[0] = front(plan)
            todo += numbered(plan)
            if todo and dispatch is None:
                dispatch = _Dispatch(min(jobs, len(todo)))
        while any(result is None for result in results):
            assert dispatch is not None
            dispatch.feed(todo)
            worker, message = dispatch.receive()
            number, result = message[1], message[2]
            task = tasks[number]
            given = sent.pop(number, None)
            stats["chunks_laid_out"] += 1
            cache.store("pdf-chunks", replace(task, offset=given[0], total=given[1],
                                              blank_after=given[2]).numbered_key(keys[number])
                        if given else task.numbered_key(keys[number]), result)
            if given == (task.offset, task.total, task.blank_after):
                results[number] = result
            else:  # laid out for the numbers before the contents changed length
                todo.append(("layout", task))
                sent[number] = (task.offset, task.total, task.blank_after)
        stats["chunk_numbers_s"] = numbers_at - started
    finally:
        if dispatch is not None:
            dispatch.pool.close()
            if dispatch.pool.cpu:  # the critical path on an idle machine: the busiest worker
                stats["chunk_worker_cpu_max_s"] = max(dispatch.pool.cpu)
                stats["chunk_worker_cpu_sum_s"] = sum(dispatch.pool.cpu)
    return cast(list[ChunkResult], results), stats


# --- joining ---------------------------------------------------------------------------


_OWN_KEYS = ("/Type", "/Pages", "/Outlines", "/Names", "/StructTreeRoot", "/AcroForm",
             "/PageMode")


def join(results: list[ChunkResult], target: Path) -> None:
    """The chunks' PDFs as one: pages, outline, named destinations, links, metadata."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import (
        ArrayObject,
        DictionaryObject,
        FloatObject,
        NameObject,
        NumberObject,
        TextStringObject,
    )
    writer = PdfWriter()
    readers = [PdfReader(io.BytesIO(result.pdf)) for result in results]
    firsts = []
    for reader in readers:
        firsts.append(len(writer.pages))
        for page in reader.pages:
            writer.add_page(page)
    front = readers[0]
    writer.pdf_header = front.pdf_header
    root = cast(DictionaryObject, front.trailer["/Root"])
    for name, value in root.items():
        if name not in _OWN_KEYS:
            writer._root_object[NameObject(name)] = value.clone(writer)
    if front.metadata:
        writer.add_metadata(dict(front.metadata))
    if "/ID" in front.trailer:
        writer._ID = cast(ArrayObject, front.trailer["/ID"]).clone(writer)
    # named destinations: each from the chunk whose layout has it
    names = []
    for number, (reader, result) in enumerate(zip(readers, results, strict=True)):
        own = result.anchors
        for name, dest in reader.named_destinations.items():
            if name in own:
                at = reader.get_destination_page_number(dest) or 0
                page = writer.pages[firsts[number] + at]
                names.append((name, ArrayObject([page.indirect_reference, NameObject("/XYZ"),
                                                 FloatObject(dest.left or 0),
                                                 FloatObject(dest.top or 0),
                                                 NumberObject(0)])))
    names.sort(key=lambda item: item[0])
    flat = ArrayObject()
    for name, array in names:
        flat.extend([TextStringObject(name), array])
    writer._root_object[NameObject("/Names")] = DictionaryObject(
        {NameObject("/Dests"): DictionaryObject({NameObject("/Names"): flat})})
    # the outline: each chunk's under one root, in order
    from pypdf.generic import Fit

    def outline(items: list[Any], reader: Any, first: int, parent: Any) -> None:
        last = None
        for item in items:
            if isinstance(item, list):
                if last is not None:
                    outline(item, reader, first, last)
                continue
            page = first + reader.get_destination_page_number(item)
            count = item.get("/Count", 0)
            last = writer.add_outline_item(
                title=str(item.title), page_number=page, parent=parent,
                fit=Fit.xyz(item.left, item.top, 0), is_open=not (count and count < 0))
    for reader, first in zip(readers, firsts, strict=True):
        outline(reader.outline, reader, first, None)
    if "/PageMode" in root:
        writer._root_object[NameObject("/PageMode")] = root["/PageMode"]
    merge_fonts(writer)
    one_cmyk_profile(writer)
    with open(target, "wb") as handle:
        writer.write(handle)


# --- one copy of each font -----------------------------------------------------------------


def merge_fonts(writer: Any) -> None:
    """Each font once: the chunks' subsets of one font (WeasyPrint gives them the same
    name, and keeps each glyph at its number in the font: HarfBuzz's retain-gids) become
    one font program holding every glyph any chunk used, with the widths and the text
    mapping (ToUnicode) of all; every page then uses that one.  A font that is not a
    TrueType CID font, or whose subsets do not agree on the glyph order, is left as it
    is (a copy per chunk)."""
    from pypdf.generic import DictionaryObject, NameObject
    uses: dict[str, list[tuple[Any, Any, Any]]] = {}
    for page in writer.pages:
        resources = page.get("/Resources")
        fonts = resources.get_object().get("/Font") if resources is not None else None
        if fonts is None:
            continue
        fonts = fonts.get_object()
        for key, reference in list(fonts.items()):
            font = reference.get_object()
            if font.get("/Subtype") == "/Type0":
                uses.setdefault(str(font.get("/BaseFont")), []).append((fonts, key, reference))
    for uses_of_one in uses.values():
        distinct: dict[int, Any] = {}
        for _, _, reference in uses_of_one:
            distinct.setdefault(getattr(reference, "idnum", id(reference)), reference)
        if len(distinct) < 2:
            continue
        fonts = [reference.get_object() for reference in distinct.values()]
        try:
            merged = _merged_font(fonts)
        except Exception as exc:  # noqa: BLE001 - keep the copies: still a valid PDF
            log.debug("font %s not merged: %s", fonts[0].get("/BaseFont"), exc)
            continue
        if not merged:
            continue
        canonical = next(iter(distinct.values()))
        for holder, key, _ in uses_of_one:
            cast(DictionaryObject, holder)[NameObject(key)] = canonical
        for reference in list(distinct.values())[1:]:  # the other copies, now unused
            _drop(writer, reference)


def one_cmyk_profile(writer: Any) -> None:
    """Every ``device-cmyk`` colour space (``--print``) on one ICC stream, the first page's.
    Each chunk embeds the profile; a worker that has parsed the stylesheet before
    serialises it anew, with other bytes, so which chunk held which copy changed from run
    to run (the PDF was not byte-identical) and the book carried one copy per chunk.
    The pages' resources are searched, and those of the forms they draw."""
    from pypdf.generic import ArrayObject, IndirectObject, NameObject, NullObject
    shared: list[Any] = []
    dropped: set[int] = set()
    seen: set[int] = set()

    def visit(resources: Any) -> None:
        if resources is None or id(resources.get_object()) in seen:
            return
        resources = resources.get_object()
        seen.add(id(resources))
        spaces = resources.get("/ColorSpace")
        for key, space in list(spaces.get_object().items()) if spaces is not None else ():
            space = space.get_object()
            if not (isinstance(space, ArrayObject) and len(space) == 2
                    and space[0] == "/ICCBased" and isinstance(space[1], IndirectObject)
                    and cast(Any, space[1].get_object()).get("/N") == 4):
                continue
            if not shared:
                shared.append(space[1])
            elif space[1].idnum != shared[0].idnum:
                dropped.add(space[1].idnum)
                spaces.get_object()[NameObject(key)] = ArrayObject(
                    [NameObject("/ICCBased"), shared[0]])
        forms = resources.get("/XObject")
        for form in forms.get_object().values() if forms is not None else ():
            if form.get_object().get("/Subtype") == "/Form":
                visit(form.get_object().get("/Resources"))

    for page in writer.pages:
        visit(page.get("/Resources"))
    for idnum in dropped:  # (pypdf writes every object it was given, referenced or not)
        writer._objects[idnum - 1] = NullObject()


def _drop(writer: Any, reference: Any) -> None:
    """A merged-away font, its descendant, descriptor, program and ToUnicode: written as
    nulls (pypdf writes every object it was given, referenced or not)."""
    from pypdf.generic import IndirectObject, NullObject
    font = reference.get_object()
    found = [reference, font.get("/ToUnicode")]
    for descendant in font.get("/DescendantFonts", []):
        found.append(descendant)
        descriptor = descendant.get_object().get("/FontDescriptor")
        found += [descriptor, descriptor.get_object().get("/FontFile2") if descriptor else None]
    for item in found:
        if isinstance(item, IndirectObject) and item.pdf is writer:
            writer._objects[item.idnum - 1] = NullObject()


def _merged_font(fonts: list[Any]) -> bool:
    """Merge the glyphs, widths and ToUnicode of ``fonts`` (Type0 dicts) into the first."""
    from fontTools.ttLib import TTFont
    from pypdf.generic import ArrayObject, NameObject, NumberObject
    descendants = [font["/DescendantFonts"][0].get_object() for font in fonts]
    if any(d.get("/Subtype") != "/CIDFontType2" or d.get("/CIDToGIDMap") != "/Identity"
           or "/FontFile2" not in d["/FontDescriptor"].get_object() for d in descendants):
        return False
    programs = [d["/FontDescriptor"].get_object()["/FontFile2"].get_object()
                for d in descendants]
    faces = [TTFont(io.BytesIO(program.get_data()), lazy=True) for program in programs]
    largest = max(range(len(faces)), key=lambda n: len(faces[n].getGlyphOrder()))
    base = faces[largest]
    order = base.getGlyphOrder()
    glyf, hmtx = base["glyf"], base["hmtx"]
    for face in faces:
        if face is base:
            continue
        # the glyph names differ from subset to subset (they come from each one's cmap):
        # glyphs are matched by number, and a composite's parts renamed to the base's names
        other = face.getGlyphOrder()
        for gid, name in enumerate(other):
            glyph = face["glyf"][name]
            if glyph.numberOfContours == 0 or glyf[order[gid]].numberOfContours != 0:
                continue
            if glyph.isComposite():
                glyph.expand(face["glyf"])
                for component in glyph.components:
                    component.glyphName = order[face.getGlyphID(component.glyphName)]
            glyf[order[gid]] = glyph
            hmtx[order[gid]] = face["hmtx"][name]
    data = io.BytesIO()
    base.save(data)
    target = programs[0]
    target.set_data(data.getvalue())
    if "/Length1" in target:
        target[NameObject("/Length1")] = NumberObject(len(data.getvalue()))
    widths: dict[int, int] = {}
    for descendant in descendants:
        widths.update(_widths(descendant.get("/W", [])))
    array = ArrayObject()
    for cid in sorted(widths):
        array.extend([NumberObject(cid), ArrayObject([NumberObject(widths[cid])])])
    descendants[0][NameObject("/W")] = array
    unicode: dict[str, str] = {}
    if any(b"bfrange" in font["/ToUnicode"].get_object().get_data() for font in fonts
           if "/ToUnicode" in font):
        return False
    for font in fonts:
        if "/ToUnicode" in font:
            unicode.update(_bfchars(font["/ToUnicode"].get_object().get_data()))
    if "/ToUnicode" in fonts[0]:
        fonts[0]["/ToUnicode"].get_object().set_data(_cmap(unicode))
    return True


def _widths(array: Any) -> dict[int, int]:
    """A CID font's /W: ``c [w1 w2 ...]`` and ``c_first c_last w``."""
    found: dict[int, int] = {}
    items = list(array)
    i = 0
    while i < len(items):
        first = int(items[i])
        follow = items[i + 1].get_object() if hasattr(items[i + 1], "get_object") else items[i + 1]
        if isinstance(follow, list):
            for offset, width in enumerate(follow):
                found[first + offset] = int(width)
            i += 2
        else:
            for cid in range(first, int(follow) + 1):
                found[cid] = int(items[i + 2])
            i += 3
    return found


_BFCHAR = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]*)>")


def _bfchars(data: bytes) -> dict[str, str]:
    """The ``bfchar`` pairs of a ToUnicode CMap as WeasyPrint writes it."""
    found = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        for code, text in _BFCHAR.findall(block):
            found[code.decode("ascii").lower()] = text.decode("ascii")
    return found


def _cmap(pairs: dict[str, str]) -> bytes:
    lines = ["/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap",
             "/CIDSystemInfo", "<< /Registry (Adobe)", "/Ordering (UCS)", "/Supplement 0",
             ">> def", "/CMapName /Adobe-Identity-UCS def", "/CMapType 2 def",
             "1 begincodespacerange", "<0000> <ffff>", "endcodespacerange"]
    codes = sorted(pairs)
    for start in range(0, len(codes), 100):  # at most 100 entries a block
        block = codes[start:start + 100]
        lines.append(f"{len(block)} beginbfchar")
        lines += [f"<{code}> <{pairs[code]}>" for code in block]
        lines.append("endbfchar")
    lines += ["endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end"]
    return "\n".join(lines).encode("ascii")
