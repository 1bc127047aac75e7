"""core/gojson.py: Go's encoding/json text from orjson's, and every -o json writer that uses it (render.to_json,
listout's List, get -w's event lines) printing Go's escapes and floats, as kubectl does."""

from __future__ import annotations

import io
import json
import struct
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kates_cli.cli import render
from kates_cli.cli.listout import ListWriter
from kates_cli.core import gojson
from kates_cli.core.accumulator import canonical_json

# encoding/json's text (Go 1.24's floatEncoder, as kubectl 1.37 prints it)
GO_FLOATS = [
    (1e-6, "0.000001"),
    (-1e-6, "-0.000001"),
    (9.99e-6, "0.00000999"),
    (1e-5, "0.00001"),
    (1.5e-7, "1.5e-7"),
    (1e-7, "1e-7"),
    (1e-10, "1e-10"),
    (5e-324, "5e-324"),
    (0.5, "0.5"),
    (1.0, "1"),
    (-0.0, "-0"),
    (0.0, "0"),
    (123456789.0, "123456789"),
    (1234567.5, "1234567.5"),
    (1e15, "1000000000000000"),
    (1e16, "10000000000000000"),
    (1e20, "100000000000000000000"),
    (2.0**64, "18446744073709552000"),
    (1e21, "1e+21"),
    (1.5e300, "1.5e+300"),
    (1.7976931348623157e308, "1.7976931348623157e+308"),
]


@pytest.mark.parametrize(("value", "text"), GO_FLOATS, ids=[t for _, t in GO_FLOATS])
def test_json_float_is_gos(value: float, text: str) -> None:
    assert gojson.json_float(value) == text


def _containers(value: float) -> list[bytes]:
    """orjson's text of `value` where a float stands in kubectl's output: bare, in an object or a list, indented
    (at the end of a line or before a comma) and compact."""
    indent = orjson.OPT_INDENT_2
    return [
        orjson.dumps(value),
        orjson.dumps({"a": value}),
        orjson.dumps({"a": value, "b": 1}),
        orjson.dumps([1, value]),
        orjson.dumps([value, 1]),
        orjson.dumps({"a": value}, option=indent),
        orjson.dumps({"a": value, "b": 1}, option=indent),
        orjson.dumps([value, 1], option=indent),
        orjson.dumps([1, value], option=indent),
    ]


@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
@given(
    st.floats(allow_nan=False, allow_infinity=False)
    | st.integers(-(10**22), 10**22).map(float)
    | st.builds(lambda m, e: m * 10.0**e, st.integers(-999, 999), st.integers(-12, 22))
    | st.integers(0, 2**64 - 1)
    .map(lambda bits: struct.unpack("d", struct.pack("Q", bits))[0])
    .filter(lambda f: f - f == 0)
)
def test_every_float_orjson_writes_otherwise_is_noticed(value: float) -> None:
    """floats_may_differ is never False where orjson's text is not Go's; go_floats then writes Go's."""
    if orjson.dumps(value).decode() != gojson.json_float(value):
        for text in _containers(value):
            assert gojson.floats_may_differ(text), (value, text)
    assert orjson.dumps(gojson.go_floats([value])) == f"[{gojson.json_float(value)}]".encode()


def test_text_without_such_floats_is_not_rewritten() -> None:
    for text in (b'{"a":0.5,"b":"1.0","c":1e-7,"d":1e+21,"e":"node-7"}', b'{\n  "a": 0.25\n}', b"[1,2]"):
        assert not gojson.floats_may_differ(text), text


def test_go_floats_copies_and_leaves_the_object_as_it_was() -> None:
    obj: dict[str, Any] = {"a": [1.0, {"b": 1e-6}], "c": "s", "d": {"e": 2}}
    before = json.dumps(obj)
    out = gojson.go_floats(obj)
    assert json.dumps(obj) == before
    assert orjson.dumps(out, option=orjson.OPT_SORT_KEYS) == b'{"a":[1,{"b":0.000001}],"c":"s","d":{"e":2}}'
    plain = {"a": [1, "x", None, True], "b": {}}
    assert gojson.go_floats(plain) is plain


