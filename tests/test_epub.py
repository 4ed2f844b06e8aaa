"""The EPUB, end to end: real builds through the command line, real validators.

Books: the article (the repository's own project) and the multi-chapter sample
in tests/books/sample, each in apa, ieee and chicago-notes-bibliography, without
and with a cover image of their own (a copy of the project with book/cover.png).
Each of the 12 EPUBs is built once per session; EPUBCheck and DAISY Ace run once
on each, in parallel, while the structural tests read the files with lxml.
"""
from __future__ import annotations

import concurrent.futures
import os
import re
import shutil
import struct
import subprocess
import sys
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
from lxml import etree

from conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.external]  # full builds, EPUBCheck (Java), DAISY Ace

SAMPLE = ROOT / "tests" / "books" / "sample"
BOOKS = {"article": ROOT, "sample": SAMPLE}
SLUGS = {"article": "new-chapter-in-kazakhstan-u-s-relations", "sample": "rivers-and-cities"}
STYLES = ("apa", "ieee", "chicago-notes-bibliography")
COMBOS = [(book, style, cover) for book in BOOKS for style in STYLES for cover in (False, True)]
EPOCH = "1700000000"  # 2023-11-14T22:13:20Z

NS = {
    "opf": "http://www.idpf.org/2007/opf",
    "dc": "http://purl.org/dc/elements/1.1/",
    "x": "http://www.w3.org/1999/xhtml",
    "epub": "http://www.idpf.org/2007/ops",
    "ncx": "http://www.daisy.org/z3986/2005/ncx/",
    "c": "urn:oasis:names:tc:opendocument:xmlns:container",
}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"


def combo_id(combo: tuple[str, str, bool]) -> str:
    book, style, cover = combo
    return f"{book}-{style}-{'cover' if cover else 'nocover'}"


def build(project: Path, out: Path, *options: str, epoch: str | None = EPOCH,
          quiet: bool = True) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("SOURCE_DATE_EPOCH", None)
    if epoch is not None:
        env["SOURCE_DATE_EPOCH"] = epoch
    return subprocess.run([sys.executable, "-m", "builder", "build", str(project), "--to", "epub",
                           "--out", str(out), *(["-q"] if quiet else []), *options],
                          cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)


def png(width: int, height: int, pixel: Callable[[int, int], tuple[int, int, int]]) -> bytes:
    """A small RGB PNG, written by hand (zlib and struct)."""
    rows = b"".join(b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width))
                    for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9))
            + chunk(b"IEND", b""))


COVER_PNG = png(160, 256, lambda x, y: (40, 90, 60) if y < 180 else (230, 220, 190))


def copy_project(source: Path, target: Path) -> Path:
    for name in ("book", "bibliography", "images"):
        if (source / name).is_dir():
            shutil.copytree(source / name, target / name)
    return target


