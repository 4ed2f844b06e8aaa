"""The prose around citations in our HTML, EPUB and PDF, against pandoc's (issue 12).

Every case of tests/prose/cases/ is built in three style kinds (author-date: apa,
numeric: ieee, note: chicago-notes-bibliography) in one project per style, and pandoc
(``--citeproc``, the same .csl file and bibliography) reads the same Markdown file.
For each case, style and format, our text must equal pandoc's: the prose of the case,
then the text of each note it calls (see tests/prose_compare.py for how text is taken
and what the PDF's line ends may stand for).  The reference lists are compared
separately, entry by entry.

A difference is allowed only if tests/prose/allowed.json lists it (case, style kind,
both HTML texts exactly, and a reason; docs/prose-comparison.md explains each).  An
allowed case's EPUB and PDF must then read as our HTML does.  An entry that no longer
occurs fails too, so the list stays true.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import prose_compare as pc

pytestmark = [pytest.mark.slow, pytest.mark.external]

CASES = pc.load_cases()
NAMES = [case.name for case in CASES]
SOURCES = {case.name: case.text for case in CASES}
KINDS = list(pc.STYLES)
ALLOWED = {(entry["case"], entry["style"]): entry for entry in pc.load_allowed()}
# The heading of our reference list in each style (the PDF's list starts at it).
MISSING = pc.CaseText("<missing>", ())
REFERENCES_HEADING = {"author-date": "References", "numeric": "References",
                      "note": "Bibliography"}


@dataclass
class Outputs:
    pandoc: dict[str, pc.CaseText]
    pandoc_refs: list[str]
    html: dict[str, pc.CaseText]
    html_refs: list[str]
    epub: dict[str, pc.CaseText]
    epub_refs: list[str]
    pdf: dict[str, str]


def has_pandoc() -> bool:
    try:
        import pypandoc
        return Path(pypandoc.get_pandoc_path()).exists()
    except Exception:
        return False


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Each style built once (ours: HTML, EPUB and PDF; pandoc: HTML), on first use."""
    if not has_pandoc():
        pytest.skip("pandoc (pypandoc-binary, the test extra) is not installed")
    made: dict[str, Outputs] = {}
    names = set(NAMES)

    def get(kind: str) -> Outputs:
        if kind not in made:
            style = pc.STYLES[kind]
            folder = tmp_path_factory.mktemp(f"prose-{kind}")
            project = pc.make_project(folder / "project", CASES)
            files = pc.build_ours(project, folder / "out", style)
            theirs = pc.pandoc_roots(pc.run_pandoc(project, style))
            ours = [pc.parse_html(files["html"].read_text(encoding="utf-8"))]
            epub = pc.epub_roots(files["epub"])
            made[kind] = Outputs(
                pc.case_texts(theirs, names), pc.references(theirs),
                pc.case_texts(ours, names), pc.references(ours),
                pc.case_texts(epub, names), pc.references(epub),
                pc.pdf_segments(files["pdf"], names | {REFERENCES_HEADING[kind]},
                                REFERENCES_HEADING[kind]))
        return made[kind]

    return get


def _report(case: str, kind: str, fmt: str, expected: str, actual: str,
            at: int | None = None) -> str:
    where = "" if at is None else f"\nfirst difference at offset {at}: ...{expected[at:at + 40]!r}"
    return (f"case {case!r}, style {kind} ({pc.STYLES[kind]}), {fmt}:\n"
            f"--- Markdown\n{SOURCES.get(case, '').strip()}\n"
            f"--- pandoc (expected)\n{expected}\n--- ours\n{actual}{where}")


def _first_difference(a: Any, b: Any) -> int:
    pairs = enumerate(zip(a, b, strict=False))  # (the shorter one's length when one ends)
    return next((i for i, (x, y) in pairs if x != y), min(len(a), len(b)))


def _expected(out: Outputs, case: str, kind: str) -> pc.CaseText:
    """Pandoc's text (its notes numbered as ours), or our reviewed HTML text where the
    difference is allowed."""
    mine = out.html.get(case, MISSING)
    return mine if (case, kind) in ALLOWED else out.pandoc[case].numbered(mine.numbers)


def test_corpus_is_big_and_well_formed() -> None:
    assert len(CASES) >= 60
    assert len(set(NAMES)) == len(NAMES)
    labels: list[str] = []
    for case in CASES:
        assert not re.search(r"^# ", case.text, re.M), f"{case.name}: level-1 headings are markers"
        labels += re.findall(r"^\[\^([^\]]+)\]:", case.text, re.M)
    assert len(labels) == len(set(labels)), "footnote labels must be unique across the corpus"
    text = "\n".join(case.text for case in CASES)
    for key in ("smith2018", "jones2020", "lee2019a", "lee2019b", "who2021", "mueller2017",
                "ivanov2015", "garcia2016"):
        assert f"@{key}" in text, f"{key} is never cited"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("case", NAMES)
