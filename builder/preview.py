"""``builder preview``: the book's HTML in the browser, rebuilt and reloaded on every save.

One process: the main thread builds once, then watches the project
(:class:`builder.watch.Saves`) and rebuilds the HTML after each save; a small HTTP server
(the standard library's, in a thread, on 127.0.0.1 only) serves the output folder.
Each page it serves gets a short script at serve time (never in ``dist/``: the outputs
stay free of scripts) that listens to ``/__builder/events``, a stream of server-sent
events, and reloads the page when a build has changed it.  A build that fails is shown
instead of the page, its errors one per line with their ``file:line``; the page comes
back when the error is fixed.  The PDF is built when it is asked for, at ``/book.pdf``
(or any ``/NAME.pdf``).  Only files of the output folder are served.
"""
from __future__ import annotations

import email.utils
import html
import http.server
import json
import logging
import mimetypes
import threading
import time
import webbrowser
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from .build import BuildRequest
from .errors import BuildError
from .watch import Outcome, Saves, Say, attempt, summary

log = logging.getLogger(__name__)
HOST = "127.0.0.1"  # never 0.0.0.0: a draft is nobody else's business
EVENTS = "/__builder/events"
KEEPALIVE = 10.0  # seconds between comments on an idle event stream


@dataclass
class _Shown:
    """What the browser should show: a page of the output folder, or the last errors."""

    version: int = 0
    page: str | None = None  # the HTML output's file name in the output folder
    errors: tuple[str, ...] = ()


class Preview:
    """The state the server and the watcher share: a lock around builds (a rebuild and a
    PDF asked for are never made at once) and a condition that wakes the event streams."""

    def __init__(self, request: BuildRequest) -> None:
        self.request = replace(request, formats=("html",))
        self.out_dir = (request.out_dir or request.project_root / "dist").resolve()
        self.building = threading.Lock()
        self.changed = threading.Condition()
        self.shown = _Shown()
        self.stopping = threading.Event()

    def rebuild(self) -> Outcome:
        with self.building:
            outcome = attempt(self.request)
        with self.changed:
            old = self.shown
            if outcome.result is not None:
                page = outcome.result.outputs["html"].name
                same = (not old.errors and old.page == page
                        and "html" in outcome.result.up_to_date)
                self.shown = replace(old, version=old.version + (0 if same else 1),
                                     page=page, errors=())
            else:
                errors = tuple(str(error) for error in outcome.errors)
                self.shown = replace(old, version=old.version + (old.errors != errors),
                                     errors=errors)
            self.changed.notify_all()
        return outcome

    def build_pdf(self) -> tuple[Path | None, tuple[str, ...]]:
        """The PDF, built now if anything changed since it was last built (the cache's
        record says), or the errors that stopped it."""
        with self.building:
            outcome = attempt(replace(self.request, formats=("pdf",)))
        if outcome.result is None:
            return None, tuple(str(error) for error in outcome.errors)
        return outcome.result.outputs["pdf"], ()

    def wait(self, version: int, timeout: float) -> _Shown:
        """The state once its version is other than ``version`` (or ``timeout`` passed)."""
        with self.changed:
            self.changed.wait_for(lambda: self.shown.version != version
                                  or self.stopping.is_set(), timeout)
            return self.shown

    def stop(self) -> None:
        self.stopping.set()
        with self.changed:
            self.changed.notify_all()


def serve(request: BuildRequest, port: int = 8000, say: Say = print,
          open_browser: bool = False) -> int:
    """``builder preview``: build, serve, rebuild on save, until Ctrl-C (exit status 0)."""
    preview = Preview(request)
    watcher = Saves(preview.request)
    try:
        return _serve(preview, watcher, port, say, open_browser)
    finally:
        watcher.stop()


def _serve(preview: Preview, watcher: Saves, port: int, say: Say, open_browser: bool) -> int:
    try:  # the port first: a port in use is said at once, not after a build
        server = _Server((HOST, port), _handler(preview))
    except OSError as exc:
        raise BuildError(f"cannot listen on {HOST}:{port}: {exc.strerror}",
                         hint="choose another port with --port (0: any free one)",
                         category="usage") from None
    thread = threading.Thread(target=server.serve_forever, args=(0.1,), name="preview-server",
                              daemon=True)
    try:
        for line in summary(preview.rebuild()):
            say(line)
        url = f"http://{HOST}:{server.server_address[1]}/"
        thread.start()
        say(f"serving {url} (the PDF at {url}book.pdf); watching for changes "
            "(Ctrl-C to stop)")
        if open_browser:
            webbrowser.open(url)
        for changed in watcher:
            for line in summary(preview.rebuild(), changed):
                say(line)
    except KeyboardInterrupt:
        pass
    finally:
        preview.stop()
        if thread.is_alive():  # (else shutdown would wait for serve_forever forever)
            server.shutdown()
        server.server_close()
    say("preview stopped")
    return 0


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True  # an open event stream does not keep the process alive

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("preview: a request failed", exc_info=True)  # (a browser gone: no traceback)


