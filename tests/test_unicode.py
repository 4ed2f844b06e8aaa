"""Any Unicode text builds (issue 12): the EPUB's font subsetting takes every character.

``"ß".upper()`` is ``"SS"``: a case mapping can be several characters (ß, ﬁ, ﬂ, ŉ, ΐ, ...),
and the subsetter once crashed on it with a traceback. These tests build real projects
through the real command line and open the fonts in the EPUB with fontTools.
"""
from __future__ import annotations

import io
import json
import subprocess
import unicodedata
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from conftest import pdf_text, run_builder

XHTML = "http://www.w3.org/1999/xhtml"

# Characters that have tripped or could trip a subsetter: case mappings of several
# characters (upper, lower, title, casefold), titlecase digraphs, Turkic dotted I,
# combining marks, a thin and a narrow no-break space, joiners, astral letters and
# an emoji, private-use characters, and characters PT Serif lacks (CJK, Devanagari).
HARD = ("ß ẞ ﬁ ﬂ ﬀ ﬃ ŉ ǰ ΐ ΰ և ǆ ǅ ǈ İ ı ſ ﬅ ẖ "
        "e\u0301 o\u0308\u0304 A\u030a "
        "1\u20092 3\u202f4 a\u200db a\u200cb "
        "\U0001d400 \U0001d7d8 \U0001f600 \U00010400 "
        "\ue000 \uf8ff \U000f0000 "
        "漢字 नमस्ते")

# The project of the issue: ß in the title, the body, a citation, the reference and the
# category, which the theme sets in capitals (text-transform: uppercase: ß -> SS, ü -> Ü).
SHARP_S = """---
title: Straße
category: Große Maßnahmen für die Straße
lang: de
---

Die Straße [@key].

Große Maßnahmen
"""

# The same with every hard character in a paragraph of its own.
HARD_ARTICLE = SHARP_S + f"""
{HARD}
"""

REFERENCES = [{"id": "key", "type": "book", "title": "Ein Buch über die Straße",
               "author": [{"family": "Groß", "given": "Jürgen"}],
               "issued": {"date-parts": [[2020]]}, "publisher": "Maß Verlag"}]
ARTICLES = {"sharp-s": SHARP_S, "hard": HARD_ARTICLE}

Built = tuple[subprocess.CompletedProcess[str], Path]


def _project(root: Path, article: str) -> Path:
    (root / "book").mkdir(parents=True)
    (root / "bibliography").mkdir()
    (root / "book" / "article.md").write_text(article, encoding="utf-8")
    (root / "bibliography" / "references.json").write_text(
        json.dumps(REFERENCES, ensure_ascii=False), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    """Each project built by ``python -m builder build DIR --out OUT`` (all three formats)."""
    results = {}
    for name, article in ARTICLES.items():
        root = _project(tmp_path_factory.mktemp(name) / "project", article)
        out = root.parent / "out"
        results[name] = (run_builder("build", str(root), "--out", str(out)), out)
    return results


def _outputs(built: Built) -> dict[str, Path]:
    """The three outputs; the build's failure is each test's failure (not a fixture error)."""
    __tracebackhide__ = True
    result, out = built
    if "Traceback" in result.stderr or result.returncode != 0:
        pytest.fail(f"the build failed (exit {result.returncode}):\n{result.stderr}", pytrace=False)
    found = {path.suffix.lstrip("."): path for path in out.iterdir()
             if path.suffix in (".pdf", ".epub", ".html")}
    assert sorted(found) == ["epub", "html", "pdf"], sorted(out.iterdir())
    return found


def _epub_paragraphs(path: Path) -> list[str]:
    """The text of every <p> of the EPUB's XHTML files, in file order."""
    paragraphs: list[str] = []
    with zipfile.ZipFile(path) as archive:
        for name in sorted(archive.namelist()):
            if name.endswith(".xhtml"):
                root = etree.fromstring(archive.read(name))
                paragraphs.extend(" ".join("".join(p.itertext()).split())
                                  for p in root.iter(f"{{{XHTML}}}p"))
    return paragraphs


def _epub_text(path: Path) -> str:
    """The text of every XHTML file of the EPUB, in file order."""
    texts = []
    with zipfile.ZipFile(path) as archive:
        for name in sorted(archive.namelist()):
            if name.endswith(".xhtml"):
                root = etree.fromstring(archive.read(name))
                texts.append(" ".join("".join(root.itertext()).split()))
    return "\n".join(texts)


def _epub_fonts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()
                if name.endswith((".ttf", ".otf", ".woff", ".woff2"))}


