"""The print-ready PDF: real builds through the command line, checked on the real files.

Page size and boxes per variant, fonts (embedded, only the theme's), bookmarks = headings,
contents page numbers = the pages the headings land on, every footnote on the page of its
call, running heads where they belong, metadata, byte-identical rebuilds, qpdf --check,
PDFBox Preflight (PDF/A-1b) where installed.  Builds are shared per session.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from conftest import ROOT, SLUG, run_builder

pytestmark = [pytest.mark.slow, pytest.mark.external]  # PDF layouts, qpdf, poppler, PDFBox

pypdf = pytest.importorskip("pypdf")
from pypdf import PdfReader  # noqa: E402

from builder import pdfcheck  # noqa: E402

SAMPLE = ROOT / "tests" / "books" / "sample"
THEME_FONTS = ("PT Serif", "PT Sans")
EPOCH = "1700000000"
MM = 72 / 25.4
requires_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                      reason="poppler-utils (pdftotext) is not installed")


# --- a long multi-chapter book made for these tests ------------------------------------------

WORDS = ("water canal river city basin season council account field summer spring people "
         "growth price tariff upstream downstream oasis steppe delta flood").split()


def _paragraph(seed: int, words: int) -> str:
    text = [WORDS[(seed * 7 + i * 13 + i * i) % len(WORDS)] for i in range(words)]
    return " ".join(text).capitalize() + "."


def make_long_book(root: Path) -> Path:
    """Three chapters of several pages: h1–h3, 24 footnotes, a 70-row table, an SVG figure,
    Cyrillic, citations; long enough for running heads, blank versos and split tables."""
    for folder in ("book", "bibliography", "images"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    refs = [{"id": f"src{n}", "type": "book", "title": f"Source number {n}",
             "author": [{"family": f"Author{n}", "given": "A."}],
             "issued": {"date-parts": [[2000 + n]]}, "publisher": "Press"} for n in (1, 2, 3)]
    (root / "bibliography" / "refs.json").write_text(json.dumps(refs), encoding="utf-8")
    (root / "images" / "bars.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 100" width="200" height="100">'
        '<rect width="200" height="100" fill="#ffffff"/>'
        '<rect x="20" y="40" width="40" height="60" fill="#1f4e79"/>'
        '<rect x="80" y="20" width="40" height="80" fill="rgb(192, 57, 43)"/>'
        '<text x="30" y="35" font-family="sans-serif" font-size="10" fill="#222">A</text></svg>',
        encoding="utf-8")
    (root / "book" / "book.yml").write_text(
        'title: "Long Test Book"\nsubtitle: "Pages, Notes and Tables"\n'
        'author:\n  - name: Ann Writer\n    role: Editor\n    bio: "Ann writes test books."\n'
        'date: 2024-03-01\nlang: en\npublisher: Test Press\ntags: [testing, print]\n'
        'disclaimer: "Invented text."\nbibliography: ../bibliography/refs.json\n'
        'chapters: [one.md, two.md, three.md]\n', encoding="utf-8")
    note = 0
    for c, name in enumerate(("one", "two", "three"), start=1):
        lines = [f"# Chapter {name.capitalize()}", ""]
        notes = []
        for s in range(1, 4):
            lines += [f"## Section {c}.{s}", ""]
            for p in range(5):
                seed = c * 100 + s * 10 + p
                text = _paragraph(seed, 70 + (seed % 5) * 15)
                if p % 2 == 0:
                    note += 1
                    text += f" A claim that needs a note.[^n{note}]"
                    notes.append(note)
                if p == 1:
                    text += f" [@src{seed % 3 + 1}]"
                lines += [text, ""]
            if s == 2:
                lines += [f"### Subsection {c}.{s}.1", "", _paragraph(c * 7 + s, 60), ""]
        if c == 2:
            lines += ["| Gauge station | Flow (m³/s) | Year |", "|:--|--:|--:|"]
            lines += [f"| Row {r:02d} | {r * 37 % 900} | {1950 + r} |" for r in range(1, 71)]
            lines += [""]
        if c == 3:
            lines += ['<figure>', '<img src="images/bars.svg" alt="Two bars: A is 60, B is 80." />',
                      '<figcaption>Figure 1. Two bars.</figcaption>', '</figure>', "",
                      "Реки и города: Сырдария и Әмудария.", ""]
        lines += [f"[^n{n}]: The note number {n} says where the claim comes from, in a "
                  "sentence long enough to wrap onto a second line of notes." for n in notes]
        (root / "book" / f"{name}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def long_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_long_book(tmp_path_factory.mktemp("long-book"))


@pytest.fixture(scope="session")
def pdf_build(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Build a project's PDF (and HTML, for its headings) once per set of options."""
    cache: dict[tuple[str, ...], Path] = {}

    def build(project: Path, *options: str, epoch: str | None = EPOCH, to: str = "pdf,html",
              tag: str = "") -> Path:
        key = (str(project), to, epoch or "", tag, *options)
        if key not in cache:
            out = tmp_path_factory.mktemp("pdf")
            env = dict(os.environ)
            env.pop("SOURCE_DATE_EPOCH", None)
            if epoch:
                env["SOURCE_DATE_EPOCH"] = epoch
            result = subprocess.run(
                [sys.executable, "-m", "builder", "build", str(project), "--out", str(out),
                 "--to", to, "-q", *options], cwd=ROOT, env=env, capture_output=True,
                text=True, timeout=600)
            assert result.returncode == 0, result.stderr
            assert "footnote" not in result.stderr, result.stderr
            cache[key] = out
        return cache[key]

    return build


