"""Syntax highlighting of code blocks, in Pandoc's HTML.

Pandoc writes a highlighted block as::

    <div class="sourceCode"><pre class="sourceCode python"><code class="sourceCode python">
    <span class="kw">def</span> f(x): ...

with short class names for its token types (``kw`` keyword, ``cf`` control flow,
``dt`` data type, ``dv`` decimal, ``fl`` float, ``bn`` other base, ``st`` string,
``co`` comment, ``fu`` function, ``op`` operator, ``bu`` built-in, ...).  This
module lexes with Pygments and maps its token types onto those classes, so a
stylesheet written for Pandoc's output works on ours.  Only the token spans are
Pandoc's: there are no per-line ``<span id="cb1-1">`` anchors.

:func:`highlight` gives a block's ``<code>`` element; :func:`code_block` the
whole ``<pre>`` (and ``<div class="sourceCode">``) as Pandoc nests them.  A
language Pygments does not know, or none, gives the code escaped and
unhighlighted; :func:`supported` tells the caller beforehand, to warn.

``wrap`` is for the PDF, where a line cannot scroll: a line longer than ``wrap``
columns is cut into lines of at most ``wrap`` columns, after a space when
there is one in the second half of the line, else after punctuation, else at
the limit; each continuation line starts with :data:`CONTINUATION` in a
``<span class="continuation" aria-hidden="true">``.  The cutting is done on
the text before any markup, so it never falls inside an entity or a tag:
removing the marks and the added line breaks gives the code back exactly.
:func:`wrap_columns` computes ``wrap`` from the measure and the font size.

The output depends only on the arguments (and the Pygments version).
"""
from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.token import (
    Comment,
    Error,
    Generic,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Text,
    Token,
    _TokenType,
)
from pygments.util import ClassNotFound

__all__ = ["CONTINUATION", "TAB_SIZE", "code_block", "highlight", "mono_advance",
           "supported", "wrap_columns"]

#: The mark that starts a continuation line (it counts in ``wrap``'s columns).
CONTINUATION = "\u21aa "
#: The tab stops assumed when counting columns; code.css sets the same ``tab-size``.
TAB_SIZE = 4

# Pygments token types -> Pandoc's classes.  A token takes the class of its nearest
# listed ancestor; "" is Pandoc's NormalTok (no span).
_CLASSES: dict[_TokenType, str] = {
    Token: "",
    Text: "",
    Error: "",                          # a lexer's hiccup: shown plainly, not in red
    Punctuation: "",
    Keyword: "kw",
    Keyword.Constant: "cn",
    Keyword.Namespace: "im",
    Keyword.Type: "dt",
    Name: "",
    Name.Attribute: "at",
    Name.Builtin: "bu",
    Name.Builtin.Pseudo: "va",          # self, cls
    Name.Class: "dt",
    Name.Constant: "cn",
    Name.Decorator: "at",
    Name.Entity: "sc",
    Name.Exception: "bu",
    Name.Function: "fu",
    Name.Function.Magic: "fu",
    Name.Label: "ot",
    Name.Tag: "kw",                     # HTML/XML element names (JSON keys: see below)
    Name.Variable: "va",
    Name.Variable.Magic: "va",
    String: "st",
    String.Char: "ch",
    String.Doc: "co",  # as Pandoc (skylighting) classes a docstring
    String.Escape: "sc",
    String.Interpol: "ss",
    String.Regex: "ss",
    String.Symbol: "ss",
    String.Backtick: "st",
    Number: "dv",
    Number.Float: "fl",
    Number.Hex: "bn",
    Number.Oct: "bn",
    Number.Bin: "bn",
    Operator: "op",
    Operator.Word: "kw",                # and, or, not, in, is
    Comment: "co",
    Comment.Preproc: "pp",
    Comment.PreprocFile: "pp",
    Comment.Special: "al",              # TODO, FIXME in some lexers
    Generic.Deleted: "al",
    Generic.Inserted: "va",
    Generic.Error: "er",
    Generic.Traceback: "er",
    Generic.Heading: "kw",
    Generic.Subheading: "kw",
    Generic.Prompt: "kw",
}
# Per lexer (its first alias): token types whose class differs from the table.
_BY_LANGUAGE: dict[str, dict[_TokenType, str]] = {
    "json": {Name.Tag: "dt"},           # object keys
}
# Keywords that Pandoc (KDE's syntax files) class as control flow.
_CONTROL_FLOW = frozenset("""
    if elif else for while do done until return break continue try except finally raise
    with yield switch case default goto throw catch then fi esac repeat next await
""".split())
# Shell lexers: Pygments leaves a command's name and its options as plain text; Pandoc
# (skylighting's bash.xml) marks them, as it marks a pipe.
_SHELLS = frozenset({"bash", "sh", "zsh", "ksh", "shell", "console"})
_COMMAND_AFTER = frozenset({"|", "||", "&&", ";", "&", "(", "then", "do", "else", "elif",
                            "time", "sudo", "exec", "!"})
