"""Putting a citation's cites together: delimiters and collapsing (CSL 1.0.2, "Citation").

Works on cites already rendered one by one, each with what the style printed
for its author (found by :mod:`.engine`), so it needs no CSL knowledge beyond
the citation element's options:

* ``collapse="citation-number"``: runs of three or more consecutive numbers
  become a range ("[1–3, 5]");
* ``collapse="year"``: cites with the same author print it once ("Doe 2000,
  2001");
* ``collapse="year-suffix"`` / ``"year-suffix-ranged"``: same author and year
  print the year once ("Doe 2000a, b" / "Doe 2000a–c");
* ``cite-group-delimiter``, ``year-suffix-delimiter`` and
  ``after-collapse-delimiter``, and cite grouping (cites by the same author are
  kept together, in the order of first appearance).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

EN_DASH = "\u2013"


@dataclass
class Piece:
    """One rendered cite."""

    text: str  # the whole cite, with its prefix and suffix
    number: int | None = None  # its citation-number, when the style prints it
    author: str | None = None  # what the style printed for the author, when known
    rest: str | None = None  # the cite without the author and the delimiter after it
    year: str | None = None
    suffix: str | None = None  # year-suffix letter
    plain: bool = True  # no prefix, suffix or locator: may collapse
    # suppress-author, author-only, narrative
    flags: tuple[bool, bool, bool] = (False, False, False)
    item: str | None = None  # the id of the item cited


def join_cites(pieces: list[Piece], options: dict[str, str], delimiter: str,
               note: bool = False) -> str:
    """The cites of one citation, collapsed as the style asks, joined (``note``: the
    style's class is "note")."""
    mode = options.get("collapse")
    if mode == "citation-number":
        return _join_numbers(pieces, delimiter)
    if mode in ("year", "year-suffix", "year-suffix-ranged") or options.get("cite-group-delimiter"):
        if "cite-group-delimiter" not in options and (
                note or "after-collapse-delimiter" in options):
            # the cites of a group take the layout delimiter, as citeproc-js and the
            # test-suite (disambiguate_YearSuffixWithEtAlSubsequent: "Smith 2000a; 2000b"
            # in a note style), but in an in-text style without after-collapse-delimiter
            options = {**options, "cite-group-delimiter": delimiter}
        return _join_groups(pieces, options, delimiter, mode)
    return _join(delimiter, [p.text for p in pieces])


def _join(delimiter: str, texts: list[str]) -> str:
    """``texts`` joined by ``delimiter``, but for a cite whose prefix starts with
    punctuation ("Book A, cited in Book B"; "Book A. He said ..."): the prefix takes
    the delimiter's place, as citeproc-js does (CSL test-suite,
    magic_SuppressLayoutDelimiterIfPrefixComma)."""
    out = texts[0] if texts else ""
    for text in texts[1:]:
        out += (text if text[:1] in _PUNCTUATION else delimiter + text)
    return out


_PUNCTUATION = frozenset(",.;:")


def group_by_author(pieces: list[Piece]) -> list[list[Piece]]:
    """Cites by the same author together, groups in order of first appearance."""
    groups: list[list[Piece]] = []
    for piece in pieces:
        for group in groups:
            if piece.author and group[0].author == piece.author:
                group.append(piece)
                break
        else:
            groups.append([piece])
    return groups


def _join_numbers(pieces: list[Piece], delimiter: str) -> str:
    out: list[str] = []
    run: list[Piece] = []

    def flush() -> None:
        if len(run) >= 3:
            out.append(f"{run[0].text}{EN_DASH}{run[-1].text}")
        else:
            out.extend(p.text for p in run)
        run.clear()

    for piece in pieces:
        if piece.plain and piece.number is not None and run and piece.number == run[-1].number + 1:
            run.append(piece)
            continue
        flush()
        if piece.plain and piece.number is not None:
            run.append(piece)
        else:
            out.append(piece.text)
    flush()
    return _join(delimiter, out)


def _join_groups(pieces: list[Piece], options: dict[str, str], delimiter: str,
                 mode: str | None) -> str:
    group_delimiter = options.get("cite-group-delimiter", ", ")
    after_collapse = options.get("after-collapse-delimiter", delimiter)
    out = ""
    previous_collapsed, previous_plain = False, True
    for n, group in enumerate(group_by_author(pieces)):
        collapsed = len(group) > 1 and mode is not None
        text = _collapse_group(group, options, delimiter, mode, group_delimiter) if collapsed \
            else group_delimiter.join(p.text for p in group) if len(group) > 1 \
            else group[0].text
        if n and text[:1] not in _PUNCTUATION:
            # the after-collapse-delimiter also after a cite with a locator, and after
            # any group unless collapse="year-suffix" (citeproc-js; the test-suite's
            # collapse_ChicagoAfterCollapse: "(Whittaker 1967; Wiens 1989b)")
            after = previous_collapsed or not previous_plain or mode != "year-suffix"
            out += after_collapse if after else delimiter
        out += text
        previous_collapsed = collapsed
        previous_plain = group[-1].plain
    return out


def _collapse_group(group: list[Piece], options: dict[str, str], delimiter: str,
                    mode: str | None, group_delimiter: str) -> str:
    """One author's cites: the author once, then years (and suffixes) only."""
    blocks: list[list[Piece]] = []
    for piece in group:
        if mode in ("year-suffix", "year-suffix-ranged") and blocks:
            if _same_year(blocks[-1][-1], piece):
                blocks[-1].append(piece)
                continue
            piece = _year_once(blocks[-1][-1], piece)
        blocks.append([piece])
    # year-suffix-delimiter defaults to the layout delimiter, but to the
    # cite-group-delimiter where the style sets one (the CSL test-suite's
    # name_CiteGroupDelimiterWithYearSuffixCollapse fixtures, citeproc-js)
    suffix_delimiter = options.get("year-suffix-delimiter",
                                   options.get("cite-group-delimiter", delimiter))
    after_collapse = options.get("after-collapse-delimiter", delimiter)
    out = ""
    for n, block in enumerate(blocks):
        head = block[0].text if n == 0 else (block[0].rest if block[0].rest is not None
                                             else block[0].text)
        if not head.strip():
            continue
        letters = [p.suffix or "" for p in block[1:]]
        if mode == "year-suffix-ranged":
            head, letters = _ranges(head, block[0].suffix or "", letters)
        if out:  # a cite with a locator or affixes ends the run of years
            # (after a locator the cite-group-delimiter too, unless the style sets an
            # after-collapse-delimiter: "Knuth, 1997, p. 3, 1997, p. 4", as citeproc-js);
            # after collapsed year-suffixes, the after-collapse-delimiter ("2000a, b; 2001")
            previous = blocks[n - 1]
            out += after_collapse if len(previous) > 1 else group_delimiter \
                if previous[-1].plain else options.get("after-collapse-delimiter", group_delimiter)
        out += suffix_delimiter.join([head, *letters]) if letters else head
    return out


def _same_year(a: Piece, b: Piece) -> bool:
    return bool(a.plain and b.plain and a.year and a.year == b.year and a.suffix and b.suffix)


def _year_once(previous: Piece, piece: Piece) -> Piece:
    """The same item cited again right after itself (each cite with its locator):
    collapse="year-suffix" suppresses the repeated year too (CSL 1.0.2, "Cite Grouping
    and Collapsing": "suppresses repeating years within groups of cites with identical
    names"), "Knuth 1997, p. 3, p. 4", as citeproc-js."""
    if not (piece.item and piece.item == previous.item and piece.year
            and piece.year == previous.year and piece.rest):
        return piece
    year = re.match(f"((?:<[^<>]+>)*){re.escape(piece.year)}((?:</[^<>]+>)*)[,:;]? *",
                    piece.rest)
    if year is None or not piece.rest[year.end():].strip():
        return piece
    return replace(piece, rest=year.group(1) + year.group(2) + piece.rest[year.end():])


def _ranges(head: str, first: str, letters: list[str]) -> tuple[str, list[str]]:
    """a, b, c, e → a–c, e: three or more letters in a row make a range."""
    runs: list[list[str]] = []
    for letter in [first, *letters]:
        if runs and len(letter) == 1 and len(runs[-1][-1]) == 1 \
                and ord(letter) == ord(runs[-1][-1]) + 1:
            runs[-1].append(letter)
        else:
            runs.append([letter])
    out: list[str] = []
    if len(runs[0]) >= 3:
        head += EN_DASH + runs[0][-1]
    else:
        out.extend(runs[0][1:])
    for run in runs[1:]:
        out.extend([f"{run[0]}{EN_DASH}{run[-1]}"] if len(run) >= 3 else run)
    return head, out
