"""The command line: the only place that prints or exits.

    builder build [PROJECT_DIR | FILE.md...] [options]   build the book (see --help)
    builder preview [PROJECT_DIR] [--port N]             a live preview on 127.0.0.1
    builder new [article|report|book] DIR                a new project that builds at once
    builder config [PROJECT_DIR] [options]               the effective settings, and whence
    builder check [PROJECT_DIR]                          check the sources and the outputs
    builder build-all DIR... [options]                   many projects at once (local pool or Dask)
    builder styles [QUERY]                               the installed citation styles
    builder completion bash|zsh|fish                     a shell completion script

Each subcommand is a pair: ``_add_<name>(commands)`` declares it, ``_<name>(args)`` runs
it (``COMMANDS`` maps one to the other), so a new one is two functions and a line.

Exit status: 0 success, 1 a problem in the input (reported as
``path:line:col: error: message``) or in writing the outputs, 2 bad usage,
130 interrupted (Ctrl-C), 143 terminated (SIGTERM).
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .errors import BuildError, BuildErrors, Warning_, colour_enabled, display_path, paint

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143  # 128 + SIGINT, 128 + SIGTERM


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        print(paint(f"error: {message} (hint: {self.prog} --help)", colour_enabled(sys.stderr)),
              file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


class _Help(argparse.HelpFormatter):
    """Each command's help on its own line, ``completion`` included."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30)
        self._action_max_length = 16


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="builder", description="Build a PDF, an EPUB and an HTML page "
                     "from Markdown and a bibliography.",
                     epilog="'builder COMMAND --help' for a command's options.",
                     formatter_class=_Help)
    parser.add_argument("--version", action="version", version=f"builder {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser,
                                     metavar="COMMAND", title="commands")
    for add in (_add_build, _add_new, _add_config, _add_check, _add_build_all, _add_styles,
                _add_completion):
        add(commands)
    return parser


def _add_build_options(build: argparse.ArgumentParser) -> None:
    """The options of a build; each but the last group can also be set in book.yml's
    ``build:`` section (builder/config.py): None here means "not given"."""
    build.add_argument("inputs", nargs="*", type=Path, metavar="PROJECT_DIR | FILE.md",
                       help="the project folder, holding book/ (default: here); or Markdown "
                            "files (and .yml metadata files) in reading order, as for pandoc")
    build.add_argument("--to", metavar="FORMATS",
                       help="comma-separated formats: pdf, epub, html (default: all three)")
    build.add_argument("--style", "--csl", dest="style", metavar="NAME|FILE.csl",
                       help="citation style: an installed name (default apa) or a .csl file")
    build.add_argument("--locale", metavar="TAG", help="citation locale, such as en-GB or de-DE")
    build.add_argument("--out", type=Path, metavar="DIR",
                       help="output folder (default: PROJECT/dist)")
    build.add_argument("-o", "--output", type=Path, metavar="FILE",
                       help="one output file; its suffix (.pdf, .epub, .html) is the format")
    build.add_argument("--bibliography", type=Path, action="append", default=[], metavar="FILE",
                       help="bibliography file(s) to use instead of the book's")
    build.add_argument("--metadata-file", type=Path, action="append", default=[], metavar="FILE",
                       help="a YAML metadata file (--- fenced or not), beneath the book's own")
    build.add_argument("-M", "--metadata", action="append", default=[], metavar="KEY[=VALUE]",
                       help="set a metadata key (the value read as YAML; no value: true)")
    build.add_argument("-N", "--number-sections", action="store_true", default=None,
                       help="number the headings (as -M number-sections=true)")
    build.add_argument("--theme", help="theme folder in styles/ (default: report)")
    build.add_argument("--page-size", metavar="SIZE",
                       help="PDF page size: A4 (default), Letter, A5, B5, 6x9 (inches), "
                            "or WIDTHxHEIGHT with units such as 170x240mm")
    build.add_argument("--print", dest="print", action=argparse.BooleanOptionalAction,
                       help="PDF for the print shop: bleed, crop marks, CMYK, PDF/X-4")
    build.add_argument("--bleed", metavar="LENGTH",
                       help="bleed of --print around the trimmed page (default 3mm)")
    build.add_argument("--pdf-variant", metavar="VARIANT",
                       help="pdf/a-3b (archive), pdf/a-1b, pdf/a-2b, pdf/ua-1 (accessible) "
                            "or pdf/x-4 (what --print makes)")
    build.add_argument("--toc", action=argparse.BooleanOptionalAction, default=None,
                       help="a table of contents in the PDF (default: as the theme says)")
    build.add_argument("--strict", action=argparse.BooleanOptionalAction,
                       help="treat warnings as errors")
    build.add_argument("--draft", action="store_true",
                       help="a quick PDF: never laid out a second time, so a footnote left "
                            "on the page after its call stays there (with a warning)")
    # --jobs: the PDF laid out in chunks by N processes (formats/pdf_chunks.py)
    build.add_argument("--jobs", type=_jobs, default=None, metavar="N",
                       help="processes laying out the PDF, a chapter each at a time "
                            "(default: the number of cores; 1: the whole book in one layout)")
    build.add_argument("--allow-remote", action="store_true",
                       help="allow http(s) images and stylesheets (never other schemes)")
    build.add_argument("--no-cache", dest="cache", action="store_false",
                       help="redo every stage and write every format, ignoring .cache/builder")
    noise = build.add_mutually_exclusive_group()
    noise.add_argument("-q", "--quiet", action="store_true", help="print errors only")
    noise.add_argument("-v", "--verbose", action="store_true",
                       help="print the log: each stage and format with its time")
    build.add_argument("--debug", action="store_true",
                       help="print the traceback of an unexpected failure (a crash)")


