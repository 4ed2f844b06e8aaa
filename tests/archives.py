"""Archives of small generated articles for the tests of ``builder build-all``
(bench/book.py writes them), and reading back what a build wrote."""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
bench_book = importlib.import_module("book")  # bench/ is not a package: found on sys.path


def make_archive(folder: Path, count: int, words: int = 700) -> list[Path]:
    """``count`` small articles, ``folder/articles/a01`` ..., each different (its seed)."""
    size = bench_book.Size(words=words, chapters=1, refs=6, citations=6)
    projects = []
    for n in range(1, count + 1):
        project = folder / "articles" / f"a{n:02d}"
        files, _ = bench_book.generate(size, n)
        bench_book.write(files, project)
        projects.append(project)
    return projects


def outputs(project: Path) -> dict[str, bytes]:
    """Every file of the project's dist/, by its path there."""
    dist = project / "dist"
    return {p.relative_to(dist).as_posix(): p.read_bytes()
            for p in sorted(dist.rglob("*")) if p.is_file()}
