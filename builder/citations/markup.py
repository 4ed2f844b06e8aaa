"""Rich text inside reference fields and affixes, carried through citeproc-py.

CSL-JSON fields may hold ``<i>``, ``<b>``, ``<sup>``, ``<sub>``, small caps
and ``<span class="nocase">``.  citeproc-py understands only the last and
escapes the rest, so the others travel as private-use characters, which no
text-case or escaping touches, and become tags again after rendering.
"""
from __future__ import annotations

import html
import re

_OPEN = {
    "<i>": "\ue020", "<em>": "\ue020", "<b>": "\ue022", "<strong>": "\ue022",
    "<sup>": "\ue024", "<sub>": "\ue026",
    '<span style="font-variant:small-caps;">': "\ue028",
    '<span style="font-variant: small-caps;">': "\ue028",
}
_CLOSE_OF = {"\ue020": "\ue021", "\ue022": "\ue023", "\ue024": "\ue025",
             "\ue026": "\ue027", "\ue028": "\ue029"}
_TAG_OF = {"\ue020": "<i>", "\ue021": "</i>", "\ue022": "<b>", "\ue023": "</b>",
           "\ue024": "<sup>", "\ue025": "</sup>", "\ue026": "<sub>", "\ue027": "</sub>",
           "\ue028": '<span style="font-variant:small-caps;">', "\ue029": "</span>"}
_TAG = re.compile(r"</?(?:i|em|b|strong|sup|sub)>|<span [^>]*>|</span>", re.I)
_MARKS = re.compile("[\ue020-\ue029]")

# Markers the citation layer puts around each cite and around the first field.
CITE_OPEN, CITE_CLOSE = "\ue000", "\ue001"
CITE_INDEX = 0xE100  # CITE_OPEN is followed by chr(CITE_INDEX + n) for the n-th cite
FIELD_OPEN, FIELD_CLOSE = "\ue010", "\ue011"
AUTHOR_MARK = "\ue030"


def encode(text: str) -> str:
    """Field text with its formatting tags turned into markers (nocase kept)."""
    if "<" not in text:
        return text
    out, stack, pos = [], [], 0
    for match in _TAG.finditer(text):
        out.append(text[pos:match.start()])
        tag = match.group(0)
        pos = match.end()
        if tag.lower() in _OPEN:
            stack.append(_OPEN[tag.lower()])
            out.append(stack[-1])
        elif tag.lower().startswith("<span"):
            stack.append(tag)  # nocase or an unknown span: keep as written
            out.append(tag)
        elif stack:
            opened = stack.pop()
            out.append(_CLOSE_OF.get(opened, tag))
    out.append(text[pos:])
    return "".join(out)


def decode(rendered: str) -> str:
    """Rendered HTML with the formatting markers turned back into tags."""
    return _MARKS.sub(lambda m: _TAG_OF[m.group(0)], rendered)


def strip_markers(text: str) -> str:
    return re.sub("[\ue000-\ue4ff]", "", text)


def plain(rendered_html: str) -> str:
    """Text of rendered HTML, for comparing renderings."""
    return html.unescape(re.sub(r"<[^>]+>", "", strip_markers(rendered_html)))


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def escape_text(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` except in the formatting tags of :func:`encode`."""
    encoded = encode(text)
    return html.escape(encoded, quote=False)
