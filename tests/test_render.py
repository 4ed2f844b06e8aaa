"""The words the outputs print themselves, in the book's language."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from builder.build import BuildRequest, build
from builder.render import terms_for


def _project(root: Path, lang: str, bios: int) -> Path:
    (root / "book").mkdir(parents=True)
    authors = "".join(f"  - name: Author {n}\n    bio: Writes book number {n}.\n"
                      for n in range(1, bios + 1))
    (root / "book" / "a.md").write_text(
        f"---\ntitle: Terms\nlang: {lang}\nauthor:\n{authors}---\n\n# One\n\nText.\n",
        encoding="utf-8")
    return root


@pytest.mark.slow  # a build (HTML and EPUB) for each
@pytest.mark.parametrize("lang,bios,title", [("en", 1, "About the author"),
                                             ("en", 2, "About the authors"),
                                             ("ru", 2, "Об авторах"),
                                             ("de-DE", 1, "Über den Autor")])
def test_about_section_title(tmp_path: Path, lang: str, bios: int, title: str) -> None:
    result = build(BuildRequest(_project(tmp_path / "p", lang, bios), formats=("html", "epub")))
    assert f">{title}</h2>" in result.outputs["html"].read_text(encoding="utf-8")
    with zipfile.ZipFile(result.outputs["epub"]) as archive:
        nav = archive.read("EPUB/nav.xhtml").decode("utf-8")
    assert title in nav


def test_terms_fall_back_to_english() -> None:
    assert terms_for("kk-KZ")["references"] == "References"
    assert terms_for("ru")["chapter"].format(n=2) == "Глава 2"
    from builder.render import _TERMS
    for lang, words in _TERMS.items():  # every language has every word
        assert set(words) == set(_TERMS["en"]), lang
