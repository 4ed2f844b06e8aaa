"""The file gate (issue 14): nothing outside the project is read unless the user named it.

Each case is a real project with a file outside it (``outside/``, beside the project)
and runs the real command line in the project folder.  A refused file is one error
line at the place that names it (or at the file itself), exit 1 (2 for the command
line), and dist/ exactly as it was.  The last cases read what the gate allows: a file
named on the command line, and a byte-order mark in front of the front matter.
"""
from __future__ import annotations

import io
import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import run_builder

pytestmark = pytest.mark.external  # each case runs the builder command line in a subprocess

REFS = [{"id": "doe99", "type": "book", "author": [{"family": "Doe", "given": "J."}],
         "title": "Safe", "publisher": "Pub", "issued": {"date-parts": [[1999]]}}]
SECRET = [{"id": "sec", "type": "book", "title": "OUTSIDE", "issued": {"date-parts": [[1999]]}}]
ARTICLE = "---\ntitle: T\n{meta}---\n\nAs @doe99 says.\n{body}"
OLD = b"%PDF-1.7\n% the previous build\n"


def _project(tmp_path: Path, meta: str = "", body: str = "") -> Path:
    project = tmp_path / "p"
    (project / "book").mkdir(parents=True)
    (project / "bibliography").mkdir()
    (project / "bibliography" / "refs.json").write_text(json.dumps(REFS), encoding="utf-8")
    (project / "book" / "a.md").write_text(ARTICLE.format(meta=meta, body=body),
                                           encoding="utf-8")
    (project / "dist").mkdir()
    (project / "dist" / "t.pdf").write_bytes(OLD)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.json").write_text(json.dumps(SECRET), encoding="utf-8")
    (outside / "secret.md").write_text("OUTSIDE\n", encoding="utf-8")
    return project


def _png(width: int = 30, height: int = 20) -> bytes:
    from PIL import Image
    data = io.BytesIO()
    Image.new("RGB", (width, height), "red").save(data, "PNG")
    return data.getvalue()


def _build(project: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return run_builder("build", ".", "--to", "html", *options, cwd=project)


def _refused(project: Path, expected: str, *options: str, code: int = 1) -> None:
    result = _build(project, *options)
    assert (result.returncode, result.stderr) == (code, expected)
    assert sorted(p.name for p in (project / "dist").iterdir()) == ["t.pdf"]
    assert (project / "dist" / "t.pdf").read_bytes() == OLD


OUTSIDE = "is outside the project (hint: copy it into the project, or name it on the command line)"
LINKED = ("is a symlink to a file outside the project "
          "(hint: copy the file into the project instead of linking to it)")


def test_a_bibliography_named_by_absolute_path_in_the_metadata(tmp_path):
    secret = tmp_path / "outside" / "secret.json"
    project = _project(tmp_path, meta=f"bibliography: {secret}\n")
    _refused(project, f"book/a.md:3: error: '{secret}' {OUTSIDE}\n")


def test_a_bibliography_that_leaves_the_project_with_dots(tmp_path):
    project = _project(tmp_path, meta="bibliography: ../../outside/secret.json\n")
    _refused(project, f"book/a.md:3: error: '{tmp_path / 'outside' / 'secret.json'}' {OUTSIDE}\n")


def test_a_broken_outside_bibliography_is_not_quoted(tmp_path):
    project = _project(tmp_path, meta="bibliography: ../../outside/broken.bib\n")
    (tmp_path / "outside" / "broken.bib").write_text("@book{OUTSIDE-CONTENT,\n", "utf-8")
    _refused(project, f"book/a.md:3: error: '{tmp_path / 'outside' / 'broken.bib'}' {OUTSIDE}\n")


def test_a_style_named_by_absolute_path_in_the_metadata(tmp_path):
    from builder.citations.styles import STYLES_DIR
    style = tmp_path / "outside" / "x.csl"
    project = _project(tmp_path, meta=f"csl: {style}\n")
    style.write_bytes((STYLES_DIR / "apa.csl").read_bytes())
    _refused(project, f"book/a.md:3: error: the style file {OUTSIDE}\n")


def test_a_dependent_style_s_parent_is_not_looked_up_in_the_working_directory(tmp_path):
    from builder.citations.styles import STYLES_DIR
    project = _project(tmp_path, meta="csl: styles/dep.csl\n")
    (tmp_path / "evil.csl").write_bytes((STYLES_DIR / "apa.csl").read_bytes())
    (project / "styles").mkdir()
    (project / "styles" / "dep.csl").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<style xmlns="http://purl.org/net/xbiblio/csl" version="1.0">\n'
        '  <info><title>Dep</title><id>dep</id><link href="http://www.zotero.org/styles/'
        'evil.csl" rel="independent-parent"/></info>\n</style>\n', encoding="utf-8")
    result = run_builder("build", "p", "--to", "html", cwd=tmp_path)  # evil.csl is here
    assert (result.returncode, result.stderr) == (1, (
        "p/styles/dep.csl:3: error: the parent style 'evil.csl' is not installed (hint: give "
        "a path to a .csl file, or a style name (builder styles))\n"))


