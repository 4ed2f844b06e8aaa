"""The PDF: WeasyPrint lays out the document with the print stylesheet.

The chapters are written for print (``render.chapter_html(chapter, "pdf")``): each
note's text at its call, where ``float: footnote`` puts it at the foot of the page;
math as vector paths; long code lines wrapped; blocks keyed (``data-block``) so that
a paragraph can be started on the next page (see below).  WeasyPrint only logs
problems (bad CSS, missing images): they are caught and reported as warnings,
and ``--strict`` makes them errors (the previous PDF is then left as it was).

The page comes from the theme (``page:`` in theme.yml) and the options: size,
margins (mirrored for books), where chapters start, a table of contents.
Variants:

- ``--print`` (PDF/X-4): the page grows by the bleed (3 mm) and room for crop
  marks, which are drawn here in CMYK registration colour outside the BleedBox;
  every colour of the stylesheets and SVG images becomes ``device-cmyk()``; the
  output intent is the theme's CMYK profile; links are left out (no
  annotations on a page that goes to press).
- ``--pdf-variant pdf/a-3b`` (and 1b, 2b): WeasyPrint's PDF/A with an sRGB
  output intent; ``pdf/ua-1``: tagged, and the tags WeasyPrint leaves generic
  are fixed here (footnotes become Note, the contents TOC/TOCI, running heads
  and page numbers artifacts).

With SOURCE_DATE_EPOCH set the file is byte-identical from one build to the next.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..document import nodes, walk
from ..errors import BuildError, MissingSystemLibrary, Warning_, display_path, raise_all
from ..highlight import wrap_columns
from ..outputs import atomic_path
from ..render import Book, render_document
from ..resources import make_url_fetcher
from ..themes import Theme, font_face_css
from . import Options, Written

log = logging.getLogger(__name__)

# Named sizes (portrait, width x height).  "6x9" is the US trade paperback, in inches.
PAGE_SIZES: dict[str, tuple[str, str]] = {
    "a4": ("210mm", "297mm"),
    "a5": ("148mm", "210mm"),
    "b5": ("176mm", "250mm"),
    "letter": ("8.5in", "11in"),
    "6x9": ("6in", "9in"),
    "trade": ("6in", "9in"),
}
UNITS_MM = {"mm": 1.0, "cm": 10.0, "in": 25.4, "pt": 25.4 / 72}
VARIANTS = ("pdf/a-1b", "pdf/a-2b", "pdf/a-3b", "pdf/a-2u", "pdf/a-3u", "pdf/ua-1", "pdf/x-4")
MARK_OFFSET_MM = 2.0   # crop marks start this far outside the BleedBox
MARK_LENGTH_MM = 6.0   # and are this long
_LENGTH = r"(\d+(?:\.\d+)?)\s*(mm|cm|in|pt)?"


@dataclass(frozen=True)
class Layout:
    """The page and the variant of one PDF, theme and options resolved."""

    width: str
    height: str
    margins: dict[str, str]
    mirror: bool
    chapter_start: str
    toc: bool
    variant: str | None
    print_ready: bool
    bleed_mm: float
    marks: bool
    output_condition: str | None = None
    profile: Path | None = None
    measure: str | None = None  # the widest text column; the margins grow to keep to it
    tags: bool = False          # the tags line at the end (the HTML and the EPUB have it)
    notes: list[str] = field(default_factory=list, compare=False)

    @property
    def media_bleed_mm(self) -> float:
        """The CSS bleed: the real bleed plus the room the crop marks need."""
        if not self.print_ready:
            return 0.0
        return self.bleed_mm + (MARK_OFFSET_MM + MARK_LENGTH_MM + 1.0 if self.marks else 0.0)


def load_weasyprint() -> Any:
    """WeasyPrint, or a clear message when Pango (its system library) is missing."""
    try:
        import weasyprint
    except ImportError as exc:
        raise MissingSystemLibrary(f"WeasyPrint is not installed ({exc})",
                                   hint="run ./dev.sh build, or pip install -e .") from None
    except OSError as exc:
        raise MissingSystemLibrary(
            f"WeasyPrint cannot load its system libraries ({exc})",
            hint="install Pango: sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0") from None
    return weasyprint


# --- options ---------------------------------------------------------------------------


def parse_page_size(text: str) -> tuple[str, str]:
    """``A4``, ``letter``, ``6x9``, ``170x240mm``, ``6inx9in``, ``17cm x 24cm`` → CSS lengths."""
    key = text.strip().lower().replace(" ", "")
    if key in PAGE_SIZES:
        return PAGE_SIZES[key]
    match = re.fullmatch(rf"{_LENGTH}x{_LENGTH}", key)
    if not match:
        raise BuildError(f"unknown page size '{text}'", category="usage",
                         hint="A4, Letter, A5, B5, 6x9, or WIDTHxHEIGHT with units such as "
                              "170x240mm or 6x9in")
    width, wunit, height, hunit = match.groups()
    unit = hunit or wunit
    if unit is None:
        raise BuildError(f"page size '{text}' has no unit", category="usage",
                         hint="add mm, cm, in or pt: 170x240mm")
    wunit = wunit or unit
    for value, u in ((width, wunit), (height, unit)):
        mm = float(value) * UNITS_MM[u]
        if not 50 <= mm <= 1200:
            raise BuildError(f"page size '{text}' is out of range (50 mm to 1.2 m a side)",
                             category="usage")
    return f"{width}{wunit}", f"{height}{unit}"


def parse_length_mm(text: str, what: str) -> float:
    match = re.fullmatch(_LENGTH, str(text).strip().lower())
    if not match or (match.group(2) is None and float(match.group(1)) != 0):
        raise BuildError(f"{what} '{text}' is not a length", category="usage",
                         hint="a number with mm, cm, in or pt, such as 3mm")
    return float(match.group(1)) * UNITS_MM[match.group(2) or "mm"]


def check_options(options: Options) -> None:
    """Bad PDF options are usage errors, found before anything is read."""
    if options.page_size is not None:
        parse_page_size(options.page_size)
    variant = options.pdf_variant.lower() if options.pdf_variant else None
    if options.bleed is not None:
        if not (options.print_ready or variant == "pdf/x-4"):
            raise BuildError("--bleed needs --print", category="usage",
                             hint="bleed and crop marks are for the print shop's PDF")
        if not 0 <= parse_length_mm(options.bleed, "bleed") <= 25:
            raise BuildError(f"bleed '{options.bleed}' is out of range (0 to 25 mm)",
                             category="usage")
    variant = options.pdf_variant.lower() if options.pdf_variant else None
    if variant is not None and variant not in VARIANTS:
        raise BuildError(f"unknown PDF variant '{options.pdf_variant}'", category="usage",
                         hint="choose from " + ", ".join(VARIANTS))
    if options.print_ready and variant not in (None, "pdf/x-4"):
        raise BuildError(f"--print makes a PDF/X-4 file: it cannot also be {variant}",
                         category="usage", hint="build the archive or accessible PDF separately")


def layout_for(theme: Theme, options: Options) -> Layout:
    """Theme settings, overridden by the command line."""
    check_options(options)
    page = theme.page
    size = options.page_size or str(page.get("size") or "A4")
    try:
        width, height = parse_page_size(size)
    except BuildError as exc:
        raise BuildError(exc.message, theme.folder / "theme.yml", hint=exc.hint) from None
    variant = options.pdf_variant.lower() if options.pdf_variant else None
    print_ready = options.print_ready or variant == "pdf/x-4"
    printing = theme.printing
    bleed = parse_length_mm(options.bleed or printing.get("bleed") or "0mm", "bleed")
    marks = str(printing.get("marks") or "none").lower() != "none"
    profile = None
    if print_ready:
        profile = theme.cmyk_profile()
        if profile is None:
            named = printing.get("profile")
            raise BuildError(
                f"no CMYK output profile for --print ({named or 'none named'})",
                theme.folder / "theme.yml",
                hint="name one in theme.yml (print: profile: FILE.icc), or install Debian's "
                     "libgs-common, which has one")
    chapter_start = str(page.get("chapter-start") or "any").lower()
    if chapter_start not in ("any", "page", "right", "left"):
        raise BuildError(f"chapter-start '{chapter_start}' must be any, page, right or left",
                         theme.folder / "theme.yml")
    toc = bool(page.get("toc")) if options.toc is None else options.toc
    if page.get("measure"):
        try:
            parse_length_mm(str(page["measure"]), "measure")
        except BuildError as exc:
            raise BuildError(exc.message, theme.folder / "theme.yml", hint=exc.hint) from None
    return Layout(width, height, dict(page.get("margins") or {}), bool(page.get("mirror")),
                  chapter_start, toc, "pdf/x-4" if print_ready else variant, print_ready,
                  bleed, marks and print_ready, printing.get("output-condition"), profile,
                  str(page["measure"]) if page.get("measure") else None, bool(page.get("tags")))


# --- writing -----------------------------------------------------------------------------


def weasyprint_input(book: Book, options: Options) -> tuple[str, str]:
    """The HTML and the stylesheet that :func:`write` hands WeasyPrint (its first layout):
    what WeasyPrint alone would be given, for the benchmark's floor."""
    layout = layout_for(book.theme, options)
    html = document_for(book, layout)
    return html, stylesheet(book, layout) + list_start_css(html)


