"""The PDF laid out in chunks (``--jobs 2``) is the PDF of one layout (``--jobs 1``).

Real builds of a multi-chapter book in the book theme, page texts compared page by page
with pypdf; the contents' page numbers, the bookmarks, the links and the named
destinations checked against the headings; qpdf; one copy of each font; ``--print``
and PDF/UA through the PDF checks; a rebuild after a one-paragraph edit lays out one
chunk again and gives the pages of a full build.
"""
from __future__ import annotations

import os
import pickle
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT
from test_pdf import THEME_FONTS, make_long_book

pytestmark = [pytest.mark.slow, pytest.mark.external]  # PDF layouts, qpdf

pypdf = pytest.importorskip("pypdf")
from pypdf import PdfReader  # noqa: E402

from builder import pdfcheck  # noqa: E402
from builder.build import BuildRequest, build  # noqa: E402
from builder.formats import pdf_chunks  # noqa: E402

EPOCH = "1700000000"


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_long_book(tmp_path_factory.mktemp("chunked-book"))


@pytest.fixture(scope="module")
def pdfs(book: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Build the book's PDF once per set of options."""
    made: dict[tuple[str, ...], Path] = {}

    def make(*options: str) -> Path:
        if options not in made:
            out = tmp_path_factory.mktemp("out")
            env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}
            result = subprocess.run(
                [sys.executable, "-m", "builder", "build", str(book), "--out", str(out),
                 "--to", "pdf", "--theme", "book", "--no-cache", "-q", *options], cwd=ROOT,
                env=env, capture_output=True, text=True, timeout=600)
            assert result.returncode == 0, result.stderr
            assert result.stderr == "", result.stderr
            made[options] = next(out.glob("*.pdf"))
        return made[options]
    return make


def page_texts(pdf: Path) -> list[str]:
    return [page.extract_text() for page in PdfReader(pdf).pages]


def outline(reader: PdfReader) -> list[tuple[int, str, int]]:
    """(depth, title, page) of every bookmark."""
    found: list[tuple[int, str, int]] = []

    def walk(items: list[Any], depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                found.append((depth, str(item.title), reader.get_destination_page_number(item)))
    walk(reader.outline, 0)
    return found


def dest_pages(reader: PdfReader) -> dict[str, int]:
    return {str(name): reader.get_destination_page_number(dest)
            for name, dest in reader.named_destinations.items()}


def link_targets(reader: PdfReader) -> list[str]:
    targets = []
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            if annotation.get("/Subtype") == "/Link" and "/Dest" in annotation:
                targets.append(str(annotation["/Dest"]))
    return targets


def test_the_book_is_cut_at_its_chapters(book: Path) -> None:
    from builder.errors import Diagnostics
    from builder.formats import Options
    from builder.formats import pdf as pdf_format
    from builder.render import render_document  # noqa: F401 - (the HTML pdf.write makes)
    request = BuildRequest(project_root=book, formats=("pdf",), theme="book")
    prepared = __import__("builder.build", fromlist=["prepare"]).prepare(request, Diagnostics())
    options = Options(project_root=book, jobs=2)
    layout = pdf_format.layout_for(prepared.theme, options)
    html, _ = pdf_format.weasyprint_input(prepared, options)
    head, parts, tail = pdf_chunks.split(html)
    assert head + "".join(parts) + tail == html
    # the front matter, three chapters, the references
    assert len(parts) == 5
    assert 'class="title-block"' in parts[0] and 'class="toc-page"' in parts[0]
    assert [re.search(r'class="(\w+)"', p).group(1) for p in parts[1:]] == [
        "chapter", "chapter", "chapter", "bibliography"]
    assert pdf_chunks.document_title(parts[0]) == "Long Test Book"
    assert pdf_chunks.wanted(layout, options, html)
    # chapters that run on (the report theme) are laid out whole; so is --jobs 1
    report = pdf_format.layout_for(
        __import__("builder.build", fromlist=["prepare"]).prepare(
            BuildRequest(project_root=book, formats=("pdf",)), Diagnostics()).theme, options)
    assert not pdf_chunks.wanted(report, options, html)
    assert not pdf_chunks.wanted(layout, Options(project_root=book, jobs=1), html)


def test_chunked_pages_are_the_pages_of_one_layout(pdfs: Any) -> None:
    one, chunked = pdfs("--jobs", "1"), pdfs("--jobs", "2")
    assert page_texts(chunked) == page_texts(one)
    a, b = PdfReader(one), PdfReader(chunked)
    assert outline(b) == outline(a)
    assert dest_pages(b) == dest_pages(a)
    assert sorted(link_targets(b)) == sorted(link_targets(a))
    assert [p.mediabox for p in b.pages] == [p.mediabox for p in a.pages]


def test_contents_bookmarks_and_links_resolve(pdfs: Any) -> None:
    pdf = pdfs("--jobs", "2")
    reader = PdfReader(pdf)
    texts = page_texts(pdf)
    dests = dest_pages(reader)
    # the contents: each entry's number is the page its heading is on
    contents = texts[2]
    entries = re.findall(r"^(.+?)[ .]*?(\d+)$", contents, re.M)
    chapters = {title.strip(): int(page) for title, page in entries
                if title.strip().startswith(("Chapter", "Section", "References"))}
    assert len(chapters) >= 12, contents
    for title, page in chapters.items():
        assert title in texts[page - 1], (title, page)
    # every bookmark's page has its title; every link has its destination
    for _, title, page in outline(reader):
        assert title.split()[0] in texts[page], (title, page)
    targets = link_targets(reader)
    assert len(targets) > 30 and set(targets) <= set(dests)
    # folios: each page's number is its place in the book (the outer corner)
    numbered = [n for n, text in enumerate(texts, start=1)
                if re.search(rf"(^|\n){n}$|^{n}\n", text)]
    assert len(numbered) > len(texts) // 2


def test_one_copy_of_each_font_and_qpdf_clean(pdfs: Any) -> None:
    pdf = pdfs("--jobs", "2")
    reader = PdfReader(pdf)
    names = set()
    objects = set()
    for page in reader.pages:
        for reference in page["/Resources"]["/Font"].values():
            names.add(str(reference.get_object()["/BaseFont"]))
            objects.add(reference.idnum)
    assert len(names) == len(objects), (names, objects)
    fonts = pdfcheck.check_fonts(reader, THEME_FONTS)
    assert fonts["ok"], fonts
    if shutil.which("qpdf"):
        assert pdfcheck.run_qpdf(pdf)["ok"]


def test_print_and_pdf_ua_pass_the_checks(pdfs: Any) -> None:
    printed = pdfs("--jobs", "2", "--print")
    assert page_texts(printed) == page_texts(pdfs("--jobs", "1", "--print"))
    report = pdfcheck.check_pdf(printed, "pdf/x-4", fonts=THEME_FONTS)
    assert report["passed"], report
    tagged = pdfs("--jobs", "2", "--pdf-variant", "pdf/ua-1")  # (laid out whole)
    report = pdfcheck.check_pdf(tagged, "pdf/ua-1", fonts=THEME_FONTS)
    assert report["passed"], report


def test_byte_identical_rebuilds(pdfs: Any, book: Path, tmp_path: Path) -> None:
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}
    subprocess.run([sys.executable, "-m", "builder", "build", str(book), "--out", str(tmp_path),
                    "--to", "pdf", "--theme", "book", "--no-cache", "-q", "--jobs", "2"],
                   cwd=ROOT, env=env, check=True, timeout=600)
    assert next(tmp_path.glob("*.pdf")).read_bytes() == pdfs("--jobs", "2").read_bytes()


