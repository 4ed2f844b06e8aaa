"""Checking a built PDF: what a print shop's preflight and an archive's validator look at.

``check_pdf(path, variant)`` returns a report dict; nothing is printed and nothing
raises for a missing tool (a check that cannot run says why, ``ok: None``)::

    {"file": ..., "variant": "pdf/x-4", "passed": True,
     "checks": {"qpdf": {"ok": True, "detail": "..."}, "fonts": {...}, ...}}

The checks (each ``ok`` True, False, or None when it could not run):

- ``qpdf``: ``qpdf --check`` finds no syntax or stream errors (Debian qpdf).
- ``fonts``: every font of every page and form is embedded; with ``fonts=`` given,
  only those families are used (a missing glyph silently falls back to a system font).
- ``boxes``: every page has a TrimBox and a BleedBox, nested Trim ⊆ Bleed ⊆ Media, all
  pages one trim size; for print (PDF/X) a bleed on every side.
- ``outline``: the bookmarks; with ``headings=`` given, equal to them in order.
- ``metadata``: title, author, language; keywords and dates are reported.
- ``footnotes``: each note's named destination (``fn-…``) on the page of its call
  (``fnref-…``), the pair of anchors pdf.py writes.
- per variant: ``pdfx`` (PDF/X-4 identification in XMP, a CMYK output intent with an
  embedded output profile, Trapped set, no DeviceRGB colour in any content stream,
  form or image, no annotation on the page), ``pdfa`` (pdfaid part and conformance in
  XMP, an output intent), ``pdfua`` (pdfuaid part, Marked, StructTreeRoot,
  DisplayDocTitle, language, Alt on every Figure, structure types counted),
  ``preflight`` (Apache PDFBox Preflight, PDF/A-1b only: run for ``pdf/a-1b``).

veraPDF, the reference validator for PDF/A and PDF/UA, and a commercial PDF/X
preflight (Acrobat, callas pdfToolbox) are not available here: what they would check
beyond the above is listed in docs/pdf.md.

Run from the command line: ``python -m builder.pdfcheck FILE.pdf [VARIANT]`` prints the
report as JSON (exit status 0 passed, 1 not).
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

PDFBOX_JARS = ("pdfbox2.jar", "fontbox2.jar", "preflight.jar", "xmpbox.jar",
               "commons-logging.jar", "javax.activation.jar", "jaxb-api.jar")
JAVA_DIR = Path("/usr/share/java")
PDFBOX_HINT = "sudo apt-get install libpdfbox2-java libactivation-java libjaxb-api-java"


def check_pdf(path: Path | str, variant: str | None = None, *,
              headings: Sequence[str] | None = None, fonts: Iterable[str] | None = None,
              preflight: bool = True, timeout: int = 300) -> dict[str, Any]:
    """Every check on one PDF; ``variant`` is the one it was built as (None: plain)."""
    path = Path(path)
    variant = variant.lower() if variant else None
    report: dict[str, Any] = {"file": str(path), "variant": variant, "checks": {}}
    checks = report["checks"]
    checks["qpdf"] = run_qpdf(path, timeout)
    try:
        from pypdf import PdfReader
    except ImportError:
        checks["structure"] = {"ok": None, "detail": "pypdf is not installed "
                               "(pip install -e '.[test]')"}
        report["passed"] = passed(report)
        return report
    reader = PdfReader(path)
    report["pages"] = len(reader.pages)
    checks["fonts"] = check_fonts(reader, fonts)
    checks["boxes"] = check_boxes(reader, print_ready=bool(variant and variant.startswith("pdf/x")))
    checks["outline"] = check_outline(reader, headings)
    checks["metadata"] = check_metadata(reader)
    checks["footnotes"] = check_footnotes(reader)
    xmp = _xmp(reader)
    if variant and variant.startswith("pdf/x"):
        checks["pdfx"] = check_pdfx(reader, xmp, variant)
    if variant and variant.startswith("pdf/a"):
        checks["pdfa"] = check_pdfa(reader, xmp, variant)
        if preflight:
            checks["preflight"] = (run_preflight(path, timeout) if variant == "pdf/a-1b" else
                                   {"ok": None, "detail": "PDFBox Preflight validates PDF/A-1b "
                                    "only: build with --pdf-variant pdf/a-1b to run it"})
    if variant and variant.startswith("pdf/ua"):
        checks["pdfua"] = check_pdfua(reader, xmp)
    report["passed"] = passed(report)
    return report


def passed(report: dict[str, Any]) -> bool:
    """No check failed (a check that could not run does not fail the file)."""
    return all(check.get("ok") is not False for check in report["checks"].values())


# --- external tools ----------------------------------------------------------------------


def run_qpdf(path: Path, timeout: int = 300) -> dict[str, Any]:
    qpdf = shutil.which("qpdf")
    if qpdf is None:
        return {"ok": None, "detail": "qpdf is not installed (sudo apt-get install qpdf)"}
    result = subprocess.run([qpdf, "--check", str(path)], capture_output=True, text=True,
                            timeout=timeout)
    text = (result.stdout + result.stderr).strip()
    clean = result.returncode == 0 and "No syntax or stream encoding errors" in text
    return {"ok": clean, "detail": text.splitlines()[-2:] if clean else text.splitlines()}


def preflight_classpath() -> str | None:
    jars = [JAVA_DIR / name for name in PDFBOX_JARS]
    return ":".join(map(str, jars)) if all(j.is_file() for j in jars) else None


def run_preflight(path: Path, timeout: int = 300) -> dict[str, Any]:
    """Apache PDFBox Preflight (PDF/A-1b); Debian's libpdfbox2-java and a Java runtime."""
    java = shutil.which("java")
    classpath = preflight_classpath()
    if java is None or classpath is None:
        missing = "Java" if java is None else "PDFBox Preflight"
        return {"ok": None, "detail": f"{missing} is not installed ({PDFBOX_HINT})"}
    result = subprocess.run([java, "-cp", classpath, "org.apache.pdfbox.preflight.Validator_A1b",
                             str(path)], capture_output=True, text=True, timeout=timeout)
    text = (result.stdout + result.stderr).strip()
    errors = re.findall(r"^\s*(\d+(?:\.\d+)*) : (.*)$", text, flags=re.M)
    valid = "is a valid PDF/A-1b file" in text
    return {"ok": valid, "errors": [f"{code}: {message}" for code, message in errors],
            "detail": text.splitlines()[-1] if text else ""}


