"""Pandoc projects build as they are: the Markdown files and the metadata file named on
the command line as pandoc takes them, unknown metadata keys kept as template variables,
``---``-fenced metadata files, ``-M``, ``--metadata-file``, ``-o``, ``--csl``.

The two real theses of ../shared/realworld (see its PROVENANCE.md) are built from a
temporary copy laid out as their repositories are (their text byte for byte; the images,
which were not fetched, as placeholders written by tools/realworld.py's helpers), with
the command their Makefiles give pandoc."""
from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest
from lxml import html as lxml_html

from conftest import epubcheck, run_builder

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import realworld  # noqa: E402
from builder.build import BuildRequest, build  # noqa: E402
from builder.errors import BuildError  # noqa: E402
from builder.sources import Inputs  # noqa: E402

REFERENCES = [{"id": "doe99", "type": "book", "title": "A Book",
               "author": [{"family": "Doe", "given": "Jane"}], "issued": {"date-parts": [[1999]]}}]


def _files(tmp: Path, meta: str, body: str = "# One\n\nAs @doe99 says.\n") -> Path:
    (tmp / "refs.json").write_text(json.dumps(REFERENCES), encoding="utf-8")
    (tmp / "metadata.yml").write_text(meta, encoding="utf-8")
    (tmp / "one.md").write_text(body, encoding="utf-8")
    return tmp


def _html(out: Path) -> lxml_html.HtmlElement:
    [page] = out.glob("*.html")
    return lxml_html.fromstring(page.read_bytes())


# -- metadata as Pandoc reads it -------------------------------------------------------

def test_a_fenced_metadata_file_and_unknown_keys_build(tmp_path: Path) -> None:
    """The issue's first three failures: a ``---``-fenced metadata.yml, Pandoc template
    variables (kept for the templates as ``meta.<key>``), the bibliography beside it."""
    _files(tmp_path, "---\ntitle: A Thesis\nsupervisor: [Prof. A, Dr. B]\ndegree: PhD\n"
           "link-citations: true\nbibliography: refs.json\neqnPrefix: [Eq., Eqs.]\n---\n")
    result = build(BuildRequest(tmp_path, formats=("html",), out_dir=tmp_path / "out",
                                inputs=Inputs((tmp_path / "metadata.yml", tmp_path / "one.md"))))
    assert result.diagnostics.warnings == []
    page = _html(tmp_path / "out")
    assert page.xpath("string(//h1)") == "A Thesis"
    assert [e.get("id") for e in page.xpath('//div[contains(@class, "csl-entry")]')] == [
        "ref-doe99"]


def test_template_variables_reach_the_template(tmp_path: Path) -> None:
    from builder.sources import load_project
    _files(tmp_path, "title: T\nsupervisor: [Prof. *A*, Dr. B]\ntype: Master's Thesis\n"
           "bibliography: refs.json\n")
    project = load_project(tmp_path, inputs=Inputs((tmp_path / "one.md",),
                                                   (tmp_path / "metadata.yml",)))
    meta = project.metadata
    assert [str(s) for s in meta.supervisor] == ["Prof. A", "Dr. B"]
    assert [s.html for s in meta.supervisor] == ["Prof. <em>A</em>", "Dr. B"]
    assert str(meta.type) == "Master’s Thesis"


def test_a_near_miss_warns_and_fails_under_strict(tmp_path: Path) -> None:
    _files(tmp_path, "title: T\nbibliograpy: refs.json\n")
    request = BuildRequest(tmp_path, formats=("html",), out_dir=tmp_path / "out",
                           bibliography=(tmp_path / "refs.json",),
                           inputs=Inputs((tmp_path / "one.md",), (tmp_path / "metadata.yml",)))
    warnings = [str(w) for w in build(request).diagnostics.warnings]
    assert warnings == [f"{tmp_path}/metadata.yml:2: warning: unknown metadata key "
                        "'bibliograpy' is kept as a template variable (hint: did you mean "
                        "'bibliography'?)"]
    with pytest.raises(BuildError) as caught:
        build(BuildRequest(**{**request.__dict__, "strict": True}))
    assert "'bibliograpy'" in str(caught.value) and "--strict" in str(caught.value)


