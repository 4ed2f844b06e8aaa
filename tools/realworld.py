"""Build the real-world theses with us and with pandoc; compare entries and citations.

The inputs are two Pandoc theses kept next to the repository, in
``../shared/realworld`` (see its PROVENANCE.md), never copied into it:

* ``altpeter_thesis``: a Zotero CSL-JSON bibliography (174 items) in its own CSL style;
* ``phd_thesis_markdown``: a BibTeX bibliography in a Harvard style.

For each, :func:`make_project` lays a builder project out in a temporary folder:
``book/`` holds the chapters in their order and ``book/book.yml`` the thesis's
metadata (the keys we know; the others, pandoc template and pandoc-crossref
variables, are left out and listed), ``bibliography/`` the bibliography and
``styles/`` the CSL style, named by ``csl:``.  Images were not fetched: each image
the Markdown names gets a small placeholder (a PNG, an SVG or a one-page PDF, as
its name says).  ``builder build`` makes the HTML (``--all`` all three formats),
and pandoc (``--citeproc``, the binary of pypandoc-binary) converts the same
chapters to HTML with the same bibliography and style.

Both HTML documents are compared as tools/pandoc_compare.py compares them, after
the same normalisation (:func:`pandoc_compare.markup_of`): each bibliography entry
(``div.csl-entry`` by id) and each citation (``span.citation`` in reading order;
in a note style the note it calls).  pandoc has no pandoc-crossref here, so its
``@fig:x``/``@sec:x`` cross-references are citations of unknown keys: they are
left out on both sides.

    .venv/bin/python tools/realworld.py                  # numbers and every difference
    .venv/bin/python tools/realworld.py --all            # ... building PDF and EPUB too
    .venv/bin/python tools/realworld.py --write docs/realworld.md
    .venv/bin/python tools/realworld.py --json /tmp/rw.json

The bibliography entries are also compared with citeproc-js, the CSL reference
implementation (tools/citeproc_js/render.js, as tools/citeproc_js_compare.py runs it;
left out where node or citeproc-js is missing): the thesis's items (a BibTeX file read
by our reader, which is not what this measures) and its style, one cluster per
citation of our page in reading order (the keys it cites), so the entries are numbered
and sorted as in the book; each entry, stripped of citeproc-js's ``csl-entry`` and
``csl-left-margin`` divs, is compared after the same normalisation.

``--write`` fills the ``<!-- realworld -->`` block of the file.  Each difference is
looked up in tests/data/realworld_reviewed.json (key, ours, pandoc's or citeproc-js's
text under the name of the other side, classification, reason); one not there is
printed as "not reviewed".
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml
from lxml import html as lxml_html

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parent
for _path in (ROOT, TOOLS):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from builder.sources import METADATA_KEYS  # noqa: E402
from docblock import replace_block  # noqa: E402
from pandoc_compare import (  # noqa: E402
    _inner_html,
    _remove,
    markup_of,
    pandoc_path,
    text_of,
)

REALWORLD = ROOT.parent / "shared" / "realworld"
REVIEWED = ROOT / "tests" / "data" / "realworld_reviewed.json"
CROSSREF = re.compile(r"^(fig|tbl|sec|eq|lst):", re.I)
# pandoc-crossref's keys (and ``chapters: true``, which is its option, not our list).
_NOT_OURS = {"chapters"}


@dataclass(frozen=True)
class Thesis:
    name: str
    chapters: tuple[Path, ...]       # the Markdown files, in reading order
    metadata: Path                   # a YAML file or a Markdown file's front matter
    bibliography: Path
    csl: Path
    images_from: str                 # where pandoc resolved the images: "chapter" or "root"


def theses(base: Path = REALWORLD) -> list[Thesis]:
    alt = base / "altpeter_thesis"
    phd = base / "phd_thesis_markdown"
    return [
        Thesis("altpeter_thesis",
               tuple(p for p in sorted((alt / "thesis").glob("*.md")) if p.name != "000_meta.md"),
               alt / "thesis" / "000_meta.md", alt / "thesis" / "bibliography.json",
               alt / "citations.csl", "chapter"),
        Thesis("phd_thesis_markdown", tuple(sorted((phd / "source").glob("*.md"))),
               phd / "source" / "metadata.yml", phd / "source" / "references.bib",
               phd / "ref_format.csl", "root"),
    ]


# -- the project -------------------------------------------------------------------
def read_metadata(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".md":
        match = re.match(r"\A---\n(.*?\n)(?:---|\.\.\.)\n", text, re.S)
        text = match.group(1) if match else ""
    documents = [d for d in yaml.safe_load_all(text) if d]   # metadata.yml is fenced by ---
    return dict(documents[0]) if documents else {}


@dataclass
class Project:
    root: Path
    dropped_keys: list[str]
    placeholders: list[str]
    adaptations: dict[str, int]       # what was changed in the copies -> how many times


# What stops a thesis from building with us though pandoc reads it; each is changed in
# the copies (never in ../shared) and counted.  See docs/realworld.md for the causes.
_ADAPTATIONS: list[tuple[str, re.Pattern[str], str]] = [
    # an operator of the thesis's LaTeX preamble.
    (r"\argmin (defined in the thesis's LaTeX preamble)", re.compile(r"\\argmin(?![A-Za-z])"),
     r"\\operatorname*{arg\\,min}"),
]


def adapt(texts: dict[str, str]) -> dict[str, int]:
    """Change the copies of the chapters so that we can build them (see _ADAPTATIONS),
    (the labels our build cannot find are then taken out by :func:`unresolved`)."""
    counts: dict[str, int] = {}
    for name, text in texts.items():
        for why, pattern, replacement in _ADAPTATIONS:
            while True:   # overlapping matches (two pairs in one list)
                text, n = pattern.subn(replacement, text)
                if not n:
                    break
                counts[why] = counts.get(why, 0) + n
        texts[name] = text
    return counts


def make_project(thesis: Thesis, root: Path) -> Project:
    book = root / "book"
    book.mkdir(parents=True)
    texts = {p.name: p.read_text(encoding="utf-8") for p in thesis.chapters}
    adapted = adapt(texts)
    for name, text in texts.items():
        (book / name).write_text(text, encoding="utf-8")
    (root / "bibliography").mkdir()
    shutil.copyfile(thesis.bibliography, root / "bibliography" / thesis.bibliography.name)
    (root / "styles").mkdir()
    shutil.copyfile(thesis.csl, root / "styles" / thesis.csl.name)
    found = read_metadata(thesis.metadata)
    meta = {k: v for k, v in found.items() if k in METADATA_KEYS and k not in _NOT_OURS
            and k != "bibliography"}
    meta["csl"] = thesis.csl.stem
    meta["chapters"] = [p.name for p in thesis.chapters]
    (book / "book.yml").write_text(yaml.safe_dump(meta, allow_unicode=True, sort_keys=False),
                                   encoding="utf-8")
    dropped = sorted(k for k in found if k not in meta and k != "bibliography")
    placeholders = [str(p.relative_to(root)) for p in _placeholders(thesis, root)]
    return Project(root, dropped, placeholders, adapted)


_IMAGE = re.compile(r"!\[(?:[^\]\\]|\\.|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?[^)]*\)"
                    r"|<img[^>]*\bsrc=[\"']([^\"']+)[\"']", re.S)


def image_paths(text: str) -> list[str]:
    """The local images a Markdown text names (HTML comments left out)."""
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    names = [a or b for a, b in _IMAGE.findall(text)]
    return [n for n in names if not re.match(r"[a-z]+:", n)]


_UNRESOLVED = re.compile(r"^(\S+?):\d+:\d+: error: (?:cross-reference|citation key) "
                         r"'@((?:fig|tbl|sec|eq|lst):[^']+)'", re.M | re.I)


_LATEX_ONLY = re.compile(r"warning: cross-reference '@([^']+)' names a label only raw LaTeX")


def latex_only(stderr: str) -> list[str]:
    """The labels our build warns are defined only in raw LaTeX (written ¿label?)."""
    return sorted(set(_LATEX_ONLY.findall(stderr)))


def unresolved(stderr: str, book: Path) -> list[str]:
    """Turn each cross-reference our build reports as naming nothing (a label only raw
    LaTeX defines) into the text pandoc-crossref gives for it, in the copies; the labels."""
    labels = sorted({m.group(2) for m in _UNRESOLVED.finditer(stderr)})
    for path in book.glob("*.md"):
        text = path.read_text(encoding="utf-8")
        for label in labels:
            text = re.sub(rf"\[?@{re.escape(label)}(?![\w:-])\]?", f"¿{label}?", text)
        path.write_text(text, encoding="utf-8")
    return labels


def _placeholders(thesis: Thesis, root: Path) -> list[Path]:
    """A placeholder for each image the chapters name, where our build looks for it
    (beside the chapter) and where pandoc does (``root``: the repository's root,
    pandoc's working folder in the thesis's Makefile)."""
    made = []
    for source in thesis.chapters:
        for name in image_paths(source.read_text(encoding="utf-8")):
            target = (root / "book" / name).resolve()
            if root.resolve() not in target.parents or target.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(placeholder(target.suffix))
            made.append(target)
    return made


def placeholder(suffix: str) -> bytes:
    """A small valid image of the type its file name says."""
    suffix = suffix.lower()
    if suffix == ".svg":
        return (b'<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30">'
                b'<rect width="40" height="30" fill="#ccc"/></svg>\n')
    if suffix == ".pdf":
        return _pdf()
    import io

    from PIL import Image
    out = io.BytesIO()
    kind = {".jpg": "JPEG", ".jpeg": "JPEG", ".gif": "GIF", ".webp": "WEBP"}.get(suffix, "PNG")
    Image.new("RGB", (40, 30), (204, 204, 204)).save(out, kind)
    return out.getvalue()


def _pdf() -> bytes:
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 40 30] >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


# -- the two builds ----------------------------------------------------------------
@dataclass
class Build:
    returncode: int
    stderr: str
    html: str = ""
    seconds: float = 0.0


def build_ours(project: Path, formats: str = "html") -> Build:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "builder", "build", str(project), "--to", formats,
         "--out", str(project / "dist"), "--no-cache"],
        capture_output=True, text=True, timeout=900, cwd=ROOT)
    html = ""
    pages = sorted((project / "dist").glob("*.html"))
    if result.returncode == 0 and pages:
        html = pages[0].read_text(encoding="utf-8")
    return Build(result.returncode, result.stderr, html, time.perf_counter() - start)


def build_pandoc(thesis: Thesis, work: Path) -> Build:
    """pandoc on the thesis's own files, as its Makefile runs it (citeproc, the style,
    the bibliography), to HTML; link-citations off."""
    start = time.perf_counter()
    metadata = ([str(thesis.metadata)] if thesis.metadata.suffix == ".md"
                else [f"--metadata-file={thesis.metadata}"])
    result = subprocess.run(
        [pandoc_path(), "--citeproc", f"--csl={thesis.csl}",
         f"--bibliography={thesis.bibliography}", "-f", "markdown", "-t", "html",
         "--wrap=none", "-M", "link-citations=false", *metadata,
         *map(str, thesis.chapters)],
        capture_output=True, text=True, timeout=300, cwd=work)
    return Build(result.returncode, result.stderr, result.stdout, time.perf_counter() - start)


# -- reading the HTML --------------------------------------------------------------
@dataclass
class Parsed:
    citations: list[tuple[str, str]]   # (the keys cited, the HTML) in reading order
    entries: dict[str, str]            # item id -> the entry's HTML


def parse_html(text: str) -> Parsed:
    """Citations (a note style's: the notes they call) and entries of an HTML page,
    ours or pandoc's; cross-references (``@fig:x``) left out."""
    root = lxml_html.document_fromstring(text) if text.lstrip().startswith(("<!", "<html")) \
        else lxml_html.fragment_fromstring(text, create_parent="div")
    notes = {}
    for li in root.xpath('//*[contains(concat(" ", @class, " "), " footnotes ")]//li[@id]'):
        for back in li.xpath('.//a[contains(@class, "footnote-back")]'):
            _remove(back)
        inner = li[0] if len(li) == 1 and li[0].tag == "p" else li
        notes[li.get("id")] = _inner_html(inner)
    citations = []
    for span in root.xpath('//span[contains(concat(" ", @class, " "), " citation ")]'):
        if span.xpath('ancestor::*[contains(concat(" ", @class, " "), " footnotes ")]'):
            continue
        keys = (span.get("data-cites") or "").split()
        if keys and all(CROSSREF.match(k) for k in keys):
            continue
        ref = span.xpath('.//a[contains(@class, "footnote-ref")]/@href')
        if ref and ref[0].lstrip("#") in notes:
            citations.append((" ".join(keys), notes[ref[0].lstrip("#")]))
        else:
            citations.append((" ".join(keys), _inner_html(span)))
    entries: dict[str, str] = {}
    for div in root.xpath('//div[contains(concat(" ", @class, " "), " csl-entry ")]'):
        entries[(div.get("id") or "").removeprefix("ref-")] = _inner_html(div)
    return Parsed(citations, entries)


# -- citeproc-js -------------------------------------------------------------------
def citeproc_js_missing() -> str | None:
    """Why citeproc-js cannot run here, or None."""
    from citeproc_js_compare import missing
    return missing()


def citeproc_js_items(thesis: Thesis) -> list[dict[str, Any]]:
    """The thesis's items as CSL-JSON (a BibTeX file through our reader)."""
    if thesis.bibliography.suffix == ".json":
        items: list[dict[str, Any]] = json.loads(
            thesis.bibliography.read_text(encoding="utf-8"))
        return items
    from builder.citations.references import read_file
    return [dict(r.csl, id=r.key) for r in read_file(thesis.bibliography)]


def cited_in_order(text: str) -> list[list[str]]:
    """The keys of each citation of an HTML page in reading order, a footnote's
    citations where its reference mark is (cross-references left out)."""
    root = lxml_html.document_fromstring(text)
    notes: dict[str, list[list[str]]] = {}
    for li in root.xpath('//*[contains(concat(" ", @class, " "), " footnotes ")]//li[@id]'):
        notes[li.get("id")] = [_keys(span) for span in li.xpath(_CITATION)]
    clusters: list[list[str]] = []
    for node in root.xpath(f'{_CITATION} | //a[contains(@class, "footnote-ref")]'):
        if node.xpath('ancestor::*[contains(concat(" ", @class, " "), " footnotes ")]'):
            continue
        if node.tag == "a":
            clusters += notes.get((node.get("href") or "").lstrip("#"), [])
        else:
            clusters.append(_keys(node))
    return [keys for keys in clusters if keys]


_CITATION = './/span[contains(concat(" ", @class, " "), " citation ")]'


def _keys(span: Any) -> list[str]:
    return [k for k in (span.get("data-cites") or "").split() if not CROSSREF.match(k)]


def render_citeproc_js(thesis: Thesis, page: str) -> dict[str, str]:
    """citeproc-js's bibliography of the thesis: item id -> the entry's HTML, its
    clusters the keys of our page's citations in reading order."""
    from citeproc_js_compare import job, run_citeproc_js
    items = citeproc_js_items(thesis)
    known = {str(item["id"]) for item in items}
    clusters = [[{"id": key} for key in keys if key in known]
                for keys in cited_in_order(page)]
    clusters = [c for c in clusters if c]
    style = thesis.csl.read_text(encoding="utf-8")
    done = run_citeproc_js([job(thesis.name, style, items, clusters, [0] * len(clusters))])[0]
    if done["error"]:
        raise RuntimeError(f"citeproc-js failed on {thesis.name}: {done['error'][:500]}")
    return {key: _citeproc_js_entry(entry) for key, entry in done["bibliography"] or []}


_CJS_ENTRY = re.compile(r'^\s*<div class="csl-entry"[^>]*>(.*)</div>\s*$', re.S)
_CJS_FIELD = re.compile(r'<div class="csl-(?:left-margin|right-inline|block|indent)">(.*?)'
                        r'</div>', re.S)


def _citeproc_js_entry(entry: str) -> str:
    """An entry's content: its ``csl-entry`` div taken off, the display divs as their
    content and a space (pandoc's and ours are compared the same way)."""
    match = _CJS_ENTRY.match(entry)
    return _CJS_FIELD.sub(r"\1 ", match.group(1) if match else entry)


# -- comparing ---------------------------------------------------------------------
@dataclass
class Difference:
    kind: str           # "entry" or "citation"
    key: str            # the entry's id, or "#n keys" for the n-th citation
    ours: str
    pandoc: str         # the other side's text: pandoc's, or citeproc-js's
    level: str          # "text" (the words differ) or "markup" (only the formatting)
    review: dict[str, str] | None = None
    against: str = "pandoc"   # or "citeproc-js"


@dataclass
class Result:
    name: str
    built: bool
    build_error: str = ""
    formats: dict[str, str] = field(default_factory=dict)   # format -> "ok" or the error
    entries: int = 0
    entries_same: int = 0
    citations: int = 0
    citations_same: int = 0
    differences: list[Difference] = field(default_factory=list)
    dropped_keys: list[str] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)
    adaptations: dict[str, int] = field(default_factory=dict)
    unresolved: list[str] = field(default_factory=list)
    latex_only: list[str] = field(default_factory=list)
    pandoc_warnings: list[str] = field(default_factory=list)
    citeproc_js: str = ""          # "compared", or why not
    cjs_entries: int = 0
    cjs_entries_same: int = 0
    cjs_differences: list[Difference] = field(default_factory=list)

    @property
    def entries_same_either(self) -> int:
        """Entries identical to pandoc's or to citeproc-js's (when it was compared)."""
        both = ({d.key for d in self.differences if d.kind == "entry"}
                & {d.key for d in self.cjs_differences})
        return self.entries - len(both) if self.citeproc_js == "compared" else 0

    @property
    def unreviewed(self) -> list[Difference]:
        return [d for d in [*self.differences, *self.cjs_differences] if d.review is None]


