"""The contact sheets of docs/: every page of the sample article and the sample book, in
the report and the book theme, side by side with its number under it.

    .venv/bin/python tools/contact_sheet.py        # all four sheets
    .venv/bin/python tools/contact_sheet.py --dpi 40 sample-book

writes docs/contact-article.png (report theme), docs/contact-article-book.png,
docs/contact-sample.png (book theme) and docs/contact-sample-report.png.  The PDFs are
built as tests/test_visual.py builds them (tests/visual_pages.py), so the sheets show
the pages the approved pictures show.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from visual_pages import CASES, ROOT, build_pdf, render  # noqa: E402

SHEETS = {"article-report": "contact-article.png", "article-book": "contact-article-book.png",
          "sample-report": "contact-sample-report.png", "sample-book": "contact-sample.png"}
COLUMNS = 7
GAP = 24         # between pages, and around the sheet (px)
LABEL = 30       # the band under each page for its number
BACKGROUND = (238, 238, 238)


def sheet(pages: list[Image.Image]) -> Image.Image:
    """The pages in rows of COLUMNS, each with a hairline edge and its number under it."""
    width, height = pages[0].size
    columns = min(COLUMNS, len(pages))
    rows = -(-len(pages) // columns)
    board = Image.new("RGB", (GAP + columns * (width + GAP),
                              GAP + rows * (height + LABEL + GAP)), BACKGROUND)
    draw = ImageDraw.Draw(board)
    font = _font(16)
    for index, page in enumerate(pages):
        x = GAP + (index % columns) * (width + GAP)
        y = GAP + (index // columns) * (height + LABEL + GAP)
        board.paste(page, (x, y))
        draw.rectangle((x - 1, y - 1, x + width, y + height), outline=(200, 200, 200))
        draw.text((x + width // 2, y + height + LABEL // 2), str(index + 1), fill=(90, 90, 90),
                  font=font, anchor="mm")
    return board


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    import fontpkg
    return ImageFont.truetype(fontpkg.path("PT Sans"), size)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="*", metavar="CASE",
                        help=f"the sheets to make (default: all): {', '.join(SHEETS)}")
    parser.add_argument("--dpi", type=int, default=40, help="pages at this resolution (40)")
    args = parser.parse_args()
    unknown = set(args.cases) - set(SHEETS)
    if unknown:
        parser.error(f"unknown case {', '.join(sorted(unknown))}")
    for case in CASES:
        if args.cases and case.name not in args.cases:
            continue
        with tempfile.TemporaryDirectory() as out:
            pages = render(build_pdf(case, Path(out)), args.dpi)
        target = ROOT / "docs" / SHEETS[case.name]
        sheet(pages).quantize(64, dither=Image.Dither.NONE).save(target, optimize=True)
        print(f"{target.relative_to(ROOT)}: {len(pages)} pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
