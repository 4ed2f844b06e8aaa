"""Phase 1a: find and read everything a build needs.

A project folder holds ``book/`` (one or more Markdown files, metadata in
``book/book.yml`` or in the front matter of a single file) and
``bibliography/``.  Nothing here writes a file.
"""
from __future__ import annotations

import difflib
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .citations.references import load_references
from .errors import BuildError, BuildErrors, Diagnostics
from .files import Gate, Where
from .markdown import inline_text
from .model import Author, ChapterSource, Metadata, Position, Project, Text
from .yamlfile import load_yaml

log = logging.getLogger(__name__)

MARKDOWN_SUFFIXES = (".md", ".markdown")
BIBLIOGRAPHY_SUFFIXES = (".json", ".yaml", ".yml", ".bib", ".biblatex")

# Each metadata key, and what it must hold.
METADATA_KEYS: dict[str, str] = {
    "title": "text",
    "subtitle": "text",
    "author": "a name, a list of names, or a list of {name, role, bio, affiliation}",
    "date": "a date such as 2018-02-05",
    "lang": "a language tag such as en or en-GB",
    "category": "text",
    "tags": "a list of words",
    "keywords": "a list of words",
    "disclaimer": "text",
    "publisher": "text",
    "description": "text",
    "identifier": "an ISBN, DOI or URN",
    "bibliography": "a file or a list of files, relative to the file that names them",
    "csl": "a style name or a .csl file",
    "style": "a style name or a .csl file",
    "locale": "a locale tag such as en-US",
    "chapters": "a list of Markdown files in book/ (book.yml only)",
    "number-sections": "true or false: number the headings (default false)",
    "abstract": "text (Markdown)",
    "nocite": "citations to list without citing them: '@a, @b' or '@*' for all",
    "link-citations": "true or false: link each citation to its entry (default true)",
    "link-bibliography": "true or false: link the entries' DOIs, URLs, or titles (default true)",
    "reference-section-title": "text: the title of the list of references",
    "lof": "true or false: a list of figures (default false)",
    "lot": "true or false: a list of tables (default false)",
    "notes-after-punctuation": "true or false: the note call (or a superscript citation) "
                               "after the punctuation that follows a citation (default: "
                               "true in note styles, false for superscripts)",
}

# Bounds on hostile input: a Markdown file above this is refused before it is parsed
# (a 150,000-word book is about 1 MB; see docs/robustness.md for the measured bounds).

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)


@dataclass(frozen=True)
class _Config:
    data: dict[str, Any]
    lines: dict[str, int]
    path: Path


def load_project(root: Path, style: str | None = None, locale: str | None = None,
                 bibliography: list[Path] | None = None,
                 diagnostics: Diagnostics | None = None) -> Project:
    """Read the book in ``root``: metadata, chapters and references.

    Every problem in the metadata is found in one pass: given ``diagnostics``, they are
    added to its errors and the project is read as far as it can be (a bad value left
    out); without, they are raised together.  A book that cannot be found or a
    bibliography that cannot be read stops the reading at once.
    """
    found = diagnostics if diagnostics is not None else Diagnostics()
    gate = Gate(root, bibliography or ())
    book_dir = root / "book"
    if not book_dir.is_dir():
        raise BuildError("no book/ folder here", root,
                         hint="a project holds its Markdown files in book/")
    config, chapters = _read_book(book_dir, found, gate)
    metadata = _metadata(config, found)
    try:
        bib_paths = bibliography or _bibliography_paths(config, root, gate)
        references = load_references(bib_paths, gate)
    except BuildError as exc:  # with the problems found before it
        found.error(exc)
        found.raise_errors()
        raise  # pragma: no cover - raise_errors raised
    notes_after_punctuation = number_sections = None
    with found.collecting():
        notes_after_punctuation = _flag(config, "notes-after-punctuation")
    with found.collecting():
        number_sections = _flag(config, "number-sections")
    flags: dict[str, bool | None] = {}
    for key in ("link-citations", "link-bibliography", "lof", "lot"):
        with found.collecting():
            flags[key] = _flag(config, key)
    nocite: tuple[str, ...] = ()
    with found.collecting():
        nocite = _nocite(config)
    if diagnostics is None:
        found.raise_errors()
    overridden = {"csl", "style"} if style else set()
    if locale:
        overridden.add("locale")
    settings = tuple((key, Position(config.path, config.lines.get(key)))
                     for key in ("csl", "style", "locale")
                     if key in config.data and key not in overridden)
    return Project(
        root=root,
        metadata=metadata,
        chapters=tuple(chapters),
        references=tuple(references),
        style=style or _text(config, "csl") or _text(config, "style") or "apa",
        locale=locale or _text(config, "locale"),
        notes_after_punctuation=notes_after_punctuation,
        number_sections=bool(number_sections),
        nocite=nocite,
        link_citations=flags.get("link-citations") is not False,
        link_bibliography=flags.get("link-bibliography") is not False,
        lists=tuple(name for key, name in (("lof", "figures"), ("lot", "tables"))
                    if flags.get(key)),
        settings=settings,
    )


