"""The EPUB 3: the document cut into one XHTML file per part, packed by ebooklib.

Steps: cut the document into parts (title page, chapters, references, about);
turn each chapter's endnotes into popup footnotes in the same file; point
every internal link at the file that holds its target; add the metadata,
stylesheet and fonts; let ebooklib write; repack the zip reproducibly.
"""
from __future__ import annotations

import datetime as dt
import io
import re
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ebooklib import epub
from lxml import etree
from lxml import html as lxml_html

from ..outputs import write_bytes
from ..render import Book, render_document
from ..themes import font_face_css
from . import Options

EPUB_NS = "http://www.idpf.org/2007/ops"


@dataclass
class _Part:
    file_name: str
    title: str
    kind: str  # titlepage, chapter, references, about
    body: Any  # lxml element holding the part's content


def write(book: Book, dest: Path, options: Options) -> None:
    tree = lxml_html.document_fromstring(render_document(book, "epub", []))
    parts = _cut(tree, book)
    _retarget_links(parts)
    package = _package(book, parts, options)
    raw = io.BytesIO()
    epub.write_epub(raw, package, {"epub3_pages": False, "mtime": _modified(options)})
    write_bytes(dest, _repack(raw.getvalue(), book.metadata.lang, options))


def _cut(tree: Any, book: Book) -> list[_Part]:
    parts = []
    chapter_no = 0
    for element in tree.xpath("//body/*[@data-part]"):
        kind = element.get("data-part")
        if kind == "chapter":
            chapter_no += 1
            _popup_notes(element)
            title = _chapter_title(element, book, chapter_no)
            parts.append(_Part(f"chapter-{chapter_no:02d}.xhtml", title, kind, element))
        elif kind == "titlepage":
            parts.append(_Part("title.xhtml", book.metadata.title, kind, element))
        elif kind == "references":
            parts.append(_Part("references.xhtml", _heading(element) or "References", kind, element))
        elif kind == "about":
            parts.append(_Part("about.xhtml", _heading(element) or "About", kind, element))
    return parts


def _heading(element: Any) -> str | None:
    found = element.xpath(".//h1|.//h2")
    return found[0].text_content().strip() if found else None


def _chapter_title(element: Any, book: Book, number: int) -> str:
    heading = element.xpath(".//h1")
    if heading:
        return str(heading[0].text_content().strip())
    return book.metadata.title if len(book.chapters) == 1 else f"Chapter {number}"


def _popup_notes(chapter: Any) -> None:
    """Endnotes → ``aside epub:type="footnote"``; calls → ``epub:type="noteref"``."""
    for ref in chapter.xpath('.//a[contains(@class, "footnote-ref")]'):
        ref.set("{%s}type" % EPUB_NS, "noteref")
    for section in chapter.xpath('.//section[contains(@class, "footnotes")]'):
        for note in section.xpath('./ol/li'):
            aside = etree.SubElement(chapter, "aside")
            aside.set("id", note.get("id"))
            aside.set("class", note.get("class", "footnote"))
            aside.set("{%s}type" % EPUB_NS, "footnote")
            aside.set("role", "doc-footnote")
            number = note.get("id").rsplit("-", 1)[-1]
            label = etree.SubElement(aside, "span", {"class": "footnote-number"})
            label.text = f"{number}. "
            label.tail = None
            for child in list(note):
                aside.append(child)
            if note.text and note.text.strip():
                label.tail = note.text
        section.getparent().remove(section)


def _retarget_links(parts: list[_Part]) -> None:
    where = {}
    for part in parts:
        for ident in part.body.xpath(".//@id"):
            where[str(ident)] = part.file_name
        if part.body.get("id"):
            where[part.body.get("id")] = part.file_name
    for part in parts:
        for link in part.body.xpath('.//a[starts-with(@href, "#")]'):
            target = link.get("href")[1:]
            home = where.get(target)
            if home and home != part.file_name:
                link.set("href", f"{home}#{target}")


