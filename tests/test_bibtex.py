"""Tests for the BibTeX/BibLaTeX → CSL-JSON converter."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.citations.bibtex import read_bibtex
from builder.errors import BuildError

BIB_DIR = Path(__file__).parent.parent / "bibliography"
PATH = Path("refs.bib")
NBSP = "\N{NO-BREAK SPACE}"
NOCASE = '<span class="nocase">{}</span>'


def items(text: str) -> list[dict[str, Any]]:
    return [item for item, _ in read_bibtex(text, PATH)]


def one(text: str) -> dict[str, Any]:
    (item,) = items(text)
    return item


def field(name: str, value: str, entry_type: str = "misc") -> Any:
    """The CSL item of a one-field entry."""
    return one(f"@{entry_type}{{k, {name} = {{{value}}}}}")


def error(text: str) -> BuildError:
    with pytest.raises(BuildError) as info:
        read_bibtex(text, PATH)
    return info.value


# --- LaTeX ------------------------------------------------------------------

@pytest.mark.parametrize(("latex", "text"), [
    (r"Schr\"{o}dinger", "Schrödinger"),
    (r"Schr\"odinger", "Schrödinger"),
    (r"Stra{\ss}e", "Straße"),
    (r"Caf\'e \c{c}a \v{S}koda {\o}re", "Café ça Škoda øre"),
    (r"pages 1--10 and---so", "pages 1–10 and—so"),
    (r"Figure~1", f"Figure{NBSP}1"),
    (r"Smith \& Sons", "Smith & Sons"),
    (r"50\% off", "50% off"),
    (r"{\LaTeX} and \TeX", "LaTeX and TeX"),
    ("several\n   lines", "several lines"),
    ("100% sure", "100% sure"),
    (r"see \url{https://example.org} or \href{https://example.org}{the site}",
     "see https://example.org or the site"),
    (r"H\textsubscript{2}O and E = mc\textsuperscript{2}", "H<sub>2</sub>O and E = mc<sup>2</sup>"),
])
def test_latex_is_decoded(latex: str, text: str) -> None:
    assert field("note", latex)["note"] == text


@pytest.mark.parametrize(("latex", "html"), [
    (r"the \emph{Moon}", "the <i>Moon</i>"),
    (r"the \textit{Moon}", "the <i>Moon</i>"),
    (r"the {\em Moon}", "the <i>Moon</i>"),
    (r"a \textbf{bold} move", "a <b>bold</b> move"),
    (r"\textsc{Unesco} report", '<span style="font-variant:small-caps;">Unesco</span> report'),
])
def test_font_commands_become_csl_markup(latex: str, html: str) -> None:
    assert field("note", latex)["note"] == html


def test_braces_in_titles_protect_case() -> None:
    item = field("title", r"The {NASA} Budget and {\LaTeX} of {van Gogh}")
    # sentence case keeps {NASA}; the span stays only where a word is lowercase
    assert item["title"] == f"The NASA budget and LaTeX of {NOCASE.format('van Gogh')}"


def test_doubly_braced_title_is_wholly_protected() -> None:
    assert field("title", "{Whole Title}")["title"] == "Whole Title"
    assert field("title", "{Whole title}")["title"] == NOCASE.format("Whole title")


def test_outer_braces_of_the_value_are_not_protection() -> None:
    assert one("@misc{k, title = {Plain Title}}")["title"] == "Plain title"
    assert one('@misc{k, title = "Plain {dNA}"}')["title"] == f"Plain {NOCASE.format('dNA')}"


def test_special_characters_in_braces_are_not_protection() -> None:
    assert field("title", r"{\"O}sterreich")["title"] == "Österreich"


def test_braces_outside_titles_are_removed() -> None:
    assert field("note", "about {NASA}")["note"] == "about NASA"


def test_emph_inside_title_with_protection() -> None:
    item = field("title", r"{DNA} in \emph{{E. coli}}")
    assert item["title"] == f"DNA in <i>{NOCASE.format('E. coli')}</i>"


def test_nocase_markup_reaches_citeproc() -> None:
    from citeproc.source.json import CiteProcJSON
    from citeproc.string import NoCase

    parsed = CiteProcJSON([]).parse_string(field("title", "The {iPod} Budget")["title"])
    assert [str(part) for part in parsed if isinstance(part, NoCase)] == ["iPod"]


# --- names ------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "name"), [
    ("Knuth, Donald E.", {"family": "Knuth", "given": "Donald E."}),
    ("Donald E. Knuth", {"family": "Knuth", "given": "Donald E."}),
    ("Plato", {"family": "Plato"}),
    ("van der Berg, Jan", {"family": "Berg", "given": "Jan", "dropping-particle": "van der"}),
    ("Ludwig van Beethoven", {"family": "Beethoven", "given": "Ludwig",
                              "dropping-particle": "van"}),
    ("de la Fontaine, Jr., Jean", {"family": "Fontaine", "given": "Jean",
                                   "dropping-particle": "de la", "suffix": "Jr."}),
    ("King, Jr, Martin Luther", {"family": "King", "given": "Martin Luther", "suffix": "Jr"}),
    (r"M{\"u}ller, Hans", {"family": "Müller", "given": "Hans"}),
    (r"J.~R.~R. Tolkien", {"family": "Tolkien", "given": "J. R. R."}),
    ("John {de Vries}", {"family": "de Vries", "given": "John"}),
    (r"{\'E}mile Zola", {"family": "Zola", "given": "Émile"}),
    ("{World Health Organization}", {"literal": "World Health Organization"}),
    ("{Barnes and Noble}", {"literal": "Barnes and Noble"}),
])
def test_name_forms(raw: str, name: dict[str, str]) -> None:
    assert field("author", raw)["author"] == [name]


def test_name_list_drops_others() -> None:
    item = field("author", "Doe, Jane and John Roe AND others")
    assert item["author"] == [{"family": "Doe", "given": "Jane"},
                              {"family": "Roe", "given": "John"}]


def test_editor_translator_and_bookauthor() -> None:
    item = one("@incollection{k, editor = {Ann Ed}, translator = {Tom Tr}, bookauthor = {Bo Au}}")
    assert item["editor"] == [{"family": "Ed", "given": "Ann"}]
    assert item["translator"] == [{"family": "Tr", "given": "Tom"}]
    assert item["container-author"] == [{"family": "Au", "given": "Bo"}]


# --- dates ------------------------------------------------------------------

@pytest.mark.parametrize(("month", "number"), [
    ("3", 3), ("{3}", 3), ("{03}", 3), ("mar", 3), ("MAR", 3), ("{March}", 3), ('"Mar."', 3),
    ("dec", 12),
])
def test_year_and_month(month: str, number: int) -> None:
    item = one(f"@misc{{k, year = 2001, month = {month}}}")
    assert item["issued"] == {"date-parts": [[2001, number]]}


def test_year_month_day() -> None:
    item = one("@misc{k, year = {2001}, month = {feb}, day = {14}}")
    assert item["issued"] == {"date-parts": [[2001, 2, 14]]}


def test_unknown_month_is_ignored() -> None:
    assert one("@misc{k, year = 2001, month = {Spring}}")["issued"] == {"date-parts": [[2001]]}


@pytest.mark.parametrize(("date", "issued"), [
    ("2018", {"date-parts": [[2018]]}),
    ("2018-02", {"date-parts": [[2018, 2]]}),
    ("2018-02-05", {"date-parts": [[2018, 2, 5]]}),
    ("2001/2003", {"date-parts": [[2001], [2003]]}),
    ("2001-05/2001-06-02", {"date-parts": [[2001, 5], [2001, 6, 2]]}),
    ("1850~", {"date-parts": [[1850]], "circa": True}),
    ("forthcoming", {"literal": "forthcoming"}),
    ("2019-13-01", {"literal": "2019-13-01"}),
])
def test_date_field(date: str, issued: dict[str, Any]) -> None:
    assert field("date", date)["issued"] == issued


def test_date_wins_over_year() -> None:
    assert one("@misc{k, date = {2018-02-05}, year = {1999}}")["issued"] == {
        "date-parts": [[2018, 2, 5]]}


@pytest.mark.parametrize("year", ["n.d.", "{n.d.}", "forthcoming"])
def test_non_numeric_year_is_literal(year: str) -> None:
    assert field("year", year)["issued"] == {"literal": year.strip("{}")}


def test_urldate_is_accessed() -> None:
    item = one("@online{k, url = {https://example.org/a_b%20c}, urldate = {2018-01-17}}")
    assert item["accessed"] == {"date-parts": [[2018, 1, 17]]}
    assert item["URL"] == "https://example.org/a_b%20c"
    assert "issued" not in item


# --- types ------------------------------------------------------------------

@pytest.mark.parametrize(("bibtex", "csl"), [
    ("book", "book"), ("mvbook", "book"), ("inbook", "chapter"), ("bookinbook", "chapter"),
    ("incollection", "chapter"), ("inproceedings", "paper-conference"),
    ("conference", "paper-conference"), ("proceedings", "book"), ("collection", "book"),
    ("manual", "book"), ("misc", "document"), ("online", "webpage"), ("electronic", "webpage"),
    ("www", "webpage"), ("report", "report"), ("techreport", "report"), ("thesis", "thesis"),
    ("unpublished", "manuscript"), ("patent", "patent"), ("periodical", "article-journal"),
    ("dataset", "dataset"), ("software", "book"), ("booklet", "pamphlet"),
    ("inreference", "entry-encyclopedia"), ("somethingelse", "document"), ("ONLINE", "webpage"),
])
def test_type_mapping(bibtex: str, csl: str) -> None:
    assert one(f"@{bibtex}{{k, title = {{T}}}}")["type"] == csl


def test_article_types() -> None:
    assert one("@article{k, journal = {Nature}}")["type"] == "article-journal"
    assert one("@article{k, journaltitle = {Nature}}")["type"] == "article-journal"
    magazine = one("@article{k, journal = {Time}, entrysubtype = {magazine}}")
    assert magazine["type"] == "article-magazine"
    assert one("@article{k, title = {A preprint}}")["type"] == "article-journal"  # as pandoc


@pytest.mark.parametrize(("entry", "genre"), [
    ("@phdthesis{k, school = {MIT}}", "PhD thesis"),
    ("@mastersthesis{k, school = {MIT}}", "Master\N{RIGHT SINGLE QUOTATION MARK}s thesis"),
    ("@thesis{k, type = {phdthesis}}", "PhD thesis"),
    ("@thesis{k, type = {mathesis}}", "Master\N{RIGHT SINGLE QUOTATION MARK}s thesis"),
    ("@thesis{k, type = {Habilitation}}", "Habilitation"),
    ("@report{k, type = {Working paper}}", "Working paper"),
])
def test_thesis_and_report_genre(entry: str, genre: str) -> None:
    assert one(entry)["genre"] == genre


def test_school_and_institution_are_publisher() -> None:
    assert one("@phdthesis{k, school = {MIT}}")["publisher"] == "MIT"
    assert one("@techreport{k, institution = {RAND}, number = {R-1}}") == {
        "id": "k", "type": "report", "publisher": "RAND", "number": "R-1"}


# --- fields -----------------------------------------------------------------

def test_article_fields() -> None:
    item = one(r"""@article{Smith2001,
      author = {Smith, John},
      title = {A Study},
      subtitle = {With Results},
      journal = {Journal of {DNA}},
      shortjournal = {J. DNA},
      volume = {12}, number = {3}, pages = {101--110},
      doi = {10.1000/xyz_1}, issn = {1234-5678},
      note = {In press}, abstract = {We study.},
      langid = {english},
    }""")
    assert item == {
        "id": "Smith2001", "type": "article-journal",
        "author": [{"family": "Smith", "given": "John"}],
        "title": "A study: With results", "title-short": "A study",
        "container-title": f"Journal of {NOCASE.format('DNA')}",
        "container-title-short": "J. DNA",
        "volume": "12", "issue": "3", "page": "101-110",
        "DOI": "10.1000/xyz_1", "ISSN": "1234-5678",
        "note": "In press", "abstract": "We study.", "language": "en-US",
    }


def test_book_fields() -> None:
    item = one("""@book{k, title = {Why?}, subtitle = {Because}, publisher = {Penguin},
                 location = {London}, edition = {2}, series = {Classics}, isbn = {978-0},
                 year = 1990}""")
    assert item["title"] == "Why? Because"
    assert item["publisher"] == "Penguin"
    assert item["publisher-place"] == "London"
    assert item["edition"] == "2"
    assert item["collection-title"] == "Classics"
    assert item["ISBN"] == "978-0"


def test_chapter_and_paper_containers() -> None:
    chapter = one("@incollection{k, title = {Ch}, booktitle = {The Book}, address = {Paris}}")
    assert chapter["container-title"] == "The book"
    assert chapter["publisher-place"] == "Paris"
    paper = one("@inproceedings{k, title = {P}, booktitle = {Proceedings of {ACM}}}")
    assert paper["container-title"] == "Proceedings of ACM"
    inbook = one("@inbook{k, title = {Ch}, maintitle = {Collected Works}}")
    assert inbook["container-title"] == "Collected works"


def test_number_is_issue_only_for_serials() -> None:
    assert one("@article{k, journal = {J}, number = 4}")["issue"] == "4"
    assert one("@report{k, number = 4}")["number"] == "4"


def test_unknown_fields_are_ignored() -> None:
    assert one("@misc{k, eprint = {1234}, file = {a.pdf}, owner = {me}}") == {
        "id": "k", "type": "document"}


# --- blocks -----------------------------------------------------------------

def test_string_macros_and_concatenation() -> None:
    text = """@string{ny = "New York"}
