"""Looking through a tree: every block and inline, the images, the raw HTML."""
from __future__ import annotations

from collections.abc import Iterator

from .nodes import (
    Block,
    Chapter,
    CodeBlock,
    Definitions,
    Div,
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


def blocks(chapter: Chapter) -> Iterator[Block]:
    """Every block of the chapter, its notes' too, outer ones first."""
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
    for note in chapter.notes:
        yield from visit(note.blocks)


def inlines(chapter: Chapter) -> Iterator[Inline]:
    """Every inline of the chapter, nested ones after their parent."""
    def visit(found: tuple[Inline, ...]) -> Iterator[Inline]:
        for node in found:
            yield node
            if isinstance(node, (Styled, Span, Link)):
                yield from visit(node.children)
            elif isinstance(node, Image):
                yield from visit(node.alt)
    for block in blocks(chapter):
        if isinstance(block, (Para, Heading)):
            yield from visit(block.children)
        elif isinstance(block, Table):
            for row in (*block.head, *block.body):
                for cell in row:
                    yield from visit(cell.children)
        elif isinstance(block, Definitions):
            for term, _ in block.items:
                yield from visit(term)
        elif isinstance(block, LineBlock):
            for line in block.lines:
                yield from visit(line)


def image_sources(chapter: Chapter) -> list[str]:
    return [node.src for node in inlines(chapter) if isinstance(node, Image)]


def raw_html(chapter: Chapter) -> list[str]:
    """The raw HTML of the chapter, each block and each inline piece."""
    found = [block.html for block in blocks(chapter) if isinstance(block, RawBlock)]
    found += [node.html for node in inlines(chapter) if isinstance(node, RawInline)]
    return found


def has_print_variant(chapter: Chapter) -> bool:
    """Whether the PDF needs its own HTML of the chapter: math (drawn as paths there) or
    code blocks (their long lines wrapped)."""
    return any(isinstance(block, CodeBlock) for block in blocks(chapter)) or any(
        isinstance(node, Math) for node in inlines(chapter))


def math(chapter: Chapter) -> Iterator[tuple[int | None, Math]]:
    """Every formula of the chapter, with the line of the block it is in."""
    for block in blocks(chapter):
        if isinstance(block, (Para, Heading)):
            found: list[Inline] = []
            pending = list(block.children)
            while pending:
                node = pending.pop(0)
                found.append(node)
                if isinstance(node, (Styled, Span, Link)):
                    pending[:0] = list(node.children)
            for node in found:
                if isinstance(node, Math):
                    yield block.line, node
