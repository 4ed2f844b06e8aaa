"""Bounds on hostile input (issue 14): each limit is one error line at the input's place,
exit code 1 and dist/ as it was; what was quadratic now finishes.

Every case is a real project built by the real command line in a temporary folder (the
measured table of docs/robustness.md runs the same inputs: tools/bounds.py).
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import run_builder

cli = pytest.mark.external  # the case runs the builder command line in a subprocess

FRONT = "---\ntitle: Bounds\n---\n\n"
OLD_HTML = "<!doctype html><title>the previous build</title>\n"
REFS = [{"id": "x", "type": "book", "title": "X", "issued": {"date-parts": [[2001]]}}]


def project(tmp_path: Path, text: str, bib: tuple[str, str] | None = None) -> Path:
    """book/a.md holding ``text`` after the front matter, a bibliography (refs.json with
    one reference, or ``bib``: its file name and text) and the HTML of an earlier build."""
    root = tmp_path / "p"
    (root / "book").mkdir(parents=True)
    (root / "book" / "a.md").write_text(FRONT + text, encoding="utf-8")
    (root / "bibliography").mkdir()
    name, content = bib or ("refs.json", json.dumps(REFS))
    (root / "bibliography" / name).write_text(content, encoding="utf-8")
    (root / "dist").mkdir()
    (root / "dist" / "bounds.html").write_text(OLD_HTML, encoding="utf-8")
    return root


def build(root: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return run_builder("build", ".", "--quiet", *(options or ("--to", "html")), cwd=root)


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one line on stderr of a build that failed as an input error should."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1, (result.returncode, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def assert_dist_unchanged(root: Path) -> None:
    assert sorted(p.name for p in (root / "dist").iterdir()) == ["bounds.html"]
    assert (root / "dist" / "bounds.html").read_text(encoding="utf-8") == OLD_HTML


def built(result: subprocess.CompletedProcess[str], root: Path) -> str:
    """The HTML page of a build that succeeded."""
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    return (root / "dist" / "bounds.html").read_text(encoding="utf-8")


# --- what was quadratic: it finishes -------------------------------------------------------

@cli
@pytest.mark.parametrize("unit", ["[@ ", "[@x "])
def test_a_paragraph_of_20000_unclosed_citation_brackets_builds(tmp_path: Path,
                                                                unit: str) -> None:
    """Each ``[`` used to be matched by a scan to the paragraph's end (6,000 of them took
    minutes); the brackets of a paragraph are now matched once."""
    root = project(tmp_path, unit * 20_000 + "\n")
    page = built(build(root), root)
    assert page.count("[") >= 20_000


# --- citations ---------------------------------------------------------------------------

@cli
def test_a_citation_of_more_than_1000_cites_is_an_error_at_its_line(tmp_path: Path) -> None:
    """100,000 cites in one citation were quadratic, and past 6,128 their marks ran into
    the quotation layer's: such a citation is refused, before citeproc-py sees it."""
    root = project(tmp_path, "Text.\n\nMore text, then\nsee [" +
                   "; ".join(["@x"] * 100_000) + "].\n")
    assert error_line(build(root)) == (
        "book/a.md:8:5: error: a citation of 100,000 cites (the limit is 1,000 in one "
        "citation) (hint: split it into several citations)")
    assert_dist_unchanged(root)


@cli
def test_a_citation_of_1000_cites_builds(tmp_path: Path) -> None:
    root = project(tmp_path, "See [" + "; ".join(["@x"] * 1_000) + "].\n")
    assert built(build(root), root).count('href="#ref-x"') == 1_000


