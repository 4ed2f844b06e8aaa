"""Links in the bibliography (issue 15): DOIs, URLs, PMIDs and PMCIDs, or else the title.

jgm/citeproc's three link fixtures (Pandoc's citation engine; read from ../shared) are
rendered through our engine and compared whole; a real book then carries the links into
the HTML page, the EPUB and the PDF, and ``link-bibliography: false`` takes them out.
"""
from __future__ import annotations

import importlib.util
import json
import sys
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html

from conftest import run_builder

ROOT = Path(__file__).resolve().parent.parent
EXTRA = ROOT.parent / "shared" / "realworld" / "citeproc_tests" / "extra"


def _suite():  # tools/csl_suite.py, the CSL test-suite runner
    spec = importlib.util.spec_from_file_location("csl_suite", ROOT / "tools" / "csl_suite.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("csl_suite", module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["link_plainurls", "link_titles", "link_bibitems"])
def test_jgm_citeproc_link_fixtures(name):
    if not (EXTRA / f"{name}.txt").is_file():
        pytest.skip("../shared/realworld/citeproc_tests is not here")
    suite = _suite()
    fixture = suite.load_fixture(EXTRA / f"{name}.txt")
    assert fixture.opts["link_bibliography"] is True  # (its "linkBibliography" option)
    got = suite.our_engine(fixture.csl, fixture.items, fixture.citations, fixture.mode,
                           **fixture.opts)
    assert suite.normalise(got, fixture.mode) == suite.normalise(fixture.expected, fixture.mode)


REFS = [
    {"id": "ost", "type": "article-journal", "author": [{"family": "Ostrom", "given": "Elinor"}],
     "title": "Collective action", "container-title": "Journal of Economic Perspectives",
     "volume": "14", "page": "137-158", "issued": {"date-parts": [[2000]]},
     "DOI": "10.1257/jep.14.3.137"},
    {"id": "web", "type": "webpage", "author": [{"literal": "OECD"}], "title": "Water outlook",
     "URL": "https://example.org/water?a=1&b=2", "issued": {"date-parts": [[2021]]}},
    {"id": "sen", "type": "book", "author": [{"family": "Sen", "given": "Amartya"}],
     "title": "Development as freedom", "publisher": "Knopf", "issued": {"date-parts": [[1999]]}},
]
ENTRIES = [  # APA: the DOI and the URL linked, the book without either left alone
    ('OECD. (2021). <i>Water outlook</i>. '
     '<a href="https://example.org/water?a=1&amp;b=2">https://example.org/water?a=1&amp;b=2</a>'),
    ('Ostrom, E. (2000). Collective action. <i>Journal of Economic Perspectives</i>, '
     '<i>14</i>, 137–158. <a href="https://doi.org/10.1257/jep.14.3.137">'
     'https://doi.org/10.1257/jep.14.3.137</a>'),
    "Sen, A. (1999). <i>Development as freedom</i>. Knopf.",
]


def _project(tmp_path: Path, meta: str = "") -> Path:
    project = tmp_path / "p"
    (project / "book").mkdir(parents=True)
    (project / "bibliography").mkdir()
    (project / "bibliography" / "refs.json").write_text(json.dumps(REFS), encoding="utf-8")
    (project / "book" / "a.md").write_text(
        f"---\ntitle: Links\n{meta}---\n\nAs [@ost; @web; @sen] show.\n", encoding="utf-8")
    return project


def _inner(element) -> str:
    text = etree.tostring(element, encoding="unicode", method="html", with_tail=False)
    return text[text.index(">") + 1:text.rindex("<")]


@pytest.mark.slow
@pytest.mark.external
def test_the_links_reach_every_format(tmp_path):
    project = _project(tmp_path)
    result = run_builder("build", str(project), "-q")
    assert (result.returncode, result.stderr) == (0, "")
    page = lxml_html.parse(str(project / "dist" / "links.html")).getroot()
    assert [_inner(e) for e in page.find_class("csl-entry")] == ENTRIES
    with zipfile.ZipFile(project / "dist" / "links.epub") as epub:
        xhtml = [epub.read(n) for n in epub.namelist() if n.endswith(".xhtml")]
    hrefs = [a.get("href") for data in xhtml for a in etree.fromstring(data).iter(
        "{http://www.w3.org/1999/xhtml}a") if a.getparent().get("class") == "csl-entry"]
    assert hrefs == ["https://example.org/water?a=1&b=2", "https://doi.org/10.1257/jep.14.3.137"]
    from pypdf import PdfReader
    uris = [annot.get_object()["/A"]["/URI"] for pdf_page in PdfReader(
        project / "dist" / "links.pdf").pages for annot in pdf_page.get("/Annots") or []
        if "/URI" in annot.get_object().get("/A", {})]
    # (a link broken over two lines is an annotation on each)
    assert list(dict.fromkeys(uris)) == ["https://example.org/water?a=1&b=2",
                                         "https://doi.org/10.1257/jep.14.3.137"]


@pytest.mark.external
def test_link_bibliography_false_leaves_the_entries_as_text(tmp_path):
    project = _project(tmp_path, "link-bibliography: false\n")
    result = run_builder("build", str(project), "--to", "html", "-q")
    assert (result.returncode, result.stderr) == (0, "")
    page = lxml_html.parse(str(project / "dist" / "links.html")).getroot()
    assert [_inner(e) for e in page.find_class("csl-entry")] == [
        "OECD. (2021). <i>Water outlook</i>. https://example.org/water?a=1&amp;b=2",
        "Ostrom, E. (2000). Collective action. <i>Journal of Economic Perspectives</i>, "
        "<i>14</i>, 137–158. https://doi.org/10.1257/jep.14.3.137",
        "Sen, A. (1999). <i>Development as freedom</i>. Knopf."]
