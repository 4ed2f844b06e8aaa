"""builder.highlight: Pandoc's token classes from Pygments, long lines cut for the PDF,
and the theme's code font (IBM Plex Mono) and stylesheet (styles/report/css/code.css).

The PDF test lays a wrapped block out with WeasyPrint and reads every piece of text's
position back with pypdf: nothing passes the right margin, and the font is embedded.
"""
from __future__ import annotations

import html
import io
import logging
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.highlight import (
    CONTINUATION,
    TAB_SIZE,
    code_block,
    highlight,
    mono_advance,
    supported,
    wrap_columns,
)

ROOT = Path(__file__).resolve().parent.parent
CODE_CSS = ROOT / "styles" / "report" / "css" / "code.css"
MONO = "IBM Plex Mono"
KAZAKH = "әғқңөұүһіӘҒҚҢӨҰҮҺІ"
MARK = f'<span class="continuation" aria-hidden="true">{CONTINUATION}</span>'


def visible(markup: str) -> str:
    """The text a reader sees: tags removed, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def inner(markup: str) -> str:
    """The content of the <code> element."""
    match = re.fullmatch(r"<code[^>]*>(.*)</code>", markup, re.S)
    assert match, markup
    return match.group(1)


def unwrap(markup: str) -> str:
    """The code back from a wrapped block: marks and the breaks before them removed."""
    return visible(inner(markup).replace("\n" + MARK, ""))


# --- token classes ---------------------------------------------------------------------


def test_python():
    code = ('import os\n@cache\ndef f(x: int = 1) -> str:\n    """Doc."""\n'
            '    if x > 0.5 and self:\n        return f"{x}\\n"  # note\n'
            '    raise ValueError(0x1F)\n')
    assert highlight(code, "python") == (
        '<code class="sourceCode python"><span class="im">import</span> os\n'
        '<span class="at">@cache</span>\n'
        '<span class="kw">def</span> <span class="fu">f</span>(x: <span class="bu">int</span> '
        '<span class="op">=</span> <span class="dv">1</span>) <span class="op">-&gt;</span> '
        '<span class="bu">str</span>:\n'
        '    <span class="co">"""Doc."""</span>\n'
        '    <span class="cf">if</span> x <span class="op">&gt;</span> <span class="fl">0.5</span>'
        ' <span class="kw">and</span> <span class="va">self</span>:\n'
        '        <span class="cf">return</span> <span class="st">f"</span>'
        '<span class="ss">{</span>x<span class="ss">}</span><span class="sc">\\n</span>'
        '<span class="st">"</span>  '
        '<span class="co"># note</span>\n'
        '    <span class="cf">raise</span> <span class="bu">ValueError</span>'
        '(<span class="bn">0x1F</span>)</code>')


def test_javascript():
    code = 'const x = [1, 2.5];\nfunction f(a) { return a === null ? "s" : `t${a}`; } // c\n'
    assert highlight(code, "javascript") == (
        '<code class="sourceCode javascript"><span class="kw">const</span> x '
        '<span class="op">=</span> [<span class="dv">1</span>, <span class="fl">2.5</span>];\n'
        '<span class="kw">function</span> f(a) { <span class="cf">return</span> a '
        '<span class="op">===</span> <span class="cn">null</span> <span class="op">?</span> '
        '<span class="st">"s"</span> <span class="op">:</span> <span class="st">`t</span>'
        '<span class="ss">${</span>a<span class="ss">}</span><span class="st">`</span>; } '
        '<span class="co">// c</span></code>')


def test_r():
    code = "library(dplyr)\nf <- function(x, na.rm = TRUE) {\n  mean(x) # c\n}\n"
    assert highlight(code, "r") == (
        '<code class="sourceCode r"><span class="fu">library</span>(dplyr)\n'
        'f <span class="op">&lt;-</span> <span class="kw">function</span>(x, na.rm '
        '<span class="op">=</span> <span class="cn">TRUE</span>) {\n'
        '  <span class="fu">mean</span>(x) <span class="co"># c</span>\n}</code>')


def test_bash():
    code = '#!/bin/bash\nfor f in *.txt; do\n  echo "$f" > /dev/null  # c\ndone\nexport A=1\n'
    assert highlight(code, "bash") == (
        '<code class="sourceCode bash"><span class="co">#!/bin/bash</span>\n'
        '<span class="cf">for</span> f <span class="kw">in</span> *.txt; '
        '<span class="cf">do</span>\n'
        '  <span class="bu">echo</span> <span class="st">"</span><span class="va">$f</span>'
        '<span class="st">"</span> &gt; /dev/null  <span class="co"># c</span>\n'
        '<span class="cf">done</span>\n'
        '<span class="bu">export</span> <span class="va">A</span><span class="op">=</span>'
        '<span class="dv">1</span></code>')
    assert highlight("ls\n", "sh") == highlight("ls\n", "bash").replace("bash", "sh")


def test_json():
    assert highlight('{"a": [1, 2.5, true, null], "b": "s"}\n', "json") == (
        '<code class="sourceCode json">{<span class="dt">"a"</span>: [<span class="dv">1</span>, '
        '<span class="fl">2.5</span>, <span class="cn">true</span>, <span class="cn">null</span>'
        '], <span class="dt">"b"</span>: <span class="st">"s"</span>}</code>')


def test_kazakh_comment_and_names():
    code = '# Сәлем, әлем: қ ғ ң ө ұ ү һ і\nсәлем = "Қазақстан"  # Ұлы Дала\n'
    assert highlight(code, "python") == (
        '<code class="sourceCode python"><span class="co"># Сәлем, әлем: қ ғ ң ө ұ ү һ і</span>\n'
        'сәлем <span class="op">=</span> <span class="st">"Қазақстан"</span>  '
        '<span class="co"># Ұлы Дала</span></code>')


def test_no_span_crosses_a_line_and_runs_merge():
    out = highlight('"""one\ntwo"""\n# a\n# b\n', "python")
    assert out == ('<code class="sourceCode python"><span class="co">"""one</span>\n'
                   '<span class="co">two"""</span>\n<span class="co"># a</span>\n'
                   '<span class="co"># b</span></code>')


