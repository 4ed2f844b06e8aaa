"""Nothing active in any output: one sanitizer over each finished document.

:func:`clean_document` runs last, on the whole document a format is given (the HTML
page, the EPUB's document before it is cut into files, the PDF's before WeasyPrint
lays it out): after the citations, the theme's templates and the metadata are in.
The body goes through `nh3 <https://nh3.readthedocs.io>`_ (Python bindings of the
Rust ``ammonia`` sanitizer, which parses HTML as a browser does: character references
decoded, tabs and newlines dropped from URLs before their scheme is read), with an
allow-list:

- elements: the HTML that Pandoc's Markdown and our templates write, MathML, and the
  common elements of raw HTML; ``script``, ``style``, ``template`` and the like are
  removed with their content, any other element unwrapped (its text kept);
- attributes: per element, plus ``id``, ``class``, ``lang``, ``dir``, ``title``,
  ``role``, ``aria-*`` and ``data-*`` everywhere; no event handler, ``srcset``,
  ``formaction`` or ``xlink:href``;
- URLs: ``href`` may be http(s), ``mailto:``, a fragment (``#fig:x``) or a path
  inside the project (no ``..`` that leaves it, no absolute path); ``src`` the same
  without ``mailto:``, or a ``data:`` URL of a raster image, or of an SVG image that
  is cleaned (:func:`clean_svg`) or that this process drew itself (the PDF's math);
- ``style`` attributes keep only layout properties, whose values cannot name a URL.

The head is the theme's template (its stylesheets checked when the theme loads).

Raw HTML's resources are also checked where the Markdown names them, so that a
refused one is an error at its line: :func:`refused_resource` (as the parser meets
it) and :func:`resolve_resources` (paths made relative to the project).
"""
from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import nh3
from lxml import etree
from lxml import html as lxml_html

from .errors import BuildError
from .resources import resolve_reference

_RESOURCE_ATTRIBUTES = {"img": "src", "source": "src", "link": "href", "video": "src",
                        "audio": "src", "input": "src"}
_RESOURCE_TAG = re.compile(r"<(?:img|source|link|video|audio|input)\b", re.I)

_MATHML = """math maction annotation annotation-xml menclose merror mfenced mfrac mi
    mmultiscripts mn mo mover mpadded mphantom mprescripts mroot mrow ms mspace msqrt mstyle
    msub msubsup msup mtable mtd mtext mtr munder munderover none semantics""".split()
_TAGS = set("""a abbr address article aside audio b bdi bdo blockquote br caption cite code
    col colgroup data dd del details dfn div dl dt em figcaption figure footer h1 h2 h3 h4 h5
    h6 header hr i img input ins kbd li main mark nav ol p pre q rp rt ruby s samp section
    small source span strong sub summary sup table tbody td tfoot th thead time tr u ul var
    video wbr""".split()) | set(_MATHML)
_REMOVED_WITH_CONTENT = {"script", "style", "template", "noscript", "iframe", "object",
                         "embed", "frame", "frameset", "applet", "noembed", "xmp", "svg"}
_EVERYWHERE = {"id", "class", "lang", "dir", "title", "role", "hidden", "epub:type"}
_ATTRIBUTES: dict[str, set[str]] = {
    "*": _EVERYWHERE,
    "a": {"href", "rel", "hreflang", "type"},
    "img": {"src", "alt", "width", "height", "style", "loading"},
    "video": {"src", "controls", "width", "height", "poster", "loop", "muted"},
    "audio": {"src", "controls", "loop", "muted"},
    "source": {"src", "type", "media"},
    "input": {"type", "disabled", "checked"},
    "ol": {"start", "reversed", "type"},
    "li": {"value"},
    "td": {"colspan", "rowspan", "style", "headers"},
    "th": {"colspan", "rowspan", "style", "scope", "headers", "abbr"},
    "col": {"span", "style"}, "colgroup": {"span", "style"},
    "time": {"datetime"}, "data": {"value"}, "del": {"datetime", "cite"},
    "ins": {"datetime", "cite"}, "q": {"cite"}, "blockquote": {"cite"},
    "details": {"open"}, "abbr": {"title"},
    "figure": {"style"}, "div": {"style"}, "span": {"style"}, "p": {"style"},
    "table": {"style"}, "section": {"style"},
    "math": {"display", "alttext"},
    **{tag: {"mathvariant", "displaystyle", "scriptlevel", "stretchy", "fence", "separator",
             "accent", "accentunder", "lspace", "rspace", "movablelimits", "symmetric",
             "largeop", "form", "columnalign", "rowalign", "columnspacing", "rowspacing",
             "linethickness", "width", "height", "depth", "voffset", "notation", "open",
             "close", "separators", "encoding", "columnlines", "rowlines", "frame", "align",
             "bevelled", "numalign", "denomalign"}
       for tag in _MATHML if tag != "math"},
}
_STYLE_PROPERTIES = {"width", "height", "max-width", "min-width", "max-height",
                     "text-align", "vertical-align", "color", "background-color",
                     "font-weight", "font-style", "font-variant", "text-decoration",
                     "text-transform", "letter-spacing", "white-space", "display", "float",
                     "clear", "margin", "margin-left", "margin-right", "margin-top",
                     "margin-bottom", "padding", "padding-left", "padding-right", "padding-top",
                     "padding-bottom", "border", "border-top", "border-bottom", "border-left",
                     "border-right", "border-collapse", "break-before", "break-after",
                     "break-inside", "page-break-before", "page-break-after", "page-break-inside"}
