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

``--write`` replaces the text between the ``<!-- bibtex-compare -->`` and
``<!-- /bibtex-compare -->`` lines of the file.  The default file is
``../shared/realworld/biblatex/biblatex-examples.bib`` next to the repository.
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bib", nargs="?", type=Path, default=EXAMPLES)
    parser.add_argument("--bibtex", action="store_true", help="pandoc -f bibtex, not biblatex")
    parser.add_argument("--entry", help="print both items of this entry in full")
    parser.add_argument("--write", type=Path, help="put the table into this Markdown file")
    args = parser.parse_args()
    dialect = "bibtex" if args.bibtex else "biblatex"
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


if __name__ == "__main__":
    sys.exit(main())