# --- escaping, plain code, the block -------------------------------------------------------


def test_escaping():
    out = highlight('if a < b && c > d: s = "<b>&amp;</b>"', "python")
    assert "&lt;" in out and "&amp;&amp;" in out and "&amp;amp;" in out
    assert visible(inner(out)) == 'if a < b && c > d: s = "<b>&amp;</b>"'
    assert highlight("a < b & c", None) == "<code>a &lt; b &amp; c</code>"
    assert highlight('<a href="x">', "html").count("<span") == 4  # the only tags are ours


def test_unknown_or_missing_language_is_plain():
    code = "x <- 1 & <tag>\n  second line\n"
    plain = "<code>x &lt;- 1 &amp; &lt;tag&gt;\n  second line</code>"
    assert highlight(code, "no-such-language") == plain
    assert highlight(code, None) == plain
    assert highlight(code, "") == plain
    assert not supported("no-such-language") and not supported(None) and not supported("")
    assert supported("python") and supported("Python") and supported("r") and supported("sh")


def test_line_ends_and_control_characters():
    assert highlight("a\r\nb\rc\n", None) == "<code>a\nb\nc</code>"
    assert highlight("a\n\n", None) == "<code>a\n</code>"  # only the last line end goes
    assert highlight("x = 1\x0c\n", "python") == (
        '<code class="sourceCode python">x <span class="op">=</span> '
        '<span class="dv">1</span>\ufffd</code>')  # no character XML forbids


def test_code_block_is_nested_as_pandoc_does():
    assert code_block("x = 1\n", "python", block_id="cb1") == (
        '<div class="sourceCode" id="cb1"><pre class="sourceCode python">'
        '<code class="sourceCode python">x <span class="op">=</span> <span class="dv">1</span>'
        "</code></pre></div>")
    assert code_block("x\n", "nope") == '<pre class="nope"><code>x</code></pre>'
    assert code_block("x\n", None) == "<pre><code>x</code></pre>"


def test_deterministic():
    code = (ROOT / "builder" / "highlight.py").read_text(encoding="utf-8")
    assert highlight(code, "python", 60) == highlight(code, "python", 60)
    assert visible(inner(highlight(code, "python"))) == code.removesuffix("\n")


# --- wrapping -----------------------------------------------------------------------------

LONG = ("result = compute_the_value(first_argument, second_argument) + "
        'another_call("a string <with> & spaces", key=3.5)  # Сәлем, әлем! қ ң')


