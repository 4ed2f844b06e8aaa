"""Our citations against citeproc-js, the CSL reference implementation, on our own corpus.

Usage (from the repository root, with the project's virtualenv)::

    python tools/citeproc_js_compare.py                  # per-style table, new differences
    python tools/citeproc_js_compare.py --style apa      # one style (repeatable)
    python tools/citeproc_js_compare.py --show           # every difference, ours vs theirs
    python tools/citeproc_js_compare.py --skeleton F     # unreviewed ones, as reviewed entries
    python tools/citeproc_js_compare.py --write docs/citeproc-js.md   # the generated block

The corpus is tests/data/citeproc_corpus/: ``items.json`` (CSL-JSON), ``clusters.json``
(the clusters of one document, in order) and ``styles.json`` (the styles, loaded with
``builder.citations.load_style``). Each style renders the whole document twice: through
our engine (``builder.citations.engine.Processor``) and through citeproc-js
(tools/citeproc_js/render.js under node, installed into .tools/citeproc-js by
``./dev.sh test``). In a note style cluster *n* is in footnote *n*; in an in-text style
every cluster has note index 0.

Clusters are compared one by one, bibliography entries by item id, and the order of the
entries once per style (key ``order``). Only meaningless differences are normalised,
see ``normalise``. ``reviewed.json`` holds the differences we have looked at, keyed
``style|cluster:ID``, ``style|entry:ID`` or ``style|order``, with both texts (normal
form), the classification (``ours wrong``, ``citeproc-js wrong``, ``we choose otherwise``)
and the reason with its CSL 1.0.2 rule. ``check`` finds what the test fails on: a
difference not reviewed, a reviewed one whose texts changed, and a stale one (gone).
"""
from __future__ import annotations

import argparse
import html
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "citeproc_corpus"
REVIEWED = CORPUS / "reviewed.json"
HARNESS = ROOT / "tools" / "citeproc_js" / "render.js"
INSTALL = ROOT / ".tools" / "citeproc-js"
CLASSES = ("ours wrong", "citeproc-js wrong", "we choose otherwise")
BLOCK = "citeproc-js"

Job = dict[str, Any]


# -- citeproc-js ------------------------------------------------------------------------
def citeproc_js_root() -> Path:
    return Path(os.environ.get("CITEPROC_JS") or INSTALL)


def missing() -> str | None:
    """Why citeproc-js cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed (citeproc-js runs under node)"
    if not (citeproc_js_root() / "node_modules" / "citeproc" / "package.json").is_file():
        return (f"citeproc-js is not installed in {citeproc_js_root()} "
                "(./dev.sh test installs it with npm)")
    return None


def version() -> str:
    package = citeproc_js_root() / "node_modules" / "citeproc" / "package.json"
    return str(json.loads(package.read_text(encoding="utf-8"))["version"])


def locales_dir() -> Path:
    import citeproc
    return Path(citeproc.__file__).parent / "data" / "locales"


def locales_for(style_xml: str, lang: str | None = None) -> dict[str, str]:
    """en-US and every locale of the style's language, from citeproc-py's data folder:
    both engines read the same locale files."""
    match = re.search(r'default-locale="([^"]+)"', style_xml)
    wanted = {"en", (lang or (match.group(1) if match else "en-US")).split("-")[0]}
    found = {}
    for path in sorted(locales_dir().glob("locales-*.xml")):
        name = path.stem.removeprefix("locales-")
        if name.split("-")[0] in wanted:
            found[name] = path.read_text(encoding="utf-8")
    return found


def run_citeproc_js(jobs: list[Job], timeout: float = 600) -> list[dict[str, Any]]:
    """Each job rendered by citeproc-js: its clusters' HTML and its bibliography."""
    done = subprocess.run(["node", str(HARNESS)], input=json.dumps({"jobs": jobs}),
                          capture_output=True, text=True, timeout=timeout, check=False,
                          env={**os.environ, "CITEPROC_JS": str(citeproc_js_root())})
    if done.returncode != 0:
        raise RuntimeError(f"citeproc-js harness failed: {done.stderr[-2000:]}")
    results: list[dict[str, Any]] = json.loads(done.stdout)["results"]
    return results


def job(name: str, style_xml: str, items: list[dict[str, Any]],
        clusters: list[list[dict[str, Any]]], note_indexes: list[int],
        lang: str | None = None) -> Job:
    return {"name": name, "style": style_xml, "locales": locales_for(style_xml, lang),
            "lang": lang, "items": items,
            "clusters": [{"items": cites, "noteIndex": note}
                         for cites, note in zip(clusters, note_indexes, strict=True)]}