_INTEGER = re.compile(r"[0-9][0-9_']*[lLuU]*")
# Characters a cut may follow, best first: spaces, then punctuation.
_SPACE = frozenset(" \t")
_PUNCTUATION = frozenset(",;:)]}([{=+-*/|&.<>")
# Words a line should not end with: a comment's opening is kept with its first word.
_OPENERS = frozenset({"#", "##", "//", "--", "/*", "<!--", "%"})
# Not allowed in XML (the EPUB is XHTML): C0 controls but tab and newline, and noncharacters.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

Segment = tuple[str, str]  # (class, text): class "" is plain text


@functools.cache
def _lexer(language: str) -> Lexer | None:
    try:
        return get_lexer_by_name(language.lower(), stripnl=False, stripall=False,
                                 ensurenl=True, tabsize=0)
    except ClassNotFound:
        return None


def supported(language: str | None) -> bool:
    """Whether ``language`` (a code block's class, as in ```` ```python ````) is
    highlighted; a block in any other language, or none, is set as plain code."""
    return bool(language) and _lexer(str(language)) is not None


def highlight(code: str, language: str | None, wrap: int | None = None) -> str:
    """The ``<code>`` element of a code block: ``<code class="sourceCode LANG">``
    with Pandoc's token spans, or ``<code>`` with the plain code when the
    language is not :func:`supported` (no error: ask :func:`supported` to warn).

    Line ends are normalised to ``\\n`` and one final line end is dropped, as in
    Pandoc's output.  ``wrap`` (columns, at least 4) cuts longer lines; see the
    module's documentation."""
    if wrap is not None and wrap < len(CONTINUATION) + 2:
        raise ValueError(f"wrap must be at least {len(CONTINUATION) + 2} columns, not {wrap}")
    text = code.replace("\r\n", "\n").replace("\r", "\n")
    if text.endswith("\n"):
        text = text[:-1]
    lexer = _lexer(language) if language else None
    if lexer is None:
        lines = [[("", line)] if line else [] for line in text.split("\n")]
        opening = "<code>"
    else:
        lines = _lines(_tokens(lexer, text))
        opening = f'<code class="sourceCode {html.escape(str(language))}">'
    if wrap is not None:
        lines = [piece for line in lines for piece in _wrap(line, wrap)]
    return opening + "\n".join(_render(line) for line in lines) + "</code>"