def test_wrap_at_60_of_a_120_character_line():
    line = (LONG + " " + "z" * 120)[:120]
    assert len(line) == 120
    out = highlight(line, "python", wrap=60)
    lines = inner(out).split("\n")
    assert len(lines) == 3
    assert all(len(visible(x)) <= 60 for x in lines), [visible(x) for x in lines]
    assert not lines[0].startswith(MARK) and all(x.startswith(MARK) for x in lines[1:])
    assert unwrap(out) == line
    # the cuts fall after a space (no word is split), not between "#" and its comment
    assert [visible(x) for x in lines] == [
        "result = compute_the_value(first_argument, second_argument) ",
        f'{CONTINUATION}+ another_call("a string <with> & spaces", key=3.5)  ',
        f"{CONTINUATION}# Сәлем"]
    # the spans are cut with the text: each line is well-formed on its own
    assert all(x.count("<span") == x.count("</span>") for x in lines)
    assert '<span class="st">"a string &lt;with&gt; &amp; spaces"</span>' in lines[1]


def test_wrap_without_spaces_prefers_punctuation_then_cuts_hard():
    line = "alpha.beta.gamma(delta,epsilon,zeta)[eta]+theta*iota/kappa-lambda|mu&nu;xi;omicron"
    out = highlight(line, None, wrap=30)
    rows = [visible(x) for x in inner(out).split("\n")]
    assert all(len(r) <= 30 for r in rows) and unwrap(out) == line
    assert rows[0] == "alpha.beta.gamma(delta," and rows[0][-1] in ",.(["
    hard = highlight("x" * 130, None, wrap=60)
    assert [len(visible(r)) for r in inner(hard).split("\n")] == [60, 60, 14]
    assert unwrap(hard) == "x" * 130
    # entities are never cut: every & < > is whole
    ampersands = highlight("&<>" * 50, "python", wrap=20)
    assert all(len(visible(r)) <= 20 for r in inner(ampersands).split("\n"))
    assert unwrap(ampersands) == "&<>" * 50


def test_wrap_leaves_short_lines_and_counts_tabs_and_wide_characters():
    code = "short\n\n\tif x:\n"
    assert highlight(code, "python", wrap=60) == highlight(code, "python")
    tabbed = "\t" + "a" * 20  # a tab takes TAB_SIZE columns
    assert "\n" not in inner(highlight(tabbed, None, wrap=20 + TAB_SIZE))
    assert "\n" in inner(highlight(tabbed, None, wrap=20 + TAB_SIZE - 1))
    wide = "漢字" * 10  # two columns each
    rows = [visible(r) for r in inner(highlight(wide, None, wrap=10)).split("\n")]
    assert rows[0] == "漢字漢字漢" and unwrap(highlight(wide, None, wrap=10)) == wide
    accents = "e\u0301" * 30  # a combining accent stays with its letter
    rows = [visible(r) for r in inner(highlight(accents, None, wrap=11)).split("\n")]
    assert all(not r.removeprefix(CONTINUATION).startswith("\u0301") for r in rows)
    with pytest.raises(ValueError):
        highlight("x", None, wrap=3)


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from("abc xyz_(),.=+<>&;\"'#" + KAZAKH + "АБВ"), max_size=300),
       st.integers(min_value=8, max_value=100),
       st.sampled_from(["python", "javascript", "bash", None]))
def test_wrap_property(line, wrap, language):
    out = highlight(line, language, wrap=wrap)
    assert unwrap(out) == line
    rows = inner(out).split("\n")
    assert all(len(visible(r)) <= wrap for r in rows)
    assert all(r.count("<span") == r.count("</span>") for r in rows)


def test_wrap_columns_for_the_page_sizes():
    mm = 72 / 25.4
    # A4 report: 210mm less 22mm margins, the rule and padding of code.css in print
    assert wrap_columns((210 - 44) * mm, 8.5, inset_pt=13.5) == 89
    assert wrap_columns(100, 10) == 16
    assert wrap_columns(60, 10) == 10  # exactly full: not one column less


# --- the font -----------------------------------------------------------------------------


def test_mono_font_is_installed_open_and_covers_kazakh():
    import fontpkg
    from fontTools.ttLib import TTFont

    for weight, style in ((400, "normal"), (400, "italic"), (700, "normal"), (700, "italic")):
        path = Path(fontpkg.path(MONO, weight=weight, style=style))
        assert path.is_file()
        font = TTFont(str(path))
        cmap = font.getBestCmap()
        missing = [c for c in KAZAKH + CONTINUATION.strip() + "ЁЪЯёъяÄÖÜẞäöüß"
                   if ord(c) not in cmap]
        assert not missing, (path.name, missing)
        assert "open font license" in str(font["name"].getDebugName(13)).lower()
        assert font["post"].isFixedPitch and mono_advance(path) == 0.6
        assert font["OS/2"].fsType & 0x2 == 0  # embedding allowed