def compare(ours: Parsed, pandoc: Parsed, result: Result,
            reviewed: Sequence[dict[str, str]] = ()) -> None:
    keys = list(dict.fromkeys([*pandoc.entries, *ours.entries]))
    result.entries = len(keys)
    for key in keys:
        _compare_one(result, "entry", key, ours.entries.get(key, ""),
                     pandoc.entries.get(key, ""), reviewed)
    result.entries_same = result.entries - sum(d.kind == "entry" for d in result.differences)
    result.citations = max(len(ours.citations), len(pandoc.citations))
    for n in range(result.citations):
        our = ours.citations[n] if n < len(ours.citations) else ("", "")
        their = pandoc.citations[n] if n < len(pandoc.citations) else ("", "")
        _compare_one(result, "citation", f"#{n + 1} {their[0] or our[0]}", our[1], their[1],
                     reviewed)
    result.citations_same = result.citations - sum(
        d.kind == "citation" for d in result.differences)


def compare_citeproc_js(ours: Parsed, theirs: dict[str, str], result: Result,
                        reviewed: Sequence[dict[str, str]] = ()) -> None:
    """Our entries against citeproc-js's, by id."""
    keys = list(dict.fromkeys([*theirs, *ours.entries]))
    result.cjs_entries = len(keys)
    for key in keys:
        difference = _difference(result.name, "entry", key, ours.entries.get(key, ""),
                                 theirs.get(key, ""), reviewed, "citeproc-js")
        if difference:
            result.cjs_differences.append(difference)
    result.cjs_entries_same = result.cjs_entries - len(result.cjs_differences)
    result.citeproc_js = "compared"


