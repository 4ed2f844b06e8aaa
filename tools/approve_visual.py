"""Approve the pages as they now look: build the sample article and the sample book in
both themes, render every page at 50 dpi and write tests/visual/NAME-pN.png, the pictures
tests/test_visual.py compares with.  Run it after a layout change you mean, look at the
pictures (git diff shows which changed), commit them with the change.

    .venv/bin/python tools/approve_visual.py              # every case
    .venv/bin/python tools/approve_visual.py sample-book  # one (article-report,
                                                          # article-book, sample-report)
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from visual_pages import APPROVED, CASES, build_pdf, difference, load, render, save  # noqa: E402


def approve(names: list[str]) -> int:
    unknown = set(names) - {case.name for case in CASES}
    if unknown:
        print(f"unknown case {', '.join(sorted(unknown))}; the cases: "
              f"{', '.join(case.name for case in CASES)}", file=sys.stderr)
        return 2
    APPROVED.mkdir(exist_ok=True)
    for case in CASES:
        if names and case.name not in names:
            continue
        with tempfile.TemporaryDirectory() as out:
            pictures = render(build_pdf(case, Path(out)))
        old = case.approved()
        pairs = enumerate(zip(pictures, old, strict=False), start=1)
        changed = [n for n, (picture, path) in pairs if difference(picture, load(path))[0] > 0]
        for path in old:
            path.unlink()
        for number, picture in enumerate(pictures, start=1):
            save(picture, APPROVED / f"{case.name}-p{number}.png")
        print(f"{case.name}: {len(pictures)} pages (were {len(old)}); changed: "
              f"{', '.join(map(str, changed)) or 'none'}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="*", help="the cases to approve (default: all)")
    return approve(parser.parse_args().cases)


if __name__ == "__main__":
    sys.exit(main())
