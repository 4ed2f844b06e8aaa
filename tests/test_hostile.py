"""Hostile projects (issue 14): nothing active reaches any output.

Each case is a real project built in all three formats through the command line.  The
check reads every output the way a reader's software would: the HTML page and every
XHTML member of the EPUB parsed with lxml (every element and attribute looked at, URLs
normalised as a browser normalises them), the SVG files of the EPUB and of the HTML
page's folder parsed, and every link annotation of the PDF.
"""
from __future__ import annotations

import base64
import json
import re
import zipfile
from pathlib import Path
from urllib.parse import unquote

import pytest
from lxml import etree
from lxml import html as lxml_html

from conftest import run_builder

pytestmark = [pytest.mark.slow, pytest.mark.external]  # full builds as builder subprocesses

pypdf = pytest.importorskip("pypdf")

SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20">'
       '<rect width="20" height="20"/></svg>')
REFERENCES = [{"id": "doe99", "type": "book", "author": [{"family": "Doe", "given": "J."}],
               "title": 'Safe <span onmouseover="steal()">titles</span>',
               "publisher": "Pub", "issued": {"date-parts": [[1999]]}}]

HANDLER = re.compile(r"^on", re.I)
ALLOWED_SCHEMES = {"http", "https", "mailto"}


def _project(tmp_path: Path, body: str, files: dict[str, str] | None = None) -> Path:
    project = tmp_path / "p"
    (project / "book").mkdir(parents=True)
    (project / "bibliography").mkdir()
    (project / "bibliography" / "refs.json").write_text(json.dumps(REFERENCES),
                                                         encoding="utf-8")
    (project / "book" / "a.md").write_text(
        "---\ntitle: Hostile\nlang: en\n---\n\nAs @doe99 says.\n\n" + body + "\n",
        encoding="utf-8")
    for name, text in (files or {}).items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text, encoding="utf-8")
    return project


def _browser_url(value: str) -> str:
    """A URL as a browser reads it: control characters and whitespace removed."""
    return re.sub(r"[\x00-\x20\x7f]", "", value)


def _active(root: etree._Element, where: str) -> list[str]:
    """Everything active in a parsed document: scripts, handlers, scripted or outside
    URLs, srcset, foreign objects, CSS that names URLs."""
    found = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        tag = etree.QName(element).localname.lower()
        if tag in ("script", "iframe", "object", "embed", "foreignobject", "image", "style",
                   "base", "meta", "link", "frame") and where != "head":
            found.append(f"<{tag}>")
        for name, value in element.attrib.items():
            local = etree.QName(name).localname.lower()
            if HANDLER.match(local) or local in ("srcset", "formaction"):
                found.append(f"{tag}@{local}")
            if local in ("href", "src", "poster", "cite", "action"):
                url = _browser_url(value)
                scheme = re.match(r"([a-z][a-z0-9+.-]*):", url, re.I)
                if scheme and scheme.group(1).lower() not in ALLOWED_SCHEMES and not (
                        local == "src" and re.match(r"data:image/(png|jpeg|gif|webp|svg\+xml)",
                                                    url, re.I)):
                    found.append(f"{tag}@{local}={url[:40]}")
                if not scheme and not url.startswith("#"):
                    path = unquote(url.split("#")[0])
                    if path.startswith("/") or path.startswith("..") or "/../" in path:
                        found.append(f"{tag}@{local}={url[:40]}")
                if scheme and scheme.group(1).lower() == "data" and "svg" in url[:20]:
                    found += _svg_active(_data(url), f"{tag}@{local} data:")
            if local == "style" and re.search(r"url\s*\(|@import|expression", value, re.I):
                found.append(f"{tag}@style={value[:40]}")
    return found


def _data(url: str) -> bytes:
    header, _, payload = url[5:].partition(",")
    return base64.b64decode(payload) if ";base64" in header else unquote(payload).encode()


def _svg_active(data: bytes, where: str) -> list[str]:
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True))
    found = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        tag = etree.QName(element).localname
        if tag in ("script", "foreignObject", "iframe", "handler"):
            found.append(f"{where} <{tag}>")
        for name, value in element.attrib.items():
            local = etree.QName(name).localname.lower()
            if HANDLER.match(local):
                found.append(f"{where} @{local}")
            if local == "href" and not value.strip().startswith("#"):
                found.append(f"{where} @href={value[:40]}")
        if tag == "style" and re.search(r"url\s*\(|@import", element.text or "", re.I):
            found.append(f"{where} <style> url")
    return found