def _pdf(out: Path) -> Path:
    found = list(out.glob("*.pdf"))
    assert len(found) == 1, found
    return found[0]


def _headings(out: Path) -> list[tuple[str, str]]:
    """(id, text) of the headings of the HTML output, the document title left out."""
    tree = lxml_html.fromstring(next(out.glob("*.html")).read_bytes())
    found = []
    for h in tree.xpath("//h1|//h2|//h3|//h4|//h5|//h6"):
        if "title" in (h.get("class") or "").split():
            continue
        ident = h.get("id") or h.getparent().get("id") or ""
        found.append((ident, " ".join(h.text_content().split())))
    return found


def _dest_pages(reader: PdfReader) -> dict[str, int]:
    """Named destination → 1-based page number."""
    return {str(name): reader.get_destination_page_number(dest) + 1
            for name, dest in reader.named_destinations.items()}


def _text(pdf: Path, page: int, top_mm: float | None = None, bottom_mm: float | None = None) -> str:
    """pdftotext of one page, or of its top/bottom band (mm from the trim edge)."""
    reader = PdfReader(pdf)
    box = reader.pages[page - 1].mediabox
    width, height = float(box.width), float(box.height)
    args = ["pdftotext", "-layout", "-f", str(page), "-l", str(page)]
    if top_mm is not None:
        args += ["-x", "0", "-y", "0", "-W", str(int(width)), "-H", str(int(top_mm * MM))]
    if bottom_mm is not None:
        y = int(height - bottom_mm * MM)
        args += ["-x", "0", "-y", str(y), "-W", str(int(width)), "-H", str(int(height - y))]
    result = subprocess.run([*args, str(pdf), "-"], capture_output=True, text=True, check=True)
    return " ".join(result.stdout.split())


# --- page sizes and boxes --------------------------------------------------------------------


@pytest.mark.parametrize("size,expected_mm", [
    ("letter", (215.9, 279.4)),
    ("170x240mm", (170, 240)),
])
def test_page_size_by_flag(pdf_build, size, expected_mm):
    pdf = _pdf(pdf_build(ROOT, "--page-size", size, to="pdf"))
    for page in PdfReader(pdf).pages:
        assert abs(float(page.mediabox.width) - expected_mm[0] * MM) < 0.5
        assert abs(float(page.mediabox.height) - expected_mm[1] * MM) < 0.5
        assert [float(v) for v in page.trimbox] == [float(v) for v in page.mediabox]


def test_named_and_custom_sizes_parse():
    from builder.formats.pdf import parse_page_size
    assert parse_page_size("A4") == ("210mm", "297mm")
    assert parse_page_size("a5") == ("148mm", "210mm")
    assert parse_page_size("B5") == ("176mm", "250mm")
    assert parse_page_size("6x9") == ("6in", "9in")
    assert parse_page_size("6inx9in") == ("6in", "9in")
    assert parse_page_size("17 x 24cm") == ("17cm", "24cm")


