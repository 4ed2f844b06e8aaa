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
from .crossref import inherit
from .sentencecase import sentence_case

# --- tables -----------------------------------------------------------------

_TYPES: dict[str, str] = {
    "article": "article-journal",
    "book": "book", "mvbook": "book", "collection": "book", "mvcollection": "book",
    "proceedings": "book", "mvproceedings": "book", "reference": "book",
    "mvreference": "book", "manual": "book", "commentary": "book", "software": "book",
    "inbook": "chapter", "bookinbook": "chapter", "suppbook": "chapter",
    "incollection": "chapter", "suppcollection": "chapter",
    "inproceedings": "paper-conference", "conference": "paper-conference",
    "inreference": "entry-encyclopedia", "booklet": "pamphlet",
    "misc": "document", "online": "webpage", "electronic": "webpage", "www": "webpage",
    "report": "report", "techreport": "report",
    "thesis": "thesis", "phdthesis": "thesis", "mastersthesis": "thesis",
    "unpublished": "manuscript", "patent": "patent", "dataset": "dataset", "data": "dataset",
    "artwork": "graphic", "image": "graphic", "audio": "song", "music": "song",
    "jurisdiction": "legal_case", "legislation": "legislation", "standard": "legislation",
    "legal": "treaty", "letter": "personal_communication",
    "letters": "personal_communication", "movie": "motion_picture",
    "video": "motion_picture", "performance": "speech", "review": "review",
    "newsarticle": "article-newspaper",
}
_GENRES: dict[str, str] = {"phdthesis": "PhD thesis",
                           "mastersthesis": "Master\N{RIGHT SINGLE QUOTATION MARK}s thesis"}
# biblatex's localisation keys (english.lbx) that databases use in fields such as
# type, pubstate, series and location, or through \bibstring{key}.
_BIBSTRINGS: dict[str, str] = {
    "mathesis": "Master\N{RIGHT SINGLE QUOTATION MARK}s thesis", "phdthesis": "PhD thesis",
    "candthesis": "Candidate thesis", "techreport": "technical report",
    "resreport": "research report", "software": "computer software", "datacd": "CD-ROM",
    "audiocd": "audio CD", "jourser": "series", "newseries": "new series",
    "oldseries": "old series", "andothers": "et al.", "andmore": "et al.",
    "forthcoming": "forthcoming", "inpress": "in press", "prepublished": "pre-published",
    "submitted": "submitted", "inpreparation": "in preparation",
    "patent": "patent", "patentus": "U.S. patent", "patentde": "German patent",
    "patentfr": "French patent", "patentuk": "British patent", "patenteu": "European patent",
    "patreq": "patent request", "patrequs": "U.S. patent request",
    "patreqde": "German patent request", "patreqfr": "French patent request",
    "patrequk": "British patent request", "patreqeu": "European patent request",
    "countryde": "Germany", "countryeu": "European Union", "countryep": "European Union",
    "countryfr": "France", "countryuk": "United Kingdom",
    "countryus": "United States of America",
    "volume": "volume", "volumes": "volumes", "edition": "edition", "reprint": "reprint",
    "translationof": "translation of", "reprintof": "reprint of",
}
_LANGUAGES: dict[str, str] = {
    "english": "en-US", "american": "en-US", "british": "en-GB", "australian": "en-AU",
    "newzealand": "en-NZ", "canadian": "en-CA", "german": "de-DE", "ngerman": "de-DE",
    "austrian": "de-AT", "naustrian": "de-AT", "swissgerman": "de-CH", "nswissgerman": "de-CH",
    "french": "fr-FR", "latin": "la", "spanish": "es-ES", "italian": "it-IT",
    "dutch": "nl-NL", "portuguese": "pt-PT", "brazilian": "pt-BR", "russian": "ru-RU",
    "greek": "el-GR", "polish": "pl-PL", "swedish": "sv-SE", "danish": "da-DK",
    "norwegian": "nb-NO", "finnish": "fi-FI", "czech": "cs-CZ", "hungarian": "hu-HU",
    "japanese": "ja-JP", "chinese": "zh-CN", "catalan": "ca-AD", "turkish": "tr-TR",
    "ukrainian": "uk-UA", "hebrew": "he-IL", "arabic": "ar",
}
_EPRINT_URLS: dict[str, str] = {
    "arxiv": "https://arxiv.org/abs/", "jstor": "https://www.jstor.org/stable/",
    "pubmed": "https://www.ncbi.nlm.nih.gov/pubmed/", "googlebooks": "https://books.google.com?id=",
}
_MONTHS = ("january", "february", "march", "april", "may", "june", "july",
           "august", "september", "october", "november", "december")
