"""A generated cover: the title, subtitle and authors set on the theme's colour, as SVG.

Used by the EPUB when the project has no cover image of its own.  The text is
drawn as glyph outlines taken from the theme's own fonts (fontTools), so the
cover looks the same in every reader, needs no font of its own and does not
depend on the machine.  The output depends only on its inputs: two builds give
the same bytes.
"""
from __future__ import annotations

import functools
import itertools
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from fontTools.pens.svgPathPen import SVGPathPen
from fontTools.pens.transformPen import TransformPen
from fontTools.ttLib import TTFont

WIDTH, HEIGHT = 1600, 2560  # 1:1.6, what the e-book stores ask for
MARGIN = 160
DEFAULT_ACCENT = "#1f4e79"


@dataclass(frozen=True)
class CoverText:
    title: str
    subtitle: str | None
    authors: tuple[str, ...]
    category: str | None = None
    footer: str | None = None  # publisher, date


def theme_accent(base_css: str) -> str:
    """The theme's accent colour: ``--accent: #1f4e79`` in its base.css."""
    found = re.search(r"--accent\s*:\s*(#[0-9a-fA-F]{6}|#[0-9a-fA-F]{3})\b", base_css)
    if not found:
        return DEFAULT_ACCENT
    colour = found.group(1).lower()
    if len(colour) == 4:
        colour = "#" + "".join(c * 2 for c in colour[1:])
    return colour


def svg_cover(text: CoverText, heading_font: Path, text_font: Path, italic_font: Path,
              accent: str = DEFAULT_ACCENT) -> bytes:
    """The cover as a standalone SVG document (UTF-8 bytes)."""
    ink = _ink_on(accent)
    width = WIDTH - 2 * MARGIN
    shapes: list[str] = []

    y = 300.0
    if text.category:
        caps = _Face.load(heading_font)
        shapes.append(caps.path(text.category.upper(), 56, MARGIN, y, tracking=0.12, opacity=0.8))
        y += 120
    # A rule above the title, in the text colour.
    shapes.append(f'<rect x="{MARGIN}" y="{y:.0f}" width="240" height="14" fill="{ink}"/>')
    y += 220

    title_face = _Face.load(heading_font)
    size, lines = _fit(title_face, text.title, width, sizes=(168, 150, 132, 116, 100, 88, 76),
                       max_lines=5)
    for line in lines:
        shapes.append(title_face.path(line, size, MARGIN, y))
        y += size * 1.12
    if text.subtitle:
        y += 40
        sub_face = _Face.load(italic_font)
        sub_size, sub_lines = _fit(sub_face, text.subtitle, width, sizes=(76, 66, 58, 50),
                                   max_lines=4)
        for line in sub_lines:
            shapes.append(sub_face.path(line, sub_size, MARGIN, y, opacity=0.9))
            y += sub_size * 1.25

    author_face = _Face.load(text_font)
    bottom = HEIGHT - 260.0
    if text.footer:
        footer_face = _Face.load(heading_font)
        shapes.append(footer_face.path(_single_line(footer_face, text.footer, 48, width), 48,
                                       MARGIN, HEIGHT - 170, tracking=0.04, opacity=0.8))
        bottom -= 60
    names = [_single_line(author_face, name, 84, width) for name in text.authors[:4]]
    for n, name in enumerate(reversed(names)):
        shapes.append(author_face.path(name, 84, MARGIN, bottom - n * 110))

    label = escape(_label(text))
    body = "\n".join(s for s in shapes if s)
    svg = (f'<?xml version="1.0" encoding="UTF-8"?>\n'
           f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" viewBox="0 0 {WIDTH} {HEIGHT}" '
           f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-labelledby="cover-title">\n'
           f'<title id="cover-title">{label}</title>\n'
           f'<rect width="{WIDTH}" height="{HEIGHT}" fill="{accent}"/>\n'
           f'<g fill="{ink}">\n{body}\n</g>\n</svg>\n')
    return svg.encode("utf-8")


def _label(text: CoverText) -> str:
    title = text.title + (f": {text.subtitle}" if text.subtitle else "")
    return title + (f" — {', '.join(text.authors)}" if text.authors else "")


def _ink_on(background: str) -> str:
    """White text on a dark colour, near-black on a light one (WCAG relative luminance)."""
    channels = [int(background[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#ffffff" if luminance < 0.4 else "#111111"


def _fit(face: _Face, text: str, width: float, sizes: Sequence[int],
         max_lines: int) -> tuple[int, list[str]]:
    """The largest size at which ``text`` wraps into at most ``max_lines`` lines."""
    for size in sizes:
        lines = _wrap(face, text, size, width)
        if len(lines) <= max_lines and all(face.width(line, size) <= width for line in lines):
            return size, lines
    size = sizes[-1]
    lines = _wrap(face, text, size, width)[:max_lines]
    lines[-1] = _single_line(face, lines[-1] + " …", size, width)
    return size, lines


def _wrap(face: _Face, text: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and face.width(candidate, size) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines or [""]


def _single_line(face: _Face, text: str, size: float, width: float) -> str:
    """``text`` cut with an ellipsis so that it fits on one line."""
    if face.width(text, size) <= width:
        return text
    while text and face.width(text + "…", size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _number(value: float) -> str:
    return str(round(value))  # a 1600-unit-wide picture needs no finer coordinates


class _Face:
    """Glyph outlines, advances and pair kerning of one font file."""

    def __init__(self, path: Path) -> None:
        self.font = TTFont(str(path), lazy=True)
        self.glyphs = self.font.getGlyphSet()
        self.cmap = self.font.getBestCmap()
        self.units = self.font["head"].unitsPerEm
        self.metrics = self.font["hmtx"]
        self.kerning: dict[tuple[str, str], int] = {}
        if "kern" in self.font:
            # PT fonts' kern tables are longer than their headers say: fontTools reads
            # them right, and says so on its logger.
            logger = logging.getLogger("fontTools.ttLib.tables._k_e_r_n")
            level = logger.level
            logger.setLevel(logging.ERROR)
            try:
                tables = self.font["kern"].kernTables
            finally:
                logger.setLevel(level)
            for table in tables:
                if getattr(table, "format", None) == 0:
                    self.kerning.update(table.kernTable)

    @staticmethod
    @functools.cache
    def load(path: Path) -> _Face:
        return _Face(path)

    def _names(self, text: str) -> list[str]:
        return [self.cmap.get(ord(c), ".notdef") for c in text]

    def width(self, text: str, size: float, tracking: float = 0.0) -> float:
        names = self._names(text)
        units = sum(self.metrics[n][0] for n in names)
        units += sum(self.kerning.get(pair, 0) for pair in itertools.pairwise(names))
        return units * size / self.units + tracking * size * max(len(names) - 1, 0)

    def path(self, text: str, size: float, x: float, y: float, tracking: float = 0.0,
             opacity: float = 1.0) -> str:
        """One ``<path>`` drawing ``text`` with its baseline at ``y``."""
        scale = size / self.units
        pen = SVGPathPen(self.glyphs, ntos=_number)
        names = self._names(text)
        for n, name in enumerate(names):
            self.glyphs[name].draw(TransformPen(pen, (scale, 0, 0, -scale, x, y)))
            x += self.metrics[name][0] * scale + tracking * size
            if n + 1 < len(names):
                x += self.kerning.get((name, names[n + 1]), 0) * scale
        commands = pen.getCommands()
        if not commands:
            return ""
        alpha = f' fill-opacity="{opacity}"' if opacity < 1 else ""
        return f"<path{alpha} d={quoteattr(commands)}/>"
