"""Phase 1b: Markdown to tokens, with Pandoc's citation syntax.

Parsing and rendering are two steps because citations can only be rendered
once every citation of the book is known: :func:`parse_chapter` returns the
token stream and the :class:`~builder.model.Cluster` of each citation (with
its file and line); :func:`builder.document.read_chapter` reads the tokens into the
chapter's tree, which ``render.chapter_html`` writes once :mod:`builder.citations` has
rendered the clusters.
"""
from __future__ import annotations

import bisect
import functools
import re
import weakref
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import html as lxml_html
from markdown_it import MarkdownIt
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.subscript import sub_plugin
from mdit_py_plugins.superscript import superscript_plugin

from .document.attributes import parse_attributes
from .document.crossrefs import is_label
from .document.from_markdown import inlines
from .document.html import inline_html as tree_inline_html
from .errors import BuildError
from .model import ChapterSource, CiteItem, Cluster, Position, Text
from .resources import resolve_reference
from .sanitize import MAX_HTML_DEPTH, Nesting, clean_fragment, refused_resource, resolve_resources

# Pandoc's citation keys: a letter, digit or _, then word characters and
# internal punctuation (punctuation only when a word character follows).
_KEY = r"(?:[\w](?:[\w]|[:.#$%&\-+?<>~/](?=[\w]))*|\{[^{}\n]+\})"
_ITEM = re.compile(rf"(?P<prefix>.*?)(?P<suppress>-?)@(?P<key>{_KEY})(?P<rest>.*)", re.S)
_NARRATIVE = re.compile(rf"@(?P<key>{_KEY})")

# Locator labels as Pandoc knows them (English terms and their abbreviations).
LOCATOR_LABELS: dict[str, str] = {}
for _label, _terms in {
    "book": "book books bk. bks.", "chapter": "chapter chapters chap. chaps. ch. chs.",
    "column": "column columns col. cols.", "figure": "figure figures fig. figs.",
    "folio": "folio folios fol. fols.", "number": "number numbers no. nos.",
    "line": "line lines l. ll.", "note": "note notes n. nn.", "opus": "opus opera op. opp.",
    "page": "page pages p. pp.", "paragraph": "paragraph paragraphs para. paras. ¶ ¶¶",
    "part": "part parts pt. pts.", "section": "section sections sec. secs. § §§",
    "sub-verbo": "s.v. s.vv.", "verse": "verse verses v. vv.",
    "volume": "volume volumes vol. vols.", "table": "table tables tbl.",
    "appendix": "appendix appendices app.", "article": "article articles art. arts.",
    "equation": "equation equations eq. eqs.", "timestamp": "timestamp",
    "algorithm": "algorithm alg.", "rule": "rule rules", "scene": "scene scenes sc.",
    "title": "title titles tit.", "act": "act acts", "canon": "canon canons",
}.items():
    for _term in _terms.split():
        LOCATOR_LABELS[_term] = _label
_LABEL = "|".join(sorted((re.escape(t) for t in LOCATOR_LABELS), key=len, reverse=True))
# a number-like word: digits somewhere ("12", "iv", "A.4.2", "B.1", "S12-3"), as Pandoc reads
_NUMBER = (r"(?:[\w\u2013\u2014\-]+[.:])*[\w\u2013\u2014\-]*\d(?:[\w\u2013\u2014\-.:]*[\w])?"
           r"|[ivxlcdmIVXLCDM]+\b")
_LOCATOR_VALUE = rf"(?:{_NUMBER})(?:\s*(?:,|&|and)\s*(?:{_NUMBER}))*"
_LOCATOR = re.compile(
    rf"\s*(?:(?P<label>{_LABEL})(?!\w)\s*|(?P<nolabel>)(?=\d|\{{))"
    rf"(?:\{{(?P<braced>[^{{}}]*)\}}|(?P<value>{_LOCATOR_VALUE}))(?P<suffix>.*)",
    re.S | re.I,
)


@dataclass
class ParsedChapter:
    source: ChapterSource
    tokens: list[Token]
    env: dict[str, Any]
    clusters: list[Cluster]
    errors: list[BuildError]  # every problem found in the chapter (images, raw HTML)


def make_parser() -> MarkdownIt:
    """The Markdown dialect of the builder: CommonMark, tables, footnotes, citations."""
    md = MarkdownIt("commonmark", {"typographer": True, "html": True,
                                   "maxNesting": MAX_NESTING})
    md.enable(["table", "strikethrough", "smartquotes"])
    md.core.ruler.after("linkify", "pandoc_dashes", _dashes_and_ellipses)
    md.core.ruler.push("escaped_space", _escaped_space)
    md.use(footnote_plugin).use(deflist_plugin)  # (attributes: builder.document reads them)
    # TeX math as Pandoc reads it: no space inside the $ and no digit right after the last
    md.use(dollarmath_plugin, allow_space=False, allow_digits=False, double_inline=True)
    md.block.ruler.before("table", "simple_table", _simple_table)
    md.block.ruler.before("simple_table", "multiline_table", _multiline_table)
    md.use(sub_plugin).use(superscript_plugin)  # H~2~O, x^2^
    md.block.ruler.before("fence", "fenced_div", _fenced_div, {"alt": ["paragraph"]})
    md.block.ruler.before("paragraph", "line_block", _line_block)
    md.inline.ruler.before("link", "bracketed_span", _bracketed_span)
    md.inline.ruler.before("link", "attributes", _attributes)
    md.use(citation_plugin)
    return md


_INLINE: list[MarkdownIt] = []


def inline_text(text: str, source: Path, project_root: Path | None) -> Text:
    """A metadata string as Pandoc reads it: inline Markdown (emphasis, typographic quotes
    and dashes; no citations), its raw HTML made safe."""
    if not _INLINE:
        _INLINE.append(make_parser())
    html = inline_html(_INLINE[0], text)
    html = clean_fragment(resolve_resources(html, source, project_root)).strip()
    plain = lxml_html.fragment_fromstring(f"<span>{html}</span>").text_content() if html else ""
    return Text(plain.strip(), html)