def _read_book(book_dir: Path, found: Diagnostics,
               gate: Gate) -> tuple[_Config, list[ChapterSource]]:
    book_yml = next((p for p in (book_dir / "book.yml", book_dir / "book.yaml")
                     if os.path.lexists(p)), None)
    if book_yml:
        data, lines = load_yaml(gate.read_text(book_yml, "metadata"), book_yml)
        config = _Config(_mapping(data, book_yml), lines, book_yml)
        with found.collecting():
            _check_keys(config)
        chapters = []
        for path, at in _chapter_paths(book_dir, config, found):
            with found.collecting():
                chapters.append(_read_chapter(path, gate, at)[0])
        if not chapters:
            found.raise_errors()
        return config, chapters
    paths = sorted(p for p in book_dir.iterdir() if p.suffix in MARKDOWN_SUFFIXES)
    if not paths:
        raise BuildError("the book is empty: no Markdown file in book/", book_dir,
                         hint="add a .md file, or book/book.yml listing the chapters")
    read = []
    for path in paths:
        with found.collecting():
            read.append(_read_chapter(path, gate))
    if not read:
        found.raise_errors()
    configs = [config for _, config in read]
    with_meta = [c for c in configs if c.data]
    for extra in with_meta[1:]:
        found.error(BuildError(
            "metadata in the front matter of more than one file", extra.path, 1,
            hint="keep the book's metadata in one place: book/book.yml"))
    config = with_meta[0] if with_meta else _Config({}, {}, paths[0])
    with found.collecting():
        _check_keys(config)
    return config, [chapter for chapter, _ in read]


def _chapter_paths(book_dir: Path, config: _Config,
                   found: Diagnostics) -> list[tuple[Path, Where | None]]:
    """The chapters' files, each with the line of book.yml that names it."""
    listed = config.data.get("chapters")
    paths: list[tuple[Path, Where | None]]
    if listed is None:
        paths = sorted((p, None) for p in book_dir.iterdir() if p.suffix in MARKDOWN_SUFFIXES)
    elif not isinstance(listed, list) or not all(isinstance(c, str) for c in listed):
        raise BuildError("'chapters' must be a list of file names", config.path,
                         config.lines.get("chapters"))
    else:
        paths = []
        for n, name in enumerate(listed):
            path = book_dir / name
            line = config.lines.get(f"chapters[{n}]", config.lines.get("chapters"))
            if not os.path.lexists(path):
                found.error(BuildError(
                    f"chapter '{name}' is listed but there is no such file", config.path,
                    line, hint=f"create book/{name} or remove it from 'chapters'"))
                continue
            paths.append((path, (config.path, line)))
        if not paths and found.errors:
            found.raise_errors()
    if not paths:
        raise BuildError("the book is empty: no chapters", config.path,
                         hint="list the Markdown files under 'chapters:'")
    return paths


def _read_chapter(path: Path, gate: Gate,
                  at: Where | None = None) -> tuple[ChapterSource, _Config]:
    text = gate.read_text(path, "chapter", at)
    match = _FRONT_MATTER.match(text)
    if not match:
        return ChapterSource(path, text, 1), _Config({}, {}, path)
    data, lines = load_yaml(match.group(1) or "", path, first_line=2)
    config = _Config(_mapping(data, path), lines, path)
    body_line = text[: match.end()].count("\n") + 1
    return ChapterSource(path, text[match.end():], body_line), config


def _mapping(data: Any, path: Path) -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BuildError("metadata must be a mapping of keys to values", path, 1)
    return {str(k): v for k, v in data.items()}


def _check_keys(config: _Config) -> None:
    """Every unknown key, at once."""
    errors = []
    for key in config.data:
        if key not in METADATA_KEYS:
            close = difflib.get_close_matches(key, METADATA_KEYS, n=1)
            hint = (f"did you mean '{close[0]}'?" if close
                    else "valid keys: " + ", ".join(sorted(METADATA_KEYS)))
            errors.append(BuildError(f"unknown metadata key '{key}'", config.path,
                                     config.lines.get(key), hint=hint))
    if errors:
        raise BuildErrors(errors)


def _text(config: _Config, key: str) -> str | None:
    value = config.data.get(key)
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise BuildError(f"'{key}' must be {METADATA_KEYS[key]}", config.path,
                         config.lines.get(key))
    return str(value)


