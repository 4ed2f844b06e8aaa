"""The printed page a book designer signs off (issue 16): the text column in line with the
running heads and folios, the measure, hyphenation, space above headings, list numbers,
the contents' page numbers and the back matter, read from the real PDF's text positions
(``pdftotext -bbox-layout``, tests/pdflines.py)."""
from __future__ import annotations

import collections
import itertools
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import ROOT, run_builder
from pdflines import Line, body_lines, characters_per_line, full_lines, margin_lines, pdf_lines

pytestmark = [pytest.mark.slow, pytest.mark.external,  # PDF layouts, poppler
              pytest.mark.skipif(shutil.which("pdftotext") is None,
                                 reason="poppler-utils (pdftotext) is not installed")]

SAMPLE = ROOT / "tests" / "books" / "sample"


@pytest.fixture(scope="module")
def lines_of(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., list[Line]]:
    """The lines of the PDF of a project built with these options (built once)."""
    cache: dict[tuple[str, ...], list[Line]] = {}

    def build(project: Path, *options: str) -> list[Line]:
        key = (str(project), *options)
        if key not in cache:
            out = tmp_path_factory.mktemp("page")
            result = run_builder("build", str(project), "--out", str(out), "--to", "pdf",
                                 "-q", *options)
            assert result.returncode == 0, result.stderr
            cache[key] = pdf_lines(next(out.glob("*.pdf")))
        return cache[key]

    return build


def _right_edge(lines: list[Line]) -> float | None:
    """Where the page's justified lines end: the most common right end of the lines that
    fill the measure (a line ending in a hyphen or a comma has a box a little wider);
    None on a page set ragged right (the references), where no three lines end together."""
    ends = collections.Counter(round(ln.x_max, 1) for ln in full_lines(lines))
    end, count = ends.most_common(1)[0]
    return end if count >= 3 else None


@pytest.mark.parametrize("project,options", [
    (ROOT, ()), (ROOT, ("--page-size", "Letter")), (ROOT, ("--theme", "book")),
    (SAMPLE, ("--theme", "book")), (SAMPLE, ("--theme", "book", "--page-size", "6x9")),
])
def test_text_column_shares_its_edges_with_the_heads_and_folios(lines_of, project, options):
    lines = lines_of(project, *options)
    checked = 0
    for page in sorted({ln.page for ln in lines}):
        on_page = [ln for ln in lines if ln.page == page]
        heads, body = margin_lines(on_page), body_lines(on_page)
        if not heads or not body:
            continue
        middle = on_page[0].page_width / 2
        centre = {id(h): (h.x_min + h.x_max) / 2 for h in heads}  # "Page n of N" is centred
        left = [h.x_min for h in heads if centre[id(h)] < middle - 30]
        right = [h.x_max for h in heads if centre[id(h)] > middle + 30]
        if left:
            assert min(ln.x_min for ln in body) == pytest.approx(min(left), abs=0.5), page
            checked += 1
        if right and _right_edge(body) is not None:
            assert _right_edge(body) == pytest.approx(max(right), abs=0.5), page
            checked += 1
    assert checked >= 2


@pytest.mark.parametrize("options", [(), ("--page-size", "Letter"), ("--theme", "book"),
                                     ("--theme", "book", "--page-size", "Letter")])
def test_the_measure_is_60_to_75_characters_at_a4_and_letter(lines_of, options):
    assert 60 <= characters_per_line(lines_of(ROOT, *options)) <= 75


@pytest.mark.parametrize("theme", ["report", "book"])
@pytest.mark.parametrize("size", ["A5", "B5", "6x9"])
def test_smaller_pages_keep_the_measure_of_60_to_75(lines_of, size, theme):
    """A5 and 6x9 keep the theme's side margins (22 mm and 26/20 mm left 58 characters on
    A5), B5 grows them to the 120 mm column."""
    assert 60 <= characters_per_line(lines_of(ROOT, "--page-size", size, "--theme", theme)) <= 75