def _cmap(data: bytes) -> set[int]:
    from fontTools.ttLib import TTFont
    return set(TTFont(io.BytesIO(data)).getBestCmap())


def _source_fonts() -> dict[str, set[int]]:
    """The theme's full fonts (before subsetting), by file name."""
    import fontpkg

    from builder.themes import FONT_FACES
    fonts = {}
    for family in ("PT Serif", "PT Sans", "IBM Plex Mono"):
        for weight, style in FONT_FACES:
            path = Path(fontpkg.path(family, weight=weight, style=style))
            fonts[path.name] = _cmap(path.read_bytes())
    return fonts


def _case_forms(text: str) -> set[int]:
    """Every character of ``text`` and of its case mappings (each may be several characters)."""
    forms: set[int] = set()
    for c in set(text):
        for mapped in (c, c.upper(), c.lower(), c.title(), c.casefold()):
            forms.update(ord(m) for m in mapped)
    return forms


@pytest.mark.slow
@pytest.mark.external  # a builder subprocess: full builds
def test_sharp_s_project_builds_all_three_formats(builds: dict[str, Built]) -> None:
    outputs = _outputs(builds["sharp-s"])
    paragraphs = _epub_paragraphs(outputs["epub"])
    assert "Große Maßnahmen" in paragraphs
    assert "Die Straße (Groß, 2020)." in paragraphs
    assert "Groß, J. (2020). Ein Buch über die Straße. Maß Verlag." in _epub_text(outputs["epub"])
    html = outputs["html"].read_text(encoding="utf-8")
    assert "<p>Große Maßnahmen</p>" in html
    assert "Straße" in html.split("<title>")[1].split("</title>")[0]
    lines = pdf_text(outputs["pdf"]).splitlines()
    assert "Große Maßnahmen" in lines
    assert "Die Straße (Groß, 2020)." in lines
    assert "GROSSE MASSNAHMEN FÜR DIE STRASSE" in lines  # the category, text-transform


@pytest.mark.slow
@pytest.mark.external  # a builder subprocess: full builds
def test_hard_characters_build_all_three_formats(builds: dict[str, Built]) -> None:
    outputs = _outputs(builds["hard"])
    paragraphs = _epub_paragraphs(outputs["epub"])
    assert "Große Maßnahmen" in paragraphs
    assert " ".join(HARD.split()) in paragraphs
    html = outputs["html"].read_text(encoding="utf-8")
    assert f"<p>{HARD}</p>" in html


@pytest.mark.slow
@pytest.mark.external  # a builder subprocess: full builds
@pytest.mark.parametrize("name", ARTICLES)
def test_subset_fonts_have_sharp_s_and_its_uppercase(builds: dict[str, Built], name: str) -> None:
    fonts = _epub_fonts(_outputs(builds[name])["epub"])
    assert len(fonts) == 12, sorted(fonts)  # 4 faces each of PT Serif, PT Sans, IBM Plex Mono
    upper = "Große Maßnahmen für die Straße".upper()
    assert upper == "GROSSE MASSNAHMEN FÜR DIE STRASSE"
    for font, data in fonts.items():
        cmap = _cmap(data)
        assert ord("ß") in cmap, font
        missing = sorted(c for c in set(upper) if ord(c) not in cmap)
        assert not missing, (font, missing)


@pytest.mark.slow
@pytest.mark.external  # a builder subprocess: full builds
@pytest.mark.parametrize("name", ARTICLES)
def test_subset_fonts_keep_every_character_and_case_form_the_font_has(
        builds: dict[str, Built], name: str) -> None:
    """Whatever the text and its upper/lower/title/casefold forms use, and the full font
    has, is in the subset; what the font lacks is simply not there (no crash)."""
    outputs = _outputs(builds[name])
    sources = _source_fonts()
    wanted = _case_forms(_epub_text(outputs["epub"]))
    assert {ord(c) for c in "ßSÜ"} <= wanted
    for font, data in _epub_fonts(outputs["epub"]).items():
        source = sources[Path(font).name]
        cmap = _cmap(data)
        missing = sorted(f"U+{c:04X} {chr(c)!r}" for c in wanted & source - cmap
                         if unicodedata.category(chr(c)) != "Cc")
        assert not missing, (font, missing)
        assert not cmap - source, font  # nothing made up


