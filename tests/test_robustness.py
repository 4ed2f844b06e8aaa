"""Killed and concurrent builds: dist/ only ever holds complete files.

Real processes, real signals: a build is killed with SIGKILL while WeasyPrint
writes the PDF, two builds write the same dist/ at once, and a build runs while
another process holds a live temporary for the same target.
"""
from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from lxml import html as lxml_html

from conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.external]  # builds killed and raced in subprocesses

pypdf = pytest.importorskip("pypdf")

TITLE = "Robust Book"
SLUG = "robust-book"
WORDS = ("policy relations cooperation treaty energy security trade region council "
         "agreement ministry reform growth dialogue partnership investment").split()


def _project(root: Path, paragraphs: int) -> Path:
    """A one-file book with a citation, an image and ``paragraphs`` paragraphs of text."""
    (root / "book").mkdir(parents=True, exist_ok=True)
    (root / "bibliography").mkdir(exist_ok=True)
    (root / "bibliography" / "refs.json").write_text(
        '[{"id": "doe2020", "type": "book", "title": "Robust Systems", '
        '"author": [{"family": "Doe", "given": "Jan"}], "issued": {"date-parts": [[2020]]}}]\n',
        encoding="utf-8")
    (root / "book" / "dot.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20">'
        '<circle cx="10" cy="10" r="8"/></svg>', encoding="utf-8")
    rng = random.Random(paragraphs)
    parts = ["![A dot](dot.svg)", "As @doe2020 shows [see @doe2020, p. 4]."]
    for n in range(paragraphs):
        if n % 40 == 0:
            parts.append(f"## Part {n // 40 + 1}")
        parts.append(" ".join(rng.choice(WORDS) for _ in range(70)) + ".")
    (root / "book" / "book.md").write_text(
        f"---\ntitle: {TITLE}\nlang: en\n---\n\n" + "\n\n".join(parts) + "\n", encoding="utf-8")
    return root


def _builder(*args: str) -> list[str]:
    return [sys.executable, "-m", "builder", "build", *args]


def _env() -> dict[str, str]:
    return {**os.environ, "SOURCE_DATE_EPOCH": "1600000000"}


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_builder(*args), cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env=_env())


def _temporaries(folder: Path) -> list[Path]:
    return sorted(folder.glob(".*.tmp")) if folder.is_dir() else []


def _check_pdf(path: Path, text: str = TITLE) -> int:
    reader = pypdf.PdfReader(path, strict=True)
    assert text in reader.pages[0].extract_text()
    return len(reader.pages)


def _check_epub(path: Path) -> None:
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        assert archive.namelist()[0] == "mimetype"
        assert archive.read("mimetype") == b"application/epub+zip"
        assert "META-INF/container.xml" in archive.namelist()


def _check_html(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.rstrip().endswith("</html>")
    document = lxml_html.document_fromstring(text)
    assert document.findtext(".//title").startswith(TITLE)
    assert document.get_element_by_id("refs") is not None


def _wait_for(condition, process: subprocess.Popen[str], timeout: float = 600.0) -> bool:
    """Poll ``condition`` every 10 ms while ``process`` runs; False if it ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if process.poll() is not None:
            return bool(condition())
        time.sleep(0.01)
    process.kill()
    pytest.fail(f"nothing happened within {timeout:.0f} s")


@pytest.mark.skipif(not hasattr(signal, "SIGKILL") or not hasattr(os, "killpg"),
                    reason="this platform has no SIGKILL")
@pytest.mark.parametrize("who", ["the whole build", "the main process, PDF not forked",
                                 "the main process, PDF forked"])
def test_a_build_killed_while_writing_the_pdf_leaves_the_previous_outputs(tmp_path, who):
    """SIGKILL while WeasyPrint writes the PDF: to the build's process group (as a
    terminal or a service manager kills a build), or to the one process that lays
    out the PDF itself (BUILDER_NO_FORK), or the main process alone while its forked
    child lays out the PDF: the child must not outlive it."""
    from builder.outputs import target_name

    project = _project(tmp_path / "book-project", paragraphs=20)
    out = tmp_path / "dist"
    first = _run(str(project), "--out", str(out), "--quiet")
    assert first.returncode == 0, first.stderr
    good = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert sorted(good) == [f"{SLUG}.epub", f"{SLUG}.html", f"{SLUG}.pdf"]

    # A long book: WeasyPrint lays it out for seconds, then writes for seconds.
    _project(project, paragraphs=1200)
    env = _env()
    if who == "the main process, PDF not forked":
        env["BUILDER_NO_FORK"] = "1"
    process = subprocess.Popen(_builder(str(project), "--out", str(out), "--quiet"), cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env, start_new_session=True)

    def writing_pdf() -> bool:  # WeasyPrint's write_pdf has its temporary file open
        return any(target_name(p.name) == f"{SLUG}.pdf" and not p.name.endswith(".staged.tmp")
                   for p in _temporaries(out))
    def laying_out_pdf() -> bool:  # the EPUB and HTML staged: the child lays out the PDF
        return any(p.name.endswith(".staged.tmp") and target_name(p.name) == f"{SLUG}.html"
                   for p in _temporaries(out))
    try:
        assert _wait_for(laying_out_pdf if who == "the main process, PDF forked"
                         else writing_pdf, process), \
            f"the build ended before writing the PDF: {process.communicate()}"
        if who == "the whole build":
            os.killpg(process.pid, signal.SIGKILL)
        else:
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
        if who == "the main process, PDF forked":  # the child dies with its parent
            def group_gone() -> bool:
                try:
                    os.killpg(process.pid, 0)
                except ProcessLookupError:
                    return True
                return False
            deadline = time.monotonic() + 3  # the layout alone would take longer
            while not group_gone() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert group_gone(), "the forked PDF process outlived the build"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
    assert process.returncode == -signal.SIGKILL
    assert _temporaries(out), "a killed build leaves its temporaries: the next build removes them"

    # The previous outputs are exactly as they were, and still open.
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()
            and not p.name.endswith(".tmp")} == good
    assert _check_pdf(out / f"{SLUG}.pdf") >= 1
    _check_epub(out / f"{SLUG}.epub")
    _check_html(out / f"{SLUG}.html")

    # The next build (after an edit) succeeds and leaves no temporary behind.
    _project(project, paragraphs=21)
    again = _run(str(project), "--out", str(out), "--quiet")
    assert again.returncode == 0, again.stderr
    assert _temporaries(out) == []
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == sorted(good)
    assert _check_pdf(out / f"{SLUG}.pdf") >= 1


def test_two_builds_of_one_project_at_once_write_complete_files(tmp_path):
    project = _project(tmp_path / "book-project", paragraphs=150)
    out = project / "dist"
    processes = [subprocess.Popen(_builder(str(project), "--quiet"), cwd=ROOT, env=_env(),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(2)]
    results = [(p.wait(timeout=600), *p.communicate()) for p in processes]
    for code, _, stderr in results:
        assert "Traceback" not in stderr
        # each either succeeds or fails cleanly, on one line
        assert code == 0 or (code == 1 and len(stderr.strip().splitlines()) == 1), stderr
    assert any(code == 0 for code, _, _ in results), results
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == [
        f"{SLUG}.epub", f"{SLUG}.html", f"{SLUG}.pdf"]
    assert _check_pdf(out / f"{SLUG}.pdf") > 3
    _check_epub(out / f"{SLUG}.epub")
    _check_html(out / f"{SLUG}.html")
    assert _temporaries(out) == []


HOLDER = """
import sys
from pathlib import Path
from builder.outputs import atomic_path
with atomic_path(Path(sys.argv[1])) as tmp:
    tmp.write_bytes(b"%PDF-1.7 from the other build")
    print(tmp, flush=True)
    sys.stdin.readline()  # hold the temporary until told to finish