@pytest.mark.parametrize("size", ["A4", "Letter", "A5", "B5", "6x9"])
def test_the_imprint_is_on_the_back_of_the_title_page_at_every_size(lines_of, size):
    """Its 170 mm of space above ran it over two pages on A5 and 6x9 (and pushed the
    contents two pages on): it sits at the foot of page 2, the contents on page 3."""
    lines = lines_of(SAMPLE, "--theme", "book", "--page-size", size)
    imprint = [ln.text for ln in lines if ln.page == 2]
    assert imprint == ["Rivers and Cities: Water and Urban Growth in Central Asia",
                       "Aigerim Sadykova", "Tomás Herrera", "Steppe Institute Press, 2023",
                       "ISBN 978-3-16-148410-0"]
    assert min((ln for ln in lines if ln.page == 2), key=lambda ln: ln.y_min).y_min > (
        0.6 * lines[0].page_height)
    assert [ln.text for ln in lines if ln.page == 3][0] == "Contents"


# --- a small book with the cases of issue 16 ---------------------------------------------------

CHAPTER = """# First chapter

A paragraph before the lists, long enough to be a paragraph of text in the book.

1. one
2. two

3) three
4) four

A paragraph after the lists.

# Second heading

More text under it.

## A section

Text of the section.

## Русский и қазақша

Текст на русском языке.
"""


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cases")
    (root / "book").mkdir()
    (root / "book" / "book.yml").write_text(
        "title: Page cases\nauthor:\n  - name: A. Writer\n    bio: A. Writer writes books.\n"
        "lang: en\ntags: [alpha, beta]\n", encoding="utf-8")
    (root / "book" / "01-one.md").write_text(CHAPTER, encoding="utf-8")
    return root


def _line(lines: list[Line], text: str) -> Line:
    found = [ln for ln in lines if ln.text == text]
    assert len(found) == 1, (text, [ln.text for ln in lines])
    return found[0]


@pytest.mark.parametrize("theme", ["report", "book"])
def test_a_list_that_starts_at_3_is_numbered_from_3(lines_of, cases, theme):
    texts = [ln.text for ln in body_lines(lines_of(cases, "--theme", theme))]
    at = texts.index("1. one")
    assert texts[at:at + 4] == ["1. one", "2. two", "3. three", "4. four"]


@pytest.mark.parametrize("theme", ["report", "book"])
def test_a_heading_in_the_middle_of_a_chapter_has_space_above(lines_of, cases, theme):
    lines = body_lines(lines_of(cases, "--theme", theme))

    def space_above(text: str) -> float:
        heading = _line(lines, text)
        before = lines[lines.index(heading) - 1]
        assert before.page == heading.page
        return heading.y_min - before.y_max

    # an h1 in the middle of the file has more space above it than an h2, and that at
    # least a line (14 pt) (it had less than one point)
    h1, h2 = space_above("Second heading"), space_above("A section")
    assert h1 > h2 >= 14


def test_tags_end_the_html_not_the_pdf_unless_the_theme_says(lines_of, cases, tmp_path):
    texts = [ln.text for ln in lines_of(cases)]
    assert "A. Writer writes books." in texts and not any("alpha" in t for t in texts)
    out = tmp_path / "html"
    assert run_builder("build", str(cases), "--out", str(out), "--to", "html",
                       "-q").returncode == 0
    assert '<span class="tags-label">Tags:</span> alpha, beta</p>' in \
        next(out.glob("*.html")).read_text(encoding="utf-8")
    theme = cases / "styles" / "tagged"
    theme.mkdir(parents=True)
    (theme / "theme.yml").write_text("name: tagged\nextends: report\npage:\n  tags: true\n",
                                     encoding="utf-8")
    assert "Tags: alpha, beta" in [ln.text for ln in lines_of(cases, "--theme", "tagged")]


