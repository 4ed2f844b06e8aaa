"""An archive of generated articles: 40 ``builder build`` runs, one after the other,
against ``builder build-all`` on the local pool and on a local Dask cluster of two
workers (issue 18).

    python bench/archive.py [--articles 40] [--repeat 2] [--work DIR] [--json FILE]

Each article is like the seed one (about 1,700 words, one chapter, 30 references, 30
citations; bench/book.py writes them, each with its own seed).  Every run starts from
the bare sources (no dist/, no .cache/): all three formats of every article are built.
Each measurement is repeated; the best wall time counts (the machine is shared: the
load average is printed beside each).  Also measured: the start-up of one Python
process importing what a build needs (what build-all saves per article), the start of
the Dask cluster, and the seconds each article takes in a worker (the per-task cost
the estimates in docs/benchmarks.md start from).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import book as bench_book  # noqa: E402 - bench/ is not a package

ARTICLE = bench_book.Size(words=1_700, chapters=1, refs=30, citations=30)
EPOCH = "1700000000"


def make_archive(folder: Path, count: int) -> list[Path]:
    projects = []
    for n in range(1, count + 1):
        files, _ = bench_book.generate(ARTICLE, n)
        project = folder / f"article-{n:03d}"
        bench_book.write(files, project)
        projects.append(project)
    return projects


def clean(projects: list[Path]) -> None:
    for project in projects:
        for name in ("dist", ".cache"):
            shutil.rmtree(project / name, ignore_errors=True)


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


CPU = {"seconds": 0.0}  # CPU seconds of the commands run (and of the processes they waited for)


def timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    start, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=3600)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU["seconds"] = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stdout}\n{done.stderr}")
    return seconds, done.stdout


def task_seconds(stdout: str) -> list[float]:
    """Each article's seconds in its worker, from build-all's table."""
    return [float(m.group(1)) for m in re.finditer(r"  built +(\d+\.\d) s", stdout)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--work", type=Path)
    parser.add_argument("--json", type=Path, help="save the measurements here")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="builder-archive-"))
    projects = make_archive(work / "archive", args.articles)
    env = {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "PYTHONPATH": str(ROOT)}
    python = sys.executable
    results: dict[str, list[dict[str, object]]] = {}
    tasks: dict[bool, list[float]] = {True: [], False: []}  # cold workers?: seconds per article

    def record(name: str, seconds: float, **more: object) -> None:
        results.setdefault(name, []).append({"seconds": round(seconds, 2), "load": load(),
                                             **more})
        cpu = f"   CPU {more['cpu']:.1f} s" if "cpu" in more else ""
        print(f"{name:28} {seconds:7.1f} s   load {load()}{cpu}", flush=True)

    for _ in range(3):  # what each `builder build` process pays before it builds
        seconds, _out = timed([python, "-c", "import builder.build, builder.cli; "
                               "from builder.formats import pdf; pdf.load_weasyprint()"], env)
        record("imports of one process", seconds)
        seconds, _out = timed([python, "-c", "pass"], env)
        record("bare python", seconds)

    from distributed import Client, LocalCluster
    start = time.perf_counter()
    os.environ["PYTHONPATH"] = str(ROOT)  # (the workers import this builder)
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None, host="127.0.0.1")
    client = Client(cluster)
    client.wait_for_workers(2)
    record("dask cluster start", time.perf_counter() - start)
    try:
        for n in range(args.repeat):
            clean(projects)
            start, cpu = time.perf_counter(), 0.0
            for project in projects:
                timed([python, "-m", "builder", "build", str(project), "-q"], env)
                cpu += CPU["seconds"]
            record("sequential builder build", time.perf_counter() - start, cpu=round(cpu, 1))
            clean(projects)
            seconds, out = timed([python, "-m", "builder", "build-all", str(work / "archive"),
                                  "-q", "--jobs", "2"], env)
            record("build-all, local pool", seconds, cpu=round(CPU["seconds"], 1))
            seconds, out = timed([python, "-m", "builder", "build-all", str(work / "archive"),
                                  "-q", "--jobs", "2"], env)
            record("build-all, local, up to date", seconds)
            clean(projects)
            seconds, out = timed([python, "-m", "builder", "build-all", str(work / "archive"),
                                  "--scheduler", cluster.scheduler_address], env)
            tasks[n == 0].extend(task_seconds(out))
            record("build-all, dask (2 workers)", seconds, cold=n == 0)
            seconds, out = timed([python, "-m", "builder", "build-all", str(work / "archive"),
                                  "--scheduler", cluster.scheduler_address], env)
            record("build-all, dask, up to date", seconds)
            clean(projects)  # the same again, its workers warm now
            seconds, out = timed([python, "-m", "builder", "build-all", str(work / "archive"),
                                  "-q", "--scheduler", cluster.scheduler_address], env)
            record("build-all, dask, warm workers", seconds)
    finally:
        client.close()
        cluster.close()
    best = {name: min(float(str(r["seconds"])) for r in runs) for name, runs in results.items()}
    warm = tasks[False] or tasks[True]
    print()
    print(f"best of {args.repeat}, {args.articles} articles:")
    for name, seconds in best.items():
        print(f"  {name:28} {seconds:7.1f} s")
    sequential = best["sequential builder build"]
    print(f"  speed-up, local pool: {sequential / best['build-all, local pool']:.2f}x; "
          f"dask: {sequential / best['build-all, dask (2 workers)']:.2f}x")
    print(f"  per article in a warm worker: median {statistics.median(warm):.2f} s, "
          f"min {min(warm):.2f}, max {max(warm):.2f}")
    if args.json:
        args.json.write_text(json.dumps({"results": results, "best": best,
                                         "warm task seconds": warm}, indent=1))
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
