"""``builder check``: the sources checked without writing anything, then the outputs.

Phase 1 of the build runs as usual (every error and warning it can find, with
file and line), nothing is written; where the outputs already exist in the
output folder, the EPUB goes through EPUBCheck (and DAISY Ace where installed)
and the PDF through :mod:`builder.pdfcheck` and :mod:`builder.pageinspect`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .build import BuildRequest, prepare
from .check import check_epub
from .check import summary as epub_summary
from .errors import BuildError, Diagnostics
from .pageinspect import expect_for, inspect_pdf
from .pageinspect import report as pages_report
from .pdfcheck import check_pdf
from .pdfcheck import passed as pdf_passed


def check_project(request: BuildRequest, outputs: bool = True) -> dict[str, Any]:
    """A report: errors, warnings and each existing output's checks; ``passed``."""
    diagnostics = Diagnostics()
    report: dict[str, Any] = {"project": str(request.project_root), "errors": [],
                              "warnings": [], "outputs": {}}
    book = None
    try:
        book = prepare(request, diagnostics, fields=True)
    except BuildError as exc:
        report["errors"].append(str(exc))
    report["warnings"] = [str(w) for w in diagnostics.warnings]
    if book is not None and outputs:
        out_dir = request.out_dir or request.project_root / "dist"
        report["outputs"] = _check_outputs(out_dir, book.slug, _headings(book), book.theme)
    outputs_ok = all(result.get("passed") for result in report["outputs"].values())
    report["passed"] = not report["errors"] and outputs_ok and not (
        request.strict and report["warnings"])
    return report


def _headings(book: Any) -> list[str]:
    return [text for chapter in book.chapters for _, _, text in chapter.headings]


def _check_outputs(out_dir: Path, slug: str, headings: list[str],
                   theme: Any = None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    epub, pdf = out_dir / f"{slug}.epub", out_dir / f"{slug}.pdf"
    if epub.is_file():
        found["epub"] = check_epub(epub)
    if pdf.is_file():
        variant = _pdf_variant(pdf)
        result = check_pdf(pdf, variant)
        if theme is not None:  # the page inspector: findings with page, what and where
            result["checks"]["pages"] = pages_report(inspect_pdf(pdf, expect_for(theme, variant)))
            result["passed"] = pdf_passed(result)
        found["pdf"] = {"file": str(pdf), **result}
    return found


def _pdf_variant(path: Path) -> str | None:
    """The variant a PDF says it is, in its XMP metadata (None: a plain PDF)."""
    data = path.read_bytes()
    if b"GTS_PDFXVersion>PDF/X-4" in data:
        return "pdf/x-4"
    if b"pdfuaid:part" in data:
        return "pdf/ua-1"
    for part in (b"1", b"2", b"3"):
        if b"pdfaid:part>" + part in data or b'pdfaid:part="' + part in data:
            level = b"u" if b"conformance>U" in data or b'conformance="U"' in data else b"b"
            return f"pdf/a-{part.decode()}{level.decode()}"
    return None


def summary(report: dict[str, Any]) -> str:
    """The report as lines a person reads."""
    lines = [*report["errors"], *report["warnings"]]
    sources = "sources: " + ("ok" if not report["errors"] else f"{len(report['errors'])} error")
    lines.append(f"{sources}, {len(report['warnings'])} warning(s)")
    if "epub" in report["outputs"]:
        lines.append(epub_summary(report["outputs"]["epub"]))
    if "pdf" in report["outputs"]:
        pdf = report["outputs"]["pdf"]
        failed = [name for name, check in pdf.get("checks", {}).items()
                  if isinstance(check, dict) and check.get("ok") is False]
        lines.append(f"{pdf['file']}\n  PDF checks: " +
                     ("all passed" if pdf.get("passed") else "failed: " + ", ".join(failed)))
        for finding in pdf.get("checks", {}).get("pages", {}).get("findings", []):
            where = f" ({finding['where']})" if finding["where"] else ""
            lines.append(f"    {pdf['file']}:p{finding['page']}: warning: {finding['kind']}: "
                         f"{finding['message']}{where}")
    if not report["outputs"]:
        lines.append("no outputs to check yet (builder build writes them)")
    lines.append("passed" if report["passed"] else "FAILED")
    return "\n".join(lines)
