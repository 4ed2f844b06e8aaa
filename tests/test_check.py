"""`builder check`: sources checked without writing, outputs checked where they exist."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import ROOT, SLUG, run_builder


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
    assert result.returncode == 0, result.stdout
    epub = report["outputs"]["epub"]["epubcheck"]
    assert (epub["fatal"], epub["error"], epub["warning"]) == (0, 0, 0)
    assert report["outputs"]["pdf"]["passed"] is True
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