_MONTH_MACROS: dict[str, str] = {name[:3]: name.capitalize() for name in _MONTHS}
_CHAPTERLIKE = {"inbook", "incollection", "inproceedings", "inreference", "bookinbook"}
# entry types whose ``number`` is the number in the series
_BOOKLIKE = {"book", "collection", "proceedings", "reference", "mvbook", "mvcollection",
             "mvproceedings", "mvreference", "bookinbook", "inbook", "incollection",
             "inproceedings", "inreference", "suppbook", "suppcollection"}
_TITLE_FIELDS = {"title", "subtitle", "titleaddon", "shorttitle", "booktitle", "booksubtitle",
                 "booktitleaddon", "maintitle", "mainsubtitle", "maintitleaddon", "journal",
                 "journaltitle", "journalsubtitle", "shortjournal", "series", "eventtitle",
                 "origtitle", "issuetitle", "issuesubtitle"}
_PERIODICAL_TITLES = {"journal", "journaltitle", "journalsubtitle", "shortjournal"}
_VERBATIM_FIELDS = {"doi", "url", "eprint", "file", "verba", "verbb", "verbc"}
_NAME_FIELDS = {"author": "author", "editor": "editor", "translator": "translator",
                "bookauthor": "container-author", "director": "director"}
_DATE_FIELDS = {"urldate": "accessed", "eventdate": "event-date",
                "origdate": "original-date"}
# CSL variable: BibTeX fields, the first one present wins.
_SIMPLE_FIELDS: dict[str, tuple[str, ...]] = {
    "edition": ("edition",),
    "version": ("version",),
    "number-of-pages": ("pagetotal",),
    "number-of-volumes": ("volumes",),
    "chapter-number": ("chapter",),
    "abstract": ("abstract",),
    "keyword": ("keywords",),
}


