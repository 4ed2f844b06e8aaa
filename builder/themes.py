"""Themes: the Jinja2 templates, stylesheets and fonts of a look.

A theme is a folder in ``styles/`` (the project's own first, then the ones
that ship with the builder) holding ``theme.yml``, ``templates/`` and
``css/``.  Fonts come from Python packages (``fontpkg-*``), so a build uses
the fonts the project installed, never whatever the machine happens to have.

A theme may ``extend`` another: it then uses the other's templates unless it
has its own, its stylesheets come after the other's (``css(name)`` joins
them), and its ``page:`` and ``print:`` settings override the other's one
key at a time.  ``page:`` holds the page size, margins (``inner``/``outer``
for mirrored books), the widest text column (``measure``), where chapters
start, whether there is a table of contents and whether the PDF shows the
tags; ``print:`` the bleed, the printer's marks and the CMYK output profile
of ``--print`` (see docs/pdf.md).
"""
from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import BuildError
from .files import Gate
from .resources import stylesheet_refusal, stylesheet_urls
from .yamlfile import load_yaml

BUILTIN_STYLES = Path(__file__).resolve().parent.parent / "styles"
FONT_FACES = ((400, "normal"), (400, "italic"), (700, "normal"), (700, "italic"))


@dataclass(frozen=True)
class FontFace:
    family: str
    weight: int
    style: str
    path: Path


# What ``page:`` and ``print:`` in theme.yml may hold, with the builder's defaults.
PAGE_DEFAULTS: dict[str, Any] = {
    "size": "A4",
    "margins": {"top": "25mm", "bottom": "25mm", "inner": "22mm", "outer": "22mm"},
    "mirror": False,           # inner/outer margins swap on left-hand pages
    "chapter-start": "any",    # any | page | right
    "toc": False,              # a table of contents after the title page
    "line-chars": "60-75",     # characters a line of body text (builder check: pages outside)
    "min-lines": 8,            # fewer lines on a page that ends no chapter: builder check says so
    "measure": None,           # the widest text column (a length): wider pages get wider margins
    "tags": False,             # the tags line at the end of the PDF (the HTML and EPUB have it)
}
PRINT_DEFAULTS: dict[str, Any] = {
    "bleed": "3mm",
    "marks": "crop",           # crop | cross | crop cross | none
    "profile": None,           # a CMYK ICC profile (path relative to the theme folder)
    # the OutputConditionIdentifier, e.g. FOGRA39 (default: the profile's name)
    "output-condition": None,
}
# A CMYK output profile on Debian systems (package libgs-common): used when the theme names none.
SYSTEM_CMYK_PROFILES = (Path("/usr/share/color/icc/ghostscript/default_cmyk.icc"),)


