"""Quotation marks, flip-flop formatting and the punctuation around them.

What a CSL processor does to rendered text beyond citeproc-py (CSL 1.0.2:
"Locale" → "Localized Terms"/"Quotes", ``punctuation-in-quote``; Appendix VI
"Rich Text Markup Within Fields"; "Formatting" → flip-flop), the way
citeproc-js, the reference processor, does it:

* in field text, straight quotes (``"…"``, ``'…'``) and typographic ones that
  pair up are quotations: they become the locale's quotation marks, outer
  and inner alternating with the nesting (also with ``quotes="true"``);
  other apostrophes become ’ (U+2019);
* italics inside italics are upright again, and the same for bold and small
  caps; ``<span class="nodecor">`` undoes the decorations around it;
* with ``punctuation-in-quote``, a period or comma (and ``!``/``?``) right
  after a closing quotation mark goes inside it;
* two punctuation marks meeting where pieces join are merged the way
  citeproc-js does (``"Title?" + "."`` → ``"Title?"``).

Field text is prepared before citeproc-py renders it (:func:`prepare_field`):
quotation marks and apostrophes become markers (so the level can be chosen
after rendering, when the nesting is known), and punctuation that belongs
to the field is kept from being merged.  :func:`finish` does the rest on the
rendered HTML.
"""
from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .markup import (
    AFFIX_QUOTE_CLOSE,
    AFFIX_QUOTE_OPEN,
    APOSTROPHE,
    BOLD,
    ITALIC,
    KEEP,
    NODECOR_CLOSE,
    NODECOR_OPEN,
    QUOTE_CLOSE,
    QUOTE_OPEN,
    SMALL_CAPS,
    encode,
    implicit_nocase,
)

CSL_NS = "http://purl.org/net/xbiblio/csl"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


@dataclass(frozen=True)
class QuoteContext:
    """What the style and its locale say about quotes."""

    punctuation_in_quote: bool = False
    open_quote: str = "\u201c"
    close_quote: str = "\u201d"
    open_inner_quote: str = "\u2018"
    close_inner_quote: str = "\u2019"


# -- the locale ------------------------------------------------------------------------
_TERMS = ("open-quote", "close-quote", "open-inner-quote", "close-inner-quote")


def context_for(style_root: Any, locale: str) -> QuoteContext:
    """The quotation marks and ``punctuation-in-quote`` of ``locale`` for this style.

    Locales are searched as citeproc-py searches them for terms (CSL 1.0.2,
    "Locale Fallback"): the style's own ``cs:locale`` for the dialect, for
    the language and without a language, then the locale files for the
    dialect, the language's primary dialect, and en-US.  For
    ``punctuation-in-quote`` the first locale that sets it wins.

    It also prepares, in place, the text the style itself carries
    (:func:`prepare_style_values`): this is the one hook that sees the style
    before citeproc-py reads it.
    """
    if style_root is not None:
        prepare_style_values(style_root)
    terms: dict[str, str] = {}
    piq: bool | None = None
    for node in _locale_chain(style_root, locale):
        for name in _TERMS:
            if name not in terms:
                value = _term(node, name)
                if value is not None:
                    terms[name] = value
        if piq is None:
            options = node.find(f"{{{CSL_NS}}}style-options")
            if options is not None and options.get("punctuation-in-quote") is not None:
                piq = options.get("punctuation-in-quote", "").strip().lower() == "true"
    default = QuoteContext()
    return QuoteContext(
        punctuation_in_quote=bool(piq),
        open_quote=terms.get("open-quote") or default.open_quote,
        close_quote=terms.get("close-quote") or default.close_quote,
        open_inner_quote=terms.get("open-inner-quote") or default.open_inner_quote,
        close_inner_quote=terms.get("close-inner-quote") or default.close_inner_quote,
    )


def prepare_style_values(style_root: Any) -> None:
    """``<text value="…">`` is rich text, like a field (citeproc-js; test-suite
    ``flipflop_QuotesInFieldNotOnNode``, ``flipflop_BoldfaceNodeLevelMarkup``).

    Affixes are not: a style's ``prefix=" '"`` stays as written
    (``quotes_QuotesUnderQuotesFalse``).  Marking twice changes nothing.
    """
    for node in style_root.iter(f"{{{CSL_NS}}}text"):
        value = node.get("value")
        if value and any(c in value for c in "<\"'\u2018\u2019\u201c\u201d"):
            node.set("value", mark_quotes(encode(value)))


