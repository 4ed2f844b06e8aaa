"""Work shared with a forked child (builder.processes) and the citation engine that
uses it: the results are the same as in one process, whatever the child does."""
from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

import pytest

from builder import processes
from builder.citations import load_style
from builder.citations.engine import PARALLEL_ENTRIES, Processor

pytestmark = pytest.mark.slow  # renders large citation sets in one and two processes

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import citations as bench_citations  # noqa: E402

needs_fork = pytest.mark.skipif(not processes.can_fork(), reason="no fork or one core")


@needs_fork
def test_both_processes_make_a_share_and_every_index_comes_back_once() -> None:
    def make(index: int) -> tuple[int, int]:
        time.sleep(0.002)
        return index, os.getpid()

    shared = processes.FromBothEnds(300, make)
    try:
        time.sleep(0.05)  # this process's own work, meanwhile
        made = shared.results()
    finally:
        shared.close()
    assert [index for index, _ in made] == list(range(300))
    makers = [pid for _, pid in made]
    assert os.getpid() in makers and len(set(makers)) == 2
    # the child took from the start, this process from the end
    assert makers[0] != os.getpid() and makers[-1] == os.getpid()


@needs_fork
def test_a_child_that_fails_leaves_its_share_to_this_process() -> None:
    parent = os.getpid()

    def make(index: int) -> int:
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        return index * index

    shared = processes.FromBothEnds(200, make)
    assert shared.results() == [n * n for n in range(200)]


def test_without_fork_everything_is_made_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUILDER_NO_FORK", "1")
    shared = processes.FromBothEnds(50, lambda n: (n, os.getpid()))
    assert shared.process is None
    assert shared.results() == [(n, os.getpid()) for n in range(50)]


def _render(style: str, notes: bool) -> tuple[list[str], list[tuple[str, str]]]:
    rng = random.Random(11)
    items = bench_citations.references(300, rng)
    for n, item in enumerate(items[:40]):  # same authors and year: year-suffixes, names added
        item.update(author=items[100 + n // 2]["author"], issued=items[100 + n // 2]["issued"])
    clusters = bench_citations.clusters(600, 300, rng)
    note_indexes = [1 + n // 2 for n in range(len(clusters))] if notes else None
    output = Processor(load_style(style).xml, items, link_cites=True).render(clusters, note_indexes)
    return output.citations, output.bibliography


@needs_fork
@pytest.mark.parametrize("style, notes", [
    ("apa", False),  # year-suffixes, collapsed cites
    ("ieee", False),  # numbered
    ("modern-language-association", False),  # subsequent-author-substitute
    ("chicago-author-date", False),  # positions (ibid)
    ("chicago-notes-bibliography", True),  # notes: ibid, subsequent short forms
])
def test_engine_output_is_the_same_in_one_process(style: str, notes: bool,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    shared = _render(style, notes)
    monkeypatch.setenv("BUILDER_NO_FORK", "1")
    alone = _render(style, notes)
    assert shared == alone
    assert len(alone[1]) > PARALLEL_ENTRIES  # large enough to be shared


@needs_fork
def test_inside_a_daemon_process_everything_is_made_there() -> None:
    import multiprocessing
    with multiprocessing.get_context("fork").Pool(1) as pool:  # its worker is a daemon
        made, forked = pool.apply(_share_in_worker)
    assert made == [n + 1 for n in range(150)] and not forked


def _share_in_worker() -> tuple[list[int], bool]:
    shared = processes.FromBothEnds(150, lambda n: n + 1)
    return shared.results(), shared.process is not None
