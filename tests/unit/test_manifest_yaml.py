"""Reading manifests: plain scalars are read as kubectl's go-yaml reads them, so kates's own `-o yaml` reads back."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kates_cli.cli import render
from kates_cli.cli.manifests import _documents
from kates_cli.errors import UsageError


def _read(text: str) -> dict[str, Any]:
    docs = _documents(text, "test.yaml")
    assert len(docs) == 1
    return docs[0].obj


def test_plain_texts_go_yaml_reads_as_strings_stay_strings() -> None:
    obj = _read("kind: X\ndata:\n  a: 2001-02-30\n  b: 1:20\n  c: =\n  d: 2001-12-14\n  e: 190:20:30.15\n")
    assert obj["data"] == {"a": "2001-02-30", "b": "1:20", "c": "=", "d": "2001-12-14", "e": "190:20:30.15"}


def test_numbers_booleans_null_and_merge_keys_still_resolve() -> None:
    obj = _read("base: &b {x: 1}\nkind: X\nm:\n  <<: *b\n  y: 2\nv: [true, 0x1F, 1e3, ~, 1.5]\n")
    assert obj["m"] == {"x": 1, "y": 2}
    assert obj["v"] == [True, 31, 1000.0, None, 1.5]


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=12), st.text(max_size=20), min_size=1, max_size=4))
def test_kates_yaml_reads_back_as_the_same_strings(data: dict[str, str]) -> None:
    # control characters kubectl cannot print either are escaped by the writer; skip surrogates only
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "data": data}
    try:
        text = render.to_yaml(obj)
    except UnicodeEncodeError:
        return
    assert _read(text)["data"] == data


def _nested(levels: int) -> str:
    """A manifest `levels` containers deep (the top object counts), as JSON."""
    text = '"bottom"'
    for i in range(levels - 1):
        text = "[" + text + "]" if i % 2 else '{"a":' + text + "}"
    return '{"apiVersion":"v1","kind":"X","metadata":{"name":"x"},"spec":' + text + "}"


def test_a_manifest_a_thousand_levels_deep_is_read_and_a_deeper_one_refused_with_the_limit_named() -> None:
    [doc] = _documents(_nested(1000), "deep.json")
    assert doc.obj["metadata"] == {"name": "x"}
    with pytest.raises(UsageError) as err:
        _documents(_nested(1001), "deep.json")
    assert err.value.message == "deep.json: document 1 (line 1): invalid YAML: exceeded maximum nesting depth"
    assert err.value.hint == "kates reads manifests nested up to 1000 levels (libyaml's limit; kubectl's is 10000)"


def test_a_deep_manifest_read_without_libyaml_is_refused_not_a_recursion_error(monkeypatch: Any) -> None:
    """PyYAML's pure-Python composer recurses on every level: where libyaml is missing, a deep document is the same
    refusal as libyaml's, never a RecursionError (an internal error at the CLI)."""
    monkeypatch.delattr(yaml, "CSafeLoader")
    with pytest.raises(UsageError) as err:
        _documents(_nested(1000), "deep.json")
    assert err.value.message == "deep.json: document 1: invalid YAML: exceeded maximum nesting depth"
