"""TeX math to MathML (EPUB, HTML) and to vector SVG (PDF: WeasyPrint has no MathML).

Two pure functions over one parse:

- ``to_mathml(tex, display)``: a ``<math>`` element as a string, valid MathML 3 inside
  EPUB 3 XHTML (EPUBCheck), with the TeX kept in ``alttext`` and in an
  ``<annotation encoding="application/x-tex">`` for assistive technology;
- ``to_svg(tex, display, size_pt, color)``: an SVG whose glyphs are paths drawn from
  the STIX Two Math font that ziamath ships (SIL Open Font License 1.1), and its width,
  height and depth below the baseline in pt.

latex2mathml converts the TeX. It accepts nearly anything without complaint: an unknown
command comes out as its own name in an ``<mi>``, a missing ``}`` or an unknown
environment is silently dropped, a fraction may lack its denominator. So the source is
checked first (braces, ``\\begin``/``\\end``, ``\\left``/``\\right``, every command and
environment against what latex2mathml knows), then the MathML it made (the number of
arguments of each fraction, script and root); every problem is a `MathError`, with the
1-based position in the TeX where it can be told. The MathML is then cleaned of what
the MathML 3 schema rejects (operators holding elements, TeX-only units, empty or
unknown attributes, text its serializer left unescaped). The output depends on the
input only: the same call gives the same bytes.
"""
from __future__ import annotations

import re
import threading
import warnings
import xml.etree.ElementTree as ET
from functools import lru_cache

# ziamath registers a few operator names (\tg, \sh, \arg...) in latex2mathml when it is
# imported: import it here, always, so that to_mathml's output never depends on whether
# to_svg ran before it. (Its font loading calls a deprecated importlib.resources API.)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import ziamath
from latex2mathml import commands as l2m_commands
from latex2mathml import exceptions as l2m_exceptions
from latex2mathml.converter import convert_to_element
from latex2mathml.symbols_parser import convert_symbol
from latex2mathml.tokenizer import PATTERN as TEX_TOKEN

__all__ = ["MATH_FONT", "MATHML_NS", "MathError", "to_mathml", "to_svg"]

MATHML_NS = "http://www.w3.org/1998/Math/MathML"
MATH_FONT = "STIX Two Math (ziamath's bundled font; SIL Open Font License 1.1)"


class MathError(Exception):
    """Bad TeX: ``message`` says what, ``column`` (1-based, in the TeX string, newlines
    counted as characters) where, when it can be told."""

    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(message if column is None else f"{message} (column {column})")
        self.message = message
        self.column = column


# --- checking the TeX -------------------------------------------------------------------

_DEFINITION = re.compile(
    r"\\(?:newcommand|renewcommand|DeclareMathOperator\*?)\s*\{?\s*(\\[A-Za-z]+)"
    r"|\\def\s*(\\[A-Za-z]+)")
_ENV_DEFINITION = re.compile(r"\\newenvironment\s*\{\s*([A-Za-z]+\*?)\s*\}")
# In \text{...} a backslash may only escape one of these (LaTeX's text-mode specials).
_TEXT_ESCAPE = re.compile(r"\\([%$&#_])")

_LIBRARY_ERRORS: dict[type[Exception], str] = {
    l2m_exceptions.NumeratorNotFoundError: "a fraction has no numerator",
    l2m_exceptions.DenominatorNotFoundError: "a fraction has no denominator",
    l2m_exceptions.ExtraLeftOrMissingRightError: r"\left without \right, or the reverse",
    l2m_exceptions.MissingSuperScriptOrSubscriptError: "^ or _ without an argument",
    l2m_exceptions.DoubleSubscriptsError: "double subscript (write x_{ab} or {x_a}_b)",
    l2m_exceptions.DoubleSuperscriptsError: "double superscript (write x^{ab} or {x^a}^b)",
    l2m_exceptions.NoAvailableTokensError: "a command lacks its argument",
    l2m_exceptions.InvalidStyleForGenfracError: r"bad style argument of \genfrac",
    l2m_exceptions.MissingEndError: r"\begin without its \end",
    l2m_exceptions.InvalidAlignmentError: "bad column alignment (use l, c, r or |)",
    l2m_exceptions.InvalidWidthError: "bad width",
    l2m_exceptions.LimitsMustFollowMathOperatorError: r"\limits must follow an operator",
}


@lru_cache(maxsize=1)
def _known_commands() -> frozenset[str]:
    """Every command name latex2mathml's own tables mention (symbols are looked up in its
    symbol table separately)."""
    names: set[str] = set()
    for value in vars(l2m_commands).values():
        items = value.keys() if isinstance(value, dict) else value
        if isinstance(items, str):
            items = (items,)
        try:
            iterator = iter(items)
        except TypeError:
            continue
        for item in iterator:
            if isinstance(item, str) and re.fullmatch(r"\\[A-Za-z]+", item):
                names.add(item)
    return frozenset(names)


