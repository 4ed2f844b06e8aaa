"""The HTML of a book as a small site: the contents sidebar of the single page, and
``--html-split chapter`` (index.html, a page per chapter, the references and the about
page, each with the sidebar and previous/next links, links across pages).

Built for real from tests/books/sample (four chapters, footnotes, citations, a figure,
cross-references) and read back with lxml; the lists compared whole."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lxml import html

from builder.cli import main

SAMPLE = Path(__file__).parent / "books" / "sample"
PAGES = ["index.html", "01-introduction.html", "02-methods.html", "03-results.html",
         "04-conclusion.html", "references.html", "about.html"]


def _build(tmp: Path, *options: str) -> Path:
    project = tmp / "sample"
    if not project.exists():
        shutil.copytree(SAMPLE, project)
    assert main(["build", str(project), "--to", "html", "-q", *options]) == 0
    return project / "dist"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(tmp_path_factory.mktemp("site"), "--html-split", "chapter")


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(tmp_path_factory.mktemp("single"))


def _page(path: Path) -> html.HtmlElement:
    return html.parse(str(path)).getroot()


def _words(element: html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def test_the_site_is_these_files(site: Path) -> None:
    fonts = [f"fonts/{name}" for name in (
        "IBMPlexMono-Bold.ttf", "IBMPlexMono-BoldItalic.ttf", "IBMPlexMono-Italic.ttf",
        "IBMPlexMono-Regular.ttf", "PT_Sans-Web-Bold.ttf", "PT_Sans-Web-BoldItalic.ttf",
        "PT_Sans-Web-Italic.ttf", "PT_Sans-Web-Regular.ttf", "PT_Serif-Web-Bold.ttf",
        "PT_Serif-Web-BoldItalic.ttf", "PT_Serif-Web-Italic.ttf", "PT_Serif-Web-Regular.ttf")]
    found = sorted(str(p.relative_to(site)) for p in site.rglob("*") if p.is_file())
    assert found == sorted([*PAGES, *fonts, "images/water-use.svg"])


def test_each_page_has_its_headings_title_and_notes(site: Path) -> None:
    found = {}
    for name in PAGES:
        page = _page(site / name)
        found[name] = (page.findtext(".//title"),
                       [(h.tag, _words(h)) for h in page.xpath(
                           "//body/*[not(self::nav)]//*[self::h1 or self::h2 or self::h3]")],
                       [li.get("id") for li in page.xpath("//li[@class='footnote']")])
    assert found == {
        "index.html": ("Rivers and Cities: Water and Urban Growth in Central Asia",
                       [("h1", "Rivers and Cities")], []),
        "01-introduction.html": ("Introduction – Rivers and Cities",
                                 [("h1", "Introduction"), ("h2", "Scope of the book"),
                                  ("h3", "A note on names")], ["fn-ch1-1", "fn-ch1-2"]),
        "02-methods.html": ("Methods – Rivers and Cities",
                            [("h1", "Methods"), ("h2", "Data sources"), ("h3", "Field visits"),
                             ("h2", "Analysis")], ["fn-ch2-1"]),
        "03-results.html": ("Results – Rivers and Cities",
                            [("h1", "Results"), ("h2", "Water use by city"),
                             ("h2", "Seasonal variation"), ("h3", "Spring floods"),
                             ("h3", "Summer demand")], ["fn-ch3-1"]),
        "04-conclusion.html": ("Conclusion – Rivers and Cities",
                               [("h1", "Conclusion"), ("h2", "What could change")],
                               ["fn-ch4-1"]),
        "references.html": ("References – Rivers and Cities", [("h2", "References")], []),
        "about.html": ("About the authors – Rivers and Cities", [("h2", "About the authors")],
                       []),
    }


def test_citations_notes_and_cross_references_link_to_the_right_page(site: Path) -> None:
    found = {name: [a.get("href") for a in _page(site / name).xpath(
        "//body/*[not(self::nav)]//a[@href]") if not a.get("href").startswith("http")]
        for name in PAGES}
    assert found == {
        "index.html": [],
        "01-introduction.html": [
            "references.html#ref-karimova-2019", "references.html#ref-karimova-2019",
            "references.html#ref-ortiz-2021", "references.html#ref-council-2020",
            "references.html#ref-ortiz-2021", "#fn-ch1-1", "references.html#ref-karimova-2022",
            "#fn-ch1-2", "references.html#ref-baimukhamedov-2015",
            "references.html#ref-council-2020", "#fnref-ch1-1",
            "references.html#ref-baimukhamedov-2015", "#fnref-ch1-2"],
        "02-methods.html": [
            "references.html#ref-council-2020", "references.html#ref-novak-2017",
            "references.html#ref-tashkent-2018", "#fn-ch2-1",
            "references.html#ref-baimukhamedov-2015", "references.html#ref-novak-2017",
            "03-results.html#water-use-by-city", "references.html#ref-karimova-2019",
            "references.html#ref-council-2020", "#fnref-ch2-1"],
        "03-results.html": [
            "references.html#ref-tashkent-2018", "#fn-ch3-1", "references.html#ref-novak-2017",
            "references.html#ref-ortiz-2021", "references.html#ref-karimova-2019",
            "references.html#ref-council-2020", "references.html#ref-council-2020",
            "#fnref-ch3-1"],
        "04-conclusion.html": [
            "references.html#ref-karimova-2022", "references.html#ref-council-2020",
            "02-methods.html#data-sources", "references.html#ref-karimova-2022", "#fn-ch4-1",
            "references.html#ref-baimukhamedov-2015", "references.html#ref-council-2020",
            "#fnref-ch4-1"],
        "references.html": [],
        "about.html": [],
    }


def test_every_link_of_the_site_reaches_its_target(site: Path) -> None:
    ids = {name: set(_page(site / name).xpath("//@id")) for name in PAGES}
    broken = []
    for name in PAGES:
        for href in _page(site / name).xpath("//a/@href"):
            if href.startswith(("http:", "https:")):
                continue
            page, _, fragment = href.partition("#")
            page = page or name
            if page not in ids or (fragment and fragment not in ids[page]):
                broken.append((name, href))
    assert broken == []


def test_previous_and_next_links_in_reading_order(site: Path) -> None:
    found = {name: [(a.get("rel"), a.get("href"), _words(a)) for a in _page(site / name).xpath(
        "//nav[@class='site-pager']/a")] for name in PAGES}
    assert found == {
        "index.html": [("next", "01-introduction.html", "Next Introduction")],
        "01-introduction.html": [("prev", "index.html", "Previous Rivers and Cities"),
                                 ("next", "02-methods.html", "Next Methods")],
        "02-methods.html": [("prev", "01-introduction.html", "Previous Introduction"),
                            ("next", "03-results.html", "Next Results")],
        "03-results.html": [("prev", "02-methods.html", "Previous Methods"),
                            ("next", "04-conclusion.html", "Next Conclusion")],
        "04-conclusion.html": [("prev", "03-results.html", "Previous Results"),
                               ("next", "references.html", "Next References")],
        "references.html": [("prev", "04-conclusion.html", "Previous Conclusion"),
                            ("next", "about.html", "Next About the authors")],
        "about.html": [("prev", "references.html", "Previous References")],
    }


def test_the_sidebar_of_a_chapter_page(site: Path) -> None:
    nav = _page(site / "02-methods.html").xpath("//nav[@id='site-nav']")[0]
    assert [(a.get("href"), _words(a), a.get("aria-current")) for a in nav.iter("a")] == [
        ("index.html", "Rivers and Cities", None),
        ("01-introduction.html", "Introduction", None),
        ("01-introduction.html#scope-of-the-book", "Scope of the book", None),
        ("#methods", "Methods", "page"),
        ("#data-sources", "Data sources", None),
        ("#analysis", "Analysis", None),
        ("03-results.html", "Results", None),
        ("03-results.html#water-use-by-city", "Water use by city", None),
        ("03-results.html#seasonal-variation", "Seasonal variation", None),
        ("04-conclusion.html", "Conclusion", None),
        ("04-conclusion.html#what-could-change", "What could change", None),
        ("references.html", "References", None),
        ("about.html", "About the authors", None),
    ]


def test_the_single_page_stays_the_default_with_a_sidebar(single: Path) -> None:
    assert sorted(p.name for p in single.glob("*.html")) == ["rivers-and-cities.html"]
    page = _page(single / "rivers-and-cities.html")
    nav = page.xpath("//nav[@id='site-nav']")[0]
    assert [a.get("href") for a in nav.iter("a")] == [
        "#title-block", "#introduction", "#scope-of-the-book", "#methods", "#data-sources",
        "#analysis", "#results", "#water-use-by-city", "#seasonal-variation", "#conclusion",
        "#what-could-change", "#references", "#about"]
    ids = set(page.xpath("//@id"))
    assert [h for h in page.xpath("//a/@href") if h.startswith("#") and h[1:] not in ids] == []
    assert page.xpath("//nav[@class='site-pager']") == []


def test_the_sanitizer_sees_every_page(tmp_path: Path) -> None:
    project = tmp_path / "sample"
    shutil.copytree(SAMPLE, project)
    chapter = project / "book" / "03-results.md"
    chapter.write_text(chapter.read_text(encoding="utf-8") + "\n<script>alert(1)</script>\n"
                       '<a href="javascript:alert(2)" onclick="alert(3)">x</a>\n',
                       encoding="utf-8")
    out = _build(tmp_path, "--html-split", "chapter")
    for name in PAGES:
        text = (out / name).read_text(encoding="utf-8").lower()
        assert ("<script" in text, "javascript:" in text, "onclick" in text) == (
            False, False, False), name


def test_a_chapter_named_as_a_page_of_the_site_gets_another_name(tmp_path: Path) -> None:
    project = tmp_path / "book-project"
    (project / "book").mkdir(parents=True)
    (project / "book" / "book.yml").write_text(
        "title: Names\nchapters: [index.md, references.md]\n", encoding="utf-8")
    (project / "book" / "index.md").write_text("# Start\n\nSee @sec:end.\n", encoding="utf-8")
    (project / "book" / "references.md").write_text("# End {#sec:end}\n\nThe end.\n",
                                                    encoding="utf-8")
    assert main(["build", str(project), "--to", "html", "--html-split", "chapter", "-q"]) == 0
    out = project / "dist"
    assert sorted(p.name for p in out.glob("*.html")) == [
        "index-2.html", "index.html", "references-2.html"]
    page = _page(out / "index-2.html")
    assert [a.get("href") for a in page.xpath("//section[@class='chapter']//a")] == [
        "references-2.html"]


@pytest.mark.slow
def test_the_epub_has_no_sidebar_or_pager(tmp_path: Path) -> None:
    import zipfile
    out = _build(tmp_path, "--to", "epub,html", "--html-split", "chapter")
    with zipfile.ZipFile(out / "rivers-and-cities.epub") as epub:
        texts = {name: epub.read(name) for name in epub.namelist() if name.endswith(".xhtml")}
    assert len(texts) > 5
    assert [name for name, data in texts.items()
            if b"site-nav" in data or b"site-pager" in data] == []
