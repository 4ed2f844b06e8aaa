"""Every word and mark the writer typed comes out: real builds, whole texts compared."""
from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html

from builder.build import BuildRequest, build

REFERENCES = [
    {"id": "doe99", "type": "book", "title": "A Book", "publisher": "Pub",
     "author": [{"family": "Doe", "given": "John"}], "issued": {"date-parts": [[1999]]}},
    {"id": "roe01", "type": "book", "title": "B Book", "publisher": "Pub",
     "author": [{"family": "Roe", "given": "Jane"}], "issued": {"date-parts": [[2001]]}},
]


def project(root: Path, body: str, meta: str = "") -> Path:
    (root / "book").mkdir(parents=True)
    (root / "bibliography").mkdir()
    (root / "bibliography" / "refs.json").write_text(json.dumps(REFERENCES), encoding="utf-8")
    (root / "book" / "a.md").write_text(f"---\ntitle: Test\n{meta}---\n\n{body}\n",
                                        encoding="utf-8")
    return root


def paragraphs(html_file: Path) -> list[str]:
    """The text of each paragraph of the chapters (footnotes apart), as a reader sees it."""
    tree = lxml_html.fromstring(html_file.read_bytes())
    return [p.text_content() for p in tree.xpath(
        '//section[@class="chapter"]//p[not(ancestor::section[@role="doc-endnotes"])]')]


def notes(html_file: Path) -> list[str]:
    tree = lxml_html.fromstring(html_file.read_bytes())
    found = []
    for note in tree.xpath('//section[@role="doc-endnotes"]//li'):
        for back in note.xpath('.//a[contains(@class, "footnote-back")]'):
            back.drop_tree()
        found.append(" ".join(note.text_content().split()))
    return found


def built(tmp_path: Path, body: str, style: str = "apa", meta: str = "",
          formats: tuple[str, ...] = ("html",)) -> dict[str, Path]:
    root = project(tmp_path / "p", body, meta)
    return build(BuildRequest(root, formats=formats, style=style, cache=False)).outputs


def test_the_full_stop_after_a_citation_stays(tmp_path: Path) -> None:
    out = built(tmp_path, "Territorial integrity [@doe99]. During their talks [@roe01].\n\n"
                          "A question [@doe99]? An exclamation [@roe01]! A colon [@doe99]: so.")
    assert paragraphs(out["html"]) == [
        "Territorial integrity (Doe, 1999). During their talks (Roe, 2001).",
        "A question (Doe, 1999)? An exclamation (Roe, 2001)! A colon (Doe, 1999): so.",
    ]


def test_private_use_characters_of_the_writer_are_text(tmp_path: Path) -> None:
    # The characters the slots of the drafts once used (before the document tree), typed
    # and written as references, and a text shaped like a slot: all come out as written.
    body = ("Marks \ue000 and \ue001, \ue0000\ue001. and &#xE000;0&#xE000; "
            "and &#57345; [@doe99].")
    out = built(tmp_path, body)
    assert paragraphs(out["html"]) == [
        "Marks \ue000 and \ue001, \ue0000\ue001. and \ue0000\ue000 and \ue001 (Doe, 1999)."]


def test_a_citation_in_the_writers_footnote_is_part_of_its_sentence(tmp_path: Path) -> None:
    # As Pandoc: in parentheses, narrative without; no final period of the style's; the
    # note's citations read where the note is called (here first: the full form).
    out = built(tmp_path, "Text.[^1] More [see @roe01, p. 4].\n\n"
                          "[^1]: See [@doe99]. And @roe01 [p. 3] argues.",
                style="chicago-notes-bibliography")
    assert notes(out["html"]) == [
        "See (John Doe, A Book (Pub, 1999)). And Jane Roe, B Book (Pub, 2001), 3 argues.",
        "See Roe, B Book, 4."]


def test_the_writers_prefixes_and_suffixes_keep_their_cites_in_place(tmp_path: Path) -> None:
    out = built(tmp_path, "One [see @roe01; @doe99]. Two [@roe01, emphasis added; @doe99].")
    assert paragraphs(out["html"]) == [
        "One (see Roe, 2001; Doe, 1999). Two (Roe, 2001, emphasis added; Doe, 1999)."]


def test_a_locators_double_hyphen_is_a_range(tmp_path: Path) -> None:
    out = built(tmp_path, "A [@doe99, pp. 103--105].")
    assert paragraphs(out["html"]) == ["A (Doe, 1999, pp. 103–105)."]


CHICAGO = "chicago-notes-bibliography"


