"""The BibTeX reader against pandoc's: biblatex-examples.bib entry by entry, and the
biblatex rules pandoc follows (crossref inheritance, name syntax, sentence case)."""
from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

from builder.citations.bibtex import read_bibtex

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import bibtex_compare  # noqa: E402

EXAMPLES = ROOT.parent / "shared" / "realworld" / "biblatex" / "biblatex-examples.bib"
PATH = Path("refs.bib")


def items(text: str) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item, _ in read_bibtex(text, PATH)}


def reviewed() -> set[tuple[str, str]]:
    """(entry, field) pairs of the reviewed table in docs/bibtex.md."""
    doc = (ROOT / "docs" / "bibtex.md").read_text(encoding="utf-8")
    block = doc.split("<!-- reviewed -->")[1].split("<!-- /reviewed -->")[0]
    return {(row[0], row[1]) for row in (
        [cell.strip().strip("`") for cell in line.strip("|").split("|")]
        for line in block.splitlines() if line.startswith("| ") and not line.startswith("| entry"))}


@pytest.mark.external
@pytest.mark.skipif(not EXAMPLES.exists(), reason="../shared/realworld is absent")
def test_biblatex_examples_equal_pandoc_but_reviewed_fields() -> None:
    report = bibtex_compare.compare(EXAMPLES)
    assert len(report) == 92
    assert bibtex_compare.equal_count(report) >= 88
    allowed = reviewed()
    unreviewed = [diff for diffs in report.values() for diff in diffs
                  if (diff.entry, diff.field) not in allowed]
    assert unreviewed == []


def test_crossref_inheritance_follows_biblatex_table() -> None:
    got = items(r"""
@inbook{ch, crossref = {vol}, title = {Macbeth}, pages = {1--9}}
@book{vol, crossref = {set}, title = {Tragedies}, volume = 3, date = 1975}
@mvbook{set, author = {Shakespeare, William}, title = {Collected Works},
        publisher = {Publisher}, location = {London}, volumes = 4, shorttitle = {CW}}
""")
    assert got["ch"] == {
        "id": "ch", "type": "chapter", "title": "Macbeth", "page": "1-9",
        "author": [{"family": "Shakespeare", "given": "William"}],
        "container-author": [{"family": "Shakespeare", "given": "William"}],
        "container-title": "Collected works", "volume-title": "Tragedies",
        "volume": "3", "number-of-volumes": "4", "issued": {"date-parts": [[1975]]},
        "publisher": "Publisher", "publisher-place": "London",
    }


def test_xdata_is_copied_and_not_an_item() -> None:
    got = items("@xdata{pub, publisher = {P}, location = {L}}\n"
                "@book{b, xdata = {pub}, title = {T}}")
    assert got == {"b": {"id": "b", "type": "book", "title": "T", "publisher": "P",
                         "publisher-place": "L"}}


def test_extended_name_syntax() -> None:
    got = items("@book{b, author = {family=Gennep, prefix=van, useprefix=true, given=Arnold"
                " and given={Jean-Paul}, family=Sartre}}")
    assert got["b"]["author"] == [
        {"family": "Gennep", "given": "Arnold", "non-dropping-particle": "van"},
        {"family": "Sartre", "given": "Jean-Paul"}]


def test_hyphenated_given_names_reach_citeproc_whole() -> None:
    got = items("@book{b, author = {Ji-woo Kim and Park, Ji-Woo}}")
    assert got["b"]["author"] == [{"family": "Kim", "given": "Ji-woo"},
                                  {"family": "Park", "given": "Ji-Woo"}]


@pytest.mark.parametrize(("title", "langid", "expected"), [
    ("The {NASA} Way of Life", "", "The NASA way of life"),
    ("Higher-Dimensional Algebra {V}: 2-Groups", "english",
     "Higher-dimensional algebra V: 2-groups"),
    ("Hemingway's Style and {Jake's} Narration", "english",
     "Hemingway’s style and <span class=\"nocase\">Jake’s</span> narration"),
    ("{Up} Is Down. {t}he End", "", "Up is down. <span class=\"nocase\">t</span>he end"),
    ("Die Neue Zeit", "german", "Die Neue Zeit"),
    (r"Aristotle's \mkbibquote{De Motu Animalium}", "", "Aristotle’s “De Motu Animalium”"),
])
def test_sentence_case_with_protected_words(title: str, langid: str, expected: str) -> None:
    lang = f", langid = {{{langid}}}" if langid else ""
    assert items(f"@book{{b, title = {{{title}}}{lang}}}")["b"]["title"] == expected


