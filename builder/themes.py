"""Themes: the Jinja2 templates, stylesheets and fonts of a look.

A theme is a folder in ``styles/`` (the project's own first, then the ones
that ship with the builder) holding ``theme.yml``, ``templates/`` and
``css/``.  Fonts come from Python packages (``fontpkg-*``), so a build uses
the fonts the project installed, never whatever the machine happens to have.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from .errors import BuildError
from .yamlfile import load_yaml

BUILTIN_STYLES = Path(__file__).resolve().parent.parent / "styles"
FONT_FACES = ((400, "normal"), (400, "italic"), (700, "normal"), (700, "italic"))


@dataclass(frozen=True)
class FontFace:
    family: str
    weight: int
    style: str
    path: Path


@dataclass(frozen=True)
class Theme:
    name: str
    folder: Path
    fonts: tuple[FontFace, ...]

    @property
    def templates(self) -> Path:
        return self.folder / "templates"

    def css(self, name: str) -> str:
        path = self.folder / "css" / name
        return path.read_text(encoding="utf-8") if path.is_file() else ""

    @property
    def font_dirs(self) -> tuple[Path, ...]:
        return tuple(sorted({face.path.parent for face in self.fonts}))


def load_theme(name: str, project_root: Path) -> Theme:
    for base in (project_root / "styles", BUILTIN_STYLES):
        folder = base / name
        if (folder / "theme.yml").is_file():
            return _read_theme(name, folder)
    raise BuildError(f"unknown theme '{name}'", project_root / "styles",
                     hint="a theme is a folder in styles/ with a theme.yml")


def _read_theme(name: str, folder: Path) -> Theme:
    path = folder / "theme.yml"
    data, lines = load_yaml(path.read_text(encoding="utf-8"), path)
    families = (data or {}).get("fonts", {}) if isinstance(data, dict) else {}
    faces = []
    for role, family in families.items():
        faces.extend(_font_faces(str(family), path, lines.get("fonts")))
    return Theme(name, folder, tuple(faces))


@functools.lru_cache(maxsize=None)
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
        raise BuildError(f"font '{family}' is not installed ({exc})", theme_file, line,
                         hint=f"pip install fontpkg-{slug}") from None


def font_face_css(theme: Theme, url_for: "callable[[Path], str]") -> str:  # type: ignore[valid-type]
    """@font-face rules for the theme's fonts, with URLs made by ``url_for``."""
    rules = []
    for face in theme.fonts:
        rules.append(
            f'@font-face {{ font-family: "{face.family}"; font-weight: {face.weight}; '
            f'font-style: {face.style}; src: url("{url_for(face.path)}"); }}')
    return "\n".join(rules)
