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

import contextlib
import copy
import functools
import io
import logging
import os
import re
import string
import unicodedata
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import citeproc
from citeproc import (
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    Locator,
    formatter,
)
from citeproc.model import VariableError
from citeproc.source import Name, Reference
from citeproc.source.json import CiteProcJSON
from lxml import etree

from ..processes import FromBothEnds, can_fork
from . import elements, labels, markup, quotes
from .collapse import Piece, join_cites
from .dates import DATE_VARIABLES, normalise_dates
from .variants import ALL_NAMES, Variant, base_names_shown, has_subsequent_et_al, make_variant

log = logging.getLogger(__name__)
CSL_NS = "http://purl.org/net/xbiblio/csl"
# A bibliography of at least this many entries, or the cites of at least this many
# citations, are rendered by this process and a forked one (see FromBothEnds).
PARALLEL_ENTRIES = 100
PARALLEL_CITATIONS = 200
_Entry = tuple[str, "str | None", "str | None"]  # internal key, entry, entry with author marked
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
    narrative: bool = False  # Pandoc's author-in-text: "Doe (2020)"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Cite:
        return cls(id=str(data["id"]), locator=_opt(data.get("locator")),
                   label=data.get("label"), prefix=data.get("prefix", "") or "",
                   suffix=data.get("suffix", "") or "",
                   suppress_author=bool(data.get("suppress-author")),
                   author_only=bool(data.get("author-only")))


@dataclass
class Output:
    citations: list[str]
    bibliography: list[tuple[str, str]]  # (item id, entry HTML)