@STRING{Pub = {Big } # "House"}
@comment{ignored @misc{not, an = {entry}} }
@preamble{"\\newcommand{\\noop}[1]{}"}
Free text between entries is ignored.
@book{k, publisher = pub, address = NY # {, NY}, note = "Vol. " # 3}
"""
    item = one(text)
    assert item["publisher"] == "Big House"
    assert item["publisher-place"] == "New York, NY"
    assert item["note"] == "Vol. 3"


def test_keys_keep_case_and_lines_point_at_the_at_sign() -> None:
    text = "% comment\n\n@misc{CamelKey,\n  title = {A}}\n\n\n  @Book{lower:key-1, title = {B}}\n"
    result = read_bibtex(text, PATH)
    assert [(item["id"], line) for item, line in result] == [("CamelKey", 3), ("lower:key-1", 7)]


def test_field_names_are_case_insensitive() -> None:
    assert one("@misc{k, TITLE = {T}, Year = 2000}") == {
        "id": "k", "type": "document", "title": "T", "issued": {"date-parts": [[2000]]}}


# --- errors -----------------------------------------------------------------

def test_malformed_entry_reports_its_line() -> None:
    err = error("@misc{a, title = {ok}}\n\n@misc{b title = {no comma}}\n")
    assert err.line == 3
    assert err.path == PATH
    assert "malformed BibTeX entry" in err.message
    assert err.hint


def test_unbalanced_brace_reports_the_entry_line() -> None:
    err = error("@misc{a, title = {ok}}\n@misc{b,\n  title = {open}\n@misc{c, title = {x}}\n")
    assert err.line == 2
    assert "malformed BibTeX entry" in err.message


def test_unterminated_entry_at_end_of_file() -> None:
    assert error("@misc{a, title = {ok}}\n\n@misc{b, title = {x}\n").line == 3


def test_duplicate_key_names_the_second_line() -> None:
    err = error("@misc{dup, title = {one}}\n\n@misc{other, title = {x}}\n"
                "@book{dup, title = {two}}\n")
    assert err.line == 4
    assert "duplicate citation key 'dup'" in err.message
    assert "line 1" in err.message


def test_duplicate_key_differing_in_case() -> None:
    err = error("@misc{Dup, title = {one}}\n@misc{dup, title = {two}}\n")
    assert err.line == 2
    assert "duplicate" in err.message


def test_entry_without_key() -> None:
    err = error("@misc{a, title = {x}}\n@misc{, title = {no key}}\n")
    assert err.line == 2
    assert "without a citation key" in err.message


def test_undefined_macro() -> None:
    err = error("@misc{a,\n  journal = nature}\n")
    assert err.line == 2
    assert "undefined @string macro 'nature'" in err.message


def test_missing_comma_between_fields() -> None:
    err = error("@misc{a,\n  title = {x}\n  note = {y}}\n")
    assert err.line == 2
    assert "expected ','" in err.message


def test_duplicate_field() -> None:
    err = error("@misc{a,\n  title = {x},\n  Title = {y}}\n")
    assert err.line == 3
    assert "duplicate field 'title'" in err.message


def test_redefining_a_macro_is_allowed() -> None:
    assert one("@string{x = {1}}\n@string{x = {2}}\n@misc{k, note = x}")["note"] == "2"


def test_braces_nested_to_the_limit_are_read() -> None:
    depth = 100  # inside the value's own braces
    title = one("@misc{k,\n  title = {" + "{" * depth + "X" + "}" * depth + "}}")["title"]
    assert title == "X"


def test_braces_nested_past_the_limit_name_the_field_line() -> None:
    depth = 101
    err = error("@misc{k,\n  note = {x},\n  title = {" + "{" * depth + "X" + "}" * depth + "}}")
    assert err.line == 3
    assert err.message == ("braces nested 101 deep inside field 'title' of entry 'k' "
                           "(the limit is 100)")
    assert err.hint


def test_escaped_braces_do_not_count_as_nesting() -> None:
    assert "{" * 150 in one("@misc{k, note = {" + "\\{" * 150 + "x}}")["note"]


def test_commands_nested_too_deep_are_an_error_at_the_entry() -> None:
    err = error("@misc{a, note = {x}}\n\n@misc{k,\n  title = {" + "\\begin{itemize}" * 3000 + "x}}")
    assert err.line == 3
    assert err.message == "entry 'k' is nested too deeply to read"
    assert err.hint


BIB_PIECES = st.sampled_from(
    list('@{}",=#%\\ \n~-aB0') + ["@misc{", "@string{", "title", "author", " and ", "others",
                                  "month", "jan", "date", "year", r"\emph", r"{\"o}", "--"])


@settings(max_examples=300, deadline=None)
@given(st.lists(BIB_PIECES, max_size=40).map("".join))
def test_any_input_gives_items_or_a_build_error(text: str) -> None:
    try:
        result = read_bibtex(text, PATH)
    except BuildError as err:
        assert err.path == PATH and err.line is not None and err.line >= 1
    else:
        assert all(item["id"] and item["type"] and line >= 1 for item, line in result)


def test_error_string_format() -> None:
    assert str(error("@misc{k, note = foo}")).startswith(
        "refs.bib:1: error: invalid value of field 'note'")


# --- the project's bibliography ------------------------------------------------

def normalise(item: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "type", "title", "issued", "accessed")
    out = {key: item.get(key) for key in keys}
    # the .bib protects its title-case titles with {{double braces}}: a nocase span
    out["title"] = re.sub(r"</?span[^>]*>", "", out["title"] or "")
    out["author"] = [name.get("literal") for name in item.get("author", [])]
    return out


def test_references_bib_matches_references_json() -> None:
    converted = items((BIB_DIR / "references.bib").read_text(encoding="utf-8"))
    expected = json.loads((BIB_DIR / "references.json").read_text(encoding="utf-8"))
    assert len(converted) == len(expected) == 7
    for got, want in zip(converted, expected, strict=False):
        assert normalise(got) == normalise(want)
