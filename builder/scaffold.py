"""``builder new [article|report|book] DIR``: a project that builds at once.

The project's files are written from the texts below (no package data to install): a
sample chapter using citations, a figure, a table, cross-references and a footnote; a
bibliography in the format asked (BibTeX, CSL-JSON or CSL-YAML) holding the entries it
cites; the metadata with a ``build:`` section naming the theme; a ``.gitignore`` for
``dist/`` and the cache; a README for the writer.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from .errors import BuildError, display_path

TEMPLATES = ("article", "report", "book")
BIBLIOGRAPHY_FORMATS = ("bib", "json", "yaml")
THEMES = {"article": "report", "report": "report", "book": "book"}

# The sample's references, as CSL-JSON: written as such, as CSL-YAML or as BibTeX.
REFERENCES: list[dict[str, Any]] = [
    {"id": "ostrom1990", "type": "book", "title": "Governing the Commons",
     "author": [{"family": "Ostrom", "given": "Elinor"}],
     "issued": {"date-parts": [[1990]]}, "publisher": "Cambridge University Press",
     "publisher-place": "Cambridge"},
    {"id": "hardin1968", "type": "article-journal", "title": "The Tragedy of the Commons",
     "author": [{"family": "Hardin", "given": "Garrett"}], "container-title": "Science",
     "volume": "162", "issue": "3859", "page": "1243-1248",
     "issued": {"date-parts": [[1968]]}, "DOI": "10.1126/science.162.3859.1243"},
    {"id": "unwater2021", "type": "report", "title": "Valuing Water",
     "author": [{"literal": "UN-Water"}], "publisher": "UNESCO",
     "publisher-place": "Paris", "issued": {"date-parts": [[2021]]}},
]

FIGURE = """<svg xmlns="http://www.w3.org/2000/svg" width="320" height="160" viewBox="0 0 320 160">
  <title>Water use by sector</title>
  <rect x="20" y="40" width="60" height="100" fill="#4a7ab0"/>
  <rect x="130" y="90" width="60" height="50" fill="#7aa0c8"/>
  <rect x="240" y="120" width="60" height="20" fill="#a8c4e0"/>
  <line x1="10" y1="140" x2="310" y2="140" stroke="#333"/>
</svg>
"""

CHAPTER = """# {heading} {{#sec:{label}}}

Shared water is the oldest problem of common goods. @hardin1968 argued that open
access ends in ruin; the long record of working institutions says otherwise
[@ostrom1990, pp. 58-102; see also @unwater2021].[^why]

[^why]: A footnote: the builder numbers notes through the whole {kind}.