# --- structure ---------------------------------------------------------------------------


def _resources_fonts(resources: Any, seen: set[int]) -> Iterable[Any]:
    """Fonts of a resource dictionary and of the forms and patterns it uses."""
    if resources is None:
        return
    resources = resources.get_object()
    for font in (resources.get("/Font") or {}).values():
        yield font.get_object()
    for group in ("/XObject", "/Pattern"):
        for item in (resources.get(group) or {}).values():
            ident = getattr(item, "idnum", None)
            if ident is not None and ident in seen:
                continue
            if ident is not None:
                seen.add(ident)
            obj = item.get_object()
            if "/Resources" in obj:
                yield from _resources_fonts(obj["/Resources"], seen)


def check_fonts(reader: Any, expected: Iterable[str] | None = None) -> dict[str, Any]:
    names: set[str] = set()
    not_embedded: set[str] = set()
    seen: set[int] = set()
    for page in reader.pages:
        for font in _resources_fonts(page.get("/Resources"), seen):
            name = str(font.get("/BaseFont", "?"))
            base = name.lstrip("/").split("+", 1)[-1]
            names.add(base)
            descriptor = None
            if "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            else:
                descriptor = font.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            if not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                if font.get("/Subtype") != "/Type3":
                    not_embedded.add(base)
    result: dict[str, Any] = {"fonts": sorted(names), "not_embedded": sorted(not_embedded)}
    ok = bool(names) and not not_embedded
    if expected is not None:
        families = {re.sub(r"[^a-z0-9]", "", f.lower()) for f in expected}
        foreign = sorted(n for n in names
                         if not any(re.sub(r"[^a-z0-9]", "", n.lower()).startswith(f)
                                    for f in families))
        result["foreign"] = foreign
        ok = ok and not foreign
    result["ok"] = ok
    return result