def _add_build(commands: Any) -> None:
    build = commands.add_parser(
        "build", help="build the book into dist/ (PDF, EPUB, HTML)",
        description="Build the book. Options not given come from the build: section of "
                    "book/book.yml, then the defaults ('builder config' shows which).")
    _add_build_options(build)
    _add_preview_and_watch(commands, build)


def _add_new(commands: Any) -> None:
    from .scaffold import BIBLIOGRAPHY_FORMATS, TEMPLATES
    new = commands.add_parser("new", help="make a new project that builds at once",
                              description="A new project: a sample chapter with citations, "
                                          "a figure, a table, a cross-reference and a note.")
    new.add_argument("names", nargs="+", metavar="[TEMPLATE] DIR",
                     help=f"{', '.join(TEMPLATES)} (default article), then a new or empty "
                          "folder")
    new.add_argument("--bibliography", choices=BIBLIOGRAPHY_FORMATS, default="bib",
                     help="the bibliography's format: bib (BibTeX, default), json (CSL-JSON) "
                          "or yaml (CSL-YAML)")
    new.add_argument("--theme", help="theme: report or book (default: the template's)")


def _add_config(commands: Any) -> None:
    _add_build_options(commands.add_parser(
        "config", help="the build's settings and where each comes from",
        description="The settings a build with these options would use: each with its value "
                    "and its source (default, book.yml:LINE or command line)."))


def _add_check(commands: Any) -> None:
    check = commands.add_parser("check", help="check the sources and the outputs (EPUBCheck, "
                                "Ace, PDF)",
                                description="Check the sources without writing anything, "
                                "and the outputs already built (EPUBCheck, Ace, PDF checks).")
    check.add_argument("project", nargs="?", default=".", type=Path,
                       help="the project folder, holding book/ (default: here)")
    for flag in ("--style", "--locale", "--theme"):  # (default: book.yml's build:, then ours)
        check.add_argument(flag)
    check.add_argument("--out", type=Path, metavar="DIR",
                       help="where the outputs are (default: PROJECT/dist)")
    check.add_argument("--bibliography", type=Path, action="append", default=[], metavar="FILE")
    check.add_argument("--strict", action="store_true", help="warnings fail the check too")
    check.add_argument("--format", choices=("text", "json"), default="text",
                       help="text for people (default), json for machines")


