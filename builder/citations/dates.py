"""Dates given as strings (EDTF, ``raw``, YAML dates) turned into CSL date-parts."""
from __future__ import annotations

import re
from typing import Any

DATE_VARIABLES = ("accessed", "available-date", "event-date", "issued",
                  "original-date", "submitted")
_ISO = re.compile(r"(-?\d{1,4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?")


def normalise_dates(item: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``item`` whose dates all have ``date-parts`` (or ``literal``)."""
    result = dict(item)
    for variable in DATE_VARIABLES:
        if variable in result:
            result[variable] = _date(result[variable])
    return result


def _date(value: Any) -> Any:
    if isinstance(value, (int, float)):
        value = str(int(value))
    if isinstance(value, str):
        return _parse(value)
    if isinstance(value, dict) and not value.get("date-parts"):  # none, or [] beside a raw
        raw = value.get("raw")
        if isinstance(raw, str):
            parsed = _parse(raw)
            return {**{k: v for k, v in value.items() if k != "raw"}, **parsed}
    if isinstance(value, dict) and "date-parts" in value:
        parts = [[_int(p) for p in part if _int(p) is not None]
                 for part in value["date-parts"] if isinstance(part, list)]
        return {**value, "date-parts": [p for p in parts if p]} if any(parts) else \
            {k: v for k, v in value.items() if k != "date-parts"}
    return value


def _parse(text: str) -> dict[str, Any]:
    text = text.strip()
    ranges = re.split(r"\s*/\s*", text)
    parts = []
    for piece in ranges:
        match = _ISO.fullmatch(piece)
        if not match:
            return {"literal": text}
        parts.append([int(g) for g in match.groups() if g is not None])
    return {"date-parts": parts}


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
