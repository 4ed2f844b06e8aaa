"""Comparing sort keys as a reader of a bibliography expects (CSL 1.0.2, "Sorting").

citeproc-py compared sort keys by code point: "Álvarez" filed after "Zhou",
"<i>Meltwater" before "Glacier" and “Quoted” titles after every other one.
:func:`collator` gives, for a locale, the function that turns plain text into
a :class:`SortKey`: ``main`` compares letters and digits, then accents;
``tie`` adds the case (lower case first).  CSL 1.0.2 says "Sorting is
case-insensitive": :class:`..elements.Sort` compares the ``main`` keys, key
after key, and uses ``tie`` only to order entries that every key leaves tied.

The collation is the locale's (CSL 1.0.2, "Sorting": "sorting should be
locale-specific"; citeproc-js uses ``Intl.Collator`` for the style's locale):
ICU's (PyICU, from the ``pyicu-wheels`` wheel, which carries the ICU library)
for the locale of the build, else the style's default-locale.  A Russian list
files Cyrillic before Latin, a Chinese one Han characters by pinyin before
Latin, a Swedish one "ö" after "z", an English one every script after Latin.
Before collating, punctuation, quotation marks and symbols are dropped
("[F]linders" under F, “Simple title” under S), and a run of white space is
one space, which sorts before any letter so that words stay apart ("A Hansen"
before "Ab Delrahman").

Without PyICU (a platform it has no wheel for), :func:`collation_key` is the
fallback, the same for every locale: three levels, as the Unicode Collation
Algorithm has (a small part of it, written for bibliographic sort keys):

1. *primary*: the letters and digits, without accents and case ("Álvarez" is
   filed with "Alvarez", under A).  Punctuation, quotation marks and symbols
   are ignored; a run of white space counts, and sorts before any letter.
   Digits come before letters, Latin before Greek before Cyrillic (code point
   order of the scripts); letters a script adds to its alphabet follow the
   letter they are made from (Kazakh "ғ" after "г", "қ" after "к"; "ø" and "ł"
   with "o" and "l", "æ" as "ae").
2. *secondary*: the accents, letter by letter ("Alvarez" before "Álvarez").
3. *tertiary*: the case, lower case first ("de Vries" before "De Vries").
"""
from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable
from typing import Any, NamedTuple

try:
    import icu
except ImportError:  # pragma: no cover - no wheel for this platform
    icu = None

__all__ = ["CollationKey", "SortKey", "collation_key", "collator"]

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


class SortKey(NamedTuple):
    """What :class:`..elements.Sort` compares: ``main`` (letters, then accents),
    and ``tie`` (the case too) for entries that every ``main`` leaves tied."""
    main: Any
    tie: Any


Collate = Callable[[str], "SortKey | None"]


def _fallback(text: str) -> SortKey | None:
    key = collation_key(text)
    if key.empty:
        return None
    return SortKey((key.primary, key.secondary), key.tertiary)


def _letters(text: str) -> str:
    """``text`` without punctuation, quotation marks and symbols, its runs of
    white space one space."""
    kept = "".join(c for c in text if c.isalnum() or c.isspace() or unicodedata.combining(c))
    return " ".join(kept.split())


@functools.cache
def collator(locale: str | None) -> Collate:
    """The function giving the :class:`SortKey` of a plain-text sort key (no
    markup: see :func:`..elements.plain_sort_text`) in ``locale`` ("ru-RU",
    "zh-CN"; None: ICU's root collation), or None when it holds no letter or
    digit (an empty key)."""
    if icu is None:  # pragma: no cover - no wheel for this platform
        return _fallback
    where = icu.Locale(locale.replace("-", "_")) if locale else icu.Locale.getRoot()
    main = icu.Collator.createInstance(where)
    main.setStrength(icu.Collator.SECONDARY)
    tie = icu.Collator.createInstance(where)
    tie.setStrength(icu.Collator.TERTIARY)

    @functools.lru_cache(maxsize=8192)
    def collate(text: str) -> SortKey | None:
        letters = _letters(text)
        if not any(c.isalnum() for c in letters):
            return None
        return SortKey(main.getSortKey(letters), tie.getSortKey(letters))

    return collate