def document_for(book: Book, layout: Layout) -> str:
    """The PDF's HTML: the book written for print, the contents page only when wanted."""
    classes = ["pdf", "mirrored" if layout.mirror else "single-sided",
               f"chapters-{layout.chapter_start}"]
    classes += ["with-toc"] if layout.toc else []
    classes += ["press"] if layout.print_ready else []
    classes += [] if layout.tags else ["without-tags"]
    document = render_document(book, "pdf", [], {"long_table": LONG_TABLE_ROWS,
                                                 "code_columns": code_columns(layout)},
                               toc=layout.toc, body_classes=classes)
    return no_break_spaces(document)


_TAG = re.compile(r"""(<(?:[^>"']|"[^"]*"|'[^']*')*>)""")
_VERBATIM = re.compile(r"<(/?)(pre|code|kbd|samp|script|style|svg|math|title)\b", re.I)
_INITIAL = re.compile(r"(?<![\w.\-])([A-Z]\.) (?=[A-Z])")   # George H. W. Bush
_PAGE = re.compile(r"\b(pp?\.) (?=\d)")                     # p. 88, pp. 12-13
_UNIT = re.compile(r"(\d) (?=(?:km|m|cm|mm|kg|g|t|ha|km²|m²|m³|MW|GW|kWh)\b)")  # 300 km


def no_break_spaces(document: str) -> str:
    """The PDF's HTML with :func:`no_break_text` applied to its body's text: not to tags,
    nor to code, math or SVG.  Only in the PDF: the HTML and the EPUB keep the author's
    spaces."""
    start = max(document.find("<body"), 0)
    parts = _TAG.split(document[start:])
    verbatim = 0
    for i, part in enumerate(parts):
        if i % 2:
            tag = _VERBATIM.match(part)
            if tag and not part.endswith("/>"):
                verbatim = max(0, verbatim + (-1 if tag.group(1) else 1))
        elif not verbatim and part.strip():
            parts[i] = no_break_text(part)
    return document[:start] + "".join(parts)


def no_break_text(text: str) -> str:
    """Text with a no-break space where a line must not break: after an initial before
    another capital ("H.\u00a0W.\u00a0Bush"), after "p."/"pp." before a number, and
    between a number and its unit."""
    text = _INITIAL.sub("\\1\u00a0", text)
    text = _PAGE.sub("\\1\u00a0", text)
    return _UNIT.sub("\\1\u00a0", text)


def code_columns(layout: Layout) -> int:
    """How many characters of code a line holds: the text column's width (see
    :func:`side_margins_mm`) in the print stylesheet's code size (8.5 pt of IBM Plex Mono,
    0.6 em a character, less the block's rule and padding)."""
    inner, outer = side_margins_mm(layout)
    measure = _mm(layout.width, 210.0) - inner - outer
    return wrap_columns(measure * 72 / 25.4, 8.5, inset_pt=13.5)


