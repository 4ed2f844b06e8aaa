"""The EPUB 3: the document cut into one XHTML file per part, packed by ebooklib.

Steps:

1. cut the document into parts: cover, title page, chapters, references, about;
2. turn each chapter's endnotes into popup footnotes in the same file
   (``a epub:type="noteref"`` → ``aside epub:type="footnote"``, with a link back);
3. embed the images the chapters use, and the cover (the project's
   ``book/cover.png|jpg|jpeg|svg``, else one generated from the title page);
4. make ids unique across the book and point every internal link at the file
   that holds its target;
5. audit what the accessibility metadata claims (headings in order, text
   alternatives, table headers, language) and write it;
6. the navigation document (table of contents and landmarks) and toc.ncx from
   the same outline; the stylesheet with the theme's fonts, subset to the
   characters the book uses;
7. ebooklib writes the package; the zip is repacked reproducibly (mimetype
   first and stored, fixed timestamps and order), so two builds with
   SOURCE_DATE_EPOCH give the same bytes.

Every XHTML file is serialized here, as namespaced XHTML, and handed to ebooklib
as a plain item: ebooklib's own XHTML handling re-parses content as HTML and
loses ``epub:type``, heads and body attributes.
"""
from __future__ import annotations

import base64
import binascii
import copy
import datetime as dt
import functools
import hashlib
import io
import os
import re
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlparse

from ebooklib import epub
from lxml import etree
from lxml import html as lxml_html

from .. import __version__
from .. import document as doctree
from ..cache import Cache, code_version, digest, file_digest
from ..errors import BuildError, Warning_, display_path
from ..files import Gate
from ..images import COVER_NAMES
from ..model import Chapter
from ..outputs import write_bytes
from ..render import Book, render_document, terms_for
from ..sanitize import clean_svg
from ..themes import FontFace, font_face_css
from . import Options, Written
from .cover import CoverText, svg_cover, theme_accent

XHTML_NS = "http://www.w3.org/1999/xhtml"
EPUB_NS = "http://www.idpf.org/2007/ops"
XML_NS = "http://www.w3.org/XML/1998/namespace"
SVG_NS = "http://www.w3.org/2000/svg"
MATHML_NS = "http://www.w3.org/1998/Math/MathML"
EPUB_TYPE = f"{{{EPUB_NS}}}type"
XML_LANG = f"{{{XML_NS}}}lang"

CONFORMANCE = "EPUB Accessibility 1.1 - WCAG 2.1 Level AA"
IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".gif": "image/gif", ".svg": "image/svg+xml", ".webp": "image/webp"}
RTL_LANGUAGES = {"ar", "arc", "ckb", "dv", "fa", "he", "ps", "sd", "ug", "ur", "yi"}
# Characters every font keeps besides the book's own: what reading systems and
# CSS generated content may add (list numbers, quotes, dashes, ellipsis).
ALWAYS_KEPT = "".join(map(chr, range(0x20, 0x7F))) + "\u00a0\u00b7\u2013\u2014\u2018\u2019" \
    "\u201c\u201d\u2022\u2026\u21a9\ufe0e\u00ad\u2010"

@dataclass
class _Part:
    """One XHTML file of the book."""

    file_name: str
    title: str
    kind: str  # cover, titlepage, chapter, references, about
    body: Any  # lxml.html element: the part's content, the child of <body>
    source: Path | None = None  # the Markdown file of a chapter
    chapter: Chapter | None = None  # a chapter's: its headings make the navigation
    properties: list[str] = field(default_factory=list)


@dataclass
class _Resource:
    """Any other file of the package: images, fonts, the stylesheet."""

    uid: str
    file_name: str
    media_type: str
    data: bytes
    properties: list[str] = field(default_factory=list)


@dataclass
class _Audit:
    """What the accessibility metadata may claim, found in the files themselves."""

    images: int = 0
    images_without_alt: list[str] = field(default_factory=list)
    heading_skips: list[str] = field(default_factory=list)
    tables_without_headers: list[str] = field(default_factory=list)
    files_without_lang: list[str] = field(default_factory=list)

    @property
    def conforms(self) -> bool:
        return not (self.images_without_alt or self.heading_skips
                    or self.tables_without_headers or self.files_without_lang)


class _Warnings:
    """The EPUB's warnings, each once (``--strict`` is the build's to apply)."""

    def __init__(self) -> None:
        self.messages: list[Warning_] = []

    def add(self, message: str, path: Path | None = None, line: int | None = None,
            hint: str | None = None) -> None:
        warning = Warning_(message, path, line, hint)
        if warning not in self.messages:
            self.messages.append(warning)