_RASTER_DATA = re.compile(r"data:image/(?:png|jpeg|gif|webp)[;,]", re.I)
_SVG_DATA = re.compile(r"data:image/svg\+xml(;[^,]*)?,", re.I)
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):", re.I)

# data: URLs this process drew itself (the PDF's math): not cleaned again
_TRUSTED: set[str] = set()


def trust(url: str) -> str:
    """Mark a ``data:`` URL the builder made (not from any input) as safe; return it."""
    _TRUSTED.add(url)
    return url


def _url(value: str, attribute: str) -> str | None:
    """The URL kept, or None (the attribute is dropped).  ``value`` is as the parser
    decoded it; control characters and whitespace are removed as a browser does."""
    url = re.sub(r"[\x00-\x20\x7f]", "", value) if attribute == "src" else value.strip()
    plain = re.sub(r"[\x00-\x20\x7f]", "", url)
    if not plain:
        return None
    if plain.startswith("#"):
        return url
    scheme = _SCHEME.match(plain)
    if scheme:
        name = scheme.group(1).lower()
        if name in ("http", "https") or (name == "mailto" and attribute == "href"):
            return url
        if name == "data" and attribute == "src":
            if url in _TRUSTED or _RASTER_DATA.match(plain):
                return url
            if _SVG_DATA.match(plain):
                return _clean_svg_url(plain)
        return None
    path = unquote(plain.split("#", 1)[0].split("?", 1)[0]).replace("\\", "/")
    if path.startswith("/") or re.match(r"[A-Za-z]:", path):
        return None  # absolute: outside the project
    depth = 0
    for part in path.split("/"):
        depth += -1 if part == ".." else (0 if part in ("", ".") else 1)
        if depth < 0:
            return None  # leaves the folder of the document
    return url


def _clean_svg_url(url: str) -> str | None:
    header, _, payload = url[5:].partition(",")
    try:
        data = base64.b64decode(payload) if ";base64" in header.lower() \
            else unquote(payload).encode("utf-8")
    except (binascii.Error, ValueError):
        return None
    cleaned = clean_svg(data)
    if cleaned is None:
        return None
    return "data:image/svg+xml;base64," + base64.b64encode(cleaned).decode("ascii")


def _filter(element: str, attribute: str, value: str) -> str | None:
    if attribute in ("href", "src", "poster", "cite"):
        return _url(value, "href" if attribute in ("href", "cite") else "src")
    if element == "input" and attribute == "type":
        return value if value.lower() == "checkbox" else None
    return value


_CLEANER = nh3.Cleaner(
    tags=_TAGS, clean_content_tags=_REMOVED_WITH_CONTENT, attributes=_ATTRIBUTES,
    attribute_filter=_filter, strip_comments=True, link_rel=None,
    generic_attribute_prefixes={"data-", "aria-"},
    url_schemes={"http", "https", "mailto", "data"},
    filter_style_properties=_STYLE_PROPERTIES)


def clean_fragment(html: str) -> str:
    """A piece of body HTML with nothing active left (see the module's documentation)."""
    return _CLEANER.clean(html)


_BODY = re.compile(r"<body\b[^>]*>", re.I)


def clean_document(document: str, template: Path) -> str:
    """The whole document, its body cleaned."""
    start = _BODY.search(document)
    end = document.lower().rfind("</body>")
    if start is None or end < start.end():
        raise BuildError("the template has no <body>...</body>", template,
                         hint="the document template must write a body for the book")
    return (document[:start.end()] + clean_fragment(document[start.end():end])
            + document[end:])


# --- SVG images ----------------------------------------------------------------------

_SVG_NS = "http://www.w3.org/2000/svg"
_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_SVG_DROPPED = {"script", "foreignObject", "iframe", "object", "embed", "handler",
                "listener", "set", "animate", "animateMotion", "animateTransform"}


