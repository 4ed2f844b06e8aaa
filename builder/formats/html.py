"""The HTML: the document with the screen stylesheet inlined, fonts beside it.

By default one page, ``NAME.html``, with a contents sidebar.  With ``--html-split
chapter`` a small site instead: ``index.html`` (the title page, the abstract, the lists
of figures and tables), one page per chapter (named after its Markdown file, its notes at
its end), ``references.html`` and ``about.html``, each with the sidebar and links to the
previous and the next page.  The site is the one document cut at its top-level parts
(no HTML parser: the sanitizer's output has every ``<`` of the text escaped), each link to
a fragment pointed at the page that holds it, and each page through the sanitizer again.
"""
from __future__ import annotations

import html as html_escape
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..files import Gate
from ..outputs import Staging, write_text
from ..render import Book, render_document
from ..sanitize import clean_document, clean_svg
from ..themes import font_face_css
from . import Options, Written

FONT_DIR = "fonts"
SPLITS = ("none", "chapter")
INDEX = "index.html"


def page_name(book: Book, options: Options) -> str:
    """The file the HTML format is known by: the page, or the site's index."""
    return INDEX if options.html_split == "chapter" else f"{book.slug}.html"


def write(book: Book, dest: Path, options: Options) -> Written:
    if options.html_split == "chapter":
        write_text(dest, site(book)[INDEX])
    else:
        write_text(dest, _document(book))
    return Written()


def stage_files(book: Book, out_dir: Path, options: Options, staging: Staging) -> None:
    """The files the page needs beside it in ``out_dir`` (those missing or changed),
    staged with the build's other outputs: a failed build leaves the folder as it was.
    For a site, its pages other than the index too."""
    _copy_fonts(book, out_dir / FONT_DIR, staging.write_bytes)
    _copy_images(book, Path(str(options.project_root)), out_dir, staging.write_bytes)
    if options.html_split == "chapter":
        for name, text in site(book).items():
            target, data = out_dir / name, text.encode("utf-8")
            if name != INDEX and not (target.is_file() and not target.is_symlink()
                                      and target.read_bytes() == data):
                staging.write_bytes(target, data)


def _document(book: Book) -> str:
    fonts = font_face_css(book.theme, lambda path: f"{FONT_DIR}/{path.name}")
    css = [fonts, book.theme.css("base.css"), book.theme.css("code.css"),
           book.theme.css("screen.css")]
    words = _words(book.metadata.lang)
    return render_document(book, "html", css, body_classes=["html", "site"],
                           site={"contents": book.term("contents"), "about": words["about"],
                                 "chapter": book.term("chapter")})


# --- the site: one page per chapter ------------------------------------------------------

_WORDS = {"en": {"previous": "Previous", "next": "Next", "pages": "Pages", "about": "About"},
          "ru": {"previous": "Назад", "next": "Далее", "pages": "Страницы", "about": "О книге"},
          "de": {"previous": "Zurück", "next": "Weiter", "pages": "Seiten", "about": "Über"},
          "fr": {"previous": "Précédent", "next": "Suivant", "pages": "Pages",
                 "about": "À propos"}}
# a tag of the sanitizer's output (its attribute values always in double quotes)
_TAG = re.compile(r'<(/?)([A-Za-z][A-Za-z0-9:-]*)((?:[^>"]|"[^"]*")*)>')
_ID = re.compile(r'\sid="([^"]*)"')
_HREF = re.compile(r'(\shref=")#([^"]*)(")')
_HEADING = re.compile(r"<h[1-6]\b[^>]*>(.*?)</h[1-6]>", re.S)
_TITLE = re.compile(r"<title>.*?</title>", re.S)
_BODY = re.compile(r"<body\b[^>]*>")
_last: list[tuple[Book, dict[str, str]]] = []  # the site of the book written last


def _words(lang: str) -> dict[str, str]:
    return _WORDS.get(lang.split("-")[0].lower(), _WORDS["en"])


@dataclass
class _Part:
    """A top-level element of the document's body."""

    name: str  # its tag
    ident: str
    text: str  # the element, from its start tag to its end tag


def site(book: Book) -> dict[str, str]:
    """The site's pages, by file name, in reading order (index, chapters, references,
    about); made once per book (the writer and the staging both ask)."""
    if _last and _last[0][0] is book:
        return _last[0][1]
    pages = _site(book, _document(book))
    _last[:] = [(book, pages)]
    return pages


def _site(book: Book, document: str) -> dict[str, str]:
    body = _BODY.search(document)
    end = document.rfind("</body>")
    assert body is not None and end > body.end()  # (render_document checked the template)
    head, body_tag, tail = document[:body.start()], body.group(0), document[end:]
    parts = _parts(document[body.end():end])
    nav = "".join(part.text for part in parts if part.name == "nav" and part.ident == "site-nav")
    names = _page_names(book)
    pages: dict[str, list[_Part]] = {}
    for part in parts:
        if part.name == "nav" and part.ident == "site-nav":
            continue
        pages.setdefault(names.get(part.ident, INDEX), []).append(part)
    pages = {INDEX: pages.pop(INDEX, []), **pages}
    where = {ident: name for name, held in pages.items() for part in held
             for ident in _ID.findall(part.text)}
    tops = {name: _top_ids(held) for name, held in pages.items()}
    titles = {name: _page_title(book, name, held) for name, held in pages.items()}
    order = list(pages)
    words = _words(book.metadata.lang)
    out = {}
    for n, name in enumerate(order):
        content = "\n".join(part.text for part in pages[name])
        pager = _pager(order, n, titles, words)
        page_nav = _current(_links(nav, name, where, tops), name)
        title = f"<title>{html_escape.escape(f'{titles[name]} – {book.metadata.title}')}</title>"
        text = ((head if name == INDEX else _TITLE.sub(title.replace('\\', r'\\'), head, count=1))
                + body_tag + "\n" + page_nav + "\n" + _links(content, name, where, tops)
                + "\n" + pager + "\n" + tail)
        out[name] = clean_document(text, book.theme.templates / "document.html.j2")
    return out