"""


def test_a_build_leaves_the_live_temporary_of_another_build_alone(tmp_path):
    """Another process writing the same target holds a temporary; a whole build runs and
    finishes meanwhile; the other process's rename still works, and a dead process's
    temporary is gone."""
    project = _project(tmp_path / "book-project", paragraphs=5)
    out = tmp_path / "dist"
    out.mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "import os; print(os.getpid())"],
                            stdout=subprocess.PIPE, text=True)
    dead_pid = int(dead.communicate()[0])
    from builder.outputs import _host
    stale = out / f".{SLUG}.pdf.{_host()}.{dead_pid}.abcdefgh.tmp"
    stale.write_bytes(b"half a PDF")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(out / f"{SLUG}.pdf")], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        live = Path(holder.stdout.readline().strip())
        assert live.is_file() and str(holder.pid) in live.name
        result = _run(str(project), "--out", str(out), "--to", "pdf", "--quiet")
        assert result.returncode == 0, result.stderr
        assert not stale.exists()  # its process is gone
        assert live.is_file()  # its process still runs
        _check_pdf(out / f"{SLUG}.pdf")
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert holder.wait(timeout=60) == 0
    finally:
        holder.kill()
        holder.communicate()
    assert (out / f"{SLUG}.pdf").read_bytes() == b"%PDF-1.7 from the other build"
    assert _temporaries(out) == []


_STOPPED_CHILD = r'''
import sys, time
from pathlib import Path
from builder.outputs import atomic_path, remove_stale_temporaries
from builder.processes import Background

class Slow:  # most of the child's time is spent in finalizers, where a raised exit is ignored
    def __del__(self):
        deadline = time.perf_counter() + 0.002
        while time.perf_counter() < deadline:
            pass

out = Path(sys.argv[1])
dest = out / ".book.pdf.1.staged.tmp"

def writer(seen):
    with atomic_path(dest) as tmp:
        tmp.write_bytes(b"%PDF-1.7 partial")
        while True:
            Slow()

background = Background(writer, "the PDF process", "--to pdf")
deadline = time.monotonic() + 30
while not any(p.name.startswith("..book.pdf.1.staged.tmp.") for p in out.iterdir()):
    assert time.monotonic() < deadline, "the child never wrote"
    time.sleep(0.01)
time.sleep(0.2)
background.stop()
remove_stale_temporaries(out)  # as the build does after it
print(sorted(p.name for p in out.iterdir()))
'''


def test_a_stopped_pdf_process_exits_at_once_and_leaves_nothing(tmp_path):
    """The forked PDF writer, stopped (another format failed, Ctrl-C) wherever it is,
    even inside a finalizer, exits silently; its temporary file is removed."""
    out = tmp_path / "dist"
    out.mkdir()
    for _ in range(3):
        run = subprocess.run([sys.executable, "-c", _STOPPED_CHILD, str(out)], cwd=ROOT,
                             capture_output=True, text=True, timeout=30)
        assert (run.returncode, run.stderr, run.stdout) == (0, "", "[]\n")
