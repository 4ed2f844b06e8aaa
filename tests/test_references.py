"""Loading references: every format gives the same items, and any input gives
items or our own error, never another exception."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from builder.citations.references import load_references, read_file
from builder.errors import BuildError

ROOT = Path(__file__).resolve().parent.parent
BIB = ROOT / "bibliography"


def _normal(path: Path) -> dict[str, dict]:
    return {ref.key: ref.csl for ref in read_file(path)}


def test_json_and_yaml_give_the_same_items():
    assert _normal(BIB / "references.json") == _normal(BIB / "references.yaml")


def test_each_reference_knows_its_line():
    lines = {ref.key: ref.position.line for ref in read_file(BIB / "references.json")}
    text = (BIB / "references.json").read_text().splitlines()
    for key, line in lines.items():
        assert f'"{key}"' in "\n".join(text[line - 1:line + 2])
    yaml_lines = {ref.key: ref.position.line for ref in read_file(BIB / "references.yaml")}
    yaml_text = (BIB / "references.yaml").read_text().splitlines()
    for key, line in yaml_lines.items():
        assert key in yaml_text[line - 1]


def test_duplicate_key_across_files(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps([{"id": "x", "type": "book"}]))
    b.write_text(json.dumps([{"id": "y", "type": "book"}, {"id": "x", "type": "book"}]))
    with pytest.raises(BuildError) as error:
        load_references([a, b])
    assert error.value.path == b and error.value.line == 1
    assert "first defined at a.json:1" in error.value.message


def test_string_dates_and_raw_dates_render(tmp_path):
    from builder.citations.engine import Cite, Processor
    from builder.citations import load_style
    items = [{"id": "a", "type": "book", "title": "T", "author": [{"family": "Doe"}],
              "issued": "2018-02-05"},
             {"id": "b", "type": "book", "title": "U", "author": [{"family": "Roe"}],
              "issued": {"raw": "2019"}}]
    output = Processor(load_style("apa").xml, items).render([[Cite("a")], [Cite("b")]])
    assert output.citations == ["(Doe, 2018)", "(Roe, 2019)"]


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_any_json_text_gives_items_or_our_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("j") / "refs.json"
    path.write_text(text, encoding="utf-8")
    try:
        read_file(path)
    except BuildError as error:
        assert error.path == path


JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=12),
                       lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(st.sampled_from(["id", "type", "title", "author",
                                                          "issued", "x"]), inner, max_size=5),
                       max_leaves=20)


@settings(max_examples=150, deadline=None)
@given(JSONISH)
def test_any_json_value_gives_items_or_our_error(tmp_path_factory, value):
    path = tmp_path_factory.mktemp("j") / "refs.json"
    path.write_text(json.dumps(value), encoding="utf-8")
    try:
        read_file(path)
    except BuildError as error:
        assert error.path == path


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_any_yaml_text_gives_items_or_our_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("y") / "refs.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        read_file(path)
    except BuildError as error:
        assert error.path == path