def test_the_marks_of_cites_are_unbounded_and_stay_in_the_citation_layers_range() -> None:
    """Every cite of a citation links to its entry, however many it holds (the nocite
    cluster of ``nocite: '@*'`` holds every reference): its mark is written in base 1024
    with the code points U+E100-U+E4FF, which nothing else uses."""
    from builder.citations import markup
    from builder.citations.engine import Cite, Processor

    for number in (0, 1, 1_023, 1_024, 6_128, 1_048_576, 10 ** 9):
        mark = markup.cite_mark(number)
        assert mark[0] == markup.CITE_OPEN
        assert all("\ue100" <= c <= "\ue4ff" for c in mark[1:])
        assert markup.cite_number(mark[1:]) == number
    style = (b'<?xml version="1.0"?><style xmlns="http://purl.org/net/xbiblio/csl" '
             b'version="1.0" class="in-text"><info><title>T</title><id>t</id></info>'
             b'<citation><layout delimiter="; "><text variable="title"/></layout></citation>'
             b'</style>')
    count = 7_000
    items = [{"id": f"r{n}", "type": "book", "title": f"T{n}"} for n in range(count)]
    processor = Processor(style, items, link_cites=True)
    html = processor.render([[Cite(id=f"r{n}") for n in range(count)]]).citations[0]
    links = [part.split('"')[0] for part in html.split('<a href="#')[1:]]
    assert links == [f"ref-r{n}" for n in range(count)]
    assert not any("\ue000" <= c <= "\uf8ff" for c in html)


# --- BibTeX --------------------------------------------------------------------------------

def _doubling(steps: int, field: str = "{last}") -> str:
    """``@string{a0 = "x"}``, then each macro twice the one before, then an entry."""
    lines = ['@string{a0 = "x"}'] + [f"@string{{a{n} = a{n - 1} # a{n - 1}}}"
                                     for n in range(1, steps)]
    return "\n".join(lines) + f"\n@book{{x,\n  title = {field.format(last=f'a{steps - 1}')},\n}}\n"


@cli
def test_an_at_string_chain_doubling_30_times_is_an_error_at_its_line(tmp_path: Path) -> None:
    """2^29 characters were built in memory (a traceback, or the machine's memory); the
    expansion stops at the @string that passes 100,000 characters (a17: 131,072)."""
    root = project(tmp_path, "Text [@x].\n", ("refs.bib", _doubling(30)))
    assert error_line(build(root)) == (
        "bibliography/refs.bib:18: error: invalid value of @string: it expands to more than "
        "100,000 characters (hint: @string macros that repeat each other grow at each step: "
        "write the text out)")
    assert_dist_unchanged(root)


@cli
def test_a_field_joining_macros_past_the_limit_is_an_error_at_its_line(tmp_path: Path) -> None:
    root = project(tmp_path, "Text [@x].\n",
                   ("refs.bib", _doubling(17, " # ".join(["{last}"] * 3))))
    assert error_line(build(root)) == (
        "bibliography/refs.bib:19: error: invalid value of field 'title': it expands to more "
        "than 100,000 characters (hint: @string macros that repeat each other grow at each "
        "step: write the text out)")


@cli
def test_a_field_of_65536_characters_from_macros_builds(tmp_path: Path) -> None:
    root = project(tmp_path, "Text [@x].\n", ("refs.bib", _doubling(17)))
    from lxml import html as lxml_html
    page = lxml_html.fromstring(built(build(root), root))
    # the whole title, in sentence case as an English BibTeX title is read (as Pandoc does)
    assert [e.text_content() for e in page.find_class("csl-entry")] == [
        "X" + "x" * 65_535 + ". (n.d.)."]


# --- what a chapter holds ------------------------------------------------------------------

@cli
def test_more_than_20000_notes_in_a_chapter_is_an_error_at_the_paragraph(tmp_path: Path) -> None:
    """Paragraphs of 100 inline notes each, one after a blank line: the 20,001st note is in
    the 201st paragraph (line 5 + 2 * 200)."""
    root = project(tmp_path, "\n\n".join(["a^[b] " * 100] * 250) + "\n")
    assert error_line(build(root)) == (
        "book/a.md:405: error: the chapter holds more than 20,000 notes (hint: split it into "
        "several chapters, listed in book/book.yml)")
    assert_dist_unchanged(root)


