"""Looking through a tree: every block and inline, the images, the raw HTML."""
from __future__ import annotations

from collections.abc import Iterator

from .nodes import (
    Block,
    Chapter,
    CodeBlock,
    Definitions,
    Div,
    Figure,
    Heading,
    Image,
    Inline,
    LineBlock,
    Link,
    ListBlock,
    Math,
    Para,
    Quote,
    RawBlock,
    RawInline,
    Span,
    Styled,
    Table,
)


def blocks(chapter: Chapter, notes: bool = True) -> Iterator[Block]:
    """Every block of the chapter, its notes' too (unless not ``notes``), outer ones
    first."""
    def visit(found: tuple[Block, ...]) -> Iterator[Block]:
        for block in found:
            yield block
            if isinstance(block, Quote):
                yield from visit(block.blocks)
            elif isinstance(block, ListBlock):
                for item in block.items:
                    yield from visit(item)
            elif isinstance(block, Definitions):
                for _, definitions in block.items:
                    for blocks_ in definitions:
                        yield from visit(blocks_)
            elif isinstance(block, Div):
                yield from visit(block.blocks)
    yield from visit(chapter.blocks)
    for note in chapter.notes if notes else ():
        yield from visit(note.blocks)


def located_inlines(chapter: Chapter) -> Iterator[tuple[int | None, Inline]]:
    """Every inline of the chapter, nested ones after their parent, each with the line of
    its block: paragraphs and headings, figures (their image and caption), tables (their
    caption and cells), definition terms, line blocks."""
    def visit(found: tuple[Inline, ...]) -> Iterator[Inline]:
        for node in found:
            yield node
            if isinstance(node, (Styled, Span, Link)):
                yield from visit(node.children)
            elif isinstance(node, Image):
                yield from visit(node.alt)

    for block in blocks(chapter):
        runs: list[tuple[Inline, ...]] = []
        if isinstance(block, (Para, Heading)):
            runs = [block.children]
        elif isinstance(block, Figure):
            runs = [(block.image,)]
        elif isinstance(block, CodeBlock):
            runs = [block.caption]
        elif isinstance(block, Table):
            runs = [block.caption] + [cell.children for row in (*block.head, *block.body)
                                      for cell in row]
        elif isinstance(block, Definitions):
            runs = [term for term, _ in block.items]
        elif isinstance(block, LineBlock):
            runs = list(block.lines)
        for run in runs:
            for node in visit(run):
                yield block.line, node


def inlines(chapter: Chapter) -> Iterator[Inline]:
    """Every inline of the chapter (see :func:`located_inlines`)."""
    return (node for _, node in located_inlines(chapter))


def image_sources(chapter: Chapter) -> list[str]:
    return [node.src for node in inlines(chapter) if isinstance(node, Image)]


def raw_html(chapter: Chapter) -> list[str]:
    """The raw HTML of the chapter, each block and each inline piece."""
    found = [block.html for block in blocks(chapter)
             if isinstance(block, RawBlock) and block.format == "html"]
    found += [node.html for node in inlines(chapter)
              if isinstance(node, RawInline) and node.format == "html"]
    return found


def has_print_variant(chapter: Chapter) -> bool:
    """Whether the PDF needs its own HTML of the chapter: math (drawn as paths there) or
    code blocks (their long lines wrapped)."""
    return any(isinstance(block, CodeBlock) for block in blocks(chapter)) or any(
        isinstance(node, Math) for node in inlines(chapter))


def math(chapter: Chapter) -> Iterator[tuple[int | None, Math]]:
    """Every formula of the chapter, with the line of the block it is in."""
    return ((line, node) for line, node in located_inlines(chapter) if isinstance(node, Math))
