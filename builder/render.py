"""The book ready to write, and the book written as one HTML document per format.

:func:`prepare_chapter` keeps each chapter's tree with what the book-wide steps found;
:func:`chapter_html` writes it for one format; :func:`render_document` places the
chapters in the theme's Jinja2 templates and runs the sanitizer last.  The HTML page is
that document with the screen stylesheet, the PDF is WeasyPrint laying it out with the
print stylesheet, and the EPUB is that document cut into files.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

from . import __version__, document
from .citations import drop_final_period, ref_id
from .errors import BuildError
from .model import Chapter, Cluster, Metadata, RenderedCitations, Text
from .sanitize import clean_document, resolve_resources
from .themes import Theme

# Words the outputs print themselves (section titles; the EPUB's navigation and
# labels), per language; English when a language or a word is missing.
_TERMS: dict[str, dict[str, str]] = {
    "en": {"references": "References", "bibliography": "Bibliography",
           "about": "About the author", "about_many": "About the authors", "tags": "Tags",
           "contents": "Contents", "landmarks": "Landmarks", "cover": "Cover",
           "titlepage": "Title page", "start": "Start of content", "chapter": "Chapter {n}",
           "back": "Back to the text", "cover_alt": "Cover: {title}", "by": "by",
           "figure": "Figure", "table": "Table", "listing": "Listing",
           "abstract": "Abstract",
           "list_figures": "List of Figures", "list_tables": "List of Tables"},
    "ru": {"references": "Список литературы", "bibliography": "Библиография",
           "about": "Об авторе", "about_many": "Об авторах", "tags": "Теги",
           "contents": "Содержание", "landmarks": "Ориентиры", "cover": "Обложка",
           "titlepage": "Титульный лист", "start": "Начало текста", "chapter": "Глава {n}",
           "back": "Назад к тексту", "cover_alt": "Обложка: {title}", "by": "автор:",
           "figure": "Рисунок", "table": "Таблица", "listing": "Листинг",
           "abstract": "Аннотация",
           "list_figures": "Список иллюстраций", "list_tables": "Список таблиц"},
    "de": {"references": "Literatur", "bibliography": "Bibliographie",
           "about": "Über den Autor", "about_many": "Über die Autoren", "tags": "Schlagwörter",
           "contents": "Inhalt", "landmarks": "Orientierungspunkte", "cover": "Umschlag",
           "titlepage": "Titelseite", "start": "Textanfang", "chapter": "Kapitel {n}",
           "back": "Zurück zum Text", "cover_alt": "Umschlag: {title}", "by": "von",
           "figure": "Abbildung", "table": "Tabelle", "listing": "Listing",
           "abstract": "Zusammenfassung",
           "list_figures": "Abbildungsverzeichnis", "list_tables": "Tabellenverzeichnis"},
    "fr": {"references": "Références", "bibliography": "Bibliographie",
           "about": "À propos de l’auteur", "about_many": "À propos des auteurs",
           "tags": "Mots-clés", "contents": "Table des matières", "landmarks": "Repères",
           "cover": "Couverture", "titlepage": "Page de titre", "start": "Début du texte",
           "chapter": "Chapitre {n}", "back": "Retour au texte",
           "cover_alt": "Couverture : {title}", "by": "par",
           "figure": "Figure", "table": "Tableau", "listing": "Listing",
           "abstract": "Résumé",
           "list_figures": "Table des figures", "list_tables": "Liste des tableaux"},
}


@dataclass(frozen=True)
class Book:
    """Everything the output formats need, rendered."""

    metadata: Metadata
    chapters: tuple[Chapter, ...]
    citations: RenderedCitations
    theme: Theme
    slug: str
    # the lists of figures and tables asked for: (kind, ((id, caption HTML), ...)), ...
    lists: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()

    def term(self, name: str) -> str:
        return terms_for(self.metadata.lang)[name]


def terms_for(lang: str) -> dict[str, str]:
    """The words of :data:`_TERMS` in language ``lang`` (a BCP 47 tag), English filling gaps."""
    return {**_TERMS["en"], **_TERMS.get(lang.split("-")[0].lower(), {})}


def template_environment(theme: Theme) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(theme.template_source),
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


def render_document(book: Book, format: str, stylesheets: Sequence[str],
                    changes: dict[str, Any] | None = None, **page: Any) -> str:
    """The whole book as one HTML document for ``format`` (pdf, html or epub): its
    chapters as :func:`chapter_html` writes them for that format (with ``changes`` to
    their context), in the theme's templates (``page``: more of the templates' variables)."""
    env = template_environment(book.theme)
    context = {**_context(book, format, stylesheets, changes), **page}
    try:
        document = env.get_template("document.html.j2").render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise BuildError(f"template error: {exc.message}", exc.filename, exc.lineno) from None
    except jinja2.TemplateNotFound as exc:  # also a name leaving the theme, refused
        raise BuildError(f"template not found: '{exc.name}'",
                         book.theme.templates / "document.html.j2", _template_line(exc),
                         hint="a template includes others of its theme's templates/ folder, "
                              "by a name relative to it") from None
    except jinja2.TemplateError as exc:
        raise BuildError(f"template error: {exc}", book.theme.templates / "document.html.j2",
                         _template_line(exc)) from None
    # nothing active in any output: checked last, with everything in (builder.sanitize)
    return clean_document(document, book.theme.templates / "document.html.j2")


def _template_line(exc: Exception) -> int | None:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".j2"):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _context(book: Book, format: str, stylesheets: Sequence[str],
             changes: dict[str, Any] | None) -> dict[str, Any]:
    citations = book.citations
    meta = book.metadata
    return {
        "meta": meta,
        "format": format,
        "stylesheets": list(stylesheets),
        "version": __version__,
        "chapters": [{"id": c.id, "title": c.title, "headings": c.headings, "source": c.source,
                      "html": markupsafe.Markup(chapter_html(c, format, changes))}
                     for c in book.chapters],
        "bibliography": [{"id": ref_id(key), "key": key, "html": entry}
                         for key, entry in citations.bibliography],
        "references_title": meta.references_title or book.term(
            "bibliography" if citations.note_style else "references"),
        "lists": _lists(book),
        "abstract_title": book.term("abstract"),
        "hanging_indent": citations.hanging_indent,
        "second_field_align": citations.second_field_align,
        "about": any(a.bio for a in meta.authors) or bool(meta.disclaimer) or bool(meta.tags),
        "about_title": book.term("about_many" if sum(bool(a.bio) for a in meta.authors) > 1
                                 else "about"),
        "tags_label": book.term("tags"),
        "toc": format == "pdf",  # the PDF's contents page (pdf.py: unless --no-toc)
        "body_classes": [format],
    }


def _lists(book: Book) -> list[dict[str, Any]]:
    """The lists of figures and tables the metadata asks for (``lof``, ``lot``)."""
    return [{"kind": kind, "title": book.term(f"list_{kind}"),
             "entries": [{"id": ident, "html": markupsafe.Markup(html)} for ident, html in entries]}
            for kind, entries in book.lists]


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


# --- a chapter's tree written out, with the book's citations ----------------------------

def prepare_chapter(tree: document.Chapter, clusters: Sequence[Cluster],
                    citations: dict[str, str], headings: Sequence[document.HeadingId],
                    context: document.Context, images: Sequence[str], project_root: Path,
                    allow_remote: bool = False) -> Chapter:
    """A chapter ready to be written: its tree with each citation's (and cross-reference's)
    rendering, and its headings with the ids and numbers the book-wide steps gave them."""
    cites = [""] * len(clusters)
    for cluster in clusters:
        cites[int(cluster.id.rsplit("-c", 1)[1]) - 1] = citations[cluster.id]
    title = next((h.text for h in headings if h.level == 1), None)
    numbers = list(context.sections) + [None] * (len(headings) - len(context.sections))
    listed = tuple((h.level, h.id, f"{number} {h.text}" if number else h.text)  # contents
                   for h, number in zip(headings, numbers, strict=True) if not h.unlisted)
    keys = tuple(dict.fromkeys(key for cluster in clusters if not cluster.crossref
                               for key in (item.key for item in cluster.items)))
    return Chapter(tree.ident, tree.path, title, tree, context, tuple(cites), listed,
                   tuple(images), keys, bool(document.raw_html(tree)), project_root,
                   allow_remote)


def chapter_html(chapter: Chapter, format: str = "html",
                 changes: dict[str, Any] | None = None) -> str:
    """A chapter's HTML for ``format``: as the web page has it (notes at the end), the EPUB
    (notes as pop-up asides) or the PDF (notes at their calls, math as vector paths, long
    code lines wrapped, blocks keyed); ``changes`` to its context, for the writer."""
    def cite(index: int, drop_period: bool) -> str:
        html = chapter.cites[index]
        return drop_final_period(html) if drop_period else html
    context = replace(chapter.context, **_FORMATS.get(format, {}), **(changes or {}))
    html = document.chapter_html(chapter.tree, cite, context)
    if chapter.raw_html:
        html = resolve_resources(html, chapter.source, chapter.project_root,
                                 chapter.allow_remote)
    return html


_FORMATS: dict[str, dict[str, Any]] = {
    "html": {"notes": document.NOTES_AT_END},
    "epub": {"notes": document.NOTES_AS_ASIDES},
    "pdf": {"notes": document.NOTES_AT_CALLS, "print": True, "block_keys": True},
}