@pytest.mark.parametrize("args,message", [
    (["--page-size", "huge"], "unknown page size"),
    (["--page-size", "170x240"], "has no unit"),
    (["--bleed", "3mm"], "--bleed needs --print"),
    (["--pdf-variant", "pdf/z-9"], "unknown PDF variant"),
    (["--print", "--pdf-variant", "pdf/a-3b"], "cannot also be pdf/a-3b"),
])
def test_bad_pdf_options_are_usage_errors(tmp_path, args, message):
    result = run_builder("build", str(ROOT), "--out", str(tmp_path), *args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not list(tmp_path.iterdir())


def test_default_is_a4_with_trim_equal_to_media(built):
    reader = PdfReader(built() / f"{SLUG}.pdf")
    for page in reader.pages:
        assert abs(float(page.mediabox.width) - 595.28) < 0.5
        assert abs(float(page.mediabox.height) - 841.89) < 0.5
        assert [float(v) for v in page.trimbox] == [float(v) for v in page.mediabox]
        assert [float(v) for v in page.bleedbox] == [float(v) for v in page.mediabox]


def test_print_has_bleed_crop_marks_and_boxes_on_every_page(pdf_build, long_book):
    pdf = _pdf(pdf_build(long_book, "--theme", "book", "--print", to="pdf"))
    bleed = 3 * MM
    for page in PdfReader(pdf).pages:
        trim = [float(v) for v in page["/TrimBox"]]
        box = [float(v) for v in page["/BleedBox"]]
        media = [float(v) for v in page.mediabox]
        assert abs(trim[2] - trim[0] - 595.28) < 0.5 and abs(trim[3] - trim[1] - 841.89) < 0.5
        assert [round(b - t, 2) for b, t in zip(box, trim, strict=False)] == [
            round(-bleed, 2), round(-bleed, 2), round(bleed, 2), round(bleed, 2)]
        assert media[0] < box[0] - 5 * MM and media[2] > box[2] + 5 * MM  # room for the marks
        assert "/Annots" not in page
    report = pdfcheck.check_pdf(pdf, "pdf/x-4", fonts=THEME_FONTS)
    assert report["passed"], report
    pdfx = report["checks"]["pdfx"]
    assert pdfx["colours"]["rgb_operators"] == 0 and pdfx["colours"]["cmyk_operators"] > 0
    assert report["checks"]["boxes"]["bleed_mm"] == (3.0, 3.0, 3.0, 3.0)


def test_print_bleed_option(pdf_build):
    pdf = _pdf(pdf_build(ROOT, "--print", "--bleed", "5mm", "--page-size", "a5", to="pdf"))
    page = PdfReader(pdf).pages[0]
    trim = [float(v) for v in page["/TrimBox"]]
    box = [float(v) for v in page["/BleedBox"]]
    assert round(trim[0] - box[0], 1) == round(5 * MM, 1)
    assert abs(trim[2] - trim[0] - 148 * MM) < 0.5


def test_print_crop_marks_are_cmyk_outside_the_bleed(pdf_build, long_book):
    from pypdf.generic import ContentStream
    pdf = _pdf(pdf_build(long_book, "--theme", "book", "--print", to="pdf"))
    reader = PdfReader(pdf)
    page = reader.pages[0]
    box = [float(v) for v in page["/BleedBox"]]
    ops = ContentStream(page.get_contents(), reader).operations
    assert [[float(v) for v in operands] for operands, op in ops if op == b"K"] == [[1, 1, 1, 1]]
    points = [(float(o[0]), float(o[1])) for o, op in ops if op in (b"m", b"l")
              and len(o) == 2]
    marks = [(x, y) for x, y in points if x < box[0] or x > box[2] or y < box[1] or y > box[3]]
    assert len(marks) >= 16  # 8 strokes of two points, all outside the BleedBox


# --- fonts, metadata, reproducibility ----------------------------------------------------------


def test_only_the_theme_fonts_all_embedded(pdf_build, long_book):
    for pdf in (_pdf(pdf_build(long_book, "--theme", "book")), _pdf(pdf_build(ROOT))):
        fonts = pdfcheck.check_fonts(PdfReader(pdf), THEME_FONTS)
        assert fonts["ok"], fonts
        assert {"PT-Serif", "PT-Serif-Italic", "PT-Sans-Bold"} <= set(fonts["fonts"])
    result = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True)
    if result.returncode == 0:
        rows = result.stdout.splitlines()[2:]
        assert rows and all(row.split()[-5] == "yes" for row in rows), result.stdout


def test_metadata(pdf_build):
    reader = PdfReader(_pdf(pdf_build(ROOT)))
    info = reader.metadata
    assert info.title == "New Chapter in Kazakhstan-U.S. Relations"
    assert info.author == "Dauren Aben"
    assert info["/Keywords"] == "USA, Kazakhstan, International Relations"
    assert info["/CreationDate"].startswith("D:20180205")
    assert info["/ModDate"].startswith("D:20231114221320")  # SOURCE_DATE_EPOCH 1700000000
    assert reader.trailer["/Root"]["/Lang"] == "en"