def _mm(length: str, fallback: float) -> float:
    try:
        return parse_length_mm(length, "length")
    except BuildError:  # (a bad margin is reported by the stylesheet's checks)
        return fallback


def side_margins_mm(layout: Layout) -> tuple[float, float]:
    """The inner and outer margins: the theme's, or, when the text column between them
    would be wider than the theme's ``measure``, wider ones that keep it to the measure,
    the extra width shared in the theme's inner:outer proportion (so a line holds about
    the same number of characters on A4 as on Letter)."""
    inner = _mm(layout.margins.get("inner", "22mm"), 22.0)
    outer = _mm(layout.margins.get("outer", "22mm"), 22.0)
    if layout.measure is None:
        return inner, outer
    return grown_margins(_mm(layout.width, 210.0), inner, outer, _mm(layout.measure, 1e6))


def grown_margins(width: float, inner: float, outer: float,
                  measure: float) -> tuple[float, float]:
    """Side margins that keep the column between them to ``measure``, the extra width
    shared in the inner:outer proportion (any unit, the same for all four lengths)."""
    extra = width - inner - outer - measure
    if extra <= 0 or inner + outer <= 0:
        return inner, outer
    return inner + extra * inner / (inner + outer), outer + extra * outer / (inner + outer)


def write(book: Book, dest: Path, options: Options) -> Written:
    """Lay out the book and write the PDF; return WeasyPrint's warnings, and in
    ``stats["layouts"]`` how many times WeasyPrint laid the book out: once, unless
    footnotes had to be brought back to their calls' pages (see
    :func:`_notes_stay_with_calls`, which prevents that with WeasyPrint 70)."""
    check_paragraphs(book)
    weasyprint = load_weasyprint()
    from weasyprint.text.fonts import FontConfiguration

    layout = layout_for(book.theme, options)
    html = document_for(book, layout)
    css = stylesheet(book, layout) + list_start_css(html)
    from . import pdf_chunks
    if pdf_chunks.wanted(layout, options, html):  # chapters laid out in parallel, cached
        return pdf_chunks.write(book, dest, options, layout, html, css)
    fetcher = make_url_fetcher(Path(str(options.project_root)), book.theme,
                               allow_remote=options.allow_remote)
    fetcher = _svg_fetcher(fetcher, book.theme, cmyk=layout.print_ready)
    fonts = FontConfiguration()
    profiles: dict[str, Any] = {}
    tagged = layout.variant == "pdf/ua-1"
    pdf_options: dict[str, Any] = {"pdf_identifier": _identifier(book),
                                   "pdf_variant": layout.variant}
    if layout.print_ready:
        pdf_options["output_intent"] = "device-cmyk"
    with _captured("weasyprint") as messages, _tagging(tagged) as artifacts, \
            _fixed_document_id(book), _notes_stay_with_calls(), _fewer_collections():
        before = len(messages)
        sheet = weasyprint.CSS(string=css, url_fetcher=fetcher, font_config=fonts,
                               color_profiles=profiles)
        messages[before:] = [_theme_place(m, book, css) for m in messages[before:]]

        kept: set[str] = set()  # blocks started on a new page, to keep notes with calls

        def render() -> Any:
            sheets = [sheet] + ([weasyprint.CSS(string=keep_css(kept))] if kept else [])
            document = weasyprint.HTML(string=html, base_url=str(options.project_root),
                                       url_fetcher=fetcher)
            return document.render(stylesheets=sheets, font_config=fonts,
                                   color_profiles=profiles, **pdf_options)

        rendering = render()
        layouts = 1
        for _ in range(0 if options.draft else MAX_RELAYOUTS):
            blocks = set(blocks_to_keep(rendering)) - kept
            if not blocks:
                break
            kept |= blocks
            del rendering  # one layout in memory at a time: free this one before the next
            rendering = render()
            layouts += 1
        for note, call_page, note_page in misplaced_notes(rendering):
            messages.append(f"footnote {note} is on page {note_page}, its call on page "
                            f"{call_page}")
        _set_dates(rendering.metadata, book, options)
        if layout.variant and layout.variant.startswith("pdf/a") and rendering.metadata.authors:
            # PDF/A: Info's Author must equal the one entry of XMP's dc:creator
            rendering.metadata.authors = [", ".join(rendering.metadata.authors)]
        finisher = _Finisher(layout, artifacts if tagged else None)
        with atomic_path(dest) as tmp:
            rendering.write_pdf(tmp, finisher=finisher, **pdf_options)
    return Written([Warning_(message) for message in messages], {"layouts": layouts})


MAX_PARAGRAPH_CHARS = 200_000
"""Longest paragraph (or heading) the PDF lays out, in characters of text.  WeasyPrint's
line breaking grows faster than the paragraph: 1 MB takes some 17 s, 2 MB 44 s, 5 MB
minutes; 200,000 characters (a hundred pages of unbroken text) take about a second."""


def check_paragraphs(book: Book) -> None:
    """Every paragraph and heading longer than :data:`MAX_PARAGRAPH_CHARS`, an error at
    its line, before WeasyPrint sees any."""
    errors = []
    for chapter in book.chapters:
        for block in walk.blocks(chapter.tree):
            if isinstance(block, (nodes.Para, nodes.Heading)):
                length = _text_length(block.children)
                if length > MAX_PARAGRAPH_CHARS:
                    errors.append(BuildError(
                        f"a paragraph of {length:,} characters is too long for the PDF (the "
                        f"limit is {MAX_PARAGRAPH_CHARS:,})", chapter.tree.path, block.line,
                        hint="split it into paragraphs with blank lines"))
    raise_all(errors)


