"""Looking at a built PDF page by page: where its lines fall, what its images and fonts are.

``inspect_pdf(path, expect)`` returns a list of :class:`Finding` (page, kind, message,
where); nothing is printed. The text positions come from poppler's ``pdftotext
-bbox-layout`` (pages, lines and words with their boxes, in points from the top-left of
the page's crop box), the boxes, outline and destinations from pypdf, the images from
``pdfimages -list`` and the fonts from ``pdffonts`` (poppler-utils). A tool that is
missing gives one ``tool`` finding on page 0 and the checks that need it are skipped.

The column is the trim box less the theme's margins (``inner``/``outer`` swapped on
left-hand pages when it mirrors). Lines above or below it are running heads and folios.
The kinds:

- ``align``: the body text's left or right edge, or a running head or folio at the left
  or right, more than 0.5 pt from the column's edge;
- ``overflow``: a line (code included) wider than its column, or a word outside the trim
  box;
- ``measure``: the average characters of the page's full body lines outside the theme's
  ``line-chars`` (default 60-75);
- ``short``: a page with fewer than ``min-lines`` lines (default 8), unless it ends a
  chapter (the next page with text starts one), comes before the first chapter or is last;
- ``contents``: a contents entry without a page number, or with another page than its
  target's (the outline's destination);
- ``footnote``: a note number used twice, a note off its call's page;
- ``resolution``: an image under 300 ppi in a print PDF, under 150 ppi in others;
- ``font``: a font not embedded or not one of the theme's families.
"""
from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .formats.pdf import grown_margins
from .pdfcheck import _resources_fonts

XHTML = "{http://www.w3.org/1999/xhtml}"
PT_PER = {"mm": 72 / 25.4, "cm": 720 / 25.4, "in": 72.0, "pt": 1.0}
SLACK = 0.5  # points: how far an edge may be from where it belongs
# poppler's word boxes end a justified line up to 1.5 pt past the column (its glyph
# boxes, not the advance): a line is "wider" past this
OVERFLOW_SLACK = 2.5
POPPLER_HINT = "sudo apt-get install poppler-utils"


@dataclass(frozen=True)
class Finding:
    page: int  # 1-based; 0 for the whole file
    kind: str
    message: str
    where: str = ""

    def __str__(self) -> str:
        where = f" ({self.where})" if self.where else ""
        return f"p{self.page}: {self.kind}: {self.message}{where}"


@dataclass(frozen=True)
class Expect:
    """What the theme and the build promise about the pages."""
    margins: dict[str, float] = field(default_factory=lambda: {
        "top": 25 * PT_PER["mm"], "bottom": 25 * PT_PER["mm"],
        "inner": 22 * PT_PER["mm"], "outer": 22 * PT_PER["mm"]})
    mirror: bool = False
    line_chars: tuple[int, int] = (60, 75)
    min_lines: int = 8
    print_ready: bool = False
    fonts: tuple[str, ...] = ()
    measure: float | None = None  # the theme's widest column (pt): the margins grow to it


@dataclass(frozen=True)
class Line:
    x0: float
    y0: float
    x1: float
    y1: float
    words: tuple[tuple[float, float, float, float, str], ...]

    @property
    def text(self) -> str:
        return " ".join(w[4] for w in self.words)


@dataclass
class Page:
    number: int
    width: float
    height: float
    lines: list[Line]
    trim: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # x0, y0, x1, y1, top-down
    column: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)

    def heads(self) -> list[Line]:
        return [ln for ln in self.lines if ln.y1 <= self.column[1] + SLACK
                or ln.y0 >= self.column[3] - SLACK]

    def body(self) -> list[Line]:
        heads = self.heads()
        return [ln for ln in self.lines if ln not in heads]


def length_pt(text: str) -> float:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(mm|cm|in|pt)?\s*", str(text))
    if not match:
        raise ValueError(f"not a length: {text!r}")
    return float(match.group(1)) * PT_PER[match.group(2) or "mm"]


