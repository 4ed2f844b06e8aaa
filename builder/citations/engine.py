"""The boundary to citeproc-py: everything that touches its classes is here.

citeproc-py formats one citation or entry at a time and leaves the parts of
CSL that need the whole document to its caller.  :class:`Processor` adds them
around it, each documented with the CSL rule it implements:

* every citation is registered before any is rendered, and the bibliography
  is rendered from plain items, so a locator never leaks into an entry;
* ``disambiguate-add-year-suffix`` (CSL 1.0.2, "Disambiguation", step 4):
  cites that render the same get letters in bibliography order;
* ``suppress-author`` and narrative ("author in text") cites;
* ``second-field-align``: the first field of each entry is split off;
* rich text in fields travels through (see :mod:`.markup`).
"""
from __future__ import annotations

import io
import logging
import re
import string
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from citeproc import (Citation, CitationItem, CitationStylesBibliography,
                      CitationStylesStyle, Locator, formatter)
from citeproc.source.json import CiteProcJSON
from lxml import etree

from . import elements, markup, quotes
from .dates import normalise_dates

log = logging.getLogger(__name__)
CSL_NS = "http://purl.org/net/xbiblio/csl"
_NAME_VARIABLES = ("author", "editor", "translator", "composer", "director",
                   "container-author", "collection-editor", "interviewer", "recipient")


@dataclass(frozen=True)
class Cite:
    """One cite item as the CSL test-suite writes it (``id``, ``locator``, ...)."""

    id: str
    locator: str | None = None
    label: str | None = None
    prefix: str = ""
    suffix: str = ""
    suppress_author: bool = False
    author_only: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Cite":
        return cls(id=str(data["id"]), locator=_opt(data.get("locator")),
                   label=data.get("label"), prefix=data.get("prefix", "") or "",
                   suffix=data.get("suffix", "") or "",
                   suppress_author=bool(data.get("suppress-author")),
                   author_only=bool(data.get("author-only")))


@dataclass
class Output:
    citations: list[str]
    bibliography: list[tuple[str, str]]  # (item id, entry HTML)
    info: dict[str, Any] = field(default_factory=dict)


