"""Measure how the builder bears hostile input: wall time and peak memory of a real build.

Each case writes a project into a temporary folder, runs ``python -m builder build``
on it in a child process (with a time limit and an address-space cap, so that a
case that explodes cannot take the machine with it) and reports the exit code,
the first line on stderr, the wall time and the child's peak resident memory.

    .venv/bin/python tools/bounds.py                    # the table on stdout
    .venv/bin/python tools/bounds.py --write docs/robustness.md
    .venv/bin/python tools/bounds.py -k yaml            # only cases whose name has "yaml"

``--write`` replaces the text between the ``<!-- bounds -->`` and ``<!-- /bounds -->``
lines of the file.  The builder run is the one of the repository holding this
script (its folder goes first on PYTHONPATH).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from docblock import replace_block

ROOT = Path(__file__).resolve().parent.parent
TIME_LIMIT = 120.0            # seconds: a case still running then is reported as such
MEMORY_CAP = 3 * 1024 ** 3    # bytes of address space for the child (RLIMIT_AS)

FRONT = "---\ntitle: Bounds\n---\n\n"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def references(project: Path, count: int = 50_000) -> None:
    """``count`` references in one CSL-JSON file; the text cites three of them."""
    refs = [{"id": f"ref{n}", "type": "article-journal", "title": f"Article number {n}",
             "author": [{"family": f"Author{n % 977}", "given": "A."}],
             "container-title": "Journal of Bounds", "volume": str(n % 90),
             "issued": {"date-parts": [[1950 + n % 70]]}} for n in range(count)]
    write(project / "bibliography" / "refs.json",
          "[\n" + ",\n".join(json.dumps(r) for r in refs) + "\n]\n")
    write(project / "book" / "a.md", FRONT + "See [@ref1; @ref2] and @ref49999.\n")


def yaml_bomb_front_matter(project: Path) -> None:
    """Billion laughs (9^10 leaves) under a metadata key that must hold words."""
    lines = ['  - &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"  - &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, 10)]
    write(project / "book" / "a.md", "---\ntitle: Bounds\ntags:\n" + "\n".join(lines) +
          "\n---\n\nText.\n")


def yaml_bomb_bibliography(project: Path) -> None:
    """Billion laughs (9^10 leaves) in a CSL-YAML reference."""
    bib = ["- id: x", "  type: book", "  title: A Book",
           "  note: &b0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    bib += [f"  x-{n}: &b{n} [" + ", ".join([f"*b{n - 1}"] * 9) + "]" for n in range(1, 10)]
    bib.append("  author: *b9")
    write(project / "bibliography" / "refs.yaml", "\n".join(bib) + "\n")
    write(project / "book" / "a.md", FRONT + "Text [@x].\n")


def yaml_references(project: Path, count: int = 5_000) -> None:
    """``count`` references in one CSL-YAML file; the text cites three of them."""
    refs = "".join(f"- id: ref{n}\n  type: article-journal\n  title: Article number {n}\n"
                   f"  author:\n  - family: Author{n % 977}\n    given: A.\n"
                   f"  container-title: Journal of Bounds\n  volume: '{n % 90}'\n"
                   f"  issued:\n    date-parts:\n    - [{1950 + n % 70}]\n" for n in range(count))
    write(project / "bibliography" / "refs.yaml", "references:\n" + refs)
    write(project / "book" / "a.md", FRONT + f"See [@ref1; @ref2] and @ref{count - 1}.\n")


def nested_yaml(project: Path, depth: int = 100_000) -> None:
    write(project / "bibliography" / "refs.yaml", "references: " + "[" * depth + "]" * depth + "\n")
    write(project / "book" / "a.md", FRONT + "Text.\n")


def nested_front_matter(project: Path, depth: int = 100_000) -> None:
    write(project / "book" / "a.md",
          "---\ntitle: Bounds\ntags: " + "[" * depth + "]" * depth + "\n---\n\nText.\n")


CSL_HEAD = ('<?xml version="1.0"?>\n<style xmlns="http://purl.org/net/xbiblio/csl" version="1.0" '
            'class="in-text">\n  <info><title>Deep</title><id>deep</id></info>\n')


def macro_chain(project: Path, length: int = 10_000) -> None:
    """A style whose citation calls macro m0, which calls m1, ... (citeproc-py recurses)."""
    macros = "".join(f'  <macro name="m{n}"><text macro="m{n + 1}"/></macro>\n'
                     for n in range(length))
    write(project / "styles" / "deep.csl", CSL_HEAD + macros +
          f'  <macro name="m{length}"><text variable="title"/></macro>\n'
          '  <citation><layout><text macro="m0"/></layout></citation>\n</style>\n')
    write(project / "book" / "a.md", "---\ntitle: Bounds\ncsl: styles/deep.csl\n---\n\n"
          "Text [@x].\n")
    write(project / "bibliography" / "refs.json", '[{"id": "x", "type": "book", "title": "X"}]\n')


def nested_bibtex_commands(project: Path, depth: int = 3_000) -> None:
    write(project / "bibliography" / "refs.bib",
          "@book{x,\n  title = {" + "\\begin{quote}" * depth + "X},\n}\n")
    write(project / "book" / "a.md", FRONT + "Text [@x].\n")


def nested_lists(project: Path, depth: int = 10_000) -> None:
    """``- - - ... item``: each ``- `` opens a list inside the item before it."""
    write(project / "book" / "a.md", FRONT + "- " * depth + "item\n")


def nested_indented_lists(project: Path, depth: int = 1_000) -> None:
    """Each item indented under the one before (the file grows as depth squared)."""
    write(project / "book" / "a.md",
          FRONT + "".join("  " * n + "- item\n" for n in range(depth)))


def nested_emphasis(project: Path, depth: int = 10_000) -> None:
    write(project / "book" / "a.md", FRONT + "*" * depth + "deep" + "*" * depth + "\n")


def nested_brackets(project: Path, depth: int = 10_000) -> None:
    """Citation brackets and links nested: ``[[[[@x]]]]`` (the citation parser)."""
    write(project / "book" / "a.md", FRONT + "[" * depth + "@x" + "]" * depth + "\n")
    write(project / "bibliography" / "refs.json", '[{"id": "x", "type": "book", "title": "X"}]')


def nested_bibtex(project: Path, depth: int = 10_000) -> None:
    write(project / "bibliography" / "refs.bib",
          "@book{x,\n  title = " + "{" * depth + "X" + "}" * depth + ",\n}\n")
    write(project / "book" / "a.md", FRONT + "Text [@x].\n")


def nested_quotes(project: Path, depth: int = 10_000) -> None:
    write(project / "book" / "a.md", FRONT + ">" * depth + " deep\n")


def nested_json(project: Path, depth: int = 100_000) -> None:
    write(project / "bibliography" / "refs.json", "[" * depth + "]" * depth + "\n")
    write(project / "book" / "a.md", FRONT + "Text.\n")


def large_markdown(project: Path) -> None:
    """Just under the limit: 7.5 MB of sections, paragraphs and emphasis."""
    paragraph = ("A paragraph with *emphasis*, a [link](#top) and words, words and more words "
                 "to fill the line; it goes on for a while, as paragraphs do.\n\n") * 8
    parts, size, n = [FRONT], 0, 0
    while size < 7.5 * 2 ** 20:
        n += 1
        part = f"## Section {n}\n\n{paragraph}"
        parts.append(part)
        size += len(part)
    write(project / "book" / "a.md", "".join(parts))


def same_headings(project: Path, count: int = 5_000) -> None:
    """Many headings with one title: each needs an id of its own."""
    write(project / "book" / "a.md", FRONT + "## Notes\n\nText.\n\n" * count)


def huge_markdown(project: Path) -> None:
    line = "A line of an enormous manuscript, repeated until it is twenty megabytes long.\n\n"
    write(project / "book" / "a.md", FRONT + line * (20 * 2 ** 20 // len(line)))


def unclosed_citation_brackets(project: Path, count: int = 20_000) -> None:
    """``[@ [@ [@ ...`` in one paragraph: each ``[`` opens a citation never closed."""
    write(project / "book" / "a.md", FRONT + "[@ " * count + "\n")


def nested_link_brackets(project: Path, depth: int = 20_000) -> None:
    write(project / "book" / "a.md", FRONT + "[" * depth + "x" + "]" * depth + "\n")


def one_reference(project: Path) -> None:
    write(project / "bibliography" / "refs.json", '[{"id": "x", "type": "book", "title": "X"}]')


def big_cluster(project: Path, count: int = 100_000) -> None:
    """One citation of ``count`` cites: ``[@x; @x; ...]``."""
    one_reference(project)
    write(project / "book" / "a.md", FRONT + "See [" + "; ".join(["@x"] * count) + "].\n")


def nocite_everything(project: Path, count: int = 7_000) -> None:
    """``nocite: '@*'`` over ``count`` references: one cluster holding all of them."""
    refs = [{"id": f"r{n}", "type": "book", "title": f"Title {n}"} for n in range(count)]
    write(project / "bibliography" / "refs.json", json.dumps(refs))
    write(project / "book" / "a.md", "---\ntitle: Bounds\nnocite: '@*'\n---\n\nText.\n")


def many_notes(project: Path, count: int = 1_000_000) -> None:
    """``count`` inline notes (``a^[b]``), 100 to a paragraph."""
    write(project / "book" / "a.md", FRONT + "\n\n".join(["a^[b] " * 100] * (count // 100)))


def many_tokens(project: Path, count: int = 800_000) -> None:
    """``*a* `` ``count`` times, 1,000 to a paragraph (four tokens each)."""
    write(project / "book" / "a.md", FRONT + "\n\n".join(["*a* " * 1_000] * (count // 1_000)))


def string_doubling(project: Path, steps: int = 30) -> None:
    """``@string{a1 = a0 # a0}``, each macro twice the one before: 2^29 characters."""
    lines = ['@string{a0 = "x"}'] + [f"@string{{a{n} = a{n - 1} # a{n - 1}}}"
                                     for n in range(1, steps)]
    write(project / "bibliography" / "refs.bib",
          "\n".join(lines) + f"\n@book{{x,\n  title = a{steps - 1},\n}}\n")
    write(project / "book" / "a.md", FRONT + "Text [@x].\n")


def nested_divs(project: Path, depth: int = 5_000) -> None:
    write(project / "book" / "a.md", FRONT + "<div>" * depth + "deep" + "</div>" * depth + "\n")


def long_paragraph(project: Path, size: int = 5 * 2 ** 20) -> None:
    """One paragraph of ``size`` characters (words, no blank line)."""
    write(project / "book" / "a.md", FRONT + "word " * (size // 5) + "\n")


@dataclass(frozen=True)
class Case:
    name: str
    setup: Callable[[Path], None]
    args: tuple[str, ...] = ("--to", "html")


CASES = [
    Case("a bibliography of 50,000 references (CSL-JSON, 3 cited), HTML", references),
    Case("a bibliography of 50,000 references (CSL-JSON, 3 cited), all formats", references,
         ()),
    Case("a YAML alias bomb (9^10 leaves) in the front matter", yaml_bomb_front_matter),
    Case("a YAML alias bomb (9^10 leaves) in a CSL-YAML bibliography", yaml_bomb_bibliography),
    Case("a bibliography of 5,000 references (CSL-YAML, 3 cited), HTML", yaml_references),
    Case("a CSL-YAML bibliography nested 100,000 deep", nested_yaml),
    Case("front matter nested 100,000 deep", nested_front_matter),
    Case("10,000-deep nested lists (- - - ... item)", nested_lists),
    Case("1,000-deep nested lists, each item indented under the last", nested_indented_lists),
    Case("10,000-deep nested block quotes", nested_quotes),
    Case("10,000-deep nested emphasis", nested_emphasis),
    Case("10,000-deep nested brackets around a citation", nested_brackets),
    Case("a CSL-JSON bibliography nested 100,000 deep", nested_json),
    Case("a BibTeX title with braces nested 10,000 deep", nested_bibtex),
    Case("a BibTeX title with 3,000 nested \\begin{quote} (no braces nested)",
         nested_bibtex_commands),
    Case("a .csl style whose macros call each other 10,000 deep", macro_chain),
    Case("a 7.5 MB Markdown file (under the limit), HTML", large_markdown),
    Case("5,000 headings with the same title, HTML", same_headings),
    Case("10,000 headings with the same title, HTML", lambda p: same_headings(p, 10_000)),
    Case("a 20 MB Markdown file", huge_markdown),
    Case("20,000 unclosed [@ in one paragraph", unclosed_citation_brackets),
    Case("20,000 nested link brackets, HTML", nested_link_brackets),
    Case("20,000 nested link brackets, PDF", nested_link_brackets, ("--to", "pdf")),
    Case("a citation of 1,000 cites", lambda p: big_cluster(p, 1_000)),
    Case("a citation of 100,000 cites", big_cluster),
    Case("nocite '@*' over 7,000 references (one cluster of 7,000)", nocite_everything),
    Case("1,000,000 inline notes in a chapter", many_notes),
    Case("a chapter of 3,200,000 tokens (*a* 800,000 times)", many_tokens),
    Case("a BibTeX @string chain doubling 30 times", string_doubling),
    Case("5,000 nested raw <div>s, PDF", nested_divs, ("--to", "pdf")),
    Case("a 5 MB paragraph, HTML", long_paragraph),
    Case("a 5 MB paragraph, PDF", long_paragraph, ("--to", "pdf")),
]


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def measure(case: Case, tmp: Path) -> dict[str, object]:
    project = tmp / "project"
    case.setup(project)
    size = sum(p.stat().st_size for p in project.rglob("*") if p.is_file())
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SOURCE_DATE_EPOCH": "1600000000"}
    command = [sys.executable, "-m", "builder", "build", ".", "--quiet", *case.args]
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=project, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, preexec_fn=_limit_memory)
    try:
        _, stderr = process.communicate(timeout=TIME_LIMIT)
        seconds = time.perf_counter() - start
        code: object = process.returncode
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
        seconds, code = time.perf_counter() - start, f"killed after {TIME_LIMIT:.0f} s"
    # the child's own peak memory (ru_maxrss is in KiB on Linux); only one child has run
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    lines = [line for line in stderr.splitlines() if line.strip()]
    first = lines[0] if lines else ""
    if "Traceback" in stderr:
        first = "TRACEBACK: " + lines[-1]
    return {"name": case.name, "input": size, "exit": code, "seconds": seconds,
            "peak_mb": peak, "message": first.replace(str(tmp), "<tmp>")}


def table(rows: list[dict[str, object]]) -> str:
    out = [f"Measured on {platform.machine()} {platform.system()}, Python "
           f"{platform.python_version()}, {os.cpu_count()} CPUs, "
           f"{time.strftime('%Y-%m-%d')}; each build in a child process capped at "
           f"{MEMORY_CAP // 1024 ** 3} GB of address space and {TIME_LIMIT:.0f} s.", "",
           "| hostile input | input size | exit | wall time | peak memory | what it says |",
           "|---|---|---|---|---|---|"]
    for row in rows:
        message = str(row["message"]).replace("|", "\\|")
        size = int(row["input"])
        shown = f"{size / 2 ** 20:.1f} MB" if size >= 2 ** 20 else f"{size / 1024:.0f} KB"
        out.append(f"| {row['name']} | {shown} | {row['exit']} | "
                   f"{row['seconds']:.1f} s | {row['peak_mb']:.0f} MB | "
                   f"{'`' + message + '`' if message else '(nothing)'} |")
    return "\n".join(out) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="put the table into this Markdown file")
    parser.add_argument("-k", default="", help="only the cases whose name holds this")
    args = parser.parse_args()
    if args.write and args.k:
        parser.error("--write puts the whole table in the file: drop -k")
    rows = []
    for case in CASES:
        if args.k.lower() not in case.name.lower():
            continue
        # a fresh interpreter per case, so that RUSAGE_CHILDREN is this child's alone
        result = subprocess.run([sys.executable, __file__, "--one", case.name],
                                capture_output=True, text=True)
        if result.returncode != 0:
            print(result.stderr, file=sys.stderr)
            return 1
        row = json.loads(result.stdout)
        rows.append(row)
        print(f"{row['exit']!s:>4}  {row['seconds']:6.1f} s  {row['peak_mb']:6.0f} MB  "
              f"{case.name}", file=sys.stderr)
    text = table(rows)
    if args.write:
        if not replace_block(args.write, "bounds", text):
            parser.error(f"{args.write} has no <!-- bounds --> ... <!-- /bounds --> lines")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        chosen = next(c for c in CASES if c.name == sys.argv[2])
        with tempfile.TemporaryDirectory() as folder:
            print(json.dumps(measure(chosen, Path(folder))))
        raise SystemExit(0)
    raise SystemExit(main())