def write(book: Book, dest: Path, options: Options) -> Written:
    """Write the EPUB; return its warnings (images left out, links unlinked...)."""
    warnings = _Warnings()
    meta = book.metadata
    terms = _terms(meta.lang)
    tree = lxml_html.document_fromstring(render_document(book, "epub", []))
    parts = _cut(tree, book, terms, warnings)
    resources: list[_Resource] = []
    cover_image = _cover_image(book, options, resources)
    _embed_images(parts, book, options, resources, warnings)
    parts.insert(0, _cover_part(book, cover_image, terms))
    _unique_ids(parts, warnings)
    _retarget_links(parts, warnings)
    audit = _audit(parts)  # (the build warned of each problem at its line: document.checks)
    outline = _outline(parts)
    documents = {part.file_name: _xhtml(part, meta.lang) for part in parts}
    nav = _nav_document(book, parts, outline, terms)
    ncx = _ncx(book, outline)
    css = _stylesheet(book)
    fonts = _subset_fonts(book.theme.fonts, [*documents.values(), nav, css.encode("utf-8")],
                          options.cache or Cache(None))
    package = _package(book, parts, documents, nav, ncx, css, fonts, resources, cover_image,
                       audit, terms)
    raw = io.BytesIO()
    epub.write_epub(raw, package, {"epub3_pages": False, "epub3_landmark": False,
                                   "mtime": _modified(options), "raise_exceptions": True})
    write_bytes(dest, _repack(raw.getvalue(), meta.lang, options))
    return Written(warnings.messages)


def _terms(lang: str) -> dict[str, str]:
    return terms_for(lang)


# --- 1. Cutting the document into parts ---------------------------------------------


def _cut(tree: Any, book: Book, terms: dict[str, str], warnings: _Warnings) -> list[_Part]:
    parts = []
    chapters = iter(book.chapters)
    number = 0
    for element in tree.xpath("//body/*[@data-part]"):
        kind = element.attrib.pop("data-part")
        if kind == "titlepage":
            element.tag = "section"  # a <header> would make the title page a banner landmark
            element.set(EPUB_TYPE, "titlepage")
            parts.append(_Part("title.xhtml", terms["titlepage"], kind, element))
        elif kind == "chapter":
            chapter = next(chapters, None)
            source = chapter.source if chapter else None
            number += 1
            if not _has_content(element):
                warnings.add("the chapter is empty: it is left out of the EPUB", source)
                continue
            element.set(EPUB_TYPE, "chapter")
            element.set("role", "doc-chapter")
            title = (chapter.title if chapter and chapter.title else book.metadata.title
                     if len(book.chapters) == 1 else terms["chapter"].format(n=number))
            parts.append(_Part(f"chapter-{number:02d}.xhtml", title, kind, element, source,
                               chapter))
        elif kind == "list":  # of figures, of tables
            element.set(EPUB_TYPE, "loi" if "list-of-figures" in element.get("class", "")
                        else "lot")
            _promote_headings(element)
            name = element.get("id") or "list"
            parts.append(_Part(f"{name}.xhtml", _heading(element) or name, kind, element))
        elif kind == "references":
            element.set(EPUB_TYPE, "bibliography")
            _promote_headings(element)
            parts.append(_Part("references.xhtml", _heading(element) or book.term("references"),
                               kind, element))
        elif kind == "about":
            element.set(EPUB_TYPE, "backmatter")
            _promote_headings(element)
            parts.append(_Part("about.xhtml", _heading(element) or book.term("about"), kind,
                               element))
    return parts


def _has_content(element: Any) -> bool:
    return bool(element.text_content().strip() or element.xpath(".//img|.//svg|.//math"))


def _heading(element: Any) -> str | None:
    found = element.xpath(".//h1|.//h2|.//h3")
    return _text_of(found[0]) if found else None


def _text_of(element: Any) -> str:
    """The text of a heading without its note calls."""
    heading = copy.deepcopy(element)
    heading.tail = None
    for ref in heading.xpath('.//a[contains(concat(" ", @class, " "), " footnote-ref ")]'):
        ref.drop_tree()
    return " ".join(heading.text_content().split())


def _promote_headings(element: Any) -> None:
    """A back-matter file starts at h1: its own document, whatever level the page gave it."""
    headings = element.xpath(".//h1|.//h2|.//h3|.//h4|.//h5|.//h6")
    if not headings:
        return
    shift = min(int(h.tag[1]) for h in headings) - 1
    for heading in headings:
        heading.tag = f"h{int(heading.tag[1]) - shift}"


# --- 3. Images and the cover ---------------------------------------------------------


def _embed_images(parts: list[_Part], book: Book, options: Options, resources: list[_Resource],
                  warnings: _Warnings) -> None:
    """Every ``<img>`` of the chapters becomes a file of the package, or its alt text."""
    root = Path(str(options.project_root)).resolve()
    by_source: dict[str, str] = {}
    lines: dict[tuple[Path | None, str], int | None] = {
        (chapter.source, node.src): line for chapter in book.chapters
        for line, node in reversed(list(doctree.walk.located_inlines(chapter.tree)))
        if isinstance(node, doctree.nodes.Image)}  # each image's first line
    for part in parts:
        base = part.source.parent if part.source else root
        for img in part.body.xpath(".//img"):
            src = (img.get("src") or "").strip()
            line = lines.get((part.source, img.get("src") or ""))
            found = _load_image(src, base, root)
            if isinstance(found, str):
                warnings.add(f"image '{src}' left out of the EPUB: {found}", part.source, line)
                _replace_with_alt(img)
                continue
            name, media_type, data = found
            key = f"{media_type}:{hashlib.sha256(data).hexdigest()}"
            if key not in by_source:
                file_name = _unique_file_name(f"images/{name}", {r.file_name for r in resources})
                uid = "img-" + re.sub(r"[^A-Za-z0-9_-]", "-", Path(file_name).stem)
                uid = _unique(uid, {r.uid for r in resources})
                resources.append(_Resource(uid, file_name, media_type, data))
                by_source[key] = file_name
            img.set("src", by_source[key])


