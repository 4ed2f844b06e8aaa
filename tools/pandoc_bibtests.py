"""Pandoc's own BibTeX/BibLaTeX reader tests, run through our reader.

Each ``biblatex-*.md`` and ``bibtex-*.md`` of ``../shared/realworld/pandoc_tests/command/``
is a command (``pandoc -f biblatex -t markdown -s``), a .bib file and the expected
output: YAML front matter with the CSL items as pandoc's reader makes them.  This reads
the .bib with :func:`builder.citations.bibtex.read_bibtex` and compares every item with
the expected one, field by field, after putting both in one plain form:

- field names lower case (pandoc's YAML writes ``doi``, ``url``; CSL-JSON ``DOI``, ``URL``);
- text as plain text: pandoc's Markdown (``*x*``, ``[x]{.nocase}``, ``\\[``, ``~sub~``)
  and our HTML (``<i>``, ``<span class="nocase">``) both reduced to their characters,
  typographic quotes, dashes and ellipses spelt in ASCII as pandoc's Markdown writer
  spells them (``--``), white space collapsed;
- dates as ISO strings (``2013-07-29``, ``2013-07``, ``2013``, ranges ``2013/2014``),
  pandoc's ``date-parts`` and ours alike; numbers as text;
- names as their parts (family, given, particles, suffix, literal).

    .venv/bin/python tools/pandoc_bibtests.py            # per test: entries equal / total
    .venv/bin/python tools/pandoc_bibtests.py --show     # and each differing field
"""
from __future__ import annotations

import argparse
import datetime as dt
import html
import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT.parent / "shared" / "realworld" / "pandoc_tests" / "command"
NAME_PARTS = ("family", "given", "dropping-particle", "non-dropping-particle", "suffix",
              "literal")


def test_files(folder: Path = TESTS) -> list[Path]:
    return sorted([*folder.glob("biblatex-*.md"), *folder.glob("bibtex-*.md")])


def split_test(text: str) -> tuple[str, str, str] | None:
    """(command, .bib text, expected output) of a pandoc command test, or None."""
    match = re.search(r"^```\n% (?P<command>[^\n]*)\n(?P<input>.*?)\n\^D\n(?P<output>.*?)^```",
                      text, re.S | re.M)
    if not match:
        return None
    return match.group("command"), match.group("input"), match.group("output")


def expected_items(output: str) -> list[dict[str, Any]] | None:
    """The ``references`` of the expected YAML front matter."""
    match = re.match(r"---\n(.*?)\n---", output, re.S)
    if not match:
        return None
    data = yaml.safe_load(match.group(1)) or {}
    refs = data.get("references")
    return refs if isinstance(refs, list) else None


def plain(value: Any) -> str:
    """Text without its markup, pandoc's Markdown or our HTML."""
    text = str(value)
    text = re.sub(r"<[^>]+>", "", text)  # our HTML
    text = re.sub(r"\[([^\]]*)\]\{[^}]*\}", r"\1", text)  # pandoc spans: [x]{.nocase}
    text = re.sub(r"(?<!\\)\*\*?|(?<![\w\\])_(?=\w)|(?<=\w)_(?!\w)", "", text)  # emphasis
    text = re.sub(r"\\(.)", r"\1", text)  # Markdown escapes
    text = re.sub(r"(?<!\\)[~^]", "", text)  # pandoc's ~sub~ and ^super^
    text = html.unescape(text)
    # pandoc's Markdown writer spells typographic marks in ASCII (its smart extension)
    text = text.translate(_ASCII)
    return " ".join(text.replace("\u00a0", " ").split())


# (every quotation mark as one: a quotation in CSL data is marked by its outer marks,
# the processor gives it its level, so pandoc's CSL-JSON and ours write \enquote*{x} as
# “x”; its Markdown writer as 'x')
_ASCII = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": "'", "\u201d": "'", '"': "'",
                        "\u2013": "--", "\u2014": "---", "\u2026": "..."})


def date(value: Any) -> str:
    """A CSL date as ISO text, years without leading zeros (pandoc writes "712-12-13")."""
    return re.sub(r"(^|/)(-?)0+(?=\d)", r"\1\2", _date(value)).replace("\\~", "~")


def _date(value: Any) -> str:
    """A CSL date (date-parts, raw, literal, ISO string or YAML date) as ISO text."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dict):
        if "date-parts" in value:
            circa = "~" if value.get("circa") else ""
            return "/".join("-".join(f"{int(p):02d}" if n else f"{int(p):05d}" if int(p) < 0
                                     else f"{int(p):04d}" for n, p in enumerate(parts))
                            for parts in value["date-parts"]) + circa
        for key in ("raw", "literal"):
            if key in value:
                return str(value[key])
    return str(value)


def name(value: Any) -> dict[str, str]:
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if k in NAME_PARTS and str(v).strip()}
    return {"literal": plain(value)}


def normal(item: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in item.items():
        key = key.lower()
        if isinstance(value, list) and all(isinstance(v, (dict, str)) for v in value):
            out[key] = [name(v) for v in value]
        elif key in ("issued", "accessed", "original-date", "event-date", "submitted") or \
                isinstance(value, (dt.date, dt.datetime)) or (
                isinstance(value, dict) and "date-parts" in value):
            out[key] = date(value)
        else:
            out[key] = plain(value)
    return out


def compare_file(path: Path) -> tuple[int, int, list[tuple[str, str, Any, Any]]] | None:
    """(entries equal, entries, the differing fields: id, field, ours, pandoc's)."""
    from builder.citations.bibtex import read_bibtex
    from builder.errors import BuildError

    parts = split_test(path.read_text(encoding="utf-8"))
    if parts is None or "-t markdown" not in parts[0]:
        return None
    expected = expected_items(parts[2])
    if expected is None:
        return None
    try:
        ours = {str(item["id"]): normal(item) for item, _ in read_bibtex(parts[1], path)}
    except BuildError as exc:
        return 0, len(expected), [("*", "error", str(exc), "")]
    theirs = {str(item["id"]): normal(item) for item in expected}
    diffs = []
    equal = 0
    for key, want in theirs.items():
        got = ours.get(key)
        if got is None:
            diffs.append((key, "*", None, "(the item)"))
            continue
        fields = [(f, got.get(f), want.get(f)) for f in sorted(set(got) | set(want))
                  if got.get(f) != want.get(f)]
        diffs += [(key, f, a, b) for f, a, b in fields]
        equal += not fields
    diffs += [(key, "*", "(the item)", None) for key in ours if key not in theirs]
    return equal, len(theirs), diffs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--show", action="store_true", help="print each differing field")
    args = p.parse_args(argv)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    tests = same_tests = entries = same_entries = 0
    for path in test_files():
        result = compare_file(path)
        if result is None:
            continue
        equal, total, diffs = result
        tests += 1
        same_tests += equal == total and not diffs
        entries += total
        same_entries += equal
        print(f"{equal:3d}/{total:<3d} {path.name}")
        if args.show:
            for key, field, ours, theirs in diffs:
                print(f"      {key} {field}: ours {ours!r}\n      {' ' * len(key)} "
                      f"{' ' * len(field)}  pandoc {theirs!r}")
    print(f"{same_tests} of {tests} tests whole; {same_entries} of {entries} entries equal")
    return 0


if __name__ == "__main__":
    sys.exit(main())
