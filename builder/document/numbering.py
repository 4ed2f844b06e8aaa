"""A book-wide step: numbers for sections, figures, tables, as a reader meets them.

Sections are numbered when the metadata says ``number-sections: true`` (Pandoc's
``--number-sections``: "1", "1.1", ...; a heading marked ``{-}`` or ``.unnumbered`` gets
none and counts for nothing).  Figures and tables are numbered through the book when
they carry a label (``{#fig:x}``, ``{#tbl-x}``), as in pandoc-crossref and Quarto: an
unlabelled figure keeps its caption and gets no number.  So are displayed equations with
a label (``$$ ... $$ {#eq:x}``), shown "(1)".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .crossrefs import Target, label_kind
from .html import inline_html
from .ids import HeadingId
from .nodes import Chapter, Cite, CodeBlock, Figure, Math, Table
from .walk import blocks, inlines


@dataclass
class Numbers:
    """What the numbering step found: each label's target, each heading's number."""

    targets: dict[str, Target] = field(default_factory=dict)
    sections: list[list[str | None]] = field(default_factory=list)  # per chapter, per heading


def number(chapters: Sequence[Chapter], headings: Sequence[Sequence[HeadingId]],
           number_sections: bool) -> Numbers:
    found = Numbers()
    counters: list[int] = []
    top = min((h.level for hs in headings for h in hs), default=1)
    for chapter_headings in headings:
        numbers: list[str | None] = []
        for heading in chapter_headings:
            if heading.unnumbered:
                numbers.append(None)
                continue
            depth = heading.level - top + 1
            counters[depth:] = []
            counters.extend([0] * (depth - len(counters)))
            counters[depth - 1] += 1
            numbers.append(".".join(str(n) for n in counters))
        found.sections.append(numbers if number_sections else [None] * len(numbers))
        for heading, section in zip(chapter_headings, numbers, strict=True):
            if label_kind(heading.id) == "section" and section is not None:
                found.targets[heading.id] = Target("section", section)
    figures = tables = equations = listings = 0
    for chapter in chapters:
        for node in inlines(chapter):
            if isinstance(node, Math) and node.display and label_kind(node.attr.id) == "equation":
                equations += 1
                found.targets[node.attr.id] = Target("equation", str(equations))
        for block in blocks(chapter):
            if isinstance(block, Figure) and label_kind(block.attr.id) == "figure":
                figures += 1
                found.targets[block.attr.id] = Target("figure", str(figures))
            elif isinstance(block, Table) and label_kind(block.attr.id) == "table":
                tables += 1
                found.targets[block.attr.id] = Target("table", str(tables))
            elif isinstance(block, CodeBlock) and label_kind(block.attr.id) == "listing":
                listings += 1
                found.targets[block.attr.id] = Target("listing", str(listings))
    return found


def listed(chapters: Sequence[Chapter], found: Numbers, word: dict[str, str]
           ) -> dict[str, list[tuple[str, str]]]:
    """The numbered figures and tables, in order: (id, caption HTML "Figure 1: ...")."""
    made: dict[str, list[tuple[str, str]]] = {"figures": [], "tables": []}
    for chapter in chapters:
        for block in blocks(chapter):
            if isinstance(block, Figure) and block.attr.id in found.targets:
                caption, kind = block.image.alt, "figures"
            elif isinstance(block, Table) and block.attr.id in found.targets:
                caption, kind = block.caption, "tables"
            else:
                continue
            number = found.targets[block.attr.id].number
            text = inline_html(tuple(n for n in caption if not isinstance(n, Cite)))
            space = "\u00a0" if "-" in block.attr.id.split(":", 1)[0] else " "
            made[kind].append((block.attr.id, f"{word[kind]}{space}{number}: {text}"))
    return made