def _text_length(children: tuple[nodes.Inline, ...]) -> int:
    """The characters of text of some inlines (the text, code, TeX and raw HTML in them)."""
    length, pending = 0, list(children)
    while pending:
        node = pending.pop()
        if isinstance(node, (nodes.Str, nodes.Code, nodes.Math)):
            length += len(node.text if not isinstance(node, nodes.Math) else node.tex)
        elif isinstance(node, nodes.RawInline):
            length += len(node.html)
        elif isinstance(node, (nodes.Styled, nodes.Span, nodes.Link)):
            pending.extend(node.children)
        elif isinstance(node, nodes.Image):
            pending.extend(node.alt)
    return length


def _theme_place(message: str, book: Book, css: str) -> str:
    """A warning about the stylesheet names the theme's file and line, not the line
    of the joined stylesheet WeasyPrint read ("Ignored `colr: red` at 12:5, ...")."""
    found = re.search(r" at (\d+):(\d+)", message)
    origin = book.theme.css_origin(css, int(found.group(1))) if found else None
    if origin is None or found is None:
        return message
    path, line = origin
    return (message[:found.start()] + f" at {display_path(path)}:{line}:{found.group(2)}"
            + message[found.end():])


# --- footnotes that WeasyPrint moved off the page of their call ----------------------------
#
# When a paragraph ends a page with exactly ``orphans`` lines and its next line does not
# fit, WeasyPrint 70 makes room for that line by moving the page's last footnotes to the
# next page (layout/block.py), whatever ``footnote-policy`` says.  The note then sits a
# page after its call.  :func:`_notes_stay_with_calls` stops WeasyPrint doing that while it
# renders (the paragraph is pushed instead), so the book is laid out once.  What follows is
# the fallback, for a WeasyPrint where that cannot be installed and for any note still
# misplaced: find the paragraph split at the foot of that page, start it on the next page
# (``break-before: page``: ``break-inside: avoid`` is not enough, as the notes moved while
# its lines were tried stay moved), lay out again; a few rounds at most.

MAX_RELAYOUTS = 6
LONG_TABLE_ROWS = 25


def _anchor_pages(rendering: Any) -> dict[str, int]:
    pages: dict[str, int] = {}
    for number, page in enumerate(rendering.pages, start=1):
        for name in page.anchors:
            pages.setdefault(name, number)
    return pages


def misplaced_notes(rendering: Any) -> list[tuple[str, int, int]]:
    """(note id, page of the call, page of the note) for each note not on its call's page."""
    pages = _anchor_pages(rendering)
    found = []
    for name, page in pages.items():
        if name.startswith("fn-") and f"fnref-{name[3:]}" in pages:
            call = pages[f"fnref-{name[3:]}"]
            if call != page:
                found.append((name[3:], call, page))
    return sorted(found, key=lambda item: item[1])


def blocks_to_keep(rendering: Any) -> list[str]:
    """The innermost block split between a page with a misplaced note's call and the next
    (or the first of the headings just above it: its ``data-after``)."""
    blocks = []
    for _, call_page, _ in misplaced_notes(rendering):
        if call_page >= len(rendering.pages):
            continue
        here = _blocks_on(rendering.pages[call_page - 1])
        there = _blocks_on(rendering.pages[call_page])
        split = [b for b in here if b in there]
        if split:
            blocks.append(split[-1])
    return list(dict.fromkeys(blocks))


def _blocks_on(page: Any) -> list[str]:
    found = []
    for box in page._page_box.descendants():
        element = getattr(box, "element", None)
        if element is not None and element.get("data-block") is not None:
            key = element.get("data-after") or element.get("data-block")
            if key not in found:
                found.append(key)
    return found


_OL_START = re.compile(r'<ol\b[^>]*?\sstart="(-?\d+)"')


def list_start_css(html: str) -> str:
    """The numbers of lists that do not start at 1 (``<ol start="3">``, a list whose
    delimiter changed, ``2.`` then ``3)``): WeasyPrint reads ``start`` only as a
    presentational hint, and those are off (they would also apply ``width``, ``align``
    and the like), so the rule its hint would give is written for each start used."""
    starts = sorted({int(n) for n in _OL_START.findall(html)})
    return "".join(f'\nol[start="{n}"] {{ counter-reset: list-item {n}; '
                   f'counter-increment: list-item -1; }}' for n in starts)


def keep_css(blocks: set[str]) -> str:
    """Start each of these blocks on the next page."""
    return "".join(f'[data-block="{key}"] {{ break-before: page }}\n' for key in sorted(blocks))


HYPHENATION_CSS = '[lang="en" i] { -weasy-lang: "en-US" !important; }'
"""English without a region is hyphenated as US English, as pandoc takes ``en`` (its default
language is en-US): WeasyPrint gives the element's ``lang`` to Pyphen, whose ``en`` is the
British dictionary (Pres-id-ent, stand-ards); ``en-GB`` keeps it, ``en-US`` is US already.
The HTML keeps ``lang="en"``: only the language WeasyPrint hyphenates with changes."""


def stylesheet(book: Book, layout: Layout) -> str:
    """The fonts, the theme's base, code and print CSS, then the page of this build."""
    parts = [font_face_css(book.theme, lambda p: p.as_uri()), HYPHENATION_CSS,
             book.theme.css("base.css"), book.theme.css("code.css"), book.theme.css("print.css"),
             page_css(layout)]
    if layout.print_ready:
        parts.append(book.theme.css("print-cmyk.css"))
        parts.append(_color_profile_css(layout))
        return cmyk_css("\n".join(parts))
    return "\n".join(parts)


def page_css(layout: Layout) -> str:
    m = {"top": "25mm", "bottom": "25mm", "inner": "22mm", "outer": "22mm", **layout.margins}
    if layout.measure is not None:
        inner, outer = side_margins_mm(layout)
        m["inner"], m["outer"] = f"{inner:.2f}mm", f"{outer:.2f}mm"
    rules = [f"@page {{ size: {layout.width} {layout.height}; "
             f"margin: {m['top']} {m['outer']} {m['bottom']} {m['inner']}; }}"]
    if layout.mirror:
        rules.append(f"@page :left {{ margin-left: {m['outer']}; margin-right: {m['inner']}; }}")
        rules.append(f"@page :right {{ margin-left: {m['inner']}; margin-right: {m['outer']}; }}")
    if layout.print_ready:
        rules.append(f"@page {{ bleed: {layout.media_bleed_mm:.3f}mm; marks: none; }}")
    if layout.chapter_start != "any":
        value = "page" if layout.chapter_start == "page" else layout.chapter_start
        rules.append(f".chapter, .bibliography {{ break-before: {value}; }}")
    return "\n".join(rules)