@cli
def test_more_than_20000_note_definitions_is_an_error_at_the_one_past(tmp_path: Path) -> None:
    root = project(tmp_path, "".join(f"[^{n}]: note {n}\n" for n in range(30_000)))
    assert error_line(build(root)) == (
        "book/a.md:20005: error: the chapter holds more than 20,000 notes (hint: split it "
        "into several chapters, listed in book/book.yml)")
    assert_dist_unchanged(root)


@cli
@pytest.mark.slow
def test_20000_notes_in_a_chapter_build(tmp_path: Path) -> None:
    root = project(tmp_path, "\n\n".join(["a^[b] " * 100] * 200) + "\n")
    assert built(build(root), root).count('role="doc-backlink"') == 20_000


@cli
@pytest.mark.slow
def test_more_than_2000000_tokens_in_a_chapter_is_an_error_at_the_paragraph(
        tmp_path: Path) -> None:
    """Paragraphs of 1,000 emphasised words (4,000 tokens, with the spaces between; and
    three for each paragraph): the 500th takes the chapter past 2,000,000."""
    root = project(tmp_path, "\n\n".join(["*a* " * 1_000] * 600) + "\n")
    assert error_line(build(root)) == (
        "book/a.md:1003: error: the chapter holds more than 2,000,000 Markdown elements "
        "(hint: split it into several chapters, listed in book/book.yml)")
    assert_dist_unchanged(root)


@cli
@pytest.mark.slow
def test_one_paragraph_of_4000000_tokens_stops_at_the_limit(tmp_path: Path) -> None:
    """The paragraph is not parsed to its end before it is counted: its parse stops."""
    root = project(tmp_path, "Intro.\n\n" + "*a* " * 1_000_000 + "\n")
    assert error_line(build(root)) == (
        "book/a.md:7: error: the chapter holds more than 2,000,000 Markdown elements "
        "(hint: split it into several chapters, listed in book/book.yml)")


# --- raw HTML ------------------------------------------------------------------------------

HTML_DEPTH_ERROR = ("error: HTML elements nested more than 100 deep (hint: close the elements "
                    "you open; nothing needs this many levels)")


@cli
def test_5000_nested_divs_are_an_error_at_the_101st(tmp_path: Path) -> None:
    """WeasyPrint's recursion failed on them (a RuntimeError with a traceback, from the
    PDF's process): refused at the tag that opens level 101, column 501."""
    root = project(tmp_path, "<div>" * 5_000 + "deep" + "</div>" * 5_000 + "\n")
    assert error_line(build(root, "--to", "pdf")) == "book/a.md:5:501: " + HTML_DEPTH_ERROR
    assert_dist_unchanged(root)


@cli
def test_divs_left_open_across_blocks_count_together(tmp_path: Path) -> None:
    """``<div>`` then a blank line, 150 times: each is a block of its own, and each stays
    open around what follows (as ``<div>`` ... ``</div>`` around Markdown does)."""
    root = project(tmp_path, "<div>\n\n" * 150 + "text\n")
    assert error_line(build(root)) == "book/a.md:205:1: " + HTML_DEPTH_ERROR


@cli
def test_inline_html_counts_with_the_markdown_blocks_around_it(tmp_path: Path) -> None:
    """In five quotes and five list items (a paragraph 16 deep), the 85th ``<em>`` opens
    level 101 (at column 11 + 4 * 84 + 1 of its line)."""
    root = project(tmp_path, "> " * 5 + "- " * 5 + "a " + "<em>" * 200 + "x\n")
    assert error_line(build(root)) == "book/a.md:5:359: " + HTML_DEPTH_ERROR


@cli
def test_inline_html_closes_with_its_paragraph(tmp_path: Path) -> None:
    """Unclosed ``<span>``s, 60 a paragraph in 10 paragraphs: a browser closes them at
    each paragraph's end, so they never stand more than 61 deep."""
    root = project(tmp_path, "\n\n".join(["a <span>" * 60] * 10) + "\n")
    assert built(build(root), root).count("<span>") == 600


