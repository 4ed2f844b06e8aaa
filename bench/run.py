"""The book-scale benchmark of issue 7: our build against pandoc and bare WeasyPrint.

    python bench/run.py [--sizes small,medium,large] [--repeat 3] [--formats pdf,epub,html]
                        [--style apa] [--theme book] [--seed 1] [--only JOB,...]
                        [--write] [--keep] [--work DIR]

For each size a synthetic book is generated (bench/book.py), then, ``--repeat``
times and interleaved (every job of every size once, then again), each job runs
in its own subprocess while this process measures its wall time, its peak
memory and the peak memory of its process tree:

    ours-all      builder's whole build, every format of --formats (stage timings)
    ours-pdf      builder --to pdf          weasyprint   WeasyPrint alone on the same HTML and CSS
    ours-draft    builder --to pdf --draft (one layout: no footnote re-layout)
    ours-epub     builder --to epub         pandoc-epub  pandoc --citeproc, same sources and CSL
    ours-html     builder --to html         pandoc-html  pandoc --citeproc -s, same sources and CSL
    rebuild       builder --to html,epub three times in one project: cold (untimed),
                  again with nothing changed (rebuild-same), then after one chapter
                  was edited (rebuild-edit)

Medians are printed as Markdown tables; ``--write`` puts them in docs/benchmarks.md
(between the bench markers, the rest of the file is kept) with the machine's
description, and draws docs/benchmarks.png (needs the ``bench`` extra: matplotlib).
See bench/README.md for what each comparison means and why it is fair.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DOC = ROOT / "docs" / "benchmarks.md"
CHART = ROOT / "docs" / "benchmarks.png"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
ALL_SIZES = ("small", "medium", "large")
JOB_ORDER = ("ours-all", "ours-pdf", "ours-draft", "weasyprint", "ours-epub", "pandoc-epub",
             "ours-html",
             "pandoc-html", "rebuild-same", "rebuild-edit")
LABELS = {
    "ours-all": "builder, all formats", "ours-pdf": "builder --to pdf",
    "ours-draft": "builder --to pdf --draft",
    "weasyprint": "WeasyPrint alone", "ours-epub": "builder --to epub",
    "pandoc-epub": "pandoc EPUB", "ours-html": "builder --to html",
    "pandoc-html": "pandoc HTML", "rebuild-same": "rebuild, nothing changed",
    "rebuild-edit": "rebuild, one chapter edited",
}
PREPARE_STAGES = ("prepare", "load", "parse", "citations", "render")


# --- the jobs, each run as `python bench/run.py --job SPEC.json` ---------------------------


def job_main(spec_path: Path) -> int:
    """Inside the measured subprocess: do one job, write its own timings to spec['result']."""
    spec = json.loads(spec_path.read_text())
    kind = spec["kind"]
    result: dict[str, Any] = {}
    if kind == "build":
        from builder.build import BuildRequest, build
        request = BuildRequest(project_root=Path(spec["project"]), formats=tuple(spec["formats"]),
                               style=spec["style"], theme=spec["theme"], out_dir=Path(spec["out"]),
                               draft=spec.get("draft", False))
        outcome = build(request)
        result["timings"] = dict(outcome.timings)
        result["warnings"] = len(outcome.diagnostics.warnings)
    elif kind == "weasyprint":
        start = time.perf_counter()
        import weasyprint
        from weasyprint.text.fonts import FontConfiguration
        imported = time.perf_counter()
        fonts = FontConfiguration()
        css = weasyprint.CSS(filename=spec["css"], font_config=fonts)
        html = weasyprint.HTML(filename=spec["html"], base_url=spec["base_url"])
        document = html.render(stylesheets=[css], font_config=fonts)
        laid_out = time.perf_counter()
        document.write_pdf(spec["out"])
        done = time.perf_counter()
        result["timings"] = {"import": imported - start, "layout": laid_out - imported,
                             "write": done - laid_out, "total": done - imported}
        result["pages"] = len(document.pages)
    elif kind == "dump":
        result.update(dump_pdf_input(spec))
    else:
        raise SystemExit(f"unknown job kind {kind}")
    Path(spec["result"]).write_text(json.dumps(result))
    return 0


def dump_pdf_input(spec: dict) -> dict:
    """The HTML and CSS our PDF step hands WeasyPrint for its first layout, written to
    files (not timed): builder.formats.pdf.weasyprint_input, the function pdf.write
    itself uses, so the floor cannot drift from what the PDF step lays out.
    """
    from builder import build as build_module
    from builder.errors import Diagnostics
    from builder.formats import pdf
    request = build_module.BuildRequest(project_root=Path(spec["project"]), formats=("pdf",),
                                        style=spec["style"], theme=spec["theme"])
    book = build_module.prepare(request, Diagnostics())
    html, css = pdf.weasyprint_input(book, build_module.format_options(request))
    Path(spec["html"]).write_text(html, encoding="utf-8")
    Path(spec["css"]).write_text(css, encoding="utf-8")
    return {"html_bytes": len(html.encode("utf-8")), "css_bytes": len(css.encode("utf-8"))}


# --- measuring a subprocess --------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(c) for c in handle.read().split()]
    except OSError:
        pass
    return found


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class TreeSampler(threading.Thread):
    """The process tree's memory (sum of PSS, so pages a fork shares count once),
    10 times a second."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kb, self.done = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            tree, total = [self.pid], 0
            while tree:
                pid = tree.pop()
                total += _pss_kb(pid)
                tree += _children(pid)
            self.peak_kb = max(self.peak_kb, total)
            self.done.wait(0.1)


