"""Phase 1a: find and read everything a build needs.

A project folder holds ``book/`` (one or more Markdown files, metadata in
``book/book.yml`` or in the front matter of a single file) and
``bibliography/``.  Nothing here writes a file.
"""
from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .citations.references import load_references
from .errors import BuildError, Diagnostics, Warning_
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
    "build": "the build's settings (builder/config.py): to, theme, page-size, toc, ...",
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


# Keys Pandoc's templates and pandoc-crossref read, which a Pandoc project brings: template
# variables here as there, never taken for a misspelt key of ours.
PANDOC_VARIABLES = frozenset("""
    pagetitle title-prefix author-meta date-meta description-meta institute thanks
    abstract-title toc-title toc toc-depth header-includes include-before include-after css
    classoption documentclass geometry fontsize mainfont sansfont monofont mathfont linestretch
    papersize margin-left margin-right margin-top margin-bottom linkcolor urlcolor citecolor
    toccolor colorlinks links-as-notes lof lot biblio-title biblio-style natbiblatex
    cref chapters chaptersDepth codeBlockCaptions figPrefix eqnPrefix tblPrefix lstPrefix
    secPrefix figureTitle tableTitle listingTitle lofTitle lotTitle autoSectionLabels
    linkReferences nameInLink subfigGrid
""".split())


@dataclass(frozen=True)
class Inputs:
    """What the command line names besides the project folder, as Pandoc takes it:
    Markdown files (in reading order; a ``.yml``/``.yaml`` among them is a metadata
    file, as ``pandoc *.md metadata.yml`` reads it), ``--metadata-file`` files and
    ``-M key=value`` pairs (the value read as YAML)."""

    files: tuple[Path, ...] = ()
    metadata_files: tuple[Path, ...] = ()
    metadata: tuple[tuple[str, Any], ...] = ()

    def named(self) -> tuple[Path, ...]:
        return (*self.files, *self.metadata_files)


@dataclass(frozen=True)
class _Config:
    data: dict[str, Any]
    lines: dict[str, int]
    path: Path
    # the file each key was read from, where it is not ``path`` (None: the command line)
    origins: dict[str, Path | None] = field(default_factory=dict)

    def at(self, key: str) -> tuple[Path | None, int | None]:
        """Where ``key`` was set: its file and line."""
        origin = self.origins.get(key, self.path)
        return origin, self.lines.get(key) if origin is not None else None

    def origin(self, key: str) -> Path | None:
        return self.origins.get(key, self.path)


def _merged(configs: list[_Config], path: Path) -> _Config:
    """Several metadata blocks as one, as Pandoc combines them: a later key wins."""
    data: dict[str, Any] = {}
    lines: dict[str, int] = {}
    origins: dict[str, Path | None] = {}
    for config in configs:
        for key, value in config.data.items():
            data[key] = value
            for name in [k for k in lines if k == key or k.startswith((f"{key}[", f"{key}."))]:
                del lines[name]
            lines.update({k: n for k, n in config.lines.items()
                          if k == key or k.startswith((f"{key}[", f"{key}."))})
            origins[key] = config.origin(key)
    return _Config(data, lines, path, {k: v for k, v in origins.items() if v != path})


def load_project(root: Path, style: str | None = None, locale: str | None = None,
                 bibliography: list[Path] | None = None,
                 diagnostics: Diagnostics | None = None, inputs: Inputs = Inputs()) -> Project:
    """Read the book in ``root``: metadata, chapters and references.

    Every problem in the metadata is found in one pass: given ``diagnostics``, they are
    added to its errors and the project is read as far as it can be (a bad value left
    out); without, they are raised together.  A book that cannot be found or a
    bibliography that cannot be read stops the reading at once.
    """
    found = diagnostics if diagnostics is not None else Diagnostics()
    gate = Gate(root, [*(bibliography or ()), *inputs.named()])
    if inputs.files:
        config, chapters = _read_files(inputs.files, found, gate)
    else:
        book_dir = root / "book"
        if not book_dir.is_dir():
            raise BuildError("no book/ folder here", root,
                             hint="a project holds its Markdown files in book/")
        config, chapters = _read_book(book_dir, found, gate)
    config = _with_command_line(config, inputs, gate, found)
    with found.collecting():
        _check_keys(config, found)
    metadata = _metadata(config, found, root)
    try:
        bib_paths = bibliography or _bibliography_paths(config, root, gate, inputs.named(),
                                                        folder=not inputs.files)
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
    settings = tuple((key, Position(*config.at(key)))  # type: ignore[arg-type]
                     for key in ("csl", "style", "locale")
                     if key in config.data and key not in overridden
                     and config.origin(key) is not None)
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
        data, lines = load_yaml(gate.read_text(book_yml, "metadata"), book_yml, documents=True)
        config = _Config(_mapping(data, book_yml), lines, book_yml)
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
    return config, [chapter for chapter, _ in read]