def _color_profile_css(layout: Layout) -> str:
    import base64
    assert layout.profile is not None
    data = base64.b64encode(layout.profile.read_bytes()).decode("ascii")
    return ("@color-profile device-cmyk { src: url(data:application/vnd.iccprofile;base64,"
            f"{data}); components: cyan, magenta, yellow, black; }}")


def _identifier(book: Book) -> bytes:
    return hashlib.md5(book.slug.encode("utf-8")).hexdigest().encode("ascii")


def _set_dates(metadata: Any, book: Book, options: Options) -> None:
    """Created: the book's date; modified: SOURCE_DATE_EPOCH, or now."""
    if options.source_date_epoch is not None:
        moment = dt.datetime.fromtimestamp(options.source_date_epoch, dt.UTC)
    else:
        moment = dt.datetime.now(dt.UTC).replace(microsecond=0)
    modified = moment.strftime("%Y-%m-%dT%H:%M:%SZ").replace("Z", "+00:00")
    created = modified
    if book.metadata.date and re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(book.metadata.date)):
        created = f"{book.metadata.date}T00:00:00+00:00"
    metadata.created = created
    metadata.modified = modified


# --- CMYK ----------------------------------------------------------------------------------

_NAMED = {"black": (0, 0, 0), "white": (255, 255, 255), "gray": (128, 128, 128),
          "grey": (128, 128, 128), "silver": (192, 192, 192)}


def to_cmyk(red: float, green: float, blue: float, alpha: float = 1.0) -> str:
    """A naive RGB → ``device-cmyk()``: greys go to black ink only."""
    r, g, b = red / 255, green / 255, blue / 255
    k = 1 - max(r, g, b)
    if k >= 1:
        c = m = y = 0.0
    elif abs(r - g) < 1e-6 and abs(g - b) < 1e-6:
        c = m = y = 0.0
    else:
        c, m, y = ((1 - v - k) / (1 - k) for v in (r, g, b))
    values = " ".join(f"{round(v, 3):g}" for v in (c, m, y, k))
    return f"device-cmyk({values} / {round(alpha, 3):g})" if alpha < 1 else f"device-cmyk({values})"


def _hex_rgb(text: str) -> tuple[int, int, int, float] | None:
    text = text.lstrip("#")
    if not re.fullmatch(r"[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8}", text):
        return None
    if len(text) in (3, 4):
        text = "".join(ch * 2 for ch in text)
    alpha = int(text[6:8], 16) / 255 if len(text) == 8 else 1.0
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16), alpha


def cmyk_css(css: str) -> str:
    """Every sRGB colour in the declarations of ``css`` as ``device-cmyk()``."""
    import tinycss2
    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=False)
    return "".join(_cmyk_rule(rule) for rule in rules)


def _cmyk_rule(rule: Any) -> str:
    import tinycss2
    if rule.type == "qualified-rule":
        return f"{tinycss2.serialize(rule.prelude)}{{{_cmyk_tokens(rule.content)}}}"
    if rule.type == "at-rule" and rule.lower_at_keyword in ("font-face", "color-profile",
                                                            "counter-style", "import"):
        return rule.serialize()
    if rule.type == "at-rule" and rule.content is not None:
        prelude = tinycss2.serialize(rule.prelude)
        if rule.lower_at_keyword in ("media", "supports", "layer", "document"):
            inner = tinycss2.parse_rule_list(rule.content, skip_comments=True)
            return f"@{rule.at_keyword}{prelude}{{{''.join(_cmyk_rule(r) for r in inner)}}}"
        return f"@{rule.at_keyword}{prelude}{{{_cmyk_tokens(rule.content)}}}"
    return rule.serialize()


def _cmyk_tokens(tokens: list[Any]) -> str:
    import tinycss2.ast as ast
    out = []
    for token in tokens:
        if token.type == "hash" and (rgb := _hex_rgb(token.value)):
            out.append(to_cmyk(*rgb))
        elif token.type == "ident" and token.lower_value in _NAMED:
            out.append(to_cmyk(*_NAMED[token.lower_value]))
        elif token.type == "function" and token.lower_name in ("rgb", "rgba"):
            numbers = [t for t in token.arguments if t.type in ("number", "percentage")]
            values = [t.value * 2.55 if t.type == "percentage" else t.value for t in numbers[:3]]
            alpha = 1.0
            if len(numbers) > 3:
                alpha = (numbers[3].value / 100 if numbers[3].type == "percentage"
                         else numbers[3].value)
            out.append(to_cmyk(*values, alpha) if len(values) == 3 else token.serialize())
        elif token.type == "function" and token.lower_name == "url":
            out.append(token.serialize())
        elif isinstance(token, ast.FunctionBlock):
            out.append(f"{token.name}({_cmyk_tokens(token.arguments)})")
        elif token.type == "{} block":
            out.append(f"{{{_cmyk_tokens(token.content)}}}")
        elif token.type == "() block":
            out.append(f"({_cmyk_tokens(token.content)})")
        elif token.type == "[] block":
            out.append(f"[{_cmyk_tokens(token.content)}]")
        else:
            out.append(token.serialize())
    return "".join(out)


_SVG_COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}\b|\brgba?\([^)]*\)")


