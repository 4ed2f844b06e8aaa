"""The PDF in parallel chunks (issue 18): ``--jobs 2`` and ``--jobs 1`` against WeasyPrint
alone, and the rebuild after a one-paragraph edit.

    python bench/chunks.py [--size large] [--repeat 2] [--write] [--work DIR]

The book is bench/book.py's (book theme, apa).  Each round runs, each in its own
subprocess (wall time of the whole command, as bench/run.py measures it, and the
process tree's CPU seconds):

    weasyprint    WeasyPrint alone on the HTML and CSS our first layout gets (bench/run.py's
                  job: render and write_pdf in one process)
    jobs-1        builder --to pdf --jobs 1 --no-cache (the whole book in one layout)
    jobs-2        builder --to pdf --jobs 2 --no-cache (the book in chunks, 2 processes)
    edit          after a cached --jobs 2 build (untimed), one paragraph of chapter 12
                  edited (a word added), then builder --to pdf --jobs 2 again (timed)

After each round the page texts (pypdf, page by page) of jobs-2 are compared with jobs-1,
and those of the edited rebuild with a full --no-cache build of the edited book.  The
machine is shared: the load average is noted beside each run and the best of the
rounds is reported.  ``--write`` puts the table in docs/benchmarks.md between the chunk
markers.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- chunks:start -->", "<!-- chunks:end -->"
EPOCH = "1700000000"


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def timed(cmd: list[str], log: Path, env: dict[str, str]) -> dict[str, Any]:
    """Wall seconds of ``cmd`` and the CPU seconds of it and its children."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start, load_before = time.perf_counter(), load()
    with open(log, "wb") as out:
        result = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode:
        raise SystemExit(f"{cmd} failed: see {log}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "load_before": load_before, "load_after": load()}


def page_texts(pdf: Path) -> list[str]:
    from pypdf import PdfReader
    return [page.extract_text() for page in PdfReader(pdf).pages]


def edit(chapter: Path, rep: int) -> None:
    """One word added to the chapter's second paragraph."""
    blocks = chapter.read_text(encoding="utf-8").split("\n\n")
    prose = [n for n, b in enumerate(blocks) if b and b[0].isalpha() and len(b) > 200]
    n = prose[1]
    blocks[n] = blocks[n].replace(" ", f" indeed{'' if rep % 2 else ' also'} ", 1)
    chapter.write_text("\n\n".join(blocks), encoding="utf-8")


def builder(project: Path, out: Path, *options: str) -> list[str]:
    return [sys.executable, "-m", "builder", "build", str(project), "--to", "pdf", "--theme",
            "book", "--style", "apa", "--out", str(out), "-q", *options]


def run_round(work: Path, project: Path, rep: int, env: dict[str, str]) -> dict[str, Any]:
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    found: dict[str, Any] = {}
    spec = {"kind": "weasyprint", "html": str(work / "input.html"),
            "css": str(work / "input.css"), "base_url": str(project),
            "out": str(work / "weasyprint.pdf"), "result": str(work / "wp-result.json")}
    (work / "wp.json").write_text(json.dumps(spec))
    found["weasyprint"] = timed([sys.executable, str(ROOT / "bench" / "run.py"), "--job",
                                 str(work / "wp.json")], logs / f"wp-{rep}.log", env)
    found["weasyprint"]["pages"] = json.loads((work / "wp-result.json").read_text())["pages"]
    for jobs in ("1", "2"):
        out = work / f"jobs-{jobs}"
        found[f"jobs-{jobs}"] = timed(builder(project, out, "--no-cache", "--jobs", jobs),
                                      logs / f"jobs{jobs}-{rep}.log", env)
    one = page_texts(next((work / "jobs-1").glob("*.pdf")))
    two = page_texts(next((work / "jobs-2").glob("*.pdf")))
    found["jobs-2"]["pages"] = len(two)
    found["jobs-2"]["same_pages"] = one == two
    # the rebuild after a one-paragraph edit (the cache primed first, untimed)
    edited = work / f"edited-{rep}"
    shutil.rmtree(edited, ignore_errors=True)
    shutil.copytree(project, edited, ignore=shutil.ignore_patterns(".cache", "dist"))
    subprocess.run(builder(edited, edited / "dist", "--jobs", "2"), env=env, check=True,
                   cwd=ROOT, stdout=subprocess.DEVNULL)
    chapters = sorted((edited / "book").glob("*.md"))
    edit(chapters[min(11, len(chapters) - 1)], rep)  # chapter 12 of the large book
    found["edit"] = timed(builder(edited, edited / "dist", "--jobs", "2"),
                          logs / f"edit-{rep}.log", env)
    subprocess.run(builder(edited, edited / "full", "--jobs", "2", "--no-cache"), env=env,
                   check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    found["edit"]["same_pages"] = (page_texts(next((edited / "dist").glob("*.pdf")))
                                   == page_texts(next((edited / "full").glob("*.pdf"))))
    return found


def table(rounds: list[dict[str, Any]], size: str) -> str:
    best = {job: min(r[job]["wall"] for r in rounds) for job in rounds[0]}
    cpu = {job: min(r[job]["cpu"] for r in rounds) for job in rounds[0]}
    floor = best["weasyprint"]
    rows = [
        "| job | best wall s | ratio to WeasyPrint alone | best CPU s (tree) | "
        "runs: wall s (load before → after) |",
        "|---|--:|--:|--:|---|"]
    labels = {"weasyprint": "WeasyPrint alone (same HTML)",
              "jobs-1": "builder --to pdf --jobs 1", "jobs-2": "builder --to pdf --jobs 2",
              "edit": "rebuild after a one-paragraph edit (--jobs 2)"}
    for job, label in labels.items():
        runs = "; ".join(f"{r[job]['wall']:.1f} ({r[job]['load_before'].split()[0]} → "
                         f"{r[job]['load_after'].split()[0]})" for r in rounds)
        rows.append(f"| {label} | {best[job]:.1f} | {best[job] / floor:.2f}× | "
                    f"{cpu[job]:.1f} | {runs} |")
    same = all(r["jobs-2"]["same_pages"] for r in rounds)
    same_edit = all(r["edit"]["same_pages"] for r in rounds)
    pages = rounds[0]["jobs-2"]["pages"]
    return "\n".join([
        f"Book: bench/book.py --size {size} (book theme, apa), {pages} pages; "
        f"{len(rounds)} round(s), best wall time reported.  Machine: {platform.machine()}, "
        f"{os.cpu_count()} cores, shared (load averages beside each run); Python "
        f"{platform.python_version()}; run {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC.",
        "", *rows, "",
        f"- `--jobs 2` / `--jobs 1`: {best['jobs-2'] / best['jobs-1']:.2f}×; "
        f"edited rebuild / full `--jobs 2` build: {best['edit'] / best['jobs-2']:.2f}×.",
        f"- every page's text of `--jobs 2` equal to `--jobs 1` (pypdf, page by page): "
        f"{'yes' if same else 'NO'}; the edited rebuild's equal to a full build: "
        f"{'yes' if same_edit else 'NO'}."])


def write_doc(text: str) -> None:
    doc = DOC.read_text(encoding="utf-8")
    block = f"{START}\n{text}\n{END}"
    if START in doc:
        doc = doc[:doc.index(START)] + block + doc[doc.index(END) + len(END):]
    else:
        doc = doc.rstrip("\n") + "\n\n" + block + "\n"
    DOC.write_text(doc, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="large", choices=("small", "medium", "large"))
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    parser.add_argument("--work", type=Path, help="work folder (default: a temporary one)")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-chunks-"))
    work.mkdir(parents=True, exist_ok=True)
    project = work / "book"
    if not project.exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "book.py"), "--size", args.size,
                        "--out", str(project)], check=True, cwd=ROOT)
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "PYTHONPATH": str(ROOT)}
    spec = {"kind": "dump", "project": str(project), "style": "apa", "theme": "book",
            "html": str(work / "input.html"), "css": str(work / "input.css"),
            "result": str(work / "dump.json")}
    (work / "dump.json.spec").write_text(json.dumps(spec))
    subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--job",
                    str(work / "dump.json.spec")], check=True, cwd=ROOT, env=env)
    rounds = []
    for rep in range(args.repeat):
        rounds.append(run_round(work, project, rep, env))
        print(json.dumps(rounds[-1], indent=1), flush=True)
        (work / "results.json").write_text(json.dumps(rounds, indent=1))
    text = table(rounds, args.size)
    print(text)
    if args.write:
        write_doc(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