def test_code_css_matches_the_module():
    css = CODE_CSS.read_text(encoding="utf-8")
    assert f'"{MONO}"' in css and f"tab-size: {TAB_SIZE}" in css
    assert "url(" not in css
    for cls in ("kw", "cf", "dt", "dv", "fl", "bn", "st", "co", "fu", "op", "bu", "va", "cn",
                "im", "do", "ss", "sc", "at", "continuation"):
        assert f"span.{cls}" in css, cls


# --- the PDF ------------------------------------------------------------------------------


@pytest.mark.slow
def test_pdf_wrapped_block_stays_inside_the_margins(caplog):
    import fontpkg
    from pypdf import PdfReader
    from weasyprint import HTML

    mm = 72 / 25.4
    page_width, margin = 210 * mm, 22 * mm
    size = 8.5
    wrap = wrap_columns(page_width - 2 * margin, size, inset_pt=13.5)  # code.css in print
    faces = "\n".join(
        f'@font-face {{ font-family: "{MONO}"; font-weight: {w}; font-style: {s}; '
        f'src: url("{Path(fontpkg.path(MONO, weight=w, style=s)).as_uri()}"); }}'
        for w, s in ((400, "normal"), (400, "italic"), (700, "normal"), (700, "italic")))
    base = (ROOT / "styles" / "report" / "css" / "base.css").read_text(encoding="utf-8")
    lines = [(LONG + " " + "z" * 120)[:120],
             "q" * 120,
             'print(f"{x!r}", "ә ғ қ ң ө ұ ү һ і", sep="; ", end="", file=sys.stderr, flush=True)'
             ' # Қазақстан']
    code = "\n".join(lines)
    block = code_block(code, "python", wrap=wrap)
    document = (f"<!DOCTYPE html><html><head><style>{faces}\n{base}\n"
                f"{CODE_CSS.read_text(encoding='utf-8')}\n"
                "@page { size: A4; margin: 25mm 22mm; } body { margin: 0; }"
                f"</style></head><body><p>Before.</p>{block}</body></html>")
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf = HTML(string=document, base_url=str(ROOT)).write_pdf()
    assert not [r for r in caplog.records if r.name.startswith("weasyprint")], caplog.text

    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    page = reader.pages[0]
    right = float(page.mediabox.right) - margin
    fonts = {}
    for font in page["/Resources"]["/Font"].values():
        font = font.get_object()
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        fonts[str(font["/BaseFont"]).split("+", 1)[-1]] = "/FontFile2" in descriptor
    assert fonts.get("IBM-Plex-Mono") is True, fonts  # embedded
    assert fonts.get("IBM-Plex-Mono-Bold") is True, fonts  # the keywords

    pieces: list[tuple[float, float, str]] = []

    def visit(text, cm, tm, font_dict, font_size):  # noqa: ARG001 - pypdf's signature
        text = text.rstrip("\n")
        if text.strip() and "Mono" in str((font_dict or {}).get("/BaseFont", "")):
            scale = cm[0]  # WeasyPrint draws in CSS px: cm scales them to points
            x = tm[4] * scale + cm[4]
            width = len(text) * 0.6 * font_size * tm[0] * scale  # every glyph 0.6em
            pieces.append((round(cm[5] + tm[5] * cm[3], 2), x + width, text))

    page.extract_text(visitor_text=visit)
    assert pieces
    # nothing passes the right margin, nor even the block's own padding (6pt in print)
    inside = right - 6
    overflow = [(end, text) for _, end, text in pieces if end > inside + 0.01]
    assert not overflow, (inside, overflow)
    rows = sorted({y for y, _, _ in pieces})
    expected = inner(highlight(code, "python", wrap=wrap)).split("\n")
    assert len(rows) == len(expected)  # WeasyPrint cut no line of its own
    # the width is not too cautious: the unbroken line fills the measure to a column
    longest = max(end for _, end, _ in pieces)
    assert inside - longest < size * 0.6, (inside, longest)
    text = "".join(t for _, _, t in pieces)
    assert CONTINUATION.strip() in text and "ә ғ қ ң ө ұ ү һ і" in text
