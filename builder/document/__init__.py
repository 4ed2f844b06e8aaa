"""The document model: a chapter as a tree of blocks and inlines, and the steps over it.

- :mod:`.nodes`: the node types (immutable; blocks know their source line);
- :mod:`.from_markdown`: markdown-it-py's tokens read into a tree;
- :mod:`.attributes`: Pandoc's ``{#id .class key=value}``;
- :mod:`.ids`: the book-wide step that gives every heading an id;
- :mod:`.html`: the tree written as HTML (the one serializer);
- :mod:`.walk`: every block, inline, image and piece of raw HTML of a tree.
"""
from .from_markdown import read_chapter
from .html import chapter_html, plain_text
from .ids import HeadingId, Ids, assign
from .nodes import Chapter
from .walk import image_sources, raw_html

__all__ = ["Chapter", "HeadingId", "Ids", "assign", "chapter_html", "image_sources",
           "plain_text", "raw_html", "read_chapter"]
