"""The command line a person expects: a summary line, colours on a terminal only (and
never with NO_COLOR), -q with errors only, -v with the stages, --version, --help listing
the commands, shell completion scripts that the shells accept."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from builder import __version__
from builder.cli import main, make_parser, summary
from builder.errors import Warning_, paint

REFS = [{"id": "doe99", "type": "book", "title": "A Book",
         "author": [{"family": "Doe", "given": "Jane"}], "issued": {"date-parts": [[1999]]}},
        {"id": "roe01", "type": "book", "title": "Unused",
         "author": [{"family": "Roe", "given": "Ann"}], "issued": {"date-parts": [[2001]]}}]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "book").mkdir()
    (tmp_path / "bibliography").mkdir()
    (tmp_path / "bibliography" / "refs.json").write_text(json.dumps(REFS))
    (tmp_path / "book" / "a.md").write_text("---\ntitle: Colours\n---\n\nAs @doe99 says.\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    return tmp_path


WARNING = "bibliography/refs.json:1: warning: reference 'roe01' is never cited"


def _last_line(text: str) -> str:
    return text.splitlines()[-1]


def test_a_build_ends_with_its_summary(project: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "--to", "html,epub"]) == 0
    out = capsys.readouterr()
    assert out.err.splitlines() == [WARNING]
    line = _last_line(out.out)
    assert line.startswith("built dist/colours.html, colours.epub in ")
    assert line.endswith(" s — 1 warning")


def test_quiet_prints_errors_only(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "--to", "html", "-q"]) == 0
    assert capsys.readouterr() == ("", "")
    (project / "book" / "a.md").write_text("---\ntitle: Colours\n---\n\nAs @nobody says.\n")
    assert main(["build", "--to", "html", "-q"]) == 1
    assert capsys.readouterr().err == ("book/a.md:5:4: error: citation key '@nobody' is not in "
                                       "the bibliography (hint: add it to the bibliography, "
                                       "or fix the key)\n")


def test_verbose_prints_the_stages(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "--to", "html", "-v"]) == 0
    out = capsys.readouterr()
    stages = [line for line in out.err.splitlines() if line.startswith("stages: ")]
    assert len(stages) == 1
    assert [part.split()[0] for part in stages[0][len("stages: "):].split(", ")] == [
        "load", "parse", "citations", "render"]
    assert out.out.splitlines()[0].startswith("wrote dist/colours.html (")


def test_colours_on_a_terminal_only_and_never_with_no_color(
        monkeypatch: pytest.MonkeyPatch) -> None:
    line = "book/a.md:3: error: x (hint: y)"
    assert paint(line, True) == "book/a.md:3: \033[1;31merror:\033[0m x (hint: y)"
    assert paint("warning: w", True) == "\033[1;33mwarning:\033[0m w"
    assert paint(line, False) == line
    from builder.errors import colour_enabled

    class Tty:
        def isatty(self) -> bool:
            return True
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert colour_enabled(Tty()) is True
    assert colour_enabled(open(__file__)) is False  # not a terminal
    monkeypatch.setenv("NO_COLOR", "1")
    assert colour_enabled(Tty()) is False


def test_forced_colours_reach_the_warnings(project: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert main(["build", "--to", "html"]) == 0
    assert capsys.readouterr().err.splitlines() == [paint(WARNING, True)]


def test_summary_counts_and_names() -> None:
    paths = [Path("dist/x.pdf"), Path("dist/x.epub"), Path("elsewhere/x.html")]
    warnings = [Warning_("a"), Warning_("b"), Warning_("c")]
    assert summary(paths, warnings, 2.04) == ("built dist/x.pdf, x.epub, elsewhere/x.html in "
                                              "2.0 s — 3 warnings")
    assert summary(paths[:1], [], 1.0) == "built dist/x.pdf in 1.0 s — no warnings"


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"builder {__version__}\n"
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    listed = [line.split()[0] for line in text.split("commands:")[1].splitlines()[2:]
              if line.startswith("    ") and not line.startswith("     ") and line.split()]
    assert listed == ["build", "preview", "new", "config", "check", "build-all", "styles",
                      "completion"]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_parse_in_their_shell(shell: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    for word in ("build", "new", "config", "--page-size", "--metadata-file"):
        assert word.lstrip("-") in script
    program = shutil.which(shell)
    if program is None:
        pytest.skip(f"{shell} is not installed")
    check = subprocess.run([program, "-n"], input=script, capture_output=True, text=True,
                           timeout=30)
    assert (check.returncode, check.stderr) == (0, "")


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completes_subcommands_and_options(capsys: pytest.CaptureFixture[str]) -> None:
    main(["completion", "bash"])
    script = capsys.readouterr().out
    probe = script + ('COMP_WORDS=(builder bu); COMP_CWORD=1; _builder; echo "${COMPREPLY[@]}"\n'
                      'COMP_WORDS=(builder build --page-s); COMP_CWORD=2; _builder; '
                      'echo "${COMPREPLY[@]}"\n')
    result = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=30)
    assert result.stdout.splitlines() == ["build build-all", "--page-size"]


def test_every_build_option_is_in_the_completion() -> None:
    from builder.completion import commands
    table = commands(make_parser())
    build = next(a for a in make_parser()._actions if a.dest == "command").choices["build"]
    assert table["build"][1][:len(build._actions)] == [
        o for a in build._actions for o in a.option_strings][:len(build._actions)]