def bibstring(key: str) -> str:
    """The English text of a biblatex localisation key, or "" when ``key`` is not one."""
    return _BIBSTRINGS.get(key.strip().lower(), "")


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
    """Read every entry (macros apply to what follows them), resolve inheritance, convert."""
    macros: dict[str, str] = dict(_MONTH_MACROS)
    first_lines: dict[str, int] = {}
    raw: dict[str, tuple[Entry, dict[str, str], dict[str, int]]] = {}
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
            fields, lines = _entry_fields(block, macros, path)
            raw[block.key.strip().lower()] = (block, fields, lines)
    inherited = inherit({key: (entry.entry_type.lower(), fields)
                         for key, (entry, fields, _) in raw.items()})
    items: list[tuple[dict[str, Any], int]] = []
    for key, (entry, _, lines) in raw.items():
        if entry.entry_type.lower() == "xdata":
            continue  # a data container, not a work
        try:
            items.append((_convert_entry(entry, inherited[key], lines, path), _line(entry)))
        except RecursionError:  # LaTeX nested past what pylatexenc's recursion can take
            raise BuildError(f"entry '{entry.key.strip()}' is nested too deeply to read",
                             path, _line(entry),
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


def _convert_entry(entry: Entry, fields: dict[str, str], lines: dict[str, int],
                   path: Path) -> dict[str, Any]:
    """One BibTeX entry, with its inherited fields, as a CSL-JSON item."""
    bibtex_type = entry.entry_type.lower()
    english = _is_english(fields)
    item: dict[str, Any] = {"id": entry.key.strip(), "type": _csl_type(bibtex_type, fields)}
    item.update(_names(fields, lines, _line(entry), path))
    item.update(_titles(fields, bibtex_type, english))
    item.update(_numbers(fields, bibtex_type))
    item.update(_places(fields, bibtex_type))
    item.update(_simple(fields, item))
    item.update(_genre(bibtex_type, fields))
    item.update(_dates(fields))
    item.update(_links(fields, bibtex_type))
    item.update(_notes(fields, bibtex_type, item))
    language = _language(fields)
    if language:
        item["language"] = language
    return {key: value for key, value in item.items() if value not in ("", None)}


def _csl_type(bibtex_type: str, fields: dict[str, str]) -> str:
    if bibtex_type in ("article", "periodical", "suppperiodical"):
        subtype = fields.get("entrysubtype", "").strip().lower()
        if subtype in ("magazine", "newspaper"):
            return f"article-{subtype}"
        return "article-journal"
    if bibtex_type == "unpublished" and _first(fields, "eventdate", "eventtitle", "venue"):
        return "speech"
    return _TYPES.get(bibtex_type, "document")


def _genre(bibtex_type: str, fields: dict[str, str]) -> dict[str, str]:
    """Thesis and report kinds: ``type`` (a bibstring key or text), else the entry type."""
    kind = fields.get("type", "").strip()
    if kind:
        genre = bibstring(kind) or _text(kind)
    else:
        genre = _GENRES.get(bibtex_type, "")
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


def _is_english(fields: dict[str, str]) -> bool:
    """Titles are converted to sentence case when the entry is English or says no language."""
    language = _language(fields)
    return not language or language.startswith("en")


def _language(fields: dict[str, str]) -> str:
    """``langid`` (with ``langidopts`` variant=...) or ``hyphenation`` as an IETF tag."""
    name = fields.get("langid", "").strip().lower() or fields.get("hyphenation", "").strip().lower()
    if not name:
        return ""
    options = fields.get("langidopts", "").replace(" ", "").lower()
    if name == "english" and options.startswith("variant="):
        name = {"us": "american", "usmax": "american", "uk": "british"}.get(
            options[8:], options[8:])
    return _LANGUAGES.get(name, name)


def _title(fields: dict[str, str], name: str, english: bool) -> str:
    """A title-like field, in sentence case for English entries."""
    if not _first(fields, name):
        return ""
    value = _text(fields[name], name)
    return sentence_case(value) if english and name not in _PERIODICAL_TITLES else value


def _joined(*parts: str) -> str:
    """"Title: Subtitle. Addon" (a part after punctuation gets only a space)."""
    out = ""
    for separator, part in zip(("", ":", "."), parts, strict=False):
        if not part:
            continue
        if not out:
            out = part
        else:
            out += " " + part if _TAG.sub("", out)[-1:] in "!?.,:;" else f"{separator} {part}"
    return out


def _titles(fields: dict[str, str], bibtex_type: str, english: bool) -> dict[str, str]:
    """title, volume-title, container-title and the short titles, by biblatex's rules."""
    def get(name: str) -> str:
        return _title(fields, name, english)

    periodical = bibtex_type == "periodical"
    chapterlike = bibtex_type in _CHAPTERLIKE
    main = bool(fields.get("maintitle", "").strip())
    own = (get("title"), get("subtitle"), get("titleaddon"))
    out: dict[str, str] = {}
    if periodical and _first(fields, "issuetitle"):
        out["title"] = _joined(get("issuetitle"), get("issuesubtitle"), get("titleaddon"))
    elif main and not chapterlike:
        out["title"] = _joined(get("maintitle"), get("mainsubtitle"), get("maintitleaddon"))
        out["volume-title"] = _joined(*own)
    else:
        out["title"] = _joined(*own)
    if main and chapterlike:
        out["volume-title"] = _joined(get("booktitle"), get("booksubtitle"),
                                      get("booktitleaddon"))
    if periodical:
        out["container-title"] = _joined(*(_text(fields[name], name) if _first(fields, name)
                                           else "" for name in ("title", "subtitle",
                                                                "titleaddon")))
    elif chapterlike and (main or _first(fields, "booktitle")):
        prefix = "main" if main else "book"
        out["container-title"] = _joined(get(f"{prefix}title"), get(f"{prefix}subtitle"),
                                         get(f"{prefix}titleaddon"))
    else:
        out["container-title"] = _joined(get("journaltitle") or get("journal"),
                                         get("journalsubtitle"))
    if periodical and not main and _first(fields, "shorttitle"):
        out["container-title-short"] = _text(fields["shorttitle"])
    elif _first(fields, "shortjournal"):
        out["container-title-short"] = _text(fields["shortjournal"], "shortjournal")
    out["title-short"] = _short_title(fields, own[0], main, chapterlike, english)
    series = _series(fields, english)
    if series:
        out["collection-title"] = series
    for name, variable in (("eventtitle", "event"), ("origtitle", "original-title")):
        if _first(fields, name):
            out[variable] = get(name)
    return out


def _short_title(fields: dict[str, str], title: str, main: bool, chapterlike: bool,
                 english: bool) -> str:
    """shorttitle, else the title before its subtitle or before a colon."""
    if _first(fields, "shorttitle") and (not main or chapterlike):
        return _title(fields, "shorttitle", english)
    plain_colon = title.find(":")
    if not main and _first(fields, "subtitle", "titleaddon"):  # (the title alone, or before
        return title[:plain_colon].rstrip() if plain_colon > 0 else title  # its own colon)
    return title[:plain_colon].rstrip() if plain_colon > 0 else ""


def _series(fields: dict[str, str], english: bool) -> str:
    """series: a bibstring key ("newseries") is spelt out, a number becomes "2nd series"."""
    value = fields.get("series", "").strip()
    if not value:
        return ""
    if value.isdigit():
        return f"{_ordinal(int(value))} series"
    spelt = bibstring(value)
    if spelt:
        return sentence_case(spelt) if english else spelt
    return _title(fields, "series", english)


def _ordinal(number: int) -> str:
    if 10 <= number % 100 <= 20:
        return f"{number}th"
    return f"{number}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(number % 10, 'th') }"


def _numbers(fields: dict[str, str], bibtex_type: str) -> dict[str, str]:
    """``number`` is the issue of a serial, the series number of a book, else the number."""
    out: dict[str, str] = {}
    number = _text(fields["number"]) if _first(fields, "number") else ""
    issue = _text(fields["issue"]) if _first(fields, "issue") else ""
    if bibtex_type in _BOOKLIKE:
        out["collection-number"] = number
    elif bibtex_type in ("article", "periodical", "suppperiodical", "review"):
        out["issue"] = ", ".join(part for part in (number, issue) if part)
    else:
        out["number"] = number
    volume = _text(fields["volume"]) if _first(fields, "volume") else ""
    part = _text(fields["part"]) if _first(fields, "part") else ""
    out["volume"] = f"{volume}.{part}" if volume and part else volume or part
    if _first(fields, "pages"):
        out["page"] = _text(fields["pages"]).replace("\N{EN DASH}", "-")
    return out


def _literal_list(value: str) -> str:
    """A BibLaTeX literal list ("Durham and London") as CSL text ("Durham; London")."""
    return "; ".join(_text(part).strip() for part in _split_top(_SPACES.sub(" ", value), _AND))


def _places(fields: dict[str, str], bibtex_type: str) -> dict[str, str]:
    """publisher (school, institution, organization, howpublished, publisher) and places."""
    out: dict[str, str] = {}
    publishers = [_text(fields[name]) if name == "howpublished" else _literal_list(fields[name])
                  for name in ("school", "institution", "organization", "howpublished",
                               "publisher") if _first(fields, name)]
    out["publisher"] = _joined_with(";", publishers)
    if _first(fields, "address"):
        out["publisher-place"] = _literal_list(fields["address"])
    elif _first(fields, "location") and bibtex_type != "patent":
        out["publisher-place"] = _literal_list(fields["location"])
    if bibtex_type == "patent" and _first(fields, "location"):
        out["jurisdiction"] = "; ".join(
            bibstring(part.strip()) or _text(part)
            for part in _split_top(_SPACES.sub(" ", fields["location"]), _AND))
    for name, variable in (("origlocation", "original-publisher-place"),
                           ("venue", "event-place"), ("origpublisher", "original-publisher")):
        if _first(fields, name):
            out[variable] = (_literal_list(fields[name]) if name == "origlocation"
                             else _text(fields[name]))
    return out


def _joined_with(separator: str, parts: list[str]) -> str:
    out = ""
    for part in parts:
        if not part:
            continue
        if not out:
            out = part
        elif _TAG.sub("", out)[-1:] in "!?.,:;":
            out += " " + part
        else:
            out += f"{separator} {part}"
    return out


def _links(fields: dict[str, str], bibtex_type: str) -> dict[str, str]:
    """url (else an arXiv, JSTOR, PubMed or Google Books eprint), doi, ids, call number."""
    options = _options(fields)
    out: dict[str, str] = {}
    eprint_type = fields.get("eprinttype", fields.get("archiveprefix", "")).strip().lower()
    if _first(fields, "url") and (bibtex_type == "online" or options.get("url") != "false"):
        out["URL"] = _text(fields["url"], "url")
    elif eprint_type in _EPRINT_URLS and _first(fields, "eprint"):
        out["URL"] = _EPRINT_URLS[eprint_type] + _text(fields["eprint"], "eprint")
    if _first(fields, "doi") and options.get("doi") != "false":
        out["DOI"] = _text(fields["doi"], "doi")
    for name, variable in (("isbn", "ISBN"), ("issn", "ISSN"), ("pmid", "PMID"),
                           ("pmcid", "PMCID"), ("library", "call-number")):
        if _first(fields, name):
            out[variable] = _SPACES.sub(" ", fields[name]).strip()
    return out


def _options(fields: dict[str, str]) -> dict[str, str]:
    pairs = (part.partition("=") for part in fields.get("options", "").split(","))
    return {key.strip().lower(): value.strip().lower() for key, _, value in pairs}


def _notes(fields: dict[str, str], bibtex_type: str, item: dict[str, Any]) -> dict[str, str]:
    """note (+ addendum), annote, status (pubstate, or a "forthcoming" date)."""
    out: dict[str, str] = {}
    notes = [_text(fields[name]) for name in ("note", "addendum") if _first(fields, name)
             and not (name == "note" and bibtex_type == "periodical")]
    out["note"] = _joined_with(".", notes)
    annotation = _first(fields, "annotation", "annote")
    if annotation:
        out["annote"] = _text(fields[annotation])
    if _first(fields, "pubstate"):
        out["status"] = bibstring(fields["pubstate"].strip()) or _text(fields["pubstate"])
    elif item.get("issued") == {"literal": "forthcoming"}:
        out["status"] = "forthcoming"
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

def _names(fields: dict[str, str], lines: dict[str, int], entry_line: int,
           path: Path) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    useprefix = _options(fields).get("useprefix") in ("true", "")
    director = fields.get("editortype", "").strip().lower() == "director"
    for name, variable in _NAME_FIELDS.items():
        if _first(fields, name):
            try:
                names = _parse_names(fields[name], useprefix)
            except _ValueError as problem:
                raise BuildError(f"invalid name in field '{name}': {problem}", path,
                                 lines.get(name, entry_line),
                                 hint="write names as 'Last, First' or 'First Last', "
                                      "joined by 'and'") from None
            if names:
                out["director" if director and name == "editor" else variable] = names
    return out


def _parse_names(value: str, useprefix: bool = False) -> list[dict[str, str]]:
    """CSL names from a BibTeX name list; ``others`` is dropped."""
    names = []
    for raw in _split_top(_SPACES.sub(" ", value).strip(), _AND):
        raw = raw.strip().strip(",").strip()
        if raw and raw.lower() != "others":
            names.append(_parse_name(raw, useprefix))
    return names


_KEYED_NAME = re.compile(r"\s*(family|given|prefix|suffix|useprefix)\s*=", re.IGNORECASE)


def _parse_name(raw: str, useprefix: bool = False) -> dict[str, str]:
    """One name in any of BibTeX's three forms, or biblatex's ``family=..., given=...``;
    a braced name is a literal."""
    if _wholly_braced(raw):
        return {"literal": _latex_to_csl(raw[1:-1])}
    if _KEYED_NAME.match(raw):
        return _keyed_name(raw, useprefix)
    parts = [part.strip() for part in _split_top(raw, _COMMA)]
    if len(parts) > 3:
        raise _ValueError(f"too many commas in '{raw}'")
    if len(parts) == 1:
        first, von, last = _first_von_last(_tokens(parts[0]))
        jr: list[str] = []
    else:
        von, last = _von_last(_tokens(parts[0]))
        first, jr = _tokens(parts[-1]), (_tokens(parts[1]) if len(parts) == 3 else [])
    return _name_dict(first, von, last, jr, useprefix)


def _keyed_name(raw: str, useprefix: bool) -> dict[str, str]:
    """biblatex's extended name format: ``family=Gennep, prefix=van, useprefix=true``."""
    values: dict[str, list[str]] = {}
    for part in _split_top(raw, _COMMA):
        key, equals, value = part.partition("=")
        key = key.strip().lower()
        if not equals or not key:
            raise _ValueError(f"expected key=value in '{part.strip()}'")
        value = value.strip()
        if _wholly_braced(value):
            value = value[1:-1]
        values.setdefault(key, []).append(value)
    if "useprefix" in values:
        useprefix = values["useprefix"][-1].strip().lower() in ("true", "")
    return _name_dict(values.get("given", []), values.get("prefix", []),
                      values.get("family", []), values.get("suffix", []), useprefix)


def _tokens(text: str) -> list[str]:
    return [token for token in _split_top(text, _NAME_SPACE) if token]


def _first_von_last(tokens: list[str]) -> tuple[list[str], list[str], list[str]]:
    """"First von Last" as biblatex reads it: First is the capitalised words at the start
    (all but the last when every word is capitalised), von the lowercase words after it."""
    count = 0
    while count < len(tokens) and not _is_lowercase(tokens[count]):
        count += 1
    if count == len(tokens):
        return tokens[:-1], [], tokens[-1:]
    von, last = _von_last(tokens[count:])
    return tokens[:count], von, last


def _von_last(tokens: list[str]) -> tuple[list[str], list[str]]:
    """"von Last": the lowercase words at the start are the von part (biblatex's rule, so
    "Drummond de Andrade" is all family name); the last word is always the family name."""
    count = 0
    while count < len(tokens) - 1 and _is_lowercase(tokens[count]):
        count += 1
    return tokens[:count], tokens[count:]


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


def _name_dict(first: list[str], von: list[str], last: list[str], jr: list[str],
               useprefix: bool = False) -> dict[str, str]:
    """A CSL name; the von part is a dropping particle unless ``useprefix`` (biblatex's
    default is false: "Ahasver von Brandt" is sorted and cited as "Brandt")."""
    particle = "non-dropping-particle" if useprefix else "dropping-particle"
    parts = {"given": first, particle: von, "family": last, "suffix": jr}
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
        elif _first(fields, f"{name[:-4]}year"):
            out[variable] = _year_month(fields, name[:-4])
    return out


def _date_text(value: str) -> str:
    """An EDTF date as written: braces dropped, ``~`` kept (it means "circa")."""
    return _SPACES.sub(" ", value.replace("{", "").replace("}", "")).strip()


def _parse_date(text: str) -> dict[str, Any]:
    """An ISO 8601/EDTF date or range as CSL date-parts, else a literal."""
    date_parts: list[list[int]] = []
    circa = False
    for part in text.split("/") if text.count("/") <= 1 else [text]:
        part = re.sub(r"T\d\d:\d\d(?::\d\d)?(?:Z|[+-]\d\d:?\d\d)?$", "", part.strip())  # a time
        if part in ("", ".."):
            continue
        while part and part[-1] in "~?%":  # EDTF qualifiers: approximate, uncertain, both
            circa = circa or part[-1] in "~%"
            part = part[:-1]
        unspecified = re.fullmatch(r"(\d{1,3})[uX]{1,3}", part)  # "20uu": 2000 to 2099
        if unspecified and len(part) == 4 and text.count("/") == 0:
            digits = unspecified.group(1)
            date_parts = [[int(digits.ljust(4, "0"))], [int(digits.ljust(4, "9"))]]
            break
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


def _year_month(fields: dict[str, str], prefix: str = "") -> dict[str, Any]:
    """``year`` with the optional ``month`` and ``day`` of classic BibTeX (``origyear``,
    ``origmonth``... with a prefix)."""
    year = _text(fields[f"{prefix}year"])
    if not _YEAR.fullmatch(year):
        return {"literal": year}
    parts = [int(year)]
    month = (_month_number(_text(fields[f"{prefix}month"]))
             if _first(fields, f"{prefix}month") else None)
    if month:
        parts.append(month)
        day = _text(fields[f"{prefix}day"]) if _first(fields, f"{prefix}day") else ""
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
    "emph": ("<i>", "</i>"), "textit": ("<i>", "</i>"), "mkbibemph": ("<i>", "</i>"),
    "mkbibitalic": ("<i>", "</i>"), "mkbibbold": ("<b>", "</b>"), "textsl": ("<i>", "</i>"),
    "textbf": ("<b>", "</b>"),
    "textsc": ('<span style="font-variant:small-caps;">', "</span>"),
    "textsuperscript": ("<sup>", "</sup>"), "textsubscript": ("<sub>", "</sub>"),
}
_SWITCHES: dict[str, str] = {
    "em": "emph", "it": "textit", "itshape": "textit", "sl": "textit", "slshape": "textit",
    "bf": "textbf", "bfseries": "textbf", "sc": "textsc", "scshape": "textsc",
}
_TRANSPARENT = {"mbox", "hbox", "url", "textrm", "textsf", "texttt", "textup",
                "textnormal", "textmd", "text", "nolinkurl", "autocap"}