@pytest.mark.parametrize("author, expected", [
    ("Ann Lee", [("Ann Lee", None, None)]),
    ("[Ann Lee, Bo Chen]", [("Ann Lee", None, None), ("Bo Chen", None, None)]),
    ("{name: Ann Lee, affiliation: UCL, email: ann@example.org}",
     [("Ann Lee", "UCL", "ann@example.org")]),
    ("[{name: Ann Lee, affiliation: [UCL, MIT], orcid: 0000-0001}, {name: Bo Chen}]",
     [("Ann Lee", "UCL; MIT", None), ("Bo Chen", None, None)]),
])
def test_author_in_all_its_shapes(tmp_path: Path, author: str,
                                  expected: list[tuple[str, str | None, str | None]]) -> None:
    from builder.sources import load_project
    _files(tmp_path, f"title: T\nauthor: {author}\nbibliography: refs.json\n")
    project = load_project(tmp_path, inputs=Inputs((tmp_path / "metadata.yml",
                                                    tmp_path / "one.md")))
    assert [(a.name, a.affiliation, a.email) for a in project.metadata.authors] == expected


def test_metadata_ranks_as_pandoc_ranks_it(tmp_path: Path) -> None:
    """--metadata-file beneath the document's own blocks, -M above them; a later block
    wins over an earlier one."""
    from builder.sources import load_project
    _files(tmp_path, "title: From the file\nsubtitle: From the file\nlang: de\n"
           "bibliography: refs.json\n", "---\nsubtitle: From the chapter\nlang: fr\n---\n\n"
           "# One\n\nAs @doe99 says.\n")
    (tmp_path / "two.md").write_text("---\nlang: it\n---\n\n# Two\n", encoding="utf-8")
    project = load_project(tmp_path, inputs=Inputs(
        (tmp_path / "one.md", tmp_path / "two.md"), (tmp_path / "metadata.yml",),
        (("title", "From -M"),)))
    meta = project.metadata
    assert (meta.title, meta.subtitle, meta.lang) == ("From -M", "From the chapter", "it")


def test_several_yaml_blocks_of_a_metadata_file_and_their_lines(tmp_path: Path) -> None:
    from builder.yamlfile import load_yaml
    text = "---\n# a comment\ntitle: A\n...\n\n---\nkeywords: [x, y]\ntitle: B\n---\n"
    data, lines = load_yaml(text, tmp_path / "m.yml", documents=True)
    assert data == {"title": "B", "keywords": ["x", "y"]}
    assert lines == {"keywords": 7, "keywords[0]": 7, "keywords[1]": 7, "title": 8}


def test_a_metadata_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    from builder.yamlfile import load_yaml
    with pytest.raises(BuildError) as caught:
        load_yaml("---\ntitle: A\n---\n- a list\n", tmp_path / "m.yml", documents=True)
    assert str(caught.value).endswith("m.yml:4: error: metadata must be a mapping of keys to "
                                      "values (hint: write 'key: value' lines between the "
                                      "--- fences)")


def test_markdown_files_on_the_command_line(tmp_path: Path) -> None:
    """``builder build a.md b.md -o out.pdf``-style: the format from the suffix, the file
    name as given, -M typed as YAML, --csl as --style."""
    _files(tmp_path, "---\ntitle: T\nbibliography: refs.json\n---\n")
    (tmp_path / "two.md").write_text("# Two\n\nMore.\n", encoding="utf-8")
    result = run_builder("build", "metadata.yml", "one.md", "two.md", "-o", "out/thesis.html",
                         "--csl", "chicago-author-date", "-M", "number-sections=true",
                         "-M", "lang=de", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "out").glob("*.html")) == ["thesis.html"]
    page = _html(tmp_path / "out")
    assert page.get("lang") == "de"
    assert [h.text_content() for h in page.xpath('//section[@class="chapter"]//h1')] == [
        "1 One", "2 Two"]
    assert page.xpath('string(//span[@class="citation"])') == "Doe (1999)"