def measure(cmd: list[str], log: Path, env: dict[str, str] | None = None,
            cwd: Path | None = None, timeout: float = 3600) -> dict[str, Any]:
    """Wall seconds, ru_maxrss of the largest process (the child or any of its own
    children) and the sampled peak of the whole tree, in MB."""
    with open(log, "wb") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        sampler = TreeSampler(proc.pid)
        sampler.start()
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        sampler.done.set()
        sampler.join()
    return {"wall": wall, "rc": proc.returncode, "maxrss_mb": usage.ru_maxrss / 1024,
            "tree_mb": sampler.peak_kb / 1024}


# --- the runner --------------------------------------------------------------------------


class Runner:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args, self.work = args, work
        self.python = sys.executable
        self.formats = [f for f in ("pdf", "epub", "html") if f in args.formats.split(",")]
        from builder.citations import load_style
        self.csl = str(load_style(args.style).path)  # the very file our build reads
        self.pandoc = find_pandoc()
        self.results: dict[str, dict[str, list[dict]]] = {}
        self.books: dict[str, dict] = {}
        self.jobs = [j for j in JOB_ORDER if self.wanted(j)]
        self.started = dt.datetime.now()
        self.code_at_start = code_state()

    def wanted(self, job: str) -> bool:
        needs = {"ours-pdf": "pdf", "ours-draft": "pdf", "weasyprint": "pdf", "ours-epub": "epub",
                 "pandoc-epub": "epub", "ours-html": "html", "pandoc-html": "html"}
        if job.startswith("rebuild") and not {"html", "epub"} & set(self.formats):
            return False
        if job in needs and needs[job] not in self.formats:
            return False
        if job.startswith("pandoc") and not self.pandoc:
            return False
        return not self.args.only or job in self.args.only.split(",")

    # setting up (nothing here is timed)

    def setup(self, size: str) -> None:
        import yaml

        from book import SIZES, generate, write
        base = self.work / size
        source = base / "source"
        files, stats = generate(SIZES[size], self.args.seed)
        write(files, source)
        meta = yaml.safe_load((source / "book" / "book.yml").read_text())
        chapters = [str(source / "book" / name) for name in meta["chapters"]]
        # pandoc gets the book's metadata, but not builder's own keys (chapters, bibliography)
        pandoc_meta = {k: meta[k] for k in ("title", "subtitle", "date", "lang", "publisher",
                                             "description") if k in meta}
        pandoc_meta["author"] = [a["name"] for a in meta.get("author", [])]
        pandoc_meta["link-citations"] = True
        (base / "pandoc-meta.yml").write_text(yaml.safe_dump(pandoc_meta, allow_unicode=True))
        info = {"stats": stats, "source": source, "chapters": chapters,
                "bibliography": str(source / "bibliography" / "references.json")}
        if "weasyprint" in self.jobs or "ours-pdf" in self.jobs:
            spec = {"kind": "dump", "project": str(source), "style": self.args.style,
                    "theme": self.args.theme, "html": str(base / "pdf-input.html"),
                    "css": str(base / "pdf-input.css"), "result": str(base / "dump.json")}
            outcome = self.run_job(spec, base / "dump.log")
            if outcome["rc"] != 0:
                raise SystemExit(f"could not make the PDF's HTML for {size}: "
                                 f"see {base / 'dump.log'}")
            info["pdf_input"] = {k: outcome.get(k) for k in ("html_bytes", "css_bytes")}
        rebuild = base / "rebuild"
        shutil.copytree(source, rebuild / "project")
        self.books[size] = info
        self.results[size] = {job: [] for job in self.jobs}
        print(f"{size}: " + ", ".join(f"{v:,} {k}" for k, v in stats.items()), flush=True)

    def run_job(self, spec: dict, log: Path, env: dict | None = None) -> dict:
        path = log.with_suffix(".spec.json")
        path.write_text(json.dumps(spec))
        outcome = measure([self.python, str(Path(__file__).resolve()), "--job", str(path)], log,
                          env=env, timeout=self.args.timeout)
        result_file = Path(spec["result"])
        if outcome["rc"] == 0 and result_file.exists():
            outcome.update(json.loads(result_file.read_text()))
            result_file.unlink()
        return outcome

    def cold_env(self, where: Path) -> dict[str, str]:
        """A fresh cache home: a cold build must not find what an earlier one left."""
        env = dict(os.environ)
        env["XDG_CACHE_HOME"] = str(where / "cache-home")
        return env

    def ours(self, size: str, formats: list[str], run: Path, draft: bool = False) -> dict:
        project = run / "project"
        shutil.copytree(self.books[size]["source"], project)
        spec = {"kind": "build", "project": str(project), "formats": formats,
                "style": self.args.style, "theme": self.args.theme, "out": str(run / "dist"),
                "result": str(run / "result.json"), "draft": draft}
        return self.run_job(spec, run / "job.log", self.cold_env(run))

    def run_one(self, size: str, job: str, rep: int) -> list[tuple[str, dict]]:
        base = self.work / size
        run = base / f"{job}-{rep}"
        run.mkdir(parents=True)
        book = self.books[size]
        if job == "ours-all":
            return [(job, self.ours(size, self.formats, run))]
        if job == "ours-draft":
            return [(job, self.ours(size, ["pdf"], run, draft=True))]
        if job in ("ours-pdf", "ours-epub", "ours-html"):
            return [(job, self.ours(size, [job.split("-")[1]], run))]
        if job == "weasyprint":
            spec = {"kind": "weasyprint", "html": str(base / "pdf-input.html"),
                    "css": str(base / "pdf-input.css"), "base_url": str(book["source"]),
                    "out": str(run / "weasyprint.pdf"), "result": str(run / "result.json")}
            return [(job, self.run_job(spec, run / "job.log"))]
        if job.startswith("pandoc"):
            fmt = job.split("-")[1]
            cmd = [self.pandoc, "--citeproc", "--csl", self.csl, "--bibliography",
                   book["bibliography"], "--metadata-file", str(base / "pandoc-meta.yml"),
                   *book["chapters"], "-o", str(run / f"pandoc.{fmt}")]
            if fmt == "html":
                cmd.insert(1, "--standalone")
            return [(job, measure(cmd, run / "job.log", cwd=book["source"],
                                  timeout=self.args.timeout))]
        if job == "rebuild-same":
            return self.rebuild(size, rep, run)
        return []  # rebuild-edit is measured with rebuild-same

    def rebuild(self, size: str, rep: int, run: Path) -> list[tuple[str, dict]]:
        """Cold build (untimed), the same again, then after editing one chapter.

        The project, its dist/ and the cache home are kept from one repetition to
        the next; each edit adds a paragraph to the middle chapter (edit_chapter).
        """
        home = self.work / size / "rebuild"
        project = home / "project"
        formats = [f for f in ("html", "epub") if f in self.formats]
        spec = {"kind": "build", "project": str(project), "formats": formats,
                "style": self.args.style, "theme": self.args.theme, "out": str(home / "dist"),
                "result": str(run / "result.json")}
        env = self.cold_env(home)
        prime = self.run_job(spec, run / "prime.log", env)
        if prime["rc"] != 0:
            return [("rebuild-same", prime), ("rebuild-edit", prime)]
        same = self.run_job(spec, run / "same.log", env)
        chapters = sorted((project / "book").glob("[0-9][0-9]-chapter.md"))
        edited = chapters[len(chapters) // 2]
        edited.write_text(edit_chapter(edited.read_text(encoding="utf-8"), rep), encoding="utf-8")
        edit = self.run_job(spec, run / "edit.log", env)
        return [("rebuild-same", same), ("rebuild-edit", edit)]

    def run(self) -> None:
        for size in self.args.sizes:
            self.setup(size)
        for rep in range(1, self.args.repeat + 1):
            for size in self.args.sizes:
                for job in self.jobs:
                    for name, outcome in self.run_one(size, job, rep):
                        if name not in self.results[size]:
                            continue
                        self.results[size][name].append(outcome)
                        self.report(size, name, rep, outcome)
                    if not self.args.keep:
                        self.clean(size, job, rep)
        for size in self.args.sizes:
            self.check_pages(size)

    def report(self, size: str, job: str, rep: int, outcome: dict) -> None:
        status = "" if outcome["rc"] == 0 else f"  FAILED (exit {outcome['rc']})"
        print(f"[{rep}/{self.args.repeat}] {size:6} {job:13} {outcome['wall']:8.2f} s "
              f"{outcome['maxrss_mb']:7.0f} MB (tree {outcome['tree_mb']:.0f} MB){status}",
              flush=True)
        if outcome["rc"] != 0:
            logs = sorted((self.work / size).glob(f"{job.split('-')[0]}*-{rep}/*.log"))
            for log in logs[-1:]:
                print("    " + "\n    ".join(log.read_text(errors="replace").splitlines()[-8:]))

    def clean(self, size: str, job: str, rep: int) -> None:
        """Keep the last repetition's outputs (page counts); drop the earlier copies."""
        if rep < self.args.repeat:
            shutil.rmtree(self.work / size / f"{job}-{rep}", ignore_errors=True)

    def check_pages(self, size: str) -> None:
        """Our PDF and WeasyPrint alone should have the same pages; note it if not."""
        last = self.args.repeat
        ours = self.work / size / f"ours-pdf-{last}" / "dist"
        info = self.books[size]
        pdfs = list(ours.glob("*.pdf")) if ours.is_dir() else []
        runs = self.results[size].get("weasyprint") or []
        if pdfs:
            info["pages"] = count_pages(pdfs[0])
        if runs and runs[-1].get("pages"):
            info["weasyprint_pages"] = runs[-1]["pages"]


def edit_chapter(text: str, rep: int) -> str:
    """A new one-sentence paragraph (no citation) after the chapter's first paragraph:
    what an author adds, and every later line of the chapter moves down two lines."""
    blocks = text.split("\n\n")
    first = next(i for i, block in enumerate(blocks) if block[:1].isalpha())
    blocks.insert(first + 1, f"This paragraph was added by the benchmark, edit number {rep}.")
    return "\n\n".join(blocks)


def count_pages(path: Path) -> int | None:
    try:
        from pypdf import PdfReader
    except ImportError:
        return None
    return len(PdfReader(str(path)).pages)


def find_pandoc() -> str | None:
    try:
        import pypandoc
        return pypandoc.get_pandoc_path()
    except (ImportError, OSError):
        found = shutil.which("pandoc")
        return found


# --- summarising -------------------------------------------------------------------------


def ok(runs: list[dict]) -> list[dict]:
    return [r for r in runs if r["rc"] == 0]


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def paired_ratio(results: dict[str, list[dict]], top: str, bottom: str,
                 key=lambda r: r["wall"]) -> float | None:
    """Median of the per-repetition ratios (jobs of one repetition ran side by side)."""
    pairs = [key(a) / key(b) for a, b in zip(results.get(top, []), results.get(bottom, []),
                                             strict=False)
             if a["rc"] == 0 and b["rc"] == 0 and key(b)]
    return median(pairs)


def fmt(value: float | None, digits: int = 2, suffix: str = "") -> str:
    return "—" if value is None else f"{value:,.{digits}f}{suffix}"


def stage_keys(runs: list[dict]) -> list[str]:
    keys: list[str] = []
    for run in runs:
        for key in run.get("timings", {}):
            if key not in keys:
                keys.append(key)
    return keys


def tables(data: dict) -> str:
    results, sizes, jobs, books = data["results"], data["sizes"], data["jobs"], data["books"]
    lines = ["### Headline: ratios (medians of the per-repetition ratios)", "",
             ("| size | ours / pandoc EPUB | ours / pandoc HTML | our PDF / WeasyPrint alone "
             "| PDF layouts | `--draft` PDF / WeasyPrint alone "
             "| PDF stage / WeasyPrint's layout and write | whole build / PDF alone "
             "| rebuild, nothing changed | rebuild, one chapter edited | citations stage |"),
             "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
             "| target (large book) | ≤ 0.5 | ≤ 0.5 | ≤ 1.1 | | ≤ 1.1 | | ≤ 1.1 | < 1 s | < 2 s "
             "| < 2 s |"]
    for size in sizes:
        r = results[size]
        stage = paired_ratio(r, "ours-pdf", "weasyprint",
                             key=lambda x: x["timings"].get("pdf") if "pdf" in x.get("timings", {})
                             else x["timings"].get("total", 0))
        lines.append("| " + " | ".join([
            size,
            fmt(paired_ratio(r, "ours-epub", "pandoc-epub"), suffix="×"),
            fmt(paired_ratio(r, "ours-html", "pandoc-html"), suffix="×"),
            fmt(paired_ratio(r, "ours-pdf", "weasyprint"), suffix="×"),
            fmt(median([x["timings"]["pdf_layouts"] for x in ok(r.get("ours-pdf", []))
                        if "pdf_layouts" in x.get("timings", {})])),
            fmt(paired_ratio(r, "ours-draft", "weasyprint"), suffix="×"),
            fmt(stage, suffix="×"),
            fmt(paired_ratio(r, "ours-all", "ours-pdf"), suffix="×"),
            fmt(median([x["wall"] for x in ok(r.get("rebuild-same", []))]), suffix=" s"),
            fmt(median([x["wall"] for x in ok(r.get("rebuild-edit", []))]), suffix=" s"),
            fmt(median([x["timings"]["citations"] for x in ok(r.get("ours-all", []))
                        if "citations" in x.get("timings", {})]), suffix=" s"),
        ]) + " |")
    lines += ["", ("Ratios compare wall times of whole commands (process start to exit), "
              "the way a user meets them; the PDF-stage ratio compares the time inside the "
              "processes (our `pdf` stage against WeasyPrint's render and write_pdf)."), ""]

    lines += ["### Wall time and peak memory of each job (medians)", "",
              "| size | job | wall s | min–max s | peak MB (largest process) "
              "| tree MB (all processes) | runs |",
              "|---|---|--:|--:|--:|--:|--:|"]
    for size in sizes:
        for job in jobs:
            runs = ok(results[size].get(job, []))
            failed = len(results[size].get(job, [])) - len(runs)
            walls = [x["wall"] for x in runs]
            lines.append(f"| {size} | {LABELS[job]} | {fmt(median(walls))} | "
                         f"{fmt(min(walls) if walls else None)}–"
                         f"{fmt(max(walls) if walls else None)} | "
                         f"{fmt(max((x['maxrss_mb'] for x in runs), default=None), 0)} | "
                         f"{fmt(max((x['tree_mb'] for x in runs), default=None), 0)} | "
                         f"{len(runs)}{f' ({failed} failed)' if failed else ''} |")
    lines.append("")

    lines += ["### Stages of our build (medians of in-process seconds)", ""]
    for job in ("ours-all", "ours-pdf", "ours-draft", "ours-epub", "ours-html", "weasyprint"):
        keys = []
        for size in sizes:
            keys += [k for k in stage_keys(ok(results[size].get(job, []))) if k not in keys]
        if not keys:
            continue
        lines += [f"{LABELS[job]}:", "", "| size | " + " | ".join(keys) + " | process wall |",
                  "|---|" + "--:|" * (len(keys) + 1)]
        for size in sizes:
            runs = ok(results[size].get(job, []))
            cells = [fmt(median([x["timings"][k] for x in runs if k in x.get("timings", {})]))
                     for k in keys]
            lines.append(f"| {size} | " + " | ".join(cells)
                         + f" | {fmt(median([x['wall'] for x in runs]))} |")
        lines.append("")

    lines += ["### The books", "", ("| size | words | chapters | references | citations | cites "
              "| footnotes | PDF pages (ours / WeasyPrint alone) | PDF's HTML |"),
              "|---|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for size in sizes:
        info = books[size]
        s = info["stats"]
        pages = f"{info.get('pages', '—')} / {info.get('weasyprint_pages', '—')}"
        html = info.get("pdf_input", {}).get("html_bytes")
        lines.append(f"| {size} | {s['words']:,} | {s['chapters']} | {s['references']:,} | "
                     f"{s['citations']:,} | {s['cites']:,} | {s['footnotes']:,} | {pages} | "
                     f"{fmt(html / 1e6 if html else None, 1, ' MB')} |")
    lines.append("")
    return "\n".join(lines)


def machine(runner: Runner, load_before: tuple, load_after: tuple) -> str:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                          if line.startswith("MemTotal")))
    except (OSError, StopIteration, ValueError):
        mem_kb = 0
    import weasyprint
    pandoc = "not found"
    if runner.pandoc:
        pandoc = subprocess.run([runner.pandoc, "--version"], capture_output=True,
                                text=True, check=False).stdout.splitlines()[0]
    try:
        from importlib.metadata import version
        citeproc = version("citeproc-py")
    except ImportError:  # importlib.metadata.PackageNotFoundError
        citeproc = "?"
    code = runner.code_at_start
    if code_state() != code:
        code += f" at the start, {code_state()} at the end (the code changed during the run)"
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    args = runner.args
    return "\n".join([
        "| | |", "|---|---|",
        f"| CPU | {cpu}, {os.cpu_count()} cores ({affinity} usable) |",
        f"| RAM | {mem_kb / 1024 / 1024:.1f} GB |",
        (f"| load average (1, 5, 15 min) | before {', '.join(f'{x:.2f}' for x in load_before)}; "
        f"after {', '.join(f'{x:.2f}' for x in load_after)} |"),
        f"| OS | {platform.platform()} |",
        f"| Python | {platform.python_version()} |",
        f"| WeasyPrint | {weasyprint.__version__} |",
        f"| pandoc | {pandoc} (pypandoc-binary) |",
        f"| citeproc-py | {citeproc} |",
        f"| builder | {code} |",
        (f"| run | {runner.started.strftime('%Y-%m-%d %H:%M')} to "
         f"{dt.datetime.now().strftime('%H:%M')}; sizes {', '.join(args.sizes)}; "
        f"{args.repeat} repetition(s), interleaved; style {args.style}; theme {args.theme}; "
        f"seed {args.seed}; formats {','.join(runner.formats)} |"),
    ])