def test_go_floats_has_no_depth_limit() -> None:
    deep: Any = 1e-6
    for _ in range(5000):
        deep = [deep]
    out = gojson.go_floats(deep)
    for _ in range(5000):
        out = out[0]
    assert orjson.dumps(out) == b"0.000001"


def test_escaped_is_gos_five_escapes_and_nothing_else() -> None:
    text = '{"run.sh":"make && ./a <in >out \u2028\u2029 é"}'.encode()
    assert gojson.escaped(text) == b'{"run.sh":"make \\u0026\\u0026 ./a \\u003cin \\u003eout \\u2028\\u2029 \xc3\xa9"}'
    plain = b'{"a":"b c"}'
    assert gojson.escaped(plain) is plain


SCRIPT_CM = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "script", "annotations": {"note": "<b>1</b> & more"}},
    "data": {"run.sh": "#!/bin/sh\nmake && ./run <in >out\n"},
}
FLOATS = {"apiVersion": "example.com/v1", "kind": "Floater", "metadata": {"name": "f"}, "spec": {"small": 1e-6,
          "big": 1e20, "list": [1.0, 2.5, 1.5e-7], "huge": 1e21}}  # fmt: skip


def test_to_json_is_kubectls() -> None:
    text = render.to_json(SCRIPT_CM)
    assert '"note": "\\u003cb\\u003e1\\u003c/b\\u003e \\u0026 more"' in text
    assert '"run.sh": "#!/bin/sh\\nmake \\u0026\\u0026 ./run \\u003cin \\u003eout\\n"' in text
    assert "&" not in text and "<" not in text
    floats = render.to_json(FLOATS)
    assert '"small": 0.000001' in floats and '"big": 100000000000000000000,' in floats
    assert '"huge": 1e+21,' in floats and "\n            1,\n            2.5,\n            1.5e-7\n" in floats
    assert json.loads(floats) == json.loads(orjson.dumps(FLOATS))  # the same values


@pytest.mark.parametrize("depth", [0, 1, 2])
def test_json_bytes_at_any_depth_and_past_orjsons_limits(depth: int) -> None:
    deep: Any = {"x": "<&>", "f": 1e-6}
    for _ in range(300):  # past orjson's 255 levels: the slow writer, with the same fixes
        deep = {"a": deep}
    for obj in (FLOATS, deep):
        text = render.json_bytes(obj, depth)
        assert b"0.000001" in text and b"e-6" not in text
        assert not any(c in text for c in (b"<", b">", b"&")), text[-200:]


def test_a_list_written_page_by_page_has_the_same_bytes() -> None:
    items = [SCRIPT_CM, FLOATS, {"kind": "X", "n": 0.5}]
    for pages in ([items], [items[:1], items[1:]], [[i] for i in items]):
        writer = ListWriter("json")
        for page in pages:
            writer.add([dict(i) for i in page])
        out = io.StringIO()
        writer.finish(out)
        assert out.getvalue() == render.to_json(render.as_list(items))
        assert "\\u0026\\u0026" in out.getvalue() and "100000000000000000000" in out.getvalue()


def test_canonical_json_keeps_gos_escapes() -> None:
    raw = canonical_json(SCRIPT_CM)
    assert b"make \\u0026\\u0026 ./run \\u003cin \\u003eout" in raw and b"&" not in raw


def test_text_that_only_looks_like_a_float_does_not_make_the_page_be_walked() -> None:
    """A uid or a name holding `e-6` (my-service-6c7...), base64 holding `e+16`: one page in a few of a long list
    was walked and copied whole (43 ms of 50 for 500 pods) for no float at all."""
    from kates_cli.core import gojson

    for text in (b'{"uid": "a1be-6c7d"}', b'{"name": "my-service-6c7f"}', b'{"data": "QUJe+16xyz"}'):
        assert not gojson.floats_may_differ(text), text
    for text in (b'{"a": 1e-6}', b'{"a": [1e+16]}', b"1e+20", b"1e-6", b'{"a": 1.0}'):
        assert gojson.floats_may_differ(text), text