def expect_for(theme: Any, variant: str | None = None) -> Expect:
    """The promises of a theme (builder.themes.Theme) for a PDF built as ``variant``."""
    page = theme.page
    margins = {**Expect().margins, **{k: length_pt(v) for k, v in
                                      (page.get("margins") or {}).items()}}
    low, _, high = str(page.get("line-chars") or "60-75").partition("-")
    measure = length_pt(str(page["measure"])) if page.get("measure") else None
    return Expect(margins=margins, mirror=bool(page.get("mirror")), measure=measure,
                  line_chars=(int(low), int(high or low)),
                  min_lines=int(page.get("min-lines") or 8),
                  print_ready=bool(variant and variant.lower().startswith("pdf/x")),
                  fonts=tuple(sorted({face.family for face in theme.fonts})))


def inspect_pdf(path: Path | str, expect: Expect | None = None) -> list[Finding]:
    """Every finding on one PDF, in page order."""
    path, expect = Path(path), expect or Expect()
    if shutil.which("pdftotext") is None:
        return [Finding(0, "tool", f"pdftotext is not installed ({POPPLER_HINT})")]
    from pypdf import PdfReader
    reader = PdfReader(path)
    pages = read_pages(path)
    _place(pages, reader, expect)
    starts = chapter_starts(reader)
    findings = [*check_columns(pages), *check_measure(pages, expect),
                *check_short(pages, expect, starts), *check_contents(pages, reader),
                *check_footnotes(pages, reader), *check_images(path, expect),
                *check_fonts(path, reader, expect)]
    return sorted(findings, key=lambda f: (f.page, f.kind))


# --- reading ---------------------------------------------------------------------------


def read_pages(path: Path) -> list[Page]:
    """The lines of every page, from ``pdftotext -bbox-layout``."""
    run = subprocess.run(["pdftotext", "-bbox-layout", str(path), "-"], capture_output=True,
                         timeout=300, check=True)
    root = ET.fromstring(run.stdout)
    pages = []
    for number, page in enumerate(root.iter(XHTML + "page"), 1):
        lines = []
        for line in page.iter(XHTML + "line"):
            words = tuple((*_box(w), w.text or "") for w in line.iter(XHTML + "word"))
            lines.append(Line(*_box(line), words))
        pages.append(Page(number, float(page.get("width", 0)), float(page.get("height", 0)),
                          lines))
    return pages


def _box(element: Any) -> tuple[float, float, float, float]:
    return tuple(float(element.get(k)) for k in ("xMin", "yMin", "xMax", "yMax"))  # type: ignore


def _place(pages: list[Page], reader: Any, expect: Expect) -> None:
    """Each page's trim box and column, top-down from its crop box as pdftotext measures."""
    m = expect.margins
    for page, pdf_page in zip(pages, reader.pages, strict=False):
        crop, trim = pdf_page.cropbox, pdf_page.trimbox
        x0, x1 = float(trim.left) - float(crop.left), float(trim.right) - float(crop.left)
        y0, y1 = float(crop.top) - float(trim.top), float(crop.top) - float(trim.bottom)
        page.trim = (x0, y0, x1, y1)
        left, right = m["inner"], m["outer"]
        if expect.measure is not None:  # as the PDF writer widens them
            left, right = grown_margins(x1 - x0, left, right, expect.measure)
        if expect.mirror and page.number % 2 == 0:
            left, right = right, left
        page.column = (x0 + left, y0 + m["top"], x1 - right, y1 - m["bottom"])


