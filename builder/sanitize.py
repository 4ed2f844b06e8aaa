"""Raw HTML in Markdown: kept for the user's layout, made safe for every output.

Scripts, frames, plugins and event-handler attributes never reach an output, nor
``javascript:`` links.  Resources named by raw HTML (``<img src>``, ``<source
src>``, ``<link href>``) follow the same rule as Markdown images: inside the
project, or http(s) with ``--allow-remote``; anything else is an error.

:func:`refused_resource` checks one piece of raw HTML as the Markdown parser
meets it, so the error can name its line; :func:`sanitize` then cleans the
chapter's rendered HTML.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from lxml import etree
from lxml import html as lxml_html

from .errors import BuildError
from .resources import resolve_reference

DROPPED = ("script", "iframe", "object", "embed", "frame", "frameset", "applet", "base", "meta")
_RESOURCE_ATTRIBUTES = {"img": "src", "source": "src", "link": "href", "video": "src",
                        "audio": "src", "input": "src"}
_RAW_HTML = re.compile(r"<(?:script|iframe|object|embed|frame|applet|base|meta|link|img|source|"
                       r"video|audio|input)\b|\son\w+\s*=|javascript:", re.I)


_RESOURCE_TAG = re.compile(r"<(?:img|source|link|video|audio|input)\b", re.I)


def resources(fragment: str) -> Iterator[tuple[str, str]]:
    """The (attribute, value) of each resource a piece of raw HTML names, in order."""
    if not _RESOURCE_TAG.search(fragment):
        return
    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return
    for element in root.iter(*_RESOURCE_ATTRIBUTES):
        attribute = _RESOURCE_ATTRIBUTES[element.tag]
        if element.get(attribute):
            yield attribute, element.get(attribute)


def refused_resource(fragment: str, base_dir: Path, project_root: Path,
                     allow_remote: bool = False) -> tuple[BuildError, str, str] | None:
    """The first resource of ``fragment`` that may not be loaded: the error (without
    a location), the attribute and the value as written; None when all may."""
    for attribute, value in resources(fragment):
        try:
            resolve_reference(value, base_dir, project_root, allow_remote)
        except BuildError as exc:
            return exc, attribute, value
    return None


def sanitize(fragment: str, source: Path, project_root: Path | None,
             allow_remote: bool = False) -> str:
    """``fragment`` without active content; its resources checked."""
    if not _RAW_HTML.search(fragment):
        return fragment  # nothing to do: keep the HTML exactly as rendered
    root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    for element in root.xpath("|".join(f"//{tag}" for tag in DROPPED)):
        element.drop_tree()
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for name, value in list(element.attrib.items()):
            if name.lower().startswith("on") or value.strip().lower().startswith("javascript:"):
                del element.attrib[name]
        attribute = _RESOURCE_ATTRIBUTES.get(element.tag)
        if attribute and element.get(attribute) and project_root is not None:
            try:
                element.set(attribute, resolve_reference(element.get(attribute), source.parent,
                                                         project_root, allow_remote))
            except BuildError as exc:
                raise BuildError(exc.message, source, hint=exc.hint) from None
    text = (root.text or "") + "".join(lxml_html.tostring(child, encoding="unicode")
                                       for child in root)
    return text
