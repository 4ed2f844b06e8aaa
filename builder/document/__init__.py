"""The document model: a chapter as a tree of blocks and inlines, and the steps over it.

- :mod:`.nodes`: the node types (immutable; blocks know their source line);
- :mod:`.from_markdown`: markdown-it-py's tokens read into a tree;
- :mod:`.attributes`: Pandoc's ``{#id .class key=value}``;
- :mod:`.ids`: the book-wide step that gives every heading an id;
- :mod:`.numbering`: the one that numbers sections, figures and tables;
- :mod:`.crossrefs`: the one that writes cross-references (pandoc-crossref's, Quarto's);
- :mod:`.notes`: the one that numbers the notes through the book;
- :mod:`.checks`: the one that finds images without alt text and the like;
- :mod:`.html`: the tree written as HTML (the one serializer);
- :mod:`.walk`: every block, inline, image and piece of raw HTML of a tree.
"""
from . import checks, nodes, numbering, walk
from .crossrefs import latex_labels
from .crossrefs import resolve as resolve_crossrefs
from .from_markdown import read_chapter
from .html import NOTES_AS_ASIDES, NOTES_AT_CALLS, NOTES_AT_END, Context, chapter_html, plain_text
from .ids import HeadingId, Ids, assign
from .nodes import Chapter
from .notes import first_notes
from .numbering import Numbers, number
from .walk import has_print_variant, image_sources, raw_html

__all__ = ["NOTES_AS_ASIDES", "NOTES_AT_CALLS", "NOTES_AT_END", "Chapter", "Context",
           "HeadingId", "Ids", "Numbers", "assign", "chapter_html", "checks", "first_notes",
           "has_print_variant", "image_sources", "latex_labels", "nodes", "number", "numbering",
           "plain_text", "raw_html", "read_chapter", "resolve_crossrefs", "walk"]