def _package(book: Book, parts: list[_Part], options: Options) -> epub.EpubBook:
    meta = book.metadata
    package = epub.EpubBook()
    package.set_identifier(meta.identifier or _stable_id(book))
    package.set_title(meta.title)
    package.set_language(meta.lang)
    for n, author in enumerate(meta.authors):
        package.add_author(author.name, uid=f"creator{n + 1}")
    if meta.date:
        package.add_metadata("DC", "date", str(meta.date))
    for tag in meta.tags:
        package.add_metadata("DC", "subject", tag)
    if meta.publisher:
        package.add_metadata("DC", "publisher", meta.publisher)
    if meta.description:
        package.add_metadata("DC", "description", meta.description)
    _accessibility(package)
    css = epub.EpubItem(uid="style", file_name="book.css", media_type="text/css",
                        content=_stylesheet(book).encode("utf-8"))
    package.add_item(css)
    for face in book.theme.fonts:
        package.add_item(epub.EpubItem(uid=f"font-{face.path.stem}", file_name=f"fonts/{face.path.name}",
                                       media_type="font/ttf", content=face.path.read_bytes()))
    documents = [_document(part, meta.lang, css) for part in parts]
    for document in documents:
        package.add_item(document)
    package.toc = [epub.Link(d.file_name, d.title, d.id) for d, p in zip(documents, parts)
                   if p.kind != "titlepage"]
    package.add_item(epub.EpubNcx())
    nav = epub.EpubNav()
    nav.add_link(href="book.css", rel="stylesheet", type="text/css")
    package.add_item(nav)
    package.spine = [*documents[:1], "nav", *documents[1:]]
    _landmarks(package, parts)
    return package


def _document(part: _Part, lang: str, css: epub.EpubItem) -> epub.EpubHtml:
    body = _epub_prefix(etree.tostring(part.body, encoding="unicode", method="xml"))
    item = epub.EpubHtml(title=part.title, file_name=part.file_name, lang=lang,
                         uid=part.file_name.split(".")[0])
    item.content = f"<html><body>{body}</body></html>"
    item.add_item(css)
    return item


def _epub_prefix(xml: str) -> str:
    """lxml names the OPS namespace ns0, ns1...; EPUB readers expect ``epub:``."""
    prefixes = set(re.findall(r'xmlns:(\w+)="%s"' % re.escape(EPUB_NS), xml))
    xml = re.sub(r'\s+xmlns:\w+="%s"' % re.escape(EPUB_NS), "", xml)
    for prefix in prefixes:
        xml = xml.replace(f" {prefix}:type=", " epub:type=")
    return xml


def _landmarks(package: epub.EpubBook, parts: list[_Part]) -> None:
    types = {"titlepage": "titlepage", "references": "bibliography"}
    first_chapter = next((p for p in parts if p.kind == "chapter"), None)
    guide = []
    for part in parts:
        if part is first_chapter:
            guide.append({"type": "bodymatter", "href": part.file_name, "title": "Start"})
        elif part.kind in types:
            guide.append({"type": types[part.kind], "href": part.file_name, "title": part.title})
    package.guide = guide


def _accessibility(package: epub.EpubBook) -> None:
    for prop, value in (
        ("schema:accessMode", "textual"),
        ("schema:accessModeSufficient", "textual"),
        ("schema:accessibilityFeature", "structuralNavigation"),
        ("schema:accessibilityFeature", "tableOfContents"),
        ("schema:accessibilityFeature", "readingOrder"),
        ("schema:accessibilityHazard", "none"),
        ("schema:accessibilitySummary",
         "Text with headings, a table of contents and linked citations; no images."),
    ):
        package.add_metadata(None, "meta", value, {"property": prop})


def _stylesheet(book: Book) -> str:
    fonts = font_face_css(book.theme, lambda path: f"fonts/{path.name}")
    return "\n".join([fonts, book.theme.css("base.css"), book.theme.css("epub.css")])


def _stable_id(book: Book) -> str:
    meta = book.metadata
    seed = "|".join([meta.title, *[a.name for a in meta.authors], str(meta.date or "")])
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, "builder:" + seed))


def _modified(options: Options) -> dt.datetime:
    if options.source_date_epoch is not None:
        return dt.datetime.fromtimestamp(options.source_date_epoch, dt.timezone.utc)
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _repack(data: bytes, lang: str, options: Options) -> bytes:
    """mimetype first and stored, fixed timestamps, ``xml:lang`` on the package."""
    stamp = _modified(options) if options.source_date_epoch is not None else None
    date_time = (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second) \
        if stamp and stamp.year >= 1980 else (1980, 1, 1, 0, 0, 0)
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        names = ["mimetype"] + sorted(n for n in source.namelist() if n != "mimetype")
        for name in names:
            content = source.read(name)
            if name.endswith(".opf"):
                content = _package_lang(content, lang)
            info = zipfile.ZipInfo(name, date_time)
            info.compress_type = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            target.writestr(info, content)
    return out.getvalue()


def _package_lang(opf: bytes, lang: str) -> bytes:
    return re.sub(rb"<package ", f'<package xml:lang="{lang}" '.encode(), opf, count=1) \
        if b"xml:lang=" not in opf.split(b">", 2)[1] else opf

