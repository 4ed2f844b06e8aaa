"""Rebuilds: the content-addressed cache, outputs left alone when nothing changed, and
all formats committed together (the PDF laid out in a forked process meanwhile).

Every build here is a real one of tests/books/sample (a copy in tmp_path)."""
from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from builder.build import BuildRequest, build
from builder.cache import FOLDER
from builder.errors import BuildError
from conftest import pdf_text, run_builder

pytestmark = [pytest.mark.slow, pytest.mark.external]  # full builds, some as builder subprocesses

SAMPLE = Path(__file__).resolve().parent / "books" / "sample"


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(SAMPLE, copy)
    return copy


def _build(project: Path, *formats: str, **options: object):  # type: ignore[no-untyped-def]
    request = BuildRequest(project, formats=formats or ("pdf", "epub", "html"), **options)
    return build(request)


def _stamps(result) -> dict[str, tuple[int, int]]:  # type: ignore[no-untyped-def]
    return {fmt: (path.stat().st_mtime_ns, path.stat().st_size)
            for fmt, path in result.outputs.items()}


def test_nothing_changed_nothing_rewritten(project: Path) -> None:
    first = _build(project)
    assert first.up_to_date == []
    before = _stamps(first)
    second = _build(project)
    assert second.up_to_date == ["pdf", "epub", "html"]
    assert _stamps(second) == before  # not even rewritten with the same bytes
    assert second.timings["pdf"] == 0.0
    assert (project / FOLDER / "outputs").is_dir()


def test_an_edited_chapter_is_rebuilt_and_shows(project: Path) -> None:
    _build(project, "epub", "html")
    chapter = project / "book" / "02-methods.md"
    chapter.write_text(chapter.read_text(encoding="utf-8") + "\nA sentence added later.\n",
                       encoding="utf-8")
    result = _build(project, "epub", "html")
    assert result.up_to_date == []
    html = result.outputs["html"].read_text(encoding="utf-8")
    assert "A sentence added later." in html
    with zipfile.ZipFile(result.outputs["epub"]) as archive:
        assert any(b"A sentence added later." in archive.read(name) for name in archive.namelist())


def test_an_edit_reparses_only_its_chapter(project: Path) -> None:
    from builder.build import prepare
    from builder.cache import Cache
    from builder.errors import Diagnostics
    request = BuildRequest(project)
    prepare(request, Diagnostics(), cache=Cache.for_project(project))
    chapter = project / "book" / "03-results.md"
    chapter.write_text(chapter.read_text(encoding="utf-8") + "\nOne more line.\n",
                       encoding="utf-8")
    cache = Cache.for_project(project)
    book = prepare(request, Diagnostics(), cache=cache)
    assert cache.misses.get("chapters") == 1 and cache.hits.get("chapters") == 3
    assert cache.hits.get("citations") == 1  # the citations did not change
    from builder.render import chapter_html
    assert "One more line." in chapter_html(book.chapters[2])


def test_a_new_citation_is_formatted(project: Path) -> None:
    first = _build(project, "html")
    chapter = project / "book" / "04-conclusion.md"
    text = chapter.read_text(encoding="utf-8")
    html_before = first.outputs["html"].read_text(encoding="utf-8")
    keys = [line.split('"id":')[1].split('"')[1] for line in
            (project / "bibliography").glob("*.json").__next__().read_text().splitlines()
            if '"id":' in line]
    chapter.write_text(text + f"\nAs shown before [@{keys[0]}, p. 9876].\n", encoding="utf-8")
    second = _build(project, "html")
    html_after = second.outputs["html"].read_text(encoding="utf-8")
    assert "9876" in html_after and "9876" not in html_before


def test_touched_or_deleted_outputs_are_rebuilt(project: Path) -> None:
    first = _build(project, "epub", "html")
    first.outputs["html"].write_text("damaged", encoding="utf-8")
    first.outputs["epub"].unlink()
    second = _build(project, "epub", "html")
    assert second.up_to_date == []
    assert "damaged" not in second.outputs["html"].read_text(encoding="utf-8")
    assert zipfile.ZipFile(second.outputs["epub"]).testzip() is None


def test_pdf_options_rebuild_the_pdf_only(project: Path) -> None:
    _build(project)
    result = _build(project, page_size="Letter")
    assert result.up_to_date == ["epub", "html"]
    from pypdf import PdfReader
    width = float(PdfReader(result.outputs["pdf"]).pages[0].mediabox.width)
    assert round(width) == 612  # 8.5 in


def test_no_cache_rebuilds_everything(project: Path) -> None:
    _build(project, "epub", "html")
    result = _build(project, "epub", "html", cache=False)
    assert result.up_to_date == []
    assert not any((project / FOLDER).rglob("*.part"))


def test_a_damaged_cache_is_ignored(project: Path) -> None:
    first = _build(project, "html")
    expected = first.outputs["html"].read_bytes()
    for entry in (project / FOLDER).rglob("*"):
        if entry.is_file():
            entry.write_bytes(b"\x80garbage")
    second = _build(project, "html")
    assert second.up_to_date == []
    assert second.outputs["html"].read_bytes() == expected


def test_a_cached_chapter_still_reports_a_missing_image(project: Path) -> None:
    _build(project, "html")
    images = sorted((project / "images").iterdir())
    used = [image for image in images
            if any(image.name in p.read_text(encoding="utf-8")
                   for p in (project / "book").glob("*.md"))]
    assert used, "the sample uses an image"
    used[0].unlink()
    with pytest.raises(BuildError) as error:
        _build(project, "html")
    assert error.value.path is not None and error.value.path.suffix == ".md"
    assert error.value.line is not None


def test_all_formats_or_none(project: Path) -> None:
    """The PDF fails (--strict and a CSS warning WeasyPrint gives, in the forked process)
    after the EPUB and HTML were made: none of the three replaces the previous outputs."""
    first = _build(project)
    before = {fmt: path.read_bytes() for fmt, path in first.outputs.items()}
    chapter = project / "book" / "01-introduction.md"
    chapter.write_text(chapter.read_text(encoding="utf-8")
                       + '\n<p style="width: 12 parsecs">Odd style.</p>\n', encoding="utf-8")
    with pytest.raises(BuildError) as error:
        _build(project, strict=True)
    assert error.value.message.startswith("pdf: ") and "strict" in error.value.message
    assert {fmt: path.read_bytes() for fmt, path in first.outputs.items()} == before
    leftovers = [p.name for p in first.outputs["pdf"].parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_the_forked_pdf_is_the_pdf_alone(project: Path, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The same PDF whether laid out in a forked process (all formats) or alone."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    together = _build(project, out_dir=tmp_path / "together")
    alone = _build(project, "pdf", out_dir=tmp_path / "alone", cache=False)
    assert together.outputs["pdf"].read_bytes() == alone.outputs["pdf"].read_bytes()
    assert "Results" in pdf_text(together.outputs["pdf"])


def test_the_command_line_says_up_to_date(project: Path) -> None:
    first = run_builder("build", str(project), "--to", "html")
    assert first.returncode == 0, first.stderr
    second = run_builder("build", str(project), "--to", "html")
    assert second.returncode == 0, second.stderr
    assert "is up to date" in second.stdout
    third = run_builder("build", str(project), "--to", "html", "--no-cache")
    assert "wrote" in third.stdout
