"""Links in the bibliography, as CSL 1.0.2 (Appendix VI, "Links") and Pandoc make them.

An identifier an entry prints (``URL``, ``DOI``, ``PMCID``, ``PMID``) becomes a link: the
URL to itself, a DOI to ``https://doi.org/...``, a PMCID and a PMID to their PubMed
pages.  When the identifier is printed as a URI, the URI's start (``https://doi.org/``) is
part of the anchor; other affix text ("doi: ", "Available from: ") is not.  An entry
that prints none of them gets its title linked (or, without a title, the whole entry) to
the item's DOI, else its PMCID, PMID or URL, as Pandoc does (jgm/citeproc's fixtures
``link_titles`` and ``link_bibitems``).  ``link-bibliography: false`` in the metadata
turns all of this off.

The entries are finished HTML; the identifiers are found in their text (outside tags
and outside any link already there).  A title is found in the text whatever case the
style gave it and whatever quotation marks.
"""
from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

TARGETS = {  # each identifier's link target, from its value
    "URL": "",
    "DOI": "https://doi.org/",
    "PMCID": "https://www.ncbi.nlm.nih.gov/pmc/articles/",
    "PMID": "https://www.ncbi.nlm.nih.gov/pubmed/",
}
# The starts of a URI that print an identifier, included in its anchor.
URI_STARTS = {
    "DOI": ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/"),
    "PMCID": ("https://www.ncbi.nlm.nih.gov/pmc/articles/",),
    "PMID": ("https://www.ncbi.nlm.nih.gov/pubmed/", "https://pubmed.ncbi.nlm.nih.gov/"),
}
_TAG = re.compile(r"<[^>]*>")
_QUOTES = str.maketrans({c: "'" for c in "\u2018\u2019\u201a\u201b\u2032\"\u201c\u201d\u201e"
                         "\u00ab\u00bb\u2039\u203a"})


def link_entry(entry: str, item: Mapping[str, Any]) -> str:
    """The entry with its identifiers, or else its title, linked."""
    linked = False
    for variable in ("URL", "DOI", "PMCID", "PMID"):
        value = str(item.get(variable) or "").strip()
        if not value:
            continue
        found = next((at for form in dict.fromkeys((value, html.escape(value, quote=False)))
                      if (at := _find(entry, form, URI_STARTS.get(variable, ()))) is not None),
                     None)  # (the engine leaves a "&" of a URL as it is; the page escapes it)
        if found is None:
            continue
        start, end = found
        entry = _anchor(entry, start, end, _target(variable, value))
        linked = True
    if linked:
        return entry
    target = next((_target(v, str(item[v]).strip()) for v in ("DOI", "PMCID", "PMID", "URL")
                   if str(item.get(v) or "").strip()), None)
    if target is None:
        return entry
    title = str(item.get("title") or "").strip()
    found = _find_title(entry, title) if title else None
    if found is None:  # no title printed: the whole entry is the anchor
        return _anchor(entry, 0, len(entry), target) if entry.strip() else entry
    return _anchor(entry, *found, target)


def _target(variable: str, value: str) -> str:
    if variable == "URL":
        return value
    for start in URI_STARTS.get(variable, ()):  # a DOI written as its URI
        if value.lower().startswith(start):
            return TARGETS[variable] + value[len(start):]
    return TARGETS[variable] + value


def _text_spans(entry: str) -> list[tuple[int, int]]:
    """Where the text of the entry is (between tags), outside any ``<a>``."""
    spans, depth, pos = [], 0, 0
    for tag in _TAG.finditer(entry):
        if depth == 0 and tag.start() > pos:
            spans.append((pos, tag.start()))
        name = _name(tag.group(0)).lower()
        if name == "a":
            depth += 1
        elif name == "/a":
            depth = max(depth - 1, 0)
        pos = tag.end()
    if depth == 0 and pos < len(entry):
        spans.append((pos, len(entry)))
    return spans


def _find(entry: str, value: str, starts: tuple[str, ...]) -> tuple[int, int] | None:
    """Where ``value`` (escaped) is in the entry's text, its URI start included."""
    for begin, end in _text_spans(entry):
        at = entry.find(value, begin, end)
        if at < 0:
            continue
        for start in starts:
            escaped = html.escape(start, quote=False)
            if entry[max(begin, at - len(escaped)):at].lower() == escaped:
                return at - len(escaped), at + len(value)
        return at, at + len(value)
    return None


def _folded(text: str) -> str:
    """One character for each character: lower case (where that keeps the length), one
    quotation mark for all."""
    text = text.translate(_QUOTES)
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _find_title(entry: str, title: str) -> tuple[int, int] | None:
    """Where the title is in the entry, across its tags (``<i>``...): the text of the
    entry is matched whatever the case and the quotation marks."""
    plain = _folded(html.unescape(_TAG.sub("", title)).strip())
    if not plain:
        return None
    chars: list[tuple[str, int, int]] = []  # each character of the text, where it is
    for begin, end in _text_spans(entry):
        pos = begin
        for match in re.finditer(r"&[#\w]+;|.", entry[begin:end], re.S):
            text = html.unescape(match.group(0))
            chars.append((text, pos + match.start(), pos + match.end()))
    text = _folded("".join(c for c, _, _ in chars))
    if len(text) != len(chars):  # an entity that is several characters: not matched
        return None
    at = text.find(plain)
    if at < 0:
        return None
    return chars[at][1], chars[at + len(plain) - 1][2]


def _name(tag: str) -> str:
    return tag[1:].split(None, 1)[0].rstrip(">/")


def _anchor(entry: str, start: int, end: int, target: str) -> str:
    """The entry with ``<a href>`` around ``start:end``: closing and reopening the tags the
    span crosses, so the HTML stays well formed."""
    inner = entry[start:end]
    opened: list[str] = []
    pieces = []
    pos = 0
    for tag in _TAG.finditer(inner):
        pieces.append(inner[pos:tag.start()])
        text = tag.group(0)
        if text.startswith("</"):
            if opened:
                opened.pop()
                pieces.append(text)
            else:  # closes a tag opened before the span: the link closes first
                pieces.append(f"</a>{text}<a href=\"{html.escape(target)}\">")
        else:
            opened.append(text)
            pieces.append(text)
        pos = tag.end()
    pieces.append(inner[pos:])
    body = "".join(pieces)
    closing = "".join("</" + _name(tag) + ">" for tag in reversed(opened))
    reopening = "".join(opened)
    href = html.escape(target)
    return f'{entry[:start]}<a href="{href}">{body}{closing}</a>{reopening}{entry[end:]}'