def _known(name: str, defined: set[str]) -> bool:
    return name in defined or name in _known_commands() or convert_symbol(name) is not None


def _check_source(tex: str) -> None:
    """Raise a MathError for the first problem latex2mathml would pass over in silence."""
    if not tex.strip():
        raise MathError("empty formula")
    defined = {a or b for a, b in _DEFINITION.findall(tex)}
    environments = set(_ENV_DEFINITION.findall(tex))
    braces: list[int] = []
    envs: list[tuple[str, int]] = []
    lefts: list[int] = []
    for match in TEX_TOKEN.finditer(tex):
        column = match.start() + 1
        kind = match.lastgroup if match.lastgroup != "math_close" else "math_font"
        token = match.group(0)
        if kind == "char" and token == "{":
            braces.append(column)
        elif kind == "char" and token == "}":
            if not braces:
                raise MathError("unmatched '}'", column)
            braces.pop()
        elif match.group("text_cmd") is not None:
            content = match.group("text_content")
            start = match.start("text_content")
            if "{" in content:
                raise MathError(f"{match.group('text_cmd')}{{}} cannot hold braces",
                                start + content.index("{") + 1)
            stray = re.search(r"\\(?![%$&#_])", content)
            if stray:
                raise MathError(f"{match.group('text_cmd')}{{}} cannot hold commands"
                                r" (only \%, \$, \&, \# and \_)", start + stray.start() + 1)
        elif match.group("begin_end") is not None:
            name = re.sub(r"^\\(begin|end)\s*\{|\}$", "", token)
            if token.startswith("\\begin"):
                if "\\" + name not in l2m_commands.MATRICES and name not in _ALIASES \
                        and name not in environments:
                    raise MathError(f"unknown environment '{name}'", column)
                envs.append((name, column))
            else:
                if not envs:
                    raise MathError(f"\\end{{{name}}} without \\begin{{{name}}}", column)
                opened, _ = envs.pop()
                if opened != name:
                    raise MathError(f"\\end{{{name}}} closes \\begin{{{opened}}}", column)
        elif match.group("command") is not None:
            if token == "\\left":
                lefts.append(column)
            elif token == "\\right":
                if not lefts:
                    raise MathError(r"\right without \left", column)
                lefts.pop()
            elif not _known(token, defined):
                raise MathError(f"unknown command {token}", column)
        elif match.group("math_font") is not None:
            font = match.group("math_font")
            if font not in l2m_commands.LOCAL_FONTS and convert_symbol(token) is None:
                raise MathError(f"unknown command {font}", column)
    if braces:
        raise MathError("'{' is never closed", braces[-1])
    if envs:
        name, column = envs[-1]
        raise MathError(f"\\begin{{{name}}} is never ended", column)
    if lefts:
        raise MathError(r"\left without \right", lefts[-1])


# The elements whose children are positional arguments, and what a missing one means.
_ARITY: dict[str, tuple[int, str]] = {
    "mfrac": (2, "a fraction needs a numerator and a denominator"),
    "mroot": (2, "a root needs its index and its radicand"),
    "msub": (2, "a subscript needs a base and a script"),
    "msup": (2, "a superscript needs a base and a script"),
    "munder": (2, "an under-script needs a base and a script"),
    "mover": (2, "an over-script needs a base and a script"),
    "msubsup": (3, "a base with both scripts needs three parts"),
    "munderover": (3, "a base with both limits needs three parts"),
}
_ENTITY = re.compile(r"&#(x[0-9A-Fa-f]+|[0-9]+);")
# MathML 3 length units; TeX's others are converted (1 mu = 1/18 em).
_TEX_UNITS = {"mu": (1 / 18, "em"), "bp": (72.27 / 72, "pt"), "dd": (1238 / 1157, "pt"),
              "cc": (12 * 1238 / 1157, "pt"), "sp": (1 / 65536, "pt")}
_LENGTH = re.compile(r"^\s*([+-]?)(\d*\.?\d+)\s*(mu|bp|dd|cc|sp)\s*$")
_LENGTH_ATTRIBUTES = frozenset({"width", "height", "depth", "lspace", "rspace", "voffset",
                                "minsize", "maxsize", "mathsize"})
