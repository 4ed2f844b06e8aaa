"""One module per output format, each with ``write(book, dest, options)``."""
from __future__ import annotations

from dataclasses import dataclass


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
