"""The CSL processor test-suite: no fixture recorded as passing may start failing.

Runs the fixtures listed in tools/csl_passing.txt through our engine (the
logic of ``python tools/csl_suite.py --check``), in-process. Skipped when the
suite folder is not on this machine (see tools/README.md), except in CI (the
environment variable CI set), where a missing suite is a failure: CI always has it.
"""
from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.slow  # the whole suite: about 20 s

ROOT = Path(__file__).resolve().parent.parent
RUNNER = ROOT / "tools" / "csl_suite.py"


def load_runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("csl_suite", RUNNER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("csl_suite", module)  # dataclasses look the module up
    spec.loader.exec_module(module)
    return module


def test_no_regression_against_recorded_passes() -> None:
    runner = load_runner()
    suite = runner.find_suite()
    if suite is None:
        message = "CSL test-suite not found (set CSL_TEST_SUITE or put it in ../shared)"
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(f"{message}; CI is set, and CI must run it")
        pytest.skip(message)
    passing = runner.read_passing()
    assert passing, f"{runner.PASSING} is missing or empty"
    missing = passing - {p.stem for p in runner.fixture_paths(suite)}
    assert not missing, f"listed but not in the suite: {sorted(missing)[:10]}"
    lost = runner.check(suite, passing=passing)
    report = "\n".join(f"{r.name}: {r.error or 'output differs'}" for r in lost)
    assert not lost, (f"{len(lost)} CSL fixture(s) no longer pass; see "
                      f"`python tools/csl_suite.py --fixture NAME`:\n{report}")


def test_no_regression_in_jgm_citeproc_fixtures() -> None:
    """jgm/citeproc's own fixtures (Pandoc's engine; ../shared/realworld/citeproc_tests),
    through the same runner (``tools/csl_suite.py --extra``): none listed in
    tools/csl_extra_passing.txt may start failing."""
    runner = load_runner()
    if not runner.EXTRA_SUITE.is_dir():
        pytest.skip(f"{runner.EXTRA_SUITE} is not here")
    passing = runner.read_passing(runner.EXTRA_PASSING)
    assert len(passing) >= 20, f"{runner.EXTRA_PASSING} is missing or short"
    lost = runner.check(runner.EXTRA_SUITE, passing=passing)
    assert [r.name for r in lost] == []


def test_where_we_follow_pandoc_jgm_citeprocs_overrides_pass() -> None:
    """The fixtures of tools/csl_pandoc_overrides.txt: ours equals jgm/citeproc's own
    expected output (its test/overrides/), and differs from the suite's."""
    runner = load_runner()
    overrides = runner.EXTRA_SUITE.parent / "overrides"
    suite = runner.find_suite()
    if suite is None or not overrides.is_dir():
        pytest.skip("the CSL suite or jgm/citeproc's overrides are not here")
    lines = (ROOT / "tools" / "csl_pandoc_overrides.txt").read_text(encoding="utf-8")
    names = [line.strip() for line in lines.splitlines() if line.strip()[:1] not in ("", "#")]
    assert names
    ours = {n: runner.run_fixture(overrides / f"{n}.txt", runner.our_engine).strict
            for n in names}
    official = {n: runner.run_fixture(suite / "humans" / f"{n}.txt", runner.our_engine).strict
                for n in names}
    assert (ours, official) == ({n: True for n in names}, {n: False for n in names})


# citeproc-js's score in this runner (833 of 845 when it was recorded, citeproc-js 2.4.63;
# README.md and docs/citeproc-js.md state it beside ours). It checks the runner's
# citeproc-js harness: a broken document or normal form would cost many fixtures.
CITEPROC_JS_AT_LEAST = 830


@pytest.mark.external  # node
def test_citeproc_js_passes_the_suite_in_our_runner() -> None:
    runner = load_runner()
    suite = runner.find_suite()
    reason = runner._citeproc_js_tool().missing()
    if suite is None or reason:
        message = reason or "CSL test-suite not found"
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail(f"{message}; CI is set, and CI must run it")
        pytest.skip(message)
    engine = runner.CiteprocJs()
    engine.prefetch(runner._loadable(runner.fixture_paths(suite)), runner.TIMEOUT)
    results = runner.run_suite(suite, engine)
    passed = sorted(r.name for r in results if r.strict)
    assert len(results) == 845
    assert len(passed) >= CITEPROC_JS_AT_LEAST, \
        [r.name for r in results if not r.strict]