@pytest.mark.parametrize("args, message", [
    (["missing.md"], "missing.md: error: file not found"),
    (["one.md", "-o", "x.docx"], "error: -o x.docx: the file's suffix names no format "
                                 "(hint: end it in .pdf, .epub or .html)"),
    (["one.md", "-o", "x.pdf", "--to", "html"], "error: -o names one pdf file, --to asks for "
                                                "html (hint: give one of them)"),
])
def test_command_line_mistakes_are_one_line(tmp_path: Path, args: list[str], message: str,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from builder.cli import main
    _files(tmp_path, "title: T\n")
    monkeypatch.chdir(tmp_path)
    assert main(["build", *args]) == 2
    assert capsys.readouterr().err == message + "\n"


# -- the two real theses -------------------------------------------------------------

def _thesis(name: str, tmp: Path) -> tuple[Path, list[str], list[Path]]:
    """A copy of the thesis laid out as in its repository, placeholders for its images;
    the working folder, the command line (as its Makefile runs pandoc), the chapters."""
    base = realworld.REALWORLD
    if name == "phd_thesis_markdown":
        shutil.copytree(base / name / "source", tmp / "source")
        (tmp / "style").mkdir()
        shutil.copy(base / name / "ref_format.csl", tmp / "style")
        chapters = sorted((tmp / "source").glob("*.md"))
        args = [*(f"source/{p.name}" for p in chapters), "source/metadata.yml",
                "--bibliography", "source/references.bib", "--csl", "style/ref_format.csl",
                "--number-sections", "--toc"]
        cwd = tmp
    else:
        shutil.copytree(base / name / "thesis", tmp / "thesis")
        (tmp / "build").mkdir()
        shutil.copy(base / name / "citations.csl", tmp / "build")
        chapters = sorted((tmp / "thesis").glob("*.md"))
        args = [*(f"../thesis/{p.name}" for p in chapters), "--csl", "citations.csl"]
        cwd = tmp / "build"
    for chapter in chapters:
        original = base / name / chapter.parent.name / chapter.name
        assert chapter.read_bytes() == original.read_bytes()  # no edit to their text
        for image in realworld.image_paths(chapter.read_text(encoding="utf-8")):
            target = cwd / image
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(realworld.placeholder(target.suffix))
    return cwd, args, chapters


def _markdown_headings(chapters: list[Path]) -> list[str]:
    """The ATX headings (the theses' only kind) of the chapters, fenced code and HTML
    comments left out, their attributes (``{#id}``) taken off."""
    found = []
    for chapter in chapters:
        text = re.sub(r"\A---\n.*?\n(---|\.\.\.)\n", "", chapter.read_text(encoding="utf-8"),
                      flags=re.S)
        text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
        fence = None
        for line in text.splitlines():
            opening = re.match(r"\s{0,3}(`{3,}|~{3,})", line)
            if opening and (fence is None or opening.group(1)[0] == fence[0]):
                fence = None if fence else opening.group(1)
                continue
            heading = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line) if fence is None else None
            if heading:
                found.append(re.sub(r"\s*\{[^}]*\}$", "", heading.group(1)).strip())
    return found


def _plain(text: str) -> str:
    """A heading as text: its Markdown marks and number left out, spaces made one."""
    text = re.sub(r"[*_`]", "", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return " ".join(text.replace("’", "'").replace("“", '"').replace("”", '"').split())


@pytest.mark.slow
@pytest.mark.external
@pytest.mark.skipif(not realworld.REALWORLD.exists(), reason="../shared/realworld is absent")
@pytest.mark.parametrize("name", ["phd_thesis_markdown", "altpeter_thesis"])
def test_a_real_thesis_builds_as_it_is(tmp_path: Path, name: str) -> None:
    from pypdf import PdfReader
    cwd, args, chapters = _thesis(name, tmp_path)
    result = run_builder("build", *args, "--out", str(tmp_path / "out"), cwd=cwd)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    [pdf], [epub], [page] = (sorted(out.glob(f"*.{s}")) for s in ("pdf", "epub", "html"))

    expected = _markdown_headings(chapters)
    tree = lxml_html.fromstring(page.read_bytes())
    headings = [h for h in tree.xpath('//section[@class="chapter"]//*[self::h1 or self::h2 or '
                                      'self::h3 or self::h4 or self::h5 or self::h6]')]
    for h in headings:
        for number in h.xpath('.//span[@class="header-section-number"]'):
            number.drop_tree()
    assert [_plain(h.text_content()) for h in headings] == [_plain(e) for e in expected]

    firsts = [_plain(h) for h in (_markdown_headings([c]) for c in chapters) for h in h[:1]]
    reader = PdfReader(pdf)
    text = _plain(" ".join(p.extract_text() for p in reader.pages))
    at, order = 0, []
    for heading in firsts:  # each chapter's first heading, after the one before it
        found = text.find(heading, at)
        order.append(heading if found >= 0 else None)
        at = found if found >= 0 else at
    assert order == firsts

    report = epubcheck(epub)
    messages = [(m["severity"], m["ID"], m["message"]) for m in report["messages"]]
    checker = report["checker"]
    assert (checker["nFatal"], checker["nError"], checker["nWarning"]) == (0, 0, 0), messages
