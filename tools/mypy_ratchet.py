"""The mypy ratchet: the number of mypy errors in builder/ may only go down.

    .venv/bin/python tools/mypy_ratchet.py          # run by ./dev.sh lint and CI

Runs mypy with the configuration in pyproject.toml ([tool.mypy]) and compares the
number of errors with the one in tools/mypy-ratchet.txt:

- more errors: fails (exit 1) and prints the errors, so that the new ones can be fixed;
- the same: passes;
- fewer: passes, and asks for the file's number to be lowered to the new count in the
  same commit (``--update`` writes it), so the gain cannot be lost again.

The number is never raised by hand to make a change pass.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RATCHET = ROOT / "tools" / "mypy-ratchet.txt"
SUMMARY = re.compile(r"^Found (\d+) errors? in \d+ files?")


def allowed() -> int:
    """The committed count: the first line of the file that is a number."""
    for line in RATCHET.read_text(encoding="utf-8").splitlines():
        if line.strip().isdigit():
            return int(line.strip())
    raise SystemExit(f"error: {RATCHET.relative_to(ROOT)} holds no error count")


def run_mypy() -> tuple[int, str]:
    """(number of errors, mypy's output); a crash of mypy itself is an error here."""
    result = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary"],
                            cwd=ROOT, capture_output=True, text=True)
    output = result.stdout + result.stderr
    if result.returncode not in (0, 1):
        raise SystemExit(f"error: mypy failed to run (exit {result.returncode}):\n{output}")
    errors = [line for line in output.splitlines() if ": error: " in line]
    return len(errors), output


def main(argv: list[str]) -> int:
    count, output = run_mypy()
    limit = allowed()
    name = RATCHET.relative_to(ROOT)
    if count > limit:
        sys.stdout.write(output)
        print(f"mypy ratchet: {count} errors, more than the {limit} allowed by {name}: "
              "fix the new ones (the errors are listed above)")
        return 1
    if count < limit:
        if "--update" in argv:
            RATCHET.write_text(_text(count), encoding="utf-8")
            print(f"mypy ratchet: {count} errors; {name} lowered from {limit} to {count}")
        else:
            print(f"mypy ratchet: {count} errors, fewer than the {limit} in {name}: lower it "
                  f"to {count} in this commit (python tools/mypy_ratchet.py --update)")
        return 0
    print(f"mypy ratchet: {count} errors, as allowed by {name}")
    return 0


def _text(count: int) -> str:
    return (f"{count}\n"
            "# The number of mypy errors in builder/ (tools/mypy_ratchet.py): it may only go\n"
            "# down. Lower it when you fix some; never raise it.\n")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
