"""The page inspector (builder/pageinspect.py) on real builds and on cases made to fail."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from builder.pageinspect import (
    Expect,
    Line,
    Page,
    check_columns,
    check_contents,
    expect_for,
    inspect_pdf,
)
from builder.themes import load_theme
from conftest import ROOT, SLUG, run_builder

SAMPLE = ROOT / "tests" / "books" / "sample"
STYLES = ("apa", "chicago-notes-bibliography", "ieee", "modern-language-association")
SIZES = ("A4", "Letter", "A5", "B5", "6x9")

pytestmark = [pytest.mark.slow, pytest.mark.external]  # builds, poppler-utils

PARAGRAPH = "Words of a paragraph that runs on for a while to fill a line. " * 6
WIDE_TABLE = ("| " + " | ".join(f"column{i}" for i in range(14)) + " |\n|" + "---|" * 14 +
              "\n| " + " | ".join(f"verylongcellvalue{i}" for i in range(14)) + " |")


def _project(tmp_path: Path) -> Path:
    """One page: a paragraph, a 60×40 px picture across the column, a table too wide."""
    from PIL import Image
    book = tmp_path / "p" / "book"
    book.mkdir(parents=True)
    (book / "book.yml").write_text("title: Inspector cases\nauthor: [{name: A. Tester}]\n"
                                   "date: 2024-01-01\nlang: en\n")
    Image.new("RGB", (60, 40), (200, 30, 30)).save(book / "small.png")
    (book / "a.md").write_text(f"# Cases\n\n{PARAGRAPH}\n\n![A small picture.](small.png)"
                               f"{{width=100%}}\n\n{WIDE_TABLE}\n\n{PARAGRAPH}\n")
    return tmp_path / "p"


def _build(project: Path, *options: str) -> Path:
    out = project / ("print" if options else "dist")
    result = run_builder("build", str(project), "--to", "pdf", "--out", str(out), *options)
    assert result.returncode == 0, result.stderr
    return out / "inspector-cases.pdf"


def _findings(pdf: Path, kinds: set[str], variant: str | None = None) -> list[str]:
    expect = expect_for(load_theme("report", ROOT), variant)
    # page, kind and message: the where (y of the line, object number) moves with the layout
    return [f"p{f.page}: {f.kind}: {f.message}" for f in inspect_pdf(pdf, expect)
            if f.kind in kinds]


def test_a_table_too_wide_and_a_small_picture(tmp_path):
    pdf = _build(_project(tmp_path))
    assert _findings(pdf, {"overflow", "resolution", "font", "short"}) == [
        f"p1: overflow: line {wider} pt wider than its column" for wider in (
            "26.7", "73.3", "119.8", "13.4", "26.2", "22.1", "60.0", "72.8", "68.7", "106.6",
            "119.3", "115.3")] + ["p1: resolution: image at 13 ppi, under 150"]


def test_print_wants_300_ppi_and_text_inside_the_trim_box(tmp_path):
    pdf = _build(_project(tmp_path), "--print")
    found = _findings(pdf, {"overflow", "resolution"}, "pdf/x-4")
    assert found[-1] == "p1: resolution: image at 13 ppi, under 300"
    assert [f for f in found if "trim box" in f] == [
        f"p1: overflow: text outside the trim box: '{word}'"
        for word in ("colum-", "n10", "very-", "long-", "cell-", "val-", "ue10")]


def test_fonts_not_the_themes(built):
    pdf = built() / f"{SLUG}.pdf"
    expect = dataclasses.replace(expect_for(load_theme("report", ROOT)), fonts=("PT Serif",))
    fonts = [str(f) for f in inspect_pdf(pdf, expect) if f.kind == "font"]
    assert fonts == ["p1: font: font PT-Sans is not the theme's (PT Serif) (pdffonts)",
                     "p1: font: font PT-Sans-Bold is not the theme's (PT Serif) (pdffonts)"]


def test_the_article_has_no_finding(built):
    """The article's pages as a designer signs them off: the text column in line with the
    running heads, 60-75 characters a line, nothing outside its column (issue 16)."""
    findings = inspect_pdf(built() / f"{SLUG}.pdf",
                           expect_for(load_theme("report", ROOT)))
    assert [str(f) for f in findings] == []


def _line(x0: float, y0: float, text: str) -> Line:
    words, x = [], x0
    for word in text.split():
        words.append((x, y0, x + 5 * len(word), y0 + 12, word))
        x += 5 * len(word) + 3
    return Line(x0, y0, x - 3, y0 + 12, tuple(words))


class _Outline:
    """What check_contents reads of a pypdf reader: bookmarks and their pages."""
    def __init__(self, marks: list[tuple[str, int]]) -> None:
        self.outline = [dataclasses.make_dataclass("Mark", ["title", "page"])(t, p)
                        for t, p in marks]

    def get_destination_page_number(self, mark: object) -> int:
        return mark.page  # type: ignore[attr-defined]


def test_a_contents_entry_without_a_number_or_with_the_wrong_one():
    column = (60.0, 70.0, 530.0, 770.0)
    contents = Page(3, 595, 842, [_line(60, 100, "Introduction . . . . 5"),
                                  _line(60, 120, "Methods . . . . 8"),
                                  _line(60, 140, "Results . . . ."),
                                  _line(60, 160, "Conclusion . . . . 11")], column=column)
    others = [Page(n, 595, 842, [_line(60, 100, "text")], column=column) for n in range(4, 12)]
    pages = [Page(1, 595, 842, []), Page(2, 595, 842, []), contents, *others]
    reader = _Outline([("Contents", 2), ("Introduction", 4), ("Methods", 6),
                       ("Results", 8), ("Conclusion", 10)])
    assert [str(f) for f in check_contents(pages, reader)] == [
        "p3: contents: entry 'Methods' says page 8, its target is on page 7 "
        "(y 120.0: 'Methods . . . . 8')",
        "p3: contents: entry 'Results' has no page number (y 140.0: 'Results . . . .')",
    ]


def test_expect_reads_the_theme():
    expect = expect_for(load_theme("book", ROOT), "pdf/x-4")
    assert (expect.mirror, expect.line_chars, expect.min_lines, expect.print_ready) == (
        True, (60, 75), 8, True)
    assert round(expect.margins["inner"], 2) == 56.69  # 20 mm
    assert Expect().line_chars == (60, 75)


@pytest.mark.parametrize("style", STYLES)
def test_the_article_in_four_styles_has_no_finding(built, style):
    """Author-date (APA), notes (Chicago: ten footnotes, numbered once each), numeric
    (IEEE: the numbers in a column) and MLA: the pages pass as the default's do."""
    out = built("--to", "pdf", "--style", style)
    findings = inspect_pdf(out / f"{SLUG}.pdf", expect_for(load_theme("report", ROOT)))
    assert [str(f) for f in findings] == []


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("theme", ("report", "book"))
def test_the_sample_book_at_every_size_has_no_finding(tmp_path, theme, size):
    """Every page size we offer, in both themes: the column in line with the heads, 60-75
    characters a line (A5 and 6x9 keep the theme's side margins, the others grow them to
    the 120 mm measure), the contents' numbers right, the notes on their calls' pages."""
    result = run_builder("build", str(SAMPLE), "--to", "pdf", "--theme", theme,
                         "--page-size", size, "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    findings = inspect_pdf(tmp_path / "rivers-and-cities.pdf",
                           expect_for(load_theme(theme, SAMPLE)))
    assert [str(f) for f in findings] == []


