"""``builder new``: each template, with each bibliography format, builds at once in a fresh
folder, and its reference list holds the entries the sample cites."""
from __future__ import annotations

from pathlib import Path

import pytest
from lxml import html as lxml_html

from builder.cli import main
from builder.scaffold import BIBLIOGRAPHY_FORMATS, TEMPLATES

ENTRIES = ["ref-hardin1968", "ref-ostrom1990", "ref-unwater2021"]


def _new_and_build(tmp_path: Path, capsys: pytest.CaptureFixture[str], *new: str,
                   to: str) -> Path:
    folder = tmp_path / "x"
    assert main(["new", *new, str(folder)]) == 0
    assert main(["build", str(folder), "--to", to]) == 0, capsys.readouterr().err
    out = capsys.readouterr()
    assert "warning" not in out.err, out.err
    return folder


def _entries(folder: Path) -> list[str | None]:
    [page] = (folder / "dist").glob("*.html")
    tree = lxml_html.fromstring(page.read_bytes())
    return [e.get("id") for e in tree.xpath('//div[contains(@class, "csl-entry")]')]


@pytest.mark.parametrize("bibliography", BIBLIOGRAPHY_FORMATS)
def test_each_bibliography_format_builds(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         bibliography: str) -> None:
    folder = _new_and_build(tmp_path, capsys, "report", "--bibliography", bibliography,
                            to="html")
    assert sorted(p.name for p in (folder / "bibliography").iterdir()) == [
        f"references.{bibliography}"]
    assert _entries(folder) == ENTRIES


@pytest.mark.slow
@pytest.mark.parametrize("template", TEMPLATES)
def test_each_template_builds_in_every_format(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str],
                                              template: str) -> None:
    folder = _new_and_build(tmp_path, capsys, template, to="pdf,epub,html")
    assert sorted(p.suffix for p in (folder / "dist").glob("*.*")) == [".epub", ".html", ".pdf"]
    assert _entries(folder) == ENTRIES
    assert (folder / ".gitignore").read_text() == "dist/\n.cache/\n"
    tree = lxml_html.fromstring(next((folder / "dist").glob("*.html")).read_bytes())
    assert [a.text_content() for a in tree.xpath('//figure//figcaption')] == [
        "Figure 1: Water use by sector (invented figures)"]
    assert len(tree.xpath('//section[contains(@class, "footnotes")]//li')) == 1


def test_the_files_of_a_book(tmp_path: Path) -> None:
    assert main(["new", "book", str(tmp_path / "b"), "--bibliography", "json"]) == 0
    assert sorted(str(p.relative_to(tmp_path / "b")) for p in (tmp_path / "b").rglob("*")
                  if p.is_file()) == [
        ".gitignore", "README.md", "bibliography/references.json", "book/01-introduction.md",
        "book/02-findings.md", "book/03-conclusion.md", "book/book.yml",
        "book/images/water-use.svg"]
    book_yml = (tmp_path / "b" / "book" / "book.yml").read_text()
    assert "build:\n  theme: book\n" in book_yml


def test_a_folder_that_is_not_empty_is_refused(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "notes.txt").write_text("mine")
    assert main(["new", "book", "x"]) == 2
    assert capsys.readouterr().err == ("x: error: the folder is not empty (hint: name a new "
                                       "or empty folder: builder new book x-2)\n")
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["notes.txt"]
