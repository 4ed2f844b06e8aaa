"""The document model through real builds: attributes, figures, tables, numbering and
cross-references, whole elements compared."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from lxml import html as lxml_html

from builder.build import BuildRequest, build
from builder.document.ids import pandoc_identifier
from builder.errors import BuildError

SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">'
       '<rect width="40" height="20"/></svg>')
REFERENCES = [{"id": "doe99", "type": "book", "title": "A Book", "publisher": "Pub",
               "author": [{"family": "Doe", "given": "John"}], "issued": {"date-parts": [[1999]]}}]


def project(root: Path, body: str, meta: str = "") -> Path:
    (root / "book").mkdir(parents=True)
    (root / "bibliography").mkdir()
    (root / "bibliography" / "refs.json").write_text(json.dumps(REFERENCES), encoding="utf-8")
    (root / "book" / "flow.svg").write_text(SVG, encoding="utf-8")
    (root / "book" / "a.md").write_text(f"---\ntitle: Test\n{meta}---\n\n{body}\n",
                                        encoding="utf-8")
    return root


def chapter(tmp_path: Path, body: str, meta: str = "", style: str = "apa") -> list[str]:
    """The chapter's elements, each as HTML with whitespace collapsed."""
    root = project(tmp_path / "p", body, meta)
    out = build(BuildRequest(root, formats=("html",), style=style, cache=False)).outputs
    tree = lxml_html.fromstring(out["html"].read_bytes())
    return [re.sub(r"[ \t\r\n]+", " ",  # (a no-break space stays one)
                   lxml_html.tostring(e, encoding="unicode", with_tail=False)).strip()
            for e in tree.xpath('//section[@class="chapter"]/*')]


def test_heading_attributes_are_the_headings(tmp_path: Path) -> None:
    assert chapter(tmp_path, "# Intro {#sec:intro .lead}\n\n## Aside {-}\n\n## Plain\n") == [
        '<h1 id="sec:intro" class="lead">Intro</h1>',
        '<h2 id="aside" class="unnumbered">Aside</h2>',
        '<h2 id="plain">Plain</h2>',
    ]


def test_number_sections_numbers_headings_as_pandoc(tmp_path: Path) -> None:
    body = "# One\n\n## A\n\n## B {.unnumbered}\n\n## C\n\n# Two\n\n### Deep\n"
    assert chapter(tmp_path, body, meta="number-sections: true\n") == [
        '<h1 data-number="1" id="one"><span class="header-section-number">1</span> One</h1>',
        '<h2 data-number="1.1" id="a"><span class="header-section-number">1.1</span> A</h2>',
        '<h2 id="b" class="unnumbered">B</h2>',
        '<h2 data-number="1.2" id="c"><span class="header-section-number">1.2</span> C</h2>',
        '<h1 data-number="2" id="two"><span class="header-section-number">2</span> Two</h1>',
        '<h3 data-number="2.0.1" id="deep"><span class="header-section-number">2.0.1</span> '
        'Deep</h3>',
    ]


def test_an_image_alone_is_a_figure_numbered_when_labelled(tmp_path: Path) -> None:
    body = ("![Water use by *sector*](flow.svg){#fig:flow width=60%}\n\n"
            "![Unlabelled](flow.svg)\n\n![](flow.svg)\n\nText ![inline](flow.svg) here.\n")
    assert chapter(tmp_path, body) == [
        '<figure id="fig:flow"> <img src="book/flow.svg" alt="Water use by sector" '
        'style="width:60%"> <figcaption>Figure 1: Water use by <em>sector</em>'
        "</figcaption> </figure>",
        '<figure> <img src="book/flow.svg" alt="Unlabelled"> <figcaption>Unlabelled'
        "</figcaption> </figure>",
        '<p><img src="book/flow.svg" alt=""></p>',
        '<p>Text <img src="book/flow.svg" alt="inline"> here.</p>',
    ]


def test_a_table_caption_before_or_after_its_table(tmp_path: Path) -> None:
    body = ("Table: Before {#tbl:a}\n\n| x |\n|---|\n| 1 |\n\n"
            "| y |\n|---|\n| 2 |\n\n: After, unlabelled\n\nSee @tbl:a.\n")
    found = chapter(tmp_path, body)
    assert [re.sub(r"<thead>.*", "", e) for e in found] == [
        '<table id="tbl:a"> <caption>Table 1: Before</caption> ',
        "<table> <caption>After, unlabelled</caption> ",
        '<p>See tbl.\u00a0<a href="#tbl:a" class="cross-ref">1</a>.</p>',
    ]