def _mm(value: float) -> float:
    return round(float(value) * 25.4 / 72, 2)


def check_boxes(reader: Any, print_ready: bool = False) -> dict[str, Any]:
    problems = []
    trims = set()
    bleeds = set()
    for number, page in enumerate(reader.pages, start=1):
        media = [float(v) for v in page.mediabox]
        raw = page
        if "/TrimBox" not in raw or "/BleedBox" not in raw:
            missing = "TrimBox" if "/TrimBox" not in raw else "BleedBox"
            problems.append(f"page {number}: no {missing}")
            continue
        trim = [float(v) for v in raw["/TrimBox"]]
        bleed = [float(v) for v in raw["/BleedBox"]]
        if not (_inside(trim, bleed) and _inside(bleed, media)):
            problems.append(f"page {number}: boxes not nested (trim {trim}, bleed {bleed}, "
                            f"media {media})")
        trims.add((_mm(trim[2] - trim[0]), _mm(trim[3] - trim[1])))
        bleeds.add(tuple(_mm(abs(b - t)) for b, t in zip(bleed, trim, strict=True)))
        if print_ready and min(abs(b - t) for b, t in zip(bleed, trim, strict=True)) < 1:
            problems.append(f"page {number}: no bleed")
    if len(trims) > 1:
        problems.append(f"pages of {len(trims)} trim sizes: {sorted(trims)}")
    return {"ok": not problems, "problems": problems,
            "trim_mm": sorted(trims)[0] if trims else None,
            "bleed_mm": sorted(bleeds)[0] if bleeds else None}


def _inside(inner: list[float], outer: list[float], slack: float = 0.01) -> bool:
    return (inner[0] >= outer[0] - slack and inner[1] >= outer[1] - slack
            and inner[2] <= outer[2] + slack and inner[3] <= outer[3] + slack)


