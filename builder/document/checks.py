"""The book-wide step that finds what the build warns of in a chapter, each at its file and
line, for every format alike:

- what makes a book hard to read for some readers: images without alt text, skipped
  heading levels, tables without header cells (the EPUB's accessibility metadata then
  claims only what its files show: see formats.epub);
- raw text for another writer (```` ```{=latex} ````), which no output shows.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from .html import plain_text
from .nodes import Chapter, Heading, Image, RawBlock, RawInline, Table
from .walk import blocks, located_inlines

_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_ATTRIBUTE = r"""\b{}\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))"""


@dataclass(frozen=True)
class Problem:
    line: int | None
    message: str
    hint: str


def warnings(chapter: Chapter) -> Iterator[Problem]:
    """The chapter's problems, in reading order of each kind."""
    yield from _accessibility(chapter)
    for line, node in located_inlines(chapter):
        if isinstance(node, RawInline) and node.format != "html":
            yield _raw(line, node.format)
    for block in blocks(chapter):
        if isinstance(block, RawBlock) and block.format != "html":
            yield _raw(block.line, block.format)


def _raw(line: int | None, format: str) -> Problem:
    name = {"latex": "LaTeX", "tex": "TeX", "docx": "Word", "openxml": "Word"}.get(
        format, format)
    return Problem(line, f"raw {name} (`{{={format}}}`) left out: only raw HTML reaches "
                   "the outputs", "write it in HTML (`{=html}`), or remove it")


def _accessibility(chapter: Chapter) -> Iterator[Problem]:
    for line, node in located_inlines(chapter):
        if isinstance(node, Image):
            decorative = any(k == "role" and v in ("presentation", "none")
                             for k, v in node.attr.pairs)
            if not plain_text(node.alt).strip() and not decorative:
                yield _no_alt(line, node.src)
        elif isinstance(node, RawInline) and node.format == "html":
            yield from _raw_images(node.html, line)
    for block in blocks(chapter):
        if isinstance(block, RawBlock) and block.format == "html":
            yield from _raw_images(block.html, block.line)
    level = 1  # a chapter is its own file in the EPUB: it may start at h2
    for block in blocks(chapter, notes=False):
        if isinstance(block, Heading):
            if block.level > level + 1:
                yield Problem(block.line, f"heading h{block.level} "
                              f"'{' '.join(plain_text(block.children).split())}' follows "
                              f"h{level}: a level is skipped",
                              "go down one heading level at a time (# then ## then ###)")
            level = block.level
        elif isinstance(block, Table) and not block.head and not any(
                cell.header for row in block.body for cell in row):
            yield Problem(block.line, "a table has no header cells", "give the table a header row")



def _no_alt(line: int | None, src: str) -> Problem:
    return Problem(line, f"image '{src}' has no alt text",
                   "describe the image: ![what it shows](file.png)")


def _raw_images(html: str, line: int | None) -> Iterator[Problem]:
    """The ``<img>`` of raw HTML without alt text (unless marked decorative)."""
    for tag in _IMG.finditer(html):
        def value(name: str, text: str = tag.group(0)) -> str | None:
            found = re.search(_ATTRIBUTE.format(name), text, re.IGNORECASE)
            return next((g for g in found.groups() if g is not None), "") if found else None
        if (value("alt") or "").strip() or value("role") in ("presentation", "none"):
            continue
        at = line + html.count("\n", 0, tag.start()) if line is not None else None
        yield _no_alt(at, value("src") or "")
