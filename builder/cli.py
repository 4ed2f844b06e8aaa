"""The command line: the only place that prints or exits.

    builder build [PROJECT_DIR] [--to pdf,epub,html] [--style NAME|FILE.csl]
                  [--locale TAG] [--out DIR] [--bibliography FILE]... [--strict]
                  [--page-size SIZE] [--print] [--bleed LENGTH] [--pdf-variant VARIANT]
                  [--toc | --no-toc] [--draft] [--no-cache] [--debug]
    builder styles [QUERY]

Exit status: 0 success, 1 a problem in the input (reported as
``path:line:col: error: message``) or in writing the outputs, 2 bad usage,
130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .errors import BuildError, BuildErrors, display_path

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143  # 128 + SIGINT, 128 + SIGTERM


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"error: {message} (hint: {self.prog} --help)", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="builder", description="Build a PDF, an EPUB and an HTML page "
                     "from Markdown and a bibliography.")
    parser.add_argument("--version", action="version", version=f"builder {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    build = commands.add_parser("build", help="build the book into dist/")
    build.add_argument("project", nargs="?", default=".", type=Path,
                       help="the project folder, holding book/ (default: here)")
    build.add_argument("--to", default="pdf,epub,html", metavar="FORMATS",
                       help="comma-separated formats: pdf, epub, html (default: all three)")
    build.add_argument("--style", metavar="NAME|FILE.csl",
                       help="citation style: an installed name (default apa) or a .csl file")
    build.add_argument("--locale", metavar="TAG", help="citation locale, such as en-GB or de-DE")
    build.add_argument("--out", type=Path, metavar="DIR",
                       help="output folder (default: PROJECT/dist)")
    build.add_argument("--bibliography", type=Path, action="append", default=[], metavar="FILE",
                       help="bibliography file(s) to use instead of the book's")
    build.add_argument("--theme", default="report",
                       help="theme folder in styles/ (default: report)")
    build.add_argument("--page-size", metavar="SIZE",
                       help="PDF page size: A4 (default), Letter, A5, B5, 6x9 (inches), "
                            "or WIDTHxHEIGHT with units such as 170x240mm")
    build.add_argument("--print", dest="print_ready", action="store_true",
                       help="PDF for the print shop: bleed, crop marks, CMYK, PDF/X-4")
    build.add_argument("--bleed", metavar="LENGTH",
                       help="bleed of --print around the trimmed page (default 3mm)")
    build.add_argument("--pdf-variant", metavar="VARIANT",
                       help="pdf/a-3b (archive), pdf/a-1b, pdf/a-2b, pdf/ua-1 (accessible) "
                            "or pdf/x-4 (what --print makes)")
    build.add_argument("--toc", action=argparse.BooleanOptionalAction, default=None,
                       help="a table of contents in the PDF (default: as the theme says)")
    build.add_argument("--draft", action="store_true",
                       help="a quick PDF: never laid out a second time, so a footnote left "
                            "on the page after its call stays there (with a warning)")
    # --jobs: the PDF laid out in chunks by N processes (formats/pdf_chunks.py)
    build.add_argument("--jobs", type=_jobs, default=None, metavar="N",
                       help="processes laying out the PDF, a chapter each at a time "
                            "(default: the number of cores; 1: the whole book in one layout)")
    build.add_argument("--strict", action="store_true", help="treat warnings as errors")
    build.add_argument("--allow-remote", action="store_true",
                       help="allow http(s) images and stylesheets (never other schemes)")
    build.add_argument("--no-cache", dest="cache", action="store_false",
                       help="redo every stage and write every format, ignoring .cache/builder")
    build.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    build.add_argument("--debug", action="store_true",
                       help="print the traceback of an unexpected failure (a crash)")
    styles = commands.add_parser("styles", help="list installed citation styles")
    styles.add_argument("query", nargs="?", default="", help="part of a name or title")
    check = commands.add_parser("check", help="check the sources without writing anything, "
                                "and the outputs already built (EPUBCheck, Ace, PDF checks)")
    check.add_argument("project", nargs="?", default=".", type=Path,
                       help="the project folder, holding book/ (default: here)")
    for flag in ("--style", "--locale", "--theme"):
        check.add_argument(flag, default="report" if flag == "--theme" else None)
    check.add_argument("--out", type=Path, metavar="DIR",
                       help="where the outputs are (default: PROJECT/dist)")
    check.add_argument("--bibliography", type=Path, action="append", default=[], metavar="FILE")
    check.add_argument("--strict", action="store_true", help="warnings fail the check too")
    check.add_argument("--format", choices=("text", "json"), default="text",
                       help="text for people (default), json for machines")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from .processes import Terminated, sigterm_stops
    args = make_parser().parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(message)s")
    try:
        with sigterm_stops():
            if args.command == "styles":
                return _styles(args.query)
            if args.command == "check":
                return _check(args)
            return _build(args)
    except BuildError as exc:
        if getattr(args, "debug", False) and exc.details:
            print(exc.details.rstrip(), file=sys.stderr)
        _print_errors(exc)
        return EXIT_USAGE if exc.category == "usage" else EXIT_ERROR
    except KeyboardInterrupt:
        print("builder: interrupted; the previous outputs are unchanged", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Terminated:
        print("builder: terminated; the previous outputs are unchanged", file=sys.stderr)
        return EXIT_TERMINATED
    except BrokenPipeError:  # `builder styles | head`: the reader has what it wanted
        _quiet_broken_pipe()
        return EXIT_OK


MAX_ERRORS_SHOWN = 50


def _print_errors(exc: BuildError) -> None:
    """One line per error; past one, their count (and past 50, how many are not shown)."""
    errors = exc.errors if isinstance(exc, BuildErrors) else [exc]
    for error in errors[:MAX_ERRORS_SHOWN]:
        print(str(error), file=sys.stderr)
    if len(errors) > MAX_ERRORS_SHOWN:
        print(f"... and {len(errors) - MAX_ERRORS_SHOWN} more", file=sys.stderr)
    if len(errors) > 1:
        print(f"{len(errors)} errors", file=sys.stderr)


def _quiet_broken_pipe() -> None:
    """Standard output's reader is gone: point it at /dev/null, so that Python's own
    flush at exit does not complain of the pipe once more."""
    import os
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (a test's captured output)
        pass


def _styles(query: str) -> int:
    from .citations.styles import list_styles
    found = list_styles(query)
    for name, title in found:
        print(f"{name:45} {title}")
    if not found:
        print(f"no style matches '{query}'", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


def _check(args: argparse.Namespace) -> int:
    import json

    from .build import BuildRequest
    from .validate import check_project, summary
    if not args.project.is_dir():
        raise BuildError("project folder not found", args.project, category="usage")
    request = BuildRequest(
        project_root=args.project.resolve(), style=args.style, locale=args.locale,
        out_dir=args.out.resolve() if args.out else None, theme=args.theme,
        bibliography=tuple(p.resolve() for p in args.bibliography), strict=args.strict)
    report = check_project(request)
    if args.format == "json":
        print(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    else:
        print(summary(report))
    return EXIT_OK if report["passed"] else EXIT_ERROR


def _jobs(text: str) -> int:
    """``--jobs N``: a whole number from 1 up."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of processes (1 or more)")
    return int(text)


