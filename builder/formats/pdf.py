"""The PDF: WeasyPrint lays out the document with the print stylesheet.

Footnotes move from the chapter's endnote list to their call, where
``float: footnote`` puts them at the foot of the page.  WeasyPrint only logs
problems (bad CSS, missing images): they are caught and reported as warnings.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from lxml import html as lxml_html

from ..errors import BuildError, MissingSystemLibrary
from ..outputs import atomic_path
from ..render import Book, render_document
from ..resources import make_url_fetcher
from ..themes import font_face_css
from . import Options

log = logging.getLogger(__name__)


def load_weasyprint() -> Any:
    """WeasyPrint, or a clear message when Pango (its system library) is missing."""
    try:
        import weasyprint
    except ImportError as exc:
        raise MissingSystemLibrary(f"WeasyPrint is not installed ({exc})",
                                   hint="run ./dev.sh build, or pip install -e .") from None
    except OSError as exc:
        raise MissingSystemLibrary(
            f"WeasyPrint cannot load its system libraries ({exc})",
            hint="install Pango: sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0") from None
    return weasyprint


def write(book: Book, dest: Path, options: Options) -> list[str]:
    """Lay out the book and write the PDF; return WeasyPrint's warnings."""
    weasyprint = load_weasyprint()
    document = footnotes_at_calls(render_document(book, "pdf", []))
    css = "\n".join([font_face_css(book.theme, lambda p: p.as_uri()),
                     book.theme.css("base.css"), book.theme.css("print.css")])
    fetcher = make_url_fetcher(Path(str(options.project_root)), book.theme,
                               allow_remote=options.allow_remote)
    from weasyprint.text.fonts import FontConfiguration
    fonts = FontConfiguration()
    with _captured("weasyprint") as messages:
        html = weasyprint.HTML(string=document, base_url=str(options.project_root),
                               url_fetcher=fetcher)
        stylesheet = weasyprint.CSS(string=css, url_fetcher=fetcher, font_config=fonts)
        with atomic_path(dest) as tmp:
            html.write_pdf(tmp, stylesheets=[stylesheet], font_config=fonts,
                           pdf_identifier=_identifier(book))
    return messages


def _identifier(book: Book) -> bytes:
    import hashlib
    return hashlib.md5(book.slug.encode("utf-8")).hexdigest().encode("ascii")


def footnotes_at_calls(document: str) -> str:
    """Move each endnote to its call as ``<span class="footnote">``."""
    tree = lxml_html.document_fromstring(document)
    for section in tree.xpath('//section[contains(@class, "footnotes")]'):
        for note in section.xpath('.//li[contains(@class, "footnote")]'):
            refs = tree.xpath(f'//a[@class="footnote-ref"][@href="#{note.get("id")}"]')
            if refs:
                refs[0].getparent().replace(refs[0], _inline_note(note, refs[0]))
        section.getparent().remove(section)
    return lxml_html.tostring(tree, encoding="unicode", doctype="<!DOCTYPE html>")


def _inline_note(note: Any, ref: Any) -> Any:
    for back in note.xpath('.//a[contains(@class, "footnote-back")]'):
        back.drop_tree()
    span = lxml_html.Element("span", {"class": note.get("class", "footnote"), "id": note.get("id")})
    for n, paragraph in enumerate(note):
        paragraph.tag = "span"
        paragraph.set("class", "footnote-para")
        if n:
            paragraph.text = " " + (paragraph.text or "")
        span.append(paragraph)
    span.tail = ref.tail
    return span


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message not in self.messages:
            self.messages.append(message)


class _captured:
    """Collect what a logger says at WARNING and above, without printing it."""

    def __init__(self, name: str) -> None:
        self.logger = logging.getLogger(name)
        self.handler = _Collect()

    def __enter__(self) -> list[str]:
        self.logger.addHandler(self.handler)
        self.propagate, self.logger.propagate = self.logger.propagate, False
        return self.handler.messages

    def __exit__(self, *exc: object) -> None:
        self.logger.removeHandler(self.handler)
        self.logger.propagate = self.propagate


__all__ = ["write", "footnotes_at_calls", "load_weasyprint", "BuildError"]
