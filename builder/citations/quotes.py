"""Quotation marks and the punctuation around them.

CSL processors turn straight quotes and apostrophes in field text into the
locale's typographic ones, alternate inner and outer quotes, and move a
comma or period inside closing quotes where the locale says so
(``punctuation-in-quote``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class QuoteContext:
    """What the style and its locale say about quotes."""

    punctuation_in_quote: bool = False


def context_for(style_root: Any, locale: str) -> QuoteContext:
    return QuoteContext()


def prepare_field(text: str, context: QuoteContext) -> str:
    """Field text before citeproc-py renders it."""
    return text


def finish(rendered: str, context: QuoteContext) -> str:
    """Rendered HTML of a citation or entry, before the formatting markers become tags."""
    return rendered