def code_block(code: str, language: str | None, wrap: int | None = None,
               block_id: str | None = None, classes: Iterable[str] = (),
               attributes: Iterable[tuple[str, str]] = ()) -> str:
    """The whole block as Pandoc writes it: ``<div class="sourceCode" id=...><pre
    class="sourceCode LANG">`` around :func:`highlight` for a supported language,
    ``<pre class="LANG">`` (or ``<pre>``) around plain ``<code>`` otherwise.  The block's
    other classes (``numberLines``) join the ``pre``'s; its other attributes are the
    outer element's, as ``data-`` ones (``data-startFrom="10"``)."""
    inner = highlight(code, language, wrap)
    ident = f' id="{html.escape(block_id)}"' if block_id else ""
    ident += "".join(f' data-{html.escape(k)}="{html.escape(v)}"' for k, v in attributes)
    more = "".join(f" {html.escape(c)}" for c in classes if c != language)
    if supported(language):
        lang = html.escape(str(language))
        return (f'<div class="sourceCode"{ident}><pre class="sourceCode {lang}{more}">'
                f"{inner}</pre></div>")
    names = ((html.escape(language) if language else "") + more).strip()
    pre_class = f' class="{names}"' if names else ""
    return f"<pre{ident}{pre_class}>{inner}</pre>"


# --- lexing ---------------------------------------------------------------------------


def _tokens(lexer: Lexer, text: str) -> list[Segment]:
    """``text`` as (class, text) runs, the runs of one class merged."""
    overrides = _BY_LANGUAGE.get(lexer.aliases[0] if lexer.aliases else "", {})
    runs: list[Segment] = []
    produced = 0
    tokens: Iterable[tuple[_TokenType, str]] = lexer.get_tokens(text)
    if lexer.aliases and lexer.aliases[0] in _SHELLS:
        tokens = _shell_words(tokens)
    for kind, value in tokens:
        if not value:
            continue
        value = value[:max(len(text) - produced, 0)]  # ensurenl's added line end
        produced += len(value)
        if value:
            runs.append((_class(kind, value, overrides), value))
    merged: list[Segment] = []
    for cls, value in runs:
        if merged and merged[-1][0] == cls:
            merged[-1] = (cls, merged[-1][1] + value)
        else:
            merged.append((cls, value))
    if "".join(v for _, v in merged) != text:  # a lexer that altered the text
        return [("", text)]
    return merged


def _shell_words(tokens: Iterable[tuple[_TokenType, str]]
                 ) -> Iterable[tuple[_TokenType, str]]:
    """A shell's plain words typed: the first word of a command as a function, a word
    that starts with ``-`` as an attribute (an option), a pipe or ``&&`` as a keyword."""
    command = True
    for kind, value in tokens:
        word = value.strip()
        if kind in Text.Whitespace or not word:
            if "\n" in value:
                command = True
            yield kind, value
            continue
        if kind is Text and command and re.fullmatch(r"[A-Za-z0-9_.+/-]+", word) \
                and "=" not in word:
            yield Name.Function, value
        elif kind is Text and word.startswith("-") and len(word) > 1:
            yield Name.Attribute, value
        elif kind in Punctuation and word in ("|", "||", "&&"):
            yield Keyword, value
        else:
            yield kind, value
        command = word in _COMMAND_AFTER or (kind in Keyword and word in _COMMAND_AFTER)
    return


def _class(kind: _TokenType, value: str, overrides: dict[_TokenType, str]) -> str:
    cls = None
    probe: Any = kind
    while probe is not None:
        if probe in overrides:
            cls = overrides[probe]
            break
        if probe in _CLASSES:
            cls = _CLASSES[probe]
            break
        probe = probe.parent
    cls = cls or ""
    if cls == "kw" and kind in Keyword and value.strip() in _CONTROL_FLOW:
        return "cf"
    if cls == "fl" and _INTEGER.fullmatch(value.strip()):
        return "dv"  # JavaScript's numbers are all floats to Pygments
    return cls


def _lines(runs: Iterable[Segment]) -> list[list[Segment]]:
    """The runs cut at line ends: no span crosses a line."""
    lines: list[list[Segment]] = [[]]
    for cls, value in runs:
        parts = value.split("\n")
        for i, part in enumerate(parts):
            if i:
                lines.append([])
            if part:
                lines[-1].append((cls, part))
    return lines


# --- wrapping -------------------------------------------------------------------------