CROSSREFS = """\
![One](flow.svg){#fig:a}

![Two](flow.svg){#fig:b}

![Three](flow.svg){#fig:c}

![Quarto](flow.svg){#fig-q}

# Methods {#sec:methods}

A @fig:a. B [@fig:a; @fig:b]. C [@fig:a; @fig:b; @fig:c]. D @Fig:b. E [-@fig:c].
F @sec:methods. G @fig-q. H [@fig-q; @fig-q]. I [-@fig-q] and [@doe99].
"""


def test_cross_references_as_pandoc_crossref_and_quarto_write_them(tmp_path: Path) -> None:
    paragraph = chapter(tmp_path, CROSSREFS, meta="number-sections: true\n")[-1]
    text = lxml_html.fromstring(paragraph).text_content()
    assert text == ("A fig.\u00a01. B figs.\u00a01, 2. C figs.\u00a01-3. D Fig.\u00a02. E 3. "
                    "F sec.\u00a01. G Figure\u00a04. H Figures\u00a04, 4. I 4 and (Doe, 1999).")
    links = re.findall(r'href="#([^"]+)"', paragraph)
    assert links == ["fig:a", "fig:a", "fig:b", "fig:a", "fig:c", "fig:b", "fig:c",
                     "sec:methods", "fig-q", "fig-q", "fig-q", "fig-q", "ref-doe99"]


def test_a_cross_reference_in_a_note_style_stays_in_the_text(tmp_path: Path) -> None:
    found = chapter(tmp_path, "![One](flow.svg){#fig:a}\n\nSee @fig:a [@doe99].",
                    style="chicago-notes-bibliography")
    assert lxml_html.fromstring(found[1]).text_content() == "See fig.\u00a01.1"


def test_an_unknown_label_is_an_error_at_its_place(tmp_path: Path) -> None:
    root = project(tmp_path / "p", "![One](flow.svg){#fig:flow}\n\nAs @fig:flwo shows, "
                                   "and [@tbl:none].")
    with pytest.raises(BuildError) as caught:
        build(BuildRequest(root, formats=("html",), cache=False))
    assert [str(e) for e in caught.value.errors] == [
        f"{root}/book/a.md:7:4: error: cross-reference '@fig:flwo' names nothing in the book "
        "(hint: did you mean @fig:flow?)",
        f"{root}/book/a.md:7:25: error: cross-reference '@tbl:none' names nothing in the "
        "book (hint: give the table the id {#tbl:none})",
    ]


def test_no_attribute_or_label_markup_is_left_in_any_output(tmp_path: Path) -> None:
    root = project(tmp_path / "p", CROSSREFS, meta="number-sections: true\n")
    out = build(BuildRequest(root, formats=("html", "epub"), cache=False)).outputs
    text = lxml_html.fromstring(out["html"].read_bytes()).text_content()
    assert "{#" not in text and "@fig" not in text and "@sec" not in text


@pytest.mark.external
def test_heading_ids_are_pandocs() -> None:
    pypandoc = pytest.importorskip("pypandoc")
    titles = ["Introduction", "1. First things", "Über die Straße", "What's *new*?",
              "Section 2.1: Details", "Қазақ тілі", "  Spaces   inside ", "C++ & C#",
              "2024", "_under_score", "a.b-c"]
    source = "\n\n".join(f"# {t}" for t in titles)
    html = subprocess.run([pypandoc.get_pandoc_path(), "-f", "markdown", "-t", "html"],
                          input=source, capture_output=True, text=True, check=True).stdout
    theirs = re.findall(r'<h1 id="([^"]*)"', html)
    from builder.document.html import plain_text
    from builder.markdown import make_parser
    md = make_parser()
    ours = []
    for title in titles:
        tokens = md.parseInline(title.strip(), {"_affix": True})
        from builder.document.from_markdown import inlines
        ours.append(pandoc_identifier(plain_text(inlines(tokens[0].children or []))))
    # pandoc gives the empty heading "2024" the id "section"; ours too (the fallback)
    assert [o or "section" for o in ours] == theirs