@cli
@pytest.mark.slow
def test_raw_html_100_deep_builds_in_every_format(tmp_path: Path) -> None:
    """The deepest nesting allowed: 84 ``<em>`` in a paragraph 16 deep."""
    root = project(tmp_path, "> " * 5 + "- " * 5 + "a " + "<em>" * 84 + "x\n")
    result = build(root, "--to", "html,epub,pdf")
    assert result.returncode == 0, result.stderr
    assert {p.suffix for p in (root / "dist").iterdir()} >= {".html", ".epub", ".pdf"}


# --- the PDF -------------------------------------------------------------------------------

@cli
def test_a_paragraph_longer_than_200000_characters_is_an_error_for_the_pdf(
        tmp_path: Path) -> None:
    """WeasyPrint's line breaking took minutes on a 5 MB paragraph; the PDF refuses one of
    more than 200,000 characters at its line, before WeasyPrint starts (2,500 lines of 99
    characters: the line ends are no characters of its text)."""
    root = project(tmp_path, "Intro.\n\n" + ("word " * 20 + "\n") * 2_500)
    assert error_line(build(root, "--to", "html,epub,pdf")) == (
        "book/a.md:7: error: a paragraph of 247,500 characters is too long for the PDF (the "
        "limit is 200,000) (hint: split it into paragraphs with blank lines)")
    assert_dist_unchanged(root)


@cli
def test_the_long_paragraph_is_fine_in_html(tmp_path: Path) -> None:
    root = project(tmp_path, "Intro.\n\n" + ("word " * 20 + "\n") * 2_500)
    assert built(build(root), root).count("word word") >= 25_000


@cli
@pytest.mark.parametrize("text", [
    "[" * 20_000 + "x" + "]" * 20_000,         # nested brackets, each closed
    "[" * 20_000 + "x",                        # none closed
    "[" * 20_000 + "x](#a)" + "]" * 20_000,    # a link inside them
    "[a]{ " * 20_000,                          # bracketed spans whose attributes never close
], ids=["closed", "unclosed", "link", "span-attributes"])
def test_20000_nested_link_brackets_build(tmp_path: Path, text: str) -> None:
    """They took some 45 s (each bracket matched by a scan to the paragraph's end)."""
    root = project(tmp_path, text + "\n")
    assert built(build(root), root).count("[") >= 19_000


# --- deep Markdown: nothing dropped ---------------------------------------------------------

@cli
def test_blockquotes_30_deep_keep_their_text(tmp_path: Path) -> None:
    """markdown-it-py stopped at 20 levels and silently dropped the text inside (and the
    rest of the chapter); Pandoc has no such limit."""
    from lxml import html as lxml_html
    root = project(tmp_path, "> " * 30 + "Deep text.\n\n- " + "- " * 29 + "Deep item.\n\nAfter.\n")
    page = lxml_html.fromstring(built(build(root), root))
    body = page.find(".//main") if page.find(".//main") is not None else page.find("body")
    for nav in list(body.iter("nav")):  # the contents sidebar
        nav.drop_tree()
    assert [" ".join(p.text_content().split()) for p in body.iter("p", "li")
            if not len(p.findall(".//p")) and not len(p.findall(".//li"))] == [
        "Deep text.", "Deep item.", "After."]


@cli
def test_blocks_nested_past_the_limit_are_an_error(tmp_path: Path) -> None:
    root = project(tmp_path, "Before.\n\n" + "> " * 120 + "Too deep.\n")
    assert error_line(build(root)) == (
        "book/a.md:7: error: blocks nested more than 100 deep (blockquotes, lists, divs) "
        "(hint: nest them less deeply)")
    assert_dist_unchanged(root)


@cli
def test_emphasis_nested_past_the_limit_is_an_error(tmp_path: Path) -> None:
    """10,000 ``*`` on each side nest 5,000 deep: a RecursionError once, now one line."""
    root = project(tmp_path, "*" * 10_000 + "deep" + "*" * 10_000 + "\n")
    assert error_line(build(root)) == (
        "book/a.md:5: error: inline formatting nested more than 100 deep (emphasis, links, "
        "spans) (hint: nest it less deeply)")
    assert_dist_unchanged(root)