def _load_image(src: str, base: Path, root: Path) -> tuple[str, str, bytes] | str:
    """(file name, media type, bytes) of an image, or why it cannot be embedded."""
    if not src:
        return "it has no src"
    parsed = urlparse(src)
    if parsed.scheme == "data":
        header, _, payload = src[5:].partition(",")
        media_type = header.split(";")[0]
        suffix = next((s for s, t in IMAGE_TYPES.items() if t == media_type), None)
        if suffix is None:
            return f"'{media_type}' is not an image type EPUB readers support"
        try:
            data = base64.b64decode(payload) if header.endswith(";base64") \
                else unquote(payload).encode("utf-8")
        except (binascii.Error, ValueError):
            return "its data: URL is not valid base64"
        if media_type == "image/svg+xml":
            cleaned = clean_svg(data)
            if cleaned is None:
                return "its data: URL is not an SVG image that can be read"
            data = cleaned
        return f"image-{hashlib.sha256(data).hexdigest()[:12]}{suffix}", media_type, data
    if parsed.scheme in ("http", "https"):
        return "remote images are not embedded (save the image in the project)"
    if parsed.scheme and len(parsed.scheme) > 1:
        return f"'{parsed.scheme}:' URLs are not supported"
    relative = unquote(parsed.path)
    candidates = [base / relative, root / relative]
    path = next((p for p in candidates if os.path.lexists(p)), None)
    if path is None:
        return "no such file (paths are relative to the Markdown file or the project)"
    gate = Gate(root)
    if not gate.allows(path):
        return "it is outside the project"
    media_type = IMAGE_TYPES.get(path.suffix.lower())
    if media_type is None:
        return f"'{path.suffix}' is not an image type EPUB readers support " \
               f"(use {', '.join(sorted(IMAGE_TYPES))})"
    try:
        data = gate.read_bytes(path, "image")
    except BuildError as exc:
        return exc.message
    if media_type == "image/svg+xml":
        cleaned = clean_svg(data)  # no scripts, handlers or outside references
        if cleaned is None:
            return "it is not an SVG image that can be read"
        data = cleaned
    return path.name, media_type, data


def _replace_with_alt(img: Any) -> None:
    span = lxml_html.Element("span", {"class": "missing-image"})
    span.text = img.get("alt") or ""
    span.tail = img.tail
    img.getparent().replace(img, span)


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}-{n}"
    return candidate


def _unique_file_name(name: str, taken: set[str]) -> str:
    path = Path(name)
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = str(path.with_name(f"{path.stem}-{n}{path.suffix}"))
    return candidate


def _fragment(ident: str) -> str:
    """An id as a URL fragment: only what a URL cannot hold is escaped."""
    return re.sub(r'[\s"#%<>\\^`{|}]', lambda m: quote(m.group()), ident)


def _cover_image(book: Book, options: Options, resources: list[_Resource]) -> _Resource:
    """The project's ``book/cover.*``, else a cover generated from the title page."""
    folder = Path(str(options.project_root)) / "book"
    for name in COVER_NAMES:
        path = folder / name
        if os.path.lexists(path):  # (checked in the build's first phase: see builder.images)
            suffix = path.suffix.lower()
            data = Gate(Path(str(options.project_root))).read_bytes(path, "image")
            if suffix == ".svg":
                data = clean_svg(data) or b""
            image = _Resource("cover-image", f"images/cover{suffix}", IMAGE_TYPES[suffix],
                              data, ["cover-image"])
            break
    else:
        meta = book.metadata
        footer = " · ".join(x for x in (meta.publisher, (meta.date or "")[:4]) if x)
        data = svg_cover(CoverText(meta.title, meta.subtitle, tuple(a.name for a in meta.authors),
                                   meta.category, footer or None),
                         heading_font=_face(book.theme.fonts, 700, "normal", heading=True),
                         text_font=_face(book.theme.fonts, 400, "normal"),
                         italic_font=_face(book.theme.fonts, 400, "italic"),
                         accent=theme_accent(book.theme.css("base.css")))
        image = _Resource("cover-image", "images/cover.svg", "image/svg+xml", data, ["cover-image"])
    resources.insert(0, image)
    return image