![Water use by sector (invented figures)](images/water-use.svg){{#fig:use}}

@fig:use shows the share of each sector, and @tbl:use gives the numbers; both are
numbered and linked for you.

| Sector      | Share |
|-------------|------:|
| Agriculture |  70 % |
| Industry    |  20 % |
| Households  |  10 % |

: Water use by sector {{#tbl:use}}

## What to write next

Replace this text with your own. Cite with `[@key]`, `@key` or `[-@key]`; the keys are
those of `bibliography/references.{bib_suffix}`. Section @sec:{label} is this one.
"""

MORE = """# {heading}

{text} As @ostrom1990 puts it, rules that users make themselves tend to last.
"""

README = """# {title}

A {template} made with `builder new`. Build it with

```sh
builder build            # dist/{slug}.pdf, .epub and .html
builder config           # the settings in use, and where each comes from
```

- Write in `book/`: {where}.
- The references are in `bibliography/references.{bib_suffix}`; cite them as
  `[@ostrom1990]`, `@hardin1968` or `[see @unwater2021, p. 3]`.
- Images go in `book/images/`; `![Caption](images/x.svg){{#fig:x}}` makes a numbered
  figure, `@fig:x` refers to it.
- The citation style is `--style NAME` (default APA; `builder styles chicago` lists some)
  or `csl:` in the metadata; the theme, page size and formats are in the `build:` section
  of {settings}.
- `dist/` holds the outputs and `.cache/` the build cache: both are ignored by git.
"""


def create(folder: Path, template: str, bibliography: str = "bib",
           theme: str | None = None) -> list[Path]:
    """Write the project; the files written.  A folder that is not empty is refused."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise BuildError("the folder is not empty", folder, category="usage",
                         hint="name a new or empty folder: builder new "
                              f"{template} {display_path(folder)}-2")
    theme = theme or THEMES[template]
    title = {"article": "A Short Article", "report": "A Research Report",
             "book": "A Book in Markdown"}[template]
    files = _book_files(template, title, theme, bibliography)
    files["bibliography/references." + bibliography] = _bibliography(bibliography)
    files["book/images/water-use.svg"] = FIGURE
    files[".gitignore"] = "dist/\n.cache/\n"
    slug = title.lower().replace(" ", "-")
    files["README.md"] = README.format(
        title=title, template=template, slug=slug, bib_suffix=bibliography,
        where="`book/article.md` (its metadata between the `---` lines at the top)"
        if template == "article" else "the chapters are listed in `book/book.yml`",
        settings="the front matter" if template == "article" else "`book/book.yml`")
    written = []
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _book_files(template: str, title: str, theme: str, bib: str) -> dict[str, str]:
    meta: dict[str, Any] = {
        "title": title, "subtitle": "Made with builder new",
        "author": [{"name": "Your Name", "affiliation": "Your Institute"}],
        "date": "2026-01-01", "lang": "en",
        "abstract": "One paragraph on what this is about.",
        "keywords": ["water", "commons"],
        "link-citations": True,
        "build": {"theme": theme, "to": ["pdf", "epub", "html"]}}
    if template != "article":
        meta["build"]["toc"] = True
    if template == "book":
        meta["build"]["page-size"] = "6x9"
    kind = "article" if template == "article" else template
    first = CHAPTER.format(heading="Introduction" if template != "article" else "The problem",
                           label="intro", kind=kind, bib_suffix=bib)
    if template == "article":
        front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
        return {"book/article.md": f"---\n{front}---\n\n{first}"}
    chapters = {"01-introduction.md": first,
                "02-findings.md": MORE.format(heading="Findings",
                                              text="The second chapter goes on.")}
    if template == "book":
        chapters["03-conclusion.md"] = MORE.format(heading="Conclusion",
                                                   text="The last chapter ties it together.")
    meta["chapters"] = list(chapters)
    files = {f"book/{name}": text for name, text in chapters.items()}
    files["book/book.yml"] = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
    return files


def _bibliography(kind: str) -> str:
    if kind == "json":
        return json.dumps(REFERENCES, indent=2, ensure_ascii=False) + "\n"
    if kind == "yaml":
        return yaml.safe_dump({"references": REFERENCES}, allow_unicode=True, sort_keys=False)
    return "\n".join(_bibtex(entry) for entry in REFERENCES)


def _bibtex(entry: dict[str, Any]) -> str:
    kind = {"book": "book", "article-journal": "article", "report": "techreport"}[entry["type"]]
    names = " and ".join(f"{a['family']}, {a['given']}" if "family" in a else
                         "{" + a["literal"] + "}" for a in entry["author"])
    fields = {"author": names, "title": "{" + entry["title"] + "}",
              "year": str(entry["issued"]["date-parts"][0][0]),
              "journal": entry.get("container-title"), "volume": entry.get("volume"),
              "number": entry.get("issue"), "pages": entry.get("page", "").replace("-", "--")
              or None, "doi": entry.get("DOI"),
              ("institution" if kind == "techreport" else "publisher"): entry.get("publisher"),
              "address": entry.get("publisher-place")}
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields.items() if v)
    return f"@{kind}{{{entry['id']},\n{body}\n}}\n"
