"""Run every bad input of issue 6 through the real command line and tabulate what happens.

Each case starts from a small good project (an article citing one reference, and a
dist/ holding the PDF of an earlier build), breaks one thing, runs
``python -m builder build .`` (or ``check``) in the project folder, and records the
exit code, every line on stderr and what dist/ holds afterwards.

    .venv/bin/python tools/bad_inputs.py                  # the table on stdout
    .venv/bin/python tools/bad_inputs.py --write docs/robustness.md
    .venv/bin/python tools/bad_inputs.py -k theme         # only cases whose name has "theme"

``--write`` replaces the text between the ``<!-- bad-inputs -->`` and
``<!-- /bad-inputs -->`` lines of the file.  The builder run is the one of the
repository holding this script (its folder goes first on PYTHONPATH).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from docblock import replace_block

ROOT = Path(__file__).resolve().parent.parent

ARTICLE = """\
---
title: Test Article
---

First paragraph.

Second paragraph
continues here
and cites [@smith2021] on its third line.
"""
SMITH = {"id": "smith2021", "type": "book", "title": "A Book",
         "author": [{"family": "Smith", "given": "Jane"}], "issued": {"date-parts": [[2021]]},
         "publisher": "Press"}
OLD_PDF = b"%PDF-1.7\n% the previous build\n"


def refs_json(*refs: dict) -> str:
    return "[\n" + ",\n".join("  " + json.dumps(r) for r in refs) + "\n]\n"


def write(project: Path, name: str, text: str | bytes) -> None:
    path = project / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")


def article(old: str, new: str) -> Callable[[Path], None]:
    return lambda p: write(p, "book/article.md", ARTICLE.replace(old, new, 1))


def theme(files: dict[str, str],
          yml: str = "name: mine\nextends: report\n") -> Callable[[Path], None]:
    def setup(project: Path) -> None:
        write(project, "styles/mine/theme.yml", yml)
        for name, text in files.items():
            write(project, f"styles/mine/{name}", text)
    return setup


def book_yml(yml: str, chapters: dict[str, str]) -> Callable[[Path], None]:
    def setup(project: Path) -> None:
        (project / "book" / "article.md").unlink()
        write(project, "book/book.yml", yml)
        for name, text in chapters.items():
            write(project, f"book/{name}", text)
    return setup


def both(*steps: Callable[[Path], None]) -> Callable[[Path], None]:
    def setup(project: Path) -> None:
        for step in steps:
            step(project)
    return setup


def symlink_out(project: Path) -> None:
    secret = project.parent / "secret.svg"
    secret.write_text('<svg xmlns="http://www.w3.org/2000/svg"><text>SECRET</text></svg>')
    (project / "book" / "pic.svg").symlink_to(secret)
    write(project, "book/article.md", ARTICLE + "\n![A picture](pic.svg)\n")


def no_book(project: Path) -> None:
    for path in (project / "book").iterdir():
        path.unlink()
    (project / "book").rmdir()


def empty_book(project: Path) -> None:
    (project / "book" / "article.md").unlink()


def alias_bomb(project: Path) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, 10):
        lines.append(f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]")
    bomb = "\n".join(lines)
    write(project, "book/article.md", ARTICLE.replace("title: Test Article",
                                                      "title: Test Article\n" + bomb))


CSL_HEAD = ('<?xml version="1.0"?>\n<style xmlns="http://purl.org/net/xbiblio/csl" version="1.0" '
            'class="in-text">\n  <info><title>Mine</title><id>mine</id></info>\n')


def csl(body: str) -> Callable[[Path], None]:
    """styles/bad.csl: a style with an <info>, then ``body`` from line 4."""
    return lambda p: write(p, "styles/bad.csl", CSL_HEAD + body + "</style>\n")


def huge_markdown(project: Path) -> None:
    line = "A line of an enormous manuscript, repeated until it is twenty megabytes long.\n\n"
    write(project, "book/article.md", ARTICLE + line * (20 * 2**20 // len(line)))


def beside(project: Path, name: str, text: str | bytes = "SECRET\n") -> Path:
    path = project.parent / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def link_out(name: str, target: str, text: str | bytes = "SECRET\n") -> Callable[[Path], None]:
    """``name`` in the project: a symlink to ``target`` beside the project."""
    def setup(project: Path) -> None:
        secret = beside(project, target, text)
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).symlink_to(secret)
    return setup


def meta_out(key: str, target: str, text: str, absolute: bool = False) -> Callable[[Path], None]:
    """A metadata ``key`` naming a file beside the project, by ``../..`` or absolute path."""
    def setup(project: Path) -> None:
        secret = beside(project, target, text)
        value = str(secret) if absolute else f"../../{target}"
        write(project, "book/article.md", ARTICLE.replace(
            "title: Test Article", f"title: Test Article\n{key}: {value}"))
    return setup


def png(size: tuple[int, int] = (30, 20)) -> bytes:
    import io

    from PIL import Image
    data = io.BytesIO()
    Image.new("RGB", size, "red").save(data, "PNG")
    return data.getvalue()


def not_a_file(kind: str) -> Callable[[Path], None]:
    def setup(project: Path) -> None:
        path = project / "book" / "notes.md"
        if kind == "folder":
            path.mkdir()
        elif kind == "dangling":
            path.symlink_to("nowhere.md")
        else:
            os.mkfifo(path)
    return setup


@dataclass(frozen=True)
class Case:
    group: str
    name: str
    setup: Callable[[Path], None]
    args: tuple[str, ...] = ()
    command: str = "build"


CASES = [
    # --- citations and bibliographies
    Case("Citations and bibliographies", "a citation key not in the bibliography",
         article("@smith2021", "@smith2020")),
    Case("Citations and bibliographies", "three misspelt keys, an unknown metadata key and "
         "a missing image (all reported at once)",
         lambda p: write(p, "book/article.md", ARTICLE.replace("title: Test Article",
                                                               "title: Test Article\nsubtitel: x")
                         .replace("[@smith2021]", "[@smith2012; @smiht2021]")
                         + "\n![A dot](dot.png)\n\nAs @jones2091 says.\n")),
    Case("Citations and bibliographies", "a duplicate key across two bibliography files",
         lambda p: write(p, "bibliography/more.json",
                         refs_json({"id": "jones2019", "type": "book", "title": "Other"},
                                   dict(SMITH, title="Again")))),
    Case("Citations and bibliographies", "a bibliography file that is not UTF-8",
         lambda p: write(p, "bibliography/refs.json",
                         refs_json(SMITH).replace("A Book", "A B\u00f6ok").encode("latin-1"))),
    Case("Citations and bibliographies", "a bibliography path that is a folder",
         lambda p: (p.joinpath("bibliography/refs.json").unlink(),
                    p.joinpath("bibliography/refs.json").mkdir())),
    Case("Citations and bibliographies", "malformed CSL-JSON",
         lambda p: write(p, "bibliography/refs.json",
                         '[\n  {"id": "smith2021", "type": "book",\n   "title": "A" "Book"}\n]\n')),
    Case("Citations and bibliographies", "malformed CSL-YAML",
         lambda p: (p.joinpath("bibliography/refs.json").unlink(),
                    write(p, "bibliography/refs.yaml",
                          "- id: smith2021\n  type: book\n  title: [A Book\n"))),
    Case("Citations and bibliographies", "a BibTeX syntax error",
         lambda p: (p.joinpath("bibliography/refs.json").unlink(),
                    write(p, "bibliography/refs.bib",
                          "@book{smith2021,\n  title = {A Book},\n  author = {Smith, Jane\n"
                          "  year = 2021,\n}\n"))),
    Case("Citations and bibliographies", "an entry missing its type",
         lambda p: write(p, "bibliography/refs.json",
                         refs_json(SMITH, {"id": "notype", "title": "No Type"}))),
    Case("Citations and bibliographies", "an entry of an unknown type",
         lambda p: write(p, "bibliography/refs.json", refs_json(dict(SMITH, type="novel")))),
    Case("Citations and bibliographies", "a date that does not exist in CSL-YAML (2021-02-30)",
         lambda p: (p.joinpath("bibliography/refs.json").unlink(),
                    write(p, "bibliography/refs.yaml",
                          "references:\n- id: smith2021\n  type: book\n  title: A Book\n"
                          "  issued: 2021-02-30\n"))),
    Case("Citations and bibliographies", "--bibliography naming a missing file",
         lambda p: None, ("--bibliography", "nope.json")),
    # --- metadata and the book folder
    Case("Metadata and the book folder", "malformed YAML front matter",
         article("title: Test Article", "title: Test Article\nauthor: Jane: Smith")),
    Case("Metadata and the book folder", "malformed book.yml",
         book_yml("title: Test Article\nchapters: [one.md, two.md\nlang: en\n",
                  {"one.md": "# One\n", "two.md": "# Two\n"})),
    Case("Metadata and the book folder", "an unknown metadata key",
         article("title: Test Article", "titel: Test Article")),
    Case("Metadata and the book folder", "a mistyped metadata value",
         article("title: Test Article", "title: Test Article\ntags: 5")),
    Case("Metadata and the book folder", "a chapter listed in book.yml but missing",
         book_yml("title: Test Article\nchapters:\n  - one.md\n  - two.md\n",
                  {"one.md": "# One\n"})),
    Case("Metadata and the book folder", "an empty book (book/ without Markdown)", empty_book),
    Case("Metadata and the book folder", "no book/ folder", no_book),
    Case("Metadata and the book folder", "a book without a title",
         article("title: Test Article", "lang: en")),
    Case("Metadata and the book folder", "a chapter that is not UTF-8",
         lambda p: write(p, "book/article.md",
                         ARTICLE.replace("First", "F\u00efrst").encode("latin-1"))),
    Case("Metadata and the book folder", "a YAML alias bomb in the front matter", alias_bomb),
    Case("Metadata and the book folder", "a date that does not exist in the front matter",
         article("title: Test Article", "title: Test Article\ndate: 2021-02-30")),
    Case("Metadata and the book folder", "a 20 MB Markdown file", huge_markdown),
    # --- styles and locales
    Case("Styles and locales", "an unknown style name", lambda p: None, ("--style", "apaa")),
    Case("Styles and locales", "an unknown style named in the front matter",
         article("title: Test Article", "title: Test Article\ncsl: chicago-autor-date")),
    Case("Styles and locales", "a .csl file that is not valid CSL",
         lambda p: write(p, "styles/bad.csl",
                         '<?xml version="1.0"?>\n<style xmlns="http://purl.org/net/xbiblio/csl" '
                         'version="1.0" class="in-text">\n  <citation/>\n</style>\n'),
         ("--style", "styles/bad.csl")),
    Case("Styles and locales", "a .csl file calling a macro it does not define",
         csl('  <macro name="author"><names variable="author"/></macro>\n  <citation>\n'
             '    <layout>\n      <text macro="autor"/>\n    </layout>\n  </citation>\n'),
         ("--style", "styles/bad.csl")),
    Case("Styles and locales", "a .csl file with an unknown element in a layout",
         csl('  <citation>\n    <layout>\n      <txt variable="title"/>\n    </layout>\n'
             '  </citation>\n'), ("--style", "styles/bad.csl")),
    Case("Styles and locales", "a .csl file with a misspelt attribute",
         csl('  <citation>\n    <layout>\n      <text variabel="title"/>\n    </layout>\n'
             '  </citation>\n'), ("--style", "styles/bad.csl")),
    Case("Styles and locales", "a .csl file with a value citeproc-py does not know",
         csl('  <citation>\n    <layout font-style="italics">\n      <text variable="title"/>\n'
             '    </layout>\n  </citation>\n'), ("--style", "styles/bad.csl")),
    Case("Styles and locales", "a .csl file whose macros call each other in a loop",
         csl('  <macro name="a"><text macro="b"/></macro>\n'
             '  <macro name="b"><group><text macro="a"/></group></macro>\n'
             '  <citation><layout><text macro="a"/></layout></citation>\n'),
         ("--style", "styles/bad.csl")),
    Case("Styles and locales", "a dependent .csl file whose parent is not installed",
         lambda p: write(p, "styles/bad.csl",
                         '<?xml version="1.0"?>\n<style xmlns="http://purl.org/net/xbiblio/csl" '
                         'version="1.0">\n  <info><title>Mine</title><id>mine</id>\n'
                         '    <link href="http://www.zotero.org/styles/no-such-style" '
                         'rel="independent-parent"/>\n  </info>\n</style>\n'),
         ("--style", "styles/bad.csl")),
    Case("Styles and locales", "a .csl file that is not XML",
         lambda p: write(p, "styles/bad.csl", "<style>\n  <citation>\n</style>\n"),
         ("--style", "styles/bad.csl")),
    Case("Styles and locales", "a .csl file that does not exist", lambda p: None,
         ("--style", "styles/none.csl")),
    Case("Styles and locales", "an unknown locale", lambda p: None, ("--locale", "xx-YY")),
    # --- the file gate: files from outside, and files that are no files
    Case("Files from outside the project", "a bibliography named by an absolute path",
         meta_out("bibliography", "secret.json", refs_json(SMITH), absolute=True)),
    Case("Files from outside the project", "a bibliography named with ../..",
         meta_out("bibliography", "secret.bib", "@book{SECRET,\n")),
    Case("Files from outside the project", "a style named by an absolute path in the metadata",
         meta_out("csl", "secret.csl", CSL_HEAD + "</style>\n", absolute=True)),
    Case("Files from outside the project", "a chapter listed as ../../secret.md",
         both(lambda p: beside(p, "secret.md"),
              book_yml("title: T\nchapters:\n  - ../../secret.md\n", {}))),
    Case("Files from outside the project", "a chapter that is a symlink out",
         link_out("book/notes.md", "secret.md")),
    Case("Files from outside the project", "a bibliography file that is a symlink out",
         link_out("bibliography/more.json", "secret.json", refs_json(SMITH))),
    Case("Files from outside the project", "a cover that is a symlink out",
         link_out("book/cover.png", "secret.png", png())),
    Case("Files from outside the project", "a theme stylesheet that is a symlink out",
         both(theme({}), link_out("styles/mine/css/screen.css", "secret.css", "body {}\n")),
         ("--theme", "mine")),
    Case("Files from outside the project", "a theme named by a path", lambda p: None,
         ("--theme", "../../x")),
    Case("Files from outside the project", "a theme named by an absolute path", lambda p: None,
         ("--theme", "/tmp")),
    Case("Files from outside the project", "a chapter that is a folder", not_a_file("folder")),
    Case("Files from outside the project", "a chapter that is a dangling symlink",
         not_a_file("dangling")),
    Case("Files from outside the project", "a chapter that is a named pipe", not_a_file("fifo")),
    Case("Files from outside the project", "a byte-order mark before the front matter (builds)",
         lambda p: write(p, "book/article.md", "\ufeff" + ARTICLE), ("--to", "html")),
    Case("Files from outside the project", "a truncated PNG",
         both(lambda p: write(p, "book/cut.png", png()[:60]),
              article("First paragraph.", "First paragraph.\n\n![A chart](cut.png)"))),
    Case("Files from outside the project", "a \"JPEG\" that is text",
         both(lambda p: write(p, "book/photo.jpg", "not a photo\n"),
              article("First paragraph.", "First paragraph.\n\n![A photo](photo.jpg)"))),
    Case("Files from outside the project", "a zero-byte cover",
         lambda p: write(p, "book/cover.png", b"")),
    # --- images, fonts, formats, the output folder
    Case("Images, fonts, formats, output", "a missing image",
         article("First paragraph.", "First paragraph.\n\n![A chart](images/chart.svg)")),
    Case("Images, fonts, formats, output", "an image outside the project: ![x](/etc/hostname)",
         article("First paragraph.", "First paragraph.\n\n![x](/etc/hostname)")),
    Case("Images, fonts, formats, output", "a symlink in book/ that points outside",
         symlink_out),
    Case("Images, fonts, formats, output", "a remote image without --allow-remote",
         article("First paragraph.", "First paragraph.\n\n![x](https://example.com/x.png)")),
    Case("Images, fonts, formats, output", "a font that is not installed",
         theme({}, "name: mine\nextends: report\nfonts:\n  serif: Nonexistent Serif\n"),
         ("--theme", "mine")),
    Case("Images, fonts, formats, output", "an unknown output format", lambda p: None,
         ("--to", "pdf,docx")),
    Case("Images, fonts, formats, output", "an output folder that cannot be written",
         lambda p: None, ("--out", "book/article.md/out")),
    Case("Images, fonts, formats, output", "an unknown theme", lambda p: None,
         ("--theme", "nope")),
    Case("Images, fonts, formats, output", "an unknown page size", lambda p: None,
         ("--page-size", "A13")),
    # --- themes
    Case("Themes", "a template syntax error in the project's theme",
         theme({"templates/document.html.j2": "<html>\n<body>\n{% if meta.title %}\n"
                "{{ meta.title }\n</body>\n"}), ("--theme", "mine")),
    Case("Themes", "a template naming an unknown variable",
         theme({"templates/document.html.j2": "<html>\n<body>\n{{ meta.nosuch.x }}\n"
                "</body>\n"}), ("--theme", "mine")),
    Case("Themes", "an unknown key in theme.yml",
         theme({}, "name: mine\nextends: report\ncolour: red\n"), ("--theme", "mine")),
    Case("Themes", "@import url(file:///etc/passwd) in a theme",
         theme({"css/base.css": "@import url(file:///etc/passwd);\n"}), ("--theme", "mine")),
    Case("Themes", "a background url(file:///etc/hostname) in a theme",
         theme({"css/print.css": "body {\n  background: url(file:///etc/hostname);\n}\n"}),
         ("--theme", "mine")),
    Case("Themes", "a font src url(file:///etc/hostname) in a theme",
         theme({"css/epub.css": '@font-face {\n  font-family: "X";\n'
                '  src: url("file:///etc/hostname");\n}\n'}), ("--theme", "mine")),
    Case("Themes", "a remote @import in a theme",
         theme({"css/base.css": '@import "https://example.com/x.css";\n'}), ("--theme", "mine")),
    Case("Themes", "a theme's CMYK profile outside the project",
         theme({}, "name: mine\nextends: report\nprint:\n  profile: /etc/passwd\n"),
         ("--theme", "mine", "--print")),
    # --- raw HTML and escaping
    Case("Raw HTML and escaping", '<img src="file:///etc/hostname"> in Markdown',
         article("First paragraph.",
                 'First paragraph.\n\n<img src="file:///etc/hostname" alt="x">')),
    Case("Raw HTML and escaping", '<link rel="stylesheet" href="../../outside.css"> in Markdown',
         article("First paragraph.",
                 'First paragraph.\n\n<link rel="stylesheet" href="../../outside.css">')),
    Case("Raw HTML and escaping", "<script>, onclick and javascript: in Markdown (removed)",
         article("First paragraph.", 'First <span onclick="steal()">paragraph</span>.\n\n'
                 '<script>alert(1)</script>\n\n<a href="javascript:alert(2)">link</a>')),
    Case("Raw HTML and escaping", "a title holding <script> (removed: metadata is Markdown)",
         article("title: Test Article", 'title: "Test Article <script>alert(1)</script>"')),
    # --- warnings, and --strict
    Case("Warnings", "an unused bibliography entry",
         lambda p: write(p, "bibliography/refs.json",
                         refs_json(SMITH, {"id": "jones2019", "type": "book", "title": "Other"}))),
    Case("Warnings", "an unused bibliography entry, with --strict",
         lambda p: write(p, "bibliography/refs.json",
                         refs_json(SMITH, {"id": "jones2019", "type": "book", "title": "Other"})),
         ("--strict",)),
    Case("Warnings", "an image without alt text",
         both(article("First paragraph.", "First paragraph.\n\n![](dot.svg)"),
              lambda p: write(p, "book/dot.svg", '<svg xmlns="http://www.w3.org/2000/svg" '
                              'width="8" height="8"><circle r="3" cx="4" cy="4"/></svg>'))),
    Case("Warnings", "an image without alt text, with --strict",
         both(article("First paragraph.", "First paragraph.\n\n![](dot.svg)"),
              lambda p: write(p, "book/dot.svg", '<svg xmlns="http://www.w3.org/2000/svg" '
                              'width="8" height="8"><circle r="3" cx="4" cy="4"/></svg>')),
         ("--strict",)),
    Case("Warnings", "a CSS mistake WeasyPrint warns of",
         theme({"css/print.css": "p { colr: red; }\n"}), ("--theme", "mine")),
    Case("Warnings", "a CSS mistake WeasyPrint warns of, with --strict",
         theme({"css/print.css": "p { colr: red; }\n"}), ("--theme", "mine", "--strict")),
    Case("Warnings", "a reference missing a field the style prints (no date)",
         lambda p: write(p, "bibliography/refs.json",
                         refs_json({k: v for k, v in SMITH.items() if k != "issued"}))),
    # --- usage
    Case("Usage", "an unknown option", lambda p: None, ("--frobnicate",)),
    Case("Usage", "a project folder that does not exist", lambda p: None, ("nowhere",)),
    Case("builder check", "builder check on a project with an unknown key",
         article("title: Test Article", "titel: Test Article"), (), "check"),
]


def make_project(root: Path) -> Path:
    write(root, "book/article.md", ARTICLE)
    write(root, "bibliography/refs.json", refs_json(SMITH))
    write(root, "dist/test-article.pdf", OLD_PDF)
    return root


def snapshot(folder: Path) -> dict[str, bytes]:
    if not folder.is_dir():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def describe_dist(before: dict[str, bytes], after: dict[str, bytes]) -> str:
    temporaries = [n for n in after if n.rsplit("/", 1)[-1].startswith(".")]
    if temporaries:
        return "**temporaries left:** " + ", ".join(temporaries)
    if after == before:
        return "as it was (the earlier PDF only)"
    made = sorted(n for n in after if n not in before or after[n] != before[n])
    tops = [f"`{n}`" for n in made if "/" not in n]
    folders: dict[str, int] = {}
    for n in made:
        if "/" in n:
            folders[n.split("/", 1)[0]] = folders.get(n.split("/", 1)[0], 0) + 1
    tops += [f"{count} file{'s' if count > 1 else ''} in `{folder}/`"
             for folder, count in sorted(folders.items())]
    return "changed: " + ", ".join(tops)


def run_case(case: Case, tmp: Path) -> dict[str, object]:
    project = make_project(tmp / "project")
    case.setup(project)
    before = snapshot(project / "dist")
    args = [case.command]
    if not (case.args and not case.args[0].startswith("-")):
        args.append(".")
    args.extend(case.args)  # (not --quiet: it would hide the warnings the table shows)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SOURCE_DATE_EPOCH": "1600000000"}
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "builder", *args], cwd=project, env=env,
                            capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - start
    stderr = result.stderr.replace(str(tmp), "<tmp>").rstrip("\n")
    stderr = re.sub(r"\.\d+\.staged\.tmp", ".<pid>.staged.tmp", stderr)  # the same every run
    if case.command == "check":
        first = (result.stdout.replace(str(tmp), "<tmp>").strip().splitlines()[0]
                 if result.stdout.strip() else "")
        stderr = "\n".join(filter(None, [stderr, first]))
    return {"group": case.group, "name": case.name, "command": "builder " + " ".join(args),
            "exit": result.returncode, "stderr": stderr, "seconds": seconds,
            "traceback": "Traceback" in result.stderr,
            "dist": describe_dist(before, snapshot(project / "dist"))}


def code(text: str) -> str:
    """``text`` as a Markdown code span, whatever backticks it holds."""
    fence = "``" if "`" in text else "`"
    pad = " " if "`" in text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def cell(text: str) -> str:
    text = text.replace("|", "\\|")
    return "<br>".join(code(line) if line else "" for line in text.splitlines()) or "(nothing)"


def table(rows: list[dict[str, object]]) -> str:
    out = []
    group = None
    for n, row in enumerate(rows, 1):
        if row["group"] != group:
            group = row["group"]
            out += ["", f"#### {group}", "", "| # | bad input | command | exit | what it says "
                    "(stderr) | dist/ after |", "|---|---|---|---|---|---|"]
        stderr = str(row["stderr"])
        if row["traceback"]:
            stderr = "TRACEBACK: " + stderr.strip().splitlines()[-1]
        command = str(row["command"])
        name = str(row["name"]).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
        out.append(f"| {n} | {name} | `{command}` | {row['exit']} | {cell(stderr)} | "
                   f"{row['dist']} |")
    return "\n".join(out).lstrip("\n") + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, help="put the table into this Markdown file")
    parser.add_argument("-k", default="", help="only the cases whose name holds this")
    args = parser.parse_args()
    if args.write and args.k:
        parser.error("--write puts the whole table in the file: drop -k")
    rows = []
    for case in CASES:
        if args.k.lower() not in case.name.lower():
            continue
        with tempfile.TemporaryDirectory() as tmp:
            row = run_case(case, Path(tmp))
        rows.append(row)
        print(f"{row['exit']}  {row['seconds']:5.1f} s  {case.name}", file=sys.stderr)
    text = table(rows)
    if args.write:
        if not replace_block(args.write, "bad-inputs", text):
            parser.error(f"{args.write} has no <!-- bad-inputs --> ... <!-- /bad-inputs --> lines")
    else:
        print(text)
    failures = [r for r in rows if r["traceback"] or str(r["dist"]).startswith("**")]
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