def _box(x0: float, x1: float, y0: float) -> Line:
    return Line(x0, y0, x1, y0 + 12, ((x0, y0, x1, y0 + 12, "words"),))


def test_a_hanging_indent_and_ragged_lines_are_not_misaligned():
    """A page of reference entries: more lines at the hanging indent than at the column's
    edge, and ragged right ends, three alike by chance (repeated titles)."""
    column = (60.0, 70.0, 530.0, 770.0)
    ends = ((512, 470), (512, 480), (512, 455), (525, 430), (490, 500))
    lines = [line for i, (first, second) in enumerate(ends) for line in
             (_box(60, first, 100 + 40 * i), _box(79, second, 114 + 40 * i),
              _box(79, 300, 128 + 40 * i))]
    page = Page(2, 595, 842, lines, trim=(0, 0, 595, 842), column=column)
    assert check_columns([page]) == []


def test_justified_text_inside_the_column_is_found():
    column = (60.0, 70.0, 530.0, 770.0)
    lines = [_box(66, 524.6, 100 + 14 * i) for i in range(6)] + [_box(66, 300, 184)]
    page = Page(2, 595, 842, lines, trim=(0, 0, 595, 842), column=column)
    assert [str(f) for f in check_columns([page])] == [
        "p2: align: body text's left edge at 66.0 pt, the column's at 60.0 pt (6.0 pt in)",
        "p2: align: body text's right edge at 524.6 pt, the column's at 530.0 pt (5.4 pt in)"]


def test_a_page_of_table_cells_is_not_misaligned():
    """A page holding only a table: each cell's text a padding inside the column, every
    cell a line of its own beside the others."""
    column = (60.0, 70.0, 530.0, 770.0)
    lines = [cell for row in range(6) for cell in
             (_box(65.7, 120, 100 + 18 * row), _box(200, 240, 100 + 18 * row),
              _box(300, 340, 100 + 18 * row))]
    page = Page(3, 595, 842, lines, trim=(0, 0, 595, 842), column=column)
    assert check_columns([page]) == []