def code_state() -> str:
    """The commit, and whether builder/ differs from it."""
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True, check=False).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "builder"],
                           capture_output=True, text=True, check=False).stdout.strip()
    return f"commit {commit or '?'}" + (" with uncommitted changes in builder/" if dirty else "")


def chart(data: dict, path: Path) -> None:
    """Horizontal bars per job, split into stages, one panel per size."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = data["sizes"]
    colours = {"start-up and exit": "#c7c7c7", "other": "#e6e6e6", "prepare": "#4c72b0",
               "load": "#8da0cb", "parse": "#66c2a5", "citations": "#e78ac3", "render": "#a6d854",
               "pdf": "#fc8d62", "epub": "#e5c494", "html": "#8c564b",
               "formats (concurrent)": "#ffd92f", "WeasyPrint layout": "#fdae6b",
               "WeasyPrint write": "#d95f02", "pandoc": "#555555"}
    jobs = list(data["jobs"])
    fig, axes = plt.subplots(len(sizes), 1, figsize=(10, 1.2 + 0.42 * len(jobs) * len(sizes)),
                             squeeze=False)
    used: dict[str, Any] = {}
    for ax, size in zip(axes[:, 0], sizes, strict=True):
        for y, job in enumerate(reversed(jobs)):
            runs = ok(data["results"][size].get(job, []))
            if not runs:
                continue
            wall = median([r["wall"] for r in runs])
            segments = segments_of(job, runs, wall)
            left = 0.0
            for name, width in segments:
                bar = ax.barh(y, width, left=left, color=colours.get(name, "#999999"),
                              edgecolor="white", linewidth=0.5)
                used.setdefault(name, bar)
                left += width
            ax.text(wall, y, f" {wall:.2f} s", va="center", fontsize=8)
        ax.set_yticks(range(len(jobs)), [LABELS[j] for j in reversed(jobs)], fontsize=8)
        stats = data["books"][size]["stats"]
        ax.set_title(f"{size}: {stats['words']:,} words, {stats['references']:,} references, "
                     f"{stats['citations']:,} citations", fontsize=9, loc="left")
        ax.set_xlabel("seconds (median wall time of the whole command)", fontsize=8)
        ax.tick_params(axis="x", labelsize=8)
        ax.set_xlim(0, ax.get_xlim()[1] * 1.12)
    order = [name for name in colours if name in used]
    fig.legend([used[n] for n in order], order, loc="upper center", ncol=7, fontsize=8,
               frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.5 / fig.get_figheight()))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def segments_of(job: str, runs: list[dict], wall: float) -> list[tuple[str, float]]:
    """The median of each in-process stage, then what is left of the wall time."""
    if job.startswith("pandoc"):
        return [("pandoc", wall)]
    timings = {k: median([r["timings"][k] for r in runs if k in r.get("timings", {})])
               for k in stage_keys(runs)}
    total = timings.pop("total", None)
    if job == "weasyprint":
        parts = [(f"WeasyPrint {k}", timings[k]) for k in ("layout", "write") if timings.get(k)]
    else:
        fine = [k for k in ("load", "parse", "citations", "render") if k in timings]
        parts = [(k, timings[k]) for k in (fine or [k for k in ("prepare",) if k in timings])]
        formats = [k for k in ("pdf", "epub", "html") if k in timings]
        done = sum(v for _, v in parts)
        if len(formats) > 1 and total:
            parts.append(("formats (concurrent)", max(0.0, total - done)))
        else:
            parts += [(k, timings[k]) for k in formats]
    inside = sum(v for _, v in parts)
    if total and total > inside + 0.005:
        parts.append(("other", total - inside))
        inside = total
    return [("start-up and exit", wall - inside)] + parts if wall > inside else parts


def write_doc(body: str) -> None:
    block = f"{START}\n{body.rstrip()}\n{END}\n"
    if DOC.exists():
        text = DOC.read_text(encoding="utf-8")
        if START in text and END in text:
            before, rest = text.split(START, 1)
            after = rest.split(END, 1)[1].lstrip("\n")
            DOC.write_text(before + block + ("\n" + after if after else ""), encoding="utf-8")
            return
    DOC.write_text("# Benchmarks\n\n" + block, encoding="utf-8")


# --- command line ------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--job", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default="small,medium,large",
                        help="comma-separated: small, medium, large (default: all three)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions; medians are reported")
    parser.add_argument("--formats", default="pdf,epub,html",
                        help="formats to build and compare (default: pdf,epub,html)")
    parser.add_argument("--style", default="apa", help="CSL style for us and pandoc (default apa)")
    parser.add_argument("--theme", default="book", help="our theme (default book)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", help="comma-separated jobs to run: " + ", ".join(JOB_ORDER))
    parser.add_argument("--write", action="store_true",
                        help="write docs/benchmarks.md and docs/benchmarks.png")
    parser.add_argument("--work", type=Path, help="work folder (default: a new temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder and every output")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed per job")
    parser.add_argument("--results", type=Path, help="also save the raw measurements (JSON) here")
    parser.add_argument("--replot", type=Path, metavar="RESULTS",
                        help="no run: print (and with --write, write) the tables of saved results")
    args = parser.parse_args(argv)
    if args.job:
        return job_main(args.job)
    if args.replot:
        return publish(json.loads(args.replot.read_text()), args.write)
    args.sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in args.sizes if s not in ALL_SIZES]
    if unknown:
        parser.error(f"unknown size {unknown[0]} (choose from {', '.join(ALL_SIZES)})")
    if args.only:
        bad = [j for j in args.only.split(",") if j not in JOB_ORDER]
        if bad:
            parser.error(f"unknown job {bad[0]} (choose from {', '.join(JOB_ORDER)})")
    work = args.work or Path(tempfile.mkdtemp(prefix="builder-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    runner = Runner(args, work)
    print(f"work folder: {work}; "
          f"pandoc: {runner.pandoc or 'not found (pip install pypandoc-binary)'}; "
          f"CSL: {runner.csl}", flush=True)
    load_before = os.getloadavg()
    try:
        runner.run()
    finally:
        if not args.keep and not args.work:
            shutil.rmtree(work, ignore_errors=True)
    data = {"machine": machine(runner, load_before, os.getloadavg()), "sizes": args.sizes,
            "jobs": runner.jobs, "results": runner.results,
            "books": {size: {k: v for k, v in info.items()
                             if k in ("stats", "pages", "weasyprint_pages", "pdf_input")}
                      for size, info in runner.books.items()}}
    if args.results:
        args.results.write_text(json.dumps(data, indent=1))
    return publish(data, args.write)


def publish(data: dict, write: bool) -> int:
    body = tables(data)
    print("\n" + data["machine"] + "\n\n" + body)
    if write:
        write_doc("## Results\n\n" + data["machine"]
                  + "\n\n![Time per stage and per tool](benchmarks.png)\n\n" + body)
        chart(data, CHART)
        print(f"wrote {DOC.relative_to(ROOT)} and {CHART.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