@dataclass(frozen=True)
class Rule:
    """A reviewed difference that recurs: every entry whose texts it explains."""
    against: str                           # "pandoc" or "citeproc-js"
    classification: str
    reason: str
    explains: Callable[[str, str], bool]   # (ours, theirs), both normal forms


def _merged_spaced_periods(ours: str, theirs: str) -> bool:
    """The other side's text is ours with a period, a space and a second period where
    two suffixes meet ("2022. . https", "Platform.” . https")."""
    return re.sub(r"(\.[”’]*) \. ", r"\1 ", theirs) == ours


RULES = [
    Rule("citeproc-js", "we choose otherwise",
         "two periods a space apart where one group's suffix \". \" meets the next one's "
         "(the group of the entry's type inside the entry's group, both suffix=\". \": "
         "\"2022. . https\"): we merge them into one, as pandoc does "
         "(builder/citations/quotes.py, _merge_punctuation); citeproc-js keeps both, as "
         "the CSL suite does (bugreports_NoTitle \"(n.d.). .\", which jgm/citeproc "
         "overrides with one); CSL 1.0.2 has no rule for it",
         _merged_spaced_periods),
]


def _compare_one(result: Result, kind: str, key: str, ours: str, pandoc: str,
                 reviewed: Sequence[dict[str, str]]) -> None:
    difference = _difference(result.name, kind, key, ours, pandoc, reviewed, "pandoc")
    if difference:
        result.differences.append(difference)


