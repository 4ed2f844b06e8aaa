"""``builder preview``: the server (in this process, over real HTTP), and the whole loop in
a real browser: Debian's chromium driven through chromedriver by Selenium.

Selenium rather than playwright-core: it is a Python library (a test extra, no node
project to keep), it drives the chromium and chromedriver Debian packages together (the
same version, from the same source package), and given chromedriver's path it never
runs Selenium Manager, so nothing is downloaded.  Where chromium, chromedriver or
Selenium are missing the browser test is skipped with the reason; under CI it fails.
"""
from __future__ import annotations

import email.utils
import http.client
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from builder.build import BuildRequest
from builder.preview import HOST, Preview, _handler, _Server, error_page, inject

SAMPLE = Path(__file__).parent / "books" / "sample"
ROOT = Path(__file__).resolve().parent.parent
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
MISSING_KEY = "citation key '@nokey' is not in the bibliography (hint: add it to the " \
              "bibliography, or fix the key)"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(SAMPLE, tmp_path / "sample")
    return tmp_path / "sample"


@pytest.fixture
def served(project: Path) -> Iterator[tuple[Preview, int]]:
    """A preview of the sample (one page per chapter) on a free port of 127.0.0.1."""
    preview = Preview(BuildRequest(project_root=project, html_split="chapter"))
    assert preview.rebuild().ok
    server = _Server((HOST, 0), _handler(preview))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield preview, server.server_address[1]
    finally:
        preview.stop()
        server.shutdown()
        server.server_close()


def _get(port: int, path: str, **headers: str) -> tuple[int, str, bytes]:
    """A GET of exactly ``path`` (no client-side normalisation of ``..``)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    connection.request("GET", path, headers={k.replace("_", "-"): v for k, v in headers.items()})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, response.getheader("Content-Type") or "", body


def test_the_page_is_the_output_with_the_reload_script_added(served: tuple[Preview, int],
                                                            project: Path) -> None:
    preview, port = served
    for path, name in (("/", "index.html"), ("/02-methods.html", "02-methods.html")):
        written = (project / "dist" / name).read_text(encoding="utf-8")
        assert "<script" not in written  # (never in dist/: added when served)
        status, kind, body = _get(port, path)
        assert (status, kind, body.decode()) == (
            200, "text/html; charset=utf-8", inject(written, preview.shown.version))
    image = project / "dist" / "images" / "water-use.svg"
    status, kind, body = _get(port, "/images/water-use.svg")
    assert (status, kind, body) == (200, "image/svg+xml", image.read_bytes())
    # the browser keeps fonts and images, and asks whether they changed at each reload
    stamp = email.utils.formatdate(image.stat().st_mtime, usegmt=True)
    assert _get(port, "/images/water-use.svg", If_Modified_Since=stamp) == (304, "", b"")


def test_only_files_of_the_output_folder_are_served(served: tuple[Preview, int],
                                                    project: Path, tmp_path: Path) -> None:
    _, port = served
    outside = tmp_path / "secret.txt"
    outside.write_text("secret", encoding="utf-8")
    (project / "dist" / "leak.txt").symlink_to(outside)
    (project / "dist" / ".hidden").write_text("x", encoding="utf-8")
    paths = ["/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc%2fpasswd",
             "/fonts/../../book/book.yml", "/%2e%2e/book/book.yml", "//etc/passwd",
             "/images/..%5c..%5cbook%5cbook.yml", "/leak.txt", "/.hidden",
             "/.cache/builder", "/fonts", "/fonts/", "/nothing.html", "/images/water-use.svg"]
    assert [(path, _get(port, path)[0]) for path in paths] == [
        (path, 200 if path == "/images/water-use.svg" else 404) for path in paths]


def test_a_failed_build_is_shown_with_file_and_line_then_the_page_again(
        served: tuple[Preview, int], project: Path) -> None:
    preview, port = served
    chapter = project / "book" / "02-methods.md"
    text = chapter.read_text(encoding="utf-8")
    chapter.write_text(text.replace("once in August,", "once in August [@nokey],"),
                       encoding="utf-8")
    before = preview.shown.version
    assert not preview.rebuild().ok
    errors = (f"{chapter}:17:63: error: {MISSING_KEY}",)
    assert preview.shown.errors == errors and preview.shown.version == before + 1
    for path in ("/", "/02-methods.html", "/01-introduction.html"):
        assert _get(port, path) == (200, "text/html; charset=utf-8",
                                    error_page(errors, before + 1).encode())
    chapter.write_text(text, encoding="utf-8")
    assert preview.rebuild().ok
    status, _, body = _get(port, "/02-methods.html")
    written = (project / "dist" / "02-methods.html").read_text(encoding="utf-8")
    assert (status, body.decode(), preview.shown.version) == (
        200, inject(written, before + 2), before + 2)


def test_the_event_stream_tells_each_version(served: tuple[Preview, int],
                                             project: Path) -> None:
    preview, port = served
    events: queue.Queue[str] = queue.Queue()

    def listen() -> None:
        with urllib.request.urlopen(f"http://{HOST}:{port}/__builder/events",
                                    timeout=60) as stream:
            for line in stream:
                if line.startswith(b"data:"):
                    events.put(line.decode().strip())

    threading.Thread(target=listen, daemon=True).start()
    first = events.get(timeout=30)
    chapter = project / "book" / "04-conclusion.md"
    chapter.write_text(chapter.read_text(encoding="utf-8") + "\nOne more line.\n",
                       encoding="utf-8")
    assert preview.rebuild().ok
    assert preview.rebuild().ok  # nothing changed: no new version
    chapter.write_text(chapter.read_text(encoding="utf-8") + "\nAnd another.\n",
                       encoding="utf-8")
    assert preview.rebuild().ok
    assert [first, events.get(timeout=30), events.get(timeout=30)] == [
        "data: 1", "data: 2", "data: 3"]
    assert events.empty()


# --- the whole loop, in chromium ---------------------------------------------------------

def _browser_missing() -> str | None:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        return ("Debian's chromium and chromium-driver are not installed "
                "(sudo apt-get install chromium chromium-driver)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    reason = _browser_missing()
    if reason:
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(f"{reason}; CI is set, and CI must run the browser test")
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--window-size=1280,900",
                 f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


class _Running:
    """``builder preview`` as a subprocess, its output read line by line in a thread."""

    def __init__(self, project: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "builder", "preview", str(project), "--port", "0",
             "--html-split", "chapter"], cwd=project, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)})
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        assert self.process.stdout is not None
        self.reader = threading.Thread(target=self._read, args=(self.process.stdout,),
                                       daemon=True)
        self.reader.start()

    def _read(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self.lines.put(line.rstrip("\n"))

    def url(self) -> str:
        """The address it prints once its first build is done."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                assert self.process.poll() is None, self.process.stderr.read()  # type: ignore
                continue
            self.seen.append(line)
            if line.startswith("serving "):
                return line.split()[1]
        raise AssertionError(f"no address printed: {self.seen}")

    def stop(self) -> tuple[int, list[str], str]:
        """Ctrl-C: its exit status, its output, its errors."""
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=60)
        stderr = self.process.stderr.read()  # type: ignore[union-attr]
        self.reader.join(timeout=30)  # (the rest of its output: the reader has it all)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return self.process.returncode, self.seen, stderr