def _locale_chain(style_root: Any, locale: str) -> list[Any]:
    language = locale.split("-")[0]
    chain = []
    in_style = [] if style_root is None else style_root.findall(f"{{{CSL_NS}}}locale")
    for wanted in (locale, language, None):
        for node in in_style:
            if node.get(XML_LANG) == wanted and node not in chain:
                chain.append(node)
    for tag in (locale, _primary_dialect(language), "en-US"):
        node = _system_locale(tag) if tag else None
        if node is not None and all(node is not n for n in chain):
            chain.append(node)
    return chain


def _primary_dialect(language: str) -> str | None:
    try:
        from citeproc import PRIMARY_DIALECTS
    except ImportError:  # pragma: no cover - citeproc-py always has it
        return None
    return PRIMARY_DIALECTS.get(language)


@functools.cache
def _system_locale(tag: str) -> Any:
    """The root of citeproc-py's locale file for ``tag``, or None."""
    import citeproc
    from lxml import etree
    path = Path(citeproc.__file__).parent / "data" / "locales" / f"locales-{tag}.xml"
    if not path.is_file():
        return None
    parser = etree.XMLParser(remove_comments=True, no_network=True, resolve_entities=False)
    return etree.parse(str(path), parser).getroot()


def _term(locale_node: Any, name: str) -> str | None:
    for term in locale_node.iterfind(f"{{{CSL_NS}}}terms/{{{CSL_NS}}}term"):
        if term.get("name") == name and term.get("form") in (None, "long"):
            single = term.find(f"{{{CSL_NS}}}single")
            return (single.text if single is not None else term.text) or ""
    return None


# -- field text ------------------------------------------------------------------------
_PUNCTUATION = ".,;:!?"
_DOUBLE_QUOTES = '"\u201c\u201d'
_QUOTE_CHARS = "\"'\u201c\u201d\u2018\u2019"
_OPEN_AFTER = set(" \t\n\r\u00a0\u202f([{/\u2013\u2014-") | set(_QUOTE_CHARS)
_CLOSE_BEFORE = set(" \t\n\r\u00a0\u202f)]}/\u2013\u2014-\u2026") | set(_PUNCTUATION) \
    | set(_QUOTE_CHARS)
_HIDDEN = re.compile("</?[A-Za-z][^<>]*>|[\ue000-\ue4ff]")
_LINK = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|doi:|10\.\d{4,}/)\S*$", re.IGNORECASE)


def prepare_field(text: str, context: QuoteContext) -> str:
    """Field text (its tags already markers) before citeproc-py renders it."""
    if not text:
        return text
    if _LINK.match(text):  # a URL or DOI is kept exactly: no quotes, no merged punctuation
        return _keep_punctuation(text.replace("'", "'" + KEEP))
    text = mark_quotes(text)
    text = _french_spacing(text)
    text = _keep_punctuation(text)
    return implicit_nocase(text)