_QUOTING = {"mkbibquote", "enquote", "enquote*", "mkbibquote*"}
_LITERAL_MACROS = {"slash": "/", "hyphen": "-", "textendash": "\N{EN DASH}",
                   "textemdash": "\N{EM DASH}", "adddot": ".", "addcomma": ",",
                   "addspace": " ", "addcolon": ":", "addsemicolon": ";", "arabic": ""}
_DROPPED = {"noopsort", "nocite", "relax", "bibnamedelima", "bibnamedelimb",
            "maketitle", "title", "author", "date"}  # pylatexenc's versions keep state
_LOGOS = {"LaTeX": "LaTeX", "TeX": "TeX", "LaTeXe": "LaTeX2ε", "BibTeX": "BibTeX",
          "XeTeX": "XeTeX", "LuaTeX": "LuaTeX"}


def _walker_context() -> macrospec.LatexContextDb:
    """pylatexenc's macros, plus the argument shapes of the ones we render."""
    db = latexwalker.get_default_latex_context_db()
    known = {"href": "{{", "textsuperscript": "{", "textsubscript": "{",
             "textnormal": "{", "textmd": "{", "text": "{", "hbox": "{",
             "nolinkurl": "{", "noopsort": "{", "nocite": "{", "mkbibquote": "{",
             "enquote": "*{", "bibstring": "{", "autocap": "{", "mkbibemph": "{",
             "mkbibitalic": "{", "mkbibbold": "{", "arabic": "{", "slash": "",
             "hyphen": "", "adddot": "", "addcomma": "", "addspace": "", "addcolon": "",
             "addsemicolon": ""}
    db.add_context_category("builder-bibtex", prepend=True,
                            macros=[macrospec.MacroSpec(name, args)
                                    for name, args in known.items()])
    return db


