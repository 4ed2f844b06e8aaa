"""A book-wide step: every heading gets an id, unique in the book.

An id the writer gave (``# Methods {#sec:methods}``) is kept; the others are made as
Pandoc makes them (its ``auto_identifiers``): the heading's text without formatting or
notes, lower case, only letters, digits, ``_``, ``-`` and ``.``, spaces as hyphens,
nothing before the first letter; ``section`` when nothing is left; a second heading of
the same text gets ``-1``, a third ``-2``.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .html import plain_text
from .nodes import Block, Chapter, Div, Heading, ListBlock, Quote


@dataclass(frozen=True)
class HeadingId:
    level: int
    id: str
    text: str
    unnumbered: bool = False
    unlisted: bool = False


def pandoc_identifier(text: str) -> str:
    """Pandoc's identifier for a heading's plain text."""
    text = re.sub(r"[^\w\s.-]", "", text, flags=re.UNICODE)
    text = re.sub(r"\s+", "-", text.strip()).lower()
    return re.sub(r"^[^a-z\u00c0-\uffff]+", "", text)  # nothing before the first letter


class Ids(set[str]):
    """The ids given so far in a book, and the next suffix to try for each base, so
    that a book with thousands of headings of the same title costs linear time."""

    def __init__(self, taken: Iterable[str] = ()) -> None:
        super().__init__(taken)
        self.next: dict[str, int] = {}

    def unique(self, base: str) -> str:
        """``base``, or ``base-1``, ``base-2``... the first not taken (which it takes)."""
        n = self.next.get(base, 0)
        candidate = base if n == 0 else f"{base}-{n}"
        while candidate in self:
            n += 1
            candidate = f"{base}-{n}"
        self.next[base] = n + 1
        self.add(candidate)
        return candidate


def headings(blocks: Sequence[Block]) -> list[Heading]:
    """The headings of the blocks, in order (not those inside lists, quotes or notes)."""
    found = []
    for block in blocks:
        if isinstance(block, Heading):
            found.append(block)
        elif isinstance(block, (Quote, Div)):
            found.extend(headings(block.blocks))
        elif isinstance(block, ListBlock):
            for item in block.items:
                found.extend(headings(item))
    return found


def assign(chapter: Chapter, used: Ids) -> list[HeadingId]:
    """The ids of a chapter's headings, in order; ``used`` holds the book's so far."""
    given = []
    for heading in headings(chapter.blocks):
        text = plain_text(heading.children).strip()
        if heading.attr.id and heading.attr.id not in used:
            ident = heading.attr.id
            used.add(ident)
        else:
            ident = used.unique(heading.attr.id or pandoc_identifier(text) or "section")
        classes = heading.attr.classes
        given.append(HeadingId(heading.level, ident, text, "unnumbered" in classes,
                               "unlisted" in classes))
    return given
