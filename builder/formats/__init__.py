"""One module per output format, each with ``write(book, dest, options)``."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Options:
    project_root: "object"
    strict: bool = False
    allow_remote: bool = False
    source_date_epoch: int | None = None
