"""The document tree written as HTML: the one serializer of the builder.

The HTML is Pandoc-compatible where Pandoc's is known (``span.citation``, ``figure``,
``section.footnotes``) and otherwise what markdown-it-py writes, so CSS written for
either works.  Citations are written by the caller's ``cite(index, drop_period)``:
``drop_period`` is true when the text goes on with a period, so that a citation ending
in one drops it.
"""
from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .. import highlight
from ..errors import BuildError
from ..sanitize import trust
from .nodes import (
    Attr,
    Block,
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
    styles = []
    for key, value in attr.pairs:
        if key in ("width", "height") and not value.isdigit():  # 60%, 5cm: as Pandoc
            styles.append(f"{key}:{value}")
            continue
        name = key if key in ("lang", "dir", "title", "width", "height", "style") \
            else f"data-{key}"
        parts.append(f' {escape(name)}="{escape(value)}"')
    if styles:
        parts.append(f' style="{escape(";".join(styles))}"')
    return "".join(parts)


#: Where a chapter's notes are written (:attr:`Context.notes`).
NOTES_AT_END = "end"        # HTML: Pandoc's ``section.footnotes`` after the chapter's text
NOTES_AT_CALLS = "calls"    # PDF: each note's text at its call, for CSS ``float: footnote``
NOTES_AS_ASIDES = "asides"  # EPUB: ``aside epub:type="footnote"`` after the text (pop-ups)


@dataclass(frozen=True)
class Context:
    """What the book-wide steps found, for one chapter: its headings' ids and numbers (in
    order), the numbers of the book's figures and tables (by id), the words of captions,
    the number of its first note; and how the format wants it written."""

    heading_ids: Sequence[str] = ()
    sections: Sequence[str | None] = ()
    numbers: Mapping[str, str] = field(default_factory=dict)
    figure: str = "Figure"
    table: str = "Table"
    first_note: int = 1  # notes are numbered through the book (:mod:`.notes`)
    back_label: str = "Back to the text"
    # -- per format --
    notes: str = NOTES_AT_END
    print: bool = False  # for the PDF: math as vector paths, long code lines wrapped
    code_columns: int | None = None  # the PDF's code line length
    math_size: float = 10.5  # the PDF's body size in pt
    long_table: int | None = None  # the PDF: a table of more rows is class "long" (may break)
    block_keys: bool = False  # the PDF: blocks carry data-block keys (see formats.pdf)
    listing: str = "Listing"


class Writer:
    """Writes one chapter: its notes' ids carry the chapter's ident."""

    def __init__(self, chapter: Chapter, cite: CiteWriter, context: Context = Context()
                 ) -> None:
        self.chapter = chapter
        self.cite = cite
        self.context = context
        self.headings_seen = 0
        self.notes = {note.number: note for note in chapter.notes}
        self.blocks_seen = 0
        self.lead: str | None = None
        self.in_note = False

    # -- blocks --
    def chapter_html(self) -> str:
        out = [self.block(block) for block in self.chapter.blocks]
        notes = self.chapter.notes
        if notes and self.context.notes == NOTES_AT_END:
            first = self.context.first_note
            start = f' start="{first}"' if first != 1 else ""
            out.append(f'<section class="footnotes" role="doc-endnotes">\n<ol{start}>\n')
            out.extend(self.note(note) for note in notes)
            out.append("</ol>\n</section>\n")
        elif notes and self.context.notes == NOTES_AS_ASIDES:
            out.extend(self.aside(note, n == 0) for n, note in enumerate(notes))
        return "".join(out)

    def blocks(self, blocks: Sequence[Block]) -> str:
        return "".join(self.block(block) for block in blocks)

    def key(self, heading: bool = False) -> str:
        """`` data-block="ch1-7"`` on the PDF's headings, paragraphs and the like, outside
        notes; the first block after headings names the first of them: ``data-after``
        (formats.pdf starts a page there to keep a paragraph with its note)."""
        if not self.context.block_keys or self.in_note:
            return ""
        self.blocks_seen += 1
        key = f"{self.chapter.ident}-{self.blocks_seen}"
        if heading:
            self.lead = self.lead or key
            return f' data-block="{key}"'
        after, self.lead = (f' data-after="{self.lead}"' if self.lead else ""), None
        return f' data-block="{key}"{after}'

    def block(self, block: Block) -> str:
        html = self._block(block)
        if not isinstance(block, Heading):
            self.lead = None
        return html

    def _block(self, block: Block) -> str:
        if isinstance(block, Para):
            inner = self.inlines(block.children)
            return f"{inner}\n" if block.plain else f"<p{self.key()}>{inner}</p>\n"
        if isinstance(block, Heading):
            return self.heading(block)
        if isinstance(block, Figure):
            return self.figure(block)
        if isinstance(block, ListBlock):
            tag = "ol" if block.ordered else "ul"
            start = f' start="{block.start}"' if block.ordered and block.start not in (
                None, 1) else ""
            items = "".join(self.item(item) for item in block.items)
            tasks = ' class="task-list"' if block.items and all(  # as Pandoc marks them
                item and isinstance(item[0], Para) and item[0].children
                and isinstance(item[0].children[0], Check) for item in block.items) else ""
            return f"<{tag}{start}{tasks}>\n{items}</{tag}>\n"
        if isinstance(block, Quote):
            return f"<blockquote{self.key()}>\n{self.blocks(block.blocks)}</blockquote>\n"
        if isinstance(block, CodeBlock):
            return self.code_block(block)
        if isinstance(block, RawBlock):
            return block.html if block.format == "html" else ""
        if isinstance(block, Rule):
            return "<hr />\n"
        if isinstance(block, Table):
            return self.table(block)
        if isinstance(block, Definitions):
            return self.definitions(block)
        if isinstance(block, Div):
            return f"<div{attributes(block.attr)}>\n{self.blocks(block.blocks)}</div>\n"
        if isinstance(block, LineBlock):
            lines = "<br />\n".join(self.inlines(line) for line in block.lines)
            return f'<div class="line-block">{lines}</div>\n'
        raise TypeError(f"not a block: {block!r}")  # pragma: no cover

    def heading(self, block: Heading) -> str:
        attr, n = block.attr, self.headings_seen
        self.headings_seen += 1
        if n < len(self.context.heading_ids):
            attr = Attr(self.context.heading_ids[n], attr.classes, attr.pairs)
        number = self.context.sections[n] if n < len(self.context.sections) else None
        tag = f"h{block.level}"
        inner = self.inlines(block.children)
        key = self.key(heading=True)
        if number:  # as Pandoc's --number-sections
            return (f'<{tag} data-number="{number}"{attributes(attr)}{key}>'
                    f'<span class="header-section-number">{number}</span> {inner}</{tag}>\n')
        return f"<{tag}{attributes(attr)}{key}>{inner}</{tag}>\n"

    def figure(self, block: Figure) -> str:
        image = block.image
        caption = self.inlines(image.alt)
        number = self.context.numbers.get(block.attr.id)
        if number:
            caption = f"{escape(self.context.figure)}{_space(block.attr.id)}{number}: {caption}"
        img = self.inline(Image(image.src, image.alt, image.title,
                                Attr("", image.attr.classes, image.attr.pairs)))
        return (f"<figure{attributes(block.attr)}>\n{img}\n"
                f"<figcaption>{caption}</figcaption>\n</figure>\n")

    def item(self, blocks: tuple[Block, ...]) -> str:
        tight = all(isinstance(b, Para) and b.plain for b in blocks[:1])
        inner = self.blocks(blocks)
        if tight and inner.endswith("\n") and len(blocks) == 1:
            inner = inner[:-1]
        elif not tight:
            inner = "\n" + inner
        return f"<li{self.key()}>{inner}</li>\n"

    def code_block(self, block: CodeBlock) -> str:
        """As Pandoc writes highlighted code (``div.sourceCode``), its classes too."""
        language = block.info.split()[0] if block.info else (
            block.attr.classes[0] if block.attr.classes else "")
        wrap = self.context.code_columns if self.context.print else None
        number = self.context.numbers.get(block.attr.id)
        if number is None:
            return highlight.code_block(block.text.removesuffix("\n"), language or None, wrap,
                                        block.attr.id or None, block.attr.classes,
                                        block.attr.pairs) + "\n"
        # a listing, as pandoc-crossref writes it: a div with the id, the caption first
        caption = (f"{escape(self.context.listing)}{_space(block.attr.id)}{number}: "
                   f"{self.inlines(block.caption)}")
        code = highlight.code_block(block.text.removesuffix("\n"), language or None, wrap,
                                    None, block.attr.classes, block.attr.pairs)
        kind = " ".join(("listing", *([language] if language else [])))
        return (f'<div id="{escape(block.attr.id)}" class="{escape(kind)}">\n'
                f'<p class="listing-caption">{caption}</p>\n{code}\n</div>\n')

    def math(self, node: Math) -> str:
        """MathML for screens and e-readers, vector paths for the PDF; a displayed
        equation with a label gets its number, "(1)", and its id."""
        from .. import mathrender  # (here: its font takes 0.4 s to load, and few books have math)
        kind = "display" if node.display else "inline"
        if self.context.print:
            try:
                svg, width, height, depth = mathrender.to_svg(node.tex, node.display,
                                                              self.context.math_size)
            except mathrender.MathError as exc:  # (a character the math font lacks)
                raise BuildError(f"TeX math in the PDF: {exc.message}", self.chapter.path,
                                 hint=f"check ${node.tex}$") from None
            data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
            src = trust(f"data:image/svg+xml;base64,{data}")  # drawn here: no input in it
            shown = (f'<img class="math-svg" alt="{escape(node.tex)}" src="{src}" '
                     f'style="width:{width:.2f}pt;height:{height:.2f}pt;'
                     f'vertical-align:{-depth + 0.0:.2f}pt" />')
        else:
            shown = mathrender.to_mathml(node.tex, node.display)
        if not node.display:
            return f'<span class="math inline">{shown}</span>'
        number = self.context.numbers.get(node.attr.id) if node.attr.id else None
        label = f'<span class="equation-number">({number})</span>' if number else ""
        ident = f' id="{escape(node.attr.id)}"' if node.attr.id else ""
        return f'<span class="math {kind}"{ident}>{shown}{label}</span>'

    def table(self, table: Table) -> str:
        attr = table.attr
        if self.context.long_table is not None and \
                len(table.head) + len(table.body) > self.context.long_table:
            attr = Attr(attr.id, (*attr.classes, "long"), attr.pairs)
        out = [f"<table{attributes(attr)}>\n"]
        if table.caption:
            caption = self.inlines(table.caption)
            number = self.context.numbers.get(table.attr.id)
            if number:
                caption = f"{escape(self.context.table)}{_space(table.attr.id)}{number}: {caption}"
            out.append(f"<caption>{caption}</caption>\n")
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
                out.append(f"<dd{self.key()}>{inner}</dd>\n")
        out.append("</dl>\n")
        return "".join(out)

    def number(self, note: int) -> int:
        """A note's number in the book (its number in the chapter counts from 1)."""
        return self.context.first_note + note - 1

    def note_blocks(self, note: Note) -> str:
        self.in_note = True
        try:
            return self.blocks(note.blocks)
        finally:
            self.in_note = False

    def note(self, note: Note) -> str:
        kind = " citation-note" if note.citation else ""
        return (f'<li id="fn-{self.chapter.ident}-{note.number}" class="footnote{kind}">'
                f"{self.note_blocks(note)}</li>\n")

    def aside(self, note: Note, first: bool) -> str:
        """An EPUB pop-up note: its number first, the links back to its calls last."""
        classes = "footnote" + (" citation-note" if note.citation else "") + (
            " first" if first else "")
        label = f'<span class="footnote-label">{self.number(note.number)}.</span> '
        inner = self.note_blocks(note)
        if inner.startswith("<p>"):
            inner = "<p>" + label + inner[3:]
        else:
            inner = label + inner
        return (f'<aside id="fn-{self.chapter.ident}-{note.number}" class="{classes}" '
                f'epub:type="footnote" role="doc-footnote">{inner}</aside>\n')

    def at_call(self, note: Note) -> str:
        """The PDF's note, where it is called: its paragraphs as spans (a note is floated
        to the foot of the page by the stylesheet)."""
        self.in_note = True
        try:
            paras = [self.inlines(b.children) if isinstance(b, Para) else self.phrasing(b)
                     for b in note.blocks]
        finally:
            self.in_note = False
        kind = " citation-note" if note.citation else ""
        inner = "".join(f'<span class="footnote-para">{" " if n else ""}{text}</span>'
                        for n, text in enumerate(p for p in paras if p))
        return (f'<span class="footnote{kind}" id="fn-{self.chapter.ident}-{note.number}">'
                f"{inner}</span>")

    def phrasing(self, block: Block) -> str:
        """A block inside a PDF note, which is phrasing content: its text, line by line."""
        if isinstance(block, Para):
            return self.inlines(block.children)
        if isinstance(block, CodeBlock):
            return f"<code>{escape(block.text.rstrip())}</code>"
        if isinstance(block, LineBlock):
            return "<br />".join(self.inlines(line) for line in block.lines)
        if isinstance(block, ListBlock):
            return " ".join(" ".join(self.phrasing(b) for b in item) for item in block.items)
        if isinstance(block, (Quote, Div)):
            return " ".join(self.phrasing(b) for b in block.blocks)
        if isinstance(block, Heading):
            return self.inlines(block.children)
        return ""

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
            return node.html if node.format == "html" else ""
        if isinstance(node, Math):
            return self.math(node)
        if isinstance(node, Check):  # as Pandoc: a disabled box
            checked = ' checked=""' if node.checked else ""
            return f'<input type="checkbox" disabled=""{checked} />'
        if isinstance(node, Span):
            return f"<span{attributes(node.attr)}>{self.inlines(node.children)}</span>"
        if isinstance(node, NoteRef):
            return self.note_ref(node)
        if isinstance(node, NoteBack):
            if self.context.notes == NOTES_AT_CALLS:
                return ""
            ref = f"fnref-{self.chapter.ident}-{node.number}" + (
                f"-{node.sub}" if node.sub else "")
            label = (f' aria-label="{escape(self.context.back_label)}"'
                     if self.context.notes == NOTES_AS_ASIDES else "")
            return (f' <a href="#{ref}" class="footnote-back" role="doc-backlink"{label}>'
                    "\u21a9\ufe0e</a>")
        raise TypeError(f"not an inline: {node!r}")  # pragma: no cover


    def note_ref(self, node: NoteRef) -> str:
        ident = self.chapter.ident
        ref = f"fnref-{ident}-{node.number}" + (f"-{node.sub}" if node.sub else "")
        note = self.notes.get(node.number)
        if self.context.notes == NOTES_AT_CALLS and not node.sub and note is not None:
            # an empty element at the call: its named destination gives the call's page
            return f'<span class="footnote-call-anchor" id="{ref}"></span>' + self.at_call(note)
        epub = ' epub:type="noteref"' if self.context.notes == NOTES_AS_ASIDES else ""
        return (f'<a href="#fn-{ident}-{node.number}" id="{ref}" class="footnote-ref"{epub} '
                f'role="doc-noteref"><sup>{self.number(node.number)}</sup></a>')


def _space(label: str) -> str:
    """Between a caption's word and its number: pandoc-crossref's ordinary space for its
    labels (``fig:x``), Quarto's no-break space for Quarto's (``fig-x``)."""
    return "\u00a0" if "-" in label.split(":", 1)[0] else " "


def plain_text(nodes: Sequence[Inline]) -> str:
    """The text of inlines, without markup (an image's alt text, a heading's title)."""
    out = []
    for node in nodes:
        if isinstance(node, (Str, Code)):
            out.append(node.text)
        elif isinstance(node, Math):
            out.append(node.tex)
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


def chapter_html(chapter: Chapter, cite: CiteWriter, context: Context = Context()) -> str:
    """The HTML of a chapter: its blocks, then its notes."""
    return Writer(chapter, cite, context).chapter_html()