_MATHML3_ATTRIBUTES = frozenset({
    "accent", "accentunder", "align", "class", "columnalign", "columnlines",
    "columnspacing", "columnspan", "depth", "dir", "display", "displaystyle", "fence",
    "form", "frame", "height", "href", "id", "largeop", "linebreak", "linethickness",
    "lspace", "mathbackground", "mathcolor", "mathsize", "mathvariant", "maxsize",
    "minsize", "movablelimits", "notation", "rowalign", "rowlines", "rowspacing",
    "rowspan", "rspace", "scriptlevel", "separator", "stretchy", "style", "symmetric",
    "voffset", "width", "xmlns"})
_TOKENS = frozenset({"mi", "mn", "mo", "mtext", "ms"})


def _unescape(text: str) -> str:
    """latex2mathml writes characters as '&#x...;' into the text of its ElementTree (and
    unescapes the whole serialization, user text included, which is not well-formed XML
    for '<' or '&'): resolve its references only."""
    return _ENTITY.sub(lambda m: chr(int("0" + m.group(1), 0) if m.group(1)[0] == "x"
                                     else int(m.group(1))), text)


def _length(value: str) -> str:
    match = _LENGTH.match(value)
    if not match:
        return value
    sign, number, unit = match.groups()
    factor, target = _TEX_UNITS[unit]
    return f"{sign}{float(number) * factor:.4g}{target}"


def _text_of(element: ET.Element) -> str:
    return "".join(element.itertext())


# TeX sets the limits of these under and over them in display style.
_LIMIT_OPERATORS = frozenset({"lim", "limsup", "liminf", "max", "min", "sup", "inf", "det",
                              "gcd", "Pr", "argmax", "argmin", "injlim", "projlim"})
_UNDER = {"msub": "munder", "msup": "mover", "msubsup": "munderover"}


def _clean(element: ET.Element, display: bool) -> None:
    """Make latex2mathml's tree valid MathML 3, in place, and check its arguments."""
    for node in element.iter():
        if node.text:
            node.text = _unescape(node.text)
            if node.tag == "mtext":
                node.text = _TEXT_ESCAPE.sub(r"\1", node.text)
        if node.tail:
            node.tail = _unescape(node.tail)
        for name in list(node.attrib):
            value = _unescape(node.attrib[name])
            if name in _LENGTH_ATTRIBUTES:
                value = _length(value)
            if name == "border-color":  # \fcolorbox: its frame, as MathML 3 can say it
                del node.attrib[name]
                node.set("style", f"border: 1px solid {value}")
            elif name not in _MATHML3_ATTRIBUTES or not value.strip():
                del node.attrib[name]
            else:
                node.set(name, value)
    for node in element.iter():
        if node.tag in _TOKENS:
            unknown = re.search(r"\\[A-Za-z]+", node.text or "")
            if unknown:  # a name latex2mathml did not know and left as it was
                raise MathError(f"unknown command {unknown[0]}")
        if node.tag in _ARITY and len(node) != _ARITY[node.tag][0]:
            raise MathError(_ARITY[node.tag][1])
        if (display and node.tag in _UNDER and node[0].tag == "mo"
                and not len(node[0]) and node[0].text in _LIMIT_OPERATORS):
            node.tag = _UNDER[node.tag]
        if node.tag in _TOKENS and len(node):
            # \mathop{...}, \mathbin{...}: an operator holding elements. As one operator
            # when they are plain characters, else as a row (MathML allows no other).
            inner = [child for child in node.iter() if child is not node]
            if all(child.tag == "mrow" or (child.tag in _TOKENS and not len(child))
                   for child in inner):
                text = "".join(node.itertext())
                for child in list(node):
                    node.remove(child)
                node.text = text
            else:
                node.tag = "mrow"
                for name in list(node.attrib):
                    if name not in ("class", "style", "href", "mathcolor", "mathbackground"):
                        del node.attrib[name]


# latex2mathml reads \mathrm{d} as the symbol of that name, a plain 'd' that a renderer
# sets in italic like any <mi> of one letter: a space makes it read the font command.
_FONT_LETTER = re.compile(r"(\\math[a-z]+)(?=\{[A-Za-z]\})")


def _spaced_font(match: re.Match[str]) -> str:
    letter = match.string[match.end() + 1]
    symbol = convert_symbol(f"{match[1]}{{{letter}}}")
    plain = symbol is not None and chr(int(symbol, 16)) == letter
    return match[1] + " " if plain else match[1]


# amsmath's environments latex2mathml lacks, written as the ones it has that lay out the
# same: aligned as align* (pairs of columns, right then left, no numbers), gathered as
# \displaylines (centred rows).
_ALIASES = {"aligned": ("\\begin{align*}", "\\end{align*}"),
            "gathered": ("\\displaylines{", "}")}
_ALIASED = re.compile(r"\\(begin|end)\s*\{(" + "|".join(_ALIASES) + r")\}")


def _aliased(tex: str) -> str:
    return _ALIASED.sub(lambda m: _ALIASES[m[2]][m[1] == "end"], tex)