def _difference(document: str, kind: str, key: str, ours: str, theirs: str,
                reviewed: Sequence[dict[str, str]], against: str) -> Difference | None:
    """How our HTML differs from the other side's (``against``), or None; with its
    review, a record naming the document, kind, key and both texts."""
    ours_markup, theirs_markup = markup_of(ours), markup_of(theirs)
    if ours_markup == theirs_markup:
        return None
    level = "markup" if text_of(ours) == text_of(theirs) else "text"
    bare_key = key.split(" ", 1)[1] if kind == "citation" else key
    review = next((r for r in reviewed if r["document"] == document and r["kind"] == kind
                   and r["key"] == bare_key and r["ours"] == ours_markup
                   and r.get(against) == theirs_markup), None)
    rule = next((r for r in RULES if r.against == against
                 and r.explains(ours_markup, theirs_markup)), None)
    if review is None and rule:
        review = {"classification": rule.classification, "reason": rule.reason,
                  "rule": str(RULES.index(rule))}
    return Difference(kind, key, ours_markup, theirs_markup, level, review, against)


def load_reviewed(path: Path = REVIEWED) -> list[dict[str, str]]:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []


def run_thesis(thesis: Thesis, formats: str = "html",
               reviewed: Sequence[dict[str, str]] = ()) -> Result:
    result = Result(thesis.name, built=False)
    with tempfile.TemporaryDirectory(prefix=f"realworld-{thesis.name}-") as tmp:
        project = make_project(thesis, Path(tmp) / "project")
        result.dropped_keys, result.placeholders = project.dropped_keys, project.placeholders
        result.adaptations = project.adaptations
        pandoc_work = Path(tmp) / "pandoc"
        pandoc_work.mkdir()
        if thesis.images_from == "root":
            shutil.copytree(project.root / "book" / "source", pandoc_work / "source",
                            dirs_exist_ok=True) if (project.root / "book" / "source").exists() \
                else None
        ours = build_ours(project.root, "html")
        for _ in range(2):   # a label taken out may show the next error
            labels = unresolved(ours.stderr, project.root / "book") if ours.returncode else []
            if not labels:
                break
            result.unresolved += labels
            ours = build_ours(project.root, "html")
        result.formats["html"] = _outcome(ours)
        result.latex_only = latex_only(ours.stderr)
        for kind in [f for f in formats.split(",") if f != "html"]:
            result.formats[kind] = _outcome(build_ours(project.root, kind))
        pandoc = build_pandoc(thesis, pandoc_work)
    result.pandoc_warnings = [line for line in pandoc.stderr.splitlines() if line.strip()]
    if ours.returncode != 0:
        result.build_error = ours.stderr.strip()
        return result
    if pandoc.returncode != 0:
        result.build_error = "pandoc failed: " + pandoc.stderr.strip()
        return result
    result.built = True
    parsed = parse_html(ours.html)
    compare(parsed, parse_html(pandoc.html), result, reviewed)
    result.citeproc_js = citeproc_js_missing() or ""
    if not result.citeproc_js:
        compare_citeproc_js(parsed, render_citeproc_js(thesis, ours.html), result, reviewed)
    return result


