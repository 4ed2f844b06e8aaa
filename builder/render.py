"""Phase 2a: the book as one HTML document, through the theme's Jinja2 templates.

This HTML is the one intermediate: the HTML page is this document with the
screen stylesheet, the PDF is WeasyPrint laying it out with the print
stylesheet, and the EPUB is this document cut into files.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import jinja2
import markupsafe
from lxml import html as lxml_html

from . import __version__
from .citations import drop_final_period, ref_id
from .errors import BuildError
from .model import Chapter, Metadata, RenderedCitations, Text
from .themes import Theme

# Words the outputs print themselves (section titles; the EPUB's navigation and
# labels), per language; English when a language or a word is missing.
_TERMS: dict[str, dict[str, str]] = {
    "en": {"references": "References", "bibliography": "Bibliography",
           "about": "About the author", "about_many": "About the authors", "tags": "Tags",
           "contents": "Contents", "landmarks": "Landmarks", "cover": "Cover",
           "titlepage": "Title page", "start": "Start of content", "chapter": "Chapter {n}",
           "back": "Back to the text", "cover_alt": "Cover: {title}", "by": "by"},
    "ru": {"references": "Список литературы", "bibliography": "Библиография",
           "about": "Об авторе", "about_many": "Об авторах", "tags": "Теги",
           "contents": "Содержание", "landmarks": "Ориентиры", "cover": "Обложка",
           "titlepage": "Титульный лист", "start": "Начало текста", "chapter": "Глава {n}",
           "back": "Назад к тексту", "cover_alt": "Обложка: {title}", "by": "автор:"},
    "de": {"references": "Literatur", "bibliography": "Bibliographie",
           "about": "Über den Autor", "about_many": "Über die Autoren", "tags": "Schlagwörter",
           "contents": "Inhalt", "landmarks": "Orientierungspunkte", "cover": "Umschlag",
           "titlepage": "Titelseite", "start": "Textanfang", "chapter": "Kapitel {n}",
           "back": "Zurück zum Text", "cover_alt": "Umschlag: {title}", "by": "von"},
    "fr": {"references": "Références", "bibliography": "Bibliographie",
           "about": "À propos de l’auteur", "about_many": "À propos des auteurs",
           "tags": "Mots-clés", "contents": "Table des matières", "landmarks": "Repères",
           "cover": "Couverture", "titlepage": "Page de titre", "start": "Début du texte",
           "chapter": "Chapitre {n}", "back": "Retour au texte",
           "cover_alt": "Couverture : {title}", "by": "par"},
}


@dataclass(frozen=True)
class Book:
    """Everything the output formats need, rendered."""

    metadata: Metadata
    chapters: tuple[Chapter, ...]
    citations: RenderedCitations
    theme: Theme
    slug: str

    def term(self, name: str) -> str:
        return terms_for(self.metadata.lang)[name]


def terms_for(lang: str) -> dict[str, str]:
    """The words of :data:`_TERMS` in language ``lang`` (a BCP 47 tag), English filling gaps."""
    return {**_TERMS["en"], **_TERMS.get(lang.split("-")[0].lower(), {})}


def template_environment(theme: Theme) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(theme.templates)),
        autoescape=True, undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["long_date"] = long_date
    env.filters["prose"] = prose
    return env


def prose(value: Any) -> markupsafe.Markup:
    """``{{ meta.disclaimer | prose }}``: a metadata string as the inline HTML of its
    Markdown (:class:`~builder.model.Text`); any other value escaped."""
    if isinstance(value, Text):
        return markupsafe.Markup(value.html)
    return markupsafe.escape(value)


def render_document(book: Book, format: str, stylesheets: Sequence[str]) -> str:
    """The whole book as one HTML document for ``format`` (pdf, html or epub)."""
    env = template_environment(book.theme)
    context = _context(book, format, stylesheets)
    try:
        return env.get_template("document.html.j2").render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise BuildError(f"template error: {exc.message}", exc.filename, exc.lineno) from None
    except jinja2.TemplateError as exc:
        raise BuildError(f"template error: {exc}", book.theme.templates / "document.html.j2",
                         _template_line(exc)) from None


def _template_line(exc: Exception) -> int | None:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".j2"):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _context(book: Book, format: str, stylesheets: Sequence[str]) -> dict[str, Any]:
    citations = book.citations
    meta = book.metadata
    return {
        "meta": meta,
        "format": format,
        "stylesheets": list(stylesheets),
        "version": __version__,
        "chapters": book.chapters,
        "bibliography": [{"id": ref_id(key), "key": key, "html": entry}
                         for key, entry in citations.bibliography],
        "references_title": book.term("bibliography" if citations.note_style else "references"),
        "hanging_indent": citations.hanging_indent,
        "second_field_align": citations.second_field_align,
        "about": any(a.bio for a in meta.authors) or bool(meta.disclaimer) or bool(meta.tags),
        "about_title": book.term("about_many" if sum(bool(a.bio) for a in meta.authors) > 1
                                 else "about"),
        "tags_label": book.term("tags"),
    }


def long_date(value: str, lang: str = "en") -> str:
    """2018-02-05 → 5 February 2018 (English), other languages keep ISO form."""
    try:
        date = dt.date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if lang.split("-")[0] != "en":
        return date.isoformat()
    if lang in ("en-US",):
        return f"{date:%B} {date.day}, {date.year}"
    return f"{date.day} {date:%B} {date.year}"


# --- chapters drafted before their citations are known ---------------------------------
#
# A chapter's HTML depends on the citations only through each cluster's rendered text.
# So a chapter is rendered once with a slot in place of each citation (the *draft*),
# and the citations are filled in when the whole book's are known.  A draft depends on
# nothing but its chapter's source: the build cache keeps it, and a rebuild after an
# edit re-parses the edited chapter only.
#
# A slot is ``MARK index MARK`` (``MARK index p MARK`` when the citation's final period
# must go, because the writer's sentence goes on with one).  ``MARK`` is a private-use
# character that the chapter's text cannot produce: not in the text, nor written there as
# a character reference.  So every ``MARK`` of the draft is a slot's, and filling a slot
# replaces exactly the slot: no character of the writer's text is taken or added.

_PRIVATE_USE = (range(0xE000, 0xF900), range(0xF0000, 0xFFFFE), range(0x100000, 0x10FFFE))
_CHARACTER_REFERENCE = re.compile(r"&#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));?")


def slot_mark(text: str) -> str:
    """A character that no rendering of the Markdown ``text`` can contain."""
    used = set(text)
    for match in _CHARACTER_REFERENCE.finditer(text):
        code = int(match.group(1), 16) if match.group(1) else int(match.group(2))
        if code < 0x110000:
            used.add(chr(code))
    for block in _PRIVATE_USE:
        for code in block:
            if chr(code) not in used:
                return chr(code)
    raise BuildError("the text uses every private-use character",  # 137,000 of them
                     hint="split the chapter")  # pragma: no cover


def citation_slot(mark: str, index: int, drop_period: bool) -> str:
    """The stand-in of citation ``index`` of a chapter."""
    return f"{mark}{index}{'p' if drop_period else ''}{mark}"


def fill_citations(draft: str, mark: str, cluster_ids: Sequence[str],
                   citations: dict[str, str]) -> str:
    """The draft with each slot replaced by its rendered citation."""
    def fill(match: re.Match[str]) -> str:
        html = citations[cluster_ids[int(match.group(1))]]
        return drop_final_period(html) if match.group(2) else html
    if not cluster_ids:
        return draft
    slot = re.escape(mark)
    return re.sub(f"{slot}([0-9]+)(p?){slot}", fill, draft)


def finish_chapter(chapter_id: str, source: Any, html: str, used_ids: set[str]) -> Chapter:
    """Give every heading an id unique in the book, and find the chapter title."""
    headings = []
    title = None

    def add_id(match: re.Match[str]) -> str:
        nonlocal title
        level, attrs, inner = int(match.group(1)), match.group(2), match.group(3)
        text = lxml_html.fromstring(f"<div>{inner}</div>").text_content().strip()
        existing = re.search(r'\bid="([^"]+)"', attrs)
        ident = existing.group(1) if existing else _unique(slugify(text) or chapter_id, used_ids)
        if title is None and level == 1:
            title = text
        headings.append((level, ident, text))
        if existing:
            return match.group(0)
        return f'<h{level} id="{ident}"{attrs}>{inner}</h{level}>'

    html = re.sub(r"<h([1-6])((?:\s[^>]*)?)>(.*?)</h\1>", add_id, html, flags=re.S)
    return Chapter(chapter_id, source, title, html, tuple(headings))


def slugify(text: str) -> str:
    slug = re.sub(r"[^\w\s-]", "", text.lower(), flags=re.U)
    slug = re.sub(r"[\s_]+", "-", slug).strip("-")
    return slug if slug[:1].isalpha() else (f"s-{slug}" if slug else "")


class Ids(set[str]):
    """The ids given so far in a book, and the next number to try for each base id, so
    that a book with thousands of headings of the same title costs linear time."""

    def __init__(self, taken: Iterable[str] = ()) -> None:
        super().__init__(taken)
        self.next: dict[str, int] = {}


def _unique(ident: str, used: set[str]) -> str:
    """``ident``, or ``ident-2``, ``ident-3``... the first not in ``used`` (which it joins)."""
    counters = used.next if isinstance(used, Ids) else {}
    n = counters.get(ident, 1)
    candidate = ident if n == 1 else f"{ident}-{n}"
    while candidate in used:
        n += 1
        candidate = f"{ident}-{n}"
    counters[ident] = n
    used.add(candidate)
    return candidate
