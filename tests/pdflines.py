"""The lines of a PDF's pages as poppler lays them out (``pdftotext -bbox-layout``): each
line's text and its box in points, for tests of the page's geometry (the text column, the
running heads, the measure, the line ends)."""
from __future__ import annotations

import statistics
import subprocess
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

_NS = "{http://www.w3.org/1999/xhtml}"


@dataclass(frozen=True)
class Line:
    page: int      # 1-based
    text: str      # the line's words joined by single spaces
    x_min: float
    x_max: float
    y_min: float   # from the top of the page
    y_max: float
    page_width: float
    page_height: float

    @property
    def height(self) -> float:
        return self.y_max - self.y_min


def pdf_lines(pdf: Path) -> list[Line]:
    """Every line of every page, in reading order (poppler's blocks, then lines)."""
    xml = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True,
                         check=True).stdout
    root = etree.fromstring(xml, etree.XMLParser(recover=True, huge_tree=True))
    found = []
    for number, page in enumerate(root.iter(f"{_NS}page"), start=1):
        width, height = float(page.get("width")), float(page.get("height"))
        for line in page.iter(f"{_NS}line"):
            words = [w.text or "" for w in line.iter(f"{_NS}word")]
            found.append(Line(number, " ".join(words), float(line.get("xMin")),
                              float(line.get("xMax")), float(line.get("yMin")),
                              float(line.get("yMax")), width, height))
    return found


def margin_lines(lines: list[Line], band_pt: float = 66.0) -> list[Line]:
    """The running heads and folios: lines in the top or bottom ``band_pt`` of the page."""
    return [ln for ln in lines if ln.y_max < band_pt or ln.y_min > ln.page_height - band_pt]


def body_lines(lines: list[Line], band_pt: float = 66.0) -> list[Line]:
    """Lines of the text area, the running heads and folios left out."""
    heads = set(map(id, margin_lines(lines, band_pt)))
    return [ln for ln in lines if id(ln) not in heads]


def full_lines(lines: list[Line], tolerance_pt: float = 3.0) -> list[Line]:
    """Justified lines that fill the measure: those that start at the left edge of the
    text column of their page and reach its right edge to ``tolerance_pt`` (poppler's boxes
    are the glyphs', so a justified line ends a little before or after the edge)."""
    by_page: dict[int, list[Line]] = {}
    for ln in lines:
        by_page.setdefault(ln.page, []).append(ln)
    found = []
    for page_lines in by_page.values():
        left = min(ln.x_min for ln in page_lines)
        right = max(ln.x_max for ln in page_lines)
        found += [ln for ln in page_lines if abs(ln.x_min - left) <= 0.6
                  and right - ln.x_max <= tolerance_pt]
    return found


def characters_per_line(lines: list[Line]) -> float:
    """The mean number of characters (spaces included) of the lines that fill the measure."""
    full = full_lines(body_lines(lines))
    return statistics.mean(len(ln.text) for ln in full)