def _parts(body: str) -> list[_Part]:
    """The body's top-level elements (the template's: nav, header, section)."""
    parts: list[_Part] = []
    depth, name, start, ident = 0, "", 0, ""
    for tag in _TAG.finditer(body):
        closing, tag_name = tag.group(1) == "/", tag.group(2).lower()
        if depth == 0:
            if closing:
                continue
            name, start, depth = tag_name, tag.start(), 1
            found = _ID.search(tag.group(0))
            ident = found.group(1) if found else ""
            continue
        if tag_name != name:
            continue
        depth += -1 if closing else 1
        if depth == 0:
            parts.append(_Part(name, ident, body[start:tag.end()]))
    return parts


def _page_names(book: Book) -> dict[str, str]:
    """The page of each top-level part that has one of its own: a chapter's named after its
    Markdown file (``01-introduction.html``)."""
    taken = {INDEX, "references.html", "about.html"}
    names = {"references": "references.html", "about": "about.html"}
    for chapter in book.chapters:
        stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(chapter.source).stem).strip("-.") or chapter.id
        name, n = f"{stem}.html", 1
        while name in taken:
            n += 1
            name = f"{stem}-{n}.html"
        taken.add(name)
        names[chapter.id] = name
    return names


def _top_ids(held: list[_Part]) -> set[str]:
    """The ids a link names to mean the page itself: its first part's, and that of the
    part's first heading when no other id comes before it."""
    if not held:
        return set()
    ids = {held[0].ident}
    inner = list(_TAG.finditer(held[0].text))[1:]
    first = next((tag for tag in inner if _ID.search(tag.group(0))), None)
    if first is not None and re.fullmatch(r"h[1-6]", first.group(2).lower()):
        ids.add(_ID.findall(first.group(0))[0])
    return ids


def _links(text: str, page: str, where: dict[str, str], tops: dict[str, set[str]]) -> str:
    """Each ``href="#id"`` in the tags of ``text`` pointed at the page that holds the id."""
    def link(found: re.Match[str]) -> str:
        ident = html_escape.unescape(found.group(2))
        target = where.get(ident, page)
        if target == page:
            return found.group(0)
        url = target if ident in tops[target] else f"{target}#{found.group(2)}"
        return f"{found.group(1)}{url}{found.group(3)}"

    return _TAG.sub(lambda tag: _HREF.sub(link, tag.group(0)), text)


def _current(nav: str, page: str) -> str:
    """The sidebar with its entry for ``page`` marked (``aria-current="page"``)."""
    def mark(tag: re.Match[str]) -> str:
        text = tag.group(0)
        if 'class="site-chapter"' not in text and 'class="site-title"' not in text:
            return text
        href = re.search(r'\shref="([^"#]*)', text)
        here = href is not None and (href.group(1) or page) == page
        return text[:-1] + ' aria-current="page">' if here else text
    return _TAG.sub(mark, nav)


def _page_title(book: Book, name: str, held: list[_Part]) -> str:
    if name == INDEX:
        return str(book.metadata.title)
    for part in held:
        heading = _HEADING.search(part.text)
        if heading:
            return " ".join(html_escape.unescape(re.sub(r"<[^>]*>", "", heading.group(1))).split())
    return name.removesuffix(".html")


def _pager(order: list[str], n: int, titles: dict[str, str], words: dict[str, str]) -> str:
    links = []
    for step, kind in ((-1, "previous"), (1, "next")):
        if 0 <= n + step < len(order):
            target = order[n + step]
            links.append(f'<a class="site-{kind}" rel="{"prev" if step < 0 else "next"}" '
                         f'href="{target}"><span class="site-pager-label">{words[kind]}</span> '
                         f'{html_escape.escape(titles[target])}</a>')
    return (f'<nav class="site-pager" aria-label="{words["pages"]}">\n' + "\n".join(links)
            + "\n</nav>")


Write = Callable[[Path, bytes], None]  # (target, its content)


def _copy_images(book: Book, project_root: Path, out_dir: Path, write_bytes: Write) -> None:
    """Images sit beside the page at the same relative paths as in the project."""
    for src in sorted({src for chapter in book.chapters for src in chapter.images}):
        source = project_root / src
        target = out_dir / src
        if not os.path.lexists(source):
            continue
        data = Gate(project_root).read_bytes(source, "image")  # (checked in the first phase)
        if source.suffix.lower() == ".svg":  # no scripts, handlers or outside references
            data = clean_svg(data) or b""
            if not data:
                continue
        same = target.is_file() and not target.is_symlink() and target.read_bytes() == data
        if not same:  # (a folder in its place: the commit says so, and rolls back)
            write_bytes(target, data)


def _copy_fonts(book: Book, folder: Path, write_bytes: Write) -> None:
    for face in book.theme.fonts:
        target = folder / face.path.name
        if not target.exists() or target.stat().st_size != face.path.stat().st_size:
            write_bytes(target, face.path.read_bytes())
