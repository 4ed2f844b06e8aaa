"""Our citations against citeproc-js, the CSL reference implementation.

tools/citeproc_js_compare.py renders the corpus of tests/data/citeproc_corpus/ (items,
clusters, styles) through our engine and through citeproc-js, and compares them cluster
by cluster and entry by entry. Every difference must be in reviewed.json with the same
texts; a reviewed difference that no longer occurs is stale and fails too (remove it).
Skipped when node or citeproc-js is missing (``./dev.sh test`` installs it), except in
CI, where it must run.
"""
from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "citeproc_js_compare.py"


def load_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("citeproc_js_compare", TOOL)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("citeproc_js_compare", module)  # dataclasses look the module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    module = load_tool()
    reason = module.missing()
    if reason:
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(f"{reason}; CI is set, and CI must run the citeproc-js comparison")
        pytest.skip(reason)
    return module


def test_corpus_is_what_the_comparison_needs() -> None:
    """No node needed: the corpus is large enough and every item is cited."""
    corpus = load_tool().load_corpus()
    ids = [item["id"] for item in corpus.items]
    assert len(ids) >= 60 and len(set(ids)) == len(ids)
    assert len(corpus.clusters) >= 60 and len(corpus.styles) >= 20
    cited = {cite["id"] for cluster in corpus.clusters for cite in cluster["cites"]}
    assert cited == set(ids)


def test_reviewed_entries_are_classified() -> None:
    tool = load_tool()
    reviewed = tool.load_reviewed()
    styles = set(tool.load_corpus().styles)
    for key, entry in reviewed.items():
        assert entry.get("class") in tool.CLASSES, key
        assert entry.get("reason", "?") != "?", key
        assert key.split("|")[0] in styles, f"{key}: style not in the corpus"


def test_normalise_only_meaningless_differences() -> None:
    normalise = load_tool().normalise
    assert normalise('  <div class="csl-entry">A &#38; B, <em>T</em>\u00a0 x</div>\n') \
        == "A &amp; B, <i>T</i> x"
    assert normalise('<div class="csl-left-margin">[1]</div><div class="csl-right-inline">'
                     "Doe</div>") == "[1] Doe"
    assert normalise("&lt;i&gt;") != normalise("<i>")


@pytest.mark.external  # node
@pytest.mark.slow  # every style through both engines: about 10 s
def test_no_unreviewed_difference_from_citeproc_js(tool: ModuleType) -> None:
    results = tool.compare(tool.load_corpus())
    errors = [f"{r.style}: {r.error}" for r in results if r.error]
    assert not errors, "\n".join(errors)
    found = tool.check(results, tool.load_reviewed())
    assert found.ok, (
        "differences from citeproc-js not in tests/data/citeproc_corpus/reviewed.json "
        "(python tools/citeproc_js_compare.py --show; --skeleton FILE for new entries):\n"
        + tool.report_check(found))


@pytest.mark.external  # node
def test_harness_renders_a_cluster_and_an_entry(tool: ModuleType) -> None:
    style = tool._style_xml("apa")
    item = {"id": "a", "type": "book", "title": "T", "author": [{"family": "Doe"}],
            "issued": {"date-parts": [[2000]]}}
    [result] = tool.run_citeproc_js([tool.job("one", style, [item], [[{"id": "a"}]], [0])])
    assert result["error"] is None, result["error"]
    assert result["clusters"] == ["(Doe, 2000)"]
    assert [key for key, _ in result["bibliography"]] == ["a"]
    assert json.dumps(result["bibliography"][0][1]).count("<i>T</i>") == 1