def cmyk_svg(svg: bytes) -> bytes:
    """Hex and rgb() colours of an SVG image as ``device-cmyk()`` (print only)."""
    text = svg.decode("utf-8")

    def convert(match: re.Match[str]) -> str:
        value = match.group(0)
        if value.startswith("#"):
            rgb = _hex_rgb(value)
            return to_cmyk(*rgb) if rgb else value
        return cmyk_css(f"a{{color:{value}}}")[len("a{color:"):-1]

    def attribute(match: re.Match[str]) -> str:
        return match.group(1) + _SVG_COLOUR.sub(convert, match.group(2)) + match.group(3)

    text = re.sub(r'((?:fill|stroke|stop-color|flood-color|lighting-color|color|style)\s*=\s*")'
                  r'([^"]*)(")', attribute, text)
    text = re.sub(r"(<style[^>]*>)(.*?)(</style>)", lambda m: m.group(1) + cmyk_css(m.group(2))
                  + m.group(3), text, flags=re.S)
    text = re.sub(r'(fill|stroke)="(black|white)"',
                  lambda m: f'{m.group(1)}="{to_cmyk(*_NAMED[m.group(2)])}"', text)
    return text.encode("utf-8")


def theme_svg(svg: bytes, serif: str, sans: str, cmyk: bool) -> bytes:
    """An SVG image set in the theme's fonts (for its generic families), colours in CMYK."""
    text = svg.decode("utf-8")
    families = {"serif": f"'{serif}', serif", "sans-serif": f"'{sans}', sans-serif"}

    def family(match: re.Match[str]) -> str:
        names = [n.strip().strip("'\"") for n in match.group(2).split(",")]
        generic = next((n for n in names if n in families), None)
        value = families[generic] if generic and not any(n in (serif, sans) for n in names) \
            else match.group(2)
        return f"{match.group(1)}{value}"

    text = re.sub(r'(font-family\s*[=:]\s*"?)([^";>]*)', family, text)
    if cmyk:
        text = cmyk_svg(text.encode("utf-8")).decode("utf-8")
    return text.encode("utf-8")


def _svg_fetcher(fetcher: Any, theme: Theme, cmyk: bool) -> Any:
    """The project's fetcher, with SVG images passed through :func:`theme_svg`."""
    from weasyprint.urls import URLFetcherResponse
    families = list(dict.fromkeys(f.family for f in theme.fonts)) or ["serif", "sans-serif"]
    sans = next((f for f in families if "sans" in f.lower()), families[-1])
    serif = next((f for f in families if "sans" not in f.lower()), families[0])
    original = fetcher.fetch

    def fetch(url: str, headers: Any = None) -> Any:
        response = original(url, headers)
        is_svg = url.lower().split("?")[0].endswith(".svg")
        with contextlib.suppress(Exception):  # a response without headers
            is_svg = is_svg or response.content_type == "image/svg+xml"
        if not is_svg:
            return response
        body = response.read()
        with contextlib.suppress(Exception):
            response.close()
        with contextlib.suppress(UnicodeDecodeError):
            body = theme_svg(body, serif, sans, cmyk)
        return URLFetcherResponse(url, body, {"Content-Type": "image/svg+xml"})

    fetcher.fetch = fetch
    return fetcher


# --- post-processing the PDF objects before they are written ------------------------------


