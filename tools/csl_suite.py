"""Conformance runner: the official CSL processor test-suite against our citation engine.

Usage (from the repository root, with the project's virtualenv)::

    python tools/csl_suite.py [SUITE_DIR]          # table per category, our engine
    python tools/csl_suite.py --engine raw         # baseline: raw citeproc-py
    python tools/csl_suite.py --engine citeproc-js # citeproc-js (node), same comparison
    python tools/csl_suite.py --fixture NAME       # one fixture: expected vs got, diff
    python tools/csl_suite.py --json results.json  # per-fixture results
    python tools/csl_suite.py --write-passing      # record strict passes in tools/csl_passing.txt
    python tools/csl_suite.py --check              # exit 1 if a recorded pass now fails
    python tools/csl_suite.py --failing CATEGORY   # list the failing fixtures of a category

SUITE_DIR defaults to $CSL_TEST_SUITE, else ../shared/csl-test-suite next to the
repository. Fixtures are SUITE_DIR/humans/*.txt (format: SUITE_DIR/README.md).

Each fixture is rendered by an engine with the contract
``engine(style_xml, items, citations, mode, **opts) -> str`` and compared with
its RESULT at two levels: *strict* (markup kept; whitespace, HTML entities and
the bibliography wrapper normalised) and *text* (all tags removed, then the
same normalisation). Modes other than ``citation`` and ``bibliography`` are
counted as unsupported. A fixture that raises or exceeds the timeout fails.
"""
from __future__ import annotations

import argparse
import contextlib
import difflib
import html
import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PASSING = ROOT / "tools" / "csl_passing.txt"
DEFAULT_SUITE = ROOT.parent / "shared" / "csl-test-suite"
# jgm/citeproc's own fixtures (Pandoc's citation engine), in the suite's format: --extra
EXTRA_SUITE = ROOT.parent / "shared" / "realworld" / "citeproc_tests" / "extra"
EXTRA_PASSING = ROOT / "tools" / "csl_extra_passing.txt"
SUPPORTED = ("citation", "bibliography")
TIMEOUT = 10.0
CSL_NS = {"csl": "http://purl.org/net/xbiblio/csl"}

Engine = Callable[..., str]
Cluster = list[dict[str, Any]]

SECTION = re.compile(r">>=+ ([A-Z-]+) =+>>[ \t]*\n?(.*?)<<=+ \1 =+<<", re.S)
MARKER = re.compile(r"^(?:>>|\.\.)\[\d+\] ?")
SPACES = re.compile(r"[ \t\r\n\f\v]+")
TAG = re.compile(r"(</?[A-Za-z][^<>]*>)")
BIB_BODY = re.compile(r'^<div class="csl-bib-body">(.*)</div>$', re.S)
AROUND_DIV = re.compile(r"[ \t\r\n]*(</?div\b[^>]*>)[ \t\r\n]*")


# -- fixtures ------------------------------------------------------------------------
@dataclass
class Fixture:
    name: str
    mode: str
    expected: str
    csl: str
    items: list[dict[str, Any]]
    citations: list[Cluster]
    opts: dict[str, Any] = field(default_factory=dict)


def parse_sections(text: str) -> dict[str, str]:
    """The fixture's sections by name, their text without the trailing newline."""
    return {m.group(1): m.group(2).rstrip("\n") for m in SECTION.finditer(text)}


def insertion_order(steps: list[list[Any]]) -> tuple[list[Cluster], list[int]]:
    """Replay a citeproc-js insertion sequence: the final clusters and note numbers.

    Each step rebuilds the document as ``pre + [citation] + post`` (what
    citeproc-js does); a re-used citationID replaces the earlier citation.
    """
    by_id: dict[str, dict[str, Any]] = {}
    notes: dict[str, int] = {}
    order: list[str] = []
    for citation, pre, post in steps:
        cid = citation["citationID"]
        by_id[cid] = citation
        notes[cid] = int(citation.get("properties", {}).get("noteIndex", 0) or 0)
        notes.update({ref: int(note or 0) for ref, note in [*pre, *post]})
        order = [ref for ref, _ in pre] + [cid] + [ref for ref, _ in post]
    return [by_id[c]["citationItems"] for c in order], [notes[c] for c in order]


