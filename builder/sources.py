"""Phase 1a: find and read everything a build needs.

A project folder holds ``book/`` (one or more Markdown files, metadata in
``book/book.yml`` or in the front matter of a single file) and
``bibliography/``.  Nothing here writes a file.
"""
from __future__ import annotations

import difflib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .citations.references import load_references
from .errors import BuildError
from .model import Author, ChapterSource, Metadata, Position, Project
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
}

# Bounds on hostile input: a Markdown file above this is refused before it is parsed
# (a 150,000-word book is about 1 MB; see docs/robustness.md for the measured bounds).
MAX_MARKDOWN_BYTES = 8 * 1024 * 1024

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)


@dataclass(frozen=True)
class _Config:
    data: dict[str, Any]
    lines: dict[str, int]
    path: Path


def load_project(root: Path, style: str | None = None, locale: str | None = None,
                 bibliography: list[Path] | None = None) -> Project:
    """Read the book in ``root``: metadata, chapters and references."""
    book_dir = root / "book"
    if not book_dir.is_dir():
        raise BuildError("no book/ folder here", root,
                         hint="a project holds its Markdown files in book/")
    config, chapters = _read_book(book_dir)
    metadata = _metadata(config)
    bib_paths = bibliography or _bibliography_paths(config, root)
    references = load_references(bib_paths)
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
        settings=settings,
    )


def _read_book(book_dir: Path) -> tuple[_Config, list[ChapterSource]]:
    book_yml = next((p for p in (book_dir / "book.yml", book_dir / "book.yaml") if p.exists()), None)
    if book_yml:
        data, lines = load_yaml(book_yml.read_text(encoding="utf-8"), book_yml)
        config = _Config(_mapping(data, book_yml), lines, book_yml)
        _check_keys(config)
        chapters = [_read_chapter(p)[0] for p in _chapter_paths(book_dir, config)]
        return config, chapters
    paths = sorted(p for p in book_dir.iterdir() if p.suffix in MARKDOWN_SUFFIXES)
    if not paths:
        raise BuildError("the book is empty: no Markdown file in book/", book_dir,
                         hint="add a .md file, or book/book.yml listing the chapters")
    chapters, configs = zip(*(_read_chapter(p) for p in paths))
    with_meta = [c for c in configs if c.data]
    if len(with_meta) > 1:
        second = with_meta[1]
        raise BuildError("metadata in the front matter of more than one file", second.path, 1,
                         hint="keep the book's metadata in one place: book/book.yml")
    config = with_meta[0] if with_meta else _Config({}, {}, paths[0])
    _check_keys(config)
    return config, list(chapters)


def _chapter_paths(book_dir: Path, config: _Config) -> list[Path]:
    listed = config.data.get("chapters")
    if listed is None:
        paths = sorted(p for p in book_dir.iterdir() if p.suffix in MARKDOWN_SUFFIXES)
    elif not isinstance(listed, list) or not all(isinstance(c, str) for c in listed):
        raise BuildError("'chapters' must be a list of file names", config.path,
                         config.lines.get("chapters"))
    else:
        paths = []
        for n, name in enumerate(listed):
            path = book_dir / name
            if not path.is_file():
                raise BuildError(f"chapter '{name}' is listed but there is no such file",
                                 config.path,
                                 config.lines.get(f"chapters[{n}]", config.lines.get("chapters")),
                                 hint=f"create book/{name} or remove it from 'chapters'")
            paths.append(path)
    if not paths:
        raise BuildError("the book is empty: no chapters", config.path,
                         hint="list the Markdown files under 'chapters:'")
    return paths


def _read_chapter(path: Path) -> tuple[ChapterSource, _Config]:
    size = path.stat().st_size
    if size > MAX_MARKDOWN_BYTES:
        raise BuildError(f"the file is too large ({size / 2**20:.1f} MB; the limit is "
                         f"{MAX_MARKDOWN_BYTES // 2**20} MB)", path,
                         hint="split the book into chapters listed in book/book.yml")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise BuildError("the file is not UTF-8 text", path, line,
                         hint="save it as UTF-8") from None
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
    for key in config.data:
        if key not in METADATA_KEYS:
            close = difflib.get_close_matches(key, METADATA_KEYS, n=1)
            hint = (f"did you mean '{close[0]}'?" if close
                    else "valid keys: " + ", ".join(sorted(METADATA_KEYS)))
            raise BuildError(f"unknown metadata key '{key}'", config.path,
                             config.lines.get(key), hint=hint)


def _text(config: _Config, key: str) -> str | None:
    value = config.data.get(key)
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise BuildError(f"'{key}' must be {METADATA_KEYS[key]}", config.path,
                         config.lines.get(key))
    return str(value)


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


def _metadata(config: _Config) -> Metadata:
    title = _text(config, "title")
    if not title:
        raise BuildError("the book has no title", config.path, 1,
                         hint="add 'title: ...' to the metadata")
    lang = _text(config, "lang") or "en"
    if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*", lang):
        raise BuildError(f"'{lang}' is not a language tag", config.path, config.lines.get("lang"),
                         hint="use a BCP 47 tag such as en, en-GB or ru")
    return Metadata(
        title=title,
        subtitle=_text(config, "subtitle"),
        authors=_authors(config),
        date=_text(config, "date"),
        lang=lang,
        category=_text(config, "category"),
        tags=_string_list(config, "tags") or _string_list(config, "keywords"),
        disclaimer=_text(config, "disclaimer"),
        publisher=_text(config, "publisher"),
        description=_text(config, "description"),
        identifier=_text(config, "identifier"),
    )


def _bibliography_paths(config: _Config, root: Path) -> list[Path]:
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
        if not path.is_file():
            raise BuildError(f"bibliography file '{name}' not found", config.path,
                             config.lines.get("bibliography"),
                             hint="paths are relative to the file that names them")
        paths.append(path)
    return paths