def _read_files(files: tuple[Path, ...], found: Diagnostics,
                gate: Gate) -> tuple[_Config, list[ChapterSource]]:
    """Markdown files named on the command line, in that order, as Pandoc reads them: the
    YAML blocks of every file (a ``.yml`` file is one) combined, a later key winning."""
    configs, chapters = [], []
    for path in files:
        if not os.path.lexists(path):
            found.error(BuildError("file not found", path, category="input",
                                   hint="name Markdown files that exist"))
            continue
        with found.collecting():
            if path.suffix.lower() in (".yml", ".yaml"):
                configs.append(read_metadata_file(path, gate))
                continue
            chapter, config = _read_chapter(path, gate)
            chapters.append(chapter)
            configs.append(config)
    if not chapters:
        found.error(BuildError("no Markdown file among the files named", files[0],
                               hint="name the chapters' .md files"))
        found.raise_errors()
    return _merged(configs, configs[0].path if configs else files[0]), chapters


def read_metadata_file(path: Path, gate: Gate) -> _Config:
    """A YAML metadata file, read as Pandoc's ``--metadata-file``: one or several YAML
    documents, each between ``---`` and ``---`` or ``...`` (or bare), combined."""
    if not os.path.lexists(path):
        raise BuildError("metadata file not found", path, category="input")
    data, lines = load_yaml(gate.read_text(path, "metadata"), path, documents=True)
    return _Config(_mapping(data, path), lines, path)


def _with_command_line(config: _Config, inputs: Inputs, gate: Gate,
                       found: Diagnostics) -> _Config:
    """The project's metadata with ``--metadata-file`` beneath it and ``-M`` above it, as
    Pandoc ranks them."""
    if not inputs.metadata_files and not inputs.metadata:
        return config
    below = []
    for path in inputs.metadata_files:
        with found.collecting():
            below.append(read_metadata_file(path, gate))
    above = _Config(dict(inputs.metadata), {}, config.path,
                    {key: None for key, _ in inputs.metadata})
    return _merged([*below, config, above], config.path)


def _chapter_paths(book_dir: Path, config: _Config,
                   found: Diagnostics) -> list[tuple[Path, Where | None]]:
    """The chapters' files, each with the line of book.yml that names it."""
    listed = config.data.get("chapters")
    paths: list[tuple[Path, Where | None]]
    if listed is None:
        paths = sorted((p, None) for p in book_dir.iterdir() if p.suffix in MARKDOWN_SUFFIXES)
    elif not isinstance(listed, list) or not all(isinstance(c, str) for c in listed):
        raise BuildError("'chapters' must be a list of file names", *config.at("chapters"))
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


def _check_keys(config: _Config, found: Diagnostics) -> None:
    """A key we do not know is a template variable, as in Pandoc; one a small edit away
    from a key we know is likely misspelt: a warning naming that key (``--strict``: an
    error)."""
    for key in config.data:
        if key in METADATA_KEYS or key in PANDOC_VARIABLES:
            continue
        close = closest_key(key, METADATA_KEYS)
        if close:
            found.warn(Warning_(f"unknown metadata key '{key}' is kept as a template variable",
                                *config.at(key), hint=f"did you mean '{close}'?"))