def _face(fonts: tuple[FontFace, ...], weight: int, style: str, heading: bool = False) -> Path:
    """A font file of the theme: the heading (sans) family or the text family."""
    families = list(dict.fromkeys(f.family for f in fonts))
    if not families:
        raise BuildError("the theme has no fonts to set the generated cover in",
                         hint="add fonts to the theme's theme.yml, or a cover image as "
                              "book/cover.png")
    if heading:
        family = next((f for f in families if "sans" in f.lower()), families[-1])
    else:
        family = next((f for f in families if "sans" not in f.lower()), families[0])
    return next(f.path for f in fonts if f.family == family and f.weight == weight
                and f.style == style)


def _cover_part(book: Book, image: _Resource, terms: dict[str, str]) -> _Part:
    meta = book.metadata
    title = meta.title + (f": {meta.subtitle}" if meta.subtitle else "")
    alt = terms["cover_alt"].format(title=title)
    if meta.authors:
        alt += f" — {terms['by']} {', '.join(a.name for a in meta.authors)}"
    section = lxml_html.Element("section", {"class": "cover-page", EPUB_TYPE: "cover"})
    etree.SubElement(section, "img", {"src": image.file_name, "alt": alt, "role": "doc-cover"})
    return _Part("cover.xhtml", terms["cover"], "cover", section)


# --- 4. Ids and links -----------------------------------------------------------------


RESERVED_IDS = {"nav-toc", "nav-landmarks"}


def _unique_ids(parts: list[_Part], warnings: _Warnings) -> None:
    """An id used twice in the book (raw HTML can repeat one) gets a suffix."""
    seen = set(RESERVED_IDS)
    for part in parts:
        for element in part.body.xpath("descendant-or-self::*[@id]"):
            ident = element.get("id")
            if ident in seen:
                new = _unique(ident, seen)
                warnings.add(f"id '{ident}' is used more than once; the second is now '{new}'",
                             part.source)
                element.set("id", new)
                ident = new
            seen.add(ident)


def _retarget_links(parts: list[_Part], warnings: _Warnings) -> None:
    """``#id`` links point at the file holding the id; other relative links are unlinked."""
    where: dict[str, str] = {}
    for part in parts:
        for ident in part.body.xpath("descendant-or-self::*/@id"):
            where[str(ident)] = part.file_name
    for part in parts:
        for link in part.body.xpath(".//a[@href]"):
            href = link.get("href")
            parsed = urlparse(href)
            if parsed.scheme or href.startswith("//"):
                continue  # http(s):, mailto: ... stay as they are
            if href.startswith("#"):
                target = unquote(href[1:])
                home = where.get(target)
                if home is not None:
                    link.set("href", ("" if home == part.file_name else home) + "#"
                             + _fragment(target))
                    continue
                warnings.add(f"link to '#{target}' has no target in the book: unlinked",
                             part.source)
            else:
                warnings.add(f"link to '{href}' is not part of the book: unlinked", part.source)
            del link.attrib["href"]


# --- 5. Accessibility audit -----------------------------------------------------------


def _audit(parts: list[_Part]) -> _Audit:
    audit = _Audit()
    for part in parts:
        where = display_path(part.source) if part.source else part.file_name
        for img in part.body.xpath(".//img"):
            audit.images += 1
            decorative = img.get("role") in ("presentation", "none")
            if not (img.get("alt") or "").strip() and not decorative:
                audit.images_without_alt.append(f"{where}: image '{img.get('src')}'")
        level = 1
        for heading in part.body.xpath(".//h1|.//h2|.//h3|.//h4|.//h5|.//h6"):
            if heading.xpath("ancestor::aside"):
                continue
            current = int(heading.tag[1])
            if current > level + 1:
                audit.heading_skips.append(f"{where}: heading h{current} '{_text_of(heading)}' "
                                           f"follows h{level}: a level is skipped")
            level = current
        for table in part.body.xpath(".//table"):
            if not table.xpath(".//th"):
                audit.tables_without_headers.append(f"{where}: a table has no header cells")
            for th in table.xpath("./thead//th"):
                th.set("scope", th.get("scope") or "col")
        for element in part.body.xpath(".//*[@lang]"):
            if not element.get("lang").strip():
                audit.files_without_lang.append(f"{where}: an empty lang attribute")
    return audit


# --- 6. Serializing: XHTML, navigation, NCX, stylesheet, fonts ------------------------------


def _xhtml(part: _Part, lang: str) -> bytes:
    """One part as an XHTML content document."""
    root = etree.Element(f"{{{XHTML_NS}}}html", nsmap={None: XHTML_NS, "epub": EPUB_NS})
    _set_lang(root, lang)
    head = etree.SubElement(root, f"{{{XHTML_NS}}}head")
    etree.SubElement(head, f"{{{XHTML_NS}}}meta", {"charset": "utf-8"})
    etree.SubElement(head, f"{{{XHTML_NS}}}title").text = part.title
    etree.SubElement(head, f"{{{XHTML_NS}}}link",
                     {"href": "book.css", "rel": "stylesheet", "type": "text/css"})
    body = etree.SubElement(root, f"{{{XHTML_NS}}}body")
    if part.kind == "cover":
        body.set("class", "cover")
    content = _namespaced(part.body, XHTML_NS, part.properties)
    if part.kind == "nav":  # the nav elements themselves, not the div holding them
        body.extend(list(content))
    else:
        body.append(content)
    return _serialize(root)