def _dashes_and_ellipses(state: StateCore) -> None:
    """Pandoc's typography (its ``smart`` extension), in place of markdown-it's
    replacements: ``---`` an em dash, ``--`` an en dash, ``...`` an ellipsis, and nothing
    else: "(c)" stays "(c)", "+-" stays "+-", ".." and "!!!!" stay as written."""
    for token in state.tokens:
        if token.type != "inline" or not token.children:
            continue
        in_autolink = 0
        for child in token.children:
            if child.type == "link_open" and child.info == "auto":
                in_autolink += 1
            elif child.type == "link_close" and in_autolink:
                in_autolink -= 1
            elif child.type == "text" and not in_autolink and ("--" in child.content
                                                              or "..." in child.content):
                child.content = _dashes(child.content).replace("...", "\u2026")



_DIV_OPEN = re.compile(r"(:{3,})\s*(?:\{([^{}]*)\}|([\w-]+))\s*:*\s*$")
_DIV_CLOSE = re.compile(r":{3,}\s*$")


def _fenced_div(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """Pandoc's fenced divs: ``::: {#id .class lang=de}`` (or ``::: Warning``) up to a
    line of colons; divs nest."""
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    first = state.getLines(start, start + 1, state.blkIndent, False).strip()
    match = _DIV_OPEN.fullmatch(first)
    if not match:
        return False
    attr = match.group(2) if match.group(2) is not None else f".{match.group(3)}"
    depth, line = 1, start + 1
    while line < end:
        text = state.getLines(line, line + 1, state.blkIndent, False).strip()
        if _DIV_OPEN.fullmatch(text):
            depth += 1
        elif _DIV_CLOSE.fullmatch(text):
            depth -= 1
            if depth == 0:
                break
        line += 1
    if depth:  # never closed: not a div (Pandoc too)
        return False
    if silent:
        return True
    opening = state.push("div_open", "div", 1)
    opening.info, opening.map = attr, [start, line + 1]
    old_max = state.lineMax
    state.lineMax = line
    state.md.block.tokenize(state, start + 1, line)
    state.lineMax = old_max
    state.push("div_close", "div", -1)
    state.line = line + 1
    return True


def _line_block(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """Pandoc's line blocks: lines starting ``| ``, their breaks and indents kept."""
    if state.sCount[start] - state.blkIndent >= 4:
        return False
    line, texts = start, []
    while line < end:
        text = state.getLines(line, line + 1, state.blkIndent, False).rstrip("\n")
        if text.startswith("| ") or text == "|":
            texts.append(text[2:])
        elif texts and text.startswith("  ") and text.strip():  # a continued line
            texts[-1] += " " + text.strip()
        else:
            break
        line += 1
    if not texts or (line < end and state.getLines(line, line + 1, 0, False).strip()
                     and not texts):
        return False
    if silent:
        return True
    opening = state.push("line_block_open", "div", 1)
    opening.map = [start, line]
    for n, text in enumerate(texts):
        indent = len(text) - len(text.lstrip(" "))
        inline = state.push("inline", "", 0)
        inline.content = "\u00a0" * indent + text.lstrip(" ")
        inline.children, inline.map = [], [start + n, start + n + 1]
    state.push("line_block_close", "div", -1)
    state.line = line
    return True


def _bracketed_span(state: StateInline, silent: bool) -> bool:
    """Pandoc's bracketed spans: ``[text]{.smallcaps}``, ``[Қазақ тілі]{lang=kk}``."""
    src, start = state.src, state.pos
    if src[start] != "[" or src.startswith("[^", start):
        return False
    end = _matching_bracket(state, start)
    if end < 0 or src[end + 1:end + 2] != "{":
        return False
    brace = _BRACE.search(src, end + 2)  # the first brace after "{": a "}" closes it
    if brace is None or brace.group(0) != "}":
        return False
    close = brace.start()
    if parse_attributes(src[end + 2:close]) is None:
        return False
    if not silent:
        opening = state.push("span_open", "span", 1)
        opening.info = src[end + 2:close]
        old_pos, old_max = state.pos, state.posMax
        state.pos, state.posMax = start + 1, end
        state.md.inline.tokenize(state)
        state.pos, state.posMax = old_pos, old_max
        state.push("span_close", "span", -1)
    state.pos = close + 1
    return True


# What an attribute list ``{...}`` right after it belongs to (Pandoc; a labelled equation's
# as pandoc-crossref reads it, a space between allowed).
_TAKES_ATTRIBUTES = ("image", "link_close", "code_inline")
_MATH = ("math_inline", "math_inline_double")
_ATTRIBUTE_LIST = re.compile(r"""\{(?:[^{}"']|"[^"]*"|'[^']*')*\}""")
_TRAILING_SPACE = re.compile(r"[ \t]*\Z")


def _attributes(state: StateInline, silent: bool) -> bool:
    """Pandoc's ``{#id .class key="a value"}`` after an image, a link or inline code (a
    heading's or a table caption's at the end of its text): one token, read as it is
    written, so that neither the smart quotes nor the dashes change what is inside.
    ``builder.document`` attaches it to what it follows."""
    src, start = state.src, state.pos
    if src[start] != "{":
        return False
    match = _ATTRIBUTE_LIST.match(src, start, state.posMax)
    if match is None or parse_attributes(match.group(0)[1:-1]) is None:
        return False
    previous = state.tokens[-1] if state.tokens else None
    kind = previous.type if previous is not None else ""
    pending = state.pending
    after = (kind in _TAKES_ATTRIBUTES and not pending) or (
        kind in _MATH and not pending.strip(" "))
    trailing = state.env.get("_trailing_attributes") and _TRAILING_SPACE.match(
        src, match.end(), state.posMax) is not None
    if not (after or trailing):
        return False
    if not silent:
        if after and pending:  # "$x$ {#eq:x}": the space between goes
            state.pending = ""
        token = state.push("attributes", "", 0)
        token.content = match.group(0)
    state.pos = match.end()
    return True


_DASHES = re.compile(r"-{2,}")


def _simple_table(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """Pandoc's simple table: a header line, a line of dashes under each column, rows
    until a blank line; a column's alignment from where its header sits over its dashes
    (flush left: left, flush right: right, neither: center, both: default)."""
    if start + 2 > end or state.sCount[start] - state.blkIndent >= 4:
        return False
    line = state.getLines(start, start + 1, state.blkIndent, False).rstrip("\n")
    rule = state.getLines(start + 1, start + 2, state.blkIndent, False).rstrip("\n")
    if not line.strip() or not re.fullmatch(r"\s*-{2,}(?:\s+-{2,})+\s*", rule):
        return False
    columns = [(m.start(), m.end()) for m in _DASHES.finditer(rule)]
    if silent:
        return True
    rows, last = [], start + 2
    while last < end:
        text = state.getLines(last, last + 1, state.blkIndent, False).rstrip("\n")
        if not text.strip():
            break
        rows.append(text)
        last += 1

    def cells(text: str) -> list[str]:
        bounds = [c[0] for c in columns[1:]] + [max(len(text), columns[-1][1])]
        starts = [0] + bounds[:-1]
        return [text[a:b].strip() for a, b in zip(starts, bounds, strict=True)]

    aligns = []
    for (a, b), head in zip(columns, cells(line), strict=True):
        at = line.find(head, a) if head else a
        left, right = at == a, at + len(head) == b
        aligns.append(None if left and right else "left" if left else "right" if right
                      else "center")
    state.push("table_open", "table", 1).map = [start, last]
    for part, texts, cell in (("thead", [line], "th"), ("tbody", rows, "td")):
        state.push(f"{part}_open", part, 1)
        for row_line, text in enumerate(texts):
            state.push("tr_open", "tr", 1)
            for align, content in zip(aligns, cells(text), strict=True):
                opening = state.push(f"{cell}_open", cell, 1)
                if align:
                    opening.attrs = {"style": f"text-align:{align}"}
                inline = state.push("inline", "", 0)
                inline.content, inline.children = content, []
                row = start if part == "thead" else start + 2 + row_line
                inline.map = [row, row + 1]
                state.push(f"{cell}_close", cell, -1)
            state.push("tr_close", "tr", -1)
        state.push(f"{part}_close", part, -1)
    state.push("table_close", "table", -1)
    state.line = last
    return True


_FULL_RULE = re.compile(r"-{3,}[ \t]*")
_COLUMN_RULE = re.compile(r"-+(?:[ \t]+-+)*[ \t]*")


def _multiline_table(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """Pandoc's multiline table (its multiline_tables extension): a row of dashes, the
    header's lines, a line of dashes under each column, rows separated by blank lines (a
    cell's lines joined), a row of dashes to end it.  Without a header it starts at the
    columns' dashes; without a blank line in it, each line is a row (a headerless simple
    table).  Alignment as Pandoc gives it: from where the shortest line of each column's
    header (or first row) sits over its dashes."""
    if state.sCount[start] - state.blkIndent >= 4:
        return False

    def text(n: int) -> str:
        return state.getLines(n, n + 1, state.blkIndent, False).rstrip("\n")

    first = text(start)
    header: list[str] = []
    if _FULL_RULE.fullmatch(first):   # a header follows, up to the columns' dashes
        line = start + 1
        while line < end and text(line).strip() and not _COLUMN_RULE.fullmatch(text(line)):
            header.append(text(line))
            line += 1
        if not header or line >= end or not _COLUMN_RULE.fullmatch(text(line)):
            return False
        rule_line = line
    elif _COLUMN_RULE.fullmatch(first) and " " in first.strip():
        rule_line = start
    else:
        return False
    rule = text(rule_line)
    line, body = rule_line + 1, []
    while line < end and not _COLUMN_RULE.fullmatch(text(line)):
        if not text(line).strip() and line + 1 < end and not text(line + 1).strip():
            return False   # two blank lines: no table
        body.append((line, text(line)))
        line += 1
    if line >= end or not body or not body[0][1].strip():
        return False
    blank = any(not t.strip() for _, t in body)
    if silent:
        return True
    last = line + 1
    columns = [(m.start(), m.end()) for m in re.finditer(r"-+", rule)]
    if not header and not blank:
        rows = [[(n, t)] for n, t in body]   # a headerless simple table
    else:
        rows, current = [], []
        for n, t in body:
            if t.strip():
                current.append((n, t))
            elif current:
                rows.append(current)
                current = []
        if current:
            rows.append(current)

    def cells(lines: list[tuple[int, str]]) -> list[list[str]]:
        bounds = [c[0] for c in columns[1:]]
        found: list[list[str]] = [[] for _ in columns]
        for _, t in lines:
            starts = [0, *bounds]
            ends = [*bounds, max(len(t), columns[-1][1])]
            for k, (a, b) in enumerate(zip(starts, ends, strict=True)):
                found[k].append(t[a:b])
        return found

    def align(column_lines: list[str], width: int) -> str | None:
        nonempty = [t.rstrip() for t in column_lines if t.strip()]
        if not nonempty:
            return None
        shortest = min(nonempty, key=len)
        left, right = shortest[:1].isspace(), len(shortest) < width
        return ("center" if left and right else "right" if left else "left" if right
                else None)

    sample = cells([(start + 1 + k, t) for k, t in enumerate(header)] if header else rows[0])
    aligns = [align(sample[k], b - a) for k, (a, b) in enumerate(columns)]
    state.push("table_open", "table", 1).map = [start, last]
    parts = ([("thead", [[(start + 1 + k, t) for k, t in enumerate(header)]], "th")]
             if header else []) + [("tbody", rows, "td")]
    for part, part_rows, cell in parts:
        state.push(f"{part}_open", part, 1)
        for row in part_rows:
            state.push("tr_open", "tr", 1)
            for k, texts in enumerate(cells(row)):
                opening = state.push(f"{cell}_open", cell, 1)
                if aligns[k]:
                    opening.attrs = {"style": f"text-align:{aligns[k]}"}
                inline = state.push("inline", "", 0)
                inline.content = "\n".join(t.strip() for t in texts if t.strip())
                inline.children = []
                inline.map = [row[0][0], row[-1][0] + 1]
                state.push(f"{cell}_close", cell, -1)
            state.push("tr_close", "tr", -1)
        state.push(f"{part}_close", part, -1)
    state.push("table_close", "table", -1)
    state.line = last
    return True


def _escaped_space(state: StateCore) -> None:
    """Pandoc's ``\\ ``: a no-break space (after text_join, which joins the escape's text)."""
    for token in state.tokens:
        for child in token.children or []:
            if child.type == "text" and "\\ " in child.content:
                child.content = child.content.replace("\\ ", "\u00a0")


def _no_citation_definition(reference: Any, state: StateBlock, start: int, end: int,
                            silent: bool) -> bool:
    """A line starting ``[@key]:`` (or ``[-@key]:``) is a citation, never the definition of
    a link reference, as in Pandoc: ``[@k]::`` and ``[@a]: text`` are paragraphs."""
    at = state.bMarks[start] + state.tShift[start]
    if state.src.startswith(("[@", "[-@"), at):
        return False
    return bool(reference(state, start, end, silent))


def citation_plugin(md: MarkdownIt) -> None:
    """Pandoc citations: ``[see @a, p. 3; -@b]``, narrative ``@a`` and ``@a [p. 3]``."""
    md.inline.ruler.before("text", "token_limit", _token_limit)
    md.inline.ruler.before("link", "citation_bracket", _bracketed_citation)
    md.inline.ruler.push("citation_narrative", _narrative_citation)
    md.core.ruler.at("inline", _inline_with_note_context)
    if "footnote_inline" in [r.name for r in md.inline.ruler.__rules__]:
        md.inline.ruler.at("footnote_inline", _note_context(md.inline.ruler.__rules__[
            md.inline.ruler.__find__("footnote_inline")].fn))
    reference = md.block.ruler.__rules__[md.block.ruler.__find__("reference")].fn
    md.block.ruler.at("reference", functools.partial(_no_citation_definition, reference))
    md.core.ruler.after("inline", "citation_positions", _resolve_positions)
    md.core.ruler.after("citation_positions", "resource_paths", _resource_paths)
    md.core.ruler.after("resource_paths", "raw_html_resources", _raw_html_resources)
    md.core.ruler.after("raw_html_resources", "raw_html_depth", _raw_html_depth)
    md.core.ruler.after("raw_html_depth", "notes_after_punctuation", _notes_after_punctuation)
    md.core.ruler.after("block", "block_depth", _block_depth)
    md.core.ruler.after("inline", "inline_depth", _inline_depth)


# How deep blockquotes, lists and divs may nest (markdown-it-py's maxNesting: deeper, it
# would leave the rest of the chapter out; each list is two levels).  Pandoc has no limit;
# 100 is far beyond any real document, and what WeasyPrint lays out (see
# builder.sanitize.MAX_HTML_DEPTH).
MAX_NESTING = 100


def _block_depth(state: StateCore) -> None:
    """A block that reaches :data:`MAX_NESTING` is an error at its line: markdown-it-py
    would drop everything inside it, and after it to the end of the chapter."""
    limit = state.md.options["maxNesting"]
    for token in state.tokens:
        if token.nesting == 1 and token.level >= limit - 1:
            _error_at(state, token, f"blocks nested more than {limit} deep (blockquotes, "
                      "lists, divs)", "nest them less deeply")
            state.tokens[:] = [t for t in state.tokens if t.level < limit - 1]
            return


def _inline_depth(state: StateCore) -> None:
    """Emphasis, links and spans nested past :data:`MAX_NESTING` are an error at their
    block's line (markdown-it-py pairs ``*`` delimiters without a limit: 10,000 of them
    nest 5,000 deep); the block's inlines are dropped, as the build stops there."""
    limit = state.md.options["maxNesting"]
    for token in state.tokens:
        depth = deepest = 0
        for child in token.children or ():
            depth += child.nesting
            deepest = max(deepest, depth)
        if deepest > limit:
            _error_at(state, token, f"inline formatting nested more than {limit} deep "
                      "(emphasis, links, spans)", "nest it less deeply")
            token.children = []


def _error_at(state: StateCore, token: Token, message: str, hint: str) -> None:
    """An input error of the chapter at ``token``'s line (kept: all are reported)."""
    source = state.env.get("source")
    line = token.map[0] + source.first_line if source and token.map else None
    state.env.setdefault("errors", []).append(
        BuildError(message, source.path if source else None, line, hint=hint))


# What one chapter may hold.  Each token and note is kept in memory through the build (a
# token costs some 500 bytes, its node in the tree as much again); the largest chapter the
# file size allows (8 MB of ordinary prose) makes some 700,000 tokens.
MAX_TOKENS_PER_CHAPTER = 2_000_000
MAX_NOTES_PER_CHAPTER = 20_000


def _inline_with_note_context(state: StateCore) -> None:
    """The core 'inline' step, knowing whether it is inside a footnote definition.

    It stops at the block where the chapter passes :data:`MAX_TOKENS_PER_CHAPTER` tokens
    or :data:`MAX_NOTES_PER_CHAPTER` notes: an error there (the rest stays unparsed)."""
    in_note, tokens, definitions = False, len(state.tokens), 0
    for at, token in enumerate(state.tokens):
        if token.type == "footnote_reference_open":
            in_note = True
            definitions += 1
            if definitions > MAX_NOTES_PER_CHAPTER:
                return _too_much(state, token, "notes", MAX_NOTES_PER_CHAPTER)
        elif token.type == "footnote_reference_close":
            in_note = False
        elif token.type == "inline":
            if tokens > MAX_TOKENS_PER_CHAPTER:
                return _too_much(state, token, "Markdown elements", MAX_TOKENS_PER_CHAPTER)
            state.env["_in_note"], state.env["_tokens_before"] = in_note, tokens
            state.env["_trailing_attributes"] = _ends_in_attributes(state.tokens, at)
            token.children = token.children or []
            state.md.inline.parse(token.content, state.md, state.env, token.children)
            tokens += len(token.children)
            if tokens > MAX_TOKENS_PER_CHAPTER:
                return _too_much(state, token, "Markdown elements", MAX_TOKENS_PER_CHAPTER)
            if len(state.env.get("footnotes", {}).get("list", {})) > MAX_NOTES_PER_CHAPTER:
                return _too_much(state, token, "notes", MAX_NOTES_PER_CHAPTER)
    state.env["_in_note"] = False
    state.env["_trailing_attributes"] = False


_CAPTION_START = re.compile(r"(?:Table|Listing)?:\s")
_CAPTIONED = {"table_close", "table_open", "fence", "code_block"}


def _ends_in_attributes(tokens: list[Token], at: int) -> bool:
    """Whether the inline ``tokens[at]`` may end in an attribute list: a heading's, or a
    caption's (a paragraph ``: caption``, ``Table: caption`` or ``Listing: caption``
    next to a table or a code block)."""
    before = tokens[at - 1].type if at else ""
    if before == "heading_open":
        return True
    if before != "paragraph_open" or not _CAPTION_START.match(tokens[at].content):
        return False
    return (at >= 2 and tokens[at - 2].type in _CAPTIONED - {"table_open"}) or (
        at + 2 < len(tokens) and tokens[at + 2].type in _CAPTIONED - {"table_close"})


def _token_limit(state: StateInline, silent: bool) -> bool:
    """The first inline rule: once the chapter has passed MAX_TOKENS_PER_CHAPTER tokens,
    the rest of the paragraph is skipped (the chapter's error follows), so that one
    paragraph cannot fill the memory before it is counted."""
    if len(state.tokens) + state.env.get("_tokens_before", 0) <= MAX_TOKENS_PER_CHAPTER:
        return False
    state.pos = state.posMax
    return True


def _too_much(state: StateCore, token: Token, what: str, limit: int) -> None:
    """The error of a chapter that holds more than ``limit`` of ``what`` (at ``token``'s
    line); the inline text of the blocks from there on is left unparsed."""
    _error_at(state, token, f"the chapter holds more than {limit:,} {what}",
              "split it into several chapters, listed in book/book.yml")
    for later in state.tokens:
        if later.type == "inline" and later.children is None:
            later.children = []
    state.env["_in_note"] = False


def _note_context(rule: Any) -> Any:
    """Wrap the inline-footnote rule so citations inside ``^[...]`` know it."""
    def inline_footnote(state: StateInline, silent: bool) -> bool:
        outer = state.env.get("_in_note", False), state.env.get("_note_origin")
        src, base = outer[1] or (state.src, 0)
        state.env["_in_note"] = True
        state.env["_note_origin"] = (src, base + state.pos + 2)  # text after "^["
        try:
            return bool(rule(state, silent))
        finally:
            state.env["_in_note"], state.env["_note_origin"] = outer
    return inline_footnote


# What a citation's note call moves past (Pandoc's notes-after-punctuation; the Chicago
# Manual, 14.21): the sentence's punctuation, closing brackets and closing quotes.  Not
# dashes (the call goes before a dash), nor an apostrophe that begins a word ("'s").
_AFTER_NOTE = re.compile(r"""(?:[.,;:!?\u2026)\]\u201d\u2019\u00bb]|["'](?![\w]))+""")
_CLOSING_QUOTE = re.compile(r"""["'\u201d\u2019\u00bb]+$""")


def _notes_after_punctuation(state: StateCore) -> None:
    """In a note style, move the punctuation after a citation's note call before it:
    "said [@a]." gives "said.¹".  Only the notes made from citations move (as in Pandoc),
    never the writer's own.  With the locale's ``punctuation-in-quote`` (en-US), a period
    or comma moved to a closing quote goes inside it: '"said" [@a].' gives '"said."¹'.

    A style whose citations are superscript numbers (AMA, Nature) is set the same way, as
    in Pandoc: the space before the number goes ("works¹,²"), and the punctuation moves
    only when ``notes-after-punctuation`` is set to true ("works,¹,² statistician")."""
    moves = state.env.get("notes_after_punctuation")
    if state.env.get("note_style"):
        calls, moves = "footnote_ref", moves is not False
    elif state.env.get("superscript"):
        calls, moves = "citation", moves is True
    else:
        return
    for token in state.tokens:
        if token.type == "inline" and token.children:
            if calls == "citation":
                _close_up(token.children)
            if moves:
                _move_punctuation(token.children, calls,
                                  state.env.get("punctuation_in_quote", False))


def _close_up(children: list[Token]) -> None:
    """No space before a superscript citation."""
    for n, child in enumerate(children):
        if child.type == "citation" and n > 0 and children[n - 1].type == "text":
            children[n - 1].content = children[n - 1].content.rstrip(" \t\n")


def _move_punctuation(children: list[Token], calls: str, inside_quotes: bool) -> None:
    for n in reversed(range(len(children))):  # from the end: an insertion shifts nothing ahead
        child = children[n]
        if child.type != calls or (calls == "footnote_ref" and "citation" not in child.meta):
            continue
        after = children[n + 1] if n + 1 < len(children) else None
        if after is None or after.type != "text":
            continue
        moved = _AFTER_NOTE.match(after.content)
        if not moved:
            continue
        after.content = after.content[moved.end():]
        punctuation = moved.group(0)
        before = children[n - 1] if n > 0 and children[n - 1].type == "text" else None
        if before is None:
            before = Token("text", "", 0)
            children.insert(n, before)
        quote = _CLOSING_QUOTE.search(before.content) if inside_quotes else None
        if quote and punctuation[0] in ".,":
            before.content = (before.content[:quote.start()] + punctuation[0]
                              + quote.group(0) + punctuation[1:])
        else:
            before.content += punctuation


def parse_locator(text: str) -> tuple[str | None, str | None, str]:
    """Split ``", pp. 33-35, emphasis added"`` into (label, locator, suffix).

    As in Pandoc: the comma before a locator may be left out when the locator
    has a label (``[@a p. 33]``); braces protect a locator with commas
    (``{pp. iv, vi-xi}``); text that is no locator stays the suffix, comma and all.
    """
    stripped = text.strip()
    comma = stripped.startswith(",")
    candidate = stripped[1:] if comma else stripped
    match = _LOCATOR.match(candidate)
    if not match or not (comma or match.group("label")):
        return None, None, stripped
    term = match.group("label")
    value = match.group("value")
    if match.group("braced") is not None:
        term, value = _braced_label(match.group("braced"), term)
    label = LOCATOR_LABELS[term.lower()] if term else "page"
    return label, _dashes(value.strip()), match.group("suffix").strip()


def _dashes(text: str) -> str:
    """Pandoc's typography in a locator: ``---`` an em dash, ``--`` an en dash
    (so that ``pp. 33--35`` is a range)."""
    return text.replace("---", "\u2014").replace("--", "\u2013")


def _braced_label(braced: str, term: str | None) -> tuple[str | None, str]:
    """``{pp. iv, vi-xi}``: a label may stand inside the braces too."""
    if term:
        return term, braced
    inner = re.match(rf"\s*(?P<label>{_LABEL})(?!\w)\s*(?P<value>.*)", braced, re.S | re.I)
    if inner:
        return inner.group("label"), inner.group("value")
    return None, braced


def parse_cite_items(content: str) -> list[CiteItem] | None:
    """The items of a bracketed citation, or None when it is not a citation."""
    items = []
    for part in content.split(";"):
        match = _ITEM.fullmatch(part)
        prefix = match.group("prefix") if match else ""
        if not match or (prefix and (prefix[-1].isalnum() or prefix[-1] == "\\")):
            return None
        label, locator, suffix = parse_locator(match.group("rest"))
        items.append(CiteItem(
            key=_bare_key(match.group("key")),
            prefix=match.group("prefix").strip(),
            suffix=suffix, locator=locator, label=label,
            suppress_author=bool(match.group("suppress")),
        ))
    return items


def _bare_key(key: str) -> str:
    return key[1:-1].strip() if key.startswith("{") else key


def _bracketed_citation(state: StateInline, silent: bool) -> bool:
    src, start = state.src, state.pos
    if state.env.get("_affix"):  # Markdown of a prefix or suffix: no citation in a citation
        return False
    if src[start] != "[" or src.startswith("[^", start) or "@" not in src[start:start + 400]:
        return False
    end = _matching_bracket(state, start)
    if end < 0 or src[end + 1:end + 2] in ("(", "["):  # a link: [text](url), [text][ref]
        return False
    items = parse_cite_items(src[start + 1:end])
    if not items:
        return False
    if not silent:
        at = src.find("@", start, end)  # a bracket that opens a line above: the key's line
        keys, cursor = [], start
        for item in items:  # each key's place, for its own error
            found = src.find(f"@{item.key}", cursor, end)
            if found < 0:  # "@{key}", or a key written with escapes
                found = src.find("@", cursor, end)
            keys.append(found if found >= 0 else start)
            cursor = found + 1 if found >= 0 else cursor
        _push_cluster(state, items, at if "\n" in src[start:at] else start, narrative=False,
                      key_offsets=keys)
    state.pos = end + 1
    return True


def _narrative_citation(state: StateInline, silent: bool) -> bool:
    src, start = state.src, state.pos
    if state.env.get("_affix"):
        return False
    if src[start] != "@" or (start > 0 and (src[start - 1].isalnum() or src[start - 1] in "@\\")):
        return False
    match = _NARRATIVE.match(src, start, state.posMax)
    if not match:
        return False
    end = match.end()
    item = CiteItem(key=_bare_key(match.group("key")))
    items = [item]
    after = _OPEN_BRACKET.match(src, end, state.posMax)
    if after and not is_label(item.key):  # (a cross-reference takes no locator)
        close = _matching_bracket(state, after.end() - 1)
        inner = src[after.end():close] if close > 0 else ""
        # "@a [p. 3]", and as Pandoc "@a [p. 3; @b]": the first part is the narrative
        # cite's locator and suffix, the others more cites of the same citation.
        first, _, others = inner.partition(";") if "@" in inner else (inner, "", "")
        if "@" in first:  # "@a [see @b]": all of it more cites
            first, others = "", inner
        more = parse_cite_items(others) if others else []
        if close > 0 and more is not None and src[close + 1:close + 2] not in ("(", "["):
            label, locator, suffix = parse_locator(", " + first) if first else (None, None, "")
            items = [CiteItem(key=item.key, locator=locator, label=label, suffix=suffix),
                     *more]
            end = close + 1
    if not silent:
        _push_cluster(state, items, start, narrative=True)
    state.pos = end
    return True


def _matching_bracket(state: StateInline, start: int) -> int:
    """The position of the ``]`` that closes the ``[`` at ``start`` (before ``posMax``
    and before a blank line), or -1.

    Every bracket of the inline text is matched once, with a stack, the first time one is
    asked for: a paragraph of thousands of unclosed ``[`` costs linear time, not a scan to
    its end from each of them.  (A backslash does not hide the bracket after it.)
    """
    src = state.src
    known = _BRACKETS.get(state)
    if known is None or known[0] is not src:
        known = _BRACKETS[state] = (src, _match_brackets(src))
    end = known[1].get(start, -1)
    return end if 0 <= end < state.posMax else -1


def _match_brackets(src: str) -> dict[int, int]:
    """The position of each ``]`` of ``src`` by the position of its ``[``; no bracket is
    matched across a blank line."""
    matches: dict[int, int] = {}
    opened: list[int] = []
    for found in _BRACKET_OR_BREAK.finditer(src):
        char, pos = found.group(0), found.start()
        if char == "[":
            opened.append(pos)
        elif char == "]":
            if opened:
                matches[opened.pop()] = pos
        else:  # a blank line
            opened.clear()
    return matches


# The matched brackets of each inline parse (see _matching_bracket), while it runs.
_BRACKETS: weakref.WeakKeyDictionary[StateInline, tuple[str, dict[int, int]]] = \
    weakref.WeakKeyDictionary()
_BRACKET_OR_BREAK = re.compile(r"[\[\]]|\n(?=\n)")
_OPEN_BRACKET = re.compile(r" ?\[")
_BRACE = re.compile(r"[{}]")


def _push_cluster(state: StateInline, items: Sequence[CiteItem], offset: int,
                  narrative: bool, key_offsets: Sequence[int] = ()) -> None:
    """Add a citation token; in a note style, outside notes, put it in a new footnote.

    A narrative citation in a note style keeps its author in the text, as in
    Pandoc: "As Doe¹ argues", the note holding the full citation.
    """
    items = [_affixes_as_html(state.md, item) for item in items]
    origin = state.env.get("_note_origin")
    src, offset = (origin[0], origin[1] + offset) if origin else (state.src, offset)
    base = origin[1] if origin else 0
    record = {"items": tuple(items), "src": src, "offset": offset, "narrative": narrative,
              "key_offsets": [base + k for k in key_offsets]}
    found = state.env.setdefault("citations", [])
    if any(is_label(item.key) for item in items):  # a cross-reference: never a note
        record["crossref"] = True
    if not (state.env.get("note_style") and not state.env.get("_in_note")) \
            or record.get("crossref"):
        token = state.push("citation", "", 0)
        token.meta = {"index": len(found)}
        found.append(record)
        return
    if narrative:
        author = state.push("citation", "", 0)
        author.meta = {"index": len(found)}
        found.append({**record, "narrative": False,
                      "items": (CiteItem(items[0].key, author_only=True),)})
        record = {**record, "narrative": False}
    notes = state.env.setdefault("footnotes", {}).setdefault("list", {})
    state.env["footnotes"].setdefault("refs", {})
    note_id = len(notes)
    token = Token("citation", "", 0)
    token.meta = {"index": len(found)}
    notes[note_id] = {"content": src[offset:offset + 1], "tokens": [token], "citation_note": True}
    state.pending = state.pending.rstrip()  # "cities [@a]." → "cities¹."
    ref = state.push("footnote_ref", "", 0)
    ref.meta = {"id": note_id, "citation": len(found)}
    found.append(record)


def inline_html(md: MarkdownIt, text: str) -> str:
    """A piece of inline Markdown (a citation's prefix, a metadata string) as HTML, through
    the document tree; no citations in it."""
    tokens = md.parseInline(text, {"_affix": True})
    return tree_inline_html(inlines(tokens[0].children or []) if tokens else []).strip()


def _affixes_as_html(md: MarkdownIt, item: CiteItem) -> CiteItem:
    """Prefix and suffix are Markdown (``[*see* @a]``); the citation layer gets HTML."""
    def inline(text: str) -> str:
        return inline_html(md, text) if text else ""
    return CiteItem(item.key, inline(item.prefix), inline(item.suffix),
                    item.locator, item.label, item.suppress_author, item.author_only)


def _resolve_positions(state: StateCore) -> None:
    """Turn each citation's offset in its inline text into a source line and column."""
    notes = state.env.get("footnotes", {}).get("list", {})
    lines = state.src.split("\n")
    for token in state.tokens:
        if token.type == "inline" and token.map:
            places = _Places(token, lines)
            for child in _walk(token.children or [], notes):
                _place(state.env, token, child, places)


def _place(env: MutableMapping[str, Any], parent: Token, child: Token, places: _Places) -> None:
    index = child.meta.get("citation") if child.type == "footnote_ref" else None
    if child.type == "citation":
        index = child.meta["index"]
    if index is None or not parent.map or "line" in env["citations"][index]:
        return
    record = env["citations"][index]
    if record["src"] != parent.content:
        return
    record["line"], record["col"] = places.line_col(record["offset"])
    record["key_places"] = [places.line_col(at) for at in record.get("key_offsets", [])]


class _Places:
    """Lines and columns in the file of offsets in an inline token's text (each line of
    the text found once in its line of the file: a paragraph of thousands of citations
    costs linear time)."""

    def __init__(self, parent: Token, lines: list[str]) -> None:
        assert parent.map is not None
        self.first, self.lines = parent.map[0], lines
        self.content = parent.content
        self.starts = [0] + [m.end() for m in re.finditer("\n", parent.content)]
        self.indents: dict[int, int] = {}

    def line_col(self, offset: int) -> tuple[int, int]:
        """The 0-based line of the file and column of ``offset``."""
        row = bisect.bisect_right(self.starts, offset) - 1
        line = self.first + row
        if row not in self.indents:  # where the text's line starts in the file's line
            end = self.starts[row + 1] - 1 if row + 1 < len(self.starts) else len(self.content)
            content_line = self.content[self.starts[row]:end]
            source_line = self.lines[line] if line < len(self.lines) else content_line
            self.indents[row] = max(source_line.find(content_line), 0)
        return line, self.indents[row] + offset - self.starts[row]


def _resource_paths(state: StateCore) -> None:
    """Images: checked, and their paths made relative to the project root."""
    root, source = state.env.get("project_root"), state.env.get("source")
    if root is None or source is None:
        return
    for token in state.tokens:
        if token.type != "inline":
            continue
        for child in _walk(token.children or []):
            if child.type == "image":
                src = str(child.attrGet("src") or "")
                line = token.map[0] + source.first_line if token.map else None
                try:
                    child.attrSet("src", resolve_reference(src, source.path.parent, root,
                                                           state.env.get("allow_remote", False)))
                except BuildError as exc:  # kept: every error of the chapter is reported
                    state.env.setdefault("errors", []).append(
                        BuildError(exc.message, source.path, line, hint=exc.hint))


def _raw_html_resources(state: StateCore) -> None:
    """Raw HTML: a resource it may not load is an error at its line and column.

    Block HTML carries its lines (``map``); inline HTML is found in the text of its
    paragraph.  :func:`builder.sanitize.resolve_resources` resolves the paths later, on the
    rendered chapter, where lines are no longer known.
    """
    root, source = state.env.get("project_root"), state.env.get("source")
    if root is None or source is None:
        return
    notes = state.env.get("footnotes", {}).get("list", {})
    lines = source.text.split("\n")
    for token in state.tokens:
        if token.type == "html_block" and token.map:
            _check_raw_html(token.content, token.map[0], source, root, lines, state.env)
        elif token.type == "inline" and token.map:
            cursor = 0
            for child in _walk(token.children or [], notes):
                if child.type != "html_inline":
                    continue
                found = token.content.find(child.content, cursor)
                if found < 0:
                    found = max(token.content.find(child.content), 0)
                cursor = found + len(child.content)
                row = token.map[0] + token.content.count("\n", 0, found)
                _check_raw_html(child.content, row, source, root, lines, state.env)


def _raw_html_depth(state: StateCore) -> None:
    """Raw HTML nested more than MAX_HTML_DEPTH deep, counting the Markdown's blocks
    around it, is an error at the tag that opens the level past it (the first only).

    Block HTML's open elements stay open across blocks (``<div>`` ... ``</div>`` around
    Markdown); inline HTML's close with their paragraph, as a browser closes them."""
    source = state.env.get("source")
    if source is None:
        return
    lines, blocks = source.text.split("\n"), Nesting()
    for token in state.tokens:
        if token.type == "html_block" and token.map:
            at = blocks.deepest(token.content, token.level)
            if at is not None:
                row = token.map[0] + token.content.count("\n", 0, at)
                start = token.content.rfind("\n", 0, at) + 1
                indent = max(lines[row].find(token.content[start:at]), 0) if row < len(lines) \
                    else 0
                return _too_deep(state, source, row, indent + at - start)
        elif token.type == "inline" and token.map and "<" in token.content:
            inline, cursor = Nesting(), 0
            inline.open = list(blocks.open)
            for child in token.children or []:
                if child.type != "html_inline":
                    continue
                found = token.content.find(child.content, cursor)
                cursor = found + len(child.content) if found >= 0 else cursor
                at = inline.deepest(child.content, token.level + child.level)
                if at is not None:
                    row, col = _Places(token, lines).line_col(max(found, 0) + at)
                    return _too_deep(state, source, row, col)


def _too_deep(state: StateCore, source: ChapterSource, row: int, col: int) -> None:
    state.env.setdefault("errors", []).append(BuildError(
        f"HTML elements nested more than {MAX_HTML_DEPTH} deep", source.path,
        row + source.first_line, col + 1,
        hint="close the elements you open; nothing needs this many levels"))


def _check_raw_html(fragment: str, row: int, source: ChapterSource, root: Path,
                    lines: list[str], env: MutableMapping[str, Any]) -> None:
    """Add to ``env["errors"]`` the error of the first refused resource of ``fragment``,
    which starts on line ``row`` (0-based) of the chapter's text."""
    refused = refused_resource(fragment, source.path.parent, root, env.get("allow_remote", False))
    if refused is None:
        return
    error, attribute, value = refused
    at = fragment.find(value)
    if at < 0:  # written with entities: the attribute's name is the nearest mark
        at = max(fragment.lower().find(f"{attribute}="), 0)
    row += fragment.count("\n", 0, at)
    text = lines[row] if row < len(lines) else ""
    col = text.find(value)
    if col < 0:
        col = text.lower().find(f"{attribute}=")
    env.setdefault("errors", []).append(BuildError(
        error.message, source.path, row + source.first_line, col + 1 if col >= 0 else None,
        hint=error.hint))


def _walk(tokens: list[Token], notes: dict[int, Any] | None = None) -> list[Token]:
    """Tokens and their children, and (given ``notes``) inline footnotes' tokens."""
    found = []
    for token in tokens:
        found.append(token)
        found.extend(_walk(token.children or [], notes))
        if notes is not None and token.type == "footnote_ref":
            note = notes.get(token.meta["id"], {})
            if "tokens" in note and not note.get("citation_note"):
                found.extend(_walk(note["tokens"], notes))
    return found


def parse_chapter(md: MarkdownIt, source: ChapterSource, chapter_id: str,
                  note_style: bool = False, project_root: Path | None = None,
                  allow_remote: bool = False, notes_after_punctuation: bool | None = None,
                  punctuation_in_quote: bool = False, superscript: bool = False
                  ) -> ParsedChapter:
    """Tokens and citations of one chapter.

    With ``project_root``, every image is checked (inside the project, present) and
    its path made relative to the project root, the base of every output format.
    In a note style, ``notes_after_punctuation`` (None: the default, true) puts a
    citation's note call after the punctuation that follows it, inside a closing quote with
    ``punctuation_in_quote``; with ``superscript`` citations (None: false) their numbers.
    """
    env: dict[str, Any] = {"chapter_id": chapter_id, "note_style": note_style,
                           "source": source, "project_root": project_root,
                           "allow_remote": allow_remote,
                           "notes_after_punctuation": notes_after_punctuation,
                           "punctuation_in_quote": punctuation_in_quote,
                           "superscript": superscript}
    tokens = md.parse(source.text, env)
    _resolve_footnote_citations(tokens, env)
    clusters = []
    for index in _reading_order(tokens):
        record = env["citations"][index]
        line = record.get("line")
        clusters.append(Cluster(
            id=f"{chapter_id}-c{index + 1}",
            items=record["items"],
            position=Position(source.path,
                              None if line is None else line + source.first_line,
                              None if line is None else record.get("col", 0) + 1),
            narrative=record["narrative"],
            note_index=record.get("note", 0),
            in_footnote=record.get("in_footnote", False),
            crossref=record.get("crossref", False),
            key_positions=tuple(Position(source.path, row + source.first_line, col + 1)
                                for row, col in record.get("key_places", [])),
        ))
    return ParsedChapter(source, tokens, env, clusters, list(env.get("errors", [])))


def _reading_order(tokens: list[Token]) -> list[int]:
    """The citations in the order a reader meets them: a footnote's where it is called
    (its definition may stand anywhere), so that positions (ibid., the short form) and
    citation numbers follow the reading, as in Pandoc."""
    bodies: dict[int, list[Token]] = {}
    main: list[Token] = []
    note: list[Token] | None = None
    for token in tokens:
        if token.type == "footnote_open":
            note = bodies.setdefault(token.meta["id"], [])
        elif token.type == "footnote_close":
            note = None
        elif token.type not in ("footnote_block_open", "footnote_block_close"):
            (main if note is None else note).append(token)
    order: list[int] = []
    visited: set[int] = set()

    def read(part: list[Token]) -> None:
        for token in _walk(part):
            if token.type == "citation":
                order.append(token.meta["index"])
            elif token.type == "footnote_ref" and token.meta["id"] not in visited:
                visited.add(token.meta["id"])
                read(bodies.get(token.meta["id"], []))
    read(main)
    for ident in sorted(set(bodies) - visited):  # called only from inside a note (or itself)
        if ident not in visited:
            visited.add(ident)
            read(bodies[ident])
    return order


def _resolve_footnote_citations(tokens: list[Token], env: dict[str, Any]) -> None:
    """Give each citation inside a footnote the number of its footnote."""
    notes = env.get("footnotes", {}).get("list", {})
    note, writers, first = 0, False, False
    for token in tokens:
        if token.type == "footnote_open":
            note, first = token.meta["id"] + 1, True
            writers = not notes.get(token.meta["id"], {}).get("citation_note")
        elif token.type == "footnote_close":
            note = 0
        elif token.type == "inline" and note:
            for n, child in enumerate(_walk(token.children or [])):
                if child.type == "citation":
                    record = env["citations"][child.meta["index"]]
                    record["note"] = note
                    # A citation that opens the writer's note is the note's citation, as
                    # in Pandoc ("[^1]: [@a], and more."): not one inside its sentence.
                    record["in_footnote"] = writers and not (first and n == 0
                                                             and not record["narrative"])
            first = False
    for record in env.get("citations", []):
        record.setdefault("note", 0)
