"""The ``citation-label`` of an item that has none (CSL 1.0.2, Appendix IV: "may be
assigned by the CSL processor based on item metadata").

The label is made as citeproc-js makes it by default (its "trigraph"
``Aaaa00:AaAa00:AaAA00:AAAA00``), which is what the CSL test-suite expects:
letters of the family names of the first authors, then the last two digits of
the year issued: one author "Asth00", two "BrCh98", three "AsBC90", four or
more "DEFG26".
"""
from __future__ import annotations

from typing import Any

# letters taken from each family name, by the number of names
_LETTERS = {1: (4,), 2: (2, 2), 3: (2, 1, 1)}
_MOST = (1, 1, 1, 1)
_NAME_VARIABLES = ("author", "editor")


def citation_label(item: dict[str, Any]) -> str | None:
    """The item's label made from its names and year, or None when it has no names."""
    families = _families(item)
    if not families:
        return None
    counts = _LETTERS.get(len(families), _MOST)
    letters = "".join(family[:count] for family, count in zip(families, counts, strict=False))
    return letters + _year(item)


def _families(item: dict[str, Any]) -> list[str]:
    for variable in _NAME_VARIABLES:
        names = item.get(variable)
        if isinstance(names, list) and names:
            found = [_family(name) for name in names if isinstance(name, dict)]
            return [family for family in found if family]
    return []


def _family(name: dict[str, Any]) -> str:
    """The family name without its particles ("von Dipheria": "Dipheria")."""
    family = str(name.get("family") or name.get("literal") or "")
    words = family.split()
    while len(words) > 1 and words[0][:1].islower():
        words.pop(0)
    return "".join(character for character in " ".join(words) if character.isalnum())


def _year(item: dict[str, Any]) -> str:
    issued = item.get("issued")
    if isinstance(issued, dict):
        parts = issued.get("date-parts")
        if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
            year = str(parts[0][0])
            if year.lstrip("-").isdigit():
                return year.lstrip("-")[-2:].rjust(2, "0")
    return ""