def _set_lang(root: Any, lang: str) -> None:
    root.set("lang", lang)
    root.set(XML_LANG, lang)
    if lang.split("-")[0].lower() in RTL_LANGUAGES:
        root.set("dir", "rtl")


def _serialize(root: Any) -> bytes:
    return etree.tostring(root, encoding="utf-8", xml_declaration=True,
                          doctype="<!DOCTYPE html>", pretty_print=False) + b"\n"


def _namespaced(element: Any, ns: str, properties: list[str]) -> Any:
    """A copy of an lxml.html element (no namespace) in XHTML, with SVG and MathML kept."""
    tag = element.tag.lower()
    outer = ns
    if tag == "svg":
        ns = SVG_NS
        if "svg" not in properties:
            properties.append("svg")
    elif tag == "math":
        ns = MATHML_NS
        if "mathml" not in properties:
            properties.append("mathml")
    # an element that starts SVG or MathML declares it as the default namespace (no ns0:)
    copy = etree.Element(f"{{{ns}}}{tag}", nsmap={None: ns} if ns != outer else None)
    for name, value in element.attrib.items():
        name = _attribute_name(name)
        if name is not None and name != "xmlns":  # (the namespace is the element's own)
            copy.set(name, value)
            if name == "lang" and ns == XHTML_NS:  # both, as the root has (EPUB 3, XHTML)
                copy.set(XML_LANG, value)
    copy.text = element.text
    for child in element:
        if not isinstance(child.tag, str):  # comments and processing instructions
            if len(copy):
                copy[-1].tail = (copy[-1].tail or "") + (child.tail or "")
            else:
                copy.text = (copy.text or "") + (child.tail or "")
            continue
        if child.tag.lower() == "script":
            continue
        converted = _namespaced(child, ns, properties)
        converted.tail = child.tail
        copy.append(converted)
    return copy


@functools.lru_cache(maxsize=1024)
def _attribute_name(name: str) -> str | None:
    if name.startswith("{"):
        return name
    if name in ("xml:lang", "lang"):
        return XML_LANG if name == "xml:lang" else "lang"
    if name == "epub:type":
        return EPUB_TYPE
    if ":" in name or name.startswith("on"):
        return None  # other namespaces, event handlers (no scripts in the EPUB)
    return name if re.fullmatch(r"[A-Za-z_][\w.\-]*", name) else None


@dataclass
class _Entry:
    title: str
    href: str
    children: list[_Entry] = field(default_factory=list)


def _outline(parts: list[_Part]) -> list[_Entry]:
    """The table of contents: chapters with their sections (h2, h3), back matter."""
    entries = []
    for part in parts:
        if part.kind in ("cover", "titlepage"):
            continue
        headings = part.chapter.headings if part.chapter else ()  # (level, id, text), listed
        title = next(((ident, text) for level, ident, text in headings if level == 1), None)
        entry = _Entry(title[1] if title else part.title, part.file_name + (
            f"#{_fragment(title[0])}" if title else ""))  # to the heading, as Pandoc's EPUB
        stack: list[tuple[int, _Entry]] = [(1, entry)]
        for level, ident, text in headings:
            if level not in (2, 3):
                continue
            child = _Entry(text, f"{part.file_name}#{_fragment(ident)}")
            while stack[-1][0] >= level:
                stack.pop()
            stack[-1][1].children.append(child)
            stack.append((level, child))
        entries.append(entry)
    return entries


def _landmarks(parts: list[_Part], terms: dict[str, str]) -> list[tuple[str, str, str, str]]:
    """(EPUB 3 type, EPUB 2 guide type, href, label) of each landmark."""
    found = []
    kinds = {p.kind: p for p in reversed(parts)}
    if "cover" in kinds:
        found.append(("cover", "cover", "cover.xhtml", terms["cover"]))
    if "titlepage" in kinds:
        found.append(("titlepage", "title-page", "title.xhtml", terms["titlepage"]))
    found.append(("toc", "toc", "nav.xhtml#nav-toc", terms["contents"]))
    if "chapter" in kinds:
        found.append(("bodymatter", "text", kinds["chapter"].file_name, terms["start"]))
    if "references" in kinds:
        found.append(("bibliography", "bibliography", "references.xhtml",
                      kinds["references"].title))
    return found


