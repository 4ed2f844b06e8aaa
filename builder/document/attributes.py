"""Pandoc's attribute syntax: ``{#identifier .class .class key=value key="a value"}``.

``-`` alone stands for ``.unnumbered`` (on headings, as in Pandoc).
"""
from __future__ import annotations

import re

from .nodes import Attr

_PART = re.compile(r"""\s*(?:
    \#(?P<id>[^\s{}#."'=]+)
  | \.(?P<class>[^\s{}#."'=]+)
  | (?P<key>[A-Za-z_][\w.:-]*)=(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s{}"']+))
  | (?P<dash>-)(?=\s|$)
)""", re.X)


def parse_attributes(text: str) -> Attr | None:
    """The attributes written inside ``{...}`` (without the braces), or None when the
    text is not an attribute list."""
    ident, classes, pairs = "", [], []
    pos = 0
    text = text.strip()
    if not text:
        return None
    while pos < len(text):
        match = _PART.match(text, pos)
        if not match or match.end() == pos:
            return None
        if match.group("id"):
            ident = match.group("id")
        elif match.group("class"):
            classes.append(match.group("class"))
        elif match.group("key"):
            value = next(v for v in (match.group("dq"), match.group("sq"), match.group("bare"))
                         if v is not None)
            pairs.append((match.group("key"), value))
        else:
            classes.append("unnumbered")
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return Attr(ident, tuple(classes), tuple(pairs))


_TRAILING = re.compile(r"\s*\{([^{}]*)\}\s*$")
_LEADING = re.compile(r"^\{([^{}]*)\}")


def split_trailing(text: str) -> tuple[str, Attr | None]:
    """``"Title {#id}"`` → ``("Title", Attr(id))``; text without attributes unchanged."""
    match = _TRAILING.search(text)
    if match:
        attr = parse_attributes(match.group(1))
        if attr is not None:
            return text[:match.start()], attr
    return text, None


def split_leading(text: str) -> tuple[Attr | None, str]:
    """``"{#fig:a width=50%} rest"`` → ``(Attr, " rest")``."""
    match = _LEADING.match(text)
    if match:
        attr = parse_attributes(match.group(1))
        if attr is not None:
            return attr, text[match.end():]
    return None, text