def test_math_and_code_in_every_format(tmp_path: Path) -> None:
    root = project(tmp_path / "p", "Energy $E=mc^2$ and @eq:e.\n\n$$a+b=c$$ {#eq:e}\n\n"
                                   "```python\nx = 1  # one\n```\n")
    out = build(BuildRequest(root, formats=("html", "pdf"), cache=False)).outputs
    found = chapter_of(out["html"])
    assert found[0].startswith('<p>Energy <span class="math inline"><math ')
    assert found[1].startswith('<p><span class="math display" id="eq:e"><math ')
    assert found[1].endswith('<span class="equation-number">(1)</span></span></p>')
    assert found[2] == ('<div class="sourceCode"><pre class="sourceCode python"><code '
                        'class="sourceCode python">x <span class="op">=</span> '
                        '<span class="dv">1</span> <span class="co"># one</span></code></pre>'
                        "</div>")
    from pypdf import PdfReader
    page = PdfReader(out["pdf"]).pages[0]
    assert "/Image" not in str(page["/Resources"].get("/XObject", {}))  # paths, no raster
    assert "Energy" in page.extract_text() and "x = 1 # one" in " ".join(
        page.extract_text().split())


def test_tex_that_cannot_be_read_is_an_error_at_its_line(tmp_path: Path) -> None:
    root = project(tmp_path / "p", "One $\\frac{a$ two.\n\n$$\\unknown{x}$$\n")
    with pytest.raises(BuildError) as caught:
        build(BuildRequest(root, formats=("html",), cache=False))
    assert [str(e).split(" (hint")[0] for e in caught.value.errors] == [
        f"{root}/book/a.md:5: error: TeX math: '{{' is never closed (at character 6 of "
        "the formula)",
        f"{root}/book/a.md:7: error: TeX math: unknown command \\unknown (at character 1 "
        "of the formula)"]


def test_a_character_the_math_font_lacks_is_an_error_in_the_pdf(tmp_path: Path) -> None:
    root = project(tmp_path / "p", "$\\text{水}$\n")
    with pytest.raises(BuildError) as caught:
        build(BuildRequest(root, formats=("pdf",), cache=False))
    assert "has no glyph for '水'" in str(caught.value)


def chapter_of(html_file: Path) -> list[str]:
    tree = lxml_html.fromstring(html_file.read_bytes())
    return [re.sub(r"[ \t\r\n]+", " ", lxml_html.tostring(e, encoding="unicode",
                                                          with_tail=False)).strip()
            for e in tree.xpath('//section[@class="chapter"]/*')]


def test_divs_spans_and_pandocs_small_syntax(tmp_path: Path) -> None:
    body = ("H~2~O, x^2^, ~~gone~~, [Small]{.smallcaps}, [Қазақ]{lang=kk}, Mr.\\ Smith.\n\n"
            "::: {.note lang=de}\nEin Absatz.\n:::\n\n| one\n|   two\n\n- [ ] open\n- [x] done\n")
    assert chapter(tmp_path, body) == [
        "<p>H<sub>2</sub>O, x<sup>2</sup>, <del>gone</del>, "
        "<span class=\"smallcaps\">Small</span>, "
        "<span lang=\"kk\">Қазақ</span>, Mr.\u00a0Smith.</p>",
        '<div class="note" lang="de"> <p>Ein Absatz.</p> </div>',
        '<div class="line-block">one<br> \u00a0\u00a0two</div>',
        '<ul class="task-list"> <li><input type="checkbox" disabled>open</li> '
        '<li><input type="checkbox" disabled checked>done</li> </ul>',
    ]


def test_tex_in_a_table_cell_or_a_caption_is_checked_too(tmp_path: Path) -> None:
    root = project(tmp_path / "p", "| a |\n|---|\n| $\\frac{a$ |\n\n![Cap $\\bad$](flow.svg)\n")
    with pytest.raises(BuildError) as caught:
        build(BuildRequest(root, formats=("html",), cache=False))
    assert [str(e).split(": error: ")[0] for e in caught.value.errors] == [
        f"{root}/book/a.md:5", f"{root}/book/a.md:9"]


def test_a_figure_whose_image_goes_missing_is_an_error_on_a_rebuild(tmp_path: Path) -> None:
    root = project(tmp_path / "p", "![A figure](flow.svg)\n")
    build(BuildRequest(root, formats=("html",)))  # the chapter's tree is cached
    (root / "book" / "flow.svg").unlink()
    with pytest.raises(BuildError) as caught:
        build(BuildRequest(root, formats=("html",)))
    assert str(caught.value).startswith(f"{root}/book/a.md:5: error: resource not found")