def _nav_document(book: Book, parts: list[_Part], outline: list[_Entry],
                  terms: dict[str, str]) -> bytes:
    def ol(entries: list[_Entry]) -> Any:
        element = lxml_html.Element("ol")
        for entry in entries:
            li = etree.SubElement(element, "li")
            etree.SubElement(li, "a", {"href": entry.href}).text = entry.title
            if entry.children:
                li.append(ol(entry.children))
        return element

    body = lxml_html.Element("div", {"class": "nav-page"})
    toc = etree.SubElement(body, "nav", {EPUB_TYPE: "toc", "id": "nav-toc", "role": "doc-toc",
                                         "aria-labelledby": "nav-toc-title"})
    etree.SubElement(toc, "h1", {"id": "nav-toc-title"}).text = terms["contents"]
    toc.append(ol(outline))
    landmarks = etree.SubElement(body, "nav", {EPUB_TYPE: "landmarks", "id": "nav-landmarks",
                                               "hidden": "hidden",
                                               "aria-labelledby": "nav-landmarks-title"})
    etree.SubElement(landmarks, "h2", {"id": "nav-landmarks-title"}).text = terms["landmarks"]
    items = etree.SubElement(landmarks, "ol")
    for kind, _, href, label in _landmarks(parts, terms):
        li = etree.SubElement(items, "li")
        etree.SubElement(li, "a", {EPUB_TYPE: kind, "href": href}).text = label
    return _xhtml(_Part("nav.xhtml", terms["contents"], "nav", body), book.metadata.lang)


def _ncx(book: Book, outline: list[_Entry]) -> bytes:
    """toc.ncx for EPUB 2 reading systems: the same outline as the nav document."""
    ns = "http://www.daisy.org/z3986/2005/ncx/"
    root = etree.Element(f"{{{ns}}}ncx", nsmap={None: ns}, version="2005-1")
    root.set(XML_LANG, book.metadata.lang)
    head = etree.SubElement(root, f"{{{ns}}}head")

    def depth(entries: list[_Entry]) -> int:
        return max((1 + depth(e.children) for e in entries), default=0)

    for name, content in (("dtb:uid", _identifier(book)), ("dtb:depth", str(depth(outline))),
                          ("dtb:totalPageCount", "0"), ("dtb:maxPageNumber", "0")):
        etree.SubElement(head, f"{{{ns}}}meta", name=name, content=content)
    etree.SubElement(etree.SubElement(root, f"{{{ns}}}docTitle"), f"{{{ns}}}text").text = \
        book.metadata.title
    for author in book.metadata.authors:
        etree.SubElement(etree.SubElement(root, f"{{{ns}}}docAuthor"), f"{{{ns}}}text").text = \
            author.name
    nav_map = etree.SubElement(root, f"{{{ns}}}navMap")
    counter = iter(range(1, 10_000))

    def points(parent: Any, entries: list[_Entry]) -> None:
        for entry in entries:
            order = next(counter)
            point = etree.SubElement(parent, f"{{{ns}}}navPoint", id=f"navpoint-{order}",
                                     playOrder=str(order))
            label = etree.SubElement(point, f"{{{ns}}}navLabel")
            etree.SubElement(label, f"{{{ns}}}text").text = entry.title
            etree.SubElement(point, f"{{{ns}}}content", src=entry.href)
            points(point, entry.children)

    points(nav_map, outline)
    return etree.tostring(root, encoding="utf-8", xml_declaration=True, pretty_print=True)


def _stylesheet(book: Book) -> str:
    """The theme's fonts and its epub.css: the EPUB's one stylesheet.

    base.css is left out on purpose: it is written for the page and the screen
    (fixed colours, custom properties that many reading systems ignore); epub.css
    carries the theme's typography in a form e-readers honour.
    """
    fonts = font_face_css(book.theme, lambda path: f"fonts/{path.name}")
    return "\n".join([fonts, book.theme.css("epub.css")]).strip() + "\n"


def _subset_fonts(faces: Iterable[FontFace], documents: Iterable[bytes],
                  cache: Cache) -> list[_Resource]:
    """Each font of the theme with only the glyphs the book uses (fontTools).

    Subsetting is the EPUB's costliest step; the result depends only on the font
    and the characters, so the cache keeps it (an edit that brings no new
    character reuses every subset)."""
    texts: list[str] = [ALWAYS_KEPT]
    langs: set[str] = set()
    for document in documents:
        root = etree.fromstring(document) if document.lstrip().startswith(b"<") else None
        if root is not None:
            texts.append("".join(root.itertext()))
            texts.append("".join(str(v) for v in root.xpath("//@alt|//@aria-label|//@title")))
            langs.update(str(v) for v in root.xpath("//@xml:lang|//@lang"))
        else:
            texts.append(document.decode("utf-8"))
    unicodes = _code_points(texts, langs)
    fonts = []
    for face in faces:
        key = digest(code_version(), "font", file_digest(face.path), unicodes)
        data = cache.memo("fonts", key, lambda face=face: _subset_font(face.path, unicodes))
        fonts.append(_Resource(f"font-{re.sub(r'[^A-Za-z0-9_-]', '-', face.path.stem)}",
                               f"fonts/{face.path.name}", "font/ttf", data))
    return fonts