# -- our engine -------------------------------------------------------------------------
def run_ours(style_xml: str, items: list[dict[str, Any]],
             clusters: list[list[dict[str, Any]]], note_indexes: list[int]
             ) -> tuple[list[str], list[tuple[str, str]]]:
    """Our clusters' HTML and bibliography entries (item id, HTML) for the document.

    The corpus's affixes are plain text: escaped, as the builder's Markdown gives them."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from builder.citations.engine import Cite, Processor
    cites = [[Cite.from_json({**c, "prefix": html.escape(c.get("prefix", ""), quote=False),
                              "suffix": html.escape(c.get("suffix", ""), quote=False)})
              for c in cluster] for cluster in clusters]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        output = Processor(style_xml.encode("utf-8"), items).render(cites, note_indexes)
    return output.citations, output.bibliography


# -- normalisation ----------------------------------------------------------------------
SPACES = re.compile(r"\s+")
TAG = re.compile(r"(</?[A-Za-z][^<>]*>)")
ENTRY_DIV = re.compile(r'^\s*<div class="csl-entry"[^>]*>(.*)</div>\s*$', re.S)
FIELD_DIV = re.compile(r'<div class="csl-(?:left-margin|right-inline|block|indent)">(.*?)</div>',
                       re.S)
SAME_TAGS = {"<em>": "<i>", "</em>": "</i>", "<strong>": "<b>", "</strong>": "</b>"}


def normalise(text: str) -> str:
    """One spelling of a rendering; each step removes a difference that means nothing:

    1. the entry's own ``<div class="csl-entry">`` wrapper (citeproc-js writes it, we
       give the entry's content);
    2. second-field-align's ``csl-left-margin``/``csl-right-inline`` divs (and the other
       display divs) become their content followed by a space: the parts stay, their
       layout is the page's business;
    3. HTML entities decoded, and ``<``, ``>``, ``&`` in text escaped again (citeproc-js
       writes ``&#38;``, we write ``&amp;``; escaped markup stays text);
    4. ``<em>``/``<strong>`` as ``<i>``/``<b>``;
    5. runs of white space (non-breaking spaces too: citeproc-js puts U+00A0 where a
       style's affix has a plain space after some terms) as one space, none at the ends.
    """
    entry = ENTRY_DIV.match(text)
    text = entry.group(1) if entry else text
    text = FIELD_DIV.sub(r"\1 ", text)
    parts = TAG.split(text)
    parts[::2] = [html.escape(html.unescape(part), quote=False) for part in parts[::2]]
    parts[1::2] = [SAME_TAGS.get(tag, tag) for tag in parts[1::2]]
    return SPACES.sub(" ", "".join(parts).replace("\u00a0", " ")).strip()


# -- the corpus and the comparison -----------------------------------------------------
@dataclass
class Corpus:
    items: list[dict[str, Any]]
    clusters: list[dict[str, Any]]  # {"id", "cites"}
    styles: list[str]


def load_corpus(folder: Path = CORPUS) -> Corpus:
    def read(name: str) -> Any:
        return json.loads((folder / name).read_text(encoding="utf-8"))
    return Corpus(read("items.json"), read("clusters.json"), read("styles.json"))


@dataclass
class Difference:
    style: str
    key: str  # "cluster:ID", "entry:ID" or "order"
    ours: str
    theirs: str

    @property
    def id(self) -> str:
        return f"{self.style}|{self.key}"


@dataclass
class StyleResult:
    style: str
    clusters: int = 0
    clusters_same: int = 0
    entries: int = 0
    entries_same: int = 0
    differences: list[Difference] = field(default_factory=list)
    error: str | None = None


def _style_xml(name: str) -> str:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from builder.citations import load_style
    return load_style(name).xml.decode("utf-8")


def _note_style(style_xml: str) -> bool:
    return re.search(r'<style\b[^>]*\bclass="note"', style_xml) is not None


def _document(corpus: Corpus, style_xml: str) -> tuple[list[list[dict[str, Any]]], list[int]]:
    clusters = [cluster["cites"] for cluster in corpus.clusters]
    note = _note_style(style_xml)
    return clusters, [n + 1 if note else 0 for n in range(len(clusters))]


def compare_style(style: str, corpus: Corpus, style_xml: str,
                  theirs: dict[str, Any]) -> StyleResult:
    result = StyleResult(style)
    clusters, notes = _document(corpus, style_xml)
    try:
        ours_cites, ours_bib = run_ours(style_xml, corpus.items, clusters, notes)
    except Exception as exc:  # noqa: BLE001 - a failing engine is a result to report
        result.error = f"ours: {type(exc).__name__}: {exc}"
        return result
    if theirs.get("error"):
        result.error = f"citeproc-js: {theirs['error'][:500]}"
        return result
    for cluster, mine, its in zip(corpus.clusters, ours_cites, theirs["clusters"], strict=True):
        _count(result, "cluster", cluster["id"], normalise(mine), normalise(its))
    theirs_bib = {key: normalise(entry) for key, entry in theirs.get("bibliography") or []}
    ours_by_id = {key: normalise(entry) for key, entry in ours_bib}
    for key in dict.fromkeys([*ours_by_id, *theirs_bib]):
        _count(result, "entry", key, ours_by_id.get(key, "(no entry)"),
               theirs_bib.get(key, "(no entry)"))
    ours_order, theirs_order = " ".join(ours_by_id), " ".join(theirs_bib)
    if ours_order != theirs_order:
        result.differences.append(Difference(style, "order", ours_order, theirs_order))
    return result


def _count(result: StyleResult, kind: str, key: str, ours: str, theirs: str) -> None:
    same = ours == theirs
    if kind == "cluster":
        result.clusters, result.clusters_same = result.clusters + 1, result.clusters_same + same
    else:
        result.entries, result.entries_same = result.entries + 1, result.entries_same + same
    if not same:
        result.differences.append(Difference(result.style, f"{kind}:{key}", ours, theirs))


def compare(corpus: Corpus, styles: list[str] | None = None) -> list[StyleResult]:
    """Every style of the corpus (or those named) through both engines."""
    names = styles or corpus.styles
    xml = {name: _style_xml(name) for name in names}
    jobs = []
    for name in names:
        clusters, notes = _document(corpus, xml[name])
        jobs.append(job(name, xml[name], corpus.items, clusters, notes))
    theirs = {r["name"]: r for r in run_citeproc_js(jobs)}
    return [compare_style(name, corpus, xml[name], theirs[name]) for name in names]


# -- the reviewed differences ------------------------------------------------------------
def load_reviewed(path: Path = REVIEWED) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    data: dict[str, dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))
    return data


@dataclass
class Check:
    new: list[Difference] = field(default_factory=list)  # not reviewed
    changed: list[tuple[Difference, dict[str, str]]] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)  # reviewed, no longer differs

    @property
    def ok(self) -> bool:
        return not (self.new or self.changed or self.stale)


def check(results: list[StyleResult], reviewed: dict[str, dict[str, str]]) -> Check:
    """What a test fails on; only the styles compared are checked for stale entries."""
    found = Check()
    seen = set()
    for result in results:
        for diff in result.differences:
            seen.add(diff.id)
            entry = reviewed.get(diff.id)
            if entry is None:
                found.new.append(diff)
            elif (entry.get("ours"), entry.get("citeproc-js")) != (diff.ours, diff.theirs):
                found.changed.append((diff, entry))
    styles = {r.style for r in results if r.error is None}
    found.stale = sorted(key for key in reviewed
                         if key.split("|")[0] in styles and key not in seen)
    return found


def skeleton(diffs: list[Difference]) -> dict[str, dict[str, str]]:
    """New differences as reviewed.json entries, to be classified by hand."""
    return {d.id: {"ours": d.ours, "citeproc-js": d.theirs, "class": "?", "reason": "?"}
            for d in diffs}


# -- reporting ------------------------------------------------------------------------
def table(results: list[StyleResult]) -> str:
    lines = ["| style | clusters same | clusters differ | entries same | entries differ "
             "| order |", "|---|--:|--:|--:|--:|---|"]
    totals = [0, 0, 0, 0]
    for r in results:
        if r.error:
            lines.append(f"| {r.style} | error: {r.error[:80]} | | | | |")
            continue
        order = "differs" if any(d.key == "order" for d in r.differences) else "same"
        row = [r.clusters_same, r.clusters - r.clusters_same, r.entries_same,
               r.entries - r.entries_same]
        totals = [a + b for a, b in zip(totals, row, strict=True)]
        lines.append(f"| {r.style} | " + " | ".join(map(str, row)) + f" | {order} |")
    lines.append("| **total** | " + " | ".join(f"**{n}**" for n in totals) + " | |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return "`" + text.replace("`", "'") + "`" if text else "(empty)"


def reviewed_list(reviewed: dict[str, dict[str, str]]) -> str:
    """The reviewed differences by classification and cause: the reason once, every key,
    and the first one's texts as the example."""
    out = []
    for kind in CLASSES:
        keys = sorted(k for k, v in reviewed.items() if v.get("class") == kind)
        out.append(f"\n### {kind} ({len(keys)})\n")
        causes: dict[str, list[str]] = {}
        for key in keys:
            causes.setdefault(reviewed[key].get("cause", key), []).append(key)
        for cause, group in sorted(causes.items(), key=lambda c: (-len(c[1]), c[0])):
            first = reviewed[group[0]]
            out.append(f"- **{cause}** ({len(group)}): {first.get('reason', '')}\n"
                       f"  - e.g. `{group[0]}`: ours {_cell(first.get('ours', ''))}; "
                       f"citeproc-js {_cell(first.get('citeproc-js', ''))}\n"
                       f"  - all: " + ", ".join(f"`{k}`" for k in group))
    return "\n".join(out) + "\n"


def document_block(results: list[StyleResult], reviewed: dict[str, dict[str, str]]) -> str:
    corpus = load_corpus()
    counts = {kind: sum(v.get("class") == kind for v in reviewed.values()) for kind in CLASSES}
    return (f"citeproc-js {version()}; corpus: {len(corpus.items)} items, "
            f"{len(corpus.clusters)} clusters, {len(results)} styles.\n\n"
            + table(results)
            + "\nReviewed differences: "
            + ", ".join(f"{n} {kind}" for kind, n in counts.items()) + ".\n"
            + reviewed_list(reviewed))


def show(diffs: list[Difference]) -> str:
    return "\n".join(f"{d.id}\n  ours:        {d.ours}\n  citeproc-js: {d.theirs}"
                     for d in diffs)


def report_check(found: Check) -> str:
    lines = [f"NEW {d.id}\n  ours:        {d.ours}\n  citeproc-js: {d.theirs}"
             for d in found.new]
    lines += [f"CHANGED {d.id}\n  ours:        {d.ours}\n  citeproc-js: {d.theirs}\n"
              f"  reviewed ours: {e.get('ours')}\n  reviewed citeproc-js: {e.get('citeproc-js')}"
              for d, e in found.changed]
    lines += [f"STALE {key} (reviewed, no longer differs: remove it)" for key in found.stale]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--style", action="append", help="compare only this style (repeatable)")
    p.add_argument("--show", action="store_true", help="print every difference")
    p.add_argument("--skeleton", type=Path, metavar="FILE",
                   help="write the unreviewed differences as reviewed.json entries")
    p.add_argument("--write", type=Path, metavar="MD", help="fill the citeproc-js block of MD")
    p.add_argument("--prune", action="store_true",
                   help="remove the stale reviewed entries (fixed) from reviewed.json, and "
                        "print the changed ones (to be reviewed again by hand)")
    return p.parse_args(argv)


def prune(reviewed: dict[str, dict[str, str]], found: Check) -> dict[str, dict[str, str]]:
    """``reviewed`` without the entries that no longer differ."""
    return {key: entry for key, entry in reviewed.items() if key not in set(found.stale)}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    reason = missing()
    if reason:
        print(f"cannot compare: {reason}", file=sys.stderr)
        return 2
    logging.disable(logging.CRITICAL)
    results = compare(load_corpus(), args.style)
    reviewed = load_reviewed()
    found = check(results, reviewed)
    print(table(results))
    if args.show:
        print(show([d for r in results for d in r.differences]))
    elif not found.ok:
        print(report_check(found))
    if args.prune:
        reviewed = prune(reviewed, found)
        REVIEWED.write_text(json.dumps(reviewed, indent=1, ensure_ascii=False, sort_keys=True)
                            + "\n", encoding="utf-8")
        print(f"pruned {len(found.stale)} stale entries; {len(found.changed)} changed: "
              + ", ".join(d.id for d, _ in found.changed))
        found = check(results, reviewed)
    if args.skeleton:
        args.skeleton.write_text(json.dumps(skeleton(found.new), indent=1, ensure_ascii=False)
                                 + "\n", encoding="utf-8")
    if args.write:
        sys.path.insert(0, str(ROOT / "tools"))
        from docblock import replace_block
        if args.style:
            print("--write puts every style in the file: drop --style", file=sys.stderr)
            return 2
        if not replace_block(args.write, BLOCK, document_block(results, reviewed)):
            print(f"{args.write} has no <!-- {BLOCK} --> block", file=sys.stderr)
            return 2
    return 0 if found.ok else 1


if __name__ == "__main__":
    sys.exit(main())