def closest_key(key: str, known: Iterable[str]) -> str | None:
    """The known key within a small edit distance of ``key`` (one edit for keys of up to
    five letters, two for longer ones; a swap of neighbours is one edit), or None."""
    limit = 1 if len(key) <= 5 else 2
    scored = sorted((_distance(key.lower(), k.lower()), k) for k in known)
    return scored[0][1] if scored and 0 < scored[0][0] <= limit else None


def _distance(a: str, b: str) -> int:
    """Edit distance with transpositions (optimal string alignment)."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def _text(config: _Config, key: str) -> str | None:
    value = config.data.get(key)
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise BuildError(f"'{key}' must be {METADATA_KEYS[key]}", *config.at(key))
    return str(value)


def _nocite(config: _Config) -> tuple[str, ...]:
    """Pandoc's ``nocite``: citations (``@a, @b``, ``[@a; @b]``, ``@*``) in a string or a
    list; the keys they name."""
    value = config.data.get("nocite")
    if value is None:
        return ()
    texts = value if isinstance(value, list) else [value]
    if not all(isinstance(t, str) for t in texts):
        raise BuildError(f"'nocite' must be {METADATA_KEYS['nocite']}", *config.at("nocite"))
    keys = [k for t in texts for k in re.findall(r"@(\*|[\w][\w:.#$%&+?<>~/-]*)", t)]
    if not keys:
        raise BuildError("'nocite' names no citation", *config.at("nocite"),
                         hint="write the keys as citations: nocite: '@doe99, @roe01' or '@*'")
    return tuple(k.rstrip(".:") for k in keys)


def _flag(config: _Config, key: str) -> bool | None:
    """A true/false key; None when it is not set."""
    value = config.data.get(key)
    if value is not None and not isinstance(value, bool):
        raise BuildError(f"'{key}' must be {METADATA_KEYS[key]}", *config.at(key),
                         hint=f"write '{key}: true' or '{key}: false'")
    return value


def _string_list(config: _Config, key: str) -> tuple[str, ...]:
    value = config.data.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    if isinstance(value, list) and all(isinstance(v, (str, int, float)) for v in value):
        return tuple(str(v) for v in value)
    raise BuildError(f"'{key}' must be {METADATA_KEYS[key]}", *config.at(key))


def _authors(config: _Config) -> tuple[Author, ...]:
    """Pandoc's ``author`` in every shape: a string, a list of strings, a mapping, a list
    of mappings (``name`` with ``affiliation``, ``email``, ``role``, ``bio``; other keys
    are the templates' to use)."""
    value = config.data.get("author")
    if value is None:
        return ()
    entries = value if isinstance(value, list) else [value]
    authors = []
    for entry in entries:
        if isinstance(entry, (str, int, float)) and not isinstance(entry, bool):
            authors.append(Author(str(entry)))
        elif isinstance(entry, dict) and isinstance(entry.get("name"), (str, int, float)):
            authors.append(Author(str(entry["name"]), _opt(entry.get("role")),
                                  _opt(entry.get("bio")), _opt(entry.get("affiliation")),
                                  _opt(entry.get("email"))))
        else:
            raise BuildError(f"'author' must be {METADATA_KEYS['author']}", *config.at("author"),
                             hint="write 'author: Name', a list of names, or a list of "
                                  "mappings each with a 'name'")
    return tuple(authors)


def _opt(value: Any) -> str | None:
    if isinstance(value, list):  # affiliation: [a, b]
        return "; ".join(str(v).strip() for v in value) or None
    if isinstance(value, dict):  # affiliation: {name: ...}
        value = value.get("name")
    return None if value is None else str(value).strip()


def _metadata(config: _Config, found: Diagnostics, root: Path) -> Metadata:
    """The book's metadata; each bad value an error in ``found`` (and left out)."""
    def value(read: Any, *args: Any, default: Any = None) -> Any:
        with found.collecting():
            return read(config, *args)
        return default

    before = len(found.errors)
    title = value(_text, "title")
    misspelt = [key for key in config.data if key not in METADATA_KEYS
                and closest_key(key, METADATA_KEYS) == "title"]
    if not title and misspelt:  # a misspelt title is an error, where it is
        found.error(BuildError(f"unknown metadata key '{misspelt[0]}', and the book has no "
                               "title", *config.at(misspelt[0]), hint="did you mean 'title'?"))
    elif not title and len(found.errors) == before:  # one error for a title
        found.error(BuildError("the book has no title", config.path, 1,
                               hint="add 'title: ...' to the metadata"))
    lang = value(_text, "lang") or "en"
    if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*", lang):
        found.error(BuildError(f"'{lang}' is not a language tag", *config.at("lang"),
                                       hint="use a BCP 47 tag such as en, en-GB or ru"))
        lang = "en"
    def prose(key: str) -> Text | None:
        return _prose(value(_text, key), config, root, key)

    def field(text: str | None) -> Text | None:
        return _prose(text, config, root, "author")

    date = value(_text, "date")
    authors = tuple(Author(field(a.name) or "", field(a.role), field(a.bio),
                           field(a.affiliation), a.email)
                    for a in value(_authors, default=()))
    return Metadata(
        title=_prose(title, config, root, "title") or "",
        subtitle=prose("subtitle"),
        authors=authors,
        date=date,
        date_iso=iso_date(date),
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
        extra=tuple((key, _variable(data, config, root, key))
                    for key, data in config.data.items() if key not in METADATA_KEYS),
    )


_DATE_FORMATS = (("%B %Y", 7), ("%b %Y", 7), ("%B %d, %Y", 10), ("%b %d, %Y", 10),
                 ("%d %B %Y", 10), ("%d %b %Y", 10), ("%B %d %Y", 10))


def iso_date(text: str | None) -> str | None:
    """A date as Pandoc writers write it ("2018-02-05", "January 2015", "May 04, 2022") in
    ISO 8601 form, as far as it is given ("2015-01"); None when it is not a date."""
    import datetime as dt
    if not text:
        return None
    text = " ".join(str(text).split())
    if re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", text):
        return text
    try:
        return dt.datetime.fromisoformat(text).date().isoformat()
    except ValueError:
        pass
    for form, length in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, form).date().isoformat()[:length]
        except ValueError:
            continue
    return None