# Unicode's language-specific case mappings (SpecialCasing.txt, conditional part), which
# str.upper() and str.lower() leave out but CSS text-transform applies by the text's lang:
# Turkish and Azeri dotted and dotless i, Lithuanian's dot kept above i under an accent.
_LANGUAGE_CASING = {"tr": {"i": "\u0130", "I": "\u0131"}, "az": {"i": "\u0130", "I": "\u0131"},
                    "lt": {c: "\u0307" for c in "IJ\u012e\u00cc\u00cd\u0128"}}
# What a font never draws: control characters and lone surrogates.
_NOT_DRAWN = {"Cc", "Cs"}


def _code_points(texts: Iterable[str], langs: Iterable[str] = ()) -> list[int]:
    """The code points a reading system may need a glyph for, to show ``texts``.

    Any Unicode text is taken. Besides the characters themselves: every character
    of their case mappings, which may be several characters (``"ß".upper()`` is
    ``"SS"``, ``"ﬁ".upper()`` ``"FI"``, ``"ŉ".upper()`` ``"ʼN"``), for CSS
    text-transform (uppercase, lowercase, capitalize) and small caps; the
    language-specific ones for the languages the book declares; the canonical
    decompositions and, where combining marks occur, the compositions (a reading
    system's shaper picks whichever the font has). Characters the font lacks
    (astral, CJK, private-use) are passed on: the subsetter keeps what the font has.
    Only controls and surrogates are left out; spaces, joiners and soft hyphens stay.
    """
    import unicodedata

    texts = list(texts)
    characters: set[str] = set()
    for text in texts:
        characters.update(text)
    if any(unicodedata.combining(c) for c in characters):
        for text in texts:
            characters.update(unicodedata.normalize("NFC", text))
    source = sorted(characters)
    for c in source:
        for mapped in (c.upper(), c.lower(), c.title(), c.casefold()):
            characters.update(mapped)
    for lang in {str(lang).split("-")[0].lower() for lang in langs}:
        for c, mapped in _LANGUAGE_CASING.get(lang, {}).items():
            if c in characters:
                characters.update(mapped)
    for c in sorted(characters):
        characters.update(unicodedata.normalize("NFD", c))
    return sorted(ord(c) for c in characters if unicodedata.category(c) not in _NOT_DRAWN)


def _subset_font(path: Path, unicodes: list[int]) -> bytes:
    import logging

    from fontTools import subset

    # its "meta NOT subset; dropped" warnings are none of the book's (a build-all worker on
    # Dask logs warnings; the command line logs errors only)
    logging.getLogger("fontTools.subset").setLevel(logging.ERROR)

    options = subset.Options()
    options.layout_features = ["*"]  # kerning, ligatures, old-style figures
    options.name_IDs = ["*"]  # copyright, licence (SIL OFL) and its URL stay in the font
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.recalc_timestamp = False
    options.hinting = False  # half the size; e-readers' high-resolution screens need no hints
    font = subset.load_font(str(path), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=unicodes)
    subsetter.subset(font)
    out = io.BytesIO()
    subset.save_font(font, out, options)
    return out.getvalue()


# --- The package ------------------------------------------------------------------------


def _package(book: Book, parts: list[_Part], documents: dict[str, bytes], nav: bytes,
             ncx: bytes, css: str, fonts: list[_Resource], resources: list[_Resource],
             cover: _Resource, audit: _Audit, terms: dict[str, str]) -> epub.EpubBook:
    meta = book.metadata
    package = epub.EpubBook()
    opf = epub.NAMESPACES["OPF"]
    package.metadata[opf]["generator"] = [("", {"name": "generator",
                                                "content": f"builder {__version__}"})]
    package.set_identifier(_identifier(book))
    package.title = meta.title
    package.add_metadata("DC", "title", meta.title, {"id": "book-title"})
    package.add_metadata(None, "meta", "main", {"refines": "#book-title", "property": "title-type"})
    if meta.subtitle:
        package.add_metadata("DC", "title", meta.subtitle, {"id": "book-subtitle"})
        package.add_metadata(None, "meta", "subtitle",
                             {"refines": "#book-subtitle", "property": "title-type"})
    package.set_language(meta.lang)
    for n, author in enumerate(meta.authors, start=1):
        package.add_author(author.name, role="aut", uid=f"creator{n}")
    date = _w3c_date(meta.date)
    if date:
        package.add_metadata("DC", "date", date)
    if meta.publisher:
        package.add_metadata("DC", "publisher", meta.publisher)
    for tag in meta.tags:
        package.add_metadata("DC", "subject", tag)
    description = meta.description or (meta.subtitle and f"{meta.title}: {meta.subtitle}")
    if description:
        package.add_metadata("DC", "description", description)
    package.add_metadata(None, "meta", "", {"name": "cover", "content": cover.uid})
    _accessibility(package, audit)
    if meta.lang.split("-")[0].lower() in RTL_LANGUAGES:
        package.set_direction("rtl")

    for resource in [_Resource("style", "book.css", "text/css", css.encode("utf-8")), *fonts,
                     *resources]:
        item = epub.EpubItem(uid=resource.uid, file_name=resource.file_name,
                             media_type=resource.media_type, content=resource.data)
        item.properties = list(resource.properties)
        package.add_item(item)
    spine = []
    for part in parts:
        item = epub.EpubItem(uid=part.file_name.rsplit(".", 1)[0], file_name=part.file_name,
                             media_type="application/xhtml+xml", content=documents[part.file_name])
        item.properties = list(part.properties)
        package.add_item(item)
        spine.append(item)
        if part.kind == "titlepage":
            spine.append("nav")
    nav_item = epub.EpubItem(uid="nav", file_name="nav.xhtml", media_type="application/xhtml+xml",
                             content=nav)
    nav_item.properties = ["nav"]
    package.add_item(nav_item)
    if "nav" not in spine:
        spine.insert(1, "nav")
    package.add_item(epub.EpubItem(uid="ncx", file_name="toc.ncx",
                                   media_type="application/x-dtbncx+xml", content=ncx))
    package.spine = spine
    package.guide = [{"type": guide, "href": href, "title": label}
                     for _, guide, href, label in _landmarks(parts, terms)]
    return package


