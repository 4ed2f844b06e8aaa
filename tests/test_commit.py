"""All formats or none: a full disk, a failed rename, SIGTERM and a crash of the PDF
writer each end a build in one line, with dist/ byte for byte as it was.

Real builds through the real command line.  The disk-full cases put the output folder
on a small tmpfs (mounting one needs root: they are skipped otherwise) and fill it;
the crash is WeasyPrint's own (an SVG image whose viewBox has three numbers), nothing
is mocked.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import resource
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import ROOT
from test_robustness import SLUG, _builder, _env, _project, _run, _temporaries, _wait_for

pytestmark = [pytest.mark.slow, pytest.mark.external]  # real builds in subprocesses

FULL = ("error: cannot write the outputs: {reason} (hint: free some space on that disk, "
        "or choose another folder with --out)\n")
CRASH = ("error: the PDF writer failed: IndexError: tuple index out of range (hint: build "
         "again with --debug to see where, and report it)\n")
TERMINATED = "builder: terminated; the previous outputs are unchanged\n"
BAD_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1"><circle r="1"/></svg>\n'


def _tree(folder: Path) -> dict[str, str]:
    """Every file (its SHA-256) and folder under ``folder``, hidden ones too."""
    found = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        found[name] = "folder" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _all_temporaries(folder: Path) -> list[Path]:
    return sorted(folder.rglob(".*.tmp"))


@contextlib.contextmanager
def _tmpfs(where: Path, options: str) -> Iterator[Path]:
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs ({mounted.stderr.strip() or 'not root'}): the "
                    f"disk-full tests need root")
    try:
        yield where
    finally:
        if subprocess.run(["umount", str(where)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(where)], capture_output=True)


def _fill(disk: Path, leave: int) -> None:
    """Fill ``disk`` until the kernel refuses, then give back ``leave`` bytes."""
    filler = disk / "filler"
    with open(filler, "ab", buffering=0) as handle:
        for size in (65536, 4096, 1):
            with contextlib.suppress(OSError):
                while handle.write(b"x" * size):
                    pass
    os.truncate(filler, max(filler.stat().st_size - leave, 0))


def _good_build(tmp_path: Path, out: Path, paragraphs: int = 20) -> Path:
    project = _project(tmp_path / "book-project", paragraphs=paragraphs)
    first = _run(str(project), "--out", str(out), "--quiet")
    assert (first.returncode, first.stderr) == (0, "")
    assert sorted(p.name for p in out.iterdir()) == [
        "book", "fonts", f"{SLUG}.epub", f"{SLUG}.html", f"{SLUG}.pdf"]
    return project


@pytest.mark.parametrize("leave", [0, 96 * 1024], ids=["no space at all",
                                                      "room for part of the outputs"])
def test_a_full_disk_while_staging_leaves_dist_as_it_was(tmp_path, leave):
    with _tmpfs(tmp_path / "disk", "size=8m") as disk:
        out = disk / "dist"
        project = _good_build(tmp_path, out)
        _project(project, paragraphs=30)  # an edit: every format is written again
        before = _tree(out)
        _fill(disk, leave)
        result = _run(str(project), "--out", str(out), "--quiet")
        assert (result.returncode, result.stderr) == (
            1, f"{out}: " + FULL.format(reason="No space left on device"))
        assert _tree(out) == before
        assert _all_temporaries(disk) == []

        (disk / "filler").unlink()  # with room again, the next build goes through
        again = _run(str(project), "--out", str(out), "--quiet")
        assert (again.returncode, again.stderr) == (0, "")
        assert _tree(out) != before
        assert _all_temporaries(disk) == []


def test_no_inode_left_for_the_commit_puts_the_new_files_back_out(tmp_path):
    """A tmpfs of few inodes, with exactly as many left as staging needs: the staged
    files fit, the first hard link that keeps a previous output does not (tmpfs counts
    a link as an inode), after the new image and its new folder are in place."""
    with _tmpfs(tmp_path / "disk", "size=16m,nr_inodes=400") as disk:
        out = disk / "dist"
        project = _good_build(tmp_path, out)
        (project / "book" / "figures").mkdir()
        (project / "book" / "figures" / "new.svg").write_text(
            (project / "book" / "dot.svg").read_text().replace('r="8"', 'r="5"'))
        text = (project / "book" / "book.md").read_text()
        (project / "book" / "book.md").write_text(text + "\n![A new dot](figures/new.svg)\n")
        before = _tree(out)
        staged = 5  # figures/ and figures/new.svg, the PDF, the EPUB, the page
        for n in range(os.statvfs(disk).f_favail - staged):
            (disk / f"inode{n}").touch()
        assert os.statvfs(disk).f_favail == staged
        result = _run(str(project), "--out", str(out), "--quiet")
        assert (result.returncode, result.stderr) == (
            1, f"{out}: " + FULL.format(reason="No space left on device"))
        assert _tree(out) == before
        assert _all_temporaries(disk) == []


def test_a_file_too_large_for_the_limit_is_one_line(tmp_path):
    """EFBIG: the process may not write files past 20 KB (RLIMIT_FSIZE; Python ignores
    SIGXFSZ, so the write fails instead)."""
    out = tmp_path / "dist"
    project = _good_build(tmp_path, out)
    _project(project, paragraphs=30)
    before = _tree(out)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
    result = subprocess.run(_builder(str(project), "--out", str(out), "--quiet", "--no-cache"),
                            cwd=ROOT, capture_output=True, text=True, timeout=600, env=_env(),
                            preexec_fn=limit)
    assert (result.returncode, result.stderr) == (
        1, f"{out}: " + FULL.format(reason="File too large"))
    assert _tree(out) == before
    assert _all_temporaries(out) == []


def test_a_rename_that_fails_halfway_through_the_commit_puts_every_file_back(tmp_path):
    """A folder stands where the page goes: the new image (in a new folder), the PDF and
    the EPUB are in place when the page's rename fails; each is put back, the new ones
    removed."""
    out = tmp_path / "dist"
    project = _good_build(tmp_path, out)
    (project / "book" / "figures").mkdir()
    (project / "book" / "figures" / "new.svg").write_text(
        (project / "book" / "dot.svg").read_text().replace('r="8"', 'r="5"'))
    text = (project / "book" / "book.md").read_text()
    (project / "book" / "book.md").write_text(text + "\n![A new dot](figures/new.svg)\n")
    (out / f"{SLUG}.html").unlink()
    (out / f"{SLUG}.html").mkdir()
    (out / f"{SLUG}.html" / "index.html").write_text("someone's folder")
    before = _tree(out)
    result = _run(str(project), "--out", str(out), "--quiet")
    assert (result.returncode, result.stderr) == (
        1, f"{out}: error: cannot put {SLUG}.html in place: Is a directory (hint: the previous "
           f"outputs are back; check what is in the output folder, or choose another with "
           f"--out)\n")
    assert _tree(out) == before
    assert _all_temporaries(out) == []


@pytest.mark.parametrize("who", ["the main process, PDF forked", "the process group",
                                 "the main process, PDF not forked"])
def test_sigterm_while_the_pdf_is_laid_out_is_one_line_and_exit_143(tmp_path, who):
    from builder.outputs import target_name
    out = tmp_path / "dist"
    project = _good_build(tmp_path, out)
    before = _tree(out)
    _project(project, paragraphs=1200)  # WeasyPrint lays it out for seconds
    env = _env()
    if who == "the main process, PDF not forked":
        env["BUILDER_NO_FORK"] = "1"
    process = subprocess.Popen(_builder(str(project), "--out", str(out), "--quiet"), cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env, start_new_session=True)

    def laying_out_pdf() -> bool:  # the EPUB and the page staged, the PDF not yet
        names = [target_name(p.name) for p in _temporaries(out)
                 if p.name.endswith(".staged.tmp")]
        return f"{SLUG}.epub" in names and f"{SLUG}.html" in names

    def writing_pdf() -> bool:  # (not forked: the PDF comes first) WeasyPrint writes it
        return any(target_name(p.name) == f"{SLUG}.pdf" and not p.name.endswith(".staged.tmp")
                   for p in _temporaries(out))
    try:
        assert _wait_for(writing_pdf if "not forked" in who else laying_out_pdf, process), \
            f"the build ended before the PDF: {process.communicate()}"
        if "not forked" not in who:
            time.sleep(0.5)  # well inside WeasyPrint's layout
        if who == "the process group":  # as a service manager stops a build
            os.killpg(process.pid, signal.SIGTERM)
        else:
            os.kill(process.pid, signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=60)
        deadline = time.monotonic() + 3  # the forked PDF process goes too
        while time.monotonic() < deadline:
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the PDF process outlived the build")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
    assert (process.returncode, stdout, stderr) == (143, "", TERMINATED)
    assert _tree(out) == before
    assert _all_temporaries(out) == []


@pytest.mark.parametrize("how", ["all formats, PDF forked", "--to pdf", "BUILDER_NO_FORK"])
def test_a_crash_inside_weasyprint_is_one_line(tmp_path, how):
    out = tmp_path / "dist"
    project = _good_build(tmp_path, out)
    (project / "book" / "bad.svg").write_text(BAD_SVG)
    text = (project / "book" / "book.md").read_text()
    (project / "book" / "book.md").write_text(text + "\n![A broken chart](bad.svg)\n")
    before = _tree(out)
    args = [str(project), "--out", str(out), "--quiet"]
    env = _env()
    if how == "--to pdf":
        args += ["--to", "pdf"]
    elif how == "BUILDER_NO_FORK":
        env["BUILDER_NO_FORK"] = "1"
    result = subprocess.run(_builder(*args), cwd=ROOT, capture_output=True, text=True,
                            timeout=600, env=env)
    assert (result.returncode, result.stderr) == (1, CRASH)
    assert _tree(out) == before
    assert _all_temporaries(out) == []

    debug = subprocess.run(_builder(*args, "--debug"), cwd=ROOT, capture_output=True,
                           text=True, timeout=600, env=env)
    lines = debug.stderr.splitlines()
    assert debug.returncode == 1
    assert lines[0] == "Traceback (most recent call last):"
    assert any("weasyprint" in line for line in lines)
    assert lines[-2:] == ["IndexError: tuple index out of range", CRASH.rstrip("\n")]
    assert _tree(out) == before
