"""Fuzzing the printers (issue 11, section 3): JSONPath, custom columns (spec and file), --sort-by, and the JSON and
YAML printers, with hypothesis. They are pure functions from plain dicts to text, so the properties are checked
in-process: for every template and every object, the result is text or a `UsageError` (kates's exit 2) with a
one-line message; never another exception (a traceback, or "internal error" at the CLI), never a RecursionError,
never a hang (each example runs under a 5 s alarm). Objects nested thousands of levels deep print.

The counts tried are recorded in the "fuzz" figures table; tests/e2e/test_printers_cli_fuzz.py runs the same
strategies through the real CLI.
"""

from __future__ import annotations

import contextlib
import json
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kates_cli.cli import render
from kates_cli.cli.customcolumns import custom_columns, parse_file, parse_spec
from kates_cli.cli.jsonpath import JSONPath, column_cell, sort_key, sort_objects
from kates_cli.core import deepjson, gojson
from kates_cli.errors import UsageError
from tests import figures

# -- strategies (shared with the CLI fuzz test) ----------------------------------------------------------------

KEYS = ["a", "b", "name", "items", "metadata", "x.y", "0", "", "ä", "<&>"]
key_text = st.sampled_from(KEYS) | st.text(max_size=4)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)  # past int64: Kubernetes decodes those as float64
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(["100m", "1Gi", "2", "1e3", "\x1b[31m", "\r", "\t", "", "<nil>"])
)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(key_text, inner, max_size=4), max_leaves=20
)
objects = st.fixed_dictionaries(
    {"metadata": st.fixed_dictionaries({"name": st.text(min_size=1, max_size=6)})},
    optional={k: json_values for k in ("a", "b", "items", "spec")},
)

# pieces of client-go's JSONPath grammar, glued together at random: most templates are broken somewhere
TOKENS = [
    "{", "}", "{.", "{..", ".", "..", "[", "]", "[*]", "*", "@", "$", "?(", "?(@.", ")", "==", "!=", "<", ">",
    "<=", ">=", ",", ":", "'", '"', "\\", "`", "range", "end", "{range .items[*]}", "{end}", "{.a}", "{.b[0]}",
    "-1", "0", "1", "2", "3:", "::", "a", "b", "name", "items", "metadata", " ", "\n", "\t", "true", "false",
    "1.5", "-", "\\n", "\\t", "\"x\"", "'b'", "[?(@.a)]", "[?(@.a==1)]", "[0:2:1]", "[-1:]", "['a','b']",
]  # fmt: skip
segment = st.sampled_from([".a", ".b", ".name", ".items", ".metadata", "..a", "[*]", "[0]", "[-1]", "[1:]", ".*"])
path_text = st.lists(segment, min_size=1, max_size=6).map("".join)
templates = (
    st.lists(st.sampled_from(TOKENS) | st.text(max_size=2), min_size=1, max_size=12).map("".join)
    | path_text.map(lambda p: "{" + p + "}")
    | st.tuples(path_text, st.text(max_size=3), path_text).map(lambda t: "{" + t[0] + "}" + t[1] + "{" + t[2] + "}")
)
column_exprs = path_text | st.lists(st.sampled_from(TOKENS), min_size=1, max_size=5).map("".join)
column_specs = st.lists(
    st.tuples(st.text(max_size=4), column_exprs).map(":".join) | st.text(max_size=6), min_size=1, max_size=4
).map(",".join)
sort_paths = path_text | column_exprs | st.sampled_from(["", "{}", "{.a}", ".metadata.name", "a.b", "{.a}{.b}"])


class Hang(BaseException):
    """An example ran past its alarm (a BaseException, so no `except Exception` in the code under test eats it)."""


