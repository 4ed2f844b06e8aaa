"""builder.mathrender: TeX to MathML (checked by EPUBCheck) and to vector SVG (checked
by WeasyPrint 70 and pypdf), and its errors for bad TeX. Real libraries, no mocks."""
from __future__ import annotations

import base64
import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from builder.mathrender import MATHML_NS, MathError, to_mathml, to_svg

M = f"{{{MATHML_NS}}}"
SVG = "{http://www.w3.org/2000/svg}"

# Real formulas: (TeX, the element expected inside the top row)
FORMULAS = [
    (r"E=mc^2", "msup"),
    (r"\Delta S = P - ET - Q", "mi"),
    (r"\frac{a+b}{c-d}", "mfrac"),
    (r"\sum_{i=1}^{n} i^2 = \frac{n(n+1)(2n+1)}{6}", "munderover"),
    (r"\begin{pmatrix}1 & 2\\ 3 & 4\end{pmatrix}", "mtable"),
    (r"\sqrt{x^2+y^2}", "msqrt"),
    (r"\sqrt[3]{8}", "mroot"),
    (r"\alpha + \beta = \gamma, \quad \Omega", "mi"),
    (r"\text{if } x > 0", "mtext"),
    (r"x_i^2 + y_{ij}", "msubsup"),
    (r"\text{скорость } v = \frac{s}{t}", "mtext"),
    (r"\int_0^\infty e^{-x^2}\,dx = \frac{\sqrt\pi}{2}", "msubsup"),
    (r"\lim_{x\to 0}\frac{\sin x}{x} = 1", "munder"),
    (r"\begin{cases} 1 & x > 0 \\ 0 & \text{otherwise} \end{cases}", "mtable"),
    (r"\left( \frac{a}{b} \right)", "mrow"),
    (r"\mathbb{R}^n, \mathbf{v}\cdot\mathbf{w}, \mathrm{d}x", "msup"),
    (r"\text{a < b \& 100\%}", "mtext"),
    (r"\begin{aligned} a &= b \\ c &= d \end{aligned}", "mtable"),
    (r"\begin{gathered} a = b \\ c = d \end{gathered}", "mtable"),
    (r"\begin{split} a &= b \\ &= c \end{split}", "mtable"),
]
# Rarer constructs whose MathML latex2mathml makes invalid unless cleaned.
EDGE_CASES = [
    r"\mkern3mu x \hspace{2bp} y",
    r"\fcolorbox{red}{yellow}{x}",
    r"\mathop{lim}_{n} a_n, x \mathbin{\#} y",
    r"\begin{align}a&=b\end{align}",
    r"\begin{align*}a&=b\\c&=d\end{align*}",
    r"\binom{n}{k}",
    r"\vec{x}\hat{y}\bar{z}\overbrace{a+b}^{n}\underbrace{x+y}_{z}",
    r"\xrightarrow{f} \cancel{x}\boxed{y} \not=",
    r"\color{red} x \colorbox{yellow}{y} \rule{1em}{2pt}",
    r"\href{https://example.org}{a} \style{color:red}{b} \class{c}{d}",
    r"\Bigl( x \Bigr) \tfrac12 \dfrac{1}{2} \raise{2pt}{x} \smash{y} \phantom{z}",
    r"a \\ b \substack{a\\b} \langle x \rangle \lVert v \rVert f'(x)",
    r"\begin{array}{lc} a & b \\ c & d \end{array}",
    r"\operatorname{argmax}_x f \colon A \to B",
]
ALL = [tex for tex, _ in FORMULAS] + EDGE_CASES


def parse(mathml: str) -> etree._Element:
    return etree.fromstring(mathml.encode())


@pytest.mark.parametrize(("tex", "inner"), FORMULAS)
@pytest.mark.parametrize("display", [False, True])
def test_mathml_structure(tex: str, inner: str, display: bool) -> None:
    math = parse(to_mathml(tex, display))
    assert math.tag == M + "math"
    assert math.get("display") == ("block" if display else "inline")
    assert math.get("alttext") == tex
    [semantics] = math
    assert semantics.tag == M + "semantics"
    row, annotation = semantics
    assert row.tag == M + "mrow"
    assert annotation.tag == M + "annotation"
    assert annotation.get("encoding") == "application/x-tex"
    assert annotation.text == tex
    if not display:  # limits go beside in text style
        inner = {"munderover": "msubsup", "munder": "msub"}.get(inner, inner)
    assert row.find(f".//{M}{inner}") is not None
    # no reference or TeX name left over as text
    for node in row.iter():
        assert not re.search(r"&#|\\[A-Za-z]", node.text or ""), (tex, node.text)