def outline(reader: Any) -> list[tuple[int, str, int]]:
    """The bookmarks: (level, title, 0-based page)."""
    found: list[tuple[int, str, int]] = []

    def walk(items: Any, level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
                continue
            try:
                found.append((level, str(item.title), reader.get_destination_page_number(item)))
            except Exception:  # noqa: BLE001 - a broken destination is qpdf's to report
                continue
    walk(reader.outline, 0)
    return found


def chapter_starts(reader: Any) -> set[int]:
    """The 1-based pages the top-level bookmarks point at."""
    return {page + 1 for level, _, page in outline(reader) if level == 0}


# --- the checks ----------------------------------------------------------------------


def _mode(values: Iterable[float], least: int = 3, share: float = 0.0) -> float | None:
    """The most common value (to 0.5 pt), as the mean of the values near it; None when it
    is held by fewer than ``least`` values or under ``share`` of them."""
    values = list(values)
    counts = Counter(round(v * 2) / 2 for v in values).most_common(1)
    if not counts or counts[0][1] < max(least, share * len(values)):
        return None
    near = [v for v in values if round(v * 2) / 2 == counts[0][0]]
    return sum(near) / len(near)


def _leftmost(values: Iterable[float], least: int = 3) -> float | None:
    """The leftmost edge (to 0.5 pt) that ``least`` lines share, as the mean of them: the
    text's edge, where a page of reference entries (a hanging indent) or of a list has
    more lines indented than not."""
    values = list(values)
    edges = [edge for edge, count in Counter(round(v * 2) / 2 for v in values).items()
             if count >= least]
    if not edges:
        return None
    near = [v for v in values if round(v * 2) / 2 == min(edges)]
    return sum(near) / len(near)


def _excerpt(line: Line) -> str:
    text = line.text
    return f"y {line.y0:.1f}: '{text[:40]}{'...' if len(text) > 40 else ''}'"


def check_columns(pages: Sequence[Page]) -> list[Finding]:
    found = []
    for page in pages:
        cx0, _, cx1, _ = page.column
        body = _running_text(page.body())
        left = _leftmost(ln.x0 for ln in body)
        # justified text's full lines end at one edge; ragged lines (the references, a
        # bio) only by chance, a few alike: an edge held by under half of them is no edge
        full = [ln.x1 for ln in body if ln.x1 - ln.x0 >= 0.85 * (cx1 - cx0)]
        right = _mode(full, share=0.5)
        if right is not None:  # the lines' middle end: poppler's box of a line's last
            # glyph ends up to 1 pt past its advance, a hyphen's not at all
            right = statistics.median(x for x in full if abs(x - right) <= 1.5)
        for edge, at, want in (("left", left, cx0), ("right", right, cx1)):
            if at is not None and abs(at - want) > SLACK:
                inside = (at - want if edge == "left" else want - at) > 0
                found.append(Finding(page.number, "align", f"body text's {edge} edge at "
                                     f"{at:.1f} pt, the column's at {want:.1f} pt",
                                     f"{abs(at - want):.1f} pt {'in' if inside else 'out'}"))
        found.extend(_heads_aligned(page))
        found.extend(_overflow(page))
    return found


def _running_text(lines: list[Line]) -> list[Line]:
    """The lines alone at their height: a table's cells (their text a cell's padding
    inside the column) sit side by side, each a line of its own to poppler."""
    return [ln for ln in lines if not any(other is not ln and other.y0 < ln.y1 - 1
                                          and ln.y0 < other.y1 - 1 for other in lines)]


def _heads_aligned(page: Page) -> list[Finding]:
    cx0, _, cx1, _ = page.column
    middle, found = (cx0 + cx1) / 2, []
    for line in page.heads():
        centre = (line.x0 + line.x1) / 2
        if abs(centre - middle) <= 1 or line.x0 < cx0 - SLACK or line.x1 > cx1 + SLACK:
            continue  # centred, or overflow's to report
        edge, at, want = ("left", line.x0, cx0) if centre < middle else ("right", line.x1, cx1)
        if abs(at - want) > SLACK:
            found.append(Finding(page.number, "align", f"running head or folio's {edge} edge "
                                 f"at {at:.1f} pt, the column's at {want:.1f} pt",
                                 _excerpt(line)))
    return found


def _overflow(page: Page) -> list[Finding]:
    cx0, _, cx1, _ = page.column
    tx0, ty0, tx1, ty1 = page.trim
    found = []
    for line in page.lines:
        outside = [w for w in line.words if w[0] < tx0 - SLACK or w[2] > tx1 + SLACK
                   or w[1] < ty0 - SLACK or w[3] > ty1 + SLACK]
        if outside:
            found.append(Finding(page.number, "overflow", f"text outside the trim box: "
                                 f"'{outside[0][4][:30]}'", _excerpt(line)))
        elif line.x0 < cx0 - OVERFLOW_SLACK or line.x1 > cx1 + OVERFLOW_SLACK:
            wider = max(cx0 - line.x0, line.x1 - cx1)
            found.append(Finding(page.number, "overflow", f"line {wider:.1f} pt wider than its "
                                 f"column", _excerpt(line)))
    return found


def _body_height(pages: Sequence[Page]) -> float | None:
    return _mode((ln.y1 - ln.y0 for p in pages for ln in p.body()), least=1)


def check_measure(pages: Sequence[Page], expect: Expect) -> list[Finding]:
    """Characters per full line of body text (the body's size, 85 % of the column or more)."""
    height, (low, high) = _body_height(pages), expect.line_chars
    found = []
    for page in pages:
        width = page.column[2] - page.column[0]
        full = [ln for ln in page.body() if height is not None
                and abs((ln.y1 - ln.y0) - height) <= SLACK and ln.x1 - ln.x0 >= 0.85 * width
                and ". . ." not in ln.text]  # contents lines: their leaders
        if len(full) < 5:
            continue
        average = sum(len(ln.text) for ln in full) / len(full)
        if not low <= average <= high:
            found.append(Finding(page.number, "measure", f"{average:.0f} characters a line, "
                                 f"the theme's range {low}-{high}", f"{len(full)} full lines"))
    return found


def check_short(pages: Sequence[Page], expect: Expect, starts: set[int]) -> list[Finding]:
    """Pages with few lines, except chapter ends, front matter, blank pages and the last."""
    found = []
    first = min(starts, default=1)
    for page in pages[:-1]:
        count = len(page.body())
        if count == 0 or count >= expect.min_lines or page.number < first:
            continue
        following = next((p.number for p in pages[page.number:] if p.body()), None)
        if following in starts:
            continue
        found.append(Finding(page.number, "short", f"{count} lines, fewer than "
                             f"{expect.min_lines}", "not the end of a chapter"))
    return found


LEADERS = re.compile(r"(\s*\.)+\s*$")
FOLIO = re.compile(r"^(\d+|[ivxlcdm]+)$", re.IGNORECASE)


def check_contents(pages: Sequence[Page], reader: Any) -> list[Finding]:
    """Every contents entry's page number is its target's: entries are the lines of a
    page that name three or more bookmarks; the target is the bookmark's page."""
    marks = [(title.strip(), page + 1) for _, title, page in outline(reader)]
    titles = {t for t, _ in marks}
    found = []
    for page in pages:
        entries = _contents_lines(page, titles)
        if len(entries) < 3:
            continue
        for title, number, line in entries:
            targets = [p for t, p in marks if t == title and p != page.number]
            if not targets:
                continue
            if number is None:
                found.append(Finding(page.number, "contents", f"entry '{title}' has no page "
                                     "number", _excerpt(line)))
                continue
            want = _folio(pages[targets[0] - 1]) or str(targets[0])
            if number != want:
                found.append(Finding(page.number, "contents", f"entry '{title}' says page "
                                     f"{number}, its target is on page {want}", _excerpt(line)))
    return found


def _contents_lines(page: Page, titles: set[str]) -> list[tuple[str, str | None, Line]]:
    entries = []
    for line in page.body():
        words = [w[4] for w in line.words]
        number = words[-1] if words and FOLIO.match(words[-1]) else None
        text = " ".join(words[:-1] if number else words)
        title = LEADERS.sub("", text).strip()
        if title in titles:
            entries.append((title, number, line))
    return entries


def _folio(page: Page) -> str | None:
    for line in page.heads():
        for word in line.words:
            if FOLIO.match(word[4]) and word[4].isdigit():
                return word[4]
    return None


def check_footnotes(pages: Sequence[Page], reader: Any) -> list[Finding]:
    """Notes are the ``fn-…`` destinations pdf.py writes, calls ``fnref-…``; a note's number
    is the first word of the line at its destination."""
    notes: dict[str, tuple[int, float]] = {}
    calls: dict[str, int] = {}
    for name, dest in reader.named_destinations.items():
        try:
            number = reader.get_destination_page_number(dest) + 1
        except Exception:  # noqa: BLE001 - a broken destination is qpdf's to report
            continue
        if str(name).startswith("fnref-"):
            calls[str(name)[6:]] = number
        elif str(name).startswith("fn-"):
            top = float(dest.top) if getattr(dest, "top", None) is not None else 0.0
            notes[str(name)[3:]] = (number, top)
    found: list[Finding] = []
    seen: dict[str, int] = {}
    for key, (number, top) in sorted(notes.items(), key=lambda item: item[1]):
        if key in calls and calls[key] != number:
            found.append(Finding(number, "footnote", f"note {key} is not on its call's page "
                                 f"({calls[key]})", f"fn-{key}"))
        label = _note_label(pages[number - 1], reader.pages[number - 1], top)
        if label and label in seen:
            found.append(Finding(number, "footnote", f"note number {label} used twice",
                                 f"also on page {seen[label]}"))
        elif label:
            seen[label] = number
    return found


def _note_label(page: Page, pdf_page: Any, top: float) -> str | None:
    """The first word of the line that starts at the note's destination (the line above,
    the previous note's last, ends where it starts: the nearest top, not the first touch)."""
    y = float(pdf_page.cropbox.top) - top
    near = sorted((abs(ln.y0 - y), i) for i, ln in enumerate(page.lines) if abs(ln.y0 - y) <= 2)
    if not near or not page.lines[near[0][1]].words:
        return None
    return page.lines[near[0][1]].words[0][4].rstrip(".)") or None


def check_images(path: Path, expect: Expect) -> list[Finding]:
    """Effective resolution from ``pdfimages -list`` (its x-ppi/y-ppi: pixels over the
    placed size)."""
    if shutil.which("pdfimages") is None:
        return [Finding(0, "tool", f"pdfimages is not installed ({POPPLER_HINT})")]
    run = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, text=True,
                         timeout=300, check=True)
    least = 300 if expect.print_ready else 150
    found = []
    for row in run.stdout.splitlines()[2:]:
        cols = row.split()
        if len(cols) < 14 or cols[2] != "image":
            continue
        ppi = min(float(cols[12]), float(cols[13]))
        if ppi < least:
            found.append(Finding(int(cols[0]), "resolution", f"image at {ppi:.0f} ppi, "
                                 f"under {least}", f"{cols[3]}×{cols[4]} px, object {cols[10]}"))
    return found