_WALKER_CONTEXT = _walker_context()
_TO_TEXT = latex2text.LatexNodes2Text()


def _latex_to_csl(text: str, protect: bool = False) -> str:
    """Decode LaTeX to CSL-JSON rich text; ``protect`` marks inner brace groups nocase."""
    source = _smart_quotes(_BARE_PERCENT.sub(r"\1\\%", _SPACES.sub(" ", text).strip()))
    walker = latexwalker.LatexWalker(source, latex_context=_WALKER_CONTEXT, tolerant_parsing=True)
    nodes, _, _ = walker.get_latex_nodes()
    return _SPACES.sub(" ", _render(nodes, protect)).strip()


_QUOTE_MARKS = (("``", "\N{LEFT DOUBLE QUOTATION MARK}"), ("''", "\N{RIGHT DOUBLE QUOTATION MARK}"),
                ("`", "\N{LEFT SINGLE QUOTATION MARK}"), ("'", "\N{RIGHT SINGLE QUOTATION MARK}"))


def _smart_quotes(text: str) -> str:
    """TeX's quotes: ``...'' and `...' as curly quotes, an apostrophe as ’ (not after a
    backslash: \\' is an accent)."""
    for mark, char in _QUOTE_MARKS:
        text = re.sub(r"(?<!\\)" + re.escape(mark), char, text)
    return text


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
    if name in _QUOTING and args:  # a quotation keeps its case, as in pandoc
        inner = _render_argument(args[-1], False)
        if protect:
            inner = f'<span class="nocase">{inner}</span>'
        return f"\N{LEFT DOUBLE QUOTATION MARK}{inner}\N{RIGHT DOUBLE QUOTATION MARK}"
    if name == "bibstring" and args:
        key = _TAG.sub("", _render_argument(args[-1], False))
        return bibstring(key) or key
    if name in _LITERAL_MACROS:
        return _LITERAL_MACROS[name]
    if name in _DROPPED:
        return ""
    if name in _LOGOS:
        return _LOGOS[name]  # TeX eats the space after a control word: {\\TeX book}
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
