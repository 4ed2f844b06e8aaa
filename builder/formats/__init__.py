"""One module per output format, each with ``write(book, dest, options) -> Written``.

A writer reads the book's chapters through ``render.chapter_html(chapter, format)`` (or
the whole document through ``render.render_document``): the tree written for its
format.  It reports what it could not do as warnings and leaves ``--strict`` to the
build, which decides it once for every format.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import Warning_


@dataclass
class Written:
    """What a writer reports: its warnings (each with its file and line when known), and
    figures about the work (the PDF's ``layouts``)."""

    warnings: list[Warning_] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Options:
    project_root: object
    strict: bool = False
    allow_remote: bool = False
    source_date_epoch: int | None = None
    # PDF only; None means "as the theme says"
    page_size: str | None = None      # A4, Letter, A5, B5, 6x9, or WIDTHxHEIGHT with units
    print_ready: bool = False         # --print: bleed, crop marks, CMYK, PDF/X-4
    bleed: str | None = None          # a CSS length, default the theme's (3mm)
    pdf_variant: str | None = None    # pdf/a-3b, pdf/ua-1, ... (WeasyPrint's names)
    toc: bool | None = None           # a table of contents after the title page
    cache: object = None              # a builder.cache.Cache for costly pieces (EPUB fonts)
    draft: bool = False               # --draft: one PDF layout, footnotes left where they fall
    html_split: str = "none"          # HTML only: "chapter", a page per chapter (a small site)
    jobs: int | None = None           # --jobs: processes laying out the PDF's chunks (cores)