def test_series_number_eprint_pubstate() -> None:
    got = items("@article{a, journaltitle = {J}, series = 2, eprint = {1234.5678},"
                " eprinttype = {arxiv}, pubstate = {forthcoming}, origdate = 1901}")["a"]
    assert (got["collection-title"], got["URL"], got["status"], got["original-date"]) == (
        "2nd series", "https://arxiv.org/abs/1234.5678", "forthcoming", {"date-parts": [[1901]]})


def test_reviewed_table_is_well_formed() -> None:
    assert all(re.fullmatch(r"[\w:/.-]+", entry) for entry, _ in reviewed())


PANDOC_TESTS = ROOT.parent / "shared" / "realworld" / "pandoc_tests" / "command"
# pandoc's own reader tests (biblatex-*.md, bibtex-*.md) where our item differs, and why.
PANDOC_TEST_DIFFERENCES = {
    # biblatex's \arabic{author} counts the authors (a LaTeX counter): pandoc keeps it as
    # raw LaTeX, which its CSL output drops to a double space; we print nothing
    ("biblatex-cotton.md", "cotton", "annote"), ("biblatex-murray.md", "murray", "annote"),
    # an open range ("1999-10-14/", "1998/unknown", "1999/open") is its start date for us;
    # pandoc keeps an empty end, which citeproc-py cannot render
    ("biblatex-dates.md", "date-ranges-open", "accessed"),
    ("biblatex-dates.md", "date-ranges-open", "event-date"),
    ("biblatex-dates.md", "date-ranges-open", "issued"),
    ("biblatex-dates.md", "date-ranges-open", "original-date"),
    ("biblatex-edtf-date.md", "item3-3", "issued"), ("biblatex-edtf-date.md", "item3-4", "issued"),
    # EDTF's year 0 (1 BC): pandoc drops the date, we keep year 0
    ("biblatex-edtf-date.md", "item5-1", "issued"),
    # a @bookinbook is a chapter for us, as for pandoc 3.9's reader on biblatex-examples.bib
    # (kant:kpv, kant:ku); this older pandoc test expects a book
    ("biblatex-crossref-nested.md", "bookinbook-1", "type"),
}


@pytest.mark.skipif(not PANDOC_TESTS.is_dir(), reason="../shared/realworld is absent")
def test_pandocs_own_reader_tests_but_reviewed_fields() -> None:
    """Every item of pandoc's 124 BibTeX/BibLaTeX reader tests, field by field
    (tools/pandoc_bibtests.py), equals pandoc's expected item but for the reviewed ones."""
    import pandoc_bibtests
    found, tests = set(), 0
    for path in pandoc_bibtests.test_files(PANDOC_TESTS):
        result = pandoc_bibtests.compare_file(path)
        if result is None:
            continue
        tests += 1
        found |= {(path.name, key, field) for key, field, _, _ in result[2]}
    assert tests == 124
    assert found == PANDOC_TEST_DIFFERENCES


# The entries of biblatex-examples.bib as a reader of the book sees them, ours against
# pandoc --citeproc's (tools/bibtex_compare.py --render; docs/bibtex.md): the measured
# counts of identical entries, and every difference reviewed in
# tests/data/bibtex_render_reviewed.json.
RENDERED_SAME = {"apa": 90, "chicago-author-date": 87, "ieee": 86}


@pytest.fixture(scope="module")
def rendered() -> dict[str, bibtex_compare.Rendered]:
    return {r.style: r for r in bibtex_compare.render_all(EXAMPLES)}


@pytest.mark.slow
@pytest.mark.external
@pytest.mark.skipif(not EXAMPLES.exists(), reason="../shared/realworld is absent")
@pytest.mark.parametrize("style", sorted(RENDERED_SAME))
def test_rendered_entries_match_pandoc_but_reviewed(
        rendered: dict[str, bibtex_compare.Rendered], style: str) -> None:
    result = rendered[style]
    assert result.entries == 92
    assert result.same >= RENDERED_SAME[style]
    assert [(d["key"], d["ours"], d["pandoc"]) for d in result.unreviewed] == []


def test_render_reviewed_records_are_complete() -> None:
    records = bibtex_compare.load_render_reviewed()
    classes = {"ours wrong", "ours wrong, engine", "pandoc wrong", "we choose otherwise"}
    assert records
    for record in records:
        assert record["style"] in RENDERED_SAME
        assert record["classification"] in classes, record
        assert record["reason"] and record["ours"] and record["pandoc"], record
