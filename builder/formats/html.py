"""The HTML page: the document with the screen stylesheet inlined, fonts beside it."""
from __future__ import annotations

from pathlib import Path

from ..outputs import write_bytes, write_text
from ..render import Book, render_document
from ..themes import font_face_css
from . import Options

FONT_DIR = "fonts"


def write(book: Book, dest: Path, options: Options) -> None:
    fonts = font_face_css(book.theme, lambda path: f"{FONT_DIR}/{path.name}")
    css = [fonts, book.theme.css("base.css"), book.theme.css("screen.css")]
    document = render_document(book, "html", css)
    _copy_fonts(book, dest.parent / FONT_DIR)
    write_text(dest, document)


def _copy_fonts(book: Book, folder: Path) -> None:
    for face in book.theme.fonts:
        target = folder / face.path.name
        if not target.exists() or target.stat().st_size != face.path.stat().st_size:
            write_bytes(target, face.path.read_bytes())