def _add_styles(commands: Any) -> None:
    styles = commands.add_parser("styles", help="list installed citation styles")
    styles.add_argument("query", nargs="?", default="", help="part of a name or title")


def _add_completion(commands: Any) -> None:
    completion = commands.add_parser("completion", help="print a shell completion script",
                                     description="eval \"$(builder completion bash)\" in "
                                     "~/.bashrc; zsh and fish alike")
    completion.add_argument("shell", choices=("bash", "zsh", "fish"))


def main(argv: Sequence[str] | None = None) -> int:
    from .processes import Terminated, sigterm_stops
    parser = make_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "new" and not [e for e in extra if e.startswith("-")]:
        args.names += extra  # (argparse ends `new book --theme x DIR` at the option)
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    verbose = getattr(args, "verbose", False)
    logging.basicConfig(level=logging.INFO if verbose else logging.ERROR, format="%(message)s")
    try:
        with sigterm_stops():
            return COMMANDS[args.command](args)
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
    colour = colour_enabled(sys.stderr)
    for error in errors[:MAX_ERRORS_SHOWN]:
        print(paint(str(error), colour), file=sys.stderr)
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
    from . import config
    root = args.project.resolve()
    settings = config.load(root, {"style": args.style, "locale": args.locale,
                                  "theme": args.theme, "strict": args.strict or None,
                                  "out": args.out.resolve() if args.out else None})
    request = BuildRequest(
        project_root=root, style=settings["style"], locale=settings["locale"],
        out_dir=settings["out"], theme=settings["theme"],
        bibliography=tuple(p.resolve() for p in args.bibliography), strict=settings["strict"],
        output_name=settings["output"])
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
    from .build import build
    request, _ = _request(args)
    if args.watch:  # builder/watch.py
        from .watch import build_on_save
        return build_on_save(request, _say)
    show = _Progress(args.quiet)
    try:
        result = build(request, show)
    finally:
        show("")
    colour = colour_enabled(sys.stderr)
    if not args.quiet:  # -q: errors only
        for warning in result.diagnostics.warnings:
            print(paint(str(warning), colour), file=sys.stderr)
    if args.quiet:
        return EXIT_OK
    if args.verbose:
        stages = [k for k in result.timings if k not in request.formats and k != "total"]
        print("stages: " + ", ".join(f"{k} {result.timings[k]:.2f} s" for k in stages),
              file=sys.stderr)
    for fmt, path in result.outputs.items():
        if fmt in result.up_to_date:
            print(f"{display_path(path)} is up to date")
        else:
            print(f"wrote {display_path(path)} ({result.timings[fmt]:.1f} s)")
    print(summary(list(result.outputs.values()), result.diagnostics.warnings,
                  result.timings["total"]))
    return EXIT_OK


def summary(outputs: list[Path], warnings: Sequence[Warning_], seconds: float) -> str:
    """``built dist/x.pdf, x.epub, x.html in 2.1 s — 3 warnings``: the first output with its
    folder, the others by name when they share it."""
    shown = []
    for n, path in enumerate(outputs):
        same = n and path.parent == outputs[0].parent
        shown.append(path.name if same else display_path(path))
    count = len(warnings)
    noun = "no warnings" if not count else f"{count} warning{'s' * (count != 1)}"
    return f"built {', '.join(shown)} in {seconds:.1f} s \N{EM DASH} {noun}"