def _parse(tex: str, display: bool) -> ET.Element:
    """The checked, cleaned MathML of ``tex``: ``<math display><mrow>...</mrow></math>``."""
    if not isinstance(tex, str):
        raise TypeError(f"tex must be a str, not {type(tex).__name__}")
    _check_source(tex)
    try:
        root = convert_to_element(_FONT_LETTER.sub(_spaced_font, _aliased(tex)),
                                  display="block" if display else "inline")
    except Exception as error:  # latex2mathml's own, and StopIteration, IndexError...
        message = _LIBRARY_ERRORS.get(type(error))
        if message is None:
            message = f"cannot parse the formula ({type(error).__name__})"
        raise MathError(message) from error
    _clean(root, display)
    return root


# --- MathML -----------------------------------------------------------------------------

@lru_cache(maxsize=4096)
def to_mathml(tex: str, display: bool) -> str:
    """``tex`` as a MathML ``<math>`` element (a string, UTF-8 characters, no XML
    declaration), valid in EPUB 3 XHTML: raises MathError for bad TeX."""
    root = _parse(tex, display)
    math = ET.Element("math", {"xmlns": MATHML_NS,
                               "display": "block" if display else "inline",
                               "alttext": tex.strip()})
    semantics = ET.SubElement(math, "semantics")
    children = list(root)
    if len(children) == 1 and children[0].tag == "mrow":
        semantics.append(children[0])
    else:
        row = ET.SubElement(semantics, "mrow")
        row.extend(children)
    annotation = ET.SubElement(semantics, "annotation", {"encoding": "application/x-tex"})
    annotation.text = tex.strip()
    return ET.tostring(math, encoding="unicode")


# --- SVG --------------------------------------------------------------------------------

_COLOR = re.compile(r"#(?:[0-9A-Fa-f]{3}){1,2}|[A-Za-z]+")
_SVG_LOCK = threading.Lock()  # ziamath's settings are global


@lru_cache(maxsize=1)
def _default_font() -> ziamath.mathfont.MathFont:
    return ziamath.Math("<math><mi>x</mi></math>").font


def _check_glyphs(root: ET.Element, tex: str) -> None:
    """ziamath draws a character its font lacks as an empty box: refuse it instead."""
    font = _default_font()
    for node in root.iter():
        if node.tag in _TOKENS:
            for char in node.text or "":
                if not char.isspace() and font.glyphindex(char) == 0:
                    position = tex.find(char)
                    raise MathError(f"the math font (STIX Two Math) has no glyph for "
                                    f"{char!r} (U+{ord(char):04X})",
                                    position + 1 if position >= 0 else None)


@lru_cache(maxsize=4096)
def to_svg(tex: str, display: bool, size_pt: float = 10.5,
           color: str = "#000") -> tuple[str, float, float, float]:
    """``tex`` drawn as an SVG of paths (no text, no font), its em ``size_pt``; returns
    ``(svg, width_pt, height_pt, depth_pt)``, depth being how far the drawing goes below
    the baseline (place it inline with ``vertical-align: -{depth}pt``). The SVG's
    ``width`` and ``height`` are in pt. Raises MathError for bad TeX, or a character
    the math font lacks; ValueError for a bad size or colour."""
    if not size_pt > 0:
        raise ValueError(f"size_pt must be positive, not {size_pt!r}")
    if not _COLOR.fullmatch(color):
        raise ValueError(f"color must be #rgb, #rrggbb or a colour name, not {color!r}")
    root = _parse(tex, display)
    _check_glyphs(root, tex)
    root.set("mathcolor", color)
    del root.attrib["xmlns"]
    with _SVG_LOCK:
        config = ziamath.config
        saved = config.svg2, config.precision, config.minsizefraction
        config.svg2 = False  # plain paths: no <symbol>/<use> for WeasyPrint
        config.precision = 3
        # The smallest script size is a fraction of the size the font was loaded at (24):
        # make it 0.3 of this size, so that the drawing scales with size_pt.
        config.minsizefraction = 0.3 * size_pt / _default_font().basesize
        try:
            math = ziamath.Math(root, size=size_pt, margin=0)
            box = math.node.bbox
            element = math.svgxml()
        except Exception as error:
            raise MathError(f"cannot draw the formula ({type(error).__name__}: "
                            f"{error})") from error
        finally:
            config.svg2, config.precision, config.minsizefraction = saved
    width = round(box.xmax - box.xmin, 3)
    height = round(box.ymax - box.ymin, 3)
    depth = round(-box.ymin, 3)
    element.set("width", f"{width:g}pt")
    element.set("height", f"{height:g}pt")
    return ET.tostring(element, encoding="unicode"), width, height, depth
