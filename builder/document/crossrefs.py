"""A book-wide step: cross-references, in pandoc-crossref's syntax and in Quarto's.

A label is the id of its element, as in pandoc-crossref: ``{#fig:flow}`` on a figure
gives ``id="fig:flow"``, and ``@fig:flow`` links to ``#fig:flow``.

============  =========================  ==============================================
written       pandoc-crossref (``:``)    Quarto (``-``)
============  =========================  ==============================================
``@fig:a``    fig. 1                     Figure 1
``@Fig:a``    Fig. 1                     Figure 1
``[-@fig:a]`` 1                          1
two or more   figs. 1, 2 (a run: 1-3)    Figures 1, 2
============  =========================  ==============================================

The same for tables (``tbl``), equations (``eq``), listings (``lst``: a code block) and
sections (``sec``: the section's number).  The words come in the document's language
(:data:`WORDS`; a listing's, for now, in English in every language).
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from ..errors import BuildError, Warning_
from ..model import Cluster
from .html import escape
from .nodes import Chapter, RawBlock, RawInline, Str
from .walk import blocks, inlines

LABEL = re.compile(r"(?P<kind>[Ff]ig|[Tt]bl|[Ee]q|[Ss]ec|[Ll]st)(?P<sep>[:-])(?P<name>\S+)")
KINDS = {"fig": "figure", "tbl": "table", "eq": "equation", "sec": "section",
         "lst": "listing"}

# Per language: pandoc-crossref's prefixes (one, several) and Quarto's words (one, several).
WORDS: dict[str, dict[str, tuple[str, str, str, str]]] = {
    "en": {"figure": ("fig.", "figs.", "Figure", "Figures"),
           "table": ("tbl.", "tbls.", "Table", "Tables"),
           "equation": ("eq.", "eqns.", "Equation", "Equations"),
           "section": ("sec.", "secs.", "Section", "Sections"),
           "listing": ("lst.", "lsts.", "Listing", "Listings")},
    "de": {"figure": ("Abb.", "Abb.", "Abbildung", "Abbildungen"),
           "table": ("Tab.", "Tab.", "Tabelle", "Tabellen"),
           "equation": ("Gl.", "Gl.", "Gleichung", "Gleichungen"),
           "section": ("Abschn.", "Abschn.", "Abschnitt", "Abschnitte")},
    "fr": {"figure": ("fig.", "figs.", "Figure", "Figures"),
           "table": ("tab.", "tabs.", "Tableau", "Tableaux"),
           "equation": ("éq.", "éqs.", "Équation", "Équations"),
           "section": ("sec.", "secs.", "Section", "Sections")},
    "ru": {"figure": ("рис.", "рис.", "Рисунок", "Рисунки"),
           "table": ("табл.", "табл.", "Таблица", "Таблицы"),
           "equation": ("ур.", "ур.", "Уравнение", "Уравнения"),
           "section": ("разд.", "разд.", "Раздел", "Разделы")},
    "kk": {"figure": ("сур.", "сур.", "Сурет", "Суреттер"),
           "table": ("кесте", "кестелер", "Кесте", "Кестелер"),
           "equation": ("теңд.", "теңд.", "Теңдеу", "Теңдеулер"),
           "section": ("бөл.", "бөл.", "Бөлім", "Бөлімдер")},
}


def words(lang: str) -> dict[str, tuple[str, str, str, str]]:
    """The words of a language; English for a kind it lacks (listings, but in English)."""
    return {**WORDS["en"], **WORDS.get(lang.split("-")[0].lower(), {})}


def is_label(key: str) -> bool:
    """Whether a ``@key`` is a cross-reference (``fig:``, ``tbl-``, ...), not a citation."""
    return LABEL.fullmatch(key) is not None


def label_kind(label: str) -> str | None:
    match = LABEL.fullmatch(label)
    return KINDS[match.group("kind").lower()] if match else None


@dataclass(frozen=True)
class Target:
    """What a label names: its kind and its number as printed ("3", "2.1")."""

    kind: str
    number: str


@dataclass(frozen=True)
class Reference:
    """One ``@label`` as written."""

    label: str
    number_only: bool = False  # [-@fig:a]


def render(refs: Sequence[Reference], targets: dict[str, Target], lang: str) -> str:
    """The HTML of one cross-reference citation (all its labels are in ``targets``)."""
    first = LABEL.fullmatch(refs[0].label)
    assert first is not None
    quarto = first.group("sep") == "-"
    capital = first.group("kind")[0].isupper()
    kind = targets[_key(refs[0].label)].kind
    one, many, word, words_ = words(lang)[kind]
    links = [f'<a href="#{_key(r.label)}" class="cross-ref">'
             f'{targets[_key(r.label)].number}</a>' for r in refs]
    numbers = _runs([targets[_key(r.label)].number for r in refs], links)
    if all(r.number_only for r in refs):
        return numbers
    if quarto:
        prefix = word if len(refs) == 1 else words_
    else:
        prefix = one if len(refs) == 1 else many
        if capital:
            prefix = prefix[:1].upper() + prefix[1:]
    return f"{prefix}\u00a0{numbers}"


def _key(label: str) -> str:
    """The element id a label names: ``@Fig:a`` names ``fig:a``."""
    return label[0].lower() + label[1:]


def _runs(numbers: list[str], links: list[str]) -> str:
    """"1, 2" and, for three or more consecutive numbers, "1-3" (pandoc-crossref's
    ``rangeDelim``): the range links its first and its last."""
    out: list[str] = []
    n = 0
    while n < len(numbers):
        end = n
        while (end + 1 < len(numbers) and numbers[end].isdigit() and numbers[end + 1].isdigit()
               and int(numbers[end + 1]) == int(numbers[end]) + 1):
            end += 1
        if end - n >= 2:
            out.append(f"{links[n]}-{links[end]}")  # pandoc-crossref's rangeDelim
        else:
            out.extend(links[n:end + 1])
        n = end + 1
    return ", ".join(out)


def suggestion(label: str, targets: dict[str, Target]) -> str:
    close = difflib.get_close_matches(_key(label), targets, n=3)
    if close:
        return "did you mean " + ", ".join(f"@{c}" for c in close) + "?"
    kind = label_kind(label) or "element"
    return f"give the {kind} the id {{#{_key(label)}}}"


_LATEX_LABEL = re.compile(r"\\(?:label|hypertarget)\s*\{([^{}\s]+)\}")


def latex_labels(chapters: Iterable[Chapter]) -> set[str]:
    """The labels raw LaTeX defines in the chapters (``\\label{fig:x}``,
    ``\\hypertarget{fig:x}``): Markdown never sees them, nor does pandoc-crossref."""
    found: set[str] = set()
    for chapter in chapters:
        text = "".join(node.text if isinstance(node, Str) else node.html
                       for node in inlines(chapter) if isinstance(node, (Str, RawInline)))
        text += "".join(block.html for block in blocks(chapter) if isinstance(block, RawBlock))
        found.update(_LATEX_LABEL.findall(text))
    return found


def resolve(clusters: Sequence[Cluster], targets: dict[str, Target], bibliography: set[str],
            lang: str, latex: Collection[str] = ()
            ) -> tuple[dict[str, str], list[BuildError], list[Warning_]]:
    """The HTML of each cross-reference cluster, and an error for each label that names
    nothing (with the closest labels), is also a bibliography key, or shares its bracket
    with a citation.  A label only raw LaTeX defines (``latex``) is a warning, and is
    written as pandoc-crossref writes a label it does not know: **¿fig:x?**."""
    made: dict[str, str] = {}
    errors: list[BuildError] = []
    warnings: list[Warning_] = []
    for cluster in clusters:
        where = cluster.position
        problems = []
        unknown = [item for item in cluster.items if is_label(item.key)
                   and _key(item.key) not in targets and _key(item.key) in latex
                   and item.key not in bibliography]
        for item in unknown:
            warnings.append(Warning_(
                f"cross-reference '@{item.key}' names a label only raw LaTeX defines: "
                f"written ¿{item.key}?, as pandoc-crossref writes it", where.path, where.line,
                hint=f"give the {label_kind(item.key)} the id {{#{_key(item.key)}}} in "
                     "Markdown"))
        for item in cluster.items:
            if item in unknown:
                continue
            if not is_label(item.key):
                problems.append(BuildError(
                    f"'@{item.key}' is a citation in a bracket of cross-references",
                    where.path, where.line, where.col,
                    hint="write the citation in a bracket of its own"))
            elif item.key in bibliography:
                problems.append(BuildError(
                    f"'@{item.key}' is both a cross-reference label and a bibliography key",
                    where.path, where.line, where.col, hint="rename one of them"))
            elif _key(item.key) not in targets:
                problems.append(BuildError(
                    f"cross-reference '@{item.key}' names nothing in the book",
                    where.path, where.line, where.col, hint=suggestion(item.key, targets)))
        if problems:
            errors.extend(problems)
            continue
        known = [Reference(item.key, item.suppress_author)
                 for item in cluster.items if item not in unknown]
        made[cluster.id] = ", ".join(
            ([render(known, targets, lang)] if known else [])
            + [f"<strong>¿{escape(item.key)}?</strong>" for item in unknown])
    return made, errors, warnings