def test_a_chapter_listed_outside_the_book(tmp_path):
    project = _project(tmp_path)
    (project / "book" / "book.yml").write_text(
        "title: T\nchapters:\n  - a.md\n  - ../../outside/secret.md\n", encoding="utf-8")
    _refused(project, f"book/book.yml:4: error: '{tmp_path / 'outside' / 'secret.md'}' "
                      f"{OUTSIDE}\n")


def test_symlinks_out_of_the_project_in_book_and_bibliography(tmp_path):
    project = _project(tmp_path)
    os.symlink("../../outside/secret.md", project / "book" / "b.md")
    os.symlink("../../outside/secret.json", project / "bibliography" / "s.json")
    _refused(project, f"book/b.md: error: the chapter {LINKED}\n"
                      f"bibliography/s.json: error: the bibliography file {LINKED}\n2 errors\n")


def test_a_cover_that_links_out(tmp_path):
    project = _project(tmp_path)
    (tmp_path / "outside" / "c.png").write_bytes(_png())
    os.symlink(tmp_path / "outside" / "c.png", project / "book" / "cover.png")
    _refused(project, f"book/cover.png: error: the image {LINKED}\n")


def test_a_theme_whose_stylesheet_links_out(tmp_path):
    project = _project(tmp_path)
    css = project / "styles" / "mine" / "css"
    css.mkdir(parents=True)
    (css.parent / "theme.yml").write_text("name: mine\nextends: report\n", encoding="utf-8")
    (tmp_path / "outside" / "x.css").write_text("body { color: red }\n", encoding="utf-8")
    os.symlink(tmp_path / "outside" / "x.css", css / "screen.css")
    _refused(project, f"styles/mine/css/screen.css: error: the theme file {LINKED}\n",
             "--theme", "mine")


@pytest.mark.parametrize("name", ["../../outside", "/tmp", "mine/../../x"])
def test_a_theme_is_a_name_not_a_path(tmp_path, name):
    project = _project(tmp_path)
    _refused(project, f"error: '{name}' is not a theme name (hint: name a folder of styles/ "
                      "(letters, digits, '-', '_' and '.'); copy a theme from elsewhere into "
                      "styles/)\n", "--theme", name, code=2)


def test_chapters_that_are_no_files(tmp_path):
    project = _project(tmp_path)
    (project / "book" / "x.md").mkdir()
    os.symlink("nowhere.md", project / "book" / "y.md")
    os.mkfifo(project / "book" / "z.md")  # reading it would block the build for ever
    _refused(project, "book/x.md: error: the chapter is a folder, not a file (hint: put a file "
                      "here, or remove it)\n"
                      "book/y.md: error: the chapter is a symlink to a missing file (hint: "
                      "remove the link, or make it point at a file)\n"
                      "book/z.md: error: the chapter is a named pipe, not a file (hint: put a "
                      "file here, or remove it)\n3 errors\n")


def test_an_image_that_is_a_named_pipe(tmp_path):
    project = _project(tmp_path, body="\n![A pipe](pipe.png)\n")
    os.mkfifo(project / "book" / "pipe.png")
    _refused(project, "book/a.md:7: error: the image is a named pipe, not a file (hint: put a "
                      "file here, or remove it)\n")


