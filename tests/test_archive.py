"""builder build-all: every project under the folders, at once; the failures in a table."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from lxml import html as lxml_html

from archives import make_archive, outputs
from builder.archive import Outcome, find_projects, summary
from conftest import run_builder

SLUG = "a-synthetic-book-of-700-words"


def test_projects_are_the_folders_holding_book(tmp_path: Path) -> None:
    for folder in ("a/book", "a/inner/book", "b/c/book", "b/dist/x/book", "b/.hidden/book",
                   "d/notes"):
        (tmp_path / folder).mkdir(parents=True)
    assert find_projects([tmp_path / "b", tmp_path, tmp_path / "a"]) == [
        tmp_path / "b" / "c", tmp_path / "a"]  # in the order found, each once


def test_the_table_names_each_result_and_the_first_error() -> None:
    outcomes = [Outcome(Path("/x/good"), "built", 2.25),
                Outcome(Path("/x/same"), "up to date", 0.04),
                Outcome(Path("/x/bad"), "failed", 0.5,
                        (("no title", "book/book.yml", 2, None, "add title:", "input"),
                         ("second", None, None, None, None, "input")))]
    assert summary(outcomes) == "\n".join([
        "project  result         time  first error",
        "/x/good  built         2.2 s",
        "/x/same  up to date    0.0 s",
        "/x/bad   failed        0.5 s  /x/bad/book/book.yml:2: error: no title "
        "(hint: add title:)",
        "3 projects: 1 built, 1 up to date, 1 failed"])
    assert summary(outcomes, failed_only=True).splitlines()[1:] == [
        "/x/bad   failed        0.5 s  /x/bad/book/book.yml:2: error: no title "
        "(hint: add title:)", "3 projects: 1 built, 1 up to date, 1 failed"]


def _table(stdout: str) -> list[str]:
    """The summary table, the seconds left out."""
    start = stdout.splitlines().index(next(line for line in stdout.splitlines()
                                           if line.startswith("project ")))
    return [re.sub(r" +\d+\.\d s", "  N s", line) for line in stdout.splitlines()[start:]]


@pytest.mark.slow
@pytest.mark.external
def test_a_failing_project_stops_none_of_the_others(tmp_path: Path) -> None:
    good = make_archive(tmp_path, 3)
    bad = shutil.copytree(good[0], tmp_path / "articles" / "bad")
    (bad / "book" / "01-chapter.md").write_text("# Broken\n\nAs @nosuchkey says.\n")
    no_title = shutil.copytree(good[1], tmp_path / "more" / "untitled")
    yml = no_title / "book" / "book.yml"
    yml.write_text(re.sub(r"(?m)^title: .*\n", "", yml.read_text()))
    found = run_builder("build-all", "articles", "more", "--jobs", "2", cwd=tmp_path)
    assert found.returncode == 1, found.stderr
    assert _table(found.stdout)[0] == "project        result         time  first error"
    assert sorted(_table(found.stdout)[1:-1]) == sorted([
        _row("articles/a01", "built"), _row("articles/a02", "built"),
        _row("articles/a03", "built"),
        _row("articles/bad", "failed", "articles/bad/book/01-chapter.md:3:4: error: citation "
             "key '@nosuchkey' is not in the bibliography (hint: add it to the bibliography, "
             "or fix the key)"),
        _row("more/untitled", "failed", _first_error(no_title, tmp_path))])
    assert _table(found.stdout)[-1] == "5 projects: 3 built, 0 up to date, 2 failed"
    for project in good:
        assert sorted(outputs(project)) == sorted(
            [f"{SLUG}.epub", f"{SLUG}.html", f"{SLUG}.pdf", *_fonts(project)])
    assert not (bad / "dist").exists() and not (no_title / "dist").exists()
    again = run_builder("build-all", ".", cwd=tmp_path)
    assert again.returncode == 1
    assert _table(again.stdout)[-1] == "5 projects: 0 built, 3 up to date, 2 failed"


def _row(project: str, result: str, error: str = "") -> str:
    """A row of the table as :func:`_table` gives it."""
    return f"{project:13}  {result}  N s" + (f"  {error}" if error else "")


def _first_error(project: Path, cwd: Path) -> str:
    """What ``builder build`` says first of the project."""
    alone = run_builder("build", str(project.relative_to(cwd)), "--to", "html", cwd=cwd)
    assert alone.returncode == 1
    return alone.stderr.splitlines()[0]


def _fonts(project: Path) -> list[str]:
    return [name for name in outputs(project) if name.startswith("fonts/")]


def _references(page: Path) -> list[str]:
    tree = lxml_html.fromstring(page.read_bytes())
    return [" ".join(entry.text_content().split())
            for entry in tree.xpath("//*[@id='refs']/*[contains(@class, 'csl-entry')]")]


@pytest.mark.slow
@pytest.mark.external
def test_a_style_given_to_build_all_applies_to_every_project(tmp_path: Path) -> None:
    projects = make_archive(tmp_path / "all", 2)
    alone = tmp_path / "alone"
    shutil.copytree(projects[0], alone)
    found = run_builder("build-all", str(tmp_path / "all"), "--style", "ieee", "--to", "html")
    assert found.returncode == 0, found.stdout + found.stderr
    single = run_builder("build", str(alone), "--style", "ieee", "--to", "html")
    assert single.returncode == 0, single.stderr
    ieee = _references(projects[0] / "dist" / f"{SLUG}.html")
    assert ieee == _references(alone / "dist" / f"{SLUG}.html")
    assert len(ieee) == 6 and all(re.match(r"\[\d\]", entry) for entry in ieee)
    assert all(re.match(r"\[\d\]", entry)
               for entry in _references(projects[1] / "dist" / f"{SLUG}.html"))
    apa = run_builder("build", str(alone), "--to", "html")
    assert apa.returncode == 0
    assert not any(re.match(r"\[\d\]", e) for e in _references(alone / "dist" / f"{SLUG}.html"))