def mark_quotes(text: str, affix: bool = False) -> str:
    """Quotations of rich text as :data:`QUOTE_OPEN` … :data:`QUOTE_CLOSE`, apostrophes
    as :data:`APOSTROPHE`.

    A quotation mark opens after a space, a bracket or another quotation mark,
    before text; it closes after text, before a space, punctuation or the end,
    and only a quotation of its kind (double or single) that is open.  Straight
    quotes that pair with nothing stay as written, except ``'``, which is then
    an apostrophe, as is a ``'`` or ``’`` between two letters (``l'Égypte``,
    ``ETFA '09``); typographic ones get :data:`KEEP` before them, so that
    :func:`finish` does not take them for the locale's marks.  Tags and
    markers are transparent.  Punctuation of the field after a quotation gets
    :data:`KEEP` before it: ``punctuation-in-quote`` moves only what is added
    around the field (``What is 'Truth'?`` keeps its question mark outside).

    In the ``affix`` of a cite item only straight quotes are quotations, and
    they get the markers :data:`AFFIX_QUOTE_OPEN` … :data:`AFFIX_QUOTE_CLOSE`,
    which take no punctuation in (test-suite ``affix_CommaAfterQuote``,
    ``flipflop_LeadingMarkupWithApostrophe``).
    """
    if not any(c in text for c in _QUOTE_CHARS):
        return text
    hidden = [False] * len(text)
    for match in _HIDDEN.finditer(text):
        for i in range(match.start(), match.end()):
            hidden[i] = True
    visible = [i for i in range(len(text)) if not hidden[i]]
    replace: dict[int, str] = {}
    stack: list[tuple[str, int]] = []  # (kind, index) of open quotations
    for n, i in enumerate(visible):
        char = text[i]
        if char not in _QUOTE_CHARS:
            continue
        before = text[visible[n - 1]] if n > 0 else None
        after = text[visible[n + 1]] if n + 1 < len(visible) else None
        if char in "'\u2019" and before and after and before.isalnum() and after.isalnum():
            replace[i] = APOSTROPHE
            continue
        if affix and char in "\u201c\u201d\u2018":
            continue
        kind = "double" if char in _DOUBLE_QUOTES else "single"
        can_open = (before is None or before in _OPEN_AFTER) and after is not None \
            and not after.isspace() and char not in "\u201d\u2019"
        can_close = before is not None and not before.isspace() \
            and (after is None or after in _CLOSE_BEFORE) \
            and char not in "\u201c\u2018"
        depth = next((d for d in range(len(stack) - 1, -1, -1) if stack[d][0] == kind), None)
        if depth is not None and n > 0 and stack[depth][1] == visible[n - 1]:
            depth = None  # no empty quotation: three straight quotes after "l" are apostrophes
        if can_close and depth is not None:
            for _, unmatched in stack[depth + 1:]:
                _unmatched(text, unmatched, replace)
            _, opened = stack[depth]
            del stack[depth:]
            replace[opened], replace[i] = ((AFFIX_QUOTE_OPEN, AFFIX_QUOTE_CLOSE) if affix
                                           else (QUOTE_OPEN, QUOTE_CLOSE))
            if not affix and after is not None and after in _PUNCTUATION:
                replace[i] += KEEP  # the field's own punctuation stays where it is
        elif can_open:
            stack.append((kind, i))
        elif char in "'\u2019":
            replace[i] = APOSTROPHE
    for _, unmatched in stack:
        _unmatched(text, unmatched, replace)
    for i in visible:  # a typographic mark that is no quotation must not become one
        if text[i] in "\u201c\u201d\u2018" and i not in replace:
            replace[i] = KEEP + text[i]
    if not replace:
        return text
    return "".join(replace.get(i, c) for i, c in enumerate(text))


def _unmatched(text: str, index: int, replace: dict[int, str]) -> None:
    if text[index] == "'":
        replace[index] = APOSTROPHE
    elif text[index] in "\u201c\u2018":
        replace[index] = KEEP + text[index]


def _french_spacing(text: str) -> str:
    """A space inside guillemets becomes a narrow no-break space (as citeproc-js)."""
    if "\u00ab" not in text and "\u00bb" not in text:
        return text
    text = re.sub("\u00ab[ \t]+", "\u00ab\u202f", text)
    return re.sub("[ \t]+\u00bb", "\u202f\u00bb", text)


_FIELD_PUNCTUATION = re.compile(  # (also with spaces between: "Choice? : Measuring")
    f"([{re.escape(_PUNCTUATION)}])"
    f"(?=(?:</?[A-Za-z][^<>]*>|[\ue000-\ue4ff])* *(?:</?[A-Za-z][^<>]*>|[\ue000-\ue4ff])*"
    f"[{re.escape(_PUNCTUATION)}])")


def _keep_punctuation(text: str) -> str:
    """Two punctuation marks of the field itself (``...``, ``?!``, ``? :``) are not a seam."""
    return _FIELD_PUNCTUATION.sub(lambda m: m.group(1) + KEEP, text)