@pytest.mark.parametrize("theme", ["report", "book"])
def test_the_bios_follow_the_references_on_their_page_when_they_fit(lines_of, theme):
    lines = body_lines(lines_of(SAMPLE, "--theme", theme))
    last_reference = next(ln for ln in reversed(lines) if ln.text.startswith("Tashkent City"))
    about = _line(lines, "About the authors")
    assert about.page == last_reference.page == lines[-1].page


def test_the_bio_is_never_alone_on_the_last_page(lines_of):
    """The article's bio and disclaimer do not fit under its references (report theme):
    the last entry goes over with them (they made a 6-line page of their own)."""
    lines = body_lines(lines_of(ROOT))
    last = [ln.text for ln in lines if ln.page == lines[-1].page]
    assert last == [
        "White House. (2018d). United States and Kazakhstan: an Enhanced Strategic",
        "Partnership for the 21st Century.", "About the author",
        "Dauren Aben, Senior Research fellow",
        "Dauren Aben holds a Master’s in International Relations from Kainar Univer-",
        "sity, Almaty, Kazakhstan.",
        "The views expressed in this blog are the author’s own and do not necessarily reflect",
        "the Institute’s editorial policy."]


# --- hyphenation --------------------------------------------------------------------------------

HYPHENATED = ("President", "standards", "nuclear")


@pytest.fixture(scope="module")
def narrow(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """A book of one-line paragraphs, "1 President" to "1111111111 President", in a 62 pt
    column that breaks each word at the last hyphenation point that fits: together they
    show every point of the word (a theme that allows two letters each side)."""
    def make(lang: str) -> Path:
        root = tmp_path_factory.mktemp("narrow")
        (root / "book").mkdir()
        (root / "book" / "book.yml").write_text(f"title: Hyphens\nlang: {lang}\n",
                                                encoding="utf-8")
        paragraphs = [f"{'1' * k} {word}" for word in HYPHENATED for k in range(1, 11)]
        (root / "book" / "01.md").write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
        theme = root / "styles" / "narrow"
        (theme / "css").mkdir(parents=True)
        (theme / "theme.yml").write_text("name: narrow\nextends: report\n", encoding="utf-8")
        (theme / "css" / "print.css").write_text(
            ".chapter p { width: 62pt; text-align: left; hyphenate-limit-chars: 4 2 2; }\n",
            encoding="utf-8")
        return root
    return make


def _hyphenation_points(lines: list[Line]) -> dict[str, list[str]]:
    """Each word broken at a line end (a line ending in "-"), with the parts before the
    breaks that the layout chose."""
    found: dict[str, set[str]] = {}
    for line, after in itertools.pairwise(lines):
        if line.text.endswith("-"):
            part = line.text.split()[-1][:-1]
            found.setdefault(part + after.text.split()[0], set()).add(part)
    return {word: sorted(parts) for word, parts in found.items()}


@pytest.mark.parametrize("lang,points", [
    ("en", {"President": ["Pres", "Presi"], "standards": ["stan"], "nuclear": ["nu", "nucle"]}),
    ("en-US", {"President": ["Pres", "Presi"], "standards": ["stan"],
               "nuclear": ["nu", "nucle"]}),
    ("en-GB", {"President": ["Pres", "Presid"], "standards": ["stand"],
               "nuclear": ["nuc", "nucle"]}),
])
def test_english_is_hyphenated_as_us_english_unless_british(lines_of, narrow, lang, points):
    # Pres-i-dent, stan-dards, nu-cle-ar (US); Pres-id-ent, stand-ards, nuc-le-ar (GB)
    lines = body_lines(lines_of(narrow(lang), "--theme", "narrow"))
    assert _hyphenation_points(lines) == points


def test_a_cyrillic_heading_has_its_page_number_in_the_contents(lines_of, cases):
    lines = lines_of(cases, "--theme", "book")
    heading = next(ln for ln in body_lines(lines) if ln.text == "Русский и қазақша")
    entry = next(ln for ln in lines if ln.text.startswith("Русский и қазақша ."))
    assert entry.text.split()[-1] == str(heading.page)