def _handler(preview: Preview) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(_Handler):
        pass
    Handler.preview = preview
    return Handler


class _Handler(http.server.BaseHTTPRequestHandler):
    preview: Preview
    server_version = "builder-preview"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("preview: " + format, *args)

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path)
        if path == EVENTS:
            self._events()
            return
        shown = self.preview.shown
        if path == "/":
            path = "/" + (shown.page or "index.html")
        if path.endswith(".pdf") and path.count("/") == 1:
            self._pdf()
            return
        if path.endswith(".html") and shown.errors:
            self._send(200, "text/html; charset=utf-8",
                       error_page(shown.errors, shown.version).encode())
            return
        target = self._inside(path)
        if target is None:
            self._send(404, "text/plain; charset=utf-8", b"not found\n")
            return
        if target.suffix == ".html":
            page = inject(target.read_text(encoding="utf-8"), shown.version)
            self._send(200, "text/html; charset=utf-8", page.encode())
            return
        # fonts and images: kept by the browser, asked again (304) at each reload
        modified = email.utils.formatdate(target.stat().st_mtime, usegmt=True)
        if self.headers.get("If-Modified-Since") == modified:
            self._send(304, "", b"", cache="no-cache")
            return
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        self._send(200, kind, target.read_bytes(), cache="no-cache",
                   headers={"Last-Modified": modified})

    def _inside(self, path: str) -> Path | None:
        """The file of the output folder ``path`` names, or None: no ``..``, no hidden
        files (the build's record), nothing a symlink leads outside."""
        parts = [part for part in path.split("/") if part]
        if not parts or any(part in ("..", ".") or part.startswith(".") or "\\" in part
                            for part in parts):
            return None
        root = self.preview.out_dir
        target = root.joinpath(*parts)
        try:
            resolved = target.resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if root not in resolved.parents or not resolved.is_file():
            return None
        return resolved

    def _pdf(self) -> None:
        pdf, errors = self.preview.build_pdf()
        if pdf is None:
            self._send(200, "text/html; charset=utf-8",
                       error_page(errors, self.preview.shown.version).encode())
            return
        self._send(200, "application/pdf", pdf.read_bytes())

    def _events(self) -> None:
        """Server-sent events: the version of what is shown, at once and at each change."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        preview = self.preview
        version = None
        try:
            while not preview.stopping.is_set():
                shown = preview.wait(version if version is not None else -1, KEEPALIVE)
                if shown.version != version:
                    version = shown.version
                    self.wfile.write(f"data: {version}\n\n".encode())
                else:
                    self.wfile.write(b": idle\n\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            return  # the page was closed or reloaded

    def _send(self, status: int, kind: str, data: bytes, cache: str = "no-store",
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        if kind:
            self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", cache)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


# --- what the browser gets besides the outputs ------------------------------------------

_SCRIPT = """<a id="builder-preview-pdf" href="/book.pdf" target="_blank" style="position: fixed;
 right: 1rem; bottom: 1rem; padding: 0.3em 0.7em; border-radius: 0.3em; background: #1f4e79;
 color: #fff; font: bold 0.8rem sans-serif; text-decoration: none; opacity: 0.85;">PDF</a>
<script id="builder-preview">
(function () {
  var shown = %s, key = "builder-preview-scroll:" + location.pathname;
  var kept = sessionStorage.getItem(key);
  if (kept !== null) { sessionStorage.removeItem(key); window.scrollTo(0, +kept); }
  var events = new EventSource("%s");
  events.onmessage = function (event) {
    if (event.data !== shown) {
      sessionStorage.setItem(key, String(window.scrollY));
      location.reload();
    }
  };
})();
</script>
"""


def inject(page: str, version: int) -> str:
    """The page as the preview serves it: a link to the PDF and the reload script before
    ``</body>``."""
    script = _SCRIPT % (json.dumps(str(version)), EVENTS)
    end = page.lower().rfind("</body>")
    if end < 0:
        return page + script
    return page[:end] + script + page[end:]


def error_page(errors: tuple[str, ...], version: int) -> str:
    """The page shown while the build fails: each error on its line (``file:line: ...``)."""
    lines = "\n".join(f"<li>{html.escape(line)}</li>" for line in errors)
    count = f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8" />
<title>Build failed: {count}</title>
<style>
body {{ font: 1rem/1.5 system-ui, sans-serif; margin: 2em auto; max-width: 60em;
       padding: 0 1em; color: #222; }}
h1 {{ color: #a40000; font-size: 1.4em; }}
ol {{ padding-left: 1.2em; }}
li {{ font-family: ui-monospace, monospace; white-space: pre-wrap; margin: 0.4em 0;
     background: #fff4f4; border-left: 3px solid #a40000; padding: 0.3em 0.6em; }}
</style>
</head>
<body>
<h1 id="builder-errors-title">The build failed: {count}</h1>
<ol id="builder-errors">
{lines}
</ol>
<p>Fix it and save: this page comes back by itself ({time.strftime("%H:%M:%S")}).</p>
</body>
</html>
"""
    return inject(page, version)
