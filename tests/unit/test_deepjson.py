"""kates_cli.core.deepjson: orjson's results for every document orjson takes, and the same for deeper ones."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kates_cli.core import deepjson

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
)


@settings(max_examples=300, deadline=None)
@given(values, st.booleans())
def test_the_flat_parser_and_writer_agree_with_orjson(value: Any, pretty: bool) -> None:
    text = json.dumps(value, indent=2 if pretty else None, ensure_ascii=pretty)
    assert deepjson._loads_flat(text) == orjson.loads(text)
    assert deepjson._dumps_flat(value) == orjson.dumps(value)


def deep(depth: int) -> str:
    return '{"a":[' * depth + '"x"' + "]}" * depth


@pytest.mark.parametrize("depth", [600, 5000])
def test_documents_deeper_than_orjson_reads_decode_and_encode(depth: int) -> None:
    text = deep(depth)
    with pytest.raises(orjson.JSONDecodeError, match="depth limit"):
        orjson.loads(text)
    value = deepjson.loads(text.encode())
    inner = value
    for _ in range(depth):
        assert list(inner) == ["a"] and len(inner["a"]) == 1
        inner = inner["a"][0]
    assert inner == "x"
    assert deepjson.dumps(value) == text.encode()


@pytest.mark.parametrize("text", [deep(600)[:-1], deep(600) + "x", deep(600).replace('"x"', "x")])
def test_a_deep_and_malformed_document_raises_orjsons_error(text: str) -> None:
    with pytest.raises(orjson.JSONDecodeError):
        deepjson.loads(text)
