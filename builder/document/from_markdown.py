"""markdown-it-py's tokens of a chapter, read into the document tree.

The tokens come from :func:`builder.markdown.parse_chapter` (Pandoc's citations and
footnotes already found there); this module gives them their shape: a block for each
block, an inline for each inline, Pandoc's ``{#id .class key=value}`` attributes attached
to the heading, image, link or code they follow, and each block its line in the file.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from markdown_it.token import Token

from .attributes import parse_attributes, split_leading, split_trailing
from .crossrefs import label_kind
from .html import plain_text
from .nodes import (
    NO_ATTR,
    Attr,
    Block,
    Cell,
    Chapter,
    Check,
    Cite,
    Code,
    CodeBlock,
    Definitions,
    Div,
    Figure,
    Heading,
    Image,
    Inline,
    LineBlock,
    LineBreak,
    Link,
    ListBlock,
    Math,
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

_STYLED = {"em_open": "em", "strong_open": "strong", "s_open": "del", "sub_open": "sub",
           "sup_open": "sup"}
_TASK = re.compile(r"\[([ xX])\]\s")


def read_chapter(parsed: Any) -> Chapter:
    """The tree of a parsed chapter (a :class:`builder.markdown.ParsedChapter`)."""
    reader = _Reader(parsed.source.first_line,
                     parsed.env.get("footnotes", {}).get("list", {}))
    blocks, _ = reader.blocks(parsed.tokens, 0, None)
    return Chapter(parsed.env["chapter_id"], parsed.source.path, tuple(blocks),
                   tuple(reader.notes))


class _Reader:
    def __init__(self, first_line: int, notes: dict[int, Any]) -> None:
        self.first_line = first_line
        self.note_list = notes
        self.notes: list[Note] = []

    def line(self, token: Token) -> int | None:
        return token.map[0] + self.first_line if token.map else None

    def blocks(self, tokens: Sequence[Token], i: int, close: str | None
               ) -> tuple[list[Block], int]:
        """The blocks from ``tokens[i]`` to the token of type ``close`` (its index after)."""
        found: list[Block] = []
        while i < len(tokens):
            token = tokens[i]
            kind = token.type
            if kind == close:
                return _table_captions(_listing_captions(found)), i + 1
            if kind == "paragraph_open":
                para, i = self.paragraph(tokens, i)
                found.append(_figure(para) or para)
                continue
            if kind == "heading_open":
                found.append(self.heading(token, tokens[i + 1]))
                i += 3
                continue
            if kind in ("bullet_list_open", "ordered_list_open"):
                listed, i = self.list_block(tokens, i)
                found.append(listed)
                continue
            if kind == "div_open":
                inner, i = self.blocks(tokens, i + 1, "div_close")
                found.append(Div(parse_attributes(token.info) or NO_ATTR, tuple(inner),
                                 self.line(token)))
                continue
            if kind == "line_block_open":
                lines = []
                i += 1
                while tokens[i].type == "inline":
                    lines.append(tuple(inlines(tokens[i].children or [])))
                    i += 1
                found.append(LineBlock(tuple(lines), self.line(token)))
                i += 1
                continue
            if kind == "blockquote_open":
                inner, i = self.blocks(tokens, i + 1, "blockquote_close")
                found.append(Quote(tuple(inner), self.line(token)))
                continue
            if kind == "table_open":
                table, i = self.table(tokens, i)
                found.append(table)
                continue
            if kind == "dl_open":
                terms, i = self.definitions(tokens, i)
                found.append(terms)
                continue
            if kind == "footnote_block_open":
                i = self.footnotes(tokens, i + 1)
                continue
            raw = re.fullmatch(r"\{=([\w-]+)\}", token.info.strip()) if kind == "fence" \
                else None
            if raw:  # as Pandoc: raw HTML, or text for another writer
                found.append(RawBlock(token.content, self.line(token), _raw_format(raw.group(1))))
            elif kind in ("fence", "code_block"):
                found.append(self.code(token))
            elif kind == "html_block":
                found.append(RawBlock(token.content, self.line(token)))
            elif kind == "hr":
                found.append(Rule(self.line(token)))
            elif kind in ("math_block", "math_block_label"):  # $$ on lines of their own
                label = token.info if kind == "math_block_label" else ""
                found.append(Para((Math(token.content.strip(), True, Attr(label)),),
                                  self.line(token)))
            elif kind == "footnote_anchor":  # a note ending in a list or a quote
                found.append(Para((NoteBack(token.meta["id"] + 1, token.meta.get("subId", 0)),),
                                  plain=True))
            i += 1
        return _table_captions(_listing_captions(found)), i

    def paragraph(self, tokens: Sequence[Token], i: int) -> tuple[Para, int]:
        opening = tokens[i]
        children = inlines(tokens[i + 1].children or [])
        i += 2
        while tokens[i].type == "footnote_anchor":  # the note's link back, inside its last <p>
            children.append(NoteBack(tokens[i].meta["id"] + 1, tokens[i].meta.get("subId", 0)))
            i += 1
        return Para(tuple(children), self.line(opening), plain=opening.hidden), i + 1

    def heading(self, opening: Token, inline: Token) -> Heading:
        children = inlines(inline.children or [])
        attr = NO_ATTR
        if children and isinstance(children[-1], Str):  # "# Title {#id .class}"
            text, found = split_trailing(children[-1].text)
            if found is not None:
                attr = found
                children[-1:] = [Str(text)]
                children = list(_strip_end(tuple(children)))
        return Heading(int(opening.tag[1]), tuple(children), attr, self.line(opening))

    def list_block(self, tokens: Sequence[Token], i: int) -> tuple[ListBlock, int]:
        opening = tokens[i]
        close = opening.type.replace("_open", "_close")
        items: list[tuple[Block, ...]] = []
        i += 1
        while tokens[i].type != close:
            item, i = self.blocks(tokens, i + 1, "list_item_close")
            items.append(tuple(_task(item)))
        start = opening.attrGet("start")
        return ListBlock(tuple(items), opening.type == "ordered_list_open",
                         int(start) if start is not None else None, self.line(opening)), i + 1

    def code(self, token: Token) -> CodeBlock:
        info = token.info.strip()
        attr = NO_ATTR
        if info.startswith("{") and info.endswith("}"):  # ```{.python #id}
            attr = parse_attributes(info[1:-1]) or NO_ATTR
            info = attr.classes[0] if attr.classes else ""
        else:
            rest, found = split_trailing(info)  # ```python {#id}
            if found is not None:
                attr, info = found, rest.strip()
        caption: tuple[Inline, ...] = ()
        if label_kind(attr.id) == "listing" and any(k == "caption" for k, _ in attr.pairs):
            caption = (Str(dict(attr.pairs)["caption"]),)  # pandoc-crossref's caption="..."
            attr = Attr(attr.id, attr.classes, tuple(p for p in attr.pairs if p[0] != "caption"))
        return CodeBlock(token.content, info, attr, self.line(token), token.type == "fence",
                         caption)

    def table(self, tokens: Sequence[Token], i: int) -> tuple[Table, int]:
        opening = tokens[i]
        head: list[tuple[Cell, ...]] = []
        body: list[tuple[Cell, ...]] = []
        rows = head
        row: list[Cell] = []
        i += 1
        while tokens[i].type != "table_close":
            token = tokens[i]
            if token.type == "tbody_open":
                rows = body
            elif token.type == "tr_close":
                rows.append(tuple(row))
                row = []
            elif token.type in ("th_open", "td_open"):
                style = str(token.attrGet("style") or "")
                align = style.split(":", 1)[1] if style.startswith("text-align:") else None
                row.append(Cell(tuple(inlines(tokens[i + 1].children or [])),
                                token.type == "th_open", align))
                i += 2
            i += 1
        return Table(tuple(head), tuple(body), self.line(opening)), i + 1

    def definitions(self, tokens: Sequence[Token], i: int) -> tuple[Definitions, int]:
        opening = tokens[i]
        items: list[tuple[tuple[Inline, ...], tuple[tuple[Block, ...], ...]]] = []
        i += 1
        while tokens[i].type != "dl_close":
            if tokens[i].type == "dt_open":
                items.append((tuple(inlines(tokens[i + 1].children or [])), ()))
                i += 3
            elif tokens[i].type == "dd_open":
                blocks, i = self.blocks(tokens, i + 1, "dd_close")
                term, defs = items[-1]
                items[-1] = (term, (*defs, tuple(blocks)))
            else:
                i += 1
        return Definitions(tuple(items), self.line(opening)), i + 1

    def footnotes(self, tokens: Sequence[Token], i: int) -> int:
        while tokens[i].type != "footnote_block_close":
            token = tokens[i]
            if token.type == "footnote_open":
                ident = token.meta["id"]
                blocks, i = self.blocks(tokens, i + 1, "footnote_close")
                citation = bool(self.note_list.get(ident, {}).get("citation_note"))
                self.notes.append(Note(ident + 1, tuple(blocks), citation))
                continue
            i += 1
        return i + 1


def _task(blocks: list[Block]) -> list[Block]:
    """``- [x] done``: a task list's item begins with its box."""
    first = blocks[0] if blocks else None
    if isinstance(first, Para) and first.children and isinstance(first.children[0], Str):
        match = _TASK.match(first.children[0].text)
        if match:
            rest = first.children[0].text[match.end():]
            children = (Check(match.group(1) != " "),
                        *((Str(rest),) if rest else ()), *first.children[1:])
            return [Para(children, first.line, first.plain), *blocks[1:]]
    return blocks


