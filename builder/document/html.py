"""The document tree written as HTML: the one serializer of the builder.

The HTML is Pandoc-compatible where Pandoc's is known (``span.citation``, ``figure``,
``section.footnotes``) and otherwise what markdown-it-py writes, so CSS written for
either works.  Citations are written by the caller's ``cite(index, drop_period)``:
``drop_period`` is true when the text goes on with a period, so that a citation ending
in one drops it.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from .nodes import (
    Attr,
    Block,
    Chapter,
    Cite,
    Code,
    CodeBlock,
    Definitions,
    Heading,
    Image,
    Inline,
    LineBreak,
    Link,
    ListBlock,
    Note,
    NoteBack,
    NoteRef,
    Para,
    Quote,
    RawBlock,
    RawInline,
    Rule,
    SoftBreak,
    Span,
    Str,
    Styled,
    Table,
)

CiteWriter = Callable[[int, bool], str]


def escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def attributes(attr: Attr, **extra: str | None) -> str:
    """`` id="x" class="a b" data-k="v"`` (Pandoc writes unknown keys as data-*)."""
    parts = []
    if attr.id:
        parts.append(f' id="{escape(attr.id)}"')
    for name, value in extra.items():
        if value is not None:
            parts.append(f' {name.rstrip("_").replace("_", "-")}="{escape(value)}"')
    if attr.classes:
        parts.append(f' class="{escape(" ".join(attr.classes))}"')
    for key, value in attr.pairs:
        name = key if key in ("lang", "dir", "title", "width", "height", "style") \
            else f"data-{key}"
        parts.append(f' {escape(name)}="{escape(value)}"')
    return "".join(parts)


class Writer:
    """Writes one chapter: its notes' ids carry the chapter's ident."""

    def __init__(self, chapter: Chapter, cite: CiteWriter,
                 heading_ids: Sequence[str] = ()) -> None:
        self.chapter = chapter
        self.cite = cite
        self.heading_ids = list(heading_ids)  # given by the book-wide ids step, in order
        self.headings_seen = 0
        self.citation_notes = {note.number for note in chapter.notes if note.citation}

    # -- blocks --
    def chapter_html(self) -> str:
        out = [self.block(block) for block in self.chapter.blocks]
        if self.chapter.notes:
            out.append('<section class="footnotes" role="doc-endnotes">\n<ol>\n')
            out.extend(self.note(note) for note in self.chapter.notes)
            out.append("</ol>\n</section>\n")
        return "".join(out)

    def blocks(self, blocks: Sequence[Block]) -> str:
        return "".join(self.block(block) for block in blocks)

    def block(self, block: Block) -> str:
        if isinstance(block, Para):
            inner = self.inlines(block.children)
            return f"{inner}\n" if block.plain else f"<p>{inner}</p>\n"
        if isinstance(block, Heading):
            attr = block.attr
            if self.headings_seen < len(self.heading_ids):
                attr = Attr(self.heading_ids[self.headings_seen], attr.classes, attr.pairs)
            self.headings_seen += 1
            tag = f"h{block.level}"
            return f"<{tag}{attributes(attr)}>{self.inlines(block.children)}</{tag}>\n"
        if isinstance(block, ListBlock):
            tag = "ol" if block.ordered else "ul"
            start = f' start="{block.start}"' if block.ordered and block.start not in (
                None, 1) else ""
            items = "".join(self.item(item) for item in block.items)
            return f"<{tag}{start}>\n{items}</{tag}>\n"
        if isinstance(block, Quote):
            return f"<blockquote>\n{self.blocks(block.blocks)}</blockquote>\n"
        if isinstance(block, CodeBlock):
            return self.code_block(block)
        if isinstance(block, RawBlock):
            return block.html
        if isinstance(block, Rule):
            return "<hr />\n"
        if isinstance(block, Table):
            return self.table(block)
        if isinstance(block, Definitions):
            return self.definitions(block)
        raise TypeError(f"not a block: {block!r}")  # pragma: no cover

    def item(self, blocks: tuple[Block, ...]) -> str:
        tight = all(isinstance(b, Para) and b.plain for b in blocks[:1])
        inner = self.blocks(blocks)
        if tight and inner.endswith("\n") and len(blocks) == 1:
            inner = inner[:-1]
        elif not tight:
            inner = "\n" + inner
        return f"<li>{inner}</li>\n"

    def code_block(self, block: CodeBlock) -> str:
        language = block.info.split()[0] if block.info else ""
        classes = ((f"language-{language}",) if language else ()) + tuple(
            c for c in block.attr.classes if c != language)
        code_attr = f' class="{escape(" ".join(classes))}"' if classes else ""
        pre_id = f' id="{escape(block.attr.id)}"' if block.attr.id else ""
        return f"<pre{pre_id}><code{code_attr}>{escape(block.text)}</code></pre>\n"

    def table(self, table: Table) -> str:
        out = ["<table>\n"]
        for part, rows in (("thead", table.head), ("tbody", table.body)):
            if not rows:
                continue
            out.append(f"<{part}>\n")
            for row in rows:
                out.append("<tr>\n")
                for cell in row:
                    tag = "th" if cell.header else "td"
                    style = f' style="text-align:{cell.align}"' if cell.align else ""
                    out.append(f"<{tag}{style}>{self.inlines(cell.children)}</{tag}>\n")
                out.append("</tr>\n")
            out.append(f"</{part}>\n")
        out.append("</table>\n")
        return "".join(out)

    def definitions(self, block: Definitions) -> str:
        out = ["<dl>\n"]
        for term, definitions in block.items:
            out.append(f"<dt>{self.inlines(term)}</dt>\n")
            for blocks in definitions:
                inner = self.blocks(blocks)
                if len(blocks) == 1 and isinstance(blocks[0], Para) and blocks[0].plain:
                    inner = inner[:-1]
                else:
                    inner = "\n" + inner
                out.append(f"<dd>{inner}</dd>\n")
        out.append("</dl>\n")
        return "".join(out)

    def note(self, note: Note) -> str:
        kind = " citation-note" if note.citation else ""
        return (f'<li id="fn-{self.chapter.ident}-{note.number}" class="footnote{kind}">'
                f"{self.blocks(note.blocks)}</li>\n")

    # -- inlines --
    def inlines(self, nodes: Sequence[Inline]) -> str:
        out = []
        for n, node in enumerate(nodes):
            if isinstance(node, Cite):
                following = nodes[n + 1] if n + 1 < len(nodes) else None
                drop = isinstance(following, Str) and following.text.startswith(".")
                out.append(self.cite(node.index, drop))
            else:
                out.append(self.inline(node))
        return "".join(out)

    def inline(self, node: Inline) -> str:
        if isinstance(node, Str):
            return escape(node.text)
        if isinstance(node, Styled):
            return f"<{node.tag}>{self.inlines(node.children)}</{node.tag}>"
        if isinstance(node, Code):
            return f"<code{attributes(node.attr)}>{escape(node.text)}</code>"
        if isinstance(node, Link):
            title = node.title or None
            return (f"<a{attributes(node.attr, href=node.href, title=title)}>"
                    f"{self.inlines(node.children)}</a>")
        if isinstance(node, Image):
            title = node.title or None
            attrs = attributes(node.attr, src=node.src, alt=plain_text(node.alt), title=title)
            return f"<img{attrs} />"
        if isinstance(node, SoftBreak):
            return "\n"
        if isinstance(node, LineBreak):
            return "<br />\n"
        if isinstance(node, RawInline):
            return node.html
        if isinstance(node, Span):
            return f"<span{attributes(node.attr)}>{self.inlines(node.children)}</span>"
        if isinstance(node, NoteRef):
            ident = self.chapter.ident
            ref = f"fnref-{ident}-{node.number}" + (f"-{node.sub}" if node.sub else "")
            return (f'<a href="#fn-{ident}-{node.number}" id="{ref}" class="footnote-ref" '
                    f'role="doc-noteref"><sup>{node.number}</sup></a>')
        if isinstance(node, NoteBack):
            ref = f"fnref-{self.chapter.ident}-{node.number}" + (
                f"-{node.sub}" if node.sub else "")
            return (f' <a href="#{ref}" class="footnote-back" role="doc-backlink">'
                    "\u21a9\ufe0e</a>")
        raise TypeError(f"not an inline: {node!r}")  # pragma: no cover


def plain_text(nodes: Sequence[Inline]) -> str:
    """The text of inlines, without markup (an image's alt text, a heading's title)."""
    out = []
    for node in nodes:
        if isinstance(node, (Str, Code)):
            out.append(node.text)
        elif isinstance(node, (Styled, Span, Link)):
            out.append(plain_text(node.children))
        elif isinstance(node, Image):
            out.append(plain_text(node.alt))
        elif isinstance(node, SoftBreak):
            out.append("\n")
    return "".join(out)


def inline_html(nodes: Sequence[Inline]) -> str:
    """The HTML of inlines outside any chapter (a metadata string, a citation's affix)."""
    def no_citation(index: int, drop: bool) -> str:
        raise ValueError("a citation where none may be")  # pragma: no cover
    return Writer(Chapter("meta", Path("."), ()), no_citation).inlines(nodes)


def chapter_html(chapter: Chapter, cite: CiteWriter, heading_ids: Sequence[str] = ()) -> str:
    """The HTML of a chapter: its blocks, then its notes."""
    return Writer(chapter, cite, heading_ids).chapter_html()
