"""Pandoc's citation syntax: what the Markdown parser finds, where, and how it renders."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import html as lxml_html

from builder import document
from builder.markdown import (
    ParsedChapter,
    make_parser,
    parse_chapter,
    parse_cite_items,
    parse_locator,
)
from builder.model import ChapterSource, CiteItem, Position, Reference

MD = make_parser()
PATH = Path("book/article.md")


def parse(text: str, first_line: int = 1, note_style: bool = False,
          chapter_id: str = "ch1") -> ParsedChapter:
    return parse_chapter(MD, ChapterSource(PATH, text, first_line), chapter_id,
                         note_style=note_style)


def items(text: str) -> list[tuple[CiteItem, ...]]:
    """The items of each citation found in ``text``."""
    return [cluster.items for cluster in parse(text).clusters]


def render(parsed: ParsedChapter) -> str:
    """HTML of the chapter, each citation rendered as a marker naming its cluster."""
    tree = document.read_chapter(parsed)
    return document.chapter_html(
        tree, lambda index, _drop: f"<cite>{parsed.env['chapter_id']}-c{index + 1}</cite>")


# --- what is a citation, and its exact items -------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("[@key]", (CiteItem("key"),)),
    ("[@a; @b]", (CiteItem("a"), CiteItem("b"))),
    ("[see @a, p. 33]", (CiteItem("a", prefix="see", locator="33", label="page"),)),
    ("[@a, pp. 33-35, emphasis added]",
     (CiteItem("a", suffix=", emphasis added", locator="33-35", label="page"),)),
    ("[-@a]", (CiteItem("a", suppress_author=True),)),
    ("[@a, chap. 2]", (CiteItem("a", locator="2", label="chapter"),)),
    ("[@a, sec. 2.1]", (CiteItem("a", locator="2.1", label="section"),)),
    ("[@a, 33]", (CiteItem("a", locator="33", label="page"),)),
    ("[@a, {iv, vi-xi}]", (CiteItem("a", locator="iv, vi-xi", label="page"),)),
    ("[@{weird key!}]", (CiteItem("weird key!"),)),
    ("[@a, p. 33; see also -@b, chap. 4, for more]",
     (CiteItem("a", locator="33", label="page"),
      CiteItem("b", prefix="see also", locator="4", label="chapter", suffix=", for more",
               suppress_author=True))),
    ("[@a, § 4]", (CiteItem("a", locator="4", label="section"),)),
    ("[@a, vols. 3-4]", (CiteItem("a", locator="3-4", label="volume"),)),
    ("[@a, s.v. 12]", (CiteItem("a", locator="12", label="sub-verbo"),)),
    ("[@a, p. 33a]", (CiteItem("a", locator="33a", label="page"),)),
    ("[@a, pp. 3, 5-7]", (CiteItem("a", locator="3, 5-7", label="page"),)),
])
def test_bracketed_citation_items(text, expected):
    clusters = parse(f"Text {text} more.\n").clusters
    assert len(clusters) == 1
    assert clusters[0].items == expected
    assert clusters[0].narrative is False


@pytest.mark.parametrize("text, expected", [
    ("@a says", CiteItem("a")),
    ("@a [p. 3] says", CiteItem("a", locator="3", label="page")),
    ("@a [chap. 2] says", CiteItem("a", locator="2", label="chapter")),
    ("As @doe:2001.x said", CiteItem("doe:2001.x")),
    ("see @doe99.", CiteItem("doe99")),
    ("see @doe99, and then", CiteItem("doe99")),
    ("(@doe_99-x)", CiteItem("doe_99-x")),
    ("@{weird key!} says", CiteItem("weird key!")),
])
def test_narrative_citation_items(text, expected):
    clusters = parse(text + "\n").clusters
    assert len(clusters) == 1
    assert clusters[0].items == (expected,)
    assert clusters[0].narrative is True


@pytest.mark.parametrize("text", [
    "Write to john@example.com today.",
    "A [link](http://x) here.",
    "Some [text] in brackets.",
    "A [reference link][x] here.\n\n[x]: http://x",
    r"Escaped \@a is not a citation.",
    "Code `@a` and `[@b]` is not.",
    "Indented code:\n\n    [@a] and @b\n",
    "```\n[@a]\n```\n",
])
def test_not_a_citation(text):
    assert parse(text).clusters == []


@pytest.mark.parametrize("text", ["[@a]: http://example.com (not a link definition)",
                                  "[@a]::", "[-@a]: text"])
def test_a_line_starting_with_a_bracketed_key_and_a_colon_is_a_citation(text):
    """As in Pandoc, which never reads ``[@a]:`` as the definition of a link reference."""
    assert [[item.key for item in c.items] for c in parse(text).clusters] == [["a"]]


def test_escaped_at_sign_in_brackets_is_not_a_citation():
    assert parse(r"Escaped [\@a] is not a citation.").clusters == []


def test_parse_cite_items_directly():
    assert parse_cite_items("see @a, p. 33; @b") == [
        CiteItem("a", prefix="see", locator="33", label="page"), CiteItem("b")]
    assert parse_cite_items("just text") is None
    assert parse_cite_items("mail john@example.com") is None
    assert parse_cite_items("@a; no key here") is None


@pytest.mark.parametrize("text, expected", [
    (", p. 33", ("page", "33", "")),
    (", pp. 33-35, emphasis added", ("page", "33-35", ", emphasis added")),
    (", chap. 2", ("chapter", "2", "")),
    (", Chapter 2", ("chapter", "2", "")),
    (", sec. 2.1", ("section", "2.1", "")),
    (", 33", ("page", "33", "")),
    (", {iv, vi-xi}", ("page", "iv, vi-xi", "")),
    (", p. 33 and passim", ("page", "33", "and passim")),
    ("", (None, None, "")),
])
def test_parse_locator(text, expected):
    assert parse_locator(text) == expected


# Pandoc (Text.Pandoc.Citeproc.Locator.parseLocator) keeps the comma of a suffix that
# holds no locator ("maybeAddComma"): [@a, and more] renders "(Doe, 2020, and more)".
@pytest.mark.parametrize("text", ["[@a, and more]", "@a [and more]"])
def test_suffix_without_locator_keeps_its_comma(text):
    assert items(text) == [(CiteItem("a", suffix=", and more"),)]


def test_locator_without_comma():
    assert items("[@a p. 33]") == [(CiteItem("a", locator="33", label="page"),)]


def test_label_inside_braced_locator():
    assert items("[@a, {pp. iv, vi-xi} and more]") == [
        (CiteItem("a", locator="iv, vi-xi", label="page", suffix="and more"),)]


# --- footnotes -------------------------------------------------------------------------

def test_citation_in_footnote_gets_its_note_number():
    # In reading order: the note's citations where the note is called, before [@x].
    parsed = parse("Text[^1] and [@x].\n\n[^1]: See @a.\n")
    assert [(c.items[0].key, c.note_index, c.narrative, c.in_footnote)
            for c in parsed.clusters] == [("a", 1, True, True), ("x", 0, False, False)]


def test_citation_in_inline_note_gets_its_note_number():
    parsed = parse("Text^[inline @a notes] and [@x].\n")
    assert [(c.items[0].key, c.note_index) for c in parsed.clusters] == [("a", 1), ("x", 0)]


def test_note_numbers_follow_reference_order():
    text = ("One[^first] two^[inline [@b]] three[^second] [@x].\n\n"
            "[^second]: Second note @c.\n"
            "[^first]: First note [see @a].\n")
    parsed = parse(text)
    by_key = {c.items[0].key: c.note_index for c in parsed.clusters}
    assert by_key == {"a": 1, "b": 2, "c": 3, "x": 0}


def test_footnote_ids_name_the_chapter():
    parsed = parse("Text[^n] and again[^n].\n\n[^n]: A note.\n", chapter_id="ch7")
    tree = lxml_html.fragment_fromstring(render(parsed), create_parent="div")
    refs = tree.xpath('//a[@class="footnote-ref"]')
    assert [(a.get("id"), a.get("href")) for a in refs] == [
        ("fnref-ch7-1", "#fn-ch7-1"), ("fnref-ch7-1-1", "#fn-ch7-1")]
    notes = tree.xpath('//section[@role="doc-endnotes"]/ol/li')
    assert [li.get("id") for li in notes] == ["fn-ch7-1"]
    assert notes[0].xpath('.//a[@class="footnote-back"]')[0].get("href") == "#fnref-ch7-1"


def test_note_style_turns_citations_into_footnotes_in_document_order():
    text = "Intro [@a] and own note[^x] then [@b] end.\n\n[^x]: Own note with [@c].\n"
    parsed = parse(text, note_style=True, chapter_id="ch2")
    by_key = {c.items[0].key: c for c in parsed.clusters}
    assert {k: c.note_index for k, c in by_key.items()} == {"a": 1, "b": 3, "c": 2}

    tree = lxml_html.fragment_fromstring(render(parsed), create_parent="div")
    paragraph = tree.xpath("./p")[0]
    assert not paragraph.xpath(".//cite")  # every citation left the text
    assert [a.get("id") for a in paragraph.xpath('.//a[@class="footnote-ref"]')] == [
        "fnref-ch2-1", "fnref-ch2-2", "fnref-ch2-3"]
    assert [a.text_content() for a in paragraph.xpath('.//a[@class="footnote-ref"]')] == [
        "1", "2", "3"]
    notes = tree.xpath('//section[@role="doc-endnotes"]/ol/li')
    assert [(li.get("id"), li.get("class")) for li in notes] == [
        ("fn-ch2-1", "footnote citation-note"),
        ("fn-ch2-2", "footnote"),
        ("fn-ch2-3", "footnote citation-note")]
    assert [li.xpath(".//cite")[0].text for li in notes] == [
        by_key["a"].id, by_key["c"].id, by_key["b"].id]


def test_note_style_leaves_citations_in_notes_alone():
    parsed = parse("Text^[inline [@a]] and[^1].\n\n[^1]: See @b.\n", note_style=True)
    assert {c.items[0].key: c.note_index for c in parsed.clusters} == {"a": 1, "b": 2}
    tree = lxml_html.fragment_fromstring(render(parsed), create_parent="div")
    assert not tree.xpath('//li[contains(@class, "citation-note")]')
    assert len(tree.xpath('//section[@role="doc-endnotes"]/ol/li')) == 2


def test_without_note_style_citations_stay_in_the_text():
    parsed = parse("Intro [@a] end.\n")
    tree = lxml_html.fragment_fromstring(render(parsed), create_parent="div")
    assert tree.xpath("./p/cite")[0].text == parsed.clusters[0].id
    assert not tree.xpath('//a[@class="footnote-ref"]')


def test_note_style_keeps_narrative_author_in_the_text():
    parsed = parse("As @a argues.\n", note_style=True)
    tree = lxml_html.fragment_fromstring(render(parsed), create_parent="div")
    assert tree.xpath("./p//cite")


# --- positions -------------------------------------------------------------------------

def test_line_of_a_citation_in_a_multiline_paragraph_counts_front_matter():
    file_text = ("---\ntitle: T\nauthor: A\n---\n\nFirst paragraph.\n\n"
                 "Second paragraph\ncontinues here\nand cites [@a] on its third line.\n")
    body = file_text.split("---\n", 2)[2]
    (cluster,) = parse(body, first_line=5).clusters  # the front matter is lines 1-4
    assert cluster.position == Position(PATH, 10, 11)
    assert file_text.splitlines()[9][10:].startswith("[@a]")


def test_line_numbers_from_a_real_project(tmp_path):
    from builder.sources import load_project
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "article.md").write_text(
        "---\ntitle: T\ntags: [a, b]\n---\n\nOne.\n\nTwo\nthree\nfour @a [p. 3] x\n\n"
        "- item\n- item [@b]\n\n> quoted\n> still [@c]\n\nText[^1].\n\n[^1]: Note\n    more [@d]\n",
        encoding="utf-8")
    project = load_project(tmp_path)
    (chapter,) = project.chapters
    assert chapter.first_line == 5
    parsed = parse_chapter(MD, chapter, "ch1")
    file_lines = (tmp_path / "book" / "article.md").read_text().splitlines()
    found = {c.items[0].key: c.position.line for c in parsed.clusters}
    assert found == {"a": 10, "b": 13, "c": 16, "d": 21}
    for key, line in found.items():
        assert f"@{key}" in file_lines[line - 1]


def test_column_of_a_citation_in_a_paragraph():
    parsed = parse("Some text\n  and then @a and [see @b].\n", first_line=3)
    assert [c.position for c in parsed.clusters] == [Position(PATH, 4, 12),
                                                     Position(PATH, 4, 19)]


@pytest.mark.parametrize("text, col", [
    ("- item [@a]\n", 8),
    ("> quote [@a]\n", 9),
    ("| x | y |\n|---|---|\n| 1 | [@a] |\n", 7),
])
def test_column_in_nested_blocks_is_the_column_in_the_file(text, col):
    (cluster,) = parse(text).clusters
    assert cluster.position.col == col
    assert text.splitlines()[cluster.position.line - 1][col - 1:].startswith("[@a]")


def test_line_of_inline_note_whose_text_occurs_earlier():
    parsed = parse("First @a here,\nthen a note^[@a].\n")
    assert [(c.note_index, c.position.line, c.position.col) for c in parsed.clusters] == [
        (0, 1, 7), (1, 2, 14)]


# --- rendered through the citation processor -------------------------------------------

def _rendered(text: str, style: str = "apa") -> list[str]:
    from builder.citations import load_style, process_citations
    refs = [Reference(key, {"id": key, "type": "book", "title": f"{name} Book",
                            "author": [{"family": name, "given": "J."}],
                            "issued": {"date-parts": [[year]]}}, Position(Path("refs.json"), 1))
            for key, name, year in (("a", "Doe", 2020), ("b", "Roe", 2019))]
    parsed = parse(text)
    citations = process_citations(parsed.clusters, refs, load_style(style))
    return [" ".join(lxml_html.fragment_fromstring(citations.clusters[c.id]).text_content().split())
            for c in parsed.clusters]


def test_rendered_locator_and_suffix():
    assert _rendered("[see @a, pp. 33-35, emphasis added; @b]") == [
        "(see Doe, 2020, pp. 33–35, emphasis added; Roe, 2019)"]


@pytest.mark.parametrize("text, expected", [
    ("[e.g., @a]", "(e.g., Doe, 2020)"),
    ("[cf. @a]", "(cf. Doe, 2020)"),
])
def test_prefix_ending_in_punctuation_is_followed_by_a_space(text, expected):
    assert _rendered(text) == [expected]


def test_markdown_in_prefix():
    assert _rendered("[*see* @a]") == ["(see Doe, 2020)"]


# --- robustness ------------------------------------------------------------------------

@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(), note_style=st.booleans())
def test_parse_chapter_never_raises(text, note_style):
    parsed = parse(text, note_style=note_style)
    render(parsed)


_PIECES = list("@[]^-;,.:{}\\ \n\tab1p*_`()!#>|") + [
    "[^1]", "^[", "[^1]: ", "p. ", "@a", "[@b, p. 3]", "\n\n", "- ", "> ", "```\n", "    "]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.lists(st.sampled_from(_PIECES), max_size=40).map("".join),
       note_style=st.booleans(), first_line=st.integers(1, 30))
def test_citation_syntax_soup_gives_lines_inside_the_text(text, note_style, first_line):
    parsed = parse(text, first_line=first_line, note_style=note_style)
    lines = text.splitlines() or [""]
    for cluster in parsed.clusters:
        assert first_line <= cluster.position.line < first_line + len(lines)
        assert "@" in lines[cluster.position.line - first_line]
    html = render(parsed)
    for cluster in parsed.clusters:
        assert html.count(f"<cite>{cluster.id}</cite>") <= 1


def test_narrative_citation_in_a_numeric_style_keeps_the_author():
    """IEEE prints no author in its citations: the author in the text comes from the data."""
    assert _rendered("As @a says.", style="ieee") == ["Doe [1]"]


@pytest.mark.parametrize("text,line,suffix", [
    ("[\n@a]", 2, ""),                # the bracket opens a line above the key
    ("Text [see\n@a, p. 3].", 2, ""),
    ("\\^[@a@a]", 1, "@a"),           # a citation-like suffix is text, not a citation
    ("[@a, p. 3 @b]", 1, "@b"),
])
def test_found_by_hypothesis(text, line, suffix):
    """Cases the soup test found: a cluster is placed on its key's line, and a
    prefix or suffix never holds a citation of its own (rendering it raised KeyError)."""
    parsed = parse(text, first_line=1)
    [cluster] = parsed.clusters
    assert cluster.position.line == line
    assert "@" in text.splitlines()[line - 1]
    assert cluster.items[0].suffix == suffix
    render(parsed)