def _outcome(build: Build) -> str:
    if build.returncode == 0 and "Traceback" not in build.stderr:
        return "ok"
    return f"exit {build.returncode}: " + (build.stderr.strip().splitlines() or ["?"])[-1]


# -- the report --------------------------------------------------------------------
def percent(n: int, total: int) -> str:
    return f"{100 * n / total:.1f} %" if total else "-"


def table(results: Sequence[Result]) -> str:
    lines = ["| document | builds (" + ", ".join(results[0].formats) + ") | entries identical "
             "to pandoc's | citations identical to pandoc's | entries identical to "
             "citeproc-js's | entries identical to either | differences reviewed |",
             "|---|---|---|---|---|---|---|"] if results else []
    for r in results:
        builds = ", ".join(r.formats.values())
        every = len(r.differences) + len(r.cjs_differences)
        cjs = (f"{r.cjs_entries_same} / {r.cjs_entries} "
               f"({percent(r.cjs_entries_same, r.cjs_entries)}) | {r.entries_same_either} / "
               f"{r.entries} ({percent(r.entries_same_either, r.entries)})"
               if r.citeproc_js == "compared"
               else f"not compared ({r.citeproc_js or '-'}) | -")
        lines.append(f"| {r.name} | {builds} | {r.entries_same} / {r.entries} "
                     f"({percent(r.entries_same, r.entries)}) | {r.citations_same} / "
                     f"{r.citations} ({percent(r.citations_same, r.citations)}) | {cjs} | "
                     f"{every - len(r.unreviewed)} / {every} |")
    return "\n".join(lines) + "\n"


