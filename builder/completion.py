"""Shell completion scripts for bash, zsh and fish, written from the parser itself, so
they list every subcommand and option there is (``builder completion bash``)."""
from __future__ import annotations

import argparse

_FILE_OPTIONS = {"--out", "-o", "--output", "--bibliography", "--metadata-file", "--style",
                 "--csl"}


def commands(parser: argparse.ArgumentParser) -> dict[str, tuple[str, list[str]]]:
    """Each subcommand: its one-line help and its options."""
    found: dict[str, tuple[str, list[str]]] = {}
    for action in parser._actions:  # argparse keeps no public list of subparsers
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                options = [o for a in sub._actions for o in a.option_strings]
                choices = [c for a in sub._actions if not a.option_strings and a.choices
                           for c in a.choices]
                found[name] = (helps.get(name, ""), options + list(choices))
    return found


def script(shell: str, parser: argparse.ArgumentParser) -> str:
    table = commands(parser)
    if shell == "bash":
        return _bash(table)
    if shell == "zsh":
        return "#compdef builder\nautoload -U bashcompinit && bashcompinit\n" + _bash(table)
    return _fish(table)


def _bash(table: dict[str, tuple[str, list[str]]]) -> str:
    cases = "\n".join(f"    {name}) words=\"{' '.join(options)}\" ;;"
                      for name, (_, options) in table.items())
    files = "|".join(sorted(_FILE_OPTIONS))
    return f"""# builder completion for bash: eval "$(builder completion bash)"
_builder() {{
  local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}} words
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "{' '.join(table)} --help --version" -- "$cur")); return
  fi
  case "$prev" in {files}) COMPREPLY=($(compgen -f -- "$cur")); return ;; esac
  case "${{COMP_WORDS[1]}}" in
{cases}
  esac
  if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "$words" -- "$cur"))
  else COMPREPLY=($(compgen -W "$words" -f -- "$cur")); fi
}}
complete -o filenames -F _builder builder
"""


def _fish(table: dict[str, tuple[str, list[str]]]) -> str:
    lines = ["# builder completion for fish: builder completion fish | source",
             "complete -c builder -f"]
    names = " ".join(table)
    for name, (help_text, options) in table.items():
        lines.append(f"complete -c builder -n 'not __fish_seen_subcommand_from {names}' "
                     f"-a {name} -d {_quote(help_text)}")
        for option in options:
            if option.startswith("--"):
                lines.append(f"complete -c builder -n '__fish_seen_subcommand_from {name}' "
                             f"-l {option[2:]}" + (" -r -F" if option in _FILE_OPTIONS else ""))
            elif option.startswith("-"):
                lines.append(f"complete -c builder -n '__fish_seen_subcommand_from {name}' "
                             f"-s {option[1:]}")
            else:
                lines.append(f"complete -c builder -n '__fish_seen_subcommand_from {name}' "
                             f"-a {option}")
        lines.append(f"complete -c builder -n '__fish_seen_subcommand_from {name}' -F")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