def test_mathml_content() -> None:
    math = parse(to_mathml(r"E=mc^2", False))
    assert [n.text for n in math.iter() if n.text and n.tag != M + "annotation"] == [
        "E", "=", "m", "c", "2"]
    assert [n.text for n in parse(to_mathml(r"\text{скорость}", False)).iter(M + "mtext")] \
        == ["скорость"]
    text = parse(to_mathml(r"\text{a < b \& 100\%}", True)).find(f".//{M}mtext")
    # spaces as no-break spaces: a MathML token element trims and collapses its spaces
    assert text is not None and text.text == "a\xa0<\xa0b\xa0&\xa0100%"
    # \mathrm{d}: upright, not the italic of a one-letter <mi>
    d = parse(to_mathml(r"\mathrm{d}x", False)).find(f".//{M}mi")
    assert d is not None and (d.text, d.get("mathvariant")) == ("d", "normal")
    # limits under \lim in display style only
    assert parse(to_mathml(r"\lim_{n} a_n", True)).find(f".//{M}munder") is not None
    assert parse(to_mathml(r"\lim_{n} a_n", False)).find(f".//{M}msub") is not None
    assert parse(to_mathml(r"\sum_{i=1}^n i", True)).find(f".//{M}munderover") is not None


@pytest.mark.parametrize("tex", EDGE_CASES)
def test_mathml_edge_cases_clean(tex: str) -> None:
    math = parse(to_mathml(tex, True))
    for node in math.iter():
        for name, value in node.attrib.items():
            if name == "alttext":
                continue
            assert value.strip(), (tex, name)
            assert name != "border-color"
            assert not re.search(r"\d(mu|bp|dd|cc|sp)\b", value), (tex, name, value)
        if node.tag in (M + "mo", M + "mi", M + "mn", M + "mtext"):
            assert len(node) == 0, tex  # token elements hold text only


@pytest.mark.parametrize("tex", [tex for tex, _ in FORMULAS])
@pytest.mark.parametrize("display", [False, True])
def test_svg(tex: str, display: bool) -> None:
    svg, width, height, depth = to_svg(tex, display)
    root = etree.fromstring(svg.encode())
    assert root.tag == SVG + "svg"
    assert root.find(f".//{SVG}path") is not None
    assert root.find(f".//{SVG}text") is None
    assert root.find(f".//{SVG}use") is None and root.find(f".//{SVG}image") is None
    assert "font" not in svg
    assert width > 0 and height > 0 and 0 <= depth < height
    assert root.get("width") == f"{width:g}pt" and root.get("height") == f"{height:g}pt"
    # the viewBox's top is the height above the baseline, its height the whole height
    _, top, _, box_height = (float(v) for v in root.get("viewBox").split())
    assert top == pytest.approx(-(height - depth), abs=0.002)
    assert box_height == pytest.approx(height, abs=0.002)


def test_amsmaths_aligned_and_gathered() -> None:
    """aligned is laid out as align* (columns right, left, ...; no numbers), gathered as
    centred rows; the alttext and annotation keep the TeX as written."""
    tex = r"\begin{aligned} a &= b & c &= d \\ e &= f \end{aligned}"
    assert to_mathml(tex, True) == (
        f'<math xmlns="{MATHML_NS}" display="block" alttext="\\begin{{aligned}} a &amp;= b '
        '&amp; c &amp;= d \\\\ e &amp;= f \\end{aligned}"><semantics><mrow><mtable '
        'displaystyle="true" rowspacing="3pt" columnspacing="0em 2em 0em 2em"><mtr>'
        '<mtd columnalign="right"><mi>a</mi></mtd><mtd columnalign="left"><mi /><mo>=</mo>'
        '<mi>b</mi></mtd><mtd columnalign="right"><mi>c</mi></mtd><mtd columnalign="left">'
        '<mi /><mo>=</mo><mi>d</mi></mtd></mtr><mtr><mtd columnalign="right"><mi>e</mi>'
        '</mtd><mtd columnalign="left"><mi /><mo>=</mo><mi>f</mi></mtd></mtr></mtable>'
        '</mrow><annotation encoding="application/x-tex">\\begin{aligned} a &amp;= b &amp; '
        'c &amp;= d \\\\ e &amp;= f \\end{aligned}</annotation></semantics></math>')
    assert to_mathml(r"\begin{gathered} a \\ bc \end{gathered}", False).split(
        "<semantics>")[1].split("<annotation")[0] == (
        '<mrow><mtable rowspacing="0.5em" columnspacing="1em" displaystyle="true"><mtr><mtd>'
        '<mi>a</mi></mtd></mtr><mtr><mtd><mi>b</mi><mi>c</mi></mtd></mtr></mtable></mrow>')
    assert to_svg(tex, True) == to_svg(tex.replace("{aligned}", "{align*}"), True)


