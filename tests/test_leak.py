"""No byte from outside the project reaches any output (issue 14).

Beside the project lies a folder of files that each hold one random token: a chapter, a
CSL-JSON and a BibTeX bibliography, a CSL style, a stylesheet, a theme, an SVG image
and a PNG image (the token in a text chunk, which a byte-for-byte copy would keep).
Each case names, links or includes one of them in a way a hostile or careless project
could, and builds all three formats through the command line.  Whether the build
refuses the case (an error) or builds without the file, the token must appear nowhere:
not in stderr (an error never quotes an outside file), not in any file of dist/ (the
HTML page and its folder, every member of the EPUB, every object of the PDF with its
streams decoded, and the PDF's text), and not in the project's cache.
"""
from __future__ import annotations

import io
import json
import os
import secrets
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import run_builder

pytestmark = [pytest.mark.slow, pytest.mark.external]  # full builds as subprocesses

TOKEN = "TOKEN" + secrets.token_hex(12)
REFS = [{"id": "doe99", "type": "book", "author": [{"family": "Doe", "given": "J."}],
         "title": "Safe", "publisher": "Pub", "issued": {"date-parts": [[1999]]}}]


def _png() -> bytes:
    from PIL import Image, PngImagePlugin
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", TOKEN)
    data = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(data, "PNG", pnginfo=info)
    return data.getvalue()


def _outside(folder: Path) -> None:
    from builder.citations.styles import STYLES_DIR
    folder.mkdir()
    (folder / "secret.md").write_text(f"# {TOKEN}\n\n{TOKEN} @doe99\n", encoding="utf-8")
    (folder / "secret.json").write_text(json.dumps([{
        "id": "doe99", "type": "book", "title": TOKEN, "issued": {"date-parts": [[1999]]}}]),
        encoding="utf-8")
    (folder / "secret.bib").write_text(f"@book{{doe99, title = {{{TOKEN}}}, year = 1999,\n",
                                       encoding="utf-8")
    apa = (STYLES_DIR / "apa.csl").read_text(encoding="utf-8")
    (folder / "secret.csl").write_text(apa.replace("<title>", f"<title>{TOKEN} "),
                                       encoding="utf-8")
    (folder / "evil.csl").write_text(apa.replace('prefix="(" suffix=")"',
                                                 f'prefix="({TOKEN} " suffix=")"'),
                                     encoding="utf-8")
    (folder / "secret.css").write_text(f'body::before {{ content: "{TOKEN}" }}\n',
                                       encoding="utf-8")
    (folder / "secret.svg").write_text(
        f'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><text>{TOKEN}</text>'
        '</svg>', encoding="utf-8")
    (folder / "secret.png").write_bytes(_png())
    theme = folder / "theme"
    (theme / "css").mkdir(parents=True)
    (theme / "theme.yml").write_text("name: theme\nextends: report\n", encoding="utf-8")
    (theme / "css" / "screen.css").write_text(f'h1::after {{ content: "{TOKEN}" }}\n',
                                              encoding="utf-8")
    (theme / "css" / "print.css").write_text(f'h1::after {{ content: "{TOKEN}" }}\n',
                                             encoding="utf-8")


def _article(project: Path, meta: str = "", body: str = "") -> None:
    (project / "book" / "a.md").write_text(
        f"---\ntitle: Leak\n{meta}---\n\nAs @doe99 says.\n\n{body}\n", encoding="utf-8")


def _link(project: Path, name: str, target: Path) -> None:
    (project / name).parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, project / name)


def _theme(project: Path, css: str = "", template: str | None = None) -> None:
    folder = project / "styles" / "mine"
    (folder / "css").mkdir(parents=True)
    (folder / "theme.yml").write_text("name: mine\nextends: report\n", encoding="utf-8")
    (folder / "css" / "screen.css").write_text(css, encoding="utf-8")
    if template is not None:
        (folder / "templates").mkdir()
        (folder / "templates" / "document.html.j2").write_text(template, encoding="utf-8")