@pytest.mark.slow
@pytest.mark.external  # a builder subprocess: full builds
def test_multi_character_case_mappings_reach_the_subset(builds: dict[str, Built]) -> None:
    """ﬁ -> FI, ŉ -> ʼN, ǰ -> J̌, ΐ -> Ϊ́: each character of each mapping the font has is kept."""
    sources = _source_fonts()
    fonts = _epub_fonts(_outputs(builds["hard"])["epub"])
    checked = set()
    for font, data in fonts.items():
        cmap = _cmap(data)
        source = sources[Path(font).name]
        for c in "ßﬁﬂŉǰΐ":
            for mapped in (c.upper(), c.title(), c.casefold()):
                assert len(mapped) > 1, (c, mapped)
                for m in mapped:
                    if ord(m) in source:
                        checked.add(m)
                        assert ord(m) in cmap, (font, c, mapped, m)
    assert {"S", "F", "I", "L", "\u02bc", "N", "J"} <= checked


@pytest.mark.slow
@pytest.mark.external  # a builder subprocess: full builds
def test_spaces_joiners_and_private_use_characters_are_passed_to_the_subsetter(
        builds: dict[str, Built]) -> None:
    """A thin space, a narrow no-break space and a soft hyphen are drawn by the font
    when it has them: the subset keeps them (they are not "printable" to Python)."""
    sources = _source_fonts()
    fonts = _epub_fonts(_outputs(builds["hard"])["epub"])
    for font, data in fonts.items():
        cmap, source = _cmap(data), sources[Path(font).name]
        for c in "\u2009\u202f\u00ad\u200d\u200c\ue000\uf8ff":
            if ord(c) in source:
                assert ord(c) in cmap, (font, f"U+{ord(c):04X}")


# --- The code points handed to the subsetter, for any text -----------------------------------


def test_every_code_point_is_taken() -> None:
    """The whole BMP (lone surrogates and private use included) and samples of every
    astral plane at once: no crash; only controls and surrogates are left out."""
    from builder.formats.epub import _code_points

    every = [*range(0x10000)]
    for plane in range(1, 17):
        every.extend(range(plane << 16, (plane << 16) + 0x800))
    every.extend(range(0x10F800, 0x110000))
    points = _code_points(["".join(map(chr, every))])
    assert len(points) == len(set(points))
    left_out = set(every) - set(points)
    assert left_out == {c for c in every if unicodedata.category(chr(c)) in ("Cc", "Cs")}


@given(st.text(), st.text(alphabet=st.characters(categories=("Lu", "Ll", "Lt", "Mn"))))
@settings(max_examples=300, deadline=None)
def test_any_text_gives_its_characters_and_case_forms(text: str, letters: str) -> None:
    from builder.formats.epub import _code_points

    points = set(_code_points([text, letters]))
    assert all(isinstance(p, int) for p in points)
    drawn = {c for c in _case_forms(text + letters)
             if unicodedata.category(chr(c)) not in ("Cc", "Cs")}
    assert drawn <= points


def test_language_specific_case_mappings() -> None:
    """Turkish capitalises i as İ and lowercases I as ı; Lithuanian keeps a dot above."""
    from builder.formats.epub import _code_points

    assert {0x130, 0x131} <= set(_code_points(["Ii"], ["tr"]))
    assert {0x130, 0x131} <= set(_code_points(["Ii"], ["az-Latn"]))
    assert 0x131 not in set(_code_points(["Ii"], ["de"]))
    assert 0x307 in set(_code_points(["Ì"], ["lt"]))


def test_compositions_and_decompositions() -> None:
    """e + combining acute may be drawn as é, and é as e + the mark: both are kept."""
    from builder.formats.epub import _code_points

    assert {ord("é"), ord("É")} <= set(_code_points(["e\u0301"]))
    assert {ord("e"), 0x301} <= set(_code_points(["é"]))