def _build(args: argparse.Namespace) -> int:
    from .build import FORMATS, BuildRequest, build
    formats = tuple(f.strip().lower() for f in args.to.split(",") if f.strip())
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise BuildError(f"unknown output format '{(unknown or [''])[0]}'",
                         hint="choose from pdf, epub, html", category="usage")
    if not args.project.is_dir():
        raise BuildError("project folder not found", args.project, category="usage")
    request = BuildRequest(
        project_root=args.project.resolve(), formats=formats, style=args.style,
        locale=args.locale, out_dir=args.out.resolve() if args.out else None, theme=args.theme,
        bibliography=tuple(p.resolve() for p in args.bibliography), strict=args.strict,
        allow_remote=args.allow_remote, page_size=args.page_size,
        print_ready=args.print_ready, bleed=args.bleed, pdf_variant=args.pdf_variant, toc=args.toc,
        cache=args.cache, draft=args.draft, jobs=args.jobs)
    show = _Progress(args.quiet)
    try:
        result = build(request, show)
    finally:
        show("")
    if not args.quiet:  # -q: errors only
        for warning in result.diagnostics.warnings:
            print(warning, file=sys.stderr)
    if not args.quiet:
        for fmt, path in result.outputs.items():
            if fmt in result.up_to_date:
                print(f"{display_path(path)} is up to date")
            else:
                print(f"wrote {display_path(path)} ({result.timings[fmt]:.1f} s)")
        print(f"done in {result.timings['total']:.1f} s")
    return EXIT_OK


class _Progress:
    """One status line on a terminal, for builds longer than a second: the stage,
    its elapsed time, and a bar when the amount of work is known (chapters, pages)."""

    WIDTH = 24

    def __init__(self, quiet: bool) -> None:
        self.enabled = sys.stderr.isatty() and not quiet
        self.start = time.monotonic()
        self.shown = False

    def __call__(self, step: str, done: int | None = None, total: int | None = None) -> None:
        if not self.enabled:
            return
        if not step:
            if self.shown:
                print("\r\033[K", end="", file=sys.stderr, flush=True)
            return
        elapsed = time.monotonic() - self.start
        if elapsed < 1.0:
            return
        line = f"{elapsed:5.1f} s  {step}"
        if done is not None and total:
            filled = round(self.WIDTH * min(done / total, 1.0))
            line += f"  [{'#' * filled}{'.' * (self.WIDTH - filled)}] {done}/{total}"
        elif done is not None:
            line += f"  {done}"
        print(f"\r\033[K{line}", end="", file=sys.stderr, flush=True)
        self.shown = True


if __name__ == "__main__":
    raise SystemExit(main())
