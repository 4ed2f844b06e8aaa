"""Raw HTML and resources: nothing from outside the project, no active content."""
from __future__ import annotations

import contextlib
import zipfile
from pathlib import Path

import pytest

from conftest import run_builder

pytestmark = [pytest.mark.slow, pytest.mark.external]  # full builds as builder subprocesses


def _project(tmp_path: Path, body: str) -> Path:
    project = tmp_path / "p"
    (project / "book").mkdir(parents=True)
    (project / "book" / "a.md").write_text("---\ntitle: Safe\n---\n\n" + body, encoding="utf-8")
    return project


def _outputs(project: Path) -> str:
    out = project / "dist"
    text = (out / "safe.html").read_text(encoding="utf-8")
    with zipfile.ZipFile(out / "safe.epub") as archive:
        text += "".join(archive.read(n).decode("utf-8", "replace")
                        for n in archive.namelist() if n.endswith(".xhtml"))
    return text


def test_scripts_and_event_handlers_never_reach_the_outputs(tmp_path):
    project = _project(tmp_path, 'Text <span onclick="steal()">kept</span>.\n\n'
                       '<script>alert(1)</script>\n\n'
                       '<a href="javascript:alert(2)">link</a> and <iframe src="x"></iframe>\n')
    result = run_builder("build", str(project), "--to", "html,epub")
    assert result.returncode == 0, result.stderr
    text = _outputs(project)
    assert "kept" in text
    for bad in ("steal()", "alert(1)", "javascript:", "<iframe", "onclick"):
        assert bad not in text, bad


@pytest.mark.parametrize("html", ['<img src="file:///etc/hostname" alt="x">',
                                  '<img src="/etc/hostname" alt="x">',
                                  '<link rel="stylesheet" href="../../outside.css">'])
def test_raw_html_resources_from_outside_are_refused(tmp_path, html):
    project = _project(tmp_path, f"Before.\n\n{html}\n\nAfter.\n")
    result = run_builder("build", str(project), "--to", "html,epub,pdf")
    assert result.returncode == 1
    assert "refused" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (project / "dist").exists()


def test_markdown_image_outside_the_project_is_an_error_at_its_line(tmp_path):
    project = _project(tmp_path, "One.\n\n![x](/etc/hostname)\n")
    result = run_builder("build", str(project))
    assert result.returncode == 1
    assert "a.md:7: error: resource outside the project refused: /etc/hostname" in result.stderr


def test_a_symlink_leaving_the_project_is_refused(tmp_path):
    outside = tmp_path / "secret.svg"
    outside.write_text('<svg xmlns="http://www.w3.org/2000/svg"><text>SECRET</text></svg>')
    project = _project(tmp_path, "![pic](link.svg)\n")
    (project / "book" / "link.svg").symlink_to(outside)
    result = run_builder("build", str(project))
    assert result.returncode == 1
    assert "resource outside the project refused: link.svg" in result.stderr
    assert not (project / "dist").exists()


# --- raw HTML: the error names the Markdown line and column -------------------------------------


@pytest.mark.parametrize("body, line, col, url", [
    # a block of HTML: the line of the tag inside the block (front matter is 3 lines, then a blank)
    ('Text.\n\n<div>\n<p>kept</p>\n  <img src="file:///etc/hostname" alt="x">\n</div>\n',
     9, 13, "file:///etc/hostname"),
    # inline HTML on the third line of a paragraph
    ("One line,\nanother,\nand <img alt='x' src='/etc/hostname'> here.\n", 7, 23, "/etc/hostname"),
    # inside a block quote
    ('> Quoted.\n> <link rel="stylesheet" href="../../outside.css">\n', 6, 32,
     "../../outside.css"),
    # inside an inline footnote
    ('A note.^[with <img src="../../x.png" alt="x"> inside]\n', 5, 25, "../../x.png"),
])
def test_raw_html_errors_name_the_markdown_line(tmp_path, body, line, col, url):
    project = _project(tmp_path, body)
    result = run_builder("build", ".", "--to", "html", cwd=project)
    assert result.returncode == 1, result.stderr
    assert result.stderr == (f"book/a.md:{line}:{col}: error: resource outside the project "
                             f"refused: {url} (hint: {_hint(url)})\n")
    assert not (project / "dist").exists()


def _hint(url: str) -> str:
    if url.startswith("..") and "/" in url:
        return "keep images and stylesheets inside the project folder"
    return "use a path relative to the Markdown file, inside the project"


def test_raw_html_missing_file_is_an_error_at_its_line(tmp_path):
    project = _project(tmp_path, "Text.\n\nA <img src=\"images/none.png\" alt=\"x\"> here.\n")
    result = run_builder("build", ".", "--to", "html", cwd=project)
    assert result.stderr == ("book/a.md:7:13: error: resource not found: images/none.png "
                             "(hint: no file book/images/none.png in the project)\n")


