"""The document tree: blocks and inlines, immutable, each block knowing its source line.

A chapter is read once into this tree (:mod:`.from_markdown`); the book-wide steps are
functions from trees to trees (:mod:`.ids`, ...); :mod:`.html` writes a tree as HTML.
Nothing in a tree is a placeholder: a citation is a :class:`Cite` naming its cluster, a
note call a :class:`NoteRef` naming its note.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Attr:
    """Pandoc's attributes: ``{#id .class key=value}``."""

    id: str = ""
    classes: tuple[str, ...] = ()
    pairs: tuple[tuple[str, str], ...] = ()

    def get(self, key: str, default: str | None = None) -> str | None:
        return next((v for k, v in self.pairs if k == key), default)

    def __bool__(self) -> bool:
        return bool(self.id or self.classes or self.pairs)


NO_ATTR = Attr()


# --- inlines ---------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Str:
    text: str


@dataclass(frozen=True, slots=True)
class Code:
    text: str
    attr: Attr = NO_ATTR


@dataclass(frozen=True, slots=True)
class Styled:
    """Emphasis and the like: ``tag`` is the HTML element (em, strong, sub, sup; del for
    strikeout, as Pandoc writes it)."""

    tag: str
    children: tuple[Inline, ...]


@dataclass(frozen=True, slots=True)
class Span:
    attr: Attr
    children: tuple[Inline, ...]


@dataclass(frozen=True, slots=True)
class Link:
    href: str
    children: tuple[Inline, ...]
    title: str = ""
    attr: Attr = NO_ATTR


@dataclass(frozen=True, slots=True)
class Image:
    src: str
    alt: tuple[Inline, ...]
    title: str = ""
    attr: Attr = NO_ATTR


@dataclass(frozen=True, slots=True)
class SoftBreak:
    pass


@dataclass(frozen=True, slots=True)
class LineBreak:
    pass


@dataclass(frozen=True, slots=True)
class RawInline:
    """Raw HTML as written (made safe when the chapter is written out); or, when its
    ``format`` is another (`` `\\newpage`{=latex} ``), text for another writer, which
    no output of ours shows (the build warns of it)."""

    html: str
    format: str = "html"


@dataclass(frozen=True, slots=True)
class Math:
    """TeX math: ``$...$`` inline, ``$$...$$`` displayed (``{#eq:x}`` numbers it)."""

    tex: str
    display: bool = False
    attr: Attr = NO_ATTR


@dataclass(frozen=True, slots=True)
class Check:
    """A task list's box: ``- [x] done``."""

    checked: bool


@dataclass(frozen=True, slots=True)
class Cite:
    """A citation: the cluster ``index`` of its chapter (see markdown.parse_chapter)."""

    index: int


@dataclass(frozen=True, slots=True)
class NoteRef:
    """A note's call: note ``number`` (1-based in the chapter), ``sub`` for a second call."""

    number: int
    sub: int = 0


@dataclass(frozen=True, slots=True)
class NoteBack:
    """The link back from a note to its call (the last thing in the note)."""

    number: int
    sub: int = 0


Inline = (Str | Code | Styled | Span | Link | Image | SoftBreak | LineBreak | RawInline | Cite
          | NoteRef | NoteBack | Math | Check)


# --- blocks ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Para:
    children: tuple[Inline, ...]
    line: int | None = None
    plain: bool = False  # a tight list's item: no <p>


@dataclass(frozen=True, slots=True)
class Heading:
    level: int
    children: tuple[Inline, ...]
    attr: Attr = NO_ATTR
    line: int | None = None


@dataclass(frozen=True, slots=True)
class CodeBlock:
    text: str
    info: str = ""  # the fence's info string: its language first
    attr: Attr = NO_ATTR
    line: int | None = None
    fenced: bool = True
    caption: tuple[Inline, ...] = ()  # a listing's (pandoc-crossref's {#lst:x})


@dataclass(frozen=True, slots=True)
class RawBlock:
    """Raw HTML as written, or raw text of another ``format`` (see :class:`RawInline`)."""

    html: str
    line: int | None = None
    format: str = "html"


@dataclass(frozen=True, slots=True)
class Rule:
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Quote:
    blocks: tuple[Block, ...]
    line: int | None = None


@dataclass(frozen=True, slots=True)
class ListBlock:
    items: tuple[tuple[Block, ...], ...]
    ordered: bool = False
    start: int | None = None  # an ordered list's first number when not 1
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Cell:
    children: tuple[Inline, ...]
    header: bool = False
    align: str | None = None  # left, center, right


@dataclass(frozen=True, slots=True)
class Table:
    head: tuple[tuple[Cell, ...], ...]
    body: tuple[tuple[Cell, ...], ...]
    line: int | None = None
    caption: tuple[Inline, ...] = ()  # Pandoc's ": caption {#tbl:x}" before or after it
    attr: Attr = NO_ATTR


@dataclass(frozen=True, slots=True)
class Figure:
    """Pandoc's implicit figure: an image alone in its paragraph, its text the caption.
    The figure takes the image's id (``{#fig:x}``)."""

    image: Image
    attr: Attr = NO_ATTR
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Definitions:
    """A definition list: (term, its definitions, each a list of blocks)."""

    items: tuple[tuple[tuple[Inline, ...], tuple[tuple[Block, ...], ...]], ...]
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Div:
    """Pandoc's fenced div: ``::: {#id .class lang=de}`` ... ``:::``."""

    attr: Attr
    blocks: tuple[Block, ...]
    line: int | None = None


@dataclass(frozen=True, slots=True)
class LineBlock:
    """Pandoc's line block: ``| `` lines, their breaks kept."""

    lines: tuple[tuple[Inline, ...], ...]
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Note:
    """A footnote's text, numbered in its chapter; ``citation``: one a citation made."""

    number: int
    blocks: tuple[Block, ...]
    citation: bool = False


Block = (Para | Heading | CodeBlock | RawBlock | Rule | Quote | ListBlock | Table | Definitions
         | Figure | Div | LineBlock)


@dataclass(frozen=True, slots=True)
class Chapter:
    """One Markdown file of the book, read."""

    ident: str  # ch1, ch2, ...: the prefix of its notes' ids
    path: Path
    blocks: tuple[Block, ...]
    notes: tuple[Note, ...] = field(default=())
