"""The real-world theses (../shared/realworld, never copied here) build through the real
command line, and their entries and citations match pandoc's but for reviewed
differences (tests/data/realworld_reviewed.json; docs/realworld.md)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import realworld  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.external,
              pytest.mark.skipif(not realworld.REALWORLD.exists(),
                                 reason="../shared/realworld is absent")]

# The measured shares of altpeter's 173 entries identical to pandoc's and to citeproc-js's
# (the target is 95 %; docs/realworld.md).  The 16 that differ from pandoc's put a
# comma inside the quotes as citeproc-js does ("?,”", "‘…,’”"); the 111 that differ from
# citeproc-js's merge "2022. . https" into one period as pandoc does; 13 differ from both.
ALTPETER_ENTRIES = 173
ALTPETER_SAME_AS_PANDOC = 157
ALTPETER_SAME_AS_CITEPROC_JS = 62
ALTPETER_SAME_AS_EITHER = 160


@pytest.fixture(scope="module")
def results() -> dict[str, realworld.Result]:
    reviewed = realworld.load_reviewed()
    return {t.name: realworld.run_thesis(t, "html", reviewed) for t in realworld.theses()}


@pytest.mark.parametrize("name", ["altpeter_thesis", "phd_thesis_markdown"])
def test_builds(results: dict[str, realworld.Result], name: str) -> None:
    result = results[name]
    assert result.built, result.build_error
    assert result.formats["html"] == "ok"


def test_altpeter_entries_floor(results: dict[str, realworld.Result]) -> None:
    result = results["altpeter_thesis"]
    assert result.entries == ALTPETER_ENTRIES
    assert result.entries_same >= ALTPETER_SAME_AS_PANDOC


def test_altpeter_entries_against_citeproc_js(results: dict[str, realworld.Result]) -> None:
    reason = realworld.citeproc_js_missing()
    if reason:
        pytest.skip(reason)
    result = results["altpeter_thesis"]
    assert result.citeproc_js == "compared"
    assert result.cjs_entries == ALTPETER_ENTRIES
    assert result.cjs_entries_same >= ALTPETER_SAME_AS_CITEPROC_JS
    assert result.entries_same_either >= ALTPETER_SAME_AS_EITHER


def test_cited_in_order_puts_a_note_where_its_mark_is() -> None:
    page = ('<html><body><p><span class="citation" data-cites="a">[1]</span> text'
            '<a href="#fn1" class="footnote-ref">1</a> <span class="citation" '
            'data-cites="c fig:x">[3]</span></p><section class="footnotes"><ol>'
            '<li id="fn1"><p>See <span class="citation" data-cites="b">[2]</span>.</p></li>'
            '</ol></section></body></html>')
    assert realworld.cited_in_order(page) == [["a"], ["b"], ["c"]]


def test_the_spaced_periods_rule_explains_only_that() -> None:
    rule = realworld.RULES[0]
    assert rule.explains("2022. https://x. [Accessed]", "2022. . https://x. [Accessed]")
    assert rule.explains("“A.” https://x", "“A.” . https://x")
    assert not rule.explains("2022. https://x", "2021. . https://x")
    assert not rule.explains("2022; https://x", "2022; . https://x")


@pytest.mark.parametrize("name", ["altpeter_thesis", "phd_thesis_markdown"])
def test_every_difference_reviewed(results: dict[str, realworld.Result], name: str) -> None:
    unreviewed = [(d.kind, d.key, d.ours, d.pandoc) for d in results[name].unreviewed]
    assert unreviewed == []
