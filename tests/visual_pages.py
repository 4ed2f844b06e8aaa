"""Pages as pictures: the sample article and the sample book, in both themes, built and
rendered to PNG (``pdftoppm``), and compared with the approved pictures in tests/visual/.

Used by tests/test_visual.py (the comparison), tools/approve_visual.py (approving a layout
change on purpose) and tools/contact_sheet.py (docs/contact-*.png).  A page's picture
depends only on the PDF: its fonts are embedded (the theme's fontpkg faces, subset), so
poppler draws the same pixels on any machine with the same poppler."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageChops

ROOT = Path(__file__).resolve().parent.parent
APPROVED = ROOT / "tests" / "visual"
DPI = 50
EPOCH = "1700000000"
# a pixel differs when one of its channels moved by more than THRESHOLD (of 255); a page
# differs when more than TOLERANCE of its pixels do (a changed word is about 0.05 %)
THRESHOLD = 48
TOLERANCE = 0.0005


@dataclass(frozen=True)
class Case:
    name: str      # the pictures' prefix: tests/visual/NAME-p3.png
    project: Path  # the folder holding book/
    theme: str

    def approved(self) -> list[Path]:
        pages = APPROVED.glob(f"{self.name}-p*.png")
        return sorted(pages, key=lambda p: int(p.stem.rsplit("-p", 1)[1]))


CASES = (
    Case("article-report", ROOT, "report"),
    Case("article-book", ROOT, "book"),
    Case("sample-report", ROOT / "tests" / "books" / "sample", "report"),
    Case("sample-book", ROOT / "tests" / "books" / "sample", "book"),
)


def build_pdf(case: Case, out: Path) -> Path:
    """Build the case's PDF (A4, the theme's defaults) into out; return its path."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH}
    result = subprocess.run(
        [sys.executable, "-m", "builder", "build", str(case.project), "--to", "pdf",
         "--theme", case.theme, "--out", str(out), "--no-cache", "-q"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"building {case.name} failed: {result.stderr.strip()}")
    (pdf,) = out.glob("*.pdf")
    return pdf


def render(pdf: Path, dpi: int = DPI) -> list[Image.Image]:
    """Every page of the PDF as an RGB picture, in page order."""
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(["pdftoppm", "-png", "-r", str(dpi), str(pdf), f"{folder}/p"],
                       check=True, capture_output=True, timeout=300)
        files = sorted(Path(folder).glob("p-*.png"),
                       key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        pictures = []
        for file in files:
            with Image.open(file) as picture:
                pictures.append(picture.convert("RGB"))
        return pictures


def reduce(picture: Image.Image) -> Image.Image:
    """The page in 64 colours (enough for text, rules and the figures' flat colours), as
    it is approved: a small PNG, and the same reduction on both sides of a comparison."""
    return picture.quantize(64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)


def save(picture: Image.Image, path: Path) -> None:
    reduce(picture).save(path, optimize=True)


def load(path: Path) -> Image.Image:
    with Image.open(path) as picture:
        return picture.convert("RGB")


def difference(actual: Image.Image, approved: Image.Image) -> tuple[float, Image.Image]:
    """Of a page as rendered and its approved picture: the fraction of pixels that differ
    (above THRESHOLD), and a picture of them: the approved page faded, those pixels red."""
    actual = reduce(actual).convert("RGB")
    if actual.size != approved.size:
        return 1.0, actual.copy()
    red, green, blue = ImageChops.difference(actual, approved).split()
    largest = ImageChops.lighter(ImageChops.lighter(red, green), blue)  # per pixel
    mask = largest.point(lambda v: 255 if v > THRESHOLD else 0)
    count = mask.histogram()[255]
    faded = Image.blend(approved, Image.new("RGB", approved.size, "white"), 0.7)
    faded.paste(Image.new("RGB", approved.size, (220, 0, 0)), mask=mask)
    return count / (actual.width * actual.height), faded