def test_html(outputs: Any, case: str, kind: str) -> None:
    out = outputs(kind)
    mine = out.html.get(case, MISSING)
    theirs, ours = out.pandoc[case].numbered(mine.numbers).show(), mine.show()
    entry = ALLOWED.get((case, kind))
    if entry:
        assert theirs != ours, f"allowed difference no longer occurs: remove {case}/{kind} " \
                               "from tests/prose/allowed.json"
        assert (entry["pandoc"], entry["ours"]) == (theirs, ours), \
            "the allowed difference changed:\n" + _report(case, kind, "html", theirs, ours)
        return
    assert ours == theirs, _report(case, kind, "html", theirs, ours,
                                   _first_difference(theirs, ours))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("case", NAMES)
def test_epub(outputs: Any, case: str, kind: str) -> None:
    out = outputs(kind)
    expected = pc.expected_epub(_expected(out, case, kind)).show()
    ours = out.epub.get(case, MISSING).show()
    assert ours == expected, _report(case, kind, "epub", expected, ours,
                                     _first_difference(expected, ours))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("case", NAMES)
def test_pdf(outputs: Any, case: str, kind: str) -> None:
    out = outputs(kind)
    expected = pc.expected_pdf(_expected(out, case, kind))
    ours = out.pdf.get(case, "<missing>")
    same, at = pc.pdf_equal(expected, ours)
    assert same, _report(case, kind, "pdf", expected, ours, at)


@pytest.mark.parametrize("fmt", ["html", "epub"])
@pytest.mark.parametrize("kind", KINDS)
def test_note_numbers(outputs: Any, kind: str, fmt: str) -> None:
    """The note calls of the whole document, in order, numbered as pandoc numbers them.
    (The PDF's numbers are checked case by case: they must be our HTML's.)"""
    out = outputs(kind)
    texts = out.html if fmt == "html" else out.epub
    ours = [(name, n) for name in NAMES for n in texts.get(name, MISSING).numbers]
    theirs = [(name, n) for name in NAMES for n in out.pandoc[name].numbers]
    at = _first_difference(ours, theirs)  # type: ignore[arg-type]
    assert ours == theirs, (f"{kind} ({pc.STYLES[kind]}), {fmt}: the note numbers part at "
                            f"call {at}: ours {ours[at:at + 3]}, pandoc {theirs[at:at + 3]}")


@pytest.mark.parametrize("fmt", ["html", "epub", "pdf"])
@pytest.mark.parametrize("kind", KINDS)
def test_references(outputs: Any, kind: str, fmt: str) -> None:
    """The reference list: pandoc's entries, in pandoc's order, as text."""
    out = outputs(kind)
    expected = out.pandoc_refs
    if fmt == "pdf":  # with the PDF's no-break spaces ("H.\u00a0Brown", "pp.\u00a045")
        from builder.formats.pdf import no_break_text
        text = out.pdf.get(REFERENCES_HEADING[kind], "<missing>")
        entries = " ".join(no_break_text(entry) for entry in expected)
        same, at = pc.pdf_equal(entries, text)
        assert same, _report("references", kind, fmt, entries, text, at)
        return
    ours = out.html_refs if fmt == "html" else out.epub_refs
    assert ours == expected, _report("references", kind, fmt, "\n".join(expected),
                                     "\n".join(ours))


# -- the PDF's line ends: what they may stand for, and no more ---------------------------------
@pytest.mark.parametrize("expected, pdf, same", [
    ("the wells ran dry", "the wells\nran dry", True),          # a line end is a space
    ("the wells ran dry", "the wel-\nls ran dry", True),        # a soft hyphen
    ("water-borne", "water-\nborne", True),                     # a break after a real hyphen
    ("1990–2000", "1990–\n2000", True),                         # a break after a dash
    ("the wells ran dry", "the wells ran-\ndry", False),        # no hyphen at a space
    ("the wells ran dry", "the wellsran dry", False),
    ("water-borne", "waterborne", False),
    ("centuries. During", "centuries During", False),           # a lost full stop
    ("p.\u00a03", "p. 3", True),                                # a no-break space read as one
    ("p.\u00a03", "p.\n3", False),                              # ... but no line ends at it
])
def test_pdf_line_ends(expected: str, pdf: str, same: bool) -> None:
    assert pc.pdf_equal(expected, pdf)[0] is same