def test_the_epubs_mathml_is_in_its_own_default_namespace(tmp_path: Path) -> None:
    import zipfile
    root = project(tmp_path / "p", "Energy $E=mc^2$.\n")
    out = build(BuildRequest(root, formats=("epub",), cache=False)).outputs
    with zipfile.ZipFile(out["epub"]) as archive:
        xhtml = "".join(archive.read(n).decode("utf-8") for n in archive.namelist()
                        if n.endswith(".xhtml"))
    assert re.findall(r"<[^>]*math[^>]*>", xhtml.split("<semantics>")[0])[-1] == (
        '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline" alttext="E=mc^2">')
    assert "ns0:" not in xhtml


def test_raw_text_for_another_writer_is_left_out_with_a_warning(tmp_path: Path) -> None:
    """```{=latex}``` and `\\newpage`{=latex} are Pandoc's raw LaTeX: no output of ours shows
    them, and the build says so at each one's line; ``{=html5}`` is raw HTML, as in Pandoc."""
    body = ("Before `\\newpage`{=latex} after.\n\n```{=latex}\n\\clearpage\n```\n\n"
            "`<b>bold</b>`{=html5} text.\n")
    root = project(tmp_path / "p", body)
    result = build(BuildRequest(root, formats=("html",), cache=False))
    assert [str(w) for w in result.diagnostics.warnings if "raw" in w.message] == [
        f"{root / 'book' / 'a.md'}:{line}: warning: raw LaTeX (`{{=latex}}`) left out: only "
        "raw HTML reaches the outputs (hint: write it in HTML (`{=html}`), or remove it)"
        for line in (5, 7)]
    tree = lxml_html.fromstring(result.outputs["html"].read_bytes())
    assert [re.sub(r"\s+", " ", lxml_html.tostring(e, encoding="unicode", with_tail=False))
            for e in tree.xpath('//section[@class="chapter"]/*')] == [
        "<p>Before after.</p>", "<p><b>bold</b> text.</p>"]


def test_quoted_attribute_values_are_read_before_the_smart_quotes(tmp_path: Path) -> None:
    """A value with a space (``short-caption="a b"``) keeps its list whole: the figure keeps
    its id; the quotes and dashes inside a list stay as written, those around it are
    typographic, and a list after emphasis is text (all as pandoc -t native reads them)."""
    body = ('![A cap](flow.svg){#fig:q short-caption="Figure -- short caption"}\n\n'
            '# T "x" {#sec:t k="a -- b"}\n\n'
            '`x`{k="a b"} [l](u){k="c d"} *a*{k="g h"} {"hi there"}\n\n'
            'See @fig:q and @sec:t.\n')
    assert chapter(tmp_path, body) == [
        '<figure id="fig:q"> <img src="book/flow.svg" alt="A cap" '
        'data-short-caption="Figure -- short caption"> <figcaption>Figure 1: A cap'
        '</figcaption> </figure>',
        '<h1 id="sec:t" data-k="a -- b">T “x”</h1>',
        '<p><code data-k="a b">x</code> <a href="u" data-k="c d">l</a> <em>a</em>'
        '{k=“g h”} {“hi there”}</p>',
        '<p>See fig.\u00a0<a href="#fig:q" class="cross-ref">1</a> and '
        'sec.\u00a0<a href="#sec:t" class="cross-ref">1</a>.</p>',
    ]


def test_a_table_labelled_by_an_empty_span_in_its_caption(tmp_path: Path) -> None:
    """pandoc-crossref's (and table-short-captions') ``: caption []{#tbl:x ...}``."""
    body = ('| x |\n|---|\n| 1 |\n\n: Land masses. []{#tbl:random short-caption="Short one"}\n\n'
            'Table: Second []{#tbl:two}\n\n| y |\n|---|\n| 2 |\n\nSee @tbl:random and @tbl:two.\n')
    found = chapter(tmp_path, body)
    assert [re.sub(r"<thead>.*", "", e) for e in found] == [
        '<table id="tbl:random" data-short-caption="Short one"> <caption>Table 1: Land masses.'
        '</caption> ',
        '<table id="tbl:two"> <caption>Table 2: Second</caption> ',
        '<p>See tbl.\u00a0<a href="#tbl:random" class="cross-ref">1</a> and '
        'tbl.\u00a0<a href="#tbl:two" class="cross-ref">2</a>.</p>',
    ]