def _identifier(book: Book) -> str:
    """The book's ISBN, DOI or URN as given, else a UUID made from the book (stable)."""
    given = (book.metadata.identifier or "").strip()
    if not given:
        meta = book.metadata
        seed = "|".join([meta.title, *[a.name for a in meta.authors], str(meta.date or "")])
        return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, "builder:" + seed))
    digits = re.sub(r"[\s-]", "", given)
    if re.fullmatch(r"(?:ISBN:?)?(?:97[89]\d{10}|\d{9}[\dXx])", digits, re.IGNORECASE):
        return "urn:isbn:" + re.sub(r"^ISBN:?", "", digits, flags=re.IGNORECASE).upper()
    if re.match(r"10\.\d{4,9}/\S+$", given):
        return "https://doi.org/" + given
    return given


def _w3c_date(value: str | None) -> str | None:
    """The date as W3CDTF (what dc:date takes), or None when it is not a date."""
    if not value:
        return None
    value = str(value).strip()
    if re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", value):
        return value
    try:
        return dt.datetime.fromisoformat(value).date().isoformat()
    except ValueError:
        return None


def _accessibility(package: epub.EpubBook, audit: _Audit) -> None:
    """schema.org accessibility metadata; conformance only when the audit finds no problem."""
    described = audit.images and not audit.images_without_alt
    entries = [("schema:accessMode", "textual")]
    if audit.images:
        entries.append(("schema:accessMode", "visual"))
    if not audit.images_without_alt:
        entries.append(("schema:accessModeSufficient", "textual"))
    if audit.images:
        entries.append(("schema:accessModeSufficient", "textual,visual"))
    for feature in ("structuralNavigation", "tableOfContents", "readingOrder",
                    "displayTransformability"):
        entries.append(("schema:accessibilityFeature", feature))
    if described:
        entries.append(("schema:accessibilityFeature", "alternativeText"))
    entries.append(("schema:accessibilityHazard", "none"))
    summary = ("Reflowable text with structured headings, a table of contents, landmarks and a "
               "reading order that follows the text. Notes open as pop-up footnotes with a link "
               "back, and citations link to the reference list.")
    if described:
        summary += " Every image has a text alternative."
    elif audit.images_without_alt:
        summary += " Some images have no text alternative."
    if audit.conforms:
        summary += " The publication meets EPUB Accessibility 1.1, WCAG 2.1 Level AA, " \
                   "as far as automated checks tell."
    entries.append(("schema:accessibilitySummary", summary))
    if audit.conforms:
        entries.append(("dcterms:conformsTo", CONFORMANCE))
    for prop, value in entries:
        package.add_metadata(None, "meta", value, {"property": prop})


def _modified(options: Options) -> dt.datetime:
    if options.source_date_epoch is not None:
        return dt.datetime.fromtimestamp(options.source_date_epoch, dt.UTC)
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _repack(data: bytes, lang: str, options: Options) -> bytes:
    """mimetype first and stored, fixed timestamps and order, ``xml:lang`` on the package."""
    stamp = _modified(options) if options.source_date_epoch is not None else None
    date_time = (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second) \
        if stamp and stamp.year >= 1980 else (1980, 1, 1, 0, 0, 0)
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        names = ["mimetype", "META-INF/container.xml", "EPUB/content.opf"]
        names += sorted(n for n in source.namelist() if n not in names)
        for name in names:
            content = source.read(name)
            if name.endswith(".opf"):
                content = _package_lang(content, lang)
            info = zipfile.ZipInfo(name, date_time)
            info.create_system = 3
            info.external_attr = 0o644 << 16
            if name == "mimetype":
                info.compress_type = zipfile.ZIP_STORED
            else:
                info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, content, compresslevel=9)
    return out.getvalue()


def _package_lang(opf: bytes, lang: str) -> bytes:
    head, sep, rest = opf.partition(b"<package ")
    if not sep or b"xml:lang=" in rest.split(b">", 1)[0]:
        return opf
    return head + sep + f'xml:lang="{lang}" '.encode() + rest