def _figure(para: Para) -> Figure | None:
    """An image alone in a paragraph, with a caption (its alt text), is a figure."""
    content = [node for node in para.children
               if not (isinstance(node, Str) and not node.text.strip())
               and not isinstance(node, SoftBreak)]
    if para.plain or len(content) != 1 or not isinstance(content[0], Image):
        return None
    image = content[0]
    if not plain_text(image.alt).strip():
        return None
    return Figure(image, Attr(image.attr.id), para.line)


_CAPTION = re.compile(r"^(?:Table)?:\s+")
_LISTING_CAPTION = re.compile(r"^(?:Listing)?:\s+")


def _listing_captions(blocks: list[Block]) -> list[Block]:
    """pandoc-crossref's listing captions: a paragraph ``Listing: caption {#lst:x}`` or
    ``: caption {#lst:x}`` right before or after a code block (after it first) makes the
    block listing ``lst:x``; one with no ``lst`` label is left as it is."""
    out: list[Block] = []
    n = 0
    while n < len(blocks):
        block = blocks[n]
        labelled = _listing_caption(block)
        before = out[-1] if out else None
        following = blocks[n + 1] if n + 1 < len(blocks) else None
        if labelled and isinstance(before, CodeBlock) and not before.caption:
            out[-1] = _listing(before, *labelled)
        elif labelled and isinstance(following, CodeBlock) and not following.caption \
                and not (n + 2 < len(blocks) and _listing_caption(blocks[n + 2])):
            out.append(_listing(following, *labelled))
            n += 1
        else:
            out.append(block)
        n += 1
    return out