@dataclass(frozen=True)
class Theme:
    name: str
    folder: Path
    fonts: tuple[FontFace, ...]
    parents: tuple[Path, ...] = ()  # folders of the themes it extends, nearest first
    page: dict[str, Any] = field(default_factory=lambda: dict(PAGE_DEFAULTS), compare=False)
    printing: dict[str, Any] = field(default_factory=lambda: dict(PRINT_DEFAULTS), compare=False)
    # which files it may read: the project's and the builder's (see builder.files)
    gate: Gate = field(default_factory=lambda: Gate(None), compare=False, repr=False)

    @property
    def folders(self) -> tuple[Path, ...]:
        return (self.folder, *self.parents)

    @property
    def templates(self) -> Path:
        for folder in self.folders:
            if os.path.lexists(folder / "templates" / "document.html.j2"):
                return folder / "templates"
        return self.folder / "templates"

    def template_source(self, name: str) -> tuple[str, str, Callable[[], bool]] | None:
        """A template of :attr:`templates` for Jinja2's FunctionLoader, read through the gate
        (a template that is a symlink out of the project is an error, not a source)."""
        parts = name.split("/")
        if any(part in ("", ".", "..") for part in parts):
            return None
        path = self.templates.joinpath(*parts)
        if not os.path.lexists(path):
            return None
        return self.gate.read_text(path, "theme"), str(path), lambda: True

    def css(self, name: str) -> str:
        """The stylesheet ``name`` of the themes it extends, then its own."""
        texts = []
        for folder in reversed(self.folders):
            path = folder / "css" / name
            if os.path.lexists(path):
                texts.append(self.gate.read_text(path, "theme"))
        return "\n".join(texts)

    def css_origin(self, stylesheet: str, line: int) -> tuple[Path, int] | None:
        """Which theme file, and which line of it, line ``line`` (1-based) of
        ``stylesheet`` comes from, when ``stylesheet`` was made by joining
        :meth:`css` results with other text (WeasyPrint's warnings count lines in
        the joined text); None for a line of no theme file."""
        for folder in self.folders:
            for path in sorted((folder / "css").glob("*.css")):
                text = self.gate.read_text(path, "theme")
                at = stylesheet.find(text) if text.strip() else -1
                if at < 0:
                    continue
                first = stylesheet.count("\n", 0, at) + 1
                if first <= line < first + max(text.count("\n"), 1):
                    return path, line - first + 1
        return None

    def find_file(self, name: str) -> Path | None:
        """A file named in theme.yml, relative to this theme's folder or a parent's."""
        candidate = Path(name)
        if candidate.is_absolute():
            return self.gate.check(candidate, "profile") if candidate.is_file() else None
        found = next((f / name for f in self.folders if os.path.lexists(f / name)), None)
        return self.gate.check(found, "profile") if found else None

    def cmyk_profile(self) -> Path | None:
        """The CMYK output profile of --print: the theme's, else a system one."""
        named = self.printing.get("profile")
        if named:
            return self.find_file(str(named))
        return next((p for p in SYSTEM_CMYK_PROFILES if p.is_file()), None)

    @property
    def font_dirs(self) -> tuple[Path, ...]:
        return tuple(sorted({face.path.parent for face in self.fonts}))


def load_theme(name: str, project_root: Path, _seen: tuple[str, ...] = (), *,
               allow_remote: bool = False) -> Theme:
    """The theme ``name``, its stylesheets checked (see :func:`check_stylesheets`).

    A theme is named by its folder in styles/ (the project's, then the builder's): a
    path is refused, so a theme cannot be taken from outside the project.
    """
    if not THEME_NAME.fullmatch(name):
        raise BuildError(f"'{name}' is not a theme name", hint=(
            "name a folder of styles/ (letters, digits, '-', '_' and '.'); "
            "copy a theme from elsewhere into styles/"), category="usage")
    for base in (project_root / "styles", BUILTIN_STYLES):
        folder = base / name
        if os.path.lexists(folder / "theme.yml") and folder.resolve() not in _seen:
            return _read_theme(name, folder, project_root, (*_seen, str(folder.resolve())),
                               allow_remote)
    raise BuildError(f"unknown theme '{name}'", project_root / "styles",
                     hint="a theme is a folder in styles/ with a theme.yml")


THEME_KEYS = ("name", "extends", "fonts", "page", "print")
THEME_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")


def _read_theme(name: str, folder: Path, project_root: Path, seen: tuple[str, ...],
                allow_remote: bool = False) -> Theme:
    path = folder / "theme.yml"
    gate = Gate(project_root)
    data, lines = load_yaml(gate.read_text(path, "metadata"), path)
    data = data if isinstance(data, dict) else {}
    for key in data:
        if key not in THEME_KEYS:
            raise BuildError(f"unknown theme key '{key}'", path, lines.get(str(key)),
                             hint="a theme.yml holds " + ", ".join(THEME_KEYS))
    parent = None
    if data.get("extends"):
        try:
            parent = load_theme(str(data["extends"]), project_root, seen,
                                allow_remote=allow_remote)
        except BuildError as exc:
            if exc.path is not None and exc.path != project_root / "styles":
                raise
            raise BuildError(exc.message, path, lines.get("extends"), hint=exc.hint) from None
    check_stylesheets(folder, project_root, allow_remote)
    families = data.get("fonts") or {}
    faces: list[FontFace] = []
    for _role, family in families.items():
        faces.extend(_font_faces(str(family), path, lines.get("fonts")))
    if parent is not None and not faces:
        faces = list(parent.fonts)
    page = _settings(data, "page", parent.page if parent else PAGE_DEFAULTS, path, lines)
    printing = _settings(data, "print", parent.printing if parent else PRINT_DEFAULTS, path, lines)
    _check_profile(data.get("print"), folder, project_root, path, lines)
    parents = (parent.folder, *parent.parents) if parent else ()
    return Theme(name, folder, tuple(faces), parents, page, printing, gate)