def differences(results: Sequence[Result]) -> str:
    """Each difference with both texts; those a :data:`RULES` rule explains once per
    rule, with the first as the example and the keys of the others."""
    out = []
    for r in results:
        if not r.built:
            out.append(f"**{r.name}** did not build: `{r.build_error.splitlines()[-1]}`\n")
            continue
        by_rule: dict[str, list[Difference]] = {}
        for d in [*r.differences, *r.cjs_differences]:
            if d.review and "rule" in d.review:
                by_rule.setdefault(d.review["rule"], []).append(d)
                continue
            out.append(_difference_item(r.name, d))
        for group in by_rule.values():
            d = group[0]
            out.append(_difference_item(r.name, d, len(group)))
            out.append("  - all: " + ", ".join(f"`{g.key}`" for g in group) + "\n")
    return "".join(out)


def _difference_item(name: str, d: Difference, count: int = 1) -> str:
    verdict = (f"{d.review['classification']}: {d.review['reason']}" if d.review
               else "not reviewed")
    what = f"{count} entries, e.g. `{d.key}`" if count > 1 else f"{d.kind} `{d.key}`"
    return (f"- {name}, {what} against {d.against} ({d.level}; {verdict})\n"
            f"  - ours:   {d.ours}\n  - {d.against}: {d.pandoc}\n")