def _listing_caption(block: Block) -> tuple[tuple[Inline, ...], Attr] | None:
    if not isinstance(block, Para) or not block.children:
        return None
    first = block.children[0]
    if not isinstance(first, Str):
        return None
    match = _LISTING_CAPTION.match(first.text)
    if not match:
        return None
    rest = first.text[match.end():]
    caption = ((Str(rest),) if rest else ()) + block.children[1:]
    last = caption[-1] if caption else None
    if not isinstance(last, Str):
        return None
    text, attr = split_trailing(last.text)
    if attr is None or label_kind(attr.id) != "listing":
        return None
    return _strip_end(caption[:-1] + (Str(text),)), attr


def _listing(block: CodeBlock, caption: tuple[Inline, ...], attr: Attr) -> CodeBlock:
    merged = Attr(attr.id, block.attr.classes + attr.classes, block.attr.pairs + attr.pairs)
    return CodeBlock(block.text, block.info, merged, block.line, block.fenced, caption)


def _table_captions(blocks: list[Block]) -> list[Block]:
    """Pandoc's table captions: a paragraph ``: caption`` or ``Table: caption`` right
    before or after a table (its ``{#tbl:x}`` at the end) is the table's."""
    out: list[Block] = []
    n = 0
    while n < len(blocks):
        block = blocks[n]
        caption = _caption(block)
        following = blocks[n + 1] if n + 1 < len(blocks) else None
        before = out[-1] if out else None
        if caption is not None and isinstance(before, Table) and not before.caption:
            out[-1] = _captioned(before, caption)  # a table takes the caption after it first
            n += 1
            continue
        if caption is not None and isinstance(following, Table) and not following.caption:
            out.append(_captioned(following, caption))
            n += 2
            continue
        if isinstance(block, Table) and not block.caption and n + 1 < len(blocks):
            after = _caption(blocks[n + 1])
            if after is not None:
                out.append(_captioned(block, after))
                n += 2
                continue
        out.append(block)
        n += 1
    return out


