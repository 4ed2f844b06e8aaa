"""The book as data: frozen dataclasses with no I/O in them.

The pipeline fills them in order: :mod:`builder.sources` makes a
:class:`Project` (metadata, chapter sources, references), :mod:`builder.markdown`
finds the :class:`Cluster` of each citation, :mod:`builder.citations` turns
them into :class:`RenderedCitations`, and :mod:`builder.render` makes the HTML.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Position:
    """Where something is in the user's sources (1-based line and column)."""

    path: Path
    line: int | None = None
    col: int | None = None


class Text(str):
    """A metadata string, read as Markdown as Pandoc reads it: the string is its plain
    text (typographic quotes and dashes, no markup), ``html`` the same as inline HTML
    (made safe) for the templates' prose: ``{{ meta.disclaimer.html }}``."""

    html: str

    def __new__(cls, plain: str, html: str) -> Text:
        text = super().__new__(cls, plain)
        text.html = html
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        return Text, (str(self), self.html)

    def __repr__(self) -> str:  # the cache's digest of the metadata sees the markup too
        return f"Text({str(self)!r}, {self.html!r})"

    def __hash__(self) -> int:
        return hash((str(self), self.html))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Text):
            return str(self) == str(other) and self.html == other.html
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other


@dataclass(frozen=True)
class Author:
    name: str
    role: str | None = None
    bio: str | None = None
    affiliation: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Metadata:
    """The book's metadata.  The keys the builder does not read itself (a Pandoc
    template's ``supervisor``, ``degree``...) are in ``extra``, and the templates see them
    as attributes too: ``{{ meta.supervisor }}``."""

    title: str
    subtitle: str | None = None
    authors: tuple[Author, ...] = ()
    date: str | None = None  # as written ("January 2015", "2018-02-05")
    lang: str = "en"
    category: str | None = None
    tags: tuple[str, ...] = ()
    disclaimer: str | None = None
    publisher: str | None = None
    description: str | None = None
    identifier: str | None = None
    abstract: Text | None = None
    references_title: Text | None = None  # reference-section-title
    extra: tuple[tuple[str, Any], ...] = ()
    date_iso: str | None = None  # the date as ISO 8601 (2015-01), None when it is not one

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "extra":  # (pickle, copy: not a variable)
            raise AttributeError(name)
        for key, value in self.extra:
            if key == name or key.replace("-", "_") == name:
                return value
        raise AttributeError(name)


@dataclass(frozen=True)
class ChapterSource:
    """One Markdown file of the book, its front matter removed."""

    path: Path
    text: str
    first_line: int  # line of the file where ``text`` starts (1-based)


@dataclass(frozen=True)
class Reference:
    """One bibliography entry as CSL-JSON, with where it was defined."""

    key: str
    csl: dict[str, Any]
    position: Position


@dataclass(frozen=True)
class Project:
    root: Path
    metadata: Metadata
    chapters: tuple[ChapterSource, ...]
    references: tuple[Reference, ...]
    style: str = "apa"
    locale: str | None = None
    notes_after_punctuation: bool | None = None  # Pandoc's metadata key; None: not set
    number_sections: bool = False  # Pandoc's number-sections
    nocite: tuple[str, ...] = ()  # keys listed without being cited ("*": all)
    link_citations: bool = True
    link_bibliography: bool = True
    lists: tuple[str, ...] = ()  # "figures" (lof: true), "tables" (lot: true)
    # where 'csl'/'style' and 'locale' were set in the metadata (not on the command line)
    settings: tuple[tuple[str, Position], ...] = ()

    def setting_position(self, *keys: str) -> Position | None:
        found = dict(self.settings)
        return next((found[k] for k in keys if k in found), None)


@dataclass(frozen=True)
class CiteItem:
    """One ``@key`` of a citation, with Pandoc's prefix, locator and suffix."""

    key: str
    prefix: str = ""
    suffix: str = ""
    locator: str | None = None
    label: str | None = None
    suppress_author: bool = False
    author_only: bool = False


@dataclass(frozen=True)
class Cluster:
    """A citation as written: ``[see @a, p. 3; @b]`` or narrative ``@a``."""

    id: str
    items: tuple[CiteItem, ...]
    position: Position
    narrative: bool = False
    note_index: int = 0  # number of the footnote the cluster sits in, 0 = in text
    in_footnote: bool = False  # written in one of the writer's footnotes (not a note it made)
    crossref: bool = False  # @fig:x, @sec-y: a cross-reference (builder.document.crossrefs)
    key_positions: tuple[Position, ...] = ()  # where each item's @key is (for its errors)


@dataclass(frozen=True)
class RenderedCitations:
    """Everything the citation processor produced for the whole book."""

    clusters: dict[str, str]  # cluster id -> HTML of the citation
    bibliography: tuple[tuple[str, str], ...]  # (key, HTML of the entry) in style order
    note_style: bool = False
    numeric: bool = False
    style_title: str = ""
    hanging_indent: bool = False
    second_field_align: str | None = None


@dataclass(frozen=True)
class Chapter:
    """A chapter ready to be written in any format: its tree, what the book-wide steps
    found for it (``context``: heading ids, numbers, its first note's number), and the
    rendering of each of its citations.  ``render.chapter_html`` writes it."""

    id: str
    source: Path
    title: str | None
    tree: Any  # builder.document.Chapter
    context: Any  # builder.document.Context
    cites: tuple[str, ...]  # the HTML of its citations and cross-references, by index
    headings: tuple[tuple[int, str, str], ...] = field(default=())  # (level, id, text)
    images: tuple[str, ...] = ()  # the project files its images are (relative paths)
    keys: tuple[str, ...] = ()  # the bibliography keys it cites
    raw_html: bool = False  # it has raw HTML: its HTML is sanitized
    project_root: Path = Path(".")  # (what raw HTML may load: see builder.sanitize)
    allow_remote: bool = False
