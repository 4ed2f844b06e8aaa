"""The ``build:`` section of book.yml: every build option, the command line over it,
``builder config`` saying where each setting came from."""
from __future__ import annotations

from pathlib import Path

import pytest

from builder.cli import main

BOOK = """title: T
bibliography: []
build:
  to: [html, epub]
  theme: book
  page-size: 6x9
  toc: true
  output: my-book
  out: public
"""


def _project(tmp_path: Path, book_yml: str = BOOK) -> Path:
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "book.yml").write_text(book_yml, encoding="utf-8")
    (tmp_path / "book" / "a.md").write_text("# A\n\nText.\n", encoding="utf-8")
    return tmp_path


def test_config_prints_each_setting_and_its_source(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(_project(tmp_path))
    assert main(["config", "--theme", "report", "--strict"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "# settings of book/book.yml",
        "to           html,epub                book/book.yml:4",
        "style        apa                      default",
        "locale       -                        default",
        "theme        report                   command line",
        "page-size    6x9                      book/book.yml:6",
        "toc          true                     book/book.yml:7",
        "print        false                    default",
        "bleed        -                        default",
        "pdf-variant  -                        default",
        "output       my-book                  book/book.yml:8",
        "html-split   none                     default",
        "strict       true                     command line",
        "out          public                   book/book.yml:9",
    ]


def test_a_build_follows_its_settings(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    root = _project(tmp_path)
    assert main(["build", str(root)]) == 0, capsys.readouterr().err
    assert sorted(p.name for p in (root / "public").glob("*.*")) == ["my-book.epub",
                                                                    "my-book.html"]
    assert main(["build", str(root), "--to", "html", "--out", str(root / "other")]) == 0
    assert [p.name for p in (root / "other").glob("*.*")] == ["my-book.html"]


@pytest.mark.parametrize("section, message", [
    ("  tehme: book\n", "book/book.yml:4: error: unknown build setting 'tehme' "
                        "(hint: did you mean 'theme'?)"),
    ("  toc: yes please\n", "book/book.yml:4: error: 'toc' must be true or false"),
    ("  to: [pdf, docx]\n", "book/book.yml:4: error: unknown output format 'docx' "
                            "(hint: choose from pdf, epub, html)"),
    ("  colour: red\n", "book/book.yml:4: error: unknown build setting 'colour' (hint: the "
                        "settings are to, style, locale, theme, page-size, toc, print, bleed, "
                        "pdf-variant, output, html-split, strict, out)"),
    ("  html-split: pages\n", "book/book.yml:4: error: 'html-split' is 'pages' (hint: choose "
                            "from none, chapter)"),
])
def test_a_bad_setting_is_one_line_at_its_line(tmp_path: Path, section: str, message: str,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(_project(tmp_path, "title: T\nbibliography: []\nbuild:\n" + section))
    assert main(["build", "--to", "html"]) == 1
    assert capsys.readouterr().err == message + "\n"


def test_a_one_file_book_keeps_its_settings_in_its_front_matter(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "a.md").write_text("---\ntitle: T\nbuild:\n  theme: book\n---\n\nHi\n")
    monkeypatch.chdir(tmp_path)
    assert main(["config"]) == 0
    assert "theme        book                     book/a.md:4" in capsys.readouterr().out