def _caption(block: Block) -> tuple[Inline, ...] | None:
    if not isinstance(block, Para) or not block.children:
        return None
    first = block.children[0]
    if not isinstance(first, Str):
        return None
    match = _CAPTION.match(first.text)
    if not match:
        return None
    rest = first.text[match.end():]
    return ((Str(rest),) if rest else ()) + block.children[1:]


def _captioned(table: Table, caption: tuple[Inline, ...]) -> Table:
    """The table with its caption; the attributes at the caption's end, ``{#tbl:x}`` or
    an empty span ``[]{#tbl:x short-caption="..."}`` (pandoc-crossref and the
    table-short-captions filter), are the table's."""
    attr = NO_ATTR
    bare = _strip_end(caption)
    last = bare[-1] if bare else None
    if isinstance(last, Span) and not last.children and last.attr.id:
        return Table(table.head, table.body, table.line, _strip_end(bare[:-1]), last.attr)
    if caption and isinstance(caption[-1], Str):
        text, found = split_trailing(caption[-1].text)
        if found is not None:
            attr = found
            caption = _strip_end(caption[:-1] + (Str(text),))
    return Table(table.head, table.body, table.line, caption, attr)


def _strip_end(children: tuple[Inline, ...]) -> tuple[Inline, ...]:
    """Inlines without the spaces at their end (before an attribute list taken off)."""
    while children and isinstance(children[-1], Str) and not children[-1].text.strip():
        children = children[:-1]
    if children and isinstance(children[-1], Str):
        children = children[:-1] + (Str(children[-1].text.rstrip()),)
    return children


def inlines(tokens: Sequence[Token]) -> list[Inline]:
    """The inlines of an inline token's children."""
    found, _ = _inlines(tokens, 0, None)
    return _attach_attributes(found)