@pytest.mark.parametrize("body, text", [
    ("Often said [@doe99].", "Often said.1"),
    ("Often said [@doe99], and more.", "Often said,1 and more."),
    ("Said [@doe99]; then [@roe01]: more?", "Said;1 then:2 more?"),
    ("A question [@doe99]?", "A question?1"),
    ("(As often said [@doe99]).", "(As often said).1"),
    ("Is it [@doe99]?!", "Is it?!1"),
    ("A dash [@doe99]---and on.", "A dash1—and on."),
    ("A hyphen [@doe99]-like.", "A hyphen1-like."),
    ("Mid sentence [@doe99] and on.", "Mid sentence1 and on."),
    ("The word \"said\" [@doe99].", "The word “said.”1"),
])
def test_notes_go_after_punctuation(tmp_path: Path, body: str, text: str) -> None:
    """As Pandoc's notes-after-punctuation (its default) and the Chicago Manual (14.21)."""
    out = built(tmp_path, body, style=CHICAGO)
    assert paragraphs(out["html"]) == [text]


def test_notes_after_punctuation_can_be_turned_off(tmp_path: Path) -> None:
    out = built(tmp_path, "Often said [@doe99].", style=CHICAGO,
                meta="notes-after-punctuation: false\n")
    assert paragraphs(out["html"]) == ["Often said1."]


def test_the_writers_own_footnotes_stay_where_written(tmp_path: Path) -> None:
    out = built(tmp_path, "Often said[^1].\n\n[^1]: A note.", style=CHICAGO)
    assert paragraphs(out["html"]) == ["Often said1."]


def test_author_date_citations_do_not_move(tmp_path: Path) -> None:
    out = built(tmp_path, "Often said [@doe99], and more.")
    assert paragraphs(out["html"]) == ["Often said (Doe, 1999), and more."]


def test_epub_text_keeps_every_period(tmp_path: Path) -> None:
    out = built(tmp_path, "One [@doe99]. Two [@roe01].", formats=("epub",))
    with zipfile.ZipFile(out["epub"]) as archive:
        chapter = next(n for n in archive.namelist() if "chapter" in n or "ch1" in n)
        tree = etree.fromstring(archive.read(chapter))
    texts = [" ".join("".join(p.itertext()).split())
             for p in tree.iter("{http://www.w3.org/1999/xhtml}p")]
    assert "One (Doe, 1999). Two (Roe, 2001)." in texts


# --- every input error at once ---------------------------------------------------------

