"""`builder check`: sources checked without writing, outputs checked where they exist."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, SLUG, run_builder

pytestmark = [pytest.mark.slow, pytest.mark.external]  # builder subprocesses and EPUBCheck (Java)

def _project(tmp_path: Path) -> Path:
    project = tmp_path / "p"
    for name in ("book", "bibliography"):
        shutil.copytree(ROOT / name, project / name)
    return project


def test_check_of_a_clean_project_without_outputs_writes_nothing(tmp_path):
    project = _project(tmp_path)
    result = run_builder("check", str(project), "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["errors"] == [] and report["warnings"] == [] and report["outputs"] == {}
    assert report["passed"] is True
    assert not (project / "dist").exists()


def test_check_validates_the_built_outputs(tmp_path, built):
    out = built()
    result = run_builder("check", str(ROOT), "--out", str(out), "--format", "json")
    report = json.loads(result.stdout)
    epub = report["outputs"]["epub"]["epubcheck"]
    assert (epub["fatal"], epub["error"], epub["warning"]) == (0, 0, 0)
    checks = report["outputs"]["pdf"]["checks"]
    failed = [name for name, check in checks.items() if check.get("ok") is False]
    # every PDF check passes, the page inspector's ("pages", issue 16) too
    assert failed == [], failed
    assert result.returncode == 0, result.stdout
    assert Path(report["outputs"]["pdf"]["file"]).name == f"{SLUG}.pdf"


def test_check_reports_a_bad_key_with_its_line_and_fails(tmp_path):
    project = _project(tmp_path)
    article = project / "book" / "article.md"
    article.write_text(article.read_text().replace("[@akorda-2018]", "[@akorda-2019]"))
    result = run_builder("check", str(project))
    assert result.returncode == 1
    assert "book/article.md:" in result.stdout
    assert "citation key '@akorda-2019' is not in the bibliography" in result.stdout
    assert "did you mean @akorda-2018?" in result.stdout
    assert result.stdout.rstrip().endswith("FAILED")


def test_check_lists_unused_references_and_strict_fails_on_them(tmp_path):
    project = _project(tmp_path)
    refs = json.loads((project / "bibliography" / "references.json").read_text())
    refs.append({"id": "spare", "type": "book", "title": "Never cited"})
    (project / "bibliography" / "references.json").write_text(json.dumps(refs, indent=2))
    relaxed = run_builder("check", str(project), "--format", "json")
    report = json.loads(relaxed.stdout)
    assert relaxed.returncode == 0
    assert any("reference 'spare' is never cited" in w for w in report["warnings"])
    strict = run_builder("check", str(project), "--strict")
    assert strict.returncode == 1


def test_check_warns_of_fields_the_style_prints_and_a_reference_lacks(tmp_path):
    """The style is asked which fields it would print: IEEE prints a book's publisher and
    place, APA a book's publisher only; a journal article needs its journal, volume and
    pages in both; a complete entry gets no warning."""
    project = tmp_path / "p"
    (project / "book").mkdir(parents=True)
    (project / "bibliography").mkdir()
    (project / "book" / "a.md").write_text("---\ntitle: T\n---\n\nText [@j; @b; @full].\n",
                                           encoding="utf-8")
    refs = [{"id": "j", "type": "article-journal", "title": "A study",
             "author": [{"family": "Lee", "given": "Ann"}], "issued": {"date-parts": [[2020]]}},
            {"id": "b", "type": "book", "title": "A book",
             "author": [{"family": "Kim", "given": "Bo"}], "issued": {"date-parts": [[2019]]}},
            {"id": "full", "type": "book", "title": "Whole", "publisher": "Press",
             "publisher-place": "Astana", "author": [{"family": "Ng", "given": "Al"}],
             "issued": {"date-parts": [[2018]]}}]
    (project / "bibliography" / "refs.json").write_text(
        "[\n" + ",\n".join(json.dumps(r) for r in refs) + "\n]\n", encoding="utf-8")

    def missing(style: str) -> set[tuple[str, str, str]]:
        result = run_builder("check", str(project), "--style", style, "--format", "json")
        report = json.loads(result.stdout)
        found = set()
        for line in report["warnings"]:
            if "has no" in line:
                where = line.split(": warning:")[0].rsplit(":", 1)[1]
                key, field = line.split("reference '")[1].split("' has no ")
                found.add((where, key, field.split(",")[0]))
        return found

    journal = {("2", "j", "container-title"), ("2", "j", "volume"), ("2", "j", "page")}
    assert missing("apa") == journal | {("3", "b", "publisher")}
    assert missing("ieee") == journal | {("3", "b", "publisher"), ("3", "b", "publisher-place")}
    strict = run_builder("check", str(project), "--strict")
    assert strict.returncode == 1
    # a build lists them only with --strict, where they stop it (dist/ stays empty)
    built = run_builder("build", str(project), "--to", "html")
    assert built.returncode == 0 and "has no" not in built.stderr, built.stderr
    (project / "dist").rename(project / "first")
    refused = run_builder("build", str(project), "--to", "html", "--strict")
    assert refused.returncode == 1
    assert "reference 'j' has no container-title" in refused.stderr, refused.stderr
    assert "--strict makes warnings errors" in refused.stderr
    assert not (project / "dist").exists() or not list((project / "dist").glob("*.html"))