def _request(args: argparse.Namespace) -> tuple[Any, Any]:
    """The build the options ask for: the project (or the files named), the settings of
    its book.yml's ``build:`` section, the command line over them."""
    from . import config
    from .sources import Inputs
    root, files = _inputs(args.inputs)
    given: dict[str, Any] = {
        "to": _formats(args.to) if args.to else None, "style": args.style,
        "locale": args.locale, "theme": args.theme, "page-size": args.page_size,
        "toc": args.toc, "print": args.print, "bleed": args.bleed,
        "pdf-variant": args.pdf_variant, "strict": args.strict,
        "html-split": getattr(args, "html_split", None),
        "out": args.out.resolve() if args.out else None}
    if args.output:
        fmt = args.output.suffix.lower().lstrip(".")
        if fmt not in ("pdf", "epub", "html"):
            raise BuildError(f"-o {args.output}: the file's suffix names no format",
                             hint="end it in .pdf, .epub or .html", category="usage")
        if given["to"] and given["to"] != (fmt,):
            raise BuildError(f"-o names one {fmt} file, --to asks for {args.to}",
                             hint="give one of them", category="usage")
        given.update({"to": (fmt,), "out": args.output.parent.resolve(),
                      "output": args.output.stem})
    metadata_files = tuple(p.absolute() for p in args.metadata_file)
    settings_file = None
    if files:
        settings_file = next((p for p in (*metadata_files, *files)
                              if p.suffix in (".yml", ".yaml")), files[0])
    settings = config.load(root, given, settings_file)
    request = _from_settings(
        root, settings, args, formats=settings["to"],
        out_dir=settings["out"] or (Path.cwd() / "dist" if files else None),
        cache=args.cache, draft=args.draft, jobs=getattr(args, "jobs", None),
        inputs=Inputs(files, metadata_files, tuple(
            [_metadata_value(m) for m in args.metadata]
            + ([("number-sections", True)] if args.number_sections else []))))
    return request, settings


def _from_settings(root: Path, settings: Any, args: argparse.Namespace, **more: Any) -> Any:
    """The request of a build (or a preview) with these settings, and ``more``."""
    from .build import BuildRequest
    return BuildRequest(
        project_root=root, style=settings["style"], locale=settings["locale"],
        theme=settings["theme"], bibliography=tuple(p.resolve() for p in args.bibliography),
        strict=settings["strict"], allow_remote=args.allow_remote,
        page_size=settings["page-size"], print_ready=settings["print"],
        bleed=settings["bleed"], pdf_variant=settings["pdf-variant"], toc=settings["toc"],
        output_name=settings["output"], html_split=settings["html-split"], **more)


def _formats(text: str) -> tuple[str, ...]:
    from .build import FORMATS
    formats = tuple(f.strip().lower() for f in text.split(",") if f.strip())
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise BuildError(f"unknown output format '{(unknown or [''])[0]}'",
                         hint="choose from pdf, epub, html", category="usage")
    return formats


def _inputs(named: list[Path]) -> tuple[Path, tuple[Path, ...]]:
    """The project's root and the files named: one folder (or none: here) is a project;
    files are read as pandoc reads them, the project being the nearest folder that holds
    both the working folder and the files (where their images and bibliography are)."""
    if not named:
        named = [Path(".")]
    if len(named) == 1 and named[0].is_dir():
        return named[0].resolve(), ()
    folders = [p for p in named if p.is_dir()]
    if folders:
        raise BuildError(f"'{folders[0]}' is a folder among files",
                         hint="name one project folder, or Markdown files", category="usage")
    missing = [p for p in named if not p.exists()]
    if missing:
        kind = "file" if missing[0].suffix else "project folder"
        raise BuildError(f"{kind} not found", missing[0], category="usage")
    files = tuple(p.absolute() for p in named)
    root = Path(os.path.commonpath([Path.cwd().resolve(), *(p.resolve().parent for p in files)]))
    if root == Path(root.anchor):
        raise BuildError("the files named and the working folder share no folder but "
                         f"{root}", hint="run builder in the folder that holds the files "
                         "(or in one of its parents)", category="usage")
    return root, files