def test_raw_html_inside_the_project_still_builds(tmp_path):
    project = _project(tmp_path, '<img src="dot.svg" alt="a dot">\n')
    (project / "book" / "dot.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>', encoding="utf-8")
    result = run_builder("build", ".", "--to", "html,epub", cwd=project)
    assert result.returncode == 0, result.stderr
    assert 'src="book/dot.svg"' in (project / "dist" / "safe.html").read_text(encoding="utf-8")


# --- a theme's stylesheets: @import, url() and font sources from outside ------------------------

SECRET = "OUTSIDE-SECRET-7f3a"


def _theme_project(tmp_path: Path, css: str, name: str = "base.css") -> Path:
    """A project whose own theme ``evil`` extends report, with ``css`` as one stylesheet,
    and a stylesheet outside the project that would put SECRET on the page if loaded."""
    project = _project(tmp_path, "Hello from the book.\n")
    (project / "styles" / "evil" / "css").mkdir(parents=True)
    (project / "styles" / "evil" / "theme.yml").write_text("name: evil\nextends: report\n")
    (project / "styles" / "evil" / "css" / name).write_text(css, encoding="utf-8")
    (tmp_path / "outside.css").write_text(f'body::before {{ content: "{SECRET}"; }}\n')
    return project


def _secrets() -> list[str]:
    """Text that would show the files were read: our marker, the first line of /etc/passwd
    and the host name (when it is long enough not to turn up by chance)."""
    found = [SECRET]
    for path in ("/etc/passwd", "/etc/hostname"):
        with contextlib.suppress(OSError, IndexError):
            first = Path(path).read_text().splitlines()[0].strip()
            if len(first) >= 6:
                found.append(first)
    return found


def _all_output_text(out: Path) -> str:
    """The PDF's text (pypdf), every file of the EPUB (zipfile) and the HTML page."""
    from pypdf import PdfReader
    text = "\n".join(p.extract_text() for p in PdfReader(out / "safe.pdf").pages)
    with zipfile.ZipFile(out / "safe.epub") as archive:
        text += "".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
    return text + (out / "safe.html").read_text(encoding="utf-8")


THEME_CASES = [
    ("base.css", "@import url(file:///etc/passwd);\np { color: black; }\n", 1, 9,
     "file:///etc/passwd"),
    ("print.css", "p { color: black; }\nbody {\n  background: url(file:///etc/hostname);\n}\n",
     3, 15, "file:///etc/hostname"),
    ("epub.css", '@font-face {\n  font-family: "X";\n  src: url("file:///etc/hostname");\n}\n',
     3, 12, "file:///etc/hostname"),
]
THEME_VARIANTS = [
    ("screen.css", "@media screen {\n  h1 { background: url(/etc/hostname); }\n}\n", 2, 20,
     "/etc/hostname"),
    ("base.css", '@import "file:///etc/passwd" screen;\n', 1, 9, "file:///etc/passwd"),
    ("base.css", "p { background: url(FILE:///etc/passwd); }\n", 1, 17, "FILE:///etc/passwd"),
    ("base.css", "p { background: url(fi\\le:///etc/passwd); }\n", 1, 17, "file:///etc/passwd"),
    ("base.css", 'p { background: image-set("file:///etc/passwd" 1x); }\n', 1, 27,
     "file:///etc/passwd"),
    ("base.css", "@import url(../../../../outside.css);\n", 1, 9, "../../../../outside.css"),
]


def _refused(name: str, line: int, col: int, url: str) -> str:
    return (f"styles/evil/css/{name}:{line}:{col}: error: resource outside the project refused: "
            f"{url} (hint: a theme's stylesheets may only name files inside the theme or the "
            "project)\n")


def test_theme_import_background_and_font_from_outside_leave_dist_as_it_was(tmp_path):
    """@import url(file:///etc/passwd), a url(file:///etc/hostname) background and font
    source: each build stops at the stylesheet's line, and no output holds their text."""
    project = _theme_project(tmp_path, "p { color: black; }\n")
    ok = run_builder("build", ".", "--quiet", cwd=project)  # the report theme: a good build
    assert ok.returncode == 0, ok.stderr
    before = {p.name: p.read_bytes() for p in (project / "dist").iterdir() if p.is_file()}
    assert sorted(before) == ["safe.epub", "safe.html", "safe.pdf"]
    for name, css, line, col, url in THEME_CASES:
        for old in (project / "styles" / "evil" / "css").iterdir():
            old.unlink()
        (project / "styles" / "evil" / "css" / name).write_text(css, encoding="utf-8")
        result = run_builder("build", ".", "--theme", "evil", cwd=project)
        assert result.returncode == 1
        assert result.stderr == _refused(name, line, col, url)
        after = {p.name: p.read_bytes() for p in (project / "dist").iterdir() if p.is_file()}
        assert after == before  # the previous outputs, byte for byte, and nothing else
    text = _all_output_text(project / "dist")
    assert "Hello from the book." in text
    for secret in _secrets():
        assert secret not in text


@pytest.mark.parametrize("name, css, line, col, url", THEME_CASES + THEME_VARIANTS)
def test_theme_stylesheet_from_outside_is_refused_at_its_line(tmp_path, name, css, line, col, url):
    project = _theme_project(tmp_path, css, name)
    result = run_builder("build", ".", "--theme", "evil", cwd=project)
    assert result.returncode == 1
    assert result.stderr == _refused(name, line, col, url)
    assert not (project / "dist").exists()


def test_theme_stylesheet_remote_import_needs_allow_remote(tmp_path):
    project = _theme_project(tmp_path, '@import "https://example.com/x.css";\n')
    result = run_builder("build", ".", "--theme", "evil", "--to", "html", cwd=project)
    assert result.stderr == (
        "styles/evil/css/base.css:1:9: error: remote resource refused: "
        "https://example.com/x.css (hint: download it into the theme folder, or pass "
        "--allow-remote)\n")


def test_theme_symlink_leaving_the_project_is_refused(tmp_path):
    project = _theme_project(tmp_path, "body { background: url(bg.css); }\n")
    (project / "styles" / "evil" / "css" / "bg.css").symlink_to(tmp_path / "outside.css")
    result = run_builder("build", ".", "--theme", "evil", "--to", "html", cwd=project)
    assert result.returncode == 1
    assert "base.css:1:20: error: resource outside the project refused: bg.css" in result.stderr


def test_theme_stylesheet_with_its_own_files_builds_and_reads_nothing_outside(tmp_path):
    """What a theme may name (its own files, data: URLs, fragments) is not refused."""
    css = ('@font-face { font-family: "Own"; src: url(data:font/woff2;base64,AAAA); }\n'
           "h1 { background: url(../images/rule.svg) no-repeat; }\n"
           "p { clip-path: url(#clip); }\n")
    project = _theme_project(tmp_path, css, "print.css")
    (project / "styles" / "evil" / "images").mkdir()
    (project / "styles" / "evil" / "images" / "rule.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>')
    result = run_builder("build", ".", "--theme", "evil", cwd=project)
    assert result.returncode == 0, result.stderr
    text = _all_output_text(project / "dist")
    assert "Hello from the book." in text
    for secret in _secrets():
        assert secret not in text


def test_theme_cmyk_profile_outside_the_project_is_refused(tmp_path):
    project = _theme_project(tmp_path, "p { color: black; }\n")
    (project / "styles" / "evil" / "theme.yml").write_text(
        "name: evil\nextends: report\nprint:\n  profile: /etc/passwd\n")
    result = run_builder("build", ".", "--theme", "evil", "--to", "pdf", "--print", cwd=project)
    assert result.stderr == (
        "styles/evil/theme.yml:3: error: profile outside the theme refused: /etc/passwd "
        "(hint: copy the printer's ICC profile into the theme folder and name it relative "
        "to it)\n")
    assert not (project / "dist").exists()


def test_metadata_and_bibliography_text_is_escaped(tmp_path):
    """A title holding <script> (raw HTML: metadata is Markdown, as in Pandoc) loses it;
    a reference title holding a tag shows it as text; in every output."""
    project = tmp_path / "p"
    (project / "book").mkdir(parents=True)
    (project / "bibliography").mkdir()
    (project / "book" / "a.md").write_text(
        '---\ntitle: "Safe <script>alert(1)</script>"\n---\n\nAs [@x] says.\n', encoding="utf-8")
    (project / "bibliography" / "refs.json").write_text(
        '[{"id": "x", "type": "book", "title": "Evil <img src=x onerror=alert(2)>"}]\n')
    result = run_builder("build", ".", "--to", "html,epub", cwd=project)
    assert result.returncode == 0, result.stderr
    out = project / "dist"
    html = next(out.glob("*.html")).read_text(encoding="utf-8")
    with zipfile.ZipFile(next(out.glob("*.epub"))) as archive:
        texts = [html] + [archive.read(n).decode("utf-8") for n in archive.namelist()
                          if n.endswith((".xhtml", ".opf", ".ncx"))]
    assert '<h1 class="title">Safe</h1>' in html and "<title>Safe</title>" in html
    assert "alert(1)" not in "".join(texts)
    assert "Evil &lt;img src=x onerror=alert(2)&gt;" in html
    for text in texts:
        assert "<script" not in text
        assert "<img src=x" not in text
