"""Visual regression (issue 16): every page of the sample article and the sample book, in
the report and the book theme, rendered at 50 dpi and compared with its approved picture
in tests/visual/.  A layout change shows here and is approved on purpose, with
``tools/approve_visual.py`` (tests/visual/README.md)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from visual_pages import CASES, TOLERANCE, Case, build_pdf, difference, load, reduce, render

pytestmark = [pytest.mark.slow, pytest.mark.external,  # builds, pdftoppm
              pytest.mark.skipif(shutil.which("pdftoppm") is None,
                                 reason="poppler-utils (pdftoppm) is not installed")]


def _mismatches(case: Case, out: Path) -> list[str]:
    pictures = render(build_pdf(case, out / "dist"))
    approved = case.approved()
    found = []
    if len(pictures) != len(approved):
        found.append(f"{len(pictures)} pages, {len(approved)} approved")
    for number, (picture, path) in enumerate(zip(pictures, approved, strict=False), start=1):
        share, diff = difference(picture, load(path))
        if share > TOLERANCE:
            actual = out / f"{case.name}-p{number}.png"
            diff_path = out / f"{case.name}-p{number}-diff.png"
            reduce(picture).save(actual)
            diff.save(diff_path)
            found.append(f"page {number}: {share:.2%} of its pixels differ "
                         f"(actual {actual}, difference {diff_path})")
    return found


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_pages_look_as_approved(case, tmp_path):
    assert case.approved(), f"no approved pictures for {case.name}: run tools/approve_visual.py"
    assert _mismatches(case, tmp_path) == [], (
        "the pages changed: look at the pictures named above; if the change is meant, "
        "approve it with tools/approve_visual.py")


def test_a_changed_page_is_found(tmp_path):
    """The comparison sees one word's worth of change and nothing in an identical page."""
    from PIL import ImageDraw
    page = load(CASES[0].approved()[0])
    assert difference(page, page)[0] == 0.0
    changed = page.copy()
    ImageDraw.Draw(changed).rectangle((5, 5, 40, 12), fill="black")  # the top margin
    share, diff = difference(changed, page)
    assert share > TOLERANCE
    assert diff.getpixel((20, 8)) == (220, 0, 0)
