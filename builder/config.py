"""The build's settings: the defaults, the ``build:`` section of the project's metadata
(``book/book.yml``, or the front matter of a one-file book), then the command line.

    build:
      to: [pdf, epub]
      theme: book
      page-size: 6x9
      toc: true

The settings live in the file the writer already edits, as Quarto keeps its options in
``_quarto.yml`` with the project's metadata.  Each effective value knows where it came
from (:attr:`Settings.sources`: ``default``, ``book/book.yml:12`` or ``command line``),
which ``builder config`` prints.  An unknown key in ``build:`` is an error with the
closest key; a value of the wrong kind is an error at its line.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import BuildError, display_path

COMMAND_LINE = "command line"
DEFAULT = "default"


@dataclass(frozen=True)
class Setting:
    name: str          # the key in build:, as the long option (--page-size: page-size)
    kind: str          # "formats", "text", "flag", "folder", "choice:a,b"
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("to", "formats", ("pdf", "epub", "html"), "formats: pdf, epub, html"),
    Setting("style", "text", None, "citation style: a name or a .csl file (default apa)"),
    Setting("locale", "text", None, "citation locale, such as en-GB"),
    Setting("theme", "text", "report", "theme: report, book or a folder in styles/"),
    Setting("page-size", "text", None, "PDF page size: A4, Letter, A5, B5, 6x9, 170x240mm"),
    Setting("toc", "flag", None, "a table of contents in the PDF (default: the theme's)"),
    Setting("print", "flag", False, "PDF/X-4 for the print shop: bleed, crop marks, CMYK"),
    Setting("bleed", "text", None, "bleed around the trimmed page with print (3mm)"),
    Setting("pdf-variant", "text", None, "pdf/a-3b, pdf/a-1b, pdf/a-2b, pdf/ua-1, pdf/x-4"),
    Setting("output", "text", None, "the outputs' file name without suffix (default: "
                                    "from the title)"),
    Setting("html-split", "choice:none,chapter", "none",
            "none: the HTML as one page; chapter: a small site, a page per chapter"),
    Setting("strict", "flag", False, "warnings are errors"),
    Setting("out", "folder", None, "output folder, relative to the project (default dist)"),
)
BY_NAME = {s.name: s for s in SETTINGS}
ALIASES = {"formats": "to", "csl": "style", "out-dir": "out", "output-name": "output"}


@dataclass(frozen=True)
class Settings:
    values: dict[str, Any]
    sources: dict[str, str] = field(default_factory=dict)
    file: Path | None = None  # where the build: section is (None: no section)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]


def project_file(root: Path) -> Path | None:
    """The file whose ``build:`` section applies: book/book.yml, or the one Markdown file
    of book/ (its front matter)."""
    book = root / "book"
    for name in ("book.yml", "book.yaml"):
        if os.path.lexists(book / name):
            return book / name
    if book.is_dir():
        markdown = sorted(p for p in book.iterdir() if p.suffix in (".md", ".markdown"))
        if len(markdown) == 1:
            return markdown[0]
    return None


def load(root: Path, command_line: dict[str, Any], path: Path | None = None) -> Settings:
    """The effective settings of the project in ``root``: ``command_line`` holds the
    options given (None for one not given), over the ``build:`` section of ``path`` (by
    default :func:`project_file`), over the defaults."""
    values = {s.name: s.default for s in SETTINGS}
    sources = {s.name: DEFAULT for s in SETTINGS}
    path = path if path is not None else project_file(root)
    section, lines = _section(path) if path is not None else ({}, {})
    for key, value in section.items():
        assert path is not None  # (a section was read from it)
        name = ALIASES.get(key, key)
        at = (path, lines.get(f"build.{key}"))
        if name not in BY_NAME:
            raise BuildError(f"unknown build setting '{key}'", *at,
                             hint=_suggest(key))
        values[name] = _value(BY_NAME[name], value, at, root)
        sources[name] = f"{display_path(path)}:{at[1]}" if at[1] else display_path(path)
    for name, value in command_line.items():
        if value is not None and name in BY_NAME:
            values[name] = value
            sources[name] = COMMAND_LINE
    return Settings(values, sources, path if section else None)


def _suggest(key: str) -> str:
    from .sources import closest_key
    close = closest_key(key, [*BY_NAME, *ALIASES])
    if close:
        return f"did you mean '{close}'?"
    return "the settings are " + ", ".join(BY_NAME)


def _section(path: Path) -> tuple[dict[str, Any], dict[str, int]]:
    from .files import Gate
    from .yamlfile import load_yaml
    markdown = path.suffix not in (".yml", ".yaml")
    text = Gate(path.parent.parent, [path]).read_text(path, "chapter" if markdown else "metadata")
    first = 1
    if path.suffix != ".yml" and path.suffix != ".yaml":  # a Markdown file's front matter
        match = re.match(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", text, re.S)
        if not match:
            return {}, {}
        text, first = match.group(1) or "", 2
    data, lines = load_yaml(text, path, first, documents=path.suffix in (".yml", ".yaml"))
    if not isinstance(data, dict) or data.get("build") is None:
        return {}, {}
    section = data["build"]
    if not isinstance(section, dict):
        raise BuildError("'build' must be a mapping of settings", path, lines.get("build"),
                         hint="write 'build:' and under it lines such as '  theme: book'")
    return {str(k): v for k, v in section.items()}, lines


def _value(setting: Setting, value: Any, at: tuple[Path, int | None], root: Path) -> Any:
    if setting.kind == "flag":
        if not isinstance(value, bool):
            raise BuildError(f"'{setting.name}' must be true or false", *at)
        return value
    if setting.kind == "formats":
        from .build import FORMATS
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list) or not items:
            raise BuildError("'to' must be a list of formats", *at, hint="to: [pdf, epub, html]")
        formats = tuple(str(f).strip().lower() for f in items if str(f).strip())
        unknown = [f for f in formats if f not in FORMATS]
        if unknown or not formats:
            raise BuildError(f"unknown output format '{(unknown or [''])[0]}'", *at,
                             hint="choose from pdf, epub, html")
        return formats
    if isinstance(value, (dict, list)) or value is None:
        raise BuildError(f"'{setting.name}' must be {setting.help}", *at)
    if setting.kind == "folder":
        return (root / str(value)).resolve()
    if setting.kind.startswith("choice:"):
        choices = setting.kind.partition(":")[2].split(",")
        if str(value) not in choices:
            raise BuildError(f"'{setting.name}' is '{value}'", *at,
                             hint=f"choose from {', '.join(choices)}")
    return str(value)


def describe(settings: Settings) -> str:
    """``builder config``: one line per setting, its value and where it came from."""
    rows = []
    for setting in SETTINGS:
        value = settings.values[setting.name]
        if isinstance(value, tuple):
            shown = ",".join(value)
        elif isinstance(value, bool):
            shown = "true" if value else "false"
        elif isinstance(value, Path):
            shown = display_path(value)
        else:
            shown = {"toc": "(the theme's)", "out": "dist", "style": "apa",
                     "output": "(from the title)"}.get(setting.name, "-") if value is None \
                else str(value)
        rows.append(f"{setting.name:12} {shown:24} {settings.sources[setting.name]}")
    return "\n".join(rows)