def report(results: Sequence[Result]) -> str:
    notes = []
    for r in results:
        if r.dropped_keys:
            notes.append(f"- {r.name}: metadata keys left out of book.yml (pandoc template "
                         f"or pandoc-crossref variables): {', '.join(r.dropped_keys)}\n")
        if r.placeholders:
            notes.append(f"- {r.name}: {len(r.placeholders)} placeholder images\n")
        if r.unresolved:
            notes.append(f"- {r.name}: {len(r.unresolved)} cross-references our build finds "
                         f"no label for, written as pandoc-crossref does (¿label?): "
                         f"{', '.join(r.unresolved)}\n")
        if r.latex_only:
            notes.append(f"- {r.name}: {len(r.latex_only)} cross-references to labels only "
                         f"raw LaTeX defines, written ¿label? as pandoc-crossref writes them "
                         f"(our warning): {', '.join(r.latex_only)}\n")
        for why, n in r.adaptations.items():
            notes.append(f"- {r.name}: changed in the copies: {why} ({n}×)\n")
    return (table(results) + "\n" + "".join(notes) + ("\n" if notes else "")
            + differences(results))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="also build the PDF and the EPUB")
    parser.add_argument("--write", type=Path, help="fill the realworld block of this file")
    parser.add_argument("--json", type=Path, help="write every result as JSON")
    parser.add_argument("-k", default="", help="only the theses whose name holds this")
    args = parser.parse_args(argv)
    if not REALWORLD.exists():
        print(f"{REALWORLD} is absent", file=sys.stderr)
        return 1
    reviewed = load_reviewed()
    formats = "html,epub,pdf" if args.all else "html"
    results = [run_thesis(t, formats, reviewed) for t in theses() if args.k in t.name]
    text = report(results)
    print(text, end="")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=1,
                                        ensure_ascii=False), encoding="utf-8")
    if args.write and not replace_block(args.write, "realworld", text):
        print(f"{args.write} has no <!-- realworld --> block", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