def _wait(driver: object, check: object, seconds: float) -> float:
    """Poll ``check(driver)`` until it is true (no fixed sleep); the seconds it took."""
    from selenium.webdriver.support.ui import WebDriverWait
    start = time.monotonic()
    WebDriverWait(driver, seconds, poll_frequency=0.05,
                  ignored_exceptions=(Exception,)).until(check)  # type: ignore[arg-type]
    return time.monotonic() - start


@pytest.mark.slow
@pytest.mark.external
def test_preview_in_a_browser(browser: object, project: Path) -> None:
    from selenium.webdriver.common.by import By
    driver = browser
    running = _Running(project)
    try:
        url = running.url()
        assert url.startswith("http://127.0.0.1:")
        driver.get(url + "01-introduction.html")  # type: ignore[attr-defined]

        def h1(d: object) -> str:
            return d.find_element(By.CSS_SELECTOR, "section.chapter h1").text  # type: ignore

        assert h1(driver) == "Introduction"
        # the site: next leads to chapter 2, a citation there to its entry on the references page
        driver.find_element(By.CSS_SELECTOR, "nav.site-pager a.site-next").click()  # type: ignore
        _wait(driver, lambda d: h1(d) == "Methods", 10)
        assert driver.current_url == url + "02-methods.html"  # type: ignore[attr-defined]
        driver.find_element(  # type: ignore[attr-defined]
            By.CSS_SELECTOR, "span.citation[data-cites='council-2020'] a").click()
        _wait(driver, lambda d: d.current_url.endswith("#ref-council-2020"), 10)
        assert driver.current_url == url + "references.html#ref-council-2020"  # type: ignore
        target = driver.find_element(By.CSS_SELECTOR, ":target")  # type: ignore
        assert (target.get_attribute("id"), target.text.split(".")[0]) == (
            "ref-council-2020", "Regional Water Council")

        # an edit of chapter 2 is in the page within 3 s
        driver.get(url + "02-methods.html")  # type: ignore[attr-defined]
        _wait(driver, lambda d: h1(d) == "Methods", 10)
        chapter = project / "book" / "02-methods.md"
        text = chapter.read_text(encoding="utf-8")
        chapter.write_text(text.replace("lists the rivers", "lists the seven rivers"),
                           encoding="utf-8")
        body = (By.TAG_NAME, "body")
        took = _wait(driver, lambda d: "lists the seven rivers" in d.find_element(*body).text, 3)
        assert took < 3

        # a missing citation key: the error, with its file and line, in the page
        broken = text.replace("once in August,", "once in August [@nokey],")
        chapter.write_text(broken, encoding="utf-8")
        _wait(driver, lambda d: d.find_elements(By.ID, "builder-errors"), 10)
        errors = [li.text for li in driver.find_elements(  # type: ignore[attr-defined]
            By.CSS_SELECTOR, "#builder-errors li")]
        assert errors == [f"book/02-methods.md:17:63: error: {MISSING_KEY}"]
        assert driver.find_element(By.ID, "builder-errors-title").text == (  # type: ignore
            "The build failed: 1 error")

        # fixed: the page comes back
        chapter.write_text(text, encoding="utf-8")
        _wait(driver, lambda d: h1(d) == "Methods" and not d.find_elements(By.ID,
                                                                          "builder-errors"), 10)
        assert "lists the rivers" in driver.find_element(*body).text  # type: ignore

        # the PDF, built when asked for
        with urllib.request.urlopen(url + "book.pdf", timeout=300) as response:
            assert (response.headers["Content-Type"], response.read(5)) == (
                "application/pdf", b"%PDF-")
    finally:
        status, out, stderr = running.stop()
    assert (status, out[-1], "Traceback" in stderr) == (0, "preview stopped", False), stderr
    assert len(out) >= 5 and "build failed (book/02-methods.md changed): 1 error" in out[-3]