# -- rendered text ---------------------------------------------------------------------
# The tags of rendered HTML; any other ``<`` or ``>`` is text (a style's affix, which
# citeproc-py does not escape: test-suite ``bugreports_DoubleEncodedAngleBraces``).
_TAG_NAMES = "a|b|br|div|em|i|l|span|strong|sub|sup|u"
_TAG = rf"</?(?:{_TAG_NAMES})\b[^<>]*>"
_TAG_OR_TEXT = re.compile(f"({_TAG})|([^<>]+)|(<)|(>)")
_APOSTROPHE_IN_WORD = re.compile(r"(?<=[^\W\d_])'(?=[^\W\d_])")
# Inside finish, quotation marks are placeholders until the end: opening and closing,
# outer and inner.
_OPEN_PH = ("\uf8f0", "\uf8f1")
_CLOSE_PH = ("\uf8f2", "\uf8f3")
_AFFIX_CLOSE_PH = ("\uf8f4", "\uf8f5")  # closing marks that take no punctuation in
_MARKERS = {QUOTE_OPEN: True, AFFIX_QUOTE_OPEN: True, QUOTE_CLOSE: False,
            AFFIX_QUOTE_CLOSE: False}


def finish(rendered: str, context: QuoteContext) -> str:
    """Rendered HTML of a citation or entry, before the formatting markers become tags."""
    if not rendered:
        return rendered
    text = _escape_stray_brackets(rendered)
    text = _APOSTROPHE_IN_WORD.sub("\u2019", text)  # in names, which are not prepared
    text = _resolve_quotes(text, context)
    text = _flip_flop(text)
    text = _merge_punctuation(text)
    if context.punctuation_in_quote:
        text = _punctuation_in_quote(text)
        text = _merge_punctuation(text)
    marks = {_OPEN_PH[0]: context.open_quote, _OPEN_PH[1]: context.open_inner_quote,
             _CLOSE_PH[0]: context.close_quote, _CLOSE_PH[1]: context.close_inner_quote,
             _AFFIX_CLOSE_PH[0]: context.close_quote,
             _AFFIX_CLOSE_PH[1]: context.close_inner_quote,
             APOSTROPHE: "\u2019", KEEP: "", QUOTE_OPEN: context.open_quote,
             QUOTE_CLOSE: context.close_quote}
    return re.sub("[\uf8f0-\uf8f5\ue02a-\ue02c\ue02f]", lambda m: marks[m.group(0)], text)


def _escape_stray_brackets(text: str) -> str:
    if "<" not in text and ">" not in text:
        return text
    return "".join(tag or plain or ("&lt;" if lt else "&gt;")
                   for tag, plain, lt, _ in _TAG_OR_TEXT.findall(text))


def _resolve_quotes(text: str, context: QuoteContext) -> str:
    """Field quotations and the locale's quotation marks, as placeholders by level."""
    literal = [q for q in {context.open_quote, context.close_quote} if q]
    if not any(q in text for q in (*literal, *_MARKERS)):
        return text
    pattern = "|".join(re.escape(q) for q in sorted({*_MARKERS, *literal},
                                                    key=len, reverse=True))
    out: list[str] = []
    stack: list[str] = []  # "marker" or the literal that opened
    pos = 0
    for match in re.finditer(pattern, text):
        token = match.group(0)
        out.append(text[pos:match.start()])
        pos = match.end()
        if token not in _MARKERS and (_inside_word(text, match) or
                                      text[match.start() - 1:match.start()] == KEEP):
            out.append(token)  # an apostrophe (en-GB ’), or a field's mark that pairs with none
            continue
        if token in _MARKERS:
            opening = _MARKERS[token]
        elif context.open_quote == context.close_quote:
            opening = not (stack and stack[-1] == token)
        else:
            opening = token == context.open_quote
        if opening:
            out.append(_OPEN_PH[len(stack) % 2])
            stack.append("marker" if token in _MARKERS else token)
        elif stack:
            stack.pop()
            closing = _AFFIX_CLOSE_PH if token == AFFIX_QUOTE_CLOSE else _CLOSE_PH
            out.append(closing[len(stack) % 2])
        else:
            out.append(context.close_quote if token in _MARKERS else token)
    out.append(text[pos:])
    return "".join(out)


