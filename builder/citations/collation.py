"""Comparing sort keys as a reader of a bibliography expects (CSL 1.0.2, "Sorting").

citeproc-py compared sort keys by code point: "Álvarez" filed after "Zhou",
"<i>Meltwater" before "Glacier" and “Quoted” titles after every other one.
:func:`collation_key` gives a key for plain text that compares the way
bibliographies are alphabetized, in three levels, as the Unicode Collation
Algorithm does (a small part of it, written for bibliographic sort keys):

1. *primary*: the letters and digits, without accents and case ("Álvarez" is
   filed with "Alvarez", under A).  Punctuation, quotation marks and symbols
   are ignored ("[F]linders" under F, “Simple title” under S); a run of white
   space counts, and sorts before any letter, so that words stay apart ("A
   Hansen" before "Ab Delrahman").  Digits come before letters, Latin before
   Greek before Cyrillic (code point order of the scripts); letters a script
   adds to its alphabet follow the letter they are made from (Kazakh "ғ"
   after "г", "қ" after "к"; "ø" and "ł" with "o" and "l", "æ" as "ae").
2. *secondary*: the accents, letter by letter ("Alvarez" before "Álvarez").
3. *tertiary*: the case, lower case first ("de Vries" before "De Vries").

CSL 1.0.2 says "Sorting is case-insensitive": :class:`..elements.Sort`
compares keys on the first two levels, key after key, and uses the third only
to order entries that every key leaves tied.

No library is needed: PyICU would do this (and much more) but needs the ICU
C library and headers to install, which a plain ``pip install`` does not
bring on a fresh machine.
"""
from __future__ import annotations

import functools
import unicodedata
from typing import NamedTuple

__all__ = ["CollationKey", "collation_key"]

_SPACE = 1  # primary weight of a run of white space: below every letter and digit

# Letters without a decomposition that are filed with another letter (their
# difference then counts at the secondary level, like an accent), or spelled
# as two letters.
_AS_LETTERS = {
    "ø": "o", "ł": "l", "đ": "d", "ħ": "h", "ŀ": "l", "ı": "i", "ŧ": "t", "ƀ": "b",
    "ɨ": "i", "ʉ": "u", "ð": "d",
    "æ": "ae", "œ": "oe", "ĳ": "ij", "ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl",
}
# Letters a Cyrillic alphabet adds: each is filed right after the letter it is
# made from (n-th added letter after the same base: base weight + n).
_AFTER = {
    "ә": ("а", 1), "ғ": ("г", 1), "ґ": ("г", 2), "ђ": ("д", 1), "є": ("е", 1),
    "ѕ": ("з", 1), "і": ("и", 1), "ї": ("и", 2), "ј": ("й", 1),
    "қ": ("к", 1), "ќ": ("к", 2), "љ": ("л", 1), "ң": ("н", 1), "њ": ("н", 2),
    "ө": ("о", 1), "ћ": ("т", 1), "ў": ("у", 1), "ұ": ("у", 2), "ү": ("у", 3),
    "һ": ("х", 1), "џ": ("ч", 1),
}
# Cyrillic letters that decompose but are letters of their own (й is not и
# with an accent); ё is filed with е, as Russian dictionaries do.
_KEEP_WHOLE = frozenset("йЙїЇўЎ")


class CollationKey(NamedTuple):
    primary: tuple[int, ...]
    secondary: tuple[tuple[int, ...], ...]
    tertiary: tuple[int, ...]

    @property
    def empty(self) -> bool:
        return not self.primary


def _weight(char: str) -> int:
    """Primary weight of one lower-case base letter or digit."""
    if char in _AFTER:
        base, n = _AFTER[char]
        return ord(base) * 8 + n
    return ord(char) * 8


@functools.cache
def _char(original: str) -> tuple[tuple[int, tuple[int, ...], int], ...] | None:
    """The (primary, secondary, tertiary) weights one character adds: none for
    punctuation and symbols (ignored), None for white space."""
    if original.isspace():
        return None
    decomposed = original if original in _KEEP_WHOLE else unicodedata.normalize("NFKD", original)
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    marks = tuple(ord(c) for c in decomposed if unicodedata.combining(c))
    upper = int(base != base.lower())
    out: list[tuple[int, tuple[int, ...], int]] = []
    for n, letter in enumerate(base.casefold()):
        if not letter.isalnum():
            continue
        accents = marks if n == 0 else ()
        spelled = _AS_LETTERS.get(letter)
        if spelled is not None:
            out += [(_weight(each), (ord(letter),) + accents, upper) for each in spelled]
        else:
            out.append((_weight(letter), accents, upper))
    return tuple(out)


@functools.lru_cache(maxsize=8192)
def collation_key(text: str) -> CollationKey:
    """The three-level key of a plain-text sort key (no markup: see
    :func:`..elements.plain_sort_text`)."""
    primary: list[int] = []
    secondary: list[tuple[int, ...]] = []
    tertiary: list[int] = []
    space = False
    for original in text:
        weights = _char(original)
        if weights is None:
            space = bool(primary)
            continue
        if not weights:
            continue  # punctuation, quotation marks, symbols: ignored
        if space:
            primary.append(_SPACE)
            secondary.append(())
            tertiary.append(0)
            space = False
        for weight, accents, upper in weights:
            primary.append(weight)
            secondary.append(accents)
            tertiary.append(upper)
    return CollationKey(tuple(primary), tuple(secondary), tuple(tertiary))
