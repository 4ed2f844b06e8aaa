"""Bounds on hostile input (issue 14): each limit is one error line at the input's place,
exit code 1 and dist/ as it was; what was quadratic now finishes.

Every case is a real project built by the real command line in a temporary folder (the
measured table of docs/robustness.md runs the same inputs: tools/bounds.py).
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import run_builder

pytestmark = pytest.mark.external  # each case runs the builder command line in a subprocess

FRONT = "---\ntitle: Bounds\n---\n\n"
OLD_HTML = "<!doctype html><title>the previous build</title>\n"
REFS = [{"id": "x", "type": "book", "title": "X", "issued": {"date-parts": [[2001]]}}]


def project(tmp_path: Path, text: str, bib: tuple[str, str] | None = None) -> Path:
    """book/a.md holding ``text`` after the front matter, a bibliography (refs.json with
    one reference, or ``bib``: its file name and text) and the HTML of an earlier build."""
    root = tmp_path / "p"
    (root / "book").mkdir(parents=True)
    (root / "book" / "a.md").write_text(FRONT + text, encoding="utf-8")
    (root / "bibliography").mkdir()
    name, content = bib or ("refs.json", json.dumps(REFS))
    (root / "bibliography" / name).write_text(content, encoding="utf-8")
    (root / "dist").mkdir()
    (root / "dist" / "bounds.html").write_text(OLD_HTML, encoding="utf-8")
    return root


def build(root: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return run_builder("build", ".", "--quiet", *(options or ("--to", "html")), cwd=root)


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one line on stderr of a build that failed as an input error should."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1, (result.returncode, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def assert_dist_unchanged(root: Path) -> None:
    assert sorted(p.name for p in (root / "dist").iterdir()) == ["bounds.html"]
    assert (root / "dist" / "bounds.html").read_text(encoding="utf-8") == OLD_HTML


def built(result: subprocess.CompletedProcess[str], root: Path) -> str:
    """The HTML page of a build that succeeded."""
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    return (root / "dist" / "bounds.html").read_text(encoding="utf-8")


# --- what was quadratic: it finishes -------------------------------------------------------

@pytest.mark.parametrize("unit", ["[@ ", "[@x "])
def test_a_paragraph_of_20000_unclosed_citation_brackets_builds(tmp_path: Path,
                                                                unit: str) -> None:
    """Each ``[`` used to be matched by a scan to the paragraph's end (6,000 of them took
    minutes); the brackets of a paragraph are now matched once."""
    root = project(tmp_path, unit * 20_000 + "\n")
    page = built(build(root), root)
    assert page.count("[") >= 20_000