def _metadata_value(text: str) -> tuple[str, Any]:
    """``-M key=value``, the value read as YAML (``-M draft`` is true), as pandoc does."""
    import yaml
    key, sep, value = text.partition("=")
    if not key.strip():
        raise BuildError(f"-M {text}: no key", hint="write -M key=value", category="usage")
    if not sep:
        return key.strip(), True
    try:
        parsed = yaml.safe_load(value) if value.strip() else ""
    except yaml.YAMLError:
        parsed = value
    return key.strip(), value if isinstance(parsed, (dict, list)) or parsed is None else parsed


def _config(args: argparse.Namespace) -> int:
    from .config import describe
    _, settings = _request(args)
    where = display_path(settings.file) if settings.file else "no build: section"
    print(f"# settings of {where}")
    print(describe(settings))
    return EXIT_OK


def _new(args: argparse.Namespace) -> int:
    from .scaffold import TEMPLATES, create
    if len(args.names) > 2 or (len(args.names) == 2 and args.names[0] not in TEMPLATES):
        raise BuildError(f"'{args.names[0]}' is not a template", category="usage",
                         hint=f"builder new [{'|'.join(TEMPLATES)}] DIR")
    template, folder = (args.names if len(args.names) == 2 else ["article", *args.names])
    made = create(Path(folder), template, args.bibliography, args.theme)
    print(f"made {display_path(Path(folder))}/ ({template}, {len(made)} files); "
          f"now: builder build {display_path(Path(folder))}")
    return EXIT_OK


def _completion(args: argparse.Namespace) -> int:
    from .completion import script
    print(script(args.shell, make_parser()))
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "build": _build, "new": _new, "config": _config, "check": _check,
    "styles": lambda a: _styles(a.query), "completion": _completion,
    "build-all": lambda a: _build_all(a), "preview": lambda a: _preview(a),
}


# --- builder preview, builder build --watch and --html-split (builder/preview.py,
# builder/watch.py, builder/formats/html.py) -------------------------------------------

def _add_preview_and_watch(commands: Any, build: argparse.ArgumentParser) -> None:
    def split(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--html-split", choices=("none", "chapter"),
                            help="chapter: the HTML as a small site, index.html and a page "
                                 "per chapter (default none: one page)")
    split(build)
    build.add_argument("--watch", action="store_true",
                       help="build, then build again after every save, until Ctrl-C")
    preview = commands.add_parser("preview", help="serve the HTML on 127.0.0.1, rebuilt and "
                                  "reloaded in the browser on every save; the PDF at /book.pdf")
    preview.add_argument("project", nargs="?", default=".", type=Path,
                         help="the project folder, holding book/ (default: here)")
    preview.add_argument("--port", type=int, default=8000,
                         help="the port on 127.0.0.1 (default 8000; 0: any free one)")
    preview.add_argument("--open", action="store_true", help="open the page in a web browser")
    split(preview)
    for flag in ("--style", "--locale", "--theme"):  # (default: book.yml's build: section)
        preview.add_argument(flag)
    preview.add_argument("--out", type=Path, metavar="DIR",
                         help="output folder (default: PROJECT/dist)")
    preview.add_argument("--bibliography", type=Path, action="append", default=[],
                         metavar="FILE")
    preview.add_argument("--allow-remote", action="store_true")


def _preview(args: argparse.Namespace) -> int:
    from .preview import serve
    if not args.project.is_dir():
        raise BuildError("project folder not found", args.project, category="usage")
    from . import config
    root = args.project.resolve()
    settings = config.load(root, {"style": args.style, "locale": args.locale,
                                  "theme": args.theme, "html-split": args.html_split,
                                  "out": args.out.resolve() if args.out else None})
    # the build: section's settings, as builder build has them (every format: the page)
    request = _from_settings(root, settings, args, out_dir=settings["out"])
    return serve(request, args.port, _say, args.open)


def _say(line: str) -> None:
    """A line of the watcher or the preview (stdout, at once: they run until Ctrl-C)."""
    print(line, flush=True)


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


