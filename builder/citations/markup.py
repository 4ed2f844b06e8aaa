"""Rich text inside reference fields and affixes, carried through citeproc-py.

CSL-JSON fields may hold ``<i>``, ``<b>``, ``<sup>``, ``<sub>``, small caps
(``<sc>`` or the span), ``<span class="nocase">`` and ``<span
class="nodecor">`` (CSL 1.0.2, Appendix VI, "Rich Text Markup Within
Fields").  citeproc-py understands only ``nocase`` and escapes the rest, so the
others travel as private-use characters, which no text-case or escaping
touches, and become tags again after rendering.
"""
from __future__ import annotations

import html
import re

_SMALL_CAPS = '<span style="font-variant:small-caps;">'
_OPEN = {
    "<i>": "\ue020", "<em>": "\ue020", "<b>": "\ue022", "<strong>": "\ue022",
    "<sup>": "\ue024", "<sub>": "\ue026", "<sc>": "\ue028",
    _SMALL_CAPS: "\ue028",
    '<span style="font-variant: small-caps;">': "\ue028",
    '<span class="nodecor">': "\ue02d",
}
_CLOSE_OF = {"\ue020": "\ue021", "\ue022": "\ue023", "\ue024": "\ue025",
             "\ue026": "\ue027", "\ue028": "\ue029", "\ue02d": "\ue02e"}
_TAG_OF = {"\ue020": "<i>", "\ue021": "</i>", "\ue022": "<b>", "\ue023": "</b>",
           "\ue024": "<sup>", "\ue025": "</sup>", "\ue026": "<sub>", "\ue027": "</sub>",
           "\ue028": _SMALL_CAPS, "\ue029": "</span>"}
_TAG = re.compile(r"</?(?:i|em|b|strong|sup|sub|sc)>|<span [^>]*>|</span>", re.IGNORECASE)
_MARKS = re.compile("[\ue020-\ue029]")

# Formatting markers: italic, bold, superscript, subscript, small caps (open, close).
ITALIC, BOLD, SMALL_CAPS = ("\ue020", "\ue021"), ("\ue022", "\ue023"), ("\ue028", "\ue029")
# Markers of the quotation layer (see :mod:`.quotes`): a quotation found in a field,
# opening and closing; an apostrophe; a ``nodecor`` span; and KEEP, invisible, which
# keeps apart what is around it (two punctuation marks of a field, which are no seam
# to merge; the ``<`` of a tag that is text; a typographic mark that is no quotation).
QUOTE_OPEN, QUOTE_CLOSE, APOSTROPHE = "\ue02a", "\ue02b", "\ue02c"
NODECOR_OPEN, NODECOR_CLOSE = "\ue02d", "\ue02e"
KEEP = "\ue02f"  # removed by quotes.finish
# A quotation in the affix of a cite item: its closing mark takes no punctuation in.
AFFIX_QUOTE_OPEN, AFFIX_QUOTE_CLOSE = "\ue031", "\ue032"

# Markers the citation layer puts around each cite and around the first field.
CITE_OPEN, CITE_CLOSE = "\ue000", "\ue001"
# CITE_OPEN is followed by the number of the cite in its cluster, written in base 1024
# with the digits U+E100-U+E4FF (see cite_mark): any number of cites, and every mark
# stays inside the range the citation layer keeps for itself (U+E000-U+E4FF).
CITE_DIGITS = re.compile(CITE_OPEN + "([\ue100-\ue4ff]+)")
_DIGIT_ZERO, _BASE = 0xE100, 0x400
FIELD_OPEN, FIELD_CLOSE = "\ue010", "\ue011"
AUTHOR_MARK = "\ue030"

_NOCASE_OPEN, _NOCASE_CLOSE = '<span class="nocase">', "</span>"
# A small-caps, superscript, subscript or nodecor run that stands as its own words.
_IMPLICIT_NOCASE = re.compile(
    "(?:(?<=\\s)|^)([\ue024\ue026\ue028\ue02d])([^<>\ue024-\ue02e]*)([\ue025\ue027\ue029\ue02e])"
    "(?=\\s|$)")


def cite_mark(number: int) -> str:
    """What opens the ``number``-th cite (from 0) of a cluster: :data:`CITE_OPEN` and the
    number's digits."""
    digits = [chr(_DIGIT_ZERO + number % _BASE)]
    while number >= _BASE:
        number //= _BASE
        digits.append(chr(_DIGIT_ZERO + number % _BASE))
    return CITE_OPEN + "".join(reversed(digits))


def cite_number(digits: str) -> int:
    """The number written by :func:`cite_mark` (its digits, without CITE_OPEN)."""
    number = 0
    for digit in digits:
        number = number * _BASE + ord(digit) - _DIGIT_ZERO
    return number


def encode(text: str) -> str:
    """Field text with its formatting tags turned into markers (nocase kept).

    A closing tag that closes nothing, and an opening tag never closed, are
    text, escaped as such in the output (as CSL processors do).  A span other
    than those above (``nocase``) is kept as written.
    """
    if "<" not in text:
        return text
    out: list[str] = []
    stack: list[tuple[str, int, str]] = []  # (marker or span tag, index in out, tag)
    pos = 0
    for match in _TAG.finditer(text):
        out.append(text[pos:match.start()])
        tag = match.group(0)
        pos = match.end()
        key = tag.lower()
        if key in _OPEN:
            stack.append((_OPEN[key], len(out), tag))
            out.append(_OPEN[key])
        elif key.startswith("<span"):
            stack.append((tag, len(out), tag))  # nocase or an unknown span: kept as written
            out.append(tag)
        elif stack:
            opened, _, _ = stack.pop()
            out.append(_CLOSE_OF.get(opened, tag))
        else:
            out.append(_as_text(tag))
    out.append(text[pos:])
    for opened, index, tag in stack:  # never closed
        out[index] = tag if opened == tag else _as_text(tag)
    return "".join(out)


def _as_text(tag: str) -> str:
    """A tag that is text: :data:`KEEP` after its ``<`` keeps it from being taken as a tag."""
    return tag[0] + KEEP + tag[1:]


def implicit_nocase(text: str) -> str:
    """Small caps, superscripts, subscripts and nodecor runs keep their case.

    citeproc-js never changes the case of these (test-suite
    ``textcase_ImplicitNocase``); citeproc-py knows only ``nocase`` spans, so a
    run that stands as whole words gets one around it, markers included (its
    title case splits words at the edges of a ``nocase`` span).
    """
    if not any(m in text for m in "\ue024\ue026\ue028\ue02d"):
        return text
    return _IMPLICIT_NOCASE.sub(
        lambda m: f"{_NOCASE_OPEN}{m.group(1)}{m.group(2)}{m.group(3)}{_NOCASE_CLOSE}", text)


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