# Each case: (what it does to the project, extra command-line options).
Case = tuple[Callable[[Path, Path], None], tuple[str, ...]]
CASES: dict[str, Case] = {
    "bibliography-absolute": (lambda p, o: _article(p, f"bibliography: {o}/secret.json\n"), ()),
    "bibliography-dots": (lambda p, o: _article(p, "bibliography: ../../outside/secret.bib\n"),
                          ()),
    "bibliography-symlink": (lambda p, o: _link(p, "bibliography/x.json", o / "secret.json"),
                             ()),
    "csl-absolute": (lambda p, o: _article(p, f"csl: {o}/secret.csl\n"), ()),
    "csl-dots": (lambda p, o: _article(p, "csl: ../outside/secret.csl\n"), ()),
    "csl-parent-in-working-directory": (lambda p, o: (
        (p / "styles").mkdir(),
        (p / "styles" / "dep.csl").write_text(
            '<?xml version="1.0"?><style xmlns="http://purl.org/net/xbiblio/csl" '
            'version="1.0"><info><title>Dep</title><id>d</id><link rel="independent-parent" '
            'href="http://www.zotero.org/styles/evil.csl"/></info></style>', encoding="utf-8"),
        _article(p, "csl: styles/dep.csl\n")), ()),
    "chapter-dots": (lambda p, o: (p / "book" / "book.yml").write_text(
        "title: Leak\nchapters: [a.md, ../../outside/secret.md]\n", encoding="utf-8"), ()),
    "chapter-symlink": (lambda p, o: _link(p, "book/b.md", o / "secret.md"), ()),
    "book-folder-symlink": (lambda p, o: (_link(p, "book/sub", o),
                                          _article(p, body="![x](sub/secret.png)")), ()),
    "cover-symlink": (lambda p, o: _link(p, "book/cover.png", o / "secret.png"), ()),
    "image-symlink": (lambda p, o: (_link(p, "book/i.png", o / "secret.png"),
                                    _article(p, body="![x](i.png)")), ()),
    "svg-symlink": (lambda p, o: (_link(p, "book/i.svg", o / "secret.svg"),
                                  _article(p, body="![x](i.svg)")), ()),
    "image-dots": (lambda p, o: _article(p, body="![x](../../outside/secret.png)"), ()),
    "image-absolute": (lambda p, o: _article(p, body=f"![x]({o}/secret.png)"), ()),
    "image-file-url": (lambda p, o: _article(p, body=f"![x](file://{o}/secret.png)"), ()),
    "raw-img": (lambda p, o: _article(p, body='<img src="../../outside/secret.svg" alt="x">'),
                ()),
    "raw-srcset": (lambda p, o: _article(
        p, body='<img srcset="../../outside/secret.png 2x" alt="x">'), ()),
    "raw-svg-image": (lambda p, o: _article(
        p, body='<svg><image href="../../outside/secret.svg"/></svg>'), ()),
    "raw-style-import": (lambda p, o: _article(
        p, body=f"<style>@import url(file://{o}/secret.css);</style>"), ()),
    "raw-style-attribute": (lambda p, o: _article(
        p, body='<p style="background: url(../../outside/secret.png)">x</p>'), ()),
    "raw-attachment": (lambda p, o: _article(
        p, body='<a rel="attachment" href="../../outside/secret.md">x</a>'), ()),
    "svg-in-project-naming-outside": (lambda p, o: (
        (p / "book" / "s.svg").write_text(
            '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
            f' width="9" height="9"><image xlink:href="file://{o}/secret.svg" width="9" '
            'height="9"/><use href="../../outside/secret.svg#x"/></svg>', encoding="utf-8"),
        _article(p, body="![x](s.svg)")), ()),
    "theme-dots": (lambda p, o: None, ("--theme", "../../outside/theme")),
    "theme-absolute": (lambda p, o: None, ("--theme", "OUTSIDE/theme")),
    "theme-folder-symlink": (lambda p, o: _link(p, "styles/mine", o / "theme"),
                             ("--theme", "mine")),
    "theme-css-symlink": (lambda p, o: (_theme(p), os.remove(p / "styles/mine/css/screen.css"),
                                        _link(p, "styles/mine/css/screen.css",
                                              o / "secret.css")), ("--theme", "mine")),
    "theme-css-import": (lambda p, o: _theme(p, '@import url("../../../../outside/secret.css");'),
                         ("--theme", "mine")),
    "theme-css-font": (lambda p, o: _theme(
        p, f'@font-face {{ font-family: x; src: url("file://{o}/secret.svg") }}'),
        ("--theme", "mine")),
    "template-include": (lambda p, o: _theme(
        p, "", '{% include "../../../../outside/secret.md" %}{{ body }}'), ("--theme", "mine")),
    "template-include-absolute": (lambda p, o: _theme(
        p, "", f'{{% include "{o}/secret.md" %}}'), ("--theme", "mine")),
    "template-symlink": (lambda p, o: (_theme(p), (p / "styles/mine/templates").mkdir(),
                                       _link(p, "styles/mine/templates/document.html.j2",
                                             o / "secret.md")), ("--theme", "mine")),
}