class _Finisher:
    """Called by WeasyPrint with the pydyf PDF just before it is serialised."""

    def __init__(self, layout: Layout, artifacts: dict[int, set[int]] | None) -> None:
        self.layout = layout
        self.artifacts = artifacts

    def __call__(self, document: Any, pdf: Any) -> None:
        import pydyf
        pages = [page for page in pdf.objects if isinstance(page, pydyf.Dictionary)
                 and page.get("Type") == "/Page"]
        if self.layout.print_ready:
            self._press(pdf, pages)
        if self.artifacts is not None:
            self._artifacts(pdf, pages)
        if self.layout.variant and self.layout.variant.startswith("pdf/a"):
            self._xmp_namespaces(pdf)
        if self.layout.variant == "pdf/a-1b":
            self._opaque_groups(pdf)

    @staticmethod
    def _metadata_stream(pdf: Any) -> Any:
        import pydyf
        reference = pdf.catalog.get("Metadata")
        return next((obj for obj in pdf.objects if isinstance(obj, pydyf.Stream)
                     and obj.reference == reference), None)

    def _xmp_namespaces(self, pdf: Any) -> None:
        """Each rdf:Description declares the namespaces it uses, as PDF/A validators expect.

        WeasyPrint declares them all once on rdf:RDF; PDFBox's XMP parser (Preflight)
        then reports the PDF/A identification schema as missing.
        """
        from lxml import etree
        stream = self._metadata_stream(pdf)
        if stream is None:
            return
        data = b"".join(part if isinstance(part, bytes) else str(part).encode()
                        for part in stream.stream)
        match = re.search(rb"(<rdf:RDF.*</rdf:RDF>)", data, re.S)
        if not match:
            return
        rdf_ns = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
        old = etree.fromstring(match.group(1))
        new = etree.Element(f"{{{rdf_ns}}}RDF", nsmap={"rdf": rdf_ns})
        prefixes = {uri: prefix for prefix, uri in old.nsmap.items() if prefix}
        for description in old:
            used = {etree.QName(a).namespace for a in description.attrib}
            used |= {etree.QName(e).namespace for e in description.iter() if isinstance(e.tag, str)}
            used |= {etree.QName(a).namespace for e in description.iter() for a in e.attrib}
            nsmap = {prefixes[u]: u for u in used if u and u in prefixes}
            nsmap["rdf"] = rdf_ns
            copy = etree.SubElement(new, description.tag, nsmap=nsmap)
            for name, value in description.attrib.items():
                copy.set(name, value)
            for child in description:
                copy.append(child)
        packet = etree.tostring(new, encoding="utf-8")
        stream.stream[:] = [data[:match.start(1)] + packet + data[match.end(1):]]

    @staticmethod
    def _opaque_groups(pdf: Any) -> None:
        """PDF/A-1 forbids transparency groups: drop them when nothing is transparent."""
        import pydyf
        transparent = False
        stack: list[Any] = list(pdf.objects)
        seen: set[int] = set()
        while stack and not transparent:
            item = stack.pop()
            if id(item) in seen:
                continue
            seen.add(id(item))
            if isinstance(item, pydyf.Stream):
                stack.append(item.extra)
            elif isinstance(item, dict):
                for key in ("ca", "CA"):
                    if key in item and float(item[key]) < 1:
                        transparent = True
                if "SMask" in item or item.get("BM", "/Normal") not in ("/Normal", "/Compatible"):
                    transparent = True
                stack.extend(v for v in item.values() if isinstance(v, (dict, list)))
            elif isinstance(item, list):
                stack.extend(v for v in item if isinstance(v, (dict, list)))
        if transparent:
            return
        for obj in pdf.objects:
            if isinstance(obj, pydyf.Stream) and "Group" in obj.extra:
                del obj.extra["Group"]

    def _press(self, pdf: Any, pages: list[Any]) -> None:
        import pydyf
        bleed = self.layout.bleed_mm * 72 / 25.4
        for page in pages:
            trim = [float(v) for v in page["TrimBox"]]
            page["BleedBox"] = pydyf.Array([trim[0] - bleed, trim[1] - bleed,
                                            trim[2] + bleed, trim[3] + bleed])
            page.pop("Annots", None)  # no links on a page that goes to press
            if self.layout.marks:
                self._marks(pdf, page, trim, bleed)
        if self.layout.output_condition and "OutputIntents" in pdf.catalog:
            for intent in pdf.catalog["OutputIntents"]:
                intent["OutputConditionIdentifier"] = pydyf.String(self.layout.output_condition)

    def _marks(self, pdf: Any, page: Any, trim: list[float], bleed: float) -> None:
        """Crop marks at the trim lines, outside the BleedBox, in CMYK registration colour."""
        import pydyf
        offset = bleed + MARK_OFFSET_MM * 72 / 25.4
        length = MARK_LENGTH_MM * 72 / 25.4
        # the trim box is centred in the media box, so WeasyPrint's y-down numbers are also
        # the y-up ones of the default space the marks are drawn in
        x0, y0, x1, y1 = trim
        lines = []
        for x in (x0, x1):
            for y, direction in ((y0, -1), (y1, 1)):
                lines.append((x, y + direction * offset, x, y + direction * (offset + length)))
        for y in (y0, y1):
            for x, direction in ((x0, -1), (x1, 1)):
                lines.append((x + direction * offset, y, x + direction * (offset + length), y))
        ops = ["Q", "/Artifact BMC", "q", "0.25 w", "1 1 1 1 K"]
        ops += [f"{a:.3f} {b:.3f} m {c:.3f} {d:.3f} l S" for a, b, c, d in lines]
        ops += ["Q", "EMC"]
        before = pydyf.Stream([b"q"])
        after = pydyf.Stream([line.encode("ascii") for line in ops])
        pdf.add_object(before)
        pdf.add_object(after)
        contents = page["Contents"]
        page["Contents"] = pydyf.Array([before.reference, contents, after.reference])

    def _artifacts(self, pdf: Any, pages: list[Any]) -> None:
        """Running heads and page numbers are artifacts, not untagged content."""
        import pydyf
        streams = {obj.reference: obj for obj in pdf.objects if isinstance(obj, pydyf.Stream)}
        for number, page in enumerate(pages):
            mcids = self.artifacts.get(number) if self.artifacts else None
            if not mcids:
                continue
            stream = streams.get(page["Contents"])
            if stream is None:
                continue
            items = stream.stream
            for i, item in enumerate(items):
                if (isinstance(item, pydyf.Dictionary) and item.get("MCID") in mcids
                        and i + 1 < len(items) and items[i + 1] == b"BDC" and i > 0):
                    items[i - 1] = "/Artifact"
                    items[i] = b""
                    items[i + 1] = b"BMC"


@contextlib.contextmanager
def _tagging(enabled: bool) -> Iterator[dict[int, set[int]]]:
    """Tags WeasyPrint leaves generic, fixed while it builds the structure tree.

    WeasyPrint maps HTML elements to PDF structure types by tag name only; the
    wrapper below looks at the element (class, id) of each box it tags: a
    footnote becomes a Note with an ID, the contents a TOC of TOCI, and the
    marked content of the page-margin boxes (running heads, page numbers) is
    remembered so that the finisher turns it into artifacts.
    """
    artifacts: dict[int, set[int]] = {}
    if not enabled:
        yield artifacts
        return
    import pydyf
    from weasyprint.formatting_structure import boxes
    from weasyprint.pdf import tags as wtags
    original = wtags._build_box_tree

    def marked(box: Any, tags: dict[Any, Any]) -> Iterator[int]:
        if box in tags:
            yield tags[box]["mcid"]
        for child in getattr(box, "children", ()) or ():
            yield from marked(child, tags)

    def build(box: Any, parent: Any, pdf: Any, page_number: int, nums: Any, annotations: Any,
              tags: Any) -> Iterator[Any]:
        if isinstance(box, boxes.MarginBox) and tags is not None:
            artifacts.setdefault(page_number, set()).update(marked(box, tags))
        passthrough = (box.element is None or box.element_tag in ("html", "body")
                       or isinstance(box, (boxes.PageBox, boxes.MarginBox)))
        for element in original(box, parent, pdf, page_number, nums, annotations, tags):
            if not passthrough and box.element is not None:
                _retag(element, box, pydyf)
            yield element

    wtags._build_box_tree = build
    try:
        yield artifacts
    finally:
        wtags._build_box_tree = original


def _retag(element: Any, box: Any, pydyf: Any) -> None:
    tag = box.element_tag
    classes = (box.element.get("class") or "").split()
    if tag == "span" and "footnote" in classes and "block" in box.style["display"]:
        # a note in the footnote area (its float is "none" once it is placed there)
        element["S"] = "/Note"
        if box.element.get("id"):
            element["ID"] = pydyf.String(box.element.get("id"))
    elif tag == "nav" and "toc" in classes:
        element["S"] = "/TOC"
    elif tag == "p" and "toc-entry" in classes:
        element["S"] = "/TOCI"
    elif tag == "figure":
        element["S"] = "/Div"
    elif tag in ("header", "footer", "aside") and element["S"] == "/NonStruct":
        element["S"] = "/Sect" if tag != "aside" else "/Note"


