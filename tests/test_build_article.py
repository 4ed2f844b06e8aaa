"""The article, end to end: real builds, real files, real validators."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html

from conftest import ROOT, SLUG, epub_files, epubcheck, pdf_text

# full builds as builder subprocesses, EPUBCheck
pytestmark = [pytest.mark.slow, pytest.mark.external]

KEYS = {"state-nd-visits", "state-2018-economic", "wh-2018-bilateral", "wh-2018-joint",
        "wh-2018-statement", "wh-2018-readout", "akorda-2018"}


def _html(out: Path) -> lxml_html.HtmlElement:
    return lxml_html.fromstring((out / f"{SLUG}.html").read_bytes())


def _entries(out: Path) -> dict[str, str]:
    tree = _html(out)
    return {e.get("id"): " ".join(e.text_content().split())
            for e in tree.xpath('//div[@id="refs"]/div[contains(@class, "csl-entry")]')}


def _citations(out: Path) -> list[str]:
    return [" ".join(c.text_content().split())
            for c in _html(out).xpath('//span[@class="citation"]')]


def test_default_build_writes_three_files(built):
    out = built()
    for ext in ("pdf", "epub", "html"):
        assert (out / f"{SLUG}.{ext}").stat().st_size > 1000


def test_pdf_has_title_citations_and_references(built):
    text = pdf_text(built() / f"{SLUG}.pdf")
    flat = " ".join(text.split())
    assert "New Chapter in Kazakhstan-U.S. Relations" in flat
    assert "(White House, 2018a)" in flat
    assert "(U.S. Department of State, n.d.)" in flat
    assert "References" in flat
    assert "White House. (2018d). United States and Kazakhstan: an Enhanced Strategic" in flat
    assert "About the author" in flat and "Senior Research fellow" in flat
    assert "do not necessarily reflect the Institute’s editorial" in flat


def test_pdf_metadata_and_fonts(built):
    from pypdf import PdfReader
    reader = PdfReader(built() / f"{SLUG}.pdf")
    info = reader.metadata
    assert info.title == "New Chapter in Kazakhstan-U.S. Relations"
    assert info.author == "Dauren Aben"
    assert "Kazakhstan" in info["/Keywords"]
    assert reader.trailer["/Root"].get("/Lang") == "en"
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts.add(str(font["/BaseFont"]).split("+", 1)[-1])
            descendant = font["/DescendantFonts"][0].get_object()
            descriptor = descendant["/FontDescriptor"].get_object()
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    assert fonts and all(f.startswith(("PT-Serif", "PT-Sans")) for f in fonts), fonts
    assert abs(float(reader.pages[0].mediabox.width) - 595.28) < 0.5  # A4


def test_html_has_seven_entries_matching_the_keys(built):
    entries = _entries(built())
    assert set(entries) == {f"ref-{k}" for k in KEYS}
    citations = _html(built()).xpath('//span[@class="citation"]')
    assert len(citations) == 10
    for citation in citations:
        for link in citation.xpath(".//a"):
            assert link.get("href")[1:] in entries


def test_year_suffixes_follow_bibliography_order(built):
    entries = _entries(built())
    order = [k for k in entries if k.startswith("ref-wh-")]
    letters = [re.search(r"2018([a-d])", entries[k]).group(1) for k in order]
    assert letters == ["a", "b", "c", "d"]
    by_key = {k[4:]: re.search(r"2018([a-d])", v).group(1) for k, v in entries.items()
              if k.startswith("ref-wh-")}
    tree = _html(built())
    for citation in tree.xpath('//span[@class="citation"]'):
        key = citation.get("data-cites")
        if key.startswith("wh-"):
            assert f"2018{by_key[key]}" in citation.text_content()
    assert "(n.d.)" in entries["ref-state-nd-visits"]


def test_epub_passes_epubcheck(built):
    report = epubcheck(built() / f"{SLUG}.epub")
    checker = report["checker"]
    messages = [(m["severity"], m["ID"], m["message"]) for m in report["messages"]]
    assert (checker["nFatal"], checker["nError"], checker["nWarning"]) == (0, 0, 0), messages


def test_epub_metadata_nav_and_links(built):
    files = epub_files(built() / f"{SLUG}.epub")
    assert list(files)[0] == "mimetype"
    opf = etree.fromstring(files["EPUB/content.opf"])
    ns = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/"}
    assert opf.findtext(".//dc:title", namespaces=ns) == "New Chapter in Kazakhstan-U.S. Relations"
    assert opf.findtext(".//dc:creator", namespaces=ns) == "Dauren Aben"
    assert opf.findtext(".//dc:language", namespaces=ns) == "en"
    assert opf.findtext(".//dc:date", namespaces=ns).startswith("2018-02-05")
    assert opf.findtext(".//dc:identifier", namespaces=ns).startswith("urn:uuid:")
    assert "EPUB/nav.xhtml" in files and "EPUB/toc.ncx" in files
    chapter = files["EPUB/chapter-01.xhtml"].decode()
    refs = files["EPUB/references.xhtml"].decode()
    for key in re.findall(r'href="references\.xhtml#(ref-[^"]+)"', chapter):
        assert f'id="{key}"' in refs
    assert chapter.count('href="references.xhtml#ref-') == 10


def test_same_citation_text_in_all_formats(built):
    out = built()
    citations = _citations(out)
    pdf = " ".join(pdf_text(out / f"{SLUG}.pdf").split())
    chapter = lxml_html.fromstring(epub_files(out / f"{SLUG}.epub")["EPUB/chapter-01.xhtml"])
    epub_citations = [" ".join(c.text_content().split())
                      for c in chapter.xpath('//*[@class="citation"]')]
    assert epub_citations == citations
    for citation in citations:
        assert citation in pdf


def test_ieee_numbers_citations_in_order(built):
    out = built("--style", "ieee")
    citations = _citations(out)
    assert citations[:3] == ["[1]", "[2]", "[3]"]
    entries = _entries(out)
    assert list(entries)[0] == "ref-state-nd-visits"
    first = _html(out).xpath('//div[@id="ref-state-nd-visits"]/div[@class="csl-left-margin"]')
    assert first[0].text_content() == "[1]"
    assert "[1]" in pdf_text(out / f"{SLUG}.pdf")


def test_chicago_author_date(built):
    out = built("--style", "chicago-author-date")
    citations = _citations(out)
    assert "(White House 2018a)" in citations or "(White House 2018b)" in citations
    assert any(c.startswith("(White House 2018") for c in citations)
    assert "(White House 2018" in " ".join(pdf_text(out / f"{SLUG}.pdf").split())


def test_note_style_makes_footnotes(built):
    out = built("--style", "chicago-notes-bibliography")
    tree = _html(out)
    notes = tree.xpath('//li[contains(@class, "citation-note")]')
    assert len(notes) == 10
    assert tree.xpath('//a[@class="footnote-ref"]')
    chapter = epub_files(out / f"{SLUG}.epub")["EPUB/chapter-01.xhtml"].decode()
    assert chapter.count('epub:type="footnote"') == 10
    assert chapter.count('epub:type="noteref"') == 10
    report = epubcheck(out / f"{SLUG}.epub")
    counts = (report["checker"]["nError"], report["checker"]["nWarning"])
    assert counts == (0, 0), report["messages"]


def test_csl_file_path_works(built, tmp_path):
    out = built("--style", "styles/csl/institute-author-date.csl")
    citations = _citations(out)
    assert "(White House 2018a)" in citations or any("White House 2018" in c for c in citations)


def test_each_bibliography_format_gives_the_same_output(built):
    outputs = []
    for name in ("references.json", "references.yaml", "references.bib"):
        out = built("--to", "html", "--bibliography", str(ROOT / "bibliography" / name))
        outputs.append((_citations(out), _entries(out)))
    assert outputs[0] == outputs[1] == outputs[2]


def test_missing_weasyprint_gives_a_clear_message(tmp_path):
    """Without WeasyPrint's libraries the build says what to install: no traceback."""
    import subprocess
    import sys
    code = ("import sys; sys.modules['weasyprint'] = None; "
            "from builder.cli import main; raise SystemExit(main(sys.argv[1:]))")
    result = subprocess.run([sys.executable, "-c", code, "build", str(ROOT), "--out",
                             str(tmp_path)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "error: WeasyPrint is not installed" in result.stderr
    assert not list(tmp_path.glob("*.pdf"))


def test_mla_shows_titles_only_where_authors_are_ambiguous(built):
    out = built("--to", "html", "--style", "modern-language-association")
    citations = _citations(out)
    assert "(Akorda)" in citations  # one work by Akorda: no title needed
    assert ("(White House, Readout of the Vice President’s Meeting with President Nursultan "
            "Nazarbayev of Kazakhstan)") in citations
    entries = _entries(out)
    # subsequent-author-substitute: the second State Department entry gets the dashes
    state = [v for k, v in entries.items() if k.startswith("ref-state-")]
    assert sum(v.startswith("———.") for v in state) == 1
