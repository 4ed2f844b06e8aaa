"""BibTeX/BibLaTeX → CSL-JSON, written for this builder.

citeproc-py has its own BibTeX reader, but it stumbles over everyday LaTeX, so
the builder reads ``.bib`` files here instead.  bibtexparser 2 only splits the
file into blocks (it is run with an empty middleware stack, so field values
arrive exactly as written, delimiters included); everything else happens in
this module, following what pandoc does:

Blocks
    ``@string`` macros are expanded (names are case-insensitive, later
    definitions win, ``jan``…``dec`` are predefined) and ``#`` concatenates
    ``{braced}``, ``"quoted"``, numeric and macro parts.  ``@comment``,
    ``@preamble`` and text between entries are ignored.  Malformed blocks,
    entries without a key, duplicate keys (compared case-insensitively,
    because citeproc-py lower-cases ids), duplicate fields, undefined macros and
    values that are not valid BibTeX raise :class:`BuildError` with the line.

Types
    article → article-journal (article without journal → article; with
    ``entrysubtype`` magazine/newspaper → article-magazine/-newspaper);
    book, mvbook, collection, mvcollection, proceedings, mvproceedings,
    reference, manual → book; inbook, bookinbook, suppbook, incollection →
    chapter; inproceedings, conference → paper-conference; inreference →
    entry-encyclopedia; booklet → pamphlet; misc → document; online,
    electronic, www → webpage; report, techreport → report; thesis,
    phdthesis, mastersthesis → thesis (genre "PhD thesis" / "Master's
    thesis"); unpublished → manuscript; patent, periodical, dataset,
    software keep their names.  Any other type becomes document.

Fields
    author, editor, translator → names, bookauthor → container-author;
    title + subtitle → title ("Title: Subtitle"); shorttitle → title-short;
    booktitle/maintitle → container-title for chapters, papers and
    encyclopedia entries, journaltitle/journal → container-title;
    shortjournal → container-title-short; series → collection-title;
    number → issue for articles and periodicals (issue → issue), else
    number; pages → page; pagetotal → number-of-pages; chapter →
    chapter-number; publisher (else institution, school, organization) →
    publisher; location/address → publisher-place; type → genre; volume,
    edition, version, note, abstract, keywords → keyword, isbn → ISBN,
    issn → ISSN, doi → DOI, url → URL (doi and url verbatim);
    langid/language → language.  Other fields (eprint, file, …) are ignored.

Dates
    date (``2018``, ``2018-02``, ``2018-02-05``, ranges ``2001/2003``,
    ``~``/``?`` markers) or else year + month (+ day) → issued; urldate →
    accessed; eventdate → event-date; origdate → original-date.  Months may
    be numbers, English names or their abbreviations.  Anything that is not
    a date (``n.d.``, ``forthcoming``) becomes ``{"literal": ...}``.

Names
    Split on ``and`` outside braces; ``others`` is dropped (the style decides
    about "et al.").  "First von Last", "von Last, First" and "von Last, Jr,
    First" are understood, with BibTeX's rule that lowercase words are the
    particle (→ non-dropping-particle).  A name wholly in braces is a
    ``literal`` (organisations).

Text
    LaTeX is decoded with pylatexenc (accents, ``--`` → –, ``---`` → —, ``~`` →
    no-break space, ``\\&`` → &, ``\\%`` → %), except that ``\\emph``/``\\textit``
    → ``<i>``, ``\\textbf`` → ``<b>``, ``\\textsc`` → small-caps span,
    ``\\textsuperscript``/``\\textsubscript`` → ``<sup>``/``<sub>`` (also
    ``{\\em …}`` and friends), and the TeX logos keep their names.  In
    title-like fields, a brace group inside the value (``{NASA}``) becomes
    ``<span class="nocase">NASA</span>``, the case protection citeproc-py
    understands; groups that start with a command (``{\\"o}``) are special
    characters, as in BibTeX, and are not protected; nested groups give one
    span, since citeproc-py cannot nest them.  A bare ``%`` is a literal
    percent sign, not a comment.  Whitespace runs are collapsed to one space.
    doi, url and the date fields are taken verbatim (braces removed from dates).
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import bibtexparser
from bibtexparser.model import (
    Block,
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    ParsingFailedBlock,
    String,
)
from pylatexenc import latex2text, latexwalker, macrospec

from ..errors import BuildError

# --- tables -----------------------------------------------------------------

_TYPES: dict[str, str] = {
    "article": "article-journal",
    "book": "book", "mvbook": "book", "collection": "book", "mvcollection": "book",
    "proceedings": "book", "mvproceedings": "book", "reference": "book",
    "mvreference": "book", "manual": "book",
    "inbook": "chapter", "bookinbook": "chapter", "suppbook": "chapter",
    "incollection": "chapter", "suppcollection": "chapter",
    "inproceedings": "paper-conference", "conference": "paper-conference",
    "inreference": "entry-encyclopedia", "booklet": "pamphlet",
    "misc": "document", "online": "webpage", "electronic": "webpage", "www": "webpage",
    "report": "report", "techreport": "report",
    "thesis": "thesis", "phdthesis": "thesis", "mastersthesis": "thesis",
    "unpublished": "manuscript", "patent": "patent", "periodical": "periodical",
    "suppperiodical": "article-journal", "dataset": "dataset", "software": "software",
}
_GENRES: dict[str, str] = {
    "phdthesis": "PhD thesis", "mastersthesis": "Master's thesis",
    "mathesis": "Master's thesis", "candthesis": "Candidate thesis",
    "techreport": "Technical report", "resreport": "Research report",
}
_MONTHS = ("january", "february", "march", "april", "may", "june", "july",
           "august", "september", "october", "november", "december")
_MONTH_MACROS: dict[str, str] = {name[:3]: name.capitalize() for name in _MONTHS}
_SERIAL_TYPES = {"article", "article-journal", "article-magazine",
                 "article-newspaper", "periodical"}
_CONTAINED_TYPES = {"chapter", "paper-conference", "entry-encyclopedia",
                    "entry-dictionary"}
_TITLE_FIELDS = {"title", "subtitle", "shorttitle", "booktitle", "booksubtitle",
                 "maintitle", "mainsubtitle", "journal", "journaltitle",
                 "shortjournal", "series", "eventtitle"}
_VERBATIM_FIELDS = {"doi", "url", "eprint", "file", "verba", "verbb", "verbc"}
_NAME_FIELDS = {"author": "author", "editor": "editor", "translator": "translator",
                "bookauthor": "container-author"}
_DATE_FIELDS = {"urldate": "accessed", "eventdate": "event-date",
                "origdate": "original-date"}
# CSL variable: BibTeX fields, the first one present wins.
_SIMPLE_FIELDS: dict[str, tuple[str, ...]] = {
    "title-short": ("shorttitle",),
    "container-title-short": ("shortjournal",),
    "collection-title": ("series",),
    "volume": ("volume",),
    "edition": ("edition",),
    "version": ("version",),
    "page": ("pages",),
    "number-of-pages": ("pagetotal",),
    "chapter-number": ("chapter",),
    "publisher": ("publisher", "institution", "school", "organization"),
    "publisher-place": ("location", "address"),
    "note": ("note",),
    "abstract": ("abstract",),
    "keyword": ("keywords",),
    "language": ("langid", "language"),
    "ISBN": ("isbn",),
    "ISSN": ("issn",),
    "DOI": ("doi",),
    "URL": ("url",),
}

_ATOM = re.compile(r"""[^\s"#%'(),={}]+""")
_BAD_KEY = re.compile(r"""[\s"#%'(),={}]""")
_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_COMMA = re.compile(r",")
_NAME_SPACE = re.compile(r"[\s~]+")
_SPACES = re.compile(r"[ \t\r\n]+")
_BARE_PERCENT = re.compile(r"(?<!\\)((?:\\\\)*)%")  # % after an even number of backslashes
_TAG = re.compile(r"<[^>]*>")
_ISO_DATE = re.compile(r"(-?\d{1,4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
_YEAR = re.compile(r"-?\d{1,4}")
_BRACE = re.compile(r"[{}]")

MAX_BRACE_DEPTH = 100
"""Deepest brace nesting inside a field value (the LaTeX decoder recurses once per level)."""

MAX_VALUE_CHARS = 100_000
"""Longest value of a field or an @string, its macros expanded: a chain of @string macros
each repeating the one before (``@string{a1 = a0 # a0}``) doubles at every step.  (A
field of 500,000 characters takes citeproc-py and the LaTeX decoder some 15 s; the
longest abstracts hold a few thousand.)"""


class _ValueError(ValueError):
    """A field value that is not valid BibTeX; turned into a BuildError."""

    def __init__(self, message: str,
                 hint: str = "enclose text values in braces: field = {text}") -> None:
        super().__init__(message)
        self.hint = hint


# --- entry point ------------------------------------------------------------

def read_bibtex(text: str, path: Path) -> list[tuple[dict[str, Any], int]]:
    """Parse BibTeX/BibLaTeX text into CSL-JSON items, each with the 1-based line of its '@'."""
    with _quiet_logger("bibtexparser"), _quiet_logger("pylatexenc"):
        return _read(bibtexparser.parse_string(text, parse_stack=[]).blocks, path)


def _read(blocks: list[Block], path: Path) -> list[tuple[dict[str, Any], int]]:
    """Convert the blocks in order; macros apply to what follows them."""
    macros: dict[str, str] = dict(_MONTH_MACROS)
    first_lines: dict[str, int] = {}
    items: list[tuple[dict[str, Any], int]] = []
    for block in blocks:
        if (isinstance(block, DuplicateBlockKeyBlock)
                and isinstance(block.ignore_error_block, String)):
            block = block.ignore_error_block  # redefining a macro is allowed
        if isinstance(block, String):
            macros[block.key.lower()] = _evaluate_field(block.value, macros, path, _line(block))
        elif isinstance(block, ParsingFailedBlock):
            raise _block_error(block, path)
        elif isinstance(block, Entry):
            _check_key(block, first_lines, path)
            try:
                items.append((_convert_entry(block, macros, path), _line(block)))
            except RecursionError:  # LaTeX nested past what pylatexenc's recursion can take
                raise BuildError(f"entry '{block.key.strip()}' is nested too deeply to read",
                                 path, _line(block),
                                 hint="remove the extra braces or nested commands") from None
    return items


@contextmanager
def _quiet_logger(name: str) -> Iterator[None]:
    """Silence a library's log: bibtexparser reports its errors with 0-based lines,
    pylatexenc complains about macros; the BuildErrors raised here are what users see."""
    logger = logging.getLogger(name)
    previous = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _line(block: Block) -> int:
    return (block.start_line or 0) + 1


def _block_error(block: ParsingFailedBlock, path: Path) -> BuildError:
    """The BuildError for a block bibtexparser could not read."""
    if isinstance(block, DuplicateBlockKeyBlock):
        return _duplicate_error(block.key, _line(block.previous_block), _line(block), path)
    if isinstance(block, DuplicateFieldKeyBlock):
        return _duplicate_field_error(block.ignore_error_block, sorted(block.duplicate_keys), path)
    reason = getattr(block.error, "abort_reason", None) or str(block.error) or "syntax error"
    lines = (block.raw or "").strip().splitlines()
    start = f" '{lines[0][:60]}'" if lines else ""
    return BuildError(
        f"malformed BibTeX entry{start}: {reason.strip()}", path, _line(block),
        hint="check for a missing comma, brace or quote in this entry",
    )


def _duplicate_error(key: str, first: int, line: int, path: Path) -> BuildError:
    return BuildError(
        f"duplicate citation key '{key}' (already defined on line {first})", path, line,
        hint="citation keys must be unique (ignoring case) within a bibliography",
    )


def _duplicate_field_error(entry: Entry, keys: list[str], path: Path) -> BuildError:
    wanted = {key.lower() for key in keys}
    lines = [f.start_line + 1 for f in entry.fields
             if f.key.lower() in wanted and f.start_line is not None]
    return BuildError(
        f"duplicate field '{', '.join(keys)}' in entry '{entry.key}'", path,
        lines[-1] if lines else _line(entry), hint="keep only one of them",
    )


def _check_key(entry: Entry, first_lines: dict[str, int], path: Path) -> None:
    """An entry needs a key, unique regardless of case."""
    key = entry.key.strip()
    if not key:
        raise BuildError("BibTeX entry without a citation key", path, _line(entry),
                         hint="write it as @type{key, field = {...}, ...}")
    if _BAD_KEY.search(key):
        raise BuildError(f"invalid citation key '{key}'", path, _line(entry),
                         hint="keys cannot contain spaces, braces, quotes, commas, '#', '%' or '='")
    if key.lower() in first_lines:
        raise _duplicate_error(key, first_lines[key.lower()], _line(entry), path)
    first_lines[key.lower()] = _line(entry)


# --- raw values: braces, quotes, macros, '#' -----------------------------------

def _evaluate_field(raw: str, macros: dict[str, str], path: Path, line: int, name: str = "") -> str:
    """A value as BibTeX sees it, or a BuildError naming the field."""
    try:
        return _evaluate(raw, macros)
    except _ValueError as problem:
        where = f"field '{name}'" if name else "@string"
        raise BuildError(f"invalid value of {where}: {problem}", path, line,
                         hint=problem.hint) from None


def _evaluate(raw: str, macros: dict[str, str]) -> str:
    """Concatenate the ``#``-separated parts of a raw value."""
    parts: list[str] = []
    pos, expect_part, size = 0, True, 0
    while True:
        pos = _skip_space(raw, pos)
        if pos >= len(raw):
            if expect_part:
                raise _ValueError("missing value" if not parts else "nothing after '#'")
            return "".join(parts)
        if expect_part:
            part, pos = _read_part(raw, pos, macros)
            parts.append(part)
            size += len(part)
            if size > MAX_VALUE_CHARS:
                raise _ValueError(f"it expands to more than {MAX_VALUE_CHARS:,} characters",
                                  hint="@string macros that repeat each other grow at each "
                                  "step: write the text out")
        elif raw[pos] == "#":
            pos += 1
        else:
            raise _ValueError(f"expected ',' or '#' before {raw[pos:pos + 20]!r}",
                              hint="separate fields with commas")
        expect_part = not expect_part


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _read_part(raw: str, pos: int, macros: dict[str, str]) -> tuple[str, int]:
    """One braced, quoted, numeric or macro part starting at ``pos``; returns it and the end."""
    if raw[pos] == "{":
        end = _matching_brace(raw, pos)
        return raw[pos + 1:end], end + 1
    if raw[pos] == '"':
        end = _closing_quote(raw, pos)
        return raw[pos + 1:end], end + 1
    match = _ATOM.match(raw, pos)
    if not match:
        raise _ValueError(f"unexpected {raw[pos]!r}")
    word = match.group()
    if word.isdigit():
        return word, match.end()
    if word.lower() not in macros:
        raise _ValueError(f"undefined @string macro '{word}'")
    return macros[word.lower()], match.end()


def _closing_quote(text: str, start: int) -> int:
    depth = 0
    for pos in range(start + 1, len(text)):
        char = text[pos]
        if char == "{" and not _escaped(text, pos):
            depth += 1
        elif char == "}" and not _escaped(text, pos):
            depth -= 1
        elif char == '"' and depth == 0:
            return pos
    raise _ValueError("missing closing '\"'")


# --- braces -----------------------------------------------------------------

def _escaped(text: str, pos: int) -> bool:
    return pos > 0 and text[pos - 1] == "\\"


def _matching_brace(text: str, start: int) -> int:
    """Index of the '}' closing the '{' at ``start``."""
    depth = 0
    for pos in range(start, len(text)):
        if text[pos] == "{" and not _escaped(text, pos):
            depth += 1
        elif text[pos] == "}" and not _escaped(text, pos):
            depth -= 1
            if depth == 0:
                return pos
    raise _ValueError("unbalanced braces")


def _depths(text: str) -> list[int]:
    """Brace depth before each character (escaped braces do not count)."""
    depths, depth = [], 0
    for pos, char in enumerate(text):
        depths.append(depth)
        if char == "{" and not _escaped(text, pos):
            depth += 1
        elif char == "}" and not _escaped(text, pos):
            depth = max(depth - 1, 0)
    return depths


def _max_depth(text: str) -> int:
    """The deepest brace nesting in ``text`` (escaped braces do not count)."""
    deepest = depth = 0
    for match in _BRACE.finditer(text):
        if match.start() > 0 and text[match.start() - 1] == "\\":
            continue
        if match.group() == "{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth = max(depth - 1, 0)
    return deepest


def _split_top(text: str, separator: re.Pattern[str]) -> list[str]:
    """Split on ``separator`` where it occurs outside braces."""
    depths = _depths(text)
    parts, start = [], 0
    for match in separator.finditer(text):
        if match.start() >= start and depths[match.start()] == 0 and depths[match.end() - 1] == 0:
            parts.append(text[start:match.start()])
            start = match.end()
    parts.append(text[start:])
    return parts


def _wholly_braced(text: str) -> bool:
    """``{...}`` with the first brace closing at the very end."""
    if not text.startswith("{") or text.startswith("{\\"):
        return False
    try:
        return _matching_brace(text, 0) == len(text) - 1
    except _ValueError:
        return False


# --- entries ----------------------------------------------------------------

def _convert_entry(entry: Entry, macros: dict[str, str], path: Path) -> dict[str, Any]:
    """One BibTeX entry as a CSL-JSON item."""
    fields, lines = _entry_fields(entry, macros, path)
    csl_type = _csl_type(entry.entry_type.lower(), fields)
    item: dict[str, Any] = {"id": entry.key.strip(), "type": csl_type}
    item.update(_names(fields, lines, path))
    item.update(_titles(fields, csl_type))
    item.update(_numbers(fields, csl_type))
    item.update(_simple(fields, item))
    item.update(_genre(entry.entry_type.lower(), fields))
    item.update(_dates(fields))
    return item


def _entry_fields(entry: Entry, macros: dict[str, str],
                  path: Path) -> tuple[dict[str, str], dict[str, int]]:
    """Evaluated values and 1-based lines of an entry's fields, by lower-case name."""
    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    for field in entry.fields:
        name = field.key.strip().lower()
        line = field.start_line + 1 if field.start_line is not None else _line(entry)
        if name in values:
            raise _duplicate_field_error(entry, [name], path)
        values[name] = _evaluate_field(str(field.value), macros, path, line, name)
        lines[name] = line
        depth = _max_depth(values[name])
        if depth > MAX_BRACE_DEPTH:
            raise BuildError(f"braces nested {depth:,} deep inside field '{name}' of entry "
                             f"'{entry.key.strip()}' (the limit is {MAX_BRACE_DEPTH})", path, line,
                             hint="one pair of braces protects a word's case; "
                             "remove the extra ones")
    return values, lines


def _csl_type(bibtex_type: str, fields: dict[str, str]) -> str:
    if bibtex_type != "article":
        return _TYPES.get(bibtex_type, "document")
    subtype = fields.get("entrysubtype", "").strip().lower()
    if subtype in ("magazine", "newspaper"):
        return f"article-{subtype}"
    return "article-journal" if _first(fields, "journaltitle", "journal") else "article"


def _genre(bibtex_type: str, fields: dict[str, str]) -> dict[str, str]:
    """Thesis and report kinds: the ``type`` field, else the entry type."""
    kind = _text(fields["type"]) if "type" in fields else ""
    genre = _GENRES.get(kind.lower().replace(" ", ""), kind) if kind else ""
    if not genre and bibtex_type in ("phdthesis", "mastersthesis"):
        genre = _GENRES[bibtex_type]
    return {"genre": genre} if genre else {}


def _first(fields: dict[str, str], *names: str) -> str | None:
    """The first of ``names`` present with a non-blank value."""
    for name in names:
        if fields.get(name, "").strip():
            return name
    return None


def _text(value: str, name: str = "") -> str:
    """A field's value as CSL text, verbatim or decoded."""
    if name in _VERBATIM_FIELDS:
        return _SPACES.sub(" ", value).strip()
    return _latex_to_csl(value, protect=name in _TITLE_FIELDS)


def _titles(fields: dict[str, str], csl_type: str) -> dict[str, str]:
    out: dict[str, str] = {}
    title = _joined_title(fields, "title", "subtitle")
    if title:
        out["title"] = title
    container = _container_title(fields, csl_type)
    if container:
        out["container-title"] = container
    return out


def _container_title(fields: dict[str, str], csl_type: str) -> str:
    """The book of a chapter or paper, else the journal."""
    if csl_type in _CONTAINED_TYPES:
        book = _joined_title(fields, "booktitle", "booksubtitle") or \
            _joined_title(fields, "maintitle", "mainsubtitle")
        if book:
            return book
    journal = _first(fields, "journaltitle", "journal")
    return _text(fields[journal], journal) if journal else ""


def _joined_title(fields: dict[str, str], main: str, sub: str) -> str:
    """"Title: Subtitle" (no colon after a title ending in punctuation)."""
    title = _text(fields[main], main) if _first(fields, main) else ""
    subtitle = _text(fields[sub], sub) if _first(fields, sub) else ""
    if not (title and subtitle):
        return title or subtitle
    separator = " " if title[-1] in "?!:.;" else ": "
    return f"{title}{separator}{subtitle}"


def _numbers(fields: dict[str, str], csl_type: str) -> dict[str, str]:
    """``number`` is the issue of a serial and the number of anything else."""
    out: dict[str, str] = {}
    if _first(fields, "issue"):
        out["issue"] = _text(fields["issue"])
    if _first(fields, "number"):
        key = "issue" if csl_type in _SERIAL_TYPES else "number"
        out.setdefault(key, _text(fields["number"]))
    return out


def _simple(fields: dict[str, str], item: dict[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for variable, names in _SIMPLE_FIELDS.items():
        name = _first(fields, *names)
        if name and variable not in item:
            value = _text(fields[name], name)
            if value:
                out[variable] = value
    return out


# --- names ------------------------------------------------------------------

def _names(fields: dict[str, str], lines: dict[str, int],
           path: Path) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    for name, variable in _NAME_FIELDS.items():
        if _first(fields, name):
            try:
                names = _parse_names(fields[name])
            except _ValueError as problem:
                raise BuildError(f"invalid name in field '{name}': {problem}", path, lines[name],
                                 hint="write names as 'Last, First' or 'First Last', "
                                      "joined by 'and'") from None
            if names:
                out[variable] = names
    return out


def _parse_names(value: str) -> list[dict[str, str]]:
    """CSL names from a BibTeX name list; ``others`` is dropped."""
    names = []
    for raw in _split_top(_SPACES.sub(" ", value).strip(), _AND):
        raw = raw.strip().strip(",").strip()
        if raw and raw.lower() != "others":
            names.append(_parse_name(raw))
    return names


def _parse_name(raw: str) -> dict[str, str]:
    """One name in any of BibTeX's three forms; a braced name is a literal."""
    if _wholly_braced(raw):
        return {"literal": _latex_to_csl(raw[1:-1])}
    parts = [part.strip() for part in _split_top(raw, _COMMA)]
    if len(parts) > 3:
        raise _ValueError(f"too many commas in '{raw}'")
    if len(parts) == 1:
        first, von, last = _first_von_last(_tokens(parts[0]))
        jr: list[str] = []
    else:
        von, last = _von_last(_tokens(parts[0]))
        first, jr = _tokens(parts[-1]), (_tokens(parts[1]) if len(parts) == 3 else [])
    return _name_dict(first, von, last, jr)


def _tokens(text: str) -> list[str]:
    return [token for token in _split_top(text, _NAME_SPACE) if token]


def _first_von_last(tokens: list[str]) -> tuple[list[str], list[str], list[str]]:
    """"First von Last": the von part runs from the first to the last lowercase word."""
    lower = [i for i, token in enumerate(tokens[:-1]) if _is_lowercase(token)]
    if not lower:
        return tokens[:-1], [], tokens[-1:]
    return tokens[:lower[0]], tokens[lower[0]:lower[-1] + 1], tokens[lower[-1] + 1:]


def _von_last(tokens: list[str]) -> tuple[list[str], list[str]]:
    """"von Last": the von part ends at the last lowercase word but one."""
    lower = [i for i, token in enumerate(tokens[:-1]) if _is_lowercase(token)]
    if not lower or lower[0] != 0:
        return [], tokens
    return tokens[:lower[-1] + 1], tokens[lower[-1] + 1:]


def _is_lowercase(token: str) -> bool:
    """BibTeX's test: the first letter outside plain brace groups is lowercase.

    Special characters (``{\\"u}``) count with their letter; other brace
    groups are skipped, so a word that is all braces counts as uppercase.
    """
    probe, pos = [], 0
    while pos < len(token):
        if token[pos] == "{" and not _escaped(token, pos):
            end = _end_of_group(token, pos)
            if token.startswith("{\\", pos):
                probe.append(token[pos:end + 1])
            pos = end + 1
        else:
            probe.append(token[pos])
            pos += 1
    letters = [char for char in _TAG.sub("", _latex_to_csl("".join(probe))) if char.isalpha()]
    return bool(letters) and letters[0].islower()


def _end_of_group(text: str, start: int) -> int:
    try:
        return _matching_brace(text, start)
    except _ValueError:
        return len(text) - 1


def _name_dict(first: list[str], von: list[str], last: list[str], jr: list[str]) -> dict[str, str]:
    parts = {"given": first, "non-dropping-particle": von, "family": last, "suffix": jr}
    name = {key: _latex_to_csl(" ".join(tokens)) for key, tokens in parts.items() if tokens}
    return {key: value for key, value in name.items() if value}


# --- dates ------------------------------------------------------------------

def _dates(fields: dict[str, str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    if _first(fields, "date"):
        out["issued"] = _parse_date(_date_text(fields["date"]))
    elif _first(fields, "year"):
        out["issued"] = _year_month(fields)
    for name, variable in _DATE_FIELDS.items():
        if _first(fields, name):
            out[variable] = _parse_date(_date_text(fields[name]))
    return out


def _date_text(value: str) -> str:
    """An EDTF date as written: braces dropped, ``~`` kept (it means "circa")."""
    return _SPACES.sub(" ", value.replace("{", "").replace("}", "")).strip()


def _parse_date(text: str) -> dict[str, Any]:
    """An ISO 8601/EDTF date or range as CSL date-parts, else a literal."""
    date_parts: list[list[int]] = []
    circa = False
    for part in text.split("/") if text.count("/") <= 1 else [text]:
        part = part.strip()
        if part in ("", ".."):
            continue
        if part[-1] in "~?%":
            circa = circa or part[-1] in "~%"
            part = part[:-1]
        parsed = _iso_parts(part)
        if parsed is None:
            return {"literal": text}
        date_parts.append(parsed)
    if not date_parts:
        return {"literal": text}
    return {"date-parts": date_parts, "circa": True} if circa else {"date-parts": date_parts}


def _iso_parts(text: str) -> list[int] | None:
    match = _ISO_DATE.fullmatch(text)
    if not match:
        return None
    parts = [int(group) for group in match.groups() if group is not None]
    month_ok = len(parts) < 2 or 1 <= parts[1] <= 12
    day_ok = len(parts) < 3 or 1 <= parts[2] <= 31
    return parts if month_ok and day_ok else None


def _year_month(fields: dict[str, str]) -> dict[str, Any]:
    """``year`` with the optional ``month`` and ``day`` of classic BibTeX."""
    year = _text(fields["year"])
    if not _YEAR.fullmatch(year):
        return {"literal": year}
    parts = [int(year)]
    month = _month_number(_text(fields["month"])) if _first(fields, "month") else None
    if month:
        parts.append(month)
        day = _text(fields["day"]) if _first(fields, "day") else ""
        if day.isdigit() and 1 <= int(day) <= 31:
            parts.append(int(day))
    return {"date-parts": [parts]}


def _month_number(text: str) -> int | None:
    """1–12 from ``3``, ``mar``, ``Mar.`` or ``March``; None otherwise."""
    text = text.strip().rstrip(".").lower()
    if text.isdigit():
        return int(text) if 1 <= int(text) <= 12 else None
    for number, name in enumerate(_MONTHS, start=1):
        if len(text) >= 3 and name.startswith(text):
            return number
    return None


# --- LaTeX ------------------------------------------------------------------

_MARKUP: dict[str, tuple[str, str]] = {
    "emph": ("<i>", "</i>"), "textit": ("<i>", "</i>"), "textsl": ("<i>", "</i>"),
    "textbf": ("<b>", "</b>"),
    "textsc": ('<span style="font-variant:small-caps;">', "</span>"),
    "textsuperscript": ("<sup>", "</sup>"), "textsubscript": ("<sub>", "</sub>"),
}
_SWITCHES: dict[str, str] = {
    "em": "emph", "it": "textit", "itshape": "textit", "sl": "textit", "slshape": "textit",
    "bf": "textbf", "bfseries": "textbf", "sc": "textsc", "scshape": "textsc",
}
_TRANSPARENT = {"mbox", "hbox", "url", "textrm", "textsf", "texttt", "textup",
                "textnormal", "textmd", "text", "nolinkurl"}
_DROPPED = {"noopsort", "nocite", "relax", "bibnamedelima", "bibnamedelimb",
            "maketitle", "title", "author", "date"}  # pylatexenc's versions keep state
_LOGOS = {"LaTeX": "LaTeX", "TeX": "TeX", "LaTeXe": "LaTeX2ε", "BibTeX": "BibTeX",
          "XeTeX": "XeTeX", "LuaTeX": "LuaTeX"}


def _walker_context() -> macrospec.LatexContextDb:
    """pylatexenc's macros, plus the argument shapes of the ones we render."""
    db = latexwalker.get_default_latex_context_db()
    known = {"href": "{{", "textsuperscript": "{", "textsubscript": "{",
             "textnormal": "{", "textmd": "{", "text": "{", "hbox": "{",
             "nolinkurl": "{", "noopsort": "{", "nocite": "{"}
    db.add_context_category("builder-bibtex", prepend=True,
                            macros=[macrospec.MacroSpec(name, args)
                                    for name, args in known.items()])
    return db


_WALKER_CONTEXT = _walker_context()
_TO_TEXT = latex2text.LatexNodes2Text()


def _latex_to_csl(text: str, protect: bool = False) -> str:
    """Decode LaTeX to CSL-JSON rich text; ``protect`` marks inner brace groups nocase."""
    source = _BARE_PERCENT.sub(r"\1\\%", _SPACES.sub(" ", text).strip())
    walker = latexwalker.LatexWalker(source, latex_context=_WALKER_CONTEXT, tolerant_parsing=True)
    nodes, _, _ = walker.get_latex_nodes()
    return _SPACES.sub(" ", _render(nodes, protect)).strip()


def _render(nodes: list[Any], protect: bool) -> str:
    """Render a node list; ``protect`` is True where a group should become nocase."""
    out = []
    for node in nodes:
        if node is None:
            continue
        if node.isNodeType(latexwalker.LatexGroupNode):
            out.append(_render_group(node, protect))
        elif node.isNodeType(latexwalker.LatexMacroNode):
            out.append(_render_macro(node, protect))
        else:
            out.append(_plain_text(node))
    return "".join(out)


def _render_group(node: Any, protect: bool) -> str:
    children = [child for child in node.nodelist if child is not None]
    head = children[0] if children else None
    if head is not None and head.isNodeType(latexwalker.LatexMacroNode):
        if head.macroname in _SWITCHES:  # {\em text}
            start, end = _MARKUP[_SWITCHES[head.macroname]]
            return start + _render(children[1:], protect).strip() + end
        return _render(children, protect)  # a special character: {\"o}, {\LaTeX}
    inner = _render(children, False)
    if protect and inner.strip():
        return f'<span class="nocase">{inner}</span>'
    return inner


def _render_macro(node: Any, protect: bool) -> str:
    name = node.macroname
    args = [arg for arg in (node.nodeargd.argnlist if node.nodeargd else []) if arg is not None]
    if name in _MARKUP and args:
        start, end = _MARKUP[name]
        return start + _render_argument(args[-1], protect) + end
    if name in _TRANSPARENT and args:
        return _render_argument(args[-1], protect)
    if name == "href" and len(args) == 2:
        return _render_argument(args[1], protect)
    if name in _DROPPED:
        return ""
    if name in _LOGOS:
        return _LOGOS[name] + node.macro_post_space
    if name in _SWITCHES:  # a switch outside a group applies to the rest of the value
        return ""
    return _plain_text(node)


def _plain_text(node: Any) -> str:
    """pylatexenc's text for one node; a macro it trips over yields nothing."""
    try:
        return _TO_TEXT.nodelist_to_text([node])
    except (AttributeError, IndexError, TypeError, ValueError, KeyError):
        return ""


def _render_argument(arg: Any, protect: bool) -> str:
    """A macro argument: its contents, not a case-protected group."""
    if arg.isNodeType(latexwalker.LatexGroupNode):
        return _render([child for child in arg.nodelist if child is not None], protect)
    return _render([arg], protect)