def clean_svg(data: bytes) -> bytes | None:
    """An SVG image without scripts, event handlers, ``foreignObject``, animations or
    references outside itself (``href`` to anything but ``#id``, ``url()`` and
    ``@import`` in styles); None when it is not SVG that can be read."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False, remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError:
        return None
    if etree.QName(root).localname != "svg":
        return None
    for element in list(root.iter()):
        if not isinstance(element.tag, str):
            continue
        name = etree.QName(element).localname
        if name in _SVG_DROPPED:
            parent = element.getparent()
            if parent is not None:
                parent.remove(element)
            continue
        for attribute in list(element.attrib):
            local = etree.QName(attribute).localname.lower()
            value = element.get(attribute) or ""
            if local.startswith("on") or (
                    local == "href" and not value.strip().startswith("#")) or (
                    local == "style" and _css_names_url(value)):
                del element.attrib[attribute]
        if name == "style" and _css_names_url(element.text or ""):
            element.text = _strip_css_urls(element.text or "")
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def _css_names_url(css: str) -> bool:
    return bool(re.search(r"url\s*\(|@import|expression\s*\(", css, re.I))


def _strip_css_urls(css: str) -> str:
    css = re.sub(r"@import[^;]*;?", "", css, flags=re.I)
    return re.sub(r"url\s*\([^)]*\)", "none", css, flags=re.I)


# --- raw HTML's resources, where the Markdown names them ------------------------------


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


def resolve_resources(fragment: str, source: Path, project_root: Path | None,
                      allow_remote: bool = False) -> str:
    """``fragment`` with the paths of the resources its raw HTML names made relative to
    the project (as Markdown images are); a refused one is an error."""
    if project_root is None or not _RESOURCE_TAG.search(fragment):
        return fragment  # nothing to do: keep the HTML exactly as rendered
    root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    changed = False
    for element in root.iter(*_RESOURCE_ATTRIBUTES):
        attribute = _RESOURCE_ATTRIBUTES[element.tag]
        value = element.get(attribute)
        if not value:
            continue
        try:
            resolved = resolve_reference(value, source.parent, project_root, allow_remote)
        except BuildError as exc:
            raise BuildError(exc.message, source, hint=exc.hint) from None
        if resolved != value:
            element.set(attribute, resolved)
            changed = True
    if not changed:
        return fragment
    return (root.text or "") + "".join(lxml_html.tostring(child, encoding="unicode")
                                       for child in root)


# --- raw HTML's nesting ----------------------------------------------------------------

MAX_HTML_DEPTH = 100
"""Elements nested at most this deep in a chapter, the raw HTML's elements and the
Markdown's blocks around them counted together.  WeasyPrint recurses through each level
and fails past some 135 (Python's recursion limit), and lxml, which reads the EPUB's
files, past 256; Markdown's own nesting stops at 20 levels (markdown-it's maxNesting)."""

_VOID = frozenset("area base br col embed hr img input link meta param source track wbr"
                  .split())
# Elements whose start tag closes an open one of the same name (HTML's optional end tags).
_SIBLINGS = frozenset("p li dt dd option optgroup tr td th thead tbody tfoot rb rt rp "
                      "caption colgroup".split())
_TAG_OR_COMMENT = re.compile(
    r"<!--.*?-->|<(/?)([A-Za-z][A-Za-z0-9-]*)(?:[^<>\"']|\"[^\"]*\"|'[^']*')*?(/?)>", re.S)


class Nesting:
    """The elements of raw HTML left open so far in a chapter, fragment by fragment (as a
    browser counts them, roughly: only the elements the sanitizer keeps, void elements
    and self-closed tags open nothing, a closing tag closes up to its element)."""

    def __init__(self) -> None:
        self.open: list[str] = []

    def deepest(self, fragment: str, level: int) -> int | None:
        """Read ``fragment``, which stands ``level`` elements deep in the chapter's
        blocks: the offset of the tag that opens an element deeper than
        :data:`MAX_HTML_DEPTH`, or None."""
        for tag in _TAG_OR_COMMENT.finditer(fragment):
            name = (tag.group(2) or "").lower()
            if name not in _TAGS:  # a comment, or an element the sanitizer unwraps
                continue
            if tag.group(1):
                if name in self.open:
                    del self.open[len(self.open) - 1 - self.open[::-1].index(name):]
            elif name not in _VOID and not tag.group(3):
                if name in _SIBLINGS and self.open and self.open[-1] == name:
                    self.open.pop()
                self.open.append(name)
                if level + len(self.open) > MAX_HTML_DEPTH:
                    return tag.start()
        return None