@contextlib.contextmanager
def _notes_stay_with_calls() -> Iterator[bool]:
    """While WeasyPrint renders: never move a page's footnotes to make room for a line.

    Yields True when the change is installed, False when WeasyPrint is not the one it was
    written for: then nothing is changed, and :func:`write`'s re-layouts bring the notes
    back as before.  Correctness never depends on it: the re-layouts stay in any case.

    What it changes.  WeasyPrint 70, ``layout/block.py``, ``_linebox_layout``: when a line
    of a paragraph overflows the page and the paragraph has ``orphans - 1`` lines on the
    page (breaking before the line would break orphans, breaking after it would not), it
    sets ``report = not context.in_column and can_break_now and not could_break_before``
    and, if ``report``, moves the page's last footnotes to the next page
    (``context.report_footnote``) until the line fits, whatever ``footnote-policy`` says:
    each note so moved lands a page after its call.  (If moving them all is not enough,
    they stay moved and the line is broken anyway.)  When ``report`` is false, WeasyPrint
    does what it does at every other page break in a paragraph, ``_break_line``, which
    keeps orphans and widows: here the paragraph has too few lines for orphans, so it
    goes whole to the next page, with the notes of its lines.  This makes ``report``
    false, and changes nothing else: a page may end a little shorter (the lines the
    paragraph had there), and the notes stay with their calls, in one layout.

    How.  ``in_column`` is the one input of ``report`` that can be changed from outside
    (inside a multi-column box WeasyPrint already never moves notes this way).
    ``weasyprint.document`` creates its ``LayoutContext`` by that module-level name; for
    the render it is replaced by a subclass whose ``in_column`` is a property that gives
    the real value to everyone except the code of ``_linebox_layout`` itself, which is
    told True.  That function reads ``in_column`` once, to compute ``report`` (checked on
    its bytecode below); every other read (``_update_footnote_area``, which moves the page
    bottom as notes come and go, ``avoid_page_break``, ``force_page_break``, the column
    layout) is made by another function and gets the real value.

    Fails safe: installed only if ``weasyprint.document.LayoutContext`` is
    ``weasyprint.layout.LayoutContext`` (so not while another render has it replaced),
    that class sets ``in_column`` once as a plain instance attribute, and
    ``_linebox_layout`` reads ``in_column`` exactly once, stores the result in ``report``,
    and moves notes (``report_footnote``, ``current_page_footnotes``).  Restored on exit,
    like :func:`_tagging`.
    """
    import dis
    import sys
    try:
        from weasyprint import document as wdocument
        from weasyprint.layout import LayoutContext
        from weasyprint.layout import block as wblock
        code = wblock._linebox_layout.__code__
        steps = list(dis.get_instructions(code))
        reads = [n for n, step in enumerate(steps) if step.argval == "in_column"]
        stored = next((step.argval for step in steps[reads[0]:]
                       if step.opname.startswith("STORE_")), None) if reads else None
        sets = [step for step in dis.get_instructions(LayoutContext.__init__)
                if step.argval == "in_column"]
        expected = (wdocument.LayoutContext is LayoutContext
                    and len(reads) == 1 and steps[reads[0]].opname == "LOAD_ATTR"
                    and stored == "report"
                    and len(sets) == 1 and sets[0].opname == "STORE_ATTR"
                    and "in_column" not in dir(LayoutContext)
                    and {"report_footnote", "current_page_footnotes"} <= set(code.co_names))
    except Exception:  # noqa: BLE001 - another WeasyPrint: leave it as it is
        expected = False
    if not expected:
        log.debug("WeasyPrint's footnote moving is not the one expected: left as it is")
        yield False
        return

    class NotesStayContext(LayoutContext):
        """WeasyPrint's LayoutContext, but ``_linebox_layout`` reads ``in_column`` True."""

        _in_column = False

        @property
        def in_column(self) -> bool:
            return self._in_column or sys._getframe(1).f_code is code

        @in_column.setter
        def in_column(self, value: bool) -> None:
            self._in_column = value

    wdocument.LayoutContext = NotesStayContext
    try:
        yield True
    finally:
        wdocument.LayoutContext = LayoutContext


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Python's cycle collector, run less often while WeasyPrint lays out and writes.

    WeasyPrint makes millions of objects for a book; by default the collector runs
    every 700 new objects and scans the young ones, and from time to time all of them,
    including everything the build already holds (the parsed book, the citations).
    On the benchmark's large book that was 10-14% of the PDF's time.  Here the objects
    alive before the layout are frozen out of the scans and the collector runs a
    hundred times less often; memory is freed by reference counting as before (peak
    570 MB either way on that book).  Restored afterwards.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


@contextlib.contextmanager
def _fixed_document_id(book: Book) -> Iterator[None]:
    """PDF/X-4's XMP DocumentID is random in WeasyPrint: derive it from the book instead."""
    from weasyprint.pdf import metadata as wmeta
    original = wmeta.uuid4
    fixed = uuid.uuid5(uuid.NAMESPACE_URL, f"builder:{book.slug}")
    wmeta.uuid4 = lambda: fixed
    try:
        yield
    finally:
        wmeta.uuid4 = original


# --- warnings ------------------------------------------------------------------------------


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message not in self.messages:
            self.messages.append(message)


class _captured:
    """Collect what a logger says at WARNING and above, without printing it."""

    def __init__(self, name: str) -> None:
        self.logger = logging.getLogger(name)
        self.handler = _Collect()

    def __enter__(self) -> list[str]:
        self.logger.addHandler(self.handler)
        self.propagate, self.logger.propagate = self.logger.propagate, False
        # the command line sets the root logger to ERROR: without a level of its own the
        # logger would drop WeasyPrint's warnings before any handler saw them
        self.level = self.logger.level
        self.logger.setLevel(logging.WARNING)
        return self.handler.messages

    def __exit__(self, *exc: object) -> None:
        self.logger.removeHandler(self.handler)
        self.logger.propagate = self.propagate
        self.logger.setLevel(self.level)


__all__ = ["write", "weasyprint_input", "load_weasyprint", "check_options", "parse_page_size",
           "layout_for", "cmyk_css", "BuildError"]
