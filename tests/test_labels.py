"""citation-label made from an item's names and year (builder/citations/labels.py)."""
from __future__ import annotations

import pytest

from builder.citations import csl_engine
from builder.citations.labels import citation_label


def _item(*families: str, year: int | None = 2000) -> dict[str, object]:
    item: dict[str, object] = {"id": "x", "type": "book",
                               "author": [{"family": f, "given": "A."} for f in families]}
    if year is not None:
        item["issued"] = {"date-parts": [[year]]}
    return item


@pytest.mark.parametrize(("families", "label"), [
    (("Asthma",), "Asth00"),
    (("Bronchitis", "Cholera"), "BrCh00"),
    (("Asthma", "Bronchitis", "Cold"), "AsBC00"),
    (("von Dipheria", "Eczema", "Flatulence", "Goiter", "Hiccups"), "DEFG00"),
])
def test_letters_by_number_of_names(families: tuple[str, ...], label: str) -> None:
    assert citation_label(_item(*families)) == label


def test_no_names_no_label_and_no_year_no_digits() -> None:
    assert citation_label({"id": "x", "type": "book", "title": "T"}) is None
    assert citation_label(_item("Aalto", year=None)) == "Aalt"


STYLE = """<style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" version="1.0">
<info><id/><title/><updated>2024-01-01T00:00:00+00:00</updated></info>
<citation disambiguate-add-year-suffix="true"><layout delimiter="; ">
<text variable="citation-label"/></layout></citation></style>"""


def test_the_year_suffix_of_a_label_style_follows_the_label() -> None:
    items = [{**_item("Aalto", year=2002), "id": f"a{n}", "title": f"Book {n}"} for n in (1, 2)]
    items.append({**_item("Xu", year=1999), "id": "x", "citation-label": "Given99"})
    out = csl_engine(STYLE, items, [[{"id": "a1"}, {"id": "a2"}, {"id": "x"}]], "citation")
    assert out == "Aalt02a; Aalt02b; Given99"
