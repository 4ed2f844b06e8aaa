"""Loading references: every format gives the same items, and any input gives
items or our own error, never another exception."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    from builder.citations import load_style
    from builder.citations.engine import Cite, Processor
    items = [{"id": "a", "type": "book", "title": "T", "author": [{"family": "Doe"}],
              "issued": "2018-02-05"},
             {"id": "b", "type": "book", "title": "U", "author": [{"family": "Roe"}],
              "issued": {"raw": "2019"}}]
    output = Processor(load_style("apa").xml, items).render([[Cite("a")], [Cite("b")]])
    assert output.citations == ["(Doe, 2018)", "(Roe, 2019)"]


def _error(path: Path, text: str) -> BuildError:
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BuildError) as info:
        read_file(path)
    assert info.value.path == path
    return info.value


def test_json_nested_too_deep_names_the_line_and_column(tmp_path):
    text = '[\n  {"id": "a", "type": "book", "note": ' + "[" * 5000 + "]" * 5000 + "}\n]\n"
    err = _error(tmp_path / "refs.json", text)
    # levels 1 and 2 are the list and the object; level 101 is the 99th '[' of line 2
    assert (err.line, err.col) == (2, len('  {"id": "a", "type": "book", "note": ') + 99)
    assert err.message == "malformed JSON: arrays and objects nested more than 100 deep"
    assert err.hint


def test_json_brackets_inside_strings_do_not_count(tmp_path):
    text = '[{"id": "a[[{", "type": "book", "note": "\\"[["}, ' + "[" * 3000 + "]" * 3000 + "]"
    err = _error(tmp_path / "refs.json", text)
    assert (err.line, err.col) == (1, text.index("[[[[") + 100)


def _bomb_yaml(levels: int) -> str:
    lines = ["references:", "  - &a0 [" + ", ".join(["lol"] * 9) + "]"]
    lines += [f"  - &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_yaml_alias_bomb_stops_at_the_alias_that_passes_the_limit(tmp_path):
    err = _error(tmp_path / "refs.yaml", _bomb_yaml(10))
    assert (err.line, err.col) == (7, 10)
    assert err.message == "the aliases expand to more than 100,000 values (at '*a4')"


def test_yaml_aliases_under_the_limit_are_expanded(tmp_path):
    # the aliases add 9 * (10 + 91 + 820) + 7,381 values, under the limit; the copies are real
    path = tmp_path / "refs.yaml"
    path.write_text(_bomb_yaml(4).replace("references:", "x:") +
                    "references:\n- id: a\n  type: book\n  note: *a3\n", encoding="utf-8")
    (ref,) = read_file(path)
    note = ref.csl["note"]
    assert len(note) == 9 and note[8][8][8] == ["lol"] * 9
    assert note[0] is not note[1] and note[0] == note[1]


def test_yaml_alias_inside_its_anchor_is_refused(tmp_path):
    err = _error(tmp_path / "refs.yaml", "references:\n- &x [a, *x]\n")
    assert (err.line, err.col) == (2, 10)
    assert err.message == "the alias '*x' is inside the node it names"


def test_yaml_nesting_limit(tmp_path):
    path = tmp_path / "refs.yaml"
    # the mapping, the list, the reference and 97 more lists: 100 levels are read
    path.write_text("references:\n- id: a\n  type: book\n  note: " + "[" * 97 + "x" + "]" * 97,
                    encoding="utf-8")
    assert read_file(path)[0].key == "a"
    err = _error(path, "references:\n- id: a\n  type: book\n  note: " + "[" * 98 + "]" * 98)
    assert (err.line, err.col) == (4, 9 + 97)
    assert err.message == "lists and mappings nested more than 100 deep"


def test_yaml_value_that_cannot_be_read_is_an_error(tmp_path):
    err = _error(tmp_path / "refs.yaml", "references:\n- id: a\n  type: book\n"
                                          "  issued: 2021-02-30\n")
    assert (err.line, err.col) == (4, 11)
    assert err.message.startswith("malformed YAML: cannot read the value '2021-02-30'")


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