def test_damaged_and_mistyped_images_are_errors_at_their_lines(tmp_path):
    project = _project(tmp_path, body='\n![a](cut.png)\n\nAnd ![b](text.jpg).\n\n'
                                      '<img src="png.jpg" alt="c">\n')
    (project / "book" / "cut.png").write_bytes(_png()[:60])
    (project / "book" / "text.jpg").write_text("not a JPEG\n", encoding="utf-8")
    (project / "book" / "png.jpg").write_bytes(_png())
    hint = " (hint: replace it with a good copy of the image)"
    _refused(project,
             "book/a.md:7: error: image 'book/cut.png': the PNG image is damaged (image file "
             f"is truncated){hint}\n"
             f"book/a.md:9: error: image 'book/text.jpg': the file is not a JPEG image{hint}\n"
             "book/a.md:11: error: image 'book/png.jpg': it is a PNG image, not JPEG (rename "
             f"it to .png){hint}\n3 errors\n")


def test_an_image_with_too_many_pixels(tmp_path):
    project = _project(tmp_path, body="\n![a](big.png)\n")
    (project / "book" / "big.png").write_bytes(_png(9000, 8000))  # a small file: all red
    _refused(project, "book/a.md:7: error: image 'book/big.png': it is too large (9000 × 8000 "
                      "pixels; the limit is 64 million pixels) (hint: replace it with a good "
                      "copy of the image)\n")


def test_an_empty_cover(tmp_path):
    project = _project(tmp_path)
    (project / "book" / "cover.png").write_bytes(b"")
    _refused(project, "book/cover.png: error: the cover image: the file is empty (hint: "
                      "replace it with a good copy, or remove it for a generated cover)\n")


def test_a_data_url_image_is_checked_like_a_file(tmp_path):
    import base64
    url = "data:image/png;base64," + base64.b64encode(_png()[:60]).decode()
    project = _project(tmp_path, body=f"\n![a]({url})\n")
    _refused(project, "book/a.md:7: error: image in a data: URL: the PNG image is damaged "
                      "(image file is truncated) (hint: use an image file instead)\n")


def test_files_named_on_the_command_line_may_lie_outside(tmp_path):
    from builder.citations.styles import STYLES_DIR
    project = _project(tmp_path, body="\nAnd @sec.\n")
    (tmp_path / "outside" / "x.csl").write_bytes((STYLES_DIR / "apa.csl").read_bytes())
    result = _build(project, "--bibliography", "../outside/secret.json",
                    "--bibliography", "bibliography/refs.json", "--style", "../outside/x.csl",
                    "-q")
    assert (result.returncode, result.stderr) == (0, "")
    assert _references(project / "dist" / "t.html") == ["Doe, J. (1999). Safe. Pub.",
                                                          "OUTSIDE. (1999)."]


def _references(page: Path) -> list[str]:
    from lxml import html
    root = html.parse(str(page)).getroot()
    return [" ".join(entry.text_content().split())
            for entry in root.find_class("csl-entry")]


def test_a_byte_order_mark_before_the_front_matter(tmp_path):
    project = _project(tmp_path)
    article = project / "book" / "a.md"
    article.write_bytes(b"\xef\xbb\xbf" + article.read_bytes().replace(b"title: T", b"title: B"))
    result = _build(project, "-q")
    assert (result.returncode, result.stderr) == (0, "")
    from lxml import html
    root = html.parse(str(project / "dist" / "b.html")).getroot()
    assert [root.findtext(".//title"), root.findtext(".//h1")] == ["B", "B"]


def test_a_file_over_its_size_limit_is_not_read(tmp_path):
    """A 1 GB image (sparse here: nothing is written) is refused by its size, unread."""
    project = _project(tmp_path, body="\n![A huge picture](huge.png)\n")
    with open(project / "book" / "huge.png", "wb") as handle:
        handle.truncate(2**30)
    _refused(project, "book/a.md:7: error: the image is too large (1024.0 MB; the limit for "
                      "an image is 64 MB) (hint: make it smaller)\n")