def test_amsmaths_aligned_in_every_format(tmp_path: Path) -> None:
    """\\begin{aligned} (and gathered) as MathML in the HTML and the EPUB, drawn as vector
    paths in the PDF (looked at: the rows aligned at "=", the gathered ones centred)."""
    body = ("$$\\begin{aligned} a &= b \\\\ c &= d \\end{aligned}$$ {#eq:a}\n\n"
            "$$\\begin{gathered} a = b \\\\ c = d \\end{gathered}$$\n\nSee @eq:a.\n")
    root = project(tmp_path / "p", body)
    out = build(BuildRequest(root, formats=("html", "epub", "pdf"), cache=False)).outputs
    found = chapter_of(out["html"])
    assert [re.sub(r".*<semantics>(<mrow><mtable[^>]*>).*(\(\d\)).*", r"\1 \2", e)
            for e in found[:1]] == [
        '<mrow><mtable displaystyle="true" rowspacing="3pt" columnspacing="0em 2em"> (1)']
    assert '<mtable rowspacing="0.5em" columnspacing="1em" displaystyle="true">' in found[1]
    assert re.sub(r"<[^>]+>", "", found[2]) == "See eq.\u00a01."
    import zipfile
    with zipfile.ZipFile(out["epub"]) as archive:
        xhtml = "".join(archive.read(n).decode("utf-8") for n in archive.namelist()
                        if n.endswith(".xhtml"))
    assert xhtml.count("<mtable") == 2
    from pypdf import PdfReader
    page = PdfReader(out["pdf"]).pages[0]
    assert "/Image" not in str(page["/Resources"].get("/XObject", {}))
    text = " ".join(page.extract_text().split())
    assert "aligned" not in text and "See eq. 1." in text.replace("\u00a0", " ")


MULTILINE = """\
-------------------------------------------------------------
 Centered   Default           Right Left
  Header    Aligned         Aligned Aligned
----------- ------- --------------- -------------------------
   First    row                12.0 Example of a row that
                                    spans multiple lines.

  Second    row                 5.0 Here's another one. Note
                                    the blank line between
                                    rows.
-------------------------------------------------------------

Table: Here's the caption. It, too, may span
multiple lines. {#tbl:ml}

----------- ------- --------------- -------------------------
   First    row                12.0 Example of a row that
                                    spans multiple lines.

  Second    row                 5.0 Here's another one.
----------- ------- --------------- -------------------------

: Here's a multiline table without a header.

-------- -----
 a        b
 c        d
-------- -----

See @tbl:ml.
"""


def test_multiline_tables_as_pandoc_reads_them(tmp_path: Path) -> None:
    """Pandoc's manual's multiline tables, with a header and without, and a headerless
    simple table: the cells, headers and alignments pandoc -t html gives (its <colgroup>
    of relative widths aside), the caption's label."""
    def cell(tag: str, align: str | None, text: str) -> str:
        style = f' style="text-align:{align}"' if align else ""
        return f"<{tag}{style}>{text}</{tag}>"

    def row(tag: str, aligns: list[str | None], texts: list[str]) -> str:
        return "<tr> " + " ".join(cell(tag, a, t) for a, t in zip(aligns, texts,
                                                                  strict=True)) + " </tr>"
    rows = [["First", "row", "12.0", "Example of a row that spans multiple lines."],
            ["Second", "row", "5.0", "Here’s another one. Note the blank line between rows."]]
    aligns: list[str | None] = ["center", None, "right", "left"]
    headerless: list[str | None] = ["center", "left", "right", "left"]
    assert chapter(tmp_path, MULTILINE) == [
        '<table id="tbl:ml"> <caption>Table 1: Here’s the caption. It, too, may span '
        "multiple lines.</caption> <thead> "
        + row("th", aligns, ["Centered Header", "Default Aligned", "Right Aligned",
                             "Left Aligned"])
        + " </thead> <tbody> " + " ".join(row("td", aligns, r) for r in rows)
        + " </tbody> </table>",
        "<table> <caption>Here’s a multiline table without a header.</caption> <tbody> "
        + row("td", headerless, rows[0]) + " "
        + row("td", headerless, ["Second", "row", "5.0", "Here’s another one."])
        + " </tbody> </table>",
        "<table> <tbody> " + row("td", ["center", "center"], ["a", "b"]) + " "
        + row("td", ["center", "center"], ["c", "d"]) + " </tbody> </table>",
        '<p>See tbl.\u00a0<a href="#tbl:ml" class="cross-ref">1</a>.</p>',
    ]


LISTINGS = """\
```python
mood = 'happy'
```

: Code caption {#lst:code}

```{#lst:two .haskell caption="Second listing"}
main = print 1
```

Listing: Third, "quoted" {#lst:three}

    plain code

See @lst:code, @Lst:two and [@lst:code; @lst:two; @lst:three].
"""


