"""The HTML page: the document with the screen stylesheet inlined, fonts beside it."""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ..files import Gate
from ..outputs import Staging, write_text
from ..render import Book, render_document
from ..sanitize import clean_svg
from ..themes import font_face_css
from . import Options, Written

FONT_DIR = "fonts"


def write(book: Book, dest: Path, options: Options) -> Written:
    write_text(dest, _document(book))
    return Written()


def stage_files(book: Book, out_dir: Path, options: Options, staging: Staging) -> None:
    """The files the page needs beside it in ``out_dir`` (those missing or changed),
    staged with the build's other outputs: a failed build leaves the folder as it was."""
    _copy_fonts(book, out_dir / FONT_DIR, staging.write_bytes)
    _copy_images(book, Path(str(options.project_root)), out_dir, staging.write_bytes)


def _document(book: Book) -> str:
    fonts = font_face_css(book.theme, lambda path: f"{FONT_DIR}/{path.name}")
    css = [fonts, book.theme.css("base.css"), book.theme.css("code.css"),
           book.theme.css("screen.css")]
    return render_document(book, "html", css)


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

