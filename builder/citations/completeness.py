"""References missing a field that the chosen style would print (``builder check``).

Which fields a style prints for an item depends on its type and on the style's
conditions, so the style itself is asked: every field of :data:`PROBED` that a
reference lacks is filled with a marker, the bibliography (or, for a style
without one, each citation) is rendered once, and a marker that shows in the
output is a field the style prints and the reference does not have.  One
rendering of the cited references, whatever their number.  (The markers are from
plane 15's private use area: the citation layer keeps U+E000–U+E4FF for itself.)

Fields that are often absent on purpose are not probed: names (styles substitute
the title or the editors for a missing author), dates ("n.d." is a style's
answer), DOI and URL, issue, edition and number.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from .engine import Cite, Processor

_ARTICLES = ("article-journal", "article-magazine", "article-newspaper")
_IN_A_WHOLE = (*_ARTICLES, "chapter", "paper-conference", "entry-dictionary",
               "entry-encyclopedia")
_PUBLISHED = ("book", "chapter", "report", "thesis")
# Each field probed, and the types that have it as a rule (a page range for a book, or a
# volume for a report, is not something to ask an author for).
PROBED: dict[str, tuple[str, ...] | None] = {
    "title": None,  # every type
    "container-title": _IN_A_WHOLE,
    "publisher": _PUBLISHED,
    "publisher-place": _PUBLISHED,
    "volume": ("article-journal",),
    "page": _IN_A_WHOLE,
}
_MARK = re.compile("\U000f0010([a-z-]+)\U000f0011", re.I)


def missing_fields(style_xml: bytes, items: Sequence[dict[str, Any]],
                   locale: str | None = None) -> dict[str, list[str]]:
    """For each item id, the fields of :data:`PROBED` it lacks (among those its type has
    as a rule) and the style prints."""
    probed = []
    for item in items:
        copy = dict(item)
        for name, types in PROBED.items():
            if types is not None and item.get("type") not in types:
                continue
            if not str(copy.get(name) or "").strip():
                copy[name] = f"\U000f0010{name}\U000f0011"
        probed.append(copy)
    if not probed:
        return {}
    processor = Processor(style_xml, probed, locale=locale)
    ids = [str(item["id"]) for item in probed]
    if processor.has_bibliography:
        rendered = processor.render([[Cite(key) for key in ids]]).bibliography
    else:
        output = processor.render([[Cite(key)] for key in ids])
        rendered = list(zip(ids, output.citations, strict=True))
    found: dict[str, list[str]] = {}
    for key, html in rendered:
        names = list(dict.fromkeys(name.lower() for name in _MARK.findall(html)))
        if names:
            found[key] = names
    return found