def _inside_word(text: str, match: re.Match[str]) -> bool:
    before = text[match.start() - 1] if match.start() > 0 else ""
    after = text[match.end()] if match.end() < len(text) else ""
    return before.isalpha() and after.isalpha()


_FORMAT_TOKEN = re.compile(f"{_TAG}|[\ue020-\ue029\ue02d\ue02e]")
_DECORATIONS = {  # kind: (open tag, the span that undoes it)
    "italic": ("<i>", '<span style="font-style:normal;">'),
    "bold": ("<b>", '<span style="font-weight:normal;">'),
    "small-caps": ('<span style="font-variant:small-caps;">',
                   '<span style="font-variant:normal;">'),
}
_OPENING = {"<i>": "italic", ITALIC[0]: "italic", "<b>": "bold", BOLD[0]: "bold",
            '<span style="font-variant:small-caps;">': "small-caps",
            SMALL_CAPS[0]: "small-caps"}
_CLOSING = {"italic": "</i>", "bold": "</b>", "small-caps": "</span>"}
_PLAIN_MARKERS = {"\ue024": ("<sup>", "</sup>"), "\ue026": ("<sub>", "</sub>")}
_CLOSING_MARKERS = {ITALIC[1], BOLD[1], SMALL_CAPS[1], "\ue025", "\ue027", NODECOR_CLOSE}


def _flip_flop(text: str) -> str:
    """Formatting markers and tags, with nested decorations flipped (CSL "flip-flop").

    A field's markup (a marker) inside the same decoration flips it; the style's own
    formatting (a tag) inside the same formatting of the style stays: DIN 1505-2's
    ``<names font-variant="small-caps">`` substituted for a cs:names whose cs:name sets
    small caps too is in small caps, not flipped to normal (as citeproc-js)."""
    if not _FORMAT_TOKEN.search(text):
        return text
    active = {kind: False for kind in _DECORATIONS}
    by_style: set[str] = set()  # decorations the style's tags (not a field) set
    stack: list[tuple[str, dict[str, bool], set[str]]] = []  # closing text, state to restore
    out: list[str] = []
    pos = 0
    for match in _FORMAT_TOKEN.finditer(text):
        out.append(text[pos:match.start()])
        pos = match.end()
        token = match.group(0)
        kind = _OPENING.get(token)
        if kind is not None and token.startswith("<") and kind in by_style:
            out.append(token)  # the style's formatting inside the same: as it is
            stack.append((_CLOSING[kind], dict(active), set(by_style)))
        elif kind is not None:
            saved = dict(active), set(by_style)
            if token.startswith("<") and not active[kind]:
                by_style.add(kind)
            else:
                by_style.discard(kind)
            if active[kind]:
                out.append(_DECORATIONS[kind][1])
                stack.append(("</span>", *saved))
            else:
                out.append(_DECORATIONS[kind][0])
                stack.append((_CLOSING[kind], *saved))
            active[kind] = not active[kind]
        elif token in _PLAIN_MARKERS:
            out.append(_PLAIN_MARKERS[token][0])
            stack.append((_PLAIN_MARKERS[token][1], dict(active), set(by_style)))
        elif token == NODECOR_OPEN:
            styles = "".join(_DECORATIONS[k][1][13:-2] for k in _DECORATIONS if active[k])
            stack.append(("</span>" if styles else "", dict(active), set(by_style)))
            if styles:
                out.append(f'<span style="{styles}">')
            active = {k: False for k in active}
            by_style = set()
        elif token in _CLOSING_MARKERS or token.startswith("</"):
            if stack:
                closing, active, by_style = stack.pop()
                out.append(closing)
            elif token.startswith("</"):
                out.append(token)
        elif token.endswith("/>") or token.startswith("<br"):
            out.append(token)
        else:  # another opening tag: kept, and closed by the next closing tag
            name = re.match(r"<([A-Za-z]+)", token)
            out.append(token)
            stack.append((f"</{name.group(1)}>" if name else "", dict(active), set(by_style)))
    out.append(text[pos:])
    return "".join(out)


_SEAM_TOKEN = re.compile(
    f"(&[#A-Za-z0-9]+;)|({_TAG}|[\ue000-\ue02b\ue02d\ue02e\ue030-\ue4ff])|([.,;:!?])")