def _pdf_bytes(path: Path) -> bytes:
    """The PDF with every stream decoded (qpdf's QDF form, object streams opened up), and
    its text as pdftotext reads it."""
    qdf = path.with_suffix(".qdf")
    subprocess.run(["qpdf", "--qdf", "--object-streams=disable", "--decode-level=all",
                    str(path), str(qdf)], check=True, capture_output=True)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True)
    data = qdf.read_bytes()
    qdf.unlink()
    return b"\n".join([path.read_bytes(), data, text.stdout])


def _every_output_byte(folder: Path) -> dict[str, bytes]:
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        name = str(path.relative_to(folder))
        found[name] = path.read_bytes()
        if path.suffix == ".epub":
            with zipfile.ZipFile(path) as archive:
                for member in archive.namelist():
                    found[f"{name}!{member}"] = archive.read(member)
        elif path.suffix == ".pdf":
            found[name] = _pdf_bytes(path)
    return found


@pytest.mark.parametrize("case", sorted(CASES))
def test_no_outside_byte_reaches_any_output(tmp_path: Path, case: str) -> None:
    outside = tmp_path / "outside"
    _outside(outside)
    project = tmp_path / "p"
    (project / "book").mkdir(parents=True)
    (project / "bibliography").mkdir()
    (project / "bibliography" / "refs.json").write_text(json.dumps(REFS), encoding="utf-8")
    _article(project)
    change, options = CASES[case]
    change(project, outside)
    options = tuple(o.replace("OUTSIDE", str(outside)) for o in options)
    (outside / "evil.csl").rename(tmp_path / "evil.csl")  # in the working directory
    result = run_builder("build", "p", *options, cwd=tmp_path)
    assert "Traceback" not in result.stderr
    assert result.returncode in (0, 1, 2), result.stderr
    assert TOKEN not in result.stderr + result.stdout
    outputs = {**_every_output_byte(project / "dist"),
               **_every_output_byte(project / ".cache")}
    if result.returncode == 0:
        assert any(name.endswith(".pdf") for name in outputs), result.stderr
    forms = (TOKEN.encode(), TOKEN.encode("utf-16-be"))  # (PDF strings may be UTF-16)
    leaked = sorted(name for name, data in outputs.items() if any(f in data for f in forms))
    assert leaked == []


def test_the_check_sees_the_token_when_the_same_files_are_inside(tmp_path: Path) -> None:
    """The control: the outside files copied into the project are published, and the scan
    finds the token in each kind of output (so the test above can fail)."""
    project = tmp_path / "p"
    (project / "book").mkdir(parents=True)
    _outside(project / "book" / "in")
    (project / "bibliography").mkdir()
    (project / "bibliography" / "refs.json").write_text(json.dumps(REFS), encoding="utf-8")
    (project / "book" / "book.yml").write_text("title: Leak\nchapters: [a.md, in/secret.md]\n",
                                               encoding="utf-8")
    _article(project, body="![x](in/secret.png)")
    result = run_builder("build", "p", "-q", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    outputs = _every_output_byte(project / "dist")
    leaked = {name.split("!")[0] for name, data in outputs.items() if TOKEN.encode() in data}
    assert leaked == {"leak.html", "leak.epub", "leak.pdf", "book/in/secret.png"}