@pytest.mark.parametrize("options", [(), ("--theme", "book", "--print")])
def test_byte_identical_rebuilds(pdf_build, long_book, options):
    first = _pdf(pdf_build(long_book, *options, to="pdf"))
    second = _pdf(pdf_build(long_book, *options, "--no-cache", to="pdf", tag="again"))
    assert first.read_bytes() == second.read_bytes()


# --- the book: title page, contents, running heads, notes, tables ----------------------------


@pytest.fixture(scope="session")
def book_out(pdf_build, long_book) -> Path:
    return pdf_build(long_book, "--theme", "book")


def test_bookmarks_equal_headings(book_out, pdf_build):
    for out, extra in ((book_out, ["Contents"]), (pdf_build(ROOT), [])):
        reader = PdfReader(_pdf(out))
        expected = extra + [text for _, text in _headings(out)]
        assert [t for _, t in pdfcheck.outline_titles(reader)] == expected
    levels = pdfcheck.outline_titles(PdfReader(_pdf(book_out)))
    assert (1, "Chapter One") in levels and (2, "Section 1.1") in levels
    assert (3, "Subsection 1.2.1") in levels and (1, "References") in levels


@requires_poppler
def test_toc_page_numbers_are_where_the_headings_are(book_out):
    pdf = _pdf(book_out)
    reader = PdfReader(pdf)
    dests = _dest_pages(reader)
    toc_page = dests["pdf-contents"]
    text = subprocess.run(["pdftotext", "-layout", "-f", str(toc_page), "-l", str(toc_page),
                           str(pdf), "-"], capture_output=True, text=True).stdout
    entries = re.findall(r"^\s*(\S.*?)\s*\.{3,}\s*(\d+)\s*$", text, flags=re.M)
    ids = {text: ident for ident, text in _headings(book_out)}
    ids.update({"References": "references", "About the author": "about"})
    assert len(entries) == 9 + 3 + 2, entries  # 3 chapters, 9 sections, references, about
    for title, number in entries:
        assert int(number) == dests[ids[title]], (title, number)


def test_every_footnote_on_the_page_of_its_call(book_out, built):
    for pdf in (_pdf(book_out), built("--style", "chicago-notes-bibliography") / f"{SLUG}.pdf"):
        report = pdfcheck.check_footnotes(PdfReader(pdf))
        assert report["ok"], report
        assert report["notes"] >= 10


@requires_poppler
def test_running_heads(book_out):
    pdf = _pdf(book_out)
    reader = PdfReader(pdf)
    dests = _dest_pages(reader)
    chapter_starts = {dests[f"ch{n}"] for n in (1, 2, 3)} | {dests["references"]}
    assert all(page % 2 == 1 for page in chapter_starts), chapter_starts  # right-hand pages
    blank, heads = [], 0
    for number in range(1, len(reader.pages) + 1):
        head = _text(pdf, number, top_mm=22)
        body = _text(pdf, number)
        if number == 1:
            assert head == "" and "Long Test Book" in body  # the title page
        elif not body:
            blank.append(number)  # a blank left-hand page: no head, no folio
        elif number in chapter_starts | {dests["about"]} or number <= dests["pdf-contents"]:
            assert head == "", (number, head)  # opening pages and the front matter
        else:
            expected = "Long Test Book" if number % 2 == 0 else None
            assert head, number
            if expected:
                assert head == expected
            else:
                assert head.startswith("Chapter") or head in ("References", "About the author")
            assert _text(pdf, number, bottom_mm=24) == str(number)  # the folio
            heads += 1
    assert blank and all(page % 2 == 0 for page in blank), blank
    assert heads >= 8


@requires_poppler
@requires_poppler
def test_report_running_heads_and_page_n_of_n(pdf_build):
    pdf = _pdf(pdf_build(ROOT))
    pages = len(PdfReader(pdf).pages)
    assert _text(pdf, 1, top_mm=24) == ""  # the title block's page
    for number in range(2, pages + 1):
        assert _text(pdf, number, top_mm=24).startswith("New Chapter in Kazakhstan-U.S. Relations")
    for number in range(1, pages + 1):
        assert _text(pdf, number, bottom_mm=24) == f"Page {number} of {pages}"