def _merge(left: str, right: str) -> str:
    """Which of two punctuation marks meeting at a seam stay: "L", "R" or "LR"."""
    if left == right:
        return "L"
    if right in ":." and left in ";!?" or right == "." and left == ":":
        return "L"
    if left in ":;" and right in "!?":
        return "R"
    return "LR"


_SPACED_SEAM = re.compile(  # a mark, (tags,) spaces, (tags,) a mark: "2021. . https"
    f"([.,;:!?])((?:{_TAG}|[\ue000-\ue02b\ue02d\ue02e\ue030-\ue4ff])*)( +)"
    f"((?:{_TAG}|[\ue000-\ue02b\ue02d\ue02e\ue030-\ue4ff])*)([.,;:!?])( ?)")


def _merge_spaced(match: re.Match[str]) -> str:
    left, before, spaces, after, right, space = match.groups()
    if left != right:  # (as Pandoc: "2019; : 12" stays, "2003. . Penguin" merges)
        return match.group(0)
    return left + before + spaces + after


_QUOTED_SEAM = re.compile(  # a mark, closing quotation marks (and tags), the same mark
    f"([.,;:!?])((?:</(?:{_TAG_NAMES})>|[\ue000-\ue02b\ue02d\ue02e\ue030-\ue4ff])*"
    f"[\uf8f2-\uf8f5](?:</(?:{_TAG_NAMES})>|[\uf8f2-\uf8f5]"
    f"|[\ue000-\ue02b\ue02d\ue02e\ue030-\ue4ff])*)" r"\1")


def _merge_punctuation(text: str) -> str:
    """Merge punctuation marks that meet (across tags), citeproc-js's table.

    Marks kept apart by :data:`KEEP` (a field's own ``...``) or by a
    quotation mark are left alone, but for the same mark on both sides of closing
    quotation marks: the second goes (OSCOLA's "‘Serendipity, n.’" and not
    "‘Serendipity, n.’.", as citeproc-js, whose suffix is dropped when the text before
    ends with it).  Two marks with only spaces between them, where
    one affix ends as the next begins (a group's ``suffix=". "`` after another's), merge
    when they are the same mark, with the second mark's space: "2021. . https" is "2021.
    https", as in Pandoc (citeproc-js keeps both; "2019; : 12" stays in both).
    """
    if sum(text.count(c) for c in _PUNCTUATION) < 2:
        return text
    text = _QUOTED_SEAM.sub(r"\1\2", text)
    text = _SPACED_SEAM.sub(_merge_spaced, text)
    out: list[str] = []
    last: int | None = None  # index in out of the last punctuation mark, if only tags since
    pos = 0
    for match in _SEAM_TOKEN.finditer(text):
        if match.start() > pos:
            out.append(text[pos:match.start()])
            last = None
        pos = match.end()
        entity, hidden, mark = match.groups()
        if entity:
            out.append(entity)
            last = None
        elif hidden:
            out.append(hidden)
        else:
            if last is not None:
                keep = _merge(out[last], mark)
                if keep == "L":
                    continue
                if keep == "R":
                    out[last] = ""
            out.append(mark)
            last = len(out) - 1
    out.append(text[pos:])
    return "".join(out)


_MOVABLE = re.compile(  # closing marks, closing tags and markers (not KEEP); punctuation
    f"([\uf8f2\uf8f3](?:</(?:{_TAG_NAMES})>|[\uf8f2\uf8f3]"
    f"|[\ue000-\ue02b\ue02d\ue02e\ue030-\ue4ff])*)([.,!?]+)")


def _punctuation_in_quote(text: str) -> str:
    """``punctuation-in-quote``: periods, commas (and ``!``, ``?``) after a closing
    quotation mark, even across closing tags, go inside it."""
    return _MOVABLE.sub(lambda m: m.group(2) + m.group(1), text)


def escape_text(text: str) -> str:
    """Escape ``&``, ``<`` and ``>`` except in the formatting tags of
    :func:`.markup.encode`.

    Quotation marks and apostrophes become the markers of this module, as in fields:
    affixes of cite items are rich text too.
    """
    encoded = mark_quotes(encode(text), affix=True)
    return html.escape(encoded, quote=False)