def _opt(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


class Processor:
    """Render the citations of one document, and its bibliography, with one style."""

    def __init__(self, style_xml: bytes, items: Sequence[dict[str, Any]],
                 locale: str | None = None, link_cites: bool = False,
                 affix_groups: bool = False) -> None:
        self.tree = etree.parse(io.BytesIO(style_xml), etree.XMLParser(
            remove_comments=True, no_network=True, resolve_entities=False))
        root = self.tree.getroot()
        self.locale = locale or root.get("default-locale") or "en-US"
        self.note_style = root.get("class") == "note"
        self.link_cites = link_cites
        self.affix_groups = affix_groups  # sort between the writer's prefixes and suffixes
        self.quotes = quotes.context_for(root, self.locale)
        self.ids = [str(item["id"]) for item in items]
        # citeproc-py lowercases keys; give it its own ids and map back.
        self._internal = {key: f"item{n}" for n, key in enumerate(self.ids)}
        self._external = {v: k for k, v in self._internal.items()}
        self.items = {key: _prepare(item, self._internal[key], self.quotes) for key, item in
                      zip(self.ids, items, strict=True)}
        # A style that prints citation-label: items without one get one made, and
        # the year-suffix of a style that does not print it goes after the label.
        self._labels: dict[str, str] = {}
        if b'variable="citation-label"' in style_xml:
            for key, item in self.items.items():
                label = item.get("citation-label") or labels.citation_label(item)
                if label:
                    self._labels[key] = item["citation-label"] = str(label)
        self.bib_options = self._options("bibliography")
        self.cite_options = self._options("citation")
        self._mark_first_field()
        self.style = self._load_style()
        self._starting_terms = _starting_terms(self.style, self.tree)
        # The cs:citation element and its parts, looked up once (citeproc-py's
        # element.layout is an lxml find on each access); the variants' layouts.
        self._citation = self.style.root.citation
        self._citation_layout = self._citation.layout if self._citation is not None else None
        self._citation_sort = self._citation.sort if self._citation is not None else None
        self._variant_layouts: dict[Variant, Any] = {}
        self._variants: dict[Variant, CitationStylesStyle] = {}
        self._name_state: dict[str, Variant] = {}  # item id -> its disambiguated names
        self._subsequent_et_al = has_subsequent_et_al(root)
        self._seen: set[str] = set()
        self._source: Any = None  # the items parsed by citeproc-py, kept between renders
        self._order: dict[str, int] | None = None  # bibliography sort, once computed
        # Rendered cites, and what they depend on (see _render_item); an item's
        # version changes with its data (year-suffix, disambiguate).
        self._rendered: dict[tuple[Any, ...], str | None] = {}
        self._known_first_texts: dict[str, tuple[tuple[Any, ...], str]] = {}  # see _first_texts
        self._jobs: dict[tuple[Any, ...], tuple[Any, ...]] | None = None  # see _prerender
        self._versions: dict[str, int] = {}
        self._history = _History()
        self._positions: dict[str, int] = {}
        self._first_note: dict[str, int] = {}
        self._numbered = b"citation-number" in style_xml
        tested = {position for e in root.iter(f"{{{CSL_NS}}}if", f"{{{CSL_NS}}}else-if")
                  for position in (e.get("position") or "").split()}
        self._positional = bool(tested)
        # what _History.position needs to tell apart: only the positions tested
        self._ibid_tested = bool(tested & {"ibid", "ibid-with-locator"})
        self._near_tested = "near-note" in tested
        self._near_note = _int_or_none(root.find(f"{{{CSL_NS}}}citation"), "near-note-distance")
        # A style that never prints year-suffix still gets it, after the first year.
        self.implicit_year_suffix = b'variable="year-suffix"' not in style_xml
        self._label_suffix = self.implicit_year_suffix and bool(self._labels)
        self.implicit_year_suffix = self.implicit_year_suffix and not self._labels
        self._reads_first_note = b"first-reference-note-number" in style_xml
        # Names whose first family names differ never render alike (see _name_key),
        # unless a style counts names or shows none of them.
        self._names_tell_apart = not re.search(rb'form="count"|use-first="0"', style_xml)

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
    def render(self, clusters: Sequence[Sequence[Cite]],
               note_indexes: Sequence[int] | None = None) -> Output:
        """Citations in document order (``note_indexes``: each one's footnote, 0 in text)."""
        # The entries of a style that does not number them do not depend on their order:
        # their child starts with the cited order, while this process sorts.
        early = self.has_bibliography and not self._numbered
        cited = list(dict.fromkeys(c.id for cluster in clusters for c in cluster
                                   if c.id in self._internal))
        keys, entries = self._bibliography_entries(cited, sort=False) if early else ([], None)
        order = self._bibliography_order(clusters)
        if self.has_bibliography and not early:
            keys, entries = self._bibliography_entries(order)
        again = None
        try:
            versions = dict(self._versions)
            self._disambiguate(order, _first_notes(clusters, note_indexes))
            # The entries of the items disambiguation changed (year-suffix, disambiguate)
            # are made again, shared with another child, while the citations render.
            changed = [n for n, key in enumerate(keys)
                       if self._versions.get(key) != versions.get(key)]
            if entries is not None:
                again = FromBothEnds(len(changed), lambda n: entries.make(changed[n]),
                                     fork=len(changed) >= PARALLEL_ENTRIES)
            citations = self._render_citations(clusters, note_indexes)
            if entries is None or again is None:
                return Output(citations, [])
            made = entries.results()
            for index, entry in zip(changed, again.results(), strict=True):
                made[index] = entry
            if early:
                rank = {self._internal[key]: n for n, key in enumerate(order)}
                made.sort(key=lambda entry: rank[entry[0]])
            return Output(citations, self._finish_bibliography(made))
        finally:
            for shared in (entries, again):
                if shared is not None:
                    shared.close()

    def _bibliography(self, items: dict[str, dict[str, Any]]) -> CitationStylesBibliography:
        """A citeproc-py bibliography over the items (their parsed form is kept)."""
        self.style.root.citation.cites = []  # sorting may test positions too
        if self._source is None:
            self._source = _Source(list(items.values()))
        return _Bibliography(self.style, self._source, formatter.html)

    def _set_field(self, key: str, field_name: str, value: str) -> None:
        """Change one field of an item, in the data and in its parsed form."""
        self.items[key][field_name] = value
        if field_name == "year-suffix" and self._label_suffix and key in self._labels:
            self.items[key]["citation-label"] = self._labels[key] + value
        internal = self._internal[key]
        self._versions[internal] = self._versions.get(internal, 0) + 1  # its renderings are old
        if self._source is not None:
            self._source[internal] = _Source([self.items[key]])[internal]

    def _sort(self, bib: CitationStylesBibliography) -> None:
        """bib.sort(), done once: later bibliographies take the same order."""
        if not self._has_sort("bibliography"):
            return
        if self._order is None or not set(bib.keys) <= self._order.keys():
            bib.sort()
            self._order = {key: n for n, key in enumerate(bib.keys)}
            return
        bib.items.sort(key=lambda item: self._order[item.key])
        bib.keys = [item.key for item in bib.items]

    def _citations(self, clusters: Sequence[Sequence[Cite]], plain: bool = False,
                   notes: Sequence[int] | None = None) -> list[Citation]:
        """citeproc-py citations; ``notes`` gives each its note number (positions use it)."""
        made = []
        for index, cluster in enumerate(clusters):
            items = [self._cite_item(c, plain, n) for n, c in enumerate(cluster)]
            if notes is not None:
                with warnings.catch_warnings():  # citeproc-py warns of keywords it lacks
                    warnings.simplefilter("ignore")
                    citation = Citation(items, note_index=notes[index])
            else:
                citation = Citation(items)
            for item in items:
                object.__setattr__(item, "citation", citation)  # see _Item
            made.append(citation)
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
                prefix += markup.cite_mark(number)
                suffix = markup.CITE_CLOSE + suffix
            if prefix:
                options["prefix"] = prefix
            if suffix:
                options["suffix"] = suffix
        item = _Item(self._internal[cite.id], **options)
        object.__setattr__(item, "cite", cite)
        return item

    def bibliography_order(self, clusters: Sequence[Sequence[Cite]]) -> list[str]:
        """The ids of the cited items in the order of the bibliography."""
        return self._bibliography_order(clusters)

    def _bibliography_order(self, clusters: Sequence[Sequence[Cite]]) -> list[str]:
        bib = self._bibliography(self.items)
        for citation in self._citations(clusters, plain=True):
            bib.register(citation)
        self._sort(bib)
        return [self._external[key] for key in bib.keys]

    def _has_sort(self, element: str) -> bool:
        return self.tree.getroot().find(f"{{{CSL_NS}}}{element}/{{{CSL_NS}}}sort") is not None

    # -- disambiguation (CSL 1.0.2, "Disambiguation") -------------------------------
    def _disambiguate(self, order: list[str], first_notes: dict[str, int]) -> None:
        """Make cites that render alike differ: names, given names, year-suffix,
        condition (``first_notes``: the note of each item's first cite)."""
        options = self.cite_options
        if not any(options.get(f"disambiguate-add-{method}") == "true"
                   for method in ("names", "givenname", "year-suffix")) \
                and not self._tests_disambiguate:
            return  # no method, and no <if disambiguate>: nothing would change what renders
        self._known_first_texts = {}
        rule = options.get("givenname-disambiguation-rule", "by-cite")
        if options.get("disambiguate-add-givenname") == "true" and rule != "by-cite":
            self._expand_ambiguous_names(order, rule)
        groups = self._ambiguous(order)
        if groups and options.get("disambiguate-add-names") == "true":
            given = rule if options.get("disambiguate-add-givenname") == "true" else None
            groups = [rest for group in groups for rest in self._add_names(group, order, given)]
        if groups and options.get("disambiguate-add-givenname") == "true":
            groups = [rest for group in groups for rest in self._add_given_names(group, rule)]
        if self._subsequent_et_al and options.get("disambiguate-add-names") == "true":
            # cites alike only in their later et-al form get names added there: "Brown,
            # White, and Green 2010", later "Brown, White, et al. 2010" (not "Brown et
            # al." as the other Brown, Black, and Grey), as citeproc-js
            seen = {key for group in groups for key in group}
            for group in self._ambiguous_later(order, first_notes):
                if not seen.intersection(group):
                    groups += self._add_names(group, order, None, first_notes)
        elif self._subsequent_et_al and options.get("disambiguate-add-year-suffix") == "true":
            # cites alike only in their later et-al form get a year-suffix too: "Baur,
            # Fröberg, Baur, et al. 2000a", later "Baur et al. 2000a" (test-suite
            # disambiguate_BasedOnEtAlSubsequent)
            seen = {key for group in groups for key in group}
            groups += [g for g in self._ambiguous_later(order, first_notes)
                       if not seen.intersection(g)]
        if groups and options.get("disambiguate-add-year-suffix") == "true":
            rank = {key: n for n, key in enumerate(order)}
            for group in groups:  # with a date or without one ("n.d.-a", "n.d.-b")
                for n, key in enumerate(sorted(group, key=rank.__getitem__)):
                    self._set_field(key, "year-suffix", _letters(n))
            groups = self._ambiguous(order)
        if self._positional and self._tests_disambiguate:
            seen = {key for group in groups for key in group}
            groups += [g for g in self._ambiguous_later(order, first_notes)
                       if not seen.intersection(g)]
        for group in groups:  # what is left: <if disambiguate="true">
            for key in group:
                self._set_field(key, "disambiguate", "true")

    def _ambiguous(self, keys: list[str]) -> list[list[str]]:
        """Groups of items whose first cites render the same, leaving out their access
        dates: the date a web page was read does not tell one work from another
        (citeproc-js; CSL test-suite, date_YearSuffixWithNoDate: "Doe n.d.-a [Accessed:
        June 1, 1965]; Doe n.d.-b [Accessed: June 1, 2065]")."""
        accessed = [key for key in keys if "accessed" in self.items[key]]
        with self._without_accessed(accessed):
            texts = self._first_texts(keys)
        groups: dict[str, list[str]] = {}
        for key in keys:
            groups.setdefault(texts[key], []).append(key)
        return [g for g in groups.values() if len(g) > 1]

    def _first_texts(self, keys: list[str]) -> dict[str, str]:
        """The plain text of each item's first cite, rendered again only when what it
        depends on changed since (its names shown, the version of its data); cites
        alone, each the first of its item, render the same whatever else is rendered
        with them (but their citation-numbers)."""
        def state(key: str) -> tuple[Any, ...]:
            return self._name_state.get(key), self._versions.get(self._internal[key])

        known = self._known_first_texts
        todo = [key for key in keys if key not in known or known[key][0] != state(key)
                or self._numbered]  # (a citation-number depends on the cites rendered)
        if todo:
            texts = self._render_citations([[Cite(key)] for key in todo])
            known.update((key, (state(key), markup.plain(text)))
                         for key, text in zip(todo, texts, strict=True))
        return {key: known[key][1] for key in keys}

    @contextlib.contextmanager
    def _without_accessed(self, keys: list[str]) -> Iterator[None]:
        """The items of ``keys`` as if they had no access date, for a while."""
        saved = []
        for key in keys:
            internal = self._internal[key]
            version = self._versions.get(internal)
            saved.append((internal, version, self._source[internal]))
            item = {k: v for k, v in self.items[key].items() if k != "accessed"}
            self._source[internal] = _Source([item])[internal]
            self._versions[internal] = -1 - (version or 0)  # renderings of its own
        try:
            yield
        finally:
            for internal, version, source in saved:
                self._source[internal] = source
                if version is None:
                    del self._versions[internal]
                else:
                    self._versions[internal] = version

    @functools.cached_property
    def _tests_disambiguate(self) -> bool:
        return any(e.get("disambiguate") for e in self.tree.getroot().iter(
            f"{{{CSL_NS}}}if", f"{{{CSL_NS}}}else-if"))

    def _ambiguous_later(self, keys: list[str], first_notes: dict[str, int]
                         ) -> list[list[str]]:
        """Groups of items whose later cites (position subsequent: a style's short
        form, "Doe, supra note 1") render the same, though their first cites differ:
        they too take the style's <if disambiguate="true"> (CSL 1.0.2,
        Disambiguation; bugreports_OldMhraDisambiguationFailure).  Each first cite
        is in the note it has in the document (``first_notes``), which a later
        cite may print."""
        keys = [key for key in keys if key in first_notes]
        if len(keys) < 2:
            return []
        accessed = [key for key in keys if "accessed" in self.items[key]]
        if self._later_is_first:
            # only the names of a later cite can differ from its first cite's: the
            # others' first cites (rendered already) stand for their later ones
            later = [key for key in keys if self._later_names_differ(key)]
            if not later:
                return []
            with self._without_accessed(accessed):
                texts = self._first_texts(keys)
                again = self._render_citations([[Cite(key)] for key in later] * 2)
            texts.update((key, markup.plain(text))
                         for key, text in zip(later, again[len(later):], strict=True))
        else:
            last = max(first_notes.values())
            notes = [first_notes[key] for key in keys] + [last + 1 + n for n in range(len(keys))]
            with self._without_accessed(accessed):
                rendered = self._render_citations([[Cite(key)] for key in keys] * 2, notes)
            texts = {key: markup.plain(text)
                     for key, text in zip(keys, rendered[len(keys):], strict=True)}
        groups: dict[str, list[str]] = {}
        for key in keys:
            groups.setdefault(texts[key], []).append(key)
        return [g for g in groups.values() if len(g) > 1]

    @functools.cached_property
    def _later_is_first(self) -> bool:
        """A later cite renders as the first one but for et-al-subsequent-min/use-first:
        the style tests no position and prints no first-reference-note-number."""
        return not self._positional and not any(
            "first-reference-note-number" in (e.get("variable") or "")
            for e in self.tree.getroot().iter())

    def _later_names_differ(self, key: str) -> bool:
        """The later cites of ``key`` may show other names than its first cite."""
        count = _name_count(self.items[key])
        root = self.tree.getroot()
        return key in self._name_state or \
            base_names_shown(root, count, True) != base_names_shown(root, count)

    def _add_names(self, group: list[str], order: list[str], rule: str | None,
                   first_notes: dict[str, int] | None = None) -> list[list[str]]:
        """disambiguate-add-names: one more name at a time, while it helps; with
        disambiguate-add-givenname (``rule``), each count of names is also tried with
        given names expanded (CSL 1.0.2).  Cites still ambiguous at the end keep the
        names (and given names) of the last step that told some of them apart.
        With ``first_notes``: in the later cites' et-al form (see _ambiguous_later)."""
        def ambiguous(keys: list[str]) -> list[list[str]]:
            if first_notes is None:
                return self._ambiguous(keys)
            return self._ambiguous_later(keys, first_notes)

        counts = {k: _name_count(self.items[k]) for k in group}
        start = min(base_names_shown(self.tree.getroot(), counts[k], first_notes is not None)
                    for k in group)
        kept = {key: self._name_state.get(key, Variant()) for key in group}
        left = list(group)
        for shown in range(start + 1, max(counts.values()) + 1):
            for key in left:
                self._name_state[key] = replace(self._name_state.get(key, Variant()),
                                                names=ALL_NAMES if shown >= counts[key] else shown)
            groups = ambiguous(left)
            if groups and rule is not None:
                if rule != "by-cite":  # the names now shown are expanded as the rule says
                    self._expand_ambiguous_names(order, rule)
                    groups = ambiguous(left)
                groups = [rest for g in groups for rest in self._add_given_names(g, rule)]
            now = [k for g in groups for k in g]
            if len(now) < len(left):
                kept.update((key, self._name_state.get(key, Variant())) for key in now)
            left = now
            if not left:
                return []
        for key in left:
            self._name_state[key] = kept[key]
        return ambiguous(left) if left else []

    def _expand_ambiguous_names(self, keys: list[str], rule: str) -> None:
        """givenname-disambiguation-rule (all-names, primary-name, ...): in every cite,
        each name shown (only the first with primary-name) that another person of
        the document shares is given its initials, or its full given name when
        the initials are shared too (not with "-with-initials": there, no initials
        when they are all the others' too, as citeproc-js: test-suite
        disambiguate_ToInitialOnly, "Smith; Smith" for Cecil and Charles)."""
        primary = rule.startswith("primary-name")
        limit = 1 if rule.endswith("with-initials") else 2
        shown = {key: [person for person in _persons(self.items[key])
                       if person[0] < (1 if primary else self._names_shown(key))]
                 for key in keys}
        people: dict[str, set[str]] = {}
        for key in keys:
            for _, family, given in shown[key]:
                people.setdefault(family, set()).add(given)
        for key in keys:
            state = self._name_state.get(key, Variant())
            for index, family, given in shown[key]:
                others = people[family] - {given}
                if others:
                    initials = {_initials(other) for other in others}
                    clash = _initials(given) in initials
                    if limit == 1 and initials == {_initials(given)}:
                        continue  # initials tell this person from no other: none added
                    state = state.with_given(index, limit if clash else 1)
            if not state.is_base or key in self._name_state:
                self._name_state[key] = state

    def _names_shown(self, key: str) -> int:
        """How many names the cites of ``key`` show (disambiguate-add-names counted)."""
        count = _name_count(self.items[key])
        names = self._name_state.get(key, Variant()).names
        if names is not None:
            return min(names, count)
        return base_names_shown(self.tree.getroot(), count)

    def _add_given_names(self, group: list[str], rule: str) -> list[list[str]]:
        """disambiguate-add-givenname: name by name (only the first with
        primary-name), the names that differ between the ambiguous cites get
        initials, then full given names, while cites stay ambiguous."""
        saved = {key: self._name_state.get(key, Variant()) for key in group}
        left = list(group)
        positions = 1 if rule.startswith("primary-name") else \
            max(self._names_shown(key) for key in group)
        limit = 1 if rule.endswith("with-initials") else 2
        for index in range(positions):
            for level in range(1, limit + 1):
                people: dict[str, set[str]] = {}
                for key in left:
                    person = _person_at(self.items[key], index)
                    if person is not None:
                        people.setdefault(person[0], set()).add(person[1])
                changed = False
                for key in left:
                    person = _person_at(self.items[key], index)
                    state = self._name_state.get(key, Variant())
                    if person is not None and len(people[person[0]]) > 1 \
                            and state.given_level(index) < level:
                        self._name_state[key] = state.with_given(index, level)
                        changed = True
                if changed:
                    left = [k for g in self._ambiguous(left) for k in g]
                    if not left:
                        return []
        if len(left) == len(group):  # given names that did not help go back
            for key in left:
                self._name_state[key] = saved[key]
        return self._ambiguous(left)

    def _layout(self, key: str, subsequent: bool) -> tuple[Variant, Any]:
        """The citation layout to render ``key`` with: the style, or one of its variants."""
        variant = replace(self._name_state.get(key, Variant()),
                          subsequent=subsequent and self._subsequent_et_al)
        if variant.is_base:
            return variant, self._citation_layout
        if variant not in self._variants:
            style = elements.load_style(make_variant(self.tree, variant), self.locale)
            style.root.formatter = formatter.html
            self._variants[variant] = style
            self._variant_layouts[variant] = style.root.citation.layout
        return variant, self._variant_layouts[variant]

    def _show_history(self, keys: Sequence[str]) -> None:
        """Give every citation element (the style's and its variants') the cites that
        position tests of ``keys`` read: see :class:`_History`."""
        if self._positional:
            self._show(self._history.view(keys))

    def _show(self, cites: list[Any]) -> None:
        self._citation.cites = cites
        for layout in self._variant_layouts.values():
            layout.getparent().cites = cites

    def _render_citations(self, clusters: Sequence[Sequence[Cite]],
                          note_indexes: Sequence[int] | None = None) -> list[str]:
        """Every citation, in document order, so positions (ibid, subsequent) are right."""
        bib = self._bibliography(self.items)
        notes = list(note_indexes or []) + [0] * (len(clusters) - len(note_indexes or []))
        citations = self._citations(clusters, notes=notes if note_indexes else None)
        for citation in citations:
            bib.register(citation)
        self._sort(bib)
        self._positions = {key: n for n, key in enumerate(bib.keys)}
        marked: dict[str, Any] = {}

        def render_all() -> list[str]:
            for key in self._first_note:
                self._source[key].pop("first_reference_note_number", None)
            self._citation.cites = []
            self._seen = set()
            self._first_note = {}
            self._history = _History()
            return [self._render_citation(bib, citation, list(cluster), marked, note)
                    for citation, cluster, note in zip(citations, clusters, notes, strict=True)]

        if len(clusters) >= PARALLEL_CITATIONS and can_fork():
            self._prerender(render_all)
        return render_all()

    def _prerender(self, render_all: Callable[[], Any]) -> None:
        """Render beforehand, shared with a forked child, every cite ``render_all``
        will ask for: a dry run of it, which renders nothing, finds them.

        What a cite renders to depends only on its cache key (see _render_item),
        so the dry run needs no rendered text to find each cite's key and what to
        render it with.  A key it gets wrong (a cite the style leaves out, which
        the dry run cannot know) costs only a rendering in the real run."""
        self._jobs = {}
        try:
            render_all()
        finally:
            jobs, self._jobs = self._jobs, None
        keys = list(jobs)
        shared = FromBothEnds(len(keys), lambda index: self._render_job(*jobs[keys[index]]))
        try:
            self._rendered.update(zip(keys, shared.results(), strict=True))
        finally:
            shared.close()

    def _render_citation(self, bib: CitationStylesBibliography, citation: Citation,
                         cluster: list[Cite], marked: dict[str, Any], note: int = 0) -> str:
        """One citation: each cite rendered alone, then put together by :mod:`.collapse`."""
        layout = self._citation_layout
        items = list(citation.cites)
        # Every citation gets its note number (see _History); positions read it.
        citation["note_index"] = self._history.note(citation)
        if self._citation_sort is not None and len(items) > 1:  # ties keep the citing order
            self._show_history([item.key for item in items])
            items = [item for group in _affix_groups(items, self.affix_groups)
                     for item in self._sorted(group, layout)]
        # The author of a cite (found by rendering it again, its names marked) is needed
        # for its flags, and to collapse or group it with another cite of the same
        # author: one whose first name could render the same (see _name_key).
        grouping = bool(self.cite_options.get("collapse")
                        or self.cite_options.get("cite-group-delimiter")) and len(items) > 1
        if grouping and self._names_tell_apart:
            keys = [_name_key(self.items[item.cite.id]) for item in items]
            tally = Counter(keys)  # (keys.count for each: quadratic in the cites)
            shared = {key for key, n in tally.items() if key is not None and n > 1}
            grouped = [key in shared for key in keys]
        else:
            grouped = [grouping] * len(items)
        pieces = []
        for item, in_group in zip(items, grouped, strict=True):
            variant, cite_layout = self._layout(item.cite.id, item.key in self._seen)
            counts = not item.cite.author_only  # an author in the text ("As Doe¹ says") is
            if counts:                          # no cite of its own: its note's cite is first
                self._seen.add(item.key)
                self._note_numbers(bib, item.key, note)
            text = self._render_item(variant, cite_layout, item)
            if text is None:
                continue
            piece = self._piece(bib, item, text)
            cite = item.cite
            if in_group or cite.suppress_author or cite.author_only or cite.narrative:
                other = self._render_item(variant, cite_layout, item, marked)
                piece.author = _marked_span(text, other or "")
                piece.rest = _drop_author(other) if other and piece.author is not None else None
                if piece.author is None and (item.cite.narrative or item.cite.author_only):
                    piece.author = _names(self.items[item.cite.id])  # the style prints none
            if counts:
                self._history.add(item)
            pieces.append(piece)
        if self._jobs is not None:
            return ""  # a dry run (see _prerender): nothing was rendered
        text = self._assemble(layout, pieces)
        if self.note_style and not (cluster and cluster[0].prefix):
            text = _capitalize_term(text, self._starting_terms)
        return self._finish(text, cluster)

    def _sorted(self, group: tuple[list[CitationItem], list[CitationItem], list[CitationItem]],
                layout: Any) -> list[CitationItem]:
        """A group of cites in the style's order, its fixed head and tail kept in place."""
        head, middle, tail = group
        if len(middle) > 1 and self._citation_sort is not None:
            middle = self._citation_sort.sort(middle, layout)  # stable: ties keep their order
        return [*head, *middle, *tail]

    def _note_numbers(self, bib: CitationStylesBibliography, key: str, note: int) -> None:
        """first-reference-note-number: the note where the item was first cited."""
        if key in self._first_note:
            bib.source[key]["first_reference_note_number"] = str(self._first_note[key])
        elif note:
            self._first_note[key] = note

    def _render_item(self, variant: Variant, layout: Any, item: CitationItem,
                     marked: dict[str, Any] | None = None) -> str | None:
        """One cite through the citation layout (with its author replaced by a marker
        when ``marked`` is given: see _marked).

        A cite renders the same whenever all that citeproc-py and :mod:`.elements`
        read while rendering it is the same, so it is rendered once for each:
        the layout (``variant``); the item and the version of its data; the
        first-reference-note-number put into its parsed form; its
        citation-number, if the style prints or sorts by one; its locator; and,
        if the style tests positions, what If._position reads from the cites
        before (:meth:`_History.position`).  Prefix and suffix are added here,
        around the cached text: the layout never sees them.
        """
        key = item.key
        reference = self._source[key]
        cache_key = (variant, marked is not None, key, self._versions.get(key, 0),
                     reference.get("first_reference_note_number"),
                     self._positions.get(key) if self._numbered else None,
                     (item.locator.label, item.locator.identifier) if "locator" in item else None,
                     self._history.position(item, self._near_note, self._ibid_tested,
                                            self._near_tested) if self._positional else None)
        if cache_key not in self._rendered:
            job = (layout, item, None if marked is None else self._marked(key, marked),
                   self._history.view([key]) if self._positional else None,
                   reference.get("first_reference_note_number"))
            if self._jobs is not None:  # a dry run (see _prerender): rendered later
                self._jobs.setdefault(cache_key, job)
                return ""
            self._rendered[cache_key] = self._render_job(*job)
        text = self._rendered[cache_key]
        if text is None:
            return None
        prefix = str(item.get("prefix", ""))
        if self.note_style and _ends_sentence(prefix):
            text = _capitalize_term(text, self._starting_terms)
        return prefix + text + str(item.get("suffix", ""))

    def _render_job(self, layout: Any, item: CitationItem, marked: Any, cites: list[Any] | None,
                    first_note: str | None, implied: bool = True) -> str | None:
        """One cite through ``layout``: its item's data replaced by ``marked`` (see
        _marked) if given, else with ``first_note`` as its first-reference-note-number;
        ``cites``, the cites before it that position tests read."""
        if cites is not None:
            self._show(cites)
        source = item.bibliography.source
        saved = source[item.key]
        kept = saved.get("first_reference_note_number")
        # the marked item keeps the note number: only its author changes (OSCOLA's
        # "Berg (n 2) 17" with suppress-author is "(n 2) 17")
        rendered = saved if marked is None else marked
        source[item.key] = rendered
        if first_note is None:
            rendered.pop("first_reference_note_number", None)
        else:
            rendered["first_reference_note_number"] = first_note
        try:
            layout.repressed = {}
            output = layout.render_children(item)
        except VariableError:
            output = None
        finally:
            source[item.key] = saved
            if marked is not None:
                marked.pop("first_reference_note_number", None)
            if kept is None:
                saved.pop("first_reference_note_number", None)
            else:
                saved["first_reference_note_number"] = kept
        if output is None:
            return None
        text = _flatten(output)
        data = self.items[item.cite.id]
        if implied and self.implicit_year_suffix and data.get("year-suffix"):
            def shifted(changed: dict[str, Any]) -> str:
                if marked is not None:
                    _mark_author(changed)
                again = self._render_job(layout, item, _Source([changed])[item.key],
                                         cites, first_note, implied=False)
                return again or ""
            text = _implied_suffix(text, data, shifted)
        return text

    def _marked(self, key: str, cache: dict[str, Any]) -> Any:
        """The reference with its author replaced by a marker (to find the author's text)."""
        if key not in cache:
            data = dict(self.items[self._external[key]])
            _mark_author(data)
            cache[key] = _Source([data])[key]
        return cache[key]

    def _piece(self, bib: CitationStylesBibliography, item: CitationItem, text: str) -> Piece:
        cite: Cite = item.cite
        data = self.items[cite.id]
        number = self._positions[item.key] + 1 if item.key in self._positions else None
        plain_text = markup.plain(text).strip()
        return Piece(
            text=text,
            number=number if number is not None and _bare(plain_text) == str(number) else None,
            year=_year(data), suffix=data.get("year-suffix"),
            plain=not (cite.locator or cite.prefix or cite.suffix),
            flags=(cite.suppress_author, cite.author_only, cite.narrative),
            item=cite.id,
        )

    def _assemble(self, layout: Any, pieces: list[Piece]) -> str:
        if not pieces:
            return ""
        if all(p.flags[1] for p in pieces):  # author-only: the names, nothing else
            return ", ".join(p.author or "" for p in pieces)
        author_in_text = pieces[0].author if pieces[0].flags[2] else None
        for piece in pieces:
            if (piece.flags[0] or piece.flags[2]) and piece.rest is not None:
                piece.text = piece.rest
        delimiter = layout.get("delimiter", "")
        joined = join_cites(pieces, self.cite_options, delimiter, self.note_style)
        if not markup.plain(joined).strip():  # nothing printed: no affixes ("As Sen () argued")
            return author_in_text or ""
        wrapped = _flatten(layout.format(layout.wrap(joined)))
        if author_in_text is not None:
            return f"{author_in_text} {wrapped}"
        return wrapped

    def _finish(self, rendered: str, cluster: Sequence[Cite]) -> str:
        text = markup.decode(quotes.finish(rendered, self.quotes))
        if self.link_cites:
            keys = [c.id for c in cluster]
            text = markup.CITE_DIGITS.sub(lambda m: _link_open(
                keys[markup.cite_number(m.group(1))]), text)
            text = text.replace(markup.CITE_CLOSE, "</a>")
        return _tidy(markup.strip_markers(text))

    def _bibliography_entries(self, order: list[str], sort: bool = True
                              ) -> tuple[list[str], FromBothEnds[_Entry]]:
        """The bibliography's entries, each rendered alone (and again with its author
        marked, for subsequent-author-substitute).  With enough entries, a forked
        child renders them while this process disambiguates and renders the
        citations (which change no data the entries read, except
        first-reference-note-number: a style that prints it renders them in turn;
        :meth:`render` makes again the entries whose data disambiguation changed).
        Returns the entries' item keys, in order (``order``, sorted by the style
        unless ``sort`` is false), and their maker."""
        bib = self._bibliography(self.items)
        items = [_Item(self._internal[key]) for key in order]
        citation = Citation(items)
        for item in items:
            object.__setattr__(item, "citation", citation)  # see _Item
        bib.register(citation)
        if sort:
            self._sort(bib)
        substitute = self.bib_options.get("subsequent-author-substitute") is not None

        def entry(index: int) -> _Entry:
            item = bib.items[index]
            rendered = self.style.render_bibliography([item])
            if not rendered:
                return item.key, None, None  # a style may leave one out
            marked = self._marked_entry(bib, item) if substitute else None
            return item.key, _flatten(rendered[0]), marked

        fork = len(bib.items) >= PARALLEL_ENTRIES and not self._reads_first_note
        return [item.key for item in bib.items], FromBothEnds(len(bib.items), entry, fork=fork)

    def _marked_entry(self, bib: CitationStylesBibliography, item: Any) -> str | None:
        """The entry with its author replaced by a marker (see _marked_span)."""
        data = dict(self.items[self._external[item.key]])
        _mark_author(data)
        source = bib.source
        saved = source[item.key]
        source[item.key] = _Source([data])[item.key]
        try:
            rendered = self.style.render_bibliography([item])
        finally:
            source[item.key] = saved
        return _flatten(rendered[0]) if rendered else None

    def _entry_with(self, data: dict[str, Any], number: int) -> str:
        """The entry of ``data`` (an item's data, changed), numbered ``number``."""
        key = str(data["id"])
        bib = self._bibliography(self.items)
        bib.fixed_number = number
        item = _Item(key)
        citation = Citation([item])
        object.__setattr__(item, "citation", citation)  # see _Item
        bib.register(citation)
        source = bib.source
        saved = source[key]
        source[key] = _Source([data])[key]
        try:
            rendered = self.style.render_bibliography([item])
        finally:
            source[key] = saved
        return _flatten(rendered[0]) if rendered else ""

    def _finish_bibliography(self, made: list[_Entry]) -> list[tuple[str, str]]:
        rendered = [entry for entry in made if entry[1] is not None]
        keys = [self._external[key] for key, _, _ in rendered]
        entries = [str(text) for _, text, _ in rendered]
        marked = [marked for _, _, marked in rendered]
        if self.implicit_year_suffix:
            numbers = {key: n + 1 for n, (key, _, _) in enumerate(made)}

            def suffixed(text: str | None, key: str, mark: bool = False) -> str | None:
                data = self.items[key]
                if text is None or not data.get("year-suffix"):
                    return text
                if mark:  # the entry with its author marked gets it too (sort_ChicagoYearSuffix1)
                    data = dict(data)
                    _mark_author(data)
                return _implied_suffix(text, data, functools.partial(
                    self._entry_with, number=numbers[self._internal[key]]))

            entries = [str(suffixed(e, k)) for e, k in zip(entries, keys, strict=True)]
            marked = [suffixed(m, k, True) for m, k in zip(marked, keys, strict=True)]
        if self.bib_options.get("subsequent-author-substitute-rule") == "partial-first":
            numbers = {key: n + 1 for n, (key, _, _) in enumerate(made)}
            entries = self._substitute_first_names(entries, keys, numbers)
        elif self.bib_options.get("subsequent-author-substitute") is not None:
            entries = self._substitute_authors(entries, marked)
        return [(key, _split_first_field(markup.decode(quotes.finish(entry, self.quotes))))
                for key, entry in zip(keys, entries, strict=True)]

    def _substitute_authors(self, entries: list[str], marked: list[str | None]) -> list[str]:
        """subsequent-author-substitute: the same authors as the entry above are replaced."""
        substitute = self.bib_options["subsequent-author-substitute"]
        rule = self.bib_options.get("subsequent-author-substitute-rule", "complete-all")
        out, previous = [], None
        for entry, other in zip(entries, marked, strict=True):
            author = _marked_span(entry, other) if other is not None else None
            if author and author == previous:
                names = _substitute_names(author, substitute, rule)
                entry = other.replace(markup.AUTHOR_MARK, names, 1)  # type: ignore[union-attr]
            previous = author
            out.append(entry)
        return out


    def _substitute_first_names(self, entries: list[str], keys: list[str],
                                numbers: dict[str, int]) -> list[str]:
        """subsequent-author-substitute-rule="partial-first": an entry whose first
        name is the first name of the entry above has that name replaced, whatever
        the names after it ("——, Bob White, and Carol Green"; CSL 1.0.2,
        Bibliography, Reference Grouping)."""
        substitute = self.bib_options.get("subsequent-author-substitute")
        if substitute is None:
            return entries
        out, previous = [], None
        for entry, key in zip(entries, keys, strict=True):
            first = _first_name(self.items[key])
            if first is not None and first == previous:
                data = copy.deepcopy(self.items[key])
                _mark_author(data, first_only=True)
                marked = self._entry_with(data, numbers[self._internal[key]])
                if markup.AUTHOR_MARK in marked:
                    entry = marked.replace(markup.AUTHOR_MARK, substitute, 1)
            previous = first
            out.append(entry)
        return out


class _Item(CitationItem):
    """citeproc-py's cite item, with the lookups made for every element rendered made direct.

    Its elements ask the item for ``key``, ``citation``, ``bibliography`` and
    ``reference`` many times per cite; on a CitationItem each is a chain of
    properties and of CustomDict.__getattr__ (a failed attribute lookup, then a
    dict lookup): about a fifth of the time of rendering, in the profile.  Here
    ``key``, ``cite``, ``citation`` and ``bibliography`` are plain attributes
    (set with ``object.__setattr__``: CustomDict turns an assignment into a dict
    item) and ``reference`` one lookup in the source, which the engine may
    change (marked authors, year-suffix), so it is not remembered.
    """

    bibliography = None  # shadows CitationItem's property; set by _Bibliography.register
    __getitem__ = dict.__getitem__  # see _Reference

    def __missing__(self, key: str) -> Any:
        raise VariableError

    def __init__(self, key: str, **options: Any) -> None:
        super().__init__(key, **options)
        object.__setattr__(self, "key", self["key"])

    @property
    def reference(self) -> Any:
        return self.bibliography.source[self.key]

    @property
    def number(self) -> int:
        return self.bibliography.number(self.key)


class _Bibliography(CitationStylesBibliography):
    """citeproc-py's bibliography, registering in linear time (a set of the keys,
    not ``key in list``) and numbering with a dict (not ``list.index``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._registered: set[str] = set()
        self._numbers: tuple[list[str], int, dict[str, int]] | None = None
        self.fixed_number: int | None = None  # every item's number, if set

    def register(self, citation: Citation, callback: Any = None) -> None:
        citation.bibliography = self
        for item in citation.cites:
            object.__setattr__(item, "bibliography", self)
            if item.key in self.source:
                if item.key not in self._registered:
                    self._registered.add(item.key)
                    self.keys.append(item.key)
                    self.items.append(item)
            elif callback is not None:
                callback(item)

    def number(self, key: str) -> int:
        """``keys.index(key) + 1``; ``keys`` is replaced (not changed) when sorted."""
        if self.fixed_number is not None:
            return self.fixed_number
        keys = self.keys
        if self._numbers is None or self._numbers[0] is not keys or self._numbers[1] != len(keys):
            numbers: dict[str, int] = {}
            for n, each in enumerate(keys):
                numbers.setdefault(each, n + 1)
            self._numbers = (keys, len(keys), numbers)
        if key not in self._numbers[2]:
            return keys.index(key) + 1  # raises ValueError, as citeproc-py does
        return self._numbers[2][key]


def _affix_groups(items: list[CitationItem], affixes: bool
                  ) -> list[tuple[list[CitationItem], list[CitationItem], list[CitationItem]]]:
    """The cites of a citation as groups that sort apart, each (head, middle, tail): only
    the middle is sorted.  Without ``affixes``, one group (CSL: every cite sorts).  With,
    as Pandoc: a cite with a prefix starts a group and stays first in it ("see A; B"),
    as does a narrative cite ("Doe (1999; Adams, 2001)"),
    a cite with a suffix ends one and stays last ("A; B, emphasis added"), so that the
    writer's words stay with the cites they were written for."""
    if not affixes:
        return [([], items, [])]
    groups: list[list[CitationItem]] = [[]]
    for item in items:
        if (item.cite.prefix or item.cite.narrative) and groups[-1]:
            groups.append([])
        groups[-1].append(item)
        if item.cite.suffix:
            groups.append([])
    made = []
    for group in groups:
        if not group:
            continue
        head = group[:1] if group[0].cite.prefix or group[0].cite.narrative else []
        rest = group[len(head):]
        tail = rest[-1:] if rest and rest[-1].cite.suffix else []
        made.append((head, rest[:len(rest) - len(tail)], tail))
    return made


class _History:
    """The cites rendered so far, for CSL positions (first, subsequent, ibid, near-note).

    If._position (:mod:`.elements`) reads, from the cites before: the last one,
    the last one of the same item, and the note number of each one's citation:
    its ``note_index`` if set, else its rank among the citations in the list.
    Scanning the whole list made every position test cost as much as the cites
    before it (a note style with 2,000 citations took 90 s).  So every citation
    gets its note number set (computed as _note_numbers would from the whole
    list) and the citation element is shown only the cites that If._position
    needs (:meth:`view`): the answers are the same.
    """

    def __init__(self) -> None:
        self.cites: list[Any] = []
        self.last_of: dict[str, int] = {}  # item key -> index of its last cite
        self.notes: dict[int, int] = {}  # id(citation) -> note number

    def note(self, citation: Citation) -> int:
        number = self.notes.get(id(citation))
        if number is None:
            given = citation.get("note_index")
            number = int(given) if given else len(self.notes) + 1
        return number

    def add(self, item: Any) -> None:
        citation = item.citation
        if id(citation) not in self.notes:
            self.notes[id(citation)] = self.note(citation)
        self.last_of[item.key] = len(self.cites)
        self.cites.append(item)

    def view(self, keys: Sequence[str]) -> list[Any]:
        """The last cite, and the last cite of each of ``keys``, in their order."""
        at = {self.last_of[key] for key in keys if key in self.last_of}
        if self.cites:
            at.add(len(self.cites) - 1)
        return [self.cites[n] for n in sorted(at)]

    def position(self, item: Any, near_note: int | None, ibid_tested: bool = True,
                 near_tested: bool = True) -> tuple[Any, ...] | None:
        """All that If._position reads about ``item``'s place (its own locator aside),
        for the positions the style tests (first and subsequent always)."""
        at = self.last_of.get(item.key)
        if at is None:
            return None  # first (and so neither ibid nor near)
        last = self.cites[-1]
        near: Any = None
        if near_tested:
            distance = self.note(item.citation) - self.notes[id(self.cites[at].citation)]
            near = distance if near_note is None else distance <= near_note
        ibid = None
        if ibid_tested and last.key == item.key and (item.citation is last.citation
                                                     or len(last.citation.cites) == 1):
            ibid = (last.locator.label, str(last.locator.identifier).strip()) \
                if "locator" in last else ()
        return near, ibid


# CSL 1.0.2 name and date variables that citeproc-py 0.11 does not know as such.
_EXTRA_NAMES = frozenset("""chair compiler contributor curator director executive_producer guest
host narrator organizer performer producer script_writer series_creator""".split())
_EXTRA_DATES = frozenset({"available_date"})


class _Source(CiteProcJSON):
    """citeproc-py's CSL-JSON source, knowing the name and date variables of CSL 1.0.2."""

    def __init__(self, items: Sequence[dict[str, Any]]) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # citeproc-py warns on variables it lacks
            for data in items:
                self.add(self._reference(data))

    def parse_names(self, json_data: Sequence[dict[str, Any]]) -> list[Any]:
        return [_Name(**name) for name in json_data]

    def _reference(self, data: dict[str, Any]) -> Any:
        fields: dict[str, Any] = {}
        for key, value in data.items():
            name = key.replace("-", "_")
            if name in ("id", "type", "key"):
                continue
            if name == "shortTitle":
                name = "title_short"
            if name in citeproc.NAMES or name in _EXTRA_NAMES:
                if not isinstance(value, list):
                    continue
                value = self.parse_names([v for v in value if isinstance(v, dict)])
            elif name in citeproc.DATES or name in _EXTRA_DATES:
                if not isinstance(value, dict):
                    continue
                value = self.parse_date(value)
            elif key != "language":
                value = self.parse_string(value)
            fields[name] = value
        return _Reference(str(data["id"]).lower(), data["type"], **fields)


class _Reference(Reference):
    """citeproc-py's reference, with ``key`` and ``type`` (asked for by every
    cs:if type test) as plain attributes too: they never change.

    ``reference[variable]`` (and ``reference.variable``) is dict's own lookup:
    CustomDict.__getitem__ is Python code that catches KeyError to raise
    VariableError; ``__missing__`` raises it instead (dict calls it on a
    missing key), so a field read costs a C call.  The same for :class:`_Item`
    and :class:`_Name`.
    """

    __getitem__ = dict.__getitem__

    def __missing__(self, key: str) -> Any:
        raise VariableError

    def __init__(self, key: str, type: str, **fields: Any) -> None:
        super().__init__(key, type, **fields)
        object.__setattr__(self, "key", self["key"])
        object.__setattr__(self, "type", self["type"])


class _Name(Name):
    """citeproc-py's name, its parts read with dict's own lookup (see _Reference)."""

    __getitem__ = dict.__getitem__

    def __missing__(self, key: str) -> Any:
        raise VariableError


def _int_or_none(element: Any, attribute: str, default: int = 5) -> int | None:
    """An integer option (None when it is not a number: it is then compared as is)."""
    try:
        return int(element.get(attribute, default)) if element is not None else default
    except ValueError:
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


def _ends_sentence(prefix: str) -> bool:
    """Whether a cite's prefix ends a sentence ("This has been said. "), so that a
    term starting the cite starts with a capital.  A single word before the full
    stop may be an abbreviation ("Cf. ibid."), as citeproc-js has it (CSL
    test-suite, bugreports_CapsAfterOneWordPrefix)."""
    text = markup.plain(prefix).strip()
    return bool(_SENTENCE_END.search(text)) and len(text.split()) > 1


_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*$")


def _first_notes(clusters: Sequence[Sequence[Cite]], note_indexes: Sequence[int] | None
                 ) -> dict[str, int]:
    """The note (or, without notes, the citation's rank) of each item's first cite."""
    first: dict[str, int] = {}
    for n, cluster in enumerate(clusters):
        note = note_indexes[n] if note_indexes and n < len(note_indexes) else n + 1
        for cite in cluster:
            first.setdefault(cite.id, note)
    return first


def _capitalize_term(text: str, terms: frozenset[str]) -> str:
    """A note that starts with a term ("ibid.", "from") starts with a capital
    (CSL 1.0.2, as citeproc-js: test-suite magic_CapitalizeFirstOccurringTerm)."""
    visible = re.match(r"((?:<[^>]+>|[\ue000-\ue4ff])*)(\w+)", text)
    if visible and visible.group(2).lower() in terms:
        start = visible.end(1)
        return text[:start] + text[start].upper() + text[start + 1:]
    return text


def _starting_terms(style: Any, tree: Any) -> frozenset[str]:
    """The first words of the terms the style prints with cs:text term="...", which
    capitalise at the start of a note; not those of a cs:label or of a long ordinal
    (citeproc-js and the CSL test-suite: "ninth", "pages" stay lowercase)."""
    words = {"ibid", "id"}
    for element in tree.iter(f"{{{CSL_NS}}}text"):
        name = element.get("term")
        term = style.root.get_term(name, element.get("form")) if name else None
        if term is None:
            continue
        for text in (term.text, *(form.text for form in term)):  # or single, multiple
            first = re.match(r"\w+", (text or "").strip())
            if first:
                words.add(first.group().lower())
    return frozenset(words)


def _implied_suffix(text: str, item: dict[str, Any], render: Callable[[dict[str, Any]], str]
                    ) -> str:
    """The year-suffix of a style that never prints it: "If [...] year-suffix [is]
    not rendered [...] it is appended to the first rendered date" (CSL 1.0.2,
    Disambiguation), "3.14.23a", the access date of an item without one issued.
    ``render`` renders the item's data given: rendered with the digits of every
    date's year changed, it first differs from ``text`` at the first year rendered;
    no date rendered, no suffix."""
    suffix = item.get("year-suffix")
    if not suffix:
        return text
    other = render(_shifted_years(item))
    start = len(os.path.commonprefix([text, other]))
    if start == len(text) or not text[start].isdigit():
        return text
    end = start
    while end < len(text) and text[end].isdigit():
        end += 1
    return text[:end] + str(suffix) + text[end:]


_SHIFT = str.maketrans("0123456789", "5678901234")


def _shifted_years(item: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``item`` whose dates' years have every digit changed (2023: 7578)."""
    changed = dict(item)
    for variable in DATE_VARIABLES:
        value = item.get(variable)
        if isinstance(value, dict) and isinstance(value.get("date-parts"), list):
            changed[variable] = {**value, "date-parts": [
                [_shifted(part[0]), *part[1:]] if part else part
                for part in value["date-parts"]]}
    return changed


def _shifted(year: Any) -> Any:
    try:
        number = int(year)
    except (TypeError, ValueError):
        return year
    shifted = int(str(abs(number)).translate(_SHIFT))
    return -shifted if number < 0 else shifted


def _substitute_names(author: str, substitute: str, rule: str) -> str:
    if rule == "complete-each":
        count = len(re.findall(r",|&| and ", author)) + 1
        return ", ".join([substitute] * count) if count > 1 else substitute
    return substitute


def _persons(item: dict[str, Any]) -> list[tuple[int, str, str]]:
    """(place in the list, family, given) of each person of the item's first name
    variable: its names with a family name; "J.J." and "J. J." are one given name."""
    for variable in _NAME_VARIABLES:
        names = item.get(variable)
        if names:
            return [(n, " ".join(filter(None, (name.get("non-dropping-particle"),
                                               name["family"]))),
                     " ".join(w for w in re.split(r"[\s.]+", str(name.get("given", ""))) if w))
                    for n, name in enumerate(names) if name.get("family")]
    return []


def _first_name(item: dict[str, Any]) -> tuple[tuple[str, str], ...] | None:
    """The first name of the item's first name variable, as comparable data."""
    for variable in _NAME_VARIABLES:
        names = item.get(variable)
        if names and isinstance(names[0], dict):
            return tuple(sorted((k, str(v)) for k, v in names[0].items() if v))
    return None


def _person_at(item: dict[str, Any], index: int) -> tuple[str, str] | None:
    """(family, given) of the name at ``index`` of the item's first name variable."""
    for place, family, given in _persons(item):
        if place == index:
            return family, given
    return None


def _initials(given: str) -> str:
    """The initials of a given name: "John A." and "J. A." give "JA", "Jane" "J"."""
    return "".join(word[0].upper() for word in re.split(r"[\s.\-]+", given) if word)


def _name_count(item: dict[str, Any]) -> int:
    for variable in _NAME_VARIABLES:
        if item.get(variable):
            return len(item[variable])
    return 0


def _year(item: dict[str, Any]) -> str | None:
    issued = item.get("issued")
    parts = issued.get("date-parts") if isinstance(issued, dict) else None
    return str(parts[0][0]) if parts and parts[0] else None


_EDGES = re.compile(r"\W*(.*?)\W*", re.DOTALL)


def _bare(text: str) -> str:
    """``text`` without the non-word characters around it: it fullmatches
    ``\\W*N\\W*`` exactly when this is N (N being digits, word characters)."""
    return _EDGES.fullmatch(text).group(1)  # type: ignore[union-attr]


def _letters(n: int) -> str:
    """a, b, ..., z, aa, ab, ... (CSL 'year-suffix')."""
    letters = string.ascii_lowercase
    return letters[n] if n < 26 else _letters(n // 26 - 1) + letters[n % 26]


def _name_key(item: dict[str, Any]) -> str | None:
    """The first name of the names _mark_author marks (its family name, else its
    literal or given name), case and Unicode form folded; None without names.

    Every name form but "count" prints the first name's family name (or literal),
    only ever changed in case; so two cites whose keys differ cannot print the same
    author, and need not be rendered again to find it out."""
    for variable in _NAME_VARIABLES:
        names = item.get(variable)
        if names:
            first = names[0] if isinstance(names[0], dict) else {}
            text = first.get("family") or first.get("literal") or first.get("given") or ""
            return unicodedata.normalize("NFC", str(text)).casefold()
    return None


def _mark_author(item: dict[str, Any], first_only: bool = False) -> None:
    for variable in _NAME_VARIABLES:
        if item.get(variable):
            rest = list(item[variable][1:]) if first_only else []
            item[variable] = [{"literal": markup.AUTHOR_MARK}, *rest]
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
    """The cite without its author, the formatting around only the author (DIN's small
    caps span) and the delimiter after it: names not rendered leave nothing (CSL 1.0.2,
    "Cite Collapsing", suppress-author)."""
    while True:
        unwrapped = _WRAPPED_MARK.sub(markup.AUTHOR_MARK + r"\2", marked)
        if unwrapped == marked:
            break
        marked = unwrapped
    dropped = re.sub(re.escape(markup.AUTHOR_MARK) + r"[\ue000-\ue4ff]*[,.:;]?\s*", "", marked)
    return dropped


# A formatting tag around nothing but the author marker (and other markers).
_WRAPPED_MARK = re.compile(r"<(\w+)\b[^>]*>" + re.escape(markup.AUTHOR_MARK)
                           + r"([\ue000-\ue4ff]*)</\1>")


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