@contextlib.contextmanager
def alarm(seconds: float) -> Iterator[None]:
    def fire(signum: int, frame: Any) -> None:
        raise Hang(f"no result after {seconds:g} s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


class Tally:
    def __init__(self) -> None:
        self.inputs = 0  # hypothesis examples
        self.calls = 0  # printer calls made for them
        self.usage_errors = 0

    def record(self, row: str) -> None:
        figures.record(
            "fuzz", row, tried=self.inputs, calls=self.calls, usage_errors=self.usage_errors, internal_errors=0, hangs=0
        )

    def run(self, fn: Callable[[], object]) -> object:
        """`fn()` under the alarm: text, or a UsageError with a one-line message (counted); anything else fails."""
        self.calls += 1
        with alarm(5.0):
            try:
                return fn()
            except UsageError as exc:
                self.usage_errors += 1
                assert exc.message.strip() and "Traceback" not in exc.message
                return None


FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def nested(depth: int, leaf: Any = "bottom") -> Any:
    value = leaf
    for _ in range(depth):
        value = {"a": [value]}
    return value


# -- JSONPath --------------------------------------------------------------------------------------------------


def test_jsonpath_fuzz_gives_text_or_a_usage_error() -> None:
    tally = Tally()

    @FUZZ
    @given(templates, st.lists(objects, max_size=3), st.booleans())
    def check(template: str, items: list[dict[str, Any]], as_list: bool) -> None:
        tally.inputs += 1
        data: Any = {"apiVersion": "v1", "kind": "List", "items": items} if as_list or not items else items[0]
        path = tally.run(lambda: JSONPath(template))
        if isinstance(path, JSONPath):
            for out in (tally.run(lambda: path.render(data)), tally.run(lambda: path.render_json(data))):
                assert out is None or isinstance(out, str)
            found = tally.run(lambda: path.find(data))
            assert found is None or isinstance(found, list)
        strict = tally.run(lambda: JSONPath(template, allow_missing_keys=False))
        if isinstance(strict, JSONPath):
            tally.run(lambda: strict.render(data))

    check()
    tally.record("jsonpath (printer)")


# -- custom columns ----------------------------------------------------------------------------------------------


def _table(columns: Any, items: list[dict[str, Any]]) -> str:
    """The custom-columns table, or the error that stopped it midway (which kates returns with the rows before it)."""
    text, error = custom_columns(columns, items)
    if error is not None:
        raise error
    return text


def test_custom_columns_fuzz_gives_a_table_or_a_usage_error() -> None:
    tally = Tally()

    @FUZZ
    @given(column_specs, st.lists(objects, max_size=3))
    def check(spec: str, items: list[dict[str, Any]]) -> None:
        tally.inputs += 1
        columns = tally.run(lambda: parse_spec(spec))
        if columns is None:
            return
        assert isinstance(columns, list)
        out = tally.run(lambda: _table(columns, items))
        assert out is None or isinstance(out, str)

    check()
    tally.record("custom-columns (printer)")


def test_custom_columns_file_fuzz(tmp_path: Path) -> None:
    tally = Tally()
    path = tmp_path / "columns.txt"

    @FUZZ
    @given(st.lists(st.text(max_size=8) | column_exprs, max_size=4), st.binary(max_size=40), st.sampled_from([0, 1, 2]))
    def check(words: list[str], junk: bytes, shape: int) -> None:
        tally.inputs += 1
        text = " ".join(words).encode()
        content = [text + b"\n" + text, text + b"\r\n" + junk, junk][shape]
        path.write_bytes(content)
        columns = tally.run(lambda: parse_file(str(path)))
        if isinstance(columns, list):
            tally.run(lambda: _table(columns, [{"a": 1, "metadata": {"name": "x"}}]))

    check()
    tally.record("custom-columns-file (printer)")


# -- --sort-by -------------------------------------------------------------------------------------------------


def test_sort_by_fuzz_orders_or_gives_a_usage_error() -> None:
    tally = Tally()

    @FUZZ
    @given(sort_paths, st.lists(objects, max_size=6))
    def check(path: str, items: list[dict[str, Any]]) -> None:
        tally.inputs += 1
        ordered = tally.run(lambda: sort_objects(items, path))
        if isinstance(ordered, list):
            assert sorted(map(id, ordered)) == sorted(map(id, items))  # a permutation: nothing lost or doubled
        keyed = tally.run(lambda: sorted(items, key=sort_key(path)))
        if isinstance(keyed, list) and isinstance(ordered, list):
            assert [id(o) for o in keyed] == [id(o) for o in ordered]

    check()
    tally.record("sort-by (printer)")


# -- deep nesting ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [300, 3000])
def test_objects_nested_thousands_of_levels_deep_print(depth: int) -> None:
    """Each level is a map holding a list: `depth` 3000 is 6000 levels of JSON. Every printer used to stop with a
    RecursionError (JSONPath, custom columns) or orjson's "Recursion limit reached" (-o json) at 255 levels."""
    obj = {"apiVersion": "v1", "kind": "X", "metadata": {"name": "deep"}, "spec": nested(depth)}
    with alarm(20.0):
        text = JSONPath("{.spec}").render(obj)
        as_json = JSONPath("{.spec}").render_json(obj)
        found = JSONPath("{..a}").find(obj)
        walked = JSONPath("{.spec" + ".a[0]" * depth + "}").render(obj)
        cell = column_cell(parse_spec("S:.spec")[0][1], obj)
        out = render.to_json(obj)
        yaml_text = render.to_yaml(obj)
        # sorting by a deep value is kubectl's "unsortable type" usage error, not a crash
        with pytest.raises(UsageError, match="unsortable type"):
            sort_objects([obj, obj], ".spec")
    assert text == '{"a":[' * depth + '"bottom"' + "]}" * depth
    assert walked == "bottom"
    assert len(found) == depth  # the list under every "a"
    assert cell == "map[a:[" * depth + "bottom" + "]]" * depth
    assert yaml_text.count("bottom") == 1
    assert out.count('"a": [') == depth and out.endswith("\n        ]\n    }\n}\n")
    if depth <= 300:  # the json module reads 600 levels back with its default recursion limit
        assert json.loads(text) == obj["spec"]
        assert json.loads(as_json) == [obj["spec"]]
        assert json.loads(out) == obj


def test_deep_json_is_byte_for_byte_the_orjson_layout() -> None:
    @settings(max_examples=300, deadline=None)
    @given(json_values)
    def check(value: Any) -> None:
        # both writers' text then gets Go's floats and escapes (core/gojson.py), on either path
        deep = gojson.escaped(deepjson.dumps_indented(gojson.go_floats(value)))
        assert deep.decode() + "\n" == render.to_json(value)

    check()
    deep = nested(260)  # past orjson's 255 levels
    shallow_text = render.to_json(nested(120))
    assert render.to_json(deep).startswith(shallow_text[: shallow_text.index("bottom") - 200])


def test_json_output_keeps_integers_past_64_bits() -> None:
    """orjson refuses them ("Integer exceeds 64-bit range"), which was an internal error of `-o json`."""
    assert render.to_json({"n": 2**64, "m": [-(2**63) - 1]}) == (
        '{\n    "m": [\n        -9223372036854775809\n    ],\n    "n": 18446744073709551616\n}\n'
    )