def _nocite(config: _Config) -> tuple[str, ...]:
    """Pandoc's ``nocite``: citations (``@a, @b``, ``[@a; @b]``, ``@*``) in a string or a
    list; the keys they name."""
    value = config.data.get("nocite")
    if value is None:
        return ()
    texts = value if isinstance(value, list) else [value]
    if not all(isinstance(t, str) for t in texts):
        raise BuildError(f"'nocite' must be {METADATA_KEYS['nocite']}", config.path,
                         config.lines.get("nocite"))
    keys = [k for t in texts for k in re.findall(r"@(\*|[\w][\w:.#$%&+?<>~/-]*)", t)]
    if not keys:
        raise BuildError("'nocite' names no citation", config.path, config.lines.get("nocite"),
                         hint="write the keys as citations: nocite: '@doe99, @roe01' or '@*'")
    return tuple(k.rstrip(".:") for k in keys)


def _flag(config: _Config, key: str) -> bool | None:
    """A true/false key; None when it is not set."""
    value = config.data.get(key)
    if value is not None and not isinstance(value, bool):
        raise BuildError(f"'{key}' must be {METADATA_KEYS[key]}", config.path,
                         config.lines.get(key), hint=f"write '{key}: true' or '{key}: false'")
    return value


def _string_list(config: _Config, key: str) -> tuple[str, ...]:
    value = config.data.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return tuple(str(v) for v in value)
    raise BuildError(f"'{key}' must be {METADATA_KEYS[key]}", config.path, config.lines.get(key))


def _authors(config: _Config) -> tuple[Author, ...]:
    value = config.data.get("author")
    if value is None:
        return ()
    entries = value if isinstance(value, list) else [value]
    authors = []
    for entry in entries:
        if isinstance(entry, str):
            authors.append(Author(entry))
        elif isinstance(entry, dict) and isinstance(entry.get("name"), str):
            unknown = set(entry) - {"name", "role", "bio", "affiliation"}
            if unknown:
                raise BuildError(f"unknown author key '{sorted(unknown)[0]}'", config.path,
                                 config.lines.get("author"),
                                 hint="an author has name, role, bio and affiliation")
            authors.append(Author(entry["name"], _opt(entry.get("role")),
                                  _opt(entry.get("bio")), _opt(entry.get("affiliation"))))
        else:
            raise BuildError(f"'author' must be {METADATA_KEYS['author']}", config.path,
                             config.lines.get("author"))
    return tuple(authors)


def _opt(value: Any) -> str | None:
    return None if value is None else str(value).strip()


def _metadata(config: _Config, found: Diagnostics) -> Metadata:
    """The book's metadata; each bad value an error in ``found`` (and left out)."""
    def value(read: Any, *args: Any, default: Any = None) -> Any:
        with found.collecting():
            return read(config, *args)
        return default

    before = len(found.errors)
    title = value(_text, "title")
    misspelt = [key for key in config.data if key not in METADATA_KEYS
                and difflib.get_close_matches(key, METADATA_KEYS, n=1) == ["title"]]
    if not title and not misspelt and len(found.errors) == before:  # one error for a title
        found.error(BuildError("the book has no title", config.path, 1,
                                       hint="add 'title: ...' to the metadata"))
    lang = value(_text, "lang") or "en"
    if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*", lang):
        found.error(BuildError(f"'{lang}' is not a language tag", config.path,
                                       config.lines.get("lang"),
                                       hint="use a BCP 47 tag such as en, en-GB or ru"))
        lang = "en"
    def prose(key: str) -> Text | None:
        return _prose(value(_text, key), config)

    authors = tuple(Author(_prose(a.name, config) or "", _prose(a.role, config),
                           _prose(a.bio, config), _prose(a.affiliation, config))
                    for a in value(_authors, default=()))
    return Metadata(
        title=_prose(title, config) or "",
        subtitle=prose("subtitle"),
        authors=authors,
        date=value(_text, "date"),
        lang=lang,
        category=prose("category"),
        tags=value(_string_list, "tags", default=()) or value(_string_list, "keywords",
                                                              default=()),
        disclaimer=prose("disclaimer"),
        publisher=prose("publisher"),
        description=prose("description"),
        identifier=value(_text, "identifier"),
        abstract=prose("abstract"),
        references_title=prose("reference-section-title"),
    )


def _prose(value: str | None, config: _Config) -> Text | None:
    """A metadata string read as inline Markdown, as Pandoc reads metadata."""
    if value is None:
        return None
    return inline_text(value, config.path, config.path.parent.parent)


def _bibliography_paths(config: _Config, root: Path, gate: Gate) -> list[Path]:
    value = config.data.get("bibliography")
    if value is None:
        folder = root / "bibliography"
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir() if p.suffix in BIBLIOGRAPHY_SUFFIXES)
    names = value if isinstance(value, list) else [value]
    paths = []
    for name in names:
        path = (config.path.parent / str(name))
        line = config.lines.get("bibliography")
        if not os.path.lexists(path):
            raise BuildError(f"bibliography file '{name}' not found", config.path, line,
                             hint="paths are relative to the file that names them")
        gate.check(path, "bibliography", (config.path, line))
        paths.append(path)
    return paths