def test_listings_as_pandoc_crossref_writes_them(tmp_path: Path) -> None:
    """A code block labelled ``lst:`` with a caption (its ``caption`` attribute, or a
    paragraph ``: caption {#lst:x}`` / ``Listing: caption {#lst:x}`` next to it) is a
    numbered listing: pandoc-crossref's div, "Listing 1: ..." first; "lst. 1"."""
    root = project(tmp_path / "p", LISTINGS)
    out = build(BuildRequest(root, formats=("html", "epub", "pdf"), cache=False)).outputs
    assert chapter_of(out["html"]) == [
        '<div id="lst:code" class="listing python"> <p class="listing-caption">Listing 1: '
        'Code caption</p> <div class="sourceCode"><pre class="sourceCode python"><code '
        'class="sourceCode python">mood <span class="op">=</span> <span class="st">'
        "'happy'</span></code></pre></div> </div>",
        '<div id="lst:two" class="listing haskell"> <p class="listing-caption">Listing 2: '
        'Second listing</p> <div class="sourceCode"><pre class="sourceCode haskell"><code '
        'class="sourceCode haskell"><span class="fu">main</span> <span class="kw">=</span> '
        'print <span class="dv">1</span></code></pre></div> </div>',
        '<div id="lst:three" class="listing"> <p class="listing-caption">Listing 3: Third, '
        "“quoted”</p> <pre><code>plain code</code></pre> </div>",
        '<p>See lst.\u00a0<a href="#lst:code" class="cross-ref">1</a>, '
        'Lst.\u00a0<a href="#lst:two" class="cross-ref">2</a> and '
        'lsts.\u00a0<a href="#lst:code" class="cross-ref">1</a>-'
        '<a href="#lst:three" class="cross-ref">3</a>.</p>',
    ]
    import zipfile
    with zipfile.ZipFile(out["epub"]) as archive:
        xhtml = "".join(archive.read(n).decode("utf-8") for n in archive.namelist()
                        if n.endswith(".xhtml"))
    assert re.findall(r'<p class="listing-caption">([^<]*)</p>', xhtml) == [
        "Listing 1: Code caption", "Listing 2: Second listing", "Listing 3: Third, “quoted”"]
    from pypdf import PdfReader
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(out["pdf"]).pages).split())
    assert "Listing 1: Code caption" in text and "See lst. 1, Lst. 2 and lsts. 1-3." in \
        text.replace("\u00a0", " ")


def test_a_label_only_raw_latex_defines_is_a_warning_as_pandoc_crossref_gives(
        tmp_path: Path) -> None:
    """pandoc-crossref does not see ``\\label{}`` in raw LaTeX: it warns and writes the
    reference **¿fig:x?**; so do we (a warning at the reference's line; an error under
    --strict).  A label nothing defines stays an error."""
    body = ("\\begin{figure}\n\\includegraphics{x.pdf}\n\\caption{A}\\label{fig:raw}\n"
            "\\end{figure}\n\n![One](flow.svg){#fig:one}\n\n"
            "See @fig:raw, [@Fig:raw] and [@fig:one; @fig:raw].\n")
    root = project(tmp_path / "p", body)
    result = build(BuildRequest(root, formats=("html",), cache=False))
    warning = ("cross-reference '@{}' names a label only raw LaTeX defines: written ¿{}?, as "
               "pandoc-crossref writes it (hint: give the figure the id {{#fig:raw}} in "
               "Markdown)")
    assert [str(w) for w in result.diagnostics.warnings if "cross-reference" in w.message] \
        == [f"{root}/book/a.md:12: warning: " + warning.format(k, k)
            for k in ("fig:raw", "Fig:raw")]  # (the same warning once)
    assert chapter_of(result.outputs["html"])[-1] == (
        "<p>See <strong>¿fig:raw?</strong>, <strong>¿Fig:raw?</strong> and "
        'fig.\u00a0<a href="#fig:one" class="cross-ref">1</a>, <strong>¿fig:raw?</strong>.</p>')
    with pytest.raises(BuildError) as caught:
        build(BuildRequest(root, formats=("html",), cache=False, strict=True))
    assert [str(e) for e in caught.value.errors][0] == (
        f"{root}/book/a.md:12: error: " + warning.format("fig:raw", "fig:raw").replace(
            " (hint", " (--strict makes warnings errors) (hint"))