def outline_titles(reader: Any) -> list[tuple[int, str]]:
    """The bookmarks, depth first, as (level, title)."""
    found: list[tuple[int, str]] = []

    def walk(items: Any, level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
            else:
                found.append((level, str(item.title)))

    walk(reader.outline, 1)
    return found


def check_outline(reader: Any, headings: Sequence[str] | None) -> dict[str, Any]:
    titles = [title for _, title in outline_titles(reader)]
    result: dict[str, Any] = {"bookmarks": len(titles)}
    if headings is None:
        result["ok"] = bool(titles)
        return result
    expected = [" ".join(h.split()) for h in headings]
    got = [" ".join(t.split()) for t in titles]
    result["ok"] = got == expected
    if got != expected:
        result["missing"] = [h for h in expected if h not in got]
        result["extra"] = [t for t in got if t not in expected]
    return result


def check_metadata(reader: Any) -> dict[str, Any]:
    info = reader.metadata or {}
    root = reader.trailer["/Root"]
    found = {
        "title": info.get("/Title"), "author": info.get("/Author"),
        "keywords": info.get("/Keywords"), "subject": info.get("/Subject"),
        "created": info.get("/CreationDate"), "modified": info.get("/ModDate"),
        "language": root.get("/Lang"),
    }
    xmp = _xmp(reader)
    if not found["title"] and xmp:  # PDF/A-4 keeps its metadata in XMP only
        match = re.search(r"<dc:title>.*?<rdf:li[^>]*>(.*?)</rdf:li>", xmp, re.S)
        found["title"] = match.group(1) if match else None
    result = {k: (str(v) if v is not None else None) for k, v in found.items()}
    missing = [k for k in ("title", "author", "language") if not result[k]]
    return {"ok": not missing, "missing": missing, **result, "xmp": bool(xmp)}


def check_footnotes(reader: Any) -> dict[str, Any]:
    """Each note (``fn-…``) on the page of its call (``fnref-…``)."""
    pages = {}
    for name, destination in reader.named_destinations.items():
        try:
            pages[str(name)] = reader.get_destination_page_number(destination)
        except Exception:  # noqa: BLE001 - a broken destination is reported by qpdf
            continue
    notes = {n[3:]: p for n, p in pages.items() if n.startswith("fn-")}
    calls = {n[6:]: p for n, p in pages.items() if n.startswith("fnref-")}
    misplaced = sorted(f"note {key}: call on page {calls[key] + 1}, note on page {page + 1}"
                       for key, page in notes.items() if key in calls and calls[key] != page)
    return {"ok": not misplaced, "notes": len(notes), "misplaced": misplaced}


def _xmp(reader: Any) -> str:
    metadata = reader.trailer["/Root"].get("/Metadata")
    if metadata is None:
        return ""
    return metadata.get_object().get_data().decode("utf-8", "replace")


def _output_intents(reader: Any) -> list[Any]:
    return [i.get_object() for i in reader.trailer["/Root"].get("/OutputIntents") or []]


def colour_use(reader: Any) -> dict[str, int]:
    """Colour operators and image colour spaces in every page, form and pattern."""
    from pypdf.generic import ContentStream
    counts = {"rgb_operators": 0, "cmyk_operators": 0, "gray_operators": 0,
              "rgb_spaces": 0, "rgb_images": 0}
    seen: set[int] = set()

    def scan(content: Any) -> None:
        for operands, operator in ContentStream(content, reader).operations:
            if operator in (b"rg", b"RG"):
                counts["rgb_operators"] += 1
            elif operator in (b"k", b"K"):
                counts["cmyk_operators"] += 1
            elif operator in (b"g", b"G"):
                counts["gray_operators"] += 1
            elif operator in (b"cs", b"CS") and operands and operands[0] == "/DeviceRGB":
                counts["rgb_spaces"] += 1

    def resources(res: Any) -> None:
        if res is None:
            return
        res = res.get_object()
        for space in (res.get("/ColorSpace") or {}).values():
            space = space.get_object()
            if space == "/DeviceRGB":
                counts["rgb_spaces"] += 1
        for group in ("/XObject", "/Pattern"):
            for item in (res.get(group) or {}).values():
                ident = getattr(item, "idnum", None)
                if ident in seen:
                    continue
                seen.add(ident)
                obj = item.get_object()
                if obj.get("/Subtype") == "/Image":
                    if obj.get("/ColorSpace") == "/DeviceRGB":
                        counts["rgb_images"] += 1
                    continue
                if hasattr(obj, "get_data"):
                    scan(obj)
                resources(obj.get("/Resources"))

    for page in reader.pages:
        contents = page.get_contents()
        if contents is not None:
            scan(contents)
        resources(page.get("/Resources"))
    return counts


def check_pdfx(reader: Any, xmp: str, variant: str) -> dict[str, Any]:
    problems = []
    version = {"pdf/x-4": "PDF/X-4"}.get(variant, variant.upper())
    if f"<pdfxid:GTS_PDFXVersion>{version}</pdfxid:GTS_PDFXVersion>" not in xmp:
        problems.append(f"XMP does not identify the file as {version}")
    intents = [i for i in _output_intents(reader) if i.get("/S") == "/GTS_PDFX"]
    condition = None
    if not intents:
        problems.append("no GTS_PDFX output intent")
    else:
        intent = intents[0]
        condition = str(intent.get("/OutputConditionIdentifier"))
        profile = intent.get("/DestOutputProfile")
        if profile is None:
            problems.append("the output intent has no embedded DestOutputProfile")
        elif int(profile.get_object().get("/N", 0)) != 4:
            problems.append("the output profile is not CMYK")
    info = reader.metadata or {}
    if info.get("/Trapped") not in ("/True", "/False"):
        problems.append("Trapped is not set")
    if "/ModDate" not in info or "/CreationDate" not in info:
        problems.append("CreationDate and ModDate are required")
    colours = colour_use(reader)
    if colours["rgb_operators"] or colours["rgb_spaces"] or colours["rgb_images"]:
        problems.append(f"DeviceRGB colour: {colours}")
    annotated = [n for n, page in enumerate(reader.pages, start=1) if page.get("/Annots")]
    if annotated:
        problems.append(f"annotations on pages {annotated}")
    if reader.trailer.get("/ID") is None:
        problems.append("no file identifier (/ID)")
    return {"ok": not problems, "problems": problems, "output_condition": condition,
            "colours": colours}


def check_pdfa(reader: Any, xmp: str, variant: str) -> dict[str, Any]:
    match = re.fullmatch(r"pdf/a-(\d)([abu])", variant)
    problems = []
    if match:
        part, conformance = match.group(1), match.group(2).upper()
        if not re.search(rf'pdfaid:part(="|>){part}\b', xmp):
            problems.append(f"XMP has no pdfaid:part {part}")
        if not re.search(rf'pdfaid:conformance(="|>){conformance}\b', xmp):
            problems.append(f"XMP has no pdfaid:conformance {conformance}")
    if not any(i.get("/S") == "/GTS_PDFA1" for i in _output_intents(reader)):
        problems.append("no GTS_PDFA1 output intent")
    if reader.trailer.get("/ID") is None:
        problems.append("no file identifier (/ID)")
    if reader.trailer["/Root"].get("/Names", {}).get("/JavaScript"):
        problems.append("JavaScript")
    return {"ok": not problems, "problems": problems}


def structure_types(reader: Any) -> tuple[dict[str, int], list[str]]:
    """How many structure elements of each type, and the Figures without Alt."""
    counts: dict[str, int] = {}
    no_alt: list[str] = []
    root = reader.trailer["/Root"].get("/StructTreeRoot")
    if root is None:
        return counts, no_alt
    stack = [root.get_object()]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        kids = node.get("/K")
        if kids is None:
            continue
        kids = kids if isinstance(kids, list) else [kids]
        for kid in kids:
            ident = getattr(kid, "idnum", None)
            if ident is not None:
                if ident in seen:
                    continue
                seen.add(ident)
            obj = kid.get_object() if hasattr(kid, "get_object") else kid
            if not hasattr(obj, "get") or obj.get("/Type") not in ("/StructElem", None):
                continue
            kind = obj.get("/S")
            if kind is None:
                continue
            kind = str(kind).lstrip("/")
            counts[kind] = counts.get(kind, 0) + 1
            if kind == "Figure" and not obj.get("/Alt"):
                no_alt.append(f"Figure #{ident}")
            stack.append(obj)
    return dict(sorted(counts.items())), no_alt


def check_pdfua(reader: Any, xmp: str) -> dict[str, Any]:
    root = reader.trailer["/Root"]
    problems = []
    if not re.search(r'pdfuaid:part(="|>)1\b', xmp):
        problems.append("XMP has no pdfuaid:part 1")
    if not (root.get("/MarkInfo") or {}).get("/Marked"):
        problems.append("MarkInfo/Marked is not true")
    if root.get("/StructTreeRoot") is None:
        problems.append("no structure tree")
    if not (root.get("/ViewerPreferences") or {}).get("/DisplayDocTitle"):
        problems.append("DisplayDocTitle is not set")
    if not root.get("/Lang"):
        problems.append("no document language")
    if "<dc:title>" not in xmp:
        problems.append("no dc:title in XMP")
    counts, no_alt = structure_types(reader)
    if no_alt:
        problems.append(f"{len(no_alt)} Figure(s) without Alt")
    return {"ok": not problems, "problems": problems, "structure": counts}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print("usage: python -m builder.pdfcheck FILE.pdf [VARIANT]", file=sys.stderr)
        return 2
    report = check_pdf(args[0], args[1] if len(args) > 1 else None)
    print(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
