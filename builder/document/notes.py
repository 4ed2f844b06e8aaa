"""The book-wide step that numbers the notes: through the whole book, in reading order, as
Pandoc numbers them through one document.

A chapter's tree numbers its notes from 1 (their ids, ``fn-ch2-1``, stay the chapter's);
the number a reader sees is the chapter's first plus that, less one.
"""
from __future__ import annotations

from collections.abc import Sequence

from .nodes import Chapter


def first_notes(trees: Sequence[Chapter]) -> list[int]:
    """The book-wide number of each chapter's first note."""
    firsts, number = [], 1
    for tree in trees:
        firsts.append(number)
        number += len(tree.notes)
    return firsts
