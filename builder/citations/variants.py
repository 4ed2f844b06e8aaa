"""Variants of a style for disambiguation and subsequent cites (CSL 1.0.2).

citeproc-py renders names with the options the style gives.  Disambiguation
needs the same style with more names shown (``disambiguate-add-names``), with
given names expanded (``disambiguate-add-givenname``), and subsequent cites
need ``et-al-subsequent-min``/``-use-first``.  Each variant is the style's XML
with those options changed; the engine renders a cite with the variant it needs.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, replace

from lxml import etree

CSL = "{http://purl.org/net/xbiblio/csl}"
ALL_NAMES = 10_000


@dataclass(frozen=True)
class Variant:
    names: int | None = None  # et-al-use-first to force, None = as the style says
    # for each name of the cite, by its place in the list: 0 as the style says,
    # 1 initials (long form), 2 full given names; names after the last: 0
    givenname: tuple[int, ...] = ()
    subsequent: bool = False  # use et-al-subsequent-min/use-first

    @property
    def is_base(self) -> bool:
        return self.names is None and not any(self.givenname) and not self.subsequent

    def with_given(self, index: int, level: int) -> Variant:
        """This variant with the name at ``index`` expanded to ``level``."""
        levels = list(self.givenname) + [0] * (index + 1 - len(self.givenname))
        levels[index] = level
        while levels and not levels[-1]:
            levels.pop()
        return replace(self, givenname=tuple(levels))

    def given_level(self, index: int) -> int:
        return self.givenname[index] if index < len(self.givenname) else 0


def has_subsequent_et_al(root: etree._Element) -> bool:
    citation = root.find(f"{CSL}citation")
    return citation is not None and any(
        citation.get(a) for a in ("et-al-subsequent-min", "et-al-subsequent-use-first"))


def base_names_shown(root: etree._Element, count: int, subsequent: bool = False) -> int:
    """How many names a citation shows for an item with ``count`` names (``subsequent``:
    in its later cites, et-al-subsequent-min/use-first applied)."""
    citation = root.find(f"{CSL}citation")
    name = root.find(f".//{CSL}citation//{CSL}name")
    options = dict(citation.attrib) if citation is not None else {}
    for option in ("min", "use-first") if subsequent else ():
        if options.get(f"et-al-subsequent-{option}"):
            options[f"et-al-{option}"] = options[f"et-al-subsequent-{option}"]
    if name is not None:
        options.update({k: v for k, v in name.attrib.items() if k.startswith("et-al")})
    try:
        minimum, first = int(options["et-al-min"]), int(options["et-al-use-first"])
    except (KeyError, ValueError):
        return count
    return min(first, count) if count >= minimum else count


def make_variant(tree: etree._ElementTree, variant: Variant) -> bytes:
    """The style's XML with the variant's name options."""
    root = copy.deepcopy(tree.getroot())
    citation = root.find(f"{CSL}citation")
    if citation is None:
        return etree.tostring(root, encoding="utf-8")
    if variant.subsequent:
        for option in ("min", "use-first"):
            value = citation.get(f"et-al-subsequent-{option}")
            if value:
                citation.set(f"et-al-{option}", value)
    if variant.names is not None:
        _force_names(root, citation, variant.names)
    if any(variant.givenname):
        _expand_given_names(root, variant.givenname)
    return etree.tostring(root, encoding="utf-8")


def _force_names(root: etree._Element, citation: etree._Element, names: int) -> None:
    """Show ``names`` names before "et al." (ALL_NAMES: every name, no "et al.")."""
    for element in [citation, *root.iter(f"{CSL}name")]:
        if element is not citation and element.get("et-al-use-first") is None:
            continue
        element.set("et-al-use-first", str(names))
        if names >= ALL_NAMES:
            element.set("et-al-min", str(ALL_NAMES))


# The attribute of cs:name a variant gives the levels in (read by elements.Name).
GIVENNAME_ATTRIBUTE = "builder-givenname"


def _expand_given_names(root: etree._Element, levels: tuple[int, ...]) -> None:
    """Each name of a cite shown with its given name at its level: CSL 1.0.2,
    disambiguate-add-givenname expands names one by one, not the whole list."""
    value = " ".join(str(level) for level in levels)
    for name in root.iter(f"{CSL}name"):
        name.set(GIVENNAME_ATTRIBUTE, value)