@requires_poppler
def test_long_table_repeats_its_header_row(book_out):
    pdf = _pdf(book_out)
    pages = [n for n in range(1, len(PdfReader(pdf).pages) + 1) if "Row 0" in _text(pdf, n)
             or re.search(r"Row [1-7]\d", _text(pdf, n))]
    assert len(pages) >= 2, pages
    for number in pages:
        assert "Gauge station" in _text(pdf, number)


def test_figure_and_svg_text_use_the_theme(book_out):
    reader = PdfReader(_pdf(book_out))
    assert "Figure 1. Two bars." in "".join(p.extract_text() for p in reader.pages)


def test_title_page_and_back_matter(book_out):
    reader = PdfReader(_pdf(book_out))
    first = " ".join(reader.pages[0].extract_text().split())
    for text in ("Long Test Book", "Pages, Notes and Tables", "Ann Writer", "Editor",
                 "1 March 2024", "Test Press"):
        assert text in first
    last = " ".join(reader.pages[-1].extract_text().split())
    assert "About the author" in last and "Ann writes test books." in last
    assert "Invented text." in last


# --- archive and accessible variants ------------------------------------------------------------


def test_pdf_a_3b(pdf_build):
    pdf = _pdf(pdf_build(ROOT, "--pdf-variant", "pdf/a-3b"))
    report = pdfcheck.check_pdf(pdf, "pdf/a-3b", fonts=THEME_FONTS,
                                headings=[t for _, t in _headings(pdf.parent)])
    assert report["passed"], report
    assert report["checks"]["qpdf"]["ok"] is True


def test_pdf_a_1b_passes_pdfbox_preflight(pdf_build, long_book):
    if pdfcheck.preflight_classpath() is None or shutil.which("java") is None:
        pytest.skip(f"PDFBox Preflight is not installed ({pdfcheck.PDFBOX_HINT})")
    pdf = _pdf(pdf_build(long_book, "--theme", "book", "--pdf-variant", "pdf/a-1b", to="pdf"))
    report = pdfcheck.check_pdf(pdf, "pdf/a-1b", fonts=THEME_FONTS)
    assert report["checks"]["preflight"]["ok"] is True, report["checks"]["preflight"]
    assert report["passed"], report


def test_pdf_ua_1_is_tagged(pdf_build, long_book):
    pdf = _pdf(pdf_build(long_book, "--theme", "book", "--pdf-variant", "pdf/ua-1", to="pdf"))
    report = pdfcheck.check_pdf(pdf, "pdf/ua-1", fonts=THEME_FONTS)
    assert report["passed"], report
    structure = report["checks"]["pdfua"]["structure"]
    assert structure["Note"] == 27  # every footnote a Note
    assert structure["TOC"] == 1 and structure["TOCI"] == 14
    assert structure["Figure"] == 1 and structure["Caption"] == 1
    assert structure["Table"] >= 1 and structure["TH"] >= 3
    reader = PdfReader(pdf)
    assert reader.trailer["/Root"]["/ViewerPreferences"]["/DisplayDocTitle"]


def test_qpdf_check_is_clean(pdf_build, long_book, built):
    if shutil.which("qpdf") is None:
        pytest.skip("qpdf is not installed")
    for pdf in (built() / f"{SLUG}.pdf", _pdf(pdf_build(long_book, "--theme", "book"))):
        assert pdfcheck.run_qpdf(pdf)["ok"]


# --- warnings and --strict -------------------------------------------------------------------