def test_a_one_paragraph_edit_lays_out_one_chunk_again(book: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    project = tmp_path / "book"
    shutil.copytree(book, project)
    request = BuildRequest(project_root=project, formats=("pdf",), theme="book", jobs=2)
    first = build(request)
    assert first.timings["pdf_chunks_laid_out"] == 6  # the front twice (its numbers), 4 more
    chapter = project / "book" / "two.md"
    text = chapter.read_text(encoding="utf-8")
    paragraph = next(p for p in text.split("\n\n") if p.startswith("growth") or len(p) > 300)
    chapter.write_text(text.replace(paragraph, paragraph.replace(" ", " the ", 1), 1),
                       encoding="utf-8")
    again = build(request)
    assert again.timings["pdf_chunks_laid_out"] == 1
    assert again.timings["pdf_chunks_cached"] == 4
    full = build(BuildRequest(project_root=project, formats=("pdf",), theme="book", jobs=2,
                              cache=False, out_dir=tmp_path / "full"))
    assert page_texts(again.outputs["pdf"]) == page_texts(full.outputs["pdf"])


def test_a_chunk_task_is_a_picklable_pure_function(book: Path) -> None:
    from builder.errors import Diagnostics
    from builder.formats import Options
    from builder.formats import pdf as pdf_format
    prepared = __import__("builder.build", fromlist=["prepare"]).prepare(
        BuildRequest(project_root=book, formats=("pdf",), theme="book"), Diagnostics())
    options = Options(project_root=book, jobs=2)
    layout = pdf_format.layout_for(prepared.theme, options)
    html, css = pdf_format.weasyprint_input(prepared, options)
    head, parts, tail = pdf_chunks.split(html)
    task = pdf_chunks.ChunkTask(
        1, head + parts[1] + tail, css, "", str(book), prepared.theme, False, layout,
        {"pdf_identifier": b"x", "pdf_variant": None}, "slug", ("a", "b"), False, (),
        "right", offset=4, total=40)
    copy = pickle.loads(pickle.dumps(task))
    first, second = pdf_chunks.layout_chunk(task), pdf_chunks.layout_chunk(copy)
    assert first.pdf == second.pdf and first.pages == second.pages > 1
    texts = [page.extract_text() for page in PdfReader(__import__("io").BytesIO(first.pdf)).pages]
    assert texts[1].strip().endswith("6") or texts[1].strip().startswith("6")  # page 6