def _inlines(tokens: Sequence[Token], i: int, close: str | None) -> tuple[list[Inline], int]:
    found: list[Inline] = []
    while i < len(tokens):
        token = tokens[i]
        kind = token.type
        if kind == close:
            return found, i + 1
        if kind in _STYLED:
            inner, i = _inlines(tokens, i + 1, kind.replace("_open", "_close"))
            found.append(Styled(_STYLED[kind], tuple(inner)))
            continue
        if kind == "span_open":
            inner, i = _inlines(tokens, i + 1, "span_close")
            found.append(Span(parse_attributes(token.info) or NO_ATTR, tuple(inner)))
            continue
        if kind == "link_open":
            inner, i = _inlines(tokens, i + 1, "link_close")
            found.append(Link(str(token.attrGet("href") or ""), tuple(inner),
                              str(token.attrGet("title") or ""),
                              _token_attr(token, "href", "title")))
            continue
        if kind in ("text", "attributes"):  # (attributes: attached by _attach_attributes)
            found.append(Str(token.content))
        elif kind == "code_inline":
            found.append(Code(token.content, _token_attr(token)))
        elif kind == "softbreak":
            found.append(SoftBreak())
        elif kind == "hardbreak":
            found.append(LineBreak())
        elif kind == "html_inline":
            found.append(RawInline(token.content))
        elif kind == "image":
            alt, _ = _inlines(token.children or [], 0, None)
            found.append(Image(str(token.attrGet("src") or ""), tuple(alt),
                               str(token.attrGet("title") or ""),
                               _token_attr(token, "src", "alt", "title")))
        elif kind == "citation":
            found.append(Cite(token.meta["index"]))
        elif kind in ("math_inline", "math_inline_double"):
            found.append(Math(token.content.strip(), kind == "math_inline_double"))
        elif kind == "footnote_ref":
            found.append(NoteRef(token.meta["id"] + 1, token.meta.get("subId", 0)))
        i += 1
    return found, i


def _token_attr(token: Token, *known: str) -> Attr:
    """The attributes a markdown-it plugin put on a token (besides the element's own)."""
    attrs = {k: str(v) for k, v in (token.attrs or {}).items() if k not in known}
    if not attrs:
        return NO_ATTR
    classes = tuple(attrs.pop("class", "").split())
    ident = attrs.pop("id", "")
    return Attr(ident, classes, tuple(sorted(attrs.items())))


def _raw_format(name: str) -> str:
    """Pandoc's raw format names: ``html5`` and ``html4`` are HTML too."""
    name = name.lower()
    return "html" if name in ("html4", "html5") else name


def _attach_attributes(found: list[Inline]) -> list[Inline]:
    """``![a](b.png){#fig:x width=50%}``, ``[a](b){.c}``, ```` `x`{.py} ````: the
    attributes that follow an image, a link or inline code are theirs (Pandoc)."""
    out: list[Inline] = []
    for node in found:
        previous = out[-1] if out else None
        if isinstance(node, Str) and isinstance(previous, Code) and node.text.startswith("{="):
            match = re.match(r"\{=([\w-]+)\}", node.text)  # `<b>x</b>`{=html}: raw, as Pandoc
            if match:
                out[-1] = RawInline(previous.text, _raw_format(match.group(1)))
                if node.text[match.end():]:
                    out.append(Str(node.text[match.end():]))
                continue
        text = node.text.lstrip(" ") if isinstance(node, Str) and isinstance(previous, Math) \
            else getattr(node, "text", "")
        if isinstance(node, Str) and text.startswith("{") and isinstance(
                previous, (Image, Link, Code, Math)):
            attr, rest = split_leading(text)
            if attr is not None:
                out[-1] = _with_attr(previous, _merged(previous.attr, attr))
                if rest:
                    out.append(Str(rest))
                continue
        out.append(node)
    return out


def _merged(old: Attr, new: Attr) -> Attr:
    return Attr(new.id or old.id, old.classes + new.classes, old.pairs + new.pairs)


def _with_attr(node: Image | Link | Code | Math, attr: Attr) -> Inline:
    if isinstance(node, Math):
        return Math(node.tex, node.display, attr)
    if isinstance(node, Image):
        return Image(node.src, node.alt, node.title, attr)
    if isinstance(node, Link):
        return Link(node.href, node.children, node.title, attr)
    return Code(node.text, attr)