def test_svg_scales_with_size_and_depth() -> None:
    _, w1, h1, d1 = to_svg(r"\frac{a}{b} + y_i", False, size_pt=10)
    _, w2, h2, d2 = to_svg(r"\frac{a}{b} + y_i", False, size_pt=20)
    assert w2 == pytest.approx(2 * w1, rel=0.01)
    assert h2 == pytest.approx(2 * h1, rel=0.01)
    assert d2 == pytest.approx(2 * d1, rel=0.01)
    assert d1 > 0  # the denominator and the subscript go below the baseline
    # a letter without descender sits on the baseline; a p goes below it
    assert to_svg("x", False)[3] == pytest.approx(0, abs=0.2)  # overshoot only
    assert to_svg("p", False)[3] > 1
    # display style is taller (limits above and below)
    assert to_svg(r"\sum_{i=1}^n i", True)[2] > to_svg(r"\sum_{i=1}^n i", False)[2]


def test_svg_color() -> None:
    svg = to_svg("x+1", False, color="#c00")[0]
    fills = set(re.findall(r'fill="([^"]*)"', svg))
    assert fills == {"#c00"}
    with pytest.raises(ValueError):
        to_svg("x", False, color='red" onload="x')
    with pytest.raises(ValueError):
        to_svg("x", False, size_pt=0)


@pytest.mark.parametrize(("tex", "column", "words"), [
    (r"\frac{a", 6, "never closed"),
    ("}", 1, "unmatched"),
    (r"a + b}", 6, "unmatched"),
    (r"\unknowncommand", 1, r"unknown command \unknowncommand"),
    (r"x + \foo{y}", 5, r"unknown command \foo"),
    (r"\mathfoo{x}", 1, r"unknown command \mathfoo"),
    (r"\begin{foo} x \end{foo}", 1, "unknown environment 'foo'"),
    (r"\begin{matrix} x \end{pmatrix}", 18, r"\end{pmatrix} closes \begin{matrix}"),
    (r"\begin{matrix} x", 1, "never ended"),
    (r"\left( x", 1, r"\left without \right"),
    (r"x \right)", 3, r"\right without \left"),
    (r"\text{\alpha}", 7, "cannot hold commands"),
    (r"\text{a{b}c}", 8, "cannot hold braces"),
    ("", None, "empty formula"),
    ("  ", None, "empty formula"),
    (r"\frac a", None, "numerator and a denominator"),
    ("x^", None, "without an argument"),
    ("x_1_2", None, "double subscript"),
    (r"\sqrt", None, "lacks its argument"),
])
def test_errors(tex: str, column: int | None, words: str) -> None:
    for function in (lambda: to_mathml(tex, False), lambda: to_svg(tex, True)):
        with pytest.raises(MathError) as caught:
            function()
        assert words in caught.value.message
        assert caught.value.column == column
        assert isinstance(caught.value, Exception)


def test_defined_commands_are_known() -> None:
    math = to_mathml(r"\newcommand{\R}{\mathbb{R}} x \in \R", False)
    assert "ℝ" in math


def test_missing_glyph_is_an_error_in_svg_only() -> None:
    to_mathml(r"\text{中}", False)  # an e-reader draws it with its own fonts
    with pytest.raises(MathError) as caught:
        to_svg(r"\text{中}", False)
    assert "no glyph" in caught.value.message and caught.value.column == 7


@pytest.mark.slow
def test_deterministic() -> None:
    import subprocess
    import sys
    script = ("from builder.mathrender import to_mathml, to_svg\n"
              "import sys\n"
              "for tex in sys.stdin.read().split('\\n\\x00\\n'):\n"
              "    print(to_mathml(tex, True)); print(to_svg(tex, False)[0])\n")
    texts = "\n\x00\n".join(ALL)
    runs = [subprocess.run([sys.executable, "-c", script], input=texts, capture_output=True,
                           text=True, check=True, cwd=Path(__file__).parent.parent).stdout
            for _ in range(2)]
    here = "".join(f"{to_mathml(tex, True)}\n{to_svg(tex, False)[0]}\n" for tex in ALL)
    assert runs[0] == runs[1] == here