def check_stylesheets(folder: Path, project_root: Path, allow_remote: bool = False) -> None:
    """Every URL in the theme's stylesheets may be loaded, or it is an error at its line.

    ``@import``, ``url()`` backgrounds and font sources may name ``data:`` URLs and
    files inside the theme's folder or the project; ``file://`` URLs, absolute
    paths, paths leaving both, and other schemes are refused, and http(s) too
    unless ``allow_remote``.  The check runs when the theme is loaded, before
    anything is written, so a refused URL never reaches an output (the HTML and
    the EPUB copy the stylesheets as they are).
    """
    allowed = [folder.resolve(), project_root.resolve()]
    gate = Gate(project_root)
    for css in sorted((folder / "css").glob("*.css")):
        text = gate.read_text(css, "theme")
        for url, line, col in stylesheet_urls(text):
            reason = stylesheet_refusal(url, css.parent, allowed, allow_remote)
            if reason:
                remote = reason.startswith("remote")
                raise BuildError(reason, css, line, col, hint=(
                    "download it into the theme folder, or pass --allow-remote" if remote else
                    "a theme's stylesheets may only name files inside the theme or the project"))


def _check_profile(printing: Any, folder: Path, project_root: Path, path: Path,
                   lines: dict[str, int]) -> None:
    """The CMYK profile a theme names is embedded in the PDF: it must be inside the theme
    or the project, as any other resource."""
    named = printing.get("profile") if isinstance(printing, dict) else None
    if not named:
        return
    target = (folder / str(named)).resolve()
    inside = [folder.resolve(), project_root.resolve()]
    if Path(str(named)).is_absolute() or not any(base in target.parents for base in inside):
        raise BuildError(f"profile outside the theme refused: {named}", path, lines.get("print"),
                         hint="copy the printer's ICC profile into the theme folder and name it "
                              "relative to it")


def _settings(data: dict[str, Any], key: str, inherited: dict[str, Any], path: Path,
              lines: dict[str, int]) -> dict[str, Any]:
    """``page:`` or ``print:`` over the inherited values, checked key by key."""
    merged = {k: (dict(v) if isinstance(v, dict) else v) for k, v in inherited.items()}
    given = data.get(key) or {}
    if not isinstance(given, dict):
        raise BuildError(f"'{key}' must be a mapping", path, lines.get(key))
    for name, value in given.items():
        if name not in merged:
            raise BuildError(f"unknown {key} setting '{name}'", path, lines.get(key),
                             hint="one of " + ", ".join(merged))
        if isinstance(merged[name], dict):
            if not isinstance(value, dict):
                raise BuildError(f"'{key}.{name}' must be a mapping", path, lines.get(key))
            merged[name].update({str(k): str(v) for k, v in value.items()})
        else:
            merged[name] = value
    return merged


@functools.cache
def _font_faces(family: str, theme_file: Path, line: int | None) -> tuple[FontFace, ...]:
    try:
        import fontpkg
        return tuple(FontFace(family, weight, style, Path(fontpkg.path(family, weight=weight,
                                                                         style=style)))
                     for weight, style in FONT_FACES)
    except ImportError:
        raise BuildError("the font packages are not installed", theme_file, line,
                         hint="pip install the project (it depends on fontpkg-pt-serif)") from None
    except Exception as exc:  # fontpkg's own errors: family, weight or style missing
        slug = family.lower().replace(" ", "-")
        hint = f"a theme's fonts are Python packages: pip install fontpkg-{slug}"
        if type(exc).__name__ == "FamilyNotInstalled":  # its message names uv: ours says pip
            raise BuildError(f"font '{family}' is not installed", theme_file, line,
                             hint=hint) from None
        raise BuildError(f"font '{family}' is not complete: {exc}", theme_file, line,
                         hint=hint) from None


def font_face_css(theme: Theme, url_for: Callable[[Path], str]) -> str:
    """@font-face rules for the theme's fonts, with URLs made by ``url_for``."""
    rules = []
    for face in theme.fonts:
        rules.append(
            f'@font-face {{ font-family: "{face.family}"; font-weight: {face.weight}; '
            f'font-style: {face.style}; src: url("{url_for(face.path)}"); }}')
    return "\n".join(rules)
