"""BibLaTeX field inheritance: ``crossref`` and ``xdata``.

An entry inherits every field of the entries it names that it does not set
itself.  ``xdata`` copies fields unchanged.  ``crossref`` follows the table of
the biblatex manual (appendix B, "Default Crossref Setup"):

* an ``@mvbook`` (``@mvcollection``, ``@mvreference``, ``@mvproceedings``)
  gives its ``title``, ``subtitle`` and ``titleaddon`` as ``maintitle``,
  ``mainsubtitle``, ``maintitleaddon`` to the books, collections and
  proceedings in it and to their parts;
* a ``@book`` (``@collection``, ``@reference``, ``@proceedings``) gives them
  as ``booktitle``, ``booksubtitle``, ``booktitleaddon`` to an ``@inbook``,
  ``@bookinbook``, ``@suppbook`` (``@incollection``, ``@inreference``,
  ``@suppcollection``, ``@inproceedings``);
* a ``@periodical`` gives them as ``journaltitle`` and ``journalsubtitle`` to
  an ``@article`` or ``@suppperiodical``;
* the author of an ``@mvbook`` or ``@book`` is also the ``bookauthor`` of the
  parts (and, as pandoc does, of a ``@book`` in an ``@mvbook``);
* ``shorttitle``, ``sorttitle``, ``indextitle``, ``indexsorttitle`` are not
  inherited by those parts, and no entry inherits the fields that belong to one
  entry (``ids``, ``crossref``, ``xref``, ``entryset``, ``entrysubtype``,
  ``execute``, ``label``, ``options``, ``presort``, ``related*``,
  ``shorthand``, ``shorthandintro``, ``sortkey``).

A parent's own ``crossref`` is resolved first, so a chapter of a book of a
multi-volume book gets the multi-volume title as its ``maintitle``.  A key that
names no entry, or a cycle, is skipped.
"""
from __future__ import annotations

from collections.abc import Mapping

Fields = dict[str, str]

_NEVER = {"ids", "crossref", "xref", "xdata", "entryset", "entrysubtype", "execute",
          "label", "options", "presort", "related", "relatedoptions", "relatedstring",
          "relatedtype", "shorthand", "shorthandintro", "sortkey"}
_UNSHARED_TITLES = {"shorttitle", "sorttitle", "indextitle", "indexsorttitle"}
_MAIN = {"title": "maintitle", "subtitle": "mainsubtitle", "titleaddon": "maintitleaddon"}
_BOOK = {"title": "booktitle", "subtitle": "booksubtitle", "titleaddon": "booktitleaddon"}
_JOURNAL = {"title": "journaltitle", "subtitle": "journalsubtitle"}

_BOOK_PARTS = {"inbook", "bookinbook", "suppbook"}
_COLLECTION_PARTS = {"incollection", "inreference", "suppcollection"}
# (parent types, child types, renames of the title fields)
_RULES: list[tuple[set[str], set[str], dict[str, str]]] = [
    ({"mvbook"}, {"book"} | _BOOK_PARTS, _MAIN),
    ({"mvcollection", "mvreference"}, {"collection", "reference"} | _COLLECTION_PARTS, _MAIN),
    ({"mvproceedings"}, {"proceedings", "inproceedings"}, _MAIN),
    ({"book"}, _BOOK_PARTS, _BOOK),
    ({"collection", "reference"}, _COLLECTION_PARTS, _BOOK),
    ({"proceedings"}, {"inproceedings"}, _BOOK),
    ({"periodical"}, {"article", "suppperiodical"}, _JOURNAL),
]


def split_keys(value: str) -> list[str]:
    """The keys of a ``crossref``/``xdata`` value: separated by commas or spaces."""
    return [key for key in value.replace(",", " ").split() if key]


def inherit(entries: Mapping[str, tuple[str, Fields]]) -> dict[str, Fields]:
    """The fields of every entry (by lower-case key) after inheritance."""
    done: dict[str, Fields] = {}
    for key in entries:
        _resolve(key, entries, done, set())
    return done


def _resolve(key: str, entries: Mapping[str, tuple[str, Fields]],
             done: dict[str, Fields], active: set[str]) -> Fields:
    if key in done:
        return done[key]
    entry_type, own = entries[key]
    fields = dict(own)
    active.add(key)
    for field, mapped in (("xdata", False), ("crossref", True)):
        for parent_key in split_keys(own.get(field, "")):
            parent_key = parent_key.lower()
            if parent_key not in entries or parent_key in active:
                continue
            parent_type = entries[parent_key][0]
            parent = _resolve(parent_key, entries, done, active)
            for name, value in _inherited(parent, parent_type, entry_type, mapped):
                fields.setdefault(name, value)
    active.discard(key)
    done[key] = fields
    return fields


def _inherited(parent: Fields, parent_type: str, child_type: str,
               mapped: bool) -> list[tuple[str, str]]:
    """The (name, value) pairs a child of ``child_type`` takes from ``parent``."""
    if not mapped:
        return [(name, value) for name, value in parent.items() if name not in _NEVER]
    renames = next((renames for parents, children, renames in _RULES
                    if parent_type in parents and child_type in children), None)
    out: list[tuple[str, str]] = []
    for name, value in parent.items():
        if name in _NEVER or (renames is not None and name in _UNSHARED_TITLES):
            continue
        if name == "author" and _gives_bookauthor(parent_type, child_type):
            out.append(("bookauthor", value))
        out.append((renames.get(name, name) if renames else name, value))
    return out


def _gives_bookauthor(parent_type: str, child_type: str) -> bool:
    return parent_type in ("mvbook", "book") and (
        child_type in _BOOK_PARTS or (parent_type == "mvbook" and child_type == "book"))