# --- builder build-all: many projects at once (builder/archive.py, builder/pool.py) ----------

def _add_build_all(commands: Any) -> None:
    every = commands.add_parser("build-all", help="build every project (a folder holding "
                                "book/) under the folders, at once")
    every.add_argument("folders", nargs="+", type=Path, metavar="DIR",
                       help="folders searched for projects")
    every.add_argument("--to", default="pdf,epub,html", metavar="FORMATS",
                       help="comma-separated formats: pdf, epub, html (default: all three)")
    every.add_argument("--style", metavar="NAME|FILE.csl", help="citation style for all")
    every.add_argument("--locale", metavar="TAG", help="citation locale for all")
    every.add_argument("--theme", default="report", help="theme for all (default: report)")
    every.add_argument("--strict", action="store_true", help="treat warnings as errors")
    every.add_argument("--no-cache", dest="cache", action="store_false",
                       help="redo every stage of every project")
    every.add_argument("-j", "--jobs", type=int, metavar="N",
                       help="projects built at once here (default: the number of cores)")
    every.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                       help="build on this Dask cluster (default: $BUILDER_SCHEDULER, else "
                            "on this machine)")
    every.add_argument("-q", "--quiet", action="store_true", help="print the failures only")


def _build_all(args: argparse.Namespace) -> int:
    from .archive import build_all, find_projects, summary
    from .build import FORMATS, BuildRequest
    from .pool import open_pool
    formats = tuple(f.strip().lower() for f in args.to.split(",") if f.strip())
    if not formats or any(f not in FORMATS for f in formats):
        raise BuildError(f"unknown output format in '{args.to}'",
                         hint="choose from pdf, epub, html", category="usage")
    if args.jobs is not None and args.jobs < 1:
        raise BuildError("--jobs must be at least 1", category="usage")
    projects = find_projects(args.folders)
    if not projects:
        raise BuildError("no project (a folder holding book/) under "
                         + ", ".join(display_path(f) for f in args.folders), category="usage")
    style = args.style
    if style and style.endswith(".csl") and Path(style).exists():
        style = str(Path(style).resolve())
    template = BuildRequest(project_root=Path("."), formats=formats, style=style,
                            locale=args.locale, theme=args.theme, strict=args.strict,
                            cache=args.cache)
    bar = _ProjectsBar(len(projects), args.quiet)
    with open_pool(args.jobs, args.scheduler, warm=_warm) as pool:
        outcomes = build_all(projects, template, pool, bar)
    bar.done()
    print(summary(outcomes, failed_only=args.quiet))
    return EXIT_ERROR if any(o.status == "failed" for o in outcomes) else EXIT_OK


def _warm() -> None:
    """The imports every build needs, once, before the local pool's workers are forked."""
    from .formats import pdf
    pdf.load_weasyprint()


class _ProjectsBar:
    """A bar over the projects on a terminal; otherwise a line per project as it ends."""

    WIDTH = 30

    def __init__(self, total: int, quiet: bool) -> None:
        self.total, self.quiet, self.count = total, quiet, 0
        self.failed = 0
        self.tty = sys.stderr.isatty() and not quiet

    def __call__(self, outcome: Any) -> None:
        self.count += 1
        self.failed += outcome.status == "failed"
        if self.tty:
            filled = round(self.WIDTH * self.count / self.total)
            print(f"\r\033[K[{'#' * filled}{'.' * (self.WIDTH - filled)}] "
                  f"{self.count}/{self.total} projects, {self.failed} failed", end="",
                  file=sys.stderr, flush=True)
        elif not self.quiet or outcome.status == "failed":
            print(f"{outcome.status}: {display_path(outcome.project)} "
                  f"({outcome.seconds:.1f} s)", flush=True)

    def done(self) -> None:
        if self.tty:
            print("\r\033[K", end="", file=sys.stderr, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