def _variable(data: Any, config: _Config, root: Path, key: str) -> Any:
    """A template variable: its strings read as Markdown (as Pandoc reads metadata), its
    lists and mappings kept."""
    if isinstance(data, str):
        return _prose(data, config, root, key)
    if isinstance(data, list):
        return tuple(_variable(item, config, root, key) for item in data)
    if isinstance(data, dict):
        return {str(k): _variable(v, config, root, key) for k, v in data.items()}
    return data


def _prose(value: str | None, config: _Config, root: Path, key: str) -> Text | None:
    """A metadata string read as inline Markdown, as Pandoc reads metadata."""
    if value is None:
        return None
    return inline_text(value, config.origin(key) or config.path, root)


def _bibliography_paths(config: _Config, root: Path, gate: Gate,
                        named: tuple[Path, ...] = (), folder: bool = True) -> list[Path]:
    """The metadata's ``bibliography``, relative to the file that names it (to the working
    folder for ``-M``); without it, every file in ``bibliography/`` (``folder``: a project,
    not files named as for pandoc, which reads no bibliography it is not given)."""
    value = config.data.get("bibliography")
    if value is None:
        if not folder:
            return []
        folder_path = root / "bibliography"
        if not folder_path.is_dir():
            return []
        return sorted(p for p in folder_path.iterdir() if p.suffix in BIBLIOGRAPHY_SUFFIXES)
    names = value if isinstance(value, list) else [value]
    origin = config.origin("bibliography")
    base = origin.parent if origin is not None else Path.cwd()
    # a file named on the command line may name its bibliography beside it
    trusted = origin is None or origin.absolute() in {p.absolute() for p in named}
    paths = []
    for name in names:
        path = base / str(name)
        where = config.at("bibliography")
        if not os.path.lexists(path):
            raise BuildError(f"bibliography file '{name}' not found", *where,
                             hint="paths are relative to the file that names them")
        (Gate(root, [path]) if trusted else gate).check(
            path, "bibliography", (where[0], where[1]) if where[0] else None)
        paths.append(path)
    return paths