def test_every_bad_key_of_every_chapter_is_reported_at_once(tmp_path: Path) -> None:
    from conftest import run_builder
    root = tmp_path / "p"
    (root / "book").mkdir(parents=True)
    (root / "bibliography").mkdir()
    (root / "bibliography" / "refs.json").write_text(json.dumps(REFERENCES), encoding="utf-8")
    (root / "book" / "book.yml").write_text("title: Errors\nchapters: [one.md, two.md]\n",
                                            encoding="utf-8")
    (root / "book" / "one.md").write_text("# One\n\nSee [@doe9].\n\nAnd [@doe99; @roe1].\n",
                                          encoding="utf-8")
    (root / "book" / "two.md").write_text("# Two\n\nAs @smith20 says.\n", encoding="utf-8")
    result = run_builder("build", str(root), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "p/book/one.md:3:6: error: citation key '@doe9' is not in the bibliography "
        "(hint: did you mean @doe99?)",
        "p/book/one.md:5:14: error: citation key '@roe1' is not in the bibliography "
        "(hint: did you mean @roe01?)",  # (its own column, second in its bracket)
        "p/book/two.md:3:4: error: citation key '@smith20' is not in the bibliography "
        "(hint: add it to the bibliography, or fix the key)",
        "3 errors",
    ]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_errors_of_metadata_images_and_keys_come_together(tmp_path: Path) -> None:
    from conftest import run_builder
    root = project(tmp_path / "p", "![A chart](missing.png)\n\nSee [@nobody].",
                   meta="titel: x\nlang: 12\n")
    result = run_builder("build", str(root), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    # ('titel' beside a title is a template variable with a warning, as in Pandoc)
    assert [line.split(": error: ")[0] for line in lines[:-1]] == [
        "p/book/a.md:4", "p/book/a.md:7", "p/book/a.md:9:6"]
    assert lines[-1] == "3 errors"


def test_more_than_fifty_errors_are_cut_short(tmp_path: Path) -> None:
    from conftest import run_builder
    body = "\n\n".join(f"Text [@missing{n}]." for n in range(60))
    root = project(tmp_path / "p", body)
    result = run_builder("build", str(root), "--to", "html", cwd=tmp_path)
    lines = result.stderr.splitlines()
    assert len(lines) == 52 and lines[-2:] == ["... and 10 more", "60 errors"]


# --- metadata strings are Markdown, as in Pandoc ---------------------------------------

def test_metadata_strings_get_the_bodys_typography(tmp_path: Path) -> None:
    meta = ("subtitle: \"The *so-called* 'rules' -- and why\"\n"
            "author:\n  - name: Ann Lee\n    bio: \"Ann's work -- mostly on *rules*.\"\n"
            "disclaimer: \"The views are the author's own.<script>alert(1)</script>\"\n")
    out = built(tmp_path, "Text.", meta=meta, formats=("html", "epub"))
    tree = lxml_html.fromstring(out["html"].read_bytes())
    assert [lxml_html.tostring(e, encoding="unicode", with_tail=False) for e in
            tree.xpath('//p[@class="subtitle" or @class="disclaimer"] | '
                       '//div[@class="author-bio"]/p[2]')] == [
        '<p class="subtitle">The <em>so-called</em> ‘rules’ – and why</p>',
        "<p>Ann’s work – mostly on <em>rules</em>.</p>",
        '<p class="disclaimer" role="note">The views are the author’s own.</p>',
    ]
    with zipfile.ZipFile(out["epub"]) as archive:
        opf = etree.fromstring(archive.read("EPUB/content.opf"))
    titles = [t.text for t in opf.iter("{http://purl.org/dc/elements/1.1/}title")]
    assert titles == ["Test", "The so-called ‘rules’ – and why"]


def test_about_the_authors_is_one_heading_for_all(tmp_path: Path) -> None:
    meta = ("author:\n  - name: Ann Lee\n    bio: Writes.\n  - name: Bo Li\n    bio: Reads.\n")
    out = built(tmp_path, "Text.", meta=meta)
    tree = lxml_html.fromstring(out["html"].read_bytes())
    assert [" ".join(e.text_content().split()) for e in
            tree.xpath('//section[@id="about"]/*')] == [
        "About the authors", "Ann Lee Writes.", "Bo Li Reads."]


# --- the command line says what it should, and nothing else ----------------------------

def test_styles_into_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    import subprocess
    import sys
    result = subprocess.run(f"'{sys.executable}' -m builder styles | head -n 1",
                            shell=True, capture_output=True, text=True, timeout=120)
    assert result.stderr == ""
    assert len(result.stdout.splitlines()) == 1


def test_quiet_prints_nothing_on_success_even_with_warnings(tmp_path: Path) -> None:
    from conftest import run_builder
    root = project(tmp_path / "p", "Only one [@doe99].")  # roe01 is never cited: a warning
    loud = run_builder("build", str(root), "--to", "html", cwd=tmp_path)
    assert "warning: reference 'roe01' is never cited" in loud.stderr
    quiet = run_builder("build", str(root), "--to", "html", "-q", "--no-cache", cwd=tmp_path)
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")


def test_every_bad_reference_is_reported_at_once(tmp_path: Path) -> None:
    from conftest import run_builder
    root = project(tmp_path / "p", "Text [@doe99].")
    (root / "bibliography" / "more.json").write_text(
        '[\n{"id": "x1", "title": "No type"},\n{"id": "doe99", "type": "book"},\n'
        '{"id": "x2", "type": "bok"}\n]\n', encoding="utf-8")
    result = run_builder("build", str(root), "--to", "html", cwd=tmp_path)
    assert result.returncode == 1
    assert [line.split(" (hint")[0] for line in result.stderr.splitlines()] == [
        "p/bibliography/more.json:2: error: reference 'x1' has no 'type'",
        "p/bibliography/more.json:4: error: reference 'x2' has unknown type 'bok'",
        "p/bibliography/refs.json:1: error: duplicate reference key 'doe99' "
        "(first defined at more.json:3)",
        "3 errors",
    ]


def test_an_in_text_citation_with_more_cites(tmp_path: Path) -> None:
    out = built(tmp_path, "As @roe01 [p. 33; @doe99] argues. Then @roe01 [see @doe99].")
    assert paragraphs(out["html"]) == [
        "As Roe (2001, p. 33; Doe, 1999) argues. Then Roe (2001; see Doe, 1999)."]


def test_the_file_name_spells_out_what_ascii_lacks(tmp_path: Path) -> None:
    root = project(tmp_path / "p", "Text [@doe99] and [@roe01].")
    text = (root / "book" / "a.md").read_text(encoding="utf-8").replace("title: Test",
                                                                      "title: Die Straße")
    (root / "book" / "a.md").write_text(text, encoding="utf-8")
    out = build(BuildRequest(root, formats=("html",), cache=False)).outputs
    assert out["html"].name == "die-strasse.html"


AMA = "american-medical-association"


def test_a_citation_that_prints_nothing_has_no_affixes(tmp_path: Path) -> None:
    """MLA prints no year, so an author in the text leaves nothing in parentheses: Pandoc
    gives "As Doe argued", not "As Doe () argued"; the affixes go with the empty cite."""
    out = built(tmp_path, "As @doe99 argued. As [-@doe99] did. See [@doe99; @roe01].",
                style="modern-language-association")
    assert paragraphs(out["html"]) == ["As Doe argued. As  did. See (Doe; Roe)."]


def test_a_superscript_citation_closes_up_to_its_word(tmp_path: Path) -> None:
    out = built(tmp_path, "In recent works [@doe99; @roe01], statisticians agree [@doe99].",
                style=AMA)
    assert paragraphs(out["html"]) == ["In recent works1,2, statisticians agree1."]


def test_a_superscript_citation_moves_after_punctuation_when_asked(tmp_path: Path) -> None:
    out = built(tmp_path, "In recent works [@doe99; @roe01], statisticians agree [@doe99].",
                style=AMA, meta="notes-after-punctuation: true\n")
    assert paragraphs(out["html"]) == ["In recent works,1,2 statisticians agree.1"]


# --- as a property: nothing of the writer's text is taken or added --------------------

def _draft_text(text: str, citation: str = "({key})") -> str:
    """The chapter's text through parse, tree and render, as the build makes it."""
    from builder import document, markdown
    from builder.model import ChapterSource
    from builder.render import chapter_html, prepare_chapter
    md = markdown.make_parser()
    parsed = markdown.parse_chapter(md, ChapterSource(Path("a.md"), text, 1), "ch1")
    rendered = {c.id: citation.format(key=c.items[0].key) for c in parsed.clusters}
    chapter = prepare_chapter(document.read_chapter(parsed), parsed.clusters, rendered, [],
                              document.Context(), [], Path("."))
    return lxml_html.fragment_fromstring(chapter_html(chapter),
                                         create_parent="div").text_content().strip()


def test_citations_keep_every_character_of_the_text() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st
    prose = st.text(alphabet="abc xyz.,;:!?()\ue000\ue001\ue002\U000f0000", max_size=12)
    pieces = st.lists(st.tuples(prose, st.sampled_from(["", "[@k1]", "[@k2]", " @k3"])),
                      min_size=1, max_size=6)

    @settings(max_examples=300, deadline=None)
    @given(pieces)
    def check(parts: list[tuple[str, str]]) -> None:
        raw = "".join(p + c for p, c in parts)
        text = raw.strip()
        if (not text or text.startswith(("(", ")")) or ".." in text or text[0] in ".,;:!?"
                or "][" in text or "](" in text
                or re.search(r"@k3(?: ?\[|[:.#$%&\-+?<>~/]?\w)", text)):
            return  # (Markdown reads it as something else: a link, "@a [@b]", key "k3a")
        expected = raw
        for key in ("k1", "k2"):
            expected = expected.replace(f"[@{key}]", f"({key})")
        expected = expected.replace(" @k3", " (k3)")
        assert " ".join(_draft_text(text).split()) == " ".join(expected.split())
    check()


def test_a_citation_ending_in_a_period_gives_one_period() -> None:
    assert _draft_text("As cited [@doe99].", citation="(Doe et al.)") == "As cited (Doe et al.)."
    assert _draft_text("As cited [@doe99].", citation="Doe et al.") == "As cited Doe et al."
    assert _draft_text("Cited [@doe99]! Yes.", citation="Doe et al.") == "Cited Doe et al.! Yes."


def test_typography_is_pandocs_and_no_more(tmp_path: Path) -> None:
    # Pandoc's smart extension: dashes and ellipses; "(c)", "+-", ".." and "!!!!" stay.
    out = built(tmp_path, "Items (a), (b), (c) and (r); 5 +- 1; a.. b... c.... d!!!! e,, "
                          "a--b a---b a -- b a----b [@doe99].")
    assert paragraphs(out["html"]) == [
        "Items (a), (b), (c) and (r); 5 +- 1; a.. b… c…. d!!!! e,, a–b a—b a – b a—-b "
        "(Doe, 1999)."]