def _width(char: str, column: int) -> int:
    """The columns ``char`` takes at ``column`` in a monospace font."""
    if char == "\t":
        return TAB_SIZE - column % TAB_SIZE
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _joins_previous(char: str) -> bool:
    """A character a line may not start with: it belongs to the one before it."""
    return bool(unicodedata.combining(char)) or unicodedata.category(char) in ("Mn", "Me") \
        or char in "\u200d\ufe0e\ufe0f"


def _cuts(text: str, wrap: int) -> list[int]:
    """Where to cut ``text`` so that no piece, a continuation's mark included, is
    wider than ``wrap`` columns."""
    cuts: list[int] = []
    start = 0
    indent = len(text) - len(text.lstrip(" \t"))
    while True:
        column = len(CONTINUATION) if cuts else 0
        limit = start
        while limit < len(text):
            advance = _width(text[limit], column)
            if column + advance > wrap and limit > start:
                break
            column += advance
            limit += 1
        if limit >= len(text):
            return cuts
        lowest = max(start + (limit - start) // 2, indent + 1 if not cuts else start + 1)
        cut = next((i for i in range(limit, lowest - 1, -1)
                    if text[i - 1] in _SPACE and text[i] not in _SPACE
                    and not _joins_previous(text[i]) and not _opener(text, start, i)), 0)
        cut = cut or next((i for i in range(limit, lowest - 1, -1)
                           if text[i - 1] in _PUNCTUATION and text[i] not in _SPACE
                           and not _joins_previous(text[i])), 0)
        if not cut:
            cut = limit
            while cut > start + 1 and _joins_previous(text[cut]):
                cut -= 1
        cuts.append(cut)
        start = cut


def _opener(text: str, start: int, cut: int) -> bool:
    """Whether the word before the spaces that end ``text[start:cut]`` opens a comment."""
    words = text[start:cut].split()
    return bool(words) and words[-1] in _OPENERS


def _wrap(line: list[Segment], wrap: int) -> list[list[Segment]]:
    text = "".join(value for _, value in line)
    cuts = _cuts(text, wrap)
    if not cuts:
        return [line]
    pieces: list[list[Segment]] = [[]]
    bounds = iter([*cuts, len(text) + 1])
    bound = next(bounds)
    at = 0
    for cls, value in line:
        while value:
            if at == bound:
                pieces.append([("continuation", CONTINUATION)])
                bound = next(bounds)
            take = value[:bound - at]
            pieces[-1].append((cls, take))
            at += len(take)
            value = value[len(take):]
    return pieces


# --- markup ---------------------------------------------------------------------------


def _escape(text: str) -> str:
    return html.escape(_NOT_XML.sub("\ufffd", text), quote=False)


def _render(line: list[Segment]) -> str:
    out = []
    for cls, value in line:
        if cls == "continuation":
            out.append(f'<span class="continuation" aria-hidden="true">{_escape(value)}</span>')
        elif cls:
            out.append(f'<span class="{cls}">{_escape(value)}</span>')
        else:
            out.append(_escape(value))
    return "".join(out)


# --- measures -------------------------------------------------------------------------


def wrap_columns(measure_pt: float, font_size_pt: float, *, advance_em: float = 0.6,
                 inset_pt: float = 0.0) -> int:
    """The ``wrap`` for lines of a monospace font whose glyphs are ``advance_em``
    wide (IBM Plex Mono: 0.6), set at ``font_size_pt`` in a column ``measure_pt``
    wide less ``inset_pt`` (the block's borders and padding)."""
    usable = measure_pt - inset_pt
    return max(int(usable / (font_size_pt * advance_em) + 1e-9), 0)


def mono_advance(font_file: Path) -> float:
    """The advance width of a monospace font's glyphs, in em (fontTools)."""
    from fontTools.ttLib import TTFont

    font = TTFont(str(font_file), lazy=True)
    advance, _ = font["hmtx"][font.getBestCmap()[ord("0")]]
    return float(advance) / float(font["head"].unitsPerEm)