def check_fonts(path: Path, reader: Any, expect: Expect) -> list[Finding]:
    """``pdffonts``: each font embedded and of one of the theme's families."""
    if shutil.which("pdffonts") is None:
        return [Finding(0, "tool", f"pdffonts is not installed ({POPPLER_HINT})")]
    run = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                         timeout=300, check=True)
    families = [re.sub(r"[^a-z0-9]", "", f.lower()) for f in expect.fonts]
    first = _font_pages(reader)
    found = []
    for row in run.stdout.splitlines()[2:]:
        cols = row.split()
        if len(cols) < 5:
            continue
        name = cols[0].split("+", 1)[-1]
        embedded = cols[-5] == "yes"
        bare = re.sub(r"[^a-z0-9]", "", name.lower())
        page = first.get(name, 0)
        if not embedded:
            found.append(Finding(page, "font", f"font {name} is not embedded", "pdffonts"))
        if families and not any(bare.startswith(f) for f in families):
            found.append(Finding(page, "font", f"font {name} is not the theme's "
                                 f"({', '.join(expect.fonts)})", "pdffonts"))
    return found


def _font_pages(reader: Any) -> dict[str, int]:
    first: dict[str, int] = {}
    for number, page in enumerate(reader.pages, 1):
        for font in _resources_fonts(page.get("/Resources"), set()):
            name = str(font.get("/BaseFont", "")).lstrip("/").split("+", 1)[-1]
            first.setdefault(name, number)
    return first


def report(findings: Sequence[Finding]) -> dict[str, Any]:
    """The findings as one check of builder.pdfcheck's report (``ok`` False when any)."""
    return {"ok": not findings, "findings": [vars(f) for f in findings],
            "detail": [str(f) for f in findings]}