def _everything_active(project: Path) -> list[str]:
    out = project / "dist"
    found = []
    page = lxml_html.document_fromstring((out / "hostile.html").read_bytes())
    found += [f"html: {f}" for f in _active(page.find("body"), "body")]
    for svg in sorted(out.rglob("*.svg")):
        found += _svg_active(svg.read_bytes(), f"html folder {svg.name}")
    with zipfile.ZipFile(out / "hostile.epub") as archive:
        for name in archive.namelist():
            data = archive.read(name)
            if name.endswith(".xhtml"):
                body = etree.fromstring(data).find("{http://www.w3.org/1999/xhtml}body")
                found += [f"{name}: {f}" for f in _active(body, "body")]
            elif name.endswith(".svg"):
                found += _svg_active(data, name)
    reader = pypdf.PdfReader(out / "hostile.pdf")
    for number, pdf_page in enumerate(reader.pages, 1):
        for ref in pdf_page.get("/Annots") or []:
            action = ref.get_object().get("/A") or {}
            uri = str(action.get("/URI", ""))
            if action.get("/S") not in (None, "/URI", "/GoTo") or (
                    uri and not re.match(r"(https?|mailto):", _browser_url(uri), re.I)):
                found.append(f"pdf p{number}: {action.get('/S')} {uri[:40]}")
    return found


def _built(project: Path) -> None:
    result = run_builder("build", str(project), "--to", "pdf,epub,html")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


HOSTILE_HTML = {
    "entity-javascript": '<a href="&#106;avascript:alert(1)">one</a>',
    "tab-javascript": '<a href="java&#x09;script:alert(1)">two</a>',
    "newline-javascript": '<a href="java\nscript:alert(1)">three</a>',
    "slash-handler": '<div id="x"/onmouseover="alert(1)">four</div>',
    "data-html-link": '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">'
                      'five</a>',
    "vbscript": '<a href="vbscript:msgbox(1)">six</a>',
    "srcset": '<img src="a.svg" srcset="../../outside.png 2x" alt="a dot">',
    "svg-image-element": '<svg><image href="../../outside.png"/></svg>',
    "style-import": "<style>@import url(file:///etc/passwd);</style>",
    "style-attribute-url": '<p style="background: url(../../outside.png)">seven</p>',
    "attachment": '<a rel="attachment" href="../../outside.txt">eight</a>',
    "absolute-link": '<a href="/etc/passwd">nine</a>',
    "form": '<form action="https://example.org"><button formaction="javascript:x">x'
            '</button></form>',
    "data-svg-script": '<img alt="svg" src="data:image/svg+xml;base64,' + base64.b64encode(
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script>'
        b'<foreignObject><p>x</p></foreignObject></svg>').decode() + '">',
    "meta-refresh": '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "object": '<object data="a.svg"></object><embed src="a.svg">',
}


@pytest.mark.parametrize("case", sorted(HOSTILE_HTML))
def test_raw_html_builds_with_nothing_active_in_any_output(tmp_path: Path, case: str) -> None:
    project = _project(tmp_path, f"Before.\n\n{HOSTILE_HTML[case]}\n\nAfter.\n",
                       {"book/a.svg": SVG})
    _built(project)
    assert _everything_active(project) == []


def test_a_reference_title_with_a_handler_is_text_only(tmp_path: Path) -> None:
    """CSL-JSON's rich text keeps its formatting, never a handler."""
    project = _project(tmp_path, "")
    _built(project)
    assert _everything_active(project) == []
    page = (project / "dist" / "hostile.html").read_text(encoding="utf-8")
    assert "Safe titles" in re.sub(r"<[^>]+>", "", page)


def test_svg_images_are_cleaned_before_they_are_published(tmp_path: Path) -> None:
    """An SVG file with a script, a handler, a foreignObject and an outside reference
    goes into the EPUB and beside the HTML page without any of them."""
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
           ' width="20" height="20" onload="alert(1)"><script>alert(2)</script>'
           '<foreignObject width="9" height="9"><p xmlns="http://www.w3.org/1999/xhtml">x</p>'
           '</foreignObject><image xlink:href="../../outside.png" width="5" height="5"/>'
           '<style>rect { fill: url(https://example.org/x.svg#p) }</style>'
           '<rect width="20" height="20" onclick="alert(3)"/></svg>')
    project = _project(tmp_path, "![A square](images/sq.svg)\n", {"images/sq.svg": svg})
    _built(project)
    assert _everything_active(project) == []
    assert (project / "dist" / "images" / "sq.svg").is_file()


def test_a_citation_key_with_quotes_stays_inside_its_attribute(tmp_path: Path) -> None:
    """``@{a"onmouseover="x}`` (Pandoc's braced key): the key is the attribute's whole
    value, in every output."""
    key = 'a"onmouseover="x'
    project = _project(tmp_path, f"See [@{{{key}}}].\n")
    references = [{**REFERENCES[0], "id": key, "title": "Quoted"}]
    (project / "bibliography" / "refs.json").write_text(json.dumps(references + REFERENCES),
                                                         encoding="utf-8")
    _built(project)
    assert _everything_active(project) == []
    page = lxml_html.document_fromstring((project / "dist" / "hostile.html").read_bytes())
    assert [span.get("data-cites") for span in page.iter("span")
            if "citation" in (span.get("class") or "")] == ["doe99", key]