@pytest.mark.slow
@pytest.mark.external
def test_build_watch_rebuilds_on_each_save_until_ctrl_c(project: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "builder", "build", "--to", "html", "--watch"], cwd=project,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line.rstrip("\n"))
                                              for line in process.stdout],  # type: ignore
                              daemon=True)
    reader.start()

    def until(prefix: str) -> list[str]:
        seen: list[str] = []
        while not seen or prefix not in seen[-1]:
            try:
                seen.append(lines.get(timeout=60))
            except queue.Empty:
                raise AssertionError(f"no line with '{prefix}' after {seen}") from None
        return seen

    try:
        first = until("watching")
        chapter = project / "book" / "02-methods.md"
        text = chapter.read_text(encoding="utf-8")
        chapter.write_text(text.replace("once in August,", "once in August [@nokey],"),
                           encoding="utf-8")
        failed = until("build failed")
        chapter.write_text(text.replace("once in August,", "once in late August,"),
                           encoding="utf-8")
        fixed = until("changed)")
        chapter.write_text(text, encoding="utf-8")
        fixed += until("changed)")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
    stderr = process.stderr.read()  # type: ignore[union-attr]
    reader.join(timeout=30)
    rest = [lines.get() for _ in range(lines.qsize())]
    clock = r"\d\d:\d\d:\d\d"
    import re
    shown = [re.sub(clock, "HH:MM:SS", re.sub(r"\(\d+\.\d s\)", "(N s)", line))
             for line in [*first, *failed, *fixed, *rest]]
    assert (shown, process.returncode, stderr) == ([
        "HH:MM:SS built dist/rivers-and-cities.html (N s)",
        "watching . for changes (Ctrl-C to stop)",
        f"book/02-methods.md:17:63: error: {MISSING_KEY}",
        "HH:MM:SS build failed (book/02-methods.md changed): 1 error; waiting for the next save",
        "HH:MM:SS built dist/rivers-and-cities.html (N s) (book/02-methods.md changed)",
        "HH:MM:SS built dist/rivers-and-cities.html (N s) (book/02-methods.md changed)",
        "stopped watching"], 0, "")


def test_a_port_in_use_is_one_line_before_any_build(project: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from builder.cli import main
    taken = _Server((HOST, 0), _handler(Preview(BuildRequest(project_root=project))))
    try:
        port = taken.server_address[1]
        assert main(["preview", str(project), "--port", str(port)]) == 2
    finally:
        taken.server_close()
    assert capsys.readouterr() == ("", f"error: cannot listen on 127.0.0.1:{port}: Address "
                                   "already in use (hint: choose another port with --port "
                                   "(0: any free one))\n")
    assert not (project / "dist").exists()


def test_the_single_page_is_served_at_the_root(project: Path) -> None:
    preview = Preview(BuildRequest(project_root=project))
    assert preview.rebuild().ok
    server = _Server((HOST, 0), _handler(preview))
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        written = (project / "dist" / "rivers-and-cities.html").read_text(encoding="utf-8")
        assert _get(server.server_address[1], "/") == (
            200, "text/html; charset=utf-8", inject(written, preview.shown.version).encode())
    finally:
        preview.stop()
        server.shutdown()
        server.server_close()