def _opt(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


class Processor:
    """Render the citations of one document, and its bibliography, with one style."""

    def __init__(self, style_xml: bytes, items: Sequence[dict[str, Any]],
                 locale: str | None = None, link_cites: bool = False) -> None:
        self.tree = etree.parse(io.BytesIO(style_xml), etree.XMLParser(
            remove_comments=True, no_network=True, resolve_entities=False))
        root = self.tree.getroot()
        self.locale = locale or root.get("default-locale") or "en-US"
        self.note_style = root.get("class") == "note"
        self.link_cites = link_cites
        self.quotes = quotes.context_for(root, self.locale)
        self.ids = [str(item["id"]) for item in items]
        # citeproc-py lowercases keys; give it its own ids and map back.
        self._internal = {key: f"item{n}" for n, key in enumerate(self.ids)}
        self._external = {v: k for k, v in self._internal.items()}
        self.items = {key: _prepare(item, self._internal[key], self.quotes) for key, item in
                      zip(self.ids, items)}
        self.bib_options = self._options("bibliography")
        self.cite_options = self._options("citation")
        self._mark_first_field()
        self.style = self._load_style()

    # -- style -----------------------------------------------------------------
    def _options(self, element: str) -> dict[str, str]:
        node = self.tree.getroot().find(f"{{{CSL_NS}}}{element}")
        return dict(node.attrib) if node is not None else {}

    def _mark_first_field(self) -> None:
        """second-field-align: markers around the layout's first element."""
        if not self.bib_options.get("second-field-align"):
            return
        first = self.tree.getroot().find(f"{{{CSL_NS}}}bibliography/{{{CSL_NS}}}layout/*")
        if first is not None:
            first.set("prefix", markup.FIELD_OPEN + first.get("prefix", ""))
            first.set("suffix", first.get("suffix", "") + markup.FIELD_CLOSE)

    def _load_style(self) -> CitationStylesStyle:
        return elements.load_style(etree.tostring(self.tree, encoding="utf-8"), self.locale)

    @property
    def has_bibliography(self) -> bool:
        return self.tree.getroot().find(f"{{{CSL_NS}}}bibliography") is not None

    # -- rendering ---------------------------------------------------------------
    def render(self, clusters: Sequence[Sequence[Cite]]) -> Output:
        order = self._bibliography_order(clusters)
        self._add_year_suffixes(order)
        citations = [self._render_cluster(clusters, i) for i in range(len(clusters))]
        bibliography = self._render_bibliography(order) if self.has_bibliography else []
        return Output(citations, bibliography)

    def _bibliography(self, items: dict[str, dict[str, Any]]) -> CitationStylesBibliography:
        source = CiteProcJSON([dict(item) for item in items.values()])
        return CitationStylesBibliography(self.style, source, formatter.html)

    def _citations(self, clusters: Sequence[Sequence[Cite]], plain: bool = False,
                   ) -> list[Citation]:
        made = []
        for cluster in clusters:
            made.append(Citation([self._cite_item(c, plain, n) for n, c in enumerate(cluster)]))
        return made

    def _cite_item(self, cite: Cite, plain: bool, number: int = 0) -> CitationItem:
        options: dict[str, Any] = {}
        if not plain:
            if cite.locator:
                options["locator"] = Locator(cite.label or "page", cite.locator)
            prefix = cite.prefix  # affixes are HTML
            if prefix and not prefix.endswith(" "):
                prefix += " "
            suffix = cite.suffix
            if suffix and suffix[0].isalnum():
                suffix = " " + suffix
            if self.link_cites:
                prefix += markup.CITE_OPEN + chr(markup.CITE_INDEX + number)
                suffix = markup.CITE_CLOSE + suffix
            if prefix:
                options["prefix"] = prefix
            if suffix:
                options["suffix"] = suffix
        return CitationItem(self._internal[cite.id], **options)

    def _bibliography_order(self, clusters: Sequence[Sequence[Cite]]) -> list[str]:
        bib = self._bibliography(self.items)
        for citation in self._citations(clusters, plain=True):
            bib.register(citation)
        if self.bib_options and self._has_sort("bibliography"):
            bib.sort()
        return [self._external[key] for key in bib.keys]

    def _has_sort(self, element: str) -> bool:
        return self.tree.getroot().find(f"{{{CSL_NS}}}{element}/{{{CSL_NS}}}sort") is not None

    def _add_year_suffixes(self, order: list[str]) -> None:
        """CSL 'disambiguate-add-year-suffix': letters for cites that render alike."""
        if self.cite_options.get("disambiguate-add-year-suffix") != "true":
            return
        clusters = [[Cite(key)] for key in order]
        rendered = self._render_all(clusters, self.items)
        groups: dict[str, list[str]] = {}
        for key, text in zip(order, rendered):
            groups.setdefault(markup.plain(text), []).append(key)
        for keys in groups.values():
            if len(keys) > 1 and all(_has_date(self.items[k]) for k in keys):
                for n, key in enumerate(keys):
                    self.items[key]["year-suffix"] = _letters(n)

    def _render_all(self, clusters: Sequence[Sequence[Cite]],
                    items: dict[str, dict[str, Any]]) -> list[str]:
        bib = self._bibliography(items)
        citations = self._citations(clusters)
        for citation in citations:
            bib.register(citation)
        if self._has_sort("bibliography"):
            bib.sort()
        return [_flatten(bib.cite(c, _ignore)) for c in citations]

    def _render_cluster(self, clusters: Sequence[Sequence[Cite]], index: int) -> str:
        cluster = clusters[index]
        if not any(c.suppress_author or c.author_only for c in cluster):
            return self._finish(self._render_all(clusters, self.items)[index], cluster)
        return self._render_with_author_control(clusters, index)

    def _render_with_author_control(self, clusters: Sequence[Sequence[Cite]], index: int) -> str:
        """suppress-author and author-only, by rendering with a marked author."""
        cluster = list(clusters[index])
        full = self._render_all(clusters, self.items)[index]
        items = {k: dict(v) for k, v in self.items.items()}
        for cite in cluster:
            if cite.suppress_author or cite.author_only:
                _mark_author(items[cite.id])
        marked = self._render_all(clusters, items)[index]
        author = _marked_span(full, marked)
        if all(c.author_only for c in cluster):
            return self._finish(author if author is not None else _names(self.items[cluster[0].id]),
                                cluster)
        return self._finish(_drop_author(marked), cluster)

    def _finish(self, rendered: str, cluster: Sequence[Cite]) -> str:
        text = markup.decode(quotes.finish(rendered, self.quotes))
        if self.link_cites:
            keys = [c.id for c in cluster]
            text = re.sub(markup.CITE_OPEN + "(.)", lambda m: _link_open(
                keys[ord(m.group(1)) - markup.CITE_INDEX]), text)
            text = text.replace(markup.CITE_CLOSE, "</a>")
        return _tidy(markup.strip_markers(text))

    def _render_bibliography(self, order: list[str]) -> list[tuple[str, str]]:
        bib = self._bibliography(self.items)
        bib.register(Citation([CitationItem(self._internal[key]) for key in order]))
        if self._has_sort("bibliography"):
            bib.sort()
        entries = [_flatten(e) for e in bib.bibliography()]
        keys = [self._external[key] for key in bib.keys]
        return [(key, _split_first_field(markup.decode(quotes.finish(entry, self.quotes))))
                for key, entry in zip(keys, entries)]


def _ignore(item: Any) -> None:
    return None


def _flatten(value: Any) -> str:
    """citeproc-py sometimes returns nested lists of strings."""
    if isinstance(value, (list, tuple)):
        return "".join(_flatten(v) for v in value)
    return str(value)


def _prepare(item: dict[str, Any], internal_id: str, context: quotes.QuoteContext
             ) -> dict[str, Any]:
    prepared: dict[str, Any] = {}
    for key, value in normalise_dates(item).items():
        if isinstance(value, str):
            value = quotes.prepare_field(markup.encode(value), context)
        prepared[key] = value
    prepared["id"] = internal_id
    return prepared


def _has_date(item: dict[str, Any]) -> bool:
    return "issued" in item


def _letters(n: int) -> str:
    """a, b, ..., z, aa, ab, ... (CSL 'year-suffix')."""
    letters = string.ascii_lowercase
    return letters[n] if n < 26 else _letters(n // 26 - 1) + letters[n % 26]


def _mark_author(item: dict[str, Any]) -> None:
    for variable in _NAME_VARIABLES:
        if item.get(variable):
            item[variable] = [{"literal": markup.AUTHOR_MARK}]
            return


def _marked_span(full: str, marked: str) -> str | None:
    """What the author marker replaced: the author as the style renders it."""
    at = marked.find(markup.AUTHOR_MARK)
    if at < 0:
        return None
    before, after = marked[:at], marked[at + 1:]
    if full.startswith(before) and full.endswith(after) and len(full) >= len(before) + len(after):
        return full[len(before):len(full) - len(after)]
    return None


def _drop_author(marked: str) -> str:
    """The cite without its author and the delimiter after it."""
    dropped = re.sub(re.escape(markup.AUTHOR_MARK) + r"[\ue000-\ue4ff]*[,.:;]?\s*", "", marked)
    return dropped


def _names(item: dict[str, Any]) -> str:
    for variable in _NAME_VARIABLES:
        names = item.get(variable)
        if names:
            families = [n.get("literal") or n.get("family") or "" for n in names]
            if len(families) > 2:
                return markup.escape(families[0]) + " et al."
            return markup.escape(" and ".join(families))
    return ""


def _link_open(key: str) -> str:
    return f'<a href="#{ref_id(key)}" role="doc-biblioref">'


def ref_id(key: str) -> str:
    """The HTML id of a bibliography entry, as pandoc makes it: ``ref-KEY``."""
    return "ref-" + re.sub(r"[^\w.\-]", "_", key)


def _split_first_field(entry: str) -> str:
    if markup.FIELD_OPEN not in entry:
        return entry
    before, _, rest = entry.partition(markup.FIELD_OPEN)
    first, _, after = rest.partition(markup.FIELD_CLOSE)
    return (f'<div class="csl-left-margin">{before}{first}</div>'
            f'<div class="csl-right-inline">{after.strip()}</div>')


def _tidy(text: str) -> str:
    text = re.sub(r"<a [^>]*></a>", "", text)
    return re.sub(r"  +", " ", text).strip()


def iter_keys(clusters: Iterable[Sequence[Cite]]) -> list[str]:
    return [c.id for cluster in clusters for c in cluster]