class Epub:
    """An EPUB's files, with its package, nav and NCX parsed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with zipfile.ZipFile(path) as archive:
            self.infos = archive.infolist()
            self.files = {name: archive.read(name) for name in archive.namelist()}
        container = etree.fromstring(self.files["META-INF/container.xml"])
        self.opf_path = container.xpath("//c:rootfile/@full-path", namespaces=NS)[0]
        self.base = PurePosixPath(self.opf_path).parent
        self.opf = etree.fromstring(self.files[self.opf_path])
        items = self.opf.xpath("//opf:item", namespaces=NS)
        self.manifest = {item.get("id"): item for item in items}
        self.spine = [self.manifest[ref.get("idref")].get("href")
                      for ref in self.opf.xpath("//opf:itemref", namespaces=NS)]
        nav = next(i for i in items if "nav" in (i.get("properties") or "").split())
        self.nav_href = nav.get("href")
        self.nav = self.xml(self.nav_href)
        self.ncx = self.xml(self.manifest[self.opf.xpath("//opf:spine/@toc", namespaces=NS)[0]]
                            .get("href"))

    def xml(self, href: str) -> Any:
        return etree.fromstring(self.files[str(self.base / href)])

    def documents(self) -> dict[str, Any]:
        return {i.get("href"): self.xml(i.get("href")) for i in self.manifest.values()
                if i.get("media-type") == "application/xhtml+xml"}

    def meta(self, prop: str) -> list[str]:
        return [m.text for m in self.opf.xpath(f'//opf:meta[@property="{prop}"]', namespaces=NS)]

    def dc(self, name: str) -> list[str]:
        return [e.text for e in self.opf.xpath(f"//dc:{name}", namespaces=NS)]


# --- Session fixtures: 12 builds, and the validators run once on each ----------------------


@pytest.fixture(scope="session")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, bool], Path]:
    found = {}
    for book, source in BOOKS.items():
        found[(book, False)] = source
        copy = copy_project(source, tmp_path_factory.mktemp(f"{book}-cover"))
        (copy / "book" / "cover.png").write_bytes(COVER_PNG)
        found[(book, True)] = copy
    return found


class Builds:
    """Each (book, style, cover) built once, on first use, two at a time."""

    def __init__(self, projects: dict[tuple[str, bool], Path],
                 factory: pytest.TempPathFactory) -> None:
        self.projects = projects
        self.factory = factory
        self.lock = threading.Lock()
        self.futures: dict[tuple[str, str, bool], concurrent.futures.Future[Path]] = {}
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=2)

    def _build(self, combo: tuple[str, str, bool]) -> Path:
        book, style, cover = combo
        out = self.factory.mktemp(combo_id(combo))
        result = build(self.projects[(book, cover)], out, "--style", style)
        assert result.returncode == 0, result.stderr
        return out / f"{SLUGS[book]}.epub"

    def future(self, combo: tuple[str, str, bool]) -> concurrent.futures.Future[Path]:
        with self.lock:
            if combo not in self.futures:
                self.futures[combo] = self.pool.submit(self._build, combo)
            return self.futures[combo]

    def __getitem__(self, combo: tuple[str, str, bool]) -> Path:
        return self.future(combo).result()


@pytest.fixture(scope="session")
def epubs(projects: dict[tuple[str, bool], Path],
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Builds]:
    builds = Builds(projects, tmp_path_factory)
    yield builds
    builds.pool.shutdown(wait=True)


@pytest.fixture(scope="session")
def validations(epubs: Builds) -> Iterator[dict[Any, concurrent.futures.Future[dict[str, Any]]]]:
    """EPUBCheck and Ace on every book, all queued at once; each test waits for its own."""
    from builder.check import ace_missing, run_ace, run_epubcheck

    pool = concurrent.futures.ThreadPoolExecutor(max_workers=3)
    results = {}
    for combo in COMBOS:
        epubs.future(combo)
    for combo in COMBOS:
        results[(combo, "epubcheck")] = pool.submit(lambda c=combo: run_epubcheck(epubs[c]))
        if ace_missing() is None:
            results[(combo, "ace")] = pool.submit(lambda c=combo: run_ace(epubs[c]))
    yield results
    pool.shutdown(wait=True)


@pytest.fixture(scope="session")
def book(epubs: Builds) -> Callable[..., Epub]:
    cache: dict[tuple[str, str, bool], Epub] = {}

    def get(name: str, style: str = "apa", cover: bool = False) -> Epub:
        key = (name, style, cover)
        if key not in cache:
            cache[key] = Epub(epubs[key])
        return cache[key]

    return get


# --- The validators ---------------------------------------------------------------------------


@pytest.mark.parametrize("combo", COMBOS, ids=combo_id)
def test_epubcheck_finds_nothing(validations, combo):  # type: ignore[no-untyped-def]
    report = validations[(combo, "epubcheck")].result()
    assert report["available"], report["reason"]
    problems = [m for m in report["messages"] if m["severity"] in ("FATAL", "ERROR", "WARNING")]
    assert (report["fatal"], report["error"], report["warning"]) == (0, 0, 0), problems


@pytest.mark.parametrize("combo", COMBOS, ids=combo_id)
def test_ace_finds_no_violation(validations, combo):  # type: ignore[no-untyped-def]
    from builder.check import ace_missing
    reason = ace_missing()
    if reason:
        pytest.skip(reason)
    report = validations[(combo, "ace")].result()
    assert report["available"], report["reason"]
    assert report["violations"] == 0, report["messages"]
    assert "dcterms:conformsTo" in report["a11y_metadata"].get("present", [])


def test_check_reports_missing_java_clearly(book):  # type: ignore[no-untyped-def]
    path = book("article").path
    code = ("import json, sys; from builder.check import check_epub; "
            "print(json.dumps(check_epub(sys.argv[1], ace=False)))")
    env = {"PATH": "/nonexistent", "HOME": os.environ.get("HOME", "/")}
    result = subprocess.run([sys.executable, "-c", code, str(path)], cwd=ROOT, capture_output=True,
                            text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert "Java is not installed: EPUBCheck needs it" in result.stdout
    assert '"passed": false' in result.stdout


# --- Structure: files, spine, navigation ------------------------------------------------------


@pytest.mark.parametrize("combo", COMBOS, ids=combo_id)
def test_files_spine_and_manifest_agree(epubs, combo):  # type: ignore[no-untyped-def]
    epub = Epub(epubs[combo])
    assert epub.infos[0].filename == "mimetype"
    assert epub.infos[0].compress_type == zipfile.ZIP_STORED and not epub.infos[0].extra
    assert epub.files["mimetype"] == b"application/epub+zip"
    listed = {str(epub.base / i.get("href")) for i in epub.manifest.values()}
    packed = set(epub.files) - {"mimetype", "META-INF/container.xml", epub.opf_path}
    assert listed == packed  # no orphan file, no missing one
    documents = [i.get("href") for i in epub.manifest.values()
                 if i.get("media-type") == "application/xhtml+xml"]
    assert sorted(documents) == sorted(epub.spine)  # every content document is read
    for href, tree in epub.documents().items():
        body = tree.find("x:body", NS)
        assert "".join(body.itertext()).strip() or body.xpath(".//x:img", namespaces=NS), href


def test_spine_is_the_reading_order(book):  # type: ignore[no-untyped-def]
    assert book("sample").spine == [
        "cover.xhtml", "title.xhtml", "nav.xhtml", "chapter-01.xhtml", "chapter-02.xhtml",
        "chapter-03.xhtml", "chapter-04.xhtml", "references.xhtml", "about.xhtml"]
    assert book("article").spine == [
        "cover.xhtml", "title.xhtml", "nav.xhtml", "chapter-01.xhtml", "references.xhtml",
        "about.xhtml"]


@pytest.mark.parametrize("name", BOOKS)
def test_landmarks_and_guide(book, name):  # type: ignore[no-untyped-def]
    epub = book(name)
    landmarks = {a.get(EPUB_TYPE): a.get("href") for a in epub.nav.xpath(
        '//x:nav[@epub:type="landmarks"]//x:a', namespaces=NS)}
    assert landmarks == {"cover": "cover.xhtml", "titlepage": "title.xhtml",
                         "toc": "nav.xhtml#nav-toc", "bodymatter": "chapter-01.xhtml",
                         "bibliography": "references.xhtml"}
    assert epub.nav.xpath('//x:nav[@epub:type="landmarks"]/@hidden', namespaces=NS)
    guide = {r.get("type"): r.get("href")
             for r in epub.opf.xpath("//opf:reference", namespaces=NS)}
    assert guide == {"cover": "cover.xhtml", "title-page": "title.xhtml",
                     "toc": "nav.xhtml#nav-toc", "text": "chapter-01.xhtml",
                     "bibliography": "references.xhtml"}


def test_toc_in_nav_and_ncx_is_the_same_outline(book):  # type: ignore[no-untyped-def]
    epub = book("sample", "chicago-notes-bibliography", True)

    def nav_tree(ol: Any) -> list[Any]:
        return [(li.find("x:a", NS).text, li.find("x:a", NS).get("href"),
                 nav_tree(li.find("x:ol", NS)) if li.find("x:ol", NS) is not None else [])
                for li in ol.findall("x:li", NS)]

    def ncx_tree(parent: Any) -> list[Any]:
        return [(p.find("ncx:navLabel/ncx:text", NS).text, p.find("ncx:content", NS).get("src"),
                 ncx_tree(p)) for p in parent.findall("ncx:navPoint", NS)]

    toc = nav_tree(epub.nav.xpath('//x:nav[@epub:type="toc"]/x:ol', namespaces=NS)[0])
    assert toc == ncx_tree(epub.ncx.find("ncx:navMap", NS))
    assert [entry[0] for entry in toc] == ["Introduction", "Methods", "Results", "Conclusion",
                                           "Bibliography", "About the authors"]  # two bios
    methods = toc[1]
    assert methods[2] == [
        ("Data sources", "chapter-02.xhtml#data-sources",
         [("Field visits", "chapter-02.xhtml#field-visits", [])]),
        ("Analysis", "chapter-02.xhtml#analysis", [])]
    orders = [int(o) for o in epub.ncx.xpath("//ncx:navPoint/@playOrder", namespaces=NS)]
    assert orders == list(range(1, len(orders) + 1))
    assert epub.ncx.xpath('//ncx:meta[@name="dtb:depth"]/@content', namespaces=NS) == ["3"]
    assert epub.ncx.xpath('//ncx:meta[@name="dtb:uid"]/@content', namespaces=NS) == \
        epub.dc("identifier")


# --- Metadata ---------------------------------------------------------------------------------


def test_sample_metadata(book):  # type: ignore[no-untyped-def]
    epub = book("sample")
    assert epub.opf.get(XML_LANG) == "en"
    titles = {t.get("id"): t.text for t in epub.opf.xpath("//dc:title", namespaces=NS)}
    assert titles == {"book-title": "Rivers and Cities",
                      "book-subtitle": "Water and Urban Growth in Central Asia"}
    refines = {(m.get("refines"), m.get("property")): m.text
               for m in epub.opf.xpath("//opf:meta[@refines]", namespaces=NS)}
    assert refines[("#book-title", "title-type")] == "main"
    assert refines[("#book-subtitle", "title-type")] == "subtitle"
    creators = {c.get("id"): c.text for c in epub.opf.xpath("//dc:creator", namespaces=NS)}
    assert creators == {"creator1": "Aigerim Sadykova", "creator2": "Tomás Herrera"}
    for ident in creators:
        role = epub.opf.xpath(f'//opf:meta[@refines="#{ident}"][@property="role"]', namespaces=NS)
        assert role[0].text == "aut" and role[0].get("scheme") == "marc:relators"
    assert epub.dc("language") == ["en"]
    assert epub.dc("date") == ["2023-09-15"]
    assert epub.dc("publisher") == ["Steppe Institute Press"]
    assert epub.dc("subject") == ["water", "cities", "Central Asia"]
    assert epub.dc("description")[0].startswith("A short sample book on how rivers shaped")
    assert epub.dc("identifier") == ["urn:isbn:9783161484100"]
    assert epub.opf.get("unique-identifier") == \
        epub.opf.xpath("//dc:identifier/@id", namespaces=NS)[0]
    assert epub.meta("dcterms:modified") == ["2023-11-14T22:13:20Z"]


def test_accessibility_metadata(book):  # type: ignore[no-untyped-def]
    epub = book("sample", "chicago-notes-bibliography", True)
    assert set(epub.meta("schema:accessMode")) == {"textual", "visual"}
    assert set(epub.meta("schema:accessModeSufficient")) == {"textual", "textual,visual"}
    assert set(epub.meta("schema:accessibilityFeature")) >= {
        "structuralNavigation", "tableOfContents", "readingOrder", "alternativeText"}
    assert epub.meta("schema:accessibilityHazard") == ["none"]
    assert "table of contents" in epub.meta("schema:accessibilitySummary")[0]
    assert epub.meta("dcterms:conformsTo") == ["EPUB Accessibility 1.1 - WCAG 2.1 Level AA"]


def test_identifier_is_stable_without_one_given(book):  # type: ignore[no-untyped-def]
    ids = {tuple(book("article", style, cover).dc("identifier"))
           for style in STYLES for cover in (False, True)}
    assert len(ids) == 1
    assert ids.pop()[0].startswith("urn:uuid:")


@pytest.mark.parametrize("cover", [False, True], ids=["generated", "own"])
def test_cover_image(book, projects, cover):  # type: ignore[no-untyped-def]
    epub = book("sample", "apa", cover)
    image = [i for i in epub.manifest.values() if "cover-image" in (i.get("properties") or "")]
    assert len(image) == 1
    named = epub.opf.xpath('//opf:meta[@name="cover"]/@content', namespaces=NS)
    assert named == [image[0].get("id")]
    page = epub.xml("cover.xhtml")
    img = page.xpath("//x:img", namespaces=NS)[0]
    assert img.get("src") == image[0].get("href")
    assert img.get("alt").startswith("Cover: Rivers and Cities")
    data = epub.files[str(epub.base / image[0].get("href"))]
    if cover:
        assert image[0].get("media-type") == "image/png"
        assert data == (projects[("sample", True)] / "book" / "cover.png").read_bytes()
    else:
        assert image[0].get("media-type") == "image/svg+xml"
        svg = etree.fromstring(data)
        assert svg.findtext("{http://www.w3.org/2000/svg}title").startswith("Rivers and Cities")
        assert len(svg.xpath("//*[local-name()='path']")) >= 5  # the text, drawn as outlines


# --- Content: ids, links, notes, language -----------------------------------------------------


@pytest.mark.parametrize("combo", COMBOS, ids=combo_id)
def test_ids_unique_and_every_internal_link_resolves(epubs, combo):  # type: ignore[no-untyped-def]
    epub = Epub(epubs[combo])
    documents = epub.documents()
    ids = {href: [str(i) for i in tree.xpath("//@id")] for href, tree in documents.items()}
    everywhere = [i for found in ids.values() for i in found if not i.startswith("nav-")]
    assert len(everywhere) == len(set(everywhere)), "ids repeated across the book"
    targets = {href: set(found) for href, found in ids.items()}
    links = 0
    for href, tree in documents.items():
        for attribute in tree.xpath("//x:a/@href|//x:img/@src|//x:link/@href", namespaces=NS):
            parsed = urlparse(str(attribute))
            if parsed.scheme:
                continue
            target = str(PurePosixPath(href).parent / unquote(parsed.path)) if parsed.path else href
            target = target.removeprefix("./")
            assert str(epub.base / target) in epub.files, (href, attribute)
            if parsed.fragment:
                assert unquote(parsed.fragment) in targets[target], (href, attribute)
            links += 1
    for src in epub.ncx.xpath("//ncx:content/@src", namespaces=NS):
        path, _, fragment = str(src).partition("#")
        assert not fragment or fragment in targets[path], src
    assert links > 20


@pytest.mark.parametrize("style", STYLES)
def test_citations_link_to_the_reference_list(book, style):  # type: ignore[no-untyped-def]
    epub = book("sample", style)
    references = epub.xml("references.xhtml")
    entries = set(references.xpath('//x:div[@class="csl-entry"]/@id', namespaces=NS))
    assert len(entries) == 7
    cited = set()
    for n in range(1, 5):
        chapter = epub.xml(f"chapter-{n:02d}.xhtml")
        for link in chapter.xpath('//x:a[@role="doc-biblioref"]', namespaces=NS):
            file, _, target = link.get("href").partition("#")
            assert file == "references.xhtml" and target in entries
            cited.add(target)
    assert cited == entries


@pytest.mark.parametrize("combo", COMBOS, ids=combo_id)
def test_every_noteref_has_its_aside_in_the_same_file(epubs, combo):  # type: ignore[no-untyped-def]
    epub = Epub(epubs[combo])
    notes = 0
    for href, tree in epub.documents().items():
        asides = {a.get("id"): a for a in tree.xpath('//x:aside[@epub:type="footnote"]',
                                                      namespaces=NS)}
        refs = tree.xpath('//x:a[@epub:type="noteref"]', namespaces=NS)
        for ref in refs:
            assert ref.get("href").startswith("#"), (href, ref.get("href"))
            assert ref.get("href")[1:] in asides, (href, ref.get("href"))
            assert ref.get("role") == "doc-noteref"
        ref_ids = {r.get("id") for r in refs}
        for ident, aside in asides.items():
            assert aside.get("role") == "doc-footnote"
            back = aside.xpath('.//x:a[@role="doc-backlink"]/@href', namespaces=NS)
            assert back and all(b[1:] in ref_ids for b in back), (href, ident)
            assert aside.xpath('.//x:span[@class="footnote-label"]', namespaces=NS)
        notes += len(asides)
    book, style, _ = combo
    expected = {("article", "chicago-notes-bibliography"): 10, ("article", "apa"): 0,
                ("article", "ieee"): 0, ("sample", "apa"): 5, ("sample", "ieee"): 5,
                ("sample", "chicago-notes-bibliography"): 5 + 16}
    assert notes == expected[(book, style)]


@pytest.mark.parametrize("combo", COMBOS, ids=combo_id)
def test_language_on_package_and_every_file(epubs, combo):  # type: ignore[no-untyped-def]
    epub = Epub(epubs[combo])
    assert epub.opf.get(XML_LANG) == "en"
    assert epub.ncx.get(XML_LANG) == "en"
    for href, tree in epub.documents().items():
        assert tree.get("lang") == "en" and tree.get(XML_LANG) == "en", href
        assert tree.findtext("x:head/x:title", namespaces=NS), href


def test_headings_in_order_and_table_headers(book):  # type: ignore[no-untyped-def]
    epub = book("sample")
    for href, tree in epub.documents().items():
        level = 1
        for heading in tree.xpath("//x:h1|//x:h2|//x:h3|//x:h4|//x:h5|//x:h6", namespaces=NS):
            current = int(heading.tag[-1])
            assert current <= level + 1, (href, heading.text)
            level = current
    table = epub.xml("chapter-02.xhtml").xpath("//x:table", namespaces=NS)[0]
    assert [th.get("scope") for th in table.xpath(".//x:th", namespaces=NS)] == ["col"] * 4
    figure = epub.xml("chapter-03.xhtml").xpath("//x:figure", namespaces=NS)[0]
    assert figure.xpath("x:img/@alt", namespaces=NS)[0].startswith("Bar chart")
    assert figure.xpath("x:img/@src", namespaces=NS) == ["images/water-use.svg"]
    assert figure.findtext("x:figcaption", namespaces=NS).startswith("Figure 1.")


# --- Stylesheet and fonts ---------------------------------------------------------------------


def test_stylesheet_is_reflowable(book):  # type: ignore[no-untyped-def]
    epub = book("sample")
    css = epub.files[str(epub.base / "book.css")].decode("utf-8")
    rules = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    assert "@page" not in rules
    assert "!important" not in rules
    # (not white-space)
    colours = r"#[0-9a-fA-F]{3,6}\b|rgba?\(|hsla?\(|\b(?:black|white|gray|grey)\b(?!-)"
    assert not re.search(colours, rules)
    assert not re.search(r"\d(?:px|pt|pc|cm|mm|in|q)\b", rules, flags=re.IGNORECASE)
    assert "var(" not in rules
    for document in epub.documents().values():
        links = document.xpath("//x:link/@href", namespaces=NS)
        assert links == ["book.css"]


def test_fonts_embedded_declared_and_subset(book):  # type: ignore[no-untyped-def]
    import io

    from fontTools.ttLib import TTFont

    from builder.themes import load_theme

    epub = book("sample")
    css = epub.files[str(epub.base / "book.css")].decode("utf-8")
    sources = re.findall(r'src: url\("([^"]+)"\)', css)
    assert len(sources) == 12  # 4 faces each of PT Serif, PT Sans and IBM Plex Mono
    fonts = {i.get("href"): i.get("media-type") for i in epub.manifest.values()
             if i.get("href").startswith("fonts/")}
    assert sorted(fonts) == sorted(sources) and set(fonts.values()) == {"font/ttf"}
    text = set()
    for tree in epub.documents().values():
        text.update("".join(tree.find("x:body", NS).itertext()))
    text = {c for c in text if c.isprintable()}
    originals = {f.path.name: f.path for f in load_theme("report", ROOT).fonts}
    for href in sources:
        data = epub.files[str(epub.base / href)]
        font = TTFont(io.BytesIO(data))
        cmap = font.getBestCmap()
        covered = TTFont(originals[PurePosixPath(href).name]).getBestCmap()
        assert {c for c in text if ord(c) in covered} <= {chr(u) for u in cmap}, href
        assert len(data) < 120_000, href  # the full PT fonts are 340–470 kB each
        assert "open font license" in str(font["name"].getDebugName(13) or "").lower()


# --- Reproducibility, warnings ----------------------------------------------------------------


@pytest.mark.parametrize("name,cover", [("sample", True), ("article", False)])
def test_rebuild_is_byte_identical(epubs, projects, tmp_path, name, cover):  # type: ignore[no-untyped-def]
    first = epubs[(name, "chicago-notes-bibliography", cover)]
    result = build(projects[(name, cover)], tmp_path, "--style", "chicago-notes-bibliography",
                   "--no-cache")  # every stage done again, none taken from the first build
    assert result.returncode == 0, result.stderr
    second = tmp_path / first.name
    assert second.read_bytes() == first.read_bytes()
    with zipfile.ZipFile(second) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2023, 11, 14, 22, 13, 20)}


def test_missing_alt_text_warns_and_strict_refuses(tmp_path):  # type: ignore[no-untyped-def]
    project = copy_project(SAMPLE, tmp_path / "project")
    chapter = project / "book" / "03-results.md"
    text = chapter.read_text(encoding="utf-8")
    text = re.sub(r'alt="[^"]*"', 'alt=""', text)
    text += "\nA second picture of the same chart: ![](images/water-use.svg)\n"
    text += "\n##### Too deep\n\nA heading that skips two levels.\n"
    chapter.write_text(text, encoding="utf-8")
    result = build(project, tmp_path / "out", quiet=False)  # -q prints errors only
    assert result.returncode == 0, result.stderr
    assert re.search(r"03-results\.md:8: warning: image 'images/water-use\.svg' has no alt text",
                     result.stderr), result.stderr
    assert "heading h5 'Too deep' follows h3: a level is skipped" in result.stderr
    epub = Epub(tmp_path / "out" / "rivers-and-cities.epub")
    assert epub.meta("dcterms:conformsTo") == []
    assert "alternativeText" not in epub.meta("schema:accessibilityFeature")
    assert epub.meta("schema:accessModeSufficient") == ["textual,visual"]
    strict = build(project, tmp_path / "strict", "--strict")
    assert strict.returncode == 1
    assert "03-results.md:8: error: image 'images/water-use.svg' has no alt text" in strict.stderr
    assert "Traceback" not in strict.stderr
    assert not (tmp_path / "strict" / "rivers-and-cities.epub").exists()
