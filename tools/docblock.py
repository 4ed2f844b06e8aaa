"""The generated part of a Markdown file: the lines between ``<!-- NAME -->`` and
``<!-- /NAME -->``, which tools/bad_inputs.py and tools/bounds.py rewrite."""
from __future__ import annotations

import re
from pathlib import Path


def replace_block(path: Path, name: str, text: str) -> bool:
    """Put ``text`` between the file's NAME markers; False when it has none."""
    doc = path.read_text(encoding="utf-8")
    pattern = re.compile(rf"(<!-- {re.escape(name)} -->\n).*?(<!-- /{re.escape(name)} -->)", re.S)
    if not pattern.search(doc):
        return False
    path.write_text(pattern.sub(lambda m: m.group(1) + text + m.group(2), doc), encoding="utf-8")
    return True