def _with_ids(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items without an id (a few fixtures) get ITEM-n, so that they can be cited."""
    return [item if "id" in item else {"id": f"ITEM-{n}", **item}
            for n, item in enumerate(items, 1)]


def make_fixture(name: str, sections: dict[str, str]) -> Fixture:
    """A fixture from its sections: the clusters to cite and the expected output."""
    items = _with_ids(json.loads(sections.get("INPUT") or "[]"))
    expected, opts = sections.get("RESULT", ""), json.loads(sections.get("OPTIONS") or "{}")
    if "linkBibliography" in opts:  # jgm/citeproc's option (see builder.citations.links)
        opts["link_bibliography"] = bool(opts.pop("linkBibliography"))
    steps = json.loads(sections["CITATIONS"]) if sections.get("CITATIONS") else None
    if sections.get("CITATION-ITEMS"):
        citations = json.loads(sections["CITATION-ITEMS"])
    elif steps and all(isinstance(step, list) and all(isinstance(c, dict) for c in step)
                       for step in steps):  # jgm/citeproc: the clusters themselves
        citations = steps
    elif steps and all(isinstance(step, dict) for step in steps):  # jgm: citation objects
        citations = [step["citationItems"] for step in steps]
        opts["note_indexes"] = [int(step.get("properties", {}).get("noteIndex", 0) or 0)
                                for step in steps]
    elif steps:
        citations, opts["note_indexes"] = insertion_order(steps)
        expected = "\n".join(MARKER.sub("", line) for line in expected.splitlines())
    else:  # citeproc-js cites every item, in bibliography order (test-suite issue 66);
        # an id given twice is one item, the later (number_PlainHyphenOrEnDashAlwaysPlural)
        citations = [[{"id": key} for key in dict.fromkeys(item["id"] for item in items)]]
        opts["cite_all"] = True
    return Fixture(name, sections.get("MODE", "").strip(), expected,
                   sections.get("CSL", "").strip(),
                   items, citations, opts)


def load_fixture(path: Path) -> Fixture:
    return make_fixture(path.stem, parse_sections(path.read_text(encoding="utf-8")))


def fixture_paths(suite: Path, names: set[str] | None = None) -> list[Path]:
    folder = suite / "humans" if (suite / "humans").is_dir() else suite  # (jgm's: flat)
    paths = sorted(folder.glob("*.txt"))
    return [p for p in paths if names is None or p.stem in names]


def find_suite(arg: str | None = None) -> Path | None:
    """SUITE_DIR from the argument, else $CSL_TEST_SUITE, else the shared default."""
    candidate = arg or os.environ.get("CSL_TEST_SUITE") or str(DEFAULT_SUITE)
    return Path(candidate) if (Path(candidate) / "humans").is_dir() else None


# -- normalisation -------------------------------------------------------------------
def _collapse(lines: list[str], keep_empty: bool) -> list[str]:
    lines = [SPACES.sub(" ", line).strip(" ") for line in lines]
    return lines if keep_empty else [line for line in lines if line]


def _bib_lines(text: str, strip_tags: bool) -> list[str]:
    body = BIB_BODY.match(text)
    text = AROUND_DIV.sub(r"\1", body.group(1) if body else text)
    text = text.replace('<div class="csl-entry"', '\n<div class="csl-entry"')
    if strip_tags:
        text = re.sub(r"</?div\b[^>]*>", "\n", text)
    return text.split("\n")


def _canonical(line: str, strip_tags: bool) -> str:
    """One spelling per character: entities decoded; `<`, `>`, `&` in text re-escaped.

    Escaped markup (`&lt;i&gt;`) stays text, so it never equals a real `<i>` tag.
    """
    if strip_tags:
        return html.unescape(TAG.sub("", line))
    parts = TAG.split(line)
    parts[::2] = [html.escape(html.unescape(part), quote=False) for part in parts[::2]]
    return "".join(parts)


def normalise(text: str, mode: str, strip_tags: bool = False) -> list[str]:
    """Comparable lines: one per citation cluster, or one per bibliography entry."""
    text = text.strip()
    bibliography = mode.startswith("bibliography")
    lines = _bib_lines(text, strip_tags) if bibliography else text.split("\n")
    lines = [_canonical(line, strip_tags) for line in lines]
    return _collapse(lines, keep_empty=not bibliography)


# -- engines ---------------------------------------------------------------------------
def our_engine(style_xml: str, items: list[dict[str, Any]], citations: list[Cluster],
               mode: str, **opts: Any) -> str:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from builder.citations import csl_engine
    return csl_engine(style_xml, items, citations, mode, **opts)


def _raw_item(cite: dict[str, Any]) -> Any:
    from citeproc import CitationItem, Locator
    options = {k: cite[k] for k in ("prefix", "suffix") if cite.get(k)}
    if cite.get("locator") not in (None, ""):
        options["locator"] = Locator(cite.get("label") or "page", str(cite["locator"]))
    return CitationItem(str(cite["id"]), **options)


def _has_bib_sort(style_xml: str) -> bool:
    root = ET.fromstring(style_xml.encode("utf-8"))
    return root.find("csl:bibliography/csl:sort", CSL_NS) is not None


def raw_engine(style_xml: str, items: list[dict[str, Any]], citations: list[Cluster],
               mode: str, **opts: Any) -> str:
    """Baseline: citeproc-py as it comes, no help from the project."""
    from citeproc import Citation, CitationStylesBibliography, CitationStylesStyle, formatter
    from citeproc.source.json import CiteProcJSON
    style = CitationStylesStyle(io.BytesIO(style_xml.encode("utf-8")), validate=False)
    bib = CitationStylesBibliography(style, CiteProcJSON(items), formatter.html)
    clusters = [Citation([_raw_item(c) for c in cluster]) for cluster in citations]
    for cluster in clusters:
        bib.register(cluster)
    if _has_bib_sort(style_xml):
        bib.sort()
    if mode == "citation":
        return "\n".join(str(bib.cite(c, lambda item: None)) for c in clusters)
    return "".join(f'<div class="csl-entry">{entry}</div>' for entry in bib.bibliography())


def _citeproc_js_tool() -> Any:
    """tools/citeproc_js_compare.py: it runs the node harness and finds citeproc-js."""
    if str(ROOT / "tools") not in sys.path:
        sys.path.insert(0, str(ROOT / "tools"))
    import citeproc_js_compare
    return citeproc_js_compare


def _note_class(style_xml: str) -> bool:
    root = ET.fromstring(style_xml.encode("utf-8"))
    return root.get("class") == "note"


class CiteprocJs:
    """citeproc-js (tools/citeproc_js/render.js under node) as an engine, for its score
    in this runner, with our comparison and normal form.

    A document is made of the fixture as ours is: the same clusters, in order, with
    the fixture's note numbers, else (CITATION-ITEMS) cluster *n* in note *n* in a
    note style and 0 in an in-text one; the bibliography is the entries of the cited
    items.  :meth:`prefetch` renders many fixtures in one node run (a run per fixture
    would cost node's start-up each time); a fixture not prefetched runs alone.
    """

    BATCH = 60  # fixtures per node run; a run that fails is retried fixture by fixture

    def __init__(self) -> None:
        self.done: dict[str, dict[str, Any]] = {}

    @staticmethod
    def _key(style_xml: str, items: list[dict[str, Any]], citations: list[Cluster],
             mode: str, opts: dict[str, Any]) -> str:
        return json.dumps([style_xml, items, citations, mode, opts], sort_keys=True)

    @staticmethod
    def _job(style_xml: str, items: list[dict[str, Any]], citations: list[Cluster],
             opts: dict[str, Any]) -> dict[str, Any]:
        notes = opts.get("note_indexes")
        if notes is None:
            notes = [n + 1 for n in range(len(citations))] if _note_class(style_xml) \
                else [0] * len(citations)
        return _citeproc_js_tool().job("fixture", style_xml, items, citations, list(notes))

    def prefetch(self, fixtures: list[Fixture], timeout: float) -> None:
        todo = {self._key(fx.csl, fx.items, fx.citations, fx.mode, fx.opts):
                self._job(fx.csl, fx.items, fx.citations, fx.opts)
                for fx in fixtures if fx.mode in SUPPORTED}
        keys = [key for key in todo if key not in self.done]
        for start in range(0, len(keys), self.BATCH):
            batch = keys[start:start + self.BATCH]
            try:
                results = _citeproc_js_tool().run_citeproc_js(
                    [todo[key] for key in batch], timeout=timeout * len(batch))
            except (RuntimeError, OSError, ValueError, subprocess.TimeoutExpired):
                continue  # each of them alone, when rendered
            self.done.update(zip(batch, results, strict=True))

    def __call__(self, style_xml: str, items: list[dict[str, Any]], citations: list[Cluster],
                 mode: str, **opts: Any) -> str:
        key = self._key(style_xml, items, citations, mode, opts)
        if key not in self.done:
            job = self._job(style_xml, items, citations, opts)
            self.done[key] = _citeproc_js_tool().run_citeproc_js([job], timeout=TIMEOUT)[0]
        result = self.done[key]
        if result.get("error"):
            raise RuntimeError(str(result["error"]).splitlines()[0])
        if mode == "citation":
            return "\n".join(result["clusters"])
        entries = "".join(f"  {entry.strip()}\n" for _, entry in result["bibliography"] or [])
        return f'<div class="csl-bib-body">\n{entries}</div>'


citeproc_js_engine = CiteprocJs()

ENGINES: dict[str, Engine] = {"ours": our_engine, "raw": raw_engine,
                              "citeproc-js": citeproc_js_engine}


# -- running -------------------------------------------------------------------------
class FixtureTimeout(BaseException):
    """Raised by the alarm; a BaseException so an engine's `except Exception` can't eat it."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    def on_alarm(signum: int, frame: Any) -> None:
        raise FixtureTimeout(f"longer than {seconds:g} s")
    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Result:
    name: str
    mode: str
    strict: bool = False
    text: bool = False
    error: str | None = None
    supported: bool = True
    expected: str = ""
    got: str = ""

    @property
    def category(self) -> str:
        return self.name.split("_", 1)[0]


def render(engine: Engine, fx: Fixture, timeout: float) -> str:
    with time_limit(timeout), warnings.catch_warnings(), \
            contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        return engine(fx.csl, fx.items, fx.citations, fx.mode, **fx.opts)


def run_fixture(path: Path, engine: Engine, timeout: float = TIMEOUT) -> Result:
    """Render one fixture and compare it with its RESULT; never raises."""
    try:
        fx = load_fixture(path)
    except (ValueError, KeyError, TypeError) as exc:
        return Result(path.stem, "?", error=f"fixture: {type(exc).__name__}: {exc}")
    result = Result(fx.name, fx.mode, supported=fx.mode in SUPPORTED, expected=fx.expected)
    if not result.supported:
        return result
    try:
        result.got = render(engine, fx, timeout)
    except (Exception, FixtureTimeout) as exc:
        result.error = f"{type(exc).__name__}: {str(exc)[:200]}"
        return result
    result.strict = normalise(fx.expected, fx.mode) == normalise(result.got, fx.mode)
    result.text = normalise(fx.expected, fx.mode, True) == normalise(result.got, fx.mode, True)
    return result


def run_suite(suite: Path, engine: Engine, names: set[str] | None = None,
              timeout: float = TIMEOUT) -> list[Result]:
    return [run_fixture(path, engine, timeout) for path in fixture_paths(suite, names)]


def _loadable(paths: list[Path]) -> list[Fixture]:
    fixtures = []
    for path in paths:
        try:
            fixtures.append(load_fixture(path))
        except (ValueError, KeyError, TypeError):
            continue  # run_fixture reports it
    return fixtures


# -- reporting -----------------------------------------------------------------------
def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def table(results: list[Result]) -> str:
    """Per category: total, strict and text passes; then the totals."""
    rows: dict[str, list[int]] = {}
    for r in results:
        if r.supported:
            row = rows.setdefault(r.category, [0, 0, 0])
            row[0], row[1], row[2] = row[0] + 1, row[1] + r.strict, row[2] + r.text
    lines = [f"{'category':<14}{'total':>7}{'strict':>8}{'text':>7}"]
    lines += [f"{c:<14}{t:>7}{s:>8}{x:>7}" for c, (t, s, x) in sorted(rows.items())]
    total, strict, text = ((sum(col) for col in zip(*rows.values(), strict=True)) if rows
                           else (0, 0, 0))
    lines.append(f"{'TOTAL':<14}{total:>7}{strict:>8}{text:>7}")
    lines.append(f"strict {strict}/{total} ({_pct(strict, total)}), "
                 f"text {text}/{total} ({_pct(text, total)})")
    return "\n".join(lines) + "\n" + _footer(results)


def _footer(results: list[Result]) -> str:
    unsupported = sum(not r.supported for r in results)
    errors = [r.error for r in results if r.error]
    timeouts = sum(e.startswith("FixtureTimeout") for e in errors)
    return (f"unsupported (skipped): {unsupported}; errors: {len(errors)} "
            f"(of which timeouts: {timeouts})")


def as_json(results: list[Result]) -> dict[str, dict[str, Any]]:
    return {r.name: {"strict": r.strict, "text": r.text,
                     "error": r.error if r.supported else f"unsupported mode: {r.mode}"}
            for r in results}


def show_fixture(result: Result) -> str:
    """Expected vs got for one fixture, and the diff of their strict normal forms."""
    want, got = normalise(result.expected, result.mode), normalise(result.got, result.mode)
    diff = difflib.unified_diff(want, got, "expected", "got", lineterm="")
    return "\n".join([
        f"{result.name} [{result.mode}] strict={result.strict} text={result.text}"
        f" error={result.error}", "--- expected", result.expected, "--- got", result.got,
        "--- diff (strict normal form)", *diff])


def read_passing(path: Path = PASSING) -> set[str]:
    if not path.exists():
        return set()
    return {line.strip() for line in path.read_text().splitlines() if line.strip()}


def write_passing(results: list[Result], path: Path = PASSING) -> int:
    names = sorted(r.name for r in results if r.strict)
    path.write_text("".join(f"{n}\n" for n in names))
    return len(names)


def regressions(results: list[Result], passing: set[str]) -> list[Result]:
    """The fixtures recorded as passing that no longer pass strictly."""
    by_name = {r.name: r for r in results}
    return [by_name[n] for n in sorted(passing) if n in by_name and not by_name[n].strict]


def check(suite: Path, engine: Engine = our_engine, passing: set[str] | None = None,
          timeout: float = TIMEOUT) -> list[Result]:
    """Run only the recorded passes; return those that regressed."""
    passing = read_passing() if passing is None else passing
    return regressions(run_suite(suite, engine, passing, timeout), passing)


# -- command line ----------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("suite", nargs="?", help="the test-suite folder (holds humans/)")
    p.add_argument("--engine", choices=sorted(ENGINES), default="ours")
    p.add_argument("--json", metavar="FILE", help="write per-fixture results as JSON")
    p.add_argument("--fixture", metavar="NAME", help="run one fixture and show the diff")
    p.add_argument("--failing", metavar="CATEGORY", help="list failing fixtures ('all')")
    p.add_argument("--write-passing", action="store_true", help=f"write {PASSING.name}")
    p.add_argument("--check", action="store_true", help=f"fail on regressions vs {PASSING.name}")
    p.add_argument("--timeout", type=float, default=TIMEOUT, help="seconds per fixture")
    p.add_argument("--extra", action="store_true",
                   help=f"jgm/citeproc's fixtures ({EXTRA_SUITE}), with {EXTRA_PASSING.name}")
    return p.parse_args(argv)


def _one(suite: Path, name: str, engine: Engine, timeout: float) -> int:
    folder = suite / "humans" if (suite / "humans").is_dir() else suite
    path = folder / (name if name.endswith(".txt") else f"{name}.txt")
    if not path.exists():
        print(f"no such fixture: {path}", file=sys.stderr)
        return 2
    result = run_fixture(path, engine, timeout)
    print(show_fixture(result))
    return 0 if result.strict else 1


def _list_failing(results: list[Result], category: str) -> None:
    for r in results:
        if r.supported and not r.strict and category in ("all", r.category):
            print(f"{r.name}{'  (text ok)' if r.text else ''}{'  ' + r.error if r.error else ''}")


def _report_check(results: list[Result], passing: Path = PASSING) -> int:
    lost = regressions(results, read_passing(passing))
    for r in lost:
        print(f"REGRESSION {r.name}: {r.error or 'output differs'}")
    print(f"check: {len(lost)} regression(s) against {passing.name}")
    return 1 if lost else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    suite = find_suite(args.suite) if not args.extra else Path(args.suite or EXTRA_SUITE)
    passing = EXTRA_PASSING if args.extra else PASSING
    if suite is None or not suite.is_dir():
        print("CSL test-suite not found (pass SUITE_DIR or set CSL_TEST_SUITE)", file=sys.stderr)
        return 2
    logging.disable(logging.CRITICAL)
    engine = ENGINES[args.engine]
    if (args.check or args.write_passing) and args.engine != "ours":
        print("--check and --write-passing are for our engine only", file=sys.stderr)
        return 2
    if args.engine == "citeproc-js":
        reason = _citeproc_js_tool().missing()
        if reason:
            print(f"cannot run citeproc-js: {reason}", file=sys.stderr)
            return 2
    if args.fixture:
        return _one(suite, args.fixture, engine, args.timeout)
    start = time.perf_counter()
    if isinstance(engine, CiteprocJs):
        engine.prefetch(_loadable(fixture_paths(suite)), args.timeout)
    results = run_suite(suite, engine, timeout=args.timeout)
    print(f"engine: {args.engine}; {len(results)} fixtures in "
          f"{time.perf_counter() - start:.1f} s\n{table(results)}")
    if args.failing:
        _list_failing(results, args.failing)
    if args.json:
        Path(args.json).write_text(json.dumps(as_json(results), indent=1, sort_keys=True))
    if args.write_passing:
        print(f"wrote {write_passing(results, passing)} names to {passing}")
    return _report_check(results, passing) if args.check else 0


if __name__ == "__main__":
    sys.exit(main())