# --- EPUBCheck and WeasyPrint ----------------------------------------------------------

def math_epub(path: Path, formulas: list[str], render: Callable[[str, bool], str] = to_mathml
              ) -> None:
    """A minimal EPUB 3 whose one page holds every formula, inline and displayed."""
    body = "\n".join(f"<p>Inline {render(tex, False)} in text.</p>\n{render(tex, True)}"
                     for tex in formulas)
    page = f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
<head><title>Math</title></head>
<body><h1>Math</h1>
{body}
</body>
</html>"""
    nav = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"
 xml:lang="en" lang="en"><head><title>Contents</title></head>
<body><nav epub:type="toc"><h1>Contents</h1><ol><li><a href="math.xhtml">Math</a></li></ol>
</nav></body></html>"""
    opf = """<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">
<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:identifier id="id">urn:uuid:5b0a6d6e-3c1f-4a43-9d8f-6a1c9a0e0d13</dc:identifier>
<dc:title>Math</dc:title><dc:language>en</dc:language>
<meta property="dcterms:modified">2024-01-01T00:00:00Z</meta>
</metadata>
<manifest>
<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
<item id="math" href="math.xhtml" media-type="application/xhtml+xml" properties="mathml"/>
</manifest>
<spine><itemref idref="math"/></spine>
</package>"""
    container = """<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
<rootfiles><rootfile full-path="OEBPS/content.opf"
 media-type="application/oebps-package+xml"/></rootfiles></container>"""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip",
                         compress_type=zipfile.ZIP_STORED)
        for name, text in [("META-INF/container.xml", container), ("OEBPS/content.opf", opf),
                           ("OEBPS/nav.xhtml", nav), ("OEBPS/math.xhtml", page)]:
            archive.writestr(name, text, compress_type=zipfile.ZIP_DEFLATED)


@pytest.mark.slow
@pytest.mark.external
def test_epubcheck_accepts_the_mathml(tmp_path: Path) -> None:
    from conftest import epubcheck
    path = tmp_path / "math.epub"
    math_epub(path, ALL)
    report = epubcheck(path)
    messages = [(m["severity"], m["ID"], m["message"]) for m in report["messages"]]
    assert report["checker"]["nError"] == 0, messages
    assert report["checker"]["nWarning"] == 0, messages
    assert report["checker"]["nFatal"] == 0, messages
    # the control: latex2mathml's own MathML for two of them, which the cleaning fixes
    from latex2mathml.converter import convert
    control = tmp_path / "control.epub"
    math_epub(control, [r"\mkern3mu x", r"\fcolorbox{red}{yellow}{x}"],
              lambda tex, display: convert(tex, display="block" if display else "inline"))
    report = epubcheck(control)
    messages = " ".join(m["message"] for m in report["messages"])
    assert report["checker"]["nError"] > 0
    assert "border-color" in messages and "width" in messages


def weasyprint_pdf(html: str) -> bytes:
    from weasyprint import HTML
    return HTML(string=html).write_pdf()


@pytest.mark.slow
@pytest.mark.parametrize("how", ["img", "inline"])
def test_weasyprint_draws_the_svg_as_vectors(how: str) -> None:
    from pypdf import PdfReader
    svg, width, height, depth = to_svg(r"\sum_{i=1}^n \frac{x_i}{\sqrt{y}}", False)
    if how == "img":
        data = base64.b64encode(svg.encode()).decode()
        math = (f'<img alt="sum" src="data:image/svg+xml;base64,{data}" '
                f'style="vertical-align: -{depth}pt">')
    else:
        math = f'<span style="display: inline-block; vertical-align: -{depth}pt">{svg}</span>'
    pdf = weasyprint_pdf(f"<p style='font-size: 10.5pt'>Before {math} after.</p>")
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    text = page.extract_text()
    assert "Before" in text and "after" in text
    assert "∑" not in text and "x" not in text.replace("Before", "").replace("after", "")
    resources = page["/Resources"]
    assert not page.images  # no raster anywhere
    # the formula is drawn: its paths are in the page (or in a form XObject it calls)
    xobjects = resources.get("/XObject", {})
    streams = [page.get_contents().get_data()] + [
        xobjects[name].get_object().get_data() for name in xobjects]
    assert any(re.search(rb"\b[\d.]+ [\d.]+ [\d.]+ [\d.]+ [\d.]+ [\d.]+ c\b", s)
               for s in streams)
