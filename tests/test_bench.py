"""The benchmark's synthetic books: deterministic, and read alike by builder and pandoc.

No timing here: bench/run.py measures, these tests only check that what it
measures is a real, valid book.
"""
from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

# builds the benchmark's book, in subprocesses
pytestmark = [pytest.mark.slow, pytest.mark.external]

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
bench_book = importlib.import_module("book")  # bench/ is not a package: found on sys.path

SMALL = bench_book.SIZES["small"]


def _files(seed: int) -> dict[str, bytes]:
    files, _ = bench_book.generate(SMALL, seed)
    return {path: text.encode("utf-8") for path, text in files.items()}


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        subprocess.run([sys.executable, str(ROOT / "bench" / "book.py"), "--size", "small",
                        "--seed", "3", "--out", str(out)], check=True, capture_output=True)
    written = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert written == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for rel in written:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel


def test_another_seed_another_book() -> None:
    assert _files(1)["book/01-chapter.md"] != _files(2)["book/01-chapter.md"]


def test_book_has_what_the_size_promises() -> None:
    files, stats = bench_book.generate(SMALL, 1)
    assert abs(stats["words"] - SMALL.words) < SMALL.words * 0.1
    assert abs(stats["citations"] - SMALL.citations) < SMALL.citations * 0.1
    refs = json.loads(files["bibliography/references.json"])
    assert len(refs) == SMALL.refs == len({r["id"] for r in refs})
    assert len({r["type"] for r in refs}) >= 6
    assert any("issued" not in r for r in refs) or SMALL.refs < 20
    assert any(a.get("literal") for r in refs for a in r.get("author", []))
    text = "".join(v for k, v in files.items() if k.endswith(".md"))
    # a multi-cite with a locator
    assert re.search(r"\[[^\]]*@[\w-]+[^\]]*;[^\]]*@[\w-]+, pp?\. \d", text)
    assert re.search(r"(?<![\[\w])@\w+", text)  # narrative
    for mark in ("\n| ", "\n> ", "\n- ", "\n1. ", "[^c01n", "\n## "):
        assert mark in text, mark


def test_small_book_builds_without_warnings(tmp_path: Path) -> None:
    from builder.build import BuildRequest, build
    bench_book.write(bench_book.generate(SMALL, 1)[0], tmp_path / "book")
    result = build(BuildRequest(project_root=tmp_path / "book", formats=("html", "epub"),
                                theme="book", out_dir=tmp_path / "dist"))
    assert not result.diagnostics.warnings
    html = result.outputs["html"].read_text(encoding="utf-8")
    _, stats = bench_book.generate(SMALL, 1)
    assert html.count('class="citation"') == stats["citations"]
    assert html.count('class="csl-entry"') == SMALL.refs


def test_pandoc_reads_every_citation(tmp_path: Path) -> None:
    pypandoc = pytest.importorskip("pypandoc")
    from builder.citations import load_style
    files, stats = bench_book.generate(SMALL, 1)
    bench_book.write(files, tmp_path)
    chapters = sorted(str(p) for p in (tmp_path / "book").glob("*.md"))
    run = subprocess.run(
        [pypandoc.get_pandoc_path(), "--citeproc", "--csl", str(load_style("apa").path),
         "--bibliography", str(tmp_path / "bibliography" / "references.json"),
         "--metadata", "title=bench", "-t", "html", *chapters],
        capture_output=True, text=True, check=True)
    assert "not found" not in run.stderr, run.stderr
    assert run.stdout.count('class="citation"') == stats["citations"]
