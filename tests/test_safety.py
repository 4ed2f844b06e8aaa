"""Raw HTML and resources: nothing from outside the project, no active content."""
from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from conftest import run_builder


def _project(tmp_path: Path, body: str) -> Path:
    project = tmp_path / "p"
    (project / "book").mkdir(parents=True)
    (project / "book" / "a.md").write_text("---\ntitle: Safe\n---\n\n" + body, encoding="utf-8")
    return project


def _outputs(project: Path) -> str:
    out = project / "dist"
    text = (out / "safe.html").read_text(encoding="utf-8")
    with zipfile.ZipFile(out / "safe.epub") as archive:
        text += "".join(archive.read(n).decode("utf-8", "replace")
                        for n in archive.namelist() if n.endswith(".xhtml"))
    return text


def test_scripts_and_event_handlers_never_reach_the_outputs(tmp_path):
    project = _project(tmp_path, 'Text <span onclick="steal()">kept</span>.\n\n'
                       '<script>alert(1)</script>\n\n'
                       '<a href="javascript:alert(2)">link</a> and <iframe src="x"></iframe>\n')
    result = run_builder("build", str(project), "--to", "html,epub")
    assert result.returncode == 0, result.stderr
    text = _outputs(project)
    assert "kept" in text
    for bad in ("steal()", "alert(1)", "javascript:", "<iframe", "onclick"):
        assert bad not in text, bad


@pytest.mark.parametrize("html", ['<img src="file:///etc/hostname" alt="x">',
                                  '<img src="/etc/hostname" alt="x">',
                                  '<link rel="stylesheet" href="../../outside.css">'])
def test_raw_html_resources_from_outside_are_refused(tmp_path, html):
    project = _project(tmp_path, f"Before.\n\n{html}\n\nAfter.\n")
    result = run_builder("build", str(project), "--to", "html,epub,pdf")
    assert result.returncode == 1
    assert "refused" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (project / "dist").exists()


def test_markdown_image_outside_the_project_is_an_error_at_its_line(tmp_path):
    project = _project(tmp_path, "One.\n\n![x](/etc/hostname)\n")
    result = run_builder("build", str(project))
    assert result.returncode == 1
    assert "a.md:7: error: resource outside the project refused: /etc/hostname" in result.stderr


def test_a_symlink_leaving_the_project_is_refused(tmp_path):
    outside = tmp_path / "secret.svg"
    outside.write_text('<svg xmlns="http://www.w3.org/2000/svg"><text>SECRET</text></svg>')
    project = _project(tmp_path, "![pic](link.svg)\n")
    (project / "book" / "link.svg").symlink_to(outside)
    result = run_builder("build", str(project))
    assert result.returncode == 1
    assert "resource outside the project refused: link.svg" in result.stderr
    assert not (project / "dist").exists()
