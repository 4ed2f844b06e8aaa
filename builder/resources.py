"""Loading resources (images, stylesheets, fonts) only from where they may come.

Files load from inside the project folder and the theme's folders.  http(s)
URLs load only when the user allows it (``--allow-remote``); other schemes
never.  A refused resource is reported, and its content never reaches an output.
"""
from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from .errors import BuildError
from .files import Gate

if TYPE_CHECKING:  # (themes check their stylesheets with this module's functions)
    from .themes import Theme


def resolve_reference(src: str, base_dir: Path, project_root: Path,
                      allow_remote: bool = False) -> str:
    """Check a resource a source file names (an image, a stylesheet) and say where it is.

    Returns the URL to use: an http(s) URL as given (only with ``allow_remote``), a
    ``data:`` URL as given, or the file's path relative to the project root, in
    POSIX form.  A relative path is looked up beside the source file, then from the
    project root (as Pandoc's resource path does).  Anything else (``file://``, absolute
    paths, ``..`` or a symlink leaving the project, other schemes, a missing file) raises
    :class:`BuildError`.
    """
    parsed = urlparse(src)
    if parsed.scheme in ("http", "https"):
        if allow_remote:
            return src
        raise BuildError(f"remote resource refused: {src}",
                         hint="download it into the project, or pass --allow-remote")
    if parsed.scheme == "data":
        return src
    if parsed.scheme or src.startswith(("/", "\\")) or Path(unquote(parsed.path)).is_absolute():
        raise BuildError(f"resource outside the project refused: {src}",
                         hint="use a path relative to the Markdown file, inside the project")
    root = project_root.resolve()
    named = [folder / unquote(parsed.path) for folder in (base_dir, root)]
    candidates = [path.resolve() for path in named]
    inside = [path for path in candidates if root in path.parents]
    escapes = any(n.exists() and root not in c.parents
                  for n, c in zip(named, candidates, strict=True))
    if not inside or escapes:  # both outside, or a symlink that leads out
        raise BuildError(f"resource outside the project refused: {src}",
                         hint="keep images and stylesheets inside the project folder")
    for path in inside:
        if os.path.lexists(path):  # a folder, a named pipe or a too large file is refused
            Gate(root).check(path, "image")
            return path.relative_to(root).as_posix()
    raise BuildError(f"resource not found: {src}",
                     hint=f"no file {inside[0].relative_to(root).as_posix()} in the project")


def refusal(url: str, allowed: list[Path], allow_remote: bool) -> str | None:
    """Why ``url`` may not be loaded, or None when it may."""
    parsed = urlparse(url)
    if parsed.scheme in ("http", "https"):
        return None if allow_remote else f"remote resource refused: {url} (pass --allow-remote)"
    if parsed.scheme == "data":
        return None
    if parsed.scheme != "file":
        return f"resource refused: {url}"
    path = Path(unquote(parsed.path)).resolve()
    if any(path == base or base in path.parents for base in allowed):
        return None
    return f"resource outside the project refused: {path}"


def stylesheet_urls(css: str) -> Iterator[tuple[str, int, int]]:
    """Every URL a stylesheet names, with its line and column (1-based).

    ``url(...)`` (quoted or not), ``src("...")``, the strings of ``image-set()`` and
    the string form of ``@import "..."``; CSS escapes are decoded, so ``fi\\le:``
    is seen as ``file:``.
    """
    import tinycss2

    def walk(tokens: Any, importing: bool = False) -> Iterator[tuple[str, int, int]]:
        for token in tokens or ():
            kind = token.type
            if kind == "url":
                yield token.value, token.source_line, token.source_column
            elif kind == "string" and importing:
                yield token.value, token.source_line, token.source_column
            elif kind == "function":
                named = token.lower_name in ("url", "src", "image-set", "-webkit-image-set")
                for arg in token.arguments:
                    if named and arg.type == "string":
                        yield arg.value, arg.source_line, arg.source_column
                yield from walk(token.arguments)
            elif kind in ("() block", "[] block", "{} block"):
                yield from walk(token.content)
            elif kind in ("at-rule", "qualified-rule"):
                importing = kind == "at-rule" and token.lower_at_keyword == "import"
                yield from walk(token.prelude, importing)
                yield from walk(token.content)

    yield from walk(tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True))


def stylesheet_refusal(url: str, base_dir: Path, allowed: Sequence[Path],
                       allow_remote: bool = False) -> str | None:
    """Why a URL in a stylesheet at ``base_dir`` may not be used, or None when it may.

    Allowed: ``data:`` URLs, fragments (``url(#clip)``), relative paths that stay
    inside one of the ``allowed`` folders, and http(s) with ``allow_remote``.
    """
    parsed = urlparse(url.strip())
    if parsed.scheme in ("http", "https") or (not parsed.scheme and parsed.netloc):
        return None if allow_remote else f"remote resource refused: {url}"
    if parsed.scheme == "data" or not (parsed.scheme or parsed.netloc or parsed.path):
        return None
    path = unquote(parsed.path)
    if parsed.scheme or path.startswith(("/", "\\")) or Path(path).is_absolute():
        return f"resource outside the project refused: {url}"
    target = (base_dir / path).resolve()
    if not any(target == base or base in target.parents for base in allowed):
        return f"resource outside the project refused: {url}"
    return None


def make_url_fetcher(project_root: Path, theme: Theme, allow_remote: bool = False) -> Any:
    """A WeasyPrint URL fetcher that refuses what :func:`refusal` refuses."""
    from weasyprint.urls import URLFetcher

    allowed = [project_root.resolve(), theme.folder.resolve(),
               *[d.resolve() for d in theme.font_dirs]]

    class ProjectFetcher(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            reason = refusal(url, allowed, allow_remote)
            if reason:
                raise ValueError(reason)
            return super().fetch(url, headers)

    return ProjectFetcher(allowed_protocols=["file", "data", "http", "https"])
