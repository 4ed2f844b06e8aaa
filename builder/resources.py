"""Loading resources (images, stylesheets, fonts) only from where they may come.

Files load from inside the project folder and the theme's folders.  http(s)
URLs load only when the user allows it (``--allow-remote``); other schemes
never.  A refused resource is reported, and its content never reaches an output.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from .themes import Theme


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


def make_url_fetcher(project_root: Path, theme: Theme, allow_remote: bool = False) -> Any:
    """A WeasyPrint URL fetcher that refuses what :func:`refusal` refuses."""
    from weasyprint.urls import URLFetcher

    allowed = [project_root.resolve(), theme.folder.resolve(),
               *[d.resolve() for d in theme.font_dirs]]

    class ProjectFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            reason = refusal(url, allowed, allow_remote)
            if reason:
                raise ValueError(reason)
            return super().fetch(url, headers)

    return ProjectFetcher(allowed_protocols=["file", "data", "http", "https"])