def test_weasyprint_warnings_are_shown_and_strict_makes_them_errors(tmp_path):
    """A project theme extending the report theme, with a CSS mistake and an image without alt."""
    project = tmp_path / "p"
    for folder in ("book", "images", "styles/mine/css"):
        (project / folder).mkdir(parents=True)
    (project / "book" / "a.md").write_text(
        "---\ntitle: Warned\nlang: en\n---\n\nText.\n\n![](../images/dot.svg)\n", encoding="utf-8")
    (project / "images" / "dot.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><circle r="4" cx="5" '
        'cy="5"/></svg>', encoding="utf-8")
    (project / "styles" / "mine" / "theme.yml").write_text("name: mine\nextends: report\n"
                                                           "page:\n  size: A5\n")
    (project / "styles" / "mine" / "css" / "print.css").write_text("p { colr: red; }\n")
    out = tmp_path / "out"
    result = run_builder("build", str(project), "--to", "pdf", "--theme", "mine", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "no alt text" in result.stderr
    assert "colr" in result.stderr  # WeasyPrint's own warning, captured and shown
    # at the theme file's own line, not at a line of the stylesheet WeasyPrint was given
    assert re.search(r"colr: red` at \S*styles/mine/css/print\.css:1:5", result.stderr), \
        result.stderr
    page = PdfReader(next(out.glob("*.pdf"))).pages[0]
    assert abs(float(page.mediabox.width) - 148 * MM) < 0.5  # the project theme's page size
    strict_out = tmp_path / "strict"
    result = run_builder("build", str(project), "--to", "pdf", "--theme", "mine",
                         "--out", str(strict_out), "--strict")
    assert result.returncode == 1
    assert "--strict makes warnings errors" in result.stderr
    assert not list(strict_out.glob("*.pdf"))


# --- the sample book, when it is there ----------------------------------------------------------


@pytest.mark.skipif(not (SAMPLE / "book" / "book.yml").is_file(), reason="no sample book yet")
def test_sample_book_checks(pdf_build):
    out = pdf_build(SAMPLE, "--theme", "book")
    pdf = _pdf(out)
    report = pdfcheck.check_pdf(pdf, fonts=THEME_FONTS,
                                headings=["Contents"] + [t for _, t in _headings(out)])
    assert report["passed"], report
    assert report["checks"]["footnotes"]["notes"] >= 5


def _long_book_pdfs(long_book: Path, out: Path) -> dict[str, Any]:
    """A full and a --draft build of the long book in the book theme (in this process)."""
    from builder.build import BuildRequest, build
    return {name: build(BuildRequest(long_book, formats=("pdf",), theme="book", cache=False,
                                     draft=name == "draft", out_dir=out / name))
            for name in ("full", "draft")}


def _footnote_warnings(result: Any) -> list[str]:
    return [w.message for w in result.diagnostics.warnings if "footnote" in w.message]


def test_one_layout_and_every_footnote_on_the_page_of_its_call(long_book, tmp_path):
    """WeasyPrint 70 would move one of the long book's notes (book theme) a page past its
    call, to fit a paragraph's orphans line (the test below shows it does); pdf.py stops it
    doing that, so the full build and --draft alike are laid out once with every note on
    the page of its call."""
    for name, result in _long_book_pdfs(long_book, tmp_path).items():
        assert result.timings["pdf_layouts"] == 1, name
        report = pdfcheck.check_footnotes(PdfReader(result.outputs["pdf"]))
        assert report["ok"] and report["notes"] >= 24, (name, report)
        assert not _footnote_warnings(result), name


def test_relayout_brings_back_a_note_weasyprint_pushed(long_book, tmp_path, monkeypatch):
    """The fallback, as with a WeasyPrint where the override cannot be installed: WeasyPrint
    pushes a note of the long book past its call; a full build lays the book out again and
    brings it back; --draft lays it out once and says where the note fell."""
    from builder.formats import pdf
    monkeypatch.setattr(pdf, "_notes_stay_with_calls", lambda: contextlib.nullcontext(False))
    results = _long_book_pdfs(long_book, tmp_path)
    full, draft = results["full"], results["draft"]
    assert full.timings["pdf_layouts"] >= 2
    assert pdfcheck.check_footnotes(PdfReader(full.outputs["pdf"]))["ok"]
    assert not _footnote_warnings(full)
    assert draft.timings["pdf_layouts"] == 1
    assert not pdfcheck.check_footnotes(PdfReader(draft.outputs["pdf"]))["ok"]
    pushed = _footnote_warnings(draft)
    assert pushed and re.search(r"is on page (\d+), its call on page (\d+)", pushed[0])


def test_the_footnote_override_is_installed_for_the_render_only(monkeypatch):
    """Installed around the render and restored after it, even on an error; left out
    (nothing replaced) when WeasyPrint's _linebox_layout is not the one it was made for."""
    from weasyprint import document as wdocument
    from weasyprint.layout import LayoutContext
    from weasyprint.layout import block as wblock

    from builder.formats import pdf
    with pytest.raises(RuntimeError), pdf._notes_stay_with_calls() as installed:
        assert installed
        assert issubclass(wdocument.LayoutContext, LayoutContext)
        assert wdocument.LayoutContext is not LayoutContext
        raise RuntimeError
    assert wdocument.LayoutContext is LayoutContext

    def _linebox_layout(context, *args):  # another WeasyPrint: no in_column read
        return context.report_footnote(context.current_page_footnotes[-1])

    monkeypatch.setattr(wblock, "_linebox_layout", _linebox_layout)
    with pdf._notes_stay_with_calls() as installed:
        assert not installed
        assert wdocument.LayoutContext is LayoutContext
